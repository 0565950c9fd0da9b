//! The shipped presets: the published Abilene figures come out of them, the
//! files on disk are the ones in the binary, and the summary has the shape
//! `campus show --json` prints.

use std::path::PathBuf;

use abilene_model::catalog::BUILTIN_CATALOG_TOML;
use abilene_model::{Campus, CampusSpec, preset};

fn load(name: &str) -> Campus {
    let p = preset::preset(name).expect("shipped preset");
    Campus::load(p.file, p.toml).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn presets_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../presets")
}

#[track_caller]
fn within(value: f64, want: f64, tolerance: f64, what: &str) {
    assert!(
        (value - want).abs() <= tolerance,
        "{what}: {value} is not within {tolerance} of {want}"
    );
}

#[test]
fn abilene_has_8_buildings_and_405504_gpus() {
    let campus = load("abilene");
    let s = campus.summary();
    assert_eq!(s.buildings.len(), 8);
    assert_eq!(s.total.buildings, 8);
    assert_eq!(s.total.gpus, 405_504);
    assert_eq!(u64::from(campus.gpu_count()), s.total.gpus);
    for b in &s.buildings {
        assert_eq!(b.figures.gpus, 50_688, "building {}", b.name);
        assert_eq!(b.figures.halls, 4, "building {}", b.name);
        assert_eq!(b.figures.racks, 704, "building {}", b.name);
    }
    let names: Vec<&str> = s.buildings.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8"]);
}

#[test]
fn abilene_power_chains_deliver_about_1200_mw() {
    let s = load("abilene").summary();
    // 8 halls x 25.75 MW + 24 halls x 41.4 MW = 1,199.6 MW.
    within(s.total.power_capacity_mw, 1200.0, 12.0, "power capacity");
    within(s.total.power_capacity_mw, 1199.6, 1e-6, "power capacity");
    assert_eq!(s.site.design_pue, 1.10);
    assert_eq!(s.site.grid_interconnect_mw, 1200.0);
    within(s.site.gas_mw, 340.0, 1e-9, "on-site gas");
    within(s.site.supply_mw, 1540.0, 1e-9, "supply");
    // IT at max draw: 5,632 racks x 132 kW; facility at PUE 1.10.
    within(s.total.it_mw, 5632.0 * 0.132, 1e-6, "IT load");
    within(
        s.total.facility_mw,
        s.total.it_mw * 1.10,
        1e-6,
        "facility load",
    );
    assert!(s.total.facility_mw <= s.site.supply_mw);
}

#[test]
fn abilene_phase1_is_about_206_mw() {
    let s = load("abilene-phase1").summary();
    assert_eq!(s.buildings.len(), 2);
    assert_eq!(s.total.gpus, 2 * 50_688);
    let facility = s.total.facility_mw;
    assert!(
        (200.0..=210.0).contains(&facility),
        "phase-1 facility load {facility} MW"
    );
    assert_eq!(s.site.design_pue, 1.10);
    within(
        s.total.power_capacity_mw,
        206.0,
        1e-6,
        "phase-1 power chains",
    );
}

#[test]
fn abilene_phase1_is_the_first_two_buildings_of_abilene() {
    let parse =
        |name: &str| -> CampusSpec { toml::from_str(preset::preset(name).unwrap().toml).unwrap() };
    let (all, phase1) = (parse("abilene"), parse("abilene-phase1"));
    assert_eq!(phase1.buildings[..], all.buildings[..2]);
    assert_eq!(phase1.fabric, all.fabric);
    assert_eq!(phase1.skus, all.skus);
    for (name, body) in &phase1.hall_templates {
        assert_eq!(Some(body), all.hall_templates.get(name), "template {name}");
    }
    let mut site = phase1.site.clone();
    site.grid_interconnect_mw = all.site.grid_interconnect_mw;
    assert_eq!(site, all.site, "only the grid import differs");
}

