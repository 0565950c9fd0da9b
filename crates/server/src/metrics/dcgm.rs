//! Per-GPU telemetry of one rack, shaped like NVIDIA's dcgm-exporter
//! (control-plane.md §4): the same metric names, units and labels (gpu,
//! UUID, device, Hostname; `model_name` for its `modelName`, which
//! promtool's lint refuses), plus building/hall/rack/tray. A real
//! campus runs one exporter per node; here one endpoint per rack keeps a
//! scrape to 72 GPUs and the campus to 5,632 targets, listed for
//! Prometheus' file service discovery by [`targets`].
//!
//! The values follow the twin: a busy GPU draws its share of TDP (less
//! where its building is capped or short of cooling), a failed one draws
//! nothing and reports the XID its failure's cause leaves
//! (`abilene_twin::telemetry`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use abilene_model::{Campus, RackId, TrayId};
use abilene_scheduler::Time;
use abilene_scheduler::views::TrayCondition;
use abilene_twin::power::PowerSettings;
use abilene_twin::telemetry::{self, TrayLoad};
use prometheus_client::registry::Registry;
use serde::Serialize;

use super::campus::gauges;
use crate::engine::Engine;

/// One series: its labels and value.
type Series<'a> = (Vec<(&'a str, String)>, f64);

/// A tray's failure as the fleet reported it.
#[derive(Debug, Clone)]
struct Fault {
    cause: Arc<str>,
    at: Time,
}

/// What the server keeps to report GPUs: the fleet's failures (which the
/// scheduler, deciding by trays, does not keep), each GPU's energy counter
/// and the per-building shares of demand that caps and cooling allow.
#[derive(Debug)]
pub struct Telemetry {
    power: PowerSettings,
    faults: Mutex<HashMap<TrayId, Fault>>,
    energy: Mutex<Energy>,
    shares: Mutex<Shares>,
}

/// Energy since the server started, per GPU, integrated at each scrape of
/// the GPU's rack from the power it draws then (a sample-and-hold integral,
/// like any exporter that samples power). In campus time: a twin at 60x
/// burns an hour's energy in a minute. Starts at 0 with the process, as
/// DCGM's counter does with the driver ("since boot").
#[derive(Debug, Default)]
struct Energy {
    mj: Vec<f64>,
    /// Per tray, when its GPUs were last settled; None before the first.
    at: Vec<Option<Time>>,
}

#[derive(Debug, Default)]
struct Shares {
    seq: Option<u64>,
    by_building: Vec<f64>,
}

impl Telemetry {
    pub fn new(power: PowerSettings) -> Telemetry {
        Telemetry {
            power,
            faults: Mutex::new(HashMap::new()),
            energy: Mutex::new(Energy::default()),
            shares: Mutex::new(Shares::default()),
        }
    }

    /// The fleet reports `tray` down for `cause` at `at`.
    pub fn tray_down(&self, campus: &Campus, tray: &str, cause: &str, at: Time) {
        if let Ok(t) = campus.resolve_tray(tray) {
            lock(&self.faults).insert(
                t,
                Fault {
                    cause: cause.into(),
                    at,
                },
            );
        }
    }

    /// The fleet reports `tray` working again.
    pub fn tray_up(&self, campus: &Campus, tray: &str) {
        if let Ok(t) = campus.resolve_tray(tray) {
            lock(&self.faults).remove(&t);
        }
    }

    /// Share of its demand each building's GPUs may draw, as of `e`: below
    /// 1 where a power cap is under the projected draw, or where cooling
    /// cannot reject the heat (the twin throttles those racks). Worked out
    /// once per log record, not once per rack scraped.
    fn building_shares(&self, e: &Engine) -> Vec<f64> {
        let mut s = lock(&self.shares);
        if s.seq != Some(e.seq) {
            let rollup = e.sched.rollup();
            s.by_building = rollup
                .buildings
                .iter()
                .map(|b| {
                    let cap = match b.cap_kw {
                        Some(cap) if b.draw_kw > cap && b.draw_kw > 0.0 => cap / b.draw_kw,
                        _ => 1.0,
                    };
                    let cooling = e
                        .plant
                        .as_ref()
                        .and_then(|p| {
                            let short = p.shortfall_kw.iter().find(|(n, _)| *n == b.name)?.1;
                            let it: f64 = p
                                .halls
                                .iter()
                                .filter(|h| h.hall.split('/').next() == Some(b.name.as_str()))
                                .map(|h| h.it_kw)
                                .sum();
                            (it > 0.0).then(|| ((it - short) / it).clamp(0.0, 1.0))
                        })
                        .unwrap_or(1.0);
                    cap.min(cooling)
                })
                .collect();
            s.seq = Some(e.seq);
        }
        s.by_building.clone()
    }

