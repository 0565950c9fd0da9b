//! Tenancy as a tree: operator -> lessee -> tenant -> project.
//!
//! Every node has a guaranteed quota per SKU (in GPUs), an optional limit on
//! how much more it may borrow from capacity its siblings leave unused, and a
//! weight for fair share. A node's children may not be guaranteed more than
//! the node itself; the root's guarantee is the campus.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::job::Time;

/// One node of the tree as the caller describes it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantSpec {
    pub name: String,
    /// None for the root (the operator).
    pub parent: Option<String>,
    /// Guaranteed GPUs per SKU key.
    #[serde(default)]
    pub guarantee: BTreeMap<String, u64>,
    /// Most GPUs per SKU this node may use above its guarantee; a SKU not
    /// listed may borrow without limit.
    #[serde(default)]
    pub borrow_limit: BTreeMap<String, u64>,
    #[serde(default = "one")]
    pub weight: u32,
    /// Guarantees that hold only between two dates, on top of `guarantee`
    /// (a lease that grows as buildings come online).
    #[serde(default)]
    pub contracts: Vec<Contract>,
}

/// `gpus` more of `sku` guaranteed from `start` until `end` (None: no end),
/// in seconds on the caller's clock.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contract {
    pub sku: String,
    pub gpus: u64,
    pub start: Time,
    #[serde(default)]
    pub end: Option<Time>,
}

impl Contract {
    fn active(&self, now: Time) -> bool {
        self.start <= now && self.end.is_none_or(|e| now < e)
    }
}

fn one() -> u32 {
    1
}

/// Most weight a node may have: fair share divides by sums of weights.
pub const MAX_WEIGHT: u32 = 1_000_000;
/// Most nodes a tree may have, so that every tree operation stays cheap.
pub const MAX_NODES: usize = 100_000;

impl TenantSpec {
    pub fn new(name: &str, parent: Option<&str>) -> Self {
        TenantSpec {
            name: name.to_string(),
            parent: parent.map(str::to_string),
            guarantee: BTreeMap::new(),
            borrow_limit: BTreeMap::new(),
            weight: 1,
            contracts: Vec::new(),
        }
    }

    pub fn guarantee(mut self, sku: &str, gpus: u64) -> Self {
        self.guarantee.insert(sku.to_string(), gpus);
        self
    }

    pub fn borrow_limit(mut self, sku: &str, gpus: u64) -> Self {
        self.borrow_limit.insert(sku.to_string(), gpus);
        self
    }

    pub fn weight(mut self, w: u32) -> Self {
        self.weight = w;
        self
    }

    pub fn contract(mut self, sku: &str, gpus: u64, start: Time, end: Option<Time>) -> Self {
        self.contracts.push(Contract {
            sku: sku.to_string(),
            gpus,
            start,
            end,
        });
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TenantError {
    #[error("tenant[{index}] `{name}`: duplicate name")]
    Duplicate { index: usize, name: String },
    #[error("tenant[{index}] `{name}`: parent `{parent}` is not defined before it")]
    UnknownParent {
        index: usize,
        name: String,
        parent: String,
    },
    #[error("tenant[{index}] `{name}`: a second root; only the operator has no parent")]
    SecondRoot { index: usize, name: String },
    #[error("no tenants: the tree needs a root (the operator)")]
    NoRoot,
    #[error("tenant `{name}`: unknown SKU `{sku}` in {field}")]
    UnknownSku {
        name: String,
        sku: String,
        field: &'static str,
    },
    #[error(
        "tenant `{name}`: children are guaranteed {children} {sku} GPUs at t={at}s, more than its {own}"
    )]
    Overcommitted {
        name: String,
        sku: String,
        children: u64,
        own: u64,
        at: Time,
    },
    #[error("tenant `{name}`: weight must be 1..={MAX_WEIGHT}, got {weight}")]
    BadWeight { name: String, weight: u32 },
    #[error("tenant `{name}`: a name must be 1 to 128 characters, without control characters")]
    BadName { name: String },
    #[error("tenant `{name}`: contract {index} ends at {end}, not after its start {start}")]
    BadContract {
        name: String,
        index: usize,
        start: Time,
        end: Time,
    },
    #[error("more than {MAX_NODES} tenant nodes")]
    TooMany,
}

