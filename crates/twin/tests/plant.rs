//! The hourly plant: PUE, energy and peaks on the whole campus; failures
//! that cost work; a heat wave that costs cooling; and the report files.

mod common;

use abilene_twin::metrics::{HourRow, JobRecord, RunOutput};
use abilene_twin::report::write_outputs;
use abilene_twin::run::run_replicas;
use abilene_twin::scenario::{HeatWave, Scenario};
use abilene_twin::weather;
use common::{TempDir, load, load_variant, mean, opts, read_text, run_zeroed};

/// Published PUE of liquid-cooled AI halls (domain.md §4).
const PUE_RANGE: (f64, f64) = (1.05, 1.2);

fn summary_json(dir: &TempDir) -> serde_json::Value {
    serde_json::from_str(&read_text(&dir.path().join("summary.json"))).unwrap()
}

// ---- (a) PUE, energy and peaks -------------------------------------------------

#[test]
fn pue_energy_and_peaks_on_the_whole_campus() {
    let sc = load("abilene-30d.toml");
    let run = run_zeroed(&sc, Some(3.0), None);
    let s = &run.summary;
    let h = &run.hourly;
    assert_eq!(h.len(), 72, "one row per hour of 3 days");
    for (i, row) in h.iter().enumerate() {
        assert_eq!(row.hour as usize, i);
        assert!(row.it_mw > 0.0, "hour {i}: no IT load");
        assert!(
            (PUE_RANGE.0..=PUE_RANGE.1).contains(&row.pue),
            "hour {i}: PUE {} outside {PUE_RANGE:?} at {} C",
            row.pue,
            row.ambient_c
        );
        assert!(
            (row.pue - row.facility_mw / row.it_mw).abs() < 1e-9,
            "hour {i}"
        );
        assert!(
            (row.facility_mw - row.it_mw - row.cooling_mw).abs() < 1e-9,
            "hour {i}: facility is IT plus overhead"
        );
    }
    assert_eq!(h[0].time, "2026-12-01T00:00");
    assert_eq!(h[71].time, "2026-12-03T23:00");

    // Rows are one hour long, so MWh is the sum of MW.
    let facility_mwh: f64 = h.iter().map(|r| r.facility_mw).sum();
    let it_mwh: f64 = h.iter().map(|r| r.it_mw).sum();
    assert!(
        (s.energy_mwh - facility_mwh).abs() <= 1e-9 * facility_mwh,
        "energy {} vs hourly sum {facility_mwh}",
        s.energy_mwh
    );
    assert!(facility_mwh > it_mwh, "facility energy above IT energy");

    let pues: Vec<f64> = h.iter().map(|r| r.pue).collect();
    let (lo, hi) = (
        pues.iter().copied().fold(f64::INFINITY, f64::min),
        pues.iter().copied().fold(0.0, f64::max),
    );
    assert!((s.pue_mean - mean(&pues)).abs() < 1e-12);
    assert_eq!((s.pue_min, s.pue_max), (lo, hi));
    let peak_ratio = s.peak_facility_mw / s.peak_it_mw;
    println!(
        "abilene-30d, 3 days of December: PUE {lo:.4} .. {hi:.4}, mean {:.4}; \
         peak facility {:.1} MW / peak IT {:.1} MW = {peak_ratio:.4}; \
         energy {:.0} MWh facility, {it_mwh:.0} MWh IT",
        s.pue_mean, s.peak_facility_mw, s.peak_it_mw, s.energy_mwh
    );
    assert!(
        (peak_ratio - s.pue_mean).abs() < 0.02,
        "peak ratio {peak_ratio:.4} vs mean PUE {:.4}",
        s.pue_mean
    );
    assert_eq!(s.peak_it_mw, h.iter().map(|r| r.it_mw).fold(0.0, f64::max));
    let it_capacity_mw: f64 = sc
        .campus
        .halls
        .iter()
        .map(|h| h.load.it_max_kw)
        .sum::<f64>()
        / 1000.0;
    assert!(
        s.peak_it_mw <= it_capacity_mw,
        "peak IT {:.1} MW above the campus's {it_capacity_mw:.1} MW",
        s.peak_it_mw
    );
    assert!(s.peak_it_mw > 0.3 * it_capacity_mw, "the campus is working");
}

