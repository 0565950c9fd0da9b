//! Scenarios that walk the scheduler through one behaviour each.

mod common;

use abilene_scheduler::*;
use common::*;

#[test]
fn a_rack_sized_job_lands_in_one_nvlink_domain() {
    let mut s = tiny_scheduler();
    let (ev, err) = s
        .step(
            0,
            [Command::Submit(JobSpec::training(1, "pretrain", GB200, 72))],
        )
        .into_parts();
    assert!(err.is_empty());
    let p = started(&ev, 1).expect("started");
    assert_eq!((p.domains, p.leaf_groups, p.buildings), (1, 1, 1));
    s.check_invariants().unwrap();
}

#[test]
fn small_jobs_pack_into_partly_used_trays_and_racks() {
    let mut s = tiny_scheduler();
    let (ev, _) = s
        .step(
            0,
            [
                Command::Submit(JobSpec::training(1, "research", GB200, 2)),
                Command::Submit(JobSpec::training(2, "research", GB200, 2)),
                Command::Submit(JobSpec::training(3, "research", GB200, 8)),
            ],
        )
        .into_parts();
    let a = started(&ev, 1).unwrap();
    let b = started(&ev, 2).unwrap();
    let c = started(&ev, 3).unwrap();
    assert_eq!(a.trays, b.trays, "two 2-GPU jobs share one tray");
    assert_eq!(c.domains, 1);
    s.check_invariants().unwrap();
}

#[test]
fn quota_blocks_and_says_so() {
    let mut s = tiny_scheduler();
    // research is guaranteed 72 and may borrow without limit, but openai
    // (288) + acme (288 borrow) bound... use acme's ceiling: 144 + 288.
    let (ev, _) = s
        .step(0, [Command::Submit(JobSpec::training(1, "ft", GB200, 432))])
        .into_parts();
    assert!(started(&ev, 1).is_some());
    let (ev, _) = s
        .step(1, [Command::Submit(JobSpec::training(2, "ft", GB200, 4))])
        .into_parts();
    assert!(started(&ev, 2).is_none());
    assert_eq!(
        s.pending_reason(JobId(2)),
        Some(&PendingReason::Quota {
            node: "acme".into()
        })
    );
    s.check_invariants().unwrap();
}

#[test]
fn guaranteed_job_reclaims_borrowed_capacity() {
    let mut s = tiny_scheduler();
    // acme borrows 432 GPUs (guarantee 144 + 288 borrowed).
    let mut borrowed = JobSpec::training(1, "ft", GB200, 432);
    borrowed.checkpoint_interval = 600;
    let (ev, _) = s.step(0, [Command::Submit(borrowed)]).into_parts();
    assert!(matches!(
        ev.iter().find(|e| matches!(e, Event::Started { .. })),
        Some(Event::Started { borrowed: true, .. })
    ));
    // openai's pretrain asks for its guarantee of 216.
    let (ev, _) = s
        .step(
            1000,
            [Command::Submit(JobSpec::training(
                2, "pretrain", GB200, 216,
            ))],
        )
        .into_parts();
    let p = started(&ev, 2).expect("guarantee honoured in one pass");
    assert_eq!(p.gpus, 216);
    assert!(ev.iter().any(
        |e| matches!(e, Event::Preempted { job, by: Some(JobId(2)), lost_work: 400 } if job.0 == 1)
    ));
    s.check_invariants().unwrap();
}

