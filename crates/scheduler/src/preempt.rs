//! Preemption: taking GPUs back for a job that is owed them.
//!
//! A job inside its guaranteed quota reclaims capacity that others borrow; a
//! higher priority class may also preempt lower, preemptible work of its own
//! tenant. Victims are tried cheapest first (lowest priority, least work lost
//! since their last checkpoint, newest) on a copy of the free index, adding
//! more each round, until the job fits; then only the victims whose GPUs the
//! job actually lands on, or whose quota it needs, are preempted.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use crate::event::{Event, PendingReason};
use crate::job::{JobKind, Time};
use crate::scheduler::{Gang, JobState, Scheduler};
use crate::tenant::NodeId;

/// The building a victim's first gang starts in: where its GPUs count.
fn home_of(s: &Scheduler, slot: u32) -> u16 {
    let j = &s.jobs[slot as usize];
    j.gangs
        .first()
        .and_then(|g| g.trays.first())
        .map_or(0, |&t| s.topo.tray_building[t as usize])
}

/// Buildings ranked for a victim search: free plus reclaimable GPUs each,
/// the order (most first) and each building's rank in it.
struct BuildingRanks {
    room: Vec<u64>,
    order: Vec<u16>,
    rank: Vec<u16>,
}

impl Scheduler {
    /// Tries to start `slot` by preempting others; true if it started.
    /// Searches cost a copy of the free index, so jobs not owed their
    /// guarantee spend one of the pass's `attempts`; owed jobs always try.
    pub(crate) fn try_preempt(
        &mut self,
        now: Time,
        slot: u32,
        pool: usize,
        attempts: &mut usize,
        events: &mut Vec<Event>,
    ) -> bool {
        let (node, sku) = (self.jobs[slot as usize].node, self.jobs[slot as usize].sku);
        let charge = self.charge_of(slot);
        let none = |_| 0;
        let owed = self.tenants.within_guarantee(node, sku, charge, &none);
        if !self.preemption_could_help(slot, pool) {
            return false;
        }
        if !owed {
            if *attempts == 0 {
                return false;
            }
            *attempts -= 1;
            // A job not owed its guarantee may preempt only lower classes:
            // with none running anywhere, there is nobody to look for (the
            // attempt is spent all the same, as the search would spend it).
            let prio = self.jobs[slot as usize].spec.priority;
            if !self.reference_pass && self.preemptible_below(0, sku, prio) == 0 {
                return false;
            }
        }
        if !self.reference_pass && !self.victims_may_exist(slot) {
            return false;
        }
        let mut candidates = self.victim_candidates(slot, pool, owed);
        if candidates.is_empty() {
            return false;
        }
        let reachable: u64 = candidates
            .iter()
            .map(|&s| self.jobs[s as usize].charged)
            .sum::<u64>()
            + self.pools[pool].free_gpus(sku);
        if reachable < charge {
            return false;
        }
        let home = |s: u32| home_of(self, s);
        let ranks = self.rank_buildings(pool, sku, &candidates);
        // Borrowed capacity first, then lower classes; within them, the
        // best building, the least work lost, the newest.
        candidates.sort_by_key(|&s| {
            let v = &self.jobs[s as usize];
            (
                !v.borrowed,
                v.spec.priority,
                ranks.rank[usize::from(home(s))],
                self.progress(s, now).1,
                Reverse(v.seq),
            )
        });
        // First within the fewest buildings that could hold the job, then
        // anywhere.
        let mut cumulative = 0u64;
        let mut allowed = vec![false; ranks.room.len()];
        for &b in &ranks.order {
            allowed[usize::from(b)] = true;
            cumulative += ranks.room[usize::from(b)];
            if cumulative >= charge {
                break;
            }
        }
        let found = self
            .search_victims(slot, pool, &candidates, Some(&allowed), &home)
            .or_else(|| self.search_victims(slot, pool, &candidates, None, &home));
        let Some((gangs, spares, tried)) = found else {
            return false;
        };
        let victims = self.choose_victims(slot, &gangs, &spares, &tried);
        self.preempt_and_start(now, slot, pool, victims, (gangs, spares), events);
        true
    }

