//! Names at the edge, dense indices inside: every tray, rack, hall and
//! building name a command carries is resolved here, and every tray an event
//! reports is named here (the grammar is the model's `names` module).

use abilene_model::names::Location;
use abilene_model::{BuildingId, TrayId};

use crate::reject::Reject;
use crate::scheduler::Scheduler;

/// Most names one command may carry; a whole campus is a few names.
pub const MAX_TARGETS: usize = 10_000;

impl Scheduler {
    /// The dense index of a tray name; `field` says where it was given.
    pub(crate) fn tray_named(&self, field: &str, name: &str) -> Result<u32, Reject> {
        self.campus
            .resolve_tray(name)
            .map(|t| t.0)
            .map_err(|e| Reject::UnknownName {
                field: field.to_string(),
                name: name.to_string(),
                why: e.to_string(),
            })
    }

    /// The dense index of a building name.
    pub(crate) fn building_named(&self, field: &str, name: &str) -> Result<u16, Reject> {
        self.campus
            .resolve_building(name)
            .map(|b| b.0)
            .map_err(|e| Reject::UnknownName {
                field: field.to_string(),
                name: name.to_string(),
                why: e.to_string(),
            })
    }

    /// Every tray that tray, rack, hall or building names stand for, in
    /// campus order without repeats. A GPU name is refused: trays are the
    /// unit of drains and reservations.
    pub(crate) fn trays_named(&self, field: &str, names: &[String]) -> Result<Vec<u32>, Reject> {
        if names.len() > MAX_TARGETS {
            return Err(Reject::BadValue {
                field: field.to_string(),
                value: format!("{} names", names.len()),
                why: format!("at most {MAX_TARGETS} names per command"),
            });
        }
        let c = &self.campus;
        let mut trays = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let unknown = |why: String| Reject::UnknownName {
                field: format!("{field}[{i}]"),
                name: name.clone(),
                why,
            };
            let range = match c.resolve(name).map_err(|e| unknown(e.to_string()))? {
                Location::Building(b) => c.buildings[b.index()].trays.clone(),
                // A hall's racks, and so their trays, are contiguous.
                Location::Hall(h) => {
                    let racks = &c.halls[h.index()].racks;
                    let rack_trays = |r: u32| c.racks[r as usize].trays.clone();
                    if racks.is_empty() {
                        0..0
                    } else {
                        rack_trays(racks.start).start..rack_trays(racks.end - 1).end
                    }
                }
                Location::Rack(r) => c.racks[r.index()].trays.clone(),
                Location::Tray(t) => t.0..t.0 + 1,
                Location::Gpu(_) => {
                    return Err(unknown(
                        "a GPU name; drains and reservations take trays, racks, halls or buildings"
                            .into(),
                    ));
                }
            };
            trays.extend(range);
        }
        trays.sort_unstable();
        trays.dedup();
        Ok(trays)
    }

    pub(crate) fn tray_name(&self, t: u32) -> String {
        self.campus.tray_name(TrayId(t))
    }

    pub(crate) fn tray_names(&self, trays: &[u32]) -> Vec<String> {
        trays
            .iter()
            .map(|&t| {
                let mut s = String::with_capacity(16);
                self.campus.write_tray_name(TrayId(t), &mut s);
                s
            })
            .collect()
    }

    pub(crate) fn building_name(&self, b: u16) -> &str {
        self.campus.building_name(BuildingId(b))
    }
}
