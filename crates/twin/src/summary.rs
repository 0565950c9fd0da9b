//! From a finished run to its records and headline figures.

use std::collections::BTreeMap;

use crate::engine::{HOUR, Time};
use crate::job::{Kind, TwinJob};
use crate::metrics::{JobRecord, RunOutput, SizeBucket, Summary, TenantWaits};
use crate::name::Names;
use crate::sim::TwinFleet;

/// Job-size buckets for MTTF and ETTR, in GPUs.
const SIZES: [(u32, u32, &str); 5] = [
    (1, 8, "1-8"),
    (9, 1_024, "9-1,024"),
    (1_025, 16_384, "1,025-16,384"),
    (16_385, 65_536, "16,385-65,536"),
    (65_537, u32::MAX, "65,537+"),
];

/// The record of job `j`, at its end or, if it is still going, at the run's
/// `end` (its work so far counts).
pub(crate) fn record(j: &TwinJob, end: Time, names: &mut Names) -> JobRecord {
    // Close runs still going at the end: their work so far counts.
    let running_work = if j.state.running {
        j.run_work(end)
    } else {
        0.0
    };
    let wall_now = if j.state.running {
        end.saturating_sub(j.state.run_start) as f64
    } else {
        0.0
    };
    let held = j.stats.wall_s + wall_now;
    let slowdown_wall = j.stats.slowdown_wall + wall_now * j.state.slowdown;
    let kept = j.state.saved + running_work;
    let kept_gpu_s = j.stats.kept_gpu_s + j.open_gpu_s(end);
    let mean_slowdown = if held > 0.0 {
        slowdown_wall / held
    } else {
        1.0
    };
    // ETTR's denominator: first start to the end, waits included.
    let span = j
        .stats
        .first_start
        .map_or(0.0, |s| j.stats.end.unwrap_or(end).saturating_sub(s) as f64);
    // Productive time: the wall time the kept work took at its speed.
    let productive = if j.kind == Kind::Inference {
        held
    } else if kept.is_finite() {
        (kept * mean_slowdown).min(span)
    } else {
        0.0
    };
    JobRecord {
        id: j.spec.id.0,
        kind: names.get(j.kind.name()),
        tenant: names.get(&j.spec.project),
        gpus: j.spec.gpus,
        submitted_s: j.arrival,
        first_start_s: j.stats.first_start,
        end_s: j.stats.end,
        queue_wait_s: j.stats.first_start.map(|s| s - j.arrival),
        wall_s: span as u64,
        held_s: held as u64,
        productive_s: productive as u64,
        kept_gpu_s,
        interruptions: j.stats.interruptions,
        slowdown: mean_slowdown,
        buildings_spanned: j.stats.max_buildings,
        completed: j.stats.completed,
    }
}

