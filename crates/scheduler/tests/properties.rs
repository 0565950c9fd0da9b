//! Property tests: random command sequences on the tiny campus (992 GPUs:
//! 576 GB200, 288 GB300, 128 HGX H100), applied through `step` in
//! random-sized batches with a clock that only moves forward, and checked
//! after every step.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use abilene_model::Campus;
use abilene_scheduler::*;
use common::{GB200, campus};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::TestCaseError;

const GB300: &str = "gb300-nvl72";
const H100: &str = "hgx-h100";
/// Trays of the tiny campus: 144 GB200, 72 GB300, 16 HGX H100.
const TRAYS: u32 = 232;
/// Projects: the leaves of the tenant tree.
const LEAVES: [&str; 4] = ["pretrain", "research", "ft", "batch"];
/// Job ids are drawn from a small range so that cancels, completions and
/// duplicate submissions hit known jobs.
const JOB_IDS: u64 = 32;

/// One step: the time and the batch of commands given with it.
type Seq = Vec<(Time, Vec<Command>)>;

// ---- set-up -------------------------------------------------------------------

/// The tiny tree of `common` with guarantees on every SKU, plus a second
/// lessee (nebius) with no GB200 guarantee that may borrow all of it.
///
/// crusoe -> oracle -> {openai -> {pretrain, research}, acme -> {ft}}
///        -> nebius -> {batch}
fn tenants() -> Vec<TenantSpec> {
    vec![
        TenantSpec::new("crusoe", None),
        TenantSpec::new("oracle", Some("crusoe"))
            .guarantee(GB200, 576)
            .guarantee(GB300, 216)
            .guarantee(H100, 96),
        TenantSpec::new("openai", Some("oracle"))
            .guarantee(GB200, 288)
            .guarantee(GB300, 144)
            .guarantee(H100, 64)
            .weight(3),
        TenantSpec::new("pretrain", Some("openai"))
            .guarantee(GB200, 216)
            .guarantee(GB300, 72)
            .borrow_limit(GB300, 72),
        TenantSpec::new("research", Some("openai"))
            .guarantee(GB200, 72)
            .guarantee(GB300, 72)
            .guarantee(H100, 64)
            .borrow_limit(H100, 0),
        TenantSpec::new("acme", Some("oracle"))
            .guarantee(GB200, 144)
            .borrow_limit(GB200, 288)
            .guarantee(GB300, 72)
            .borrow_limit(GB300, 72)
            .guarantee(H100, 32)
            .borrow_limit(H100, 32),
        TenantSpec::new("ft", Some("acme"))
            .guarantee(GB200, 144)
            .guarantee(GB300, 72)
            .guarantee(H100, 32),
        TenantSpec::new("nebius", Some("crusoe"))
            .guarantee(GB300, 72)
            .guarantee(H100, 32)
            .borrow_limit(H100, 64),
        TenantSpec::new("batch", Some("nebius"))
            .guarantee(GB300, 72)
            .guarantee(H100, 32),
    ]
}

/// What the tests need to know of the campus, read from the model.
struct Layout {
    campus: Campus,
    tenants: Vec<TenantSpec>,
    tray_sku: Vec<String>,
    tray_domain: Vec<u32>,
    gpus_per_tray: BTreeMap<String, u32>,
    capacity: BTreeMap<String, u64>,
}

fn layout() -> &'static Layout {
    static LAYOUT: OnceLock<Layout> = OnceLock::new();
    LAYOUT.get_or_init(|| {
        let campus = campus("tiny");
        let tray_sku: Vec<String> = campus
            .trays
            .iter()
            .map(|t| campus.catalog.key(t.sku).to_string())
            .collect();
        let tray_domain = campus.trays.iter().map(|t| t.domain.0).collect();
        let gpus_per_tray = campus
            .catalog
            .iter()
            .map(|(_, k, s)| (k.to_string(), s.gpus_per_tray))
            .collect();
        let mut capacity: BTreeMap<String, u64> =
            campus.catalog.keys().map(|k| (k.to_string(), 0)).collect();
        for t in &campus.trays {
            *capacity.get_mut(campus.catalog.key(t.sku)).unwrap() += u64::from(t.gpus);
        }
        assert_eq!(tray_sku.len() as u32, TRAYS);
        assert_eq!(
            (capacity[GB200], capacity[GB300], capacity[H100]),
            (576, 288, 128)
        );
        Layout {
            campus,
            tenants: tenants(),
            tray_sku,
            tray_domain,
            gpus_per_tray,
            capacity,
        }
    })
}

/// The stable name of tray `t`; past the campus, a name that does not
/// resolve (a rack number beyond its hall).
fn tname(t: u32) -> String {
    if t < TRAYS {
        layout().campus.tray_name(abilene_model::TrayId(t))
    } else {
        format!("B1/H1/R9999/T{:02}", t - TRAYS + 1)
    }
}

/// The dense index of a tray name, if it names a tray of the campus.
fn tid(name: &str) -> Option<u32> {
    layout().campus.resolve_tray(name).ok().map(|t| t.0)
}

/// Dense indices of tray names that events report (always valid).
fn tids(names: &[String]) -> Vec<u32> {
    names
        .iter()
        .map(|n| tid(n).expect("events name real trays"))
        .collect()
}

/// The trays a drain or resume target stands for: a tray or a rack name.
fn expand(name: &str) -> Option<Vec<u32>> {
    use abilene_model::names::Location;
    let c = &layout().campus;
    match c.resolve(name).ok()? {
        Location::Tray(t) => Some(vec![t.0]),
        Location::Rack(r) => Some(c.racks[r.index()].trays.clone().collect()),
        _ => None,
    }
}

fn scheduler() -> Scheduler {
    let l = layout();
    Scheduler::new(&l.campus, Config::default(), &l.tenants).expect("valid set-up")
}

impl Layout {
    fn spec(&self, node: &str) -> &TenantSpec {
        self.tenants.iter().find(|t| t.name == node).unwrap()
    }

    /// The node and its ancestors up to the root.
    fn chain(&self, node: &str) -> Vec<&str> {
        let mut out = vec![];
        let mut n = Some(node);
        while let Some(name) = n {
            let spec = self.spec(name);
            out.push(spec.name.as_str());
            n = spec.parent.as_deref();
        }
        out
    }

    /// Guaranteed GPUs of `node` on `sku`; the root is guaranteed the campus.
    fn guarantee(&self, node: &str, sku: &str) -> u64 {
        let spec = self.spec(node);
        if spec.parent.is_none() {
            return self.capacity[sku];
        }
        spec.guarantee.get(sku).copied().unwrap_or(0)
    }

    /// Guarantee plus borrowing limit; a SKU without a limit borrows freely
    /// and the root may not borrow at all.
    fn ceiling(&self, node: &str, sku: &str) -> u64 {
        let spec = self.spec(node);
        if spec.parent.is_none() {
            return self.capacity[sku];
        }
        let limit = spec.borrow_limit.get(sku).copied().unwrap_or(u64::MAX);
        self.guarantee(node, sku).saturating_add(limit)
    }
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        // Keep the tree clean: no proptest-regressions files.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---- strategies -----------------------------------------------------------------

fn priority() -> impl Strategy<Value = Priority> {
    select(vec![
        Priority::Low,
        Priority::Normal,
        Priority::High,
        Priority::Critical,
    ])
}

/// Mostly leaves; sometimes an inner node or a name that does not exist.
fn project() -> impl Strategy<Value = String> {
    prop_oneof![
        20 => select(LEAVES.to_vec()),
        1 => select(vec!["openai", "acme", "ghost"]),
    ]
    .prop_map(str::to_string)
}

/// The three SKUs of the campus; rarely one of the catalogue that the campus
/// lacks, or one that does not exist.
fn sku() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => Just(GB200),
        3 => Just(GB300),
        3 => Just(H100),
        1 => select(vec!["hgx-b200", "tpu-v5"]),
    ]
    .prop_map(str::to_string)
}

