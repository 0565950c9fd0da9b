//! The scheduling pass: priority and fair-share order, EASY backfill,
//! preemption, runtime limits and service growth.
//!
//! A pass walks the pending queue in order. The first job of a SKU that
//! cannot start becomes that SKU's head: it gets a backfill reservation at
//! the earliest time enough running jobs are expected to end (its shadow
//! time). Jobs behind it start only if they will end before the shadow time
//! or fit in what the head will not need then, so backfill never delays it.
//! When nothing was freed since the last pass, only new jobs are tried, so a
//! stream of submissions costs O(1) each rather than a walk of the queue.
//!
//! A pass over a deep queue on a full campus re-decides mostly "no room", so
//! its steps are cheap where the answer cannot have changed: "cannot fit" is
//! first asked of the free index's counters in O(1); once one job of a shape
//! (SKU, pool, gang shape, gangs, spares) fails to place, the others of that
//! shape fail without a search until something starts; a reason that did not
//! change is neither rebuilt nor stored nor emitted; and only jobs that have
//! no reason yet are walked to mark them beyond the pass's depth. The
//! reference pass (`Scheduler::use_reference_pass`) takes none of these
//! shortcuts; the property tests demand that both give the same events.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::event::{Event, Outcome, PendingReason};
use crate::free::FreeIndex;
use crate::free::chunks_in;
use crate::job::{JobKind, Time};
use crate::placement::{self, Need};
use crate::power::Room;
use crate::scheduler::{GENERAL, Gang, Head, JobState, Scheduler, chosen_to_gangs, place_in};
use crate::tenant::NodeId;
use crate::topo::Topology;

/// Takes a gang's GPUs out of `free`.
pub(crate) fn take_gang(free: &mut FreeIndex, topo: &Topology, g: &Gang) {
    for &t in &g.trays {
        let mask = g.tray_mask(topo, t);
        free.take(topo, t, mask);
    }
}

/// Puts a gang's GPUs back into `free`.
pub(crate) fn release_gang(free: &mut FreeIndex, topo: &Topology, g: &Gang) {
    for &t in &g.trays {
        let mask = g.tray_mask(topo, t);
        free.release(topo, t, mask);
    }
}

impl Scheduler {
    /// One scheduling pass at time `now`.
    pub fn schedule(&mut self, now: Time, events: &mut Vec<Event>) {
        self.expire(now, events);
        self.tick_reservations(now, events);
        if now
            >= self
                .last_fairshare
                .saturating_add(self.config.fairshare_period)
        {
            self.rekey();
            self.last_fairshare = now;
        }
        let full = self.dirty;
        let candidates: Vec<u32> = if full {
            self.heads.iter_mut().for_each(|h| *h = None);
            self.pending
                .iter()
                .take(self.config.queue_depth)
                .map(|&(_, s)| s)
                .collect()
        } else {
            let mut fresh: Vec<u32> = std::mem::take(&mut self.fresh)
                .into_iter()
                .filter(|&s| self.jobs[s as usize].state == JobState::Pending)
                .collect();
            fresh.sort_by_key(|&s| self.jobs[s as usize].key);
            fresh
        };
        self.fresh.clear();
        self.dirty = false;
        let mut attempts = self.config.preemption_attempts;
        let mut memo = PassMemo::default();
        // The quick answer needs the heads this full pass sets, so it is
        // for full passes only.
        let quick = full && !self.reference_pass;
        let mut q = crate::waiting::Quick::default();
        if quick {
            self.refresh_quick(&mut q, &mut memo);
        }
        for slot in candidates {
            if quick {
                if !self.waiting[slot as usize].queued {
                    continue;
                }
                if self.answer_waiting(now, slot, attempts, &mut memo, &mut q, events) {
                    continue;
                }
                self.spend_deferred(now, &mut attempts, &mut memo, &mut q, events);
            }
            if self.jobs[slot as usize].state == JobState::Pending {
                self.try_job(now, slot, &mut attempts, &mut memo, events);
                if self.jobs[slot as usize].state != JobState::Pending {
                    // Something started (and maybe others were preempted):
                    // what failed to fit before may fit now, and quota
                    // usage moved.
                    memo.clear();
                    self.refresh_quick(&mut q, &mut memo);
                }
            }
        }
        self.grow_services(events);
        if full {
            // Capacity was freed (or a tray repaired): top up warm spares.
            self.replenish_spares(events);
            self.mark_beyond_depth(events);
        }
    }

