//! The writer: the one thread that changes the state.
//!
//! Each round it reads the campus clock, runs the fleet up to it (each
//! report one log record), then applies every request waiting in its queue
//! as one more record, one scheduler step for all of them. It commits the
//! round's records to the store, durably, while it still holds the state
//! locked, and only then replies and publishes the round's events: what a
//! client sees, by reply, read or stream, is on disk (group commit: one
//! fsync for all requests of a round).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use abilene_control::{Controller, Fleet, Observation};
use abilene_scheduler::{Command, CommandResult, JobId, LogRecord, Scheduler, Time};
use tokio::sync::{broadcast, oneshot};

use crate::audit::{AuditDraft, Head};
use crate::auth::{TokenRecord, Tokens};
use crate::clock::CampusClock;
use crate::engine::{Engine, StreamEvent};
use crate::store::{Commit, SnapshotWriter, Store, StoreError, StoredReply};

/// Requests applied in one round at most: bounds a round's latency.
pub const MAX_BATCH: usize = 4_096;
/// Requests waiting at most; beyond, a request is refused as busy.
pub const QUEUE_DEPTH: usize = 16_384;
/// Fleet reports applied in one round at most, so a fleet that has fallen
/// behind (a fast clock) cannot starve requests.
const MAX_FLEET_STEPS: usize = 10_000;
/// How long the writer waits for a request before it runs the fleet.
const TICK: Duration = Duration::from_millis(20);
/// With nothing else happening, a pass at least this often in campus time
/// (deadlines, reservations and contract dates are decided in passes)...
const IDLE_PASS_CAMPUS_S: Time = 60;
/// ...and at most this often in wall time.
const IDLE_PASS_WALL: Duration = Duration::from_secs(1);

/// An answer: HTTP status and JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub body: String,
}

/// Turns a request's results into its reply, with the state read after
/// the step.
pub type Responder = Box<dyn FnOnce(&[Command], &[CommandResult], &Engine) -> Reply + Send>;

/// A key that makes a request idempotent for its caller.
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub key: String,
    pub request_hash: String,
}

pub struct Request {
    /// The caller's token id: idempotency keys are private to it.
    pub caller: String,
    pub idempotency: Option<Idempotency>,
    /// `Submit` commands with job id 0 get an id from the server.
    pub commands: Vec<Command>,
    /// Tokens created or revoked, made durable with the round and put in
    /// the registry before the reply.
    pub tokens: Vec<TokenRecord>,
    /// Whether the reply may be kept for an idempotent retry: not when it
    /// holds a secret shown once (a new token), which is never stored.
    pub keep_reply: bool,
    /// The audit record of the call, finished with its result; None only
    /// for the server's own load (`fill`).
    pub audit: Option<AuditDraft>,
    pub respond: Responder,
    pub reply: oneshot::Sender<Reply>,
}

/// What the writer's queue carries.
pub enum Work {
    Request(Request),
    /// A call refused before it reached the writer (no token, no right,
    /// bad input): audited, nothing else.
    Refused {
        draft: AuditDraft,
        status: u16,
        code: Option<String>,
    },
}

/// Why a request was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// The queue is full.
    Busy,
    /// The writer has stopped (shutting down, or its store failed).
    Stopped,
}

/// The handlers' end of the writer's queue.
#[derive(Clone)]
pub struct WriterHandle {
    tx: SyncSender<Work>,
}

impl WriterHandle {
    pub fn send(&self, r: Request) -> Result<(), SendError> {
        self.send_work(Work::Request(r))
    }

    /// Audits a refused call. With the queue full the record is dropped
    /// (and counted in the log): a flood of refused calls must not stop
    /// the commands of others.
    pub fn refused(&self, draft: AuditDraft, status: u16, code: Option<String>) {
        if self
            .send_work(Work::Refused {
                draft,
                status,
                code,
            })
            .is_err()
        {
            tracing::warn!("audit record of a refused call dropped: the writer's queue is full");
        }
    }

    fn send_work(&self, w: Work) -> Result<(), SendError> {
        self.tx.try_send(w).map_err(|e| match e {
            TrySendError::Full(_) => SendError::Busy,
            TrySendError::Disconnected(_) => SendError::Stopped,
        })
    }
}

