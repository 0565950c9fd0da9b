//! Alibaba openb 2023: the tasks and GPU nodes of one production cluster.

use std::collections::BTreeMap;

use abilene_model::spec::{
    BuildingSpec, CduSpec, CoolingSpec, FabricSpec, HallSpec, HeatRejectionSpec, PowerSpec,
    SiteSpec, SuperSpineSpec, SwitchTierSpec, TransformersSpec, UnitGroupSpec,
};
use abilene_model::{CampusSpec, Problem, SkuSpec};

use super::{OPENB_NODES, OPENB_NODES_FILE, OPENB_PODS, OPENB_PODS_FILE, read_rows};

/// One task (pod) of the openb trace. Times are seconds from trace start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenbPod {
    pub name: String,
    /// Whole GPUs asked for, 0 to 8 in the trace.
    pub num_gpu: u32,
    /// Share of one GPU in thousandths (0..=1000), meaningful for `num_gpu` 1.
    pub gpu_milli: u32,
    /// Required GPU model; empty for any (always empty in the shipped file).
    pub gpu_spec: String,
    /// LS, BE, Burstable or Guaranteed.
    pub qos: String,
    /// `pod_phase`: Running, Succeeded, Failed or Pending.
    pub phase: String,
    pub creation_s: u64,
    pub deletion_s: Option<u64>,
    /// `None` for tasks the cluster never placed (Pending).
    pub scheduled_s: Option<u64>,
}

/// One GPU node of the openb cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenbNode {
    pub sn: String,
    pub gpus: u32,
    /// GPU model: P100, T4, V100M16, V100M32, A10, or G2/G3 (anonymised).
    pub model: String,
}

/// Parses `openb_pod_list_default.csv` (columns found by name).
pub fn parse_openb_pods(file: &str, text: &str) -> Result<Vec<OpenbPod>, Problem> {
    const COLUMNS: &[&str] = &[
        "name",
        "num_gpu",
        "gpu_milli",
        "gpu_spec",
        "qos",
        "pod_phase",
        "creation_time",
        "deletion_time",
        "scheduled_time",
    ];
    read_rows(file, text, COLUMNS, |row| {
        let gpu_milli = row.u32("gpu_milli")?;
        if gpu_milli > 1000 {
            return Err(row.err(
                "gpu_milli",
                format!("{gpu_milli} is above 1000: the share of one GPU is in thousandths"),
            ));
        }
        Ok(OpenbPod {
            name: row.str("name").to_string(),
            num_gpu: row.u32("num_gpu")?,
            gpu_milli,
            gpu_spec: row.str("gpu_spec").to_string(),
            qos: row.str("qos").to_string(),
            phase: row.str("pod_phase").to_string(),
            creation_s: row.seconds("creation_time")?,
            deletion_s: row.opt_seconds("deletion_time")?,
            scheduled_s: row.opt_seconds("scheduled_time")?,
        })
    })
}

/// Parses `openb_node_list_gpu_node.csv` (columns `sn`, `gpu`, `model`).
pub fn parse_openb_nodes(file: &str, text: &str) -> Result<Vec<OpenbNode>, Problem> {
    read_rows(file, text, &["sn", "gpu", "model"], |row| {
        Ok(OpenbNode {
            sn: row.str("sn").to_string(),
            gpus: row.u32("gpu")?,
            model: row.str("model").to_string(),
        })
    })
}

/// The embedded openb tasks, parsed.
pub fn openb_pods() -> Result<Vec<OpenbPod>, Problem> {
    parse_openb_pods(OPENB_PODS_FILE, OPENB_PODS)
}

/// The embedded openb nodes, parsed.
pub fn openb_nodes() -> Result<Vec<OpenbNode>, Problem> {
    parse_openb_nodes(OPENB_NODES_FILE, OPENB_NODES)
}

/// A GPU job replayed from a trace.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceJob {
    pub name: String,
    /// Seconds from trace start.
    pub arrival_s: u64,
    pub runtime_s: u64,
    /// Whole GPUs: a fractional-GPU task counts as 1.
    pub gpus: u32,
    /// Share of each GPU the task used in the trace (0..=1); 1.0 for whole GPUs.
    pub gpu_share: f64,
    /// The wait the real cluster gave it (scheduled - created), for
    /// comparison; `None` if it was never placed.
    pub trace_wait_s: Option<u64>,
}

