//! Reservations: trays set aside for a tenant or for maintenance.

use std::collections::BTreeSet;

use crate::command::ReservationSpec;
use crate::event::Event;
use crate::free::FreeIndex;
use crate::job::Time;
use crate::reject::Reject;
use crate::scheduler::{JobState, Reservation, Scheduler};

/// Most reservations a scheduler holds over its life; each has a pool.
pub const MAX_RESERVATIONS: usize = 4096;

impl Scheduler {
    pub(crate) fn reserve(&mut self, spec: ReservationSpec) -> Result<(), Reject> {
        let bad = |why: String| Reject::BadReservation {
            id: spec.id.clone(),
            why,
        };
        if spec.id.is_empty() || spec.id.len() > 128 || spec.id.chars().any(char::is_control) {
            return Err(Reject::BadValue {
                field: "id".into(),
                value: spec.id.clone(),
                why: "a reservation name is 1 to 128 characters, without control characters".into(),
            });
        }
        if self.reservation_named(&spec.id).is_some() {
            return Err(Reject::DuplicateReservation {
                id: spec.id.clone(),
            });
        }
        if self.reservations.len() >= MAX_RESERVATIONS {
            return Err(bad(format!(
                "the scheduler holds at most {MAX_RESERVATIONS} reservations"
            )));
        }
        if spec.end <= spec.start {
            return Err(bad("end must be after start".into()));
        }
        let trays = self.trays_named("targets", &spec.targets)?;
        if trays.is_empty() {
            return Err(bad("it names no trays".into()));
        }
        let claimed: BTreeSet<u32> = self
            .reservations
            .iter()
            .filter(|r| !r.ended)
            .flat_map(|r| r.trays.iter().copied())
            .collect();
        if let Some(&t) = trays.iter().find(|t| claimed.contains(t)) {
            return Err(bad(format!(
                "tray {} is already reserved",
                self.tray_name(t)
            )));
        }
        let owner = match &spec.owner {
            None => None,
            Some(name) => Some(
                self.tenants
                    .lookup(name)
                    .ok_or_else(|| bad(format!("unknown owner `{name}`")))?,
            ),
        };
        let mut pool = FreeIndex::empty(&self.topo);
        pool.init_histograms(&self.topo);
        self.pools.push(pool);
        self.reservations.push(Reservation {
            spec,
            trays,
            owner,
            pool: self.pools.len() - 1,
            active: false,
            ended: false,
        });
        Ok(())
    }

    /// A reservation by its name.
    pub(crate) fn reservation_named(&self, id: &str) -> Option<&Reservation> {
        self.reservations.iter().find(|r| r.spec.id == id)
    }

    pub(crate) fn tick_reservations(&mut self, now: Time, events: &mut Vec<Event>) {
        for r in 0..self.reservations.len() {
            let res = &self.reservations[r];
            if !res.active && !res.ended && now >= res.spec.start {
                self.reservations[r].active = true;
                let trays = self.reservations[r].trays.clone();
                let maintenance = self.reservations[r].owner.is_none();
                for &t in &trays {
                    self.set_tray(t, |s| s.reservation = Some(r as u32));
                    if maintenance {
                        for o in self.tray_owners(t) {
                            if self.jobs[o as usize].state == JobState::Running {
                                let lost = self.requeue(now, o);
                                events.push(Event::Preempted {
                                    job: self.jobs[o as usize].spec.id,
                                    by: None,
                                    lost_work: lost,
                                });
                            }
                        }
                    }
                }
                events.push(Event::ReservationStarted {
                    id: self.reservations[r].spec.id.clone(),
                });
            }
            let res = &self.reservations[r];
            if res.active && now >= res.spec.end {
                self.reservations[r].active = false;
                self.reservations[r].ended = true;
                let trays = self.reservations[r].trays.clone();
                for t in trays {
                    self.set_tray(t, |s| s.reservation = None);
                }
                events.push(Event::ReservationEnded {
                    id: self.reservations[r].spec.id.clone(),
                });
            }
        }
    }
}
