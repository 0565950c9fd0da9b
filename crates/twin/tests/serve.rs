//! The twin under a server: a fleet moved into a writer thread, with no
//! background workload of its own, running jobs it did not make, and
//! resumed over a scheduler restored from its snapshot.

mod common;

use std::sync::Arc;

use abilene_control::{Controller, Fleet, Observation};
use abilene_model::TrayId;
use abilene_scheduler::{Command, JobId, JobSpec, JobState, Scheduler, Time, TrayCondition};
use abilene_twin::engine::{DAY, HOUR};
use abilene_twin::scenario::Scenario;
use abilene_twin::sim::{RunOptions, TwinFleet, Workload};

type Log = Vec<(Time, Observation)>;

/// Drives to `until` as `abilene_control::drive` does, keeping every report
/// with its time and checking the scheduler's invariants after every step.
fn drive_log(
    fleet: &mut dyn Fleet,
    control: &mut Controller,
    sched: &mut Scheduler,
    until: Time,
    log: &mut Log,
) {
    while let Some((now, observations)) = fleet.poll(until, sched) {
        let commands = control.commands(&observations, sched);
        log.extend(observations.into_iter().map(|o| (now, o)));
        let out = sched.step(now, commands);
        assert!(out.results.iter().all(Result::is_ok), "{:?}", out.results);
        sched
            .check_invariants()
            .unwrap_or_else(|e| panic!("at {now}: {e}"));
        fleet.hear(now, &out.events);
    }
}

/// The scheduler as a restarted server has it: restored from a snapshot.
fn restored(sc: &Scenario, sched: &Scheduler) -> Scheduler {
    Scheduler::restore(Arc::new(sc.campus.clone()), &sched.snapshot()).expect("restores")
}

fn days(d: f64) -> RunOptions {
    RunOptions {
        days: Some(d),
        seed: None,
    }
}

/// The tiny campus with no failures and no 4CP curtailment.
fn quiet() -> Scenario {
    common::load_variant(
        "small.toml",
        &[
            ("rate_scale = 20.0", "rate_scale = 0.0"),
            (
                "[failures]\n",
                "[grid]\ncurtail_in_4cp = false\n\n[failures]\n",
            ),
        ],
    )
}

fn arrivals(log: &Log) -> Vec<(Time, JobId)> {
    log.iter()
        .filter_map(|(at, o)| match o {
            Observation::Submitted(spec) => Some((*at, spec.id)),
            _ => None,
        })
        .collect()
}

fn exited(log: &Log) -> Vec<(Time, JobId)> {
    log.iter()
        .filter_map(|(at, o)| match o {
            Observation::JobExited { job } => Some((*at, *job)),
            _ => None,
        })
        .collect()
}

fn trays_down(log: &Log) -> Vec<(Time, String)> {
    log.iter()
        .filter_map(|(at, o)| match o {
            Observation::TrayDown { tray, .. } => Some((*at, tray.clone())),
            _ => None,
        })
        .collect()
}

fn commissioning(log: &Log) -> Vec<(Time, Observation)> {
    log.iter()
        .filter(|(_, o)| {
            matches!(
                o,
                Observation::Commissioned { .. } | Observation::Uncommissioned { .. }
            )
        })
        .cloned()
        .collect()
}

/// A server leaks its scenario and moves the fleet into its writer thread.
#[test]
fn a_twin_fleet_moves_into_a_writer_thread() {
    fn assert_send<T: Send>() {}
    assert_send::<TwinFleet<'static>>();
    let sc: &'static Scenario = Box::leak(Box::new(common::load("small.toml")));
    let (fleet, sched) = TwinFleet::new_with(sc, &days(2.0), Workload::Off).expect("fleet");
    let writer = std::thread::spawn(move || {
        let (mut fleet, mut sched) = (fleet, sched);
        let mut log = Log::new();
        drive_log(
            &mut fleet,
            &mut Controller::new(),
            &mut sched,
            DAY,
            &mut log,
        );
        log
    });
    let log = writer.join().expect("the writer thread");
    assert!(log.iter().any(|(_, o)| matches!(o, Observation::Plant(_))));
}