/// What [`openb_jobs_counted`] kept and left out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenbJobCounts {
    pub kept: usize,
    /// Of the kept jobs, those the cluster never placed (run time from
    /// creation).
    pub kept_unscheduled: usize,
    /// Tasks with `num_gpu` 0, left out.
    pub cpu_only: usize,
    /// GPU tasks without a deletion time, skipped: their run time is unknown.
    pub no_deletion: usize,
    /// GPU tasks deleted before they started, skipped as inconsistent.
    pub deleted_before_start: usize,
}

/// The openb tasks as GPU jobs to replay; see [`openb_jobs_counted`] for the
/// mapping.
pub fn openb_jobs(pods: &[OpenbPod]) -> Vec<TraceJob> {
    openb_jobs_counted(pods).0
}

/// The openb tasks as GPU jobs to replay, with what was left out.
///
/// How each task is mapped:
/// - **Which tasks:** only those with `num_gpu` of 1 or more. CPU-only tasks
///   (`num_gpu` 0) are left out.
/// - **Arrival:** `creation_time`, seconds from trace start.
/// - **Run time:** `deletion_time - scheduled_time`, the time the task held
///   its GPUs. Tasks the cluster never placed (Pending, no `scheduled_time`)
///   get `deletion_time - creation_time`, the time they stayed before being
///   deleted, taken as the run time they would have had: an assumption, as
///   the trace cannot say how long they would have run. Tasks with no
///   `deletion_time` are skipped (their run time is unknown), and so are
///   tasks deleted before they started.
/// - **GPUs:** `num_gpu` whole GPUs. A fractional task (`num_gpu` 1 with
///   `gpu_milli` below 1000) counts as 1 whole GPU and carries
///   `gpu_share = gpu_milli / 1000`; every other task has `gpu_share` 1.0
///   (as has `num_gpu` 1 with `gpu_milli` 0, which names no share).
/// - **Wait in the trace:** `scheduled_time - creation_time`, kept for
///   comparison with the replay; `None` for tasks never placed.
/// - **Not used:** CPU and memory requests, QoS, phase and `gpu_spec` (empty
///   for every task in the shipped file, so any GPU model would do).
/// - **Order:** by arrival, then name.
///
/// On the shipped file this keeps 7,064 of 8,152 tasks (6,989 of 1 GPU, 16
/// of 2, 15 of 4 and 44 of 8: 7,433 GPUs; 3,078 fractional; 861 never
/// placed), leaves out 1,088 CPU-only tasks and skips none; arrivals span
/// 0 to 12,901,761 s (149.3 days).
pub fn openb_jobs_counted(pods: &[OpenbPod]) -> (Vec<TraceJob>, OpenbJobCounts) {
    let mut counts = OpenbJobCounts::default();
    let mut jobs = Vec::with_capacity(pods.len());
    for p in pods {
        if p.num_gpu == 0 {
            counts.cpu_only += 1;
            continue;
        }
        let Some(deletion) = p.deletion_s else {
            counts.no_deletion += 1;
            continue;
        };
        let start = p.scheduled_s.unwrap_or(p.creation_s);
        let Some(runtime_s) = deletion.checked_sub(start) else {
            counts.deleted_before_start += 1;
            continue;
        };
        if p.scheduled_s.is_none() {
            counts.kept_unscheduled += 1;
        }
        let gpu_share = if p.num_gpu == 1 && (1..1000).contains(&p.gpu_milli) {
            f64::from(p.gpu_milli) / 1000.0
        } else {
            1.0
        };
        jobs.push(TraceJob {
            name: p.name.clone(),
            arrival_s: p.creation_s,
            runtime_s,
            gpus: p.num_gpu,
            gpu_share,
            trace_wait_s: p.scheduled_s.map(|s| s.saturating_sub(p.creation_s)),
        });
    }
    counts.kept = jobs.len();
    jobs.sort_by(|a, b| {
        a.arrival_s
            .cmp(&b.arrival_s)
            .then_with(|| a.name.cmp(&b.name))
    });
    (jobs, counts)
}

