//! How the world outside the process points into a campus. Location names
//! (`B3/H2/R0417/T05/G2`): every location of the presets round-trips name ->
//! id -> name under a name of its own, names survive racks added elsewhere,
//! random input never panics the parser, and every `NameError` says what is
//! wrong. The campus fingerprint: the same for the same campus however it is
//! written, different for any other.

use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

use abilene_model::{
    BuildingId, Campus, GpuId, HallId, Level, Location, NameError, RackId, TrayId, preset,
};
use proptest::prelude::*;

fn load(name: &str, text: &str) -> Campus {
    Campus::load(name, text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn preset_text(name: &str) -> &'static str {
    preset::preset(name).expect("shipped preset").toml
}

fn tiny() -> &'static Campus {
    static TINY: OnceLock<Campus> = OnceLock::new();
    TINY.get_or_init(|| load("tiny.toml", preset_text("tiny")))
}

fn abilene() -> &'static Campus {
    static ABILENE: OnceLock<Campus> = OnceLock::new();
    ABILENE.get_or_init(|| load("abilene.toml", preset_text("abilene")))
}

/// `text` with the one occurrence of `from` replaced by `to`.
#[track_caller]
fn edit(text: &str, from: &str, to: &str) -> String {
    let n = text.matches(from).count();
    assert_eq!(n, 1, "`{from}` occurs {n} times, expected exactly once");
    text.replacen(from, to, 1)
}

/// Every location of `c`, level by level.
fn locations(c: &Campus) -> impl Iterator<Item = Location> + '_ {
    let buildings = (0..c.buildings.len() as u16).map(|i| Location::Building(BuildingId(i)));
    let halls = (0..c.halls.len() as u16).map(|i| Location::Hall(HallId(i)));
    let racks = (0..c.racks.len() as u32).map(|i| Location::Rack(RackId(i)));
    let trays = (0..c.tray_count()).map(|i| Location::Tray(TrayId(i)));
    let gpus = (0..c.gpu_count()).map(|i| Location::Gpu(GpuId(i)));
    buildings.chain(halls).chain(racks).chain(trays).chain(gpus)
}

/// The name of `location`, checked to resolve back to it through `resolve`
/// and through its level's own resolver.
#[track_caller]
fn round_trip(c: &Campus, location: Location) -> String {
    let name = c.name(location);
    assert_eq!(c.resolve(&name), Ok(location), "{name}");
    let typed = match location {
        Location::Building(id) => {
            assert_eq!(c.building_name(id), name);
            c.resolve_building(&name).map(Location::Building)
        }
        Location::Hall(id) => {
            assert_eq!(c.hall_name(id), name);
            c.resolve_hall(&name).map(Location::Hall)
        }
        Location::Rack(id) => {
            assert_eq!(c.rack_name(id), name);
            c.resolve_rack(&name).map(Location::Rack)
        }
        Location::Tray(id) => {
            assert_eq!(c.tray_name(id), name);
            c.resolve_tray(&name).map(Location::Tray)
        }
        Location::Gpu(id) => {
            assert_eq!(c.gpu_name(id), name);
            c.resolve_gpu(&name).map(Location::Gpu)
        }
    };
    assert_eq!(typed, Ok(location), "{name}");
    name
}

#[test]
fn every_location_of_tiny_round_trips_under_its_own_name() {
    let c = tiny();
    let mut seen = HashSet::new();
    let mut per_level = BTreeMap::new();
    for location in locations(c) {
        let name = round_trip(c, location);
        *per_level.entry(location.level()).or_insert(0u32) += 1;
        assert!(seen.insert(name.clone()), "two locations are named {name}");
    }
    let want = [
        (Level::Building, 2),
        (Level::Hall, 3),
        (Level::Rack, 16),
        (Level::Tray, 16 * 18 - 4 * 14),
        (Level::Gpu, 992),
    ];
    assert_eq!(per_level, BTreeMap::from(want));
}

