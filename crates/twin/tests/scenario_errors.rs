//! Bad scenario files get errors that name the file, the 1-based line and
//! the field, and every independent problem is reported at once.

mod common;

use abilene_twin::run::{run, run_replicas};
use abilene_twin::scenario::{Scenario, ScenarioError};
use abilene_twin::sim::RunOptions;
use common::{TempDir, line_of, scenarios_dir};

/// The file name every scenario here is loaded under.
const FILE: &str = "bad-scenario.toml";

/// A valid scenario on the tiny campus, to break one field at a time. Each
/// frontier run is on its own lines so that a problem's line is known.
const GOOD: &str = r#"name = "errors"
campus = { preset = "tiny" }
start = "2026-07-01"
days = 2
seed = 9

[[workload.frontier]]
name = "first"
project = "frontier"
gpus = 72
work_days = 1
checkpoint_interval_min = 30

[[workload.frontier]]
name = "second"
project = "frontier"
sku = "gb300-nvl72"
gpus = 72
work_days = 1
checkpoint_interval_min = 30

[workload.research]
project = "research"
arrival_scale = 1.0

[failures]
rate_scale = 2.0

[cooling]
chiller_cop = 4.0
"#;

/// `GOOD` with each `(from, to)` replaced once.
fn edit(edits: &[(&str, &str)]) -> String {
    let mut t = GOOD.to_string();
    for (from, to) in edits {
        assert!(t.contains(from), "no `{from}` in the scenario");
        t = t.replacen(from, to, 1);
    }
    t
}

/// Loads `text` and returns the rendered error; panics if it loads.
fn error(text: &str) -> String {
    match Scenario::load(FILE, text, &scenarios_dir()) {
        Ok(_) => panic!("loaded without error:\n{text}"),
        Err(e) => e.to_string(),
    }
}

/// The error has a problem at `FILE:line:` about `field`, and its message
/// contains `says`.
#[track_caller]
fn assert_problem(err: &str, line: usize, field: &str, says: &str) {
    let at = format!("{FILE}:{line}:");
    let found = err
        .lines()
        .any(|l| l.starts_with(&at) && l.contains(&format!(" {field}: ")) && l.contains(says));
    assert!(
        found,
        "expected a problem at {at} about `{field}` saying `{says}`, got:\n{err}"
    );
}

/// The error says how many problems it found.
#[track_caller]
fn assert_count(err: &str, n: usize) {
    let tail = format!("{n} problem{} found", if n == 1 { "" } else { "s" });
    assert!(
        err.trim_end().ends_with(&tail),
        "expected `{tail}`, got:\n{err}"
    );
    let placed = err.lines().filter(|l| l.starts_with(FILE)).count();
    assert_eq!(placed, n, "problems listed in:\n{err}");
}

#[test]
fn the_base_scenario_loads() {
    let sc = Scenario::load(FILE, GOOD, &scenarios_dir()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sc.spec.workload.frontier.len(), 2);
    assert_eq!(sc.start.to_string(), "2026-07-01");
}

#[test]
fn unknown_field() {
    let text = edit(&[(
        "name = \"second\"\n",
        "name = \"second\"\ncolour = \"red\"\n",
    )]);
    let err = error(&text);
    assert_problem(
        &err,
        line_of(&text, "colour"),
        "workload.frontier[1].colour",
        "unknown field `colour`",
    );
    assert_count(&err, 1);

    let text = edit(&[("seed = 9\n", "seed = 9\nduration = 3\n")]);
    let err = error(&text);
    assert_problem(
        &err,
        line_of(&text, "duration"),
        "duration",
        "unknown field",
    );
}

#[test]
fn wrong_type() {
    let text = edit(&[("days = 2", "days = \"two\"")]);
    let err = error(&text);
    assert_problem(&err, line_of(&text, "days ="), "days", "invalid type");
    assert_count(&err, 1);

    let text = edit(&[(
        "gpus = 72\nwork_days = 1\ncheckpoint_interval_min = 30\n\n[workload.research]",
        "gpus = \"many\"\nwork_days = 1\ncheckpoint_interval_min = 30\n\n[workload.research]",
    )]);
    let err = error(&text);
    assert_problem(
        &err,
        line_of(&text, "\"many\""),
        "workload.frontier[1].gpus",
        "invalid type",
    );
}

