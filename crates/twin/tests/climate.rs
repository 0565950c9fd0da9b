//! A campus's `site.climate_file` is the twin's weather when the scenario
//! names none: read relative to the campus file's folder, and refused with
//! a located error when it is missing or malformed, never ignored.

mod common;

use std::path::Path;

use abilene_twin::scenario::Scenario;
use abilene_twin::weather::{ABILENE_TMY3, DRY_BULB_COLUMN};
use common::{TempDir, line_of, run_zeroed};

/// The tiny preset as a campus file naming `climate` as its climate file.
fn campus_text(climate: &str) -> String {
    let tiny = abilene_model::preset::preset("tiny")
        .expect("tiny preset")
        .toml;
    tiny.replacen(
        "location = \"anywhere\"\n",
        &format!("location = \"anywhere\"\nclimate_file = \"{climate}\"\n"),
        1,
    )
}

const SCENARIO: &str = r#"name = "climate"
campus = { file = "campus/tiny.toml" }
start = "2026-07-01"
days = 1
seed = 3
"#;

/// The Abilene year with every dry-bulb temperature set to `c`.
fn tmy3_at(c: f64) -> String {
    let mut lines = ABILENE_TMY3.lines();
    let station = lines.next().unwrap();
    let header = lines.next().unwrap();
    let col = header
        .split(',')
        .position(|h| h == DRY_BULB_COLUMN)
        .expect("dry-bulb column");
    let mut out = format!("{station}\n{header}\n");
    for l in lines {
        let mut cells: Vec<String> = l.split(',').map(str::to_string).collect();
        cells[col] = format!("{c:.1}");
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// Writes the scenario and `campus/tiny.toml` naming `climate`, with the
/// climate file's text if given, and loads it.
fn load(dir: &Path, climate: &str, data: Option<&str>) -> Result<Scenario, String> {
    std::fs::create_dir_all(dir.join("campus/weather")).unwrap();
    std::fs::write(dir.join("campus/tiny.toml"), campus_text(climate)).unwrap();
    if let Some(d) = data {
        std::fs::write(dir.join("campus").join(climate), d).unwrap();
    }
    std::fs::write(dir.join("climate.toml"), SCENARIO).unwrap();
    Scenario::load_file(&dir.join("climate.toml")).map_err(|e| e.to_string())
}

#[test]
fn the_campus_climate_file_is_the_weather() {
    let tmp = TempDir::new("climate-used");
    let sc = load(tmp.path(), "weather/hot.tmy3", Some(&tmy3_at(45.0))).expect("loads");
    let run = run_zeroed(&sc, None, None);
    assert!(!run.hourly.is_empty());
    for h in &run.hourly {
        assert_eq!(h.ambient_c, 45.0, "hour {}", h.hour);
    }
    // The scenario's own weather file wins over the campus's.
    let text = format!("{SCENARIO}\n[weather]\nfile = \"cool.tmy3\"\n");
    std::fs::write(tmp.path().join("cool.tmy3"), tmy3_at(5.0)).unwrap();
    std::fs::write(tmp.path().join("climate.toml"), text).unwrap();
    let sc = Scenario::load_file(&tmp.path().join("climate.toml")).expect("loads");
    let run = run_zeroed(&sc, None, None);
    assert!(run.hourly.iter().all(|h| h.ambient_c == 5.0));
}

#[test]
fn a_missing_climate_file_is_placed_at_its_line() {
    let tmp = TempDir::new("climate-missing");
    let Err(err) = load(tmp.path(), "weather/nowhere.tmy3", None) else {
        panic!("loaded without its climate file")
    };
    let campus = tmp.path().join("campus/tiny.toml");
    let line = line_of(&campus_text("weather/nowhere.tmy3"), "climate_file");
    let at = format!("{}:{line}:", campus.display());
    assert!(
        err.lines().any(|l| l.contains(&at)
            && l.contains("site.climate_file")
            && l.contains("cannot read")
            && l.contains("nowhere.tmy3")),
        "{err}"
    );
}

#[test]
fn a_malformed_climate_file_is_placed_in_that_file() {
    let tmp = TempDir::new("climate-bad");
    let mut data = tmy3_at(20.0);
    // Line 10 (the 8th hour): a temperature that is not a number.
    let lines: Vec<&str> = data.lines().collect();
    let col = lines[1]
        .split(',')
        .position(|h| h == DRY_BULB_COLUMN)
        .unwrap();
    let mut cells: Vec<&str> = lines[9].split(',').collect();
    cells[col] = "warm";
    let bad = cells.join(",");
    data = data.replacen(lines[9], &bad, 1);
    let Err(err) = load(tmp.path(), "weather/bad.tmy3", Some(&data)) else {
        panic!("loaded a malformed climate file")
    };
    let file = tmp.path().join("campus/weather/bad.tmy3");
    assert!(err.contains(&format!("{}:10:", file.display())), "{err}");
}

/// A preset names the data file built into the binary, which is used.
#[test]
fn a_presets_climate_file_is_the_built_in_year() {
    let sc = common::load("abilene-30d.toml");
    let year = sc
        .climate
        .as_ref()
        .expect("the abilene preset names its TMY3 year");
    assert_eq!(year, &abilene_twin::weather::abilene());
}
