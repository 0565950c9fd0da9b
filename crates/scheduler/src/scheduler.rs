//! The scheduler's state, its set-up and the dispatch of commands.
//!
//! The work is split by topic: [`crate::lifecycle`] (submit, start, stop,
//! retire), [`crate::failure`], [`crate::power`] (the watt ledger and caps),
//! [`crate::ledger`] (quota charges), [`crate::reservation`],
//! [`crate::tenancy`] (tenancy commands and contract dates),
//! [`crate::locate`] (names to indices), [`crate::queue`] (the pass),
//! [`crate::preempt`], [`crate::snapshot`] and [`crate::views`].

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use abilene_model::Campus;
use serde::{Deserialize, Serialize};

use crate::command::Command;
use crate::config::Config;
use crate::event::{Event, Outcome, PendingReason};
use crate::free::FreeIndex;
use crate::job::{JobId, JobSpec, Priority, Time};
use crate::placement::{self, Chosen, Need};
use crate::power::{PowerLedger, Room};
use crate::reject::Reject;
use crate::tenant::{NodeId, TenantError, TenantSpec, TenantTree};
use crate::topo::{Topology, TopologyError};
use crate::views::History;

pub(crate) const NO_JOB: u32 = u32::MAX;
/// The slot recorded for a finished job's id.
pub(crate) const RETIRED: u32 = u32::MAX;
/// The general pool; reservation pools follow.
pub(crate) const GENERAL: usize = 0;
/// Priority classes, for per-class counters.
pub(crate) const PRIORITIES: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Topology(#[from] TopologyError),
    #[error(transparent)]
    Tenant(#[from] TenantError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Pending,
    Running,
    Done,
}

/// GPUs held together: a training gang, or one service replica.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Gang {
    pub trays: Vec<u32>,
    /// GPUs of `trays[0]` for a sub-tray gang; 0 for whole trays.
    pub mask: u64,
}

impl Gang {
    /// The GPUs of tray `t` this gang holds.
    pub fn tray_mask(&self, topo: &Topology, t: u32) -> u64 {
        if self.mask == 0 {
            full_mask(topo.tray_gpus[t as usize])
        } else {
            self.mask
        }
    }

