//! The pass's quick answer for a job that cannot start.
//!
//! On a saturated campus almost every candidate of a pass is a job that
//! cannot start: the free index's counters show its shape fits nowhere and
//! no running job of its SKU could be preempted. Its reason then follows
//! from three things only: its quota chain, the SKU's head and its own
//! charge and remaining time. Each pending job keeps those inputs in a
//! small [`Waiting`] record, beside the verdict it was last given, so that
//! such a candidate is answered without touching its [`crate::scheduler::Job`]
//! (a cache miss each, and the bulk of a deep pass) and, when the verdict
//! did not change, without building a reason to compare. Any candidate the
//! quick answer cannot settle goes through the ordinary `try_job`; the
//! reference pass never takes it, and the property tests demand both give
//! the same events.

use crate::event::{Event, PendingReason};
use crate::job::{JobId, Time};
use crate::placement::Need;
use crate::scheduler::{GENERAL, Job, PRIORITIES, Scheduler};
use crate::tenant::NodeId;

/// What a pass last told a pending job, in a form that is cheap to compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Quota(NodeId),
    Priority(JobId),
    Resources,
}

/// A pending job's inputs to the quick answer, fixed while it waits.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Waiting {
    /// In the pending queue.
    pub queued: bool,
    /// Names a reservation: always answered by `try_job`.
    pub reserved: bool,
    pub node: NodeId,
    pub sku: u16,
    pub need: Need,
    /// GPUs it holds at its minimum (gangs and spares).
    pub charge: u64,
    /// Its run time estimate less the work it has kept.
    pub remaining: Time,
    /// The job's reason as last answered here; None when it is not known
    /// to match (a new job, or a reason set elsewhere).
    pub verdict: Option<Verdict>,
    /// The tenancy epoch the verdict was given in (a new tree may number
    /// its nodes differently).
    pub epoch: u32,
}

impl Default for Need {
    fn default() -> Self {
        Need::Gpus(0)
    }
}

impl Waiting {
    pub(crate) fn of(job: &Job, charge: u64) -> Waiting {
        Waiting {
            queued: true,
            reserved: job.spec.reservation.is_some(),
            node: job.node,
            sku: job.sku,
            need: job.need,
            charge,
            remaining: job.spec.runtime_estimate.saturating_sub(job.committed),
            verdict: None,
            epoch: 0,
        }
    }
}

/// What the quick answers of one pass share.
#[derive(Default)]
pub(crate) struct Quick {
    /// Per SKU, [`Scheduler::no_victims`], as of the last start.
    pub no_victims: Vec<bool>,
    /// Quick answers whose refused preemptions have not yet spent their
    /// attempts, in queue order.
    pub deferred: Vec<u32>,
}

impl Scheduler {
    /// Files a job that joins the pending queue.
    pub(crate) fn note_waiting(&mut self, slot: u32) {
        let w = Waiting::of(&self.jobs[slot as usize], self.charge_of(slot));
        let i = slot as usize;
        if self.waiting.len() <= i {
            self.waiting.resize(i + 1, Waiting::default());
        }
        self.waiting[i] = w;
    }

    /// Takes a job that leaves the pending queue off the quick answer.
    pub(crate) fn note_not_waiting(&mut self, slot: u32) {
        if let Some(w) = self.waiting.get_mut(slot as usize) {
            w.queued = false;
        }
    }

    /// Whether no running job of `sku` could be a victim: no preemptible
    /// training job of it runs anywhere (the root's counters hold them
    /// all). Then every preemption for the SKU is refused by the counters.
    pub(crate) fn no_victims(&self, sku: u16) -> bool {
        let base = usize::from(sku) * PRIORITIES;
        self.borrowed_preemptible_gpus[usize::from(sku)] == 0
            && self.preemptible_gpus[base..base + PRIORITIES]
                .iter()
                .all(|&g| g == 0)
    }

    /// The quick answer for the pending job in `slot` in a full pass, when
    /// it cannot start: true when it was answered (reason, head, spent
    /// attempts, all as `try_job` would have), false when `try_job` must.
    pub(crate) fn answer_waiting(
        &mut self,
        now: Time,
        slot: u32,
        attempts: usize,
        memo: &mut crate::queue::PassMemo,
        quick: &mut Quick,
        events: &mut Vec<Event>,
    ) -> bool {
        let w = self.waiting[slot as usize];
        if w.reserved
            || !quick.no_victims[usize::from(w.sku)]
            || self.need_may_fit(w.sku, w.need, GENERAL, memo)
        {
            return false;
        }
        // From here the job cannot start: its first gang fits nowhere, so
        // every search fails having taken nothing, and no preemption
        // finds a victim. What is left to account for is the attempts its
        // refused preemption spends: that matters only to a later job the
        // quick answer cannot settle, so the refusal is deferred to just
        // before that job ([`Scheduler::spend_deferred`]), when nothing has
        // changed since.
        let mut refuse = || {
            if attempts > 0 {
                quick.deferred.push(slot);
            }
        };
        let verdict = match self.quota_block(w.node, w.sku, w.charge, memo) {
            Some(block) => {
                refuse();
                Verdict::Quota(block)
            }
            None => {
                let head = self.heads[usize::from(w.sku)].filter(|h| h.job != slot);
                match head {
                    Some(h) if now.saturating_add(w.remaining) > h.shadow && w.charge > h.extra => {
                        Verdict::Priority(self.jobs[h.job as usize].spec.id)
                    }
                    _ => {
                        refuse();
                        if head.is_none() {
                            self.heads[usize::from(w.sku)] = Some(self.head_for(slot, now));
                        }
                        Verdict::Resources
                    }
                }
            }
        };
        if w.verdict != Some(verdict) || w.epoch != self.verdict_epoch {
            let reason = match verdict {
                Verdict::Quota(block) => PendingReason::Quota {
                    node: self.tenants.names[block as usize].clone(),
                },
                Verdict::Priority(behind) => PendingReason::Priority { behind },
                Verdict::Resources => PendingReason::Resources,
            };
            self.set_reason(slot, reason, events);
            let epoch = self.verdict_epoch;
            let w = &mut self.waiting[slot as usize];
            w.verdict = Some(verdict);
            w.epoch = epoch;
        }
        true
    }

    /// Spends the attempts that the deferred refusals of quick answers
    /// would have spent, in their order, as `try_job` would have at each.
    /// The state is as it was when they were deferred: only a start
    /// changes it, and a start comes only from `try_job`, which this
    /// precedes.
    pub(crate) fn spend_deferred(
        &mut self,
        now: Time,
        attempts: &mut usize,
        memo: &mut crate::queue::PassMemo,
        quick: &mut Quick,
        events: &mut Vec<Event>,
    ) {
        for slot in quick.deferred.drain(..) {
            if *attempts == 0 {
                break;
            }
            let started = self.preempt_unless_known(now, slot, GENERAL, attempts, memo, events);
            debug_assert!(!started, "a job with no victims preempted");
        }
        quick.deferred.clear();
    }

    /// Whether each SKU has no victims, for [`Quick::no_victims`].
    pub(crate) fn refresh_victims(&self, quick: &mut Quick) {
        quick.no_victims.clear();
        quick
            .no_victims
            .extend((0..self.topo.skus as u16).map(|s| self.no_victims(s)));
    }
}
