//! The scheduler's state and its handling of commands.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

use abilene_model::Campus;

use crate::command::{Command, CommandError, PowerScope, ReservationSpec};
use crate::config::Config;
use crate::event::{Event, Outcome, PendingReason, Placement, Recovery};
use crate::free::FreeIndex;
use crate::job::{JobId, JobKind, JobSpec, Priority, Time};
use crate::placement::{self, Chosen, Need, PowerRoom};
use crate::tenant::{NodeId, TenantError, TenantSpec, TenantTree};
use crate::topo::{Topology, TopologyError};

pub(crate) const NO_JOB: u32 = u32::MAX;
/// The slot recorded for a finished job's id.
const RETIRED: u32 = u32::MAX;
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Pending,
    Running,
    Done,
}

/// GPUs held together: a training gang, or one service replica.
#[derive(Debug, Clone, PartialEq, Eq)]
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

    /// The share of a tray's draw this gang makes on each of its trays.
    pub fn tray_share(&self, gpus_per_tray: f64) -> f64 {
        if self.mask == 0 {
            1.0
        } else {
            f64::from(self.mask.count_ones()) / gpus_per_tray
        }
    }
}

#[derive(Debug, Clone)]
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
    /// kW above idle this job adds, per building.
    pub draw: Vec<(u16, f64)>,
}

/// Order of the pending queue: priority class, requeued first, fair share,
/// then submission order.
pub(crate) type QueueKey = (Reverse<Priority>, bool, u32, u64, u32);

#[derive(Debug, Clone)]
pub(crate) struct Reservation {
    pub spec: ReservationSpec,
    pub owner: Option<NodeId>,
    pub pool: usize,
    pub active: bool,
    pub ended: bool,
}

/// The backfill reservation of the highest-priority blocked job of a SKU.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Head {
    pub job: u32,
    pub shadow: Time,
    pub extra: u64,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct TrayState {
    pub down: bool,
    pub drain: bool,
    pub quarantined: bool,
    pub reservation: Option<u32>,
}

/// The scheduler: feed it commands with the time, read back events.
#[derive(Debug, Clone)]
pub struct Scheduler {
    pub(crate) config: Config,
    pub(crate) topo: Topology,
    pub(crate) tenants: TenantTree,
    pub(crate) pools: Vec<FreeIndex>,
    pub(crate) gpu_owner: Vec<u32>,
    pub(crate) trays: Vec<TrayState>,
    pub(crate) failures: BTreeMap<u32, Vec<Time>>,
    pub(crate) jobs: Vec<Job>,
    pub(crate) ids: BTreeMap<JobId, u32>,
    pub(crate) free_slots: Vec<u32>,
    pub(crate) pending: BTreeSet<(QueueKey, u32)>,
    pub(crate) fresh: Vec<u32>,
    pub(crate) dirty: bool,
    pub(crate) heads: Vec<Option<Head>>,
    pub(crate) running_by_end: Vec<BTreeSet<(Time, u32)>>,
    pub(crate) deadlines: BTreeSet<(Time, u32)>,
    pub(crate) services_short: BTreeSet<u32>,
    pub(crate) reservations: Vec<Reservation>,
    pub(crate) building_cap_kw: Vec<f64>,
    pub(crate) campus_cap_kw: f64,
    pub(crate) building_draw_kw: Vec<f64>,
    pub(crate) building_idle_kw: Vec<f64>,
    pub(crate) borrowed_gpus: Vec<u64>,
    /// GPUs of preemptible training jobs per tenant node, SKU and class.
    pub(crate) preemptible_gpus: Vec<u64>,
    pub(crate) next_seq: u64,
    pub(crate) last_fairshare: Time,
}

impl Scheduler {
    /// A scheduler for `campus` with every tray up and free.
    pub fn new(
        campus: &Campus,
        config: Config,
        tenants: &[TenantSpec],
    ) -> Result<Scheduler, SetupError> {
        let topo = Topology::new(campus)?;
        let mut capacity = vec![0u64; topo.skus];
        for d in 0..topo.domains() {
            let sku = usize::from(topo.domain_sku[d]);
            capacity[sku] +=
                u64::from(topo.domain_trays[d]) * u64::from(topo.sku_gpus_per_tray[sku]);
        }
        let tenants = TenantTree::new(tenants, &topo.sku_keys, &capacity)?;
        let mut general = FreeIndex::empty(&topo);
        general.init_histograms(&topo);
        let mut building_idle_kw = vec![0.0; topo.buildings()];
        for t in 0..topo.tray_domain.len() as u32 {
            general.release(&topo, t, full_mask(topo.tray_gpus[t as usize]));
            let sku = usize::from(topo.sku_of_tray(t).0);
            building_idle_kw[usize::from(topo.tray_building[t as usize])] +=
                topo.sku_tray_kw[sku] * config.idle_fraction;
        }
        let skus = topo.skus;
        let buildings = topo.buildings();
        Ok(Scheduler {
            gpu_owner: vec![NO_JOB; topo.gpus as usize],
            trays: vec![TrayState::default(); topo.tray_domain.len()],
            failures: BTreeMap::new(),
            jobs: Vec::new(),
            ids: BTreeMap::new(),
            free_slots: Vec::new(),
            pending: BTreeSet::new(),
            fresh: Vec::new(),
            dirty: true,
            heads: vec![None; skus],
            running_by_end: vec![BTreeSet::new(); skus],
            deadlines: BTreeSet::new(),
            services_short: BTreeSet::new(),
            reservations: Vec::new(),
            building_cap_kw: vec![f64::INFINITY; buildings],
            campus_cap_kw: f64::INFINITY,
            building_draw_kw: vec![0.0; buildings],
            building_idle_kw,
            borrowed_gpus: vec![0; skus],
            preemptible_gpus: vec![0; tenants.len() * skus * PRIORITIES],
            next_seq: 0,
            last_fairshare: 0,
            pools: vec![general],
            config,
            topo,
            tenants,
        })
    }