#[test]
fn a_name_spells_out_the_parents_and_the_position_in_each() {
    let c = tiny();
    for (t, tray) in c.trays.iter().enumerate() {
        let id = TrayId(t as u32);
        let name = c.tray_name(id);
        let parts: Vec<&str> = name.split('/').collect();
        assert_eq!(parts.len(), 4, "{name}");
        assert_eq!(parts[0], c.building_name(tray.building));
        assert_eq!(format!("{}/{}", parts[0], parts[1]), c.hall_name(tray.hall));
        assert_eq!(
            name.rsplit_once('/').unwrap().0,
            c.rack_name(tray.rack),
            "a tray's name is its rack's and its own part"
        );
        assert_eq!(
            parts[3],
            format!("T{:02}", tray.slot + 1),
            "slot {}",
            tray.slot
        );
        let hall = &c.halls[tray.hall.index()];
        let rack_number = tray.rack.0 - hall.racks.start + 1;
        assert_eq!(parts[2], format!("R{rack_number:04}"));
        for (g, gpu) in c.tray_gpus(id).enumerate() {
            assert_eq!(c.gpu_name(GpuId(gpu)), format!("{name}/G{g}"));
        }
    }
}

#[test]
fn every_rack_tray_and_gpu_of_abilene_round_trips_under_its_own_name() {
    let c = abilene();
    assert_eq!(c.gpu_count(), 405_504);
    let mut seen = HashSet::with_capacity(c.gpu_count() as usize + 110_000);
    let mut buf = String::new();
    for location in locations(c) {
        buf.clear();
        c.write_name(location, &mut buf);
        assert_eq!(c.resolve(&buf), Ok(location), "{buf}");
        assert!(seen.insert(buf.clone()), "two locations are named {buf}");
    }
    assert_eq!(
        seen.len(),
        8 + 32 + 5632 + 5632 * 18 + 405_504,
        "buildings, halls, racks, trays and GPUs"
    );
    // A round trip through each typed resolver, on a sample.
    for t in (0..c.tray_count()).step_by(97) {
        round_trip(c, Location::Tray(TrayId(t)));
    }
    assert_eq!(c.rack_name(RackId(0)), "B1/H1/R0001");
    assert_eq!(c.rack_name(RackId(5631)), "B8/H4/R0176");
    assert_eq!(
        c.gpu_name(GpuId(405_503)),
        "B8/H4/R0176/T18/G3",
        "the last GPU"
    );
}

#[test]
fn write_tray_name_appends_the_same_name() {
    let c = abilene();
    let mut buf = String::from("trays:");
    let mut want = String::from("trays:");
    for t in (0..c.tray_count()).step_by(1013) {
        buf.push(' ');
        c.write_tray_name(TrayId(t), &mut buf);
        want.push(' ');
        want.push_str(&c.tray_name(TrayId(t)));
    }
    assert_eq!(buf, want);
}

#[test]
fn names_sort_as_text_in_floor_plan_order() {
    let c = abilene();
    for hall in &c.halls {
        let names: Vec<String> = hall.racks.clone().map(|r| c.rack_name(RackId(r))).collect();
        assert!(names.is_sorted(), "racks of {}", hall.name);
        for r in hall.racks.clone() {
            let trays = c.racks[r as usize].trays.clone();
            let names: Vec<String> = trays.map(|t| c.tray_name(TrayId(t))).collect();
            assert!(names.is_sorted(), "trays of {}", c.rack_name(RackId(r)));
        }
    }
}

// ---------------------------------------------------------------------------
// Widths: wider numbers only where a hall or rack needs them.

/// One building: a hall of 10,010 one-tray racks and a hall of two racks of
/// 120 trays of 12 GPUs.
const WIDE: &str = r#"
[site]
name = "Widths"
location = "test"
grid_interconnect_mw = 100.0
design_pue = 1.1
power_factor = 0.95

[fabric.leaf]
radix = 64
oversubscription = 1.0
[fabric.spine]
radix = 64
oversubscription = 1.0
[fabric.super_spine]
radix = 64