    /// GPUs this gang holds on each of its trays.
    pub fn gpus_per_tray(&self, gpus_per_tray: u8) -> u32 {
        if self.mask == 0 {
            u32::from(gpus_per_tray)
        } else {
            self.mask.count_ones()
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Job {
    pub spec: JobSpec,
    pub node: NodeId,
    pub sku: u16,
    pub need: Need,
    pub state: JobState,
    pub reason: Option<PendingReason>,
    pub seq: u64,
    /// Requeued after an interruption: goes ahead of its class.
    pub front: bool,
    pub key: QueueKey,
    pub gangs: Vec<Gang>,
    pub spares: Vec<u32>,
    pub pool: usize,
    pub borrowed: bool,
    pub charged: u64,
    pub seg_start: Time,
    pub committed: Time,
    pub clock: f64,
    pub deadline: Time,
    pub est_end: Time,
    /// Watts above idle this job adds at full clock, per building.
    pub draw: Vec<(u16, i64)>,
    pub submitted: Time,
    pub history: History,
}

/// Order of the pending queue: priority class, requeued first, fair share,
/// then submission order.
pub(crate) type QueueKey = (Reverse<Priority>, bool, u32, u64, u32);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Reservation {
    pub spec: crate::command::ReservationSpec,
    pub trays: Vec<u32>,
    pub owner: Option<NodeId>,
    pub pool: usize,
    pub active: bool,
    pub ended: bool,
}

/// The backfill reservation of the highest-priority blocked job of a SKU.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct Head {
    pub job: u32,
    pub shadow: Time,
    pub extra: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TrayState {
    pub down: bool,
    pub drain: bool,
    pub quarantined: bool,
    pub reservation: Option<u32>,
}

/// What the scheduler says about one command of a [`Scheduler::step`].
pub type CommandResult = Result<(), Reject>;

/// What one step produced: every event, and one result per command in the
/// order given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepOutput {
    pub events: Vec<Event>,
    pub results: Vec<CommandResult>,
}

impl StepOutput {
    /// The events and the refusals, without which command each answers.
    pub fn into_parts(self) -> (Vec<Event>, Vec<Reject>) {
        let rejects = self.results.into_iter().filter_map(Result::err).collect();
        (self.events, rejects)
    }
}

/// The scheduler: feed it commands with the time, read back events.
#[derive(Debug, Clone)]
pub struct Scheduler {
    pub(crate) campus: Arc<Campus>,
    pub(crate) config: Config,
    pub(crate) topo: Topology,
    pub(crate) tenants: TenantTree,
    pub(crate) pools: Vec<FreeIndex>,
    pub(crate) gpu_owner: Vec<u32>,
    pub(crate) trays: Vec<TrayState>,
    /// Why each drained tray was drained, as the operator said.
    pub(crate) drain_reasons: BTreeMap<u32, String>,
    pub(crate) failures: BTreeMap<u32, Vec<Time>>,
    pub(crate) jobs: Vec<Job>,
    pub(crate) ids: BTreeMap<JobId, u32>,
    pub(crate) free_slots: Vec<u32>,
    pub(crate) pending: BTreeSet<(QueueKey, u32)>,
    /// Pending jobs that have no reason yet (never tried, or requeued):
    /// the only ones a pass may have to mark as beyond its depth.
    pub(crate) unreasoned: BTreeSet<u32>,
    /// Run the reference pass (no shortcuts), for tests that compare.
    pub(crate) reference_pass: bool,
    pub(crate) fresh: Vec<u32>,
    pub(crate) dirty: bool,
    pub(crate) heads: Vec<Option<Head>>,
    pub(crate) running_by_end: Vec<BTreeSet<(Time, u32)>>,
    pub(crate) deadlines: BTreeSet<(Time, u32)>,
    pub(crate) services_short: BTreeSet<u32>,
    /// Running training jobs holding fewer warm spares than they asked for.
    pub(crate) spares_short: BTreeSet<u32>,
    pub(crate) reservations: Vec<Reservation>,
    pub(crate) power: PowerLedger,
    pub(crate) borrowed_gpus: Vec<u64>,
    /// Of those, GPUs of preemptible training jobs per SKU: with none, no
    /// job owed its guarantee has a borrower to reclaim from.
    pub(crate) borrowed_preemptible_gpus: Vec<u64>,
    /// GPUs of preemptible training jobs per tenant node, SKU and class.
    pub(crate) preemptible_gpus: Vec<u64>,
    /// Live jobs under each tenant node (its own and its descendants').
    pub(crate) by_node: Vec<BTreeSet<JobId>>,
    pub(crate) next_seq: u64,
    pub(crate) last_fairshare: Time,
    /// When a contract date next moves a guarantee.
    pub(crate) next_tenancy_change: Option<Time>,
    /// The latest time a step was given; time never goes back.
    pub(crate) now: Time,
    /// Per slot, a pending job's inputs to the pass's quick answer
    /// ([`crate::waiting`]); derived, rebuilt on restore.
    pub(crate) waiting: Vec<crate::waiting::Waiting>,
    /// Counts over the queued `waiting` records.
    pub(crate) waiting_index: crate::waiting::WaitingIndex,
    /// Moves with every new tenancy tree: verdicts naming nodes of an older
    /// tree are not trusted.
    pub(crate) verdict_epoch: u32,
}

impl Scheduler {
    /// A scheduler for `campus` with every tray up and free.
    pub fn new(
        campus: &Campus,
        config: Config,
        tenants: &[TenantSpec],
    ) -> Result<Scheduler, SetupError> {
        Self::with_campus(Arc::new(campus.clone()), config, tenants)
    }

    /// As [`Scheduler::new`], sharing the caller's campus.
    pub fn with_campus(
        campus: Arc<Campus>,
        config: Config,
        tenants: &[TenantSpec],
    ) -> Result<Scheduler, SetupError> {
        config.check()?;
        let topo = Topology::new(&campus)?;
        let capacity = topo.capacity();
        let tenants = TenantTree::build(
            tenants,
            &vec![false; tenants.len()],
            &topo.sku_keys,
            capacity,
            0,
        )?;
        let mut general = FreeIndex::empty(&topo);
        general.init_histograms(&topo);
        for t in 0..topo.tray_domain.len() as u32 {
            general.release(&topo, t, full_mask(topo.tray_gpus[t as usize]));
        }
        let power = PowerLedger::new(&topo, config.idle_fraction);
        let skus = topo.skus;
        Ok(Scheduler {
            campus,
            gpu_owner: vec![NO_JOB; topo.gpus as usize],
            trays: vec![TrayState::default(); topo.tray_domain.len()],
            drain_reasons: BTreeMap::new(),
            failures: BTreeMap::new(),
            jobs: Vec::new(),
            ids: BTreeMap::new(),
            free_slots: Vec::new(),
            pending: BTreeSet::new(),
            unreasoned: BTreeSet::new(),
            reference_pass: false,
            fresh: Vec::new(),
            dirty: true,
            heads: vec![None; skus],
            running_by_end: vec![BTreeSet::new(); skus],
            deadlines: BTreeSet::new(),
            services_short: BTreeSet::new(),
            spares_short: BTreeSet::new(),
            reservations: Vec::new(),
            power,
            borrowed_gpus: vec![0; skus],
            borrowed_preemptible_gpus: vec![0; skus],
            preemptible_gpus: vec![0; tenants.len() * skus * PRIORITIES],
            by_node: vec![BTreeSet::new(); tenants.len()],
            next_seq: 0,
            last_fairshare: 0,
            next_tenancy_change: tenants.next_change(0),
            now: 0,
            waiting: Vec::new(),
            waiting_index: Default::default(),
            verdict_epoch: 0,
            pools: vec![general],
            config,
            topo,
            tenants,
        })
    }

    /// Applies every command, then runs one scheduling pass. Returns the
    /// events and one result per command. A time earlier than the last
    /// step's is taken as the last step's: the clock never goes back.
    pub fn step(&mut self, now: Time, commands: impl IntoIterator<Item = Command>) -> StepOutput {
        let now = now.max(self.now);
        self.now = now;
        let mut out = StepOutput::default();
        self.tick_tenancy(now, &mut out.events);
        for c in commands {
            let r = self.apply(now, c, &mut out.events);
            out.results.push(r);
        }
        self.schedule(now, &mut out.events);
        self.record_history(now, &out.events);
        out
    }

    /// Applies one command; a refused command changes nothing.
    pub(crate) fn apply(
        &mut self,
        now: Time,
        command: Command,
        events: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        match command {
            Command::Submit(spec) => self.submit(now, spec),
            Command::Cancel(id) => self.end_job(now, id, Outcome::Cancelled, events),
            Command::Complete(id) => self.end_job(now, id, Outcome::Completed, events),
            Command::TrayFailed { tray } => {
                let t = self.tray_named("tray", &tray)?;
                self.tray_failed(now, t, events);
                Ok(())
            }
            Command::TrayRepaired { tray } => {
                let t = self.tray_named("tray", &tray)?;
                self.set_tray(t, |s| s.down = false);
                Ok(())
            }
            Command::Drain { targets, reason } => {
                let trays = self.trays_named("targets", &targets)?;
                for t in trays {
                    self.set_tray(t, |s| s.drain = true);
                    self.drain_reasons.insert(t, reason.clone());
                }
                Ok(())
            }
            Command::Resume { targets } => {
                let trays = self.trays_named("targets", &targets)?;
                for t in trays {
                    self.set_tray(t, |s| s.drain = false);
                    self.drain_reasons.remove(&t);
                }
                Ok(())
            }
            Command::ClearQuarantine { tray } => {
                let t = self.tray_named("tray", &tray)?;
                self.failures.remove(&t);
                self.set_tray(t, |s| s.quarantined = false);
                Ok(())
            }
            Command::SetPowerCap { scope, kw } => self.set_power_cap(now, scope, kw, events),
            Command::Reserve(spec) => self.reserve(spec),
            Command::CreateTenant(spec) => self.create_tenant(now, spec),
            Command::UpdateTenant(update) => self.update_tenant(now, update),
            Command::RetireTenant { name } => self.retire_tenant(now, &name),
        }
    }

    // ---- trays ------------------------------------------------------------

    pub(crate) fn available(&self, t: u32) -> bool {
        let s = &self.trays[t as usize];
        !(s.down || s.drain || s.quarantined)
    }

    pub(crate) fn pool_of(&self, t: u32) -> usize {
        match self.trays[t as usize].reservation {
            Some(r) => self.reservations[r as usize].pool,
            None => GENERAL,
        }
    }

    /// GPUs of tray `t` that no job holds.
    pub(crate) fn idle_mask(&self, t: u32) -> u64 {
        let r = self.topo.tray_gpu_range(abilene_model::TrayId(t));
        let mut m = 0u64;
        for (i, g) in r.enumerate() {
            if self.gpu_owner[g as usize] == NO_JOB {
                m |= 1 << i;
            }
        }
        m
    }

    /// Changes a tray's flags and moves its idle GPUs in or out of its pool.
    pub(crate) fn set_tray(&mut self, t: u32, change: impl FnOnce(&mut TrayState)) {
        let was = self.available(t);
        let pool_before = self.pool_of(t);
        change(&mut self.trays[t as usize]);
        let now_avail = self.available(t);
        let pool_after = self.pool_of(t);
        if was && (!now_avail || pool_before != pool_after) {
            self.pools[pool_before].take_all(&self.topo, t);
        }
        if now_avail && (!was || pool_before != pool_after) {
            let idle = self.idle_mask(t);
            if idle != 0 {
                self.pools[pool_after].release(&self.topo, t, idle);
            }
            self.dirty = true;
        }
    }

    /// Returns a gang's GPUs: to the pool of each tray if it is available.
    pub(crate) fn free_gang(&mut self, gang: &Gang) {
        for &t in &gang.trays {
            let mask = gang.tray_mask(&self.topo, t);
            self.set_owner(t, mask, NO_JOB);
            if self.available(t) {
                let pool = self.pool_of(t);
                self.pools[pool].release(&self.topo, t, mask);
            }
        }
        self.dirty = true;
    }

    pub(crate) fn hold_gang(&mut self, job: u32, pool: usize, gang: &Gang) {
        for &t in &gang.trays {
            let mask = gang.tray_mask(&self.topo, t);
            self.pools[pool].take(&self.topo, t, mask);
            self.set_owner(t, mask, job);
        }
    }

    // ---- queries ----------------------------------------------------------------

    /// The slot of a job that has not finished.
    pub(crate) fn live(&self, id: JobId) -> Option<u32> {
        self.ids.get(&id).copied().filter(|&s| s != RETIRED)
    }

    /// A job's spec, while it has not finished.
    pub fn job_spec(&self, id: JobId) -> Option<&JobSpec> {
        self.live(id).map(|s| &self.jobs[s as usize].spec)
    }

    pub fn job_state(&self, id: JobId) -> Option<JobState> {
        match self.ids.get(&id) {
            None => None,
            Some(&RETIRED) => Some(JobState::Done),
            Some(&s) => Some(self.jobs[s as usize].state),
        }
    }

    pub fn pending_reason(&self, id: JobId) -> Option<&PendingReason> {
        self.live(id)
            .and_then(|s| self.jobs[s as usize].reason.as_ref())
    }

    /// The trays a running job holds (gangs, then spares), by name.
    pub fn job_trays(&self, id: JobId) -> Vec<String> {
        self.live(id).map_or_else(Vec::new, |s| {
            let j = &self.jobs[s as usize];
            let trays: Vec<u32> = j
                .gangs
                .iter()
                .flat_map(|g| g.trays.iter().copied())
                .chain(j.spares.iter().copied())
                .collect();
            self.tray_names(&trays)
        })
    }

    /// A running job's warm spares, by name.
    pub fn job_spares(&self, id: JobId) -> Vec<String> {
        self.live(id)
            .map_or_else(Vec::new, |s| self.tray_names(&self.jobs[s as usize].spares))
    }

    pub fn free_gpus(&self, sku: &str) -> u64 {
        self.topo
            .sku_index(sku)
            .map_or(0, |s| self.pools[GENERAL].free_gpus(s))
    }

    pub fn usage(&self, node: &str, sku: &str) -> Option<u64> {
        Some(
            self.tenants
                .usage(self.tenants.lookup(node)?, self.topo.sku_index(sku)?),
        )
    }

    /// Pending jobs in queue order.
    pub fn pending_ids(&self) -> Vec<JobId> {
        self.pending
            .iter()
            .map(|&(_, s)| self.jobs[s as usize].spec.id)
            .collect()
    }

    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }

    pub fn running_count(&self) -> usize {
        self.jobs
            .iter()
            .filter(|j| j.state == JobState::Running)
            .count()
    }

    /// GPUs held by running jobs: the operator's usage.
    pub fn busy_gpus(&self) -> u64 {
        (0..self.topo.skus as u16)
            .map(|s| self.tenants.usage(0, s))
            .sum()
    }

    pub fn total_gpus(&self) -> u64 {
        u64::from(self.topo.gpus)
    }

    /// Whether the named tray is quarantined; false for an unknown name.
    pub fn is_quarantined(&self, tray: &str) -> bool {
        self.tray_named("tray", tray)
            .is_ok_and(|t| self.trays[t as usize].quarantined)
    }

    /// Projected draw in kW: idle trays plus running jobs, per building.
    pub fn building_draw_kw(&self) -> Vec<f64> {
        self.power.building_kw()
    }

    /// The latest time a step was given.
    pub fn now(&self) -> Time {
        self.now
    }

    /// The campus this scheduler runs.
    pub fn campus(&self) -> &Campus {
        &self.campus
    }

    /// Bytes the scheduler's state holds on the heap, counted from its
    /// collections (B-tree nodes estimated at their entries' size).
    pub fn memory_bytes(&self) -> usize {
        use std::mem::size_of;
        let pools: usize = self.pools.iter().map(FreeIndex::memory_bytes).sum();
        let jobs: usize = self.jobs.capacity() * size_of::<Job>()
            + self
                .jobs
                .iter()
                .map(|j| {
                    j.gangs
                        .iter()
                        .map(|g| g.trays.capacity() * 4 + size_of::<Gang>())
                        .sum::<usize>()
                        + j.spares.capacity() * 4
                        + j.draw.capacity() * size_of::<(u16, i64)>()
                        + j.history.memory_bytes()
                        + j.spec.project.capacity()
                        + j.spec.sku.capacity()
                })
                .sum::<usize>();
        let by_node: usize = self.by_node.iter().map(|b| b.len() * 16).sum();
        let sets = (self.pending.len() + self.ids.len() + self.deadlines.len()) * 48
            + by_node
            + self
                .running_by_end
                .iter()
                .map(|r| r.len() * 24)
                .sum::<usize>();
        pools
            + jobs
            + sets
            + self.gpu_owner.capacity() * 4
            + self.trays.capacity() * size_of::<TrayState>()
            + self.topo.memory_bytes()
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Makes every later pass the reference pass: the same decisions,
    /// reached without the shortcuts of a deep queue (counters before
    /// searches, shapes known not to fit, the walk of jobs without a
    /// reason). For tests that compare the two; not part of the state
    /// (a restored scheduler runs the ordinary pass).
    #[doc(hidden)]
    pub fn use_reference_pass(&mut self, on: bool) {
        self.reference_pass = on;
    }
}

pub(crate) fn full_mask(n: u8) -> u64 {
    if n >= 64 { u64::MAX } else { (1u64 << n) - 1 }
}

pub(crate) fn chosen_to_gangs(chosen: Chosen) -> Gang {
    Gang {
        trays: chosen.trays,
        mask: chosen.gpu_mask,
    }
}

pub(crate) fn place_in(
    s: &Scheduler,
    pool: usize,
    sku: u16,
    need: Need,
    room: Option<&Room>,
) -> Option<Chosen> {
    placement::place(
        &s.pools[pool],
        &s.topo,
        sku,
        need,
        room.and_then(|r| r.for_sku(s, sku)),
    )
}
