//! The scheduler's seams: typed refusals, names at the edge, tenancy
//! commands, contract dates, read views, snapshots and the command log.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use abilene_model::Campus;
use abilene_scheduler::*;
use common::*;

const GB300: &str = "gb300-nvl72";
const H100: &str = "hgx-h100";

/// The time every refusal test steps at: the set-up's last step, so that the
/// scheduling pass of the refused command has nothing new to do.
const T: Time = 10;

/// A scheduler with some state to keep: job 1 (ft, 8 GPUs) and job 2
/// (pretrain, one rack) running, reservation `r1` on rack 7 in the future.
fn busy() -> Scheduler {
    let mut s = tiny_scheduler();
    let out = s.step(
        T,
        [
            Command::Submit(JobSpec::training(1, "ft", GB200, 8)),
            Command::Submit(JobSpec::training(2, "pretrain", GB200, 72)),
            Command::Reserve(ReservationSpec {
                id: "r1".into(),
                targets: vec![rack(7)],
                start: 10_000,
                end: 20_000,
                owner: Some("openai".into()),
            }),
        ],
    );
    assert_eq!(out.results, vec![Ok(()), Ok(()), Ok(())]);
    assert!(started(&out.events, 1).is_some() && started(&out.events, 2).is_some());
    assert_eq!(s.pending_count(), 0);
    s
}

/// What the scheduler decides from: its snapshot, less the counters of
/// accepted and refused commands.
fn state(s: &Scheduler) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_slice(&s.snapshot()).expect("snapshot is JSON");
    let m = v.as_object_mut().expect("snapshot is an object");
    m.remove("accepted");
    m.remove("refused");
    v
}

/// Steps `command` alone, expects it refused with no event and no change of
/// state, and returns the refusal.
fn refuse(s: &mut Scheduler, command: Command) -> Reject {
    let before = state(s);
    let out = s.step(T, [command.clone()]);
    assert_eq!(out.results.len(), 1);
    let Err(r) = out.results[0].clone() else {
        panic!("{command:?} was accepted");
    };
    assert!(out.events.is_empty(), "{command:?}: {:?}", out.events);
    assert!(state(s) == before, "{command:?} changed the state");
    s.check_invariants().unwrap();
    r
}

/// A submit refused: as [`refuse`], and the job is absent afterwards, and
/// `check_submit` gave the same answer beforehand.
fn refuse_submit(s: &mut Scheduler, spec: JobSpec) -> Reject {
    let id = spec.id;
    let known = s.job_state(id);
    let checked = s.check_submit(&spec).unwrap_err();
    let r = refuse(s, Command::Submit(spec));
    assert_eq!(checked, r, "check_submit and submit agree");
    assert_eq!(s.job_state(id), known, "the refused job left no trace");
    if known.is_none() {
        assert!(s.job(id).is_none());
        assert!(!s.pending_ids().contains(&id));
    }
    r
}

fn gpus_map(sku: &str, gpus: u64) -> BTreeMap<String, u64> {
    BTreeMap::from([(sku.to_string(), gpus)])
}

fn usage_of(s: &Scheduler, node: &str) -> TenantUsage {
    s.tenant_usage(node)
        .unwrap()
        .into_iter()
        .find(|u| u.name == node)
        .expect("the root comes first")
}

fn sku_usage(u: &TenantUsage, sku: &str) -> SkuUsage {
    u.skus.iter().find(|k| k.sku == sku).unwrap().clone()
}

// ---- refusals ---------------------------------------------------------------

#[test]
fn duplicate_job_is_refused_even_after_it_finished() {
    let mut s = busy();
    let r = refuse_submit(&mut s, JobSpec::training(1, "research", GB200, 4));
    assert_eq!(r, Reject::DuplicateJob { job: JobId(1) });
    assert_eq!((r.code(), r.field()), ("duplicate_job", Some("id")));
    // The first job 1 is untouched.
    assert_eq!(s.job_spec(JobId(1)).unwrap().project, "ft");
    s.step(T, [Command::Complete(JobId(1))]);
    let r = refuse_submit(&mut s, JobSpec::training(1, "research", GB200, 4));
    assert_eq!(r, Reject::DuplicateJob { job: JobId(1) });
    assert_eq!(s.job_state(JobId(1)), Some(JobState::Done));
}

#[test]
fn cancel_or_complete_of_an_unknown_or_finished_job_is_refused() {
    let mut s = busy();
    for c in [Command::Cancel(JobId(77)), Command::Complete(JobId(77))] {
        let r = refuse(&mut s, c);
        assert_eq!(r, Reject::UnknownJob { job: JobId(77) });
        assert_eq!((r.code(), r.field()), ("unknown_job", Some("id")));
    }
    s.step(T, [Command::Cancel(JobId(1))]);
    let r = refuse(&mut s, Command::Cancel(JobId(1)));
    assert_eq!(r, Reject::UnknownJob { job: JobId(1) });
}

#[test]
fn unknown_project_is_refused() {
    let mut s = busy();
    let r = refuse_submit(&mut s, JobSpec::training(10, "nobody", GB200, 8));
    assert_eq!(
        r,
        Reject::UnknownTenant {
            name: "nobody".into()
        }
    );
    assert_eq!((r.code(), r.field()), ("unknown_tenant", Some("project")));
}

#[test]
fn unknown_sku_is_refused_and_lists_the_known_ones() {
    let mut s = busy();
    let r = refuse_submit(&mut s, JobSpec::training(10, "pretrain", "gb999", 8));
    let Reject::UnknownSku { sku, known } = &r else {
        panic!("{r:?}");
    };
    assert_eq!(sku, "gb999");
    for k in [GB200, GB300, H100] {
        assert!(known.contains(k), "{known}");
    }
    assert_eq!((r.code(), r.field()), ("unknown_sku", Some("sku")));
}

#[test]
fn gpus_not_whole_trays_are_refused() {
    let mut s = busy();
    let r = refuse_submit(&mut s, JobSpec::training(10, "pretrain", GB200, 290));
    assert_eq!(
        r,
        Reject::Shape {
            job: JobId(10),
            problem: ShapeProblem::NotWholeTrays {
                gpus: 290,
                per_tray: 4,
                sku: GB200.into()
            }
        }
    );
    assert_eq!((r.code(), r.field()), ("shape_impossible", Some("gpus")));
    let r = refuse_submit(&mut s, JobSpec::training(11, "pretrain", GB200, 0));
    assert_eq!(
        r,
        Reject::Shape {
            job: JobId(11),
            problem: ShapeProblem::NoGpus
        }
    );
    assert_eq!(r.field(), Some("gpus"));
}

#[test]
fn tensor_parallel_group_not_whole_trays_is_refused() {
    let mut s = busy();
    let mut spec = JobSpec::training(10, "pretrain", GB200, 8);
    spec.tp_gpus = 7;
    let r = refuse_submit(&mut s, spec);
    assert_eq!(
        r,
        Reject::Shape {
            job: JobId(10),
            problem: ShapeProblem::GroupNotWholeTrays {
                tp_gpus: 7,
                per_tray: 4
            }
        }
    );
    assert_eq!((r.code(), r.field()), ("shape_impossible", Some("tp_gpus")));
}

#[test]
fn group_larger_than_an_nvlink_domain_is_refused() {
    let mut s = busy();
    // 144 GPUs in one tensor-parallel group: 36 trays, and a GB200 NVL72
    // domain holds 18.
    let mut spec = JobSpec::training(10, "pretrain", GB200, 144);
    spec.tp_gpus = 144;
    let r = refuse_submit(&mut s, spec);
    assert_eq!(
        r,
        Reject::Shape {
            job: JobId(10),
            problem: ShapeProblem::GroupTooLarge {
                group_trays: 36,
                domain_trays: 18
            }
        }
    );
    assert_eq!((r.code(), r.field()), ("shape_impossible", Some("tp_gpus")));
    // A segment larger than a domain is refused the same way.
    let mut spec = JobSpec::training(11, "pretrain", GB200, 160);
    spec.segment_trays = 20;
    let r = refuse_submit(&mut s, spec);
    assert_eq!(
        r,
        Reject::Shape {
            job: JobId(11),
            problem: ShapeProblem::GroupTooLarge {
                group_trays: 20,
                domain_trays: 18
            }
        }
    );
    // 40 trays in segments of 16 do not divide.
    let mut spec = JobSpec::training(12, "pretrain", GB200, 160);
    spec.segment_trays = 16;
    let r = refuse_submit(&mut s, spec);
    assert_eq!(
        r,
        Reject::Shape {
            job: JobId(12),
            problem: ShapeProblem::Indivisible {
                trays: 40,
                group_trays: 16
            }
        }
    );
}