// ---- (b) failures --------------------------------------------------------------

#[test]
fn doubled_failure_rates_cost_interruptions_and_goodput() {
    // Three days: the small scenario's 4-day frontier run is still going at
    // the end, so work lost to failures is not made up within the run. (Over
    // the full 7 days it finishes either way and goodput, which counts kept
    // work over online GPU-hours, does not see the failures.)
    let days = Some(3.0);
    let mut sc = load("small.toml");
    let base_scale = sc.spec.failures.rate_scale;
    let measure = |sc: &Scenario| {
        let runs = run_replicas(sc, &opts(days, Some(1)), 3, 2, &|_, _| {}).unwrap();
        let interruptions: Vec<f64> = runs
            .iter()
            .map(|r| f64::from(r.summary.interruptions))
            .collect();
        let goodput: Vec<f64> = runs.iter().map(|r| r.summary.goodput).collect();
        (mean(&interruptions), mean(&goodput))
    };
    let (n1, g1) = measure(&sc);
    sc.spec.failures.rate_scale = 2.0 * base_scale;
    let (n2, g2) = measure(&sc);
    println!(
        "small, 3 days, seeds 1-3: rate_scale {base_scale}: {n1:.1} interruptions, goodput \
         {g1:.4}; rate_scale {}: {n2:.1} interruptions, goodput {g2:.4}",
        2.0 * base_scale
    );
    assert!(n2 > n1, "interruptions {n1} -> {n2}");
    assert!(g2 < g1, "goodput {g1} -> {g2}");
}

// ---- (c) a heat wave ---------------------------------------------------------------

/// abilene-30d moved to July, when the weather tests the cooling.
fn july() -> Scenario {
    load_variant(
        "abilene-30d.toml",
        &[("start = \"2026-12-01\"", "start = \"2026-07-10\"")],
    )
}

#[test]
fn heat_wave_raises_pue() {
    let mut sc = july();
    assert_eq!(sc.start.to_string(), "2026-07-10");
    let base = run_zeroed(&sc, Some(3.0), None);
    sc.spec.weather.heat_wave = Some(HeatWave {
        start_day: 0.0,
        days: 3.0,
        offset_c: 15.0,
    });
    let hot = run_zeroed(&sc, Some(3.0), None);
    let (b, w) = (&base.summary, &hot.summary);
    let ambient = |r: &RunOutput| mean(&r.hourly.iter().map(|h| h.ambient_c).collect::<Vec<_>>());
    let throttled = |r: &RunOutput| r.hourly.iter().map(|h| h.racks_throttled).sum::<u32>();
    println!(
        "abilene-30d from 2026-07-10, 3 days: ambient {:.1} -> {:.1} C; PUE mean {:.4} -> {:.4}, \
         max {:.4} -> {:.4}; rack-hours throttled {} -> {}; goodput {:.4} -> {:.4}",
        ambient(&base),
        ambient(&hot),
        b.pue_mean,
        w.pue_mean,
        b.pue_max,
        w.pue_max,
        throttled(&base),
        throttled(&hot),
        b.goodput,
        w.goodput
    );
    assert!(ambient(&hot) > ambient(&base) + 14.0);
    assert!(
        w.pue_mean > b.pue_mean,
        "mean PUE {} -> {}",
        b.pue_mean,
        w.pue_mean
    );
    assert!(
        w.pue_max > b.pue_max,
        "max PUE {} -> {}",
        b.pue_max,
        w.pue_max
    );

    // The report's summary shows it.
    let (db, dw) = (TempDir::new("plant-july"), TempDir::new("plant-heat-wave"));
    write_outputs(db.path(), &base, &[]).unwrap();
    write_outputs(dw.path(), &hot, &[]).unwrap();
    let (jb, jw) = (summary_json(&db), summary_json(&dw));
    for key in ["pue_mean", "pue_max"] {
        let (x, y) = (jb[key].as_f64().unwrap(), jw[key].as_f64().unwrap());
        assert!(y > x, "summary.json {key}: {x} -> {y}");
    }
    let written = jw["pue_max"].as_f64().expect("a number");
    assert!(
        (written - w.pue_max).abs() < 1e-12,
        "{written} vs {}",
        w.pue_max
    );
}

