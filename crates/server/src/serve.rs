//! Starting and stopping a server: open the store, rebuild the state from
//! the newest snapshot and the log's tail, start the writer and the HTTP
//! listener, and on shutdown let requests finish and the log flush.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, RwLock};

use abilene_control::{Controller, Fleet};
use abilene_model::Campus;
use abilene_scheduler::{LogHeader, Scheduler};
use abilene_twin::scenario::Scenario;
use abilene_twin::sim::{RunOptions, TwinFleet};
use tokio::sync::broadcast;

use crate::api::{AppState, app};
use crate::clock::CampusClock;
use crate::engine::Engine;
use crate::store::{SqliteStore, Store};
use crate::transport::{TransportError, TransportOptions};
use crate::writer::Writer;

/// Commands between snapshots: the default, and the range accepted.
pub const SNAPSHOT_EVERY: u64 = 200_000;
pub const SNAPSHOT_EVERY_RANGE: std::ops::RangeInclusive<u64> = 100..=100_000_000;

pub struct ServeOptions {
    /// The campus, its plant and weather, and (optionally) a background
    /// workload, as the twin reads them.
    pub scenario: &'static Scenario,
    /// Where the store lives.
    pub data: PathBuf,
    pub listen: SocketAddr,
    /// Campus seconds per wall second (`--speed`).
    pub speed: f64,
    pub snapshot_every: u64,
    pub seed: Option<u64>,
    /// Where to write the first admin token when the store is new; None:
    /// it is handed to `on_ready` (`Server::first_token`) to be printed.
    pub admin_token_file: Option<PathBuf>,
    pub limits: crate::api::Limits,
    /// TLS, the plain-HTTP rule, the header timeout, the connection bound.
    pub transport: TransportOptions,
}

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    /// Campus time the state was restored to, and the records replayed.
    pub restored: Restored,
    /// The operator's first admin token, when this start made it and no
    /// file was given for it: to be shown once.
    pub first_token: Option<String>,
}

#[derive(Debug, Clone, Copy)]
pub struct Restored {
    pub seq: u64,
    pub from_snapshot: Option<u64>,
    pub replayed: u64,
    pub millis: u128,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("{0}")]
    Setup(String),
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// The fleet under the server: the twin, fresh or resumed from the state.
pub(crate) fn fleet_for(
    sc: &'static Scenario,
    seed: Option<u64>,
    sched: &Scheduler,
    fresh: bool,
) -> Result<Box<dyn Fleet + Send>, ServeError> {
    // The fleet runs the scenario's days; after them the campus stands
    // still (no failures, no arrivals) while the server goes on.
    let opts = RunOptions { days: None, seed };
    let fleet = if fresh {
        TwinFleet::new(sc, &opts).map_err(ServeError::Setup)?.0
    } else {
        // The twin goes on from the restored state: running jobs run on,
        // failed trays get repaired, arrivals continue after `now`.
        TwinFleet::resume(sc, &opts, sched).map_err(ServeError::Setup)?
    };
    Ok(Box::new(fleet))
}

/// What a store held besides the scheduler's state.
#[derive(Debug, Default)]
pub(crate) struct Held {
    pub tokens: Vec<crate::auth::TokenRecord>,
    pub audit_head: crate::audit::Head,
}

