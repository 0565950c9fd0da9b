//! The default tenancy of a scenario: Crusoe -> Oracle -> OpenAI and one
//! other tenant, with guarantees that add up to the campus.

use std::collections::{BTreeMap, HashMap};

use abilene_model::Campus;
use abilene_model::diagnostic::{Diagnostic, FieldPath};
use abilene_scheduler::TenantSpec;

use crate::bounds::Bound;

use crate::scenario::ScenarioSpec;

/// GPUs of each SKU key the campus has racks of.
fn gpus_by_sku(campus: &Campus) -> BTreeMap<String, u64> {
    let mut gpus: Vec<u64> = vec![0; campus.catalog.len()];
    for t in &campus.trays {
        gpus[t.sku.index()] += u64::from(t.gpus);
    }
    campus
        .catalog
        .iter()
        .map(|(id, key, _)| (key.to_string(), gpus[id.index()]))
        .collect()
}

/// Most tenants a scenario may list: the scheduler's checks of the tree
/// grow with the square of their number.
pub const MAX_TENANTS: usize = 4_096;

/// Checks a scenario's own tenancy the way the scheduler will build it, so
/// that each problem is placed at its `[[tenant]]` entry: the first entry is
/// the root (no parent), each other names a parent listed before it, names
/// are unique, weights from 1 to 1,000,000, SKU keys from the catalogue,
/// each guarantee from 0 to the campus's GPUs of that SKU, and no node's
/// children guaranteed more than it is (the root is guaranteed the campus).
pub fn check(specs: &[TenantSpec], campus: &Campus) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    let root = FieldPath::root().key("tenant");
    if specs.len() > MAX_TENANTS {
        d.push(Diagnostic::new(
            root,
            format!(
                "must list at most {MAX_TENANTS} tenants, got {}",
                specs.len()
            ),
        ));
        return d;
    }
    let capacity = gpus_by_sku(campus);
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut parents: Vec<Option<usize>> = Vec::with_capacity(specs.len());
    for (i, t) in specs.iter().enumerate() {
        let at = root.index(i);
        if index.contains_key(t.name.as_str()) {
            d.push(Diagnostic::new(
                at.key("name"),
                format!("duplicate tenant name `{}`", t.name),
            ));
        } else {
            index.insert(&t.name, i);
        }
        Bound::closed(1.0, 1e6).check_int(&mut d, &at, "weight", u64::from(t.weight));
        parents.push(check_parent(&mut d, &at, i, t, &index));
        for (field, map) in [
            ("guarantee", &t.guarantee),
            ("borrow_limit", &t.borrow_limit),
        ] {
            for (sku, &gpus) in map {
                let Some(&cap) = capacity.get(sku) else {
                    d.push(Diagnostic::new(
                        at.key(field).key(sku),
                        format!("no rack type `{sku}` in the catalogue"),
                    ));
                    continue;
                };
                if field == "guarantee" && gpus > cap {
                    d.push(Diagnostic::new(
                        at.key(field).key(sku),
                        format!("must be from 0 to {cap} (the campus's {sku} GPUs), got {gpus}"),
                    ));
                }
            }
        }
    }
    check_overcommit(&mut d, specs, &parents, &capacity);
    d
}

/// The parent of entry `i`, if it is valid; problems go to `d`.
fn check_parent(
    d: &mut Vec<Diagnostic>,
    at: &FieldPath,
    i: usize,
    t: &TenantSpec,
    index: &HashMap<&str, usize>,
) -> Option<usize> {
    match (&t.parent, i) {
        (None, 0) => None,
        (None, _) => {
            d.push(Diagnostic::new(
                at.key("name"),
                format!(
                    "`{}` has no parent: only the first tenant, the operator, is the root",
                    t.name
                ),
            ));
            None
        }
        (Some(p), _) => match index.get(p.as_str()) {
            Some(&j) if j < i => Some(j),
            _ if i == 0 => {
                d.push(Diagnostic::new(
                    at.key("parent"),
                    "the first tenant is the root (the operator) and has no parent",
                ));
                None
            }
            _ => {
                d.push(Diagnostic::new(
                    at.key("parent"),
                    format!("no tenant `{p}` listed before this one"),
                ));
                None
            }
        },
    }
}