pub struct Writer {
    pub engine: Arc<RwLock<Engine>>,
    pub store: Box<dyn Store>,
    pub fleet: Box<dyn Fleet + Send>,
    pub control: Controller,
    /// The policy's memory as last committed, to write it only on change.
    pub committed_control: Controller,
    pub clock: CampusClock,
    pub events: broadcast::Sender<StreamEvent>,
    /// Commands between snapshots.
    pub snapshot_every: u64,
    /// Set when the writer stops, for `/readyz`.
    pub stopped: Arc<AtomicBool>,
    /// Told when the writer stops, so a server whose store failed shuts
    /// down (and restarts from what is durable) instead of serving reads of
    /// a state it could not commit.
    pub on_stop: Arc<tokio::sync::Notify>,
    /// The token registry the auth layer reads; changed only after commit.
    pub tokens: Arc<RwLock<Tokens>>,
    /// Where the audit chain ends, as committed.
    pub audit_head: Head,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Hears the fleet's failures, for the GPUs' XIDs.
    pub telemetry: Arc<crate::metrics::dcgm::Telemetry>,
}

/// A request waiting for its round's commit, with its reply.
struct Answer {
    reply: oneshot::Sender<Reply>,
    answer: Reply,
}

impl Writer {
    /// Starts the writer thread; returns the queue's handle and the thread.
    pub fn spawn(
        self,
    ) -> std::io::Result<(
        WriterHandle,
        std::thread::JoinHandle<Result<(), StoreError>>,
    )> {
        let (tx, rx) = std::sync::mpsc::sync_channel(QUEUE_DEPTH);
        let thread = std::thread::Builder::new()
            .name("abilene-writer".into())
            .spawn(move || self.run(rx))?;
        Ok((WriterHandle { tx }, thread))
    }

    fn run(mut self, rx: Receiver<Work>) -> Result<(), StoreError> {
        let snapshots = SnapshotThread::start(self.store.snapshot_writer(), self.metrics.clone());
        let mut since_snapshot = 0u64;
        let mut carried: Vec<Request> = Vec::new();
        let mut last_pass = (Instant::now(), self.clock.now());
        let result = loop {
            let mut batch = std::mem::take(&mut carried);
            let mut refused = Vec::new();
            let mut open = true;
            let mut take = |w: Work, batch: &mut Vec<Request>| match w {
                Work::Request(r) => batch.push(r),
                Work::Refused {
                    draft,
                    status,
                    code,
                } => refused.push((draft, status, code)),
            };
            if batch.is_empty() {
                match rx.recv_timeout(TICK) {
                    Ok(w) => take(w, &mut batch),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => open = false,
                }
            }
            for _ in 0..MAX_BATCH {
                if batch.len() >= MAX_BATCH {
                    break;
                }
                match rx.try_recv() {
                    Ok(w) => take(w, &mut batch),
                    Err(_) => break,
                }
            }
            match self.round(batch, refused, &mut carried, &mut last_pass) {
                Ok(commands) => since_snapshot += commands,
                Err(e) => break Err(e),
            }
            if since_snapshot >= self.snapshot_every {
                since_snapshot = 0;
                let guard = self.engine.read().unwrap_or_else(|p| p.into_inner());
                snapshots.offer(guard.seq, &guard.sched);
            }
            if !open && carried.is_empty() {
                break Ok(());
            }
        };
        self.stopped.store(true, Ordering::SeqCst);
        self.on_stop.notify_one();
        if let Err(e) = &result {
            tracing::error!("the store failed; the server stops taking commands: {e}");
        }
        snapshots.finish();
        result
    }

