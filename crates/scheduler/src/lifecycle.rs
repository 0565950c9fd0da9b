//! A job's life: admission, the queue key, start, stop, requeue, retirement.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use crate::event::{Event, Outcome, Placement};
use crate::job::{JobId, JobKind, JobSpec, Time};
use crate::placement::Need;
use crate::reject::{Reject, ShapeProblem};
use crate::scheduler::{GENERAL, Gang, Job, JobState, QueueKey, RETIRED, Scheduler};
use crate::tenant::NodeId;
use crate::views::History;

impl Scheduler {
    // ---- submit, end -----------------------------------------------------

    pub(crate) fn submit(&mut self, now: Time, spec: JobSpec) -> Result<(), Reject> {
        if self.ids.contains_key(&spec.id) {
            return Err(Reject::DuplicateJob { job: spec.id });
        }
        let id = spec.id;
        let (node, sku, need) = self.admit(&spec)?;
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
            submitted: now,
            history: History::default(),
        };
        if slot as usize == self.jobs.len() {
            self.jobs.push(job);
        } else {
            self.jobs[slot as usize] = job;
        }
        self.ids.insert(id, slot);
        self.index_job(node, id, true);
        self.enqueue(slot);
        self.fresh.push(slot);
        Ok(())
    }

    /// Adds a live job to (or removes it from) the index of its own
    /// node's jobs; a subtree's listing merges its nodes' sets.
    pub(crate) fn index_job(&mut self, node: NodeId, id: JobId, add: bool) {
        if add {
            self.by_node[node as usize].insert(id);
        } else {
            self.by_node[node as usize].remove(&id);
        }
    }

    /// Live jobs whose node is `n` or below it.
    pub(crate) fn live_jobs_under(&self, n: NodeId) -> u64 {
        (0..self.tenants.len() as NodeId)
            .filter(|&m| self.tenants.is_under(m, n))
            .map(|m| self.by_node[m as usize].len() as u64)
            .sum()
    }

    /// Whether `spec` would be admitted now, without submitting it: the
    /// twin checks its scenario's jobs with this at load time.
    pub fn check_submit(&self, spec: &JobSpec) -> Result<(), Reject> {
        if self.ids.contains_key(&spec.id) {
            return Err(Reject::DuplicateJob { job: spec.id });
        }
        self.admit(spec).map(|_| ())
    }

    /// Checks a job against the campus and the tenancy; returns its tenant
    /// node, SKU and shape, or why it can never run.
    fn admit(&self, spec: &JobSpec) -> Result<(NodeId, u16, Need), Reject> {
        let node = self
            .tenants
            .lookup(&spec.project)
            .ok_or_else(|| Reject::UnknownTenant {
                name: spec.project.clone(),
            })?;
        if self.tenants.is_retired(node) {
            return Err(Reject::RetiredTenant {
                name: spec.project.clone(),
            });
        }
        let sku = self
            .topo
            .sku_index(&spec.sku)
            .ok_or_else(|| Reject::UnknownSku {
                sku: spec.sku.clone(),
                known: self.topo.sku_keys.join(", "),
            })?;
        check_counts(spec)?;
        if let Some(r) = &spec.reservation {
            self.check_reservation(spec, r, node)?;
        }
        let need = self.shape_of(spec, sku)?;
        self.check_size(spec, node, sku)?;
        Ok((node, sku, need))
    }

    /// A job's shape on its SKU: GPUs on one tray, or chunks of whole
    /// trays each inside an NVLink domain; or why it has none.
    fn shape_of(&self, spec: &JobSpec, sku: u16) -> Result<Need, Reject> {
        let shape = |problem| Reject::Shape {
            job: spec.id,
            problem,
        };
        let gpt = u32::from(self.topo.sku_gpus_per_tray[usize::from(sku)]);
        let dom = u32::from(self.topo.sku_domain_trays[usize::from(sku)]);
        if spec.gpus < gpt {
            if spec.spare_trays > 0 {
                return Err(shape(ShapeProblem::SparesNeedWholeTrays));
            }
            return Ok(Need::Gpus(spec.gpus));
        }
        if !spec.gpus.is_multiple_of(gpt) {
            return Err(shape(ShapeProblem::NotWholeTrays {
                gpus: spec.gpus,
                per_tray: gpt,
                sku: spec.sku.clone(),
            }));
        }
        let trays = spec.gpus / gpt;
        let tp = spec.tp_gpus.max(gpt);
        if !tp.is_multiple_of(gpt) {
            return Err(shape(ShapeProblem::GroupNotWholeTrays {
                tp_gpus: spec.tp_gpus,
                per_tray: gpt,
            }));
        }
        let k = (tp / gpt).max(spec.segment_trays).max(1);
        if k > dom {
            return Err(shape(ShapeProblem::GroupTooLarge {
                group_trays: k,
                domain_trays: dom,
            }));
        }
        if !trays.is_multiple_of(k) {
            return Err(shape(ShapeProblem::Indivisible {
                trays,
                group_trays: k,
            }));
        }
        Ok(Need::Trays {
            k,
            chunks: trays / k,
        })
    }

    /// A job may name only a reservation held by its node or a parent.
    fn check_reservation(&self, spec: &JobSpec, r: &str, node: NodeId) -> Result<(), Reject> {
        let res = self
            .reservation_named(r)
            .ok_or_else(|| Reject::UnknownReservation { id: r.to_string() })?;
        if res
            .owner
            .is_none_or(|o| !self.tenants.chain(node).any(|a| a == o))
        {
            return Err(Reject::BadReservation {
                id: r.to_string(),
                why: format!("it is not held by `{}` or its parents", spec.project),
            });
        }
        Ok(())
    }

    /// What a job holds at its minimum must fit the campus and every
    /// ceiling of its tenant chain.
    fn check_size(&self, spec: &JobSpec, node: NodeId, sku: u16) -> Result<(), Reject> {
        let gpt = u32::from(self.topo.sku_gpus_per_tray[usize::from(sku)]);
        let per_gang = u64::from(spec.gpus);
        let gangs = match spec.kind {
            JobKind::Training => 1,
            JobKind::Service { min_available, .. } => u64::from(min_available),
        };
        let want = per_gang
            .saturating_mul(gangs)
            .saturating_add(u64::from(spec.spare_trays).saturating_mul(u64::from(gpt)));
        let capacity = self.topo.capacity()[usize::from(sku)];
        if want > capacity {
            return Err(Reject::Shape {
                job: spec.id,
                problem: ShapeProblem::LargerThanCampus {
                    gpus: want,
                    sku: spec.sku.clone(),
                    capacity,
                },
            });
        }
        let (limit, ceiling) = self
            .tenants
            .chain(node)
            .map(|a| (a, self.tenants.ceiling(a, sku)))
            .min_by_key(|&(_, c)| c)
            .unwrap_or((0, 0));
        if want > ceiling {
            return Err(Reject::OverQuota {
                node: self.tenants.names[limit as usize].clone(),
                sku: spec.sku.clone(),
                want,
                ceiling,
            });
        }
        Ok(())
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
        if self.jobs[slot as usize].reason.is_none() {
            self.unreasoned.insert(slot);
        }
        self.note_waiting(slot);
    }

    fn dequeue(&mut self, slot: u32) {
        let key = self.jobs[slot as usize].key;
        self.pending.remove(&(key, slot));
        self.unreasoned.remove(&slot);
        self.note_not_waiting(slot);
    }

    pub(crate) fn end_job(
        &mut self,
        now: Time,
        id: JobId,
        outcome: Outcome,
        events: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let slot = self.live(id).ok_or(Reject::UnknownJob { job: id })?;
        match self.jobs[slot as usize].state {
            JobState::Done => return Err(Reject::UnknownJob { job: id }),
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
        let (node, id) = (
            self.jobs[slot as usize].node,
            self.jobs[slot as usize].spec.id,
        );
        self.index_job(node, id, false);
        let job = &mut self.jobs[slot as usize];
        job.state = JobState::Done;
        // The id stays known (as finished) so it cannot be reused.
        self.ids.insert(job.spec.id, RETIRED);
        job.spec.project = String::new();
        job.spec.sku = String::new();
        job.gangs = Vec::new();
        job.spares = Vec::new();
        job.draw = Vec::new();
        job.history = History::default();
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
        self.charge(slot, charge);
        let mut draw: BTreeMap<u16, i64> = BTreeMap::new();
        for g in &gangs {
            let w = self.gang_tray_w(sku, g);
            for &t in &g.trays {
                *draw.entry(self.topo.tray_building[t as usize]).or_default() += w;
            }
        }
        let draw: Vec<(u16, i64)> = draw.into_iter().collect();
        self.power.apply(&draw, 1.0, 1);
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
        job.draw = draw;
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
        self.note_spares(slot, events);
    }

    pub(crate) fn describe(&self, j: &Job) -> Placement {
        let mut trays: Vec<u32> = j
            .gangs
            .iter()
            .flat_map(|g| g.trays.iter().copied())
            .collect();
        trays.sort_unstable();
        // Domains, leaf groups and buildings are contiguous ranges of trays
        // in that order, so sorted trays meet each once, in a run: count
        // the runs.
        let (mut domains, mut units, mut buildings) = (0u32, 0u32, 0u32);
        let mut last: Option<(u32, u32, u16)> = None;
        for &t in &trays {
            let d = self.topo.tray_domain[t as usize];
            let u = self.topo.domain_unit[d as usize];
            let b = self.topo.unit_building[u as usize];
            domains += u32::from(last.is_none_or(|l| l.0 != d));
            units += u32::from(last.is_none_or(|l| l.1 != u));
            buildings += u32::from(last.is_none_or(|l| l.2 != b));
            last = Some((d, u, b));
        }
        let gpus = j.gangs.len() as u32 * j.spec.gpus;
        let mut halls: Vec<(String, u32)> = Vec::new();
        let mut last_hall = None;
        for &t in &trays {
            let h = self.campus.trays[t as usize].hall;
            if last_hall == Some(h) {
                if let Some(e) = halls.last_mut() {
                    e.1 += 1;
                }
            } else {
                halls.push((self.campus.hall_name(h), 1));
                last_hall = Some(h);
            }
        }
        Placement {
            trays: self.tray_names(&trays),
            gpus,
            spares: self.tray_names(&j.spares),
            halls,
            domains,
            leaf_groups: units,
            buildings,
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
        self.release(slot, charged);
        self.jobs[slot as usize].borrowed = false;
        for g in &gangs {
            self.free_gang(g);
        }
        self.free_gang(&Gang {
            trays: spares,
            mask: 0,
        });
        self.power.apply(&draw, clock, -1);
        self.deadlines.remove(&(deadline, slot));
        self.running_by_end[usize::from(sku)].remove(&(est_end, slot));
        self.services_short.remove(&slot);
        self.spares_short.remove(&slot);
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
}

/// Counts no job may have: no GPUs, no runtime limit, a service's minimum
/// of none or more than its replicas.
fn check_counts(spec: &JobSpec) -> Result<(), Reject> {
    let shape = |problem| Reject::Shape {
        job: spec.id,
        problem,
    };
    if spec.gpus == 0 {
        return Err(shape(ShapeProblem::NoGpus));
    }
    if spec.runtime_limit == 0 {
        return Err(shape(ShapeProblem::ZeroRuntimeLimit));
    }
    if let JobKind::Service {
        replicas,
        min_available,
    } = spec.kind
        && (min_available == 0 || min_available > replicas)
    {
        return Err(shape(ShapeProblem::Replicas {
            replicas,
            min_available,
        }));
    }
    Ok(())
}
