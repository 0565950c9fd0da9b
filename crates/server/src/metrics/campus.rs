//! The campus's figures, read from the engine at scrape time: jobs by
//! state and tenant, GPUs and trays by state per building, pending jobs by
//! reason, and the plant (power, cooling, supply, price) per hall and
//! building as the fleet last reported it.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;

use abilene_scheduler::views::{JobFilter, MAX_PAGE};
use abilene_scheduler::{JobState, PendingReason};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::engine::Engine;

type Labels = Vec<(String, String)>;

/// Jobs walked at most per scrape: the queue and the running set are
/// bounded by the scheduler (a few hundred thousand at most), so this is a
/// backstop, not a limit met in practice.
const MAX_JOBS_WALKED: usize = 2_000_000;

/// Adds a gauge family `name` with one series per row.
pub fn gauges<'a>(
    r: &mut Registry,
    name: &str,
    help: &str,
    rows: impl IntoIterator<Item = (Vec<(&'a str, String)>, f64)>,
) {
    let f: Family<Labels, Gauge<f64, AtomicU64>> = Family::default();
    for (labels, v) in rows {
        let labels: Labels = labels
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        f.get_or_create(&labels).set(v);
    }
    r.register(name, help, f);
}

/// One gauge without labels.
pub fn gauge(r: &mut Registry, name: &str, help: &str, v: f64) {
    gauges(r, name, help, [(Vec::new(), v)]);
}

fn reason_label(r: Option<&PendingReason>) -> &'static str {
    match r {
        Some(PendingReason::Quota { .. }) => "quota",
        Some(PendingReason::Resources) => "resources",
        Some(PendingReason::Priority { .. }) => "priority",
        Some(PendingReason::PowerCap) => "power_cap",
        Some(PendingReason::Reservation { .. }) => "reservation",
        Some(PendingReason::QueueDepth) => "queue_depth",
        None => "not_yet_considered",
    }
}

/// What the campus figures need besides the engine.
pub struct Context {
    /// Campus seconds per wall second.
    pub speed: f64,
    pub snapshot_age_s: Option<f64>,
}

/// Registers the campus's figures as of `e` in `r`.
pub fn register(r: &mut Registry, e: &Engine, cx: &Context) {
    jobs(r, e);
    gpus(r, e);
    plant(r, e);
    gauge(
        r,
        "abilene_campus_time_seconds",
        "Campus seconds since the start of the scenario (the clock the scheduler runs on)",
        e.sched.now() as f64,
    );
    gauge(
        r,
        "abilene_twin_speed_ratio",
        "Campus seconds per wall second of the twin fleet (1 in real time)",
        cx.speed,
    );
    gauge(
        r,
        "abilene_log_position",
        "The last command-log record applied to the state",
        e.seq as f64,
    );
    if let Some(age) = cx.snapshot_age_s {
        gauge(
            r,
            "abilene_snapshot_age_seconds",
            "Wall seconds since this process last wrote a snapshot of the state",
            age,
        );
    }
}

