//! Scenarios that walk the scheduler through one behaviour each.

mod common;

use abilene_scheduler::*;
use common::*;

fn started(events: &[Event], id: u64) -> Option<&Placement> {
    events.iter().find_map(|e| match e {
        Event::Started { job, placement, .. } if job.0 == id => Some(placement),
        _ => None,
    })
}

#[test]
fn a_rack_sized_job_lands_in_one_nvlink_domain() {
    let mut s = tiny_scheduler();
    let (ev, err) = s.step(
        0,
        [Command::Submit(JobSpec::training(1, "pretrain", GB200, 72))],
    );
    assert!(err.is_empty());
    let p = started(&ev, 1).expect("started");
    assert_eq!((p.domains, p.leaf_groups, p.buildings), (1, 1, 1));
    s.check_invariants().unwrap();
}

#[test]
fn small_jobs_pack_into_partly_used_trays_and_racks() {
    let mut s = tiny_scheduler();
    let (ev, _) = s.step(
        0,
        [
            Command::Submit(JobSpec::training(1, "research", GB200, 2)),
            Command::Submit(JobSpec::training(2, "research", GB200, 2)),
            Command::Submit(JobSpec::training(3, "research", GB200, 8)),
        ],
    );
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
    let (ev, _) = s.step(0, [Command::Submit(JobSpec::training(1, "ft", GB200, 432))]);
    assert!(started(&ev, 1).is_some());
    let (ev, _) = s.step(1, [Command::Submit(JobSpec::training(2, "ft", GB200, 4))]);
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
    let (ev, _) = s.step(0, [Command::Submit(borrowed)]);
    assert!(matches!(
        ev.iter().find(|e| matches!(e, Event::Started { .. })),
        Some(Event::Started { borrowed: true, .. })
    ));
    // openai's pretrain asks for its guarantee of 216.
    let (ev, _) = s.step(
        1000,
        [Command::Submit(JobSpec::training(
            2, "pretrain", GB200, 216,
        ))],
    );
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
    let (ev, _) = s.step(0, [Command::Submit(j)]);
    let p = started(&ev, 1).unwrap().clone();
    let victim = p.trays[0];
    let (ev, _) = s.step(4000, [Command::TrayFailed { tray: victim }]);
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::Interrupted {
            recovery: Recovery::Spare,
            lost_work: 400,
            ..
        }
    )));
    assert_eq!(s.job_spares(JobId(1)).len(), 1);
    s.check_invariants().unwrap();
    // No spare left for a second and third failure: requeued at the front.
    let t2 = s.job_trays(JobId(1))[1];
    let (_, _) = s.step(5000, [Command::TrayFailed { tray: t2 }]);
    let t3 = s.job_trays(JobId(1))[2];
    let (ev, _) = s.step(6000, [Command::TrayFailed { tray: t3 }]);
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
                Command::TrayFailed { tray: 5 },
                Command::TrayRepaired { tray: 5 },
            ],
        );
    }
    assert!(s.is_quarantined(5));
    s.step(400, [Command::ClearQuarantine { tray: 5 }]);
    assert!(!s.is_quarantined(5));
    s.check_invariants().unwrap();
}

fn reason(s: &Scheduler, id: u64) -> Option<PendingReason> {
    s.pending_reason(JobId(id)).cloned()
}

#[test]
fn segmented_jobs_use_racks_with_drained_trays() {
    let mut s = tiny_scheduler();
    // Drain 2 of the 18 trays of each of the 8 GB200 racks.
    let drained: Vec<u32> = (0..8).flat_map(|r| [r * 18, r * 18 + 1]).collect();
    s.step(0, [Command::Drain { trays: drained }]);
    // A whole-rack group can no longer fit anywhere...
    let mut rack = JobSpec::training(1, "pretrain", GB200, 72);
    rack.tp_gpus = 72;
    // ...but 16-tray segments can: 2 segments = 128 GPUs.
    let mut seg = JobSpec::training(2, "pretrain", GB200, 128);
    seg.segment_trays = 16;
    let (ev, _) = s.step(1, [Command::Submit(rack), Command::Submit(seg)]);
    assert!(started(&ev, 1).is_none());
    assert_eq!(reason(&s, 1), Some(PendingReason::Resources));
    let p = started(&ev, 2).expect("segments fit racks with drained trays");
    assert_eq!(p.domains, 2);
    s.check_invariants().unwrap();
}

