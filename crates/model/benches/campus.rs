//! Campus model benchmarks (issue 2): loading the shipped presets, the O(1)
//! topology query between two trays, and tray names both ways.
//!
//! Run with `cargo bench -p abilene-model --bench campus`.

use std::hint::black_box;
use std::time::Duration;

use abilene_model::{Campus, TrayId, preset};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// Random tray pairs per proximity iteration.
const PAIRS: usize = 4096;

fn load(name: &str) -> Campus {
    let p = preset::preset(name).expect("shipped preset");
    Campus::load(p.file, p.toml).expect("shipped preset is valid")
}

/// `n` tray pairs drawn with a seeded xorshift64*, so every run queries the
/// same pairs.
fn random_pairs(trays: u32, n: usize) -> Vec<(TrayId, TrayId)> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let trays = u64::from(trays);
    (0..n)
        .map(|_| {
            let a = TrayId((next() % trays) as u32);
            let b = TrayId((next() % trays) as u32);
            (a, b)
        })
        .collect()
}

fn load_validate_index(c: &mut Criterion) {
    let mut group = c.benchmark_group("campus");
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    for name in ["abilene", "abilene-phase1", "tiny"] {
        let p = preset::preset(name).expect("shipped preset");
        group.bench_with_input(BenchmarkId::new("load_validate_index", name), p, |b, p| {
            b.iter(|| {
                Campus::load(black_box(p.file), black_box(p.toml)).expect("shipped preset is valid")
            })
        });
    }
    group.finish();
}

fn proximity(c: &mut Criterion) {
    let mut group = c.benchmark_group("campus");
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(PAIRS as u64));
    // The full campus under the id the issue names, then the tiny preset to
    // show the cost per query does not grow with the campus.
    for (id, name) in [("random_pairs", "abilene"), ("random_pairs_tiny", "tiny")] {
        let campus = load(name);
        let pairs = random_pairs(campus.tray_count(), PAIRS);
        group.bench_function(BenchmarkId::new("proximity", id), |b| {
            b.iter(|| {
                let mut histogram = [0u32; 5];
                for &(a, t) in black_box(&pairs) {
                    histogram[campus.proximity(a, t) as usize] += 1;
                }
                histogram
            })
        });
    }
    group.finish();
}

/// Naming the trays of a job start and reading them back: `write_tray_name`
/// into one reused buffer, and `resolve_tray` of the names.
fn names(c: &mut Criterion) {
    let mut group = c.benchmark_group("campus");
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(PAIRS as u64));
    let campus = load("abilene");
    let trays: Vec<TrayId> = random_pairs(campus.tray_count(), PAIRS)
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    group.bench_function(BenchmarkId::new("names", "write_tray_name"), |b| {
        let mut buf = String::with_capacity(32 * PAIRS);
        b.iter(|| {
            buf.clear();
            for &t in black_box(&trays) {
                campus.write_tray_name(t, &mut buf);
                buf.push(',');
            }
            buf.len()
        })
    });
    let names: Vec<String> = trays.iter().map(|&t| campus.tray_name(t)).collect();
    group.bench_function(BenchmarkId::new("names", "resolve_tray"), |b| {
        b.iter(|| {
            let mut sum = 0u64;
            for name in black_box(&names) {
                sum += u64::from(campus.resolve_tray(name).expect("a tray name").0);
            }
            sum
        })
    });
    group.finish();
}

criterion_group!(benches, load_validate_index, proximity, names);
criterion_main!(benches);
