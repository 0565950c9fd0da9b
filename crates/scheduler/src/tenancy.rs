//! Tenancy as commands: create, update and retire tenant nodes at run time,
//! and the contract dates that move guarantees as a lease grows.
//!
//! Every change rebuilds the tree from its specs (so the same checks apply
//! as at start: no child guaranteed more than its parent, now or at any
//! later contract date), keeps node ids stable (nodes are only appended),
//! carries usage over, and is refused if a running job would then be over a
//! ceiling: a command never silently breaks a quota.

use crate::command::TenantUpdate;
use crate::event::Event;
use crate::job::Time;
use crate::reject::Reject;
use crate::scheduler::{JobState, PRIORITIES, Scheduler};
use crate::tenant::{NodeId, TenantSpec, TenantTree};

impl Scheduler {
    pub(crate) fn create_tenant(&mut self, now: Time, spec: TenantSpec) -> Result<(), Reject> {
        if self.tenants.lookup(&spec.name).is_some() {
            return Err(Reject::DuplicateTenant { name: spec.name });
        }
        let Some(parent) = spec.parent.as_deref() else {
            return Err(Reject::BadValue {
                field: "parent".into(),
                value: "null".into(),
                why: "only the operator has no parent, and it exists".into(),
            });
        };
        let p = self
            .tenants
            .lookup(parent)
            .ok_or_else(|| Reject::UnknownTenant {
                name: parent.to_string(),
            })?;
        if self.tenants.is_retired(p) {
            return Err(Reject::RetiredTenant {
                name: parent.to_string(),
            });
        }
        let mut specs = self.tenants.specs.clone();
        let mut retired = self.tenants.retired.clone();
        specs.push(spec);
        retired.push(false);
        self.replace_tree(now, &specs, &retired)
    }

    pub(crate) fn update_tenant(&mut self, now: Time, u: TenantUpdate) -> Result<(), Reject> {
        let n = self.node_named(&u.name)?;
        let mut specs = self.tenants.specs.clone();
        let s = &mut specs[n as usize];
        if let Some(g) = u.guarantee {
            s.guarantee = g;
        }
        if let Some(b) = u.borrow_limit {
            s.borrow_limit = b;
        }
        if let Some(w) = u.weight {
            s.weight = w;
        }
        if let Some(c) = u.contracts {
            s.contracts = c;
        }
        let retired = self.tenants.retired.clone();
        self.replace_tree(now, &specs, &retired)
    }

    pub(crate) fn retire_tenant(&mut self, now: Time, name: &str) -> Result<(), Reject> {
        let n = self.node_named(name)?;
        if n == 0 {
            return Err(Reject::BadValue {
                field: "name".into(),
                value: name.to_string(),
                why: "the operator cannot be retired".into(),
            });
        }
        let jobs = self.live_jobs_under(n);
        let children = (0..self.tenants.len())
            .filter(|&c| self.tenants.parent[c] == Some(n) && !self.tenants.retired[c])
            .count() as u64;
        if jobs > 0 || children > 0 {
            return Err(Reject::TenantInUse {
                name: name.to_string(),
                jobs,
                children,
            });
        }
        let specs = self.tenants.specs.clone();
        let mut retired = self.tenants.retired.clone();
        retired[n as usize] = true;
        self.replace_tree(now, &specs, &retired)
    }

    /// A live node by name.
    fn node_named(&self, name: &str) -> Result<NodeId, Reject> {
        let n = self
            .tenants
            .lookup(name)
            .ok_or_else(|| Reject::UnknownTenant {
                name: name.to_string(),
            })?;
        if self.tenants.is_retired(n) {
            return Err(Reject::RetiredTenant {
                name: name.to_string(),
            });
        }
        Ok(n)
    }

    /// Builds the tree from `specs` at `now` and takes it on, or refuses.
    fn replace_tree(
        &mut self,
        now: Time,
        specs: &[TenantSpec],
        retired: &[bool],
    ) -> Result<(), Reject> {
        let mut tree = TenantTree::build(
            specs,
            retired,
            &self.topo.sku_keys,
            self.topo.capacity(),
            now,
        )
        .map_err(|e| Reject::Tenancy(e.to_string()))?;
        tree.adopt_usage(&self.tenants);
        if let Some((n, s)) = over_ceiling(&tree) {
            return Err(Reject::OverQuota {
                node: tree.names[n as usize].clone(),
                sku: self.topo.sku_keys[usize::from(s)].clone(),
                want: tree.usage(n, s),
                ceiling: tree.ceiling(n, s),
            });
        }
        self.take_tree(tree);
        Ok(())
    }

    fn take_tree(&mut self, tree: TenantTree) {
        let nodes = tree.len();
        self.preemptible_gpus
            .resize(nodes * self.topo.skus * PRIORITIES, 0);
        self.by_node.resize(nodes, Default::default());
        self.next_tenancy_change = tree.next_change(self.now);
        self.tenants = tree;
        // Fair share and quota headroom moved: the whole queue may move.
        self.dirty = true;
        self.verdict_epoch = self.verdict_epoch.wrapping_add(1);
    }

    /// At a contract date, guarantees move; a node left over its ceiling
    /// gives back its newest jobs until it fits (the lease has ended).
    pub(crate) fn tick_tenancy(&mut self, now: Time, events: &mut Vec<Event>) {
        let Some(at) = self.next_tenancy_change else {
            return;
        };
        if now < at {
            return;
        }
        let old = self.tenants.clone();
        let Ok(mut tree) = TenantTree::build(
            &old.specs,
            &old.retired,
            &self.topo.sku_keys,
            self.topo.capacity(),
            now,
        ) else {
            // Every later date was checked when the specs were accepted.
            debug_assert!(false, "a tree accepted earlier failed at a later date");
            self.next_tenancy_change = None;
            return;
        };
        tree.adopt_usage(&old);
        for n in 0..tree.len() as NodeId {
            for s in 0..self.topo.skus as u16 {
                if tree.guarantee(n, s) != old.guarantee(n, s) {
                    events.push(Event::GuaranteeChanged {
                        tenant: tree.names[n as usize].clone(),
                        sku: self.topo.sku_keys[usize::from(s)].clone(),
                        gpus: tree.guarantee(n, s),
                    });
                }
            }
        }
        self.take_tree(tree);
        self.reclaim_over_ceiling(now, events);
    }

    /// Requeues the newest running jobs under any node over its ceiling.
    fn reclaim_over_ceiling(&mut self, now: Time, events: &mut Vec<Event>) {
        while let Some((n, s)) = over_ceiling(&self.tenants) {
            let newest = self
                .jobs
                .iter()
                .enumerate()
                .filter(|(_, j)| {
                    j.state == JobState::Running && j.sku == s && self.tenants.is_under(j.node, n)
                })
                .max_by_key(|(_, j)| j.seq)
                .map(|(i, _)| i as u32);
            let Some(slot) = newest else { break };
            let lost = self.requeue(now, slot);
            events.push(Event::Preempted {
                job: self.jobs[slot as usize].spec.id,
                by: None,
                lost_work: lost,
            });
        }
    }
}

/// The first node and SKU whose usage exceeds its ceiling.
fn over_ceiling(t: &TenantTree) -> Option<(NodeId, u16)> {
    (0..t.len() as NodeId).find_map(|n| {
        (0..t.skus() as u16)
            .find(|&s| t.usage(n, s) > t.ceiling(n, s))
            .map(|s| (n, s))
    })
}