    /// Pending jobs past the pass's depth that have no reason yet are told
    /// they were not considered, in queue order.
    fn mark_beyond_depth(&mut self, events: &mut Vec<Event>) {
        let depth = self.config.queue_depth;
        if self.reference_pass {
            let beyond: Vec<u32> = self.pending.iter().skip(depth).map(|&(_, s)| s).collect();
            for s in beyond {
                if self.jobs[s as usize].reason.is_none() {
                    self.set_reason(s, PendingReason::QueueDepth, events);
                }
            }
            return;
        }
        if self.unreasoned.is_empty() {
            return;
        }
        let Some(&(first_beyond, _)) = self.pending.iter().nth(depth) else {
            return;
        };
        let mut beyond: Vec<(crate::scheduler::QueueKey, u32)> = self
            .unreasoned
            .iter()
            .map(|&s| (self.jobs[s as usize].key, s))
            .filter(|&(k, _)| k >= first_beyond)
            .collect();
        beyond.sort_unstable();
        for (_, s) in beyond {
            self.set_reason(s, PendingReason::QueueDepth, events);
        }
    }

    /// Recomputes every pending job's place in the queue (fair share moves).
    /// Only jobs whose key changed move: most periods move none, and a
    /// rebuild of a deep queue cost a tenth of a congested week. When many
    /// move, the queue is built again from sorted keys instead.
    fn rekey(&mut self) {
        let slots: Vec<u32> = self.pending.iter().map(|&(_, s)| s).collect();
        let mut moved = Vec::new();
        for s in slots {
            let key = self.queue_key(s);
            let old = std::mem::replace(&mut self.jobs[s as usize].key, key);
            if old != key {
                moved.push((old, s));
            }
        }
        if moved.len() > self.pending.len() / 4 {
            let mut all: Vec<_> = self
                .pending
                .iter()
                .map(|&(_, s)| (self.jobs[s as usize].key, s))
                .collect();
            all.sort_unstable();
            self.pending = all.into_iter().collect();
        } else {
            for (old, s) in moved {
                self.pending.remove(&(old, s));
                self.pending.insert((self.jobs[s as usize].key, s));
            }
        }
        self.dirty = true;
    }

    fn expire(&mut self, now: Time, events: &mut Vec<Event>) {
        while let Some(&(deadline, slot)) = self.deadlines.first() {
            if deadline > now {
                break;
            }
            self.stop(now, slot);
            let job = self.jobs[slot as usize].spec.id;
            self.retire(slot);
            events.push(Event::Finished {
                job,
                outcome: Outcome::TimedOut,
            });
        }
    }

    /// Gives a pending job its reason, and tells it in a `Pending` event
    /// when the reason changed, except where only the head a job waits
    /// behind changed: that is kept current in the job's state (what the
    /// API's job view shows) but not sent again. On a congested campus
    /// every start of a head renames the head of every job behind it, and
    /// resending those (~1,400 events a pass in the congested week) was
    /// about 40% of the week, for news a client cannot act on.
    pub(crate) fn set_reason(&mut self, slot: u32, reason: PendingReason, events: &mut Vec<Event>) {
        let job = &mut self.jobs[slot as usize];
        if job.reason.as_ref() != Some(&reason) {
            let new_head_only = matches!(
                (&job.reason, &reason),
                (
                    Some(PendingReason::Priority { .. }),
                    PendingReason::Priority { .. }
                )
            );
            let id = job.spec.id;
            job.reason = Some(reason.clone());
            self.unreasoned.remove(&slot);
            if let Some(w) = self.waiting.get_mut(slot as usize) {
                w.verdict = None;
            }
            if !new_head_only {
                events.push(Event::Pending { job: id, reason });
            }
        }
    }

    /// Sets a quota reason naming node `block`, building the name only if
    /// the reason changes.
    fn set_quota_reason(&mut self, slot: u32, block: u32, events: &mut Vec<Event>) {
        let same = matches!(
            &self.jobs[slot as usize].reason,
            Some(PendingReason::Quota { node }) if *node == self.tenants.names[block as usize]
        );
        if !same {
            let node = self.tenants.names[block as usize].clone();
            self.set_reason(slot, PendingReason::Quota { node }, events);
        }
    }