#[test]
fn bad_start_date() {
    for bad in ["2026-02-30", "2026-13-01", "1 July 2026", "2026-7-1"] {
        let text = edit(&[("start = \"2026-07-01\"", &format!("start = \"{bad}\""))]);
        let err = error(&text);
        assert_problem(&err, 3, "start", bad);
        assert_count(&err, 1);
    }
}

#[test]
fn days_must_be_above_zero() {
    for bad in ["0", "-1", "0.0", "nan", "inf", "4000"] {
        let text = edit(&[("days = 2", &format!("days = {bad}"))]);
        let err = error(&text);
        assert_problem(&err, line_of(&text, "days ="), "days", "must be above 0");
        assert_count(&err, 1);
    }
}

#[test]
fn unknown_preset() {
    let text = edit(&[("preset = \"tiny\"", "preset = \"enormous\"")]);
    let err = error(&text);
    assert_problem(&err, 2, "campus", "no preset `enormous`");
    assert!(err.contains("tiny"), "lists the presets:\n{err}");
    assert_count(&err, 1);
}

#[test]
fn campus_file_that_does_not_exist() {
    let text = edit(&[(
        "{ preset = \"tiny\" }",
        "{ file = \"no-such-campus.toml\" }",
    )]);
    let err = error(&text);
    assert_problem(&err, 2, "campus", "no-such-campus.toml");
    assert_count(&err, 1);
}

#[test]
fn campus_with_both_or_neither_of_preset_and_file() {
    let text = edit(&[(
        "{ preset = \"tiny\" }",
        "{ preset = \"tiny\", file = \"x.toml\" }",
    )]);
    assert_problem(&error(&text), 2, "campus", "exactly one");
    let text = edit(&[("{ preset = \"tiny\" }", "{}")]);
    assert_problem(&error(&text), 2, "campus", "exactly one");
}

#[test]
fn frontier_project_not_in_the_tenancy() {
    let text = edit(&[(
        "name = \"second\"\nproject = \"frontier\"",
        "name = \"second\"\nproject = \"nobody\"",
    )]);
    let err = error(&text);
    assert_problem(
        &err,
        line_of(&text, "\"nobody\""),
        "workload.frontier[1].project",
        "no tenant or project `nobody`",
    );
    assert_count(&err, 1);
}

#[test]
fn frontier_sku_the_campus_lacks() {
    // hgx-b200 is in the catalog but the tiny campus has none; mi355x is in
    // no catalog at all.
    for sku in ["hgx-b200", "mi355x"] {
        let text = edit(&[("sku = \"gb300-nvl72\"", &format!("sku = \"{sku}\""))]);
        let err = error(&text);
        assert_problem(
            &err,
            line_of(&text, &format!("\"{sku}\"")),
            "workload.frontier[1].sku",
            sku,
        );
        assert_count(&err, 1);
    }
}

#[test]
fn negative_failure_rate_scale() {
    let text = edit(&[("rate_scale = 2.0", "rate_scale = -0.5")]);
    let err = error(&text);
    assert_problem(
        &err,
        line_of(&text, "rate_scale"),
        "failures.rate_scale",
        "-0.5",
    );
    assert_count(&err, 1);
}

#[test]
fn invalid_cooling_settings() {
    let cases: [(&str, &str, &str); 6] = [
        ("chiller_cop = 0", "cooling.chiller_cop", "above 0"),
        (
            "coolant_supply_c = -30",
            "cooling.coolant_supply_c",
            "-20 to 90",
        ),
        (
            "dry_cooler_cutoff_c = 20",
            "cooling.dry_cooler_cutoff_c",
            "above coolant_supply_c",
        ),
        ("crah_kw_per_mw = -1", "cooling.crah_kw_per_mw", "0 to 1000"),
        (
            "electrical_loss_share = 1.0",
            "cooling.electrical_loss_share",
            "share",
        ),
        (
            "dry_cooler_approach_c = -2",
            "cooling.dry_cooler_approach_c",
            "above 0",
        ),
    ];
    for (setting, field, says) in cases {
        let text = if setting.starts_with("chiller_cop") {
            edit(&[("chiller_cop = 4.0", setting)])
        } else {
            edit(&[(
                "chiller_cop = 4.0",
                &format!("chiller_cop = 4.0\n{setting}"),
            )])
        };
        let err = error(&text);
        assert_problem(&err, line_of(&text, setting), field, says);
        assert_count(&err, 1);
    }
}

