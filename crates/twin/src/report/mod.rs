//! A run's outputs on disk: `summary.json`, `hourly.csv`, `jobs.csv` and a
//! self-contained `report.html` with tables and SVG plots; and a plain-text
//! summary for the terminal.

pub(crate) mod format;
mod html;
mod plots;

pub use format::thousands;

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::metrics::{HourRow, JobRecord, RunOutput, Spread, Summary};

/// Why the outputs could not be written; names the file.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write JSON to {}: {source}", path.display())]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot write CSV to {}: {source}", path.display())]
    Csv {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
    #[error("cannot draw the {plot} plot for {}: {message}", path.display())]
    Plot {
        path: PathBuf,
        plot: &'static str,
        message: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ReportError + '_ {
    move |source| ReportError::Io {
        path: path.to_owned(),
        source,
    }
}

fn csv_err(path: &Path) -> impl FnOnce(csv::Error) -> ReportError + '_ {
    move |source| ReportError::Csv {
        path: path.to_owned(),
        source,
    }
}

/// `summary.json`: the summary's fields, plus `spreads` when there are any.
/// It parses back into a [`Summary`] (which ignores the extra field).
#[derive(Serialize)]
struct SummaryFile<'a> {
    #[serde(flatten)]
    summary: &'a Summary,
    #[serde(skip_serializing_if = "<[Spread]>::is_empty")]
    spreads: &'a [Spread],
}

/// Creates `dir` if needed and checks that files can be made in it, so a
/// caller can find a bad output folder before a long run.
pub fn prepare_dir(dir: &Path) -> Result<(), ReportError> {
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    if !dir.is_dir() {
        let source = io::Error::new(io::ErrorKind::NotADirectory, "not a directory");
        return Err(io_err(dir)(source));
    }
    let probe = dir.join(".abilene-write-test");
    File::create(&probe).map_err(io_err(dir))?;
    fs::remove_file(&probe).map_err(io_err(&probe))
}

/// Writes the run's outputs into `dir` (created if needed) and returns the
/// paths written, in this order:
///
/// - `summary.json`: the [`Summary`] as pretty JSON, with an extra `spreads`
///   array (name, mean, p5, p95) when `spreads` is not empty;
/// - `hourly.csv`: one row per [`HourRow`], headed by the field names;
/// - `jobs.csv`: one row per [`JobRecord`], headed by the field names (absent
///   optional values are empty cells);
/// - `report.html`: a self-contained page with the summary tables and plots.
pub fn write_outputs(
    dir: &Path,
    run: &RunOutput,
    spreads: &[Spread],
) -> Result<Vec<PathBuf>, ReportError> {
    fs::create_dir_all(dir).map_err(io_err(dir))?;

    let summary = dir.join("summary.json");
    write_file(&summary, |w| {
        let file = SummaryFile {
            summary: &run.summary,
            spreads,
        };
        serde_json::to_writer_pretty(&mut *w, &file).map_err(|source| ReportError::Json {
            path: summary.clone(),
            source,
        })?;
        w.write_all(b"\n").map_err(io_err(&summary))
    })?;

    let hourly = dir.join("hourly.csv");
    write_csv(&hourly, &run.hourly, &HourRow::default())?;
    let jobs = dir.join("jobs.csv");
    write_csv(&jobs, &run.jobs, &JobRecord::default())?;

    let report = dir.join("report.html");
    let plots = plots::all(&run.hourly, &run.summary.waits).map_err(|(plot, message)| {
        ReportError::Plot {
            path: report.clone(),
            plot,
            message,
        }
    })?;
    let page = html::page(run, spreads, &plots);
    write_file(&report, |w| {
        w.write_all(page.as_bytes()).map_err(io_err(&report))
    })?;

    Ok(vec![summary, hourly, jobs, report])
}

/// Creates `path`, lets `body` write into it, and flushes.
fn write_file(
    path: &Path,
    body: impl FnOnce(&mut BufWriter<File>) -> Result<(), ReportError>,
) -> Result<(), ReportError> {
    let mut w = BufWriter::new(File::create(path).map_err(io_err(path))?);
    body(&mut w)?;
    w.flush().map_err(io_err(path))
}

