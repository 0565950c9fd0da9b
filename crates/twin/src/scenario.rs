//! Scenarios: what to simulate, read from TOML and checked with errors that
//! name file, line and field (the same machinery as campus files).

use std::path::{Path, PathBuf};

use abilene_model::diagnostic::{Diagnostic, FieldPath, LoadError, Source};
use abilene_model::{Campus, Date};
use abilene_scheduler::{Priority, TenantSpec};
use serde::{Deserialize, Serialize};

use crate::cooling::CoolingSettings;
use crate::failure::FailureSettings;
use crate::grid::GridSettings;
use crate::money::MoneySettings;
use crate::power::PowerSettings;

/// A whole scenario file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSpec {
    pub name: String,
    pub campus: CampusRef,
    /// ISO date of the first simulated hour (midnight, site time).
    pub start: String,
    pub days: f64,
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// The tenancy; empty for the default Crusoe -> Oracle -> OpenAI tree.
    #[serde(default, rename = "tenant", skip_serializing_if = "Vec::is_empty")]
    pub tenants: Vec<TenantSpec>,
    #[serde(default)]
    pub workload: WorkloadSpec,
    #[serde(default)]
    pub failures: FailureSettings,
    #[serde(default)]
    pub power: PowerSettings,
    #[serde(default)]
    pub cooling: CoolingSettings,
    #[serde(default)]
    pub weather: WeatherSpec,
    #[serde(default)]
    pub grid: GridSettings,
    #[serde(default)]
    pub money: MoneySettings,
}

fn default_seed() -> u64 {
    1
}

/// The campus to simulate: a shipped preset or a file (relative to the
/// scenario file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampusRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WeatherSpec {
    /// A TMY3 file (relative to the scenario); absent for the Abilene year.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Added to every hour's temperature: a hotter year or a heat wave.
    pub offset_c: f64,
    /// A heat wave: `offset_c` applies only from this day for `days`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heat_wave: Option<HeatWave>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeatWave {
    pub start_day: f64,
    pub days: f64,
    pub offset_c: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkloadSpec {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub frontier: Vec<FrontierRun>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub research: Option<ResearchSpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inference: Option<InferenceSpec>,
}

/// A frontier training run: one gang of tens of thousands of GPUs for weeks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrontierRun {
    pub name: String,
    pub project: String,
    #[serde(default = "default_sku")]
    pub sku: String,
    pub gpus: u32,
    /// Day of the scenario on which it is submitted.
    #[serde(default)]
    pub start_day: f64,
    /// Days of work at full speed on an ideal placement.
    pub work_days: f64,
    /// Minutes between checkpoints.
    pub checkpoint_interval_min: f64,
    /// Seconds the job pauses to write a checkpoint.
    #[serde(default = "default_checkpoint_cost")]
    pub checkpoint_cost_s: f64,
    /// Minutes from a (re)start to the first useful step: reload, warm-up
    /// (domain.md §3: typically 5-20 minutes).
    #[serde(default = "default_restart")]
    pub restart_overhead_min: f64,
    #[serde(default)]
    pub tp_gpus: u32,
    #[serde(default)]
    pub segment_trays: u32,
    #[serde(default)]
    pub spare_trays: u32,
    #[serde(default = "default_critical")]
    pub priority: Priority,
}

fn default_sku() -> String {
    "gb200-nvl72".into()
}

fn default_checkpoint_cost() -> f64 {
    60.0 // assumed: one minute to write a sharded checkpoint
}

fn default_restart() -> f64 {
    10.0 // domain.md §3: restart overhead typically 5-20 minutes
}

fn default_critical() -> Priority {
    Priority::Critical
}

/// Research and fine-tuning jobs replayed from the Alibaba openb trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResearchSpec {
    pub project: String,
    /// SKU key, or "*" to spread jobs over all of the campus's SKUs.
    #[serde(default = "default_sku")]
    pub sku: String,
    /// Arrivals per hour relative to the trace (the trace's cluster has
    /// 6,212 GPUs; a campus has far more).
    pub arrival_scale: f64,
    /// Run times from the trace itself, or drawn from Philly's.
    #[serde(default)]
    pub runtimes: RuntimeSource,
    /// Multiply GPUs per job, to stand for larger research jobs.
    #[serde(default = "one")]
    pub gpu_scale: u32,
    #[serde(default = "default_checkpoint_min")]
    pub checkpoint_interval_min: f64,
}

fn one() -> u32 {
    1
}

fn default_checkpoint_min() -> f64 {
    60.0 // assumed for research jobs
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuntimeSource {
    #[default]
    Trace,
    Philly,
}

/// Inference services shaped after the Alibaba DLRM trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InferenceSpec {
    pub project: String,
    #[serde(default = "default_sku")]
    pub sku: String,
    /// GPUs this project's services hold in all.
    pub gpus: u32,
    #[serde(default = "default_replica_gpus")]
    pub gpus_per_replica: u32,
}

fn default_replica_gpus() -> u32 {
    4
}

