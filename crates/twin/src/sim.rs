//! The simulation loop: workloads, failures, commissioning and the hourly
//! plant model feed the real scheduler; its events move the jobs.

use std::collections::{BTreeMap, VecDeque};

use abilene_control::{Controller, Fleet, HallReading, Observation, PlantReading};
use abilene_model::Campus;
use abilene_scheduler::{Config, Event, JobId, Recovery, Scheduler};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, LogNormal};

use crate::cooling::{self, HallThermal};
use crate::engine::{DAY, EventQueue, HOUR, Stream, Time, rng};
use crate::grid::{self, BatteryState, FourCpSchedule};
use crate::job::{Kind, TwinJob};
use crate::metrics::{HourRow, RunOutput};
use crate::power;
use crate::scenario::Scenario;
use crate::table::JobTable;
use crate::weather::WeatherYear;
use crate::{summary, workload};

mod foreign;
mod resume;

/// A server moves its fleet into a writer thread: it must stay `Send`.
const _: () = {
    const fn assert_send<T: Send>() {}
    assert_send::<TwinFleet<'static>>();
};

/// What can happen next.
#[derive(Debug, Clone)]
enum Ev {
    Arrival(usize),
    WorkDone(usize, u32),
    NextFailure,
    /// A failure that happened at `failed_at` is detected now.
    Detected {
        tray: u32,
        cause: usize,
        failed_at: Time,
    },
    /// A reboot cleared a tray.
    Rebooted(u32),
    /// A crew finished a hardware repair.
    RepairDone(u32),
    PartRestocked,
    ClearQuarantine(u32),
    Commission(u16),
    Hour(u32),
    /// Make the research jobs arriving in the next day.
    Refill,
}

/// The scenario's weather year: its own TMY3 file, else its campus's
/// (`site.climate_file`, read when the scenario loaded), else Abilene's.
fn load_weather(sc: &Scenario) -> Result<WeatherYear, String> {
    match &sc.spec.weather.file {
        Some(f) => {
            let path = sc.dir.join(f);
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            crate::weather::parse_tmy3(&path.display().to_string(), &text)
                .map_err(|e| e.to_string())
        }
        None => Ok(sc.climate.clone().unwrap_or_else(crate::weather::abilene)),
    }
}

/// Hourly prices for a year: the user's CSV, or the modelled series over
/// ERCOT's 2016 load shape (labelled as modelled in the report).
fn load_prices(
    sc: &Scenario,
    load: &grid::ErcotLoad,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<f64>, String> {
    match &sc.spec.grid.price {
        grid::PriceSource::Csv { path } => {
            let path = sc.dir.join(path);
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            grid::parse_price_csv(&path.display().to_string(), &text).map_err(|e| e.to_string())
        }
        grid::PriceSource::Modelled(m) => {
            let shape = load
                .shape(grid::ERCOT_2016_YEAR)
                .ok_or("the ERCOT 2016 load does not cover the year")?;
            Ok(m.series(&shape.factors, rng))
        }
    }
}

/// A user's price CSV must cover every hour of the run: hour n of the file
/// is hour n of the run, and repeating it would make up prices.
fn check_price_hours(sc: &Scenario, prices: Option<&[f64]>, end: Time) -> Result<(), String> {
    let (grid::PriceSource::Csv { path }, Some(p)) = (&sc.spec.grid.price, prices) else {
        return Ok(());
    };
    let needed = end.div_ceil(HOUR);
    if (p.len() as u64) < needed {
        return Err(format!(
            "{}: {} hourly prices, but the run has {needed} hours",
            sc.dir.join(path).display(),
            p.len()
        ));
    }
    Ok(())
}

/// Running jobs' draw and busy trays per hall.
struct JobLoads {
    hall_kw: Vec<f64>,
    hall_busy: Vec<u32>,
    running: u32,
}

/// The plant in one hour: IT draw, cooling overhead, shortfalls.
struct Plant {
    it_kw: f64,
    overhead_kw: f64,
    racks_throttled: u32,
    building_shortfall: Vec<f64>,
    halls: Vec<HallReading>,
}

/// The hour's weather, price and grid dispatch.
struct HourGrid<'a> {
    dispatch: &'a grid::Dispatch,
    price: f64,
    four_cp: bool,
    ambient: f64,
}

impl Plant {
    fn facility_kw(&self) -> f64 {
        self.it_kw + self.overhead_kw
    }
}

/// Options a caller may override from the scenario.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub days: Option<f64>,
    pub seed: Option<u64>,
}

/// The jobs a fleet brings of its own, besides those the scheduler is
/// given from outside (see [`TwinFleet`] on foreign jobs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Workload {
    /// The scenario's frontier runs, research replay and inference
    /// services: what a batch run simulates.
    #[default]
    Scenario,
    /// None: the fleet is the campus's hardware and plant only (failures,
    /// repairs, commissioning, power, cooling, grid, weather), for a server
    /// whose users bring every job. It never reports
    /// [`Observation::Submitted`]; services draw power at the midpoint of
    /// their load range (no DLRM daily cycle is loaded).
    Off,
}

/// Reports simulated progress: (simulated seconds done, total).
pub type Progress<'a> = &'a mut dyn FnMut(Time, Time);

/// The seed and the end of a run: the caller's, else the scenario's.
fn run_span(sc: &Scenario, opts: &RunOptions) -> Result<(u64, Time), String> {
    let seed = opts.seed.unwrap_or(sc.spec.seed);
    let days = opts.days.unwrap_or(sc.spec.days);
    // A caller's days bypass the scenario's checks: bound them here too.
    crate::scenario::check_days(days).map_err(|e| format!("days {e}"))?;
    Ok((seed, (days * DAY as f64).round() as Time))
}

/// A job's index in the fleet's tables: its id - 1 (the twin numbers its
/// own jobs from 1). Id 0, which the twin never gives, takes the last
/// index, so it cannot share one with id 1.
fn job_index(id: JobId) -> usize {
    id.0.checked_sub(1)
        .and_then(|i| usize::try_from(i).ok())
        .unwrap_or(usize::MAX)
}