/// Rebuilds the engine from `store`, or starts a new log in it.
pub(crate) fn restore(
    store: &mut dyn Store,
    sc: &'static Scenario,
    campus: Arc<Campus>,
    held: &mut Held,
) -> Result<(Engine, Controller, Restored, bool), ServeError> {
    let started = std::time::Instant::now();
    let mut rec = store.recover()?;
    held.tokens = std::mem::take(&mut rec.tokens);
    held.audit_head = std::mem::take(&mut rec.audit_head);
    let setup = |e: String| ServeError::Setup(e);
    let Some(header) = rec.header else {
        let tenants = abilene_twin::tenancy::tenants(&sc.spec, &sc.campus);
        let header = LogHeader::new(&campus, abilene_scheduler::Config::default(), tenants);
        let sched = header.start(campus).map_err(|e| setup(e.to_string()))?;
        store.init(&header)?;
        let restored = Restored {
            seq: 0,
            from_snapshot: None,
            replayed: 0,
            millis: started.elapsed().as_millis(),
        };
        return Ok((Engine::new(sched, 0, 0), Controller::new(), restored, true));
    };
    let mut base = None;
    for (seq, bytes) in &rec.snapshots {
        match Scheduler::restore(campus.clone(), bytes) {
            Ok(s) => {
                base = Some((*seq, s));
                break;
            }
            // An older snapshot, or the log from empty, still holds it all.
            Err(e) => tracing::warn!("snapshot after record {seq} not used: {e}"),
        }
    }
    let from_snapshot = base.as_ref().map(|b| b.0);
    let (seq, sched) = match base {
        Some(b) => b,
        None => (0, header.start(campus).map_err(|e| setup(e.to_string()))?),
    };
    let mut engine = Engine::new(sched, seq, rec.next_job_id);
    let mut replayed = 0u64;
    let mut gap = None;
    store.read_log(seq, &mut |r| {
        if r.seq != engine.seq + 1 {
            gap = Some((engine.seq, r.seq));
            return false;
        }
        engine.apply(&r);
        replayed += 1;
        true
    })?;
    if let Some((after, found)) = gap {
        return Err(setup(format!(
            "the log skips from record {after} to {found}: the store is damaged"
        )));
    }
    engine.next_job_id = engine.next_job_id.max(rec.next_job_id);
    // The finished jobs as they were recorded win over those rebuilt.
    engine.load(rec.finished, rec.replies);
    let restored = Restored {
        seq: engine.seq,
        from_snapshot,
        replayed,
        millis: started.elapsed().as_millis(),
    };
    let control = match &rec.controller {
        Some(text) => serde_json::from_str(text)
            .map_err(|e| setup(format!("the control policy's memory does not read: {e}")))?,
        None => Controller::new(),
    };
    Ok((engine, control, restored, false))
}

/// A writer running over a restored engine: what `run` serves and what
/// `fill` feeds.
pub(crate) struct Started {
    pub engine: Arc<RwLock<Engine>>,
    pub handle: crate::writer::WriterHandle,
    pub thread: std::thread::JoinHandle<Result<(), crate::store::StoreError>>,
    pub restored: Restored,
    pub events: broadcast::Sender<crate::engine::StreamEvent>,
    pub stopped: Arc<AtomicBool>,
    pub on_stop: Arc<tokio::sync::Notify>,
    /// The SKU of a submission that names none.
    pub default_sku: Arc<str>,
    pub tokens: Arc<RwLock<crate::auth::Tokens>>,
    /// The first admin token, when this start made it.
    pub first_token: Option<String>,
    /// The audit log's reader, beside the writer.
    pub audit: Box<dyn crate::store::AuditReader>,
    pub metrics: Arc<crate::metrics::Metrics>,
    pub telemetry: Arc<crate::metrics::dcgm::Telemetry>,
}