/// A scenario read and checked, with its campus.
pub struct Scenario {
    pub spec: ScenarioSpec,
    pub campus: Campus,
    pub campus_name: String,
    pub start: Date,
    /// The scenario file's folder, for files it names.
    pub dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{0}")]
    Invalid(LoadError),
    #[error("{file}: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
    #[error("campus of scenario {scenario}:\n{error}")]
    Campus { scenario: String, error: LoadError },
}

impl Scenario {
    /// Reads a scenario file and the campus it names.
    pub fn load_file(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
            file: path.display().to_string(),
            source,
        })?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Scenario::load(&path.display().to_string(), &text, &dir)
    }

    /// Parses and checks a scenario; `dir` resolves the files it names.
    pub fn load(name: &str, text: &str, dir: &Path) -> Result<Scenario, ScenarioError> {
        let source = Source::new(name, text);
        let spec: ScenarioSpec = toml::from_str(text).map_err(|e| {
            ScenarioError::Invalid(LoadError {
                problems: vec![source.place_toml_error(&e)],
            })
        })?;
        let mut diags = check(&spec);
        let start = Date::parse(&spec.start);
        if let Err(e) = &start {
            diags.push(Diagnostic::new(
                FieldPath::root().key("start"),
                e.to_string(),
            ));
        }
        let campus = load_campus(&spec, dir);
        if let Err(CampusProblem::Missing(why)) = &campus {
            diags.push(Diagnostic::new(
                FieldPath::root().key("campus"),
                why.clone(),
            ));
        }
        let (campus, campus_name) = match campus {
            Ok(c) => c,
            Err(CampusProblem::Invalid(error)) => {
                return Err(ScenarioError::Campus {
                    scenario: name.to_string(),
                    error,
                });
            }
            Err(CampusProblem::Missing(_)) => {
                return Err(ScenarioError::Invalid(LoadError {
                    problems: diags.iter().map(|d| source.place(d)).collect(),
                }));
            }
        };
        // Problems of both stages are reported together.
        diags.extend(check_against_campus(&spec, &campus));
        if !diags.is_empty() {
            return Err(ScenarioError::Invalid(LoadError {
                problems: diags.iter().map(|d| source.place(d)).collect(),
            }));
        }
        let Ok(start) = start else {
            unreachable!("a bad start date is reported above")
        };
        Ok(Scenario {
            start,
            spec,
            campus,
            campus_name,
            dir: dir.to_path_buf(),
        })
    }
}

enum CampusProblem {
    Missing(String),
    Invalid(LoadError),
}

fn load_campus(spec: &ScenarioSpec, dir: &Path) -> Result<(Campus, String), CampusProblem> {
    match (&spec.campus.preset, &spec.campus.file) {
        (Some(name), None) => {
            let p = abilene_model::preset::preset(name).ok_or_else(|| {
                CampusProblem::Missing(format!(
                    "no preset `{name}`; presets: {}",
                    abilene_model::preset::names().join(", ")
                ))
            })?;
            let c = Campus::load(p.file, p.toml).map_err(CampusProblem::Invalid)?;
            Ok((c, name.clone()))
        }
        (None, Some(file)) => {
            let path = dir.join(file);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                CampusProblem::Missing(format!("cannot read {}: {e}", path.display()))
            })?;
            let c =
                Campus::load(&path.display().to_string(), &text).map_err(CampusProblem::Invalid)?;
            Ok((c, file.clone()))
        }
        _ => Err(CampusProblem::Missing(
            "give exactly one of `preset` or `file`".into(),
        )),
    }
}

/// Checks that need only the scenario.
fn check(s: &ScenarioSpec) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    let root = FieldPath::root();
    if !(s.days.is_finite() && s.days > 0.0 && s.days <= 3660.0) {
        d.push(Diagnostic::new(
            root.key("days"),
            format!("must be above 0 and at most 3660, got {}", s.days),
        ));
    }
    for (i, f) in s.workload.frontier.iter().enumerate() {
        let p = root.key("workload").key("frontier").index(i);
        let positive = [
            ("work_days", f.work_days),
            ("checkpoint_interval_min", f.checkpoint_interval_min),
        ];
        for (field, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                d.push(Diagnostic::new(
                    p.key(field),
                    format!("must be a number above 0, got {v}"),
                ));
            }
        }
        for (field, v) in [
            ("start_day", f.start_day),
            ("checkpoint_cost_s", f.checkpoint_cost_s),
            ("restart_overhead_min", f.restart_overhead_min),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                d.push(Diagnostic::new(
                    p.key(field),
                    format!("must be a number of 0 or more, got {v}"),
                ));
            }
        }
        if f.gpus == 0 {
            d.push(Diagnostic::new(p.key("gpus"), "must be 1 or more"));
        }
    }
    if let Some(r) = &s.workload.research {
        let p = root.key("workload").key("research");
        if !(r.arrival_scale.is_finite() && r.arrival_scale > 0.0) {
            d.push(Diagnostic::new(
                p.key("arrival_scale"),
                format!("must be above 0, got {}", r.arrival_scale),
            ));
        }
        if r.gpu_scale == 0 {
            d.push(Diagnostic::new(p.key("gpu_scale"), "must be 1 or more"));
        }
    }
    if let Some(w) = &s.weather.heat_wave
        && !(w.days.is_finite() && w.days > 0.0 && w.start_day.is_finite() && w.start_day >= 0.0)
    {
        d.push(Diagnostic::new(
            root.key("weather").key("heat_wave"),
            "start_day must be 0 or more and days above 0",
        ));
    }
    d.extend(crate::failure::check(&s.failures, &root.key("failures")));
    d.extend(crate::cooling::check(&s.cooling, &root.key("cooling")));
    d
}