/// The twin as a fleet: the campus's hardware and plant (failures,
/// repairs, commissioning, power, cooling, grid, weather), the jobs running
/// on it and a simulated user population, all from one seed. It reports
/// through the [`Fleet`] trait and hears the scheduler's decisions; it never
/// owns or drives the scheduler, so the same fleet can sit under the server.
///
/// **Foreign jobs.** The scheduler may run jobs the fleet did not make (a
/// server's users submit them straight to it). The fleet runs them as the
/// hardware would once it hears of them (`Started`), taking their spec from
/// the scheduler at the next [`Fleet::poll`]: a training job does
/// `runtime_estimate` seconds of work at full speed on the GPUs it is given
/// (slowed by its placement and power caps, losing work since its last
/// checkpoint on an interruption, like the twin's own) and then the fleet
/// reports [`Observation::JobExited`]; a service serves until the scheduler
/// ends it (a cancel, or its `runtime_limit`). The twin knows nothing of
/// their restart or checkpoint costs and takes both as none. They count in
/// utilisation and goodput, and in the job records as kind "foreign" (a
/// service as "inference").
///
/// **Job ids.** The twin's own jobs have ids 1 to the number of jobs of the
/// run (under 2^23: see [`workload::MAX_RESEARCH_JOBS`]); a job with
/// another id is foreign. A server must give its jobs ids that cannot be
/// one of the twin's, e.g. from 2^40 up. A foreign job with one of the
/// twin's ids is still run as foreign, but the twin would also submit its
/// own job of that id, which the scheduler refuses.
///
/// **A caller's own steps.** A caller that steps the scheduler itself (a
/// user's submit or cancel, an operator's command) at time `t` polls the
/// fleet up to `t` first and passes the step's events to [`Fleet::hear`]:
/// the fleet counts busy GPUs up to the time it last ran to, and meets a
/// foreign job's spec at the poll after it hears of the job.
pub struct TwinFleet<'a> {
    sc: &'a Scenario,
    campus: &'a Campus,
    seed: u64,
    end: Time,
    queue: EventQueue<Ev>,
    /// Observations made at `outbox_at`, not yet polled.
    outbox: Vec<Observation>,
    outbox_at: Time,
    /// Jobs that have arrived, by index (id - 1); records of those ended.
    pub(crate) jobs: JobTable,
    /// Research jobs not made yet: made a day ahead of their arrival.
    research: Option<crate::workload::ResearchStream>,
    /// Events about jobs not in `jobs` (foreign jobs, met for the first
    /// time), heard but not yet acted on: their specs are looked up in the
    /// scheduler at the next poll, since `hear` is not given it.
    unheard: Vec<(Time, Event)>,
    /// Jobs holding GPUs, so the hourly plant walks only them.
    running: std::collections::BTreeSet<usize>,
    fail_rng: ChaCha8Rng,
    repair_rng: ChaCha8Rng,
    weather: WeatherYear,
    four_cp: FourCpSchedule,
    prices: Option<Vec<f64>>,
    battery: BatteryState,
    /// Buildings taking load.
    online: Vec<bool>,
    online_gpus: u64,
    tray_down: Vec<bool>,
    lemon: Vec<bool>,
    lemons_online: Vec<u32>,
    hall_down: Vec<u32>,
    hall_thermal: Vec<HallThermal>,
    /// Each hall's name and index, by name (see `hall_index`).
    hall_names: Vec<(String, u16)>,
    repairs_waiting: VecDeque<(u32, usize)>,
    crews_busy: u32,
    parts: u32,
    /// Accumulated over the current hour.
    busy_gpu_s: f64,
    last_busy_at: Time,
    /// Kept work of closed runs, in ideal GPU-seconds, over the whole run
    /// (see `metrics::GOODPUT`); with the open runs' work it is the
    /// goodput integral.
    kept_closed_gpu_s: f64,
    /// The integral at the close of the last hour.
    kept_at_last_hour: f64,
    /// When each tray whose failure is being detected failed.
    failed_at: BTreeMap<u32, Time>,
    failures_hour: u32,
    /// Hours that end before this are not rows: a resumed fleet ran only
    /// part of the hour it resumed in.
    rows_from: Time,
    pub(crate) hourly: Vec<HourRow>,
    pub(crate) four_cp_curtailed: u32,
    /// Times a job that asked for warm spares was left with none.
    pub(crate) spare_exhaustions: u32,
    pub(crate) failures_total: u32,
    pub(crate) traces: Vec<String>,
    inference_cycle: [f64; 24],
}

impl<'a> TwinFleet<'a> {
    /// The fleet of a scenario, and the scheduler it reports to.
    pub fn new(sc: &'a Scenario, opts: &RunOptions) -> Result<(TwinFleet<'a>, Scheduler), String> {
        TwinFleet::new_with(sc, opts, Workload::Scenario)
    }

    /// [`TwinFleet::new`] with the background workload chosen: a server
    /// whose users bring every job asks for [`Workload::Off`].
    pub fn new_with(
        sc: &'a Scenario,
        opts: &RunOptions,
        workload: Workload,
    ) -> Result<(TwinFleet<'a>, Scheduler), String> {
        let (seed, end) = run_span(sc, opts)?;
        let tenants = crate::tenancy::tenants(&sc.spec, &sc.campus);
        let sched =
            Scheduler::new(&sc.campus, Config::default(), &tenants).map_err(|e| e.to_string())?;
        let mut sim = TwinFleet::base(sc, seed, end)?;
        if workload == Workload::Scenario {
            let (jobs, research) = sim.generate_workload()?;
            for j in jobs {
                if j.arrival < end {
                    sim.arrive_later(j);
                }
            }
            sim.research = research;
            // Arrivals sort before other events of their second, by index, as
            // if all had been scheduled first; the refill before them all.
            sim.queue.push_early(0, 0, Ev::Refill);
        }
        // Buildings not yet commissioned hold no work.
        let start_day = sc.start.days_since_epoch();
        for (b, building) in sc.campus.buildings.iter().enumerate() {
            let day = building.commissioned.days_since_epoch() - start_day;
            if day <= 0 {
                sim.online[b] = true;
            } else {
                sim.emit(Observation::Uncommissioned {
                    building: building.name.clone(),
                });
                sim.queue.push(day as Time * DAY, Ev::Commission(b as u16));
            }
        }
        sim.recount_online();
        sim.queue.push(0, Ev::NextFailure);
        sim.queue.push(0, Ev::Hour(0));
        Ok((sim, sched))
    }

