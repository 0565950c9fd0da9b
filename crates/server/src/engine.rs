//! The control plane's state, as readers see it: the scheduler, and what
//! the server keeps beside it (finished jobs, idempotent replies, the
//! recent events, the latest plant reading).
//!
//! Only the writer thread changes an [`Engine`], one log record at a time
//! through [`Engine::apply`]; a restart feeds the same function the
//! records of the log's tail, so a restored engine is the one that ran.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use abilene_control::PlantReading;
use abilene_scheduler::views::{JobFilter, KindFilter, MAX_PAGE};
use abilene_scheduler::{Command, Event, JobId, JobKind, LogRecord, Outcome, Scheduler, Time};
use serde::Serialize;

use crate::store::{FinishedJob, StoredReply};

/// Ids the server gives to jobs submitted through the API start above this,
/// so they never meet the ids of the twin's own simulated users (1, 2, ...).
pub const API_JOB_BASE: u64 = 1 << 40;

/// Events kept for clients that reconnect (`Last-Event-ID`); older ones
/// are gone and a client asking for them is told so. At 16 events a
/// second, about 70 minutes.
pub const EVENTS_KEPT: usize = 65_536;
/// ...and at most this many bytes of them: a frontier run's start names
/// every one of its trays (25,000 names, about 500 KB).
pub const EVENTS_KEPT_BYTES: usize = 64 << 20;

/// Idempotent replies kept; the oldest are forgotten first. Stripe keeps
/// keys 24 hours; at 10,000 submissions a second a million is 100 s of
/// peak load, or days of ordinary load.
pub const REPLIES_KEPT: usize = 1_000_000;

/// Plant readings kept for charts: a month of the twin's hourly readings.
pub const PLANT_HISTORY: usize = 720;

/// The campus's plant at one reading, as charts draw it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PlantPoint {
    /// Campus seconds of the reading.
    pub at: Time,
    pub it_mw: f64,
    pub facility_mw: f64,
    /// Cooling, losses and auxiliaries: facility less IT.
    pub cooling_mw: f64,
    /// Facility over IT; None with no IT load.
    pub pue: Option<f64>,
    pub ambient_c: f64,
    pub grid_mw: f64,
    pub gas_mw: f64,
    /// Positive discharging, negative charging.
    pub battery_mw: f64,
    pub battery_soc_mwh: f64,
    pub price_usd_per_mwh: f64,
    /// The coming hour is a likely ERCOT 4CP peak.
    pub four_cp: bool,
}

impl PlantPoint {
    fn of(at: Time, p: &PlantReading) -> PlantPoint {
        PlantPoint {
            at,
            it_mw: p.it_kw / 1000.0,
            facility_mw: p.facility_kw / 1000.0,
            cooling_mw: (p.facility_kw - p.it_kw) / 1000.0,
            pue: (p.it_kw > 0.0).then(|| p.facility_kw / p.it_kw),
            ambient_c: p.supply.ambient_c,
            grid_mw: p.supply.grid_mw,
            gas_mw: p.supply.gas_mw,
            battery_mw: p.supply.battery_mw,
            battery_soc_mwh: p.supply.battery_soc_mwh,
            price_usd_per_mwh: p.supply.price_usd_per_mwh,
            four_cp: p.four_cp,
        }
    }
}

/// A job's lasting facts, kept from its submission so that it can still be
/// reported once the scheduler has let it go.
#[derive(Debug, Clone)]
struct JobHead {
    project: Arc<str>,
    sku: Arc<str>,
    kind: KindFilter,
    gpus: u32,
    submitted: Time,
    started: Option<Time>,
}

/// A finished job as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct FinishedView {
    pub id: u64,
    pub project: String,
    pub sku: String,
    pub kind: KindName,
    pub gpus: u32,
    pub state: FinishedState,
    pub outcome: OutcomeName,
    pub submitted: Time,
    pub started: Option<Time>,
    pub finished: Time,
}

#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KindName {
    Training,
    Service,
}

impl From<KindFilter> for KindName {
    fn from(k: KindFilter) -> KindName {
        match k {
            KindFilter::Training => KindName::Training,
            KindFilter::Service => KindName::Service,
        }
    }
}

/// The state of every finished job.
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FinishedState {
    Finished,
}

