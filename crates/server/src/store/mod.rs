//! Where the control plane's history is kept: the command log, the replies
//! given to idempotent requests, the finished jobs, and snapshots.
//!
//! The [`Store`] trait is what the writer needs and no more, so that
//! PostgreSQL (several servers, one leader) can sit beside SQLite without a
//! handler changing. A [`Store::commit`] returns only once its batch is
//! durable: the writer acknowledges nothing before that.

mod sqlite;

pub use sqlite::{DB_FILE, SqliteAudit, SqliteStore, snapshot_seqs};

use crate::audit::{AuditRecord, AuditRow, Head};
use crate::auth::TokenRecord;

use abilene_scheduler::{LogHeader, LogRecord};
use serde::{Deserialize, Serialize};

/// A reply kept for an `Idempotency-Key`, so a retried request gets the
/// first answer again instead of acting twice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredReply {
    pub key: String,
    /// Who asked: a key is private to its caller.
    pub caller: String,
    /// SHA-256 of the method, path and body: the same key with another
    /// request is refused, not answered with the first request's reply.
    pub request_hash: String,
    pub status: u16,
    pub body: String,
}

/// A job that has left the scheduler, as the API reports it afterwards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinishedJob {
    pub id: u64,
    /// The JSON the API returns for it.
    pub body: String,
}

/// One group commit: log records, and what they produced that must outlive
/// the process with them.
#[derive(Debug, Default)]
pub struct Commit {
    pub records: Vec<LogRecord>,
    /// Replies kept, without their bodies (empty): those are read back
    /// one at a time with [`Store::reply_body`].
    pub replies: Vec<StoredReply>,
    pub finished: Vec<FinishedJob>,
    pub next_job_id: u64,
    /// The control policy's memory (JSON), when it changed in this commit.
    pub controller: Option<String>,
    /// Tokens created or revoked.
    pub tokens: Vec<TokenRecord>,
    /// Audit records, chained, in order; the last is the new head.
    pub audit: Vec<AuditRow>,
}

impl Commit {
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
            && self.replies.is_empty()
            && self.finished.is_empty()
            && self.tokens.is_empty()
            && self.audit.is_empty()
    }
}

/// What a store holds when a server starts.
#[derive(Debug, Default)]
pub struct Recovered {
    /// None for a new, empty store.
    pub header: Option<LogHeader>,
    pub next_job_id: u64,
    /// The control policy's memory as last committed (JSON).
    pub controller: Option<String>,
    /// The newest snapshot that reads back: (last record in it, bytes).
    pub snapshots: Vec<(u64, Vec<u8>)>,
    /// Replies kept, without their bodies (empty): those are read back
    /// one at a time with [`Store::reply_body`].
    pub replies: Vec<StoredReply>,
    pub finished: Vec<FinishedJob>,
    /// The seq of the last record.
    pub last_seq: u64,
    /// Every token, revoked ones too (held even before the log's header).
    pub tokens: Vec<TokenRecord>,
    /// Where the audit chain ends.
    pub audit_head: Head,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store {path}: {source}")]
    Sqlite {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("store {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("store {path}: {what}")]
    Corrupt { path: String, what: String },
}

/// Durable storage for one server.
pub trait Store: Send {
    /// Reads what the store holds; snapshots newest first.
    fn recover(&mut self) -> Result<Recovered, StoreError>;

    /// Writes the header of a new log; refused if the store has one.
    fn init(&mut self, header: &LogHeader) -> Result<(), StoreError>;

    /// Makes `commit` durable (fsync) before returning.
    fn commit(&mut self, commit: &Commit) -> Result<(), StoreError>;

    /// Records after `after`, in order, through `each`; stops early if
    /// `each` returns false.
    fn read_log(
        &mut self,
        after: u64,
        each: &mut dyn FnMut(LogRecord) -> bool,
    ) -> Result<(), StoreError>;

    /// The body of the reply kept for `caller`'s `key`, if any.
    fn reply_body(&mut self, caller: &str, key: &str) -> Result<Option<String>, StoreError>;

    /// A reader of the audit log for the API, beside the writer.
    fn audit_reader(&self) -> Result<Box<dyn AuditReader>, StoreError>;

    /// A writer for snapshots that can run on another thread while the log
    /// goes on.
    fn snapshot_writer(&self) -> Box<dyn SnapshotWriter>;
}

/// Writes snapshots durably, away from the log's writer.
pub trait SnapshotWriter: Send {
    /// Stores the state after record `seq`; durable on return. Older
    /// snapshots may be removed, but never the newest two.
    fn put(&mut self, seq: u64, bytes: &[u8]) -> Result<(), StoreError>;
}

/// Reads audit records while the writer appends.
pub trait AuditReader: Send {
    /// Records after `after`, in order, at most `max`.
    fn page(&mut self, after: u64, max: usize) -> Result<Vec<AuditRecord>, StoreError>;
}
