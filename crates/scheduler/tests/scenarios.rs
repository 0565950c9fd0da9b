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