#[test]
fn service_with_min_available_above_replicas_is_refused() {
    let mut s = busy();
    let r = refuse_submit(&mut s, JobSpec::service(10, "research", GB200, 8, 4, 5));
    assert_eq!(
        r,
        Reject::Shape {
            job: JobId(10),
            problem: ShapeProblem::Replicas {
                replicas: 4,
                min_available: 5
            }
        }
    );
    assert_eq!((r.code(), r.field()), ("shape_impossible", Some("kind")));
    let r = refuse_submit(&mut s, JobSpec::service(11, "research", GB200, 8, 4, 0));
    assert!(matches!(
        r,
        Reject::Shape {
            problem: ShapeProblem::Replicas { .. },
            ..
        }
    ));
    let mut forever = JobSpec::service(12, "research", GB200, 8, 4, 2);
    forever.runtime_limit = 0;
    let r = refuse_submit(&mut s, forever);
    assert_eq!(r.field(), Some("runtime_limit"));
}

#[test]
fn a_job_larger_than_the_campus_is_refused() {
    let mut s = busy();
    let r = refuse_submit(&mut s, JobSpec::training(10, "pretrain", GB200, 580));
    assert_eq!(
        r,
        Reject::Shape {
            job: JobId(10),
            problem: ShapeProblem::LargerThanCampus {
                gpus: 580,
                sku: GB200.into(),
                capacity: 576
            }
        }
    );
    assert_eq!(r.field(), Some("gpus"));
}

#[test]
fn over_quota_is_refused_with_the_numbers() {
    let mut s = busy();
    // ft may borrow without limit, but acme's ceiling is 144 + 288.
    let r = refuse_submit(&mut s, JobSpec::training(10, "ft", GB200, 436));
    assert_eq!(
        r,
        Reject::OverQuota {
            node: "acme".into(),
            sku: GB200.into(),
            want: 436,
            ceiling: 432
        }
    );
    assert_eq!((r.code(), r.field()), ("over_quota", Some("gpus")));
    // A service needs min_available replicas at once.
    let r = refuse_submit(&mut s, JobSpec::service(11, "ft", GB200, 8, 100, 55));
    assert!(
        matches!(&r, Reject::OverQuota { want: 440, ceiling: 432, node, .. } if node == "acme"),
        "{r:?}"
    );
    // Spare trays count.
    let mut spare = JobSpec::training(12, "ft", GB200, 432);
    spare.spare_trays = 1;
    let r = refuse_submit(&mut s, spare);
    assert!(
        matches!(
            &r,
            Reject::OverQuota {
                want: 436,
                ceiling: 432,
                ..
            }
        ),
        "{r:?}"
    );
    // 432 itself is admitted (it waits: job 1 holds 8 of acme's ceiling).
    assert_eq!(
        s.check_submit(&JobSpec::training(13, "ft", GB200, 432)),
        Ok(())
    );
}

#[test]
fn unknown_tray_names_are_refused() {
    let mut s = busy();
    let bad = [
        "B1/H1/R0009/T01", // B1/H1 has 8 racks
        "B1/H1/R0001/T19", // a rack has 18 trays
        "B1/H1/R1/T1",     // not the one spelling
        "B1/H1/R0001",     // a rack, not a tray
        "B1/H1/R0001/T01/G0",
        "B9/H1/R0001/T01",
        "",
        "nonsense",
    ];
    for name in bad {
        for c in [
            Command::TrayFailed { tray: name.into() },
            Command::TrayRepaired { tray: name.into() },
            Command::ClearQuarantine { tray: name.into() },
        ] {
            let r = refuse(&mut s, c);
            let Reject::UnknownName {
                field,
                name: n,
                why,
            } = &r
            else {
                panic!("{r:?}");
            };
            assert_eq!((field.as_str(), n.as_str()), ("tray", name));
            assert!(!why.is_empty());
            assert_eq!((r.code(), r.field()), ("unknown_name", Some("tray")));
        }
    }
    assert!(!s.is_quarantined("B1/H1/R0009/T01"));
    assert!(s.tray("B1/H1/R0009/T01").is_err());
}

#[test]
fn a_gpu_name_as_a_drain_target_is_refused_and_nothing_is_drained() {
    let mut s = busy();
    let gpu = format!("{}/G0", tray(0));
    let r = refuse(
        &mut s,
        Command::Drain {
            targets: vec![tray(0), gpu.clone()],
            reason: "x".into(),
        },
    );
    assert_eq!(r.code(), "unknown_name");
    assert_eq!(r.field(), Some("targets[1]"));
    assert!(matches!(&r, Reject::UnknownName { name, .. } if *name == gpu));
    assert_eq!(s.tray(&tray(0)).unwrap().condition, TrayCondition::Up);
    // The same for resumes and reservations.
    let r = refuse(
        &mut s,
        Command::Resume {
            targets: vec![gpu.clone()],
        },
    );
    assert_eq!(r.field(), Some("targets[0]"));
    let r = refuse(
        &mut s,
        Command::Reserve(ReservationSpec {
            id: "r2".into(),
            targets: vec![rack(0), "B1/H7".into()],
            start: 100,
            end: 200,
            owner: None,
        }),
    );
    assert_eq!((r.code(), r.field()), ("unknown_name", Some("targets[1]")));
}

#[test]
fn bad_power_caps_are_refused() {
    let mut s = busy();
    for kw in [-1.0, f64::NAN, 1e12, f64::INFINITY, f64::NEG_INFINITY] {
        for scope in [PowerScope::Campus, PowerScope::Building("B1".into())] {
            let r = refuse(
                &mut s,
                Command::SetPowerCap {
                    scope,
                    kw: Some(kw),
                },
            );
            assert!(
                matches!(&r, Reject::BadValue { field, value, .. } if field == "kw" && *value == kw.to_string()),
                "{r:?}"
            );
            assert_eq!((r.code(), r.field()), ("bad_value", Some("kw")));
        }
    }
    for b in ["B9", "B1/H1", ""] {
        let r = refuse(
            &mut s,
            Command::SetPowerCap {
                scope: PowerScope::Building(b.into()),
                kw: Some(100.0),
            },
        );
        assert_eq!((r.code(), r.field()), ("unknown_name", Some("scope")));
    }
    assert!(s.rollup().buildings.iter().all(|b| b.cap_kw.is_none()));
    // The largest cap is accepted.
    let out = s.step(
        T,
        [Command::SetPowerCap {
            scope: PowerScope::Campus,
            kw: Some(MAX_CAP_KW),
        }],
    );
    assert_eq!(out.results, vec![Ok(())]);
    assert_eq!(s.rollup().campus.cap_kw, Some(MAX_CAP_KW));
}

#[test]
fn duplicate_and_bad_reservations_are_refused() {
    let mut s = busy();
    let spec = |id: &str, targets: Vec<String>, start, end| ReservationSpec {
        id: id.into(),
        targets,
        start,
        end,
        owner: None,
    };
    let r = refuse(
        &mut s,
        Command::Reserve(spec("r1", vec![rack(6)], 100, 200)),
    );
    assert_eq!(r, Reject::DuplicateReservation { id: "r1".into() });
    assert_eq!((r.code(), r.field()), ("duplicate_reservation", None));
    // Overlapping trays, an empty window, an unknown owner.
    let r = refuse(
        &mut s,
        Command::Reserve(spec("r2", vec![tray(7 * 18 + 3)], 100, 200)),
    );
    assert_eq!(r.code(), "bad_reservation");
    let r = refuse(
        &mut s,
        Command::Reserve(spec("r2", vec![rack(6)], 200, 200)),
    );
    assert_eq!(r.code(), "bad_reservation");
    let mut owned = spec("r2", vec![rack(6)], 100, 200);
    owned.owner = Some("nobody".into());
    let r = refuse(&mut s, Command::Reserve(owned));
    assert_eq!(r.code(), "bad_reservation");
    let r = refuse(&mut s, Command::Reserve(spec("", vec![rack(6)], 100, 200)));
    assert_eq!((r.code(), r.field()), ("bad_value", Some("id")));
    // A job naming an unknown reservation.
    let mut j = JobSpec::training(10, "pretrain", GB200, 8);
    j.reservation = Some("r9".into());
    let r = refuse_submit(&mut s, j);
    assert_eq!(r, Reject::UnknownReservation { id: "r9".into() });
}