/// A finished job in memory: names shared, about 80 bytes.
#[derive(Debug, Clone)]
struct FinishedRecord {
    project: Arc<str>,
    sku: Arc<str>,
    kind: KindName,
    outcome: OutcomeName,
    gpus: u32,
    submitted: Time,
    started: Option<Time>,
    finished: Time,
}

impl FinishedRecord {
    fn view(&self, id: u64) -> FinishedView {
        FinishedView {
            id,
            project: self.project.to_string(),
            sku: self.sku.to_string(),
            kind: self.kind,
            gpus: self.gpus,
            state: FinishedState::Finished,
            outcome: self.outcome,
            submitted: self.submitted,
            started: self.started,
            finished: self.finished,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeName {
    Completed,
    Cancelled,
    TimedOut,
}

impl From<Outcome> for OutcomeName {
    fn from(o: Outcome) -> OutcomeName {
        match o {
            Outcome::Completed => OutcomeName::Completed,
            Outcome::Cancelled => OutcomeName::Cancelled,
            Outcome::TimedOut => OutcomeName::TimedOut,
        }
    }
}

/// Where an event sits in the history: the log record that caused it and
/// its place among that record's events. Stable across restarts, since
/// replaying the record gives the same events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId {
    pub seq: u64,
    pub index: u32,
}

impl std::fmt::Display for EventId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.seq, self.index)
    }
}

impl std::str::FromStr for EventId {
    type Err = String;
    fn from_str(s: &str) -> Result<EventId, String> {
        let bad = || format!("`{s}` is not an event id (SEQ-INDEX, e.g. 42-0)");
        let (seq, index) = s.split_once('-').ok_or_else(bad)?;
        Ok(EventId {
            seq: seq.parse().map_err(|_| bad())?,
            index: index.parse().map_err(|_| bad())?,
        })
    }
}

/// One event on the stream.
#[derive(Debug, Clone)]
pub struct StreamEvent {
    pub id: EventId,
    /// The SSE event name: `started`, `finished`, `tray_failed`, ...
    pub kind: &'static str,
    /// The tenant node the event concerns (a job's project); None for
    /// campus events, which only operators see.
    pub project: Option<Arc<str>>,
    pub data: Arc<str>,
}

/// What one record did, for the writer to publish after it is durable.
#[derive(Debug, Default)]
pub struct Applied {
    pub results: Vec<abilene_scheduler::CommandResult>,
    pub events: Vec<StreamEvent>,
    pub finished: Vec<FinishedJob>,
    pub scheduler_events: Vec<Event>,
}

/// What the engine keeps of an idempotent reply: enough to tell a retry
/// (same request) from a reused key, and the status. The body is read back
/// from the store when a retry comes (rare): a million bodies held in
/// memory were a third of a gigabyte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptReply {
    pub request_hash: Box<str>,
    pub status: u16,
}

fn reply_key(caller: &str, key: &str) -> String {
    let mut k = String::with_capacity(caller.len() + 1 + key.len());
    k.push_str(caller);
    k.push('\n');
    k.push_str(key);
    k
}

pub struct Engine {
    pub sched: Scheduler,
    /// The last record applied.
    pub seq: u64,
    pub next_job_id: u64,
    pub plant: Option<PlantReading>,
    /// The plant's last readings, oldest first, for live charts.
    plant_history: VecDeque<PlantPoint>,
    heads: HashMap<JobId, JobHead>,
    finished: BTreeMap<u64, FinishedRecord>,
    /// Finished jobs by project, for listings of a subtree.
    finished_by_project: BTreeMap<Arc<str>, std::collections::BTreeSet<u64>>,
    /// Idempotent replies by `caller \n key`; the bodies stay in the store.
    replies: HashMap<Arc<str>, KeptReply>,
    reply_order: VecDeque<Arc<str>>,
    events: VecDeque<StreamEvent>,
    events_bytes: usize,
    /// The newest event no longer kept, if any.
    forgotten_through: Option<EventId>,
    /// Interned project and SKU names: a million finished jobs share a
    /// few hundred strings.
    names: HashMap<String, Arc<str>>,
}

