//! The audit log: who did what, to what, when, from where, and what came
//! of it, for every call that changed something or was refused.
//!
//! Records are appended by the writer in the same transaction as the
//! commands they describe, so an acknowledged change is never without its
//! record. Each record is chained to the one before by a hash,
//! `hash = SHA-256(previous hash, "\n", the record's JSON)`, and the store
//! keeps the last `(seq, hash)` beside them: an edited record breaks its
//! own hash, a deleted one breaks the next record's link, a deleted tail
//! no longer meets the head. [`verify`] walks the chain and names the
//! first record that does not hold. (What this does not catch, a rewrite
//! of the whole chain and its head by someone who holds the database, is
//! in SECURITY.md.)

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The hash before the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The longest path kept in a record; longer ones are cut (marked `...`).
pub const MAX_PATH: usize = 512;

/// One audited call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditRecord {
    /// Position in the log, from 1, without gaps.
    pub seq: u64,
    /// Wall-clock ms since the Unix epoch.
    pub at_ms: u64,
    /// The token's id; absent when the call had no valid token.
    pub token: Option<String>,
    pub token_name: Option<String>,
    pub role: Option<String>,
    /// The caller's tenant node; absent for the whole campus or no token.
    pub scope: Option<String>,
    /// The peer's address, `ip:port`.
    pub source: Option<String>,
    pub method: String,
    /// The path asked for (the target), query left out.
    pub path: String,
    /// What was done: the command kinds applied, or the route refused.
    pub what: String,
    pub status: u16,
    /// The error's stable code when refused.
    pub code: Option<String>,
}

/// An audit record before the writer gives it its place.
#[derive(Debug, Clone)]
pub struct AuditDraft {
    pub at_ms: u64,
    pub token: Option<String>,
    pub token_name: Option<String>,
    pub role: Option<String>,
    pub scope: Option<String>,
    pub source: Option<String>,
    pub method: String,
    pub path: String,
    pub what: String,
}

impl AuditDraft {
    /// The record at `seq` with the call's result.
    pub fn finish(self, seq: u64, status: u16, code: Option<String>) -> AuditRecord {
        let mut path = self.path;
        if path.len() > MAX_PATH {
            let mut cut = MAX_PATH;
            while !path.is_char_boundary(cut) {
                cut -= 1;
            }
            path.truncate(cut);
            path.push_str("...");
        }
        AuditRecord {
            seq,
            at_ms: self.at_ms,
            token: self.token,
            token_name: self.token_name,
            role: self.role,
            scope: self.scope,
            source: self.source,
            method: self.method,
            path,
            what: self.what,
            status,
            code,
        }
    }
}

/// A record as stored: its JSON and its chained hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub seq: u64,
    pub json: String,
    pub hash: String,
}

/// The chain's hash after `json`, following `prev`.
pub fn chain(prev: &str, json: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(b"\n");
    h.update(json.as_bytes());
    crate::auth::hex(&h.finalize())
}

/// Where the chain ends: the last record's seq and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub seq: u64,
    pub hash: String,
}

impl Default for Head {
    fn default() -> Head {
        Head {
            seq: 0,
            hash: GENESIS.to_string(),
        }
    }
}

impl Head {
    /// Appends `draft` after this head: the row to store, and the record.
    pub fn append(&mut self, draft: AuditDraft, status: u16, code: Option<String>) -> AuditRow {
        let record = draft.finish(self.seq + 1, status, code);
        // Plain data serialises.
        let json = serde_json::to_string(&record).unwrap_or_default();
        let hash = chain(&self.hash, &json);
        self.seq = record.seq;
        self.hash = hash.clone();
        AuditRow {
            seq: record.seq,
            json,
            hash,
        }
    }
}

/// What is wrong with a chain, naming the first record that breaks it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Broken {
    #[error("audit record {seq}: its hash does not match its content (edited)")]
    Edited { seq: u64 },
    #[error("audit record {seq}: expected record {expected} here (records deleted before it)")]
    Gap { seq: u64, expected: u64 },
    #[error("audit record {seq}: does not read ({why})")]
    Unreadable { seq: u64, why: String },
    #[error("audit record {seq}: says it is record {says}")]
    Misplaced { seq: u64, says: u64 },
    #[error(
        "the audit log ends at record {last} but its head is record {head} (records deleted at the end)"
    )]
    Truncated { last: u64, head: u64 },
    #[error("the audit log's head does not match its last record {seq}")]
    HeadMismatch { seq: u64 },
}

