//! Shared set-up for the scheduler's integration tests.
#![allow(dead_code)]

use abilene_model::{Campus, preset};
use abilene_scheduler::{Config, Scheduler, TenantSpec};

pub const GB200: &str = "gb200-nvl72";

pub fn campus(name: &str) -> Campus {
    let p = preset::preset(name).expect("preset exists");
    Campus::load(p.file, p.toml).expect("preset is valid")
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
    Scheduler::new(&campus("tiny"), Config::default(), &tiny_tenants()).expect("valid set-up")
}