/// With no workload the fleet is the hardware and plant only: it submits
/// nothing, and its trays fail and come back exactly as under the
/// scenario's workload (the failure process does not depend on the jobs).
#[test]
fn a_fleet_with_no_workload_is_the_hardware_and_plant_only() {
    let sc = common::load("small.toml");
    let run = |w: Workload| {
        let (mut fleet, mut sched) = TwinFleet::new_with(&sc, &days(3.0), w).expect("fleet");
        let mut log = Log::new();
        drive_log(
            &mut fleet,
            &mut Controller::new(),
            &mut sched,
            3 * DAY,
            &mut log,
        );
        (log, sched)
    };
    let (off, sched) = run(Workload::Off);
    let (busy, _) = run(Workload::Scenario);
    assert!(arrivals(&off).is_empty());
    assert!(!arrivals(&busy).is_empty());
    assert_eq!(sched.running_count() + sched.pending_count(), 0);
    let plant = off
        .iter()
        .filter(|(_, o)| matches!(o, Observation::Plant(_)))
        .count();
    assert_eq!(
        plant, 73,
        "a plant reading each hour, from hour 0 to the end"
    );
    assert!(!trays_down(&off).is_empty());
    assert_eq!(trays_down(&off), trays_down(&busy));
}

/// A server restarted from its snapshot resumes the twin at the
/// scheduler's clock: the jobs running go on and finish, the trays down
/// get repaired, nothing is commissioned again, the workload goes on with
/// the very jobs the uninterrupted run submits after the restart (none from
/// before it), failures go on, and the same state gives the same future.
#[test]
fn a_resumed_fleet_goes_on_from_the_snapshot() {
    let sc = common::load("small.toml");
    let opts = days(6.0);
    let (mut fleet, mut sched) = TwinFleet::new(&sc, &opts).expect("fleet");
    let mut control = Controller::new();
    let t = 2 * DAY + 1234;
    let mut log = Log::new();
    drive_log(&mut fleet, &mut control, &mut sched, t, &mut log);
    // An operator fails three trays, so the snapshot holds some down.
    let failed: Vec<String> = [0, 40, 130]
        .iter()
        .map(|&i| sc.campus.tray_name(TrayId(i)))
        .filter(|n| {
            sched
                .tray(n)
                .is_ok_and(|v| v.condition == TrayCondition::Up)
        })
        .collect();
    assert!(!failed.is_empty());
    let out = sched.step(
        t,
        failed
            .iter()
            .map(|tray| Command::TrayFailed { tray: tray.clone() }),
    );
    fleet.hear(t, &out.events);
    let at_restart = restored(&sc, &sched);
    let t2 = t + 3 * DAY;
    let mut uninterrupted = Log::new();
    drive_log(&mut fleet, &mut control, &mut sched, t2, &mut uninterrupted);

    let resume = || {
        let mut sched = at_restart.clone();
        let mut fleet = TwinFleet::resume(&sc, &opts, &sched).expect("resumes");
        let mut log = Log::new();
        drive_log(&mut fleet, &mut Controller::new(), &mut sched, t2, &mut log);
        (log, sched)
    };
    let (after, sched_after) = resume();
    assert_eq!(after, resume().0, "the same state gives the same future");
    sched_after.check_invariants().expect("invariants");

    let came = arrivals(&after);
    assert!(!came.is_empty());
    for (at, id) in &came {
        assert!(*at >= t, "{id} arrived at {at}, before the restart at {t}");
        assert_eq!(at_restart.job_state(*id), None, "{id} was submitted before");
    }
    assert_eq!(came, arrivals(&uninterrupted), "the run's own arrivals");

    let done = exited(&after);
    let was = |id: JobId| at_restart.job_state(id);
    assert!(
        done.iter()
            .any(|&(_, id)| was(id) == Some(JobState::Running)),
        "jobs running at the restart finish"
    );
    assert!(
        done.iter().any(|&(_, id)| was(id).is_none()),
        "new jobs finish"
    );

    let down: Vec<String> = (0..sc.campus.trays.len() as u32)
        .map(|i| sc.campus.tray_name(TrayId(i)))
        .filter(|n| {
            at_restart
                .tray(n)
                .is_ok_and(|v| v.condition == TrayCondition::Down)
        })
        .collect();
    assert!(failed.iter().all(|f| down.contains(f)));
    for tray in &down {
        assert!(
            after
                .iter()
                .any(|(_, o)| matches!(o, Observation::TrayUp { tray: up } if up == tray)),
            "{tray}, down at the restart, is never repaired"
        );
    }
    assert!(!trays_down(&after).is_empty(), "failures go on");
    assert!(trays_down(&after).iter().all(|(at, _)| *at >= t));
    assert!(
        commissioning(&after).is_empty(),
        "{:?}",
        commissioning(&after)
    );
}

