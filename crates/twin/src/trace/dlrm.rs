//! Alibaba DLRM 2025: long-running recommendation-model inference instances.

use std::collections::BTreeMap;

use abilene_model::Problem;

use super::{DLRM_INSTANCES, DLRM_INSTANCES_FILE, read_rows};

/// One instance of the DLRM trace. Times are seconds from trace start,
/// rounded to the second; `None` when outside the trace's window.
#[derive(Debug, Clone, PartialEq)]
pub struct DlrmInstance {
    pub sn: String,
    /// `CN` (CPU node) or `HN` (GPU node).
    pub role: String,
    pub app: String,
    pub gpu_request: f64,
    pub creation_s: Option<u64>,
    pub scheduled_s: Option<u64>,
    pub deletion_s: Option<u64>,
}

impl DlrmInstance {
    /// An instance on a GPU node (`HN`).
    pub fn is_gpu(&self) -> bool {
        self.role == "HN"
    }
}

/// Parses `disaggregated_DLRM_trace.csv` (columns `instance_sn`, `role`,
/// `app_name`, `gpu_request`, `creation_time`, `scheduled_time`,
/// `deletion_time`, found by name).
pub fn parse_dlrm_instances(file: &str, text: &str) -> Result<Vec<DlrmInstance>, Problem> {
    const COLUMNS: &[&str] = &[
        "instance_sn",
        "role",
        "app_name",
        "gpu_request",
        "creation_time",
        "scheduled_time",
        "deletion_time",
    ];
    read_rows(file, text, COLUMNS, |row| {
        let role = row.str("role");
        if role != "CN" && role != "HN" {
            return Err(row.err(
                "role",
                format!("`{role}` is not a role: expected CN (CPU node) or HN (GPU node)"),
            ));
        }
        Ok(DlrmInstance {
            sn: row.str("instance_sn").to_string(),
            role: role.to_string(),
            app: row.str("app_name").to_string(),
            gpu_request: row.f64("gpu_request")?,
            creation_s: row.opt_seconds("creation_time")?,
            scheduled_s: row.opt_seconds("scheduled_time")?,
            deletion_s: row.opt_seconds("deletion_time")?,
        })
    })
}

/// The embedded DLRM instances, parsed.
pub fn dlrm_instances() -> Result<Vec<DlrmInstance>, Problem> {
    parse_dlrm_instances(DLRM_INSTANCES_FILE, DLRM_INSTANCES)
}

/// The hour of day at trace time 0, assumed: the trace does not say. With
/// midnight, the trace's creations and deletions of instances are fewest
/// from 02:00 to 10:00 and most from 10:00 to 20:00, as working-hours
/// deployments would be; a plausibility check, not proof.
pub const DLRM_TRACE_START_HOUR: u64 = 0;

/// The end of the trace's window: its latest time of any kind (2,677,541 s,
/// 31.0 days, on the shipped file); 0 for no times.
pub fn dlrm_window_end(instances: &[DlrmInstance]) -> u64 {
    instances
        .iter()
        .flat_map(|i| [i.creation_s, i.scheduled_s, i.deletion_s])
        .flatten()
        .max()
        .unwrap_or(0)
}

/// When an instance held its node within `[0, end)`: from its scheduled time
/// (else creation, else trace start: it was already running) to its deletion
/// (else `end`: it outlived the window). `None` if that is empty.
fn live(i: &DlrmInstance, end: u64) -> Option<(u64, u64)> {
    let from = i.scheduled_s.or(i.creation_s).unwrap_or(0);
    let to = i.deletion_s.unwrap_or(end);
    (to > from).then_some((from, to))
}

/// Adds the seconds of `[from, to)` that fall in each hour of day.
fn add_by_hour(acc: &mut [f64; 24], from: u64, to: u64) {
    if to <= from {
        return;
    }
    let days = (to - from) / 86_400;
    for a in acc.iter_mut() {
        *a += days as f64 * 3600.0;
    }
    let mut t = from + days * 86_400;
    while t < to {
        let hour = t / 3600;
        let next = to.min((hour + 1) * 3600);
        acc[((hour + DLRM_TRACE_START_HOUR) % 24) as usize] += (next - t) as f64;
        t = next;
    }
}

