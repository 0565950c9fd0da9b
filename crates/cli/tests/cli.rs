//! The `abilene` binary at its edges: bounded numbers on the command line,
//! outputs checked before a run, a closed or full standard output.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn abilene() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_abilene"));
    c.current_dir(workspace());
    c
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(args: &[&str]) -> Output {
    abilene().args(args).output().expect("abilene runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A folder unique to this test and process, removed on drop.
struct Temp(PathBuf);

impl Temp {
    fn new(name: &str) -> Temp {
        let dir = std::env::temp_dir().join(format!("abilene-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Temp(dir)
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[track_caller]
fn refused(args: &[&str], says: &str) {
    let started = std::time::Instant::now();
    let out = run(args);
    let err = text(&out.stderr);
    assert!(!out.status.success(), "{args:?} succeeded");
    assert!(err.contains(says), "{args:?}: expected `{says}` in:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    // Refused up front, not after a run or an allocation.
    assert!(started.elapsed().as_secs() < 30, "{args:?} took long");
}

#[test]
fn numbers_on_the_command_line_are_bounded() {
    refused(
        &["sim", "scenarios/small.toml", "--days", "100000", "--quiet"],
        "--days must be above 0 and at most 3660 days, got 100000",
    );
    refused(
        &["sim", "scenarios/small.toml", "--days", "nan", "--quiet"],
        "got NaN",
    );
    refused(
        &["sim", "scenarios/small.toml", "--replicas", "4294967295"],
        "1..=1000",
    );
    refused(&["bench", "campus", "--runs", "4294967295"], "1..=10000");
}

#[test]
fn an_out_that_is_a_file_is_refused_before_the_run() {
    let tmp = Temp::new("out-file");
    let file = tmp.0.join("taken");
    std::fs::write(&file, "").unwrap();
    refused(
        &[
            "sim",
            "scenarios/small.toml",
            "--quiet",
            "--out",
            file.to_str().unwrap(),
        ],
        "taken",
    );
}

#[test]
fn a_closed_pipe_ends_quietly_with_success() {
    for args in [
        &["campus", "show", "--preset", "abilene"][..],
        &["campus", "export", "abilene"][..],
    ] {
        let mut child = abilene()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before reading a byte, as `| head -0` does.
        drop(child.stdout.take());
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(status.success(), "{args:?}: {status}\n{err}");
        assert!(err.is_empty(), "{args:?} said:\n{err}");
    }
}

#[test]
fn a_full_standard_output_is_an_error_and_the_files_are_still_written() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        return; // not Linux
    };
    let tmp = Temp::new("full");
    let out_dir = tmp.0.join("out");
    let out = abilene()
        .args([
            "sim",
            "scenarios/small.toml",
            "--days",
            "1",
            "--quiet",
            "--out",
        ])
        .arg(&out_dir)
        .stdout(full)
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("cannot write to standard output"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for f in ["summary.json", "hourly.csv", "jobs.csv", "report.html"] {
        assert!(out_dir.join(f).is_file(), "{f} not written");
    }
}

/// `--replicas N`: the main table is each figure's mean over the seeds
/// with its 90% interval, not the first seed's value.
#[test]
fn the_main_table_of_replicas_is_the_mean_with_its_interval() {
    let dir = Temp::new("replicas");
    let out_dir = dir.0.join("out");
    let out = run(&[
        "sim",
        "scenarios/small.toml",
        "--days",
        "1",
        "--replicas",
        "3",
        "--quiet",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout.contains("3 seeds from 1: means with 90% intervals [p5, p95]"),
        "{stdout}"
    );
    let util = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("Utilisation"))
        .expect("a utilisation line");
    assert!(util.contains('[') && util.contains(", "), "{util}");
    assert!(!stdout.contains("Spread over seeds"), "{stdout}");
}