[sku.wide]
name = "One-node rack"
gpu = "X1"
trays_per_rack = 1
gpus_per_tray = 1
nvlink_domain_trays = 1
gpu_tdp_w = 300.0
rack_kw_typical = 0.5
rack_kw_max = 0.6
power_shelves = 0
psus = 1
psu_kw = 1.0
liquid_cooled_share = 0.0
nics_per_gpu = 1
nic_gbps = 400
fp8_pflops = 1.0
bf16_pflops = 0.5
hbm_gb = 80.0

[sku.deep]
name = "Deep rack"
gpu = "X2"
trays_per_rack = 120
gpus_per_tray = 12
nvlink_domain_trays = 1
gpu_tdp_w = 10.0
rack_kw_typical = 15.0
rack_kw_max = 20.0
power_shelves = 1
psus = 4
psu_kw = 5.5
liquid_cooled_share = 0.0
nics_per_gpu = 1
nic_gbps = 100
fp8_pflops = 0.1
bf16_pflops = 0.05
hbm_gb = 16.0

[hall_template.any]
scalable_units = [{ sku = "wide", count = 1, racks_per_unit = 1 }]
cooling = { cdu = { count = 2, capacity_kw = 50000.0, redundant = 1 }, facility_loop_mw = 50.0, air_handlers_mw = 50.0, heat_rejection = { dry_coolers = 1, dry_cooler_mw = 50.0, chillers_mw = 0.0, design_ambient_c = 35.0 } }
power = { utility_feed_mw = 50.0, substation_mva = 60.0, switchgear_mva = 60.0, transformers = { count = 2, mva_each = 60.0, redundant = 1 } }

[[building]]
id = "W"
phase = 1
commissioned = "2026-01-01"
hall = [
    { id = "big", template = "any", scalable_units = [{ sku = "wide", count = 1001, racks_per_unit = 10 }] },
    { id = "deep", template = "any", scalable_units = [{ sku = "deep", count = 1, racks_per_unit = 2 }] },
]
"#;

#[test]
fn numbers_widen_only_in_a_hall_or_rack_that_needs_it() {
    let c = load("wide.toml", WIDE);
    assert_eq!(c.racks.len(), 10_012);
    let mut seen = HashSet::new();
    for location in locations(&c) {
        assert!(seen.insert(round_trip(&c, location)));
    }
    assert_eq!(c.rack_name(RackId(0)), "W/big/R00001");
    assert_eq!(c.rack_name(RackId(10_009)), "W/big/R10010");
    assert_eq!(c.rack_name(RackId(10_010)), "W/deep/R0001");
    let deep = &c.racks[10_011];
    assert_eq!(c.tray_name(TrayId(deep.trays.start)), "W/deep/R0002/T001");
    let last = TrayId(deep.trays.end - 1);
    assert_eq!(c.tray_name(last), "W/deep/R0002/T120");
    assert_eq!(
        c.gpu_name(GpuId(c.gpu_count() - 1)),
        "W/deep/R0002/T120/G11"
    );
    assert_eq!(
        c.resolve("W/big/R0001").unwrap_err().to_string(),
        "malformed rack part `R0001` in `W/big/R0001`: expected `R` and 5 digits: `R00001`"
    );
    assert_eq!(
        c.resolve("W/deep/R0001/T01").unwrap_err().to_string(),
        "malformed tray part `T01` in `W/deep/R0001/T01`: expected `T` and 3 digits: `T001`"
    );
    assert_eq!(
        c.resolve("W/deep/R0001/T001/G01").unwrap_err().to_string(),
        "malformed gpu part `G01` in `W/deep/R0001/T001/G01`: expected `G` and a number without leading zeros: `G1`",
        "GPU numbers are never padded, even in a tray of 12"
    );
    assert_eq!(
        c.resolve_gpu("W/deep/R0001/T001/G11"),
        Ok(GpuId(
            c.tray_gpus(TrayId(c.racks[10_010].trays.start)).end - 1
        ))
    );
}

// ---------------------------------------------------------------------------
// Stability: racks added elsewhere rename nothing.