#[test]
fn failed_tray_restarts_on_a_spare_or_requeues() {
    let mut s = tiny_scheduler();
    let mut j = JobSpec::training(1, "pretrain", GB200, 144);
    j.spare_trays = 2;
    j.checkpoint_interval = 1800;
    let (ev, _) = s.step(0, [Command::Submit(j)]).into_parts();
    let p = started(&ev, 1).unwrap().clone();
    let victim = p.trays[0].clone();
    let (ev, _) = s
        .step(4000, [Command::TrayFailed { tray: victim }])
        .into_parts();
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::Interrupted {
            recovery: Recovery::Spare,
            lost_work: 400,
            ..
        }
    )));
    // The used spare is replaced from free capacity at once.
    assert_eq!(s.job_spares(JobId(1)).len(), 2);
    s.check_invariants().unwrap();
    // With no free GB200 tray (all drained), spares are not replaced: two
    // more failures use them up, and the third requeues at the front.
    s.step(
        4500,
        [Command::Drain {
            targets: vec!["B1".into()],
            reason: "test".into(),
        }],
    );
    for (i, at) in [5000, 5500].into_iter().enumerate() {
        let t = s.job_trays(JobId(1))[i + 1].clone();
        s.step(at, [Command::TrayFailed { tray: t }]);
    }
    assert!(s.job_spares(JobId(1)).is_empty());
    let t3 = s.job_trays(JobId(1))[3].clone();
    let (ev, _) = s
        .step(6000, [Command::TrayFailed { tray: t3 }])
        .into_parts();
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::Interrupted {
            recovery: Recovery::Requeued,
            ..
        }
    )));
    s.check_invariants().unwrap();
}

#[test]
fn lemon_tray_is_quarantined_until_cleared() {
    let mut s = tiny_scheduler();
    for i in 0..3 {
        s.step(
            i * 100,
            [
                Command::TrayFailed { tray: tray(5) },
                Command::TrayRepaired { tray: tray(5) },
            ],
        );
    }
    assert!(s.is_quarantined(&tray(5)));
    s.step(400, [Command::ClearQuarantine { tray: tray(5) }]);
    assert!(!s.is_quarantined(&tray(5)));
    s.check_invariants().unwrap();
}

fn reason(s: &Scheduler, id: u64) -> Option<PendingReason> {
    s.pending_reason(JobId(id)).cloned()
}

#[test]
fn segmented_jobs_use_racks_with_drained_trays() {
    let mut s = tiny_scheduler();
    // Drain 2 of the 18 trays of each of the 8 GB200 racks.
    let drained: Vec<String> = (0..8)
        .flat_map(|r| [tray(r * 18), tray(r * 18 + 1)])
        .collect();
    let out = s.step(
        0,
        [Command::Drain {
            targets: drained,
            reason: "cold plate swap".into(),
        }],
    );
    assert_eq!(out.results, vec![Ok(())]);
    // A whole-rack group can no longer fit anywhere...
    let mut rack = JobSpec::training(1, "pretrain", GB200, 72);
    rack.tp_gpus = 72;
    // ...but 16-tray segments can: 2 segments = 128 GPUs.
    let mut seg = JobSpec::training(2, "pretrain", GB200, 128);
    seg.segment_trays = 16;
    let (ev, _) = s
        .step(1, [Command::Submit(rack), Command::Submit(seg)])
        .into_parts();
    assert!(started(&ev, 1).is_none());
    assert_eq!(reason(&s, 1), Some(PendingReason::Resources));
    let p = started(&ev, 2).expect("segments fit racks with drained trays");
    assert_eq!(p.domains, 2);
    s.check_invariants().unwrap();
}

/// The tiny campus with 7 of its 8 GB200 racks held by job 1 for an hour.
fn seven_racks_busy_for_an_hour() -> Scheduler {
    let mut s = tiny_scheduler();
    let mut big = JobSpec::training(1, "pretrain", GB200, 504);
    big.preemptible = false;
    big.runtime_estimate = 3600;
    big.runtime_limit = 7200;
    s.step(0, [Command::Submit(big)]);
    s
}

