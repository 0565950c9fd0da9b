//! The campus by stable names: site, buildings, halls, racks, trays, with
//! their state from the scheduler and readings from the fleet.

use abilene_model::Campus;
use abilene_scheduler::Time;
use abilene_scheduler::views::{CampusRollup, RackView, Rollup, TrayCondition, TrayView};
use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::ApiError;
use super::{AppState, Caller};
use crate::auth::Action;
use crate::engine::Engine;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(campus))
        .routes(routes!(building))
        .routes(routes!(hall))
        .routes(routes!(rack))
        .routes(routes!(tray))
}

/// One hall's readings from the fleet.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HallReadingOut {
    pub hall: String,
    pub it_kw: f64,
    pub inlet_c: f64,
    pub coolant_c: f64,
}

/// The plant as last reported.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlantOut {
    pub it_kw: f64,
    pub facility_kw: f64,
    /// The coming hour is a likely ERCOT 4CP peak.
    pub four_cp: bool,
    pub own_generation_mw: f64,
    /// kW of IT load each building short of cooling cannot reject.
    pub shortfall_kw: Vec<BuildingKw>,
    pub halls: Vec<HallReadingOut>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BuildingKw {
    pub building: String,
    pub kw: f64,
}

/// The whole campus.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampusOut {
    pub name: String,
    /// Campus seconds since the start of its scenario.
    pub now: Time,
    /// Campus seconds per wall second.
    pub speed: f64,
    /// The last log record applied.
    pub seq: u64,
    pub rollup: CampusRollup,
    /// None until the fleet's first reading.
    pub plant: Option<PlantOut>,
    pub finished_jobs: u64,
}

fn plant(e: &Engine) -> Option<PlantOut> {
    e.plant.as_ref().map(|p| PlantOut {
        it_kw: p.it_kw,
        facility_kw: p.facility_kw,
        four_cp: p.four_cp,
        own_generation_mw: p.own_generation_mw,
        shortfall_kw: p
            .shortfall_kw
            .iter()
            .map(|(b, kw)| BuildingKw {
                building: b.clone(),
                kw: *kw,
            })
            .collect(),
        halls: p.halls.iter().map(hall_reading).collect(),
    })
}

fn hall_reading(h: &abilene_control::HallReading) -> HallReadingOut {
    HallReadingOut {
        hall: h.hall.clone(),
        it_kw: h.it_kw,
        inlet_c: h.inlet_c,
        coolant_c: h.coolant_c,
    }
}

/// The campus: counts, draw and caps per building, the plant's readings
#[utoipa::path(get, path = "/v1/campus", tag = "campus",
    responses((status = 200, description = "The campus", body = CampusOut), super::ReadErrors))]
async fn campus(State(st): State<AppState>, caller: Caller) -> Result<Json<CampusOut>, ApiError> {
    caller.reads_whole_campus("the campus's state")?;
    let e = st.read();
    Ok(Json(CampusOut {
        name: st.campus_name.to_string(),
        now: e.sched.now(),
        speed: st.speed,
        seq: e.seq,
        rollup: e.sched.rollup(),
        plant: plant(&e),
        finished_jobs: e.finished_count() as u64,
    }))
}

/// Inventory beyond the caller's own trays is the whole-campus callers':
/// to anyone else a building, hall or rack is unknown.
fn inventory(caller: &Caller, field: &str, name: &str) -> Result<(), ApiError> {
    caller.may(Action::Read)?;
    if caller.whole_campus() {
        return Ok(());
    }
    Err(unknown(field, format!("unknown {field} `{name}`")))
}

/// A building and its halls.
#[derive(Debug, Serialize, ToSchema)]
pub struct BuildingOut {
    pub rollup: Rollup,
    pub halls: Vec<String>,
    /// Campus date it takes work from (YYYY-MM-DD).
    pub commissioned: String,
}

fn unknown(field: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::not_found("unknown_name", e.to_string()).field(field)
}

/// A building
#[utoipa::path(get, path = "/v1/buildings/{building}", tag = "campus",
    params(("building" = String, Path, description = "e.g. B1")),
    responses((status = 200, description = "The building", body = BuildingOut), super::ReadErrors))]
