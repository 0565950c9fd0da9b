//! The crash test: `abilene serve` killed with SIGKILL at random moments
//! under submission load, restarted on the same data, again and again.
//!
//! Sixteen clients submit jobs, each submission with its own
//! `Idempotency-Key`; a submission that got no answer (the connection
//! broke) is retried with the same key until it gets one, across the
//! restart. After every restart, once every open submission is answered:
//!
//! - every job the server lists (live and finished) is one some client got
//!   a 2xx for, and every 2xx is listed exactly once with the project and
//!   GPUs it was submitted with: nothing acknowledged is lost, no key made
//!   two jobs, no unacknowledged job appears;
//! - no two keys were given the same job id;
//! - a sample of answered keys, sent again, get the very same reply;
//! - a sample of jobs reads back by id.
//!
//! After every kill (`ABILENE_CRASH_CHECK_EVERY`, 1 by default) and at the
//! end, `abilene serve --check-replay` compares the state a restart
//! restores (newest snapshot + the log's tail) with the whole log
//! replayed from empty. `--snapshot-every 100` makes snapshots happen all
//! along.
//!
//! Sizes: `ABILENE_CRASH_ROUNDS` kills (100 by default, the CI size); a
//! long run is `ABILENE_CRASH_ROUNDS=1000 cargo test --release -p
//! abilene-cli --test serve_crash -- --nocapture`. `ABILENE_CRASH_SEED`
//! changes the kill times and the jobs.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{API_JOB_BASE, Rng, Server, Temp, bin, json, list_all, send};

const CLIENTS: usize = 16;
/// Submissions one client makes in one round at most.
const MAX_PER_ROUND: usize = 5_000;
/// A client's pause after an answer, in ms (lo, hi).
const THINK_MS: (u64, u64) = (0, 20);
/// Tries to get an answer for one open submission after a restart.
const MAX_RETRIES: usize = 2_000;
const SERVER_ARGS: &[&str] = &[
    "--campus",
    "tiny",
    "--speed",
    "3600",
    "--snapshot-every",
    "100",
];
const PROJECTS: &[&str] = &["research", "inference", "frontier", "b-train"];

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v}: not a number")),
        Err(_) => default,
    }
}

#[derive(Debug, Clone)]
struct Sub {
    key: String,
    project: &'static str,
    gpus: u64,
    body: String,
}

/// One client: its generator, its submission waiting for an answer, and
/// the answers it got this round.
struct Client {
    index: usize,
    rng: Rng,
    made: u64,
    open: Option<Sub>,
    /// Open submissions that got their answer only after a retry.
    retried: u64,
    answered: Vec<(Sub, u16, String)>,
}

impl Client {
    fn next_sub(&mut self) -> Sub {
        self.made += 1;
        let project = PROJECTS[self.rng.range(0, PROJECTS.len() as u64 - 1) as usize];
        let gpus = [1, 2, 4, 8][self.rng.range(0, 3) as usize];
        let runtime = self.rng.range(60, 600);
        Sub {
            key: format!("crash-{}-{}", self.index, self.made),
            project,
            gpus,
            body: format!("{{\"project\":\"{project}\",\"gpus\":{gpus},\"runtime_s\":{runtime}}}"),
        }
    }
}

/// An answer that settles a submission (not busy, not unavailable), or
/// None when it must be retried.
fn submit(a: &ureq::Agent, base: &str, s: &Sub) -> Option<(u16, String)> {
    let h = [
        ("Content-Type", "application/json"),
        ("Idempotency-Key", s.key.as_str()),
    ];
    match send(a, "POST", &format!("{base}/v1/jobs"), &h, Some(&s.body)) {
        Ok((st, _)) if st == 429 || st >= 500 => None,
        Ok(answer) => Some(answer),
        Err(_) => None,
    }
}

/// The store's admin token: one store, one token, across every restart.
static TOKEN: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn agent() -> ureq::Agent {
    common::agent_with(TOKEN.get().map_or("", String::as_str))
}