/// Checks rows given in seq order against the stored head.
pub fn verify(
    rows: impl IntoIterator<Item = AuditRow>,
    head: &Head,
) -> Result<(u64, String), Broken> {
    let mut c = Checker::default();
    for row in rows {
        c.push(&row)?;
    }
    c.finish(head)
}

/// Walks a chain one row at a time, so that a long log is checked in
/// constant memory.
#[derive(Debug, Clone)]
pub struct Checker {
    prev: String,
    expected: u64,
}

impl Default for Checker {
    fn default() -> Checker {
        Checker {
            prev: GENESIS.to_string(),
            expected: 1,
        }
    }
}

impl Checker {
    /// The next row, which must follow the last.
    pub fn push(&mut self, row: &AuditRow) -> Result<(), Broken> {
        if row.seq != self.expected {
            return Err(Broken::Gap {
                seq: row.seq,
                expected: self.expected,
            });
        }
        let record: AuditRecord =
            serde_json::from_str(&row.json).map_err(|e| Broken::Unreadable {
                seq: row.seq,
                why: e.to_string(),
            })?;
        if record.seq != row.seq {
            return Err(Broken::Misplaced {
                seq: row.seq,
                says: record.seq,
            });
        }
        let hash = chain(&self.prev, &row.json);
        if hash != row.hash {
            return Err(Broken::Edited { seq: row.seq });
        }
        self.prev = hash;
        self.expected += 1;
        Ok(())
    }

    /// The chain's end against the stored head: (records, last hash).
    pub fn finish(self, head: &Head) -> Result<(u64, String), Broken> {
        let last = self.expected - 1;
        if last != head.seq {
            return Err(Broken::Truncated {
                last,
                head: head.seq,
            });
        }
        if self.prev != head.hash {
            return Err(Broken::HeadMismatch { seq: last });
        }
        Ok((last, self.prev))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(what: &str) -> AuditDraft {
        AuditDraft {
            at_ms: 1,
            token: Some("abc".into()),
            token_name: Some("ci".into()),
            role: Some("viewer".into()),
            scope: Some("openai".into()),
            source: Some("127.0.0.1:5".into()),
            method: "POST".into(),
            path: "/v1/jobs".into(),
            what: what.into(),
        }
    }

    fn log(n: usize) -> (Vec<AuditRow>, Head) {
        let mut head = Head::default();
        let rows = (0..n)
            .map(|i| head.append(draft(&format!("submit {i}")), 201, None))
            .collect();
        (rows, head)
    }

    #[test]
    fn an_intact_chain_verifies() {
        let (rows, head) = log(10);
        assert_eq!(verify(rows, &head), Ok((10, head.hash.clone())));
        assert_eq!(verify(Vec::new(), &Head::default()).map(|x| x.0), Ok(0));
    }

    #[test]
    fn an_edit_a_deletion_and_a_cut_tail_are_each_named() {
        let (rows, head) = log(10);
        let mut edited = rows.clone();
        edited[3].json = edited[3].json.replace("submit 3", "submit 9");
        assert_eq!(verify(edited, &head), Err(Broken::Edited { seq: 4 }));
        let mut deleted = rows.clone();
        deleted.remove(6);
        assert_eq!(
            verify(deleted, &head),
            Err(Broken::Gap {
                seq: 8,
                expected: 7
            })
        );
        let mut cut = rows.clone();
        cut.pop();
        assert_eq!(
            verify(cut, &head),
            Err(Broken::Truncated { last: 9, head: 10 })
        );
        // A record rewritten with a hash recomputed for it still breaks
        // the link to the next.
        let mut rehashed = rows;
        rehashed[2].json = rehashed[2].json.replace("submit 2", "cancel 2");
        rehashed[2].hash = chain(&rehashed[1].hash, &rehashed[2].json);
        assert_eq!(verify(rehashed, &head), Err(Broken::Edited { seq: 4 }));
    }

    #[test]
    fn long_paths_are_cut_on_a_character_boundary() {
        let mut d = draft("x");
        d.path = "é".repeat(400);
        let r = d.finish(1, 404, None);
        assert!(r.path.len() <= MAX_PATH + 3);
        assert!(r.path.ends_with("..."));
    }
}