/// Compresses the time between arrivals by `factor`: 2.0 gives twice as many
/// arrivals per hour, 0.5 half as many. The earliest arrival stays where it
/// is and every other moves to `first + round((arrival - first) / factor)`,
/// so the result is deterministic, arrivals keep their order, and run times
/// and sizes are untouched. A `factor` that is not a finite number above 0
/// leaves the jobs as they are.
pub fn scale_arrivals(jobs: &mut [TraceJob], factor: f64) {
    if !(factor.is_finite() && factor > 0.0) {
        return;
    }
    let Some(first) = jobs.iter().map(|j| j.arrival_s).min() else {
        return;
    };
    for j in jobs {
        // `as` saturates, so an extreme factor cannot wrap.
        let offset = ((j.arrival_s - first) as f64 / factor).round() as u64;
        j.arrival_s = first.saturating_add(offset);
    }
}

/// The GPUs a trace job takes on a Blackwell campus whose trays hold
/// `gpus_per_tray` GPUs (4 on GB200/GB300 NVL72, 8 on HGX B200).
///
/// - **Count, not speed:** the trace's GPUs (P100, V100, T4, A10 and the
///   anonymised G2/G3 of 2023-era Alibaba) map 1:1 in number: a job that
///   used n of them gets n Blackwell GPUs. A Blackwell GPU is many times
///   faster, and trace run times are kept as they are, so the work is not
///   converted; the replay studies scheduling (queueing, placement,
///   fragmentation) under the trace's real arrival and size mix.
/// - **Shapes:** up to a tray, the count rounds up to the next power of two,
///   capped at the tray (1, 2, 4 on a 4-GPU tray: a 3-GPU job takes 4), so
///   small jobs pack a tray without leaving odd holes; above a tray it
///   rounds up to whole trays (a 6-GPU job takes two 4-GPU trays, 8), so no
///   tray is split between a multi-tray job and others.
/// - **Fractions:** a fractional-GPU task (`gpu_share` below 1) takes one
///   whole GPU: Blackwell GPUs are not shared here (no MIG or time-slicing
///   is modelled), so `gpu_share` is for reports only.
///
/// A job of 0 GPUs takes 0; a tray size of 0 counts as 1.
pub fn map_to_blackwell(job: &TraceJob, gpus_per_tray: u32) -> u32 {
    let tray = gpus_per_tray.max(1);
    match job.gpus {
        0 => 0,
        g if g <= tray => g.next_power_of_two().min(tray),
        g => g.div_ceil(tray).saturating_mul(tray),
    }
}

/// The key of the `[sku.*]` entry [`openb_campus_spec`] writes for nodes of
/// `model` with `gpus` GPUs, e.g. `openb-v100m16-x4`.
pub fn openb_sku_key(model: &str, gpus: u32) -> String {
    let slug: String = model
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let slug = if slug.is_empty() { "unknown" } else { &slug };
    format!("openb-{slug}-x{gpus}")
}

/// Host draw of a node besides its GPUs (CPUs, memory, fans), in kW: a
/// placeholder.
const HOST_KW: f64 = 0.6;

/// Rough per-GPU figures of a trace GPU model: (TDP W, dense 16-bit
/// PFLOPS, memory GB). Placeholders for the replay benchmark, rounded, not
/// sourced: P100, V100 and T4 have no BF16, so their FP16 figure stands in;
/// none has FP8. G2 and G3 are anonymised in the trace and get middling
/// guesses.
fn placeholder_gpu(model: &str) -> (f64, f64, f64) {
    let m = model.trim().to_ascii_uppercase();
    if m.starts_with("P100") {
        (250.0, 0.02, 16.0)
    } else if m.starts_with("V100") {
        (300.0, 0.125, if m.contains("32") { 32.0 } else { 16.0 })
    } else if m.starts_with("T4") {
        (70.0, 0.065, 16.0)
    } else if m.starts_with("A10") {
        (150.0, 0.125, 24.0)
    } else {
        (300.0, 0.1, 32.0)
    }
}

