//! A user's price CSV is read as `grid::parse_price_csv` documents it: row n
//! is hour n of the run, whatever the calendar date, and it must cover the
//! whole run.

mod common;

use abilene_twin::run::run;
use abilene_twin::scenario::Scenario;
use abilene_twin::sim::RunOptions;
use common::TempDir;

/// A day on the tiny campus from mid-year, priced from `prices.csv`.
const SCENARIO: &str = r#"name = "prices"
campus = { preset = "tiny" }
start = "2026-07-01"
days = 1

[grid.price.csv]
path = "prices.csv"
"#;

/// `hours` rows, the price of hour n being n dollars.
fn csv(hours: u32) -> String {
    let rows: String = (0..hours).map(|h| format!("{h},{h}.0\n")).collect();
    format!("hour,usd_per_mwh\n{rows}")
}

#[test]
fn row_n_of_the_file_prices_hour_n_of_the_run() {
    let dir = TempDir::new("prices-run-hour");
    std::fs::create_dir_all(dir.path()).unwrap();
    std::fs::write(dir.path().join("prices.csv"), csv(48)).unwrap();
    let sc = Scenario::load("prices.toml", SCENARIO, dir.path()).unwrap_or_else(|e| panic!("{e}"));
    let out = run(&sc, &RunOptions::default(), &mut |_, _| {}).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.hourly.len(), 24);
    for row in &out.hourly {
        // July 1st is hour 4,344 of the year: the old reading by hour of
        // the year took row 4,344 mod 48 = 24 for the first hour.
        assert_eq!(
            row.price_usd_per_mwh,
            f64::from(row.hour),
            "hour {}",
            row.hour
        );
    }
}

#[test]
fn a_file_shorter_than_the_run_is_refused() {
    let dir = TempDir::new("prices-short");
    std::fs::create_dir_all(dir.path()).unwrap();
    std::fs::write(dir.path().join("prices.csv"), csv(20)).unwrap();
    let err = match Scenario::load("prices.toml", SCENARIO, dir.path()) {
        Ok(_) => panic!("loaded"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("prices.toml:7:"), "{err}");
    assert!(err.contains("grid.price.csv.path"), "{err}");
    assert!(
        err.contains("has 20 hourly prices; the run's 24 hours"),
        "{err}"
    );
    // A caller's longer run is refused too, not priced by repeating.
    std::fs::write(dir.path().join("prices.csv"), csv(24)).unwrap();
    let sc = Scenario::load("prices.toml", SCENARIO, dir.path()).unwrap_or_else(|e| panic!("{e}"));
    let longer = RunOptions {
        days: Some(2.0),
        seed: None,
    };
    match run(&sc, &longer, &mut |_, _| {}) {
        Ok(_) => panic!("ran past the prices"),
        Err(e) => assert!(
            e.contains("24 hourly prices, but the run has 48 hours"),
            "{e}"
        ),
    }
}