pub(crate) fn finish(mut sim: TwinFleet<'_>, wall_seconds: f64) -> RunOutput {
    let end = sim.end_time();
    let records = sim.jobs.records(end);
    let hours = &sim.hourly;
    let online_gpu_h: f64 = hours.iter().map(|h| h.gpus_online as f64).sum();
    let busy_gpu_h: f64 = hours.iter().map(|h| h.gpus_busy).sum();
    // The goodput integral, from the jobs (the hourly rows sum to the same).
    let productive_gpu_h: f64 = records.iter().map(|r| r.kept_gpu_s).sum::<f64>() / 3600.0;
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    let trained: Vec<&JobRecord> = records
        .iter()
        .filter(|r| r.kind != "inference" && r.wall_s >= HOUR)
        .collect();
    let ettrs: Vec<f64> = trained.iter().filter_map(|r| r.ettr()).collect();
    let gpu_wall: f64 = trained
        .iter()
        .map(|r| r.wall_s as f64 * f64::from(r.gpus))
        .sum();
    let ettr_weighted = (gpu_wall > 0.0).then(|| {
        trained
            .iter()
            .map(|r| r.productive_s as f64 * f64::from(r.gpus))
            .sum::<f64>()
            / gpu_wall
    });
    let pues: Vec<f64> = hours
        .iter()
        .filter(|h| h.it_mw > 0.0)
        .map(|h| h.pue)
        .collect();
    let money = sim.period_money();
    let energy_cost: f64 = hours.iter().map(|h| h.energy_cost_usd).sum();
    let total_cost =
        energy_cost + money.capex_depreciation_usd + money.financing_usd + money.opex_usd;
    let summary = Summary {
        scenario: sim.scenario_name(),
        campus: sim.campus_name(),
        seed: sim.seed(),
        start: sim.start_date(),
        days: end as f64 / 86_400.0,
        traces: sim.traces.clone(),
        utilisation: ratio(busy_gpu_h, online_gpu_h),
        goodput: ratio(productive_gpu_h, online_gpu_h),
        ettr: ettr_weighted,
        ettr_mean: mean(&ettrs),
        interruptions: records.iter().map(|r| r.interruptions).sum(),
        failures: sim.failures_total,
        spare_exhaustions: sim.spare_exhaustions,
        by_size: by_size(&records),
        waits: waits(&records),
        energy_mwh: hours.iter().map(|h| h.facility_mw).sum(),
        peak_facility_mw: hours.iter().map(|h| h.facility_mw).fold(0.0, f64::max),
        peak_it_mw: hours.iter().map(|h| h.it_mw).fold(0.0, f64::max),
        pue_mean: mean(&pues).unwrap_or(0.0),
        pue_min: if pues.is_empty() {
            0.0
        } else {
            pues.iter().copied().fold(f64::INFINITY, f64::min)
        },
        pue_max: pues.iter().copied().fold(0.0, f64::max),
        grid_mwh: hours.iter().map(|h| h.grid_mw).sum(),
        gas_mwh: hours.iter().map(|h| h.gas_mw).sum(),
        energy_cost_usd: energy_cost,
        capex_depreciation_usd: money.capex_depreciation_usd,
        financing_usd: money.financing_usd,
        opex_usd: money.opex_usd,
        revenue_usd: hours.iter().map(|h| h.revenue_usd).sum(),
        cost_per_delivered_gpu_hour_usd: (productive_gpu_h > 0.0)
            .then(|| total_cost / productive_gpu_h),
        emissions_t: hours.iter().map(|h| h.emissions_t).sum(),
        four_cp_hours_curtailed: sim.four_cp_curtailed,
        mean_slowdown: {
            let w: f64 = records
                .iter()
                .map(|r| r.held_s as f64 * f64::from(r.gpus))
                .sum();
            let s: f64 = records
                .iter()
                .map(|r| r.held_s as f64 * f64::from(r.gpus) * r.slowdown)
                .sum();
            if w > 0.0 { s / w } else { 1.0 }
        },
        wall_seconds,
    };
    RunOutput {
        summary,
        hourly: std::mem::take(&mut sim.hourly),
        jobs: records,
    }
}

fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

fn by_size(records: &[JobRecord]) -> Vec<SizeBucket> {
    SIZES
        .iter()
        .map(|&(lo, hi, name)| {
            let in_bucket: Vec<&JobRecord> = records
                .iter()
                .filter(|r| r.kind != "inference" && (lo..=hi).contains(&r.gpus))
                .collect();
            let interruptions: u32 = in_bucket.iter().map(|r| r.interruptions).sum();
            // Hours of running: the time over which interruptions can happen.
            let job_hours: f64 = in_bucket.iter().map(|r| r.held_s as f64 / 3600.0).sum();
            let ettrs: Vec<f64> = in_bucket
                .iter()
                .filter(|r| r.wall_s >= HOUR)
                .filter_map(|r| r.ettr())
                .collect();
            SizeBucket {
                gpus: name.to_string(),
                jobs: in_bucket.len() as u32,
                interruptions,
                job_hours,
                mttf_hours: (interruptions > 0).then(|| job_hours / f64::from(interruptions)),
                ettr_mean: mean(&ettrs),
            }
        })
        .filter(|b| b.jobs > 0)
        .collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn waits(records: &[JobRecord]) -> Vec<TenantWaits> {
    let mut by: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for r in records {
        if let Some(w) = r.queue_wait_s {
            by.entry(r.tenant.as_str()).or_default().push(w as f64);
        }
    }
    by.into_iter()
        .map(|(tenant, mut w)| {
            w.sort_by(f64::total_cmp);
            TenantWaits {
                tenant: tenant.to_string(),
                jobs: w.len() as u32,
                p50_s: percentile(&w, 0.5),
                p90_s: percentile(&w, 0.9),
                p99_s: percentile(&w, 0.99),
            }
        })
        .collect()
}