/// For each hall, by name: the name of each of its racks and trays, and the
/// rack type there.
fn names_by_hall(c: &Campus) -> BTreeMap<String, BTreeMap<String, (Location, String)>> {
    let mut out: BTreeMap<String, BTreeMap<String, (Location, String)>> = BTreeMap::new();
    for (r, rack) in c.racks.iter().enumerate() {
        let hall = out.entry(c.hall_name(rack.hall)).or_default();
        let sku = c.catalog.key(rack.sku).to_string();
        let id = RackId(r as u32);
        hall.insert(c.rack_name(id), (Location::Rack(id), sku.clone()));
        for t in rack.trays.clone() {
            let id = TrayId(t);
            hall.insert(c.tray_name(id), (Location::Tray(id), sku.clone()));
        }
    }
    out
}

/// Checks that `after` names every rack and tray of `before`'s halls other
/// than `changed` exactly as `before` does, with the same rack type behind
/// each name; returns how many of those names now stand for another id.
#[track_caller]
fn assert_unchanged_but(before: &Campus, after: &Campus, changed: &[&str]) -> usize {
    let (old, new) = (names_by_hall(before), names_by_hall(after));
    let mut moved = 0;
    for (hall, names) in &old {
        if changed.contains(&hall.as_str()) {
            continue;
        }
        let now = new
            .get(hall)
            .unwrap_or_else(|| panic!("hall {hall} is gone"));
        let (was, is): (Vec<&String>, Vec<&String>) =
            (names.keys().collect(), now.keys().collect());
        assert_eq!(was, is, "the names in hall {hall} changed");
        for (name, (id, sku)) in names {
            let (new_id, new_sku) = &now[name];
            assert_eq!(sku, new_sku, "{name} is another rack type now");
            assert_eq!(after.resolve(name), Ok(*new_id), "{name}");
            moved += usize::from(id != new_id);
        }
    }
    moved
}

#[test]
fn more_racks_in_one_hall_rename_nothing_in_the_others() {
    let text = preset_text("tiny");
    let grown = edit(
        text,
        "sku = \"gb300-nvl72\", count = 1",
        "sku = \"gb300-nvl72\", count = 2",
    );
    let (before, after) = (tiny(), load("grown.toml", &grown));
    assert_eq!(after.racks.len(), before.racks.len() + 4);
    // B2/H2 comes after the grown hall: its ids all shift, its names do not.
    let moved = assert_unchanged_but(before, &after, &["B2/H1"]);
    assert_eq!(
        moved,
        4 + 4 * 4,
        "B2/H2's 4 racks and 16 trays have new ids"
    );
    // The grown hall keeps the names of the racks it had, on the same ids,
    // and names the new ones after them.
    let (old, new) = (names_by_hall(before), names_by_hall(&after));
    for (name, entry) in &old["B2/H1"] {
        assert_eq!(new["B2/H1"].get(name), Some(entry), "{name}");
    }
    assert!(new["B2/H1"].contains_key("B2/H1/R0008/T18"));
    assert!(after.resolve("B2/H1/R0009").is_err());
}

#[test]
fn a_new_building_or_hall_in_front_renames_nothing() {
    let text = preset_text("tiny");
    let front = "[[building]]\nid = \"B0\"\nphase = 1\ncommissioned = \"2025-01-01\"\nhall = [{ id = \"H1\", template = \"small-gb200\" }]\n\n";
    let with_building = edit(
        text,
        "[[building]]\nid = \"B1\"",
        &format!("{front}[[building]]\nid = \"B1\""),
    );
    let after = load("front.toml", &with_building);
    assert_eq!(after.building_name(BuildingId(0)), "B0");
    let moved = assert_unchanged_but(tiny(), &after, &[]);
    assert_eq!(moved, 16 + 232, "every rack and tray has a new id");

    let with_hall = edit(
        text,
        "commissioned = \"2025-06-01\"\n",
        "commissioned = \"2025-06-01\"\n\n[[building.hall]]\nid = \"H0\"\ntemplate = \"small-gb200\"\n",
    );
    let after = load("hall.toml", &with_hall);
    assert_eq!(after.hall_name(HallId(0)), "B1/H0");
    let moved = assert_unchanged_but(tiny(), &after, &[]);
    assert_eq!(moved, 16 + 232, "every rack and tray has a new id");
}

