//! Power: the draw ledger in integer watts, caps, throttling and suspension.
//!
//! Draw is kept in whole watts so that charging and releasing a job are
//! exact inverses whatever their order: a snapshot restores the same
//! figures, and a replay reaches the same decisions bit for bit.

use std::cmp::Reverse;

use crate::command::PowerScope;
use crate::event::{Event, PendingReason};
use crate::job::Time;
use crate::placement::PowerRoom;
use crate::reject::Reject;
use crate::scheduler::{Gang, JobState, Scheduler};
use crate::topo::Topology;

/// Largest cap accepted, in kW: 100 GW, far above any campus, so that watt
/// arithmetic cannot overflow.
pub const MAX_CAP_KW: f64 = 1e8;

/// Watts a job whose full-clock draw is `full_w` makes at `clock`.
pub(crate) fn applied_w(full_w: i64, clock: f64) -> i64 {
    (full_w as f64 * clock).round() as i64
}

/// Whole watts from kW.
pub(crate) fn watts(kw: f64) -> i64 {
    (kw * 1000.0).round() as i64
}

/// Per building: idle draw of its trays, the draw running jobs add at their
/// clocks, and its cap; and the campus cap.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct PowerLedger {
    pub idle_w: Vec<i64>,
    pub draw_w: Vec<i64>,
    pub cap_w: Vec<Option<i64>>,
    pub campus_cap_w: Option<i64>,
    /// Watts above idle one busy tray adds, per SKU.
    pub job_tray_w: Vec<i64>,
}

impl PowerLedger {
    pub fn new(topo: &Topology, idle_fraction: f64) -> PowerLedger {
        let mut idle_w = vec![0i64; topo.buildings()];
        for t in 0..topo.tray_domain.len() as u32 {
            let sku = usize::from(topo.sku_of_tray(t).0);
            idle_w[usize::from(topo.tray_building[t as usize])] +=
                watts(topo.sku_tray_kw[sku] * idle_fraction);
        }
        PowerLedger {
            idle_w,
            draw_w: vec![0; topo.buildings()],
            cap_w: vec![None; topo.buildings()],
            campus_cap_w: None,
            job_tray_w: topo
                .sku_tray_kw
                .iter()
                .map(|kw| watts(kw * (1.0 - idle_fraction)))
                .collect(),
        }
    }

    /// Adds (or with `sign` -1 removes) a job's draw at `clock`.
    pub fn apply(&mut self, draw: &[(u16, i64)], clock: f64, sign: i64) {
        for &(b, w) in draw {
            self.draw_w[usize::from(b)] += sign * applied_w(w, clock);
        }
    }

    /// Changes one building's entry of a job's draw by `delta_w` at full
    /// clock, keeping the building total exact.
    pub fn adjust(&mut self, draw: &mut Vec<(u16, i64)>, b: u16, delta_w: i64, clock: f64) {
        let pos = match draw.iter().position(|e| e.0 == b) {
            Some(p) => p,
            None => {
                draw.push((b, 0));
                draw.len() - 1
            }
        };
        let old = applied_w(draw[pos].1, clock);
        draw[pos].1 += delta_w;
        let new = applied_w(draw[pos].1, clock);
        self.draw_w[usize::from(b)] += new - old;
    }

    pub fn building_room_w(&self, b: u16) -> i64 {
        let b = usize::from(b);
        self.cap_w[b].map_or(i64::MAX, |c| c - self.idle_w[b] - self.draw_w[b])
    }

    pub fn campus_room_w(&self) -> i64 {
        let used: i64 = self.idle_w.iter().sum::<i64>() + self.draw_w.iter().sum::<i64>();
        self.campus_cap_w.map_or(i64::MAX, |c| c - used)
    }

    pub fn caps_bind(&self) -> bool {
        self.campus_cap_w.is_some() || self.cap_w.iter().any(Option::is_some)
    }

    /// Projected draw per building in kW: idle plus running jobs.
    pub fn building_kw(&self) -> Vec<f64> {
        self.idle_w
            .iter()
            .zip(&self.draw_w)
            .map(|(i, d)| (i + d) as f64 / 1000.0)
            .collect()
    }

    fn room_kw(w: i64) -> f64 {
        if w == i64::MAX {
            f64::INFINITY
        } else {
            w as f64 / 1000.0
        }
    }
}

impl Scheduler {
    /// Whether any power cap is set.
    pub(crate) fn caps_bind(&self) -> bool {
        self.power.caps_bind()
    }

    pub(crate) fn room(&self) -> Room {
        Room {
            buildings: (0..self.topo.buildings() as u16)
                .map(|b| PowerLedger::room_kw(self.power.building_room_w(b)))
                .collect(),
            campus: PowerLedger::room_kw(self.power.campus_room_w()),
        }
    }

    /// Kilowatts above idle that one busy tray of `sku` adds.
    pub(crate) fn job_tray_kw(&self, sku: u16) -> f64 {
        self.power.job_tray_w[usize::from(sku)] as f64 / 1000.0
    }

    /// Watts a gang adds on each of its trays at full clock.
    pub(crate) fn gang_tray_w(&self, sku: u16, g: &Gang) -> i64 {
        let gpt = self.topo.sku_gpus_per_tray[usize::from(sku)];
        self.power.job_tray_w[usize::from(sku)] * i64::from(g.gpus_per_tray(gpt))
            / i64::from(gpt.max(1))
    }

