//! `GET /v1/campus/map`: every rack of the campus in one compact answer,
//! for the dashboard's heat map. Columns, not one object per rack: the
//! full campus (5,632 racks) is a few hundred kilobytes and one pass over
//! the scheduler's views.

use std::sync::{Arc, Mutex};

use abilene_model::{HallId, RackId};
use abilene_scheduler::views::TrayCondition;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::ApiError;
use super::{AppState, Caller};
use crate::engine::Engine;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(map))
}

/// One hall: where its racks are in the rack columns, and its readings
/// (None until the fleet's first reading).
#[derive(Debug, Serialize, ToSchema)]
pub struct MapHall {
    /// `B1/H1`
    pub name: String,
    /// Index into `buildings`.
    pub building: u32,
    /// Index of its first rack in the rack columns; its racks follow.
    pub first_rack: u32,
    pub racks: u32,
    /// What its power chain carries at its weakest stage.
    pub capacity_mw: f64,
    pub it_kw: Option<f64>,
    pub inlet_c: Option<f64>,
    pub coolant_c: Option<f64>,
}

/// One building: its phase of the build-out and when it takes work.
#[derive(Debug, Serialize, ToSchema)]
pub struct MapBuilding {
    pub name: String,
    pub phase: u32,
    /// Campus date it takes work from (YYYY-MM-DD).
    pub commissioned: String,
    /// Its halls' power capacity summed.
    pub capacity_mw: f64,
}

/// The racks as columns: entry `i` of each is rack `i`, in campus order.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct MapRacks {
    /// `B1/H1/R0001`
    pub name: Vec<String>,
    /// Index into `buildings`.
    pub building: Vec<u32>,
    /// Index into `halls`.
    pub hall: Vec<u32>,
    /// Trays by condition.
    pub up: Vec<u32>,
    pub down: Vec<u32>,
    pub drained: Vec<u32>,
    pub quarantined: Vec<u32>,
    pub busy_gpus: Vec<u32>,
    pub gpus: Vec<u32>,
    /// The rack's share of its hall's IT reading: the hall's kW split
    /// over its racks by GPUs in use (an idle tray counts as a third of a
    /// busy one); None until the fleet's first reading.
    pub kw: Vec<Option<f64>>,
}

/// The campus map.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampusMap {
    /// The last log record applied: the map is the state as of it.
    pub seq: u64,
    /// Campus seconds.
    pub now: abilene_scheduler::Time,
    pub buildings: Vec<MapBuilding>,
    pub halls: Vec<MapHall>,
    pub racks: MapRacks,
}

/// The map of the state at one log record, already written: between two
/// writer rounds every dashboard gets the same bytes.
struct Cached {
    engine: usize,
    seq: u64,
    body: axum::body::Bytes,
}

static CACHE: Mutex<Option<Cached>> = Mutex::new(None);

/// Weight of an idle GPU against a busy one in a rack's share of its
/// hall's draw (an idle GB200 tray draws about a third of a busy one).
const IDLE_WEIGHT: f64 = 1.0 / 3.0;