/// Valid and invalid gang sizes for trays of 4 and 8 GPUs.
fn gpus() -> impl Strategy<Value = u32> {
    prop_oneof![
        10 => select(vec![1, 2, 4, 8, 8, 16, 24, 32, 64, 72, 128, 144, 216, 288]),
        2 => select(vec![0, 3, 5, 6, 12, 36, 432, 576, 720]),
    ]
}

fn tp_gpus() -> impl Strategy<Value = u32> {
    prop_oneof![6 => Just(0), 1 => select(vec![2, 4, 8, 16, 36, 72, 144])]
}

fn segment_trays() -> impl Strategy<Value = u32> {
    prop_oneof![6 => Just(0), 1 => select(vec![1, 2, 3, 4, 9, 16, 18, 19])]
}

fn spare_trays() -> impl Strategy<Value = u32> {
    prop_oneof![4 => Just(0), 1 => 1u32..=2]
}

fn job_id() -> impl Strategy<Value = u64> {
    0..JOB_IDS
}

fn reservation() -> impl Strategy<Value = Option<String>> {
    prop_oneof![20 => Just(None), 1 => (0u32..3).prop_map(|r| Some(format!("r{r}")))]
}

fn training() -> impl Strategy<Value = JobSpec> {
    (
        (
            job_id(),
            project(),
            sku(),
            gpus(),
            tp_gpus(),
            segment_trays(),
        ),
        (
            priority(),
            any::<bool>(),
            select(vec![0, 300, 1800]),
            spare_trays(),
            select(vec![60, 600, 3600, 36_000]),
            select(vec![3600, 86_400, 7 * 86_400, 7 * 86_400, Time::MAX]),
            reservation(),
        ),
    )
        .prop_map(
            |(
                (id, project, sku, gpus, tp_gpus, segment_trays),
                (
                    priority,
                    preemptible,
                    checkpoint_interval,
                    spare_trays,
                    runtime_estimate,
                    runtime_limit,
                    reservation,
                ),
            )| JobSpec {
                id: JobId(id),
                project,
                sku,
                kind: JobKind::Training,
                gpus,
                tp_gpus,
                segment_trays,
                priority,
                preemptible,
                runtime_limit,
                runtime_estimate,
                checkpoint_interval,
                spare_trays,
                reservation,
            },
        )
}

fn service() -> impl Strategy<Value = JobSpec> {
    (
        (
            job_id(),
            project(),
            sku(),
            prop_oneof![12 => select(vec![1, 2, 4, 8, 16, 36, 72]), 1 => select(vec![0, 3])],
        ),
        (
            prop_oneof![
                10 => (1u32..=4).prop_flat_map(|r| (Just(r), 1..=r)),
                1 => (0u32..=4, 0u32..=4),
            ],
            priority(),
            any::<bool>(),
            prop_oneof![4 => Just(0), 1 => Just(1)],
            reservation(),
        ),
    )
        .prop_map(
            |((id, project, sku, gpus), ((replicas, min), prio, preemptible, spares, resv))| {
                let mut j = JobSpec::service(id, &project, &sku, gpus, replicas, min);
                j.priority = prio;
                j.preemptible = preemptible;
                j.spare_trays = spares;
                j.reservation = resv;
                j
            },
        )
}

/// A tray: any, one of a few hot ones (so failures repeat and quarantine
/// kicks in), or one that does not exist.
fn tray() -> impl Strategy<Value = u32> {
    prop_oneof![
        6 => 0..TRAYS,
        3 => select(vec![0, 18, 144, 216]),
        1 => TRAYS..TRAYS + 8,
    ]
}

/// The trays of rack `r`: 8 GB200 racks, 4 GB300 racks, then the H100 hall.
fn rack_trays(r: u32) -> Vec<u32> {
    if r < 12 {
        (r * 18..r * 18 + 18).collect()
    } else {
        (216..TRAYS).collect()
    }
}

/// Drain and resume targets: tray names, or a rack by its name.
fn targets() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        3 => vec(tray(), 1..5).prop_map(|v| v.into_iter().map(tname).collect()),
        1 => (0u32..13).prop_map(|r| {
            let t = rack_trays(r)[0];
            let c = &layout().campus;
            vec![c.rack_name(c.trays[t as usize].rack)]
        }),
    ]
}

fn power_cap() -> impl Strategy<Value = Command> {
    (
        prop_oneof![
            2 => Just(PowerScope::Campus),
            3 => select(vec!["B1", "B2"]).prop_map(|b| PowerScope::Building(b.into())),
            1 => Just(PowerScope::Building("B3".into())),
        ],
        prop_oneof![
            2 => Just(None),
            5 => select(vec![0.0, 100.0, 250.0, 400.0, 600.0, 800.0, 1000.0, 1500.0]).prop_map(Some),
            1 => select(vec![-1.0, f64::NAN, f64::INFINITY, 1e12]).prop_map(Some),
        ],
    )
        .prop_map(|(scope, kw)| Command::SetPowerCap { scope, kw })
}

/// A reservation; `start` and `end` are offsets that [`concretize`] turns
/// into times (start from now, end from start; an end of 0 is invalid).
fn reserve() -> impl Strategy<Value = Command> {
    (
        0u32..4,
        prop_oneof![
            3 => vec(0..TRAYS, 1..6),
            2 => (0u32..13).prop_map(rack_trays),
            1 => vec(tray(), 0..3),
        ],
        select(vec![0, 60, 600, 3600]),
        select(vec![0, 600, 3600, 86_400]),
        prop_oneof![
            2 => Just(None),
            3 => select(vec!["pretrain", "research", "ft", "batch", "openai", "acme"])
                .prop_map(|s| Some(s.to_string())),
            1 => Just(Some("ghost".to_string())),
        ],
    )
        .prop_map(|(id, trays, start, end, owner)| {
            Command::Reserve(ReservationSpec {
                id: format!("r{id}"),
                targets: trays.into_iter().map(tname).collect(),
                start,
                end,
                owner,
            })
        })
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        10 => training().prop_map(Command::Submit),
        3 => service().prop_map(Command::Submit),
        2 => (0..JOB_IDS + 10).prop_map(|i| Command::Cancel(JobId(i))),
        4 => (0..JOB_IDS + 10).prop_map(|i| Command::Complete(JobId(i))),
        3 => tray().prop_map(|t| Command::TrayFailed { tray: tname(t) }),
        3 => tray().prop_map(|t| Command::TrayRepaired { tray: tname(t) }),
        1 => targets().prop_map(|targets| Command::Drain { targets, reason: "test".into() }),
        1 => targets().prop_map(|targets| Command::Resume { targets }),
        1 => tray().prop_map(|t| Command::ClearQuarantine { tray: tname(t) }),
        1 => power_cap(),
        1 => reserve(),
    ]
}

