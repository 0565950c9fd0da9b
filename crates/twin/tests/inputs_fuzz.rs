//! Generated scenario and campus files, valid and broken, fed to the loader
//! and the first simulated day: nothing panics, every refusal is placed at a
//! line and a field, and whatever loads also runs.

mod common;

use abilene_model::Problem;
use abilene_model::preset;
use abilene_twin::run::run;
use abilene_twin::scenario::{Scenario, ScenarioError};
use abilene_twin::sim::RunOptions;
use common::TempDir;
use proptest::prelude::*;

/// A scenario with every section, on the campus in `campus.toml`, with
/// `{..}` holes for generated values.
const TEMPLATE: &str = r#"name = "fuzz"
campus = { file = "campus.toml" }
start = "2026-07-01"
days = {days}
seed = 3

[[tenant]]
name = "crusoe"

[[tenant]]
name = "frontier"
parent = "crusoe"
guarantee = { gb200-nvl72 = {guarantee} }
weight = 2

[[tenant]]
name = "research"
parent = "crusoe"

[[tenant]]
name = "inference"
parent = "crusoe"

[[workload.frontier]]
name = "run"
project = "frontier"
gpus = {frontier_gpus}
work_days = 0.5
checkpoint_interval_min = 30
restart_overhead_min = 5

[workload.research]
project = "research"
arrival_scale = {arrival_scale}
gpu_scale = 1
checkpoint_interval_min = 60

[workload.inference]
project = "inference"
gpus = {inference_gpus}
gpus_per_replica = {per_replica}

[failures]
rate_scale = {rate_scale}
detection_min = 3.0
quarantine_days = 3.0

[power]
idle = 0.2
compute = 0.91

[weather]
offset_c = {offset_c}

[grid]
gas_usd_per_mwh = 30.0
battery_round_trip_efficiency = 0.85

[grid.price.modelled]
base_usd_per_mwh = 21.5
noise = 0.2

[money]
gpu_life_years = 5.0
rack_usd = 3000000.0
"#;

/// Values a mutation puts in place of a scalar: edges of every range, the
/// wrong types, NaN and infinities, numbers past i64 and u32.
const EDGES: &[&str] = &[
    "0",
    "-1",
    "-5",
    "0.5",
    "1e6",
    "1e300",
    "nan",
    "inf",
    "-inf",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "\"\"",
    "\"*\"",
    "\"nobody\"",
    "\"2026-02-30\"",
    "true",
];

#[derive(Debug, Clone)]
struct Values {
    days: f64,
    guarantee: u32,
    frontier_gpus: u32,
    arrival_scale: f64,
    inference_gpus: u32,
    per_replica: u32,
    rate_scale: f64,
    offset_c: f64,
}

fn values() -> impl Strategy<Value = Values> {
    (
        // Frontier runs of whole 4-GPU trays: other counts are refused by
        // the scheduler at load (tested in scenario_errors.rs).
        (
            0.05f64..2.0,
            0u32..=576,
            (1u32..=144).prop_map(|trays| trays * 4),
            0.01f64..3.0,
        ),
        (1u32..=128, 1u32..=16, 0.0f64..50.0, -10.0f64..10.0),
    )
        .prop_map(|((days, guarantee, frontier_gpus, arrival_scale), rest)| {
            let (inference_gpus, per_replica, rate_scale, offset_c) = rest;
            Values {
                days,
                guarantee,
                frontier_gpus,
                arrival_scale,
                inference_gpus,
                per_replica,
                rate_scale,
                offset_c,
            }
        })
}

fn scenario(v: &Values) -> String {
    TEMPLATE
        .replace("{days}", &v.days.to_string())
        .replace("{guarantee}", &v.guarantee.to_string())
        .replace("{frontier_gpus}", &v.frontier_gpus.to_string())
        .replace("{arrival_scale}", &v.arrival_scale.to_string())
        .replace("{inference_gpus}", &v.inference_gpus.to_string())
        .replace("{per_replica}", &v.per_replica.to_string())
        .replace("{rate_scale}", &v.rate_scale.to_string())
        .replace("{offset_c}", &v.offset_c.to_string())
}

/// One edit of a file: replace a scalar value, or delete a line that holds
/// only `key = value`. Both keep the TOML well formed, so that what is
/// tested is the checks, not the parser's syntax errors.
#[derive(Debug, Clone)]
enum Mutation {
    Value { which: usize, edge: usize },
    DeleteLine { which: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<usize>(), 0..EDGES.len()).prop_map(|(which, edge)| Mutation::Value { which, edge }),
        1 => any::<usize>().prop_map(|which| Mutation::DeleteLine { which }),
    ]
}

