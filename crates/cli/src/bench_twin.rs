//! `abilene bench twin`: the twin's targets, measured on this machine.

use std::process::ExitCode;
use std::time::Instant;

use abilene_twin::run::run;
use abilene_twin::scenario::{Scenario, openb_replay};
use abilene_twin::sim::RunOptions;
use anyhow::Result;

use crate::bench::peak_rss_mb;
use crate::out::outln;

/// Issue 4's targets, seconds of wall time.
const MONTH_TARGET_S: f64 = 10.0;
const YEAR_TARGET_S: f64 = 120.0;
const REPLAY_TARGET_S: f64 = 1.0;
const MEMORY_TARGET_MB: f64 = 2048.0;

pub fn run_bench(quick: bool) -> Result<ExitCode> {
    let full = crate::sim_cmd::abilene_30d()?;
    let mut all_met = true;
    // (name, days measured, days the target is for, target seconds)
    let spans = [
        ("month", if quick { 3.0 } else { 30.0 }, 30, MONTH_TARGET_S),
        ("year", if quick { 10.0 } else { 365.0 }, 365, YEAR_TARGET_S),
    ];
    for (name, days, target_days, target_s) in spans {
        let (secs, out) = timed(&full, days)?;
        let met = quick || secs <= target_s;
        all_met &= met;
        outln!(
            "twin.{name} scenario=abilene-30d days={days}: {secs:.2} s wall ({:.0} simulated days/s; {} failures, {} jobs) (target {target_days} days <= {target_s} s) {}",
            days / secs.max(1e-9),
            out.0,
            out.1,
            verdict(met, quick)
        );
    }
    let replay = openb_replay().map_err(anyhow::Error::msg)?;
    let (secs, out) = timed(&replay, replay.spec.days)?;
    let met = secs <= REPLAY_TARGET_S;
    all_met &= met;
    outln!(
        "twin.openb_replay on its 1,213-node cluster, {} days: {secs:.3} s wall ({} jobs) (target <= {REPLAY_TARGET_S} s) {}",
        replay.spec.days,
        out.1,
        verdict(met, false)
    );
    match peak_rss_mb() {
        Some(mb) => {
            let met = mb <= MEMORY_TARGET_MB;
            all_met &= met;
            outln!(
                "twin.peak_rss: {mb:.0} MB for this whole process (target <= {MEMORY_TARGET_MB} MB) {}",
                verdict(met, false)
            );
        }
        None => outln!("twin.peak_rss: unavailable (needs /proc/self/status)"),
    }
    outln!(
        "twin.summary: {}",
        if all_met {
            "all targets met"
        } else {
            "some targets MISSED"
        }
    );
    Ok(crate::bench::exit_code(all_met))
}

fn verdict(met: bool, quick: bool) -> &'static str {
    match (quick, met) {
        (true, _) => "[quick: target not checked]",
        (false, true) => "[met]",
        (false, false) => "[MISSED]",
    }
}

/// Wall seconds to simulate `days`, and (failures, jobs) for the record.
fn timed(sc: &Scenario, days: f64) -> Result<(f64, (u32, usize))> {
    let t = Instant::now();
    let out = run(
        sc,
        &RunOptions {
            days: Some(days),
            seed: None,
        },
        &mut |_, _| {},
    )
    .map_err(anyhow::Error::msg)?;
    Ok((
        t.elapsed().as_secs_f64(),
        (out.summary.failures, out.jobs.len()),
    ))
}