#[test]
fn a_refused_command_among_accepted_ones_is_answered_in_place() {
    let mut s = tiny_scheduler();
    let out = s.step(
        0,
        [
            Command::Submit(JobSpec::training(1, "research", GB200, 4)),
            Command::TrayFailed {
                tray: "B1/H1/R0042/T01".into(),
            },
            Command::Submit(JobSpec::training(2, "research", GB200, 4)),
            Command::Cancel(JobId(3)),
        ],
    );
    assert_eq!(out.results.len(), 4);
    assert!(out.results[0].is_ok() && out.results[2].is_ok());
    assert_eq!(out.results[1].as_ref().unwrap_err().code(), "unknown_name");
    assert_eq!(out.results[3], Err(Reject::UnknownJob { job: JobId(3) }));
    assert!(started(&out.events, 1).is_some() && started(&out.events, 2).is_some());
    let (_, rejects) = out.into_parts();
    assert_eq!(rejects.len(), 2);
}

// ---- names: racks, halls, buildings ---------------------------------------------

#[test]
fn draining_a_rack_by_name_drains_its_trays_only() {
    let mut s = tiny_scheduler();
    let out = s.step(
        0,
        [Command::Drain {
            targets: vec![rack(2)],
            reason: "PDU swap".into(),
        }],
    );
    assert_eq!(out.results, vec![Ok(())]);
    let view = s.rack(&rack(2)).unwrap();
    assert_eq!(view.name, "B1/H1/R0003");
    assert_eq!(view.sku, GB200);
    assert_eq!(view.trays.len(), 18);
    for t in &view.trays {
        assert_eq!(t.condition, TrayCondition::Drained, "{}", t.name);
        assert_eq!(t.drain_reason.as_deref(), Some("PDU swap"));
        assert!(t.name.starts_with("B1/H1/R0003/T"));
    }
    for r in [1, 3] {
        assert!(
            s.rack(&rack(r))
                .unwrap()
                .trays
                .iter()
                .all(|t| t.condition == TrayCondition::Up)
        );
    }
    let roll = s.rollup();
    assert_eq!(roll.campus.trays_drained, 18);
    assert_eq!(roll.buildings[0].name, "B1");
    assert_eq!(roll.buildings[0].trays_drained, 18);
    assert_eq!(s.free_gpus(GB200), 576 - 72);
    // The whole GB200 hall no longer fits; resuming the rack brings it back.
    let (ev, _) = s
        .step(
            1,
            [Command::Submit(JobSpec::training(
                1, "pretrain", GB200, 576,
            ))],
        )
        .into_parts();
    assert!(started(&ev, 1).is_none());
    assert_eq!(s.pending_reason(JobId(1)), Some(&PendingReason::Resources));
    let out = s.step(
        2,
        [Command::Resume {
            targets: vec![rack(2)],
        }],
    );
    assert_eq!(out.results, vec![Ok(())]);
    assert!(started(&out.events, 1).is_some());
    assert_eq!(s.rollup().campus.trays_drained, 0);
    assert_eq!(s.tray(&tray(2 * 18)).unwrap().drain_reason, None);
    s.check_invariants().unwrap();
}

#[test]
fn draining_a_rack_under_a_running_job_lets_it_finish() {
    let mut s = tiny_scheduler();
    let mut j = JobSpec::training(1, "pretrain", GB200, 72);
    j.tp_gpus = 72;
    let (ev, _) = s.step(0, [Command::Submit(j)]).into_parts();
    let p = started(&ev, 1).unwrap().clone();
    let rack_name = p.trays[0].rsplit_once('/').unwrap().0.to_string();
    assert!(p.trays.iter().all(|t| t.starts_with(&rack_name)));
    assert_eq!(p.halls, vec![("B1/H1".to_string(), 18)]);
    let out = s.step(
        1,
        [Command::Drain {
            targets: vec![rack_name.clone()],
            reason: "leak".into(),
        }],
    );
    assert_eq!(out.results, vec![Ok(())]);
    assert!(out.events.is_empty(), "{:?}", out.events);
    assert_eq!(s.job_state(JobId(1)), Some(JobState::Running));
    let view = s.rack(&rack_name).unwrap();
    assert!(
        view.trays
            .iter()
            .all(|t| t.condition == TrayCondition::Drained
                && t.busy_gpus == 4
                && t.jobs == vec![JobId(1)])
    );
    s.step(2, [Command::Complete(JobId(1))]);
    assert_eq!(s.free_gpus(GB200), 576 - 72, "drained trays stay out");
    let roll = s.rollup();
    assert_eq!(roll.campus.busy_gpus, 0);
    assert_eq!(roll.campus.free_gpus, roll.campus.gpus - 72);
    s.check_invariants().unwrap();
}

#[test]
fn draining_a_building_by_name_drains_every_tray_of_it() {
    let mut s = tiny_scheduler();
    let b2 = tiny().buildings[1].clone();
    assert_eq!(b2.name, "B2");
    let out = s.step(
        0,
        [Command::Drain {
            targets: vec!["B2".into()],
            reason: "utility outage".into(),
        }],
    );
    assert_eq!(out.results, vec![Ok(())]);
    for t in b2.trays.clone() {
        let name = tray(t);
        assert!(name.starts_with("B2/"));
        assert_eq!(s.tray(&name).unwrap().condition, TrayCondition::Drained);
    }
    let roll = s.rollup();
    let (rb1, rb2) = (&roll.buildings[0], &roll.buildings[1]);
    assert_eq!(rb2.trays, u64::from(b2.trays.end - b2.trays.start));
    assert!(rb2.trays > 0);
    assert_eq!(rb2.trays_drained, rb2.trays);
    assert_eq!(rb2.free_gpus, 0);
    assert_eq!(rb1.trays_drained, 0);
    assert_eq!(rb1.free_gpus, 576);
    assert_eq!(roll.campus.trays_drained, rb2.trays);
    assert_eq!(s.free_gpus(GB300), 0);
    assert_eq!(s.free_gpus(H100), 0);
    // Work for B2's SKUs waits; GB200 work in B1 runs.
    let (ev, err) = s
        .step(
            1,
            [
                Command::Submit(JobSpec::training(1, "research", GB300, 4)),
                Command::Submit(JobSpec::training(2, "research", GB200, 4)),
            ],
        )
        .into_parts();
    assert!(err.is_empty(), "{err:?}");
    assert!(started(&ev, 1).is_none());
    assert_eq!(s.pending_reason(JobId(1)), Some(&PendingReason::Resources));
    assert!(started(&ev, 2).is_some());
    // Resuming one hall brings back that hall only.
    let out = s.step(
        2,
        [Command::Resume {
            targets: vec!["B2/H1".into()],
        }],
    );
    assert_eq!(out.results, vec![Ok(())]);
    assert!(started(&out.events, 1).is_some());
    assert!(s.free_gpus(GB300) > 0);
    assert_eq!(s.free_gpus(H100), 0);
    s.check_invariants().unwrap();
}

#[test]
fn placements_and_events_speak_tray_names() {
    let mut s = tiny_scheduler();
    let mut j = JobSpec::training(1, "pretrain", GB200, 144);
    j.spare_trays = 1;
    let (ev, _) = s.step(0, [Command::Submit(j)]).into_parts();
    let p = started(&ev, 1).unwrap().clone();
    assert_eq!(p.trays.len(), 36);
    assert_eq!(p.spares.len(), 1);
    for t in p.trays.iter().chain(&p.spares) {
        assert_eq!(tray(tray_index(t)), *t, "a canonical tray name");
    }
    assert_eq!(s.job_trays(JobId(1)).len(), 37);
    assert_eq!(s.job_spares(JobId(1)), p.spares);
    let victim = p.trays[3].clone();
    let (ev, _) = s
        .step(
            10,
            [Command::TrayFailed {
                tray: victim.clone(),
            }],
        )
        .into_parts();
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::Interrupted { tray, .. } if *tray == victim))
    );
    assert_eq!(s.tray(&victim).unwrap().condition, TrayCondition::Down);
    assert!(s.job_trays(JobId(1)).contains(&p.spares[0]));
    s.check_invariants().unwrap();
}

// ---- tenancy ----------------------------------------------------------------------