#[test]
fn a_new_building_at_the_end_changes_no_id_or_name() {
    let back = "\n[[building]]\nid = \"B3\"\nphase = 3\ncommissioned = \"2027-01-01\"\nhall = [{ id = \"H1\", template = \"small-gb200\" }]\n";
    let after = load("back.toml", &format!("{}{back}", preset_text("tiny")));
    assert_eq!(assert_unchanged_but(tiny(), &after, &[]), 0);
    assert_eq!(after.rack_name(RackId(16)), "B3/H1/R0001");
}

#[test]
fn a_group_inserted_first_renumbers_its_own_hall_only() {
    // As on the floor plan: the racks after the new ones move down the row.
    let text = edit(
        preset_text("tiny"),
        "[{ sku = \"gb300-nvl72\", count = 1, racks_per_unit = 4 }]",
        "[{ sku = \"gb200-nvl72\", count = 1, racks_per_unit = 4 }, { sku = \"gb300-nvl72\", count = 1, racks_per_unit = 4 }]",
    );
    let after = load("inserted.toml", &text);
    assert_unchanged_but(tiny(), &after, &["B2/H1"]);
    let gb300 = |c: &Campus, name: &str| {
        let r = c.resolve_rack(name).unwrap();
        c.catalog.key(c.racks[r.index()].sku).to_string()
    };
    assert_eq!(gb300(tiny(), "B2/H1/R0001"), "gb300-nvl72");
    assert_eq!(gb300(&after, "B2/H1/R0001"), "gb200-nvl72");
    assert_eq!(gb300(&after, "B2/H1/R0005"), "gb300-nvl72");
}

// ---------------------------------------------------------------------------
// Errors: each variant, with its message.

#[track_caller]
fn error(name: &str) -> NameError {
    match tiny().resolve(name) {
        Ok(location) => panic!("`{name}` resolved to {location:?}"),
        Err(e) => e,
    }
}

#[track_caller]
fn message(name: &str) -> String {
    error(name).to_string()
}

#[test]
fn empty_name() {
    assert_eq!(error(""), NameError::Empty);
    assert_eq!(
        message(""),
        "empty name: expected a location such as `B3/H2/R0417/T05`"
    );
}

#[test]
fn empty_part() {
    for (name, level) in [
        ("/B1", Level::Building),
        ("/", Level::Building),
        ("B1/", Level::Hall),
        ("B1//R0001", Level::Hall),
        ("B1/H1/", Level::Rack),
        ("B1/H1/R0001//G0", Level::Tray),
        ("B1/H1/R0001/T01/", Level::Gpu),
    ] {
        assert_eq!(
            error(name),
            NameError::EmptyPart {
                name: name.to_string(),
                level
            }
        );
    }
    assert_eq!(message("B1//R0001"), "`B1//R0001` has an empty hall part");
}

#[test]
fn too_many_parts() {
    assert_eq!(
        message("B1/H1/R0001/T01/G0/X"),
        "`B1/H1/R0001/T01/G0/X` has 6 parts; a name has at most 5: building/hall/rack/tray/gpu"
    );
    assert!(matches!(
        error("B9/////"),
        NameError::TooManyParts { parts: 6, .. }
    ));
}

#[test]
fn unknown_building() {
    assert_eq!(
        message("B9/H1/R0001"),
        "unknown building `B9` in `B9/H1/R0001`; known: B1, B2"
    );
    assert_eq!(
        error("b1"),
        NameError::UnknownBuilding {
            name: "b1".into(),
            building: "b1".into(),
            known: vec!["B1".into(), "B2".into()],
        },
        "ids are case-sensitive"
    );
}

#[test]
fn unknown_hall() {
    assert_eq!(
        message("B2/H7/R0001"),
        "unknown hall `H7` in building B2 (`B2/H7/R0001`); B2 has: H1, H2"
    );
    // H2 exists, but in B2 only.
    assert_eq!(
        message("B1/H2"),
        "unknown hall `H2` in building B1 (`B1/H2`); B1 has: H1"
    );
}

