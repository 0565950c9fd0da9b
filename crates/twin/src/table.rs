//! The twin's jobs by index (a job's id minus one): those that have
//! arrived and not ended as [`TwinJob`]s, and a compact record of each that
//! ended. A job is made when it arrives and dropped when it ends, so the
//! memory of a long run grows by one record per job, not one whole job.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::{Index, IndexMut};

use crate::engine::Time;
use crate::job::TwinJob;
use crate::metrics::JobRecord;
use crate::name::Names;

/// Hashes a job index by one multiply (Fibonacci hashing): every event
/// and every running job of the hourly plant looks a job up, and a B-tree
/// search (or SipHash) of the live jobs cost more than the work done with
/// the job. The keys are the twin's own, not an attacker's.
#[derive(Default)]
pub(crate) struct IndexHasher(u64);

impl Hasher for IndexHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_usize(&mut self, i: usize) {
        self.0 = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A map keyed by job index, hashed by [`IndexHasher`].
pub(crate) type IndexMap<V> = HashMap<usize, V, BuildHasherDefault<IndexHasher>>;

/// Nothing iterates the live jobs in an order that reaches an output:
/// [`JobTable::records`] sorts them by id.
#[derive(Default)]
pub(crate) struct JobTable {
    live: IndexMap<TwinJob>,
    done: Vec<JobRecord>,
    names: Names,
}

impl JobTable {
    /// A table for a run of `jobs` jobs in all (room for their records is
    /// taken once, not doubled as they come).
    pub fn with_capacity(jobs: usize) -> JobTable {
        JobTable {
            done: Vec::with_capacity(jobs),
            ..JobTable::default()
        }
    }

    pub fn insert(&mut self, j: usize, job: TwinJob) {
        self.live.insert(j, job);
    }

    /// Jobs that have arrived (or arrive within the day) and not ended.
    #[cfg(test)]
    pub fn live(&self) -> usize {
        self.live.len()
    }

    /// The job at `j`, unless it has not arrived or has ended.
    pub fn get(&self, j: usize) -> Option<&TwinJob> {
        self.live.get(&j)
    }

    /// Whether job `j` is in the table (made, and not ended).
    pub fn contains(&self, j: usize) -> bool {
        self.live.contains_key(&j)
    }

    /// No job is live.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.live.is_empty()
    }

    /// Job `j` has ended: its record is kept and the job dropped.
    pub fn retire(&mut self, j: usize, end: Time) {
        if let Some(job) = self.live.remove(&j) {
            let r = crate::summary::record(&job, end, &mut self.names);
            self.done.push(r);
        }
    }

    /// Every job's record in id order: those that ended, then those still
    /// going at `end` (their work so far counts).
    pub fn records(&mut self, end: Time) -> Vec<JobRecord> {
        let mut out = std::mem::take(&mut self.done);
        for job in self.live.values().filter(|j| j.arrival < end) {
            out.push(crate::summary::record(job, end, &mut self.names));
        }
        out.sort_unstable_by_key(|r| r.id);
        out
    }
}

impl Index<usize> for JobTable {
    type Output = TwinJob;
    fn index(&self, j: usize) -> &TwinJob {
        self.live
            .get(&j)
            .unwrap_or_else(|| panic!("job {j} is not live"))
    }
}

impl IndexMut<usize> for JobTable {
    fn index_mut(&mut self, j: usize) -> &mut TwinJob {
        self.live
            .get_mut(&j)
            .unwrap_or_else(|| panic!("job {j} is not live"))
    }
}