/// A training job a user submitted before the restart does the rest of its
/// work after it: it exits when it would have without the restart.
#[test]
fn a_resumed_fleet_runs_on_the_foreign_jobs_it_finds() {
    let sc = quiet();
    let opts = days(2.0);
    let (mut fleet, mut sched) = TwinFleet::new_with(&sc, &opts, Workload::Off).expect("fleet");
    let mut control = Controller::new();
    let mut log = Log::new();
    let t0 = HOUR + 5;
    drive_log(&mut fleet, &mut control, &mut sched, t0, &mut log);
    let id = JobId(1 << 40);
    let mut spec = JobSpec::training(id.0, "research", "gb200-nvl72", 8);
    spec.runtime_estimate = 10 * HOUR;
    spec.checkpoint_interval = HOUR;
    let out = sched.step(t0, [Command::Submit(spec)]);
    fleet.hear(t0, &out.events);
    let t = t0 + 4 * HOUR + 321;
    drive_log(&mut fleet, &mut control, &mut sched, t, &mut log);
    assert_eq!(sched.job_state(id), Some(JobState::Running));

    let mut sched = restored(&sc, &sched);
    let mut fleet = TwinFleet::resume_with(&sc, &opts, &sched, Workload::Off).expect("resumes");
    let mut after = Log::new();
    drive_log(&mut fleet, &mut control, &mut sched, 2 * DAY, &mut after);
    assert_eq!(exited(&after), vec![(t0 + 10 * HOUR, id)]);
    assert_eq!(sched.job_state(id), Some(JobState::Done));
    assert!(arrivals(&after).is_empty());
}

/// A building commissioned after the restart is reported once, on its
/// day; one the scheduler already knows about is not reported again.
#[test]
fn a_resumed_fleet_reports_commissioning_once() {
    // B2 of the tiny campus is commissioned on 2026-01-15: day 5.
    let sc = common::load_variant("small.toml", &[("2026-07-01", "2026-01-10")]);
    let opts = days(8.0);
    let (mut fleet, mut sched) = TwinFleet::new(&sc, &opts).expect("fleet");
    let mut log = Log::new();
    drive_log(
        &mut fleet,
        &mut Controller::new(),
        &mut sched,
        2 * DAY,
        &mut log,
    );
    let b2 = || Observation::Uncommissioned {
        building: "B2".into(),
    };
    assert_eq!(commissioning(&log), vec![(0, b2())]);

    let mut sched = restored(&sc, &sched);
    let mut fleet = TwinFleet::resume(&sc, &opts, &sched).expect("resumes");
    let mut after = Log::new();
    drive_log(
        &mut fleet,
        &mut Controller::new(),
        &mut sched,
        6 * DAY,
        &mut after,
    );
    let on = Observation::Commissioned {
        building: "B2".into(),
    };
    assert_eq!(commissioning(&after), vec![(5 * DAY, on)]);

    let mut sched = restored(&sc, &sched);
    let mut fleet = TwinFleet::resume(&sc, &opts, &sched).expect("resumes");
    let mut later = Log::new();
    drive_log(
        &mut fleet,
        &mut Controller::new(),
        &mut sched,
        7 * DAY,
        &mut later,
    );
    assert!(
        commissioning(&later).is_empty(),
        "{:?}",
        commissioning(&later)
    );
    // The jobs running at the restart (the frontier run, the services) run on.
    assert!(sched.running_count() > 0);
}

