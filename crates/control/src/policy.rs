//! The control policy: observations in, scheduler commands out.
//!
//! One place for what the control plane does about what the campus
//! reports, shared by the twin and the server:
//! - a tray that went down is failed in the scheduler (its jobs recover on
//!   spares or requeue), one that came back is repaired, a requalified one
//!   leaves quarantine;
//! - a building not yet commissioned is drained, and resumed when it is;
//! - a leak drains the location it was found at;
//! - a building whose cooling falls short of its load is capped at its
//!   projected draw less the shortfall, and the cap is lifted once it has
//!   room again;
//! - in a likely 4CP hour the campus is capped at what on-site gas and
//!   battery can carry, so that grid import during the peak interval stays
//!   near zero (ERCOT's 4CP transmission charge; domain.md §5).

use abilene_scheduler::{Command, PowerScope, Scheduler};

use crate::fleet::{AlarmKind, Observation, PlantReading};

/// PUE assumed when the plant reports no IT load to divide by.
const FALLBACK_PUE: f64 = 1.1;

/// The drain reason of a building not yet commissioned, so a fleet resumed
/// over a scheduler can tell which drains are its own.
pub const NOT_COMMISSIONED: &str = "not yet commissioned";

/// The policy's memory: which caps it set, so it lifts only its own. It
/// serialises so that a restarted server goes on with the same memory.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Controller {
    capped_buildings: Vec<String>,
    campus_capped: bool,
}

impl Controller {
    pub fn new() -> Controller {
        Controller::default()
    }

    /// The commands the observations call for, in order. `sched` is read
    /// for the projected draw that caps are set against.
    pub fn commands(&mut self, observations: &[Observation], sched: &Scheduler) -> Vec<Command> {
        let mut out = Vec::new();
        for o in observations {
            self.command(o, sched, &mut out);
        }
        out
    }

    /// [`Controller::commands`] of observations the caller is done with:
    /// a submitted job's spec moves into its command instead of being
    /// copied (the twin submits a job for every one its users make).
    pub fn take_commands(
        &mut self,
        observations: Vec<Observation>,
        sched: &Scheduler,
    ) -> Vec<Command> {
        let mut out = Vec::with_capacity(observations.len());
        for o in observations {
            match o {
                Observation::Submitted(spec) => out.push(Command::Submit(*spec)),
                o => self.command(&o, sched, &mut out),
            }
        }
        out
    }

    /// The commands one observation calls for, appended to `out`.
    fn command(&mut self, o: &Observation, sched: &Scheduler, out: &mut Vec<Command>) {
        match o {
            Observation::TrayDown { tray, .. } => {
                out.push(Command::TrayFailed { tray: tray.clone() })
            }
            Observation::TrayUp { tray } => out.push(Command::TrayRepaired { tray: tray.clone() }),
            Observation::TrayRequalified { tray } => {
                out.push(Command::ClearQuarantine { tray: tray.clone() })
            }
            Observation::Uncommissioned { building } => out.push(Command::Drain {
                targets: vec![building.clone()],
                reason: NOT_COMMISSIONED.into(),
            }),
            Observation::Commissioned { building } => out.push(Command::Resume {
                targets: vec![building.clone()],
            }),
            Observation::JobExited { job } => out.push(Command::Complete(*job)),
            Observation::Submitted(spec) => out.push(Command::Submit((**spec).clone())),
            Observation::Alarm(a) if a.kind == AlarmKind::Leak => out.push(Command::Drain {
                targets: vec![a.location.clone()],
                reason: format!("leak: {}", a.message),
            }),
            Observation::Alarm(_) => {}
            Observation::Plant(r) => self.caps(r, sched, out),
        }
    }

    /// Power caps for the coming hour from one plant reading.
    fn caps(&mut self, r: &PlantReading, sched: &Scheduler, out: &mut Vec<Command>) {
        let draw = sched.building_draw_kw();
        let campus = sched.campus();
        for (b, building) in campus.buildings.iter().enumerate() {
            let short = r
                .shortfall_kw
                .iter()
                .find(|(name, _)| *name == building.name)
                .map_or(0.0, |s| s.1);
            let capped = self.capped_buildings.contains(&building.name);
            if short > 0.0 {
                out.push(Command::SetPowerCap {
                    scope: PowerScope::Building(building.name.clone()),
                    kw: Some((draw[b] - short).max(0.0)),
                });
                if !capped {
                    self.capped_buildings.push(building.name.clone());
                }
            } else if capped {
                out.push(Command::SetPowerCap {
                    scope: PowerScope::Building(building.name.clone()),
                    kw: None,
                });
                self.capped_buildings.retain(|n| *n != building.name);
            }
        }
        if r.four_cp {
            let pue = if r.it_kw > 0.0 {
                r.facility_kw / r.it_kw
            } else {
                FALLBACK_PUE
            };
            let scheduler_draw: f64 = draw.iter().sum();
            // The scheduler counts typical draw; scale the target to its units.
            let scale = if r.it_kw > 0.0 {
                scheduler_draw / r.it_kw
            } else {
                1.0
            };
            out.push(Command::SetPowerCap {
                scope: PowerScope::Campus,
                kw: Some(r.own_generation_mw * 1000.0 / pue * scale),
            });
            self.campus_capped = true;
        } else if self.campus_capped {
            out.push(Command::SetPowerCap {
                scope: PowerScope::Campus,
                kw: None,
            });
            self.campus_capped = false;
        }
    }
}