    /// The hardware, plant and prices of a run, at time 0 with no jobs
    /// and every building offline: what [`TwinFleet::new_with`] and
    /// [`TwinFleet::resume_with`] start from.
    fn base(sc: &'a Scenario, seed: u64, end: Time) -> Result<TwinFleet<'a>, String> {
        let campus = &sc.campus;
        let weather = load_weather(sc)?;
        let load = grid::parse_ercot(grid::ERCOT_2016_FILE, grid::ERCOT_2016)
            .map_err(|e| e.to_string())?;
        let four_cp = FourCpSchedule::from_load(&load, grid::ERCOT_2016_YEAR);
        let mut price_rng = rng(seed, Stream::Prices);
        let prices = Some(load_prices(sc, &load, &mut price_rng)?);
        check_price_hours(sc, prices.as_deref(), end)?;
        let mut fail_rng = rng(seed, Stream::Failures);
        let trays = campus.trays.len();
        let mut lemon = vec![false; trays];
        let share = sc.spec.failures.lemon_share;
        if share > 0.0 {
            for l in lemon.iter_mut() {
                *l = fail_rng.random::<f64>() < share;
            }
        }
        let hall_thermal = campus
            .halls
            .iter()
            .enumerate()
            .map(|(h, hall)| HallThermal::of(campus, abilene_model::HallId(h as u16), hall))
            .collect();
        let mut hall_names: Vec<(String, u16)> = (0..campus.halls.len())
            .map(|h| (campus.hall_name(abilene_model::HallId(h as u16)), h as u16))
            .collect();
        hall_names.sort_unstable();
        let battery = BatteryState::new(
            sc.campus.spec.site.battery.as_ref().map_or(0.0, |b| b.mw),
            sc.campus.spec.site.battery.as_ref().map_or(0.0, |b| b.mwh),
        );
        Ok(TwinFleet {
            sc,
            campus,
            seed,
            end,
            queue: EventQueue::default(),
            outbox: Vec::new(),
            outbox_at: 0,
            jobs: JobTable::default(),
            research: None,
            unheard: Vec::new(),
            running: std::collections::BTreeSet::new(),
            fail_rng,
            repair_rng: rng(seed, Stream::Repairs),
            weather,
            four_cp,
            prices,
            battery,
            online: vec![false; campus.buildings.len()],
            online_gpus: 0,
            tray_down: vec![false; trays],
            lemon,
            lemons_online: Vec::new(),
            hall_down: vec![0; campus.halls.len()],
            hall_thermal,
            hall_names,
            repairs_waiting: VecDeque::new(),
            crews_busy: 0,
            parts: sc.spec.failures.spare_parts,
            busy_gpu_s: 0.0,
            last_busy_at: 0,
            kept_closed_gpu_s: 0.0,
            kept_at_last_hour: 0.0,
            failed_at: BTreeMap::new(),
            failures_hour: 0,
            rows_from: 0,
            hourly: Vec::new(),
            four_cp_curtailed: 0,
            spare_exhaustions: 0,
            failures_total: 0,
            traces: Vec::new(),
            inference_cycle: [1.0; 24],
        })
    }

    /// The scenario's background workload: its frontier runs and services
    /// (to schedule) and its research stream. Sets the traces replayed and
    /// the inference cycle, and sizes the job table for the run.
    fn generate_workload(
        &mut self,
    ) -> Result<(Vec<TwinJob>, Option<workload::ResearchStream>), String> {
        let generated = workload::generate(self.sc, self.seed, self.end)?;
        self.traces = generated.traces;
        self.inference_cycle = generated.inference_cycle;
        let total = generated.jobs.len() as u64 + generated.research_count;
        self.jobs = JobTable::with_capacity(usize::try_from(total).unwrap_or(0));
        Ok((generated.jobs, generated.research))
    }

    /// Schedules the arrival of a job (index: its id - 1).
    fn arrive_later(&mut self, job: TwinJob) {
        let i = job_index(job.spec.id);
        self.queue
            .push_early(job.arrival, i as u64 + 1, Ev::Arrival(i));
        self.jobs.insert(i, job);
    }

    /// The index of job `id` if the fleet holds it: made (arrived, or
    /// arriving within the day) and not ended.
    fn live(&self, id: JobId) -> Option<usize> {
        let i = job_index(id);
        self.jobs.contains(i).then_some(i)
    }

    /// Makes the research jobs arriving before the next refill, a day on.
    fn refill(&mut self, now: Time) {
        let until = now.saturating_add(DAY);
        let Some(stream) = self.research.as_mut() else {
            return;
        };
        let mut made = Vec::new();
        while let Some(j) = stream.next_before(until) {
            made.push(j);
        }
        for j in made {
            self.arrive_later(j);
        }
        if until < self.end {
            self.queue.push_early(until, 0, Ev::Refill);
        }
    }

    fn recount_online(&mut self) {
        self.online_gpus = 0;
        self.lemons_online.clear();
        for (b, building) in self.campus.buildings.iter().enumerate() {
            if self.online[b] {
                self.online_gpus += u64::from(building.gpus.end - building.gpus.start);
                self.lemons_online
                    .extend(building.trays.clone().filter(|&t| self.lemon[t as usize]));
            }
        }
    }

    /// The fleet has nothing more to report by `t`: its busy GPU-seconds
    /// run to `t`, so that a caller's own step at `t` (a user's submit, an
    /// operator's command) counts from `t`, not from the last report. (The
    /// sums are of whole GPU-seconds, exact in f64: splitting them here
    /// changes no figure.)
    fn ran_to(&mut self, t: Time, sched: &Scheduler) {
        if t > self.last_busy_at {
            self.account_busy(t, sched.busy_gpus());
        }
    }

    fn account_busy(&mut self, now: Time, busy_gpus: u64) {
        let dt = now.saturating_sub(self.last_busy_at) as f64;
        self.busy_gpu_s += dt * busy_gpus as f64;
        self.last_busy_at = now;
    }

    /// Reports an observation made now; the next poll returns it.
    fn emit(&mut self, o: Observation) {
        self.outbox.push(o);
    }

    fn on_event(&mut self, now: Time, e: &Event) {
        match e {
            Event::Started { job, placement, .. } => {
                let Some(j) = self.live(*job) else { return };
                let slowdown = self.slowdown(placement.leaf_groups, placement.buildings);
                let halls = self.hall_ids(&placement.halls);
                let tj = &mut self.jobs[j];
                tj.stats.max_buildings = tj.stats.max_buildings.max(placement.buildings);
                tj.start(now, slowdown, placement.gpus, halls);
                self.schedule_finish(j, now);
            }
            Event::ReplicaStarted { job, trays } => {
                let Some(j) = self.live(*job) else { return };
                let tj = &mut self.jobs[j];
                tj.bank_service(now);
                for t in trays
                    .iter()
                    .filter_map(|t| self.campus.resolve_tray(t).ok())
                {
                    let h = self.campus.trays[t.index()].hall.0;
                    match tj.state.halls.iter_mut().find(|e| e.0 == h) {
                        Some(e) => e.1 += 1,
                        None => tj.state.halls.push((h, 1)),
                    }
                }
                tj.state.gpus += tj.spec.gpus;
            }
            Event::Preempted { job, lost_work, .. } => self.stopped(now, *job, *lost_work, false),
            Event::Suspended { job } => self.stopped(now, *job, 0, false),
            Event::Interrupted {
                job,
                tray,
                lost_work,
                recovery,
            } => {
                let lost_work = self.lost_since_failure(*job, tray, now, *lost_work);
                match recovery {
                    Recovery::Spare => {
                        let Some(j) = self.live(*job) else { return };
                        let tj = &mut self.jobs[j];
                        tj.stats.interruptions += 1;
                        let (slowdown, gpus, halls) =
                            (tj.state.slowdown, tj.state.gpus, tj.state.halls.clone());
                        tj.stop(now, lost_work);
                        self.jobs[j].start(now, slowdown, gpus, halls);
                        self.schedule_finish(j, now);
                    }
                    Recovery::Requeued => self.stopped(now, *job, lost_work, true),
                    Recovery::ReplicaLost => {
                        if let Some(j) = self.live(*job) {
                            let tj = &mut self.jobs[j];
                            tj.bank_service(now);
                            tj.stats.interruptions += 1;
                            tj.state.gpus = tj.state.gpus.saturating_sub(tj.spec.gpus);
                        }
                    }
                }
            }
            Event::Finished { job, .. } => {
                let Some(j) = self.live(*job) else { return };
                let tj = &mut self.jobs[j];
                let before = tj.stats.kept_gpu_s;
                tj.stop(now, 0);
                tj.stats.end.get_or_insert(now);
                // Its last run's work joins the integral before the job goes.
                self.kept_closed_gpu_s += tj.stats.kept_gpu_s - before;
                // Ended: only its record is kept.
                self.jobs.retire(j, self.end);
            }
            Event::Throttled { job, clock } => {
                let Some(j) = self.live(*job) else { return };
                self.jobs[j].set_clock(now, *clock);
                self.schedule_finish(j, now);
            }
            Event::TrayQuarantined { tray, .. } => {
                let Ok(tray) = self.campus.resolve_tray(tray).map(|t| t.0) else {
                    return;
                };
                let days = self.sc.spec.failures.quarantine_days;
                self.queue
                    .push(now + (days * DAY as f64) as Time, Ev::ClearQuarantine(tray));
            }
            Event::SparesExhausted { .. } => self.spare_exhaustions += 1,
            Event::Pending { .. }
            | Event::SpareAdded { .. }
            | Event::ReservationStarted { .. }
            | Event::ReservationEnded { .. }
            | Event::GuaranteeChanged { .. } => {}
        }
    }

    /// Step-time slowdown of a placement over `leaf_groups` and `buildings`.
    fn slowdown(&self, leaf_groups: u32, buildings: u32) -> f64 {
        let f = &self.campus.spec.fabric;
        power::slowdown(
            &self.sc.spec.power,
            leaf_groups,
            buildings,
            f.leaf.oversubscription,
            f.spine.oversubscription,
        )
    }

    /// Trays per hall by hall name, as (hall index, trays) in hall order.
    fn hall_ids(&self, halls: &[(String, u32)]) -> Vec<(u16, u32)> {
        let mut by_hall: Vec<(u16, u32)> = Vec::with_capacity(halls.len());
        for (hall, trays) in halls {
            let Some(h) = self.hall_index(hall) else {
                continue;
            };
            match by_hall.iter_mut().find(|e| e.0 == h) {
                Some(e) => e.1 += trays,
                None => by_hall.push((h, *trays)),
            }
        }
        by_hall.sort_unstable_by_key(|e| e.0);
        by_hall
    }

    /// The hall of a name: looked up among the halls' own names (every
    /// start names its halls, and resolving a name parses it against the
    /// campus), else resolved as any name is.
    fn hall_index(&self, name: &str) -> Option<u16> {
        match self
            .hall_names
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
        {
            Ok(i) => Some(self.hall_names[i].1),
            Err(_) => self.campus.resolve_hall(name).ok().map(|h| h.0),
        }
    }

    fn stopped(&mut self, now: Time, job: JobId, lost_wall: Time, interrupted: bool) {
        let Some(j) = self.live(job) else { return };
        let tj = &mut self.jobs[j];
        tj.stop(now, lost_wall);
        if interrupted {
            tj.stats.interruptions += 1;
        }
    }

    /// The wall seconds a job interrupted on `tray` loses: the scheduler's
    /// count from its last checkpoint, or more when the tray failed before
    /// the failure was detected (checkpoints written after the failure are
    /// worthless, and the job did no useful work meanwhile).
    fn lost_since_failure(&self, job: JobId, tray: &str, now: Time, reported: Time) -> Time {
        let failed_at = self
            .campus
            .resolve_tray(tray)
            .ok()
            .and_then(|t| self.failed_at.get(&t.0).copied());
        match (failed_at, self.live(job)) {
            (Some(at), Some(j)) => reported.max(self.jobs[j].lost_wall_since(at, now)),
            _ => reported,
        }
    }

    fn schedule_finish(&mut self, j: usize, now: Time) {
        if let Some(at) = self.jobs[j].finish_time(now) {
            let epoch = self.jobs[j].state.epoch;
            self.queue.push(at.max(now), Ev::WorkDone(j, epoch));
        }
    }

    fn handle(&mut self, now: Time, ev: Ev, sched: &Scheduler) {
        match ev {
            Ev::Arrival(j) => {
                let spec = Box::new(self.jobs[j].spec.clone());
                self.emit(Observation::Submitted(spec));
            }
            Ev::WorkDone(j, epoch) => {
                let current = self
                    .jobs
                    .get(j)
                    .is_some_and(|t| t.state.epoch == epoch && t.state.running);
                if current {
                    let job = self.jobs[j].spec.id;
                    self.jobs[j].stats.completed = true;
                    self.emit(Observation::JobExited { job });
                }
            }
            Ev::NextFailure => self.next_failure(now),
            Ev::Detected {
                tray,
                cause,
                failed_at,
            } => self.detected(now, tray, cause, failed_at),
            Ev::Rebooted(tray) => {
                self.set_down(tray, false);
                self.failed_at.remove(&tray);
                let tray = self.tray_name(tray);
                self.emit(Observation::TrayUp { tray });
            }
            Ev::RepairDone(tray) => {
                self.crews_busy -= 1;
                self.set_down(tray, false);
                self.failed_at.remove(&tray);
                let tray = self.tray_name(tray);
                self.emit(Observation::TrayUp { tray });
                self.start_repairs(now);
            }
            Ev::PartRestocked => {
                self.parts += 1;
                self.start_repairs(now);
            }
            Ev::ClearQuarantine(tray) => {
                self.lemon[tray as usize] = false;
                self.lemons_online.retain(|&t| t != tray);
                let tray = self.tray_name(tray);
                self.emit(Observation::TrayRequalified { tray });
            }
            Ev::Commission(b) => {
                self.online[usize::from(b)] = true;
                self.recount_online();
                let building = self.campus.buildings[usize::from(b)].name.clone();
                self.emit(Observation::Commissioned { building });
            }
            Ev::Hour(h) => {
                self.hour(now, h, sched);
                if now + HOUR <= self.end {
                    self.queue.push(now + HOUR, Ev::Hour(h + 1));
                }
            }
            Ev::Refill => self.refill(now),
        }
    }

    fn tray_name(&self, tray: u32) -> String {
        self.campus.tray_name(abilene_model::TrayId(tray))
    }

    fn set_down(&mut self, tray: u32, down: bool) {
        if self.tray_down[tray as usize] != down {
            self.tray_down[tray as usize] = down;
            let h = self.campus.trays[tray as usize].hall.index();
            if down {
                self.hall_down[h] += 1;
            } else {
                self.hall_down[h] -= 1;
            }
        }
    }

    // ---- failures ---------------------------------------------------------

    /// GPUs of a tray.
    fn tray_gpus(&self, tray: u32) -> u64 {
        u64::from(self.campus.trays[tray as usize].gpus)
    }

    /// Online GPUs weighted by how often they fail (a lemon GPU counts
    /// `lemon_factor` times), and the lemon GPUs online: lemons weigh by
    /// their trays' real GPUs, 4 on a GB200 tray, 8 on an HGX node.
    fn failure_weight(&self) -> (f64, u64) {
        let f = &self.sc.spec.failures;
        let lemon_gpus: u64 = self.lemons_online.iter().map(|&t| self.tray_gpus(t)).sum();
        let weight = self.online_gpus as f64 + (f.lemon_factor - 1.0) * lemon_gpus as f64;
        (weight, lemon_gpus)
    }

    fn next_failure(&mut self, now: Time) {
        let (weight, lemon_gpus_n) = self.failure_weight();
        let f = &self.sc.spec.failures;
        let lemon_gpus = lemon_gpus_n as f64;
        let per_hour = f.rate_per_gpu_hour() * weight;
        if per_hour <= 0.0 || self.online_gpus == 0 {
            // Nothing can fail yet: look again in an hour.
            self.queue.push(now + HOUR, Ev::NextFailure);
            return;
        }
        let Ok(gap) = Exp::new(per_hour / HOUR as f64) else {
            return;
        };
        let at = now + gap.sample(&mut self.fail_rng).ceil() as Time;
        // Pick the tray: a lemon with its share of the rate, else any GPU.
        let lemon_p = (f.lemon_factor * lemon_gpus) / weight.max(1.0);
        let tray = if lemon_gpus_n > 0 && self.fail_rng.random::<f64>() < lemon_p {
            // A lemon GPU at random, so a bigger lemon tray is hit more.
            let mut g = self.fail_rng.random_range(0..lemon_gpus_n);
            let mut pick = self.lemons_online[0];
            for &t in &self.lemons_online {
                pick = t;
                if g < self.tray_gpus(t) {
                    break;
                }
                g -= self.tray_gpus(t);
            }
            pick
        } else {
            self.random_online_tray()
        };
        let total = f.cause_weights_total();
        let mut x = self.fail_rng.random::<f64>() * total;
        let mut cause = 0;
        for i in 0..f.causes.len() {
            let w = f.cause_weight(i);
            if x < w {
                cause = i;
                break;
            }
            x -= w;
            cause = i;
        }
        let detect = (f.detection_min * 60.0).round() as Time;
        self.queue.push(
            at + detect,
            Ev::Detected {
                tray,
                cause,
                failed_at: at,
            },
        );
        self.queue.push(at, Ev::NextFailure);
    }

    fn random_online_tray(&mut self) -> u32 {
        let mut g = self.fail_rng.random_range(0..self.online_gpus.max(1));
        for (b, building) in self.campus.buildings.iter().enumerate() {
            if !self.online[b] {
                continue;
            }
            let n = u64::from(building.gpus.end - building.gpus.start);
            if g < n {
                return self.campus.gpu_tray[(building.gpus.start as u64 + g) as usize].0;
            }
            g -= n;
        }
        0
    }

    fn detected(&mut self, now: Time, tray: u32, cause: usize, failed_at: Time) {
        if self.tray_down[tray as usize] {
            return;
        }
        // Jobs on the tray lose what they did since it failed: the scheduler
        // reports an interruption, and the loss is counted from here.
        self.failed_at.insert(tray, failed_at);
        self.failures_total += 1;
        self.failures_hour += 1;
        self.set_down(tray, true);
        let c = &self.sc.spec.failures.causes[cause];
        self.emit(Observation::TrayDown {
            tray: self.tray_name(tray),
            cause: c.name.clone(),
        });
        if c.hardware {
            self.repairs_waiting.push_back((tray, cause));
            self.start_repairs(now);
        } else {
            let reboot = (self.sc.spec.failures.reboot_min * 60.0).round() as Time;
            self.queue.push(now + reboot, Ev::Rebooted(tray));
        }
    }

    fn start_repairs(&mut self, now: Time) {
        let f = &self.sc.spec.failures;
        while self.crews_busy < f.repair_crews && self.parts > 0 {
            let Some((tray, cause)) = self.repairs_waiting.pop_front() else {
                break;
            };
            self.crews_busy += 1;
            self.parts -= 1;
            let median = f.causes[cause].repair_hours * HOUR as f64;
            let hours = LogNormal::new(median.ln(), f.repair_sigma)
                .map(|d| d.sample(&mut self.repair_rng))
                .unwrap_or(median);
            self.queue
                .push(now + hours.ceil() as Time, Ev::RepairDone(tray));
            self.queue.push(
                now + (f.restock_days * DAY as f64) as Time,
                Ev::PartRestocked,
            );
        }
    }
}

// ---- the hourly plant: power, cooling, grid, money ---------------------------

impl TwinFleet<'_> {
    pub(crate) fn end_time(&self) -> Time {
        self.end
    }

