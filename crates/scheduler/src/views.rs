//! Read views for the server and the dashboard: jobs by tenant subtree,
//! state and kind with cursor paging; one job with its pending reason in
//! words, its placement summarised and its history; tenant usage against
//! guarantee and borrowing; tray, rack and campus roll-ups. All by stable
//! names, all cheap at 400k GPUs and 100k jobs: listing walks the per-node
//! job index from the cursor, never the whole job table.

use serde::{Deserialize, Serialize};

use abilene_model::{HallId, RackId, TrayId};

use crate::event::{Event, Recovery};
use crate::job::{JobId, JobKind, JobSpec, Priority, Time};
use crate::reject::Reject;
use crate::scheduler::{GENERAL, Job, JobState, NO_JOB, Scheduler};

/// History entries kept per live job besides its submission; the first is
/// always kept.
pub const MAX_HISTORY: usize = 32;
/// Most jobs one page may hold.
pub const MAX_PAGE: usize = 1000;

/// What happened to a job, as its history records it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "what")]
pub enum Transition {
    Submitted,
    Started {
        gpus: u32,
        buildings: u32,
    },
    ReplicaStarted,
    Preempted {
        by: Option<JobId>,
        lost_work: Time,
    },
    Interrupted {
        tray: String,
        recovery: Recovery,
        lost_work: Time,
    },
    Throttled {
        clock: f64,
    },
    Suspended,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: Time,
    #[serde(flatten)]
    pub what: Transition,
}

/// A job's history, bounded: the submission and the latest entries.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    pub entries: Vec<HistoryEntry>,
    /// Entries dropped from the middle to keep the bound.
    pub dropped: u32,
}

impl History {
    pub(crate) fn push(&mut self, at: Time, what: Transition) {
        if self.entries.len() >= MAX_HISTORY {
            self.entries.remove(1);
            self.dropped = self.dropped.saturating_add(1);
        }
        self.entries.push(HistoryEntry { at, what });
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<HistoryEntry>()
    }
}

/// Training gangs or inference services.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KindFilter {
    Training,
    Service,
}

/// Which jobs a listing returns; every field left `None` matches all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobFilter {
    /// A tenant node: the listing holds its subtree's jobs only.
    pub tenant: Option<String>,
    pub state: Option<JobState>,
    pub kind: Option<KindFilter>,
}

/// Where a running job is, in a few figures and names.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacementSummary {
    pub gpus: u32,
    pub trays: u32,
    pub spare_trays: u32,
    pub buildings: Vec<String>,
    /// Trays per hall.
    pub halls: Vec<(String, u32)>,
    pub domains: u32,
    pub leaf_groups: u32,
}

/// One job as a listing shows it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobView {
    pub id: JobId,
    pub project: String,
    pub sku: String,
    pub kind: KindFilter,
    pub gpus: u32,
    pub priority: Priority,
    pub state: JobState,
    /// Why it waits, in words; None unless pending.
    pub pending_reason: Option<String>,
    pub submitted: Time,
    pub borrowed: bool,
    pub placement: Option<PlacementSummary>,
}

/// One job in full.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobDetail {
    #[serde(flatten)]
    pub view: JobView,
    pub spec: JobSpec,
    /// Work kept by checkpoints, in seconds of the job's run.
    pub committed_work: Time,
    pub history: History,
}

/// A page of a listing; `next` is the cursor for the page after it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobPage {
    pub jobs: Vec<JobView>,
    pub next: Option<JobId>,
}