    /// Applies every command, then runs one scheduling pass.
    pub fn step(
        &mut self,
        now: Time,
        commands: impl IntoIterator<Item = Command>,
    ) -> (Vec<Event>, Vec<CommandError>) {
        let mut events = Vec::new();
        let mut errors = Vec::new();
        for c in commands {
            if let Err(e) = self.apply(now, c, &mut events) {
                errors.push(e);
            }
        }
        self.schedule(now, &mut events);
        (events, errors)
    }

    /// Applies one command; a refused command changes nothing.
    pub fn apply(
        &mut self,
        now: Time,
        command: Command,
        events: &mut Vec<Event>,
    ) -> Result<(), CommandError> {
        match command {
            Command::Submit(spec) => self.submit(now, spec, events),
            Command::Cancel(id) => self.end_job(now, id, Outcome::Cancelled, events),
            Command::Complete(id) => self.end_job(now, id, Outcome::Completed, events),
            Command::TrayFailed { tray } => {
                self.check_tray(tray)?;
                self.tray_failed(now, tray, events);
                Ok(())
            }
            Command::TrayRepaired { tray } => {
                self.check_tray(tray)?;
                self.set_tray(tray, |s| s.down = false);
                Ok(())
            }
            Command::Drain { trays } => {
                trays.iter().try_for_each(|&t| self.check_tray(t))?;
                for t in trays {
                    self.set_tray(t, |s| s.drain = true);
                }
                Ok(())
            }
            Command::Resume { trays } => {
                trays.iter().try_for_each(|&t| self.check_tray(t))?;
                for t in trays {
                    self.set_tray(t, |s| s.drain = false);
                }
                Ok(())
            }
            Command::ClearQuarantine { tray } => {
                self.check_tray(tray)?;
                self.failures.remove(&tray);
                self.set_tray(tray, |s| s.quarantined = false);
                Ok(())
            }
            Command::SetPowerCap { scope, kw } => self.set_power_cap(now, scope, kw, events),
            Command::Reserve(spec) => self.reserve(spec),
        }
    }

