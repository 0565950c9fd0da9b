//! The invariants the scheduler must keep, checked from scratch.
//!
//! Tests call [`Scheduler::check_invariants`] after every step (in the spirit
//! of TigerBeetle's assertions): no GPU is given twice, a gang holds all of
//! its GPUs or none, every free GPU is indexed exactly where placement looks
//! for it, and quota usage is what the running jobs hold and within limits.
//! Each invariant has its own function below, in that order.

use std::collections::BTreeMap;

use crate::free::FreeIndex;
use crate::job::JobKind;
use crate::placement::Need;
use crate::scheduler::{Gang, Job, JobState, NO_JOB, PRIORITIES, Scheduler};

type Check = Result<(), String>;

impl Scheduler {
    /// Checks every invariant from scratch; the first broken one is named.
    pub fn check_invariants(&self) -> Check {
        self.check_ownership()?;
        self.check_free_index()?;
        self.check_quota()?;
        self.check_counters()?;
        self.check_queue()?;
        self.check_waiting()
    }

    /// 1. Ownership: each GPU held by at most one job, as recorded, and
    ///    2. every running job's gangs have their full shape.
    fn check_ownership(&self) -> Check {
        let mut owner = vec![NO_JOB; self.gpu_owner.len()];
        for (slot, j) in self.jobs.iter().enumerate() {
            let holds = !j.gangs.is_empty() || !j.spares.is_empty();
            if j.state != JobState::Running {
                if holds {
                    return Err(format!("{} is {:?} but holds GPUs", j.spec.id, j.state));
                }
                continue;
            }
            let held = self.claim_gpus(&mut owner, slot as u32, j)?;
            if held != j.charged {
                return Err(format!(
                    "{} holds {held} GPUs but is charged {}",
                    j.spec.id, j.charged
                ));
            }
            self.check_gangs_whole(j)?;
        }
        if owner != self.gpu_owner {
            return Err("gpu_owner disagrees with the jobs' placements".into());
        }
        Ok(())
    }

    /// Marks a running job's GPUs (gangs and spares) as its own in `owner`;
    /// returns how many it holds, or the first GPU found owned twice.
    fn claim_gpus(&self, owner: &mut [u32], slot: u32, j: &Job) -> Result<u64, String> {
        let topo = &self.topo;
        let mut held = 0u64;
        let spares = Gang {
            trays: j.spares.clone(),
            mask: 0,
        };
        for g in j.gangs.iter().chain(std::iter::once(&spares)) {
            for &t in &g.trays {
                let mask = g.tray_mask(topo, t);
                let first = topo.tray_first_gpu[t as usize];
                for i in (0..64u32).filter(|i| mask & (1 << i) != 0) {
                    let gpu = (first + i) as usize;
                    if owner[gpu] != NO_JOB {
                        return Err(format!(
                            "GPU {gpu} given to slots {} and {slot}",
                            owner[gpu]
                        ));
                    }
                    owner[gpu] = slot;
                    held += 1;
                }
            }
        }
        Ok(held)
    }

    /// 2. Gangs whole: a running job has as many gangs as its kind allows,
    ///    each of its full shape, groups inside one NVLink domain, on its SKU.
    fn check_gangs_whole(&self, j: &Job) -> Check {
        let want_gangs = match j.spec.kind {
            JobKind::Training => 1..=1,
            JobKind::Service {
                replicas,
                min_available,
            } => min_available as usize..=replicas as usize,
        };
        if !want_gangs.contains(&j.gangs.len()) {
            return Err(format!(
                "{} runs {} gangs, wants {:?}",
                j.spec.id,
                j.gangs.len(),
                want_gangs
            ));
        }
        for g in &j.gangs {
            match j.need {
                Need::Gpus(n) => {
                    if g.trays.len() != 1 || g.mask.count_ones() != n {
                        return Err(format!(
                            "{} sub-tray gang is not {n} GPUs on one tray",
                            j.spec.id
                        ));
                    }
                }
                Need::Trays { k, chunks } => self.check_tray_gang(j, g, k, chunks)?,
            }
        }
        Ok(())
    }

    fn check_tray_gang(&self, j: &Job, g: &Gang, k: u32, chunks: u32) -> Check {
        let topo = &self.topo;
        if g.trays.len() as u32 != k * chunks || g.mask != 0 {
            return Err(format!(
                "{} gang has {} trays, needs {}",
                j.spec.id,
                g.trays.len(),
                k * chunks
            ));
        }
        let mut per_domain: BTreeMap<u32, u32> = BTreeMap::new();
        for &t in &g.trays {
            *per_domain.entry(topo.tray_domain[t as usize]).or_default() += 1;
            if topo.sku_of_tray(t).0 != j.sku {
                return Err(format!("{} got tray {t} of another SKU", j.spec.id));
            }
        }
        if per_domain.values().any(|&n| n % k != 0) {
            return Err(format!(
                "{} has a group of {k} trays split across NVLink domains",
                j.spec.id
            ));
        }
        Ok(())
    }

