//! Warm spares, kept up as operators keep them: a job that used a spare,
//! or restarted with fewer than it asked for, gets them back from free
//! capacity (a repaired tray rejoins free capacity) at the next pass with
//! room, nearest first; a job left with none says so.

use crate::event::Event;
use crate::job::JobKind;
use crate::placement::{self, Need};
use crate::scheduler::{JobState, Scheduler};

impl Scheduler {
    /// Spare trays a running job asked for and does not hold.
    fn spares_missing(&self, slot: u32) -> u32 {
        let j = &self.jobs[slot as usize];
        if j.state != JobState::Running || j.spec.kind != JobKind::Training {
            return 0;
        }
        j.spec.spare_trays.saturating_sub(j.spares.len() as u32)
    }

    /// Files a job whose spares changed: short ones are topped up later;
    /// one that asked for spares and has none left says so.
    pub(crate) fn note_spares(&mut self, slot: u32, events: &mut Vec<Event>) {
        if self.spares_missing(slot) > 0 {
            self.spares_short.insert(slot);
            // The next pass looks for free trays to make up the spares.
            self.dirty = true;
        } else {
            self.spares_short.remove(&slot);
        }
        let j = &self.jobs[slot as usize];
        if j.spec.spare_trays > 0 && j.spares.is_empty() && j.state == JobState::Running {
            events.push(Event::SparesExhausted { job: j.spec.id });
        }
    }

    /// Tops up short jobs' spares from their pool's free trays: first in
    /// the NVLink domains their gangs use (a spare there can stand in for
    /// any tray of a group), then wherever best fit puts them. Within the
    /// quota chain, as any GPU the job holds.
    pub(crate) fn replenish_spares(&mut self, events: &mut Vec<Event>) {
        let short: Vec<u32> = self.spares_short.iter().copied().collect();
        for slot in short {
            let missing = self.spares_missing(slot);
            if missing == 0 {
                self.spares_short.remove(&slot);
                continue;
            }
            let j = &self.jobs[slot as usize];
            let (node, sku, pool) = (j.node, j.sku, j.pool);
            let gpt = u64::from(self.topo.sku_gpus_per_tray[usize::from(sku)]);
            let none = |_| 0;
            let mut room = missing;
            while room > 0
                && self
                    .tenants
                    .blocking_node(node, sku, u64::from(room) * gpt, &none)
                    .is_some()
            {
                room -= 1;
            }
            let trays = self.free_trays_near(slot, room);
            if trays.is_empty() {
                continue;
            }
            let spare_gang = crate::scheduler::Gang {
                trays: trays.clone(),
                mask: 0,
            };
            self.hold_gang(slot, pool, &spare_gang);
            self.charge(slot, trays.len() as u64 * gpt);
            self.jobs[slot as usize].spares.extend(&trays);
            let id = self.jobs[slot as usize].spec.id;
            events.push(Event::SpareAdded {
                job: id,
                trays: self.tray_names(&trays),
            });
            if self.spares_missing(slot) == 0 {
                self.spares_short.remove(&slot);
            }
        }
    }

    /// Up to `n` wholly free trays of a job's SKU in its pool, from the
    /// domains its gangs use first.
    fn free_trays_near(&self, slot: u32, n: u32) -> Vec<u32> {
        let j = &self.jobs[slot as usize];
        let free = &self.pools[j.pool];
        let mut out: Vec<u32> = Vec::new();
        // Most passes of a full campus have no whole tray free: say so from
        // the counters, without walking the job's trays.
        if n == 0 || crate::free::chunks_in(free.campus_hist(j.sku), 1) == 0 {
            return out;
        }
        // The gangs' domains in their trays' order (each gang lists a
        // domain's trays together), stopping once enough are found.
        let mut last = None;
        for &t in j.gangs.iter().flat_map(|g| g.trays.iter()) {
            let d = self.topo.tray_domain[t as usize];
            if last == Some(d) {
                continue;
            }
            last = Some(d);
            let mut mask = free.domain_mask(d);
            while mask != 0 && (out.len() as u32) < n {
                let tray = self.topo.domain_first_tray[d as usize] + mask.trailing_zeros();
                if !out.contains(&tray) {
                    out.push(tray);
                }
                mask &= mask - 1;
            }
            if out.len() as u32 == n {
                return out;
            }
        }
        let rest = n.saturating_sub(out.len() as u32);
        if rest == 0 {
            return out;
        }
        // Elsewhere: best fit for single trays. Asking for as many more as
        // were taken above lets the ones already taken be skipped, without
        // copying the free index.
        let avail = crate::free::chunks_in(free.campus_hist(j.sku), 1) as u32;
        let want = (rest + out.len() as u32).min(avail);
        if want > 0
            && let Some(c) = placement::place(
                free,
                &self.topo,
                j.sku,
                Need::Trays { k: 1, chunks: want },
                None,
            )
        {
            for t in c.trays {
                if (out.len() as u32) < n && !out.contains(&t) {
                    out.push(t);
                }
            }
        }
        out
    }
}
