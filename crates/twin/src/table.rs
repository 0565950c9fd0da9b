//! The twin's jobs by index (a job's id minus one): those that have
//! arrived and not ended as [`TwinJob`]s, and a compact record of each that
//! ended. A job is made when it arrives and dropped when it ends, so the
//! memory of a long run grows by one record per job, not one whole job.

use std::collections::BTreeMap;
use std::ops::{Index, IndexMut};

use crate::engine::Time;
use crate::job::TwinJob;
use crate::metrics::JobRecord;
use crate::name::Names;

#[derive(Default)]
pub(crate) struct JobTable {
    live: BTreeMap<usize, TwinJob>,
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
        &self.live[&j]
    }
}

impl IndexMut<usize> for JobTable {
    fn index_mut(&mut self, j: usize) -> &mut TwinJob {
        self.live
            .get_mut(&j)
            .unwrap_or_else(|| panic!("job {j} is not live"))
    }
}
