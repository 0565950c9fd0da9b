//! The embedded store: SQLite in WAL mode with `synchronous = FULL`, so a
//! commit is on disk when it returns; snapshots as files beside it, written
//! to a temporary name, synced and renamed, so a crash leaves either the
//! old snapshot or the new one whole.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use abilene_scheduler::{LogHeader, LogRecord};
use rusqlite::{Connection, OptionalExtension, params};

use super::{
    AuditReader, Commit, FinishedJob, Recovered, SnapshotWriter, Store, StoreError, StoredReply,
};
use crate::audit::{AuditRecord, AuditRow, Head};
use crate::auth::TokenRecord;

/// The database file in a store's directory.
pub const DB_FILE: &str = "abilene.db";
const SNAPSHOT_PREFIX: &str = "snapshot-";
const SNAPSHOT_SUFFIX: &str = ".json";
/// Snapshots kept: the newest may be the one a crash interrupted the use of.
const SNAPSHOTS_KEPT: usize = 2;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS log (
    seq INTEGER PRIMARY KEY,
    time INTEGER NOT NULL,
    commands TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS replies (
    key TEXT NOT NULL,
    caller TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (caller, key)
) STRICT;
CREATE TABLE IF NOT EXISTS finished (id INTEGER PRIMARY KEY, body TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS tokens (id TEXT PRIMARY KEY, record TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS audit_blocks (
    seq INTEGER PRIMARY KEY,
    last INTEGER NOT NULL,
    rows TEXT NOT NULL
) STRICT;
";

pub struct SqliteStore {
    dir: PathBuf,
    conn: Connection,
}

impl SqliteStore {
    /// Opens (creating) the store in directory `dir`.
    pub fn open(dir: &Path) -> Result<SqliteStore, StoreError> {
        fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        let path = dir.join(DB_FILE);
        let sql = |source| StoreError::Sqlite {
            path: path.display().to_string(),
            source,
        };
        let conn = Connection::open(&path).map_err(sql)?;
        // WAL: readers never block the writer; FULL: each commit is synced
        // before it returns, which is what makes an acknowledgement safe.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(sql)?;
        conn.execute_batch(SCHEMA).map_err(sql)?;
        Ok(SqliteStore {
            dir: dir.to_path_buf(),
            conn,
        })
    }

    /// Records in the log and commands in them.
    pub fn log_size(&self) -> Result<(u64, u64), StoreError> {
        self.conn
            .query_row(
                "SELECT COUNT(*), COALESCE(SUM(json_array_length(commands)), 0) FROM log",
                [],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
            )
            .map_err(|e| self.err(e))
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.dir.join(DB_FILE).display().to_string(),
            source,
        }
    }

    fn corrupt(&self, what: String) -> StoreError {
        StoreError::Corrupt {
            path: self.dir.join(DB_FILE).display().to_string(),
            what,
        }
    }

    fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    fn load_replies(&self) -> Result<Vec<StoredReply>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT key, caller, request_hash, status FROM replies")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| {
                Ok(StoredReply {
                    key: r.get(0)?,
                    caller: r.get(1)?,
                    request_hash: r.get(2)?,
                    status: r.get(3)?,
                    body: String::new(),
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    fn load_finished(&self) -> Result<Vec<FinishedJob>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT id, body FROM finished ORDER BY id")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| {
                Ok(FinishedJob {
                    id: r.get::<_, i64>(0)? as u64,
                    body: r.get(1)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    fn load_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT id, record FROM tokens ORDER BY id")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, text) = row.map_err(|e| self.err(e))?;
            let t: TokenRecord = serde_json::from_str(&text)
                .map_err(|e| self.corrupt(format!("token {id} does not read: {e}")))?;
            out.push(t);
        }
        Ok(out)
    }

    fn audit_head(&self) -> Result<Head, StoreError> {
        read_head(self.meta("audit_head")?).map_err(|w| self.corrupt(w))
    }

    /// Snapshot files, newest first, with their seq.
    fn snapshot_files(&self) -> Result<Vec<(u64, PathBuf)>, StoreError> {
        list_snapshots(&self.dir)
    }
}

/// The seqs of the snapshots in store directory `dir`, newest first.
pub fn snapshot_seqs(dir: &Path) -> Result<Vec<u64>, StoreError> {
    Ok(list_snapshots(dir)?.into_iter().map(|s| s.0).collect())
}

fn list_snapshots(dir: &Path) -> Result<Vec<(u64, PathBuf)>, StoreError> {
    let io = |source| StoreError::Io {
        path: dir.display().to_string(),
        source,
    };
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(seq) = name
            .strip_prefix(SNAPSHOT_PREFIX)
            .and_then(|s| s.strip_suffix(SNAPSHOT_SUFFIX))
            .and_then(|s| s.parse::<u64>().ok())
        {
            found.push((seq, entry.path()));
        }
    }
    found.sort_by_key(|s| std::cmp::Reverse(s.0));
    Ok(found)
}

impl Store for SqliteStore {
    fn recover(&mut self) -> Result<Recovered, StoreError> {
        let tokens = self.load_tokens()?;
        let audit_head = self.audit_head()?;
        let header = match self.meta("header")? {
            None => {
                return Ok(Recovered {
                    tokens,
                    audit_head,
                    ..Recovered::default()
                });
            }
            Some(text) => serde_json::from_str::<LogHeader>(&text)
                .map_err(|e| self.corrupt(format!("the log header does not read: {e}")))?,
        };
        let next_job_id = match self.meta("next_job_id")? {
            Some(v) => v
                .parse()
                .map_err(|_| self.corrupt(format!("next_job_id `{v}` is not a number")))?,
            None => 0,
        };
        let last_seq: i64 = self
            .conn
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM log", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        let mut snapshots = Vec::new();
        for (seq, path) in self.snapshot_files()? {
            // A snapshot past the log's end was not taken by this log.
            if seq > last_seq as u64 {
                continue;
            }
            match fs::read(&path) {
                Ok(bytes) => snapshots.push((seq, bytes)),
                Err(e) => tracing::warn!("snapshot {} unreadable: {e}", path.display()),
            }
            if snapshots.len() == SNAPSHOTS_KEPT {
                break;
            }
        }
        Ok(Recovered {
            header: Some(header),
            next_job_id,
            controller: self.meta("controller")?,
            snapshots,
            replies: self.load_replies()?,
            finished: self.load_finished()?,
            last_seq: last_seq as u64,
            tokens,
            audit_head,
        })
    }

    fn init(&mut self, header: &LogHeader) -> Result<(), StoreError> {
        if self.meta("header")?.is_some() {
            return Err(self.corrupt("the store already holds a log".into()));
        }
        let text = serde_json::to_string(header).map_err(|e| self.corrupt(e.to_string()))?;
        self.conn
            .execute(
                "INSERT INTO meta (key, value) VALUES ('header', ?1)",
                params![text],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    fn commit(&mut self, c: &Commit) -> Result<(), StoreError> {
        let dir = self.dir.join(DB_FILE).display().to_string();
        let sql = |source| StoreError::Sqlite {
            path: dir.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(sql)?;
        {
            let mut log = tx
                .prepare_cached("INSERT INTO log (seq, time, commands) VALUES (?1, ?2, ?3)")
                .map_err(sql)?;
            for r in &c.records {
                // Serialising plain data cannot fail.
                let commands = serde_json::to_string(&r.commands).unwrap_or_default();
                log.execute(params![r.seq as i64, r.time as i64, commands])
                    .map_err(sql)?;
            }
            let mut rep = tx
                .prepare_cached(
                    "INSERT INTO replies (key, caller, request_hash, status, body)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(sql)?;
            for r in &c.replies {
                rep.execute(params![r.key, r.caller, r.request_hash, r.status, r.body])
                    .map_err(sql)?;
            }
            let mut fin = tx
                .prepare_cached("INSERT OR REPLACE INTO finished (id, body) VALUES (?1, ?2)")
                .map_err(sql)?;
            for f in &c.finished {
                fin.execute(params![f.id as i64, f.body]).map_err(sql)?;
            }
            tx.prepare_cached(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('next_job_id', ?1)",
            )
            .map_err(sql)?
            .execute(params![c.next_job_id.to_string()])
            .map_err(sql)?;
            let mut tok = tx
                .prepare_cached("INSERT OR REPLACE INTO tokens (id, record) VALUES (?1, ?2)")
                .map_err(sql)?;
            for t in &c.tokens {
                let record = serde_json::to_string(t).unwrap_or_default();
                tok.execute(params![t.id, record]).map_err(sql)?;
            }
            // A round's records as one row (one B-tree insert, not one a
            // request): a line each, `HASH JSON`; the chain stays per record.
            if let (Some(first), Some(last)) = (c.audit.first(), c.audit.last()) {
                let mut block = String::with_capacity(c.audit.len() * 384);
                for a in &c.audit {
                    block.push_str(&a.hash);
                    block.push(' ');
                    block.push_str(&a.json);
                    block.push('\n');
                }
                tx.prepare_cached("INSERT INTO audit_blocks (seq, last, rows) VALUES (?1, ?2, ?3)")
                    .map_err(sql)?
                    .execute(params![first.seq as i64, last.seq as i64, block])
                    .map_err(sql)?;
            }
            if let Some(last) = c.audit.last() {
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('audit_head', ?1)",
                )
                .map_err(sql)?
                .execute(params![format!("{} {}", last.seq, last.hash)])
                .map_err(sql)?;
            }
            if let Some(controller) = &c.controller {
                tx.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('controller', ?1)",
                    params![controller],
                )
                .map_err(sql)?;
            }
        }
        tx.commit().map_err(sql)
    }

    fn read_log(
        &mut self,
        after: u64,
        each: &mut dyn FnMut(LogRecord) -> bool,
    ) -> Result<(), StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT seq, time, commands FROM log WHERE seq > ?1 ORDER BY seq")
            .map_err(|e| self.err(e))?;
        let mut rows = st.query([after as i64]).map_err(|e| self.err(e))?;
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let seq: i64 = row.get(0).map_err(|e| self.err(e))?;
            let time: i64 = row.get(1).map_err(|e| self.err(e))?;
            let text: String = row.get(2).map_err(|e| self.err(e))?;
            let commands = serde_json::from_str(&text)
                .map_err(|e| self.corrupt(format!("log record {seq} does not read: {e}")))?;
            let record = LogRecord {
                seq: seq as u64,
                time: time as u64,
                commands,
            };
            if !each(record) {
                break;
            }
        }
        Ok(())
    }

    fn reply_body(&mut self, caller: &str, key: &str) -> Result<Option<String>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT body FROM replies WHERE caller = ?1 AND key = ?2")
            .map_err(|e| self.err(e))?;
        st.query_row(params![caller, key], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    fn audit_reader(&self) -> Result<Box<dyn AuditReader>, StoreError> {
        Ok(Box::new(SqliteAudit::open(&self.dir)?))
    }

    fn snapshot_writer(&self) -> Box<dyn SnapshotWriter> {
        Box::new(FileSnapshots {
            dir: self.dir.clone(),
        })
    }
}

struct FileSnapshots {
    dir: PathBuf,
}

impl SnapshotWriter for FileSnapshots {
    fn put(&mut self, seq: u64, bytes: &[u8]) -> Result<(), StoreError> {
        let name = format!("{SNAPSHOT_PREFIX}{seq:012}{SNAPSHOT_SUFFIX}");
        let path = self.dir.join(&name);
        let tmp = self.dir.join(format!("{name}.tmp"));
        let io = |source| StoreError::Io {
            path: tmp.display().to_string(),
            source,
        };
        let mut f = fs::File::create(&tmp).map_err(io)?;
        f.write_all(bytes).map_err(io)?;
        f.sync_all().map_err(io)?;
        drop(f);
        fs::rename(&tmp, &path).map_err(io)?;
        // The rename is durable once the directory is synced.
        fs::File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io)?;
        for (_, old) in list_snapshots(&self.dir)?.into_iter().skip(SNAPSHOTS_KEPT) {
            let _ = fs::remove_file(old);
        }
        Ok(())
    }
}

fn read_head(text: Option<String>) -> Result<Head, String> {
    let Some(text) = text else {
        return Ok(Head::default());
    };
    let (seq, hash) = text
        .split_once(' ')
        .ok_or_else(|| format!("the audit head `{text}` does not read"))?;
    Ok(Head {
        seq: seq
            .parse()
            .map_err(|_| format!("the audit head `{text}` does not read"))?,
        hash: hash.to_string(),
    })
}

/// The seq a record states, read without the rest.
#[derive(serde::Deserialize)]
struct SeqOf {
    seq: u64,
}

/// Reads the audit log over its own read-only connection: WAL lets it read
/// while the writer commits.
pub struct SqliteAudit {
    path: String,
    conn: Connection,
}

impl SqliteAudit {
    /// Opens the audit log of the store in `dir`, read-only.
    pub fn open(dir: &Path) -> Result<SqliteAudit, StoreError> {
        let path = dir.join(DB_FILE);
        let shown = path.display().to_string();
        if !path.exists() {
            return Err(StoreError::Corrupt {
                path: shown,
                what: "no store here".into(),
            });
        }
        let conn = Connection::open_with_flags(
            &path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|source| StoreError::Sqlite {
            path: shown.clone(),
            source,
        })?;
        Ok(SqliteAudit { path: shown, conn })
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// Rows after `after`, in order, at most `max`. A row's seq is the one
    /// its record states (so a deleted line reads as a gap), or its place
    /// in the block when the record does not read.
    pub fn rows(&mut self, after: u64, max: usize) -> Result<Vec<AuditRow>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT seq, rows FROM audit_blocks WHERE last > ?1 ORDER BY seq")
            .map_err(|e| self.err(e))?;
        let mut blocks = st.query([after as i64]).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        while out.len() < max {
            let Some(b) = blocks.next().map_err(|e| self.err(e))? else {
                break;
            };
            let first = b.get::<_, i64>(0).map_err(|e| self.err(e))? as u64;
            let text: String = b.get(1).map_err(|e| self.err(e))?;
            for (i, line) in text.lines().enumerate() {
                let (hash, json) = line.split_once(' ').unwrap_or(("", line));
                let seq = serde_json::from_str::<SeqOf>(json).map_or(first + i as u64, |s| s.seq);
                if seq <= after {
                    continue;
                }
                out.push(AuditRow {
                    seq,
                    json: json.to_string(),
                    hash: hash.to_string(),
                });
                if out.len() == max {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// The head as the store records it.
    pub fn head(&mut self) -> Result<Head, StoreError> {
        let text: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'audit_head'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.err(e))?;
        read_head(text).map_err(|what| StoreError::Corrupt {
            path: self.path.clone(),
            what,
        })
    }

    /// Walks the whole chain in one read transaction (so the writer's
    /// commits meanwhile do not move the head under it), a page at a time.
    pub fn verify(&mut self) -> Result<Result<(u64, String), crate::audit::Broken>, StoreError> {
        self.conn.execute_batch("BEGIN").map_err(|e| self.err(e))?;
        let result = self.verify_inside();
        let _ = self.conn.execute_batch("COMMIT");
        result
    }

    fn verify_inside(&mut self) -> Result<Result<(u64, String), crate::audit::Broken>, StoreError> {
        let head = self.head()?;
        let mut checker = crate::audit::Checker::default();
        let mut after = 0;
        loop {
            let page = self.rows(after, 10_000)?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for row in &page {
                if let Err(broken) = checker.push(row) {
                    return Ok(Err(broken));
                }
            }
        }
        Ok(checker.finish(&head))
    }
}

impl AuditReader for SqliteAudit {
    fn page(&mut self, after: u64, max: usize) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = self.rows(after, max)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let rec = serde_json::from_str(&r.json).map_err(|e| StoreError::Corrupt {
                path: self.path.clone(),
                what: format!("audit record {} does not read: {e}", r.seq),
            })?;
            out.push(rec);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use abilene_scheduler::{Command, Config};

    fn header() -> LogHeader {
        LogHeader {
            format: abilene_scheduler::LOG_FORMAT,
            campus_fingerprint: "x".into(),
            config: Config::default(),
            tenants: vec![],
        }
    }

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("abilene-store-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn a_commit_reads_back_after_reopening() {
        let d = dir("reopen");
        let mut s = SqliteStore::open(&d).unwrap();
        assert!(s.recover().unwrap().header.is_none());
        s.init(&header()).unwrap();
        let commit = Commit {
            records: vec![LogRecord {
                seq: 1,
                time: 10,
                commands: vec![Command::Cancel(abilene_scheduler::JobId(3))],
            }],
            replies: vec![StoredReply {
                key: "k".into(),
                caller: "operator".into(),
                request_hash: "h".into(),
                status: 202,
                body: "{}".into(),
            }],
            finished: vec![FinishedJob {
                id: 3,
                body: "{}".into(),
            }],
            next_job_id: 9,
            controller: Some("{}".into()),
            ..Default::default()
        };
        s.commit(&commit).unwrap();
        drop(s);
        let mut s = SqliteStore::open(&d).unwrap();
        let r = s.recover().unwrap();
        assert_eq!(r.header, Some(header()));
        assert_eq!((r.last_seq, r.next_job_id), (1, 9));
        assert_eq!(r.controller.as_deref(), Some("{}"));
        // Replies come back without their bodies, which are read one by one.
        let mut bodiless = commit.replies.clone();
        bodiless[0].body = String::new();
        assert_eq!(r.replies, bodiless);
        assert_eq!(
            s.reply_body("operator", "k").unwrap().as_deref(),
            Some("{}")
        );
        assert_eq!(s.reply_body("operator", "other").unwrap(), None);
        assert_eq!(r.finished, commit.finished);
        let mut seen = vec![];
        s.read_log(0, &mut |rec| {
            seen.push(rec);
            true
        })
        .unwrap();
        assert_eq!(seen, commit.records);
        assert!(s.init(&header()).is_err(), "a second header is refused");
        fs::remove_dir_all(&d).unwrap();
    }

    fn audited(n: usize) -> (PathBuf, Vec<crate::audit::AuditRow>) {
        let d = dir(&format!("audit-{n}"));
        let mut s = SqliteStore::open(&d).unwrap();
        let mut head = Head::default();
        let rows: Vec<_> = (0..n)
            .map(|i| {
                head.append(
                    crate::audit::AuditDraft {
                        at_ms: i as u64,
                        token: Some("t".into()),
                        token_name: None,
                        role: None,
                        scope: None,
                        source: None,
                        method: "POST".into(),
                        path: format!("/v1/jobs/{i}/cancel"),
                        what: "cancel".into(),
                    },
                    200,
                    None,
                )
            })
            .collect();
        // In two commits, as two writer rounds would.
        let (a, b) = rows.split_at(n / 2);
        for part in [a, b] {
            s.commit(&Commit {
                audit: part.to_vec(),
                ..Default::default()
            })
            .unwrap();
        }
        (d, rows)
    }

    #[test]
    fn tokens_and_the_audit_chain_read_back_before_any_log_exists() {
        let (d, rows) = audited(6);
        let minted =
            crate::auth::mint("a", crate::auth::Role::Viewer, None, 1, None, None).unwrap();
        let mut s = SqliteStore::open(&d).unwrap();
        s.commit(&Commit {
            tokens: vec![minted.record.clone()],
            ..Default::default()
        })
        .unwrap();
        let r = s.recover().unwrap();
        assert!(r.header.is_none());
        assert_eq!(r.tokens, vec![minted.record]);
        assert_eq!(r.audit_head.seq, 6);
        assert_eq!(r.audit_head.hash, rows[5].hash);
        let mut a = SqliteAudit::open(&d).unwrap();
        assert_eq!(a.verify().unwrap().map(|x| x.0), Ok(6));
        assert_eq!(
            a.page(2, 2)
                .unwrap()
                .iter()
                .map(|r| r.seq)
                .collect::<Vec<_>>(),
            vec![3, 4]
        );
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn an_edited_or_deleted_audit_record_in_the_database_is_named() {
        let (d, _) = audited(8);
        let db = Connection::open(d.join(DB_FILE)).unwrap();
        db.execute(
            "UPDATE audit_blocks SET rows = replace(rows, '/v1/jobs/2/cancel', '/v1/jobs/9/cancel')",
            [],
        )
        .unwrap();
        let mut a = SqliteAudit::open(&d).unwrap();
        assert_eq!(
            a.verify().unwrap(),
            Err(crate::audit::Broken::Edited { seq: 3 })
        );
        let (d2, _) = audited(9);
        let db = Connection::open(d2.join(DB_FILE)).unwrap();
        // Record 5 is the first line of the second commit's block.
        let rows: String = db
            .query_row("SELECT rows FROM audit_blocks WHERE seq = 5", [], |r| {
                r.get(0)
            })
            .unwrap();
        let without: String = rows.lines().skip(1).map(|l| format!("{l}\n")).collect();
        db.execute("UPDATE audit_blocks SET rows = ?1 WHERE seq = 5", [without])
            .unwrap();
        let mut a = SqliteAudit::open(&d2).unwrap();
        assert_eq!(
            a.verify().unwrap(),
            Err(crate::audit::Broken::Gap {
                seq: 6,
                expected: 5
            })
        );
        db.execute("DELETE FROM audit_blocks WHERE seq >= 5", [])
            .unwrap();
        assert_eq!(
            a.verify().unwrap(),
            Err(crate::audit::Broken::Truncated { last: 4, head: 9 })
        );
        fs::remove_dir_all(&d).unwrap();
        fs::remove_dir_all(&d2).unwrap();
    }

    #[test]
    fn snapshots_keep_the_newest_two_and_skip_those_past_the_log() {
        let d = dir("snaps");
        let mut s = SqliteStore::open(&d).unwrap();
        s.init(&header()).unwrap();
        let records = (1..=3)
            .map(|seq| LogRecord {
                seq,
                time: seq,
                commands: vec![],
            })
            .collect();
        s.commit(&Commit {
            records,
            ..Commit::default()
        })
        .unwrap();
        let mut w = s.snapshot_writer();
        for seq in [1, 2, 3, 7] {
            w.put(seq, format!("state {seq}").as_bytes()).unwrap();
        }
        let r = s.recover().unwrap();
        // 7 is past the log's end (3): never taken from this log's records.
        let seqs: Vec<u64> = r.snapshots.iter().map(|s| s.0).collect();
        assert_eq!(seqs, vec![3]);
        assert_eq!(list_snapshots(&d).unwrap().len(), 2);
        fs::remove_dir_all(&d).unwrap();
    }
}