#[test]
fn a_tenant_created_under_a_lessee_runs_within_its_guarantee() {
    let mut s = tiny_scheduler();
    // oracle has 576; openai 288 and acme 144 leave 144.
    let out = s.step(
        0,
        [
            Command::CreateTenant(TenantSpec::new("newco", Some("oracle")).guarantee(GB200, 144)),
            Command::CreateTenant(
                TenantSpec::new("newco-train", Some("newco")).guarantee(GB200, 144),
            ),
        ],
    );
    assert_eq!(out.results, vec![Ok(()), Ok(())]);
    let sub = s.tenant_usage("newco").unwrap();
    assert_eq!(sub.len(), 2);
    assert_eq!(sub[0].name, "newco");
    assert_eq!(sub[0].parent.as_deref(), Some("oracle"));
    assert_eq!(sub[0].depth, 2);
    assert_eq!(sku_usage(&sub[0], GB200).guarantee, 144);
    assert_eq!(sub[1].name, "newco-train");
    assert_eq!(sub[1].depth, 3);
    assert!(
        s.tenant_usage("oracle")
            .unwrap()
            .iter()
            .any(|u| u.name == "newco")
    );
    let (ev, err) = s
        .step(
            1,
            [Command::Submit(JobSpec::training(
                1,
                "newco-train",
                GB200,
                144,
            ))],
        )
        .into_parts();
    assert!(err.is_empty(), "{err:?}");
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::Started {
            job: JobId(1),
            borrowed: false,
            ..
        }
    )));
    assert_eq!(s.usage("newco", GB200), Some(144));
    assert_eq!(s.job_tenant(JobId(1)), Some("newco-train"));
    s.check_invariants().unwrap();
}

#[test]
fn a_tenant_that_would_overcommit_its_parent_is_refused() {
    let mut s = busy();
    let r = refuse(
        &mut s,
        Command::CreateTenant(TenantSpec::new("bigco", Some("oracle")).guarantee(GB200, 145)),
    );
    assert_eq!(r.code(), "tenancy");
    assert!(
        matches!(&r, Reject::Tenancy(why) if why.contains("oracle")),
        "{r:?}"
    );
    assert!(matches!(
        s.tenant_usage("bigco"),
        Err(Reject::UnknownTenant { .. })
    ));
    let r = refuse(
        &mut s,
        Command::CreateTenant(TenantSpec::new("acme", Some("oracle"))),
    );
    assert_eq!(
        r,
        Reject::DuplicateTenant {
            name: "acme".into()
        }
    );
    let r = refuse(
        &mut s,
        Command::CreateTenant(TenantSpec::new("orphan", Some("nobody"))),
    );
    assert_eq!(
        r,
        Reject::UnknownTenant {
            name: "nobody".into()
        }
    );
    let r = refuse(
        &mut s,
        Command::CreateTenant(TenantSpec::new("root2", None)),
    );
    assert_eq!((r.code(), r.field()), ("bad_value", Some("parent")));
    let r = refuse(
        &mut s,
        Command::CreateTenant(TenantSpec::new("h9co", Some("oracle")).guarantee("h9", 1)),
    );
    assert_eq!(r.code(), "tenancy");
    let r = refuse(
        &mut s,
        Command::CreateTenant(TenantSpec::new("zero", Some("oracle")).weight(0)),
    );
    assert_eq!(r.code(), "tenancy");
}

#[test]
fn a_guarantee_update_takes_effect_and_an_overcommitting_one_is_refused() {
    let mut s = busy();
    let out = s.step(
        T,
        [Command::UpdateTenant(TenantUpdate {
            name: "acme".into(),
            guarantee: Some(gpus_map(GB200, 288)),
            weight: Some(5),
            ..TenantUpdate::default()
        })],
    );
    assert_eq!(out.results, vec![Ok(())]);
    let acme = usage_of(&s, "acme");
    assert_eq!(sku_usage(&acme, GB200).guarantee, 288);
    assert_eq!(sku_usage(&acme, GB200).borrow_limit, Some(288));
    assert_eq!(acme.weight, 5);
    // research 144 + pretrain 216 > openai's 288.
    let r = refuse(
        &mut s,
        Command::UpdateTenant(TenantUpdate {
            name: "research".into(),
            guarantee: Some(gpus_map(GB200, 144)),
            ..TenantUpdate::default()
        }),
    );
    assert_eq!(r.code(), "tenancy");
    let r = refuse(
        &mut s,
        Command::UpdateTenant(TenantUpdate {
            name: "nobody".into(),
            weight: Some(2),
            ..TenantUpdate::default()
        }),
    );
    assert_eq!(r.code(), "unknown_tenant");
    assert_eq!(
        sku_usage(&usage_of(&s, "research"), GB200).guarantee,
        72,
        "unchanged"
    );
}

#[test]
fn an_update_that_would_put_running_work_over_its_ceiling_is_refused() {
    let mut s = tiny_scheduler();
    let (ev, _) = s
        .step(0, [Command::Submit(JobSpec::training(1, "ft", GB200, 432))])
        .into_parts();
    assert!(started(&ev, 1).is_some());
    let before = state(&s);
    let out = s.step(
        0,
        [Command::UpdateTenant(TenantUpdate {
            name: "acme".into(),
            borrow_limit: Some(gpus_map(GB200, 0)),
            ..TenantUpdate::default()
        })],
    );
    assert_eq!(
        out.results,
        vec![Err(Reject::OverQuota {
            node: "acme".into(),
            sku: GB200.into(),
            want: 432,
            ceiling: 144
        })]
    );
    assert!(out.events.is_empty());
    assert!(state(&s) == before);
    assert_eq!(s.job_state(JobId(1)), Some(JobState::Running));
    assert_eq!(
        sku_usage(&usage_of(&s, "acme"), GB200).borrow_limit,
        Some(288)
    );
    // A limit that leaves room for the running work is accepted.
    let out = s.step(
        1,
        [Command::UpdateTenant(TenantUpdate {
            name: "acme".into(),
            borrow_limit: Some(gpus_map(GB200, 288)),
            ..TenantUpdate::default()
        })],
    );
    assert_eq!(out.results, vec![Ok(())]);
    s.check_invariants().unwrap();
}

#[test]
fn retiring_tenants_empty_ones_only_and_never_again() {
    let mut s = busy();
    // research has no jobs: it retires, and its guarantee goes.
    let out = s.step(
        T,
        [Command::RetireTenant {
            name: "research".into(),
        }],
    );
    assert_eq!(out.results, vec![Ok(())]);
    let research = usage_of(&s, "research");
    assert!(research.retired);
    assert_eq!(sku_usage(&research, GB200).guarantee, 0);
    let r = refuse_submit(&mut s, JobSpec::training(10, "research", GB200, 4));
    assert_eq!(
        r,
        Reject::RetiredTenant {
            name: "research".into()
        }
    );
    assert_eq!(r.code(), "retired_tenant");
    // Its name is never reused, and it is not retired twice.
    let r = refuse(
        &mut s,
        Command::CreateTenant(TenantSpec::new("research", Some("openai"))),
    );
    assert_eq!(r.code(), "duplicate_tenant");
    let r = refuse(
        &mut s,
        Command::RetireTenant {
            name: "research".into(),
        },
    );
    assert_eq!(r.code(), "retired_tenant");
    let r = refuse(
        &mut s,
        Command::CreateTenant(TenantSpec::new("research-2", Some("research"))),
    );
    assert_eq!(r.code(), "retired_tenant");
    // ft runs job 1; acme has ft under it.
    let r = refuse(&mut s, Command::RetireTenant { name: "ft".into() });
    assert_eq!(
        r,
        Reject::TenantInUse {
            name: "ft".into(),
            jobs: 1,
            children: 0
        }
    );
    assert_eq!(r.code(), "tenant_in_use");
    let r = refuse(
        &mut s,
        Command::RetireTenant {
            name: "acme".into(),
        },
    );
    assert_eq!(
        r,
        Reject::TenantInUse {
            name: "acme".into(),
            jobs: 1,
            children: 1
        }
    );
    let r = refuse(
        &mut s,
        Command::RetireTenant {
            name: "crusoe".into(),
        },
    );
    assert_eq!((r.code(), r.field()), ("bad_value", Some("name")));
    // A pending job keeps its tenant in use too.
    s.step(
        T,
        [Command::Submit(JobSpec::training(11, "ft", GB200, 432))],
    );
    assert_eq!(s.job_state(JobId(11)), Some(JobState::Pending));
    s.step(
        T + 1,
        [Command::Complete(JobId(1)), Command::Cancel(JobId(11))],
    );
    let out = s.step(
        T + 2,
        [
            Command::RetireTenant { name: "ft".into() },
            Command::RetireTenant {
                name: "acme".into(),
            },
        ],
    );
    assert_eq!(out.results, vec![Ok(()), Ok(())]);
    assert!(usage_of(&s, "acme").retired);
    s.check_invariants().unwrap();
}