async fn building(
    State(st): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<BuildingOut>, ApiError> {
    inventory(&caller, "building", &name)?;
    let e = st.read();
    let c: &Campus = e.sched.campus();
    let b = c
        .resolve_building(&name)
        .map_err(|x| unknown("building", x))?;
    let building = &c.buildings[usize::from(b.0)];
    let rollup = e
        .sched
        .rollup()
        .buildings
        .into_iter()
        .nth(usize::from(b.0))
        .unwrap_or_default();
    Ok(Json(BuildingOut {
        rollup,
        halls: building
            .halls
            .clone()
            .map(|h| c.hall_name(abilene_model::HallId(h)))
            .collect(),
        commissioned: building.commissioned.to_string(),
    }))
}

/// A hall: the state of each tray, and its readings.
#[derive(Debug, Serialize, ToSchema)]
pub struct HallOut {
    pub name: String,
    pub racks: Vec<String>,
    /// Every tray, in rack order, for a heat map.
    pub trays: Vec<TrayCondition>,
    pub reading: Option<HallReadingOut>,
}

/// A hall
#[utoipa::path(get, path = "/v1/halls/{building}/{hall}", tag = "campus",
    params(("building" = String, Path, description = "e.g. B1"), ("hall" = String, Path, description = "e.g. H1")),
    responses((status = 200, description = "The hall", body = HallOut), super::ReadErrors))]
async fn hall(
    State(st): State<AppState>,
    caller: Caller,
    Path((b, h)): Path<(String, String)>,
) -> Result<Json<HallOut>, ApiError> {
    let name = format!("{b}/{h}");
    inventory(&caller, "hall", &name)?;
    let e = st.read();
    let c = e.sched.campus();
    let id = c.resolve_hall(&name).map_err(|x| unknown("hall", x))?;
    let racks = c.halls[usize::from(id.0)]
        .racks
        .clone()
        .map(|r| c.rack_name(abilene_model::RackId(r)))
        .collect();
    let reading = e
        .plant
        .as_ref()
        .and_then(|p| p.halls.iter().find(|r| r.hall == name))
        .map(hall_reading);
    Ok(Json(HallOut {
        name,
        racks,
        trays: e.sched.hall_trays(id),
        reading,
    }))
}

/// A rack
#[utoipa::path(get, path = "/v1/racks/{building}/{hall}/{rack}", tag = "campus",
    params(("building" = String, Path), ("hall" = String, Path), ("rack" = String, Path, description = "e.g. R0001")),
    responses((status = 200, description = "The rack and its trays", body = RackView), super::ReadErrors))]
async fn rack(
    State(st): State<AppState>,
    caller: Caller,
    Path((b, h, r)): Path<(String, String, String)>,
) -> Result<Json<RackView>, ApiError> {
    inventory(&caller, "rack", &format!("{b}/{h}/{r}"))?;
    let e = st.read();
    e.sched
        .rack(&format!("{b}/{h}/{r}"))
        .map(Json)
        .map_err(|x| ApiError::from_reject(&x).field("rack"))
}

/// A tray with its hall's readings.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrayOut {
    #[serde(flatten)]
    pub tray: TrayView,
    pub hall_reading: Option<HallReadingOut>,
}

/// A tray
#[utoipa::path(get, path = "/v1/trays/{building}/{hall}/{rack}/{tray}", tag = "campus",
    params(("building" = String, Path), ("hall" = String, Path), ("rack" = String, Path), ("tray" = String, Path, description = "e.g. T01")),
    responses((status = 200, description = "The tray", body = TrayOut), super::ReadErrors))]
async fn tray(
    State(st): State<AppState>,
    caller: Caller,
    Path((b, h, r, t)): Path<(String, String, String, String)>,
) -> Result<Json<TrayOut>, ApiError> {
    caller.may(Action::Read)?;
    let name = format!("{b}/{h}/{r}/{t}");
    let e = st.read();
    // To a tenant a tray that does not exist and one it may not see
    // answer alike.
    let hidden = || unknown("tray", format!("unknown tray `{name}`"));
    let mut tray = e.sched.tray(&name).map_err(|x| {
        if caller.whole_campus() {
            ApiError::from_reject(&x).field("tray")
        } else {
            hidden()
        }
    })?;
    // A tenant sees a tray only while its own jobs run there, and only
    // its own jobs on it.
    if let Some(scope) = &caller.scope {
        tray.jobs.retain(|j| {
            e.sched
                .job_tenant(*j)
                .is_some_and(|p| e.sched.tenant_is_under(p, scope))
        });
        if tray.jobs.is_empty() {
            return Err(hidden());
        }
        // Why a tray is drained or reserved is the operator's business.
        tray.drain_reason = None;
        tray.reservation = None;
    }
    let hall = format!("{b}/{h}");
    let hall_reading = e
        .plant
        .as_ref()
        .and_then(|p| p.halls.iter().find(|r| r.hall == hall))
        .map(hall_reading);
    // The hall's readings sum every tenant's draw: the operator's.
    let hall_reading = hall_reading.filter(|_| caller.whole_campus());
    Ok(Json(TrayOut { tray, hall_reading }))
}