    pub(crate) fn scenario_name(&self) -> String {
        self.sc.spec.name.clone()
    }

    pub(crate) fn campus_name(&self) -> String {
        self.sc.campus_name.clone()
    }

    pub(crate) fn seed(&self) -> u64 {
        self.seed
    }

    pub(crate) fn start_date(&self) -> String {
        self.sc.start.to_string()
    }

    /// Depreciation, financing and operating costs of the run's span, for
    /// the buildings online on average.
    pub(crate) fn period_money(&self) -> crate::money::PeriodCosts {
        let hours = self.hourly.len() as f64;
        let online_share = if self.hourly.is_empty() {
            0.0
        } else {
            self.hourly
                .iter()
                .map(|h| h.gpus_online as f64)
                .sum::<f64>()
                / (hours * self.campus.gpu_count().max(1) as f64)
        };
        let it_mw: f64 = self
            .campus
            .halls
            .iter()
            .map(|h| h.load.it_max_kw / 1000.0)
            .sum();
        let racks = self.campus.racks.len() as f64;
        crate::money::period_costs(
            &self.sc.spec.money,
            it_mw * online_share,
            (racks * online_share).round() as u64,
            hours,
        )
    }

    /// Calendar position of simulated time `t`: (year, day of year, hour).
    fn calendar(&self, t: Time) -> (i32, u16, u8) {
        let days = (t / DAY) as i64;
        let date =
            abilene_model::Date::from_days_since_epoch(self.sc.start.days_since_epoch() + days);
        (date.year, date.ordinal(), ((t % DAY) / HOUR) as u8)
    }

