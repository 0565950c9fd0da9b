//! Helpers shared by the twin's integration tests: scenarios loaded by path
//! from the workspace's `scenarios/`, runs with the measured wall time
//! zeroed, and temporary directories unique to one test.

// Each test file uses only some of these.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use abilene_twin::metrics::RunOutput;
use abilene_twin::run::run;
use abilene_twin::scenario::Scenario;
use abilene_twin::sim::RunOptions;

/// The workspace's `scenarios/` folder.
pub fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios")
}

/// Loads `scenarios/<file>`, panicking with the rendered error.
pub fn load(file: &str) -> Scenario {
    let path = scenarios_dir().join(file);
    Scenario::load_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The text of `scenarios/<file>`.
pub fn text(file: &str) -> String {
    let path = scenarios_dir().join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `scenarios/<file>` with each `(from, to)` replaced once, loaded as if it
/// sat in `scenarios/` (so the files it names resolve).
pub fn load_variant(file: &str, edits: &[(&str, &str)]) -> Scenario {
    let mut t = text(file);
    for (from, to) in edits {
        assert!(t.contains(from), "{file} has no `{from}` to replace");
        t = t.replacen(from, to, 1);
    }
    Scenario::load(&format!("{file} (variant)"), &t, &scenarios_dir())
        .unwrap_or_else(|e| panic!("{e}"))
}

pub fn opts(days: Option<f64>, seed: Option<u64>) -> RunOptions {
    RunOptions { days, seed }
}

/// Runs one seed and zeroes `wall_seconds`, the only measured (not
/// simulated) figure, so runs can be compared.
pub fn run_zeroed(sc: &Scenario, days: Option<f64>, seed: Option<u64>) -> RunOutput {
    let mut out = run(sc, &opts(days, seed), &mut |_, _| {}).unwrap_or_else(|e| panic!("{e}"));
    out.summary.wall_seconds = 0.0;
    out
}

pub fn mean(xs: &[f64]) -> f64 {
    assert!(!xs.is_empty());
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// 1-based line of the first occurrence of `needle` in `text`.
pub fn line_of(text: &str, needle: &str) -> usize {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` is not in\n{text}"));
    text[..at].matches('\n').count() + 1
}

/// A fresh directory for one test, unique to the test and the process;
/// removed when dropped unless `ABILENE_KEEP_TEST_OUTPUT` is set.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(test: &str) -> TempDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("abilene-twin-it-{test}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("ABILENE_KEEP_TEST_OUTPUT").is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

pub fn read_bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn read_text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