/// Node index in the tree; 0 is the root.
pub type NodeId = u32;

#[derive(Debug, Clone)]
pub(crate) struct TenantTree {
    pub names: Vec<String>,
    pub parent: Vec<Option<NodeId>>,
    /// The nodes as last described, in node order (retired ones included).
    pub(crate) specs: Vec<TenantSpec>,
    pub(crate) retired: Vec<bool>,
    by_name: BTreeMap<String, NodeId>,
    skus: usize,
    guarantee: Vec<u64>,
    borrow: Vec<u64>,
    usage: Vec<u64>,
    /// Usage by jobs that run inside their guarantees (not borrowing).
    guaranteed_usage: Vec<u64>,
    /// Share of the campus this node is entitled to by weight, down the tree.
    pub share: Vec<f64>,
    /// Depth: 0 operator, 1 lessee, 2 tenant, 3 project.
    pub depth: Vec<u8>,
}

fn valid_name(name: &str) -> bool {
    (1..=128).contains(&name.len()) && !name.chars().any(char::is_control)
}

impl TenantTree {
    /// Builds the tree; `capacity` is the campus's GPUs for each SKU of
    /// `sku_keys`. Contracts count from time 0.
    #[cfg(test)]
    pub fn new(
        specs: &[TenantSpec],
        sku_keys: &[String],
        capacity: &[u64],
    ) -> Result<TenantTree, TenantError> {
        Self::build(specs, &vec![false; specs.len()], sku_keys, capacity, 0)
    }

    /// Builds the tree as it stands at `now`: guarantees include the
    /// contracts active then, and no node is overcommitted at `now` or at
    /// any later contract date. Retired nodes keep their place but are
    /// guaranteed nothing.
    pub(crate) fn build(
        specs: &[TenantSpec],
        retired: &[bool],
        sku_keys: &[String],
        capacity: &[u64],
        now: Time,
    ) -> Result<TenantTree, TenantError> {
        if specs.len() > MAX_NODES {
            return Err(TenantError::TooMany);
        }
        let skus = capacity.len();
        let mut t = TenantTree {
            names: Vec::new(),
            parent: Vec::new(),
            specs: specs.to_vec(),
            retired: retired.to_vec(),
            by_name: BTreeMap::new(),
            skus,
            guarantee: Vec::new(),
            borrow: Vec::new(),
            usage: Vec::new(),
            guaranteed_usage: Vec::new(),
            share: Vec::new(),
            depth: Vec::new(),
        };
        let mut weights = Vec::new();
        for (index, s) in specs.iter().enumerate() {
            let (parent, b) = t.check_spec(index, s, sku_keys)?;
            t.by_name.insert(s.name.clone(), index as NodeId);
            t.names.push(s.name.clone());
            t.depth
                .push(parent.map_or(0, |p| t.depth[p as usize].saturating_add(1)));
            t.parent.push(parent);
            t.borrow.extend(b);
            weights.push(f64::from(s.weight));
        }
        if t.names.is_empty() {
            return Err(TenantError::NoRoot);
        }
        // Children may not be promised more than their parent has, now or
        // at any later contract date.
        let mut dates: Vec<Time> = specs
            .iter()
            .flat_map(|s| s.contracts.iter())
            .flat_map(|c| [Some(c.start), c.end])
            .flatten()
            .filter(|&d| d > now)
            .collect();
        dates.sort_unstable();
        dates.dedup();
        for &at in dates.iter().rev().chain(std::iter::once(&now)) {
            t.guarantee = t.guarantees_at(at, sku_keys, capacity);
            t.check_overcommit(sku_keys, at)?;
        }
        t.usage = vec![0; t.names.len() * skus];
        t.guaranteed_usage = vec![0; t.names.len() * skus];
        t.share = t.shares(&weights);
        Ok(t)
    }

