//! Shared set-up for the scheduler's integration tests.
#![allow(dead_code)]

use std::sync::{Arc, OnceLock};

use abilene_model::{Campus, RackId, TrayId};
use abilene_scheduler::{Config, Event, Placement, Scheduler, TenantSpec};

pub const GB200: &str = "gb200-nvl72";

pub fn campus(name: &str) -> Campus {
    abilene_fixtures::campus(name).expect("a shipped, valid preset")
}

/// The tiny campus, loaded once.
pub fn tiny() -> &'static Arc<Campus> {
    static TINY: OnceLock<Arc<Campus>> = OnceLock::new();
    TINY.get_or_init(|| Arc::new(campus("tiny")))
}

/// The name of the tiny campus's tray `i` (0..144 are the GB200 trays of
/// `B1/H1`, 18 to a rack).
pub fn tray(i: u32) -> String {
    tiny().tray_name(TrayId(i))
}

/// The dense index of a tray name of the tiny campus.
pub fn tray_index(name: &str) -> u32 {
    tiny()
        .resolve_tray(name)
        .expect("a tray of the tiny campus")
        .0
}

/// The name of the tiny campus's rack `i` (0..8 are the GB200 racks).
pub fn rack(i: u32) -> String {
    tiny().rack_name(RackId(i))
}

/// Crusoe -> Oracle -> {OpenAI -> {pretrain, research}, Acme -> {ft}} on
/// the tiny campus (576 GB200 GPUs).
pub fn tiny_tenants() -> Vec<TenantSpec> {
    vec![
        TenantSpec::new("crusoe", None),
        TenantSpec::new("oracle", Some("crusoe")).guarantee(GB200, 576),
        TenantSpec::new("openai", Some("oracle"))
            .guarantee(GB200, 288)
            .weight(3),
        TenantSpec::new("pretrain", Some("openai")).guarantee(GB200, 216),
        TenantSpec::new("research", Some("openai")).guarantee(GB200, 72),
        TenantSpec::new("acme", Some("oracle"))
            .guarantee(GB200, 144)
            .borrow_limit(GB200, 288),
        TenantSpec::new("ft", Some("acme")).guarantee(GB200, 144),
    ]
}

pub fn tiny_scheduler() -> Scheduler {
    Scheduler::with_campus(tiny().clone(), Config::default(), &tiny_tenants())
        .expect("valid set-up")
}

/// The placement of job `id` if it started in `events`.
pub fn started(events: &[Event], id: u64) -> Option<&Placement> {
    events.iter().find_map(|e| match e {
        Event::Started { job, placement, .. } if job.0 == id => Some(placement),
        _ => None,
    })
}