    fn ambient(&self, t: Time) -> f64 {
        let (_, doy, hour) = self.calendar(t);
        let base = self
            .weather
            .at_hour((usize::from(doy) - 1) * 24 + usize::from(hour));
        let w = &self.sc.spec.weather;
        let day = t as f64 / DAY as f64;
        let wave = w
            .heat_wave
            .as_ref()
            .filter(|h| day >= h.start_day && day < h.start_day + h.days)
            .map_or(0.0, |h| h.offset_c);
        base + w.offset_c + wave
    }

    /// Closes hour `h - 1` and reports the plant for hour `h`.
    fn hour(&mut self, now: Time, h: u32, sched: &Scheduler) {
        self.account_busy(now, sched.busy_gpus());
        // The row closes the hour that just ended: its weather, not the next.
        let ambient = self.ambient(now.saturating_sub(HOUR));
        let (year, doy, hour) = self.calendar(now.saturating_sub(HOUR));
        let loads = self.job_loads(now, hour);
        let plant = self.plant(ambient, &loads);
        let four_cp =
            self.four_cp.is_four_cp_starting(year, doy, hour) && self.sc.spec.grid.curtail_in_4cp;
        let price = self.price_at(doy, hour, h.saturating_sub(1));
        let site = &self.campus.spec.site;
        let gas_mw = site
            .gas_turbines
            .as_ref()
            .map_or(0.0, |g| f64::from(g.count) * g.mw_each);
        let d = grid::dispatch(
            &self.sc.spec.grid,
            plant.facility_kw() / 1000.0,
            site.grid_interconnect_mw,
            gas_mw,
            &mut self.battery,
            price,
            four_cp,
        );
        if h > 0 {
            let hour_grid = HourGrid {
                dispatch: &d,
                price,
                four_cp,
                ambient,
            };
            let row = self.close_row(now, h, &loads, &plant, &hour_grid, sched);
            // An hour the fleet ran only part of would read low.
            if now - HOUR >= self.rows_from {
                self.hourly.push(row);
            }
        }
        self.busy_gpu_s = 0.0;
        self.failures_hour = 0;
        // The caps are for the hour that starts now.
        let (next_year, next_doy, next_hour) = self.calendar(now);
        let four_cp_next = self.sc.spec.grid.curtail_in_4cp
            && self
                .four_cp
                .is_four_cp_starting(next_year, next_doy, next_hour);
        let supply = abilene_control::SupplyReading {
            grid_mw: d.grid_mw,
            gas_mw: d.gas_mw,
            battery_mw: d.battery_mw,
            battery_soc_mwh: self.battery.soc_mwh,
            curtailed_mw: d.curtailed_mw,
            price_usd_per_mwh: price,
            ambient_c: ambient,
        };
        self.report_plant(&plant, four_cp_next, supply);
    }