    /// GPUs a job holds when it runs at its minimum: gangs plus spares.
    pub(crate) fn charge_of(&self, slot: u32) -> u64 {
        let j = &self.jobs[slot as usize];
        let gpt = u64::from(self.topo.sku_gpus_per_tray[usize::from(j.sku)]);
        let gangs = match j.spec.kind {
            JobKind::Training => 1,
            JobKind::Service { min_available, .. } => u64::from(min_available),
        };
        u64::from(j.spec.gpus) * gangs + u64::from(j.spec.spare_trays) * gpt
    }

    fn try_job(
        &mut self,
        now: Time,
        slot: u32,
        attempts: &mut usize,
        memo: &mut PassMemo,
        events: &mut Vec<Event>,
    ) {
        let (node, sku) = (self.jobs[slot as usize].node, self.jobs[slot as usize].sku);
        let pool = match &self.jobs[slot as usize].spec.reservation {
            Some(name) => {
                let Some(res) = self.reservation_named(name) else {
                    return;
                };
                if !res.active {
                    let id = name.clone();
                    self.set_reason(slot, PendingReason::Reservation { id }, events);
                    return;
                }
                res.pool
            }
            None => GENERAL,
        };
        let charge = self.charge_of(slot);
        if let Some(block) = self.quota_block(node, sku, charge, memo) {
            if self.preempt_unless_known(now, slot, pool, attempts, memo, events) {
                return;
            }
            self.set_quota_reason(slot, block, events);
            return;
        }
        let remaining = {
            let j = &self.jobs[slot as usize];
            j.spec.runtime_estimate.saturating_sub(j.committed)
        };
        let mut use_extra = false;
        // The head holds back only jobs behind it in the queue, and only
        // while it still waits.
        let head = self.heads[usize::from(sku)].filter(|h| {
            let hj = &self.jobs[h.job as usize];
            h.job != slot && hj.state == JobState::Pending && hj.key < self.jobs[slot as usize].key
        });
        if pool == GENERAL
            && let Some(h) = head
        {
            let ends_in_time = now.saturating_add(remaining) <= h.shadow;
            if !ends_in_time {
                if charge > h.extra {
                    let behind = self.jobs[h.job as usize].spec.id;
                    self.set_reason(slot, PendingReason::Priority { behind }, events);
                    return;
                }
                use_extra = true;
            }
        }
        // Power room matters only under a cap; skip building it otherwise.
        let room = self.caps_bind().then(|| self.room());
        let shape = self.shape_key(slot, pool);
        let known = memo.failed.get(&shape).copied();
        // A failed search that took nothing left the free index as it was,
        // bucket order included; only such failures may be skipped.
        let mut untouched = true;
        let found = if known.is_some() || !self.may_fit(slot, pool, memo) {
            None
        } else {
            let (found, touched) = self.place_job(slot, pool, room.as_ref());
            untouched = !touched;
            found
        };
        if let Some((gangs, spares)) = found {
            self.start(now, slot, pool, gangs, spares, events);
            if use_extra && let Some(h) = self.heads[usize::from(sku)].as_mut() {
                h.extra -= charge;
            }
            return;
        }
        if self.preempt_unless_known(now, slot, pool, attempts, memo, events) {
            return;
        }
        let fits_unpowered = match known {
            Some(f) => f,
            None if room.is_some() && self.may_fit(slot, pool, memo) => {
                let (fits, touched) = self.place_job_unpowered(slot, pool);
                untouched &= !touched;
                fits
            }
            None => false,
        };
        if !self.reference_pass && known.is_none() && untouched {
            memo.failed.insert(shape, fits_unpowered);
        }
        let reason = if fits_unpowered {
            PendingReason::PowerCap
        } else {
            PendingReason::Resources
        };
        if pool == GENERAL && head.is_none() {
            self.heads[usize::from(sku)] = Some(self.head_for(slot, now));
        }
        self.set_reason(slot, reason, events);
    }