/// Makes the operator's first admin token in a store that has no live
/// operator-admin token (a new store, or one whose operator tokens all
/// expired or were revoked: `abilene admin init` on the data folder is how
/// an operator gets back in), and commits it with its audit record. The
/// token is written to `file` (mode 0600) before the commit, so a token
/// is never stored that nobody holds. None if the store has a live one.
pub(crate) fn first_admin(
    store: &mut dyn Store,
    held: &mut Held,
    file: Option<&std::path::Path>,
) -> Result<Option<String>, ServeError> {
    let now = crate::clock::wall_ms();
    let live = crate::auth::Tokens::new(held.tokens.clone()).live_operators(now);
    if live > 0 {
        return Ok(None);
    }
    let minted = crate::auth::mint(
        "admin",
        crate::auth::Role::OperatorAdmin,
        None,
        now,
        None,
        None,
    )
    .map_err(ServeError::Setup)?;
    if let Some(f) = file {
        write_secret(f, &minted.token)?;
    }
    let draft = crate::audit::AuditDraft {
        at_ms: now,
        token: None,
        token_name: None,
        role: None,
        scope: None,
        source: None,
        method: "INIT".into(),
        path: format!("/v1/tokens/{}", minted.record.id),
        what: "token.create (an operator-admin, the store having no live one)".into(),
    };
    let mut head = held.audit_head.clone();
    let row = head.append(draft, 201, None);
    store.commit(&crate::store::Commit {
        tokens: vec![minted.record.clone()],
        audit: vec![row],
        ..Default::default()
    })?;
    held.audit_head = head;
    held.tokens.push(minted.record);
    Ok(Some(minted.token))
}

/// `abilene admin init`: an operator-admin token for the store in `data`
/// (the server must not be running on it), written to `file` if given.
/// Refused while the store holds a live operator-admin token.
pub fn init_admin(
    data: &std::path::Path,
    file: Option<&std::path::Path>,
) -> Result<String, ServeError> {
    let mut store = SqliteStore::open(data)?;
    let rec = store.recover()?;
    let mut held = Held {
        tokens: rec.tokens,
        audit_head: rec.audit_head,
    };
    first_admin(&mut store, &mut held, file)?.ok_or_else(|| {
        ServeError::Setup(format!(
            "{} already has a live operator-admin token: create more with `abilene admin token create`",
            data.display()
        ))
    })
}

/// Opens the store in `data`, restores the engine (or starts a new log),
/// resumes the fleet and starts the writer over them.
pub(crate) fn start_writer(
    sc: &'static Scenario,
    data: &std::path::Path,
    seed: Option<u64>,
    speed: f64,
    snapshot_every: u64,
    token_file: Option<&std::path::Path>,
) -> Result<Started, ServeError> {
    let campus = Arc::new(sc.campus.clone());
    let mut store = SqliteStore::open(data)?;
    let mut held = Held::default();
    let (engine, control, restored, fresh) = restore(&mut store, sc, campus, &mut held)?;
    let first_token = first_admin(&mut store, &mut held, token_file)?;
    let audit = store.audit_reader()?;
    let tokens = Arc::new(RwLock::new(crate::auth::Tokens::new(std::mem::take(
        &mut held.tokens,
    ))));
    let fleet = fleet_for(sc, seed, &engine.sched, fresh)?;
    let clock = CampusClock::new(engine.sched.now(), speed).map_err(ServeError::Setup)?;
    let default_sku: Arc<str> = Arc::from(crate::api::jobs::default_sku(&engine));
    let engine = Arc::new(RwLock::new(engine));
    let (events, _) = broadcast::channel(4_096);
    let stopped = Arc::new(AtomicBool::new(false));
    let on_stop = Arc::new(tokio::sync::Notify::new());
    let metrics = crate::metrics::Metrics::new();
    let telemetry = Arc::new(crate::metrics::dcgm::Telemetry::new(sc.spec.power.clone()));
    let writer = Writer {
        engine: engine.clone(),
        store: Box::new(store),
        fleet,
        committed_control: control.clone(),
        control,
        clock,
        events: events.clone(),
        snapshot_every,
        stopped: stopped.clone(),
        on_stop: on_stop.clone(),
        tokens: tokens.clone(),
        audit_head: held.audit_head,
        metrics: metrics.clone(),
        telemetry: telemetry.clone(),
    };
    let (handle, thread) = writer
        .spawn()
        .map_err(|e| ServeError::Setup(format!("start the writer: {e}")))?;
    Ok(Started {
        engine,
        handle,
        thread,
        restored,
        events,
        stopped,
        on_stop,
        default_sku,
        tokens,
        first_token,
        audit,
        metrics,
        telemetry,
    })
}

