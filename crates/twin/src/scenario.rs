//! Scenarios: what to simulate, read from TOML and checked with errors that
//! name file, line and field (the same machinery as campus files).

use std::path::{Path, PathBuf};

use abilene_model::diagnostic::{Diagnostic, FieldPath, LoadError, Problem, Source};
use abilene_model::{Campus, Date, Limits};
use abilene_scheduler::{Priority, TenantSpec};
use serde::{Deserialize, Serialize};

use crate::bounds::Bound;
use crate::cooling::CoolingSettings;
use crate::failure::FailureSettings;
use crate::grid::GridSettings;
use crate::money::MoneySettings;
use crate::power::PowerSettings;
use crate::weather::WeatherYear;

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
    /// Seconds to write a checkpoint.
    #[serde(default = "default_checkpoint_cost")]
    pub checkpoint_cost_s: f64,
    /// Whether training stops while a checkpoint is written. False (the
    /// default): it is written from a copy in host memory while training
    /// goes on, and counts only once written, so an interruption during the
    /// write falls back to the checkpoint before. True: training pauses
    /// `checkpoint_cost_s` for each checkpoint.
    #[serde(default)]
    pub checkpoint_blocking: bool,
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
    // Assumed (domain.md has no figure): a minute to write a sharded
    // checkpoint. It blocks training only with `checkpoint_blocking`; by
    // default writes are asynchronous (assumed, as large runs checkpoint
    // from a copy in host memory), so a short interval costs no pauses.
    60.0
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
    /// The campus's own weather year (`site.climate_file`), which the twin
    /// uses when the scenario names no `weather.file`.
    pub climate: Option<WeatherYear>,
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
    /// The campus is invalid; `own` holds the scenario's own problems,
    /// found without the campus, if it has any.
    #[error("campus of scenario {scenario}:\n{error}{}", own_problems(own.as_ref()))]
    Campus {
        scenario: String,
        error: LoadError,
        own: Option<LoadError>,
    },
}

fn own_problems(own: Option<&LoadError>) -> String {
    own.map_or(String::new(), |e| {
        format!("\nand in the scenario itself:\n{e}")
    })
}

/// The scenario's length in days: above 0 and at most 3,660 (ten years).
pub const DAYS: Bound = Bound::above(0.0, 3_660.0).unit(" days");

/// Checks a number of days given in place of the scenario's (`--days`).
pub fn check_days(days: f64) -> Result<(), String> {
    if DAYS.holds(days) {
        Ok(())
    } else {
        Err(format!("must be {}, got {days}", DAYS.describe()))
    }
}

/// Limits on the campus's index for this machine: a quarter of its memory
/// where Linux says how much it has (`/proc/meminfo`), else the model's
/// default.
pub fn machine_limits() -> Limits {
    let total_kb = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        let line = m.lines().find(|l| l.starts_with("MemTotal:"))?;
        line.split_whitespace().nth(1)?.parse::<u64>().ok()
    });
    total_kb.map_or_else(Limits::default, |kb| {
        Limits::for_memory(kb.saturating_mul(1024))
    })
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
        let spec: ScenarioSpec = abilene_model::diagnostic::deserialize_all(&source)
            .map_err(|problems| ScenarioError::Invalid(LoadError { problems }))?;
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
        let (campus, campus_name, climate) = match campus {
            Ok(c) => c,
            Err(CampusProblem::Invalid(error)) => {
                // The scenario's own problems are shown too, so that one
                // run lists all there is to fix.
                let own = (!diags.is_empty()).then(|| LoadError {
                    problems: diags.iter().map(|d| source.place(d)).collect(),
                });
                return Err(ScenarioError::Campus {
                    scenario: name.to_string(),
                    error,
                    own,
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
        let mut problems: Vec<Problem> = diags.iter().map(|d| source.place(d)).collect();
        // Problems inside the data files it names are placed in those files.
        problems.extend(check_files(&spec, dir, &source));
        if !problems.is_empty() {
            return Err(ScenarioError::Invalid(LoadError { problems }));
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
            climate,
        })
    }
}

enum CampusProblem {
    Missing(String),
    Invalid(LoadError),
}

/// A campus, its name, and its own weather year if it names one.
type LoadedCampus = (Campus, String, Option<WeatherYear>);

fn load_campus(spec: &ScenarioSpec, dir: &Path) -> Result<LoadedCampus, CampusProblem> {
    match (&spec.campus.preset, &spec.campus.file) {
        (Some(name), None) => {
            let p = abilene_model::preset::preset(name).ok_or_else(|| {
                CampusProblem::Missing(format!(
                    "no preset `{name}`; presets: {}",
                    abilene_model::preset::names().join(", ")
                ))
            })?;
            let c = Campus::load_with(p.file, p.toml, &machine_limits())
                .map_err(CampusProblem::Invalid)?;
            let climate = climate(&c, p.file, p.toml, None).map_err(CampusProblem::Invalid)?;
            Ok((c, name.clone(), climate))
        }
        (None, Some(file)) => {
            let path = dir.join(file);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                CampusProblem::Missing(format!("cannot read {}: {e}", path.display()))
            })?;
            let name = path.display().to_string();
            let c = Campus::load_with(&name, &text, &machine_limits())
                .map_err(CampusProblem::Invalid)?;
            let folder = path.parent().unwrap_or(Path::new(""));
            let climate =
                climate(&c, &name, &text, Some(folder)).map_err(CampusProblem::Invalid)?;
            Ok((c, file.clone(), climate))
        }
        _ => Err(CampusProblem::Missing(
            "give exactly one of `preset` or `file`".into(),
        )),
    }
}