impl Engine {
    /// An engine over `sched`, which stands after record `seq`.
    pub fn new(sched: Scheduler, seq: u64, next_job_id: u64) -> Engine {
        let mut e = Engine {
            sched,
            seq,
            next_job_id: next_job_id.max(API_JOB_BASE),
            plant: None,
            plant_history: VecDeque::new(),
            heads: HashMap::new(),
            finished: BTreeMap::new(),
            finished_by_project: BTreeMap::new(),
            replies: HashMap::new(),
            reply_order: VecDeque::new(),
            events: VecDeque::new(),
            events_bytes: 0,
            forgotten_through: None,
            names: HashMap::new(),
        };
        e.learn_live_jobs();
        if seq > 0 {
            // The events of the records before this state are not kept.
            e.forget_through(EventId {
                seq,
                index: u32::MAX,
            });
        }
        e
    }

    /// Heads of the jobs a restored scheduler holds.
    fn learn_live_jobs(&mut self) {
        let mut after = None;
        loop {
            let Ok(page) = self.sched.list_jobs(&JobFilter::default(), after, MAX_PAGE) else {
                return;
            };
            for v in &page.jobs {
                let head = JobHead {
                    project: self.intern(&v.project),
                    sku: self.intern(&v.sku),
                    kind: v.kind,
                    gpus: v.gpus,
                    submitted: v.submitted,
                    started: v.placement.as_ref().map(|_| v.submitted),
                };
                self.heads.insert(v.id, head);
            }
            match page.next {
                Some(n) => after = Some(n),
                None => return,
            }
        }
    }

    /// The fleet's reading of the plant at `at`.
    pub fn note_plant(&mut self, at: Time, p: PlantReading) {
        self.plant_history.push_back(PlantPoint::of(at, &p));
        while self.plant_history.len() > PLANT_HISTORY {
            self.plant_history.pop_front();
        }
        self.plant = Some(p);
    }

    /// Plant readings after campus time `after` (all kept, if None).
    pub fn plant_after(&self, after: Option<Time>) -> Vec<PlantPoint> {
        let start = after.map_or(0, |a| self.plant_history.partition_point(|p| p.at <= a));
        self.plant_history.range(start..).cloned().collect()
    }

    fn intern(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.names.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        self.names.insert(s.to_string(), a.clone());
        a
    }

    /// Loads what a store kept of finished jobs and replies.
    pub fn load(&mut self, finished: Vec<FinishedJob>, replies: Vec<StoredReply>) {
        for f in finished {
            match serde_json::from_str::<FinishedView>(&f.body) {
                Ok(v) => self.keep_finished(v),
                Err(e) => tracing::warn!("finished job {} in the store does not read: {e}", f.id),
            }
        }
        for r in &replies {
            self.remember_reply(r);
        }
    }

    /// A fresh id for a job submitted through the API.
    pub fn take_job_id(&mut self) -> JobId {
        self.next_job_id += 1;
        JobId(self.next_job_id)
    }

    pub fn reply(&self, caller: &str, key: &str) -> Option<&KeptReply> {
        self.replies.get(reply_key(caller, key).as_str())
    }

    /// Keeps `r`'s key, hash and status (its body is the store's).
    pub fn remember_reply(&mut self, r: &StoredReply) {
        let k: Arc<str> = Arc::from(reply_key(&r.caller, &r.key));
        let kept = KeptReply {
            request_hash: r.request_hash.as_str().into(),
            status: r.status,
        };
        if self.replies.insert(k.clone(), kept).is_none() {
            self.reply_order.push_back(k);
        }
        while self.reply_order.len() > REPLIES_KEPT {
            if let Some(old) = self.reply_order.pop_front() {
                self.replies.remove(&old);
            }
        }
    }

    pub fn finished_job(&self, id: u64) -> Option<FinishedView> {
        self.finished.get(&id).map(|r| r.view(id))
    }

    pub fn finished_count(&self) -> usize {
        self.finished.len()
    }

    fn keep_finished(&mut self, v: FinishedView) {
        let record = FinishedRecord {
            project: self.intern(&v.project),
            sku: self.intern(&v.sku),
            kind: v.kind,
            outcome: v.outcome,
            gpus: v.gpus,
            submitted: v.submitted,
            started: v.started,
            finished: v.finished,
        };
        self.finished_by_project
            .entry(record.project.clone())
            .or_default()
            .insert(v.id);
        self.finished.insert(v.id, record);
    }