#[test]
fn backfill_never_delays_the_head_and_says_why() {
    let mut s = seven_racks_busy_for_an_hour();
    // The head wants all 8 racks: it waits for job 1 (shadow time 3600).
    let mut head = JobSpec::training(2, "pretrain", GB200, 576);
    head.priority = Priority::High;
    s.step(10, [Command::Submit(head)]);
    assert_eq!(reason(&s, 2), Some(PendingReason::Resources));
    // A short job that ends before the shadow time backfills the free rack...
    let mut short = JobSpec::training(3, "research", GB200, 36);
    short.runtime_estimate = 1800;
    // ...a long one would delay the head, so it waits behind it.
    // (Same project as the head: research would be owed its guarantee and
    // reclaim it from the head, which borrows it.)
    let mut long = JobSpec::training(4, "pretrain", GB200, 4);
    long.runtime_estimate = 10 * 3600;
    let (ev, _) = s
        .step(20, [Command::Submit(short), Command::Submit(long)])
        .into_parts();
    assert!(started(&ev, 3).is_some(), "short job backfills");
    assert!(started(&ev, 4).is_none());
    assert_eq!(
        reason(&s, 4),
        Some(PendingReason::Priority { behind: JobId(2) })
    );
    // When both end, the head starts before the long job.
    s.step(1800, [Command::Complete(JobId(3))]);
    let (ev, _) = s.step(3600, [Command::Complete(JobId(1))]).into_parts();
    assert!(started(&ev, 2).is_some());
    assert!(started(&ev, 4).is_none());
    s.check_invariants().unwrap();
}

#[test]
fn a_new_head_renames_behind_in_the_state_without_a_new_event() {
    let mut s = seven_racks_busy_for_an_hour();
    // Two heads-to-be of the same class; the first is the head.
    for id in [2, 3] {
        let mut head = JobSpec::training(id, "pretrain", GB200, 576);
        head.priority = Priority::High;
        s.step(10, [Command::Submit(head)]);
    }
    let mut long = JobSpec::training(4, "pretrain", GB200, 4);
    long.runtime_estimate = 10 * 3600;
    let (ev, _) = s.step(20, [Command::Submit(long)]).into_parts();
    let pending_of_4 = |ev: &[Event]| {
        ev.iter()
            .filter(|e| matches!(e, Event::Pending { job, .. } if *job == JobId(4)))
            .count()
    };
    assert_eq!(pending_of_4(&ev), 1, "the first reason is told");
    assert_eq!(
        reason(&s, 4),
        Some(PendingReason::Priority { behind: JobId(2) })
    );
    // The head starts: job 3 is the head now, and job 4's state says so,
    // but it is still "behind higher priority" and no new event says it.
    let (ev, _) = s.step(3600, [Command::Complete(JobId(1))]).into_parts();
    assert!(started(&ev, 2).is_some());
    assert_eq!(
        reason(&s, 4),
        Some(PendingReason::Priority { behind: JobId(3) })
    );
    assert_eq!(pending_of_4(&ev), 0);
    s.check_invariants().unwrap();
}

#[test]
fn power_cap_drop_throttles_then_suspends_by_priority() {
    let mut s = tiny_scheduler();
    let mut low = JobSpec::training(1, "research", GB200, 72);
    low.priority = Priority::Low;
    let mut high = JobSpec::training(2, "pretrain", GB200, 144);
    high.priority = Priority::High;
    s.step(0, [Command::Submit(low), Command::Submit(high)]);
    let draw = s.building_draw_kw()[0];
    // Cut building 0 to a little below its draw: throttling the Low job is enough.
    let (ev, _) = s
        .step(
            10,
            [Command::SetPowerCap {
                scope: PowerScope::Building("B1".into()),
                kw: Some(draw - 10.0),
            }],
        )
        .into_parts();
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::Throttled { job: JobId(1), .. }))
    );
    assert!(
        !ev.iter()
            .any(|e| matches!(e, Event::Throttled { job: JobId(2), .. }))
    );
    // Cut it hard: the High job is throttled too, and the Low job is
    // checkpointed and suspended; the High job keeps running.
    let (ev, _) = s
        .step(
            20,
            [Command::SetPowerCap {
                scope: PowerScope::Building("B1".into()),
                kw: Some(draw * 0.7),
            }],
        )
        .into_parts();
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::Throttled { job: JobId(2), .. }))
    );
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::Suspended { job: JobId(1) }))
    );
    assert!(
        !ev.iter()
            .any(|e| matches!(e, Event::Suspended { job: JobId(2) }))
    );
    assert!(s.building_draw_kw()[0] <= draw * 0.7 + 1e-6);
    assert_eq!(reason(&s, 1), Some(PendingReason::PowerCap));
    // A new job that would exceed the cap waits with that reason.
    let (ev, _) = s
        .step(
            30,
            [Command::Submit(JobSpec::training(3, "research", GB200, 72))],
        )
        .into_parts();
    assert!(started(&ev, 3).is_none());
    assert_eq!(reason(&s, 3), Some(PendingReason::PowerCap));
    // Lifting the cap brings clocks and jobs back.
    let (ev, _) = s
        .step(
            40,
            [Command::SetPowerCap {
                scope: PowerScope::Building("B1".into()),
                kw: None,
            }],
        )
        .into_parts();
    assert!(started(&ev, 1).is_some() || started(&ev, 3).is_some());
    s.check_invariants().unwrap();
}