#[test]
fn hourly_rows_carry_their_own_weather() {
    let mut sc = july();
    let base = run_zeroed(&sc, Some(2.0), None);
    let year = weather::abilene();
    let first = (usize::from(sc.start.ordinal()) - 1) * 24;
    for row in &base.hourly {
        let tmy = year.at_hour(first + row.hour as usize);
        assert_eq!(
            row.ambient_c, tmy,
            "row {} ({}): ambient {} but the weather file says {tmy}",
            row.hour, row.time, row.ambient_c
        );
    }
    sc.spec.weather.heat_wave = Some(HeatWave {
        start_day: 1.0,
        days: 1.0,
        offset_c: 15.0,
    });
    let hot = run_zeroed(&sc, Some(2.0), None);
    let hot_rows: Vec<u32> = hot
        .hourly
        .iter()
        .zip(&base.hourly)
        .filter(|(h, b)| h.ambient_c - b.ambient_c > 7.5)
        .map(|(h, _)| h.hour)
        .collect();
    assert_eq!(
        hot_rows,
        (24..48).collect::<Vec<u32>>(),
        "rows of the heat wave's day"
    );
}

// ---- (d) report outputs ------------------------------------------------------------

/// Writes `run` and checks the four files against it.
fn check_outputs(run: &RunOutput, hours: usize, test: &str) {
    assert_eq!(run.hourly.len(), hours);
    let dir = TempDir::new(test);
    let out = dir.path().join("out"); // created by write_outputs
    let paths = write_outputs(&out, run, &[]).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = paths
        .iter()
        .map(|p| p.file_name().unwrap().to_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["summary.json", "hourly.csv", "jobs.csv", "report.html"]
    );
    for p in &paths {
        assert!(p.is_file(), "{} missing", p.display());
    }

    let json: serde_json::Value = serde_json::from_str(&read_text(&paths[0])).unwrap();
    assert_eq!(json["interruptions"], run.summary.interruptions);
    assert_eq!(json["scenario"], run.summary.scenario.as_str());

    let hourly = read_text(&paths[1]);
    assert_eq!(
        hourly.lines().count(),
        hours + 1,
        "one row per hour and a header"
    );
    assert!(hourly.starts_with("hour,time,"));
    let rows: Vec<HourRow> = csv::Reader::from_path(&paths[1])
        .unwrap()
        .deserialize()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        rows == run.hourly,
        "hourly.csv reads back as the run's rows"
    );

    let jobs = read_text(&paths[2]);
    assert_eq!(jobs.lines().count(), run.jobs.len() + 1);
    let back: Vec<JobRecord> = csv::Reader::from_path(&paths[2])
        .unwrap()
        .deserialize()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(back == run.jobs, "jobs.csv reads back as the run's jobs");

    let html = read_text(&paths[3]);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<svg"), "report.html has plots");
    assert!(html.contains(&run.summary.scenario));
}

#[test]
fn report_outputs_of_a_week() {
    let run = run_zeroed(&load("small.toml"), None, None);
    check_outputs(&run, 7 * 24, "plant-report-week");
}

#[test]
fn report_outputs_of_a_day_and_a_half() {
    let run = run_zeroed(&load("small.toml"), Some(1.5), None);
    assert_eq!(run.summary.days, 1.5);
    check_outputs(&run, 36, "plant-report-short");
}