#[test]
fn backfill_never_delays_the_head_and_says_why() {
    let mut s = tiny_scheduler();
    // Fill 7 of the 8 GB200 racks for an hour.
    let mut big = JobSpec::training(1, "pretrain", GB200, 504);
    big.preemptible = false;
    big.runtime_estimate = 3600;
    big.runtime_limit = 7200;
    s.step(0, [Command::Submit(big)]);
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
    let (ev, _) = s.step(20, [Command::Submit(short), Command::Submit(long)]);
    assert!(started(&ev, 3).is_some(), "short job backfills");
    assert!(started(&ev, 4).is_none());
    assert_eq!(
        reason(&s, 4),
        Some(PendingReason::Priority { behind: JobId(2) })
    );
    // When both end, the head starts before the long job.
    s.step(1800, [Command::Complete(JobId(3))]);
    let (ev, _) = s.step(3600, [Command::Complete(JobId(1))]);
    assert!(started(&ev, 2).is_some());
    assert!(started(&ev, 4).is_none());
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
    let (ev, _) = s.step(
        10,
        [Command::SetPowerCap {
            scope: PowerScope::Building(0),
            kw: Some(draw - 10.0),
        }],
    );
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
    let (ev, _) = s.step(
        20,
        [Command::SetPowerCap {
            scope: PowerScope::Building(0),
            kw: Some(draw * 0.7),
        }],
    );
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
    let (ev, _) = s.step(
        30,
        [Command::Submit(JobSpec::training(3, "research", GB200, 72))],
    );
    assert!(started(&ev, 3).is_none());
    assert_eq!(reason(&s, 3), Some(PendingReason::PowerCap));
    // Lifting the cap brings clocks and jobs back.
    let (ev, _) = s.step(
        40,
        [Command::SetPowerCap {
            scope: PowerScope::Building(0),
            kw: None,
        }],
    );
    assert!(started(&ev, 1).is_some() || started(&ev, 3).is_some());
    s.check_invariants().unwrap();
}

#[test]
fn maintenance_window_clears_its_trays_and_gives_them_back() {
    let mut s = tiny_scheduler();
    let rack0: Vec<u32> = (0..18).collect();
    let (ev, _) = s.step(
        0,
        [Command::Submit(JobSpec::training(
            1, "pretrain", GB200, 576,
        ))],
    );
    assert!(started(&ev, 1).is_some());
    let res = ReservationSpec {
        id: 0,
        trays: rack0.clone(),
        start: 100,
        end: 200,
        owner: None,
    };
    s.step(50, [Command::Reserve(res)]);
    let (ev, _) = s.step(100, []);
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
            .any(|e| matches!(e, Event::ReservationStarted { id: 0 }))
    );
    // During the window the job no longer fits (one rack is out).
    assert_eq!(reason(&s, 1), Some(PendingReason::Resources));
    let (ev, _) = s.step(200, []);
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::ReservationEnded { id: 0 }))
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
    let racks: Vec<u32> = (0..36).collect();
    let res = ReservationSpec {
        id: 0,
        trays: racks,
        start: 100,
        end: 10_000,
        owner: Some("openai".into()),
    };
    s.step(0, [Command::Reserve(res)]);
    let mut inside = JobSpec::training(1, "pretrain", GB200, 144);
    inside.reservation = Some(0);
    let mut outsider = JobSpec::training(2, "ft", GB200, 8);
    outsider.reservation = Some(0);
    let (ev, _) = s.step(10, [Command::Submit(inside), Command::Submit(outsider)]);
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::Rejected { job: JobId(2), .. }))
    );
    assert_eq!(reason(&s, 1), Some(PendingReason::Reservation { id: 0 }));
    let (ev, _) = s.step(100, []);
    let p = started(&ev, 1).expect("starts when the reservation does");
    assert!(p.trays.iter().all(|&t| t < 36), "inside the reserved racks");
    // Others cannot use the reserved racks: 432 GPUs are left outside.
    let (ev, _) = s.step(
        101,
        [Command::Submit(JobSpec::training(
            3, "research", GB200, 432,
        ))],
    );
    let p = started(&ev, 3).expect("fits outside");
    assert!(p.trays.iter().all(|&t| t >= 36));
    let (ev, _) = s.step(
        102,
        [Command::Submit(JobSpec::training(4, "research", GB200, 4))],
    );
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
    let (ev, _) = s.step(1, [Command::Submit(svc)]);
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
    let (ev, _) = s.step(2, [Command::Complete(JobId(1))]);
    assert_eq!(replicas(&ev), 6);
    s.check_invariants().unwrap();
}

#[test]
fn bad_commands_are_refused_and_change_nothing() {
    let mut s = tiny_scheduler();
    let (_, err) = s.step(
        0,
        [
            Command::TrayFailed { tray: 99_999 },
            Command::Cancel(JobId(7)),
            Command::SetPowerCap {
                scope: PowerScope::Building(9),
                kw: Some(1.0),
            },
            Command::SetPowerCap {
                scope: PowerScope::Campus,
                kw: Some(f64::NAN),
            },
        ],
    );
    assert_eq!(err.len(), 4);
    let (ev, err) = s.step(
        1,
        [
            Command::Submit(JobSpec::training(1, "nobody", GB200, 8)),
            Command::Submit(JobSpec::training(2, "pretrain", "gb999", 8)),
            Command::Submit(JobSpec::training(3, "pretrain", GB200, 6)),
            Command::Submit(JobSpec::training(4, "pretrain", GB200, 8)),
            Command::Submit(JobSpec::training(4, "pretrain", GB200, 8)),
        ],
    );
    assert_eq!(err, vec![CommandError::DuplicateJob(JobId(4))]);
    let rejected: Vec<u64> = ev
        .iter()
        .filter_map(|e| match e {
            Event::Rejected { job, .. } => Some(job.0),
            _ => None,
        })
        .collect();
    assert_eq!(rejected, vec![1, 2, 3]);
    assert!(started(&ev, 4).is_some());
    s.check_invariants().unwrap();
}