#[test]
fn malformed_parts() {
    assert_eq!(
        message("B1/H1/X0001"),
        "malformed rack part `X0001` in `B1/H1/X0001`: expected `R` and 4 digits, like `R0001`"
    );
    assert_eq!(
        message("B1/H1/R1"),
        "malformed rack part `R1` in `B1/H1/R1`: expected `R` and 4 digits: `R0001`"
    );
    assert_eq!(
        message("B1/H1/R0001/T1"),
        "malformed tray part `T1` in `B1/H1/R0001/T1`: expected `T` and 2 digits: `T01`"
    );
    assert_eq!(
        message("B1/H1/R0001/T01/GPU0"),
        "malformed gpu part `GPU0` in `B1/H1/R0001/T01/GPU0`: expected `G` and a number without leading zeros, like `G0`"
    );
    assert_eq!(
        error("B1/H1/R0001/T01/G03"),
        NameError::Malformed {
            name: "B1/H1/R0001/T01/G03".into(),
            level: Level::Gpu,
            part: "G03".into(),
            expected: "`G` and a number without leading zeros: `G3`".into(),
        }
    );
}

#[test]
fn rack_out_of_range() {
    assert_eq!(
        message("B1/H1/R9000"),
        "rack 9000 out of range in `B1/H1/R9000`: hall B1/H1 has racks 1..=8"
    );
    assert_eq!(
        error("B1/H1/R0000/T01"),
        NameError::RackOutOfRange {
            name: "B1/H1/R0000/T01".into(),
            hall: "B1/H1".into(),
            number: "0000".into(),
            count: 8,
        }
    );
    // Too many digits for any integer is out of range too, not a panic.
    let huge = format!("B1/H1/R{}", "9".repeat(40));
    assert!(matches!(
        error(&huge),
        NameError::RackOutOfRange { count: 8, .. }
    ));
}

#[test]
fn tray_out_of_range() {
    assert_eq!(
        message("B1/H1/R0001/T19"),
        "tray 19 out of range in `B1/H1/R0001/T19`: rack B1/H1/R0001 has trays 1..=18"
    );
    assert_eq!(
        message("B2/H2/R0004/T05/G0"),
        "tray 05 out of range in `B2/H2/R0004/T05/G0`: rack B2/H2/R0004 has trays 1..=4"
    );
}

#[test]
fn gpu_out_of_range() {
    assert_eq!(
        message("B2/H2/R0001/T01/G8"),
        "gpu 8 out of range in `B2/H2/R0001/T01/G8`: tray B2/H2/R0001/T01 has GPUs 0..=7"
    );
    assert_eq!(
        error("B1/H1/R0001/T01/G4"),
        NameError::GpuOutOfRange {
            name: "B1/H1/R0001/T01/G4".into(),
            tray: "B1/H1/R0001/T01".into(),
            number: "4".into(),
            count: 4,
        }
    );
}

#[test]
fn wrong_level() {
    let c = tiny();
    assert_eq!(
        c.resolve_tray("B1/H1/R0001").unwrap_err().to_string(),
        "expected a tray name, got a rack name: `B1/H1/R0001`"
    );
    assert_eq!(
        c.resolve_rack("B1/H1/R0001/T01/G0").unwrap_err(),
        NameError::WrongLevel {
            name: "B1/H1/R0001/T01/G0".into(),
            expected: Level::Rack,
            got: Level::Gpu,
        }
    );
    assert_eq!(
        c.resolve_building("B1/H1").unwrap_err().to_string(),
        "expected a building name, got a hall name: `B1/H1`"
    );
    assert_eq!(
        c.resolve_hall("B2").unwrap_err().to_string(),
        "expected a hall name, got a building name: `B2`"
    );
    assert_eq!(
        c.resolve_gpu("B2/H2/R0001/T01").unwrap_err().to_string(),
        "expected a gpu name, got a tray name: `B2/H2/R0001/T01`"
    );
    // A name that resolves to nothing says why, whatever level was asked for.
    assert!(matches!(
        c.resolve_tray("B9/H1/R0001/T01"),
        Err(NameError::UnknownBuilding { .. })
    ));
}

// ---------------------------------------------------------------------------
// Properties.