// ---- contract dates ----------------------------------------------------------------

/// oracle leases 288 GB200 GPUs, and 288 more from t=1000 to t=5000; it may
/// not borrow. Its project pretrain holds the same contract.
fn contract_tenants() -> Vec<TenantSpec> {
    vec![
        TenantSpec::new("crusoe", None),
        TenantSpec::new("oracle", Some("crusoe"))
            .guarantee(GB200, 288)
            .borrow_limit(GB200, 0)
            .contract(GB200, 288, 1000, Some(5000)),
        TenantSpec::new("pretrain", Some("oracle"))
            .guarantee(GB200, 288)
            .contract(GB200, 288, 1000, Some(5000)),
    ]
}

#[test]
fn a_contract_moves_the_guarantee_at_its_dates() {
    let mut s =
        Scheduler::with_campus(tiny().clone(), Config::default(), &contract_tenants()).unwrap();
    let (ev, err) = s
        .step(
            0,
            [Command::Submit(JobSpec::training(
                1, "pretrain", GB200, 288,
            ))],
        )
        .into_parts();
    assert!(err.is_empty() && started(&ev, 1).is_some());
    // Job 2 needs the contracted GPUs: it waits for them.
    let (ev, err) = s
        .step(
            10,
            [Command::Submit(JobSpec::training(
                2, "pretrain", GB200, 288,
            ))],
        )
        .into_parts();
    assert!(err.is_empty(), "{err:?}");
    assert!(started(&ev, 2).is_none());
    let quota = PendingReason::Quota {
        node: "oracle".into(),
    };
    assert_eq!(s.pending_reason(JobId(2)), Some(&quota));
    let (ev, _) = s.step(999, []).into_parts();
    assert!(ev.is_empty(), "{ev:?}");
    assert_eq!(s.pending_reason(JobId(2)), Some(&quota));
    // At the start date the guarantee grows and job 2 starts.
    let (ev, _) = s.step(1000, []).into_parts();
    for tenant in ["oracle", "pretrain"] {
        assert!(
            ev.iter().any(|e| matches!(e, Event::GuaranteeChanged { tenant: t, sku, gpus: 576 } if t == tenant && sku == GB200)),
            "{tenant}: {ev:?}"
        );
    }
    assert!(started(&ev, 2).is_some(), "{ev:?}");
    assert_eq!(sku_usage(&usage_of(&s, "oracle"), GB200).guarantee, 576);
    s.check_invariants().unwrap();
    // At the end date it shrinks: the newest job gives its GPUs back.
    let (ev, _) = s.step(5000, []).into_parts();
    assert!(
        ev.iter().any(
            |e| matches!(e, Event::GuaranteeChanged { tenant, gpus: 288, .. } if tenant == "oracle")
        ),
        "{ev:?}"
    );
    assert!(
        ev.iter().any(|e| matches!(
            e,
            Event::Preempted {
                job: JobId(2),
                by: None,
                ..
            }
        )),
        "{ev:?}"
    );
    assert!(
        !ev.iter()
            .any(|e| matches!(e, Event::Preempted { job: JobId(1), .. }))
    );
    assert_eq!(s.job_state(JobId(1)), Some(JobState::Running));
    assert_eq!(s.job_state(JobId(2)), Some(JobState::Pending));
    assert_eq!(s.pending_reason(JobId(2)), Some(&quota));
    assert_eq!(s.usage("oracle", GB200), Some(288));
    s.check_invariants().unwrap();
    // The job's history records the preemption.
    let d = s.job(JobId(2)).unwrap();
    assert!(
        d.history
            .entries
            .iter()
            .any(|h| matches!(h.what, Transition::Preempted { by: None, .. }) && h.at == 5000)
    );
}

#[test]
fn a_contract_added_by_update_takes_effect_at_its_date() {
    let mut s = busy();
    // openai gets 288 more from t=100: with acme's 144 that would be 720
    // of oracle's 576, so the update of openai alone is refused.
    let contract = Contract {
        sku: GB200.into(),
        gpus: 288,
        start: 100,
        end: None,
    };
    let r = refuse(
        &mut s,
        Command::UpdateTenant(TenantUpdate {
            name: "openai".into(),
            contracts: Some(vec![contract.clone()]),
            ..TenantUpdate::default()
        }),
    );
    assert_eq!(r.code(), "tenancy");
    // Taking acme's guarantee away first makes room.
    let out = s.step(
        T,
        [
            Command::UpdateTenant(TenantUpdate {
                name: "ft".into(),
                guarantee: Some(BTreeMap::new()),
                ..TenantUpdate::default()
            }),
            Command::UpdateTenant(TenantUpdate {
                name: "acme".into(),
                guarantee: Some(BTreeMap::new()),
                ..TenantUpdate::default()
            }),
            Command::UpdateTenant(TenantUpdate {
                name: "openai".into(),
                contracts: Some(vec![contract]),
                ..TenantUpdate::default()
            }),
        ],
    );
    assert_eq!(out.results, vec![Ok(()), Ok(()), Ok(())]);
    assert_eq!(sku_usage(&usage_of(&s, "openai"), GB200).guarantee, 288);
    let (ev, _) = s.step(100, []).into_parts();
    assert!(
        ev.iter().any(
            |e| matches!(e, Event::GuaranteeChanged { tenant, gpus: 576, .. } if tenant == "openai")
        ),
        "{ev:?}"
    );
    assert_eq!(sku_usage(&usage_of(&s, "openai"), GB200).guarantee, 576);
    // acme's running job borrows now, within acme's limit.
    assert_eq!(s.job_state(JobId(1)), Some(JobState::Running));
    s.check_invariants().unwrap();
}

// ---- views ------------------------------------------------------------------------

/// 500 jobs with ids 1000, 1002, ...: every 5th is research's (100 of
/// them), the rest pretrain's and ft's, a few of them services.
fn crowded() -> Scheduler {
    let mut s = tiny_scheduler();
    let mut cmds = Vec::new();
    for i in 0..500u64 {
        let id = 1000 + 2 * i;
        let spec = if i % 5 == 0 {
            JobSpec::training(id, "research", GB200, 1)
        } else if i % 7 == 0 {
            JobSpec::service(id, "ft", GB200, 4, 2, 1)
        } else if i % 2 == 0 {
            JobSpec::training(id, "pretrain", GB200, 4)
        } else {
            JobSpec::training(id, "ft", GB200, 4)
        };
        cmds.push(Command::Submit(spec));
    }
    let out = s.step(0, cmds);
    assert!(out.results.iter().all(Result::is_ok));
    s
}

fn list_all(s: &Scheduler, filter: &JobFilter, limit: usize) -> Vec<JobView> {
    let mut all = Vec::new();
    let mut after = None;
    for _ in 0..10_000 {
        let page = s.list_jobs(filter, after, limit).unwrap();
        assert!(page.jobs.len() <= limit);
        all.extend(page.jobs);
        match page.next {
            None => return all,
            Some(n) => {
                assert_eq!(Some(n), all.last().map(|v| v.id), "next is the last id");
                after = Some(n);
            }
        }
    }
    panic!("paging does not end");
}

#[test]
fn listing_one_tenant_pages_through_its_jobs_exactly_once() {
    let s = crowded();
    let research: Vec<JobId> = (0..500u64)
        .filter(|i| i % 5 == 0)
        .map(|i| JobId(1000 + 2 * i))
        .collect();
    assert_eq!(research.len(), 100);
    let filter = JobFilter {
        tenant: Some("research".into()),
        ..JobFilter::default()
    };
    for limit in [1, 7, 50, 99, 100, 101, 1000] {
        let all = list_all(&s, &filter, limit);
        let ids: Vec<JobId> = all.iter().map(|v| v.id).collect();
        assert_eq!(ids, research, "limit {limit}");
        assert!(all.iter().all(|v| v.project == "research"));
    }
    // A page of exactly what is left has no next.
    let page = s.list_jobs(&filter, None, 100).unwrap();
    assert_eq!((page.jobs.len(), page.next), (100, None));
    let page = s.list_jobs(&filter, None, 99).unwrap();
    assert_eq!(page.next, Some(research[98]));
    // A cursor between ids, or past the end.
    let page = s.list_jobs(&filter, Some(JobId(1001)), 1).unwrap();
    assert_eq!(page.jobs[0].id, JobId(1010));
    let page = s.list_jobs(&filter, Some(JobId(u64::MAX)), 10).unwrap();
    assert!(page.jobs.is_empty() && page.next.is_none());
    // A subtree: openai holds research's and pretrain's jobs.
    let openai = list_all(
        &s,
        &JobFilter {
            tenant: Some("openai".into()),
            ..JobFilter::default()
        },
        13,
    );
    assert!(
        openai
            .iter()
            .all(|v| v.project == "research" || v.project == "pretrain")
    );
    assert!(openai.len() > 100);
    // The whole campus.
    assert_eq!(list_all(&s, &JobFilter::default(), 64).len(), 500);
}