#[test]
fn maintenance_window_clears_its_trays_and_gives_them_back() {
    let mut s = tiny_scheduler();
    let (ev, _) = s
        .step(
            0,
            [Command::Submit(JobSpec::training(
                1, "pretrain", GB200, 576,
            ))],
        )
        .into_parts();
    assert!(started(&ev, 1).is_some());
    let res = ReservationSpec {
        id: "rack0-maintenance".into(),
        targets: vec![rack(0)],
        start: 100,
        end: 200,
        owner: None,
    };
    assert_eq!(s.step(50, [Command::Reserve(res)]).results, vec![Ok(())]);
    let (ev, _) = s.step(100, []).into_parts();
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::Preempted {
            job: JobId(1),
            by: None,
            ..
        }
    )));
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::ReservationStarted { id } if id == "rack0-maintenance"))
    );
    // During the window the job no longer fits (one rack is out).
    assert_eq!(reason(&s, 1), Some(PendingReason::Resources));
    let (ev, _) = s.step(200, []).into_parts();
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::ReservationEnded { id } if id == "rack0-maintenance"))
    );
    assert!(
        started(&ev, 1).is_some(),
        "the job comes back when the window ends"
    );
    s.check_invariants().unwrap();
}

#[test]
fn contracted_reservation_runs_only_its_owners_jobs() {
    let mut s = tiny_scheduler();
    let res = ReservationSpec {
        id: "openai-lease".into(),
        targets: vec![rack(0), rack(1)],
        start: 100,
        end: 10_000,
        owner: Some("openai".into()),
    };
    assert_eq!(s.step(0, [Command::Reserve(res)]).results, vec![Ok(())]);
    let mut inside = JobSpec::training(1, "pretrain", GB200, 144);
    inside.reservation = Some("openai-lease".into());
    let mut outsider = JobSpec::training(2, "ft", GB200, 8);
    outsider.reservation = Some("openai-lease".into());
    // ft is under acme, not openai: its job may not use openai's lease.
    let out = s.step(10, [Command::Submit(inside), Command::Submit(outsider)]);
    assert_eq!(out.results[0], Ok(()));
    let err = out.results[1].clone().unwrap_err();
    assert!(
        matches!(&err, Reject::BadReservation { id, .. } if id == "openai-lease"),
        "{err:?}"
    );
    assert_eq!(err.code(), "bad_reservation");
    assert_eq!(s.job_state(JobId(2)), None, "a refused job leaves no trace");
    assert_eq!(
        reason(&s, 1),
        Some(PendingReason::Reservation {
            id: "openai-lease".into()
        })
    );
    let (ev, _) = s.step(100, []).into_parts();
    let p = started(&ev, 1).expect("starts when the reservation does");
    assert!(
        p.trays.iter().all(|t| tray_index(t) < 36),
        "inside the reserved racks"
    );
    // Others cannot use the reserved racks: 432 GPUs are left outside.
    let (ev, _) = s
        .step(
            101,
            [Command::Submit(JobSpec::training(
                3, "research", GB200, 432,
            ))],
        )
        .into_parts();
    let p = started(&ev, 3).expect("fits outside");
    assert!(p.trays.iter().all(|t| tray_index(t) >= 36));
    let (ev, _) = s
        .step(
            102,
            [Command::Submit(JobSpec::training(4, "research", GB200, 4))],
        )
        .into_parts();
    assert!(started(&ev, 4).is_none());
    assert_eq!(reason(&s, 4), Some(PendingReason::Resources));
    s.check_invariants().unwrap();
}

