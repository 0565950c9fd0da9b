//! Several seeds of one scenario, as `abilene run --replicas` runs them:
//! each metric's spread is a mean inside a 90% interval.

mod common;

use abilene_twin::metrics::{RunOutput, Spread, Summary};
use abilene_twin::report::write_outputs;
use abilene_twin::run::{run_replicas, spreads};
use common::{TempDir, load, opts, read_text};

/// The figure each spread summarises, as `run::spreads` names it.
fn value(s: &Summary, name: &str) -> f64 {
    match name {
        "utilisation" => s.utilisation,
        "goodput" => s.goodput,
        "ettr_mean" => s.ettr_mean.unwrap_or(0.0),
        "interruptions" => f64::from(s.interruptions),
        "energy_mwh" => s.energy_mwh,
        "peak_facility_mw" => s.peak_facility_mw,
        "pue_mean" => s.pue_mean,
        "energy_cost_usd" => s.energy_cost_usd,
        "revenue_usd" => s.revenue_usd,
        "cost_per_delivered_gpu_hour_usd" => s.cost_per_delivered_gpu_hour_usd.unwrap_or(0.0),
        "emissions_t" => s.emissions_t,
        "mean_slowdown" => s.mean_slowdown,
        other => panic!("unknown metric {other}"),
    }
}

fn check(file: &str, days: Option<f64>) -> (Vec<RunOutput>, Vec<Spread>) {
    let sc = load(file);
    let runs = run_replicas(&sc, &opts(days, None), 4, 2, &|_, _| {}).unwrap();
    assert_eq!(runs.len(), 4);
    let spreads = spreads(&runs);
    assert_eq!(spreads.len(), 12, "every headline metric");
    for s in &spreads {
        let xs: Vec<f64> = runs.iter().map(|r| value(&r.summary, &s.name)).collect();
        let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        println!(
            "{file} {:<32} mean {:>14.4} [p5 {:>14.4}, p95 {:>14.4}]",
            s.name, s.mean, s.p5, s.p95
        );
        assert!(
            s.mean.is_finite() && s.p5.is_finite() && s.p95.is_finite(),
            "{s:?}"
        );
        assert!(s.p5 <= s.mean && s.mean <= s.p95, "{file}: {s:?}");
        assert!(
            lo <= s.p5 && s.p95 <= hi,
            "{file}: {s:?} outside the runs' {lo}..{hi}"
        );
        let m = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!(
            (s.mean - m).abs() <= 1e-9 * m.abs().max(1.0),
            "{file}: {s:?} vs mean {m}"
        );
    }
    let interruptions = spreads.iter().find(|s| s.name == "interruptions").unwrap();
    assert!(
        interruptions.p5 < interruptions.p95,
        "{file}: seeds all alike"
    );
    (runs, spreads)
}

#[test]
fn spreads_of_four_seeds_of_small() {
    let (runs, spreads) = check("small.toml", None);
    // And they reach summary.json.
    let dir = TempDir::new("replicas-small");
    write_outputs(dir.path(), &runs[0], &spreads).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&read_text(&dir.path().join("summary.json"))).unwrap();
    let written = json["spreads"].as_array().expect("spreads in summary.json");
    assert_eq!(written.len(), spreads.len());
    for (w, s) in written.iter().zip(&spreads) {
        assert_eq!(w["name"], s.name.as_str());
        // serde_json's default parser may be one ulp off the shortest
        // representation it wrote.
        let m = w["mean"].as_f64().expect("a number");
        assert!((m - s.mean).abs() <= 1e-12 * s.mean.abs(), "{w} vs {s:?}");
    }
}

#[test]
fn spreads_of_four_seeds_of_llama3() {
    check("llama3.toml", Some(10.0));
}
