//! Every problem `Campus::load` can report, each provoked by one targeted edit
//! of the `tiny` preset and checked for its field path, its 1-based line (found
//! by searching the edited text, never hard-coded) and the gist of its message.
//!
//! The tests follow `crates/model/src/validate.rs` top to bottom: the campus
//! and building checks in `validate`, then `Validator::site`, `fabric`, `sku`,
//! `unit_groups`, `cooling`, `power` and `hall`; then the errors the TOML
//! deserialiser raises before validation runs.

use abilene_model::{Campus, Problem, preset};

const FILE: &str = "broken.toml";

fn tiny() -> &'static str {
    preset::preset("tiny").expect("tiny preset").toml
}

fn abilene() -> &'static str {
    preset::preset("abilene").expect("abilene preset").toml
}

/// `text` with the one occurrence of `from` replaced by `to`.
#[track_caller]
fn edit(text: &str, from: &str, to: &str) -> String {
    let n = text.matches(from).count();
    assert_eq!(n, 1, "`{from}` occurs {n} times, expected exactly once");
    text.replacen(from, to, 1)
}

/// Byte offset of the `nth` (0-based) occurrence of `needle`.
#[track_caller]
fn offset_of_nth(text: &str, needle: &str, nth: usize) -> usize {
    text.match_indices(needle)
        .nth(nth)
        .unwrap_or_else(|| panic!("`{needle}` does not occur {} times", nth + 1))
        .0
}