    /// The node below the root whose ceiling `charge` more GPUs of `sku`
    /// would break, first up the chain from `node`. The operator's ceiling
    /// is the campus itself: placement tells whether it fits, and says
    /// "resources", not "quota". Usage moves only when a job starts or
    /// stops, so within a pass the tightest headroom of each chain is
    /// worked out once and most jobs are answered by one comparison.
    pub(crate) fn quota_block(
        &self,
        node: NodeId,
        sku: u16,
        charge: u64,
        memo: &mut PassMemo,
    ) -> Option<NodeId> {
        let none = |_| 0;
        let exact = || {
            self.tenants
                .blocking_node(node, sku, charge, &none)
                .filter(|&b| self.tenants.parent[b as usize].is_some())
        };
        if self.reference_pass {
            return exact();
        }
        match self.chain_headroom(node, sku, memo) {
            Some(h) if charge <= h => None,
            _ => exact(),
        }
    }

    /// The tightest quota headroom of `node`'s chain below the root for
    /// `sku`, worked out once per pass until the next start; None when a
    /// node is already over its ceiling (a guarantee was lowered): then
    /// every charge, even 0, must be asked exactly.
    pub(crate) fn chain_headroom(
        &self,
        node: NodeId,
        sku: u16,
        memo: &mut PassMemo,
    ) -> Option<u64> {
        *memo.headroom.entry((node, sku)).or_insert_with(|| {
            self.tenants
                .chain(node)
                .filter(|&a| self.tenants.parent[a as usize].is_some())
                .map(|a| {
                    self.tenants
                        .ceiling(a, sku)
                        .checked_sub(self.tenants.usage(a, sku))
                })
                .try_fold(u64::MAX, |m, h| h.map(|h| m.min(h)))
        })
    }

    /// [`Scheduler::try_preempt`], answered from the pass's memo when the
    /// counters already refused a job of the same tenant node, SKU, class,
    /// charge and pool since the last start: such a refusal depends on
    /// nothing else, and spends a preemption attempt (if any are left)
    /// exactly when the first one did.
    pub(crate) fn preempt_unless_known(
        &mut self,
        now: Time,
        slot: u32,
        pool: usize,
        attempts: &mut usize,
        memo: &mut PassMemo,
        events: &mut Vec<Event>,
    ) -> bool {
        if self.reference_pass {
            return self.try_preempt(now, slot, pool, attempts, events);
        }
        let j = &self.jobs[slot as usize];
        let key = (
            j.node,
            j.sku,
            j.spec.priority as u8,
            self.charge_of(slot),
            pool,
        );
        let spends = match memo.refused.get(&key) {
            Some(&spends) => spends,
            None => match self.refused_by_counters(slot, pool) {
                Some(spends) => {
                    memo.refused.insert(key, spends);
                    spends
                }
                None => return self.try_preempt(now, slot, pool, attempts, events),
            },
        };
        if spends {
            *attempts = attempts.saturating_sub(1);
        }
        false
    }

    /// What placement of a job's minimum depends on besides the free index
    /// and the power room: its pool, SKU, gang shape, gangs and spares.
    fn shape_key(&self, slot: u32, pool: usize) -> ShapeKey {
        let j = &self.jobs[slot as usize];
        let gangs = match j.spec.kind {
            JobKind::Training => 1,
            JobKind::Service { min_available, .. } => min_available,
        };
        (pool, j.sku, j.need, gangs, j.spec.spare_trays)
    }

    /// False when the free index's counters alone show that not even a
    /// job's first gang can be placed in `pool` (too few free GPUs, too few
    /// chunks of its group size), so that a search would fail having taken
    /// nothing; true when a search is needed. The reference pass always
    /// searches.
    fn may_fit(&self, slot: u32, pool: usize, memo: &mut PassMemo) -> bool {
        if self.reference_pass {
            return true;
        }
        let j = &self.jobs[slot as usize];
        self.need_may_fit(j.sku, j.need, pool, memo)
    }

    /// [`Scheduler::may_fit`] for a first gang of `need` GPUs of `sku`.
    pub(crate) fn need_may_fit(
        &self,
        sku: u16,
        need: Need,
        pool: usize,
        memo: &mut PassMemo,
    ) -> bool {
        let free = &self.pools[pool];
        match need {
            Need::Gpus(g) => free.free_gpus(sku) >= u64::from(g),
            Need::Trays { k, chunks } if pool == GENERAL => {
                memo.chunks_of(free, sku, k as usize) >= u64::from(chunks)
            }
            Need::Trays { k, chunks } => {
                chunks_in(free.campus_hist(sku), k as usize) >= u64::from(chunks)
            }
        }
    }

