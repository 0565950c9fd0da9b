//! Several seeds of one scenario, as `abilene run --replicas` runs them:
//! each metric's spread is a mean inside a 90% interval.

mod common;

use abilene_twin::metrics::{RunOutput, Spread, Summary};
use abilene_twin::report::write_outputs;
use abilene_twin::run::{run_replicas, spreads};
use common::{TempDir, load, opts, read_text};

/// The figures whose spreads are checked against the runs (all of the
/// summary's figures have one; these are always defined here).
fn value(s: &Summary, name: &str) -> Option<f64> {
    Some(match name {
        "utilisation" => s.utilisation,
        "goodput" => s.goodput,
        "ettr_mean" => s.ettr_mean?,
        "interruptions" => f64::from(s.interruptions),
        "energy_mwh" => s.energy_mwh,
        "peak_facility_mw" => s.peak_facility_mw,
        "pue_mean" => s.pue_mean,
        "energy_cost_usd" => s.energy_cost_usd,
        "revenue_usd" => s.revenue_usd,
        "cost_per_delivered_gpu_hour_usd" => s.cost_per_delivered_gpu_hour_usd?,
        "emissions_t" => s.emissions_t,
        "mean_slowdown" => s.mean_slowdown,
        _ => return None,
    })
}

fn check(file: &str, days: Option<f64>) -> (Vec<RunOutput>, Vec<Spread>) {
    let sc = load(file);
    let runs = run_replicas(&sc, &opts(days, None), 4, 2, &|_, _| {}).unwrap();
    assert_eq!(runs.len(), 4);
    let spreads = spreads(&runs);
    assert!(spreads.len() >= 20, "every figure of the summary");
    let mut checked = 0;
    for s in &spreads {
        let xs: Vec<f64> = runs
            .iter()
            .filter_map(|r| value(&r.summary, &s.name))
            .collect();
        if xs.len() != runs.len() {
            continue;
        }
        checked += 1;
        let (mean, p5, p95) = (s.mean.unwrap(), s.p5.unwrap(), s.p95.unwrap());
        assert_eq!(s.seeds, 4);
        let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        println!(
            "{file} {:<32} mean {mean:>14.4} [p5 {p5:>14.4}, p95 {p95:>14.4}]",
            s.name
        );
        assert!(
            mean.is_finite() && p5.is_finite() && p95.is_finite(),
            "{s:?}"
        );
        assert!(p5 <= mean && mean <= p95, "{file}: {s:?}");
        assert!(
            lo <= p5 && p95 <= hi,
            "{file}: {s:?} outside the runs' {lo}..{hi}"
        );
        let m = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!(
            (mean - m).abs() <= 1e-9 * m.abs().max(1.0),
            "{file}: {s:?} vs mean {m}"
        );
    }
    assert!(checked >= 10, "{file}: {checked} figures checked");
    let interruptions = spreads.iter().find(|s| s.name == "interruptions").unwrap();
    assert!(
        interruptions.p5 < interruptions.p95,
        "{file}: seeds all alike"
    );
    (runs, spreads)
}

/// A figure undefined in some seeds is left out of its spread, not
/// counted as 0; undefined in all, it has no mean (n/a).
#[test]
fn undefined_figures_are_left_out_not_zero() {
    let mut runs = vec![RunOutput::default(); 3];
    runs[0].summary.ettr_mean = Some(0.9);
    runs[1].summary.ettr_mean = Some(0.8);
    let s = spreads(&runs);
    let ettr = s.iter().find(|s| s.name == "ettr_mean").unwrap();
    assert_eq!(ettr.seeds, 2);
    assert!((ettr.mean.unwrap() - 0.85).abs() < 1e-12, "{ettr:?}");
    assert_eq!((ettr.p5, ettr.p95), (Some(0.8), Some(0.9)));
    let cost = s
        .iter()
        .find(|s| s.name == "cost_per_delivered_gpu_hour_usd")
        .unwrap();
    assert_eq!(
        (cost.mean, cost.p5, cost.p95, cost.seeds),
        (None, None, None, 0)
    );
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
        match s.mean {
            Some(mean) => {
                let m = w["mean"].as_f64().expect("a number");
                assert!((m - mean).abs() <= 1e-12 * mean.abs(), "{w} vs {s:?}");
            }
            None => assert!(w["mean"].is_null(), "{w}"),
        }
    }
}

#[test]
fn spreads_of_four_seeds_of_llama3() {
    check("llama3.toml", Some(10.0));
}