    /// Finished jobs after `after`, in id order, at most `limit`, of the
    /// projects `in_scope` admits and of `kind` if given; the walk merges
    /// the admitted projects' sets, so it costs what it returns (plus the
    /// jobs of another kind it skips).
    pub fn finished_jobs(
        &self,
        in_scope: impl Fn(&str) -> bool,
        kind: Option<KindName>,
        after: Option<u64>,
        limit: usize,
    ) -> Vec<FinishedView> {
        let from = after.map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
        let mut heads: Vec<_> = self
            .finished_by_project
            .iter()
            .filter(|(p, _)| in_scope(p))
            .map(|(_, ids)| ids.range((from, std::ops::Bound::Unbounded)).peekable())
            .collect();
        let mut out = Vec::new();
        while out.len() < limit {
            let mut best: Option<(usize, u64)> = None;
            for (i, h) in heads.iter_mut().enumerate() {
                if let Some(&&id) = h.peek()
                    && best.is_none_or(|(_, b)| id < b)
                {
                    best = Some((i, id));
                }
            }
            let Some((i, id)) = best else { break };
            heads[i].next();
            if let Some(r) = self.finished.get(&id)
                && kind.is_none_or(|k| k == r.kind)
            {
                out.push(r.view(id));
            }
        }
        out
    }

    /// Events after `after` that are still kept; Err with the oldest kept
    /// id when some after `after` are gone (evicted, or from before the
    /// snapshot this server restarted from).
    pub fn events_after(&self, after: EventId) -> Result<Vec<StreamEvent>, EventId> {
        if self.forgotten_through.is_some_and(|f| after < f) {
            return Err(self.events.front().map_or(self.next_event_id(), |e| e.id));
        }
        let start = self.events.partition_point(|e| e.id <= after);
        Ok(self.events.range(start..).cloned().collect())
    }

    /// The smallest id an event not yet made can have.
    fn next_event_id(&self) -> EventId {
        EventId {
            seq: self.seq + 1,
            index: 0,
        }
    }

    /// Events up to and including `id` are not kept (a restart from a
    /// snapshot taken after record `id.seq`).
    pub fn forget_through(&mut self, id: EventId) {
        self.forgotten_through = Some(self.forgotten_through.map_or(id, |f| f.max(id)));
    }

    /// The id of the newest event, for a client that starts watching now.
    pub fn last_event_id(&self) -> EventId {
        self.events.back().map_or(
            EventId {
                seq: self.seq,
                index: u32::MAX,
            },
            |e| e.id,
        )
    }

    /// Applies one record: the scheduler steps, and the server's own books
    /// follow its events. The caller has checked `record.seq`.
    pub fn apply(&mut self, record: &LogRecord) -> Applied {
        debug_assert_eq!(record.seq, self.seq + 1);
        let out = self
            .sched
            .step(record.time, record.commands.iter().cloned());
        self.seq = record.seq;
        let mut applied = Applied {
            results: out.results,
            ..Applied::default()
        };
        let mut index = 0u32;
        for (c, r) in record.commands.iter().zip(&applied.results) {
            if r.is_err() {
                continue;
            }
            if let Command::Submit(spec) = c {
                self.note_submit(spec, record.time);
                // Ids the API hands out stay ahead of any replayed ones.
                self.next_job_id = self.next_job_id.max(spec.id.0);
            }
            if let Some((kind, data)) = command_notice(c) {
                let id = EventId {
                    seq: record.seq,
                    index,
                };
                index += 1;
                applied.events.push(StreamEvent {
                    id,
                    kind,
                    project: None,
                    data: Arc::from(format!(
                        "{{\"id\":\"{id}\",\"at\":{},\"{kind}\":{data}}}",
                        record.time
                    )),
                });
            }
        }
        for e in &out.events {
            if matches!(e, Event::Pending { .. }) {
                // Why a job waits is in its detail; the stream is for changes.
                continue;
            }
            let id = EventId {
                seq: record.seq,
                index,
            };
            index += 1;
            applied
                .events
                .push(self.stream_event(id, record.time, e, &mut applied.finished));
        }
        for e in &applied.events {
            self.events_bytes += e.data.len();
            self.events.push_back(e.clone());
        }
        while self.events.len() > EVENTS_KEPT || self.events_bytes > EVENTS_KEPT_BYTES {
            let Some(old) = self.events.pop_front() else {
                break;
            };
            self.events_bytes -= old.data.len();
            self.forget_through(old.id);
        }
        applied.scheduler_events = out.events;
        applied
    }