fn line_at(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

/// 1-based line of the first occurrence of `needle`, which must occur once.
#[track_caller]
fn line_of(text: &str, needle: &str) -> usize {
    let n = text.matches(needle).count();
    assert_eq!(n, 1, "`{needle}` occurs {n} times, expected exactly once");
    line_at(text, offset_of_nth(text, needle, 0))
}

/// 1-based line of the `nth` (0-based) occurrence of `needle`.
#[track_caller]
fn line_of_nth(text: &str, needle: &str, nth: usize) -> usize {
    line_at(text, offset_of_nth(text, needle, nth))
}

/// 1-based line of the first `needle` after the first `anchor`.
#[track_caller]
fn line_after(text: &str, anchor: &str, needle: &str) -> usize {
    let start = offset_of_nth(text, anchor, 0);
    let rel = text[start..]
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` does not occur after `{anchor}`"));
    line_at(text, start + rel)
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The problems of a campus file that must not load.
#[track_caller]
fn problems(text: &str) -> Vec<Problem> {
    match Campus::load(FILE, text) {
        Ok(_) => panic!("expected the campus to be rejected, but it loaded"),
        Err(e) => {
            assert!(!e.problems.is_empty(), "a LoadError without problems");
            for p in &e.problems {
                assert_eq!(p.file, FILE, "problem names the wrong file: {p}");
                assert!(p.line >= 1 && p.column >= 1, "unplaced problem: {p}");
            }
            e.problems
        }
    }
}

/// The problem at `field` whose message contains `part`.
#[track_caller]
fn find<'a>(problems: &'a [Problem], field: &str, part: &str) -> &'a Problem {
    problems
        .iter()
        .find(|p| p.field == field && p.message.contains(part))
        .unwrap_or_else(|| {
            panic!(
                "no problem at `{field}` with `{part}` in its message; got:\n{}",
                list(problems)
            )
        })
}

/// `text` reports a problem at `field`, on `line`, with `part` in its
/// message; returns all its problems.
#[track_caller]
fn expect(text: &str, field: &str, line: usize, part: &str) -> Vec<Problem> {
    let all = problems(text);
    let p = find(&all, field, part);
    assert_eq!(p.line, line, "wrong line for {p}; all:\n{}", list(&all));
    all
}

/// As [`expect`], and that problem is the only one.
#[track_caller]
fn expect_only(text: &str, field: &str, line: usize, part: &str) {
    let all = expect(text, field, line, part);
    assert_eq!(all.len(), 1, "expected one problem, got:\n{}", list(&all));
}

/// A valid rack type of our own, added to the campus as `[sku.custom]`.
const CUSTOM_SKU: &str = r#"[sku.custom]
name = "Custom rack"
gpu = "X1"
trays_per_rack = 8
gpus_per_tray = 4
nvlink_domain_trays = 8
gpu_tdp_w = 1000.0
rack_kw_typical = 30.0
rack_kw_max = 40.0
power_shelves = 2
psus = 8
psu_kw = 5.5
liquid_cooled_share = 0.5
nics_per_gpu = 1
nic_gbps = 400
fp8_pflops = 4.0
bf16_pflops = 2.0
hbm_gb = 192.0

"#;

/// The tiny campus with `[sku.custom]`, its line `from` replaced by `to`.
#[track_caller]
fn tiny_with_sku(from: &str, to: &str) -> String {
    let sku = edit(CUSTOM_SKU, from, to);
    edit(
        tiny(),
        "[hall_template.small-gb200]",
        &format!("{sku}[hall_template.small-gb200]"),
    )
}

// ---------------------------------------------------------------------------
// Baselines: the unedited inputs load, so every rejection below is the edit's.

#[test]
fn tiny_preset_loads_cleanly() {
    let campus = Campus::load(FILE, tiny()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(campus.gpu_count(), 992);
    assert!(abilene_model::validate::validate(&campus.spec).is_empty());
}

#[test]
fn tiny_preset_with_a_valid_custom_sku_loads() {
    let text = tiny_with_sku("name = \"Custom rack\"", "name = \"Custom rack\"");
    let campus = Campus::load(FILE, &text).unwrap_or_else(|e| panic!("{e}"));
    assert!(campus.catalog.lookup("custom").is_some());
}

// ---------------------------------------------------------------------------
// validate(): buildings and the campus as a whole.

#[test]
fn building_id_empty() {
    let text = edit(tiny(), "id = \"B2\"", "id = \"  \"");
    expect_only(
        &text,
        "building[1].id",
        line_of(&text, "id = \"  \""),
        "building id is empty",
    );
}

#[test]
fn building_id_duplicate() {
    let text = edit(tiny(), "id = \"B2\"", "id = \"B1\"");
    expect_only(
        &text,
        "building[1].id",
        line_of_nth(&text, "id = \"B1\"", 1),
        "duplicate building id `B1` (first used by building[0])",
    );
}

#[test]

fn third_duplicate_id_names_the_first_use() {
    let third = "\n[[building]]\nid = \"B1\"\nphase = 3\ncommissioned = \"2027-01-01\"\nhall = [{ id = \"H1\", template = \"small-gb200\" }]\n";
    let text = format!("{}{third}", edit(tiny(), "id = \"B2\"", "id = \"B1\""));
    let all = problems(&text);
    let p = find(&all, "building[2].id", "duplicate building id `B1`");
    assert_eq!(p.line, line_of_nth(&text, "id = \"B1\"", 2));
    assert!(
        p.message.contains("first used by building[0]"),
        "the first use of `B1` is building[0]: {p}"
    );
    // The same for halls: B2 gets three halls named H1.
    let text = edit(
        &edit(tiny(), "id = \"H2\"", "id = \"H1\""),
        "# A hall written out in full",
        "[[building.hall]]\nid = \"H1\"\ntemplate = \"small-gb200\"\n\n# A hall written out in full",
    );
    let all = problems(&text);
    let p = find(&all, "building[1].hall[2].id", "duplicate hall id `H1`");
    assert!(p.message.contains("first used by hall[0]"), "{p}");
}

#[test]
fn building_phase_zero() {
    let text = edit(tiny(), "phase = 2", "phase = 0");
    expect_only(
        &text,
        "building[1].phase",
        line_of(&text, "phase = 0"),
        "phase must be 1 or more",
    );
}

#[test]
fn building_commissioned_not_a_date() {
    for (bad, why) in [
        ("2026-02-30", "no such day in that month"),
        ("2026-13-01", "month must be 01 to 12"),
        ("2026-1-15", "expected 4-digit year, 2-digit month and day"),
        ("2026/01/15", "expected three parts separated by '-'"),
        ("2026-0x-15", "expected digits"),
    ] {
        let to = format!("commissioned = \"{bad}\"");
        let text = edit(tiny(), "commissioned = \"2026-01-15\"", &to);
        expect_only(
            &text,
            "building[1].commissioned",
            line_of(&text, &to),
            &format!("`{bad}` is not a date of the form YYYY-MM-DD: {why}"),
        );
    }
}

#[test]
fn building_without_halls() {
    // B1 loses its one hall table and says `hall = []` instead.
    let text = edit(
        tiny(),
        "commissioned = \"2025-06-01\"\n\n[[building.hall]]\nid = \"H1\"\ntemplate = \"small-gb200\"\n",
        "commissioned = \"2025-06-01\"\nhall = []\n",
    );
    expect_only(
        &text,
        "building[0].hall",
        line_of(&text, "hall = []"),
        "building has no halls",
    );
}

#[test]
fn hall_id_empty() {
    let text = edit(tiny(), "id = \"H2\"", "id = \"\"");
    expect_only(
        &text,
        "building[1].hall[1].id",
        line_of(&text, "id = \"\""),
        "hall id is empty",
    );
}

#[test]
fn hall_id_duplicate_in_one_building() {
    let text = edit(tiny(), "id = \"H2\"", "id = \"H1\"");
    // B2's halls are the 2nd and 3rd `id = "H1"` of the file.
    expect_only(
        &text,
        "building[1].hall[1].id",
        line_of_nth(&text, "id = \"H1\"", 2),
        "duplicate hall id `H1` in building `B2` (first used by hall[0])",
    );
}

#[test]
fn same_hall_id_in_two_buildings_is_fine() {
    // tiny has H1 in both B1 and B2; hall ids are per building.
    assert_eq!(tiny().matches("id = \"H1\"").count(), 2);
    assert!(Campus::load(FILE, tiny()).is_ok());
}

#[test]
fn building_id_with_a_slash() {
    let text = edit(tiny(), "id = \"B2\"", "id = \"B/2\"");
    expect_only(
        &text,
        "building[1].id",
        line_of(&text, "id = \"B/2\""),
        "building id `B/2` may not contain '/': ids use only A-Z, a-z, 0-9, `_`, `.` and `-`, as they start location names like `B3/H2/R0417`",
    );
}

#[test]
fn building_id_names_each_bad_character_once() {
    let text = edit(tiny(), "id = \"B2\"", "id = \"B 2/é /\"");
    expect_only(
        &text,
        "building[1].id",
        line_of(&text, "id = \"B 2/é /\""),
        "building id `B 2/é /` may not contain ' ', '/', 'é': ids use only",
    );
}

#[test]
fn hall_id_with_a_space() {
    let text = edit(tiny(), "id = \"H2\"", "id = \"Hall 2\"");
    expect_only(
        &text,
        "building[1].hall[1].id",
        line_of(&text, "id = \"Hall 2\""),
        "hall id `Hall 2` in building `B2` may not contain ' ': ids use only",
    );
}

#[test]
fn hall_id_in_an_inline_hall_with_a_slash() {
    let hall = "\n[[building]]\nid = \"B3\"\nphase = 3\ncommissioned = \"2027-01-01\"\nhall = [{ id = \"H/1\", template = \"small-gb200\" }]\n";
    let text = format!("{}{hall}", tiny());
    expect_only(
        &text,
        "building[2].hall[0].id",
        line_of(&text, "id = \"H/1\""),
        "hall id `H/1` in building `B3` may not contain '/'",
    );
}

#[test]
fn ids_may_use_letters_digits_underscores_dots_and_dashes() {
    let text = edit(
        &edit(tiny(), "id = \"B2\"", "id = \"b_2.East-9\""),
        "id = \"H2\"",
        "id = \"h.2_west-A\"",
    );
    let campus = Campus::load(FILE, &text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(campus.buildings[1].name, "b_2.East-9");
    assert_eq!(campus.halls[2].name, "h.2_west-A");
}

#[test]
fn campus_without_buildings() {
    let t = tiny();
    let cut = t.find("[[building]]").expect("tiny has buildings");
    let text = format!("building = []\n{}", &t[..cut]);
    expect_only(
        &text,
        "building",
        line_of(&text, "building = []"),
        "campus has no buildings",
    );
}

#[test]
fn campus_with_too_many_halls() {
    // 3 halls in tiny plus 65,533 here: one more than the u16 hall ids allow.
    let extra = 65_533;
    let mut text = String::from(tiny());
    text.push_str(
        "\n[[building]]\nid = \"B3\"\nphase = 3\ncommissioned = \"2027-01-01\"\nhall = [\n",
    );
    for i in 0..extra {
        text.push_str(&format!(
            "  {{ id = \"X{i}\", template = \"small-gb200\" }},\n"
        ));
    }
    text.push_str("]\n");
    let all = problems(&text);
    let p = find(
        &all,
        "building",
        "at most 65535 buildings and 65535 halls are supported",
    );
    assert_eq!(p.line, line_of_nth(&text, "[[building]]", 0));
    // So many halls also outgrow the site's power, and nothing else.
    find(
        &all,
        "site.grid_interconnect_mw",
        "exceeds grid interconnect",
    );
    assert_eq!(all.len(), 2, "{}", list(&all));
}

#[test]
fn campus_with_the_most_halls_is_not_too_big() {
    // 65,535 halls fit; only the site's power is then short.
    let extra = 65_532;
    let mut text = String::from(tiny());
    text.push_str(
        "\n[[building]]\nid = \"B3\"\nphase = 3\ncommissioned = \"2027-01-01\"\nhall = [\n",
    );
    for i in 0..extra {
        text.push_str(&format!(
            "  {{ id = \"X{i}\", template = \"small-gb200\" }},\n"
        ));
    }
    text.push_str("]\n");
    let all = problems(&text);
    assert!(
        all.iter()
            .all(|p| !p.message.contains("halls are supported")),
        "{}",
        list(&all)
    );
}

#[test]
fn campus_with_too_many_buildings() {
    // Checked on the spec: 65,536 one-hall buildings as text would be slow.
    let mut spec: abilene_model::CampusSpec = toml::from_str(tiny()).unwrap();
    let template = spec.buildings[0].clone();
    spec.buildings = (0..65_536)
        .map(|i| {
            let mut b = template.clone();
            b.id = format!("B{i}");
            b
        })
        .collect();
    let diags = abilene_model::validate::validate(&spec);
    assert!(
        diags.iter().any(|d| d.path.to_string() == "building"
            && d.message == "at most 65535 buildings and 65535 halls are supported"),
        "{diags:?}"
    );
}

#[test]
fn campus_with_too_many_gpus() {
    let to = "{ sku = \"hgx-h100\", count = 65536, racks_per_unit = 20000 }";
    let text = edit(
        tiny(),
        "{ sku = \"hgx-h100\", count = 1, racks_per_unit = 4 }",
        to,
    );
    let gpus = 576 + 288 + 65_536u64 * 20_000 * 32;
    let all = expect(
        &text,
        "building",
        line_of_nth(&text, "[[building]]", 0),
        &format!("campus has {gpus} GPUs; at most 4294967295 are supported"),
    );
    // The hall's power and cooling and the site are short too, and say so.
    find(
        &all,
        "site.grid_interconnect_mw",
        "exceeds grid interconnect",
    );
    find(&all, "building[1].hall[1].power.ups_mw", "hall B2/H2");
}

#[test]

fn campus_with_overflowing_gpu_count_is_reported_not_a_panic() {
    let to = "{ sku = \"gb200-nvl72\", count = 4294967295, racks_per_unit = 4294967295 }";
    let text = edit(
        tiny(),
        "{ sku = \"hgx-h100\", count = 1, racks_per_unit = 4 }",
        to,
    );
    let all = problems(&text);
    find(&all, "building", "at most 4294967295 are supported");
}

#[test]

fn oversized_custom_sku_is_reported_not_a_panic() {
    let text = edit(
        &tiny_with_sku("trays_per_rack = 8", "trays_per_rack = 4294967295"),
        "{ sku = \"hgx-h100\", count = 1, racks_per_unit = 4 }",
        "{ sku = \"custom\", count = 1, racks_per_unit = 1 }",
    );
    let all = problems(&text);
    find(
        &all,
        "sku.custom.trays_per_rack",
        "at most 255 trays per rack are supported",
    );
}

#[test]
fn nvlink_domain_beyond_the_scheduler_mask_is_refused_by_validate() {
    // 80 trays in one domain: the scheduler's 64-bit mask cannot hold it,
    // which only `sim` used to find out.
    let text = edit(
        &edit(
            &tiny_with_sku("trays_per_rack = 8", "trays_per_rack = 80"),
            "nvlink_domain_trays = 8",
            "nvlink_domain_trays = 80",
        ),
        "{ sku = \"hgx-h100\", count = 1, racks_per_unit = 4 }",
        "{ sku = \"custom\", count = 1, racks_per_unit = 1 }",
    );
    let all = problems(&text);
    let p = find(
        &all,
        "sku.custom.nvlink_domain_trays",
        "must be from 1 to 64 trays",
    );
    assert!(p.message.contains("got 80"), "{p}");
    assert_eq!(p.line, line_of(&text, "nvlink_domain_trays = 80"));
}

#[test]
fn more_skus_than_ids_can_name_are_refused() {
    // 4 built-in rack types plus 65,533 of the file's: one past 16-bit ids,
    // which used to wrap and make lookups land on the wrong rack type.
    let mut spec: abilene_model::CampusSpec = toml::from_str(tiny()).unwrap();
    let sku = abilene_model::catalog::builtin_skus()["gb200-nvl72"].clone();
    for i in 0..65_533 {
        spec.skus.insert(format!("extra-{i:05}"), sku.clone());
    }
    let diags = abilene_model::validate::validate(&spec);
    assert!(
        diags.iter().any(|d| d.path.to_string() == "sku"
            && d.message.contains("65537 rack types")
            && d.message.contains("at most 65536")),
        "{diags:?}"
    );
    spec.skus.pop_last();
    let diags = abilene_model::validate::validate(&spec);
    assert!(
        diags.iter().all(|d| d.path.to_string() != "sku"),
        "{diags:?}"
    );
}

#[test]
fn campus_index_larger_than_the_machine_allows_is_refused_before_allocating() {
    // Just under the 2^32 GPU ids: 59,652,000 GB200 racks. Its index would
    // take ~42 GB; the load must refuse it, naming the figure and the limit.
    let text = edit(
        tiny(),
        "{ sku = \"hgx-h100\", count = 1, racks_per_unit = 4 }",
        "{ sku = \"gb200-nvl72\", count = 59652000, racks_per_unit = 1 }",
    );
    let all = problems(&text);
    let p = find(&all, "building", "the campus's index needs");
    assert!(p.message.contains("the limit is 4.3 GB"), "{p}");
    assert!(p.message.contains("4294944864 GPUs"), "{p}");
    assert_eq!(p.line, line_of_nth(&text, "[[building]]", 0));
    assert!(
        all.iter().all(|p| !p.message.contains("are supported")),
        "the GPU count itself fits: {}",
        list(&all)
    );
}

#[test]
fn index_limit_follows_the_machine() {
    let limits = abilene_model::Limits::for_memory(8 << 30);
    assert_eq!(limits.index_bytes, 2 << 30);
    assert!(limits.why.contains("8.6 GB"), "{}", limits.why);
    let spec: abilene_model::CampusSpec = toml::from_str(tiny()).unwrap();
    let small = abilene_model::Limits {
        index_bytes: 1_000,
        why: "a test".into(),
    };
    let diags = abilene_model::validate::validate_with(&spec, &small);
    assert!(
        diags
            .iter()
            .any(|d| d.message.contains("the limit is 0.0 GB, a test")),
        "{diags:?}"
    );
    assert!(abilene_model::validate::validate_with(&spec, &limits).is_empty());
}

#[test]
fn site_supply_short_of_facility_load() {
    // IT 1.79 MW x PUE 1.1 = 1.97 MW against 0 MW grid + 1 MW of gas.
    let text = edit(
        &edit(
            tiny(),
            "grid_interconnect_mw = 5.0",
            "grid_interconnect_mw = 0.0",
        ),
        "mw_each = 2.0",
        "mw_each = 1.0",
    );
    expect_only(
        &text,
        "site.grid_interconnect_mw",
        line_of(&text, "grid_interconnect_mw = 0.0"),
        "campus IT load 1.8 MW x design PUE 1.1 = 2.0 MW exceeds grid interconnect + on-site generation = 1.0 MW",
    );
}

// ---------------------------------------------------------------------------
// Validator::site

#[test]
fn site_name_empty() {
    let text = edit(tiny(), "name = \"Tiny\"", "name = \" \"");
    expect_only(
        &text,
        "site.name",
        line_of(&text, "name = \" \""),
        "site name is empty",
    );
}

#[test]
fn site_grid_interconnect_negative() {
    let text = edit(
        tiny(),
        "grid_interconnect_mw = 5.0",
        "grid_interconnect_mw = -1.0",
    );
    let line = line_of(&text, "grid_interconnect_mw = -1.0");
    let all = expect(
        &text,
        "site.grid_interconnect_mw",
        line,
        "must be a number of 0 or more, got -1",
    );
    // -1 MW of grid plus 2 MW of gas is also short of the 1.97 MW load.
    let short = find(
        &all,
        "site.grid_interconnect_mw",
        "exceeds grid interconnect",
    );
    assert_eq!(short.line, line);
    assert_eq!(all.len(), 2, "{}", list(&all));
}

#[test]
fn site_design_pue_out_of_range() {
    for bad in ["0.9", "3.5", "nan"] {
        let to = format!("design_pue = {bad}");
        let text = edit(tiny(), "design_pue = 1.10", &to);
        let shown = if bad == "nan" { "NaN" } else { bad };
        expect_only(
            &text,
            "site.design_pue",
            line_of(&text, &to),
            &format!("must be between 1.0 and 3.0, got {shown}"),
        );
    }
}

#[test]
fn site_power_factor_out_of_range() {
    let text = edit(tiny(), "power_factor = 0.95", "power_factor = 1.5");
    expect_only(
        &text,
        "site.power_factor",
        line_of(&text, "power_factor = 1.5"),
        "must be above 0 and at most 1, got 1.5",
    );
}

#[test]
fn site_power_factor_zero() {
    // Zero is rejected, and with it every MVA rating is worth 0 MW: the
    // halls' power chains come up short too.
    let text = edit(tiny(), "power_factor = 0.95", "power_factor = 0.0");
    let all = expect(
        &text,
        "site.power_factor",
        line_of(&text, "power_factor = 0.0"),
        "must be above 0 and at most 1, got 0",
    );
    find(
        &all,
        "building[1].hall[1].power.substation_mva",
        "substation",
    );
}

#[test]
fn site_gas_turbine_count_zero() {
    let text = edit(
        tiny(),
        "count = 1\nmw_each = 2.0",
        "count = 0\nmw_each = 2.0",
    );
    expect_only(
        &text,
        "site.gas_turbines.count",
        line_of(&text, "count = 0\n"),
        "must be 1 or more",
    );
}

#[test]
fn site_gas_turbine_mw_not_positive() {
    let text = edit(tiny(), "mw_each = 2.0", "mw_each = 0.0");
    expect_only(
        &text,
        "site.gas_turbines.mw_each",
        line_of(&text, "mw_each = 0.0"),
        "must be a number above 0, got 0",
    );
}

#[test]
fn site_battery_mw_negative() {
    let text = edit(tiny(), "\nmw = 1.0", "\nmw = -1.0");
    expect_only(
        &text,
        "site.battery.mw",
        line_of(&text, "\nmw = -1.0") + 1,
        "must be a number of 0 or more, got -1",
    );
}

#[test]
fn site_battery_mwh_negative() {
    let text = edit(tiny(), "mwh = 4.0", "mwh = -4.0");
    expect_only(
        &text,
        "site.battery.mwh",
        line_of(&text, "mwh = -4.0"),
        "must be a number of 0 or more, got -4",
    );
}

// ---------------------------------------------------------------------------
// Validator::fabric

#[test]
fn fabric_radix_odd_or_too_small() {
    for (tier, bad) in [("leaf", 63), ("spine", 0), ("super_spine", 1)] {
        let from = format!("[fabric.{tier}]\nradix = 64");
        let to = format!("[fabric.{tier}]\nradix = {bad}");
        let text = edit(tiny(), &from, &to);
        expect_only(
            &text,
            &format!("fabric.{tier}.radix"),
            line_of(&text, &to) + 1,
            &format!("must be an even number of ports, 2 or more, got {bad}"),
        );
    }
}

#[test]
fn fabric_oversubscription_below_one() {
    for (tier, from, to, shown) in [
        (
            "leaf",
            "oversubscription = 1.0",
            "oversubscription = 0.5",
            "0.5",
        ),
        (
            "spine",
            "oversubscription = 4.0",
            "oversubscription = nan",
            "NaN",
        ),
    ] {
        let text = edit(tiny(), from, to);
        expect_only(
            &text,
            &format!("fabric.{tier}.oversubscription"),
            line_of(&text, to),
            &format!("must be 1.0 (non-blocking) or more, got {shown}"),
        );
    }
}

// ---------------------------------------------------------------------------
// Validator::sku

#[test]
fn sku_counts_must_be_at_least_one() {
    for field in [
        "trays_per_rack",
        "gpus_per_tray",
        "nvlink_domain_trays",
        "nics_per_gpu",
    ] {
        let line = CUSTOM_SKU
            .lines()
            .find(|l| l.starts_with(&format!("{field} = ")))
            .unwrap();
        let to = format!("{field} = 0");
        let text = tiny_with_sku(line, &to);
        expect_only(
            &text,
            &format!("sku.custom.{field}"),
            line_of(&text, &to),
            "must be 1 or more",
        );
    }
}

#[test]
fn sku_without_psus() {
    let text = tiny_with_sku("psus = 8", "psus = 0");
    let all = expect(
        &text,
        "sku.custom.psus",
        line_of(&text, "psus = 0"),
        "must be 1 or more",
    );
    // With no PSUs nothing supplies the rack either.
    let p = find(
        &all,
        "sku.custom.rack_kw_max",
        "rack draws up to 40 kW but its 0 PSUs x 5.5 kW supply only 0 kW",
    );
    assert_eq!(p.line, line_of(&text, "rack_kw_max = 40.0"));
    assert_eq!(all.len(), 2, "{}", list(&all));
}

#[test]
fn sku_too_many_trays_per_rack() {
    let text = tiny_with_sku("trays_per_rack = 8", "trays_per_rack = 256");
    expect_only(
        &text,
        "sku.custom.trays_per_rack",
        line_of(&text, "trays_per_rack = 256"),
        "at most 255 trays per rack are supported",
    );
}

#[test]
fn sku_too_many_gpus_per_tray() {
    let text = tiny_with_sku("gpus_per_tray = 4", "gpus_per_tray = 65");
    expect_only(
        &text,
        "sku.custom.gpus_per_tray",
        line_of(&text, "gpus_per_tray = 65"),
        "at most 64 GPUs per tray are supported",
    );
}

#[test]
fn sku_nvlink_domains_do_not_divide_the_rack() {
    let text = tiny_with_sku("nvlink_domain_trays = 8", "nvlink_domain_trays = 3");
    expect_only(
        &text,
        "sku.custom.nvlink_domain_trays",
        line_of(&text, "nvlink_domain_trays = 3"),
        "8 trays per rack do not divide into NVLink domains of 3",
    );
}

#[test]
fn sku_figures_must_be_positive() {
    for (from, to, field, shown) in [
        ("gpu_tdp_w = 1000.0", "gpu_tdp_w = 0.0", "gpu_tdp_w", "0"),
        ("hbm_gb = 192.0", "hbm_gb = -1.0", "hbm_gb", "-1"),
        (
            "rack_kw_typical = 30.0",
            "rack_kw_typical = -30.0",
            "rack_kw_typical",
            "-30",
        ),
        (
            "rack_kw_max = 40.0",
            "rack_kw_max = inf",
            "rack_kw_max",
            "inf",
        ),
        ("psu_kw = 5.5", "psu_kw = nan", "psu_kw", "NaN"),
    ] {
        let text = tiny_with_sku(from, to);
        expect(
            &text,
            &format!("sku.custom.{field}"),
            line_of(&text, to),
            &format!("must be a number above 0, got {shown}"),
        );
    }
}

#[test]
fn sku_pflops_must_not_be_negative() {
    for field in ["fp8_pflops", "bf16_pflops"] {
        let line = CUSTOM_SKU
            .lines()
            .find(|l| l.starts_with(&format!("{field} = ")))
            .unwrap();
        let to = format!("{field} = -0.5");
        let text = tiny_with_sku(line, &to);
        expect_only(
            &text,
            &format!("sku.custom.{field}"),
            line_of(&text, &to),
            "must be a number of 0 or more, got -0.5",
        );
    }
}

#[test]
fn sku_typical_draw_above_maximum() {
    let text = tiny_with_sku("rack_kw_typical = 30.0", "rack_kw_typical = 45.0");
    expect_only(
        &text,
        "sku.custom.rack_kw_typical",
        line_of(&text, "rack_kw_typical = 45.0"),
        "typical draw 45 kW is above the maximum 40 kW",
    );
}

#[test]
fn sku_maximum_draw_above_installed_psus() {
    let text = tiny_with_sku("rack_kw_max = 40.0", "rack_kw_max = 50.0");
    expect_only(
        &text,
        "sku.custom.rack_kw_max",
        line_of(&text, "rack_kw_max = 50.0"),
        "rack draws up to 50 kW but its 8 PSUs x 5.5 kW supply only 44 kW",
    );
}

#[test]
fn sku_liquid_share_out_of_range() {
    for (bad, shown) in [("1.5", "1.5"), ("-0.1", "-0.1"), ("nan", "NaN")] {
        let to = format!("liquid_cooled_share = {bad}");
        let text = tiny_with_sku("liquid_cooled_share = 0.5", &to);
        expect_only(
            &text,
            "sku.custom.liquid_cooled_share",
            line_of(&text, &to),
            &format!("must be between 0 and 1, got {shown}"),
        );
    }
}

#[test]

fn huge_nics_per_gpu_is_rejected_or_summarised() {
    let text = edit(
        &tiny_with_sku("nics_per_gpu = 1", "nics_per_gpu = 200000000"),
        "{ sku = \"hgx-h100\", count = 1, racks_per_unit = 4 }",
        "{ sku = \"custom\", count = 1, racks_per_unit = 1 }",
    );
    match Campus::load(FILE, &text) {
        Err(e) => {
            find(&e.problems, "sku.custom.nics_per_gpu", "");
        }
        Ok(campus) => {
            let fabric = campus.summary().fabric;
            assert!(fabric.leaves > 0);
        }
    }
}

// ---------------------------------------------------------------------------
// Validator::unit_groups

#[test]
fn unit_group_unknown_sku_in_a_template() {
    let text = edit(
        tiny(),
        "{ sku = \"gb200-nvl72\", count = 2, racks_per_unit = 4 }",
        "{ sku = \"gb900\", count = 2, racks_per_unit = 4 }",
    );
    // Reported once, at the template, not again for each hall using it.
    expect_only(
        &text,
        "hall_template.small-gb200.scalable_units[0].sku",
        line_of(&text, "sku = \"gb900\""),
        "unknown SKU `gb900`; known: gb200-nvl72, gb300-nvl72, hgx-b200, hgx-h100",
    );
}

#[test]
fn unit_group_unknown_sku_lists_custom_skus() {
    let text = edit(
        &tiny_with_sku("gpu = \"X1\"", "gpu = \"X1\""),
        "{ sku = \"hgx-h100\", count = 1, racks_per_unit = 4 }",
        "{ sku = \"hgx-h101\", count = 1, racks_per_unit = 4 }",
    );
    expect_only(
        &text,
        "building[1].hall[1].scalable_units[0].sku",
        line_of(&text, "sku = \"hgx-h101\""),
        "unknown SKU `hgx-h101`; known: custom, gb200-nvl72, gb300-nvl72, hgx-b200, hgx-h100",
    );
}

#[test]
fn unit_group_count_zero() {
    let text = edit(
        tiny(),
        "{ sku = \"hgx-h100\", count = 1, racks_per_unit = 4 }",
        "{ sku = \"hgx-h100\", count = 0, racks_per_unit = 4 }",
    );
    expect_only(
        &text,
        "building[1].hall[1].scalable_units[0].count",
        line_of(&text, "count = 0, racks_per_unit = 4"),
        "must be 1 or more",
    );
}

#[test]
fn unit_group_racks_per_unit_zero() {
    let text = edit(
        tiny(),
        "{ sku = \"gb300-nvl72\", count = 1, racks_per_unit = 4 }",
        "{ sku = \"gb300-nvl72\", count = 1, racks_per_unit = 0 }",
    );
    expect_only(
        &text,
        "building[1].hall[0].scalable_units[0].racks_per_unit",
        line_of(&text, "racks_per_unit = 0"),
        "must be 1 or more",
    );
}

#[test]
fn unit_groups_empty_inline() {
    let text = edit(
        tiny(),
        "scalable_units = [{ sku = \"hgx-h100\", count = 1, racks_per_unit = 4 }]",
        "scalable_units = []",
    );
    expect_only(
        &text,
        "building[1].hall[1].scalable_units",
        line_of(&text, "scalable_units = []"),
        "no scalable units: a hall needs racks",
    );
}

#[test]
fn unit_groups_empty_in_a_template() {
    let text = edit(
        tiny(),
        "scalable_units = [{ sku = \"gb200-nvl72\", count = 2, racks_per_unit = 4 }]",
        "scalable_units = []",
    );
    expect_only(
        &text,
        "hall_template.small-gb200.scalable_units",
        line_of(&text, "scalable_units = []"),
        "no scalable units: a hall needs racks",
    );
}

// ---------------------------------------------------------------------------
// Validator::cooling (inline in B2/H2, or in the template)

const H2_CDU: &str = "cdu = { count = 1, capacity_kw = 100.0, redundant = 0 }";
const H2_HEAT: &str =
    "dry_coolers = 0, dry_cooler_mw = 0.0, chillers_mw = 0.2, design_ambient_c = 35.0";

#[test]
fn cooling_cdu_count_zero() {
    let text = edit(
        tiny(),
        H2_CDU,
        "cdu = { count = 0, capacity_kw = 100.0, redundant = 0 }",
    );
    expect_only(
        &text,
        "building[1].hall[1].cooling.cdu.count",
        line_of(&text, "cdu = { count = 0"),
        "must be 1 or more",
    );
}

#[test]
fn cooling_cdu_capacity_not_positive() {
    let text = edit(
        tiny(),
        H2_CDU,
        "cdu = { count = 1, capacity_kw = 0.0, redundant = 0 }",
    );
    expect_only(
        &text,
        "building[1].hall[1].cooling.cdu.capacity_kw",
        line_of(&text, "capacity_kw = 0.0"),
        "must be a number above 0, got 0",
    );
}

#[test]
fn cooling_cdu_all_redundant() {
    let text = edit(
        tiny(),
        H2_CDU,
        "cdu = { count = 1, capacity_kw = 100.0, redundant = 1 }",
    );
    expect_only(
        &text,
        "building[1].hall[1].cooling.cdu.redundant",
        line_of(&text, "capacity_kw = 100.0, redundant = 1"),
        "1 redundant of 1 CDUs leaves none to carry the load",
    );
}

#[test]
fn cooling_facility_loop_negative_in_a_template() {
    let text = edit(tiny(), "facility_loop_mw = 1.0", "facility_loop_mw = -1.0");
    let line = line_of(&text, "facility_loop_mw = -1.0");
    let all = expect(
        &text,
        "hall_template.small-gb200.cooling.facility_loop_mw",
        line,
        "must be a number of 0 or more, got -1",
    );
    // The two halls using the template then lack a facility loop, each told
    // at its own `template` line.
    let b1 = find(&all, "building[0].hall[0].template", "hall B1/H1");
    assert!(b1.message.contains("its facility loop carries -1.00 MW"));
    assert_eq!(b1.line, line_of_nth(&text, "template = \"small-gb200\"", 0));
    let b2 = find(&all, "building[1].hall[0].template", "hall B2/H1");
    assert_eq!(b2.line, line_of_nth(&text, "template = \"small-gb200\"", 1));
    assert_eq!(all.len(), 3, "{}", list(&all));
}

#[test]
fn cooling_air_handlers_negative() {
    let text = edit(
        tiny(),
        "air_handlers_mw = 0.2\n",
        "air_handlers_mw = -0.2\n",
    );
    let line = line_of(&text, "air_handlers_mw = -0.2");
    let all = expect(
        &text,
        "building[1].hall[1].cooling.air_handlers_mw",
        line,
        "must be a number of 0 or more, got -0.2",
    );
    let short = find(
        &all,
        "building[1].hall[1].cooling.air_handlers_mw",
        "its air handlers remove -0.20 MW",
    );
    assert_eq!(short.line, line);
    assert_eq!(all.len(), 2, "{}", list(&all));
}

#[test]
fn cooling_dry_cooler_mw_negative() {
    let text = edit(
        tiny(),
        H2_HEAT,
        "dry_coolers = 0, dry_cooler_mw = -1.0, chillers_mw = 0.2, design_ambient_c = 35.0",
    );
    expect_only(
        &text,
        "building[1].hall[1].cooling.heat_rejection.dry_cooler_mw",
        line_of(&text, "dry_cooler_mw = -1.0"),
        "must be a number of 0 or more, got -1",
    );
}

#[test]
fn cooling_chillers_mw_negative() {
    let text = edit(
        tiny(),
        H2_HEAT,
        "dry_coolers = 0, dry_cooler_mw = 0.0, chillers_mw = -0.2, design_ambient_c = 35.0",
    );
    let line = line_of(&text, "chillers_mw = -0.2");
    let all = expect(
        &text,
        "building[1].hall[1].cooling.heat_rejection.chillers_mw",
        line,
        "must be a number of 0 or more, got -0.2",
    );
    // Heat rejection as a whole comes up short too, at its own key.
    let short = find(
        &all,
        "building[1].hall[1].cooling.heat_rejection",
        "its dry coolers and chillers reject -0.20 MW",
    );
    assert_eq!(short.line, line);
    assert_eq!(all.len(), 2, "{}", list(&all));
}

#[test]
fn cooling_design_ambient_not_finite() {
    for bad in ["nan", "inf", "-inf"] {
        let to = format!(
            "dry_coolers = 0, dry_cooler_mw = 0.0, chillers_mw = 0.2, design_ambient_c = {bad}"
        );
        let text = edit(tiny(), H2_HEAT, &to);
        expect_only(
            &text,
            "building[1].hall[1].cooling.heat_rejection.design_ambient_c",
            line_of(&text, &format!("design_ambient_c = {bad}")),
            "must be a finite temperature",
        );
    }
}

// ---------------------------------------------------------------------------
// Validator::power (inline in B2/H2, or in the template)

#[test]
fn power_ratings_must_be_positive() {
    // Each zero rating is reported, and also starves the hall's chain.
    for (from, to, field, stage) in [
        (
            "utility_feed_mw = 0.25",
            "utility_feed_mw = 0.0",
            "utility_feed_mw",
            "utility feed",
        ),
        (
            "substation_mva = 0.3",
            "substation_mva = 0.0",
            "substation_mva",
            "substation",
        ),
        (
            "switchgear_mva = 0.3",
            "switchgear_mva = 0.0",
            "switchgear_mva",
            "MV switchgear",
        ),
        ("ups_mw = 0.2", "ups_mw = -0.2", "ups_mw", "UPS"),
    ] {
        let text = edit(tiny(), from, to);
        let path = format!("building[1].hall[1].power.{field}");
        let line = line_of(&text, to);
        let all = expect(&text, &path, line, "must be a number above 0, got ");
        let short = find(&all, &path, &format!("(limited by its {stage})"));
        assert_eq!(short.line, line);
        assert_eq!(all.len(), 2, "{}", list(&all));
    }
}

#[test]
fn power_rating_in_a_template_is_reported_once_at_the_template() {
    let text = edit(tiny(), "utility_feed_mw = 1.2", "utility_feed_mw = nan");
    // NaN compares false, so the halls raise no capacity problem.
    expect_only(
        &text,
        "hall_template.small-gb200.power.utility_feed_mw",
        line_of(&text, "utility_feed_mw = nan"),
        "must be a number above 0, got NaN",
    );
}

const H2_TRANSFORMERS: &str = "transformers = { count = 2, mva_each = 0.3, redundant = 1 }";

#[test]
fn power_transformer_count_zero() {
    let text = edit(
        tiny(),
        H2_TRANSFORMERS,
        "transformers = { count = 0, mva_each = 0.3, redundant = 0 }",
    );
    let line = line_of(&text, "transformers = { count = 0");
    let all = expect(
        &text,
        "building[1].hall[1].power.transformers.count",
        line,
        "must be 1 or more",
    );
    let short = find(
        &all,
        "building[1].hall[1].power.transformers",
        "(limited by its transformers (N))",
    );
    assert_eq!(short.line, line);
    assert_eq!(all.len(), 2, "{}", list(&all));
}

#[test]
fn power_transformer_rating_not_positive() {
    let text = edit(
        tiny(),
        H2_TRANSFORMERS,
        "transformers = { count = 2, mva_each = -0.3, redundant = 1 }",
    );
    let all = expect(
        &text,
        "building[1].hall[1].power.transformers.mva_each",
        line_of(&text, "mva_each = -0.3"),
        "must be a number above 0, got -0.3",
    );
    find(&all, "building[1].hall[1].power.transformers", "hall B2/H2");
    assert_eq!(all.len(), 2, "{}", list(&all));
}

#[test]
fn power_transformers_all_redundant() {
    let text = edit(
        tiny(),
        H2_TRANSFORMERS,
        "transformers = { count = 2, mva_each = 0.3, redundant = 2 }",
    );
    let all = expect(
        &text,
        "building[1].hall[1].power.transformers.redundant",
        line_of(&text, "redundant = 2 }"),
        "2 redundant of 2 transformers leaves none to carry the load",
    );
    find(
        &all,
        "building[1].hall[1].power.transformers",
        "the power chain delivers 0.00 MW",
    );
    assert_eq!(all.len(), 2, "{}", list(&all));
}

// ---------------------------------------------------------------------------
// Validator::hall: templates, missing parts, capacities against the racks

#[test]
fn hall_unknown_template() {
    let text = edit(
        tiny(),
        "id = \"H1\"\ntemplate = \"small-gb200\"\n\n[[building]]",
        "id = \"H1\"\ntemplate = \"big-gb200\"\n\n[[building]]",
    );
    expect_only(
        &text,
        "building[0].hall[0].template",
        line_of(&text, "template = \"big-gb200\""),
        "unknown hall template `big-gb200`; defined: small-gb200",
    );
}

#[test]
fn hall_unknown_template_when_none_are_defined() {
    // Move the template into B1/H1 inline and drop the template table.
    let t = tiny();
    let start = t.find("[hall_template.small-gb200]").unwrap();
    let end = t.find("[[building]]").unwrap();
    let text = format!(
        "{}{}",
        &t[..start],
        &t[end..].replacen("template = \"small-gb200\"", "template = \"nope\"", 1)
    );
    let all = problems(&text);
    let p = find(
        &all,
        "building[0].hall[0].template",
        "unknown hall template `nope`; defined: none",
    );
    assert_eq!(p.line, line_of(&text, "template = \"nope\""));
}

#[test]

fn hall_unknown_template_still_checks_inline_parts() {
    let text = edit(
        &edit(
            tiny(),
            "id = \"H1\"\ntemplate = \"small-gb200\"\nscalable_units",
            "id = \"H1\"\ntemplate = \"big-gb200\"\nscalable_units",
        ),
        "{ sku = \"gb300-nvl72\", count = 1, racks_per_unit = 4 }",
        "{ sku = \"gb300-nvl72\", count = 0, racks_per_unit = 4 }",
    );
    let all = problems(&text);
    find(
        &all,
        "building[1].hall[0].template",
        "unknown hall template",
    );
    find(
        &all,
        "building[1].hall[0].scalable_units[0].count",
        "must be 1 or more",
    );
}

#[test]
fn hall_lacks_every_part() {
    let text = edit(
        tiny(),
        "id = \"H1\"\ntemplate = \"small-gb200\"\n\n[[building]]",
        "id = \"H1\"\n\n[[building]]",
    );
    // Points at B1's `[[building.hall]]` header, the first in the file.
    expect_only(
        &text,
        "building[0].hall[0]",
        line_of_nth(&text, "[[building.hall]]", 0),
        "hall `H1` lacks scalable_units, cooling, power: give them inline or name a `template`",
    );
}

#[test]
fn hall_lacks_power_only() {
    let t = tiny();
    let cut = t.find("[building.hall.power]").unwrap();
    let text = t[..cut].to_string();
    expect_only(
        &text,
        "building[1].hall[1]",
        line_of_nth(&text, "[[building.hall]]", 2),
        "hall `H2` lacks power: give them inline or name a `template`",
    );
}

#[test]
fn hall_power_chain_short_inline_names_the_weakest_stage() {
    // B2/H2 draws 4 x 40.8 kW = 0.16 MW.
    for (from, to, field, stage, cap) in [
        (
            "utility_feed_mw = 0.25",
            "utility_feed_mw = 0.1",
            "utility_feed_mw",
            "utility feed",
            "0.10",
        ),
        (
            "substation_mva = 0.3",
            "substation_mva = 0.12",
            "substation_mva",
            "substation",
            "0.11",
        ),
        (
            "switchgear_mva = 0.3",
            "switchgear_mva = 0.12",
            "switchgear_mva",
            "MV switchgear",
            "0.11",
        ),
        (
            H2_TRANSFORMERS,
            "transformers = { count = 2, mva_each = 0.12, redundant = 1 }",
            "transformers",
            "transformers (N)",
            "0.11",
        ),
        ("ups_mw = 0.2", "ups_mw = 0.15", "ups_mw", "UPS", "0.15"),
    ] {
        let text = edit(tiny(), from, to);
        expect_only(
            &text,
            &format!("building[1].hall[1].power.{field}"),
            line_of(&text, to),
            &format!(
                "hall B2/H2: racks draw up to 0.16 MW but the power chain delivers {cap} MW (limited by its {stage})"
            ),
        );
    }
}

#[test]
fn hall_power_chain_short_through_a_template() {
    // B1/H1 draws 8 x 132 kW = 1.06 MW, B2/H1 4 x 142 kW = 0.57 MW.
    let text = edit(tiny(), "utility_feed_mw = 1.2", "utility_feed_mw = 0.5");
    let all = problems(&text);
    let b1 = find(
        &all,
        "building[0].hall[0].template",
        "hall B1/H1: racks draw up to 1.06 MW but the power chain delivers 0.50 MW (limited by its utility feed)",
    );
    assert_eq!(b1.line, line_of_nth(&text, "template = \"small-gb200\"", 0));
    let b2 = find(
        &all,
        "building[1].hall[0].template",
        "hall B2/H1: racks draw up to 0.57 MW but the power chain delivers 0.50 MW",
    );
    assert_eq!(b2.line, line_of_nth(&text, "template = \"small-gb200\"", 1));
    assert_eq!(all.len(), 2, "{}", list(&all));
}

#[test]
fn hall_liquid_cooling_short_inline() {
    // One GB200 rack in B2/H2: 132 kW x 0.85 = 0.11 MW of liquid heat, over
    // its one 100 kW CDU and its 0.1 MW loop.
    let text = edit(
        tiny(),
        "{ sku = \"hgx-h100\", count = 1, racks_per_unit = 4 }",
        "{ sku = \"gb200-nvl72\", count = 1, racks_per_unit = 1 }",
    );
    let all = problems(&text);
    let cdu = find(
        &all,
        "building[1].hall[1].cooling.cdu",
        "hall B2/H2: racks make up to 0.11 MW of liquid heat but its CDUs (at N) remove 0.10 MW",
    );
    assert_eq!(cdu.line, line_of(&text, H2_CDU));
    let lp = find(
        &all,
        "building[1].hall[1].cooling.facility_loop_mw",
        "hall B2/H2: racks make up to 0.11 MW of liquid heat but its facility loop carries 0.10 MW",
    );
    assert_eq!(lp.line, line_of(&text, "facility_loop_mw = 0.1"));
    assert_eq!(all.len(), 2, "{}", list(&all));
}

#[test]
fn hall_air_cooling_short_inline() {
    let text = edit(tiny(), "air_handlers_mw = 0.2\n", "air_handlers_mw = 0.1\n");
    expect_only(
        &text,
        "building[1].hall[1].cooling.air_handlers_mw",
        line_of(&text, "air_handlers_mw = 0.1\n"),
        "hall B2/H2: racks make up to 0.16 MW of air heat but its air handlers remove 0.10 MW",
    );
}

#[test]
fn hall_heat_rejection_short_inline() {
    let text = edit(
        tiny(),
        H2_HEAT,
        "dry_coolers = 0, dry_cooler_mw = 0.0, chillers_mw = 0.1, design_ambient_c = 35.0",
    );
    expect_only(
        &text,
        "building[1].hall[1].cooling.heat_rejection",
        line_of(&text, "heat_rejection = { dry_coolers = 0"),
        "hall B2/H2: racks make up to 0.16 MW of heat but its dry coolers and chillers reject 0.10 MW",
    );
}

#[test]
fn hall_cooling_short_through_a_template() {
    // Each edit leaves B1/H1 (8 GB200 racks) short but B2/H1 (4 GB300) not.
    for (from, to, what) in [
        (
            "cdu = { count = 3, capacity_kw = 500.0, redundant = 1 }",
            "cdu = { count = 3, capacity_kw = 300.0, redundant = 1 }",
            "racks make up to 0.90 MW of liquid heat but its CDUs (at N) remove 0.60 MW",
        ),
        (
            "facility_loop_mw = 1.0",
            "facility_loop_mw = 0.5",
            "racks make up to 0.90 MW of liquid heat but its facility loop carries 0.50 MW",
        ),
        (
            "air_handlers_mw = 0.2, heat_rejection",
            "air_handlers_mw = 0.1, heat_rejection",
            "racks make up to 0.16 MW of air heat but its air handlers remove 0.10 MW",
        ),
        (
            "chillers_mw = 0.2, design_ambient_c = 40.0",
            "chillers_mw = 0.0, design_ambient_c = 40.0",
            "racks make up to 1.06 MW of heat but its dry coolers and chillers reject 1.00 MW",
        ),
    ] {
        let text = edit(tiny(), from, to);
        expect_only(
            &text,
            "building[0].hall[0].template",
            line_of_nth(&text, "template = \"small-gb200\"", 0),
            &format!("hall B1/H1: {what}"),
        );
    }
}

#[test]
fn abilene_template_problem_is_reported_for_each_hall_using_it() {
    // Phase-1 halls draw 23.23 MW; a 20 MW feed is short in all 8 of them,
    // while the 24 phase-2 halls, on another template, are fine.
    let text = edit(
        abilene(),
        "utility_feed_mw = 25.75",
        "utility_feed_mw = 20.0",
    );
    let all = problems(&text);
    assert_eq!(all.len(), 8, "{}", list(&all));
    for (b, building) in ["B1", "B2"].into_iter().enumerate() {
        for h in 0..4 {
            let name = format!("hall {building}/H{}:", h + 1);
            let p = find(&all, &format!("building[{b}].hall[{h}].template"), &name);
            assert!(
                p.message
                    .contains("racks draw up to 23.23 MW but the power chain delivers 20.00 MW (limited by its utility feed)"),
                "{p}"
            );
            let hall = format!("{{ id = \"H{}\", template = \"gb200-phase1\" }}", h + 1);
            assert_eq!(
                p.line,
                line_after(&text, &format!("id = \"{building}\""), &hall),
                "{p}"
            );
            assert_eq!(
                all.iter().filter(|q| q.message.starts_with(&name)).count(),
                1,
                "{name} reported more than once"
            );
        }
    }
}

#[test]
fn abilene_inline_override_is_reported_at_its_own_field() {
    let to = "{ id = \"H3\", template = \"gb200-phase2\", power = { utility_feed_mw = 20.0, substation_mva = 48.0, switchgear_mva = 48.0, transformers = { count = 6, mva_each = 10.0, redundant = 1 } } }";
    let from = "{ id = \"H3\", template = \"gb200-phase2\" }";
    // Only B5's H3 gets the weaker inline chain.
    let start = abilene().find("id = \"B5\"").unwrap();
    let text = format!(
        "{}{}",
        &abilene()[..start],
        abilene()[start..].replacen(from, to, 1)
    );
    expect_only(
        &text,
        "building[4].hall[2].power.utility_feed_mw",
        line_of(&text, "utility_feed_mw = 20.0"),
        "hall B5/H3: racks draw up to 23.23 MW but the power chain delivers 20.00 MW (limited by its utility feed)",
    );
}

// ---------------------------------------------------------------------------
// Several problems at once

#[test]
fn independent_problems_are_all_reported_in_one_run() {
    let mut text = tiny().to_string();
    for (from, to) in [
        ("name = \"Tiny\"", "name = \"\""),
        ("[fabric.leaf]\nradix = 64", "[fabric.leaf]\nradix = 63"),
        ("phase = 2", "phase = 0"),
        ("mwh = 4.0", "mwh = -4.0"),
        ("id = \"H2\"", "id = \"H1\""),
        ("sku = \"gb300-nvl72\"", "sku = \"gb300-nvl36\""),
    ] {
        text = edit(&text, from, to);
    }
    let all = problems(&text);
    let want = [
        (
            "site.name",
            line_of(&text, "name = \"\""),
            "site name is empty",
        ),
        ("site.battery.mwh", line_of(&text, "mwh = -4.0"), "got -4"),
        ("fabric.leaf.radix", line_of(&text, "radix = 63"), "got 63"),
        (
            "building[1].phase",
            line_of(&text, "phase = 0"),
            "phase must be 1 or more",
        ),
        (
            "building[1].hall[1].id",
            line_of_nth(&text, "id = \"H1\"", 2),
            "duplicate hall id `H1`",
        ),
        (
            "building[1].hall[0].scalable_units[0].sku",
            line_of(&text, "gb300-nvl36"),
            "unknown SKU `gb300-nvl36`",
        ),
    ];
    for (field, line, part) in want {
        let p = find(&all, field, part);
        assert_eq!(p.line, line, "{p}");
    }
    assert_eq!(all.len(), want.len(), "{}", list(&all));
    // The error reads as one line per problem and a count.
    let shown = abilene_model::LoadError {
        problems: all.clone(),
    }
    .to_string();
    assert_eq!(shown.lines().count(), want.len() + 1);
    assert!(shown.ends_with("6 problems found"), "{shown}");
    assert!(
        shown.contains(&format!(
            "broken.toml:{}:{}: building[1].phase: phase must be 1 or more",
            line_of(&text, "phase = 0"),
            "phase = ".len() + 1
        )),
        "{shown}"
    );
}

// ---------------------------------------------------------------------------
// Errors from the TOML deserialiser, before validation

#[test]
fn toml_unknown_field_in_a_table() {
    let text = edit(
        tiny(),
        "location = \"anywhere\"",
        "location = \"anywhere\"\ncolour = \"red\"",
    );
    expect_only(
        &text,
        "site.colour",
        line_of(&text, "colour = \"red\""),
        "unknown field `colour`, expected one of `name`, `location`",
    );
}

#[test]
fn toml_unknown_field_in_an_inline_table() {
    let text = edit(
        tiny(),
        "cdu = { count = 3, capacity_kw = 500.0, redundant = 1 }",
        "cdu = { count = 3, capacity_kw = 500.0, redundant = 1, spare = 1 }",
    );
    expect_only(
        &text,
        "hall_template.small-gb200.cooling.cdu.spare",
        line_of(&text, "spare = 1"),
        "unknown field `spare`, expected one of `count`, `capacity_kw`, `redundant`",
    );
}

#[test]
fn toml_unknown_field_in_a_hall() {
    let text = edit(tiny(), "id = \"H2\"", "id = \"H2\"\nfloor = 3");
    expect_only(
        &text,
        "building[1].hall[1].floor",
        line_of(&text, "floor = 3"),
        "unknown field `floor`",
    );
}

#[test]
fn toml_wrong_type() {
    let text = edit(tiny(), "phase = 2", "phase = \"two\"");
    expect_only(
        &text,
        "building[1].phase",
        line_of(&text, "phase = \"two\""),
        "invalid type: string \"two\", expected u32",
    );
}

#[test]
fn toml_wrong_type_in_an_inline_array() {
    let text = edit(
        tiny(),
        "{ sku = \"gb200-nvl72\", count = 2, racks_per_unit = 4 }",
        "{ sku = \"gb200-nvl72\", count = \"2\", racks_per_unit = 4 }",
    );
    expect_only(
        &text,
        "hall_template.small-gb200.scalable_units[0].count",
        line_of(&text, "count = \"2\""),
        "invalid type: string \"2\", expected u32",
    );
}

#[test]
fn toml_negative_unsigned() {
    let text = edit(
        tiny(),
        "[fabric.super_spine]\nradix = 64",
        "[fabric.super_spine]\nradix = -64",
    );
    expect_only(
        &text,
        "fabric.super_spine.radix",
        line_of(&text, "radix = -64"),
        "-64",
    );
}

#[test]
fn toml_syntax_error() {
    let text = edit(tiny(), "phase = 2", "phase = ");
    let all = problems(&text);
    assert_eq!(all.len(), 1, "{}", list(&all));
    let p = &all[0];
    // A file that does not parse has no fields to point at.
    assert_eq!(p.field, "");
    assert_eq!(p.line, line_of(&text, "phase = \n"));
    assert!(!p.message.is_empty());
    assert!(!p.message.ends_with('\n'), "message is trimmed: {p:?}");
}

#[test]
fn toml_syntax_error_unclosed_header() {
    let text = edit(tiny(), "[site.battery]", "[site.battery");
    let all = problems(&text);
    assert_eq!(all.len(), 1, "{}", list(&all));
    assert_eq!(all[0].field, "");
    assert_eq!(all[0].line, line_of(&text, "[site.battery\n"));
}

#[test]
fn toml_duplicate_key() {
    let text = edit(tiny(), "mwh = 4.0", "mwh = 4.0\nmwh = 5.0");
    let all = problems(&text);
    assert_eq!(all.len(), 1, "{}", list(&all));
    assert_eq!(all[0].line, line_of(&text, "mwh = 5.0"), "{}", all[0]);
    assert!(all[0].message.contains("duplicate key"), "{}", all[0]);
}

#[test]
fn toml_missing_field_in_a_table_is_placed_on_its_header() {
    let text = edit(tiny(), "phase = 2\n", "");
    let all = problems(&text);
    assert_eq!(all.len(), 1, "{}", list(&all));
    assert_eq!(all[0].message, "missing field `phase`");
    // B2's `[[building]]` header, the second in the file.
    assert_eq!(all[0].line, line_of_nth(&text, "[[building]]", 1));
}

#[test]
fn toml_missing_field_in_a_table_names_the_table() {
    let text = edit(tiny(), "phase = 2\n", "");
    expect_only(
        &text,
        "building[1]",
        line_of_nth(&text, "[[building]]", 1),
        "missing field `phase`",
    );
    let text = edit(tiny(), "power_factor = 0.95", "# no power factor");
    expect_only(
        &text,
        "site",
        line_of(&text, "[site]\n"),
        "missing field `power_factor`",
    );
}

#[test]
fn toml_missing_field_in_an_inline_table() {
    let text = edit(
        tiny(),
        "{ sku = \"gb300-nvl72\", count = 1, racks_per_unit = 4 }",
        "{ sku = \"gb300-nvl72\", count = 1 }",
    );
    expect_only(
        &text,
        "building[1].hall[0].scalable_units[0]",
        line_of(&text, "{ sku = \"gb300-nvl72\", count = 1 }"),
        "missing field `racks_per_unit`",
    );
}

#[test]
fn toml_missing_top_level_table() {
    let t = tiny();
    let start = t.find("[fabric.leaf]").unwrap();
    let end = t.find("[hall_template.small-gb200]").unwrap();
    let text = format!("{}{}", &t[..start], &t[end..]);
    let all = problems(&text);
    assert_eq!(all.len(), 1, "{}", list(&all));
    assert_eq!(all[0].message, "missing field `fabric`");
    // The whole document lacks it: the problem sits at its start, and
    // names the field so that it is located like every other.
    assert_eq!((all[0].line, all[0].column), (1, 1), "{}", all[0]);
    assert_eq!(all[0].field, "fabric");
}

#[test]
fn toml_type_errors_are_reported_together() {
    // Four errors the deserialiser can step over, in four places: all of
    // them in one run, each at its own line and field, in file order.
    let text = edit(
        &edit(
            &edit(
                &edit(tiny(), "phase = 2", "phase = \"two\""),
                "location = \"anywhere\"",
                "location = \"anywhere\"\ncolour = \"red\"",
            ),
            "{ sku = \"gb200-nvl72\", count = 2, racks_per_unit = 4 }",
            "{ sku = \"gb200-nvl72\", count = \"2\", racks_per_unit = 4 }",
        ),
        "[fabric.super_spine]\nradix = 64",
        "[fabric.super_spine]\nradix = -64",
    );
    let all = problems(&text);
    let want = [
        ("site.colour", "colour = \"red\""),
        ("fabric.super_spine.radix", "radix = -64"),
        (
            "hall_template.small-gb200.scalable_units[0].count",
            "count = \"2\"",
        ),
        ("building[1].phase", "phase = \"two\""),
    ];
    assert_eq!(all.len(), want.len(), "{}", list(&all));
    for (field, needle) in want {
        let p = all
            .iter()
            .find(|p| p.field == field)
            .unwrap_or_else(|| panic!("no problem at {field}:\n{}", list(&all)));
        assert_eq!(p.line, line_of(&text, needle), "{p}");
    }
}

#[test]
fn toml_type_errors_stop_at_a_missing_field() {
    // A missing field cannot be stepped over: it is the last one reported.
    let text = edit(
        &edit(tiny(), "phase = 2", "phase = \"two\""),
        "location = \"anywhere\"\n",
        "",
    );
    let all = problems(&text);
    find(&all, "site", "missing field `location`");
    assert!(all.len() <= 2, "{}", list(&all));
}
