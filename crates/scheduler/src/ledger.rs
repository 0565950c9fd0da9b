//! Quota accounting: the one way to charge and release a job's GPUs.
//!
//! A charge moves, together, the job's own count, every tenant node's usage
//! up the chain (and its guaranteed usage when the job is not borrowing),
//! the campus-wide borrowed count and the per-class preemptible counters
//! that make preemption bounds O(1).

use crate::job::{JobKind, Priority};
use crate::scheduler::{PRIORITIES, Scheduler};
use crate::tenant::NodeId;

impl Scheduler {
    /// Charges a job `gpus` more GPUs.
    pub(crate) fn charge(&mut self, slot: u32, gpus: u64) {
        self.account(slot, gpus, true);
    }

    /// Gives `gpus` of a job's GPUs back.
    pub(crate) fn release(&mut self, slot: u32, gpus: u64) {
        self.account(slot, gpus, false);
    }

    fn account(&mut self, slot: u32, n: u64, add: bool) {
        let j = &self.jobs[slot as usize];
        let (node, sku, borrowed) = (j.node, j.sku, j.borrowed);
        let preemptible = (j.spec.preemptible && j.spec.kind == JobKind::Training)
            .then_some(j.spec.priority as usize);
        if add {
            self.tenants.charge(node, sku, n, borrowed);
        } else {
            self.tenants.refund(node, sku, n, borrowed);
        }
        let apply = |x: &mut u64| {
            debug_assert!(add || *x >= n, "released more than was charged");
            if add { *x += n } else { *x -= n }
        };
        if borrowed {
            apply(&mut self.borrowed_gpus[usize::from(sku)]);
            if preemptible.is_some() {
                apply(&mut self.borrowed_preemptible_gpus[usize::from(sku)]);
            }
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
}
