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

use std::collections::BTreeMap;

use crate::event::{Event, PendingReason};
use crate::job::{JobId, Time};
use crate::placement::Need;
use crate::queue::PassMemo;
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

/// Counts over the pending queue that let a pass tell, per SKU and before
/// walking it, that none of its jobs can start: the shapes that wait, the
/// charges, and how many name a reservation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct WaitingIndex {
    needs: BTreeMap<(u16, Need), u32>,
    charges: BTreeMap<(u16, u64), u32>,
    reserved: BTreeMap<u16, u32>,
}

impl WaitingIndex {
    fn add(&mut self, w: &Waiting) {
        *self.needs.entry((w.sku, w.need)).or_default() += 1;
        *self.charges.entry((w.sku, w.charge)).or_default() += 1;
        if w.reserved {
            *self.reserved.entry(w.sku).or_default() += 1;
        }
    }

    fn remove(&mut self, w: &Waiting) {
        fn down<K: Ord>(map: &mut BTreeMap<K, u32>, k: K) {
            if let Some(n) = map.get_mut(&k) {
                *n -= 1;
                if *n == 0 {
                    map.remove(&k);
                }
            }
        }
        down(&mut self.needs, (w.sku, w.need));
        down(&mut self.charges, (w.sku, w.charge));
        if w.reserved {
            down(&mut self.reserved, w.sku);
        }
    }

    /// The largest charge of a pending job of `sku`.
    fn max_charge(&self, sku: u16) -> u64 {
        self.charges
            .range((sku, 0)..=(sku, u64::MAX))
            .next_back()
            .map_or(0, |(&(_, c), _)| c)
    }
}

/// What the quick answers of one pass share.
#[derive(Default)]
pub(crate) struct Quick {
    /// Per SKU, [`Scheduler::no_victims`], as of the last start.
    pub no_victims: Vec<bool>,
    /// Per SKU, whether none of its pending jobs can start: no victims, no
    /// reservation named, and no waiting shape whose first gang the
    /// counters let fit. Then, once the SKU has a head whose `extra`
    /// covers the largest charge, every job of it whose chain has room for
    /// that charge too is told "resources" without another question.
    pub stuck: Vec<bool>,
    /// Per SKU, the largest charge of its pending jobs.
    pub max_charge: Vec<u64>,
    /// Per SKU, whether the head's `extra` covers `max_charge`, once known.
    pub extra_covers: Vec<Option<bool>>,
    /// Per tenant node and SKU (`node * skus + sku`), whether its chain's
    /// headroom covers the SKU's `max_charge`, once known.
    pub room_covers: Vec<Option<bool>>,
    /// Quick answers whose refused preemptions have not yet spent their
    /// attempts, in queue order.
    pub deferred: Vec<u32>,
}

impl Verdict {
    /// The reason this verdict tells, naming nodes of `tree`.
    fn reason(self, tree: &crate::tenant::TenantTree) -> PendingReason {
        match self {
            Verdict::Quota(block) => PendingReason::Quota {
                node: tree.names[block as usize].clone(),
            },
            Verdict::Priority(behind) => PendingReason::Priority { behind },
            Verdict::Resources => PendingReason::Resources,
        }
    }

    /// Whether `reason` is what this verdict tells, in `tree`.
    fn tells(self, reason: Option<&PendingReason>, tree: &crate::tenant::TenantTree) -> bool {
        let known = match self {
            Verdict::Quota(b) => (b as usize) < tree.names.len(),
            _ => true,
        };
        known && reason == Some(&self.reason(tree))
    }
}

impl Scheduler {
    /// 7. The quick answer's records: one queued record per pending job,
    ///    with the job's inputs, a verdict (when trusted) that tells its
    ///    reason, and counts that match the records.
    pub(crate) fn check_waiting(&self) -> Result<(), String> {
        let mut index = WaitingIndex::default();
        for (slot, j) in self.jobs.iter().enumerate() {
            let w = self.waiting.get(slot).copied().unwrap_or_default();
            let pending = j.state == crate::scheduler::JobState::Pending;
            if w.queued != pending {
                return Err(format!(
                    "{} is {:?} but its waiting record says queued={}",
                    j.spec.id, j.state, w.queued
                ));
            }
            if !pending {
                continue;
            }
            let fresh = Waiting::of(j, self.charge_of(slot as u32));
            let same = (w.reserved, w.node, w.sku, w.need, w.charge, w.remaining)
                == (
                    fresh.reserved,
                    fresh.node,
                    fresh.sku,
                    fresh.need,
                    fresh.charge,
                    fresh.remaining,
                );
            if !same {
                return Err(format!(
                    "the waiting record of {} drifted from the job",
                    j.spec.id
                ));
            }
            if let Some(v) = w.verdict
                && w.epoch == self.verdict_epoch
                && !v.tells(j.reason.as_ref(), &self.tenants)
            {
                return Err(format!(
                    "the verdict of {} does not tell its reason",
                    j.spec.id
                ));
            }
            index.add(&w);
        }
        if index != self.waiting_index {
            return Err("the counts of waiting shapes, charges or reservations drifted".into());
        }
        Ok(())
    }

