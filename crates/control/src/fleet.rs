//! What the physical campus reports, and the trait a fleet implements.

use abilene_scheduler::{Event, JobId, JobSpec, Scheduler, Time};
use serde::{Deserialize, Serialize};

/// One hall's readings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HallReading {
    pub hall: String,
    pub it_kw: f64,
    /// Air at the rack inlets.
    pub inlet_c: f64,
    /// Coolant supplied to the racks by the CDUs.
    pub coolant_c: f64,
    /// Coolant back from the racks to the CDUs.
    #[serde(default)]
    pub coolant_return_c: f64,
    /// Liquid heat over what the hall's CDUs carry at N (0-1, above 1
    /// when short of cooling).
    #[serde(default)]
    pub cdu_load: f64,
    /// The hall's cooling and other facility power besides IT.
    #[serde(default)]
    pub cooling_kw: f64,
}

/// Where the campus's power came from in the hour just ended, and what it
/// cost: the grid dispatch beside the plant.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SupplyReading {
    /// Import from the grid (ERCOT), including what charges the battery.
    pub grid_mw: f64,
    pub gas_mw: f64,
    /// Positive when discharging, negative when charging.
    pub battery_mw: f64,
    pub battery_soc_mwh: f64,
    /// Demand no source could meet.
    pub curtailed_mw: f64,
    /// The hour's wholesale price.
    pub price_usd_per_mwh: f64,
    /// Outside air.
    pub ambient_c: f64,
}

/// The plant at one moment: what it draws and what it cannot cool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlantReading {
    /// Heat each building's cooling cannot reject at this load, in kW of
    /// IT load, by building name (only buildings short of cooling).
    pub shortfall_kw: Vec<(String, f64)>,
    pub it_kw: f64,
    pub facility_kw: f64,
    /// The coming hour is a likely ERCOT 4CP peak interval and the site
    /// curtails grid import in such hours.
    pub four_cp: bool,
    /// What on-site gas turbines and the battery can carry, in MW.
    pub own_generation_mw: f64,
    pub halls: Vec<HallReading>,
    #[serde(default)]
    pub supply: SupplyReading,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlarmKind {
    Leak,
    OverTemperature,
    PowerLoss,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alarm {
    pub kind: AlarmKind,
    /// A location name: tray, rack, hall or building.
    pub location: String,
    pub message: String,
}

/// Something the campus reports. Locations are stable names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Observation {
    /// A tray stopped working (a detected failure); `cause` in words.
    TrayDown {
        tray: String,
        cause: String,
    },
    /// A tray works again: rebooted, or repaired by a crew.
    TrayUp {
        tray: String,
    },
    /// A quarantined tray passed its burn-in and may take work again.
    TrayRequalified {
        tray: String,
    },
    /// A building is not yet commissioned: it may take no work.
    Uncommissioned {
        building: String,
    },
    /// A building was commissioned and may take work.
    Commissioned {
        building: String,
    },
    /// A job's processes ended because its work is done.
    JobExited {
        job: JobId,
    },
    /// A simulated user submitted a job: the twin's background workload.
    /// A hardware fleet never reports this.
    Submitted(Box<JobSpec>),
    Plant(PlantReading),
    Alarm(Alarm),
}

/// A physical campus as the control plane sees it.
///
/// The caller polls for the next report up to a time, turns it into
/// commands with the [`crate::Controller`], steps the scheduler with them
/// and passes the scheduler's events back with [`Fleet::hear`] before
/// polling again: a fleet's next report may depend on what the scheduler
/// decided (a job that started will finish).
pub trait Fleet {
    /// Runs the fleet up to `until` and returns its next report at or
    /// before `until`, with its time; None when it has nothing more by then.
    /// `sched` is for reading only (what runs where).
    fn poll(&mut self, until: Time, sched: &Scheduler) -> Option<(Time, Vec<Observation>)>;

    /// What the scheduler decided at `now`, so the fleet runs it.
    fn hear(&mut self, now: Time, events: &[Event]);
}