fn jobs(r: &mut Registry, e: &Engine) {
    let mut by_state: BTreeMap<(&'static str, String), u64> = BTreeMap::new();
    let mut pending: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut after = None;
    let mut walked = 0;
    while walked < MAX_JOBS_WALKED {
        let Ok(page) = e.sched.list_jobs(&JobFilter::default(), after, MAX_PAGE) else {
            break;
        };
        walked += page.jobs.len();
        for j in &page.jobs {
            let state = match j.state {
                JobState::Pending => "pending",
                JobState::Running => "running",
                JobState::Done => continue,
            };
            *by_state.entry((state, j.project.clone())).or_default() += 1;
            if j.state == JobState::Pending {
                *pending
                    .entry(reason_label(e.sched.pending_reason(j.id)))
                    .or_default() += 1;
            }
        }
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    gauges(
        r,
        "abilene_jobs",
        "Live jobs by state and tenant (the project they run for)",
        by_state.into_iter().map(|((state, tenant), n)| {
            (
                vec![("state", state.to_string()), ("tenant", tenant)],
                n as f64,
            )
        }),
    );
    gauges(
        r,
        "abilene_pending_jobs",
        "Pending jobs by why they wait",
        pending
            .into_iter()
            .map(|(reason, n)| (vec![("reason", reason.to_string())], n as f64)),
    );
    gauge(
        r,
        "abilene_jobs_finished",
        "Finished jobs the server remembers",
        e.finished_count() as f64,
    );
}

fn gpus(r: &mut Registry, e: &Engine) {
    let rollup = e.sched.rollup();
    let mut gpus = Vec::new();
    let mut trays = Vec::new();
    let mut draw = Vec::new();
    let mut caps = Vec::new();
    for b in &rollup.buildings {
        let at = |state: &str| vec![("building", b.name.clone()), ("state", state.to_string())];
        let unavailable = b.gpus.saturating_sub(b.busy_gpus + b.free_gpus);
        gpus.push((at("busy"), b.busy_gpus as f64));
        gpus.push((at("free"), b.free_gpus as f64));
        gpus.push((at("unavailable"), unavailable as f64));
        let plain = b
            .trays
            .saturating_sub(b.trays_down + b.trays_drained + b.trays_quarantined);
        trays.push((at("down"), b.trays_down as f64));
        trays.push((at("drained"), b.trays_drained as f64));
        trays.push((at("quarantined"), b.trays_quarantined as f64));
        trays.push((at("up"), plain as f64));
        draw.push((vec![("building", b.name.clone())], b.draw_kw * 1000.0));
        if let Some(cap) = b.cap_kw {
            caps.push((vec![("building", b.name.clone())], cap * 1000.0));
        }
    }
    gauge(
        r,
        "abilene_campus_gpus",
        "GPUs of the campus, online or not",
        rollup.campus.gpus as f64,
    );
    gauges(
        r,
        "abilene_gpus",
        "GPUs by building and state: busy (held by a job), free, unavailable (down, drained, quarantined or reserved)",
        gpus,
    );
    gauges(
        r,
        "abilene_trays",
        "Compute trays by building and state; a drained tray that is also down counts in both",
        trays,
    );
    gauges(
        r,
        "abilene_scheduled_power_watts",
        "Draw the scheduler projects per building: idle trays plus running jobs",
        draw,
    );
    gauges(
        r,
        "abilene_power_cap_watts",
        "Power cap per building, where one is set",
        caps,
    );
    if let Some(cap) = rollup.campus.cap_kw {
        gauge(
            r,
            "abilene_campus_power_cap_watts",
            "The campus's power cap",
            cap * 1000.0,
        );
    }
}

fn plant(r: &mut Registry, e: &Engine) {
    let Some(p) = &e.plant else { return };
    let hall_at = |hall: &str| {
        let building = hall.split('/').next().unwrap_or(hall).to_string();
        vec![("building", building), ("hall", hall.to_string())]
    };
    let per_hall = |f: &dyn Fn(&abilene_control::HallReading) -> f64| {
        p.halls
            .iter()
            .map(|h| (hall_at(&h.hall), f(h)))
            .collect::<Vec<_>>()
    };
    gauges(
        r,
        "abilene_hall_it_power_watts",
        "IT power drawn per hall",
        per_hall(&|h| h.it_kw * 1000.0),
    );
    gauges(
        r,
        "abilene_hall_cooling_power_watts",
        "Cooling and other facility power besides IT, per hall",
        per_hall(&|h| h.cooling_kw * 1000.0),
    );
    gauges(
        r,
        "abilene_hall_facility_power_watts",
        "IT plus cooling and facility power, per hall",
        per_hall(&|h| (h.it_kw + h.cooling_kw) * 1000.0),
    );
    gauges(
        r,
        "abilene_coolant_supply_celsius",
        "Coolant supplied to the racks by the CDUs, per hall",
        per_hall(&|h| h.coolant_c),
    );
    gauges(
        r,
        "abilene_coolant_return_celsius",
        "Coolant back from the racks, per hall",
        per_hall(&|h| h.coolant_return_c),
    );
    gauges(
        r,
        "abilene_cdu_load_ratio",
        "Liquid heat over what the hall's CDUs carry at N (above 1: short of cooling)",
        per_hall(&|h| h.cdu_load),
    );
    gauges(
        r,
        "abilene_rack_inlet_celsius",
        "Air at the rack inlets, per hall",
        per_hall(&|h| h.inlet_c),
    );
    let mut buildings: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for h in &p.halls {
        let b = h.hall.split('/').next().unwrap_or(&h.hall).to_string();
        let v = buildings.entry(b).or_default();
        v.0 += h.it_kw * 1000.0;
        v.1 += (h.it_kw + h.cooling_kw) * 1000.0;
    }
    gauges(
        r,
        "abilene_building_it_power_watts",
        "IT power drawn per building",
        buildings
            .iter()
            .map(|(b, v)| (vec![("building", b.clone())], v.0)),
    );
    gauges(
        r,
        "abilene_building_facility_power_watts",
        "IT plus cooling and facility power, per building",
        buildings
            .iter()
            .map(|(b, v)| (vec![("building", b.clone())], v.1)),
    );
    let shortfall: Vec<_> = p
        .shortfall_kw
        .iter()
        .map(|(b, kw)| (vec![("building", b.clone())], kw * 1000.0))
        .collect();
    gauges(
        r,
        "abilene_cooling_shortfall_watts",
        "IT heat each building's cooling cannot reject at this load (only buildings short of cooling)",
        shortfall,
    );
    gauge(
        r,
        "abilene_it_power_watts",
        "IT power of the campus",
        p.it_kw * 1000.0,
    );
    gauge(
        r,
        "abilene_facility_power_watts",
        "Facility power of the campus: IT plus cooling, losses and auxiliaries",
        p.facility_kw * 1000.0,
    );
    if p.it_kw > 0.0 {
        gauge(
            r,
            "abilene_pue_ratio",
            "Power usage effectiveness: facility power over IT power",
            p.facility_kw / p.it_kw,
        );
    }
    let s = &p.supply;
    for (name, help, v) in [
        (
            "abilene_grid_power_watts",
            "Import from the grid (ERCOT), including what charges the battery",
            s.grid_mw * 1e6,
        ),
        (
            "abilene_gas_power_watts",
            "On-site gas turbines' output",
            s.gas_mw * 1e6,
        ),
        (
            "abilene_battery_power_watts",
            "Battery output: positive discharging, negative charging",
            s.battery_mw * 1e6,
        ),
        (
            "abilene_battery_charge_joules",
            "Energy stored in the battery",
            s.battery_soc_mwh * 3.6e9,
        ),
        (
            "abilene_curtailed_power_watts",
            "Demand no source could meet",
            s.curtailed_mw * 1e6,
        ),
        (
            "abilene_own_generation_capacity_watts",
            "What on-site gas turbines and the battery can carry",
            p.own_generation_mw * 1e6,
        ),
        (
            "abilene_energy_price_dollars_per_joule",
            "The hour's wholesale energy price",
            s.price_usd_per_mwh / 3.6e9,
        ),
        ("abilene_ambient_celsius", "Outside air", s.ambient_c),
        (
            "abilene_four_cp",
            "1 when the coming hour is a likely ERCOT 4CP peak interval the site curtails in",
            if p.four_cp { 1.0 } else { 0.0 },
        ),
    ] {
        gauge(r, name, help, v);
    }
}