/// A location of `c` from a level and any number.
fn location(c: &Campus, level: u8, n: u32) -> Location {
    match level % 5 {
        0 => Location::Building(BuildingId((n % c.buildings.len() as u32) as u16)),
        1 => Location::Hall(HallId((n % c.halls.len() as u32) as u16)),
        2 => Location::Rack(RackId(n % c.racks.len() as u32)),
        3 => Location::Tray(TrayId(n % c.tray_count())),
        _ => Location::Gpu(GpuId(n % c.gpu_count())),
    }
}

/// A part that is mostly valid somewhere in tiny, else junk.
fn part(good: &'static str, junk: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![4 => good, 1 => junk]
}

/// Names close to valid ones, so that random cases reach every level.
fn near_name() -> impl Strategy<Value = String> {
    let parts = (
        part("B[12]", "(B[0-9]{0,2}|b1|B1 |)"),
        part("H[12]", "(H[0-9]{0,2}|R0001|)"),
        part("R000[1-8]", "(R[0-9]{0,6}|r0001|T01|R\\+001|R-001|)"),
        part("T(0[1-9]|1[0-8])", "(T[0-9]{0,4}|G0|T٠١|)"),
        part("G[0-7]", "(G[0-9]{0,3}|G|g1|)"),
        "[A-Z0-9/]{0,3}",
    );
    (1usize..=6, parts)
        .prop_map(|(depth, (b, h, r, t, g, extra))| [b, h, r, t, g, extra][..depth].join("/"))
}

