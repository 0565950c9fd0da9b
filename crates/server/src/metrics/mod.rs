//! What Prometheus scrapes: the server's own instruments (request, pass
//! and commit latencies, log growth) and, read at scrape time, the
//! campus's figures (jobs, GPUs, the plant); and, per rack, GPU telemetry
//! in dcgm-exporter's names ([`dcgm`]).
//!
//! Everything is written in the Prometheus text format (0.0.4), the one
//! dcgm-exporter speaks and `promtool check metrics` reads; names are in
//! base units with `_total` on counters, and labels stay few (building,
//! hall, tenant, state, route).

pub mod campus;
pub mod dcgm;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The content type of what [`Metrics::encode`] writes.
pub use prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Labels of an API request: the route's template (never the raw path,
/// whose names would make a series per tray), method and status.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: String,
    pub method: String,
    pub status: u16,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// Seconds, 1-2.5-5 steps: bounds a reader can quote.
const REQUEST_BUCKETS: [f64; 12] = [
    50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 100e-3, 1.0, 5.0,
];
const PASS_BUCKETS: [f64; 12] = [
    1e-6, 5e-6, 10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 1e-3, 5e-3, 25e-3, 100e-3, 1.0,
];
const COMMIT_BUCKETS: [f64; 11] = [
    100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 100e-3, 1.0, 5.0,
];

fn request_histogram() -> Histogram {
    // A read from memory to a commit behind a slow disk.
    Histogram::new(REQUEST_BUCKETS)
}

/// The server's own instruments, shared by the guard, the writer and the
/// snapshot thread. Cheap to update: atomics, one lock per new label set.
#[derive(Debug)]
pub struct Metrics {
    pub requests: HistogramFamily<RequestLabels>,
    /// One scheduler step (`Engine::apply`) of a log record.
    pub pass: Histogram,
    /// One round's commit to the store, fsync included.
    pub commit: Histogram,
    pub records: Counter,
    pub commands: Counter,
    pub snapshots: Counter,
    /// Wall milliseconds since the Unix epoch of the last snapshot written
    /// by this process; 0 before the first.
    last_snapshot_ms: AtomicU64,
    last_snapshot_seq: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            requests: Family::new_with_constructor(request_histogram),
            // An empty pass to a frontier run's placement.
            pass: Histogram::new(PASS_BUCKETS),
            // Page-cache writes to a disk that stalls.
            commit: Histogram::new(COMMIT_BUCKETS),
            records: Counter::default(),
            commands: Counter::default(),
            snapshots: Counter::default(),
            last_snapshot_ms: AtomicU64::new(0),
            last_snapshot_seq: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    pub fn new() -> Arc<Metrics> {
        Arc::new(Metrics::default())
    }

    /// A snapshot after record `seq` is on disk at wall time `at_ms`.
    pub fn snapshot_written(&self, seq: u64, at_ms: u64) {
        self.snapshots.inc();
        self.last_snapshot_seq.store(seq, Ordering::Relaxed);
        self.last_snapshot_ms.store(at_ms, Ordering::Relaxed);
    }

    /// Seconds since the last snapshot this process wrote, at wall time
    /// `now_ms`; None before the first.
    pub fn snapshot_age_s(&self, now_ms: u64) -> Option<f64> {
        let at = self.last_snapshot_ms.load(Ordering::Relaxed);
        (at > 0).then(|| now_ms.saturating_sub(at) as f64 / 1000.0)
    }

    pub fn last_snapshot_seq(&self) -> u64 {
        self.last_snapshot_seq.load(Ordering::Relaxed)
    }

    /// Registers the instruments in `r` (a registry made for one scrape).
    pub fn register(&self, r: &mut Registry) {
        r.register(
            "abilene_http_request_duration_seconds",
            "API requests by route template, method and status, from the guard's start to the response",
            self.requests.clone(),
        );
        r.register(
            "abilene_scheduler_pass_duration_seconds",
            "Scheduler steps, one per log record: the commands applied and the placement pass",
            self.pass.clone(),
        );
        r.register(
            "abilene_log_commit_duration_seconds",
            "Commits of a writer round to the store, the fsync included (group commit: one per round)",
            self.commit.clone(),
        );
        r.register(
            "abilene_log_records",
            "Command-log records written by this process",
            self.records.clone(),
        );
        r.register(
            "abilene_log_commands",
            "Commands in the command-log records written by this process",
            self.commands.clone(),
        );
        r.register(
            "abilene_snapshots",
            "Snapshots of the state written by this process",
            self.snapshots.clone(),
        );
    }
}

/// Writes `r` in the Prometheus text format.
pub fn encode(r: &Registry) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, r);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_end_in_total_and_histograms_have_buckets() {
        let m = Metrics::default();
        m.records.inc();
        m.requests
            .get_or_create(&RequestLabels {
                route: "/v1/jobs".into(),
                method: "GET".into(),
                status: 200,
            })
            .observe(0.001);
        let mut r = Registry::default();
        m.register(&mut r);
        let text = encode(&r);
        assert!(
            text.contains("# TYPE abilene_log_records_total counter"),
            "{text}"
        );
        assert!(text.contains("abilene_log_records_total 1"), "{text}");
        assert!(
            text.contains(
                "abilene_http_request_duration_seconds_bucket{route=\"/v1/jobs\",method=\"GET\",status=\"200\",le=\"0.001\"} 1"
            ),
            "{text}"
        );
        assert!(!text.contains("# EOF"));
    }

    #[test]
    fn the_snapshot_age_is_unknown_until_one_is_written() {
        let m = Metrics::default();
        assert_eq!(m.snapshot_age_s(10_000), None);
        m.snapshot_written(42, 4_000);
        assert_eq!(m.snapshot_age_s(10_000), Some(6.0));
        assert_eq!(m.last_snapshot_seq(), 42);
    }
}