    fn check_tray(&self, t: u32) -> Result<(), CommandError> {
        if (t as usize) < self.trays.len() {
            Ok(())
        } else {
            Err(CommandError::UnknownTray(t))
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
    fn free_gang(&mut self, gang: &Gang) {
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

    // ---- submit, end -----------------------------------------------------

    fn submit(
        &mut self,
        now: Time,
        spec: JobSpec,
        events: &mut Vec<Event>,
    ) -> Result<(), CommandError> {
        if self.ids.contains_key(&spec.id) {
            return Err(CommandError::DuplicateJob(spec.id));
        }
        let id = spec.id;
        let (node, sku, need) = match self.admit(&spec) {
            Ok(x) => x,
            Err(why) => {
                events.push(Event::Rejected { job: id, why });
                return Ok(());
            }
        };
        // Finished jobs give their slots back, so memory follows the live
        // jobs, not every job ever submitted.
        let slot = self.free_slots.pop().unwrap_or(self.jobs.len() as u32);
        let seq = self.next_seq;
        self.next_seq += 1;
        let key = (Reverse(spec.priority), true, 0, seq, slot);
        let job = Job {
            spec,
            node,
            sku,
            need,
            state: JobState::Pending,
            reason: None,
            seq,
            front: false,
            key,
            gangs: Vec::new(),
            spares: Vec::new(),
            pool: GENERAL,
            borrowed: false,
            charged: 0,
            seg_start: now,
            committed: 0,
            clock: 1.0,
            deadline: Time::MAX,
            est_end: Time::MAX,
            draw: Vec::new(),
        };
        if slot as usize == self.jobs.len() {
            self.jobs.push(job);
        } else {
            self.jobs[slot as usize] = job;
        }
        self.ids.insert(id, slot);
        self.enqueue(slot);
        self.fresh.push(slot);
        Ok(())
    }

    /// Checks a job against the campus and the tenancy; returns its tenant
    /// node, SKU and shape, or why it can never run.
    fn admit(&self, spec: &JobSpec) -> Result<(NodeId, u16, Need), String> {
        let node = self
            .tenants
            .lookup(&spec.project)
            .ok_or_else(|| format!("unknown project `{}`", spec.project))?;
        let sku = self.topo.sku_index(&spec.sku).ok_or_else(|| {
            format!(
                "unknown SKU `{}`; the campus has {}",
                spec.sku,
                self.topo.sku_keys.join(", ")
            )
        })?;
        let gpt = u32::from(self.topo.sku_gpus_per_tray[usize::from(sku)]);
        let dom = u32::from(self.topo.sku_domain_trays[usize::from(sku)]);
        if spec.gpus == 0 {
            return Err("a job needs at least 1 GPU".into());
        }
        if let JobKind::Service {
            replicas,
            min_available,
        } = spec.kind
            && (min_available == 0 || min_available > replicas)
        {
            return Err(format!(
                "a service needs 1 <= min_available <= replicas, got {min_available} of {replicas}"
            ));
        }
        if let Some(r) = spec.reservation {
            let res = self
                .reservations
                .get(r as usize)
                .ok_or_else(|| format!("unknown reservation {r}"))?;
            if res
                .owner
                .is_none_or(|o| !self.tenants.chain(node).any(|a| a == o))
            {
                return Err(format!(
                    "reservation {r} is not held by `{}` or its parents",
                    spec.project
                ));
            }
        }
        let need = if spec.gpus < gpt {
            if spec.spare_trays > 0 {
                return Err("spare trays need a job of at least one whole tray".into());
            }
            Need::Gpus(spec.gpus)
        } else {
            if spec.gpus % gpt != 0 {
                return Err(format!(
                    "{} GPUs is not a whole number of {}-GPU trays of {}",
                    spec.gpus, gpt, spec.sku
                ));
            }
            let trays = spec.gpus / gpt;
            let tp = spec.tp_gpus.max(gpt);
            if tp % gpt != 0 {
                return Err(format!(
                    "tensor-parallel group of {} GPUs is not whole trays of {gpt}",
                    spec.tp_gpus
                ));
            }
            let k = (tp / gpt).max(spec.segment_trays).max(1);
            if k > dom {
                return Err(format!(
                    "a tensor-parallel group or segment of {k} trays does not fit an NVLink domain of {dom} trays"
                ));
            }
            if trays % k != 0 {
                return Err(format!(
                    "{trays} trays do not divide into groups of {k} trays"
                ));
            }
            Need::Trays {
                k,
                chunks: trays / k,
            }
        };
        let per_gang = u64::from(spec.gpus);
        let gangs = match spec.kind {
            JobKind::Training => 1,
            JobKind::Service { min_available, .. } => u64::from(min_available),
        };
        let want = per_gang * gangs + u64::from(spec.spare_trays) * u64::from(gpt);
        let ceiling = self
            .tenants
            .chain(node)
            .map(|a| self.tenants.ceiling(a, sku))
            .min()
            .unwrap_or(0);
        if want > ceiling {
            return Err(format!(
                "needs {want} {} GPUs; its quota chain allows at most {ceiling}",
                spec.sku
            ));
        }
        Ok((node, sku, need))
    }

    pub(crate) fn queue_key(&self, slot: u32) -> QueueKey {
        let j = &self.jobs[slot as usize];
        // Fair share within a class: tenants that used less of their
        // entitlement go first, in 1/8 steps of it.
        let used = self.tenants.share_used(self.tenants.tenant_of(j.node));
        let total: f64 = self.topo.gpus.into();
        let level = ((used / total) * 8.0).min(f64::from(u32::MAX - 1)) as u32;
        (Reverse(j.spec.priority), !j.front, level, j.seq, slot)
    }

    fn enqueue(&mut self, slot: u32) {
        let key = self.queue_key(slot);
        self.jobs[slot as usize].key = key;
        self.jobs[slot as usize].state = JobState::Pending;
        self.pending.insert((key, slot));
    }

    fn dequeue(&mut self, slot: u32) {
        let key = self.jobs[slot as usize].key;
        self.pending.remove(&(key, slot));
    }

    fn end_job(
        &mut self,
        now: Time,
        id: JobId,
        outcome: Outcome,
        events: &mut Vec<Event>,
    ) -> Result<(), CommandError> {
        let slot = self.live(id).ok_or(CommandError::UnknownJob(id))?;
        match self.jobs[slot as usize].state {
            JobState::Done => return Err(CommandError::UnknownJob(id)),
            JobState::Pending => self.dequeue(slot),
            JobState::Running => {
                self.stop(now, slot);
            }
        }
        self.retire(slot);
        events.push(Event::Finished { job: id, outcome });
        Ok(())
    }

    /// Retires a finished job: its slot is reused and only its id is kept.
    pub(crate) fn retire(&mut self, slot: u32) {
        let job = &mut self.jobs[slot as usize];
        job.state = JobState::Done;
        // The id stays known (as finished) so it cannot be reused.
        self.ids.insert(job.spec.id, RETIRED);
        job.spec.project = String::new();
        job.spec.sku = String::new();
        job.gangs = Vec::new();
        job.spares = Vec::new();
        job.draw = Vec::new();
        self.free_slots.push(slot);
    }

    // ---- start, stop -----------------------------------------------------

    /// Runs a pending job on `gangs` (and `spares`) from `pool`.
    pub(crate) fn start(
        &mut self,
        now: Time,
        slot: u32,
        pool: usize,
        gangs: Vec<Gang>,
        spares: Vec<u32>,
        events: &mut Vec<Event>,
    ) {
        self.dequeue(slot);
        let (node, sku) = (self.jobs[slot as usize].node, self.jobs[slot as usize].sku);
        let gpt = u64::from(self.topo.sku_gpus_per_tray[usize::from(sku)]);
        let per_gang = u64::from(self.jobs[slot as usize].spec.gpus);
        let charge = per_gang * gangs.len() as u64 + spares.len() as u64 * gpt;
        let none = |_| 0;
        let borrowed = !self.tenants.within_guarantee(node, sku, charge, &none);
        for g in &gangs {
            self.hold_gang(slot, pool, g);
        }
        let spare_gang = Gang {
            trays: spares.clone(),
            mask: 0,
        };
        self.hold_gang(slot, pool, &spare_gang);
        self.jobs[slot as usize].borrowed = borrowed;
        self.account(slot, charge as i64);
        let tray_kw = self.job_tray_kw(sku);
        let mut draw: BTreeMap<u16, f64> = BTreeMap::new();
        for g in &gangs {
            let share = g.tray_share(gpt as f64);
            for &t in &g.trays {
                *draw.entry(self.topo.tray_building[t as usize]).or_default() += tray_kw * share;
            }
        }
        for (&b, &kw) in &draw {
            self.building_draw_kw[usize::from(b)] += kw;
        }
        let job = &mut self.jobs[slot as usize];
        let remaining = job.spec.runtime_estimate.saturating_sub(job.committed);
        job.state = JobState::Running;
        job.reason = None;
        job.front = false;
        job.pool = pool;
        job.seg_start = now;
        job.clock = 1.0;
        job.deadline = now.saturating_add(job.spec.runtime_limit);
        job.est_end = now.saturating_add(remaining);
        job.draw = draw.into_iter().collect();
        job.gangs = gangs;
        job.spares = spares;
        let (deadline, est_end) = (job.deadline, job.est_end);
        self.deadlines.insert((deadline, slot));
        self.running_by_end[usize::from(sku)].insert((est_end, slot));
        if let JobKind::Service { replicas, .. } = self.jobs[slot as usize].spec.kind
            && (self.jobs[slot as usize].gangs.len() as u32) < replicas
        {
            self.services_short.insert(slot);
        }
        let j = &self.jobs[slot as usize];
        let placement = self.describe(j);
        events.push(Event::Started {
            job: j.spec.id,
            placement,
            borrowed,
        });
    }

    /// Kilowatts above idle that one busy tray of `sku` adds.
    pub(crate) fn job_tray_kw(&self, sku: u16) -> f64 {
        self.topo.sku_tray_kw[usize::from(sku)] * (1.0 - self.config.idle_fraction)
    }

    fn describe(&self, j: &Job) -> Placement {
        let mut trays: Vec<u32> = j
            .gangs
            .iter()
            .flat_map(|g| g.trays.iter().copied())
            .collect();
        trays.sort_unstable();
        let mut domains: Vec<u32> = trays
            .iter()
            .map(|&t| self.topo.tray_domain[t as usize])
            .collect();
        domains.dedup();
        let mut units: Vec<u32> = domains
            .iter()
            .map(|&d| self.topo.domain_unit[d as usize])
            .collect();
        units.dedup();
        let mut buildings: Vec<u16> = units
            .iter()
            .map(|&u| self.topo.unit_building[u as usize])
            .collect();
        buildings.dedup();
        let gpus = j.gangs.len() as u32 * j.spec.gpus;
        Placement {
            trays,
            gpus,
            spares: j.spares.clone(),
            domains: domains.len() as u32,
            leaf_groups: units.len() as u32,
            buildings: buildings.len() as u32,
        }
    }

    /// Work saved by checkpoints if the job stopped now, and work lost.
    pub(crate) fn progress(&self, slot: u32, now: Time) -> (Time, Time) {
        let j = &self.jobs[slot as usize];
        let elapsed = now.saturating_sub(j.seg_start);
        let saved = match j.spec.checkpoint_interval {
            0 => 0,
            i => elapsed / i * i,
        };
        (j.committed + saved, elapsed - saved)
    }

    /// Takes a running job off its GPUs; it keeps its checkpointed work.
    pub(crate) fn stop(&mut self, now: Time, slot: u32) -> Time {
        let (saved, lost) = self.progress(slot, now);
        let job = &mut self.jobs[slot as usize];
        let gangs = std::mem::take(&mut job.gangs);
        let spares = std::mem::take(&mut job.spares);
        let draw = std::mem::take(&mut job.draw);
        job.committed = saved;
        let (sku, charged, clock) = (job.sku, job.charged, job.clock);
        let (deadline, est_end) = (job.deadline, job.est_end);
        self.account(slot, -(charged as i64));
        self.jobs[slot as usize].borrowed = false;
        for g in &gangs {
            self.free_gang(g);
        }
        self.free_gang(&Gang {
            trays: spares,
            mask: 0,
        });
        for (b, kw) in draw {
            self.building_draw_kw[usize::from(b)] -= kw * clock;
        }
        self.deadlines.remove(&(deadline, slot));
        self.running_by_end[usize::from(sku)].remove(&(est_end, slot));
        self.services_short.remove(&slot);
        self.dirty = true;
        lost
    }

    /// Stops a running job and puts it at the front of its class.
    pub(crate) fn requeue(&mut self, now: Time, slot: u32) -> Time {
        let lost = self.stop(now, slot);
        self.jobs[slot as usize].front = true;
        self.enqueue(slot);
        lost
    }

    // ---- failures -----------------------------------------------------------

    fn tray_failed(&mut self, now: Time, t: u32, events: &mut Vec<Event>) {
        if self.trays[t as usize].down {
            return;
        }
        self.set_tray(t, |s| s.down = true);
        let history = self.failures.entry(t).or_default();
        history.push(now);
        let window = self.config.lemon_window;
        history.retain(|&when| when + window > now);
        let count = history.len() as u32;
        if count >= self.config.lemon_failures && !self.trays[t as usize].quarantined {
            self.set_tray(t, |s| s.quarantined = true);
            events.push(Event::TrayQuarantined {
                tray: t,
                failures: count,
            });
        }
        let mut owners: Vec<u32> = self
            .topo
            .tray_gpu_range(abilene_model::TrayId(t))
            .map(|g| self.gpu_owner[g as usize])
            .filter(|&o| o != NO_JOB)
            .collect();
        owners.sort_unstable();
        owners.dedup();
        for slot in owners {
            self.job_lost_tray(now, slot, t, events);
        }
    }

    fn job_lost_tray(&mut self, now: Time, slot: u32, t: u32, events: &mut Vec<Event>) {
        let id = self.jobs[slot as usize].spec.id;
        let job = &self.jobs[slot as usize];
        // A warm spare that failed is just gone.
        if let Some(pos) = job.spares.iter().position(|&s| s == t) {
            self.release_tray_of(slot, t, None, Some(pos));
            return;
        }
        let gang = job.gangs.iter().position(|g| g.trays.contains(&t));
        let Some(gang) = gang else { return };
        if matches!(job.spec.kind, JobKind::Service { .. }) {
            // Every replica with GPUs on the tray is lost, not just one.
            while let Some(gi) = self.jobs[slot as usize]
                .gangs
                .iter()
                .position(|g| g.trays.contains(&t))
            {
                self.release_tray_of(slot, t, Some(gi), None);
                events.push(Event::Interrupted {
                    job: id,
                    tray: t,
                    lost_work: 0,
                    recovery: Recovery::ReplicaLost,
                });
            }
            self.services_short.insert(slot);
            let job = &self.jobs[slot as usize];
            if let JobKind::Service { min_available, .. } = job.spec.kind
                && (job.gangs.len() as u32) < min_available
            {
                // Below its minimum: the service goes back to the queue.
                self.requeue(now, slot);
                events.push(Event::Interrupted {
                    job: id,
                    tray: t,
                    lost_work: 0,
                    recovery: Recovery::Requeued,
                });
            }
            return;
        }
        // Training: swap in a spare from the failed tray's NVLink domain;
        // any spare will do only when groups are single trays.
        let spare = {
            let d = self.topo.tray_domain[t as usize];
            let same = job
                .spares
                .iter()
                .position(|&s| self.topo.tray_domain[s as usize] == d);
            let single = matches!(job.need, Need::Trays { k: 1, .. });
            same.or(if single && !job.spares.is_empty() {
                Some(0)
            } else {
                None
            })
        };
        let (saved, lost) = self.progress(slot, now);
        match spare {
            Some(pos) => {
                let job = &mut self.jobs[slot as usize];
                let s = job.spares.remove(pos);
                let g = &mut job.gangs[gang];
                let i = g.trays.iter().position(|&x| x == t).unwrap_or(0);
                g.trays[i] = s;
                job.committed = saved;
                job.seg_start = now;
                // The failed tray's GPUs leave the job; the spare's were
                // already its own.
                self.clear_owner(t, 0);
                self.charge_adjust_after_spare(slot, t, s);
                events.push(Event::Interrupted {
                    job: id,
                    tray: t,
                    lost_work: lost,
                    recovery: Recovery::Spare,
                });
            }
            None => {
                let lost = self.requeue(now, slot);
                events.push(Event::Interrupted {
                    job: id,
                    tray: t,
                    lost_work: lost,
                    recovery: Recovery::Requeued,
                });
            }
        }
    }

    /// The spare became a gang tray: the charge is unchanged except that the
    /// failed tray's GPUs are no longer held. Draw moves to the spare's building.
    fn charge_adjust_after_spare(&mut self, slot: u32, failed: u32, spare: u32) {
        let sku = self.jobs[slot as usize].sku;
        let gpt = u64::from(self.topo.sku_gpus_per_tray[usize::from(sku)]);
        self.account(slot, -(gpt as i64));
        let tray_kw = self.job_tray_kw(sku);
        let (from, to) = (
            self.topo.tray_building[failed as usize],
            self.topo.tray_building[spare as usize],
        );
        let job = &mut self.jobs[slot as usize];
        if from != to {
            let clock = job.clock;
            for e in job.draw.iter_mut() {
                if e.0 == from {
                    e.1 -= tray_kw;
                }
            }
            match job.draw.iter_mut().find(|e| e.0 == to) {
                Some(e) => e.1 += tray_kw,
                None => job.draw.push((to, tray_kw)),
            }
            self.building_draw_kw[usize::from(from)] -= tray_kw * clock;
            self.building_draw_kw[usize::from(to)] += tray_kw * clock;
        }
    }

    /// Frees GPUs `mask` of tray `t` in the owner map (0 for all of them).
    fn clear_owner(&mut self, t: u32, mask: u64) {
        let mask = if mask == 0 {
            full_mask(self.topo.tray_gpus[t as usize])
        } else {
            mask
        };
        self.set_owner(t, mask, NO_JOB);
    }

    /// Records `owner` for GPUs `mask` of tray `t`.
    fn set_owner(&mut self, t: u32, mask: u64, owner: u32) {
        let first = self.topo.tray_first_gpu[t as usize];
        let mut m = mask;
        while m != 0 {
            let i = m.trailing_zeros();
            let g = &mut self.gpu_owner[(first + i) as usize];
            debug_assert!(owner == NO_JOB || *g == NO_JOB, "GPU given twice");
            *g = owner;
            m &= m - 1;
        }
    }

    /// Drops failed tray `t` from a job: a spare, or a service replica.
    fn release_tray_of(&mut self, slot: u32, t: u32, gang: Option<usize>, spare: Option<usize>) {
        let sku = self.jobs[slot as usize].sku;
        let gpt = u64::from(self.topo.sku_gpus_per_tray[usize::from(sku)]);
        let tray_kw = self.job_tray_kw(sku);
        let mut refund = 0;
        if let Some(pos) = spare {
            self.jobs[slot as usize].spares.remove(pos);
            self.clear_owner(t, 0);
            refund = gpt;
        }
        if let Some(gi) = gang {
            let g = self.jobs[slot as usize].gangs.remove(gi);
            let per = u64::from(self.jobs[slot as usize].spec.gpus);
            // The replica's other trays go back; the failed one is down.
            for &x in &g.trays {
                let mask = if g.mask == 0 {
                    full_mask(self.topo.tray_gpus[x as usize])
                } else {
                    g.mask
                };
                self.clear_owner(x, mask);
                if x != t && self.available(x) {
                    let pool = self.pool_of(x);
                    self.pools[pool].release(&self.topo, x, mask);
                }
                let share = g.tray_share(gpt as f64);
                let b = self.topo.tray_building[x as usize];
                let clock = self.jobs[slot as usize].clock;
                self.building_draw_kw[usize::from(b)] -= tray_kw * share * clock;
                if let Some(e) = self.jobs[slot as usize].draw.iter_mut().find(|e| e.0 == b) {
                    e.1 -= tray_kw * share;
                }
            }
            refund = per;
            self.dirty = true;
        }
        self.account(slot, -(refund as i64));
    }

    /// Changes what a job is charged by `delta` GPUs, keeping quota usage
    /// and the borrowed and preemptible counters in step with it.
    pub(crate) fn account(&mut self, slot: u32, delta: i64) {
        let j = &self.jobs[slot as usize];
        let (node, sku, borrowed) = (j.node, j.sku, j.borrowed);
        let preemptible = (j.spec.preemptible && j.spec.kind == JobKind::Training)
            .then_some(j.spec.priority as usize);
        let n = delta.unsigned_abs();
        if delta >= 0 {
            self.tenants.charge(node, sku, n, borrowed);
        } else {
            self.tenants.refund(node, sku, n, borrowed);
        }
        let apply = |x: &mut u64| if delta >= 0 { *x += n } else { *x -= n };
        if borrowed {
            apply(&mut self.borrowed_gpus[usize::from(sku)]);
        }
        if let Some(prio) = preemptible {
            let skus = self.topo.skus;
            let mut c = Some(node);
            while let Some(a) = c {
                apply(
                    &mut self.preemptible_gpus
                        [(a as usize * skus + usize::from(sku)) * PRIORITIES + prio],
                );
                c = self.tenants.parent[a as usize];
            }
        }
        apply(&mut self.jobs[slot as usize].charged);
    }

    /// GPUs held by preemptible training jobs below class `below` under `node`.
    pub(crate) fn preemptible_below(&self, node: NodeId, sku: u16, below: Priority) -> u64 {
        let base = (node as usize * self.topo.skus + usize::from(sku)) * PRIORITIES;
        self.preemptible_gpus[base..base + below as usize]
            .iter()
            .sum()
    }

    // ---- power ----------------------------------------------------------------

    pub(crate) fn building_room_kw(&self) -> Vec<f64> {
        (0..self.topo.buildings())
            .map(|b| self.building_cap_kw[b] - self.building_idle_kw[b] - self.building_draw_kw[b])
            .collect()
    }

    /// Whether any power cap is set.
    pub(crate) fn caps_bind(&self) -> bool {
        self.campus_cap_kw.is_finite() || self.building_cap_kw.iter().any(|c| c.is_finite())
    }

    pub(crate) fn room(&self) -> Room {
        Room {
            buildings: self.building_room_kw(),
            campus: self.campus_room_kw(),
        }
    }

    pub(crate) fn campus_room_kw(&self) -> f64 {
        let used: f64 =
            self.building_idle_kw.iter().sum::<f64>() + self.building_draw_kw.iter().sum::<f64>();
        self.campus_cap_kw - used
    }

    fn set_power_cap(
        &mut self,
        now: Time,
        scope: PowerScope,
        kw: Option<f64>,
        events: &mut Vec<Event>,
    ) -> Result<(), CommandError> {
        let kw = match kw {
            None => f64::INFINITY,
            Some(k) if k.is_finite() && k >= 0.0 => k,
            Some(k) => return Err(CommandError::BadPowerCap(k.to_string())),
        };
        match scope {
            PowerScope::Campus => self.campus_cap_kw = kw,
            PowerScope::Building(b) => {
                *self
                    .building_cap_kw
                    .get_mut(usize::from(b))
                    .ok_or(CommandError::UnknownBuilding(b))? = kw;
            }
        }
        self.enforce_power(now, events);
        self.dirty = true;
        Ok(())
    }

    /// Brings draw under every cap: first slow the lowest-priority jobs to
    /// capped clocks, then checkpoint and suspend them; gives clocks back to
    /// the highest-priority jobs when there is room again.
    fn enforce_power(&mut self, now: Time, events: &mut Vec<Event>) {
        let mut running: Vec<u32> = (0..self.jobs.len() as u32)
            .filter(|&s| self.jobs[s as usize].state == JobState::Running)
            .collect();
        // Cheapest to slow first: low priority, borrowed, newest.
        running.sort_by_key(|&s| {
            let j = &self.jobs[s as usize];
            (j.spec.priority, !j.borrowed, Reverse(j.seq))
        });
        let clock = self.config.throttle_clock;
        for phase in 0..2 {
            for &s in &running {
                let over_b: Vec<bool> =
                    self.building_room_kw().iter().map(|r| *r < -1e-6).collect();
                let over_c = self.campus_room_kw() < -1e-6;
                if !over_c && !over_b.iter().any(|&o| o) {
                    break;
                }
                let j = &self.jobs[s as usize];
                if j.state != JobState::Running {
                    continue;
                }
                let touches = over_c || j.draw.iter().any(|(b, _)| over_b[usize::from(*b)]);
                if !touches {
                    continue;
                }
                if phase == 0 && j.clock > clock {
                    self.set_clock(s, clock);
                    events.push(Event::Throttled {
                        job: self.jobs[s as usize].spec.id,
                        clock,
                    });
                } else if phase == 1 {
                    // Checkpoint on the way out: nothing is lost.
                    let job = &mut self.jobs[s as usize];
                    job.committed += now.saturating_sub(job.seg_start);
                    job.seg_start = now;
                    self.requeue(now, s);
                    self.jobs[s as usize].reason = Some(PendingReason::PowerCap);
                    events.push(Event::Suspended {
                        job: self.jobs[s as usize].spec.id,
                    });
                }
            }
        }
        // Room again: restore clocks, highest priority first.
        for &s in running.iter().rev() {
            let j = &self.jobs[s as usize];
            if j.state != JobState::Running || j.clock >= 1.0 {
                continue;
            }
            let extra: Vec<(u16, f64)> = j
                .draw
                .iter()
                .map(|&(b, kw)| (b, kw * (1.0 - j.clock)))
                .collect();
            let room = self.building_room_kw();
            let fits_b = extra
                .iter()
                .all(|&(b, kw)| room[usize::from(b)] >= kw - 1e-6);
            let total: f64 = extra.iter().map(|e| e.1).sum();
            if fits_b && self.campus_room_kw() >= total - 1e-6 {
                self.set_clock(s, 1.0);
                events.push(Event::Throttled {
                    job: self.jobs[s as usize].spec.id,
                    clock: 1.0,
                });
            }
        }
    }

    fn set_clock(&mut self, slot: u32, clock: f64) {
        let j = &mut self.jobs[slot as usize];
        for &(b, kw) in &j.draw {
            self.building_draw_kw[usize::from(b)] += kw * (clock - j.clock);
        }
        j.clock = clock;
    }

    // ---- reservations ---------------------------------------------------------

    fn reserve(&mut self, spec: ReservationSpec) -> Result<(), CommandError> {
        if spec.id as usize != self.reservations.len() {
            return Err(if (spec.id as usize) < self.reservations.len() {
                CommandError::DuplicateReservation(spec.id)
            } else {
                CommandError::BadReservation {
                    id: spec.id,
                    why: format!(
                        "ids are given in order; next is {}",
                        self.reservations.len()
                    ),
                }
            });
        }
        if spec.end <= spec.start {
            return Err(CommandError::BadReservation {
                id: spec.id,
                why: "end must be after start".into(),
            });
        }
        spec.trays.iter().try_for_each(|&t| self.check_tray(t))?;
        if let Some(&t) = spec.trays.iter().find(|&&t| {
            self.trays[t as usize].reservation.is_some()
                || self
                    .reservations
                    .iter()
                    .any(|r| !r.ended && r.spec.trays.contains(&t))
        }) {
            return Err(CommandError::BadReservation {
                id: spec.id,
                why: format!("tray {t} is already reserved"),
            });
        }
        let owner = match &spec.owner {
            None => None,
            Some(name) => {
                Some(
                    self.tenants
                        .lookup(name)
                        .ok_or_else(|| CommandError::BadReservation {
                            id: spec.id,
                            why: format!("unknown owner `{name}`"),
                        })?,
                )
            }
        };
        let mut pool = FreeIndex::empty(&self.topo);
        pool.init_histograms(&self.topo);
        self.pools.push(pool);
        self.reservations.push(Reservation {
            spec,
            owner,
            pool: self.pools.len() - 1,
            active: false,
            ended: false,
        });
        Ok(())
    }

    pub(crate) fn tick_reservations(&mut self, now: Time, events: &mut Vec<Event>) {
        for r in 0..self.reservations.len() {
            let res = &self.reservations[r];
            if !res.active && !res.ended && now >= res.spec.start {
                self.reservations[r].active = true;
                let trays = self.reservations[r].spec.trays.clone();
                let maintenance = self.reservations[r].owner.is_none();
                for &t in &trays {
                    self.set_tray(t, |s| s.reservation = Some(r as u32));
                    if maintenance {
                        let mut owners: Vec<u32> = self
                            .topo
                            .tray_gpu_range(abilene_model::TrayId(t))
                            .map(|g| self.gpu_owner[g as usize])
                            .filter(|&o| o != NO_JOB)
                            .collect();
                        owners.dedup();
                        for o in owners {
                            if self.jobs[o as usize].state == JobState::Running {
                                let lost = self.requeue(now, o);
                                events.push(Event::Preempted {
                                    job: self.jobs[o as usize].spec.id,
                                    by: None,
                                    lost_work: lost,
                                });
                            }
                        }
                    }
                }
                events.push(Event::ReservationStarted { id: r as u32 });
            }
            let res = &self.reservations[r];
            if res.active && now >= res.spec.end {
                self.reservations[r].active = false;
                self.reservations[r].ended = true;
                let trays = self.reservations[r].spec.trays.clone();
                for t in trays {
                    self.set_tray(t, |s| s.reservation = None);
                }
                events.push(Event::ReservationEnded { id: r as u32 });
            }
        }
    }

    // ---- queries ----------------------------------------------------------------

    /// The slot of a job that has not finished.
    fn live(&self, id: JobId) -> Option<u32> {
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

    /// The trays a running job holds (gangs, then spares).
    pub fn job_trays(&self, id: JobId) -> Vec<u32> {
        self.live(id).map_or_else(Vec::new, |s| {
            let j = &self.jobs[s as usize];
            j.gangs
                .iter()
                .flat_map(|g| g.trays.iter().copied())
                .chain(j.spares.iter().copied())
                .collect()
        })
    }

    pub fn job_spares(&self, id: JobId) -> Vec<u32> {
        self.live(id)
            .map_or_else(Vec::new, |s| self.jobs[s as usize].spares.clone())
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

    pub fn is_quarantined(&self, tray: u32) -> bool {
        self.trays.get(tray as usize).is_some_and(|s| s.quarantined)
    }

    /// Projected draw in kW: idle trays plus running jobs, per building.
    pub fn building_draw_kw(&self) -> Vec<f64> {
        self.building_idle_kw
            .iter()
            .zip(&self.building_draw_kw)
            .map(|(a, b)| a + b)
            .collect()
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
                        + j.draw.capacity() * size_of::<(u16, f64)>()
                        + j.spec.project.capacity()
                        + j.spec.sku.capacity()
                })
                .sum::<usize>();
        let sets = (self.pending.len() + self.ids.len() + self.deadlines.len()) * 48
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

/// kW each building, and the campus, may still add under their power caps.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Room {
    pub buildings: Vec<f64>,
    pub campus: f64,
}

impl Room {
    pub fn limited(&self) -> bool {
        self.campus.is_finite() || self.buildings.iter().any(|r| r.is_finite())
    }

    /// The placement limit for one tray of `sku`; None when no cap binds.
    pub fn for_sku<'a>(&'a self, s: &Scheduler, sku: u16) -> Option<PowerRoom<'a>> {
        self.limited().then(|| PowerRoom {
            building_kw: &self.buildings,
            campus_kw: self.campus,
            tray_kw: s.job_tray_kw(sku),
        })
    }

    /// Counts a gang's draw against the room.
    pub fn take(&mut self, s: &Scheduler, sku: u16, g: &Gang) {
        let gpt = f64::from(s.topo.sku_gpus_per_tray[usize::from(sku)]);
        let share = g.tray_share(gpt);
        let kw = s.job_tray_kw(sku) * share;
        for &t in &g.trays {
            self.buildings[usize::from(s.topo.tray_building[t as usize])] -= kw;
            self.campus -= kw;
        }
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