    /// 3. Free index: exactly the idle GPUs of available trays, by pool, and
    ///    every bucket, count and histogram as a rebuild from the trays has it.
    fn check_free_index(&self) -> Check {
        let topo = &self.topo;
        let mut rebuilt: Vec<FreeIndex> = self
            .pools
            .iter()
            .map(|_| {
                let mut f = FreeIndex::empty(topo);
                f.init_histograms(topo);
                f
            })
            .collect();
        for t in 0..self.trays.len() as u32 {
            let idle = self.idle_mask(t);
            for (p, pool) in self.pools.iter().enumerate() {
                let expect = if self.available(t) && self.pool_of(t) == p {
                    idle
                } else {
                    0
                };
                if pool.tray_free_mask(t) != expect {
                    return Err(format!(
                        "tray {t}: pool {p} has free mask {:b}, expected {:b}",
                        pool.tray_free_mask(t),
                        expect
                    ));
                }
                if expect != 0 {
                    rebuilt[p].release(topo, t, expect);
                }
            }
        }
        for (p, (pool, fresh)) in self.pools.iter().zip(&rebuilt).enumerate() {
            self.check_pool_counts(pool, fresh)
                .map_err(|e| format!("pool {p}: {e}"))?;
        }
        Ok(())
    }

    /// One pool's buckets, counts and histograms against a rebuilt `fresh`.
    fn check_pool_counts(&self, pool: &FreeIndex, fresh: &FreeIndex) -> Check {
        let topo = &self.topo;
        pool.check_buckets(topo)?;
        for s in 0..topo.skus as u16 {
            if pool.free_gpus(s) != fresh.free_gpus(s)
                || pool.campus_hist(s) != fresh.campus_hist(s)
            {
                return Err(format!("counts for SKU {s} drifted from the trays"));
            }
            for b in 0..topo.buildings() as u16 {
                if pool.building_hist(b, s) != fresh.building_hist(b, s) {
                    return Err(format!("building {b} histogram drifted"));
                }
            }
        }
        for u in 0..topo.units() as u32 {
            if pool.unit_hist(u) != fresh.unit_hist(u) {
                return Err(format!("leaf group {u} histogram drifted"));
            }
        }
        Ok(())
    }

    /// 4. Quota: every node's usage (and guaranteed usage) is what running
    ///    jobs in its subtree hold, within its ceiling.
    fn check_quota(&self) -> Check {
        let skus = self.topo.skus;
        let mut usage = vec![vec![0u64; skus]; self.tenants.len()];
        let mut guaranteed = vec![vec![0u64; skus]; self.tenants.len()];
        for j in self.running() {
            for a in self.tenants.chain(j.node) {
                usage[a as usize][usize::from(j.sku)] += j.charged;
                if !j.borrowed {
                    guaranteed[a as usize][usize::from(j.sku)] += j.charged;
                }
            }
        }
        for (n, row) in usage.iter().enumerate() {
            let name = &self.tenants.names[n];
            for (s, &u) in row.iter().enumerate() {
                let (n32, s16) = (n as u32, s as u16);
                let recorded = self.tenants.usage(n32, s16);
                if recorded != u {
                    return Err(format!("{name}: usage {recorded} but jobs hold {u}"));
                }
                if self.tenants.guaranteed_usage(n32, s16) != guaranteed[n][s] {
                    return Err(format!("{name}: guaranteed usage drifted"));
                }
                let ceiling = self.tenants.ceiling(n32, s16);
                if u > ceiling {
                    return Err(format!(
                        "{name}: uses {u} of SKU {s}, over its ceiling {ceiling}"
                    ));
                }
            }
        }
        Ok(())
    }

    /// 5. Counters: borrowed GPUs per SKU and preemptible GPUs per node, SKU
    ///    and class are what the running jobs add up to.
    fn check_counters(&self) -> Check {
        let skus = self.topo.skus;
        let mut borrowed = vec![0u64; skus];
        let mut borrowed_preemptible = vec![0u64; skus];
        let mut preemptible = vec![0u64; self.preemptible_gpus.len()];
        for j in self.running() {
            let may_preempt = j.spec.preemptible && j.spec.kind == JobKind::Training;
            if j.borrowed {
                borrowed[usize::from(j.sku)] += j.charged;
                if may_preempt {
                    borrowed_preemptible[usize::from(j.sku)] += j.charged;
                }
            }
            if may_preempt {
                for a in self.tenants.chain(j.node) {
                    preemptible[(a as usize * skus + usize::from(j.sku)) * PRIORITIES
                        + j.spec.priority as usize] += j.charged;
                }
            }
        }
        if borrowed != self.borrowed_gpus || borrowed_preemptible != self.borrowed_preemptible_gpus
        {
            return Err("borrowed GPU counts drifted".into());
        }
        if preemptible != self.preemptible_gpus {
            return Err("preemptible GPU counts drifted".into());
        }
        Ok(())
    }

    /// 6. Queue: exactly the pending jobs, each under its key.
    fn check_queue(&self) -> Check {
        let pending = self
            .jobs
            .iter()
            .filter(|j| j.state == JobState::Pending)
            .count();
        if pending != self.pending.len() {
            return Err(format!(
                "{pending} jobs pending but {} queued",
                self.pending.len()
            ));
        }
        for &(key, slot) in &self.pending {
            if self.jobs[slot as usize].key != key
                || self.jobs[slot as usize].state != JobState::Pending
            {
                return Err(format!("queue entry for slot {slot} is stale"));
            }
        }
        let unreasoned: std::collections::BTreeSet<u32> = self
            .pending
            .iter()
            .map(|&(_, s)| s)
            .filter(|&s| self.jobs[s as usize].reason.is_none())
            .collect();
        if unreasoned != self.unreasoned {
            return Err("the set of pending jobs without a reason drifted".into());
        }
        Ok(())
    }

    fn running(&self) -> impl Iterator<Item = &Job> {
        self.jobs.iter().filter(|j| j.state == JobState::Running)
    }
}
