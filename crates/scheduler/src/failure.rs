//! Failed trays: warm spares, requeues, lost replicas, lemon quarantine.

use crate::event::{Event, Recovery};
use crate::job::{JobKind, Time};
use crate::placement::Need;
use crate::scheduler::{NO_JOB, Scheduler, full_mask};

impl Scheduler {
    // ---- failures -----------------------------------------------------------

    pub(crate) fn tray_failed(&mut self, now: Time, t: u32, events: &mut Vec<Event>) {
        if self.trays[t as usize].down {
            return;
        }
        self.set_tray(t, |s| s.down = true);
        let history = self.failures.entry(t).or_default();
        history.push(now);
        let window = self.config.lemon_window;
        history.retain(|&when| when.saturating_add(window) > now);
        let count = history.len() as u32;
        if count >= self.config.lemon_failures && !self.trays[t as usize].quarantined {
            self.set_tray(t, |s| s.quarantined = true);
            events.push(Event::TrayQuarantined {
                tray: self.tray_name(t),
                failures: count,
            });
        }
        for slot in self.tray_owners(t) {
            self.job_lost_tray(now, slot, t, events);
        }
    }

    fn job_lost_tray(&mut self, now: Time, slot: u32, t: u32, events: &mut Vec<Event>) {
        let job = &self.jobs[slot as usize];
        // A warm spare that failed is just gone.
        if let Some(pos) = job.spares.iter().position(|&s| s == t) {
            self.release_tray_of(slot, t, None, Some(pos));
            self.note_spares(slot, events);
            return;
        }
        let Some(gang) = job.gangs.iter().position(|g| g.trays.contains(&t)) else {
            return;
        };
        if matches!(job.spec.kind, JobKind::Service { .. }) {
            self.service_lost_tray(now, slot, t, events);
        } else {
            self.training_lost_tray(now, slot, gang, t, events);
        }
    }

    /// Every replica with GPUs on the failed tray is lost, not just one;
    /// below its minimum, the service goes back to the queue.
    fn service_lost_tray(&mut self, now: Time, slot: u32, t: u32, events: &mut Vec<Event>) {
        let id = self.jobs[slot as usize].spec.id;
        while let Some(gi) = self.jobs[slot as usize]
            .gangs
            .iter()
            .position(|g| g.trays.contains(&t))
        {
            self.release_tray_of(slot, t, Some(gi), None);
            events.push(Event::Interrupted {
                job: id,
                tray: self.tray_name(t),
                lost_work: 0,
                recovery: Recovery::ReplicaLost,
            });
        }
        self.services_short.insert(slot);
        let job = &self.jobs[slot as usize];
        if let JobKind::Service { min_available, .. } = job.spec.kind
            && (job.gangs.len() as u32) < min_available
        {
            self.requeue(now, slot);
            events.push(Event::Interrupted {
                job: id,
                tray: self.tray_name(t),
                lost_work: 0,
                recovery: Recovery::Requeued,
            });
        }
    }

    /// Training: swap in a spare from the failed tray's NVLink domain (any
    /// spare will do only when groups are single trays), else requeue.
    fn training_lost_tray(
        &mut self,
        now: Time,
        slot: u32,
        gang: usize,
        t: u32,
        events: &mut Vec<Event>,
    ) {
        let job = &self.jobs[slot as usize];
        let id = job.spec.id;
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
                    tray: self.tray_name(t),
                    lost_work: lost,
                    recovery: Recovery::Spare,
                });
                self.note_spares(slot, events);
            }
            None => {
                let lost = self.requeue(now, slot);
                events.push(Event::Interrupted {
                    job: id,
                    tray: self.tray_name(t),
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
        self.release(slot, gpt);
        let tray_w = self.power.job_tray_w[usize::from(sku)];
        let (from, to) = (
            self.topo.tray_building[failed as usize],
            self.topo.tray_building[spare as usize],
        );
        if from != to {
            let job = &mut self.jobs[slot as usize];
            let clock = job.clock;
            self.power.adjust(&mut job.draw, from, -tray_w, clock);
            self.power.adjust(&mut job.draw, to, tray_w, clock);
        }
    }

    /// The slots of the jobs holding GPUs of tray `t`, each once, in order.
    pub(crate) fn tray_owners(&self, t: u32) -> Vec<u32> {
        let mut owners: Vec<u32> = self
            .topo
            .tray_gpu_range(abilene_model::TrayId(t))
            .map(|g| self.gpu_owner[g as usize])
            .filter(|&o| o != NO_JOB)
            .collect();
        owners.sort_unstable();
        owners.dedup();
        owners
    }

    /// Frees GPUs `mask` of tray `t` in the owner map (0 for all of them).
    pub(crate) fn clear_owner(&mut self, t: u32, mask: u64) {
        let mask = if mask == 0 {
            full_mask(self.topo.tray_gpus[t as usize])
        } else {
            mask
        };
        self.set_owner(t, mask, NO_JOB);
    }

    /// Records `owner` for GPUs `mask` of tray `t`.
    pub(crate) fn set_owner(&mut self, t: u32, mask: u64, owner: u32) {
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
                let w = self.gang_tray_w(sku, &g);
                let b = self.topo.tray_building[x as usize];
                let job = &mut self.jobs[slot as usize];
                let clock = job.clock;
                self.power.adjust(&mut job.draw, b, -w, clock);
            }
            refund = per;
            self.dirty = true;
        }
        self.release(slot, refund);
    }
}