    pub(crate) fn set_power_cap(
        &mut self,
        now: Time,
        scope: PowerScope,
        kw: Option<f64>,
        events: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let w = match kw {
            None => None,
            Some(k) if k.is_finite() && (0.0..=MAX_CAP_KW).contains(&k) => Some(watts(k)),
            Some(k) => {
                return Err(Reject::BadValue {
                    field: "kw".into(),
                    value: k.to_string(),
                    why: format!("a power cap is 0 to {MAX_CAP_KW} kW, or null to lift it"),
                });
            }
        };
        match scope {
            PowerScope::Campus => self.power.campus_cap_w = w,
            PowerScope::Building(name) => {
                let b = self.building_named("scope", &name)?;
                self.power.cap_w[usize::from(b)] = w;
            }
        }
        self.enforce_power(now, events);
        self.dirty = true;
        Ok(())
    }

    /// Brings draw under every cap: first slow the lowest-priority jobs to
    /// capped clocks, then checkpoint and suspend them; gives clocks back to
    /// the highest-priority jobs when there is room again.
    fn enforce_power(&mut self, now: Time, events: &mut Vec<Event>) {
        let mut running: Vec<u32> = (0..self.jobs.len() as u32)
            .filter(|&s| self.jobs[s as usize].state == JobState::Running)
            .collect();
        // Cheapest to slow first: low priority, borrowed, newest.
        running.sort_by_key(|&s| {
            let j = &self.jobs[s as usize];
            (j.spec.priority, !j.borrowed, Reverse(j.seq))
        });
        let clock = self.config.throttle_clock;
        for phase in 0..2 {
            for &s in &running {
                let over_b: Vec<bool> = (0..self.topo.buildings() as u16)
                    .map(|b| self.power.building_room_w(b) < 0)
                    .collect();
                let over_c = self.power.campus_room_w() < 0;
                if !over_c && !over_b.iter().any(|&o| o) {
                    break;
                }
                let j = &self.jobs[s as usize];
                if j.state != JobState::Running {
                    continue;
                }
                let touches = over_c || j.draw.iter().any(|(b, _)| over_b[usize::from(*b)]);
                if !touches {
                    continue;
                }
                if phase == 0 && j.clock > clock {
                    self.set_clock(s, clock);
                    events.push(Event::Throttled {
                        job: self.jobs[s as usize].spec.id,
                        clock,
                    });
                } else if phase == 1 {
                    // Checkpoint on the way out: nothing is lost.
                    let job = &mut self.jobs[s as usize];
                    job.committed += now.saturating_sub(job.seg_start);
                    job.seg_start = now;
                    self.requeue(now, s);
                    self.jobs[s as usize].reason = Some(PendingReason::PowerCap);
                    self.unreasoned.remove(&s);
                    events.push(Event::Suspended {
                        job: self.jobs[s as usize].spec.id,
                    });
                }
            }
        }
        // Room again: restore clocks, highest priority first.
        for &s in running.iter().rev() {
            let j = &self.jobs[s as usize];
            if j.state != JobState::Running || j.clock >= 1.0 {
                continue;
            }
            // What full clocks would add, in watts, per building.
            let extra: Vec<(u16, i64)> = j
                .draw
                .iter()
                .map(|&(b, w)| (b, applied_w(w, 1.0) - applied_w(w, j.clock)))
                .collect();
            let fits_b = extra
                .iter()
                .all(|&(b, w)| self.power.building_room_w(b) >= w);
            let total: i64 = extra.iter().map(|e| e.1).sum();
            if fits_b && self.power.campus_room_w() >= total {
                self.set_clock(s, 1.0);
                events.push(Event::Throttled {
                    job: self.jobs[s as usize].spec.id,
                    clock: 1.0,
                });
            }
        }
    }

    fn set_clock(&mut self, slot: u32, clock: f64) {
        let j = &mut self.jobs[slot as usize];
        self.power.apply(&j.draw, j.clock, -1);
        self.power.apply(&j.draw, clock, 1);
        j.clock = clock;
    }
}

/// kW each building, and the campus, may still add under their power caps.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Room {
    pub buildings: Vec<f64>,
    pub campus: f64,
}

impl Room {
    pub fn limited(&self) -> bool {
        self.campus.is_finite() || self.buildings.iter().any(|r| r.is_finite())
    }

    /// The placement limit for one tray of `sku`; None when no cap binds.
    pub fn for_sku<'a>(&'a self, s: &Scheduler, sku: u16) -> Option<PowerRoom<'a>> {
        self.limited().then(|| PowerRoom {
            building_kw: &self.buildings,
            campus_kw: self.campus,
            tray_kw: s.job_tray_kw(sku),
        })
    }

    /// Counts a gang's draw against the room.
    pub fn take(&mut self, s: &Scheduler, sku: u16, g: &Gang) {
        let kw = s.gang_tray_w(sku, g) as f64 / 1000.0;
        for &t in &g.trays {
            self.buildings[usize::from(s.topo.tray_building[t as usize])] -= kw;
            self.campus -= kw;
        }
    }
}