fn placeholder_sku(model: &str, gpus: u32) -> SkuSpec {
    let (tdp_w, bf16, hbm) = placeholder_gpu(model);
    let kw_max = f64::from(gpus) * tdp_w / 1000.0 + HOST_KW;
    SkuSpec {
        name: format!(
            "openb {model} node, {gpus} GPU{} (placeholder figures for trace replay)",
            if gpus == 1 { "" } else { "s" }
        ),
        gpu: model.to_string(),
        trays_per_rack: 1,
        gpus_per_tray: gpus,
        nvlink_domain_trays: 1,
        gpu_tdp_w: tdp_w,
        rack_kw_typical: kw_max * 0.7,
        rack_kw_max: kw_max,
        power_shelves: 0,
        // 1+1 redundant node PSUs, each able to carry the node.
        psus: 2,
        psu_kw: kw_max,
        liquid_cooled_share: 0.0,
        nics_per_gpu: 1,
        nic_gbps: 100,
        fp8_pflops: 0.0,
        bf16_pflops: bf16,
        hbm_gb: hbm,
    }
}

/// Most racks in one scalable unit of [`openb_campus_spec`].
pub const OPENB_RACKS_PER_UNIT: u32 = 32;

/// A campus of the openb cluster's GPU nodes, to replay the trace on its
/// own hardware.
///
/// Every node with GPUs is one tray alone in its own rack, so its NVLink
/// domain is the node. Nodes are grouped by (GPU model, GPUs per node), each
/// group a custom `[sku.openb-MODEL-xN]` (see [`openb_sku_key`]) laid out in
/// scalable units of up to [`OPENB_RACKS_PER_UNIT`] racks; all sit in one
/// hall of one building. Trays come in the order of the groups (model, then
/// GPUs per node), and within a group in file order. Nodes with 0 GPUs are
/// left out; with none left the spec does not validate.
///
/// Every power, cooling and performance figure (GPU TDPs, a 0.6 kW host per
/// node, air cooling, a hall sized at 1.2x its racks' maximum draw, a
/// design PUE of 1.4) is a rough placeholder for the replay benchmark, not
/// a published figure of Alibaba's cluster.
pub fn openb_campus_spec(nodes: &[OpenbNode]) -> CampusSpec {
    let mut groups: BTreeMap<(String, u32), u32> = BTreeMap::new();
    for n in nodes.iter().filter(|n| n.gpus > 0) {
        *groups
            .entry((n.model.trim().to_string(), n.gpus))
            .or_default() += 1;
    }
    let mut skus = BTreeMap::new();
    let mut units = Vec::new();
    let mut it_max_kw = 0.0;
    for ((model, gpus), racks) in &groups {
        let key = openb_sku_key(model, *gpus);
        let sku = placeholder_sku(model, *gpus);
        it_max_kw += f64::from(*racks) * sku.rack_kw_max;
        let (full, rest) = (racks / OPENB_RACKS_PER_UNIT, racks % OPENB_RACKS_PER_UNIT);
        if full > 0 {
            units.push(UnitGroupSpec {
                sku: key.clone(),
                count: full,
                racks_per_unit: OPENB_RACKS_PER_UNIT,
            });
        }
        if rest > 0 {
            units.push(UnitGroupSpec {
                sku: key.clone(),
                count: 1,
                racks_per_unit: rest,
            });
        }
        skus.insert(key, sku);
    }
    // Headroom over the racks' maximum draw, rounded up to 10 kW.
    let sized = |mw: f64| ((mw * 1.2 * 100.0).ceil() / 100.0).max(0.01);
    let (pue, pf) = (1.4, 0.95);
    let hall_mw = sized(it_max_kw / 1000.0);
    let tier = |oversubscription| SwitchTierSpec {
        radix: 64,
        oversubscription,
    };
    CampusSpec {
        site: SiteSpec {
            name: "Alibaba openb GPU cluster (trace replay)".to_string(),
            location: "unknown (anonymised in the trace)".to_string(),
            climate_file: None,
            grid_interconnect_mw: sized(it_max_kw / 1000.0 * pue),
            design_pue: pue,
            power_factor: pf,
            gas_turbines: None,
            battery: None,
        },
        fabric: FabricSpec {
            leaf: tier(1.0),
            spine: tier(1.0),
            super_spine: SuperSpineSpec { radix: 64 },
        },
        skus,
        hall_templates: BTreeMap::new(),
        buildings: vec![BuildingSpec {
            id: "OPENB".to_string(),
            phase: 1,
            commissioned: "2023-01-01".to_string(),
            halls: vec![HallSpec {
                id: "H1".to_string(),
                template: None,
                scalable_units: Some(units),
                cooling: Some(CoolingSpec {
                    // Air-cooled nodes: one nominal CDU, no liquid load.
                    cdu: CduSpec {
                        count: 1,
                        capacity_kw: 1.0,
                        redundant: 0,
                    },
                    facility_loop_mw: 0.0,
                    air_handlers_mw: hall_mw,
                    heat_rejection: HeatRejectionSpec {
                        dry_coolers: 0,
                        dry_cooler_mw: 0.0,
                        chillers_mw: hall_mw,
                        design_ambient_c: 35.0,
                    },
                }),
                power: Some(PowerSpec {
                    utility_feed_mw: hall_mw,
                    substation_mva: sized(hall_mw / pf),
                    switchgear_mva: sized(hall_mw / pf),
                    transformers: TransformersSpec {
                        count: 2,
                        mva_each: sized(hall_mw / pf),
                        redundant: 1,
                    },
                    ups_mw: None,
                }),
            }],
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n";

    #[test]
    fn embedded_pods_parse_with_the_readme_histogram() {
        let pods = openb_pods().unwrap();
        assert_eq!(pods.len(), 8152);
        let mut hist = BTreeMap::new();
        for p in &pods {
            *hist.entry(p.num_gpu).or_insert(0) += 1;
        }
        let want: BTreeMap<u32, i32> = [(0, 1088), (1, 6989), (2, 16), (4, 15), (8, 44)].into();
        assert_eq!(hist, want);
        let pending = pods.iter().filter(|p| p.scheduled_s.is_none()).count();
        assert_eq!(pending, 897);
        assert_eq!(pods[0].deletion_s, Some(12_537_496));
    }

    #[test]
    fn jobs_keep_gpu_tasks_in_arrival_order() {
        let (jobs, counts) = openb_jobs_counted(&openb_pods().unwrap());
        assert_eq!(
            counts,
            OpenbJobCounts {
                kept: 7064,
                kept_unscheduled: 861,
                cpu_only: 1088,
                no_deletion: 0,
                deleted_before_start: 0,
            }
        );
        assert_eq!(jobs.iter().map(|j| u64::from(j.gpus)).sum::<u64>(), 7433);
        assert_eq!(jobs.iter().filter(|j| j.gpu_share < 1.0).count(), 3078);
        assert!(
            jobs.windows(2)
                .all(|w| (w[0].arrival_s, &w[0].name) <= (w[1].arrival_s, &w[1].name))
        );
        assert_eq!(jobs[0].arrival_s, 0);
        assert_eq!(jobs.last().unwrap().arrival_s, 12_901_761);
        let mut waits: Vec<u64> = jobs.iter().filter_map(|j| j.trace_wait_s).collect();
        waits.sort_unstable();
        assert!(
            waits[waits.len() / 2] <= 5,
            "median wait {}",
            waits[waits.len() / 2]
        );
    }

    #[test]
    fn mapping_rules_on_small_input() {
        let text = format!(
            "{HEADER}a,1,1,1,460,,LS,Running,10,110,20\nb,1,1,0,0,,BE,Running,5,9,5\nc,1,1,2,1000,,BE,Pending,10,40,\nd,1,1,1,1000,,LS,Failed,3,,3\ne,1,1,1,0,,LS,Failed,30,20,25\n"
        );
        let pods = parse_openb_pods("t.csv", &text).unwrap();
        let (jobs, counts) = openb_jobs_counted(&pods);
        assert_eq!(counts.cpu_only, 1);
        assert_eq!(counts.no_deletion, 1);
        assert_eq!(counts.deleted_before_start, 1);
        assert_eq!(jobs.len(), 2);
        let a = &jobs[0];
        assert_eq!(
            (a.name.as_str(), a.runtime_s, a.gpus, a.trace_wait_s),
            ("a", 90, 1, Some(10))
        );
        assert!((a.gpu_share - 0.46).abs() < 1e-12);
        let c = &jobs[1];
        assert_eq!(
            (c.name.as_str(), c.runtime_s, c.gpus, c.trace_wait_s),
            ("c", 30, 2, None)
        );
        assert_eq!(c.gpu_share, 1.0);
    }

    #[test]
    fn bad_pod_rows_name_line_and_field() {
        let text =
            format!("{HEADER}a,1,1,1,460,,LS,Running,10,110,20\nb,1,1,one,0,,BE,Running,5,9,5\n");
        let e = parse_openb_pods("t.csv", &text).unwrap_err();
        assert_eq!(
            (e.file.as_str(), e.line, e.field.as_str()),
            ("t.csv", 3, "num_gpu")
        );
        assert!(e.message.contains("`one`"), "{}", e.message);
        let text = format!("{HEADER}a,1,1,1,1460,,LS,Running,10,110,20\n");
        let e = parse_openb_pods("t.csv", &text).unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (2, "gpu_milli"));
        let text = format!("{HEADER}a,1,1,1,460,,LS,Running,,110,20\n");
        let e = parse_openb_pods("t.csv", &text).unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (2, "creation_time"));
        let text = format!("{HEADER}a,1,1,1,460,,LS,Running,10,-4,20\n");
        let e = parse_openb_pods("t.csv", &text).unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (2, "deletion_time"));
    }

    #[test]
    fn arrivals_scale_deterministically() {
        let mut jobs = openb_jobs(&openb_pods().unwrap());
        let span = jobs.last().unwrap().arrival_s - jobs[0].arrival_s;
        let before = jobs.clone();
        scale_arrivals(&mut jobs, 2.0);
        let scaled = jobs.last().unwrap().arrival_s - jobs[0].arrival_s;
        assert!(scaled.abs_diff(span / 2) <= 1);
        assert!(jobs.windows(2).all(|w| w[0].arrival_s <= w[1].arrival_s));
        assert!(
            jobs.iter()
                .zip(&before)
                .all(|(a, b)| a.runtime_s == b.runtime_s)
        );
        let mut again = before.clone();
        scale_arrivals(&mut again, 2.0);
        assert_eq!(again, jobs);
        scale_arrivals(&mut again, f64::NAN);
        assert_eq!(again, jobs);
    }

    #[test]
    fn blackwell_shapes() {
        let job = |gpus| TraceJob {
            name: "j".into(),
            arrival_s: 0,
            runtime_s: 1,
            gpus,
            gpu_share: 0.5,
            trace_wait_s: None,
        };
        let on4: Vec<u32> = [0, 1, 2, 3, 4, 5, 8, 9]
            .map(|g| map_to_blackwell(&job(g), 4))
            .into();
        assert_eq!(on4, [0, 1, 2, 4, 4, 8, 8, 12]);
        let on8: Vec<u32> = [3, 5, 8, 12].map(|g| map_to_blackwell(&job(g), 8)).into();
        assert_eq!(on8, [4, 8, 8, 16]);
        assert_eq!(map_to_blackwell(&job(2), 0), 2);
    }

    #[test]
    fn campus_of_the_openb_nodes_builds_with_the_trace_gpus() {
        let nodes = openb_nodes().unwrap();
        assert_eq!(nodes.len(), 1213);
        let trace_gpus: u32 = nodes.iter().map(|n| n.gpus).sum();
        assert_eq!(trace_gpus, 6212);
        let spec = openb_campus_spec(&nodes);
        assert!(abilene_model::validate::validate(&spec).is_empty());
        let campus = abilene_model::Campus::build(spec).unwrap();
        let with_gpus = nodes.iter().filter(|n| n.gpus > 0).count();
        assert_eq!(campus.tray_count() as usize, with_gpus);
        assert!(campus.tray_count() <= 1213);
        assert_eq!(campus.gpu_count(), trace_gpus);
        assert_eq!(campus.domains as usize, with_gpus);
        assert!(campus.units.iter().all(|u| u.racks.len() <= 32));
        // Each group's trays carry the group's SKU.
        let mut want: BTreeMap<String, u32> = BTreeMap::new();
        for n in nodes.iter().filter(|n| n.gpus > 0) {
            *want.entry(openb_sku_key(&n.model, n.gpus)).or_default() += n.gpus;
        }
        let mut got: BTreeMap<String, u32> = BTreeMap::new();
        for t in &campus.trays {
            *got.entry(campus.catalog.key(t.sku).to_string())
                .or_default() += u32::from(t.gpus);
        }
        assert_eq!(got, want);
        // 0-GPU nodes are left out.
        let mut more = nodes.clone();
        more.push(OpenbNode {
            sn: "cpu".into(),
            gpus: 0,
            model: String::new(),
        });
        assert_eq!(openb_campus_spec(&more), openb_campus_spec(&nodes));
    }
}