/// Seconds to the next step: often none, sometimes days (runtime limits
/// expire, the lemon window slides).
fn dt() -> impl Strategy<Value = Time> {
    prop_oneof![
        4 => Just(0),
        10 => 1u64..600,
        4 => 600u64..7200,
        1 => 86_400u64..400_000,
    ]
}

/// Turns time deltas into times and reservation offsets into times.
fn concretize(steps: Vec<(Time, Vec<Command>)>) -> Seq {
    let mut now = 0;
    steps
        .into_iter()
        .map(|(dt, cmds)| {
            now += dt;
            let cmds = cmds
                .into_iter()
                .map(|c| match c {
                    Command::Reserve(mut r) => {
                        r.start += now;
                        r.end += r.start;
                        Command::Reserve(r)
                    }
                    c => c,
                })
                .collect();
            (now, cmds)
        })
        .collect()
}

/// A batch: commands, now and then a flaky tray failing and coming back.
fn batch() -> impl Strategy<Value = Vec<Command>> {
    vec(
        prop_oneof![
            20 => command().prop_map(|c| vec![c]),
            1 => select(vec![0u32, 18, 144, 216]).prop_map(|t| vec![
                Command::TrayFailed { tray: tname(t) },
                Command::TrayRepaired { tray: tname(t) },
            ]),
        ],
        0..10,
    )
    .prop_map(|v| v.into_iter().flatten().collect())
}

fn sequence() -> impl Strategy<Value = Seq> {
    vec((dt(), batch()), 1..40).prop_map(concretize)
}

// ---- a model of what the commands did ------------------------------------------

/// Tray states as the commands set them, mirroring the scheduler's rules
/// (a repeat offender is quarantined on its `lemon_failures`th failure within
/// `lemon_window`).
#[derive(Default)]
struct Trays {
    down: BTreeSet<u32>,
    drained: BTreeSet<u32>,
    quarantined: BTreeSet<u32>,
    failures: BTreeMap<u32, Vec<Time>>,
}

impl Trays {
    fn apply(&mut self, now: Time, c: &Command) {
        let cfg = Config::default();
        let all = |targets: &[String]| -> Option<Vec<u32>> {
            targets
                .iter()
                .map(|n| expand(n))
                .collect::<Option<Vec<_>>>()
                .map(|v| v.concat())
        };
        match c {
            Command::TrayFailed { tray } => {
                let Some(tray) = tid(tray) else { return };
                if !self.down.insert(tray) {
                    return;
                }
                let history = self.failures.entry(tray).or_default();
                history.push(now);
                history.retain(|&when| when + cfg.lemon_window > now);
                if history.len() as u32 >= cfg.lemon_failures {
                    self.quarantined.insert(tray);
                }
            }
            Command::TrayRepaired { tray } => {
                if let Some(t) = tid(tray) {
                    self.down.remove(&t);
                }
            }
            Command::ClearQuarantine { tray } => {
                if let Some(t) = tid(tray) {
                    self.failures.remove(&t);
                    self.quarantined.remove(&t);
                }
            }
            Command::Drain { targets, .. } => {
                if let Some(trays) = all(targets) {
                    self.drained.extend(trays);
                }
            }
            Command::Resume { targets } => {
                if let Some(trays) = all(targets) {
                    for t in trays {
                        self.drained.remove(&t);
                    }
                }
            }
            _ => {}
        }
    }

    /// Why no new work may land on `t`, if it may not.
    fn unusable(&self, t: u32) -> Option<&'static str> {
        if self.down.contains(&t) {
            Some("down")
        } else if self.drained.contains(&t) {
            Some("drained")
        } else if self.quarantined.contains(&t) {
            Some("quarantined")
        } else {
            None
        }
    }
}

/// Specs of the jobs the scheduler admitted (ids are unique once admitted;
/// a rejected id may be submitted again).
#[derive(Default)]
struct Jobs {
    specs: BTreeMap<JobId, JobSpec>,
    /// Jobs that started in an earlier step: a restart may take fewer
    /// spares than it asked for (it gets the rest back later).
    started_before: BTreeSet<JobId>,
}

impl Jobs {
    fn record(&mut self, cmds: &[Command], results: &[CommandResult]) -> Result<(), String> {
        if cmds.len() != results.len() {
            return Err(format!(
                "{} commands but {} results",
                cmds.len(),
                results.len()
            ));
        }
        for (c, r) in cmds.iter().zip(results) {
            let Command::Submit(spec) = c else { continue };
            let duplicate = self.specs.contains_key(&spec.id);
            match r {
                Ok(()) if duplicate => return Err(format!("duplicate {} accepted", spec.id)),
                Ok(()) => {
                    self.specs.insert(spec.id, spec.clone());
                }
                Err(Reject::DuplicateJob { .. }) if !duplicate => {
                    return Err(format!("{} refused as a duplicate but is new", spec.id));
                }
                Err(_) => {}
            }
        }
        Ok(())
    }

    fn running<'a>(&'a self, s: &'a Scheduler) -> impl Iterator<Item = &'a JobSpec> + 'a {
        self.specs
            .values()
            .filter(move |j| s.job_state(j.id) == Some(JobState::Running))
    }
}

/// Runs `seq` on a fresh scheduler, calling `check` after every step with
/// the scheduler, the step's commands and events, and what the model knows;
/// a failure names the step and its events.
fn run(
    seq: &Seq,
    mut check: impl FnMut(&Scheduler, &[Command], &[Event], &Jobs, &Trays) -> Result<(), String>,
) -> Result<(), TestCaseError> {
    let mut s = scheduler();
    let mut jobs = Jobs::default();
    let mut trays = Trays::default();
    for (i, (now, cmds)) in seq.iter().enumerate() {
        let out = s.step(*now, cmds.iter().cloned());
        let events = out.events;
        jobs.record(cmds, &out.results)
            .map_err(|why| TestCaseError::fail(format!("step {i} (t={now}): {why}")))?;
        for c in cmds {
            trays.apply(*now, c);
        }
        if let Err(why) = check(&s, cmds, &events, &jobs, &trays) {
            return Err(TestCaseError::fail(format!(
                "step {i} (t={now}): {why}\nevents: {events:#?}"
            )));
        }
        for e in &events {
            if let Event::Started { job, .. } = e {
                jobs.started_before.insert(*job);
            }
        }
    }
    Ok(())
}

// ---- checks -----------------------------------------------------------------------

