//! The command log: a header, then one record per step.
//!
//! A record is `(seq, time, commands)`: the commands given to one
//! [`Scheduler::step`] at `time`, in order; a record with no commands is a
//! pass the clock asked for (deadlines, reservations, contract dates are
//! decided in passes, so their times are part of the history). Replaying the
//! records of a log from the header's starting state reaches the same state,
//! event for event. Commands speak names, so a log reads on its own; the
//! header's campus fingerprint still refuses a log replayed on another
//! campus, since the same names may then mean other hardware.

use std::sync::Arc;

use abilene_model::Campus;
use serde::{Deserialize, Serialize};

use crate::command::Command;
use crate::config::Config;
use crate::job::Time;
use crate::scheduler::{Scheduler, StepOutput};
use crate::tenant::TenantSpec;

/// The log format this build writes and reads.
pub const LOG_FORMAT: u32 = 1;

/// What a log starts from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogHeader {
    pub format: u32,
    pub campus_fingerprint: String,
    pub config: Config,
    /// The tenancy at the start; later changes are commands.
    pub tenants: Vec<TenantSpec>,
}

/// One step of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogRecord {
    /// Position in the log, from 1, with no gaps.
    pub seq: u64,
    pub time: Time,
    pub commands: Vec<Command>,
}

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("log format {found}; this build reads format {LOG_FORMAT}")]
    Format { found: u32 },
    #[error(
        "log was written on campus {expected}, but the campus given is {found}: the campus file has changed since"
    )]
    CampusChanged { expected: String, found: String },
    #[error("log record {found} follows record {after}: records must be numbered 1, 2, 3, ...")]
    Gap { after: u64, found: u64 },
    #[error("the log's starting state is refused: {0}")]
    Setup(String),
}

impl LogHeader {
    pub fn new(campus: &Campus, config: Config, tenants: Vec<TenantSpec>) -> LogHeader {
        LogHeader {
            format: LOG_FORMAT,
            campus_fingerprint: campus.fingerprint(),
            config,
            tenants,
        }
    }

    /// Checks the header against `campus` and builds the starting state.
    pub fn start(&self, campus: Arc<Campus>) -> Result<Scheduler, LogError> {
        if self.format != LOG_FORMAT {
            return Err(LogError::Format { found: self.format });
        }
        let found = campus.fingerprint();
        if self.campus_fingerprint != found {
            return Err(LogError::CampusChanged {
                expected: self.campus_fingerprint.clone(),
                found,
            });
        }
        Scheduler::with_campus(campus, self.config.clone(), &self.tenants)
            .map_err(|e| LogError::Setup(e.to_string()))
    }
}

impl Scheduler {
    /// Applies one log record, checking that it follows `last_seq`.
    pub fn apply_record(&mut self, last_seq: u64, r: &LogRecord) -> Result<StepOutput, LogError> {
        if r.seq != last_seq + 1 {
            return Err(LogError::Gap {
                after: last_seq,
                found: r.seq,
            });
        }
        Ok(self.step(r.time, r.commands.iter().cloned()))
    }
}

/// Replays a whole log from its header.
pub fn replay<'a>(
    campus: Arc<Campus>,
    header: &LogHeader,
    records: impl IntoIterator<Item = &'a LogRecord>,
) -> Result<Scheduler, LogError> {
    let mut s = header.start(campus)?;
    let mut last = 0;
    for r in records {
        s.apply_record(last, r)?;
        last = r.seq;
    }
    Ok(s)
}