#[test]
fn a_fleet_does_not_resume_past_the_end_of_its_run() {
    let sc = quiet();
    let (mut fleet, mut sched) = TwinFleet::new_with(&sc, &days(1.0), Workload::Off).unwrap();
    drive_log(
        &mut fleet,
        &mut Controller::new(),
        &mut sched,
        DAY,
        &mut Log::new(),
    );
    assert_eq!(sched.now(), DAY);
    let e = TwinFleet::resume(&sc, &days(1.0), &sched)
        .err()
        .expect("refused");
    assert!(e.contains("not before the end"), "{e}");
    assert!(TwinFleet::resume(&sc, &days(2.0), &sched).is_ok());
}

/// With no failures to tell the runs apart, a resumed run finishes its
/// jobs (those running at the restart among them, their work so far
/// counted) when the uninterrupted run does.
#[test]
fn a_quiet_resumed_run_finishes_its_jobs_when_the_uninterrupted_run_does() {
    // Research at 16 x the trace's arrivals, so some run at the restart.
    let sc = common::load_variant(
        "small.toml",
        &[
            ("arrival_scale = 2.0", "arrival_scale = 16.0"),
            ("rate_scale = 20.0", "rate_scale = 0.0"),
            (
                "[failures]\n",
                "[grid]\ncurtail_in_4cp = false\n\n[failures]\n",
            ),
        ],
    );
    let opts = days(4.0);
    let mut running_then = 0;
    for t in [30_000, DAY + 777, 2 * DAY + 5] {
        let (mut fleet, mut sched) = TwinFleet::new(&sc, &opts).expect("fleet");
        let mut control = Controller::new();
        drive_log(&mut fleet, &mut control, &mut sched, t, &mut Log::new());
        let at_restart = restored(&sc, &sched);
        let mut uninterrupted = Log::new();
        drive_log(
            &mut fleet,
            &mut control,
            &mut sched,
            4 * DAY,
            &mut uninterrupted,
        );

        let mut sched = at_restart.clone();
        let mut fleet = TwinFleet::resume(&sc, &opts, &sched).expect("resumes");
        let mut after = Log::new();
        drive_log(
            &mut fleet,
            &mut Controller::new(),
            &mut sched,
            4 * DAY,
            &mut after,
        );
        running_then += exited(&after)
            .iter()
            .filter(|(_, id)| at_restart.job_state(*id) == Some(JobState::Running))
            .count();
        assert_eq!(exited(&after), exited(&uninterrupted), "restarted at {t}");
    }
    eprintln!("{running_then} jobs running at a restart exited");
    assert!(running_then > 0);
}

/// A fleet resumed with the scenario's workload over a scheduler that never
/// had it (a server that ran without one) makes none of the jobs that
/// would have arrived before the restart.
#[test]
fn a_resumed_workload_makes_no_arrivals_from_before_the_restart() {
    let sc = common::load("small.toml");
    let opts = days(4.0);
    let (mut fleet, mut sched) = TwinFleet::new_with(&sc, &opts, Workload::Off).expect("fleet");
    let t = DAY + 99;
    drive_log(
        &mut fleet,
        &mut Controller::new(),
        &mut sched,
        t,
        &mut Log::new(),
    );
    let mut sched = restored(&sc, &sched);
    let mut fleet = TwinFleet::resume(&sc, &opts, &sched).expect("resumes");
    let mut after = Log::new();
    drive_log(
        &mut fleet,
        &mut Controller::new(),
        &mut sched,
        3 * DAY,
        &mut after,
    );
    let came = arrivals(&after);
    assert!(!came.is_empty());
    assert!(came.iter().all(|(at, _)| *at > t), "{came:?}");
    // The frontier run and the services arrived at 0: never made.
    assert!(came.iter().all(|(_, id)| id.0 > 1), "{came:?}");
}