/// Load until `stop`: a connection error leaves the submission open.
fn load(c: &mut Client, base: &str, stop: &AtomicBool) {
    let a = agent();
    for _ in 0..MAX_PER_ROUND {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let s = c.open.take().unwrap_or_else(|| c.next_sub());
        match submit(&a, base, &s) {
            Some((st, text)) => {
                c.answered.push((s, st, text));
                // A client thinks between submissions: the load stays
                // near what the tiny campus runs, so the queue (and the
                // log a replay check reads) does not grow without end.
                std::thread::sleep(Duration::from_millis(c.rng.range(THINK_MS.0, THINK_MS.1)));
            }
            None => {
                c.open = Some(s);
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
}

/// What the test knows from the answers.
#[derive(Default)]
struct Known {
    /// Job id -> the submission that got it.
    jobs: HashMap<u64, Sub>,
    /// Key -> (status, reply body), for every settled submission.
    replies: HashMap<String, (u16, String)>,
    keys: Vec<String>,
    refused: HashMap<String, u64>,
    /// Retried submissions found committed before the kill.
    lost_replies: u64,
}

impl Known {
    fn take(&mut self, s: Sub, status: u16, text: String) {
        assert!(
            !self.replies.contains_key(&s.key),
            "key {} settled twice",
            s.key
        );
        if (200..300).contains(&status) {
            let v = json(&text);
            let id = v["id"]
                .as_u64()
                .unwrap_or_else(|| panic!("2xx without an id: {text}"));
            assert!(id > API_JOB_BASE, "API job id {id} not above 2^40");
            assert_eq!(v["project"], s.project, "{text}");
            assert_eq!(v["gpus"], s.gpus, "{text}");
            if let Some(other) = self.jobs.get(&id) {
                panic!("keys {} and {} were both given job {id}", other.key, s.key);
            }
            self.jobs.insert(id, s.clone());
        } else {
            let code = json(&text)["code"].as_str().unwrap_or("?").to_string();
            *self.refused.entry(format!("{status} {code}")).or_default() += 1;
        }
        self.keys.push(s.key.clone());
        self.replies.insert(s.key, (status, text));
    }
}

/// Every open submission retried (same key) until it has its answer.
fn settle(clients: &mut [Client], server: &Server, known: &mut Known) {
    let a = agent();
    let started = Instant::now();
    // Campus time now: a retried job submitted before it was committed
    // before the kill, its reply lost (a lower bound of those).
    let (st, campus) = common::get(&a, &server.url("/v1/campus"));
    assert_eq!(st, 200, "{campus}");
    let restored_now = campus["now"].as_u64().expect("campus time");
    for c in clients.iter_mut() {
        for (s, st, text) in c.answered.drain(..) {
            known.take(s, st, text);
        }
        let Some(s) = c.open.take() else { continue };
        let mut answer = None;
        for _ in 0..MAX_RETRIES {
            answer = submit(&a, &server.base, &s);
            if answer.is_some() || started.elapsed() > Duration::from_secs(60) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let (st, text) =
            answer.unwrap_or_else(|| panic!("no answer for key {} after a restart", s.key));
        c.retried += 1;
        if json(&text)["submitted"]
            .as_u64()
            .is_some_and(|t| t < restored_now)
        {
            known.lost_replies += 1;
        }
        known.take(s, st, text);
    }
}

/// The server's jobs against what the clients were told.
fn verify(server: &Server, known: &Known, rng: &mut Rng, round: u64, last_round: &[String]) {
    let a = agent();
    let (live, finished) = list_all(&a, server, "");
    let mut listed: HashMap<u64, (String, u64)> = HashMap::new();
    for (name, list) in [("live", &live), ("finished", &finished)] {
        let mut here = HashSet::new();
        for j in list {
            let id = j["id"].as_u64().expect("a job id");
            if id <= API_JOB_BASE {
                continue;
            }
            assert!(
                here.insert(id),
                "round {round}: job {id} listed twice as {name}"
            );
            // Live first, finished second: a job that finished between
            // the two lists may be in both, never in neither.
            listed.insert(
                id,
                (
                    j["project"].as_str().unwrap_or("").to_string(),
                    j["gpus"].as_u64().unwrap_or(0),
                ),
            );
        }
    }
    for (id, (project, gpus)) in &listed {
        let Some(s) = known.jobs.get(id) else {
            panic!(
                "round {round}: job {id} ({project}, {gpus} GPUs) is on the server but no submission was acknowledged with it"
            );
        };
        assert_eq!(
            (project.as_str(), *gpus),
            (s.project, s.gpus),
            "round {round}: job {id} of key {}",
            s.key
        );
    }
    for (id, s) in &known.jobs {
        assert!(
            listed.contains_key(id),
            "round {round}: job {id} (key {}) was acknowledged but is gone; {} listed, {} acknowledged",
            s.key,
            listed.len(),
            known.jobs.len()
        );
    }
    // A sample by id: the newest answers and some older ones.
    let mut ids: Vec<u64> = last_round
        .iter()
        .rev()
        .take(48)
        .filter_map(|k| known.replies.get(k))
        .filter_map(|(st, t)| (*st < 300).then(|| json(t)["id"].as_u64()).flatten())
        .collect();
    let all: Vec<u64> = known.jobs.keys().copied().collect();
    for _ in 0..16.min(all.len()) {
        ids.push(all[rng.range(0, all.len() as u64 - 1) as usize]);
    }
    for id in ids {
        let (st, v) = common::get(&a, &server.url(&format!("/v1/jobs/{id}")));
        assert_eq!(st, 200, "round {round}: GET /v1/jobs/{id}: {v}");
        let s = &known.jobs[&id];
        assert_eq!(v["id"], id, "{v}");
        assert_eq!(
            (v["project"].as_str(), v["gpus"].as_u64()),
            (Some(s.project), Some(s.gpus))
        );
    }
    // A sample of answered keys, sent again: the same reply, byte for byte.
    let mut keys: Vec<&String> = last_round.iter().rev().take(16).collect();
    for _ in 0..16.min(known.keys.len()) {
        keys.push(&known.keys[rng.range(0, known.keys.len() as u64 - 1) as usize]);
    }
    for k in keys {
        let (st, text) = &known.replies[k];
        let id = if *st < 300 {
            json(text)["id"].as_u64()
        } else {
            None
        };
        let s = id.map(|i| known.jobs[&i].clone());
        // Refused submissions are replayed with any body of theirs.
        let Some(s) = s else { continue };
        let again = submit(&a, &server.base, &s).expect("an answer");
        assert_eq!(
            (&again.0, &again.1),
            (st, text),
            "round {round}: key {k} sent again got another reply"
        );
    }
}

/// `abilene serve --check-replay` on the data: restored == replayed.
fn check_replay(data: &std::path::Path) -> Duration {
    let started = Instant::now();
    let out = bin()
        .args(["serve", "--check-replay", "--data"])
        .arg(data)
        .args(["--campus", "tiny"])
        .output()
        .expect("run abilene serve --check-replay");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "replay check failed: {text}");
    assert!(text.contains("replay check: equal"), "{text}");
    started.elapsed()
}

#[derive(Default)]
struct Times {
    start: Duration,
    verify: Duration,
    load: Duration,
    check: Duration,
    slowest_check: Duration,
    checks: u32,
    slowest_start: Duration,
}

#[test]
fn acknowledged_submissions_survive_sigkill_and_the_state_equals_the_log_replayed() {
    let rounds = env_u64("ABILENE_CRASH_ROUNDS", 100);
    let check_every = env_u64("ABILENE_CRASH_CHECK_EVERY", 1).max(1);
    let seed = env_u64("ABILENE_CRASH_SEED", 0xab11e);
    let began = Instant::now();
    let data = Temp::new("crash");
    let mut rng = Rng::new(seed);
    let mut clients: Vec<Client> = (0..CLIENTS)
        .map(|i| Client {
            index: i,
            rng: Rng::new(seed ^ ((i as u64 + 1) << 32)),
            made: 0,
            open: None,
            retried: 0,
            answered: Vec::new(),
        })
        .collect();
    let mut known = Known::default();
    let mut times = Times::default();
    for round in 0..=rounds {
        let t = Instant::now();
        let mut server = Server::start(data.path(), SERVER_ARGS);
        let _ = TOKEN.set(server.token.clone());
        let took = t.elapsed();
        times.start += took;
        times.slowest_start = times.slowest_start.max(took);

        let t = Instant::now();
        // The keys settled since the last check: the last round's.
        let mark = known.keys.len();
        settle(&mut clients, &server, &mut known);
        let last_round = known.keys[mark..].to_vec();
        verify(&server, &known, &mut rng, round, &last_round);
        times.verify += t.elapsed();
        if round == rounds {
            server.kill();
            break;
        }

        // Load, and a SIGKILL a few ms to a second after ready.
        let delay = Duration::from_millis(rng.range(2, 1_000));
        let stop = AtomicBool::new(false);
        let t = Instant::now();
        std::thread::scope(|scope| {
            for c in clients.iter_mut() {
                let base = server.base.clone();
                let stop = &stop;
                scope.spawn(move || load(c, &base, stop));
            }
            std::thread::sleep(delay);
            server.kill();
            stop.store(true, Ordering::SeqCst);
        });
        times.load += t.elapsed();
        drop(server);

        if round % check_every == 0 {
            let took = check_replay(data.path());
            times.check += took;
            times.slowest_check = times.slowest_check.max(took);
            times.checks += 1;
        }
    }
    times.check += check_replay(data.path());
    times.checks += 1;

    let retried: u64 = clients.iter().map(|c| c.retried).sum();
    eprintln!(
        "crash test: {rounds} kills in {:.1?}; {} submissions answered ({} jobs, {} refused: {:?}), {retried} answered only after a restart ({} of them committed before the kill); \
         time in starts {:.1?} (slowest {:.1?}), load {:.1?}, checks of the API {:.1?}, {} replay checks {:.1?} (slowest {:.1?})",
        began.elapsed(),
        known.keys.len(),
        known.jobs.len(),
        known.replies.len() - known.jobs.len(),
        known.refused,
        known.lost_replies,
        times.start,
        times.slowest_start,
        times.load,
        times.verify,
        times.checks,
        times.check,
        times.slowest_check,
    );
    assert!(known.jobs.len() > rounds as usize, "hardly any load");
    assert!(retried > 0, "no kill ever landed on an open submission");
    assert!(
        known.refused.is_empty(),
        "small jobs were refused: {:?}",
        known.refused
    );
}