/// Writes `rows` as CSV with a header of field names, also when there are no
/// rows (the header then comes from `example`, which is not written).
fn write_csv<T: Serialize>(path: &Path, rows: &[T], example: &T) -> Result<(), ReportError> {
    if rows.is_empty() {
        let mut buf = csv::Writer::from_writer(Vec::new());
        buf.serialize(example).map_err(csv_err(path))?;
        let bytes = buf
            .into_inner()
            .map_err(|e| io_err(path)(io::Error::other(e.to_string())))?;
        let header_end = bytes
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| i + 1);
        return write_file(path, |w| {
            w.write_all(&bytes[..header_end]).map_err(io_err(path))
        });
    }
    let mut w = csv::Writer::from_path(path).map_err(csv_err(path))?;
    for row in rows {
        w.serialize(row).map_err(csv_err(path))?;
    }
    w.flush().map_err(io_err(path))
}

/// The summary as an aligned plain-text table for the terminal: the run's
/// identity, then every figure with its unit. With `spreads` (a run of
/// several seeds), each figure is its mean over the seeds with its 90%
/// interval "[p5, p95]", not one seed's value, and a figure undefined in
/// every seed is "n/a"; spreads that name no figure follow in a table of
/// their own.
pub fn summary_text(summary: &Summary, spreads: &[Spread]) -> String {
    let s = summary;
    let seeds = spreads.iter().map(|r| r.seeds).max().unwrap_or(0);
    let mut out = format!(
        "Scenario {}  ·  campus {}  ·  {}  ·  start {}  ·  {} day{}\n",
        s.scenario,
        s.campus,
        if spreads.is_empty() {
            format!("seed {}", s.seed)
        } else {
            format!(
                "{seeds} seeds from {}: means with 90% intervals [p5, p95]",
                s.seed
            )
        },
        s.start,
        format::compact(s.days),
        if s.days == 1.0 { "" } else { "s" }
    );
    if s.traces.is_empty() {
        out.push_str("Traces: none (synthetic workload)\n");
    } else {
        out.push_str(&format!("Traces: {}\n", s.traces.join(", ")));
    }

    let rows: Vec<format::SpreadRow> = spreads.iter().map(format::spread_row).collect();
    // Each figure: its mean and interval over the seeds when there is a
    // spread for it, else the run's own value.
    let figures: Vec<(format::Figure, Option<String>)> = format::figures(s)
        .into_iter()
        .zip(format::METRICS)
        .map(
            |(mut f, m)| match rows.iter().find(|r| r.figure && r.key == m.key) {
                Some(r) => {
                    f.value = r.mean.clone();
                    (f, Some(r.interval()))
                }
                None => (f, None),
            },
        )
        .collect();
    let others: Vec<&format::SpreadRow> = rows.iter().filter(|r| !r.figure).collect();
    let width = |it: &mut dyn Iterator<Item = usize>| it.max().unwrap_or(0);
    let label_w = width(
        &mut figures
            .iter()
            .map(|f| f.0.label.chars().count())
            .chain(others.iter().map(|r| r.label.chars().count()))
            .chain(["Figure".len()]),
    ) + 2;
    let value_head = if spreads.is_empty() { "Value" } else { "Mean" };
    let value_w = width(
        &mut figures
            .iter()
            .map(|f| f.0.value.chars().count())
            .chain(others.iter().map(|r| r.mean.chars().count()))
            .chain([value_head.len()]),
    );
    let intervals = !rows.is_empty();
    let interval_w = width(
        &mut figures
            .iter()
            .filter_map(|f| f.1.as_ref().map(|i| i.chars().count()))
            .chain(others.iter().map(|r| r.interval().chars().count()))
            .chain(["[p5, p95]".len()]),
    );
    let unit_w = width(
        &mut figures
            .iter()
            .map(|f| f.0.unit.chars().count())
            .chain(others.iter().map(|r| r.unit.chars().count()))
            .chain(["Unit".len()]),
    );
    let head = |out: &mut String, first: &str| {
        let line = if intervals {
            format!(
                "{first:<label_w$}  {value_head:>value_w$}  {:<interval_w$}  Unit",
                "[p5, p95]"
            )
        } else {
            format!("{first:<label_w$}  {value_head:>value_w$}  Unit")
        };
        out.push_str(&line);
        out.push('\n');
        let rule = label_w + value_w + unit_w + 4 + if intervals { interval_w + 2 } else { 0 };
        out.push_str(&"-".repeat(rule));
        out.push('\n');
    };
    let row = |out: &mut String, label: &str, value: &str, interval: &str, unit: &str| {
        let line = if intervals {
            format!(
                "  {label:<w$}  {value:>value_w$}  {interval:<interval_w$}  {unit}",
                w = label_w - 2
            )
        } else {
            format!("  {label:<w$}  {value:>value_w$}  {unit}", w = label_w - 2)
        };
        out.push_str(line.trim_end());
        out.push('\n');
    };

    out.push('\n');
    head(&mut out, "Figure");
    let mut group = "";
    for (f, interval) in &figures {
        if f.group != group {
            group = f.group;
            out.push_str(group);
            out.push('\n');
        }
        row(
            &mut out,
            f.label,
            &f.value,
            interval.as_deref().unwrap_or(""),
            f.unit,
        );
    }
    if !others.is_empty() {
        out.push('\n');
        head(&mut out, "Other figures over seeds");
        for r in others {
            row(&mut out, &r.label, &r.mean, &r.interval(), r.unit);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{SizeBucket, TenantWaits};

    /// A fresh directory for one test, unique to this process; removed at
    /// the end unless `ABILENE_KEEP_REPORT` is set (to look at the report).
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir()
                .join(format!("abilene-twin-report-{name}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            if std::env::var_os("ABILENE_KEEP_REPORT").is_none() {
                let _ = fs::remove_dir_all(&self.0);
            }
        }
    }

    const SCENARIO: &str = "heat <wave> & \"friends\"";

    fn synthetic() -> RunOutput {
        let hourly = (0..72_u32)
            .map(|hour| {
                let phase = (f64::from(hour % 24) - 9.0) / 24.0 * std::f64::consts::TAU;
                let ambient_c = 27.0 - 8.0 * phase.cos();
                let gpus_online = if hour < 24 { 100_000 } else { 150_000 };
                let gpus_busy = gpus_online as f64 * (0.85 + 0.05 * phase.sin());
                let it_mw = gpus_busy * 0.0014 + 20.0;
                let pue = 1.08 + 0.012 * (ambient_c - 18.0).max(0.0);
                let facility_mw = it_mw * pue;
                let four_cp = hour == 40 || hour == 41;
                let gas_mw = if four_cp { facility_mw * 0.6 } else { 0.0 };
                let battery_mw = if four_cp {
                    40.0
                } else if hour % 24 < 5 {
                    -20.0
                } else {
                    0.0
                };
                let grid_mw = facility_mw - gas_mw - battery_mw;
                let price = 30.0 + 40.0 * (1.0 - phase.cos());
                HourRow {
                    hour,
                    time: format!("2026-07-{:02}T{:02}:00", 14 + hour / 24, hour % 24),
                    ambient_c,
                    gpus_online,
                    gpus_busy,
                    gpus_productive: gpus_busy * 0.93,
                    it_mw,
                    cooling_mw: facility_mw - it_mw - 5.0,
                    facility_mw,
                    pue,
                    grid_mw,
                    gas_mw,
                    battery_mw,
                    battery_soc_mwh: 200.0,
                    price_usd_per_mwh: price,
                    four_cp,
                    energy_cost_usd: grid_mw * price + gas_mw * 45.0,
                    revenue_usd: gpus_busy * 0.93 * 2.1,
                    emissions_t: grid_mw * 0.4 + gas_mw * 0.37,
                    failures: (hour * 7 + 3) % 5 / 3,
                    jobs_running: 40,
                    jobs_pending: 7,
                    trays_down: 2,
                    racks_throttled: u32::from(ambient_c > 33.0),
                }
            })
            .collect();
        let jobs = vec![
            JobRecord {
                id: 1,
                kind: "frontier".into(),
                tenant: "lab <a> & co".into(),
                gpus: 65_536,
                submitted_s: 0,
                first_start_s: Some(600),
                end_s: None,
                queue_wait_s: Some(600),
                wall_s: 258_600,
                held_s: 250_000,
                productive_s: 240_000,
                kept_gpu_s: 240_000.0 * 65_536.0,
                interruptions: 3,
                slowdown: 1.04,
                buildings_spanned: 4,
                completed: false,
            },
            JobRecord {
                id: 2,
                kind: "philly".into(),
                tenant: "research".into(),
                gpus: 8,
                submitted_s: 3_600,
                first_start_s: Some(3_690),
                end_s: Some(20_000),
                queue_wait_s: Some(90),
                wall_s: 16_310,
                held_s: 16_310,
                productive_s: 16_310,
                kept_gpu_s: 16_310.0 * 8.0,
                interruptions: 0,
                slowdown: 1.0,
                buildings_spanned: 1,
                completed: true,
            },
            JobRecord {
                id: 3,
                kind: "inference".into(),
                tenant: "research".into(),
                gpus: 1_024,
                submitted_s: 7_200,
                first_start_s: None,
                end_s: None,
                queue_wait_s: None,
                ..JobRecord::default()
            },
        ];
        RunOutput {
            summary: Summary {
                scenario: SCENARIO.into(),
                campus: "abilene-1.2GW".into(),
                seed: 42,
                start: "2026-07-14".into(),
                days: 3.0,
                traces: vec![
                    "data/philly/cluster_job_log.csv".into(),
                    "data/openb <pod>.csv".into(),
                ],
                utilisation: 0.875,
                goodput: 0.8125,
                ettr: Some(0.9),
                ettr_mean: Some(0.9375),
                interruptions: 3,
                failures: 29,
                spare_exhaustions: 0,
                by_size: vec![
                    SizeBucket {
                        gpus: "1-8".into(),
                        jobs: 1,
                        interruptions: 0,
                        job_hours: 4.5,
                        mttf_hours: None,
                        ettr_mean: Some(1.0),
                    },
                    SizeBucket {
                        gpus: "8193-131072".into(),
                        jobs: 1,
                        interruptions: 3,
                        job_hours: 71.75,
                        mttf_hours: Some(23.875),
                        ettr_mean: Some(0.875),
                    },
                ],
                waits: vec![
                    TenantWaits {
                        tenant: "lab <a> & co".into(),
                        jobs: 1,
                        p50_s: 600.0,
                        p90_s: 600.0,
                        p99_s: 600.0,
                    },
                    TenantWaits {
                        tenant: "research".into(),
                        jobs: 2,
                        p50_s: 90.0,
                        p90_s: 1_800.0,
                        p99_s: 5_400.0,
                    },
                ],
                energy_mwh: 21_234.5,
                peak_facility_mw: 312.25,
                peak_it_mw: 230.5,
                pue_mean: 1.125,
                pue_min: 1.0625,
                pue_max: 1.25,
                grid_mwh: 20_001.25,
                gas_mwh: 1_233.25,
                energy_cost_usd: 1_234_567.5,
                capex_depreciation_usd: 48_000_000.0,
                financing_usd: 12_500_000.0,
                opex_usd: 2_250_000.0,
                revenue_usd: 62_000_000.0,
                cost_per_delivered_gpu_hour_usd: Some(1.75),
                emissions_t: 8_000.5,
                four_cp_hours_curtailed: 2,
                mean_slowdown: 1.03125,
                wall_seconds: 12.5,
            },
            hourly,
            jobs,
        }
    }

    fn spreads() -> Vec<Spread> {
        let spread = |name: &str, mean: f64, p5: f64, p95: f64| Spread {
            name: name.into(),
            mean: Some(mean),
            p5: Some(p5),
            p95: Some(p95),
            seeds: 4,
        };
        vec![
            spread("utilisation", 0.87, 0.85, 0.89),
            spread("energy_cost_usd", 1_250_000.0, 1_200_000.0, 1_300_000.0),
            spread("p99 <wait>", 5_000.0, 4_000.0, 6_100.0),
            // Undefined in every seed: n/a, not 0.
            Spread {
                name: "ettr_mean".into(),
                mean: None,
                p5: None,
                p95: None,
                seeds: 0,
            },
        ]
    }

    fn read(path: &Path) -> String {
        fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn writes_all_outputs() {
        let dir = TempDir::new("full");
        let run = synthetic();
        let spreads = spreads();
        let paths = write_outputs(&dir.0, &run, &spreads).unwrap();
        let names: Vec<_> = paths
            .iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["summary.json", "hourly.csv", "jobs.csv", "report.html"]
        );
        for p in &paths {
            assert!(p.is_file(), "{} missing", p.display());
            assert_eq!(p.parent(), Some(dir.0.as_path()));
        }

        let json = read(&paths[0]);
        let back: Summary = serde_json::from_str(&json).unwrap();
        assert_eq!(back, run.summary);
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["spreads"].as_array().unwrap().len(), 4);
        assert_eq!(value["spreads"][0]["name"], "utilisation");

        let hourly = read(&paths[1]);
        assert_eq!(hourly.lines().count(), 73);
        assert!(hourly.starts_with("hour,time,ambient_c,gpus_online,gpus_busy,"));
        let mut rdr = csv::Reader::from_path(&paths[1]).unwrap();
        let rows: Vec<HourRow> = rdr.deserialize().collect::<Result<_, _>>().unwrap();
        assert_eq!(rows.len(), 72);
        assert!(rows[40].four_cp);
        assert_eq!(rows[40].time, run.hourly[40].time);

        let jobs = read(&paths[2]);
        assert_eq!(jobs.lines().count(), 4);
        assert!(jobs.starts_with("id,kind,tenant,gpus,submitted_s,first_start_s,"));
        let mut rdr = csv::Reader::from_path(&paths[2]).unwrap();
        let back: Vec<JobRecord> = rdr.deserialize().collect::<Result<_, _>>().unwrap();
        assert_eq!(back[2].first_start_s, None);
        assert_eq!(back[0].tenant, "lab <a> & co");

        let html = read(&paths[3]);
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert_eq!(html.matches("<svg").count(), 8, "one SVG per plot");
        assert!(!html.contains("no data"));
        assert!(html.contains("heat &lt;wave&gt; &amp; &quot;friends&quot;"));
        assert!(!html.contains(SCENARIO));
        assert!(html.contains("lab &lt;a&gt; &amp; co"));
        assert!(!html.contains("<a>"));
        assert!(html.contains("data/openb &lt;pod&gt;.csv"));
        assert!(html.contains("p99 &lt;wait&gt;"));
        assert!(html.contains("abilene-1.2GW") && html.contains("2026-07-14"));
        assert!(html.contains("<td class=\"n\">87.5</td>"));
        assert!(html.contains("1,234,568"));
        // Self-contained: no scripts, no external resources.
        assert!(!html.contains("<script") && !html.contains("<link") && !html.contains("src="));
    }

    #[test]
    fn empty_run_has_headers_and_no_data_plots() {
        let dir = TempDir::new("empty");
        let paths = write_outputs(&dir.0, &RunOutput::default(), &[]).unwrap();
        assert_eq!(paths.len(), 4);

        let json = read(&paths[0]);
        assert!(!json.contains("spreads"));
        let back: Summary = serde_json::from_str(&json).unwrap();
        assert_eq!(back, Summary::default());

        let hourly = read(&paths[1]);
        assert_eq!(hourly.lines().count(), 1);
        assert!(hourly.starts_with("hour,time,"));
        assert!(hourly.trim_end().ends_with("racks_throttled"));
        let jobs = read(&paths[2]);
        assert_eq!(jobs.lines().count(), 1);
        assert!(jobs.trim_end().ends_with("buildings_spanned,completed"));

        let html = read(&paths[3]);
        assert_eq!(html.matches("<svg").count(), 8);
        assert_eq!(
            html.matches(">\nno data\n<").count(),
            8,
            "every plot says no data"
        );
        assert!(!html.contains("Spread over seeds"));
    }

    #[test]
    fn hours_without_gpus_or_load_do_not_break_plots() {
        let dir = TempDir::new("degenerate");
        let mut run = synthetic();
        for h in &mut run.hourly[..10] {
            h.gpus_online = 0;
            h.it_mw = 0.0;
            h.pue = f64::NAN;
        }
        run.hourly.truncate(11);
        run.summary.waits.clear();
        let paths = write_outputs(&dir.0, &run, &[]).unwrap();
        let html = read(&paths[3]);
        assert_eq!(html.matches("<svg").count(), 8);
        assert!(!html.contains("NaN"));
    }

    #[test]
    fn a_year_of_hours_stays_a_reasonable_size() {
        let dir = TempDir::new("year");
        let mut run = synthetic();
        let day: Vec<HourRow> = run.hourly[24..48].to_vec();
        run.hourly = (0..365 * 24)
            .map(|hour| {
                let mut h = day[hour as usize % 24].clone();
                let season = (f64::from(hour) / 8760.0 * std::f64::consts::TAU).sin();
                h.hour = hour;
                h.ambient_c -= 12.0 * (1.0 - season);
                h.pue = 1.08 + 0.012 * (h.ambient_c - 18.0).max(0.0);
                h.facility_mw = h.it_mw * h.pue;
                h.grid_mw = h.facility_mw - h.gas_mw - h.battery_mw;
                h.failures = (hour * 7919 % 13) / 9;
                h
            })
            .collect();
        let paths = write_outputs(&dir.0, &run, &[]).unwrap();
        assert_eq!(read(&paths[1]).lines().count(), 365 * 24 + 1);
        let html = read(&paths[3]);
        assert_eq!(html.matches("<svg").count(), 8);
        assert!(
            html.len() < 1_500_000,
            "report.html is {} bytes",
            html.len()
        );
    }

    #[test]
    fn many_tenants_are_all_in_the_table() {
        let dir = TempDir::new("tenants");
        let mut run = synthetic();
        run.summary.waits = (0..15_u32)
            .map(|i| TenantWaits {
                tenant: format!("tenant-{i:02}-with-a-rather-long-name"),
                jobs: 100 - i,
                p50_s: 60.0 * f64::from(i),
                p90_s: 300.0 * f64::from(i),
                p99_s: 900.0 * f64::from(i),
            })
            .collect();
        let paths = write_outputs(&dir.0, &run, &[]).unwrap();
        let html = read(&paths[3]);
        for i in 0..15 {
            assert!(html.contains(&format!("<td>tenant-{i:02}-with-a-rather-long-name</td>")));
        }
        assert!(html.contains("the 10 tenants with most jobs of 15"));
    }

    #[test]
    fn unwritable_directory_names_the_path() {
        let dir = TempDir::new("blocked");
        fs::create_dir_all(&dir.0).unwrap();
        let file = dir.0.join("a-file");
        fs::write(&file, "").unwrap();
        let err = write_outputs(&file.join("out"), &RunOutput::default(), &[]).unwrap_err();
        assert!(matches!(err, ReportError::Io { .. }));
        assert!(err.to_string().contains("a-file"), "{err}");
    }

    #[test]
    fn prepare_dir_refuses_a_file_before_any_run() {
        let dir = TempDir::new("prepare");
        fs::create_dir_all(&dir.0).unwrap();
        let file = dir.0.join("a-file");
        fs::write(&file, "").unwrap();
        let err = prepare_dir(&file).unwrap_err();
        assert!(err.to_string().contains("a-file"), "{err}");
        let fresh = dir.0.join("new").join("out");
        prepare_dir(&fresh).unwrap();
        assert!(fresh.is_dir());
        assert_eq!(fs::read_dir(&fresh).unwrap().count(), 0, "leaves no probe");
    }

    #[test]
    fn summary_text_is_aligned_with_units() {
        let run = synthetic();
        let text = summary_text(&run.summary, &[]);
        assert!(text.starts_with(&format!("Scenario {SCENARIO}")));
        assert!(text.contains("seed 42"));
        let line = |label: &str| {
            text.lines()
                .find(|l| l.trim_start().starts_with(label))
                .unwrap_or_else(|| panic!("no {label} in\n{text}"))
                .to_owned()
        };
        assert!(line("Utilisation").ends_with("87.5  %"));
        assert!(line("Energy cost").ends_with("1,234,568  USD"));
        assert!(line("Capex depreciation").ends_with("48,000,000  USD"));
        assert!(line("Cost per delivered GPU-hour").ends_with("1.75  USD/GPU-h"));
        assert!(line("PUE, mean").ends_with("1.125"));
        // Values line up on their last digit.
        let ends: Vec<usize> = ["Utilisation", "Energy cost", "Failures (all causes)"]
            .iter()
            .map(|l| {
                let l = line(l);
                l.rfind(|c: char| c.is_ascii_digit()).unwrap()
            })
            .collect();
        assert!(ends.windows(2).all(|w| w[0] == w[1]), "{text}");
        assert!(!text.contains("[p5, p95]"));

        println!("{text}");
        let bare = summary_text(&Summary::default(), &[]);
        assert!(bare.contains("Traces: none"));
        assert!(!bare.contains("over seeds"));
        assert!(bare.contains("n/a"), "absent ETTR");
    }

    /// With several seeds the main table is the mean and 90% interval of
    /// each figure, not the first seed's value; a figure undefined in every
    /// seed is n/a, not 0.
    #[test]
    fn the_main_table_of_several_seeds_is_their_mean_and_interval() {
        let run = synthetic();
        let text = summary_text(&run.summary, &spreads());
        println!("{text}");
        assert!(
            text.contains("4 seeds from 42: means with 90% intervals"),
            "{text}"
        );
        let line = |label: &str| {
            text.lines()
                .find(|l| l.trim_start().starts_with(label))
                .unwrap_or_else(|| panic!("no {label} in\n{text}"))
                .to_owned()
        };
        // The first seed says 87.5 %; the seeds' mean is 87.0.
        let u = line("Utilisation");
        assert!(u.contains("87.0  [85.0, 89.0]") && u.ends_with('%'), "{u}");
        assert!(!u.contains("87.5"), "{u}");
        assert!(line("Energy cost").contains("1,250,000  [1,200,000, 1,300,000]"));
        // The first seed has an ETTR, but no seed of the spread does.
        let e = line("ETTR, mean of jobs");
        assert!(
            e.contains("n/a") && !e.contains("93.8") && !e.contains(" 0.0"),
            "{e}"
        );
        // Figures without a spread keep their value and no interval.
        let c = line("Capex depreciation");
        assert!(
            c.contains("48,000,000  ") && c.ends_with("USD") && !c.contains('['),
            "{c}"
        );
        // A spread that names no figure has its own table.
        assert!(text.contains("Other figures over seeds"));
        assert!(line("p99 <wait>").contains("5,000  [4,000, 6,100]"));

        let dir = TempDir::new("seeds");
        let paths = write_outputs(&dir.0, &run, &spreads()).unwrap();
        let html = read(&paths[3]);
        assert!(html.contains("Summary over 4 seeds"));
        assert!(html.contains(
            "<td>Utilisation</td><td class=\"n\">87.0</td><td class=\"n\">85.0 – 89.0</td>"
        ));
        assert!(html.contains(
            "<td>ETTR, mean of jobs</td><td class=\"n\">n/a</td><td class=\"n\">n/a</td>"
        ));
        assert!(html.contains("Other figures over seeds") && html.contains("p99 &lt;wait&gt;"));
    }

    #[test]
    fn number_formatting() {
        use format::{compact, duration, html_escape, thousands};
        assert_eq!(thousands(0.0, 0), "0");
        assert_eq!(thousands(999.0, 0), "999");
        assert_eq!(thousands(1_000.0, 0), "1,000");
        assert_eq!(thousands(-1_234_567.891, 2), "-1,234,567.89");
        assert_eq!(thousands(123_456.0, 1), "123,456.0");
        assert_eq!(thousands(-0.0001, 2), "0.00");
        assert_eq!(thousands(f64::NAN, 1), "n/a");
        assert_eq!(thousands(f64::INFINITY, 1), "inf");
        assert_eq!(compact(1_200.0), "1,200");
        assert_eq!(compact(0.5), "0.5");
        assert_eq!(compact(2.0), "2");
        assert_eq!(compact(-0.0), "0");
        assert_eq!(duration(45.0), "45 s");
        assert_eq!(duration(750.0), "12.5 min");
        assert_eq!(duration(3.0 * 3600.0), "3.0 h");
        assert_eq!(duration(3.0 * 86_400.0), "3.0 d");
        assert_eq!(
            html_escape("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
    }
}