    /// When [`Scheduler::try_preempt`] would refuse `slot` from the counters
    /// alone, before any search: Some(whether it spends an attempt, when
    /// one is left). None when only trying tells.
    pub(crate) fn refused_by_counters(&self, slot: u32, pool: usize) -> Option<bool> {
        let j = &self.jobs[slot as usize];
        let (node, sku, prio) = (j.node, j.sku, j.spec.priority);
        let none = |_| 0;
        let owed = self
            .tenants
            .within_guarantee(node, sku, self.charge_of(slot), &none);
        if !self.preemption_could_help(slot, pool) {
            return Some(false);
        }
        if !owed && self.preemptible_below(0, sku, prio) == 0 {
            return Some(true);
        }
        if !self.victims_may_exist(slot) {
            return Some(!owed);
        }
        None
    }

    /// Upper bounds from counters, in O(1): most blocked jobs cannot be
    /// helped by preemption, and they must learn it without a search.
    fn preemption_could_help(&self, slot: u32, pool: usize) -> bool {
        let (node, sku, prio) = {
            let j = &self.jobs[slot as usize];
            (j.node, j.sku, j.spec.priority)
        };
        let charge = self.charge_of(slot);
        let none = |_| 0;
        let tenant = self.tenants.tenant_of(node);
        let lower = self.preemptible_below(tenant, sku, prio);
        let borrowed_by =
            |n: NodeId| self.tenants.usage(n, sku) - self.tenants.guaranteed_usage(n, sku);
        let reclaimable = self.borrowed_gpus[usize::from(sku)].saturating_sub(borrowed_by(node));
        if let Some(x) = self.tenants.blocking_node(node, sku, charge, &none) {
            let headroom = self
                .tenants
                .ceiling(x, sku)
                .saturating_sub(self.tenants.usage(x, sku));
            let under_x = if self.tenants.depth[x as usize] >= 2 {
                self.preemptible_below(x, sku, prio)
                    + borrowed_by(x).saturating_sub(borrowed_by(node))
            } else {
                lower + reclaimable
            };
            if headroom.saturating_add(under_x) < charge {
                return false;
            }
        }
        self.pools[pool].free_gpus(sku) + lower + reclaimable >= charge
    }

    /// False when the counters show [`Scheduler::victim_candidates`] would
    /// be empty, in O(1) instead of its walk of every job: no preemptible
    /// training job of the SKU borrows, and none of a lower class runs in
    /// the job's tenant. A saturated campus whose borrowers cannot be
    /// preempted would otherwise walk the job table for every owed job in
    /// every pass.
    fn victims_may_exist(&self, slot: u32) -> bool {
        let j = &self.jobs[slot as usize];
        let tenant = self.tenants.tenant_of(j.node);
        self.borrowed_preemptible_gpus[usize::from(j.sku)] > 0
            || self.preemptible_below(tenant, j.sku, j.spec.priority) > 0
    }

    /// Running jobs `slot` may preempt: preemptible training jobs of its SKU
    /// and pool that borrow from others (reclaimed by an owed job or a
    /// higher class), or of a lower class in its own tenant.
    fn victim_candidates(&self, slot: u32, pool: usize, owed: bool) -> Vec<u32> {
        let (node, sku, prio) = {
            let j = &self.jobs[slot as usize];
            (j.node, j.sku, j.spec.priority)
        };
        let tenant = self.tenants.tenant_of(node);
        (0..self.jobs.len() as u32)
            .filter(|&s| {
                let v = &self.jobs[s as usize];
                s != slot
                    && v.state == JobState::Running
                    && v.sku == sku
                    && v.pool == pool
                    && v.spec.preemptible
                    && v.spec.kind == JobKind::Training
                    && {
                        let same_tenant = self.tenants.tenant_of(v.node) == tenant;
                        (v.borrowed && v.node != node && (owed || v.spec.priority < prio))
                            || (v.spec.priority < prio && same_tenant)
                    }
            })
            .collect()
    }

