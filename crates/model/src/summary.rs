//! The figures a user asks of a campus: counts, power, cooling, compute, and
//! how they grow as buildings are commissioned.

use serde::Serialize;

use crate::campus::{Building, Campus};
use crate::fabric::FabricSize;

/// Totals for a building, a phase step or the campus.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Figures {
    pub buildings: u32,
    pub halls: u32,
    pub racks: u64,
    pub trays: u64,
    pub gpus: u64,
    /// IT load with every rack at its maximum draw.
    pub it_mw: f64,
    /// Facility load at design PUE.
    pub facility_mw: f64,
    /// What the halls' power chains can deliver.
    pub power_capacity_mw: f64,
    /// Rack heat the halls' cooling can remove at design conditions.
    pub cooling_capacity_mw: f64,
    pub peak_fp8_pflops: f64,
}

impl Figures {
    fn add(&mut self, o: &Figures) {
        self.buildings += o.buildings;
        self.halls += o.halls;
        self.racks += o.racks;
        self.trays += o.trays;
        self.gpus += o.gpus;
        self.it_mw += o.it_mw;
        self.facility_mw += o.facility_mw;
        self.power_capacity_mw += o.power_capacity_mw;
        self.cooling_capacity_mw += o.cooling_capacity_mw;
        self.peak_fp8_pflops += o.peak_fp8_pflops;
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct BuildingRow {
    pub name: String,
    pub phase: u32,
    pub commissioned: String,
    pub figures: Figures,
}

/// The campus as it stands after each commissioning date.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineStep {
    pub date: String,
    pub phase: u32,
    pub added: Vec<String>,
    pub cumulative: Figures,
}

#[derive(Debug, Clone, Serialize)]
pub struct SiteFigures {
    pub grid_interconnect_mw: f64,
    pub gas_mw: f64,
    pub battery_mw: f64,
    pub battery_mwh: f64,
    pub design_pue: f64,
    /// Grid plus on-site generation.
    pub supply_mw: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CampusSummary {
    pub name: String,
    pub location: String,
    pub site: SiteFigures,
    pub buildings: Vec<BuildingRow>,
    pub total: Figures,
    pub fabric: FabricSize,
    pub timeline: Vec<TimelineStep>,
}

impl Campus {
    fn building_figures(&self, b: &Building) -> Figures {
        let mut f = Figures {
            buildings: 1,
            halls: u32::from(b.halls.end - b.halls.start),
            ..Figures::default()
        };
        for h in b.halls.clone() {
            let hall = &self.halls[usize::from(h)];
            f.racks += hall.load.racks;
            f.trays += hall.load.trays;
            f.gpus += hall.load.gpus;
            f.it_mw += hall.load.it_max_kw / 1000.0;
            f.power_capacity_mw += hall.power_capacity_mw;
            f.cooling_capacity_mw += hall.cooling.total_mw();
            f.peak_fp8_pflops += hall.load.fp8_pflops;
        }
        f.facility_mw = f.it_mw * self.spec.site.design_pue;
        f
    }

    pub fn summary(&self) -> CampusSummary {
        let site = &self.spec.site;
        let gas_mw = site
            .gas_turbines
            .as_ref()
            .map_or(0.0, |g| f64::from(g.count) * g.mw_each);
        let rows: Vec<BuildingRow> = self
            .buildings
            .iter()
            .map(|b| BuildingRow {
                name: b.name.clone(),
                phase: b.phase,
                commissioned: b.commissioned.to_string(),
                figures: self.building_figures(b),
            })
            .collect();
        let mut total = Figures::default();
        for r in &rows {
            total.add(&r.figures);
        }
        let mut order: Vec<usize> = (0..self.buildings.len()).collect();
        order.sort_by_key(|&i| (self.buildings[i].commissioned, i));
        let mut timeline: Vec<TimelineStep> = Vec::new();
        let mut cumulative = Figures::default();
        for i in order {
            let b = &self.buildings[i];
            cumulative.add(&rows[i].figures);
            let date = b.commissioned.to_string();
            match timeline.last_mut() {
                Some(step) if step.date == date => {
                    step.added.push(b.name.clone());
                    step.phase = step.phase.max(b.phase);
                    step.cumulative = cumulative;
                }
                _ => timeline.push(TimelineStep {
                    date,
                    phase: b.phase,
                    added: vec![b.name.clone()],
                    cumulative,
                }),
            }
        }
        CampusSummary {
            name: site.name.clone(),
            location: site.location.clone(),
            site: SiteFigures {
                grid_interconnect_mw: site.grid_interconnect_mw,
                gas_mw,
                battery_mw: site.battery.as_ref().map_or(0.0, |b| b.mw),
                battery_mwh: site.battery.as_ref().map_or(0.0, |b| b.mwh),
                design_pue: site.design_pue,
                supply_mw: site.grid_interconnect_mw + gas_mw,
            },
            buildings: rows,
            total,
            fabric: self.fabric_size(),
            timeline,
        }
    }
}