    /// IT draw and busy trays per hall from the running jobs, by phase.
    fn job_loads(&self, now: Time, hour: u8) -> JobLoads {
        let ps = &self.sc.spec.power;
        let mut loads = JobLoads {
            hall_kw: vec![0.0; self.campus.halls.len()],
            hall_busy: vec![0; self.campus.halls.len()],
            running: 0,
        };
        let cycle = self.inference_cycle[usize::from(hour)];
        for &j in &self.running {
            let j = &self.jobs[j];
            loads.running += 1;
            let in_restart = now < j.state.run_start + j.restart_s as Time;
            let share = match j.kind {
                Kind::Inference => {
                    let x = (cycle / 2.0).clamp(0.0, 1.0);
                    ps.inference_low + (ps.inference_high - ps.inference_low) * x
                }
                _ if in_restart => ps.restart,
                _ => power::training_share(ps, j.state.slowdown) * j.state.clock.max(ps.idle),
            };
            for &(hall, trays) in &j.state.halls {
                let kw_per_tray = self.hall_tray_kw(hall);
                loads.hall_kw[usize::from(hall)] += f64::from(trays) * kw_per_tray * share;
                loads.hall_busy[usize::from(hall)] += trays;
            }
        }
        loads
    }

    /// Each online hall's draw (jobs plus idle trays) against its cooling
    /// at `ambient`: overhead, and the load cooling cannot carry.
    fn plant(&self, ambient: f64, loads: &JobLoads) -> Plant {
        let ps = &self.sc.spec.power;
        let mut plant = Plant {
            it_kw: 0.0,
            overhead_kw: 0.0,
            racks_throttled: 0,
            building_shortfall: vec![0.0; self.campus.buildings.len()],
            halls: Vec::new(),
        };
        for (i, hall) in self.campus.halls.iter().enumerate() {
            let b = hall.building.index();
            if !self.online[b] {
                continue;
            }
            let trays = hall.load.trays as u32;
            let idle = trays
                .saturating_sub(loads.hall_busy[i])
                .saturating_sub(self.hall_down[i]);
            let kw = loads.hall_kw[i] + f64::from(idle) * self.hall_tray_kw(i as u16) * ps.idle;
            let state = cooling::evaluate(
                &self.sc.spec.cooling,
                &self.hall_thermal[i].at_load(kw),
                ambient,
            );
            plant.it_kw += kw;
            plant.overhead_kw += state.overhead_kw;
            if state.shortfall_kw > 0.0 {
                let rack_kw = hall.load.it_max_kw / hall.load.racks.max(1) as f64;
                plant.racks_throttled += (state.shortfall_kw / rack_kw).ceil() as u32;
                plant.building_shortfall[b] += state.shortfall_kw;
            }
            let supply_c = self.sc.spec.cooling.coolant_supply_c;
            let cdu_load = crate::telemetry::cdu_load(
                kw * self.hall_thermal[i].liquid_share,
                state.liquid_capacity_kw,
            );
            plant.halls.push(HallReading {
                hall: self.campus.hall_name(abilene_model::HallId(i as u16)),
                it_kw: kw,
                inlet_c: ambient,
                coolant_c: supply_c,
                coolant_return_c: crate::telemetry::coolant_return_c(supply_c, cdu_load),
                cdu_load,
                cooling_kw: state.overhead_kw,
            });
        }
        plant
    }

