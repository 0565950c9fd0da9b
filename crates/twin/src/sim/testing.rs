//! Helpers for the fleet's unit tests: scenarios edited from `small.toml`,
//! and a drive loop that records what the fleet reports.

use std::path::Path;

use abilene_control::{Controller, Fleet, Observation};
use abilene_scheduler::{Command, Event, Scheduler};

use super::TwinFleet;
use crate::engine::Time;
use crate::scenario::Scenario;

/// `scenarios/small.toml` with each `(from, to)` replaced once and `extra`
/// appended.
pub(super) fn small(edits: &[(&str, &str)], extra: &str) -> Scenario {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let mut text = std::fs::read_to_string(dir.join("small.toml")).expect("small.toml");
    for (from, to) in edits {
        assert!(text.contains(from), "small.toml has no `{from}`");
        text = text.replacen(from, to, 1);
    }
    text.push_str(extra);
    Scenario::load("small (edited)", &text, &dir).unwrap_or_else(|e| panic!("{e}"))
}

/// The tiny campus with no failures and no 4CP curtailment, so a job's
/// run depends on what the test does only.
pub(super) fn quiet() -> Scenario {
    small(
        &[("rate_scale = 20.0", "rate_scale = 0.0")],
        "\n[grid]\ncurtail_in_4cp = false\n",
    )
}

/// Drives to `until` as `abilene_control::drive` does, keeping every
/// report with its time and checking the scheduler after every step.
pub(super) fn drive_log(
    fleet: &mut TwinFleet<'_>,
    control: &mut Controller,
    sched: &mut Scheduler,
    until: Time,
    log: &mut Vec<(Time, Observation)>,
) {
    while let Some((now, observations)) = fleet.poll(until, sched) {
        let commands = control.commands(&observations, sched);
        log.extend(observations.into_iter().map(|o| (now, o)));
        let out = sched.step(now, commands);
        assert!(out.results.iter().all(Result::is_ok), "{:?}", out.results);
        sched.check_invariants().expect("scheduler invariants");
        fleet.hear(now, &out.events);
    }
}

/// A command from outside the fleet (a user's, an operator's) at `now`;
/// the fleet hears its events. Returns them.
pub(super) fn command(
    fleet: &mut TwinFleet<'_>,
    sched: &mut Scheduler,
    now: Time,
    c: Command,
) -> Vec<Event> {
    let out = sched.step(now, [c]);
    assert!(out.results.iter().all(Result::is_ok), "{:?}", out.results);
    fleet.hear(now, &out.events);
    out.events
}