    /// Whether a job's minimum would fit `pool` without power caps, and
    /// whether trying disturbed the index's bucket order.
    fn place_job_unpowered(&mut self, slot: u32, pool: usize) -> (bool, bool) {
        let mut free = std::mem::take(&mut self.pools[pool]);
        let (found, touched) = self.place_min_traced(&mut free, slot, None);
        self.pools[pool] = free;
        (found.is_some(), touched)
    }

    /// Finds GPUs in `pool` for a job's minimum, without keeping them; says
    /// too whether the search took (and gave back) any GPUs on the way,
    /// which leaves the index's bucket order changed.
    pub(crate) fn place_job(
        &mut self,
        slot: u32,
        pool: usize,
        room: Option<&Room>,
    ) -> (Option<Found>, bool) {
        let mut free = std::mem::take(&mut self.pools[pool]);
        let found = self.place_min_traced(&mut free, slot, room);
        self.pools[pool] = free;
        found
    }

    /// Finds GPUs in `free` for a job's minimum (its gang and spares, or
    /// `min_available` replicas) and leaves `free` as it found it. With
    /// `rooms`, placement respects power caps.
    pub(crate) fn place_min(
        &self,
        free: &mut FreeIndex,
        slot: u32,
        room: Option<&Room>,
    ) -> Option<(Vec<Gang>, Vec<u32>)> {
        self.place_min_traced(free, slot, room).0
    }

    /// [`Scheduler::place_min`], and whether it took any GPUs on the way.
    fn place_min_traced(
        &self,
        free: &mut FreeIndex,
        slot: u32,
        room: Option<&Room>,
    ) -> (Option<Found>, bool) {
        let j = &self.jobs[slot as usize];
        let (sku, need, spares) = (j.sku, j.need, j.spec.spare_trays);
        let gangs = match j.spec.kind {
            JobKind::Training => 1,
            JobKind::Service { min_available, .. } => min_available,
        };
        // Each replica's draw counts against the room of the next.
        let mut room = room.cloned();
        let mut taken: Vec<Gang> = Vec::new();
        let mut ok = true;
        for _ in 0..gangs {
            let power = room.as_ref().and_then(|r| r.for_sku(self, sku));
            match placement::place(free, &self.topo, sku, need, power) {
                Some(c) => {
                    let g = chosen_to_gangs(c);
                    if let Some(r) = room.as_mut() {
                        r.take(self, sku, &g);
                    }
                    take_gang(free, &self.topo, &g);
                    taken.push(g);
                }
                None => {
                    ok = false;
                    break;
                }
            }
        }
        let mut spare_trays = Vec::new();
        // A first start takes every spare it asked for; a restart after an
        // interruption takes what is free and gets the rest back later, so
        // that it never waits for all of its spares at once.
        let spares = if j.front {
            spares.min(crate::free::chunks_in(free.campus_hist(sku), 1) as u32)
        } else {
            spares
        };
        if ok && spares > 0 {
            // Spares idle until used: they need no power room.
            match placement::place(
                free,
                &self.topo,
                sku,
                Need::Trays {
                    k: 1,
                    chunks: spares,
                },
                None,
            ) {
                Some(c) => spare_trays = c.trays,
                None => ok = false,
            }
        }
        for g in taken.iter().rev() {
            release_gang(free, &self.topo, g);
        }
        let touched = !taken.is_empty();
        (ok.then_some((taken, spare_trays)), touched)
    }

    /// The backfill reservation for a blocked job: when enough running jobs
    /// of its SKU are expected to have ended, and what it leaves over then.
    pub(crate) fn head_for(&self, slot: u32, now: Time) -> Head {
        let sku = self.jobs[slot as usize].sku;
        let need = self.charge_of(slot);
        let mut have = self.pools[GENERAL].free_gpus(sku);
        if have >= need {
            // Blocked by shape, not count: the next end may reshape it.
            let shadow = self.running_by_end[usize::from(sku)]
                .first()
                .map_or(now, |&(t, _)| t.max(now));
            return Head {
                job: slot,
                shadow,
                extra: have - need,
            };
        }
        for &(end, s) in &self.running_by_end[usize::from(sku)] {
            if self.jobs[s as usize].pool == GENERAL {
                have += self.jobs[s as usize].charged;
            }
            if have >= need {
                return Head {
                    job: slot,
                    shadow: end.max(now),
                    extra: have - need,
                };
            }
        }
        // Cannot be met by ends alone (trays down or reserved): do not hold
        // others back for it.
        Head {
            job: slot,
            shadow: Time::MAX,
            extra: u64::MAX,
        }
    }