    /// Checks node `index`'s spec against the nodes before it; returns its
    /// parent and its borrow limit per SKU.
    fn check_spec(
        &self,
        index: usize,
        s: &TenantSpec,
        sku_keys: &[String],
    ) -> Result<(Option<NodeId>, Vec<u64>), TenantError> {
        let sku = |key: &str| sku_keys.iter().position(|k| k == key);
        let unknown = |key: &str, field| TenantError::UnknownSku {
            name: s.name.clone(),
            sku: key.to_string(),
            field,
        };
        if !valid_name(&s.name) {
            return Err(TenantError::BadName {
                name: s.name.clone(),
            });
        }
        if self.by_name.contains_key(s.name.as_str()) {
            return Err(TenantError::Duplicate {
                index,
                name: s.name.clone(),
            });
        }
        if !(1..=MAX_WEIGHT).contains(&s.weight) {
            return Err(TenantError::BadWeight {
                name: s.name.clone(),
                weight: s.weight,
            });
        }
        let parent =
            match &s.parent {
                None if index == 0 => None,
                None => {
                    return Err(TenantError::SecondRoot {
                        index,
                        name: s.name.clone(),
                    });
                }
                Some(p) => Some(*self.by_name.get(p.as_str()).ok_or_else(|| {
                    TenantError::UnknownParent {
                        index,
                        name: s.name.clone(),
                        parent: p.clone(),
                    }
                })?),
            };
        for key in s.guarantee.keys() {
            sku(key).ok_or_else(|| unknown(key, "guarantee"))?;
        }
        for (i, c) in s.contracts.iter().enumerate() {
            sku(&c.sku).ok_or_else(|| unknown(&c.sku, "contracts"))?;
            if let Some(end) = c.end
                && end <= c.start
            {
                return Err(TenantError::BadContract {
                    name: s.name.clone(),
                    index: i,
                    start: c.start,
                    end,
                });
            }
        }
        let mut b = vec![u64::MAX; self.skus];
        for (key, &v) in &s.borrow_limit {
            b[sku(key).ok_or_else(|| unknown(key, "borrow_limit"))?] = v;
        }
        if parent.is_none() {
            // The operator cannot borrow: it has the campus.
            b = vec![0; self.skus];
        }
        Ok((parent, b))
    }

    /// Fair-share entitlement: each node's weight among its siblings, times
    /// its parent's entitlement.
    fn shares(&self, weights: &[f64]) -> Vec<f64> {
        let mut sibling_weight = vec![0.0; self.names.len()];
        for (n, &w) in weights.iter().enumerate().skip(1) {
            let p = self.parent[n].map_or(0, |p| p as usize);
            sibling_weight[p] += w;
        }
        let mut share = vec![1.0; self.names.len()];
        for (n, &w) in weights.iter().enumerate().skip(1) {
            let p = self.parent[n].map_or(0, |p| p as usize);
            share[n] = share[p] * w / sibling_weight[p];
        }
        share
    }

    /// Every node's guarantee per SKU at time `at`.
    fn guarantees_at(&self, at: Time, sku_keys: &[String], capacity: &[u64]) -> Vec<u64> {
        let skus = self.skus;
        let sku = |key: &str| sku_keys.iter().position(|k| k == key).unwrap_or(0);
        let mut g = vec![0u64; self.specs.len() * skus];
        for (n, s) in self.specs.iter().enumerate() {
            let row = &mut g[n * skus..(n + 1) * skus];
            if n == 0 {
                // The operator is guaranteed the campus.
                row.copy_from_slice(capacity);
                continue;
            }
            if self.retired[n] {
                continue;
            }
            for (key, &v) in &s.guarantee {
                row[sku(key)] = v;
            }
            for c in s.contracts.iter().filter(|c| c.active(at)) {
                let cell = &mut row[sku(&c.sku)];
                *cell = cell.saturating_add(c.gpus);
            }
        }
        g
    }