#[test]
fn listing_filters_by_state_and_kind() {
    let s = crowded();
    let all = list_all(&s, &JobFilter::default(), 1000);
    let running = list_all(
        &s,
        &JobFilter {
            state: Some(JobState::Running),
            ..JobFilter::default()
        },
        17,
    );
    let pending = list_all(
        &s,
        &JobFilter {
            state: Some(JobState::Pending),
            ..JobFilter::default()
        },
        17,
    );
    assert!(!running.is_empty() && !pending.is_empty());
    assert_eq!(running.len() + pending.len(), all.len());
    assert_eq!(running.len(), s.running_count());
    assert_eq!(pending.len(), s.pending_count());
    assert!(running.iter().all(|v| v.state == JobState::Running
        && v.placement.is_some()
        && v.pending_reason.is_none()));
    assert!(
        pending
            .iter()
            .all(|v| v.state == JobState::Pending && v.placement.is_none())
    );
    let services = list_all(
        &s,
        &JobFilter {
            kind: Some(KindFilter::Service),
            ..JobFilter::default()
        },
        5,
    );
    let expected = (0..500u64).filter(|i| i % 5 != 0 && i % 7 == 0).count();
    assert_eq!(services.len(), expected);
    assert!(
        services
            .iter()
            .all(|v| v.kind == KindFilter::Service && v.project == "ft")
    );
    let ft_training_pending = list_all(
        &s,
        &JobFilter {
            tenant: Some("ft".into()),
            state: Some(JobState::Pending),
            kind: Some(KindFilter::Training),
        },
        9,
    );
    assert!(ft_training_pending.iter().all(|v| v.project == "ft"
        && v.kind == KindFilter::Training
        && v.state == JobState::Pending));
    // Bad requests are refused.
    let r = s.list_jobs(&JobFilter::default(), None, 0).unwrap_err();
    assert_eq!((r.code(), r.field()), ("bad_value", Some("limit")));
    let r = s.list_jobs(&JobFilter::default(), None, 1001).unwrap_err();
    assert_eq!(r.field(), Some("limit"));
    let r = s
        .list_jobs(
            &JobFilter {
                tenant: Some("nobody".into()),
                ..JobFilter::default()
            },
            None,
            10,
        )
        .unwrap_err();
    assert_eq!(r.code(), "unknown_tenant");
}

#[test]
fn job_detail_says_why_it_waits_and_what_happened() {
    let mut s = tiny_scheduler();
    s.step(0, [Command::Submit(JobSpec::training(1, "ft", GB200, 432))]);
    s.step(5, [Command::Submit(JobSpec::training(2, "ft", GB200, 4))]);
    let d = s.job(JobId(2)).unwrap();
    assert_eq!(d.view.state, JobState::Pending);
    assert_eq!(
        d.view.pending_reason.as_deref(),
        Some("waiting for quota of acme")
    );
    assert_eq!(d.view.submitted, 5);
    assert_eq!(d.spec.gpus, 4);
    assert!(d.view.placement.is_none());
    let d = s.job(JobId(1)).unwrap();
    assert_eq!(d.view.pending_reason, None);
    assert!(d.view.borrowed);
    let p = d.view.placement.unwrap();
    assert_eq!((p.gpus, p.trays, p.spare_trays), (432, 108, 0));
    assert_eq!(p.buildings, vec!["B1".to_string()]);
    assert_eq!(p.halls, vec![("B1/H1".to_string(), 108)]);
    let whats: Vec<&Transition> = d.history.entries.iter().map(|h| &h.what).collect();
    assert_eq!(
        whats,
        vec![
            &Transition::Submitted,
            &Transition::Started {
                gpus: 432,
                buildings: 1
            }
        ],
        "{:?}",
        d.history
    );
    assert_eq!(d.history.entries[0].at, 0);
    // Job 2 starts when job 1 ends; its history follows.
    s.step(50, [Command::Complete(JobId(1))]);
    assert!(s.job(JobId(1)).is_none(), "finished jobs leave the views");
    let d = s.job(JobId(2)).unwrap();
    assert_eq!(d.view.state, JobState::Running);
    let ats: Vec<(Time, &Transition)> = d.history.entries.iter().map(|h| (h.at, &h.what)).collect();
    assert_eq!(
        ats,
        vec![
            (5, &Transition::Submitted),
            (
                50,
                &Transition::Started {
                    gpus: 4,
                    buildings: 1
                }
            )
        ]
    );
}

#[test]
fn a_preempted_job_says_why_it_waits() {
    let mut s = tiny_scheduler();
    s.step(0, [Command::Submit(JobSpec::training(1, "ft", GB200, 432))]);
    // pretrain reclaims its guarantee from ft, which borrows it.
    let (ev, _) = s
        .step(
            10,
            [Command::Submit(JobSpec::training(
                2, "pretrain", GB200, 216,
            ))],
        )
        .into_parts();
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::Preempted {
            job: JobId(1),
            by: Some(JobId(2)),
            ..
        }
    )));
    assert_eq!(s.job_state(JobId(1)), Some(JobState::Pending));
    let reason = s.job(JobId(1)).unwrap().view.pending_reason;
    assert!(reason.is_some(), "job 1 is pending with no reason");
    assert!(s.pending_reason(JobId(1)).is_some());
}

#[test]
fn tenant_usage_reports_guarantees_borrowing_and_jobs() {
    let mut s = tiny_scheduler();
    s.step(0, [Command::Submit(JobSpec::training(1, "ft", GB200, 432))]);
    let sub = s.tenant_usage("oracle").unwrap();
    let names: Vec<&str> = sub.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names[0], "oracle");
    assert_eq!(names.len(), 6);
    let acme = usage_of(&s, "acme");
    let k = sku_usage(&acme, GB200);
    assert_eq!(
        (k.guarantee, k.borrow_limit, k.usage, k.borrowed),
        (144, Some(288), 432, 432)
    );
    assert_eq!(acme.live_jobs, 1);
    let research = sku_usage(&usage_of(&s, "research"), GB200);
    assert_eq!((research.borrow_limit, research.usage), (None, 0));
    assert!(matches!(
        s.tenant_usage("nobody"),
        Err(Reject::UnknownTenant { .. })
    ));
    let roll = s.rollup();
    assert_eq!(roll.campus.busy_gpus, 432);
    assert_eq!(roll.running_jobs, 1);
    assert_eq!(roll.campus.gpus, s.total_gpus());
}

#[test]
fn the_clock_may_reach_the_end_of_time() {
    let mut s = busy();
    s.step(Time::MAX - 1, []);
    s.step(Time::MAX, []);
    s.step(
        Time::MAX,
        [Command::Submit(JobSpec::training(10, "research", GB200, 4))],
    );
    s.check_invariants().unwrap();
}

// ---- snapshots and the log ------------------------------------------------------

/// Steps of commands for a scheduler on the tiny campus, from t=0, that
/// touch most of its state.
fn script() -> Vec<(Time, Vec<Command>)> {
    let mut ckpt = JobSpec::training(3, "pretrain", GB200, 144);
    ckpt.checkpoint_interval = 600;
    ckpt.spare_trays = 1;
    let mut low = JobSpec::training(4, "research", GB200, 72);
    low.priority = Priority::Low;
    vec![
        (
            0,
            vec![
                Command::Submit(JobSpec::training(1, "ft", GB200, 288)),
                Command::Submit(JobSpec::training(2, "research", GB300, 8)),
                Command::Submit(ckpt),
                Command::Submit(low),
                Command::Submit(JobSpec::service(5, "research", H100, 8, 4, 2)),
                Command::Drain {
                    targets: vec![tray(140)],
                    reason: "fan".into(),
                },
                Command::Reserve(ReservationSpec {
                    id: "lease".into(),
                    targets: vec!["B2/H1".into()],
                    start: 2000,
                    end: 9000,
                    owner: Some("openai".into()),
                }),
            ],
        ),
        (
            500,
            vec![
                Command::Submit(JobSpec::training(6, "pretrain", GB200, 72)),
                Command::CreateTenant(TenantSpec::new("newco", Some("crusoe")).contract(
                    GB300,
                    32,
                    3000,
                    Some(8000),
                )),
            ],
        ),
        (
            1000,
            vec![Command::SetPowerCap {
                scope: PowerScope::Building("B1".into()),
                kw: Some(500.0),
            }],
        ),
        (1500, vec![]),
    ]
}