/// Checks that need the campus: SKUs and projects that exist.
fn check_against_campus(s: &ScenarioSpec, campus: &Campus) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    let root = FieldPath::root();
    let tenants = crate::tenancy::tenants(s, campus);
    let known = |name: &str| tenants.iter().any(|t| t.name == name);
    let sku_ok = |k: &str, any: bool| {
        (any && k == crate::workload::ANY_SKU)
            || campus
                .catalog
                .lookup(k)
                .is_some_and(|id| campus.trays.iter().any(|t| t.sku == id))
    };
    let mut check_job = |path: FieldPath, project: &str, sku: &str, any: bool| {
        if !known(project) {
            d.push(Diagnostic::new(
                path.key("project"),
                format!("no tenant or project `{project}` in the tenancy"),
            ));
        }
        if !sku_ok(sku, any) {
            d.push(Diagnostic::new(
                path.key("sku"),
                format!("the campus has no racks of `{sku}`"),
            ));
        }
    };
    for (i, f) in s.workload.frontier.iter().enumerate() {
        check_job(
            root.key("workload").key("frontier").index(i),
            &f.project,
            &f.sku,
            false,
        );
    }
    if let Some(r) = &s.workload.research {
        // Only research may spread over every SKU ("*").
        check_job(
            root.key("workload").key("research"),
            &r.project,
            &r.sku,
            true,
        );
    }
    if let Some(r) = &s.workload.inference {
        check_job(
            root.key("workload").key("inference"),
            &r.project,
            &r.sku,
            false,
        );
    }
    d.extend(check_frontier_shapes(s, campus, &tenants));
    d
}

/// A frontier run the scheduler would refuse (a shape that can never fit
/// this campus, a quota chain too small for it) is a scenario error found at
/// load time, not a run that silently never starts.
fn check_frontier_shapes(
    s: &ScenarioSpec,
    campus: &Campus,
    tenants: &[abilene_scheduler::TenantSpec],
) -> Vec<Diagnostic> {
    let root = FieldPath::root();
    let sched = match abilene_scheduler::Scheduler::new(
        campus,
        abilene_scheduler::Config::default(),
        tenants,
    ) {
        Ok(sched) => sched,
        Err(e) => return vec![Diagnostic::new(root.key("tenants"), e.to_string())],
    };
    let mut d = Vec::new();
    for (i, f) in s.workload.frontier.iter().enumerate() {
        let spec = crate::workload::frontier_spec(f, i as u64 + 1);
        if let Err(reject) = sched.check_submit(&spec) {
            // Unknown projects and SKUs are reported above, in words of the scenario.
            if matches!(
                reject,
                abilene_scheduler::Reject::UnknownTenant { .. }
                    | abilene_scheduler::Reject::UnknownSku { .. }
                    | abilene_scheduler::Reject::Shape {
                        problem: abilene_scheduler::ShapeProblem::LargerThanCampus {
                            capacity: 0,
                            ..
                        },
                        ..
                    }
            ) {
                continue;
            }
            let field = reject.field().unwrap_or("gpus");
            d.push(Diagnostic::new(
                root.key("workload").key("frontier").index(i).key(field),
                format!("the scheduler would refuse this run: {reject}"),
            ));
        }
    }
    d
}

/// The openb trace replayed on its own cluster: the 1,213 GPU nodes of the
/// trace as a campus (each node a rack of one tray), every task at its
/// recorded arrival and run time, jobs spread over the node types in
/// proportion to their GPUs. The set-up for `abilene bench twin`.
pub fn openb_replay() -> Result<Scenario, String> {
    let nodes = crate::trace::openb_nodes().map_err(|e| e.to_string())?;
    let campus = Campus::build(crate::trace::openb_campus_spec(&nodes)).map_err(|d| {
        let first = d
            .first()
            .map_or(String::new(), |d| format!("{}: {}", d.path, d.message));
        format!("the openb campus does not validate: {first}")
    })?;
    let text = r#"
name = "openb-replay"
campus = { preset = "tiny" }     # replaced by the trace's own cluster
start = "2023-01-01"
days = 150                       # the trace spans 149.3 days
seed = 1

[workload.research]
project = "research"
sku = "*"
arrival_scale = 1.0
runtimes = "trace"
"#;
    let spec: ScenarioSpec = toml::from_str(text).map_err(|e| e.to_string())?;
    let start = Date::parse(&spec.start).map_err(|e| e.to_string())?;
    Ok(Scenario {
        spec,
        campus,
        campus_name: "openb cluster (1,213 nodes)".into(),
        start,
        dir: PathBuf::new(),
    })
}