#[test]
fn abilene_timeline_grows_building_by_building() {
    let s = load("abilene").summary();
    assert_eq!(s.timeline.len(), 8);
    let mut last = 0;
    let mut last_date = String::new();
    for (i, step) in s.timeline.iter().enumerate() {
        assert!(
            step.cumulative.gpus > last,
            "step {i} ({}) does not add GPUs",
            step.date
        );
        assert_eq!(step.cumulative.gpus - last, 50_688);
        assert!(step.date > last_date, "steps are in date order");
        assert_eq!(step.added.len(), 1);
        assert_eq!(step.phase, if i < 2 { 1 } else { 2 });
        last = step.cumulative.gpus;
        last_date = step.date.clone();
    }
    assert_eq!(last, s.total.gpus);
    assert_eq!(s.timeline.last().unwrap().cumulative, s.total);
    assert_eq!(s.timeline[0].date, "2025-06-01");
    assert_eq!(s.timeline[7].date, "2026-11-01");
}

#[test]
fn tiny_matches_its_description() {
    let s = load("tiny").summary();
    assert_eq!(s.total.buildings, 2);
    assert_eq!(s.total.halls, 3);
    assert_eq!(s.total.gpus, 992);
    assert_eq!(s.timeline.len(), 2);
    // Two buildings: the super-spine has switches.
    assert!(s.fabric.super_spines > 0);
    assert!(s.fabric.spines > 0 && s.fabric.leaves > 0);
}

#[test]
fn every_preset_loads() {
    assert_eq!(preset::names(), ["abilene", "abilene-phase1", "tiny"]);
    for p in preset::PRESETS {
        let c = Campus::load(p.file, p.toml).unwrap_or_else(|e| panic!("{}: {e}", p.name));
        assert!(c.gpu_count() > 0, "{}", p.name);
        assert_eq!(p.file, format!("presets/{}.toml", p.name));
        assert!(!p.about.is_empty());
    }
    assert!(preset::preset("no-such-campus").is_none());
}

#[test]
fn presets_on_disk_are_the_ones_in_the_binary() {
    let dir = presets_dir();
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let file = format!("presets/{}", path.file_name().unwrap().to_str().unwrap());
        let on_disk = std::fs::read(&path).unwrap();
        let embedded = if file == "presets/catalog.toml" {
            BUILTIN_CATALOG_TOML
        } else {
            preset::PRESETS
                .iter()
                .find(|p| p.file == file)
                .unwrap_or_else(|| panic!("{file} is on disk but not a shipped preset"))
                .toml
        };
        assert!(
            on_disk == embedded.as_bytes(),
            "{file} on disk differs from the one in the binary"
        );
        seen.push(file);
    }
    seen.sort();
    let mut want: Vec<String> = preset::PRESETS.iter().map(|p| p.file.to_string()).collect();
    want.push("presets/catalog.toml".to_string());
    want.sort();
    assert_eq!(seen, want, "every embedded preset is on disk");
}

#[test]
fn summary_json_has_the_shape_campus_show_prints() {
    for name in preset::names() {
        let s = load(name).summary();
        let json = serde_json::to_value(&s).unwrap();
        let obj = json.as_object().expect("an object");
        for key in ["buildings", "total", "timeline", "fabric", "site"] {
            assert!(obj.contains_key(key), "{name}: no `{key}` in {json}");
        }
        assert_eq!(json["name"], s.name.as_str());
        assert_eq!(
            json["buildings"].as_array().unwrap().len(),
            s.buildings.len()
        );
        assert_eq!(json["total"]["gpus"], s.total.gpus);
        assert_eq!(json["timeline"].as_array().unwrap().len(), s.timeline.len());
        for key in ["leaves", "spines", "super_spines"] {
            assert!(json["fabric"][key].is_u64(), "{name}: fabric.{key}");
        }
        for key in ["grid_interconnect_mw", "design_pue", "supply_mw"] {
            assert!(json["site"][key].is_f64(), "{name}: site.{key}");
        }
        let b0 = &json["buildings"][0];
        for key in ["name", "phase", "commissioned", "figures"] {
            assert!(b0.get(key).is_some(), "{name}: buildings[0].{key}");
        }
    }
    let json = serde_json::to_value(load("abilene").summary()).unwrap();
    assert_eq!(json["total"]["gpus"], 405_504);
    assert_eq!(json["buildings"].as_array().unwrap().len(), 8);
}
