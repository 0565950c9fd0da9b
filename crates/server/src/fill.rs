//! Fills a store with submissions through the writer, for benchmarks that
//! need a long log (`abilene bench api`: restart and memory).
//!
//! The requests go into the writer's queue as the jobs handler sends them
//! (same spec, same reply, same idempotency hash), without HTTP in front:
//! the records, replies, finished jobs and snapshots are written by the
//! same [`Writer`] with the same group commits, so the store is the one a
//! server under that load would have left.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use abilene_twin::scenario::Scenario;
use tokio::sync::oneshot;

use crate::api::jobs::{SubmitJob, submit_responder};
use crate::api::request_hash;
use crate::engine::KindName;
use crate::serve::ServeError;
use crate::store::SqliteStore;
use crate::writer::{Idempotency, QUEUE_DEPTH, Reply, Request, SendError};

pub struct FillOptions {
    pub scenario: &'static Scenario,
    pub data: PathBuf,
    /// Campus seconds per wall second while filling.
    pub speed: f64,
    pub snapshot_every: u64,
    /// Submissions to make.
    pub submissions: u64,
    pub project: String,
    pub gpus: u32,
    pub runtime_s: u64,
    /// Requests in the writer's queue at most: how many "clients" wait.
    pub in_flight: usize,
}

#[derive(Debug, Clone)]
pub struct Filled {
    pub submissions: u64,
    /// Answers that were not 201.
    pub refused: u64,
    pub wall: Duration,
    /// Records and commands in the log, fleet records included.
    pub records: u64,
    pub commands: u64,
    pub finished: u64,
    pub snapshots: Vec<u64>,
}

/// Submits `opts.submissions` jobs through a writer over the store in
/// `opts.data` (new or existing), then stops the writer cleanly.
pub fn fill(opts: &FillOptions) -> Result<Filled, ServeError> {
    let started = Instant::now();
    let sc = opts.scenario;
    let crate::serve::Started {
        engine,
        handle,
        thread,
        default_sku: sku,
        ..
    } = crate::serve::start_writer(sc, &opts.data, None, opts.speed, opts.snapshot_every, None)?;
    let job = SubmitJob {
        project: opts.project.clone(),
        sku: None,
        kind: KindName::Training,
        gpus: opts.gpus,
        replicas: None,
        min_available: None,
        tp_gpus: 0,
        segment_trays: 0,
        priority: abilene_scheduler::Priority::Normal,
        preemptible: false,
        runtime_s: opts.runtime_s,
        runtime_limit_s: None,
        checkpoint_interval_s: 0,
        spare_trays: 0,
        reservation: None,
    };
    let body = serde_json::to_vec(&job).unwrap_or_default();
    let spec = job
        .spec(&sku)
        .map_err(|e| ServeError::Setup(format!("the fill's job: {}", e.reply().body)))?;
    let hash = request_hash("POST", "/v1/jobs", &body);
    let mut waiting: VecDeque<oneshot::Receiver<Reply>> = VecDeque::new();
    let mut refused = 0u64;
    let mut wait_one = |waiting: &mut VecDeque<oneshot::Receiver<Reply>>| {
        if let Some(rx) = waiting.pop_front() {
            match rx.blocking_recv() {
                Ok(r) if r.status == 201 => {}
                _ => refused += 1,
            }
        }
    };
    for i in 0..opts.submissions {
        if waiting.len() >= opts.in_flight.clamp(1, QUEUE_DEPTH) {
            wait_one(&mut waiting);
        }
        let (tx, rx) = oneshot::channel();
        let req = Request {
            caller: "operator".into(),
            idempotency: Some(Idempotency {
                key: format!("fill-{i:010}"),
                request_hash: hash.clone(),
            }),
            commands: vec![abilene_scheduler::Command::Submit(spec.clone())],
            tokens: Vec::new(),
            keep_reply: true,
            audit: None,
            respond: submit_responder(),
            reply: tx,
        };
        match handle.send(req) {
            Ok(()) => {}
            // Never busy: no more are in flight than the queue holds.
            Err(SendError::Busy) | Err(SendError::Stopped) => {
                return Err(ServeError::Setup("the writer stopped while filling".into()));
            }
        }
        waiting.push_back(rx);
    }
    while !waiting.is_empty() {
        wait_one(&mut waiting);
    }
    drop(handle);
    match thread.join() {
        Ok(r) => r?,
        Err(_) => return Err(ServeError::Setup("the writer thread panicked".into())),
    }
    let finished = engine
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .finished_count() as u64;
    let (records, commands) = SqliteStore::open(&opts.data)?.log_size()?;
    let snapshots = crate::store::snapshot_seqs(&opts.data)?;
    Ok(Filled {
        submissions: opts.submissions,
        refused,
        wall: started.elapsed(),
        records,
        commands,
        finished,
        snapshots,
    })
}
