//! Tenancy as a tree: operator -> lessee -> tenant -> project.
//!
//! Every node has a guaranteed quota per SKU (in GPUs), an optional limit on
//! how much more it may borrow from capacity its siblings leave unused, and a
//! weight for fair share. A node's children may not be guaranteed more than
//! the node itself; the root's guarantee is the campus.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One node of the tree as the caller describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
}

fn one() -> u32 {
    1
}

impl TenantSpec {
    pub fn new(name: &str, parent: Option<&str>) -> Self {
        TenantSpec {
            name: name.to_string(),
            parent: parent.map(str::to_string),
            guarantee: BTreeMap::new(),
            borrow_limit: BTreeMap::new(),
            weight: 1,
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
    #[error("tenant `{name}`: children are guaranteed {children} {sku} GPUs, more than its {own}")]
    Overcommitted {
        name: String,
        sku: String,
        children: u64,
        own: u64,
    },
    #[error("tenant `{name}`: weight must be 1 or more")]
    ZeroWeight { name: String },
}

/// Node index in the tree; 0 is the root.
pub type NodeId = u32;

#[derive(Debug, Clone)]
pub struct TenantTree {
    pub names: Vec<String>,
    pub parent: Vec<Option<NodeId>>,
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

impl TenantTree {
    /// Builds the tree; `capacity` is the campus's GPUs for each SKU of
    /// `sku_keys`.
    pub fn new(
        specs: &[TenantSpec],
        sku_keys: &[String],
        capacity: &[u64],
    ) -> Result<TenantTree, TenantError> {
        let skus = capacity.len();
        let sku = |key: &str| sku_keys.iter().position(|k| k == key);
        let mut t = TenantTree {
            names: Vec::new(),
            parent: Vec::new(),
            skus,
            guarantee: Vec::new(),
            borrow: Vec::new(),
            usage: Vec::new(),
            guaranteed_usage: Vec::new(),
            share: Vec::new(),
            depth: Vec::new(),
        };
        let mut by_name: BTreeMap<&str, NodeId> = BTreeMap::new();
        let mut weights = Vec::new();
        for (index, s) in specs.iter().enumerate() {
            if by_name.contains_key(s.name.as_str()) {
                return Err(TenantError::Duplicate {
                    index,
                    name: s.name.clone(),
                });
            }
            if s.weight == 0 {
                return Err(TenantError::ZeroWeight {
                    name: s.name.clone(),
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
                    Some(p) => Some(*by_name.get(p.as_str()).ok_or_else(|| {
                        TenantError::UnknownParent {
                            index,
                            name: s.name.clone(),
                            parent: p.clone(),
                        }
                    })?),
                };
            let mut g = vec![0u64; skus];
            let mut b = vec![u64::MAX; skus];
            for (key, &v) in &s.guarantee {
                let i = sku(key).ok_or_else(|| TenantError::UnknownSku {
                    name: s.name.clone(),
                    sku: key.clone(),
                    field: "guarantee",
                })?;
                g[i] = v;
            }
            for (key, &v) in &s.borrow_limit {
                let i = sku(key).ok_or_else(|| TenantError::UnknownSku {
                    name: s.name.clone(),
                    sku: key.clone(),
                    field: "borrow_limit",
                })?;
                b[i] = v;
            }
            if parent.is_none() {
                // The operator is guaranteed the campus and cannot borrow.
                g = capacity.to_vec();
                b = vec![0; skus];
            }
            by_name.insert(&s.name, index as NodeId);
            t.names.push(s.name.clone());
            t.depth.push(parent.map_or(0, |p| t.depth[p as usize] + 1));
            t.parent.push(parent);
            t.guarantee.extend(g);
            t.borrow.extend(b);
            weights.push(f64::from(s.weight));
        }
        if t.names.is_empty() {
            return Err(TenantError::NoRoot);
        }
        t.usage = vec![0; t.names.len() * skus];
        t.guaranteed_usage = vec![0; t.names.len() * skus];
        // Children may not be promised more than their parent has.
        for n in 0..t.names.len() {
            for (s, key) in sku_keys.iter().enumerate().take(skus) {
                let children: u64 = (0..t.names.len())
                    .filter(|&c| t.parent[c] == Some(n as NodeId))
                    .map(|c| t.guarantee[c * skus + s])
                    .sum();
                let own = t.guarantee[n * skus + s];
                if children > own {
                    return Err(TenantError::Overcommitted {
                        name: t.names[n].clone(),
                        sku: key.clone(),
                        children,
                        own,
                    });
                }
            }
        }
        // Fair-share entitlement: the node's weight among its siblings,
        // times its parent's entitlement.
        t.share = vec![1.0; t.names.len()];
        for n in 1..t.names.len() {
            let p = t.parent[n].map_or(0, |p| p as usize);
            let siblings: f64 = (0..t.names.len())
                .filter(|&c| t.parent[c] == t.parent[n])
                .map(|c| weights[c])
                .sum();
            t.share[n] = t.share[p] * weights[n] / siblings;
        }
        Ok(t)
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn lookup(&self, name: &str) -> Option<NodeId> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| i as NodeId)
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