#[test]
fn services_start_at_min_available_and_grow() {
    let mut s = tiny_scheduler();
    // 432 of 576 GB200 GPUs busy: room for 18 eight-GPU replicas.
    s.step(0, [Command::Submit(JobSpec::training(1, "ft", GB200, 432))]);
    let svc = JobSpec::service(2, "research", GB200, 8, 24, 12);
    let (ev, _) = s.step(1, [Command::Submit(svc)]).into_parts();
    let p = started(&ev, 2).expect("starts with at least 12 replicas");
    assert!(p.gpus >= 96);
    let replicas = |ev: &[Event]| {
        ev.iter()
            .filter(|e| matches!(e, Event::ReplicaStarted { .. }))
            .count()
    };
    let grown = replicas(&ev);
    assert_eq!(p.gpus as usize / 8 + grown, 18, "grows into all free room");
    // When room frees up, it grows to its full 24.
    let (ev, _) = s.step(2, [Command::Complete(JobId(1))]).into_parts();
    assert_eq!(replicas(&ev), 6);
    s.check_invariants().unwrap();
}

#[test]
fn bad_commands_are_refused_and_change_nothing() {
    let mut s = tiny_scheduler();
    let out = s.step(
        0,
        [
            Command::TrayFailed {
                tray: "B9/H1/R0001/T01".into(),
            },
            Command::Cancel(JobId(7)),
            Command::SetPowerCap {
                scope: PowerScope::Building("B9".into()),
                kw: Some(1.0),
            },
            Command::SetPowerCap {
                scope: PowerScope::Campus,
                kw: Some(f64::NAN),
            },
        ],
    );
    let codes: Vec<&str> = out
        .results
        .iter()
        .map(|r| r.as_ref().map_or_else(Reject::code, |()| "ok"))
        .collect();
    assert_eq!(
        codes,
        vec!["unknown_name", "unknown_job", "unknown_name", "bad_value"]
    );
    assert!(out.events.is_empty(), "{:?}", out.events);
    let out = s.step(
        1,
        [
            Command::Submit(JobSpec::training(1, "nobody", GB200, 8)),
            Command::Submit(JobSpec::training(2, "pretrain", "gb999", 8)),
            Command::Submit(JobSpec::training(3, "pretrain", GB200, 6)),
            Command::Submit(JobSpec::training(4, "pretrain", GB200, 8)),
            Command::Submit(JobSpec::training(4, "pretrain", GB200, 8)),
        ],
    );
    assert_eq!(out.results.len(), 5);
    assert_eq!(
        out.results[0],
        Err(Reject::UnknownTenant {
            name: "nobody".into()
        })
    );
    assert!(matches!(
        &out.results[1],
        Err(Reject::UnknownSku { sku, .. }) if sku == "gb999"
    ));
    assert_eq!(
        out.results[2],
        Err(Reject::Shape {
            job: JobId(3),
            problem: ShapeProblem::NotWholeTrays {
                gpus: 6,
                per_tray: 4,
                sku: GB200.into()
            }
        })
    );
    assert_eq!(out.results[3], Ok(()));
    assert_eq!(out.results[4], Err(Reject::DuplicateJob { job: JobId(4) }));
    for id in 1..=3 {
        assert_eq!(s.job_state(JobId(id)), None, "job {id} left no trace");
    }
    assert!(started(&out.events, 4).is_some());
    assert_eq!(s.job_spec(JobId(4)).map(|j| j.gpus), Some(8));
    s.check_invariants().unwrap();
}