fn script_after() -> Vec<(Time, Vec<Command>)> {
    let mut leased = JobSpec::training(8, "pretrain", GB300, 16);
    leased.reservation = Some("lease".into());
    vec![
        (
            1800,
            vec![
                Command::TrayFailed { tray: tray(40) },
                Command::Submit(JobSpec::training(7, "newco", GB300, 8)),
                Command::Submit(leased),
            ],
        ),
        (2000, vec![Command::Complete(JobId(1))]),
        (
            2500,
            vec![
                Command::SetPowerCap {
                    scope: PowerScope::Building("B1".into()),
                    kw: None,
                },
                Command::TrayRepaired { tray: tray(40) },
            ],
        ),
        (3000, vec![Command::Cancel(JobId(4))]),
        (
            5000,
            vec![Command::Submit(JobSpec::training(9, "research", GB200, 36))],
        ),
        (8000, vec![]),
        (9000, vec![Command::Complete(JobId(3))]),
        (
            700_000,
            vec![Command::Submit(JobSpec::training(10, "ft", GB200, 4))],
        ),
    ]
}

fn run(s: &mut Scheduler, steps: &[(Time, Vec<Command>)]) -> Vec<StepOutput> {
    steps
        .iter()
        .map(|(t, c)| {
            let out = s.step(*t, c.clone());
            s.check_invariants().unwrap();
            out
        })
        .collect()
}

#[test]
fn a_restored_snapshot_continues_identically() {
    let mut s = tiny_scheduler();
    let first = run(&mut s, &script());
    assert!(
        first.iter().flat_map(|o| &o.results).all(Result::is_ok),
        "{first:?}"
    );
    let bytes = s.snapshot();
    assert_eq!(bytes, s.snapshot(), "the same state gives the same bytes");
    let mut r = Scheduler::restore(tiny().clone(), &bytes).unwrap();
    assert_eq!(r.snapshot(), bytes, "restore keeps everything");
    assert_eq!(r.rollup(), s.rollup());
    assert_eq!(
        r.tenant_usage("crusoe").unwrap(),
        s.tenant_usage("crusoe").unwrap()
    );
    assert_eq!(r.pending_ids(), s.pending_ids());
    let a = run(&mut s, &script_after());
    let b = run(&mut r, &script_after());
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert_eq!(x, y, "step {i} after the snapshot");
    }
    let events: usize = a.iter().map(|o| o.events.len()).sum();
    assert!(events > 10, "the script does something: {a:?}");
    assert_eq!(s.snapshot(), r.snapshot());
}