/// Deployment activity of GPU (HN) instances by hour of day, mean 1.0: how
/// many were created or deleted in each hour, as a share of the mean hour.
/// The live-instance count ([`dlrm_daily_cycle`]) is flat over the day in this
/// trace, but creations and deletions follow it (fewest 02:00-10:00, most
/// 10:00-20:00), as autoscaling follows load; the twin takes this as the
/// shape of the daily inference load. Time 0 is midnight
/// ([`DLRM_TRACE_START_HOUR`]).
pub fn dlrm_activity_cycle(instances: &[DlrmInstance]) -> [f64; 24] {
    let mut count = [0.0; 24];
    for i in instances.iter().filter(|i| i.is_gpu()) {
        for t in [i.creation_s, i.deletion_s].into_iter().flatten() {
            count[((t / 3600 + DLRM_TRACE_START_HOUR) % 24) as usize] += 1.0;
        }
    }
    let mean = count.iter().sum::<f64>() / 24.0;
    if mean > 0.0 && mean.is_finite() {
        count.map(|c| c / mean)
    } else {
        [1.0; 24]
    }
}

/// The number of live GPU (`HN`) instances by hour of day, relative to its
/// mean (the 24 values average 1.0).
///
/// An instance is live from its scheduled time (else its creation, else
/// trace start: it was already running) to its deletion (else the end of
/// the window, [`dlrm_window_end`]: it outlived it); empty intervals are
/// left out. Hour `h` is the average count over every second of the window
/// that falls in hour `h` of the day, with time 0 taken as midnight
/// ([`DLRM_TRACE_START_HOUR`]). Without any live GPU instance, every hour is
/// 1.0.
///
/// On the shipped file the cycle is nearly flat (0.998 at 00:00 to 1.002 at
/// 19:00): these services hold their 3,100 to 3,200 GPU instances around
/// the clock, and the
/// instance count shows no diurnal scale-in. Deployments do follow the day
/// (see [`DLRM_TRACE_START_HOUR`]), but load per instance is not in the
/// trace.
pub fn dlrm_daily_cycle(instances: &[DlrmInstance]) -> [f64; 24] {
    let end = dlrm_window_end(instances);
    let mut busy = [0.0; 24];
    for i in instances.iter().filter(|i| i.is_gpu()) {
        if let Some((from, to)) = live(i, end) {
            add_by_hour(&mut busy, from, to);
        }
    }
    let mut window = [0.0; 24];
    add_by_hour(&mut window, 0, end);
    let mut avg = [0.0; 24];
    for h in 0..24 {
        if window[h] > 0.0 {
            avg[h] = busy[h] / window[h];
        }
    }
    let mean = avg.iter().sum::<f64>() / 24.0;
    if mean > 0.0 && mean.is_finite() {
        avg.map(|a| a / mean)
    } else {
        [1.0; 24]
    }
}