/// The weather year a campus names in `site.climate_file`: a TMY3 file
/// relative to the campus file's folder (`folder`), or, for a preset built
/// into the binary (no folder), the data file it was built with. A file
/// that cannot be read is placed at the campus's `site.climate_file`; a
/// problem inside it, in the file.
fn climate(
    campus: &Campus,
    name: &str,
    text: &str,
    folder: Option<&Path>,
) -> Result<Option<WeatherYear>, LoadError> {
    let Some(file) = &campus.spec.site.climate_file else {
        return Ok(None);
    };
    let at = FieldPath::root().key("site").key("climate_file");
    let refuse = |message: String| LoadError {
        problems: vec![Source::new(name, text).place(&Diagnostic::new(at.clone(), message))],
    };
    let (shown, data) = match folder {
        Some(folder) => {
            let path = folder.join(file);
            let data = std::fs::read_to_string(&path)
                .map_err(|e| refuse(format!("cannot read {}: {e}", path.display())))?;
            (path.display().to_string(), data)
        }
        None if file == crate::weather::ABILENE_TMY3_FILE => {
            (file.clone(), crate::weather::ABILENE_TMY3.to_string())
        }
        None => {
            return Err(refuse(format!(
                "a preset's climate file must be one built into abilene ({}), got {file}",
                crate::weather::ABILENE_TMY3_FILE
            )));
        }
    };
    crate::weather::parse_tmy3(&shown, &data)
        .map(Some)
        .map_err(|p| LoadError { problems: vec![p] })
}

/// The weather file and the price CSV a scenario names must read and parse;
/// a problem inside one is placed in that file, one reading it at the
/// scenario's field.
fn check_files(s: &ScenarioSpec, dir: &Path, source: &Source<'_>) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut read = |field: FieldPath, file: &str, parse: &dyn Fn(&str, &str) -> Option<Problem>| {
        let path = dir.join(file);
        match std::fs::read_to_string(&path) {
            Ok(text) => out.extend(parse(&path.display().to_string(), &text)),
            Err(e) => out.push(source.place(&Diagnostic::new(
                field,
                format!("cannot read {}: {e}", path.display()),
            ))),
        }
    };
    if let Some(f) = &s.weather.file {
        read(FieldPath::root().key("weather").key("file"), f, &|n, t| {
            crate::weather::parse_tmy3(n, t).err()
        });
    }
    if let crate::grid::PriceSource::Csv { path } = &s.grid.price
        && !path.trim().is_empty()
    {
        let at = FieldPath::root()
            .key("grid")
            .key("price")
            .key("csv")
            .key("path");
        // Hour n of the file is hour n of the run: it must have them all.
        let hours = (s.days.max(0.0) * 24.0).ceil();
        let short = |n: &str, len: usize| {
            let message =
                format!("{n} has {len} hourly prices; the run's {hours} hours need one each");
            source.place(&Diagnostic::new(at.clone(), message))
        };
        read(
            at.clone(),
            path,
            &|n, t| match crate::grid::parse_price_csv(n, t) {
                Err(p) => Some(p),
                Ok(p) if (p.len() as f64) < hours => Some(short(n, p.len())),
                Ok(_) => None,
            },
        );
    }
    out
}

/// Minutes between checkpoints: from 1 to 10,080 (a week). Zero would mean
/// no checkpoints at all, so every interruption lost all work so far.
const CHECKPOINT_MIN: Bound = Bound::closed(1.0, 10_080.0).unit(" minutes");
/// A day of the scenario on which something starts.
const START_DAY: Bound = Bound::closed(0.0, 3_660.0).unit(" days");
/// Degrees added to the weather year.
const OFFSET_C: Bound = Bound::closed(-30.0, 30.0).unit(" C");