/// A tenant node's standing for one SKU.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkuUsage {
    pub sku: String,
    pub guarantee: u64,
    /// None: may borrow without limit.
    pub borrow_limit: Option<u64>,
    pub usage: u64,
    /// GPUs in use above what runs inside guarantees.
    pub borrowed: u64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantUsage {
    pub name: String,
    pub parent: Option<String>,
    pub depth: u8,
    pub weight: u32,
    pub retired: bool,
    pub live_jobs: u64,
    pub skus: Vec<SkuUsage>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrayCondition {
    Up,
    Down,
    Drained,
    Quarantined,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrayView {
    pub name: String,
    pub sku: String,
    pub condition: TrayCondition,
    pub drain_reason: Option<String>,
    pub reservation: Option<String>,
    pub gpus: u32,
    pub busy_gpus: u32,
    /// Jobs holding GPUs on it.
    pub jobs: Vec<JobId>,
    pub failures_in_window: u32,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RackView {
    pub name: String,
    pub sku: String,
    pub trays: Vec<TrayView>,
}

/// GPU and tray counts, and draw, of a building or the campus.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Rollup {
    pub name: String,
    pub gpus: u64,
    pub busy_gpus: u64,
    pub free_gpus: u64,
    pub trays: u64,
    pub trays_down: u64,
    pub trays_drained: u64,
    pub trays_quarantined: u64,
    /// Projected draw: idle trays plus running jobs.
    pub draw_kw: f64,
    pub cap_kw: Option<f64>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampusRollup {
    pub campus: Rollup,
    pub buildings: Vec<Rollup>,
    pub pending_jobs: u64,
    pub running_jobs: u64,
}

impl Scheduler {
    /// Records the lifecycle events of a step in their jobs' histories.
    pub(crate) fn record_history(&mut self, now: Time, events: &[Event]) {
        for e in events {
            let what = match e {
                Event::Started { placement, .. } => Transition::Started {
                    gpus: placement.gpus,
                    buildings: placement.buildings,
                },
                Event::ReplicaStarted { .. } => Transition::ReplicaStarted,
                Event::Preempted { by, lost_work, .. } => Transition::Preempted {
                    by: *by,
                    lost_work: *lost_work,
                },
                Event::Interrupted {
                    tray,
                    recovery,
                    lost_work,
                    ..
                } => Transition::Interrupted {
                    tray: tray.clone(),
                    recovery: *recovery,
                    lost_work: *lost_work,
                },
                Event::Throttled { clock, .. } => Transition::Throttled { clock: *clock },
                Event::Suspended { .. } => Transition::Suspended,
                _ => continue,
            };
            if let Some(slot) = e.job().and_then(|id| self.live(id)) {
                self.jobs[slot as usize].history.push(now, what);
            }
        }
    }

    /// Live (pending and running) jobs matching `filter`, in id order,
    /// after the cursor `after`, at most `limit` (1..=[`MAX_PAGE`]).
    pub fn list_jobs(
        &self,
        filter: &JobFilter,
        after: Option<JobId>,
        limit: usize,
    ) -> Result<JobPage, Reject> {
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(Reject::BadValue {
                field: "limit".into(),
                value: limit.to_string(),
                why: format!("a page holds 1 to {MAX_PAGE} jobs"),
            });
        }
        let node = match &filter.tenant {
            Some(name) => self
                .tenants
                .lookup(name)
                .ok_or_else(|| Reject::UnknownTenant { name: name.clone() })?,
            None => 0,
        };
        let from = after.map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
        let mut jobs = Vec::new();
        let mut next = None;
        // The subtree's nodes' job sets, merged in id order from the cursor.
        let mut heads: Vec<_> = (0..self.tenants.len() as u32)
            .filter(|&m| self.tenants.is_under(m, node))
            .map(|m| {
                self.by_node[m as usize]
                    .range((from, std::ops::Bound::Unbounded))
                    .peekable()
            })
            .collect();
        let merged = std::iter::from_fn(|| {
            let mut best: Option<(usize, JobId)> = None;
            for (i, h) in heads.iter_mut().enumerate() {
                if let Some(&&id) = h.peek()
                    && best.is_none_or(|(_, b)| id < b)
                {
                    best = Some((i, id));
                }
            }
            heads[best?.0].next()
        });
        for &id in merged {
            let Some(slot) = self.live(id) else {
                continue;
            };
            let j = &self.jobs[slot as usize];
            if filter.state.is_some_and(|s| s != j.state)
                || filter.kind.is_some_and(|k| k != kind_of(&j.spec.kind))
            {
                continue;
            }
            if jobs.len() == limit {
                next = jobs.last().map(|v: &JobView| v.id);
                break;
            }
            jobs.push(self.view_of(j));
        }
        Ok(JobPage { jobs, next })
    }

    /// One live job in full, or None if it is unknown or finished.
    pub fn job(&self, id: JobId) -> Option<JobDetail> {
        let j = &self.jobs[self.live(id)? as usize];
        Some(JobDetail {
            view: self.view_of(j),
            spec: j.spec.clone(),
            committed_work: j.committed,
            // The submission is not stored (a job's own time says when),
            // so a job that only waits costs no history at all.
            history: {
                let mut h = History {
                    entries: Vec::with_capacity(j.history.entries.len() + 1),
                    dropped: j.history.dropped,
                };
                h.entries.push(HistoryEntry {
                    at: j.submitted,
                    what: Transition::Submitted,
                });
                h.entries.extend(j.history.entries.iter().cloned());
                h
            },
        })
    }

    /// The tenant node that runs a live job, by name.
    pub fn job_tenant(&self, id: JobId) -> Option<&str> {
        let j = &self.jobs[self.live(id)? as usize];
        Some(&self.tenants.names[j.node as usize])
    }

    /// Whether `node` is `ancestor` or below it in the tenant tree.
    pub fn tenant_is_under(&self, node: &str, ancestor: &str) -> bool {
        match (self.tenants.lookup(node), self.tenants.lookup(ancestor)) {
            (Some(n), Some(a)) => self.tenants.is_under(n, a),
            _ => false,
        }
    }

    fn view_of(&self, j: &Job) -> JobView {
        let placement = (j.state == JobState::Running).then(|| {
            let p = self.describe(j);
            let mut buildings: Vec<String> = Vec::new();
            for (hall, _) in &p.halls {
                let b = hall.split('/').next().unwrap_or_default();
                if buildings.last().is_none_or(|l| l != b) {
                    buildings.push(b.to_string());
                }
            }
            PlacementSummary {
                gpus: p.gpus,
                trays: p.trays.len() as u32,
                spare_trays: p.spares.len() as u32,
                buildings,
                halls: p.halls,
                domains: p.domains,
                leaf_groups: p.leaf_groups,
            }
        });
        JobView {
            id: j.spec.id,
            project: j.spec.project.clone(),
            sku: j.spec.sku.clone(),
            kind: kind_of(&j.spec.kind),
            gpus: j.spec.gpus,
            priority: j.spec.priority,
            state: j.state,
            pending_reason: (j.state == JobState::Pending)
                .then(|| j.reason.as_ref().map(ToString::to_string))
                .flatten(),
            submitted: j.submitted,
            borrowed: j.borrowed,
            placement,
        }
    }

    /// The subtree under `root` (the node first, then depth-first in node
    /// order), with usage against guarantee and borrowing per SKU.
    pub fn tenant_usage(&self, root: &str) -> Result<Vec<TenantUsage>, Reject> {
        let r = self
            .tenants
            .lookup(root)
            .ok_or_else(|| Reject::UnknownTenant {
                name: root.to_string(),
            })?;
        let t = &self.tenants;
        let out = (0..t.len() as u32)
            .filter(|&n| t.is_under(n, r))
            .map(|n| TenantUsage {
                name: t.names[n as usize].clone(),
                parent: t.parent[n as usize].map(|p| t.names[p as usize].clone()),
                depth: t.depth[n as usize],
                weight: t.specs[n as usize].weight,
                retired: t.is_retired(n),
                live_jobs: self.live_jobs_under(n),
                skus: (0..self.topo.skus as u16)
                    .map(|s| SkuUsage {
                        sku: self.topo.sku_keys[usize::from(s)].clone(),
                        guarantee: t.guarantee(n, s),
                        borrow_limit: Some(t.borrow_limit(n, s)).filter(|&b| b != u64::MAX),
                        usage: t.usage(n, s),
                        borrowed: t.usage(n, s).saturating_sub(t.guaranteed_usage(n, s)),
                    })
                    .collect(),
            })
            .collect();
        Ok(out)
    }

    /// Every tenant node's name, in node order.
    pub fn tenant_names(&self) -> &[String] {
        &self.tenants.names
    }

    /// The named tray's state.
    pub fn tray(&self, name: &str) -> Result<TrayView, Reject> {
        let t = self.tray_named("tray", name)?;
        Ok(self.tray_view(t))
    }

    fn tray_view(&self, t: u32) -> TrayView {
        let s = &self.trays[t as usize];
        let condition = self.tray_view_condition(t);
        let mut jobs: Vec<JobId> = Vec::new();
        let mut busy = 0;
        for g in self.topo.tray_gpu_range(TrayId(t)) {
            let o = self.gpu_owner[g as usize];
            if o != NO_JOB {
                busy += 1;
                let id = self.jobs[o as usize].spec.id;
                if !jobs.contains(&id) {
                    jobs.push(id);
                }
            }
        }
        let sku = self.topo.sku_of_tray(t);
        TrayView {
            name: self.tray_name(t),
            sku: self.topo.sku_keys[sku.index()].clone(),
            condition,
            drain_reason: self.drain_reasons.get(&t).cloned(),
            reservation: s
                .reservation
                .map(|r| self.reservations[r as usize].spec.id.clone()),
            gpus: u32::from(self.topo.tray_gpus[t as usize]),
            busy_gpus: busy,
            jobs,
            failures_in_window: self.failures.get(&t).map_or(0, |f| f.len() as u32),
        }
    }

    /// The named rack and its trays.
    pub fn rack(&self, name: &str) -> Result<RackView, Reject> {
        let r: RackId = self
            .campus
            .resolve_rack(name)
            .map_err(|e| Reject::UnknownName {
                field: "rack".into(),
                name: name.to_string(),
                why: e.to_string(),
            })?;
        let rack = &self.campus.racks[r.index()];
        Ok(RackView {
            name: self.campus.rack_name(r),
            sku: self.campus.catalog.key(rack.sku).to_string(),
            trays: rack.trays.clone().map(|t| self.tray_view(t)).collect(),
        })
    }

    /// The state of every tray of a hall, in rack order, for a heat map.
    pub fn hall_trays(&self, hall: HallId) -> Vec<TrayCondition> {
        let c = &self.campus;
        let racks = &c.halls[hall.index()].racks;
        (racks.start..racks.end)
            .flat_map(|r| c.racks[r as usize].trays.clone())
            .map(|t| self.tray_view_condition(t))
            .collect()
    }

    fn tray_view_condition(&self, t: u32) -> TrayCondition {
        let s = &self.trays[t as usize];
        if s.down {
            TrayCondition::Down
        } else if s.quarantined {
            TrayCondition::Quarantined
        } else if s.drain {
            TrayCondition::Drained
        } else {
            TrayCondition::Up
        }
    }

    /// Counts and draw for each building and the campus.
    pub fn rollup(&self) -> CampusRollup {
        let kw = self.power.building_kw();
        let mut buildings: Vec<Rollup> = (0..self.topo.buildings())
            .map(|b| Rollup {
                name: self.building_name(b as u16).to_string(),
                draw_kw: kw[b],
                cap_kw: self.power.cap_w[b].map(|w| w as f64 / 1000.0),
                ..Rollup::default()
            })
            .collect();
        for t in 0..self.trays.len() as u32 {
            let r = &mut buildings[usize::from(self.topo.tray_building[t as usize])];
            let s = &self.trays[t as usize];
            let gpus = u64::from(self.topo.tray_gpus[t as usize]);
            r.trays += 1;
            r.gpus += gpus;
            r.trays_down += u64::from(s.down);
            r.trays_drained += u64::from(s.drain);
            r.trays_quarantined += u64::from(s.quarantined);
            let free = self.pools[GENERAL].tray_free_mask(t).count_ones();
            r.free_gpus += u64::from(free);
        }
        for j in self.jobs.iter().filter(|j| j.state == JobState::Running) {
            for g in j.gangs.iter() {
                for &t in &g.trays {
                    let n = g.tray_mask(&self.topo, t).count_ones();
                    buildings[usize::from(self.topo.tray_building[t as usize])].busy_gpus +=
                        u64::from(n);
                }
            }
            for &t in &j.spares {
                buildings[usize::from(self.topo.tray_building[t as usize])].busy_gpus +=
                    u64::from(self.topo.tray_gpus[t as usize]);
            }
        }
        let mut campus = Rollup {
            name: self.campus.spec.site.name.clone(),
            cap_kw: self.power.campus_cap_w.map(|w| w as f64 / 1000.0),
            ..Rollup::default()
        };
        for b in &buildings {
            campus.gpus += b.gpus;
            campus.busy_gpus += b.busy_gpus;
            campus.free_gpus += b.free_gpus;
            campus.trays += b.trays;
            campus.trays_down += b.trays_down;
            campus.trays_drained += b.trays_drained;
            campus.trays_quarantined += b.trays_quarantined;
            campus.draw_kw += b.draw_kw;
        }
        CampusRollup {
            campus,
            buildings,
            pending_jobs: self.pending.len() as u64,
            running_jobs: self.running_count() as u64,
        }
    }
}

fn kind_of(k: &JobKind) -> KindFilter {
    match k {
        JobKind::Training => KindFilter::Training,
        JobKind::Service { .. } => KindFilter::Service,
    }
}