    /// Adds replicas to running services that have fewer than they want.
    fn grow_services(&mut self, events: &mut Vec<Event>) {
        let short: Vec<u32> = self.services_short.iter().copied().collect();
        for slot in short {
            loop {
                let j = &self.jobs[slot as usize];
                let JobKind::Service { replicas, .. } = j.spec.kind else {
                    break;
                };
                if j.state != JobState::Running || j.gangs.len() as u32 >= replicas {
                    self.services_short.remove(&slot);
                    break;
                }
                let (node, sku, need, pool) = (j.node, j.sku, j.need, j.pool);
                let gpus = u64::from(j.spec.gpus);
                let none = |_| 0;
                if self.tenants.blocking_node(node, sku, gpus, &none).is_some() {
                    break;
                }
                let room = self.caps_bind().then(|| self.room());
                let Some(c) = place_in(self, pool, sku, need, room.as_ref()) else {
                    break;
                };
                let g = chosen_to_gangs(c);
                self.add_replica(slot, g, events);
            }
        }
    }
}

/// A placement found for a job's minimum: its gangs and spare trays.
type Found = (Vec<Gang>, Vec<u32>);

/// A job's placement shape: pool, SKU, gang shape, gangs and spare trays.
type ShapeKey = (usize, u16, Need, u32, u32);

/// Shapes that failed to place in this pass since the last start, each with
/// whether it would have fit without the power caps.
type FailedShapes = HashMap<ShapeKey, bool, Fx>;

/// Preemption refusals by (node, SKU, class, charge, pool): whether each
/// spent an attempt.
type Refusals = HashMap<(NodeId, u16, u8, u64, usize), bool, Fx>;

/// A fast hash for the pass's small memo keys (FxHash's mix): the memo is
/// asked once per candidate, and SipHash or a B-tree of tuples cost more
/// than the answer saves. Only looked up, never iterated, so the order of
/// decisions does not depend on it.
type Fx = BuildHasherDefault<FxHasher>;

#[derive(Default)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u8(&mut self, v: u8) {
        self.write_u64(u64::from(v));
    }
    fn write_u16(&mut self, v: u16) {
        self.write_u64(u64::from(v));
    }
    fn write_u32(&mut self, v: u32) {
        self.write_u64(u64::from(v));
    }
    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64);
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// What a pass learnt that holds until the next start: shapes that failed,
/// each (node, SKU) chain's tightest quota headroom below the root, and
/// preemptions the counters refused. Bounded by the distinct keys of the
/// pass's candidates, so by its depth.
#[derive(Default)]
pub(crate) struct PassMemo {
    failed: FailedShapes,
    headroom: HashMap<(NodeId, u16), Option<u64>, Fx>,
    refused: Refusals,
    /// Chunks of k whole trays in the general pool, per SKU and k (by the
    /// histogram's width); `UNKNOWN` until asked. Summing the histogram
    /// (a division per bucket) for every candidate was most of a deep pass.
    chunks: Vec<u64>,
}

const UNKNOWN: u64 = u64::MAX;

impl PassMemo {
    fn clear(&mut self) {
        self.failed.clear();
        self.headroom.clear();
        self.refused.clear();
        self.chunks.clear();
    }

    /// [`chunks_in`] of `free`'s campus histogram of `sku`, worked out once
    /// per SKU and k until the next start.
    fn chunks_of(&mut self, free: &FreeIndex, sku: u16, k: usize) -> u64 {
        let hist = free.campus_hist(sku);
        let w = hist.len();
        if k >= w {
            return 0;
        }
        let i = usize::from(sku) * w + k;
        if self.chunks.len() <= i {
            self.chunks.resize((usize::from(sku) + 1) * w, UNKNOWN);
        }
        if self.chunks[i] == UNKNOWN {
            self.chunks[i] = chunks_in(hist, k);
        }
        self.chunks[i]
    }
}