    fn note_submit(&mut self, spec: &abilene_scheduler::JobSpec, now: Time) {
        let head = JobHead {
            project: self.intern(&spec.project),
            sku: self.intern(&spec.sku),
            kind: match spec.kind {
                JobKind::Training => KindFilter::Training,
                JobKind::Service { .. } => KindFilter::Service,
            },
            gpus: spec.gpus,
            submitted: now,
            started: None,
        };
        self.heads.insert(spec.id, head);
    }

    fn stream_event(
        &mut self,
        id: EventId,
        at: Time,
        e: &Event,
        finished: &mut Vec<FinishedJob>,
    ) -> StreamEvent {
        let job = e.job();
        let project = job
            .and_then(|j| self.heads.get(&j))
            .map(|h| h.project.clone());
        match e {
            Event::Started { job, .. } | Event::ReplicaStarted { job, .. } => {
                if let Some(h) = self.heads.get_mut(job) {
                    h.started.get_or_insert(at);
                }
            }
            Event::Finished { job, outcome } => {
                if let Some(h) = self.heads.remove(job) {
                    let view = FinishedView {
                        id: job.0,
                        project: h.project.to_string(),
                        sku: h.sku.to_string(),
                        kind: h.kind.into(),
                        gpus: h.gpus,
                        state: FinishedState::Finished,
                        outcome: (*outcome).into(),
                        submitted: h.submitted,
                        started: h.started,
                        finished: at,
                    };
                    let body = serde_json::to_string(&view).unwrap_or_default();
                    self.keep_finished(view);
                    finished.push(FinishedJob { id: job.0, body });
                }
            }
            _ => {}
        }
        let kind = event_kind(e);
        let data = serde_json::to_string(e).unwrap_or_default();
        // `{"started":{...}}` becomes `{"id":..,"at":..,"started":{...}}`.
        let inner = data.strip_prefix('{').unwrap_or(&data);
        let data = format!("{{\"id\":\"{id}\",\"at\":{at},{inner}");
        StreamEvent {
            id,
            kind,
            project,
            data: Arc::from(data),
        }
    }
}

/// The stream's name for a scheduler event.
pub fn event_kind(e: &Event) -> &'static str {
    match e {
        Event::Started { .. } => "started",
        Event::ReplicaStarted { .. } => "replica_started",
        Event::Pending { .. } => "pending",
        Event::Preempted { .. } => "preempted",
        Event::Interrupted { .. } => "interrupted",
        Event::Finished { .. } => "finished",
        Event::Throttled { .. } => "throttled",
        Event::Suspended { .. } => "suspended",
        Event::TrayQuarantined { .. } => "tray_quarantined",
        Event::ReservationStarted { .. } => "reservation_started",
        Event::ReservationEnded { .. } => "reservation_ended",
        Event::SpareAdded { .. } => "spare_added",
        Event::SparesExhausted { .. } => "spares_exhausted",
        Event::GuaranteeChanged { .. } => "guarantee_changed",
    }
}