    /// The rack's exposition, in the Prometheus text format.
    pub fn rack_metrics(&self, e: &Engine, rack: RackId) -> String {
        let campus = e.sched.campus();
        let r = &campus.racks[rack.0 as usize];
        let rack_name = campus.rack_name(rack);
        let Ok(view) = e.sched.rack(&rack_name) else {
            return String::new();
        };
        let shares = self.building_shares(e);
        let now = e.sched.now();
        let sku = campus.sku(r.sku);
        let model = format!("NVIDIA {}", sku.gpu);
        let hall_name = campus.hall_name(r.hall);
        let reading = e
            .plant
            .as_ref()
            .and_then(|p| p.halls.iter().find(|h| h.hall == hall_name));
        let return_c = reading.map_or(25.0, |h| h.coolant_return_c.max(h.coolant_c));
        let (building, hall) = {
            let mut parts = rack_name.split('/');
            (
                parts.next().unwrap_or_default().to_string(),
                parts.next().unwrap_or_default().to_string(),
            )
        };
        let rack_short = rack_name.rsplit('/').next().unwrap_or_default().to_string();
        let faults = lock(&self.faults).clone_for(r.trays.clone());
        let mut energy = lock(&self.energy);
        if energy.mj.len() != campus.gpu_tray.len() {
            energy.mj = vec![0.0; campus.gpu_tray.len()];
            energy.at = vec![None; campus.trays.len()];
        }
        let mut rows: [Vec<Series>; 8] = Default::default();
        for (t, tv) in r.trays.clone().zip(&view.trays) {
            let tray = &campus.trays[t as usize];
            let tray_name = &tv.name;
            let short = tray_name.rsplit('/').next().unwrap_or_default().to_string();
            let load = TrayLoad {
                busy_gpus: tv.busy_gpus,
                gpus: tv.gpus,
                down: tv.condition == TrayCondition::Down,
                cap_share: shares
                    .get(usize::from(tray.building.0))
                    .copied()
                    .unwrap_or(1.0),
            };
            let fault = faults.get(&TrayId(t)).filter(|_| load.down);
            let failed_gpu = fault.map(|f| telemetry::failed_gpu(tray_name, f.at, tv.gpus));
            let since = energy.at[t as usize].replace(now);
            for i in 0..u32::from(tray.gpus) {
                let g = telemetry::gpu_reading(
                    &self.power,
                    sku.gpu_tdp_w,
                    sku.hbm_gb,
                    load,
                    i,
                    return_c,
                );
                let gpu = tray.first_gpu.0 as usize + i as usize;
                if let Some(since) = since {
                    // Watts over campus seconds, in millijoules.
                    energy.mj[gpu] += g.power_w * now.saturating_sub(since) as f64 * 1000.0;
                }
                let xid = match (fault, failed_gpu) {
                    (Some(f), Some(fg)) if fg == i => telemetry::xid_for_cause(&f.cause),
                    _ => 0,
                };
                let labels = vec![
                    ("gpu", i.to_string()),
                    ("UUID", uuid(tray_name, i)),
                    ("device", format!("nvidia{i}")),
                    // dcgm-exporter's `modelName`, in the snake case
                    // promtool's lint demands (README: a relabel rule
                    // gives dashboards that want it the old name).
                    ("model_name", model.clone()),
                    ("Hostname", hostname(tray_name)),
                    ("building", building.clone()),
                    ("hall", hall.clone()),
                    ("rack", rack_short.clone()),
                    ("tray", short.clone()),
                ];
                for (k, v) in [
                    g.temp_c,
                    g.power_w,
                    energy.mj[gpu],
                    g.util_pct,
                    f64::from(xid),
                    g.fb_used_mib,
                    g.gr_engine_active,
                ]
                .into_iter()
                .enumerate()
                {
                    rows[k].push((labels.clone(), v));
                }
            }
        }
        drop(energy);
        let mut reg = Registry::default();
        let [temp, power, energy, util, xid, fb, gr, _] = rows;
        for (name, help, rows) in [
            ("DCGM_FI_DEV_GPU_TEMP", "GPU temperature (in C)", temp),
            ("DCGM_FI_DEV_POWER_USAGE", "Power draw (in W)", power),
            (
                "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
                // dcgm-exporter types it a counter without `_total`, which
                // promtool refuses; a gauge keeps the name dashboards use.
                "Total energy consumption since boot (in mJ)",
                energy,
            ),
            ("DCGM_FI_DEV_GPU_UTIL", "GPU utilization (in %)", util),
            (
                "DCGM_FI_DEV_XID_ERRORS",
                "Value of the last XID error encountered",
                xid,
            ),
            (
                "DCGM_FI_DEV_FB_USED",
                "Framebuffer memory used (in MiB)",
                fb,
            ),
            (
                "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
                "Ratio of time the graphics engine is active",
                gr,
            ),
        ] {
            gauges(&mut reg, name, help, rows);
        }
        super::encode(&reg)
    }
}