/// The GPU services of the trace: `(app, max_live_instances,
/// gpus_per_instance)` for each app with GPU (`HN`) instances.
/// `max_live_instances` is the most GPU instances of the app live at once
/// (live as in [`dlrm_daily_cycle`]); `gpus_per_instance` is the largest
/// `gpu_request` of its GPU instances (1.0 for every app on the shipped
/// file). CPU (`CN`) instances are not counted. Sorted by most instances
/// first, then by name.
pub fn dlrm_apps(instances: &[DlrmInstance]) -> Vec<(String, u32, f64)> {
    let end = dlrm_window_end(instances);
    /// Start (+1) and end (-1) events of an app's instances, and its
    /// largest request.
    #[derive(Default)]
    struct App {
        events: Vec<(u64, i64)>,
        gpus: f64,
    }
    let mut apps: BTreeMap<&str, App> = BTreeMap::new();
    for i in instances.iter().filter(|i| i.is_gpu()) {
        let app = apps.entry(i.app.as_str()).or_default();
        app.gpus = app.gpus.max(i.gpu_request);
        if let Some((from, to)) = live(i, end) {
            app.events.push((from, 1));
            app.events.push((to, -1));
        }
    }
    let mut out: Vec<(String, u32, f64)> = apps
        .into_iter()
        .map(|(name, App { mut events, gpus })| {
            // Ends before starts at the same second: intervals are half-open.
            events.sort_unstable();
            let (mut live, mut most) = (0i64, 0i64);
            for (_, d) in events {
                live += d;
                most = most.max(live);
            }
            (
                name.to_string(),
                u32::try_from(most).unwrap_or(u32::MAX),
                gpus,
            )
        })
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "instance_sn,role,app_name,cpu_request,cpu_limit,gpu_request,gpu_limit,rdma_request,rdma_limit,memory_request,memory_limit,disk_request,disk_limit,max_instance_per_node,creation_time,scheduled_time,deletion_time\n";

    #[test]
    fn activity_cycle_follows_the_day() {
        let instances = dlrm_instances().unwrap();
        let c = dlrm_activity_cycle(&instances);
        let mean = c.iter().sum::<f64>() / 24.0;
        assert!((mean - 1.0).abs() < 1e-9);
        let night: f64 = c[2..10].iter().sum::<f64>() / 8.0;
        let day: f64 = c[10..20].iter().sum::<f64>() / 10.0;
        assert!(day > night * 1.2, "day {day} night {night}: {c:?}");
    }

    #[test]
    fn embedded_instances_parse() {
        let all = dlrm_instances().unwrap();
        assert_eq!(all.len(), 23_871);
        assert_eq!(all.iter().filter(|i| i.is_gpu()).count(), 7386);
        assert_eq!(dlrm_window_end(&all), 2_677_541);
        // Float times are rounded: 475.00000000000006 -> 475.
        assert!(all.iter().any(|i| i.creation_s == Some(475)));
    }

    #[test]
    fn daily_cycle_is_24_positive_values_of_mean_one() {
        let cycle = dlrm_daily_cycle(&dlrm_instances().unwrap());
        assert!(cycle.iter().all(|&c| c > 0.0 && c.is_finite()));
        assert!((cycle.iter().sum::<f64>() / 24.0 - 1.0).abs() < 1e-9);
        assert_eq!(dlrm_daily_cycle(&[]), [1.0; 24]);
    }

    #[test]
    fn daily_cycle_follows_live_instances() {
        // One instance always live, one live 06:00-18:00 on both days.
        let text = format!(
            "{HEADER}i0,HN,a,1,1,1,1,1,1,1,1,1,1,1,,,\ni1,HN,a,1,1,1,1,1,1,1,1,1,1,1,21600,21600,64800\ni2,HN,b,1,1,2,2,1,1,1,1,1,1,1,108000,108000.0,151200\ni3,CN,b,1,1,0,0,1,1,1,1,1,1,1,0,0,172800\n"
        );
        let all = parse_dlrm_instances("d.csv", &text).unwrap();
        let cycle = dlrm_daily_cycle(&all);
        // Night 1 live, day 2 live: mean 1.5.
        assert!((cycle[3] - 1.0 / 1.5).abs() < 1e-12);
        assert!((cycle[12] - 2.0 / 1.5).abs() < 1e-12);
        let apps = dlrm_apps(&all);
        assert_eq!(
            apps,
            vec![("a".to_string(), 2, 1.0), ("b".to_string(), 1, 2.0)]
        );
    }

    #[test]
    fn apps_summarise_the_services() {
        let all = dlrm_instances().unwrap();
        let apps = dlrm_apps(&all);
        assert_eq!(apps.len(), 156);
        assert!(apps.iter().all(|a| a.2 == 1.0));
        assert!(apps.windows(2).all(|w| w[0].1 >= w[1].1));
        let most: u32 = apps.iter().map(|a| a.1).sum();
        assert!((3000..7386).contains(&most), "{most}");
    }

    #[test]
    fn bad_rows_name_line_and_field() {
        let text =
            format!("{HEADER}i0,HN,a,1,1,1,1,1,1,1,1,1,1,1,,,\ni1,GN,a,1,1,1,1,1,1,1,1,1,1,1,,,\n");
        let e = parse_dlrm_instances("d.csv", &text).unwrap_err();
        assert_eq!(
            (e.file.as_str(), e.line, e.field.as_str()),
            ("d.csv", 3, "role")
        );
        let text = format!("{HEADER}i0,HN,a,1,1,x,1,1,1,1,1,1,1,1,,,\n");
        let e = parse_dlrm_instances("d.csv", &text).unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (2, "gpu_request"));
        let text = format!("{HEADER}i0,HN,a,1,1,1,1,1,1,1,1,1,1,1,5,inf,\n");
        let e = parse_dlrm_instances("d.csv", &text).unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (2, "scheduled_time"));
    }
}
