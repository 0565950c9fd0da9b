//! The invariants the scheduler must keep, checked from scratch.
//!
//! Tests call [`Scheduler::check_invariants`] after every step (in the spirit
//! of TigerBeetle's assertions): no GPU is given twice, a gang holds all of
//! its GPUs or none, every free GPU is indexed exactly where placement looks
//! for it, and quota usage is what the running jobs hold and within limits.

use crate::free::FreeIndex;
use crate::job::JobKind;
use crate::placement::Need;
use crate::scheduler::{JobState, NO_JOB, PRIORITIES, Scheduler};

impl Scheduler {
    pub fn check_invariants(&self) -> Result<(), String> {
        let topo = &self.topo;
        // 1. Ownership: each GPU held by at most one job, as recorded.
        let mut owner = vec![NO_JOB; self.gpu_owner.len()];
        for (slot, j) in self.jobs.iter().enumerate() {
            let holds = !j.gangs.is_empty() || !j.spares.is_empty();
            if j.state != JobState::Running {
                if holds {
                    return Err(format!("{} is {:?} but holds GPUs", j.spec.id, j.state));
                }
                continue;
            }
            let mut held = 0u64;
            let spares = crate::scheduler::Gang {
                trays: j.spares.clone(),
                mask: 0,
            };
            for g in j.gangs.iter().chain(std::iter::once(&spares)) {
                for &t in &g.trays {
                    let mask = g.tray_mask(topo, t);
                    let first = topo.tray_first_gpu[t as usize];
                    for i in 0..64u32 {
                        if mask & (1 << i) != 0 {
                            let gpu = (first + i) as usize;
                            if owner[gpu] != NO_JOB {
                                return Err(format!(
                                    "GPU {gpu} given to slots {} and {slot}",
                                    owner[gpu]
                                ));
                            }
                            owner[gpu] = slot as u32;
                            held += 1;
                        }
                    }
                }
            }
            if held != j.charged {
                return Err(format!(
                    "{} holds {held} GPUs but is charged {}",
                    j.spec.id, j.charged
                ));
            }
            // 2. Gangs whole: every gang has its full shape.
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
                    Need::Trays { k, chunks } => {
                        if g.trays.len() as u32 != k * chunks || g.mask != 0 {
                            return Err(format!(
                                "{} gang has {} trays, needs {}",
                                j.spec.id,
                                g.trays.len(),
                                k * chunks
                            ));
                        }
                        let mut per_domain: std::collections::BTreeMap<u32, u32> =
                            Default::default();
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
                    }
                }
            }
        }
        if owner != self.gpu_owner {
            return Err("gpu_owner disagrees with the jobs' placements".into());
        }
        // 3. Free index: exactly the idle GPUs of available trays, by pool.
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
            pool.check_buckets(topo)
                .map_err(|e| format!("pool {p}: {e}"))?;
            for s in 0..topo.skus as u16 {
                if pool.free_gpus(s) != fresh.free_gpus(s)
                    || pool.campus_hist(s) != fresh.campus_hist(s)
                {
                    return Err(format!(
                        "pool {p}: counts for SKU {s} drifted from the trays"
                    ));
                }
                for b in 0..topo.buildings() as u16 {
                    if pool.building_hist(b, s) != fresh.building_hist(b, s) {
                        return Err(format!("pool {p}: building {b} histogram drifted"));
                    }
                }
            }
            for u in 0..topo.units() as u32 {
                if pool.unit_hist(u) != fresh.unit_hist(u) {
                    return Err(format!("pool {p}: leaf group {u} histogram drifted"));
                }
            }
        }
        // 4. Quota: usage is what running jobs hold, within every ceiling.
        let mut usage = vec![vec![0u64; topo.skus]; self.tenants.len()];
        let mut guaranteed = vec![vec![0u64; topo.skus]; self.tenants.len()];
        let mut borrowed = vec![0u64; topo.skus];
        for j in self.jobs.iter().filter(|j| j.state == JobState::Running) {
            for a in self.tenants.chain(j.node) {
                usage[a as usize][usize::from(j.sku)] += j.charged;
                if !j.borrowed {
                    guaranteed[a as usize][usize::from(j.sku)] += j.charged;
                }
            }
            if j.borrowed {
                borrowed[usize::from(j.sku)] += j.charged;
            }
        }
        for (n, row) in usage.iter().enumerate() {
            for (s, &u) in row.iter().enumerate() {
                let (n32, s16) = (n as u32, s as u16);
                if self.tenants.usage(n32, s16) != u {
                    return Err(format!(
                        "{}: usage {} but jobs hold {u}",
                        self.tenants.names[n],
                        self.tenants.usage(n32, s16)
                    ));
                }
                if self.tenants.guaranteed_usage(n32, s16) != guaranteed[n][s] {
                    return Err(format!(
                        "{}: guaranteed usage drifted",
                        self.tenants.names[n]
                    ));
                }
                if u > self.tenants.ceiling(n32, s16) {
                    return Err(format!(
                        "{}: uses {u} of SKU {s}, over its ceiling {}",
                        self.tenants.names[n],
                        self.tenants.ceiling(n32, s16)
                    ));
                }
            }
        }
        if borrowed != self.borrowed_gpus {
            return Err("borrowed GPU counts drifted".into());
        }
        let mut preemptible = vec![0u64; self.preemptible_gpus.len()];
        for j in self.jobs.iter().filter(|j| j.state == JobState::Running) {
            if j.spec.preemptible && j.spec.kind == JobKind::Training {
                for a in self.tenants.chain(j.node) {
                    preemptible[(a as usize * topo.skus + usize::from(j.sku)) * PRIORITIES
                        + j.spec.priority as usize] += j.charged;
                }
            }
        }
        if preemptible != self.preemptible_gpus {
            return Err("preemptible GPU counts drifted".into());
        }
        // 5. Queue: exactly the pending jobs, each under its key.
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
        Ok(())
    }
}