    fn check_overcommit(&self, sku_keys: &[String], at: Time) -> Result<(), TenantError> {
        let skus = self.skus;
        let mut children = vec![0u64; self.names.len() * skus];
        for n in 1..self.names.len() {
            let p = self.parent[n].map_or(0, |p| p as usize);
            for s in 0..skus {
                let c = &mut children[p * skus + s];
                *c = c.saturating_add(self.guarantee[n * skus + s]);
            }
        }
        for n in 0..self.names.len() {
            for (s, key) in sku_keys.iter().enumerate().take(skus) {
                let (c, own) = (children[n * skus + s], self.guarantee[n * skus + s]);
                if c > own {
                    return Err(TenantError::Overcommitted {
                        name: self.names[n].clone(),
                        sku: key.clone(),
                        children: c,
                        own,
                        at,
                    });
                }
            }
        }
        Ok(())
    }

    /// The next contract date after `now`, when guarantees move.
    pub(crate) fn next_change(&self, now: Time) -> Option<Time> {
        self.specs
            .iter()
            .flat_map(|s| s.contracts.iter())
            .flat_map(|c| [Some(c.start), c.end])
            .flatten()
            .filter(|&d| d > now)
            .min()
    }

    /// Takes over the usage of `old`, whose nodes are a prefix of ours.
    pub(crate) fn adopt_usage(&mut self, old: &TenantTree) {
        let n = old.usage.len();
        self.usage[..n].copy_from_slice(&old.usage);
        self.guaranteed_usage[..n].copy_from_slice(&old.guaranteed_usage);
    }

    pub(crate) fn is_retired(&self, n: NodeId) -> bool {
        self.retired[n as usize]
    }

    /// Whether `n` is `ancestor` or below it.
    pub fn is_under(&self, n: NodeId, ancestor: NodeId) -> bool {
        self.chain(n).any(|a| a == ancestor)
    }