    /// One round; returns the commands it logged.
    fn round(
        &mut self,
        batch: Vec<Request>,
        refused: Vec<(AuditDraft, u16, Option<String>)>,
        carried: &mut Vec<Request>,
        last_pass: &mut (Instant, Time),
    ) -> Result<u64, StoreError> {
        let engine = self.engine.clone();
        let mut guard = engine.write().unwrap_or_else(|p| p.into_inner());
        let now = self.clock.now().max(guard.sched.now());
        let mut commit = Commit::default();
        // The head moves as records are made; a commit that fails stops
        // the writer, so it never runs ahead of what is stored.
        for (draft, status, code) in refused {
            commit
                .audit
                .push(self.audit_head.append(draft, status, code));
        }
        let mut published = Vec::new();
        self.run_fleet(&mut guard, now, &mut commit, &mut published);
        let answers =
            self.apply_requests(&mut guard, now, batch, carried, &mut commit, &mut published);
        let idle = commit.records.is_empty()
            && now >= last_pass.1 + IDLE_PASS_CAMPUS_S
            && last_pass.0.elapsed() >= IDLE_PASS_WALL;
        if idle {
            let record = LogRecord {
                seq: guard.seq + 1,
                time: now,
                commands: Vec::new(),
            };
            let applied = timed_apply(&self.metrics, &mut guard, &record);
            self.fleet.hear(now, &applied.scheduler_events);
            commit.finished.extend(applied.finished);
            published.extend(applied.events);
            commit.records.push(record);
        }
        if !commit.records.is_empty() {
            *last_pass = (Instant::now(), now);
        }
        commit.next_job_id = guard.next_job_id;
        if self.control != self.committed_control {
            commit.controller = serde_json::to_string(&self.control).ok();
            self.committed_control = self.control.clone();
        }
        let commands: u64 = commit.records.iter().map(|r| r.commands.len() as u64).sum();
        if !commit.is_empty() {
            let started = Instant::now();
            self.store.commit(&commit)?;
            self.metrics.commit.observe(started.elapsed().as_secs_f64());
            self.metrics.records.inc_by(commit.records.len() as u64);
            self.metrics.commands.inc_by(commands);
        }
        if !commit.tokens.is_empty() {
            let mut tokens = self.tokens.write().unwrap_or_else(|p| p.into_inner());
            for t in commit.tokens.drain(..) {
                tokens.put(t);
            }
        }
        drop(guard);
        for a in answers {
            // A client that went away does not need its answer.
            let _ = a.reply.send(a.answer);
        }
        for e in published {
            // No subscriber is not an error.
            let _ = self.events.send(e);
        }
        Ok(commands.max(commit.records.len() as u64))
    }

    fn run_fleet(
        &mut self,
        guard: &mut Engine,
        now: Time,
        commit: &mut Commit,
        published: &mut Vec<StreamEvent>,
    ) {
        for _ in 0..MAX_FLEET_STEPS {
            let Some((t, observations)) = self.fleet.poll(now, &guard.sched) else {
                return;
            };
            for o in &observations {
                match o {
                    Observation::Plant(p) => guard.note_plant(t, p.clone()),
                    Observation::TrayDown { tray, cause } => {
                        self.telemetry
                            .tray_down(guard.sched.campus(), tray, cause, t)
                    }
                    Observation::TrayUp { tray } => {
                        self.telemetry.tray_up(guard.sched.campus(), tray)
                    }
                    _ => {}
                }
            }
            let commands = self.control.commands(&observations, &guard.sched);
            let record = LogRecord {
                seq: guard.seq + 1,
                time: t.max(guard.sched.now()),
                commands,
            };
            let applied = timed_apply(&self.metrics, guard, &record);
            for (c, r) in record.commands.iter().zip(&applied.results) {
                if let Err(e) = r {
                    // In the twin a scenario error; here an operator's alarm.
                    tracing::warn!("the fleet's `{}` command was refused: {e}", c.kind());
                }
            }
            self.fleet.hear(record.time, &applied.scheduler_events);
            commit.finished.extend(applied.finished);
            published.extend(applied.events);
            commit.records.push(record);
        }
    }

