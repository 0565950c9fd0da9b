//! `abilene sched ...`: the scheduler on a campus.

use std::collections::BTreeMap;
use std::process::ExitCode;

use abilene_fixtures::workload::{GB200, busy_campus};
use abilene_scheduler::{Command, Event, JobId, JobSpec, Priority, Recovery};
use anyhow::Result;
use clap::Subcommand;

use crate::format::count;
use crate::out::outln;
use crate::presets::load_preset;

#[derive(Subcommand)]
pub enum SchedCommand {
    /// Crusoe -> Oracle -> OpenAI: a guaranteed 100,000-GPU run reclaims
    /// borrowed capacity, then survives a tray failure on a warm spare
    Demo {
        #[arg(long, default_value = "abilene")]
        preset: String,
        /// Seed of the background workload
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

pub fn run(cmd: SchedCommand) -> Result<ExitCode> {
    match cmd {
        SchedCommand::Demo { preset, seed } => demo(&preset, seed),
    }
}

fn demo(preset_name: &str, seed: u64) -> Result<ExitCode> {
    let campus = load_preset(preset_name)?;
    let gb200 = campus.gpu_count();
    outln!(
        "Campus `{preset_name}`: {} GPUs in {} buildings.",
        count(u64::from(gb200)),
        campus.buildings.len()
    );
    let (mut s, mut id) = busy_campus(&campus, 0.85, 2_000, seed)?;
    let b = s.usage("tenant-b", GB200).unwrap_or(0);
    let c = s.usage("tenant-c", GB200).unwrap_or(0);
    outln!(
        "Background: {} GPUs busy ({:.0}%), tenant-b using {} and tenant-c {} (each guaranteed {}), {} jobs pending.",
        count(s.busy_gpus()),
        100.0 * s.busy_gpus() as f64 / s.total_gpus() as f64,
        count(b),
        count(c),
        count(u64::from(gb200) / 8),
        count(s.pending_count() as u64),
    );
    let frontier = s.usage("frontier", GB200).unwrap_or(0);
    outln!(
        "OpenAI's frontier project uses {} of its guaranteed GPUs.\n",
        count(frontier)
    );

    id += 1;
    let run = JobId(id);
    let mut spec = JobSpec::training(id, "frontier", GB200, 100_000);
    spec.priority = Priority::Critical;
    spec.preemptible = false;
    spec.checkpoint_interval = 1800;
    spec.spare_trays = 36;
    spec.runtime_estimate = 30 * 24 * 3600;
    spec.runtime_limit = 60 * 24 * 3600;
    // The fill's clock: the scheduler's time never goes back.
    let now = s.now();
    let started = std::time::Instant::now();
    let out = s.step(now, [Command::Submit(spec)]);
    let (events, errors): (Vec<Event>, Vec<_>) = (
        out.events,
        out.results.into_iter().filter_map(Result::err).collect(),
    );
    let took = started.elapsed();
    anyhow::ensure!(errors.is_empty(), "submit refused: {errors:?}");
    // Victims by project, with the work they lose since their checkpoints.
    let mut preempted: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut placement = None;
    for e in &events {
        match e {
            Event::Preempted { job, lost_work, .. } => {
                let (project, gpus) = s.job_spec(*job).map_or(("?".to_string(), 0), |j| {
                    (j.project.clone(), u64::from(j.gpus))
                });
                let entry = preempted.entry(project).or_default();
                entry.0 += 1;
                entry.1 += lost_work * gpus;
            }
            Event::Started {
                job,
                placement: p,
                borrowed,
            } if *job == run => placement = Some((p.clone(), *borrowed)),
            _ => {}
        }
    }
    let Some((p, borrowed)) = placement else {
        outln!(
            "The 100,000-GPU run did not start: {:?}",
            s.pending_reason(run)
        );
        return Ok(ExitCode::FAILURE);
    };
    outln!("Submitted OpenAI's 100,000-GPU run (Critical, inside its guarantee) as the fill ends.");
    outln!(
        "  One scheduling pass, {:.1} ms, preempted:",
        took.as_secs_f64() * 1e3
    );
    for (project, (n, lost)) in &preempted {
        let why = match project.as_str() {
            "b-train" => "tenant-b, borrowed beyond its guarantee",
            "c-finetune" => "tenant-c, borrowed beyond its guarantee",
            _ => "OpenAI, borrowed from frontier or of a lower class",
        };
        outln!(
            "    {n:>4} jobs of {project:<10} ({why}): {} GPU-hours lost since their checkpoints; requeued first",
            count(*lost / 3600)
        );
    }
    let per_building = campus.buildings[0].gpus.len() as u64;
    outln!(
        "  Placed on {} GPUs: {} NVLink domains, {} leaf groups, {} buildings of {} GPUs each; {} warm spare trays; borrowed: {borrowed}.",
        count(u64::from(p.gpus)),
        count(u64::from(p.domains)),
        count(u64::from(p.leaf_groups)),
        p.buildings,
        count(per_building),
        p.spares.len()
    );
    outln!(
        "  tenant-b now uses {}, tenant-c {}; OpenAI frontier {}.",
        count(s.usage("tenant-b", GB200).unwrap_or(0)),
        count(s.usage("tenant-c", GB200).unwrap_or(0)),
        count(s.usage("frontier", GB200).unwrap_or(0)),
    );
    s.check_invariants()
        .map_err(|e| anyhow::anyhow!("invariant broken: {e}"))?;

    // Two hours and ten minutes in, a tray of the run fails.
    let failed = p.trays[p.trays.len() / 2].clone();
    let at = now + 2 * 3600 + 600;
    let events = s.step(at, [Command::TrayFailed { tray: failed }]).events;
    for e in &events {
        if let Event::Interrupted {
            job,
            tray,
            lost_work,
            recovery,
        } = e
            && *job == run
        {
            let how = match recovery {
                Recovery::Spare => "restarted on a warm spare from its last checkpoint",
                Recovery::Requeued => "requeued at the front",
                Recovery::ReplicaLost => "lost a replica",
            };
            outln!(
                "\n2h10m into the run tray {tray} failed: the run {how}, losing the {} minutes since its checkpoint at 2h00m.",
                lost_work / 60
            );
        }
    }
    outln!("  Spare trays left: {}.", s.job_spares(run).len());
    s.check_invariants()
        .map_err(|e| anyhow::anyhow!("invariant broken: {e}"))?;
    outln!("\nInvariants hold: no GPU given twice, gangs whole, quotas within limits.");
    Ok(ExitCode::SUCCESS)
}