/// `name` either resolves to a location whose name it is, or is refused
/// with a message that quotes it.
fn check_any(c: &Campus, name: &str) -> Result<(), TestCaseError> {
    match c.resolve(name) {
        Ok(location) => prop_assert_eq!(c.name(location), name, "one spelling per location"),
        Err(e) => {
            let msg = e.to_string();
            prop_assert!(!msg.is_empty());
            prop_assert!(
                name.is_empty() || msg.contains(name),
                "{} lacks {}",
                msg,
                name
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_ids_round_trip(level in 0u8..5, n in any::<u32>()) {
        for c in [tiny(), abilene()] {
            let location = location(c, level, n);
            let name = c.name(location);
            prop_assert_eq!(c.resolve(&name), Ok(location), "{}", name);
        }
    }

    #[test]
    fn random_strings_never_panic_the_parser(s in "\\PC{0,40}") {
        check_any(tiny(), &s)?;
        check_any(abilene(), &s)?;
    }

    #[test]
    fn near_miss_names_never_panic_and_resolve_only_canonically(s in near_name()) {
        check_any(tiny(), &s)?;
        check_any(abilene(), &s)?;
    }
}

#[test]
fn near_miss_names_reach_every_level() {
    // Guard against a generator that stops reaching the deep levels.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut resolved = BTreeMap::new();
    for _ in 0..5_000 {
        let s = near_name().new_tree(&mut runner).unwrap().current();
        if let Ok(location) = tiny().resolve(&s) {
            *resolved.entry(location.level()).or_insert(0) += 1;
        }
    }
    for level in [
        Level::Building,
        Level::Hall,
        Level::Rack,
        Level::Tray,
        Level::Gpu,
    ] {
        assert!(
            resolved.get(&level).copied().unwrap_or(0) > 0,
            "no {level} name resolved: {resolved:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// The fingerprint.

#[track_caller]
fn fingerprint(text: &str) -> String {
    load("fingerprint.toml", text).fingerprint()
}

#[test]
fn fingerprint_is_hex_sha256_and_stable_across_loads() {
    let f = tiny().fingerprint();
    assert_eq!(f.len(), 64);
    assert!(
        f.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{f}"
    );
    assert_eq!(fingerprint(preset_text("tiny")), f);
    assert_eq!(tiny().clone().fingerprint(), f);
    // Through the spec's own TOML, as a snapshot would store it.
    let spec = toml::to_string(&tiny().spec).unwrap();
    assert_eq!(fingerprint(&spec), f);
    let mut all: Vec<String> = preset::PRESETS
        .iter()
        .map(|p| fingerprint(p.toml))
        .collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), preset::PRESETS.len(), "presets differ");
}

#[test]
fn fingerprint_of_tiny_is_pinned() {
    // The canonical form is the `toml` crate's rendering of the spec (checked
    // once against `sha256sum` of that text). If this fails after a change to
    // presets/tiny.toml or presets/catalog.toml, update the value. If it fails
    // after a dependency upgrade alone, that upgrade changes every campus's
    // fingerprint, and so invalidates every stored snapshot.
    assert_eq!(
        tiny().fingerprint(),
        "076932b64a092295784dbd8d4cef2ef0de83685f393a3046c653729004d3c778"
    );
}

#[test]
fn fingerprint_ignores_comments_whitespace_key_order_and_number_spelling() {
    let text = preset_text("tiny");
    let f = tiny().fingerprint();
    let edits: [(&str, &str, &str); 6] = [
        (
            "[site]\n",
            "# a comment\n\n[site]   # and another\n\n",
            "comments",
        ),
        (
            "grid_interconnect_mw = 5.0",
            "grid_interconnect_mw   =   5.000",
            "spacing, digits",
        ),
        ("mw_each = 2.0", "mw_each = 2e0", "exponent"),
        ("count = 1\nmw_each", "count = +1\nmw_each", "a plus sign"),
        (
            "id = \"B1\"\nphase = 1\n",
            "phase = 1\nid = \"B1\"\n",
            "key order",
        ),
        ("name = \"Tiny\"", "name = 'Tiny'", "a literal string"),
    ];
    for (from, to, what) in edits {
        assert_eq!(fingerprint(&edit(text, from, to)), f, "{what}");
    }
}

#[test]
fn fingerprint_changes_with_any_figure_or_id() {
    let text = preset_text("tiny");
    let f = tiny().fingerprint();
    let edits = [
        ("grid_interconnect_mw = 5.0", "grid_interconnect_mw = 5.5"),
        ("name = \"Tiny\"", "name = \"Tiny 2\""),
        ("id = \"B2\"", "id = \"B3\""),
        (
            "sku = \"gb300-nvl72\", count = 1",
            "sku = \"gb300-nvl72\", count = 2",
        ),
        ("capacity_kw = 100.0", "capacity_kw = 101.0"),
        ("ups_mw = 0.2", "ups_mw = 0.21"),
        (
            "commissioned = \"2026-01-15\"",
            "commissioned = \"2026-01-16\"",
        ),
    ];
    let mut seen = HashSet::from([f]);
    for (from, to) in edits {
        assert!(seen.insert(fingerprint(&edit(text, from, to))), "{to}");
    }
}

/// `text` with `[sku.KEY]` tables written in before its first hall template.
fn with_skus(text: &str, skus: &str) -> String {
    edit(
        text,
        "[hall_template.small-gb200]",
        &format!("{skus}\n[hall_template.small-gb200]"),
    )
}

fn builtin_sku_toml(key: &str) -> String {
    let sku = &abilene_model::catalog::builtin_skus()[key];
    format!("[sku.{key}]\n{}", toml::to_string(sku).unwrap())
}

#[test]
fn fingerprint_covers_the_rack_types_the_campus_resolves() {
    let text = preset_text("tiny");
    let f = tiny().fingerprint();
    // Writing out a built-in unchanged is the same campus.
    let same = with_skus(text, &builtin_sku_toml("gb200-nvl72"));
    assert_eq!(fingerprint(&same), f);
    // Changing a built-in's figure is not, whether or not a hall uses it.
    for key in ["gb200-nvl72", "hgx-b200"] {
        let sku = builtin_sku_toml(key);
        let line = sku.lines().find(|l| l.starts_with("hbm_gb")).unwrap();
        let changed = sku.replace(line, "hbm_gb = 1.0");
        assert_ne!(fingerprint(&with_skus(text, &changed)), f, "{key}");
    }
    // A rack type of its own shifts the SkuIds even if no hall uses it.
    let extra = builtin_sku_toml("hgx-b200").replace("[sku.hgx-b200]", "[sku.aaa-unused]");
    assert_ne!(fingerprint(&with_skus(text, &extra)), f);
}