#[test]
fn a_snapshot_is_refused_on_another_campus() {
    let mut s = tiny_scheduler();
    run(&mut s, &script());
    let bytes = s.snapshot();
    let other = Arc::new(campus("abilene-phase1"));
    match Scheduler::restore(other, &bytes) {
        Err(SnapshotError::CampusChanged { expected, found }) => {
            assert_eq!(expected, tiny().fingerprint());
            assert_ne!(expected, found);
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
    // The tiny campus with one figure changed is another campus too.
    let p = abilene_fixtures::preset("tiny").unwrap();
    let edited = p
        .toml
        .replace("grid_interconnect_mw = 5.0", "grid_interconnect_mw = 6.0");
    assert_ne!(edited, p.toml);
    let edited = Arc::new(Campus::load(p.file, &edited).unwrap());
    assert!(matches!(
        Scheduler::restore(edited, &bytes),
        Err(SnapshotError::CampusChanged { .. })
    ));
}

#[test]
fn a_corrupted_snapshot_is_refused_not_a_panic() {
    let mut s = tiny_scheduler();
    run(&mut s, &script());
    let bytes = s.snapshot();
    let restore = |b: &[u8]| Scheduler::restore(tiny().clone(), b);
    assert!(matches!(restore(b""), Err(SnapshotError::Decode(_))));
    assert!(matches!(
        restore(b"not json"),
        Err(SnapshotError::Decode(_))
    ));
    assert!(matches!(
        restore(&bytes[..bytes.len() / 2]),
        Err(SnapshotError::Decode(_))
    ));
    assert!(matches!(
        restore(&bytes[..bytes.len() - 1]),
        Err(SnapshotError::Decode(_))
    ));
    let text = String::from_utf8(bytes.clone()).unwrap();
    let now = format!("\"format\":{SNAPSHOT_FORMAT}");
    let future = text.replacen(&now, &format!("\"format\":{}", SNAPSHOT_FORMAT + 1), 1);
    assert_ne!(future, text);
    assert!(matches!(
        restore(future.as_bytes()),
        Err(SnapshotError::Format { found }) if found == SNAPSHOT_FORMAT + 1
    ));
    // Edited fields that break the state's consistency.
    let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    v["trays"].as_array_mut().unwrap().push(serde_json::json!([
        9_999_999,
        {"down": true, "drain": false, "quarantined": false, "reservation": null}
    ]));
    assert!(matches!(
        restore(&serde_json::to_vec(&v).unwrap()),
        Err(SnapshotError::Inconsistent(_))
    ));
    let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    v["ids"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!([424242, 99999]));
    assert!(restore(&serde_json::to_vec(&v).unwrap()).is_err());
    let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let running = v["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .position(|j| j["state"] == "running")
        .unwrap();
    v["jobs"][running]["gangs"][0]["trays"][0] = serde_json::json!(4_000_000_000u64);
    assert!(restore(&serde_json::to_vec(&v).unwrap()).is_err());
    let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    v["tenants"][1]["guarantee"][GB200] = serde_json::json!(100_000);
    assert!(restore(&serde_json::to_vec(&v).unwrap()).is_err());
    // Every digit changed, one at a time at many places: refused, or a
    // consistent state that steps on, never a panic.
    let digits: Vec<usize> = bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| b.is_ascii_digit())
        .map(|(i, _)| i)
        .collect();
    let stride = (digits.len() / 1500).max(1);
    let mut refused = 0;
    // Failures by their message with the numbers taken out: how many, and
    // the first example.
    let mut failures: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for &i in digits.iter().step_by(stride) {
        let mut b = bytes.clone();
        b[i] = if b[i] == b'9' { b'0' } else { b[i] + 1 };
        match restore_and_step(&b) {
            Ok(true) => refused += 1,
            Ok(false) => {}
            Err(why) => {
                let kind: String = why.chars().filter(|c| !c.is_ascii_digit()).collect();
                let e = failures.entry(kind).or_insert_with(|| {
                    let around = &b[i.saturating_sub(40)..(i + 10).min(b.len())];
                    let around = String::from_utf8_lossy(around);
                    (0, format!("byte {i} ({around:?}): {why}"))
                });
                e.0 += 1;
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(refused > 0);
}

/// Restores `bytes` on the tiny campus and, if that is accepted, steps
/// twice. Ok(true) if refused, Ok(false) if accepted and consistent, Err
/// if it panicked or reached an inconsistent state.
fn restore_and_step(bytes: &[u8]) -> Result<bool, String> {
    let outcome = std::panic::catch_unwind(|| {
        let mut r = match Scheduler::restore(tiny().clone(), bytes) {
            Ok(r) => r,
            Err(_) => return Ok(true),
        };
        r.check_invariants()
            .map_err(|e| format!("restored an inconsistent state: {e}"))?;
        r.step(
            700_000,
            [Command::Submit(JobSpec::training(
                999_999, "research", GB200, 4,
            ))],
        );
        r.step(1_400_000, []);
        r.check_invariants()
            .map_err(|e| format!("inconsistent after stepping: {e}"))?;
        Ok(false)
    });
    outcome.unwrap_or_else(|p| {
        let msg = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        Err(format!("panicked: {msg}"))
    })
}

/// A change to a snapshot's JSON.
type Edit = Box<dyn Fn(&mut serde_json::Value)>;

#[test]
fn snapshots_with_indices_out_of_range_are_refused_not_panics() {
    let mut s = tiny_scheduler();
    run(&mut s, &script());
    let bytes = s.snapshot();
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let jobs = v["jobs"].as_array().unwrap();
    let running = jobs.iter().position(|j| j["state"] == "running").unwrap();
    let pending = jobs.iter().position(|j| j["state"] == "pending").unwrap();
    let other_sku = (jobs[running]["sku"].as_u64().unwrap() + 1) % 3;
    let edits: Vec<(&str, Edit)> = vec![
        (
            "a running job's draw in building 2 of 2",
            Box::new(move |v| v["jobs"][running]["draw"][0][0] = 2.into()),
        ),
        (
            "a running job's pool 99",
            Box::new(move |v| v["jobs"][running]["pool"] = 99.into()),
        ),
        (
            "a pending job's pool 99",
            Box::new(move |v| v["jobs"][pending]["pool"] = 99.into()),
        ),
        (
            "a tray in reservation 99",
            Box::new(|v| {
                v["trays"].as_array_mut().unwrap().push(serde_json::json!([
                    0,
                    {"down": false, "drain": false, "quarantined": false, "reservation": 99}
                ]))
            }),
        ),
        (
            "a backfill head at slot 99999",
            Box::new(|v| {
                v["heads"][0] = serde_json::json!({"job": 99_999, "shadow": 0, "extra": 0});
            }),
        ),
        (
            "a fresh slot 99999",
            Box::new(|v| v["fresh"] = serde_json::json!([99_999])),
        ),
        (
            "a free slot 99999",
            Box::new(|v| v["free_slots"] = serde_json::json!([99_999])),
        ),
        (
            "a gang mask beyond the tray's GPUs",
            Box::new(move |v| v["jobs"][running]["gangs"][0]["mask"] = (1u64 << 40).into()),
        ),
        (
            "a reservation's pool 99",
            Box::new(|v| v["reservations"][0]["pool"] = 99.into()),
        ),
        (
            "a reservation's tray 99999",
            Box::new(|v| v["reservations"][0]["trays"][0] = 99_999.into()),
        ),
        (
            "a failure history of tray 99999",
            Box::new(|v| v["failures"]["99999"] = serde_json::json!([1])),
        ),
        (
            "a drain reason of tray 99999",
            Box::new(|v| v["drain_reasons"]["99999"] = "x".into()),
        ),
        (
            "a running job's clock 1e18",
            Box::new(move |v| v["jobs"][running]["clock"] = 1e18.into()),
        ),
        (
            "a running job's SKU changed",
            Box::new(move |v| v["jobs"][running]["sku"] = other_sku.into()),
        ),
        (
            "the time at the end of time",
            Box::new(|v| v["now"] = u64::MAX.into()),
        ),
    ];
    let mut failures = Vec::new();
    for (what, edit) in &edits {
        let mut e = v.clone();
        edit(&mut e);
        assert_ne!(e, v, "{what}: the edit changes the snapshot");
        if let Err(why) = restore_and_step(&serde_json::to_vec(&e).unwrap()) {
            failures.push(format!("{what}: {why}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn a_log_replays_to_the_same_state_and_only_on_its_campus() {
    let mut s = tiny_scheduler();
    let header = LogHeader::new(tiny(), Config::default(), tiny_tenants());
    let steps: Vec<(Time, Vec<Command>)> = script().into_iter().chain(script_after()).collect();
    let mut records = Vec::new();
    for (i, (t, c)) in steps.iter().enumerate() {
        s.step(*t, c.clone());
        records.push(LogRecord {
            seq: i as u64 + 1,
            time: *t,
            commands: c.clone(),
        });
    }
    let r = replay(tiny().clone(), &header, &records).unwrap();
    assert_eq!(r.snapshot(), s.snapshot());
    // Through JSON, as a log file holds it.
    let text = serde_json::to_string(&records).unwrap();
    let back: Vec<LogRecord> = serde_json::from_str(&text).unwrap();
    assert_eq!(back, records);
    assert!(matches!(
        replay(Arc::new(campus("abilene-phase1")), &header, &records),
        Err(LogError::CampusChanged { .. })
    ));
    let mut gap = records.clone();
    gap.remove(2);
    assert!(matches!(
        replay(tiny().clone(), &header, &gap),
        Err(LogError::Gap { after: 2, found: 4 })
    ));
}

// ---- warm spares --------------------------------------------------------------

fn spare_job(id: u64, tp_gpus: u32, spares: u32) -> JobSpec {
    let mut j = JobSpec::training(id, "pretrain", GB200, 72);
    j.tp_gpus = tp_gpus;
    j.spare_trays = spares;
    j.checkpoint_interval = 600;
    j
}

/// The rack a tray name is in: `B1/H1/R0003/T07` -> `B1/H1/R0003`.
fn rack_of(tray: &str) -> String {
    tray.rsplit_once('/').expect("a tray name").0.to_string()
}

#[test]
fn a_used_spare_is_replaced_from_free_capacity() {
    let mut s = tiny_scheduler();
    let out = s.step(0, [Command::Submit(spare_job(1, 0, 2))]);
    assert!(out.results.iter().all(Result::is_ok));
    assert_eq!(s.job_spares(JobId(1)).len(), 2);
    let victim = s.job_trays(JobId(1))[0].clone();
    let out = s.step(100, [Command::TrayFailed { tray: victim }]);
    assert!(out.events.iter().any(|e| matches!(
        e,
        Event::Interrupted {
            recovery: Recovery::Spare,
            ..
        }
    )));
    assert!(
        out.events
            .iter()
            .any(|e| matches!(e, Event::SpareAdded { job: JobId(1), trays } if trays.len() == 1)),
        "{:?}",
        out.events
    );
    assert_eq!(s.job_spares(JobId(1)).len(), 2, "back to two spares");
    s.check_invariants().unwrap();
}

#[test]
fn a_restart_does_not_wait_for_every_spare_and_gets_them_back_later() {
    let mut s = tiny_scheduler();
    // Acme's fine-tuning fills six of the eight GB200 racks, one each.
    let ft: Vec<Command> = (10..16)
        .map(|id| {
            let mut j = JobSpec::training(id, "ft", GB200, 72);
            j.tp_gpus = 72;
            Command::Submit(j)
        })
        .collect();
    assert!(s.step(0, ft).results.iter().all(Result::is_ok));
    // A rack-sized tensor-parallel group: a spare in another rack cannot
    // stand in for one of its trays, so a failure requeues it.
    let out = s.step(1, [Command::Submit(spare_job(1, 72, 2))]);
    assert!(started(&out.events, 1).is_some(), "{:?}", out.events);
    // Its trays: the gang's 18, then its spares.
    let gang = s.job_trays(JobId(1))[..18].to_vec();
    let gang_rack = rack_of(&gang[0]);
    assert!(gang.iter().all(|t| rack_of(t) == gang_rack), "one rack");
    // Drain 16 trays of its rack (running work stays), so that after the
    // failure only its spares' rack and one tray are free.
    let drained: Vec<String> = gang[2..].to_vec();
    assert_eq!(drained.len(), 16);
    let out = s.step(
        2,
        [Command::Drain {
            targets: drained.clone(),
            reason: "test".into(),
        }],
    );
    assert!(out.results.iter().all(Result::is_ok));
    let out = s.step(
        3,
        [Command::TrayFailed {
            tray: gang[0].clone(),
        }],
    );
    let restarted = started(&out.events, 1).expect("restarts at once, with what is free");
    assert_eq!(restarted.spares.len(), 1, "one spare free, not two");
    assert_ne!(rack_of(&restarted.trays[0]), gang_rack);
    assert_eq!(s.job_spares(JobId(1)).len(), 1);
    // The drain ends: the missing spare comes back.
    let out = s.step(4, [Command::Resume { targets: drained }]);
    assert!(
        out.events
            .iter()
            .any(|e| matches!(e, Event::SpareAdded { job: JobId(1), .. }))
    );
    assert_eq!(s.job_spares(JobId(1)).len(), 2);
    s.check_invariants().unwrap();
}

#[test]
fn a_run_left_without_spares_says_so() {
    let mut s = tiny_scheduler();
    assert!(
        s.step(0, [Command::Submit(spare_job(1, 0, 1))])
            .results
            .iter()
            .all(Result::is_ok)
    );
    // No free GB200 tray anywhere: the spare cannot be replaced.
    let out = s.step(
        1,
        [Command::Drain {
            targets: vec!["B1".into()],
            reason: "test".into(),
        }],
    );
    assert!(out.results.iter().all(Result::is_ok));
    let victim = s.job_trays(JobId(1))[0].clone();
    let out = s.step(2, [Command::TrayFailed { tray: victim }]);
    assert!(
        out.events
            .iter()
            .any(|e| matches!(e, Event::SparesExhausted { job: JobId(1) })),
        "{:?}",
        out.events
    );
    assert!(s.job_spares(JobId(1)).is_empty());
    s.check_invariants().unwrap();
}