/// Accepted commands that change the campus (not a job) go on the stream
/// too: trays down and up, drains, caps, reservations, tenancy.
fn command_notice(c: &Command) -> Option<(&'static str, String)> {
    let json = |v: serde_json::Value| v.to_string();
    let (kind, data) = match c {
        Command::Submit(_) | Command::Cancel(_) | Command::Complete(_) => return None,
        Command::TrayFailed { tray } => ("tray_down", json(serde_json::json!({ "tray": tray }))),
        Command::TrayRepaired { tray } => ("tray_up", json(serde_json::json!({ "tray": tray }))),
        Command::Drain { targets, reason } => (
            "drained",
            json(serde_json::json!({ "targets": targets, "reason": reason })),
        ),
        Command::Resume { targets } => ("resumed", json(serde_json::json!({ "targets": targets }))),
        Command::ClearQuarantine { tray } => (
            "quarantine_cleared",
            json(serde_json::json!({ "tray": tray })),
        ),
        Command::SetPowerCap { scope, kw } => (
            "power_cap",
            json(serde_json::json!({ "scope": scope, "kw": kw })),
        ),
        Command::Reserve(r) => ("reserved", serde_json::to_string(r).unwrap_or_default()),
        Command::CreateTenant(t) => (
            "tenant_created",
            json(serde_json::json!({ "name": t.name })),
        ),
        Command::UpdateTenant(t) => (
            "tenant_updated",
            json(serde_json::json!({ "name": t.name })),
        ),
        Command::RetireTenant { name } => {
            ("tenant_retired", json(serde_json::json!({ "name": name })))
        }
    };
    Some((kind, data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use abilene_model::Campus;
    use abilene_scheduler::{Config, JobSpec, TenantSpec};

    fn engine() -> Engine {
        let p = abilene_model::preset::preset("tiny").unwrap();
        let campus = Arc::new(Campus::load(p.file, p.toml).unwrap());
        let tenants = vec![
            TenantSpec::new("op", None),
            TenantSpec::new("a", Some("op")),
            TenantSpec::new("b", Some("op")),
        ];
        let sched = Scheduler::with_campus(campus, Config::default(), &tenants).unwrap();
        Engine::new(sched, 0, 0)
    }

    fn record(e: &Engine, time: Time, commands: Vec<Command>) -> LogRecord {
        LogRecord {
            seq: e.seq + 1,
            time,
            commands,
        }
    }

    #[test]
    fn event_ids_read_back_and_refuse_nonsense() {
        let id = EventId { seq: 42, index: 3 };
        assert_eq!(id.to_string().parse::<EventId>(), Ok(id));
        for bad in [
            "",
            "42",
            "42-",
            "-3",
            "x-1",
            "1-2-3",
            "99999999999999999999-0",
        ] {
            assert!(bad.parse::<EventId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn finished_jobs_are_listed_by_scope_and_page_without_gaps() {
        let mut e = engine();
        let mut id = 0;
        for t in 1..=6u64 {
            let mut cmds = Vec::new();
            for project in ["a", "b"] {
                id += 1;
                cmds.push(Command::Submit(JobSpec::training(
                    id,
                    project,
                    "gb200-nvl72",
                    4,
                )));
            }
            let r = record(&e, t, cmds);
            e.apply(&r);
        }
        let done: Vec<Command> = (1..=id).map(|j| Command::Complete(JobId(j))).collect();
        let r = record(&e, 100, done);
        let applied = e.apply(&r);
        assert_eq!(applied.finished.len(), 12);
        assert_eq!(e.finished_count(), 12);
        let a: Vec<u64> = e
            .finished_jobs(|p| p == "a", None, None, 100)
            .iter()
            .map(|v| v.id)
            .collect();
        assert_eq!(a, vec![1, 3, 5, 7, 9, 11]);
        // Pages of 5 over everything: no gap, no repeat.
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = e.finished_jobs(|_| true, None, after, 5);
            if page.is_empty() {
                break;
            }
            after = page.last().map(|v| v.id);
            seen.extend(page.iter().map(|v| v.id));
        }
        assert_eq!(seen, (1..=12).collect::<Vec<_>>());
        let v = e.finished_job(4).unwrap();
        assert_eq!((v.project.as_str(), v.finished), ("b", 100));
    }

    #[test]
    fn events_are_kept_in_order_and_a_forgotten_id_is_refused() {
        let mut e = engine();
        let r = record(
            &e,
            1,
            vec![Command::Submit(JobSpec::training(1, "a", "gb200-nvl72", 4))],
        );
        let first = e.apply(&r).events;
        assert_eq!(first.first().map(|x| x.kind), Some("started"));
        let r = record(&e, 2, vec![Command::Complete(JobId(1))]);
        e.apply(&r);
        let after_first = e.events_after(first[0].id).unwrap();
        assert_eq!(after_first.first().map(|x| x.kind), Some("finished"));
        assert!(after_first.iter().all(|x| x.id > first[0].id));
        e.forget_through(EventId {
            seq: 1,
            index: u32::MAX,
        });
        assert!(e.events_after(EventId { seq: 0, index: 0 }).is_err());
        assert!(
            e.events_after(EventId {
                seq: 1,
                index: u32::MAX
            })
            .is_ok()
        );
    }
}
