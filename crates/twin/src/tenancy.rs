//! The default tenancy of a scenario: Crusoe -> Oracle -> OpenAI and one
//! other tenant, with guarantees that add up to the campus.

use abilene_model::Campus;
use abilene_scheduler::TenantSpec;

use crate::scenario::ScenarioSpec;

/// The scenario's tenants, or the default tree: Oracle leases the whole
/// campus (domain.md §1: a 15-year lease on all of it); OpenAI is guaranteed
/// 80% (frontier 60, research 12, inference 8) and "tenant-b" 20%, all free
/// to borrow (assumed split; domain.md names no others).
pub fn tenants(spec: &ScenarioSpec, campus: &Campus) -> Vec<TenantSpec> {
    if !spec.tenants.is_empty() {
        return spec.tenants.clone();
    }
    let mut by_sku: Vec<(String, u64)> = Vec::new();
    for (id, key, _) in campus.catalog.iter() {
        let gpus: u64 = campus
            .trays
            .iter()
            .filter(|t| t.sku == id)
            .map(|t| u64::from(t.gpus))
            .sum();
        if gpus > 0 {
            by_sku.push((key.to_string(), gpus));
        }
    }
    let share = |name: &str, parent: &str, pct: u64| {
        let mut t = TenantSpec::new(name, Some(parent));
        for (k, g) in &by_sku {
            t = t.guarantee(k, g * pct / 100);
        }
        t
    };
    let mut oracle = TenantSpec::new("oracle", Some("crusoe"));
    for (k, g) in &by_sku {
        oracle = oracle.guarantee(k, *g);
    }
    vec![
        TenantSpec::new("crusoe", None),
        oracle,
        share("openai", "oracle", 80).weight(4),
        share("frontier", "openai", 60),
        share("research", "openai", 12),
        share("inference", "openai", 8),
        share("tenant-b", "oracle", 20),
        share("b-train", "tenant-b", 20),
    ]
}