/// Every Started placement holds exactly the job's GPUs, of its SKU, in
/// whole NVLink groups; every new replica is one whole replica.
fn gangs_whole(events: &[Event], jobs: &Jobs) -> Result<(), String> {
    let l = layout();
    let mut started_now: BTreeSet<JobId> = BTreeSet::new();
    let shape_ok = |spec: &JobSpec, trays: &[String]| -> Result<(), String> {
        let trays = &tids(trays)[..];
        let gpt = l.gpus_per_tray[&spec.sku];
        if let Some(t) = trays.iter().find(|&&t| l.tray_sku[t as usize] != spec.sku) {
            return Err(format!("{} got tray {t} of another SKU", spec.id));
        }
        if spec.gpus >= gpt {
            let distinct: BTreeSet<u32> = trays.iter().copied().collect();
            if distinct.len() != trays.len() {
                return Err(format!("{} holds a tray twice: {trays:?}", spec.id));
            }
            let k = (spec.tp_gpus.max(gpt) / gpt).max(spec.segment_trays).max(1);
            let mut per_domain: BTreeMap<u32, u32> = BTreeMap::new();
            for &t in trays {
                *per_domain.entry(l.tray_domain[t as usize]).or_default() += 1;
            }
            if per_domain.values().any(|n| n % k != 0) {
                return Err(format!(
                    "{} splits a group of {k} trays across NVLink domains: {per_domain:?}",
                    spec.id
                ));
            }
        }
        Ok(())
    };
    for e in events {
        match e {
            Event::Started { job, placement, .. } => {
                let spec = jobs
                    .specs
                    .get(job)
                    .ok_or_else(|| format!("{job} started but was never admitted"))?;
                let gpt = l.gpus_per_tray[&spec.sku];
                let gangs = match spec.kind {
                    JobKind::Training => 1,
                    JobKind::Service { min_available, .. } => min_available,
                };
                let trays_per_gang = if spec.gpus >= gpt { spec.gpus / gpt } else { 1 };
                if placement.gpus != gangs * spec.gpus {
                    return Err(format!(
                        "{job} started on {} GPUs, wants {} x {}",
                        placement.gpus, gangs, spec.gpus
                    ));
                }
                if placement.trays.len() as u32 != gangs * trays_per_gang {
                    return Err(format!(
                        "{job} started on {} trays, wants {} x {}",
                        placement.trays.len(),
                        gangs,
                        trays_per_gang
                    ));
                }
                if spec.gpus >= gpt && placement.trays.len() as u32 * gpt != placement.gpus {
                    return Err(format!(
                        "{job}: {} trays of {gpt} GPUs is not {} GPUs",
                        placement.trays.len(),
                        placement.gpus
                    ));
                }
                // A first start takes every spare; a restart what is free.
                let first = !jobs.started_before.contains(job) && started_now.insert(*job);
                let spares = placement.spares.len() as u32;
                if (first && spares != spec.spare_trays) || spares > spec.spare_trays {
                    return Err(format!(
                        "{job} got {} spares, wants {}",
                        placement.spares.len(),
                        spec.spare_trays
                    ));
                }
                if let Some(t) = placement.spares.iter().find(|t| {
                    placement.trays.contains(t)
                        || l.tray_sku[tid(t).unwrap_or(0) as usize] != spec.sku
                }) {
                    return Err(format!("{job}: spare {t} is a gang tray or another SKU"));
                }
                shape_ok(spec, &placement.trays)?;
            }
            Event::ReplicaStarted { job, trays } => {
                let spec = jobs
                    .specs
                    .get(job)
                    .ok_or_else(|| format!("{job} grew but was never admitted"))?;
                if !matches!(spec.kind, JobKind::Service { .. }) {
                    return Err(format!("{job} is not a service but got a replica"));
                }
                let gpt = l.gpus_per_tray[&spec.sku];
                let want = if spec.gpus >= gpt { spec.gpus / gpt } else { 1 };
                if trays.len() as u32 != want {
                    return Err(format!(
                        "{job}: replica on {} trays, wants {want}",
                        trays.len()
                    ));
                }
                shape_ok(spec, trays)?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Every node's usage of every SKU is within its guarantee plus its
/// borrowing limit (the root: the campus), and covers its children's.
fn quota_within_limits(s: &Scheduler) -> Result<(), String> {
    let l = layout();
    for node in &l.tenants {
        for sku in l.capacity.keys() {
            let used = s.usage(&node.name, sku).ok_or("unknown node or SKU")?;
            let ceiling = l.ceiling(&node.name, sku);
            if used > ceiling {
                return Err(format!(
                    "{} uses {used} {sku} GPUs, over its guarantee + borrow limit {ceiling}",
                    node.name
                ));
            }
            let children: u64 = l
                .tenants
                .iter()
                .filter(|c| c.parent.as_deref() == Some(node.name.as_str()))
                .map(|c| s.usage(&c.name, sku).unwrap())
                .sum();
            if children > used {
                return Err(format!(
                    "{}'s children use {children} {sku} GPUs, more than its {used}",
                    node.name
                ));
            }
        }
    }
    Ok(())
}

/// No new work lands on a tray that is down, drained or quarantined, and no
/// running job keeps a tray that is down or quarantined.
fn trays_usable(s: &Scheduler, events: &[Event], jobs: &Jobs, trays: &Trays) -> Result<(), String> {
    for e in events {
        let (job, held): (JobId, Vec<u32>) = match e {
            Event::Started { job, placement, .. } => (
                *job,
                tids(&placement.trays)
                    .into_iter()
                    .chain(tids(&placement.spares))
                    .collect(),
            ),
            Event::ReplicaStarted { job, trays } => (*job, tids(trays)),
            _ => continue,
        };
        for t in held {
            if let Some(why) = trays.unusable(t) {
                return Err(format!("{job} started on tray {t}, which is {why}"));
            }
        }
    }
    for spec in jobs.running(s) {
        for t in tids(&s.job_trays(spec.id)) {
            if trays.down.contains(&t) || trays.quarantined.contains(&t) {
                return Err(format!(
                    "{} runs on tray {t}, which is down or quarantined",
                    spec.id
                ));
            }
        }
    }
    for t in 0..TRAYS {
        if s.is_quarantined(&tname(t)) != trays.quarantined.contains(&t) {
            return Err(format!(
                "tray {t}: scheduler says quarantined = {}, the commands say {}",
                s.is_quarantined(&tname(t)),
                trays.quarantined.contains(&t)
            ));
        }
    }
    Ok(())
}

/// The caps the commands set, in kW: campus, then buildings 0 and 1.
fn caps_set(cmds: &[Command], caps: &mut [f64; 3]) {
    for c in cmds {
        if let Command::SetPowerCap { scope, kw } = c {
            let kw = match kw {
                None => f64::INFINITY,
                Some(k) if k.is_finite() && *k >= 0.0 && *k <= MAX_CAP_KW => *k,
                Some(_) => continue, // refused
            };
            match scope {
                PowerScope::Campus => caps[0] = kw,
                PowerScope::Building(b) if b == "B1" => caps[1] = kw,
                PowerScope::Building(b) if b == "B2" => caps[2] = kw,
                PowerScope::Building(_) => {} // refused
            }
        }
    }
}

/// Draw within every cap (campus, building 0, building 1) that idle trays
/// alone do not already exceed.
fn within_power_caps(s: &Scheduler, caps: &[f64; 3]) -> Result<(), String> {
    // Idle draw per building: what a fresh scheduler projects.
    static IDLE: OnceLock<Vec<f64>> = OnceLock::new();
    let idle = IDLE.get_or_init(|| scheduler().building_draw_kw());
    let draw = s.building_draw_kw();
    let scopes = [
        (
            "the campus",
            idle.iter().sum::<f64>(),
            draw.iter().sum::<f64>(),
        ),
        ("building 0", idle[0], draw[0]),
        ("building 1", idle[1], draw[1]),
    ];
    for ((name, idle, draw), cap) in scopes.into_iter().zip(caps) {
        if idle <= *cap && draw > cap + 1e-6 {
            return Err(format!(
                "{name} draws {draw:.2} kW, over its cap of {cap} kW"
            ));
        }
    }
    Ok(())
}

// ---- properties 1-4, 6: any command sequence ---------------------------------------

/// Cases of each property over random sequences: up to 39 steps of up to
/// 9 commands (about 90 commands a case).
const CASES: u32 = 4000;

proptest! {
    #![proptest_config(config(CASES))]

    /// 1. The scheduler's own invariants hold after every step: no GPU given
    /// twice, gangs whole, the free index true, quota usage exact and within
    /// every ceiling, the queue exactly the pending jobs.
    #[test]
    fn invariants_hold_after_every_step(seq in sequence()) {
        run(&seq, |s, _, _, _, _| s.check_invariants())?;
    }

    /// 2. The same commands at the same times give the same events and the
    /// same errors.
    #[test]
    fn same_commands_same_events(seq in sequence()) {
        let mut a = scheduler();
        let mut b = scheduler();
        for (i, (now, cmds)) in seq.iter().enumerate() {
            let ra = a.step(*now, cmds.iter().cloned());
            let rb = b.step(*now, cmds.iter().cloned());
            // Clocks in events are finite, so == on them is exact.
            prop_assert_eq!(&ra.events, &rb.events, "events differ at step {} (t={})", i, now);
            prop_assert_eq!(&ra.results, &rb.results, "results differ at step {} (t={})", i, now);
        }
    }

    /// 3. Gangs start whole: a training job on exactly its GPUs (whole trays
    /// for a job of a tray or more, e.g. trays * 4 == gpus on GB200), a
    /// service on exactly `min_available` replicas, each replica whole, spares
    /// as asked on a first start (a restart may take fewer and gets the rest
    /// back later), tensor-parallel groups inside one NVLink domain.
    #[test]
    fn gangs_start_whole(seq in sequence()) {
        run(&seq, |_, _, events, jobs, _| gangs_whole(events, jobs))?;
    }

    /// 4. No node ever uses more of a SKU than its guarantee plus its
    /// borrowing limit (computed from the tenant specs, not the scheduler),
    /// and no node uses less than its children together.
    #[test]
    fn borrowing_stays_within_limits(seq in sequence()) {
        run(&seq, |s, _, _, _, _| quota_within_limits(s))?;
    }

    /// 6. No job starts on a tray that is down, drained or quarantined at the
    /// time, none keeps running on a failed or quarantined tray, and the
    /// scheduler's quarantine matches the lemon rule applied to the commands.
    #[test]
    fn no_work_on_unusable_trays(seq in sequence()) {
        run(&seq, |s, _, events, jobs, trays| trays_usable(s, events, jobs, trays))?;
    }

    /// 7 (beyond the brief). After every step, the projected draw of the
    /// campus and of each building is within its cap, wherever the cap can be
    /// met at all (it is no lower than the idle draw).
    #[test]
    fn draw_stays_within_power_caps(seq in sequence()) {
        let mut caps = [f64::INFINITY; 3];
        run(&seq, |s, cmds, _, _, _| {
            caps_set(cmds, &mut caps);
            within_power_caps(s, &caps)
        })?;
    }
}

// ---- properties 8-9: state that outlives the process -------------------------------

fn campus_arc() -> std::sync::Arc<Campus> {
    static CAMPUS: OnceLock<std::sync::Arc<Campus>> = OnceLock::new();
    CAMPUS
        .get_or_init(|| std::sync::Arc::new(layout().campus.clone()))
        .clone()
}

proptest! {
    #![proptest_config(config(CASES / 2))]

    /// 8. A snapshot taken at any step, through its serialised bytes,
    /// restores to a scheduler that serialises to the same bytes and then
    /// answers every later step exactly as the original does, with its
    /// invariants clean.
    #[test]
    fn snapshot_restore_continues_identically(seq in sequence(), cut in 0usize..40) {
        let cut = cut.min(seq.len());
        let mut live = scheduler();
        for (now, cmds) in &seq[..cut] {
            live.step(*now, cmds.iter().cloned());
        }
        let bytes = live.snapshot();
        let mut restored = Scheduler::restore(campus_arc(), &bytes)
            .map_err(|e| TestCaseError::fail(format!("restore after step {cut}: {e}")))?;
        prop_assert!(restored.snapshot() == bytes, "restored state differs at step {}", cut);
        for (i, (now, cmds)) in seq[cut..].iter().enumerate() {
            let a = live.step(*now, cmds.iter().cloned());
            let b = restored.step(*now, cmds.iter().cloned());
            prop_assert_eq!(&a, &b, "step {} after the restore differs", i);
            restored.check_invariants().map_err(TestCaseError::fail)?;
        }
        prop_assert!(restored.snapshot() == live.snapshot(), "final states differ");
    }

    /// 9. The command log, written as JSON lines and read back, replays
    /// from its header to exactly the live state. (JSON has no NaN: a NaN
    /// cap is written as null, so the live copy applies what was written.)
    #[test]
    fn replay_of_the_log_equals_the_live_state(seq in sequence()) {
        let l = layout();
        let header = LogHeader::new(&l.campus, Config::default(), l.tenants.clone());
        let mut live = header.start(campus_arc()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut lines = vec![serde_json::to_string(&header).unwrap()];
        // As a server does: the record is written, then what was written
        // (read back) is applied.
        for (i, (now, cmds)) in seq.iter().enumerate() {
            let record = LogRecord { seq: i as u64 + 1, time: *now, commands: cmds.clone() };
            let line = serde_json::to_string(&record).unwrap();
            let written: LogRecord = serde_json::from_str(&line).unwrap();
            live.step(written.time, written.commands);
            lines.push(line);
        }
        let header: LogHeader = serde_json::from_str(&lines[0]).unwrap();
        let records: Vec<LogRecord> = lines[1..]
            .iter()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        let replayed = replay(campus_arc(), &header, &records)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(replayed.snapshot() == live.snapshot(), "replayed state differs");
    }
}

/// A snapshot or a log taken on one campus is refused on another.
#[test]
fn snapshot_and_log_refuse_another_campus() {
    let mut s = scheduler();
    s.step(
        0,
        [Command::Submit(JobSpec::training(1, "pretrain", GB200, 8))],
    );
    let bytes = s.snapshot();
    let mut other = layout().campus.spec.clone();
    other.site.grid_interconnect_mw += 1.0;
    let other = std::sync::Arc::new(Campus::build(other).expect("still valid"));
    let err = Scheduler::restore(other.clone(), &bytes).unwrap_err();
    assert!(matches!(err, SnapshotError::CampusChanged { .. }), "{err}");
    assert!(err.to_string().contains("campus file has changed"), "{err}");
    let header = LogHeader::new(&layout().campus, Config::default(), tenants());
    assert!(matches!(
        header.start(other),
        Err(LogError::CampusChanged { .. })
    ));
    // Damaged bytes are refused, never a panic.
    let mut damaged = bytes.clone();
    let n = damaged.len();
    damaged.truncate(n / 2);
    assert!(Scheduler::restore(campus_arc(), &damaged).is_err());
    let text = String::from_utf8(bytes).unwrap();
    let forged = text.replacen("\"charged\":8", "\"charged\":9", 1);
    assert_ne!(forged, text, "the snapshot records the job's charge");
    assert!(matches!(
        Scheduler::restore(campus_arc(), forged.as_bytes()),
        Err(SnapshotError::Inconsistent(_))
    ));
}

// ---- property 5: guaranteed quota within one pass ------------------------------------

/// Tenants (depth 2) and their projects.
const TENANTS: [(&str, &[&str]); 3] = [
    ("openai", &["pretrain", "research"]),
    ("acme", &["ft"]),
    ("nebius", &["batch"]),
];

/// Valid shapes (GPUs, tp_gpus, segment_trays) on a SKU, smallest first:
/// sub-tray jobs, whole trays, tensor-parallel groups and segments, racks.
fn shapes(sku: &str) -> Vec<(u32, u32, u32)> {
    if sku == H100 {
        [1, 2, 4, 8, 16, 24, 32, 64, 128]
            .into_iter()
            .map(|g| (g, 0, 0))
            .collect()
    } else {
        vec![
            (1, 0, 0),
            (2, 0, 0),
            (3, 0, 0),
            (4, 0, 0),
            (8, 0, 0),
            (8, 8, 0),
            (16, 16, 0),
            (24, 0, 0),
            (36, 36, 0),
            (40, 0, 0),
            (64, 0, 16),
            (72, 0, 0),
            (72, 72, 0),
            (144, 0, 0),
            (144, 72, 0),
            (216, 0, 0),
            (216, 72, 0),
            (288, 0, 0),
            (288, 72, 0),
            (432, 0, 0),
            (576, 0, 0),
        ]
    }
}

/// A job of a reclaim scenario. `shape` indexes [`shapes`] (modulo), among
/// the shapes that fit the project's guarantee for an owed job.
#[derive(Debug, Clone)]
struct Job {
    who: usize,
    shape: usize,
    prio: Priority,
    checkpoint: Time,
    spares: u32,
    estimate: Time,
    /// A borrower that may not be preempted (one in five).
    keep: bool,
}

#[derive(Debug, Clone)]
enum Act {
    /// A training job of a tenant other than the owed one, preemptible
    /// unless `keep`: it borrows once past its own guarantees.
    Borrow(Job),
    /// Completes or cancels the `pick`th job not yet done.
    End { pick: usize, complete: bool },
}

#[derive(Debug, Clone)]
enum Step {
    Batch(Vec<Act>),
    /// A job of the owed tenant, alone in its step. It is sent only if it
    /// is within its guarantees at every level, no pending job is of its
    /// class or higher (so it is first in the queue and owed jobs do not race
    /// each other for shapes), and it would fit the campus once the
    /// reclaimable jobs (other projects' borrowed, preemptible ones) were
    /// gone; then it must start in this step.
    Owed(Job),
}

#[derive(Debug, Clone)]
struct Reclaim {
    sku: &'static str,
    /// Index into TENANTS of the tenant owed its guarantee.
    owed: usize,
    steps: Vec<(Time, Step)>,
}

/// A job; `owed` ones are of a higher class than most borrowers, which are
/// never Critical.
fn job(big: bool, owed: bool) -> impl Strategy<Value = Job> {
    let classes = if owed {
        vec![
            Priority::Normal,
            Priority::High,
            Priority::Critical,
            Priority::Critical,
        ]
    } else {
        vec![Priority::Low, Priority::Normal, Priority::High]
    };
    (
        0usize..8,
        if big { 12usize..32 } else { 0usize..32 },
        select(classes),
        select(vec![0, 300, 1800]),
        prop_oneof![3 => Just(0u32), 1 => 1u32..=2],
        select(vec![600, 3600, 36_000, 360_000]),
        prop::bool::weighted(0.2),
    )
        .prop_map(
            |(who, shape, prio, checkpoint, spares, estimate, keep)| Job {
                who,
                shape,
                prio,
                checkpoint,
                spares,
                estimate,
                keep,
            },
        )
}

fn act() -> impl Strategy<Value = Act> {
    prop_oneof![
        3 => job(false, false).prop_map(Act::Borrow),
        2 => (0usize..64, any::<bool>()).prop_map(|(pick, complete)| Act::End { pick, complete }),
    ]
}

fn reclaim() -> impl Strategy<Value = Reclaim> {
    // (SKU, owed tenant): the owed tenant has a guarantee there.
    let setups = vec![
        (GB200, 0),
        (GB200, 0),
        (GB200, 1),
        (GB300, 0),
        (GB300, 1),
        (GB300, 2),
        (H100, 0),
        (H100, 1),
        (H100, 2),
    ];
    (
        select(setups),
        vec(job(true, false).prop_map(Act::Borrow), 1..6),
        vec(
            (
                prop_oneof![1 => Just(0u64), 3 => 1u64..600, 1 => 600u64..7200],
                prop_oneof![
                    3 => vec(act(), 1..6).prop_map(Step::Batch),
                    2 => job(false, true).prop_map(Step::Owed),
                ],
            ),
            1..24,
        ),
    )
        .prop_map(|((sku, owed), fill, mut steps)| {
            steps.insert(0, (0, Step::Batch(fill)));
            Reclaim { sku, owed, steps }
        })
}

/// Plays a reclaim scenario; every owed job sent must start in its step.
fn play_reclaim(case: &Reclaim) -> Result<(), TestCaseError> {
    let l = layout();
    let sku = case.sku;
    let gpt = l.gpus_per_tray[sku];
    let all_shapes = shapes(sku);
    let (owed_tenant, owed_all) = TENANTS[case.owed];
    let owed_leaves: Vec<&str> = owed_all
        .iter()
        .copied()
        .filter(|p| l.guarantee(p, sku) > 0)
        .collect();
    let borrowers: Vec<&str> = TENANTS
        .iter()
        .filter(|(t, _)| *t != owed_tenant)
        .flat_map(|(_, ps)| ps.iter().copied())
        .collect();
    let make = |id: u64, project: &str, shape: (u32, u32, u32), j: &Job| -> (JobSpec, u64) {
        let (gpus, tp, seg) = shape;
        let mut spec = JobSpec::training(id, project, sku, gpus);
        spec.tp_gpus = tp;
        spec.segment_trays = seg;
        spec.spare_trays = if gpus >= gpt { j.spares } else { 0 };
        spec.priority = j.prio;
        spec.checkpoint_interval = j.checkpoint;
        spec.runtime_estimate = j.estimate;
        let charge = u64::from(gpus) + u64::from(spec.spare_trays * gpt);
        (spec, charge)
    };
    let mut s = scheduler();
    let mut specs: BTreeMap<JobId, (JobSpec, u64)> = BTreeMap::new();
    let mut borrowed: BTreeMap<JobId, bool> = BTreeMap::new();
    let mut log: Seq = Vec::new();
    let mut next_id = 0u64;
    let mut now = 0;
    for (dt, step) in &case.steps {
        now += dt;
        let running = |s: &Scheduler, id: JobId| s.job_state(id) == Some(JobState::Running);
        let mut cmds: Vec<Command> = Vec::new();
        let mut expect = None;
        match step {
            Step::Batch(acts) => {
                let live: Vec<JobId> = specs
                    .keys()
                    .copied()
                    .filter(|&id| {
                        matches!(s.job_state(id), Some(JobState::Running | JobState::Pending))
                    })
                    .collect();
                for a in acts {
                    match a {
                        Act::Borrow(j) => {
                            let project = borrowers[j.who % borrowers.len()];
                            let shape = all_shapes[j.shape % all_shapes.len()];
                            let (mut spec, charge) = make(next_id, project, shape, j);
                            spec.preemptible = !j.keep;
                            specs.insert(spec.id, (spec.clone(), charge));
                            borrowed.insert(spec.id, false);
                            cmds.push(Command::Submit(spec));
                            next_id += 1;
                        }
                        Act::End { pick, complete } => {
                            if !live.is_empty() {
                                let id = live[pick % live.len()];
                                cmds.push(if *complete {
                                    Command::Complete(id)
                                } else {
                                    Command::Cancel(id)
                                });
                            }
                        }
                    }
                }
            }
            Step::Owed(j) => {
                let project = owed_leaves[j.who % owed_leaves.len()];
                let fitting: Vec<_> = all_shapes
                    .iter()
                    .copied()
                    .filter(|g| u64::from(g.0) <= l.guarantee(project, sku))
                    .collect();
                let (mut spec, charge) =
                    make(next_id, project, fitting[j.shape % fitting.len()], j);
                // Never a victim: the owed tenant's work stays put.
                spec.preemptible = false;
                // Guaranteed (not borrowed) usage of each node: what runs
                // inside guarantees.
                let mut used: BTreeMap<&str, u64> = BTreeMap::new();
                for (id, (js, c)) in &specs {
                    if running(&s, *id) && !borrowed[id] {
                        for n in l.chain(&js.project) {
                            *used.entry(n).or_default() += c;
                        }
                    }
                }
                let within = l
                    .chain(project)
                    .iter()
                    .all(|n| used.get(n).copied().unwrap_or(0) + charge <= l.guarantee(n, sku));
                let first = specs.iter().all(|(id, (js, _))| {
                    s.job_state(*id) != Some(JobState::Pending) || js.priority < spec.priority
                });
                // Would it fit with every reclaimable job gone? Ask a copy:
                // cancel them, then submit it. Being first in the queue, it
                // is tried before anything else the copy's pass does.
                let fits = within && first && {
                    let mut copy = s.clone();
                    let mut clear: Vec<Command> = specs
                        .iter()
                        .filter(|(id, (js, _))| {
                            running(&copy, **id)
                                && borrowed[*id]
                                && js.preemptible
                                && borrowers.contains(&js.project.as_str())
                        })
                        .map(|(id, _)| Command::Cancel(*id))
                        .collect();
                    clear.push(Command::Submit(spec.clone()));
                    copy.step(now, clear);
                    running(&copy, spec.id)
                };
                if fits {
                    specs.insert(spec.id, (spec.clone(), charge));
                    borrowed.insert(spec.id, false);
                    expect = Some(spec.id);
                    cmds.push(Command::Submit(spec));
                    next_id += 1;
                }
            }
        }
        let (events, _) = s.step(now, cmds.iter().cloned()).into_parts();
        log.push((now, cmds));
        if let Err(e) = s.check_invariants() {
            return Err(TestCaseError::fail(format!(
                "invariants: {e}\nlog: {log:#?}"
            )));
        }
        for e in &events {
            if let Event::Started {
                job, borrowed: b, ..
            } = e
            {
                borrowed.insert(*job, *b);
            }
        }
        if let Some(id) = expect {
            let started = events
                .iter()
                .any(|e| matches!(e, Event::Started { job, borrowed: false, .. } if *job == id));
            if !started || !running(&s, id) {
                return Err(TestCaseError::fail(format!(
                    "{id} of {owed_tenant} is within its guarantees and fits once borrowed work \
                     is reclaimed, but did not start in its step (t={now}); state {:?}, \
                     reason {:?}\nlog: {log:#?}\nevents: {events:#?}",
                    s.job_state(id),
                    s.pending_reason(id)
                )));
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(CASES))]

    /// 5. A job of a tenant within its guarantees at every level, which would
    /// fit the campus once the other tenants' borrowed work were gone, starts
    /// in the step it is submitted, preempting that borrowed work if need be.
    /// The campus is first filled with other tenants' (mostly preemptible)
    /// jobs; then more borrowing, ends and owed jobs follow at random.
    #[test]
    fn guaranteed_quota_starts_in_one_pass(case in reclaim()) {
        play_reclaim(&case)?;
    }
}

// ---- property 10: the pass decides as the reference pass does --------------------

/// Spreads job ids over eight times the range, two steps at a time, so that
/// queues run deep while cancels and completions still hit known jobs.
fn deepen(seq: Seq) -> Seq {
    let shift = |id: JobId, off: u64| JobId(id.0 + off);
    seq.into_iter()
        .enumerate()
        .map(|(i, (now, cmds))| {
            let off = (i as u64 / 2 % 8) * JOB_IDS;
            let cmds = cmds
                .into_iter()
                .map(|c| match c {
                    Command::Submit(mut j) => {
                        j.id = shift(j.id, off);
                        Command::Submit(j)
                    }
                    Command::Cancel(id) => Command::Cancel(shift(id, off)),
                    Command::Complete(id) => Command::Complete(shift(id, off)),
                    c => c,
                })
                .collect();
            (now, cmds)
        })
        .collect()
}

/// Runs `seq` through the pass and the reference pass under `config`;
/// every step's events and results, and the final state, must be equal.
fn same_as_reference(seq: &Seq, config: Config) -> Result<(), TestCaseError> {
    let l = layout();
    let mut fast = Scheduler::new(&l.campus, config.clone(), &l.tenants).expect("valid set-up");
    let mut reference = Scheduler::new(&l.campus, config, &l.tenants).expect("valid set-up");
    reference.use_reference_pass(true);
    for (i, (now, cmds)) in seq.iter().enumerate() {
        let a = fast.step(*now, cmds.iter().cloned());
        let b = reference.step(*now, cmds.iter().cloned());
        prop_assert_eq!(
            &a,
            &b,
            "step {} (t={}) differs from the reference pass",
            i,
            now
        );
        fast.check_invariants().map_err(TestCaseError::fail)?;
    }
    prop_assert!(
        fast.snapshot() == reference.snapshot(),
        "final state differs from the reference pass"
    );
    Ok(())
}

proptest! {
    #![proptest_config(config(CASES / 2))]

    /// 10. The pass, with its shortcuts for deep queues, gives exactly the
    /// events, results and state of the reference pass, which has none:
    /// deep queues (a depth of 6, so most jobs wait beyond it), one
    /// preemption search per pass, every shape, tenant and command.
    #[test]
    fn the_pass_decides_as_the_reference_pass(seq in sequence().prop_map(deepen)) {
        let shallow = Config { queue_depth: 6, preemption_attempts: 1, ..Config::default() };
        same_as_reference(&seq, shallow)?;
    }

    /// 10b. The same at the default depth and attempts.
    #[test]
    fn the_pass_decides_as_the_reference_pass_by_default(seq in sequence().prop_map(deepen)) {
        same_as_reference(&seq, Config::default())?;
    }
}

/// A batch for a deep queue: mostly submissions of every shape, tenant and
/// class, with completions and cancels of known jobs, tray failures and
/// repairs, drains and power caps among them.
fn deep_batch() -> impl Strategy<Value = Vec<Command>> {
    vec(
        prop_oneof![
            8 => training().prop_map(Command::Submit),
            2 => service().prop_map(Command::Submit),
            4 => (0..JOB_IDS).prop_map(|i| Command::Complete(JobId(i))),
            1 => (0..JOB_IDS).prop_map(|i| Command::Cancel(JobId(i))),
            1 => tray().prop_map(|t| Command::TrayFailed { tray: tname(t) }),
            1 => tray().prop_map(|t| Command::TrayRepaired { tray: tname(t) }),
            1 => targets().prop_map(|targets| Command::Drain { targets, reason: "test".into() }),
            1 => power_cap(),
            1 => reserve(),
        ],
        0..24,
    )
}

/// Up to 59 steps of up to 23 commands, ids spread as [`deepen`] does: a
/// queue of dozens of jobs on the 992-GPU campus.
fn deep_sequence() -> impl Strategy<Value = Seq> {
    vec((dt(), deep_batch()), 1..60)
        .prop_map(concretize)
        .prop_map(deepen)
}

/// A pass's depth and preemption attempts: shallow enough that most jobs
/// wait beyond the depth, none or one attempt so that the budget runs out,
/// or the defaults.
fn pass_config() -> impl Strategy<Value = Config> {
    (
        select(vec![2usize, 5, 16, 2000]),
        select(vec![0usize, 1, 3, 16]),
    )
        .prop_map(|(queue_depth, preemption_attempts)| Config {
            queue_depth,
            preemption_attempts,
            ..Config::default()
        })
}

proptest! {
    #![proptest_config(config(CASES / 8))]

    /// 10c. The same over deep queues: many shapes, tenants and classes
    /// waiting together, completions freeing room one job at a time,
    /// failures, drains, caps and reservations, at several depths and
    /// preemption budgets.
    #[test]
    fn the_pass_decides_as_the_reference_pass_deep(seq in deep_sequence(), config in pass_config()) {
        same_as_reference(&seq, config)?;
    }
}

// ---- the bugs found, each as its smallest sequence ------------------------------------
//
// Each test asserts the behaviour the properties expect, so that the bug
// stays fixed.

/// Bug A (property 1): a training job whose failed tray was replaced by a
/// spare from another NVLink domain had its tensor-parallel group split.
/// A spare from another rack cannot serve a rack-wide group: it requeues.
#[test]
fn bug_a_spare_from_another_domain_splits_a_tp_group() {
    let mut s = scheduler();
    let mut j = JobSpec::training(1, "pretrain", GB200, 72);
    j.tp_gpus = 72; // one rack; the spare must come from another
    j.spare_trays = 1;
    s.step(0, [Command::Submit(j)]);
    let tray = s.job_trays(JobId(1))[0].clone();
    let (events, _) = s.step(1, [Command::TrayFailed { tray }]).into_parts();
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Interrupted {
            recovery: Recovery::Requeued,
            ..
        }
    )));
    s.check_invariants().unwrap();
}

/// Bug B (property 6): two 1-GPU replicas of a service share a tray; when it
/// failed only one replica was taken off and the other kept running there.
#[test]
fn bug_b_failed_tray_keeps_a_sub_tray_replica() {
    let mut s = scheduler();
    s.step(
        0,
        [Command::Submit(JobSpec::service(
            1, "pretrain", GB200, 1, 2, 1,
        ))],
    );
    let trays = s.job_trays(JobId(1));
    assert_eq!(trays.len(), 2);
    assert_eq!(trays[0], trays[1], "both replicas on one tray");
    s.step(
        1,
        [Command::TrayFailed {
            tray: trays[0].clone(),
        }],
    );
    // Before the fix the job still held the failed tray (and a new replica).
    assert!(
        !s.job_trays(JobId(1)).contains(&trays[0]),
        "job 1 runs on failed tray {}: {:?}",
        trays[0],
        s.job_trays(JobId(1))
    );
}

/// Bug C (property 5): a borrower (nebius has no GB200 guarantee) holds the
/// GB200 backfill reservation; a Critical job of pretrain, within its 216-GPU
/// guarantee and fitting the free trays now, waited behind the Low borrower.
#[test]
fn bug_c_borrowers_backfill_reservation_blocks_a_guaranteed_job() {
    let mut s = scheduler();
    // 8 segments of 17 trays: one per rack, leaving one free tray per rack.
    let mut fill = JobSpec::training(1, "batch", GB200, 544);
    fill.segment_trays = 17;
    fill.priority = Priority::Low;
    s.step(0, [Command::Submit(fill)]);
    // Needs 2 trays in one rack: none, so it waits and holds the reservation.
    let mut head = JobSpec::training(2, "batch", GB200, 8);
    head.tp_gpus = 8;
    head.priority = Priority::Low;
    s.step(1, [Command::Submit(head)]);
    assert_eq!(s.pending_reason(JobId(2)), Some(&PendingReason::Resources));
    // 8 single trays fit the 8 free trays; it runs past the head's shadow.
    let mut owed = JobSpec::training(3, "pretrain", GB200, 32);
    owed.runtime_estimate = 36_000;
    owed.priority = Priority::Critical;
    s.step(2, [Command::Submit(owed)]);
    // Before the fix it stayed pending, Priority { behind: job 2 }.
    assert_eq!(
        s.job_state(JobId(3)),
        Some(JobState::Running),
        "{:?}",
        s.pending_reason(JobId(3))
    );
}

/// Bug D1 (property 7): each of a service's `min_available` replicas was
/// checked against the same power room, so together they exceeded the cap.
/// Building 1 idles at 130.88 kW; a 2-tray H100 replica adds 13.44 kW.
#[test]
fn bug_d1_service_replicas_overrun_a_power_cap() {
    let mut s = scheduler();
    s.step(
        0,
        [
            Command::SetPowerCap {
                scope: PowerScope::Building("B2".into()),
                kw: Some(150.0),
            },
            Command::Submit(JobSpec::service(1, "research", H100, 16, 2, 2)),
        ],
    );
    // Before the fix it started and building 1 drew 157.76 kW. (A 32-GPU
    // training job in its place waits with PendingReason::PowerCap.)
    let draw = s.building_draw_kw()[1];
    assert!(draw <= 150.0 + 1e-6, "building 1 draws {draw} kW");
}

/// Bug D2 (property 7): a job that needed the power room of a lower-priority
/// job of its tenant started, but the victim was not preempted because the
/// new job did not land on its trays nor need its quota.
#[test]
fn bug_d2_preemption_for_power_room_keeps_the_victim() {
    let mut s = scheduler();
    let mut low = JobSpec::training(0, "pretrain", GB200, 216);
    low.priority = Priority::Low;
    s.step(0, [Command::Submit(low)]);
    // Building 0 would draw 480 kW: job 0 is throttled to 393.6 kW.
    s.step(
        0,
        [Command::SetPowerCap {
            scope: PowerScope::Building("B1".into()),
            kw: Some(400.0),
        }],
    );
    s.step(
        0,
        [Command::Submit(JobSpec::training(1, "pretrain", GB200, 8))],
    );
    // Before the fix job 1 ran, job 0 was not preempted and building 0 drew
    // 404.27 kW.
    let draw = s.building_draw_kw()[0];
    assert!(draw <= 400.0 + 1e-6, "building 0 draws {draw} kW");
}