trait CloneFor {
    fn clone_for(&self, trays: std::ops::Range<u32>) -> HashMap<TrayId, Fault>;
}

impl CloneFor for HashMap<TrayId, Fault> {
    /// The faults of the trays in `trays` only: the lock is held for a
    /// rack's 18 lookups, not for the encoding.
    fn clone_for(&self, trays: std::ops::Range<u32>) -> HashMap<TrayId, Fault> {
        trays
            .filter_map(|t| self.get(&TrayId(t)).map(|f| (TrayId(t), f.clone())))
            .collect()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A node's host name, as DCGM reports it: the tray's stable name.
fn hostname(tray: &str) -> String {
    tray.replace('/', "-").to_ascii_lowercase()
}

/// A GPU's UUID, stable across restarts: from its tray's name and index
/// (FNV-1a, 128 bits in two halves), in NVIDIA's `GPU-8-4-4-4-12` form.
fn uuid(tray: &str, gpu: u32) -> String {
    let half = |seed: u64| {
        let mut h = seed;
        for b in tray.bytes().chain(gpu.to_le_bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h
    };
    let (a, b) = (half(0xcbf2_9ce4_8422_2325), half(0x8422_2325_cbf2_9ce4));
    format!(
        "GPU-{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

/// One target group of a file-SD document: the server's address, the
/// rack's metrics path, and labels.
#[derive(Debug, Serialize)]
pub struct TargetGroup {
    pub targets: Vec<String>,
    pub labels: std::collections::BTreeMap<String, String>,
}

/// The file service-discovery document for every rack of `campus` (of
/// `building` only, if given, to shard scrapes over several Prometheus
/// servers), each a target at `address` with its own `__metrics_path__`.
pub fn targets(campus: &Campus, address: &str, building: Option<&str>) -> Vec<TargetGroup> {
    (0..campus.racks.len())
        .filter_map(|r| {
            let name = campus.rack_name(RackId(r as u32));
            let mut parts = name.split('/');
            let (b, h, k) = (parts.next()?, parts.next()?, parts.next()?);
            if building.is_some_and(|want| want != b) {
                return None;
            }
            let labels = [
                (
                    "__metrics_path__",
                    format!("/fleet/racks/{b}/{h}/{k}/metrics"),
                ),
                ("building", b.to_string()),
                ("hall", h.to_string()),
                ("rack", k.to_string()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
            Some(TargetGroup {
                targets: vec![address.to_string()],
                labels,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_stable_distinct_and_shaped_like_nvidias() {
        let a = uuid("B1/H1/R0001/T01", 0);
        assert_eq!(a, uuid("B1/H1/R0001/T01", 0));
        assert_ne!(a, uuid("B1/H1/R0001/T01", 1));
        assert_ne!(a, uuid("B1/H1/R0001/T02", 0));
        assert_eq!(a.len(), 40, "{a}");
        assert!(a.starts_with("GPU-"));
        assert_eq!(a.matches('-').count(), 5);
    }

    #[test]
    fn hostnames_are_the_tray_names() {
        assert_eq!(hostname("B1/H1/R0001/T01"), "b1-h1-r0001-t01");
    }
}
