//! Synthetic campus workloads for benchmarks, demos and tests: the Abilene
//! tenancy and a realistic mix of jobs, generated from a seed.
//!
//! The mix follows what large AI campuses run: a few frontier runs of tens of
//! thousands of GPUs, hundreds of research jobs of 64 to 4,096 GPUs,
//! thousands of fine-tuning and evaluation jobs of 1 to 16 GPUs, and
//! inference services of 8-GPU replicas. The sizes are assumed, not taken
//! from a trace; the twin replays real traces.

use crate::command::Command;
use crate::job::{JobSpec, Priority, Time};
use crate::scheduler::Scheduler;
use crate::tenant::TenantSpec;

pub const GB200: &str = "gb200-nvl72";

/// SplitMix64: a tiny seeded generator, enough to make fixtures repeatable.
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Crusoe -> Oracle -> OpenAI and two other tenants, with guarantees that
/// add up to the campus's GB200 GPUs. Tenants B and C may borrow as much
/// again as they are guaranteed.
pub fn abilene_tenants(gb200_gpus: u64) -> Vec<TenantSpec> {
    let openai = gb200_gpus * 3 / 4;
    let b = gb200_gpus / 8;
    let c = gb200_gpus - openai - b;
    vec![
        TenantSpec::new("crusoe", None),
        TenantSpec::new("oracle", Some("crusoe")).guarantee(GB200, gb200_gpus),
        TenantSpec::new("openai", Some("oracle"))
            .guarantee(GB200, openai)
            .weight(6),
        TenantSpec::new("frontier", Some("openai")).guarantee(GB200, openai * 2 / 3),
        TenantSpec::new("research", Some("openai"))
            .guarantee(GB200, openai / 6)
            .borrow_limit(GB200, openai / 6),
        TenantSpec::new("inference", Some("openai"))
            .guarantee(GB200, openai - openai * 2 / 3 - openai / 6),
        TenantSpec::new("tenant-b", Some("oracle"))
            .guarantee(GB200, b)
            .borrow_limit(GB200, b * 2)
            .weight(1),
        TenantSpec::new("b-train", Some("tenant-b")).guarantee(GB200, b),
        TenantSpec::new("tenant-c", Some("oracle"))
            .guarantee(GB200, c)
            .borrow_limit(GB200, c * 2)
            .weight(1),
        TenantSpec::new("c-finetune", Some("tenant-c")).guarantee(GB200, c),
    ]
}

/// One job of the mix: (project, GPUs, estimate seconds, priority).
fn draw_job(rng: &mut SplitMix64, id: u64) -> JobSpec {
    let roll = rng.below(1000);
    let (project, gpus, hours) = match roll {
        0..=399 => (
            "c-finetune",
            *rng.pick(&[1, 2, 4, 8, 8, 16]),
            1 + rng.below(8),
        ),
        400..=599 => (
            "research",
            *rng.pick(&[4, 8, 16, 64, 72, 144]),
            2 + rng.below(24),
        ),
        600..=799 => (
            "b-train",
            *rng.pick(&[64, 128, 256, 512, 1024]),
            4 + rng.below(48),
        ),
        800..=969 => (
            "research",
            *rng.pick(&[256, 512, 1024, 2048]),
            8 + rng.below(72),
        ),
        _ => (
            "b-train",
            *rng.pick(&[4096, 8192, 16384]),
            24 + rng.below(24 * 14),
        ),
    };
    let mut j = JobSpec::training(id, project, GB200, gpus);
    j.runtime_estimate = hours * 3600;
    j.runtime_limit = j.runtime_estimate * 2;
    j.checkpoint_interval = if gpus >= 64 { 1800 } else { 0 };
    j.priority = if project == "c-finetune" {
        Priority::Low
    } else {
        Priority::Normal
    };
    j
}

/// Submits jobs of the mix until `target` GPUs are busy (or `max_jobs`
/// were tried); returns the next free job id.
/// Batches are submitted a minute apart from `now` on, so that jobs are at
/// different points of their checkpoint cycles.
pub fn fill(
    s: &mut Scheduler,
    rng: &mut SplitMix64,
    mut id: u64,
    target: u64,
    mut now: Time,
    max_jobs: u64,
) -> u64 {
    let mut tried = 0;
    while s.busy_gpus() < target && tried < max_jobs {
        now += 60;
        let batch: Vec<Command> = (0..64)
            .map(|_| {
                id += 1;
                tried += 1;
                Command::Submit(draw_job(rng, id))
            })
            .collect();
        s.step(now, batch);
        // Jobs that could not start leave the queue: a fill is about what runs.
        let stuck: Vec<Command> = s.pending_ids().into_iter().map(Command::Cancel).collect();
        s.step(now, stuck);
    }
    id
}

/// Adds `count` jobs of the mix for tenant B, which is at its borrowing
/// ceiling, so they wait.
pub fn add_pending(
    s: &mut Scheduler,
    rng: &mut SplitMix64,
    mut id: u64,
    count: u64,
    now: Time,
) -> u64 {
    let mut cmds = Vec::with_capacity(count as usize);
    for _ in 0..count {
        id += 1;
        let mut j = draw_job(rng, id);
        j.project = "b-train".into();
        cmds.push(Command::Submit(j));
    }
    s.step(now, cmds);
    id
}

/// A scheduler for `campus` with the Abilene tenancy, `occupancy` of its
/// GB200 GPUs busy with the mix and `pending` jobs waiting; returns it with
/// the last job id used. The set-up for `abilene bench sched`.
pub fn busy_campus(
    campus: &abilene_model::Campus,
    occupancy: f64,
    pending: u64,
    seed: u64,
) -> Result<(Scheduler, u64), crate::scheduler::SetupError> {
    let sku = campus.catalog.lookup(GB200);
    let gb200: u64 = campus
        .trays
        .iter()
        .filter(|t| Some(t.sku) == sku)
        .map(|t| u64::from(t.gpus))
        .sum();
    let mut s = Scheduler::new(campus, crate::Config::default(), &abilene_tenants(gb200))?;
    let mut rng = SplitMix64(seed);
    let target = (gb200 as f64 * occupancy) as u64;
    let id = fill(&mut s, &mut rng, 0, target, 0, gb200);
    let end = s.now();
    let id = add_pending(&mut s, &mut rng, id, pending, end);
    Ok((s, id))
}