/// Builds the map from the scheduler's views.
pub fn build(e: &Engine) -> CampusMap {
    let sched = &e.sched;
    let c = sched.campus();
    let n = c.racks.len();
    let mut racks = MapRacks {
        name: Vec::with_capacity(n),
        building: Vec::with_capacity(n),
        hall: Vec::with_capacity(n),
        up: Vec::with_capacity(n),
        down: Vec::with_capacity(n),
        drained: Vec::with_capacity(n),
        quarantined: Vec::with_capacity(n),
        busy_gpus: Vec::with_capacity(n),
        gpus: Vec::with_capacity(n),
        kw: Vec::with_capacity(n),
    };
    let mut halls = Vec::with_capacity(c.halls.len());
    for (h, hall) in c.halls.iter().enumerate() {
        let hid = HallId(h as u16);
        let name = c.hall_name(hid);
        let reading = e
            .plant
            .as_ref()
            .and_then(|p| p.halls.iter().find(|r| r.hall == name));
        let conditions = sched.hall_trays(hid);
        let mut at = 0usize;
        let first = racks.name.len();
        let mut weights = Vec::with_capacity(hall.racks.len());
        for r in hall.racks.clone() {
            let rid = RackId(r);
            let rack = &c.racks[r as usize];
            let trays = rack.trays.len();
            let (mut up, mut down, mut drained, mut quarantined) = (0, 0, 0, 0);
            for cond in conditions.iter().skip(at).take(trays) {
                match cond {
                    TrayCondition::Up => up += 1,
                    TrayCondition::Down => down += 1,
                    TrayCondition::Drained => drained += 1,
                    TrayCondition::Quarantined => quarantined += 1,
                }
            }
            at += trays;
            let rack_name = c.rack_name(rid);
            // Busy and total GPUs from the rack's view (the scheduler's
            // owners of each GPU).
            let (busy, gpus) = sched.rack(&rack_name).map_or((0, 0), |v| {
                v.trays
                    .iter()
                    .fold((0, 0), |(b, g), t| (b + t.busy_gpus, g + t.gpus))
            });
            weights.push(f64::from(busy) + IDLE_WEIGHT * f64::from(gpus - busy.min(gpus)));
            racks.name.push(rack_name);
            racks.building.push(u32::from(rack.building.0));
            racks.hall.push(h as u32);
            racks.up.push(up);
            racks.down.push(down);
            racks.drained.push(drained);
            racks.quarantined.push(quarantined);
            racks.busy_gpus.push(busy);
            racks.gpus.push(gpus);
        }
        let total: f64 = weights.iter().sum();
        for w in weights {
            racks.kw.push(reading.map(|r| {
                if total > 0.0 {
                    r.it_kw * w / total
                } else {
                    0.0
                }
            }));
        }
        halls.push(MapHall {
            name,
            building: u32::from(hall.building.0),
            first_rack: first as u32,
            racks: hall.racks.len() as u32,
            capacity_mw: hall.power_capacity_mw,
            it_kw: reading.map(|r| r.it_kw),
            inlet_c: reading.map(|r| r.inlet_c),
            coolant_c: reading.map(|r| r.coolant_c),
        });
    }
    CampusMap {
        seq: e.seq,
        now: sched.now(),
        buildings: c
            .buildings
            .iter()
            .map(|b| MapBuilding {
                name: b.name.clone(),
                phase: b.phase,
                commissioned: b.commissioned.to_string(),
                capacity_mw: b
                    .halls
                    .clone()
                    .map(|h| c.halls[usize::from(h)].power_capacity_mw)
                    .sum(),
            })
            .collect(),
        halls,
        racks,
    }
}

/// The campus map
///
/// Every rack in campus order, as columns: name, building, hall, trays
/// by condition, busy and total GPUs, its share of its hall's IT draw;
/// each hall with its readings. The whole-campus callers' only.
#[utoipa::path(get, path = "/v1/campus/map", tag = "campus",
    responses((status = 200, description = "Every rack, as columns", body = CampusMap), super::ReadErrors))]
async fn map(State(st): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.reads_whole_campus("the campus map")?;
    let engine = Arc::as_ptr(&st.engine) as usize;
    let e = st.read();
    let seq = e.seq;
    let hit = CACHE.lock().ok().and_then(|c| {
        c.as_ref()
            .filter(|c| c.engine == engine && c.seq == seq)
            .map(|c| c.body.clone())
    });
    let body = match hit {
        Some(b) => b,
        None => {
            let m = build(&e);
            drop(e);
            let body = axum::body::Bytes::from(serde_json::to_vec(&m).unwrap_or_default());
            if let Ok(mut c) = CACHE.lock() {
                *c = Some(Cached {
                    engine,
                    seq,
                    body: body.clone(),
                });
            }
            body
        }
    };
    Ok((
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}