/// Children may not be guaranteed more than their parent; sums saturate.
fn check_overcommit(
    d: &mut Vec<Diagnostic>,
    specs: &[TenantSpec],
    parents: &[Option<usize>],
    capacity: &BTreeMap<String, u64>,
) {
    let own = |n: usize, sku: &str| -> u64 {
        if n == 0 {
            capacity.get(sku).copied().unwrap_or(0)
        } else {
            specs[n].guarantee.get(sku).copied().unwrap_or(0)
        }
    };
    let mut children: BTreeMap<(usize, &str), u64> = BTreeMap::new();
    for (c, p) in parents.iter().enumerate() {
        let Some(p) = *p else { continue };
        for (sku, &g) in &specs[c].guarantee {
            let sum = children.entry((p, sku.as_str())).or_default();
            *sum = sum.saturating_add(g);
        }
    }
    for ((p, sku), sum) in children {
        let has = own(p, sku);
        if sum > has {
            d.push(Diagnostic::new(
                FieldPath::root().key("tenant").index(p).key("name"),
                format!(
                    "`{}`: its children are guaranteed {sum} {sku} GPUs in all, more than its {has}",
                    specs[p].name
                ),
            ));
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Campus {
        let p = abilene_model::preset::preset("tiny").unwrap();
        Campus::load(p.file, p.toml).unwrap()
    }

    fn fields(d: &[Diagnostic]) -> Vec<String> {
        d.iter().map(|d| d.path.to_string()).collect()
    }

    #[test]
    fn a_valid_tree_passes() {
        let c = tiny();
        let specs = [
            TenantSpec::new("op", None),
            TenantSpec::new("a", Some("op")).guarantee("gb200-nvl72", 72),
            TenantSpec::new("b", Some("a")).guarantee("gb200-nvl72", 72),
        ];
        assert!(check(&specs, &c).is_empty(), "{:?}", check(&specs, &c));
    }

    #[test]
    fn guarantees_whose_sum_overflows_are_refused_not_wrapped() {
        // Two children at u64::MAX each: their sum wrapped to below the
        // parent's guarantee, so the tree passed.
        let c = tiny();
        let specs = [
            TenantSpec::new("op", None),
            TenantSpec::new("a", Some("op")).guarantee("gb200-nvl72", u64::MAX),
            TenantSpec::new("b", Some("op")).guarantee("gb200-nvl72", u64::MAX),
        ];
        let d = check(&specs, &c);
        assert_eq!(
            fields(&d),
            [
                "tenant[1].guarantee.gb200-nvl72",
                "tenant[2].guarantee.gb200-nvl72",
                "tenant[0].name"
            ],
            "{d:?}"
        );
        assert!(d[0].message.contains("got 18446744073709551615"), "{d:?}");
        assert!(d[2].message.contains("more than its"), "{d:?}");
    }

    #[test]
    fn every_tree_problem_is_placed_at_its_entry() {
        let c = tiny();
        let specs = [
            TenantSpec::new("op", Some("nobody")),
            TenantSpec::new("a", Some("op")).weight(0),
            TenantSpec::new("a", Some("ghost")),
            TenantSpec::new("loose", None).guarantee("mi355x", 1),
        ];
        let d = check(&specs, &c);
        assert_eq!(
            fields(&d),
            [
                "tenant[0].parent",
                "tenant[1].weight",
                "tenant[2].name",
                "tenant[2].parent",
                "tenant[3].name",
                "tenant[3].guarantee.mi355x"
            ],
            "{d:?}"
        );
    }
}