    /// Concentrates victims where most can be had, so that a big job spans
    /// as few buildings as it can: buildings by free plus reclaimable GPUs.
    fn rank_buildings(&self, pool: usize, sku: u16, candidates: &[u32]) -> BuildingRanks {
        let gpt = u64::from(self.topo.sku_gpus_per_tray[usize::from(sku)]);
        let mut room: Vec<u64> = (0..self.topo.buildings() as u16)
            .map(|b| {
                let hist = self.pools[pool].building_hist(b, sku);
                hist.iter()
                    .enumerate()
                    .map(|(f, &n)| f as u64 * u64::from(n))
                    .sum::<u64>()
                    * gpt
            })
            .collect();
        for &c in candidates {
            room[usize::from(home_of(self, c))] += self.jobs[c as usize].charged;
        }
        let mut order: Vec<u16> = (0..room.len() as u16).collect();
        order.sort_by_key(|&b| (Reverse(room[usize::from(b)]), b));
        let mut rank = vec![0u16; room.len()];
        for (r, &b) in order.iter().enumerate() {
            rank[usize::from(b)] = r as u16;
        }
        BuildingRanks { room, order, rank }
    }

    /// Of the victims a search `tried`, those that go: every one whose
    /// trays the job lands on (all of them under a power cap, where the
    /// search counted every victim's draw as freed), then just enough of
    /// the others, cheapest first, to satisfy quota.
    fn choose_victims(&self, slot: u32, gangs: &[Gang], spares: &[u32], tried: &[u32]) -> Vec<u32> {
        let (node, sku) = (self.jobs[slot as usize].node, self.jobs[slot as usize].sku);
        let charge = self.charge_of(slot);
        let mut landing: Vec<u32> = gangs
            .iter()
            .flat_map(|g| g.trays.iter().copied())
            .chain(spares.iter().copied())
            .collect();
        landing.sort_unstable();
        let power_bound = self.room().limited();
        let (mut victims, quota_only): (Vec<u32>, Vec<u32>) = tried.iter().partition(|&&v| {
            power_bound
                || self
                    .job_trays_of(v)
                    .iter()
                    .any(|t| landing.binary_search(t).is_ok())
        });
        let mut kept_refund: BTreeMap<NodeId, u64> = BTreeMap::new();
        for &v in &victims {
            for a in self.tenants.chain(self.jobs[v as usize].node) {
                *kept_refund.entry(a).or_default() += self.jobs[v as usize].charged;
            }
        }
        for v in quota_only {
            let refund = |a: NodeId| kept_refund.get(&a).copied().unwrap_or(0);
            if self
                .tenants
                .blocking_node(node, sku, charge, &refund)
                .is_none()
            {
                break;
            }
            for a in self.tenants.chain(self.jobs[v as usize].node) {
                *kept_refund.entry(a).or_default() += self.jobs[v as usize].charged;
            }
            victims.push(v);
        }
        victims
    }

    /// Requeues `victims` (each says at once that it waits behind `slot`)
    /// and starts `slot` on the placement found for it.
    fn preempt_and_start(
        &mut self,
        now: Time,
        slot: u32,
        pool: usize,
        victims: Vec<u32>,
        (gangs, spares): (Vec<Gang>, Vec<u32>),
        events: &mut Vec<Event>,
    ) {
        let by = self.jobs[slot as usize].spec.id;
        for v in victims {
            let lost = self.requeue(now, v);
            events.push(Event::Preempted {
                job: self.jobs[v as usize].spec.id,
                by: Some(by),
                lost_work: lost,
            });
            self.set_reason(v, PendingReason::Priority { behind: by }, events);
        }
        self.start(now, slot, pool, gangs, spares, events);
    }