    /// Applies the batch's requests as one record; a request whose key is
    /// already answered gets that answer, and one whose key came earlier in
    /// the same batch waits for the next round (`carried`).
    fn apply_requests(
        &mut self,
        guard: &mut Engine,
        now: Time,
        batch: Vec<Request>,
        carried: &mut Vec<Request>,
        commit: &mut Commit,
        published: &mut Vec<StreamEvent>,
    ) -> Vec<Answer> {
        let mut answers = Vec::new();
        let mut keys_here: HashSet<(String, String)> = HashSet::new();
        let mut taken: Vec<(Request, std::ops::Range<usize>)> = Vec::new();
        let mut commands = Vec::new();
        for mut req in batch {
            if let Some(idem) = &req.idempotency {
                if let Some(prev) = guard.reply(&req.caller, &idem.key) {
                    let answer = if *prev.request_hash == *idem.request_hash {
                        let status = prev.status;
                        match self.store.reply_body(&req.caller, &idem.key) {
                            Ok(Some(body)) => Reply { status, body },
                            Ok(None) | Err(_) => crate::api::error::ApiError::new(
                                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                                "reply_unreadable",
                                "the first answer to this Idempotency-Key could not be read back; retry",
                            )
                            .reply(),
                        }
                    } else {
                        crate::api::error::idempotency_conflict(&idem.key)
                    };
                    if let Some(draft) = req.audit {
                        commit
                            .audit
                            .push(audited(&mut self.audit_head, draft, &answer));
                    }
                    answers.push(Answer {
                        reply: req.reply,
                        answer,
                    });
                    continue;
                }
                if !keys_here.insert((req.caller.clone(), idem.key.clone())) {
                    carried.push(req);
                    continue;
                }
            }
            for c in &mut req.commands {
                if let Command::Submit(spec) = c
                    && spec.id == JobId(0)
                {
                    spec.id = guard.take_job_id();
                }
            }
            let start = commands.len();
            commands.append(&mut req.commands);
            taken.push((req, start..commands.len()));
        }
        if taken.is_empty() {
            return answers;
        }
        // Requests that change only tokens make no log record: the
        // scheduler does not step for them.
        let record = LogRecord {
            seq: guard.seq + 1,
            time: now,
            commands,
        };
        let applied =
            (!record.commands.is_empty()).then(|| timed_apply(&self.metrics, guard, &record));
        if let Some(a) = &applied {
            self.fleet.hear(now, &a.scheduler_events);
        }
        for (mut req, span) in taken {
            let results = applied
                .as_ref()
                .map_or(&[][..], |a| &a.results[span.clone()]);
            let answer = (req.respond)(&record.commands[span], results, guard);
            if answer.status < 300 {
                commit.tokens.append(&mut req.tokens);
            }
            if let Some(draft) = req.audit {
                commit
                    .audit
                    .push(audited(&mut self.audit_head, draft, &answer));
            }
            if let Some(idem) = req.idempotency {
                let (status, body) = if req.keep_reply {
                    (answer.status, answer.body.clone())
                } else {
                    let r = crate::api::error::shown_once(&idem.key);
                    (r.status, r.body)
                };
                let stored = StoredReply {
                    key: idem.key,
                    caller: req.caller,
                    request_hash: idem.request_hash,
                    status,
                    body,
                };
                guard.remember_reply(&stored);
                commit.replies.push(stored);
            }
            answers.push(Answer {
                reply: req.reply,
                answer,
            });
        }
        if let Some(applied) = applied {
            commit.finished.extend(applied.finished);
            published.extend(applied.events);
            commit.records.push(record);
        }
        answers
    }
}

/// The audit record of a call the writer answered.
fn audited(head: &mut Head, mut draft: AuditDraft, answer: &Reply) -> crate::audit::AuditRow {
    let code = (answer.status >= 400)
        .then(|| serde_json::from_str::<crate::api::error::ErrorBody>(&answer.body).ok())
        .flatten()
        .map(|b| b.code);
    if draft.what.is_empty() {
        draft.what = "command".into();
    }
    head.append(draft, answer.status, code)
}

/// Applies `record` to the engine, timing the scheduler's step.
fn timed_apply(
    metrics: &crate::metrics::Metrics,
    guard: &mut Engine,
    record: &LogRecord,
) -> crate::engine::Applied {
    let started = Instant::now();
    let applied = guard.apply(record);
    metrics.pass.observe(started.elapsed().as_secs_f64());
    applied
}

/// Serialises and writes snapshots on its own thread, from a copy of the
/// scheduler taken between rounds, so the log goes on meanwhile.
struct SnapshotThread {
    tx: Option<SyncSender<(u64, Box<Scheduler>)>>,
    /// True while a snapshot is being written: the next is not even cloned.
    busy: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SnapshotThread {
    fn start(
        mut writer: Box<dyn SnapshotWriter>,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> SnapshotThread {
        // One waiting at most: a snapshot still being written makes the
        // next one wait for the following threshold instead of piling up.
        let (tx, rx) = std::sync::mpsc::sync_channel::<(u64, Box<Scheduler>)>(1);
        let busy = Arc::new(AtomicBool::new(false));
        let writing = busy.clone();
        let thread = std::thread::Builder::new()
            .name("abilene-snapshot".into())
            .spawn(move || {
                for (seq, sched) in rx {
                    let bytes = sched.snapshot();
                    drop(sched);
                    match writer.put(seq, &bytes) {
                        Ok(()) => metrics.snapshot_written(seq, crate::clock::wall_ms()),
                        Err(e) => tracing::warn!("snapshot after record {seq} not written: {e}"),
                    }
                    writing.store(false, Ordering::SeqCst);
                }
            })
            .ok();
        SnapshotThread {
            tx: Some(tx),
            busy,
            thread,
        }
    }

    fn offer(&self, seq: u64, sched: &Scheduler) {
        // The clone holds up the writer: take it only when it can be used.
        if self.busy.swap(true, Ordering::SeqCst) {
            tracing::debug!("snapshot after record {seq} skipped: the last is still being written");
            return;
        }
        if let Some(tx) = &self.tx
            && tx.try_send((seq, Box::new(sched.clone()))).is_err()
        {
            self.busy.store(false, Ordering::SeqCst);
        }
    }

    fn finish(mut self) {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