/// Checks that need only the scenario. Ranges: `days` as [`DAYS`]; a
/// frontier run's `gpus` 1 or more, `start_day` from 0 to 3,660,
/// `work_days` above 0 and at most 36,600, `checkpoint_interval_min` from 1
/// to 10,080, `checkpoint_cost_s` from 0 to 86,400, `restart_overhead_min`
/// from 0 to 1,440; research `arrival_scale` above 0 and at most 1,000 (and
/// at most [`crate::workload::MAX_RESEARCH_JOBS`] jobs), `gpu_scale` from 1
/// to 1,024, `checkpoint_interval_min` as for frontier runs; inference
/// `gpus_per_replica` from 1 to 65,536; weather offsets from -30 to 30 C,
/// a heat wave's `start_day` from 0 to 3,660 and `days` above 0 and at most
/// 3,660; the sections' own ranges are in their `check` functions.
fn check(s: &ScenarioSpec) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    let root = FieldPath::root();
    DAYS.check(&mut d, &root, "days", s.days);
    for (i, f) in s.workload.frontier.iter().enumerate() {
        check_frontier(&mut d, &root.key("workload").key("frontier").index(i), f);
    }
    if let Some(r) = &s.workload.research {
        check_research(&mut d, &root.key("workload").key("research"), r, s.days);
    }
    if let Some(inf) = &s.workload.inference {
        let p = root.key("workload").key("inference");
        let replica = u64::from(inf.gpus_per_replica);
        Bound::closed(1.0, 65_536.0).check_int(&mut d, &p, "gpus_per_replica", replica);
        if inf.gpus == 0 {
            d.push(Diagnostic::new(p.key("gpus"), "must be 1 or more, got 0"));
        }
    }
    let w = root.key("weather");
    OFFSET_C.check(&mut d, &w, "offset_c", s.weather.offset_c);
    if let Some(h) = &s.weather.heat_wave {
        let p = w.key("heat_wave");
        START_DAY.check(&mut d, &p, "start_day", h.start_day);
        DAYS.check(&mut d, &p, "days", h.days);
        OFFSET_C.check(&mut d, &p, "offset_c", h.offset_c);
    }
    d.extend(crate::failure::check(&s.failures, &root.key("failures")));
    d.extend(crate::power::check(&s.power, &root.key("power")));
    d.extend(crate::cooling::check(&s.cooling, &root.key("cooling")));
    d.extend(crate::grid::check(&s.grid, &root.key("grid")));
    d.extend(crate::money::check(&s.money, &root.key("money")));
    d
}

fn check_frontier(d: &mut Vec<Diagnostic>, p: &FieldPath, f: &FrontierRun) {
    START_DAY.check(d, p, "start_day", f.start_day);
    let work = Bound::above(0.0, 36_600.0).unit(" days");
    work.check(d, p, "work_days", f.work_days);
    CHECKPOINT_MIN.check(d, p, "checkpoint_interval_min", f.checkpoint_interval_min);
    let cost = Bound::closed(0.0, 86_400.0).unit(" seconds");
    cost.check(d, p, "checkpoint_cost_s", f.checkpoint_cost_s);
    let restart = Bound::closed(0.0, 1_440.0).unit(" minutes");
    restart.check(d, p, "restart_overhead_min", f.restart_overhead_min);
    if f.gpus == 0 {
        d.push(Diagnostic::new(p.key("gpus"), "must be 1 or more, got 0"));
    }
}

fn check_research(d: &mut Vec<Diagnostic>, p: &FieldPath, r: &ResearchSpec, days: f64) {
    let scale = Bound::above(0.0, 1_000.0);
    scale.check(d, p, "arrival_scale", r.arrival_scale);
    Bound::closed(1.0, 1_024.0).check_int(d, p, "gpu_scale", u64::from(r.gpu_scale));
    CHECKPOINT_MIN.check(d, p, "checkpoint_interval_min", r.checkpoint_interval_min);
    if scale.holds(r.arrival_scale) && DAYS.holds(days) {
        let max = crate::workload::MAX_RESEARCH_JOBS;
        match crate::workload::research_jobs(r.arrival_scale, days) {
            Ok(n) if n > max => d.push(Diagnostic::new(
                p.key("arrival_scale"),
                format!(
                    "{} over {days} days replays ~{n} openb jobs; at most {max} are allowed",
                    r.arrival_scale
                ),
            )),
            Ok(_) => {}
            Err(e) => d.push(Diagnostic::new(p.clone(), e)),
        }
    }
}

/// Checks that need the campus: SKUs and projects that exist.
fn check_against_campus(s: &ScenarioSpec, campus: &Campus) -> Vec<Diagnostic> {
    let mut d = crate::tenancy::check(&s.tenants, campus);
    let root = FieldPath::root();
    if let Some(inf) = &s.workload.inference {
        let gpus: u64 = campus
            .catalog
            .lookup(&inf.sku)
            .map(|id| {
                let trays = campus.trays.iter().filter(|t| t.sku == id);
                trays.map(|t| u64::from(t.gpus)).sum()
            })
            .unwrap_or(0);
        if gpus > 0 && u64::from(inf.gpus) > gpus {
            d.push(Diagnostic::new(
                root.key("workload").key("inference").key("gpus"),
                format!(
                    "must be from 1 to {gpus} (the campus's {} GPUs), got {}",
                    inf.sku, inf.gpus
                ),
            ));
        }
    }
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
        // A tree the scheduler refuses is reported, placed, by the tenancy
        // checks; the runs cannot be checked against it.
        Err(_) => return Vec::new(),
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
        climate: None,
    })
}