#[test]
fn invalid_heat_wave() {
    let text = edit(&[(
        "[cooling]",
        "[weather]\nheat_wave = { start_day = 1, days = 0, offset_c = 5 }\n\n[cooling]",
    )]);
    let err = error(&text);
    assert_problem(
        &err,
        line_of(&text, "heat_wave"),
        "weather.heat_wave.days",
        "must be above 0 and at most 3660 days, got 0",
    );
}

#[test]
fn independent_problems_are_all_reported() {
    let text = edit(&[
        (
            "{ preset = \"tiny\" }",
            "{ file = \"no-such-campus.toml\" }",
        ),
        ("start = \"2026-07-01\"", "start = \"2026-02-29\""),
        ("days = 2", "days = 0"),
        (
            "checkpoint_interval_min = 30",
            "checkpoint_interval_min = 0",
        ),
        ("rate_scale = 2.0", "rate_scale = -1"),
        ("chiller_cop = 4.0", "chiller_cop = 0"),
    ]);
    let err = error(&text);
    assert_problem(&err, 2, "campus", "no-such-campus.toml");
    assert_problem(&err, 3, "start", "2026-02-29");
    assert_problem(&err, 4, "days", "must be above 0");
    assert_problem(
        &err,
        line_of(&text, "checkpoint_interval_min = 0"),
        "workload.frontier[0].checkpoint_interval_min",
        "from 1 to 10080 minutes, got 0",
    );
    assert_problem(
        &err,
        line_of(&text, "rate_scale"),
        "failures.rate_scale",
        "-1",
    );
    assert_problem(
        &err,
        line_of(&text, "chiller_cop"),
        "cooling.chiller_cop",
        "above 0",
    );
    assert_count(&err, 6);
}

#[test]
fn independent_problems_against_the_campus_are_all_reported() {
    let text = edit(&[
        (
            "name = \"first\"\nproject = \"frontier\"",
            "name = \"first\"\nproject = \"ghost\"",
        ),
        ("sku = \"gb300-nvl72\"", "sku = \"hgx-b200\""),
        ("project = \"research\"", "project = \"phantom\""),
    ]);
    let err = error(&text);
    assert_problem(
        &err,
        line_of(&text, "\"ghost\""),
        "workload.frontier[0].project",
        "ghost",
    );
    assert_problem(
        &err,
        line_of(&text, "\"hgx-b200\""),
        "workload.frontier[1].sku",
        "hgx-b200",
    );
    assert_problem(
        &err,
        line_of(&text, "\"phantom\""),
        "workload.research.project",
        "phantom",
    );
    assert_count(&err, 3);
}

#[test]
fn problems_of_both_stages_are_reported_together() {
    let text = edit(&[
        ("days = 2", "days = 0"),
        (
            "name = \"first\"\nproject = \"frontier\"",
            "name = \"first\"\nproject = \"ghost\"",
        ),
    ]);
    let err = error(&text);
    assert_problem(&err, 4, "days", "must be above 0");
    assert_problem(
        &err,
        line_of(&text, "\"ghost\""),
        "workload.frontier[0].project",
        "ghost",
    );
    assert_count(&err, 2);
}

#[test]
fn research_on_any_sku_loads() {
    let text = edit(&[(
        "project = \"research\"\n",
        "project = \"research\"\nsku = \"*\"\n",
    )]);
    if let Err(e) = Scenario::load(FILE, &text, &scenarios_dir()) {
        panic!("{e}");
    }
}