    /// Adds candidates (in order, doubling each round) to a copy of the pool
    /// until the job fits; with `allowed`, only victims and GPUs in those
    /// buildings count. Returns the placement and the victims tried.
    #[allow(clippy::type_complexity)]
    fn search_victims(
        &self,
        slot: u32,
        pool: usize,
        candidates: &[u32],
        allowed: Option<&[bool]>,
        home: &dyn Fn(u32) -> u16,
    ) -> Option<(Vec<Gang>, Vec<u32>, Vec<u32>)> {
        let (node, sku) = (self.jobs[slot as usize].node, self.jobs[slot as usize].sku);
        let charge = self.charge_of(slot);
        let candidates: Vec<u32> = candidates
            .iter()
            .copied()
            .filter(|&c| allowed.is_none_or(|a| a[usize::from(home(c))]))
            .collect();
        let mut sim = self.pools[pool].clone();
        let mut refunds: BTreeMap<NodeId, u64> = BTreeMap::new();
        let mut room = self.room();
        if let Some(a) = allowed {
            for (b, r) in room.buildings.iter_mut().enumerate() {
                if !a[b] {
                    *r = 0.0;
                }
            }
        }
        let mut added = 0;
        let mut batch = 1;
        loop {
            let upto = (added + batch).min(candidates.len());
            for &v in &candidates[added..upto] {
                self.release_into(&mut sim, pool, v);
                let j = &self.jobs[v as usize];
                for a in self.tenants.chain(j.node) {
                    *refunds.entry(a).or_default() += j.charged;
                }
                for &(b, w) in &j.draw {
                    let kw = crate::power::applied_w(w, j.clock) as f64 / 1000.0;
                    room.buildings[usize::from(b)] += kw;
                    room.campus += kw;
                }
            }
            added = upto;
            batch *= 2;
            let refund = |a: NodeId| refunds.get(&a).copied().unwrap_or(0);
            if self
                .tenants
                .blocking_node(node, sku, charge, &refund)
                .is_none()
                && let Some((gangs, spares)) = self.place_min(&mut sim, slot, Some(&room))
            {
                return Some((gangs, spares, candidates[..added].to_vec()));
            }
            if added >= candidates.len() {
                return None;
            }
        }
    }

    fn job_trays_of(&self, slot: u32) -> Vec<u32> {
        let j = &self.jobs[slot as usize];
        j.gangs
            .iter()
            .flat_map(|g| g.trays.iter().copied())
            .chain(j.spares.iter().copied())
            .collect()
    }

    /// Frees a running job's GPUs in a copy of a pool, as stopping it would.
    fn release_into(&self, sim: &mut crate::free::FreeIndex, pool: usize, slot: u32) {
        let j = &self.jobs[slot as usize];
        let spare_gang = Gang {
            trays: j.spares.clone(),
            mask: 0,
        };
        for g in j.gangs.iter().chain(std::iter::once(&spare_gang)) {
            for &t in &g.trays {
                if self.available(t) && self.pool_of(t) == pool {
                    let mask = g.tray_mask(&self.topo, t);
                    sim.release(&self.topo, t, mask);
                }
            }
        }
    }

    /// Gives a running service one more replica on `gang`.
    pub(crate) fn add_replica(&mut self, slot: u32, gang: Gang, events: &mut Vec<Event>) {
        let (sku, pool) = {
            let j = &self.jobs[slot as usize];
            (j.sku, j.pool)
        };
        let gpus = u64::from(self.jobs[slot as usize].spec.gpus);
        self.hold_gang(slot, pool, &gang);
        let w = self.gang_tray_w(sku, &gang);
        self.charge(slot, gpus);
        let job = &mut self.jobs[slot as usize];
        for &t in &gang.trays {
            let b = self.topo.tray_building[t as usize];
            self.power.adjust(&mut job.draw, b, w, job.clock);
        }
        let id = job.spec.id;
        let trays = self.tray_names(&gang.trays);
        self.jobs[slot as usize].gangs.push(gang);
        events.push(Event::ReplicaStarted { job: id, trays });
    }
}