/// Runs a server until `shutdown` completes, then stops it cleanly:
/// in-flight requests finish and every accepted command is on disk.
/// `on_ready` hears the bound address once the state is restored.
pub async fn run(
    opts: ServeOptions,
    on_ready: impl FnOnce(&Server),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    if !SNAPSHOT_EVERY_RANGE.contains(&opts.snapshot_every) {
        return Err(ServeError::Setup(format!(
            "snapshot-every {}: must be {} to {} commands",
            opts.snapshot_every,
            SNAPSHOT_EVERY_RANGE.start(),
            SNAPSHOT_EVERY_RANGE.end()
        )));
    }
    let sc = opts.scenario;
    opts.limits.check().map_err(ServeError::Setup)?;
    // The speed is checked before anything is opened.
    CampusClock::new(0, opts.speed).map_err(ServeError::Setup)?;
    // So are the transport's settings, and the certificate and key read.
    let tls = opts.transport.prepare(opts.listen)?;
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|source| ServeError::Listen {
            addr: opts.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Listen {
        addr: opts.listen,
        source,
    })?;
    let started = start_writer(
        sc,
        &opts.data,
        opts.seed,
        opts.speed,
        opts.snapshot_every,
        opts.admin_token_file.as_deref(),
    )?;
    let Started {
        engine,
        handle,
        thread,
        restored,
        events,
        stopped,
        on_stop,
        default_sku,
        tokens,
        first_token,
        audit,
        metrics,
        telemetry,
    } = started;
    // Written to the file already, if one was given.
    let first_token = first_token.filter(|_| opts.admin_token_file.is_none());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let root: Arc<str> = {
        let e = engine.read().unwrap_or_else(|p| p.into_inner());
        Arc::from(e.sched.tenant_names().first().map_or("", |s| s.as_str()))
    };
    let state = AppState::new(crate::api::Shared {
        engine,
        writer: handle,
        events,
        ready: Arc::new(AtomicBool::new(true)),
        writer_stopped: stopped,
        campus_name: Arc::from(sc.campus.spec.site.name.as_str()),
        default_sku,
        speed: opts.speed,
        shutdown: stop_rx,
        pages: Default::default(),
        tokens,
        audit: Arc::new(std::sync::Mutex::new(audit)),
        limits: Arc::new(crate::api::LimitState::new(&opts.limits)),
        root,
        metrics,
        telemetry,
        tls: tls.is_some(),
    });
    on_ready(&Server {
        addr,
        restored,
        first_token,
    });
    let router = app(state);
    let graceful = async move {
        tokio::select! {
            _ = shutdown => {}
            // The writer stopped by itself: its store failed.
            _ = on_stop.notified() => {}
        }
        let _ = stop_tx.send(true);
    };
    let served = crate::transport::serve(listener, router, &opts.transport, tls, graceful).await;
    // Every handler is done and the router is dropped: the writer sees its
    // queue close, commits what it holds and stops.
    let written = tokio::task::spawn_blocking(move || thread.join())
        .await
        .map_err(|e| ServeError::Setup(format!("writer: {e}")))?;
    match written {
        Ok(r) => r?,
        Err(_) => return Err(ServeError::Setup("the writer thread panicked".into())),
    }
    served.map_err(|source| ServeError::Listen { addr, source })?;
    Ok(())
}

/// Writes a secret to a new file only its owner can read.
pub fn write_secret(path: &std::path::Path, secret: &str) -> Result<(), ServeError> {
    use std::io::Write;
    // A new file, so the mode is ours and not an old file's.
    let _ = std::fs::remove_file(path);
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let fail = |e: std::io::Error| ServeError::Setup(format!("{}: {e}", path.display()));
    let mut f = o.open(path).map_err(fail)?;
    f.write_all(secret.as_bytes()).map_err(fail)?;
    f.write_all(b"\n").map_err(fail)?;
    f.sync_all().map_err(fail)
}