    /// The row of the hour that ends at `now`.
    fn close_row(
        &mut self,
        now: Time,
        h: u32,
        loads: &JobLoads,
        plant: &Plant,
        g: &HourGrid<'_>,
        sched: &Scheduler,
    ) -> HourRow {
        let (d, price, four_cp, ambient) = (g.dispatch, g.price, g.four_cp, g.ambient);
        let busy = self.busy_gpu_s / HOUR as f64;
        // The goodput integral over the hour: work done and kept, less work
        // an interruption took back (metrics::GOODPUT).
        let open: f64 = self
            .running
            .iter()
            .map(|&j| self.jobs[j].open_gpu_s(now))
            .sum();
        let kept_now = self.kept_closed_gpu_s + open;
        let productive = (kept_now - self.kept_at_last_hour) / HOUR as f64;
        self.kept_at_last_hour = kept_now;
        let facility_kw = plant.facility_kw();
        HourRow {
            hour: h - 1,
            time: self.timestamp(now - HOUR),
            ambient_c: ambient,
            gpus_online: self.online_gpus,
            gpus_busy: busy,
            gpus_productive: productive,
            it_mw: plant.it_kw / 1000.0,
            cooling_mw: plant.overhead_kw / 1000.0,
            facility_mw: facility_kw / 1000.0,
            pue: if plant.it_kw > 0.0 {
                facility_kw / plant.it_kw
            } else {
                0.0
            },
            grid_mw: d.grid_mw,
            gas_mw: d.gas_mw,
            battery_mw: d.battery_mw,
            battery_soc_mwh: self.battery.soc_mwh,
            price_usd_per_mwh: price,
            four_cp,
            energy_cost_usd: d.cost_usd,
            revenue_usd: crate::money::revenue(&self.sc.spec.money, busy),
            emissions_t: d.emissions_t,
            failures: self.failures_hour,
            jobs_running: loads.running,
            jobs_pending: sched.pending_count() as u32,
            trays_down: self.hall_down.iter().sum(),
            racks_throttled: plant.racks_throttled,
        }
    }

    fn hall_tray_kw(&self, hall: u16) -> f64 {
        let h = &self.campus.halls[usize::from(hall)];
        h.load.it_max_kw / h.load.trays.max(1) as f64
    }

    /// The price of run hour `run_hour` (day `doy`, hour `hour`): a user's
    /// CSV is read by run hour, as `grid::parse_price_csv` documents; the
    /// modelled year by hour of the calendar year.
    fn price_at(&mut self, doy: u16, hour: u8, run_hour: u32) -> f64 {
        let i = match self.sc.spec.grid.price {
            grid::PriceSource::Csv { .. } => run_hour as usize,
            grid::PriceSource::Modelled(_) => (usize::from(doy) - 1) * 24 + usize::from(hour),
        };
        match &self.prices {
            Some(p) if !p.is_empty() => p[i % p.len()],
            _ => 0.0,
        }
    }

    fn timestamp(&self, t: Time) -> String {
        let days = (t / DAY) as i64;
        let date =
            abilene_model::Date::from_days_since_epoch(self.sc.start.days_since_epoch() + days);
        format!("{date}T{:02}:00", (t % DAY) / HOUR)
    }

    /// The plant reading for the coming hour, for the control policy to
    /// set caps from (`abilene_control::Controller`).
    fn report_plant(
        &mut self,
        plant: &Plant,
        four_cp: bool,
        supply: abilene_control::SupplyReading,
    ) {
        let (it_kw, facility_kw) = (plant.it_kw, plant.facility_kw());
        let site = &self.campus.spec.site;
        let gas = site
            .gas_turbines
            .as_ref()
            .map_or(0.0, |g| f64::from(g.count) * g.mw_each);
        let own_generation_mw = gas + self.battery.power_mw;
        if four_cp && facility_kw / 1000.0 > own_generation_mw {
            self.four_cp_curtailed += 1;
        }
        let shortfall_kw = plant
            .building_shortfall
            .iter()
            .enumerate()
            .filter(|(_, s)| **s > 0.0)
            .map(|(b, s)| (self.campus.buildings[b].name.clone(), *s))
            .collect();
        self.emit(Observation::Plant(PlantReading {
            shortfall_kw,
            it_kw,
            facility_kw,
            four_cp,
            own_generation_mw,
            halls: plant.halls.clone(),
            supply,
        }));
    }
}

impl Fleet for TwinFleet<'_> {
    fn poll(&mut self, until: Time, sched: &Scheduler) -> Option<(Time, Vec<Observation>)> {
        self.adopt_unheard(sched);
        loop {
            if !self.outbox.is_empty() {
                let now = self.outbox_at;
                // Busy GPU-seconds up to now, before the scheduler changes them.
                self.account_busy(now, sched.busy_gpus());
                return Some((now, std::mem::take(&mut self.outbox)));
            }
            let Some((now, ev)) = self.queue.pop_until(until.min(self.end)) else {
                self.ran_to(until.min(self.end), sched);
                return None;
            };
            self.outbox_at = now;
            self.handle(now, ev, sched);
        }
    }

    fn hear(&mut self, now: Time, events: &[Event]) {
        for e in events {
            // Most events of a busy pass say why a job waits: nothing to do.
            if matches!(e, Event::Pending { .. }) {
                continue;
            }
            // A job the fleet has not met is foreign: act once its spec is
            // known (the next poll), in the order heard.
            if let Some(id) = e.job()
                && self.live(id).is_none()
            {
                self.unheard.push((now, e.clone()));
                continue;
            }
            self.hear_one(now, e);
        }
    }
}