/// Byte ranges of the scalar values after `= ` (numbers, strings, booleans;
/// not tables or arrays).
fn scalar_spans(text: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    for (at, _) in text.match_indices("= ") {
        let start = at + 2;
        let end = if bytes.get(start) == Some(&b'"') {
            match text[start + 1..].find('"') {
                Some(i) => start + i + 2,
                None => continue,
            }
        } else {
            start
                + text[start..]
                    .find([',', ' ', '}', '\n'])
                    .unwrap_or(text.len() - start)
        };
        let value = &text[start..end];
        if !value.is_empty() && !value.starts_with(['{', '[']) {
            spans.push(start..end);
        }
    }
    spans
}

fn apply(text: &str, m: &Mutation) -> String {
    match m {
        Mutation::Value { which, edge } => {
            let spans = scalar_spans(text);
            if spans.is_empty() {
                return text.to_string();
            }
            let span = spans[which % spans.len()].clone();
            let mut out = text.to_string();
            out.replace_range(span, EDGES[*edge]);
            out
        }
        Mutation::DeleteLine { which } => {
            let lines: Vec<&str> = text.lines().collect();
            let plain: Vec<usize> = (0..lines.len())
                .filter(|&i| {
                    let l = lines[i];
                    l.contains(" = ") && !l.contains(['[', '{'])
                })
                .collect();
            if plain.is_empty() {
                return text.to_string();
            }
            let drop = plain[which % plain.len()];
            let kept: Vec<&str> = (0..lines.len())
                .filter(|&i| i != drop)
                .map(|i| lines[i])
                .collect();
            kept.join("\n") + "\n"
        }
    }
}

#[track_caller]
fn assert_located(problems: &[Problem], files: &str) {
    assert!(!problems.is_empty(), "a refusal without problems");
    for p in problems {
        assert!(p.line >= 1 && p.column >= 1, "unplaced: {p}\nin:\n{files}");
        assert!(!p.field.is_empty(), "no field: {p}\nin:\n{files}");
    }
}

fn check(scenario_text: &str, campus_text: &str) {
    let dir = TempDir::new("fuzz");
    std::fs::create_dir_all(dir.path()).unwrap();
    std::fs::write(dir.path().join("campus.toml"), campus_text).unwrap();
    let files = format!("{scenario_text}\n--- campus.toml ---\n{campus_text}");
    match Scenario::load("fuzz.toml", scenario_text, dir.path()) {
        Ok(sc) => {
            // What loads runs its first day without an error.
            let opts = RunOptions {
                days: Some(1.0_f64.min(sc.spec.days)),
                seed: None,
            };
            if let Err(e) = run(&sc, &opts, &mut |_, _| {}) {
                panic!("loaded but did not run: {e}\nin:\n{files}");
            }
        }
        Err(ScenarioError::Invalid(e)) => assert_located(&e.problems, &files),
        Err(ScenarioError::Campus { error, own, .. }) => {
            assert_located(&error.problems, &files);
            if let Some(own) = own {
                assert_located(&own.problems, &files);
            }
        }
        Err(e @ ScenarioError::Io { .. }) => panic!("{e}\nin:\n{files}"),
    }
}

fn tiny() -> &'static str {
    preset::preset("tiny").expect("tiny preset").toml
}

proptest! {
    // Each case loads two files and may simulate a day of the tiny campus.
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn valid_scenarios_load_and_run(v in values()) {
        let text = scenario(&v);
        let dir = TempDir::new("fuzz-valid");
        std::fs::create_dir_all(dir.path()).unwrap();
        std::fs::write(dir.path().join("campus.toml"), tiny()).unwrap();
        if let Err(e) = Scenario::load("fuzz.toml", &text, dir.path()) {
            panic!("a valid scenario was refused: {e}\n{text}");
        }
        check(&text, tiny());
    }

    #[test]
    fn broken_scenarios_and_campuses_are_refused_with_locations(
        v in values(),
        in_scenario in proptest::collection::vec(mutation(), 0..4),
        in_campus in proptest::collection::vec(mutation(), 0..3),
    ) {
        let mut text = scenario(&v);
        for m in &in_scenario {
            text = apply(&text, m);
        }
        let mut campus = tiny().to_string();
        for m in &in_campus {
            campus = apply(&campus, m);
        }
        check(&text, &campus);
    }
}

#[test]
fn mutations_keep_the_files_well_formed() {
    for which in 0..200 {
        for edge in 0..EDGES.len() {
            let t = apply(tiny(), &Mutation::Value { which, edge });
            assert!(t.parse::<toml::Table>().is_ok() || t.contains("18446744073709551615"));
        }
        let t = apply(tiny(), &Mutation::DeleteLine { which });
        assert!(t.parse::<toml::Table>().is_ok(), "{t}");
    }
}