#[test]
fn errors_from_a_file_name_its_path() {
    let dir = TempDir::new("scenario-errors-file");
    let path = dir.path().join("broken.toml");
    let text = edit(&[("days = 2", "days = 0")]);
    std::fs::write(&path, &text).unwrap();
    let err = match Scenario::load_file(&path) {
        Ok(_) => panic!("loaded"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.starts_with(&format!("{}:4:", path.display())),
        "names file and line:\n{err}"
    );
    assert!(err.contains("days:"), "{err}");

    // A scenario file that is not there.
    let missing = dir.path().join("missing.toml");
    let err = Scenario::load_file(&missing)
        .err()
        .expect("loaded a missing file");
    assert!(matches!(err, ScenarioError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("missing.toml"), "{err}");
}

#[test]
fn an_invalid_campus_file_is_named_with_the_scenario() {
    let dir = TempDir::new("scenario-errors-campus");
    std::fs::write(dir.path().join("campus.toml"), "[site]\nname = 3\n").unwrap();
    let text = edit(&[("{ preset = \"tiny\" }", "{ file = \"campus.toml\" }")]);
    let err = match Scenario::load(FILE, &text, dir.path()) {
        Ok(_) => panic!("loaded"),
        Err(e) => e,
    };
    assert!(matches!(err, ScenarioError::Campus { .. }), "{err:?}");
    let err = err.to_string();
    assert!(err.contains(FILE), "names the scenario:\n{err}");
    assert!(
        err.contains("campus.toml:2:"),
        "names the campus file and line:\n{err}"
    );
}

/// A frontier run the scheduler would refuse is found at load time, placed
/// at its field, not a run that silently never starts (290 GPUs are not
/// whole 4-GPU trays; a 7-GPU tensor-parallel group is not whole trays).
#[test]
fn frontier_shape_the_scheduler_refuses() {
    let text = edit(&[("gpus = 72", "gpus = 290")]);
    let err = error(&text);
    assert_problem(
        &err,
        line_of(&text, "gpus = 290"),
        "workload.frontier[0].gpus",
        "290 GPUs is not a whole number of 4-GPU trays",
    );
    assert_count(&err, 1);
    let text = edit(&[("gpus = 72", "gpus = 72\ntp_gpus = 7")]);
    let err = error(&text);
    assert_problem(
        &err,
        line_of(&text, "tp_gpus = 7"),
        "workload.frontier[0].tp_gpus",
        "tensor-parallel group of 7 GPUs is not whole trays of 4",
    );
    assert_count(&err, 1);
}

/// `GOOD` with `section` (e.g. `[power]\nidle = -5`) added at the end.
fn with_section(section: &str) -> String {
    format!("{GOOD}\n{section}\n")
}

/// Each `(section, needle, field, says)`: the section added to `GOOD` is
/// refused with one problem at the needle's line, about the field.
#[track_caller]
fn refused(cases: &[(&str, &str, &str, &str)]) {
    for (section, needle, field, says) in cases {
        let text = with_section(section);
        let err = error(&text);
        assert_problem(&err, line_of(&text, needle), field, says);
        assert_count(&err, 1);
    }
}

#[test]
fn settings_that_gave_wrong_figures_are_refused_with_their_range() {
    refused(&[
        (
            "[power]\nidle = -5",
            "idle = -5",
            "power.idle",
            "must be from 0 to 1, got -5",
        ),
        (
            "[money]\ngpu_life_years = 0",
            "gpu_life_years",
            "money.gpu_life_years",
            "must be from 1 to 30 years, got 0",
        ),
        (
            "[power]\ncompute = nan",
            "compute = nan",
            "power.compute",
            "got NaN",
        ),
        (
            "[grid]\ngas_usd_per_mwh = nan",
            "gas_usd_per_mwh",
            "grid.gas_usd_per_mwh",
            "from 0 to 10000 $/MWh, got NaN",
        ),
        (
            "[grid.price.modelled]\nbase_usd_per_mwh = nan",
            "base_usd_per_mwh",
            "grid.price.modelled.base_usd_per_mwh",
            "got NaN",
        ),
        (
            "[weather]\noffset_c = nan",
            "offset_c = nan",
            "weather.offset_c",
            "from -30 to 30 C, got NaN",
        ),
        (
            "[failures.causes]",
            "[failures.causes]",
            "failures.causes",
            "invalid type",
        ),
    ]);
}

#[test]
fn research_checkpoints_of_zero_minutes_are_refused() {
    let text = edit(&[(
        "arrival_scale = 1.0",
        "arrival_scale = 1.0\ncheckpoint_interval_min = 0",
    )]);
    let err = error(&text);
    assert_problem(
        &err,
        line_of(&text, "checkpoint_interval_min = 0"),
        "workload.research.checkpoint_interval_min",
        "from 1 to 10080 minutes, got 0",
    );
    assert_count(&err, 1);
}

#[test]
fn arrival_scales_that_would_exhaust_memory_are_refused() {
    for (scale, says) in [
        ("1e6", "above 0 and at most 1000, got 1000000"),
        ("900", "openb jobs; at most 8000000 are allowed"),
    ] {
        let text = edit(&[
            ("days = 2", "days = 3000"),
            ("arrival_scale = 1.0", &format!("arrival_scale = {scale}")),
        ]);
        let err = error(&text);
        assert_problem(
            &err,
            line_of(&text, "arrival_scale"),
            "workload.research.arrival_scale",
            says,
        );
        assert_count(&err, 1);
    }
}

#[test]
fn a_replica_size_that_wrapped_to_zero_is_refused() {
    let section =
        "[workload.inference]\nproject = \"inference\"\ngpus = 64\ngpus_per_replica = 4294967295";
    refused(&[(
        section,
        "gpus_per_replica",
        "workload.inference.gpus_per_replica",
        "must be from 1 to 65536, got 4294967295",
    )]);
    let section = "[workload.inference]\nproject = \"inference\"\ngpus = 4000000000";
    refused(&[(
        section,
        "gpus = 4000000000",
        "workload.inference.gpus",
        "must be from 1 to 576 (the campus's gb200-nvl72 GPUs), got 4000000000",
    )]);
}

#[test]
fn tenant_tree_problems_are_placed_at_their_entries() {
    let tree = r#"[[tenant]]
name = "crusoe"

[[tenant]]
name = "frontier"
parent = "crusoe"
guarantee = { gb200-nvl72 = 18446744073709551615 }

[[tenant]]
name = "research"
parent = "crusoe"
guarantee = { gb200-nvl72 = 18446744073709551615 }

[[tenant]]
name = "orphan"
parent = "nobody"
"#;
    let text = GOOD.replacen(
        "[[workload.frontier]]",
        &format!("{tree}\n[[workload.frontier]]"),
        1,
    );
    let err = error(&text);
    let second = text.match_indices("guarantee").nth(1).unwrap().0;
    let second_line = text[..second].matches('\n').count() + 1;
    assert_problem(
        &err,
        line_of(&text, "guarantee"),
        "tenant[1].guarantee.gb200-nvl72",
        "must be from 0 to 576",
    );
    assert_problem(
        &err,
        second_line,
        "tenant[2].guarantee.gb200-nvl72",
        "must be from 0 to 576",
    );
    assert_problem(
        &err,
        line_of(&text, "crusoe"),
        "tenant[0].name",
        "more than its 576",
    );
    assert_problem(
        &err,
        line_of(&text, "\"nobody\""),
        "tenant[3].parent",
        "no tenant `nobody`",
    );
    assert_count(&err, 4);
}

#[test]
fn a_scenarios_own_problems_are_shown_with_its_campus_problems() {
    let dir = TempDir::new("scenario-errors-both");
    std::fs::write(dir.path().join("campus.toml"), "[site]\nname = 3\n").unwrap();
    let text = edit(&[
        ("{ preset = \"tiny\" }", "{ file = \"campus.toml\" }"),
        ("days = 2", "days = 0"),
    ]);
    let err = match Scenario::load(FILE, &text, dir.path()) {
        Ok(_) => panic!("loaded"),
        Err(e) => e,
    };
    assert!(
        matches!(err, ScenarioError::Campus { own: Some(_), .. }),
        "{err:?}"
    );
    let err = err.to_string();
    assert!(err.contains("campus.toml:2:"), "{err}");
    assert_problem(&err, 4, "days", "must be above 0");
}

#[test]
fn data_files_are_read_and_checked_at_load() {
    let dir = TempDir::new("scenario-errors-files");
    std::fs::write(
        dir.path().join("prices.csv"),
        "hour,usd_per_mwh\n0,21.5\n1,cheap\n",
    )
    .unwrap();
    let text =
        with_section("[grid.price.csv]\npath = \"prices.csv\"\n\n[weather]\nfile = \"none.csv\"");
    let err = match Scenario::load(FILE, &text, dir.path()) {
        Ok(_) => panic!("loaded"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("prices.csv:3:"), "placed in the CSV:\n{err}");
    assert!(err.contains("usd_per_mwh"), "{err}");
    assert_problem(
        &err,
        line_of(&text, "none.csv"),
        "weather.file",
        "cannot read",
    );
    assert!(err.trim_end().ends_with("2 problems found"), "{err}");
}

/// The error of a run that must not run.
fn failure<T>(r: Result<T, String>) -> String {
    match r {
        Ok(_) => panic!("ran"),
        Err(e) => e,
    }
}

#[test]
fn days_replicas_and_seeds_from_a_caller_are_bounded() {
    let sc = Scenario::load(FILE, GOOD, &scenarios_dir()).unwrap_or_else(|e| panic!("{e}"));
    let days = |d: f64| RunOptions {
        days: Some(d),
        seed: None,
    };
    let err = failure(run(&sc, &days(100_000.0), &mut |_, _| {}));
    assert!(err.contains("at most 3660 days, got 100000"), "{err}");
    let err = failure(run(&sc, &days(f64::NAN), &mut |_, _| {}));
    assert!(err.contains("got NaN"), "{err}");
    let err = failure(run_replicas(&sc, &days(1.0), u32::MAX, 2, &|_, _| {}));
    assert!(err.contains("from 1 to 1000, got 4294967295"), "{err}");
    // The seeds after u64::MAX wrap round instead of overflowing.
    let last = RunOptions {
        days: Some(0.5),
        seed: Some(u64::MAX),
    };
    let runs = run_replicas(&sc, &last, 2, 2, &|_, _| {}).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(runs[0].summary.seed, u64::MAX);
    assert_eq!(runs[1].summary.seed, 0);
}

#[test]
fn a_callers_days_cannot_make_the_research_replay_exhaust_memory() {
    let text = edit(&[("arrival_scale = 1.0", "arrival_scale = 900")]);
    let sc = Scenario::load(FILE, &text, &scenarios_dir()).unwrap_or_else(|e| panic!("{e}"));
    let long = RunOptions {
        days: Some(3_000.0),
        seed: None,
    };
    let err = failure(run(&sc, &long, &mut |_, _| {}));
    assert!(err.contains("more than 8000000 openb jobs"), "{err}");
}

#[test]
fn the_models_nvlink_domain_limit_is_the_schedulers() {
    // validate refuses what the scheduler cannot hold, so a campus that
    // passes `campus validate` also starts in `sim`.
    assert_eq!(
        abilene_model::validate::MAX_NVLINK_DOMAIN_TRAYS,
        abilene_scheduler::topo::MAX_DOMAIN_TRAYS
    );
}

/// Failure rates as operators publish them: per node-day or per GPU-hour,
/// for all causes at once or per cause. A per-node-day rate needs the
/// publisher's node size, and a missing one is placed at the rate's line.
#[test]
fn failure_rates_per_node_day_or_gpu_hour() {
    let text = edit(&[(
        "rate_scale = 2.0\n",
        "rate_scale = 2.0\nnode_gpus = 8\nall_causes = { per_node_day = 0.0038 }\n",
    )]);
    let sc = Scenario::load(FILE, &text, &scenarios_dir()).unwrap_or_else(|e| panic!("{e}"));
    let want = 2.0 * 0.0038 / (24.0 * 8.0);
    assert!((sc.spec.failures.rate_per_gpu_hour() - want).abs() < 1e-15);

    let text = edit(&[(
        "rate_scale = 2.0\n",
        "rate_scale = 2.0\nall_causes = { per_node_day = 0.0038 }\n",
    )]);
    let err = error(&text);
    assert_problem(
        &err,
        line_of(&text, "all_causes"),
        "failures.all_causes.per_node_day",
        "needs `failures.node_gpus`",
    );
    assert_count(&err, 1);

    let text = edit(&[(
        "rate_scale = 2.0\n",
        "rate_scale = 2.0\n[[failures.causes]]\nname = \"GPU\"\nper_gpu_hour = 3.0\nhardware = true\nrepair_hours = 8\n",
    )]);
    let err = error(&text);
    assert_problem(
        &err,
        line_of(&text, "per_gpu_hour"),
        "failures.causes[0].per_gpu_hour",
        "must be from 0 to 1, got 3",
    );
}