impl TwinFleet<'_> {
    /// Acts on one event of the scheduler's, keeping the running set and
    /// the goodput integral in step with the job it is about.
    fn hear_one(&mut self, now: Time, e: &Event) {
        let job = e.job().and_then(|id| self.live(id));
        let kept_before = job
            .and_then(|j| self.jobs.get(j))
            .map(|t| t.stats.kept_gpu_s);
        self.on_event(now, e);
        // A job that ended is gone: its Finished handler counted it.
        if let (Some(j), Some(before)) = (job, kept_before)
            && let Some(t) = self.jobs.get(j)
        {
            self.kept_closed_gpu_s += t.stats.kept_gpu_s - before;
        }
        if let Some(j) = job {
            if self.jobs.get(j).is_some_and(|t| t.state.running) {
                self.running.insert(j);
            } else {
                self.running.remove(&j);
            }
        }
    }
}

/// A batch run of the twin: the fleet, the control policy and the real
/// scheduler, driven to the end of the scenario.
pub struct Sim<'a> {
    fleet: TwinFleet<'a>,
    sched: Scheduler,
    control: Controller,
}

impl<'a> Sim<'a> {
    pub fn new(sc: &'a Scenario, opts: &RunOptions) -> Result<Sim<'a>, String> {
        let (fleet, sched) = TwinFleet::new(sc, opts)?;
        Ok(Sim {
            fleet,
            sched,
            control: Controller::new(),
        })
    }

    /// Runs to the end; `progress` hears simulated time as it passes. A
    /// command the scheduler refuses is a scenario error: the run stops and
    /// says why.
    pub fn run(mut self, progress: Progress<'_>) -> Result<RunOutput, String> {
        let started = std::time::Instant::now();
        let end = self.fleet.end;
        let mut last_report = 0;
        let mut each = |now: Time| {
            if now >= last_report + DAY {
                last_report = now;
                progress(now, end);
            }
        };
        abilene_control::drive(
            &mut self.fleet,
            &mut self.control,
            &mut self.sched,
            end,
            &mut each,
        )
        .map_err(|e| {
            format!(
                "the scheduler refused a `{}` command at {}: {}",
                e.kind,
                self.fleet.timestamp(e.at),
                e.reject
            )
        })?;
        progress(end, end);
        let wall = started.elapsed().as_secs_f64();
        Ok(summary::finish(self.fleet, wall))
    }
}

#[cfg(test)]
mod testing;

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;

    /// Lemons weigh by their trays' real GPUs. The tiny campus mixes trays
    /// of 4 GPUs (GB200, GB300) and 8 (HGX H100); with every tray a lemon,
    /// every online GPU fails `lemon_factor` times as often. Counting 4 GPUs
    /// a lemon tray, as the twin once did, gave 8.6 x instead of 10 x.
    #[test]
    fn lemons_weigh_by_the_gpus_of_their_trays() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
        let text = std::fs::read_to_string(path.join("small.toml")).expect("small.toml");
        let text = text.replace(
            "[failures]\n",
            "[failures]\nlemon_share = 1.0\nlemon_factor = 10.0\n",
        );
        let sc = Scenario::load("small (lemons)", &text, &path).expect("loads");
        let (fleet, _) = TwinFleet::new(&sc, &RunOptions::default()).expect("fleet");
        let trays = fleet.lemons_online.len() as u64;
        assert!(
            trays > 0 && fleet.online_gpus > trays * 4,
            "some 8-GPU trays"
        );
        let (weight, lemon_gpus) = fleet.failure_weight();
        assert_eq!(lemon_gpus, fleet.online_gpus);
        let online = fleet.online_gpus as f64;
        assert!((weight - 10.0 * online).abs() < 1e-9 * online, "{weight}");
    }

    /// A long run holds the jobs that have arrived and not ended, not all
    /// of its jobs from the start and to the end (it once held every job
    /// for the whole run: ~1.8 MB a simulated day on the full campus).
    #[test]
    fn a_run_holds_only_the_jobs_that_have_arrived_and_not_ended() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
        let text = std::fs::read_to_string(dir.join("small.toml")).expect("small.toml");
        // Research at 8 x the trace's arrivals: what the tiny campus can keep up with.
        let text = text.replace("arrival_scale = 2.0", "arrival_scale = 8.0");
        let sc = Scenario::load("small (busy)", &text, &dir).expect("loads");
        let opts = RunOptions {
            days: Some(20.0),
            seed: None,
        };
        let end = 20 * DAY;
        let g = workload::generate(&sc, sc.spec.seed, end).expect("generates");
        let total = g.jobs.len() as u64 + g.research_count;
        let (mut fleet, mut sched) = TwinFleet::new(&sc, &opts).expect("fleet");
        let mut control = Controller::new();
        let mut most = 0;
        for day in 1..=19 {
            abilene_control::drive(&mut fleet, &mut control, &mut sched, day * DAY, &mut |_| {})
                .expect("runs");
            most = most.max(fleet.jobs.live());
        }
        println!("{total} jobs, at most {most} live");
        assert!(total > 1_500, "{total}");
        // Every job from the start, as the twin once held them, is all of them.
        assert!(
            most as u64 * 2 < total,
            "{most} of {total} jobs held at once"
        );
        abilene_control::drive(&mut fleet, &mut control, &mut sched, end, &mut |_| {})
            .expect("runs");
        let out = summary::finish(fleet, 0.0);
        assert_eq!(out.jobs.len() as u64, total, "a record for every job");
        assert!(
            out.jobs.windows(2).all(|w| w[0].id < w[1].id),
            "in id order"
        );
    }

    /// The server's restart, in the twin: the fleet runs on while the
    /// scheduler is replaced, mid-run, by one restored from its snapshot.
    /// The run is the same, hour for hour and job for job.
    #[test]
    fn a_scheduler_restored_mid_run_continues_the_same_run() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/small.toml");
        let sc = Scenario::load_file(&path).expect("small scenario loads");
        let opts = RunOptions {
            days: Some(3.0),
            seed: None,
        };
        let whole = Sim::new(&sc, &opts)
            .and_then(|s| s.run(&mut |_, _| {}))
            .expect("runs");
        let (mut fleet, mut sched) = TwinFleet::new(&sc, &opts).expect("fleet");
        let mut control = Controller::new();
        let end = fleet.end;
        abilene_control::drive(
            &mut fleet,
            &mut control,
            &mut sched,
            DAY + 1234,
            &mut |_| {},
        )
        .expect("first half");
        let bytes = sched.snapshot();
        let mut sched = Scheduler::restore(Arc::new(sc.campus.clone()), &bytes).expect("restores");
        abilene_control::drive(&mut fleet, &mut control, &mut sched, end, &mut |_| {})
            .expect("second half");
        let halves = summary::finish(fleet, 0.0);
        assert!(!whole.hourly.is_empty() && !whole.jobs.is_empty());
        assert_eq!(whole.hourly, halves.hourly);
        assert_eq!(whole.jobs, halves.jobs);
    }
}