    pub fn skus(&self) -> usize {
        self.skus
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn lookup(&self, name: &str) -> Option<NodeId> {
        self.by_name.get(name).copied()
    }

    /// The node and its ancestors up to the root.
    pub fn chain(&self, n: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        std::iter::successors(Some(n), move |&c| self.parent[c as usize])
    }

    pub fn usage(&self, n: NodeId, sku: u16) -> u64 {
        self.usage[n as usize * self.skus + usize::from(sku)]
    }

    pub fn guarantee(&self, n: NodeId, sku: u16) -> u64 {
        self.guarantee[n as usize * self.skus + usize::from(sku)]
    }

    pub fn borrow_limit(&self, n: NodeId, sku: u16) -> u64 {
        self.borrow[n as usize * self.skus + usize::from(sku)]
    }

    /// Most this node may use: its guarantee plus what it may borrow.
    pub fn ceiling(&self, n: NodeId, sku: u16) -> u64 {
        self.guarantee(n, sku)
            .saturating_add(self.borrow_limit(n, sku))
    }

    /// The first node of the chain that `gpus` more would push over its
    /// ceiling, counting `refund` GPUs per node as already given back.
    pub fn blocking_node(
        &self,
        n: NodeId,
        sku: u16,
        gpus: u64,
        refund: &dyn Fn(NodeId) -> u64,
    ) -> Option<NodeId> {
        self.chain(n)
            .find(|&a| self.usage(a, sku).saturating_sub(refund(a)) + gpus > self.ceiling(a, sku))
    }

    pub fn guaranteed_usage(&self, n: NodeId, sku: u16) -> u64 {
        self.guaranteed_usage[n as usize * self.skus + usize::from(sku)]
    }

    /// Whether `gpus` more fit inside the guarantee of every node in the
    /// chain, counting only work that runs inside guarantees: what others
    /// borrow is reclaimable, so it does not count against the owner.
    pub fn within_guarantee(
        &self,
        n: NodeId,
        sku: u16,
        gpus: u64,
        refund: &dyn Fn(NodeId) -> u64,
    ) -> bool {
        self.chain(n).all(|a| {
            self.guaranteed_usage(a, sku).saturating_sub(refund(a)) + gpus <= self.guarantee(a, sku)
        })
    }

    pub fn charge(&mut self, n: NodeId, sku: u16, gpus: u64, borrowed: bool) {
        let skus = self.skus;
        let mut c = Some(n);
        while let Some(a) = c {
            let i = a as usize * skus + usize::from(sku);
            self.usage[i] += gpus;
            if !borrowed {
                self.guaranteed_usage[i] += gpus;
            }
            c = self.parent[a as usize];
        }
    }

    pub fn refund(&mut self, n: NodeId, sku: u16, gpus: u64, borrowed: bool) {
        let skus = self.skus;
        let mut c = Some(n);
        while let Some(a) = c {
            let i = a as usize * skus + usize::from(sku);
            debug_assert!(
                self.usage[i] >= gpus,
                "refund below zero at {}",
                self.names[a as usize]
            );
            self.usage[i] -= gpus;
            if !borrowed {
                self.guaranteed_usage[i] -= gpus;
            }
            c = self.parent[a as usize];
        }
    }

    /// The node's use of all SKUs relative to its fair-share entitlement.
    pub fn share_used(&self, n: NodeId) -> f64 {
        let used: u64 = (0..self.skus)
            .map(|s| self.usage[n as usize * self.skus + s])
            .sum();
        used as f64 / self.share[n as usize]
    }

    /// The tenant-level ancestor (depth 2), or the node itself if shallower.
    pub fn tenant_of(&self, n: NodeId) -> NodeId {
        self.chain(n)
            .find(|&a| self.depth[a as usize] <= 2)
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> TenantTree {
        let specs = vec![
            TenantSpec::new("crusoe", None),
            TenantSpec::new("oracle", Some("crusoe")).guarantee("gb", 1000),
            TenantSpec::new("openai", Some("oracle"))
                .guarantee("gb", 600)
                .weight(3),
            TenantSpec::new("other", Some("oracle"))
                .guarantee("gb", 200)
                .borrow_limit("gb", 100),
        ];
        TenantTree::new(&specs, &["gb".to_string()], &[1000]).unwrap()
    }

    #[test]
    fn ceilings_and_guarantees_follow_the_chain() {
        let mut t = tree();
        let other = t.lookup("other").unwrap();
        let none = |_| 0;
        assert!(t.within_guarantee(other, 0, 200, &none));
        assert!(!t.within_guarantee(other, 0, 201, &none));
        assert_eq!(t.blocking_node(other, 0, 300, &none), None);
        assert_eq!(t.blocking_node(other, 0, 301, &none), Some(other));
        t.charge(other, 0, 300, true);
        assert_eq!(t.usage(0, 0), 300);
        let openai = t.lookup("openai").unwrap();
        assert_eq!(
            t.blocking_node(openai, 0, 701, &none),
            Some(0),
            "the campus is full"
        );
        t.refund(other, 0, 300, true);
        assert_eq!(t.usage(0, 0), 0);
        assert!((t.share[openai as usize] - 0.75).abs() < 1e-9);
    }

    #[test]
    fn rejects_bad_trees() {
        let cap = [10];
        let sku = &["gb".to_string()];
        let over = vec![
            TenantSpec::new("op", None),
            TenantSpec::new("a", Some("op")).guarantee("gb", 8),
            TenantSpec::new("b", Some("op")).guarantee("gb", 8),
        ];
        assert!(matches!(
            TenantTree::new(&over, sku, &cap),
            Err(TenantError::Overcommitted { .. })
        ));
        let orphan = vec![
            TenantSpec::new("op", None),
            TenantSpec::new("a", Some("zz")),
        ];
        assert!(matches!(
            TenantTree::new(&orphan, sku, &cap),
            Err(TenantError::UnknownParent { .. })
        ));
        let badsku = vec![
            TenantSpec::new("op", None),
            TenantSpec::new("a", Some("op")).guarantee("h9", 1),
        ];
        assert!(matches!(
            TenantTree::new(&badsku, sku, &cap),
            Err(TenantError::UnknownSku { .. })
        ));
        assert!(matches!(
            TenantTree::new(&[], sku, &cap),
            Err(TenantError::NoRoot)
        ));
    }
}