    /// Files a job that joins the pending queue.
    pub(crate) fn note_waiting(&mut self, slot: u32) {
        self.note_not_waiting(slot);
        let w = Waiting::of(&self.jobs[slot as usize], self.charge_of(slot));
        let i = slot as usize;
        if self.waiting.len() <= i {
            self.waiting.resize(i + 1, Waiting::default());
        }
        self.waiting_index.add(&w);
        self.waiting[i] = w;
    }

    /// Takes a job that leaves the pending queue off the quick answer.
    pub(crate) fn note_not_waiting(&mut self, slot: u32) {
        if let Some(w) = self.waiting.get_mut(slot as usize)
            && w.queued
        {
            w.queued = false;
            self.waiting_index.remove(w);
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
        memo: &mut PassMemo,
        quick: &mut Quick,
        events: &mut Vec<Event>,
    ) -> bool {
        let w = self.waiting[slot as usize];
        if self.surely_resources(&w, slot, quick, memo) {
            if attempts > 0 {
                quick.deferred.push(slot);
            }
            self.give_verdict(slot, &w, Verdict::Resources, events);
            return true;
        }
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
        self.give_verdict(slot, &w, verdict, events);
        true
    }

    /// Tells a job its verdict, unless it was told just that already.
    fn give_verdict(&mut self, slot: u32, w: &Waiting, verdict: Verdict, events: &mut Vec<Event>) {
        if w.verdict == Some(verdict) && w.epoch == self.verdict_epoch {
            return;
        }
        let reason = verdict.reason(&self.tenants);
        self.set_reason(slot, reason, events);
        let epoch = self.verdict_epoch;
        let w = &mut self.waiting[slot as usize];
        w.verdict = Some(verdict);
        w.epoch = epoch;
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
        memo: &mut PassMemo,
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

    /// What [`Quick`] holds, worked out again: at a full pass's start and
    /// after each start in it (victims, free capacity, usage and the
    /// head's `extra` may all have moved).
    pub(crate) fn refresh_quick(&self, quick: &mut Quick, memo: &mut PassMemo) {
        let skus = self.topo.skus as u16;
        quick.no_victims.clear();
        quick
            .no_victims
            .extend((0..skus).map(|s| self.no_victims(s)));
        quick.stuck.clear();
        quick.stuck.extend((0..skus).map(|s| {
            quick.no_victims[usize::from(s)] && !self.waiting_index.reserved.contains_key(&s)
        }));
        for &(sku, need) in self.waiting_index.needs.keys() {
            let i = usize::from(sku);
            if quick.stuck[i] && self.need_may_fit(sku, need, GENERAL, memo) {
                quick.stuck[i] = false;
            }
        }
        quick.max_charge.clear();
        quick
            .max_charge
            .extend((0..skus).map(|s| self.waiting_index.max_charge(s)));
        quick.extra_covers.clear();
        quick.extra_covers.resize(usize::from(skus), None);
        quick.room_covers.clear();
        quick
            .room_covers
            .resize(self.tenants.len() * usize::from(skus), None);
    }

    /// Whether a job of a stuck SKU is told "resources" at once: the SKU
    /// has its head, whose `extra` covers every pending charge (so none is
    /// held back behind it), and the job's chain has room for every
    /// pending charge (so none is blocked by quota).
    fn surely_resources(
        &self,
        w: &Waiting,
        slot: u32,
        quick: &mut Quick,
        memo: &mut PassMemo,
    ) -> bool {
        let s = usize::from(w.sku);
        if !quick.stuck[s] {
            return false;
        }
        let Some(h) = self.heads[s].filter(|h| h.job != slot) else {
            return false;
        };
        let max = quick.max_charge[s];
        let extra = *quick.extra_covers[s].get_or_insert(h.extra >= max);
        if !extra {
            return false;
        }
        let i = w.node as usize * self.topo.skus + s;
        let Some(known) = quick.room_covers.get_mut(i) else {
            return false;
        };
        *known.get_or_insert_with(|| {
            self.chain_headroom(w.node, w.sku, memo)
                .is_some_and(|h| h >= max)
        })
    }
}
