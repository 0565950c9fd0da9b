//! The campus and the ERCOT grid: the 2016 ERCOT hourly load (to find the
//! coincident-peak hours, 4CP, and to shape prices), an hourly energy price
//! (MODELLED by default, or a user's own CSV), and a one-hour dispatch of grid
//! import, on-site gas turbines and the battery.
//!
//! Sources are in `docs/domain.md` §4 and `data/README.md`. No public ERCOT
//! price series is shipped: the default price is a model built from the
//! published statistics, not market data.

use crate::bounds::Bound;
use crate::datafile::{csv_problem, problem, record_problem};
use abilene_model::diagnostic::{Diagnostic, FieldPath};
use abilene_model::{Date, Problem};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// The 2016 ERCOT hourly load (PNNL TESP revision of ERCOT's public data;
/// see `data/README.md`).
pub const ERCOT_2016: &str =
    include_str!("../../../data/ercot/2016_ERCOT_Hourly_Load_Data_Revised.csv");

/// The name [`ERCOT_2016`] goes by in problems and reports.
pub const ERCOT_2016_FILE: &str = "data/ercot/2016_ERCOT_Hourly_Load_Data_Revised.csv";

/// The calendar year of [`ERCOT_2016`]'s load shape.
pub const ERCOT_2016_YEAR: i32 = 2016;

// ---------------------------------------------------------------------------
// ERCOT load
// ---------------------------------------------------------------------------

/// One hour as a load file labels it: a date and the hour of the
/// `Hour_End` column (0 to 23, as written in the file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CivilHour {
    pub year: i32,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
}

impl CivilHour {
    pub fn date(self) -> Date {
        Date {
            year: self.year,
            month: self.month,
            day: self.day,
        }
    }

    /// Hours since 1970-01-01 0:00, to check that rows are consecutive.
    fn index(self) -> i64 {
        self.date().days_since_epoch() * 24 + i64::from(self.hour)
    }
}

/// Hourly ERCOT system load, MW, in file order. Times are local (Central
/// Prevailing Time), as ERCOT publishes them: the spring-forward day has 23
/// rows (2016-03-13 skips 2:00) and the fall-back day 25 (2016-11-06 repeats
/// 2:00).
#[derive(Debug, Clone, PartialEq)]
pub struct ErcotLoad {
    pub hours: Vec<(CivilHour, f64)>,
}

impl ErcotLoad {
    /// The embedded 2016 file, parsed.
    pub fn ercot_2016() -> Result<ErcotLoad, Problem> {
        parse_ercot(ERCOT_2016_FILE, ERCOT_2016)
    }

    /// The load shape of `year`: each hour's load over the year's mean load,
    /// one slot per date and hour label. A repeated (fall-back) hour takes the
    /// mean of its two rows; a skipped (spring-forward) hour takes the mean of
    /// its neighbours. `None` unless the file runs from January 1st 0:00 to
    /// December 31st 23:00 of `year`.
    pub fn shape(&self, year: i32) -> Option<LoadShape> {
        let slots = usize::from(days_in_year(year)) * 24;
        let mut sum = vec![0.0; slots];
        let mut count = vec![0u32; slots];
        for &(h, mw) in self.hours.iter().filter(|(h, _)| h.year == year) {
            let i = (usize::from(h.date().ordinal()) - 1) * 24 + usize::from(h.hour);
            sum[i] += mw;
            count[i] += 1;
        }
        if count[0] == 0 || count[slots - 1] == 0 {
            return None;
        }
        let mut loads: Vec<Option<f64>> = (0..slots)
            .map(|i| (count[i] > 0).then(|| sum[i] / f64::from(count[i])))
            .collect();
        // Rows are consecutive but for daylight saving, so a gap is one hour
        // with both neighbours present.
        for i in 1..slots - 1 {
            if loads[i].is_none() {
                let (a, b) = (loads[i - 1]?, loads[i + 1]?);
                loads[i] = Some((a + b) / 2.0);
            }
        }
        let loads: Vec<f64> = loads.into_iter().collect::<Option<_>>()?;
        let mean = loads.iter().sum::<f64>() / loads.len() as f64;
        Some(LoadShape {
            year,
            mean_mw: mean,
            factors: loads.iter().map(|mw| mw / mean).collect(),
        })
    }
}

/// One year of ERCOT load as factors of the annual mean (1.0 is an average
/// hour), indexed by `(day_of_year - 1) * 24 + hour` in the source year.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadShape {
    /// The year the load was measured in.
    pub year: i32,
    pub mean_mw: f64,
    pub factors: Vec<f64>,
}

impl LoadShape {
    /// The factor of a calendar month, day and hour of the source year; a
    /// February 29th missing from the source year reads February 28th.
    pub fn factor(&self, month: u8, day: u8, hour: u8) -> Option<f64> {
        let day = if month == 2 && day == 29 && days_in_year(self.year) == 365 {
            28
        } else {
            day
        };
        let date = checked_date(self.year, month, day)?;
        if hour > 23 {
            return None;
        }
        let i = (usize::from(date.ordinal()) - 1) * 24 + usize::from(hour);
        self.factors.get(i).copied()
    }

    /// The factor for an hour of a simulated year, mapped onto the source
    /// year by calendar date (month and day), so that summer afternoons stay
    /// summer afternoons whatever the leap years. `day_of_year` is 1-based.
    pub fn factor_for(&self, year: i32, day_of_year: u16, hour: u8) -> Option<f64> {
        let date = date_of_ordinal(year, day_of_year)?;
        self.factor(date.month, date.day, hour)
    }
}

/// Parses an hourly ERCOT load file: a header line whose first column is
/// `Hour_End` and which has an `ERCOT` column (the whole grid, MW), then one
/// row per hour, `M/D/YYYY H:MM` (minutes `00`), in consecutive hours of local
/// time: the only gaps and repeats allowed are daylight saving's, at most one
/// skipped or repeated hour a day between 1:00 and 3:00. Other columns (the
/// 8-zone split `Bus1..Bus8`) are ignored. Line ends may be LF or CRLF.
pub fn parse_ercot(file: &str, text: &str) -> Result<ErcotLoad, Problem> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| csv_problem(file, text, &e))?
        .clone();
    if headers.get(0).map(str::trim) != Some("Hour_End") {
        return Err(problem(
            file,
            1,
            1,
            "",
            format!(
                "the first column must be `Hour_End`, found `{}`",
                headers.get(0).unwrap_or("")
            ),
        ));
    }
    let Some(ercot_col) = headers.iter().position(|h| h.trim() == "ERCOT") else {
        return Err(problem(
            file,
            1,
            1,
            "",
            "no `ERCOT` column (whole-grid load, MW) in the header",
        ));
    };

    let mut hours: Vec<(CivilHour, f64)> = Vec::new();
    // The last date that had its daylight-saving skip or repeat.
    let mut dst_used: Option<Date> = None;
    for record in reader.records() {
        let record = record.map_err(|e| csv_problem(file, text, &e))?;
        let at = record_problem(file, text, &record);
        let stamp = record.get(0).unwrap_or("");
        let when = parse_hour_end(stamp.trim())
            .map_err(|why| at(0, "Hour_End", format!("`{stamp}`: {why}")))?;
        let raw = record.get(ercot_col).unwrap_or("");
        let mw: f64 = raw
            .trim()
            .parse()
            .map_err(|_| at(ercot_col, "ERCOT", format!("`{raw}` is not a number")))?;
        if !mw.is_finite() || mw <= 0.0 {
            return Err(at(
                ercot_col,
                "ERCOT",
                format!("load must be a positive number of MW, found `{raw}`"),
            ));
        }
        if let Some(&(prev, _)) = hours.last() {
            let step = when.index() - prev.index();
            let dst = (step == 0 || step == 2)
                && prev.date() == when.date()
                && dst_used != Some(when.date())
                && (1..=3).contains(&prev.hour)
                && (1..=3).contains(&when.hour);
            if dst {
                dst_used = Some(when.date());
            } else if step != 1 {
                return Err(at(
                    0,
                    "Hour_End",
                    format!(
                        "`{stamp}` does not follow the previous row ({}/{}/{} {}:00) by one \
                         hour (only daylight saving may skip or repeat one hour a day)",
                        prev.month, prev.day, prev.year, prev.hour
                    ),
                ));
            }
        }
        hours.push((when, mw));
    }
    if hours.is_empty() {
        return Err(problem(file, 1, 1, "", "no data rows after the header"));
    }
    Ok(ErcotLoad { hours })
}

/// `M/D/YYYY H:MM` with minutes `00`.
fn parse_hour_end(s: &str) -> Result<CivilHour, String> {
    let expected = "expected `M/D/YYYY H:MM`";
    let (date, time) = s.split_once(' ').ok_or_else(|| expected.to_string())?;
    let mut d = date.split('/');
    let (Some(m), Some(day), Some(y), None) = (d.next(), d.next(), d.next(), d.next()) else {
        return Err(expected.to_string());
    };
    let (h, min) = time
        .trim()
        .split_once(':')
        .ok_or_else(|| expected.to_string())?;
    let num = |t: &str, what: &str, max_len: usize| -> Result<u32, String> {
        if t.is_empty() || t.len() > max_len || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("bad {what} `{t}`: {expected}"));
        }
        t.parse().map_err(|_| format!("bad {what} `{t}`"))
    };
    let month = num(m, "month", 2)?;
    let day = num(day, "day", 2)?;
    if y.len() != 4 {
        return Err(format!("bad year `{y}`: expected 4 digits"));
    }
    let year = num(y, "year", 4)?;
    let hour = num(h, "hour", 2)?;
    if min != "00" {
        return Err(format!(
            "minutes must be `00` in an hourly file, found `{min}`"
        ));
    }
    if hour > 23 {
        return Err(format!("hour {hour} is not 0 to 23"));
    }
    let date = checked_date(year as i32, month as u8, day as u8)
        .ok_or_else(|| format!("no such date {month}/{day}/{year}"))?;
    Ok(CivilHour {
        year: date.year,
        month: date.month,
        day: date.day,
        hour: hour as u8,
    })
}

/// The single peak hour of each of June, July, August and September of
/// `year` (ERCOT's 4CP months, `docs/domain.md` §4), as `(month, day, hour)`
/// with the hour as the file labels it (hour ending). ERCOT settles 4CP on the
/// highest 15-minute interval; an hourly file can only give the hour. A tie
/// goes to the earlier hour; a month missing from the file is left out.
pub fn four_cp_hours(load: &ErcotLoad, year: i32) -> Vec<(u8, u8, u8)> {
    (6..=9u8)
        .filter_map(|month| {
            load.hours
                .iter()
                .filter(|(h, _)| h.year == year && h.month == month)
                .fold(None::<(CivilHour, f64)>, |best, &(h, mw)| match best {
                    Some((_, top)) if top >= mw => best,
                    _ => Some((h, mw)),
                })
                .map(|(h, _)| (h.month, h.day, h.hour))
        })
        .collect()
}

/// The 4CP hours of a simulated year.
///
/// The grid's shape in the source year (2016 for [`FourCpSchedule::ercot_2016`])
/// stands in for the simulated year: the source year's 4CP month, day and hour
/// are taken to be the simulated year's, by calendar date. The real 4CP hours
/// of a future year are unknown in advance (ERCOT names them afterwards), and
/// a mapped date may fall on a weekend in the simulated year; this is a stand-in
/// so the twin can show the effect of curtailing, not a forecast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FourCpSchedule {
    /// `(month, day, hour ending)`, as [`four_cp_hours`] gives them.
    pub hours: Vec<(u8, u8, u8)>,
}

impl FourCpSchedule {
    pub fn new(hours: Vec<(u8, u8, u8)>) -> Self {
        FourCpSchedule { hours }
    }

    /// The 4CP hours of `source_year` in `load`.
    pub fn from_load(load: &ErcotLoad, source_year: i32) -> Self {
        FourCpSchedule::new(four_cp_hours(load, source_year))
    }

    /// The 4CP hours of 2016, from the embedded ERCOT file.
    pub fn ercot_2016() -> Result<Self, Problem> {
        Ok(FourCpSchedule::from_load(
            &ErcotLoad::ercot_2016()?,
            ERCOT_2016_YEAR,
        ))
    }

    /// Whether the hour labelled `hour_ending` (as in the load file) of day
    /// `day_of_year` (1-based) of simulated `year` is a 4CP hour.
    pub fn is_four_cp(&self, year: i32, day_of_year: u16, hour_ending: u8) -> bool {
        date_of_ordinal(year, day_of_year).is_some_and(|d| {
            self.hours
                .iter()
                .any(|&(m, day, h)| m == d.month && day == d.day && h == hour_ending)
        })
    }

    /// Whether the simulated interval `[hour_start:00, hour_start+1:00)` of
    /// day `day_of_year` (1-based) is a 4CP hour: that interval ends at
    /// `hour_start + 1`, which the file labels `0:00` of the next day when
    /// `hour_start` is 23.
    pub fn is_four_cp_starting(&self, year: i32, day_of_year: u16, hour_start: u8) -> bool {
        if hour_start < 23 {
            self.is_four_cp(year, day_of_year, hour_start + 1)
        } else {
            self.is_four_cp(year, day_of_year + 1, 0)
        }
    }
}

// ---------------------------------------------------------------------------
// Prices
// ---------------------------------------------------------------------------

/// Where the hourly energy price comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum PriceSource {
    /// A MODELLED price built from published statistics, not market data.
    Modelled(ModelledPrice),
    /// A user's own hourly series; see [`parse_price_csv`] for the format.
    Csv { path: String },
}

impl Default for PriceSource {
    fn default() -> Self {
        PriceSource::Modelled(ModelledPrice::default())
    }
}

/// A MODELLED hourly ERCOT energy price in $/MWh. It is NOT market data: no
/// public ERCOT price series is shipped (`data/README.md`), so this model
/// reproduces the published statistics of `docs/domain.md` §4 and nothing more:
/// an annual mean near the North hub's 2024 day-ahead average of $27/MWh,
/// prices that rise with grid load, rare scarcity spikes to thousands of
/// $/MWh, and negative prices when West Texas wind is high (nights, spring).
///
/// Each hour's price is
/// `base × load_factor^load_exponent × (1 ± noise)`, replaced by a spike with
/// probability `spike_probability` (plus `spike_probability_at_peak` when the
/// load factor is at least `spike_load_factor`), or else by a negative price
/// with probability `negative_share × night × spring` (the night and spring
/// weights average 1 over a year). Every call draws the same number of random
/// numbers, so a seed gives the same series whatever the prices turn out to be.
///
/// With the defaults on the 2016 load shape a year averages ~$27/MWh (mean
/// of 100 seeds $27.06, single years $24-30), with ~20 spike hours, ~5%
/// negative hours and ~20% of hours above the default gas cost of $30/MWh.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelledPrice {
    /// Price of an average-load hour before spikes and negative hours. Chosen
    /// (calibrated on the 2016 load shape) so the modelled annual mean,
    /// spikes and negative hours included, lands near the North hub's
    /// 2024 day-ahead average of $27/MWh (domain.md §4; $56/MWh in 2023).
    pub base_usd_per_mwh: f64,
    /// How steeply price rises with load: price ∝ load_factor^exponent.
    /// Assumed: ERCOT's supply curve is flat at low load and steep near the
    /// peak; 2 makes the peak hour (~1.8 × mean load in 2016) cost ~3x.
    pub load_exponent: f64,
    /// Half-width of a uniform hour-to-hour noise, as a share of the price.
    /// Assumed.
    pub noise: f64,
    /// Chance of a scarcity spike in any hour. Assumed: a few hours a year,
    /// like the West hub's $3,699/MWh on 2025-04-07, a mild-weather spring day
    /// (domain.md §4).
    pub spike_probability: f64,
    /// Extra chance of a spike in an hour whose load factor is at least
    /// `spike_load_factor`. Assumed: scarcity comes mostly at high load.
    pub spike_probability_at_peak: f64,
    /// Load factor (load / annual mean) from which `spike_probability_at_peak`
    /// applies. Assumed.
    pub spike_load_factor: f64,
    /// Spike price range, uniform. "Thousands of $/MWh" (domain.md §4): the
    /// West hub reached $3,699/MWh on 2025-04-07; ERCOT's offer cap is
    /// $5,000/MWh.
    pub spike_min_usd_per_mwh: f64,
    pub spike_max_usd_per_mwh: f64,
    /// Share of hours with a negative price, averaged over the year. Assumed:
    /// West zone prices go negative when wind is high (domain.md §4); the
    /// share is not published there.
    pub negative_share: f64,
    /// The lowest negative price; negative hours are uniform in
    /// `[negative_min_usd_per_mwh, 0)`. Assumed.
    pub negative_min_usd_per_mwh: f64,
}

impl Default for ModelledPrice {
    fn default() -> Self {
        ModelledPrice {
            base_usd_per_mwh: 21.5,
            load_exponent: 2.0,
            noise: 0.2,
            spike_probability: 0.0005,
            spike_probability_at_peak: 0.02,
            spike_load_factor: 1.4,
            spike_min_usd_per_mwh: 1_000.0,
            spike_max_usd_per_mwh: 4_000.0,
            negative_share: 0.05,
            negative_min_usd_per_mwh: -20.0,
        }
    }
}

/// Weight of negative prices by hour of day: West Texas wind blows hardest
/// at night (22:00 to 6:59); 9 night hours × 1.8 + 15 day hours × 0.52 = 24.
fn night_weight(hour_of_day: u32) -> f64 {
    if !(7..22).contains(&hour_of_day) {
        1.8
    } else {
        0.52
    }
}

/// Weight of negative prices by season: spring (March to May, days 60 to
/// 151) is windy with low load; 92 × 1.6 + 273 × 0.8 ≈ 365.
fn spring_weight(day_of_year: u32) -> f64 {
    if (60..152).contains(&day_of_year) {
        1.6
    } else {
        0.8
    }
}

impl ModelledPrice {
    /// The MODELLED price in $/MWh of hour `hour_of_year` (0-based, from
    /// January 1st 0:00) whose grid load is `load_factor` times the annual
    /// mean (see [`LoadShape`]). Draws five numbers from `rng`.
    pub fn price(&self, hour_of_year: u32, load_factor: f64, rng: &mut ChaCha8Rng) -> f64 {
        let spike_draw: f64 = rng.random();
        let spike_size: f64 = rng.random();
        let negative_draw: f64 = rng.random();
        let negative_size: f64 = rng.random();
        let noise_draw: f64 = rng.random();

        let load_factor = if load_factor.is_finite() {
            load_factor.max(0.0)
        } else {
            1.0
        };
        let mut p_spike = self.spike_probability;
        if load_factor >= self.spike_load_factor {
            p_spike += self.spike_probability_at_peak;
        }
        if spike_draw < p_spike {
            return self.spike_min_usd_per_mwh
                + spike_size * (self.spike_max_usd_per_mwh - self.spike_min_usd_per_mwh);
        }
        let p_negative = self.negative_share
            * night_weight(hour_of_year % 24)
            * spring_weight(hour_of_year / 24 + 1);
        if negative_draw < p_negative {
            return self.negative_min_usd_per_mwh * (1.0 - negative_size);
        }
        self.base_usd_per_mwh
            * load_factor.powf(self.load_exponent)
            * (1.0 + self.noise * (2.0 * noise_draw - 1.0))
    }

    /// A MODELLED series, one price per factor of `shape` (hour 0 first).
    pub fn series(&self, shape: &[f64], rng: &mut ChaCha8Rng) -> Vec<f64> {
        shape
            .iter()
            .enumerate()
            .map(|(h, &f)| self.price(h as u32, f, rng))
            .collect()
    }
}

/// Parses a user's own hourly price file. Format: a header line
/// `hour,usd_per_mwh`, then one row per hour, `hour` counting from 0 with no
/// gaps (row n has hour n), `usd_per_mwh` any finite number (negative prices
/// are allowed). Spaces around fields are ignored. Element `n` of the result
/// is the price of hour `n` of the run (hour 0 starts at the scenario's
/// `start`, whatever the calendar date); the file must have a row for every
/// hour of the run (a scenario whose `days` outrun it is refused at load).
///
/// ```text
/// hour,usd_per_mwh
/// 0,21.5
/// 1,-3.2
/// ```
pub fn parse_price_csv(file: &str, text: &str) -> Result<Vec<f64>, Problem> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| csv_problem(file, text, &e))?
        .clone();
    let names: Vec<&str> = headers.iter().collect();
    if names != ["hour", "usd_per_mwh"] {
        return Err(problem(
            file,
            1,
            1,
            "",
            format!(
                "the header must be `hour,usd_per_mwh`, found `{}`",
                names.join(",")
            ),
        ));
    }
    let mut prices = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_problem(file, text, &e))?;
        let at = record_problem(file, text, &record);
        let hour_text = record.get(0).unwrap_or("");
        let hour: usize = hour_text.parse().map_err(|_| {
            at(
                0,
                "hour",
                format!("`{hour_text}` is not a whole number of hours"),
            )
        })?;
        if hour != prices.len() {
            return Err(at(
                0,
                "hour",
                format!(
                    "expected hour {}, found {hour}: hours count from 0 with no gaps",
                    prices.len()
                ),
            ));
        }
        let price_text = record.get(1).unwrap_or("");
        let price: f64 = price_text
            .parse()
            .ok()
            .filter(|p: &f64| p.is_finite())
            .ok_or_else(|| {
                at(
                    1,
                    "usd_per_mwh",
                    format!("`{price_text}` is not a finite number of $/MWh"),
                )
            })?;
        prices.push(price);
    }
    if prices.is_empty() {
        return Err(problem(file, 1, 1, "", "no price rows after the header"));
    }
    Ok(prices)
}

// ---------------------------------------------------------------------------
// Dispatch
// ---------------------------------------------------------------------------

/// The highest price a setting may name, $/MWh: twice ERCOT's $5,000/MWh
/// offer cap (see [`ModelledPrice`]); the lowest is its negative.
pub const MAX_USD_PER_MWH: f64 = 10_000.0;

/// Checks settings read from a scenario; `at` is where they sit in it.
/// Ranges: prices from -[`MAX_USD_PER_MWH`] to [`MAX_USD_PER_MWH`] (gas from
/// 0); the 4CP charge from 0 to $10,000 per kW-year; CO2 from 0 to 2 t/MWh;
/// battery efficiency above 0 and at most 1; the modelled price's settings
/// as [`check_modelled`] says.
pub fn check(s: &GridSettings, at: &FieldPath) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    let price = Bound::closed(-MAX_USD_PER_MWH, MAX_USD_PER_MWH).unit(" $/MWh");
    let cost = Bound::closed(0.0, MAX_USD_PER_MWH).unit(" $/MWh");
    Bound::closed(0.0, 10_000.0).unit(" $/kW-year").check(
        &mut d,
        at,
        "four_cp_usd_per_kw_year",
        s.four_cp_usd_per_kw_year,
    );
    cost.check(&mut d, at, "gas_usd_per_mwh", s.gas_usd_per_mwh);
    let co2 = Bound::closed(0.0, 2.0).unit(" t/MWh");
    co2.check(&mut d, at, "gas_t_co2_per_mwh", s.gas_t_co2_per_mwh);
    co2.check(&mut d, at, "grid_t_co2_per_mwh", s.grid_t_co2_per_mwh);
    Bound::above(0.0, 1.0).check(
        &mut d,
        at,
        "battery_round_trip_efficiency",
        s.battery_round_trip_efficiency,
    );
    for (field, v) in [
        (
            "battery_charge_below_usd_per_mwh",
            s.battery_charge_below_usd_per_mwh,
        ),
        (
            "battery_discharge_above_usd_per_mwh",
            s.battery_discharge_above_usd_per_mwh,
        ),
    ] {
        price.check(&mut d, at, field, v);
    }
    match &s.price {
        PriceSource::Modelled(m) => d.extend(check_modelled(m, &at.key("price").key("modelled"))),
        PriceSource::Csv { path } if path.trim().is_empty() => d.push(Diagnostic::new(
            at.key("price").key("csv").key("path"),
            "must name a file",
        )),
        PriceSource::Csv { .. } => {}
    }
    d
}

/// Checks a modelled price. Ranges: base from 0 to [`MAX_USD_PER_MWH`];
/// load exponent from 0 to 10; noise, probabilities and the negative share
/// from 0 to 1; spike load factor from 0 to 10; spike prices from
/// -[`MAX_USD_PER_MWH`] to [`MAX_USD_PER_MWH`], the minimum at most the
/// maximum; the lowest negative price from -[`MAX_USD_PER_MWH`] to 0.
pub fn check_modelled(m: &ModelledPrice, at: &FieldPath) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    let price = Bound::closed(-MAX_USD_PER_MWH, MAX_USD_PER_MWH).unit(" $/MWh");
    Bound::closed(0.0, MAX_USD_PER_MWH).unit(" $/MWh").check(
        &mut d,
        at,
        "base_usd_per_mwh",
        m.base_usd_per_mwh,
    );
    let factor = Bound::closed(0.0, 10.0);
    factor.check(&mut d, at, "load_exponent", m.load_exponent);
    factor.check(&mut d, at, "spike_load_factor", m.spike_load_factor);
    let share = Bound::closed(0.0, 1.0);
    share.check(&mut d, at, "noise", m.noise);
    share.check(&mut d, at, "spike_probability", m.spike_probability);
    share.check(
        &mut d,
        at,
        "spike_probability_at_peak",
        m.spike_probability_at_peak,
    );
    share.check(&mut d, at, "negative_share", m.negative_share);
    price.check(&mut d, at, "spike_min_usd_per_mwh", m.spike_min_usd_per_mwh);
    price.check(&mut d, at, "spike_max_usd_per_mwh", m.spike_max_usd_per_mwh);
    if m.spike_min_usd_per_mwh > m.spike_max_usd_per_mwh {
        d.push(Diagnostic::new(
            at.key("spike_min_usd_per_mwh"),
            format!(
                "must be at most spike_max_usd_per_mwh ({}), got {}",
                m.spike_max_usd_per_mwh, m.spike_min_usd_per_mwh
            ),
        ));
    }
    Bound::closed(-MAX_USD_PER_MWH, 0.0).unit(" $/MWh").check(
        &mut d,
        at,
        "negative_min_usd_per_mwh",
        m.negative_min_usd_per_mwh,
    );
    d
}

/// How the campus buys and makes power.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GridSettings {
    /// Cut grid import in 4CP hours, running gas and the battery instead.
    /// On by default: it is worth millions a year (domain.md §4).
    pub curtail_in_4cp: bool,
    /// Transmission charge per kW of the campus's mean grid import in the
    /// four 4CP intervals, paid for the next year. ~$50-150 per kW-year
    /// (domain.md §4); the middle is taken.
    pub four_cp_usd_per_kw_year: f64,
    /// Cost of a MWh from the on-site gas turbines. Assumed: a heat rate of
    /// ~9.5 MMBtu/MWh, typical of simple-cycle aeroderivatives such as the
    /// GE LM2500XPRESS the campus uses (domain.md §1), times gas at an assumed
    /// ~$3/MMBtu (Henry Hub traded around $2-4 in 2023-2025) gives ~$28.5;
    /// rounded up to $30 for variable O&M. Above the $27/MWh mean grid price,
    /// so gas runs in dear hours, not all the time.
    pub gas_usd_per_mwh: f64,
    /// CO2 per MWh from the gas turbines. Derived from assumed figures:
    /// ~9.5 MMBtu/MWh × 53.06 kg CO2/MMBtu (US EPA emission factor for
    /// natural gas) ≈ 0.50 t/MWh.
    pub gas_t_co2_per_mwh: f64,
    /// CO2 per MWh imported from ERCOT. Assumed, a typical recent annual
    /// average for ERCOT (US EPA eGRID, subregion ERCT, ~0.35-0.40 t/MWh);
    /// the real figure varies by hour with wind and solar.
    pub grid_t_co2_per_mwh: f64,
    /// Energy out of the battery per energy in. Assumed, typical of
    /// lithium-ion grid batteries (US EIA reports ~82% for utility-scale
    /// batteries); the whole loss is taken when charging.
    pub battery_round_trip_efficiency: f64,
    /// Charge the battery from the grid when the price is at or below this.
    /// Assumed: below the modelled mean, so it charges on windy nights.
    pub battery_charge_below_usd_per_mwh: f64,
    /// Discharge the battery when the price is at or above this (and always
    /// in 4CP hours when curtailing, and to cover a shortfall). Assumed: high
    /// enough to keep the battery full for scarcity and 4CP hours rather than
    /// cycling it every evening.
    pub battery_discharge_above_usd_per_mwh: f64,
    pub price: PriceSource,
}

impl Default for GridSettings {
    fn default() -> Self {
        GridSettings {
            curtail_in_4cp: true,
            four_cp_usd_per_kw_year: 100.0,
            gas_usd_per_mwh: 30.0,
            gas_t_co2_per_mwh: 0.50,
            grid_t_co2_per_mwh: 0.37,
            battery_round_trip_efficiency: 0.85,
            battery_charge_below_usd_per_mwh: 15.0,
            battery_discharge_above_usd_per_mwh: 100.0,
            price: PriceSource::default(),
        }
    }
}

/// The battery between hours.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatteryState {
    /// Largest charge or discharge rate.
    pub power_mw: f64,
    pub capacity_mwh: f64,
    /// Energy stored now.
    pub soc_mwh: f64,
}

impl BatteryState {
    /// A battery that starts full: a site battery is kept charged as backup.
    pub fn new(power_mw: f64, capacity_mwh: f64) -> Self {
        let capacity_mwh = capacity_mwh.max(0.0);
        BatteryState {
            power_mw: power_mw.max(0.0),
            capacity_mwh,
            soc_mwh: capacity_mwh,
        }
    }

    /// No battery.
    pub fn none() -> Self {
        BatteryState::new(0.0, 0.0)
    }

    pub fn from_spec(spec: Option<&abilene_model::spec::BatterySpec>) -> Self {
        spec.map_or_else(BatteryState::none, |b| BatteryState::new(b.mw, b.mwh))
    }

    /// Up to `want_mw` for one hour; returns what it gave.
    fn discharge(&mut self, want_mw: f64) -> f64 {
        let d = want_mw.min(self.power_mw).min(self.soc_mwh).max(0.0);
        self.soc_mwh -= d;
        d
    }

    /// Up to `offer_mw` drawn for one hour, storing `efficiency` of it;
    /// returns what it drew.
    fn charge(&mut self, offer_mw: f64, efficiency: f64) -> f64 {
        if efficiency <= 0.0 {
            return 0.0;
        }
        let room = (self.capacity_mwh - self.soc_mwh).max(0.0) / efficiency;
        let c = offer_mw.min(self.power_mw).min(room).max(0.0);
        self.soc_mwh = (self.soc_mwh + c * efficiency).min(self.capacity_mwh);
        c
    }
}

/// One hour's supply. `grid_mw + gas_mw + battery_mw + curtailed_mw` is the
/// demand; over one hour MW and MWh are the same number.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Dispatch {
    /// Import from ERCOT, including what charges the battery.
    pub grid_mw: f64,
    pub gas_mw: f64,
    /// Positive when discharging, negative when charging.
    pub battery_mw: f64,
    /// Demand no source could meet.
    pub curtailed_mw: f64,
    /// Energy cost: grid import at the hour's price plus gas at its cost. The
    /// 4CP transmission charge is annual; see [`four_cp_charge_usd`].
    pub cost_usd: f64,
    pub emissions_t: f64,
}

/// Dispatches one hour. Rules, in order:
///
/// 1. The battery discharges first when this is a 4CP hour and
///    `curtail_in_4cp` is set, or when `price` is at or above
///    `battery_discharge_above_usd_per_mwh`.
/// 2. Gas (up to `gas_mw`, the turbines available) runs next when the price is
///    above `gas_usd_per_mwh`, or in a 4CP hour when curtailing.
/// 3. The grid covers what is left, up to `grid_limit_mw`.
/// 4. What the grid cannot cover falls to gas, then to the battery, whatever
///    the price; the rest is curtailed.
/// 5. Outside curtailed 4CP hours, when `price` is at or below
///    `battery_charge_below_usd_per_mwh`, the battery charges from the grid
///    with whatever import headroom is left.
///
/// Load shedding (pausing jobs in 4CP hours) is the caller's choice: pass the
/// reduced demand. Negative inputs count as zero.
pub fn dispatch(
    settings: &GridSettings,
    demand_mw: f64,
    grid_limit_mw: f64,
    gas_mw: f64,
    battery: &mut BatteryState,
    price: f64,
    four_cp: bool,
) -> Dispatch {
    let demand = demand_mw.max(0.0);
    let grid_limit = grid_limit_mw.max(0.0);
    let gas_available = gas_mw.max(0.0);
    let curtail = four_cp && settings.curtail_in_4cp;

    let mut left = demand;
    let mut discharged = 0.0;
    let mut gas = 0.0;

    // 1. Battery for 4CP and dear hours.
    let discharge_early = curtail || price >= settings.battery_discharge_above_usd_per_mwh;
    if discharge_early {
        discharged += battery.discharge(left);
        left -= discharged;
    }
    // 2. Gas when cheaper than the grid, or to keep import down in 4CP.
    let gas_early = curtail || price > settings.gas_usd_per_mwh;
    if gas_early {
        gas = left.min(gas_available);
        left -= gas;
    }
    // 3. The grid.
    let mut grid = left.min(grid_limit);
    left -= grid;
    // 4. Shortfall.
    if left > 0.0 && !gas_early {
        gas = left.min(gas_available);
        left -= gas;
    }
    if left > 0.0 {
        let d = battery.discharge(left);
        discharged += d;
        left -= d;
    }
    let curtailed = left.max(0.0);
    // 5. Charge when cheap.
    let mut charged = 0.0;
    if !curtail && discharged == 0.0 && price <= settings.battery_charge_below_usd_per_mwh {
        charged = battery.charge(grid_limit - grid, settings.battery_round_trip_efficiency);
        grid += charged;
    }

    Dispatch {
        grid_mw: grid,
        gas_mw: gas,
        battery_mw: discharged - charged,
        curtailed_mw: curtailed,
        cost_usd: grid * price + gas * settings.gas_usd_per_mwh,
        emissions_t: grid * settings.grid_t_co2_per_mwh + gas * settings.gas_t_co2_per_mwh,
    }
}

/// The next year's 4CP transmission charge: the mean grid import (MW) over
/// the 4CP intervals, in kW, times `four_cp_usd_per_kw_year`. Zero when no
/// intervals are given.
pub fn four_cp_charge_usd(settings: &GridSettings, grid_mw_in_4cp: &[f64]) -> f64 {
    if grid_mw_in_4cp.is_empty() {
        return 0.0;
    }
    let mean_mw = grid_mw_in_4cp.iter().sum::<f64>() / grid_mw_in_4cp.len() as f64;
    mean_mw * 1_000.0 * settings.four_cp_usd_per_kw_year
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn days_in_year(year: i32) -> u16 {
    if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 {
        366
    } else {
        365
    }
}

/// A date, if it exists.
fn checked_date(year: i32, month: u8, day: u8) -> Option<Date> {
    if !(1..=9999).contains(&year) {
        return None;
    }
    Date::parse(&format!("{year:04}-{month:02}-{day:02}")).ok()
}

/// The date of a 1-based day of the year, if the year has that day.
fn date_of_ordinal(year: i32, day_of_year: u16) -> Option<Date> {
    if day_of_year == 0 || day_of_year > days_in_year(year) {
        return None;
    }
    let jan1 = Date {
        year,
        month: 1,
        day: 1,
    };
    Some(Date::from_days_since_epoch(
        jan1.days_since_epoch() + i64::from(day_of_year) - 1,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_and_out_of_range_grid_settings_are_refused() {
        let at = FieldPath::root().key("grid");
        assert!(check(&GridSettings::default(), &at).is_empty());
        let m = ModelledPrice {
            base_usd_per_mwh: f64::NAN,
            spike_min_usd_per_mwh: 5_000.0,
            spike_max_usd_per_mwh: 4_000.0,
            ..ModelledPrice::default()
        };
        let bad = GridSettings {
            gas_usd_per_mwh: f64::NAN,
            battery_round_trip_efficiency: 0.0,
            price: PriceSource::Modelled(m),
            ..GridSettings::default()
        };
        let d = check(&bad, &at);
        let fields: Vec<String> = d.iter().map(|d| d.path.to_string()).collect();
        assert_eq!(
            fields,
            [
                "grid.gas_usd_per_mwh",
                "grid.battery_round_trip_efficiency",
                "grid.price.modelled.base_usd_per_mwh",
                "grid.price.modelled.spike_min_usd_per_mwh",
            ],
            "{d:?}"
        );
        assert_eq!(d[0].message, "must be from 0 to 10000 $/MWh, got NaN");
    }
    use rand::SeedableRng;

    fn load() -> ErcotLoad {
        ErcotLoad::ercot_2016().expect("the embedded file parses")
    }

    #[test]
    fn parses_the_embedded_file() {
        let l = load();
        assert_eq!(l.hours.len(), 8_904);
        assert_eq!(
            l.hours[0].0,
            CivilHour {
                year: 2015,
                month: 12,
                day: 29,
                hour: 0
            }
        );
        assert_eq!(
            l.hours.last().unwrap().0,
            CivilHour {
                year: 2017,
                month: 1,
                day: 2,
                hour: 23
            }
        );
        let (peak_at, peak) = l
            .hours
            .iter()
            .copied()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap();
        assert_eq!((peak_at.month, peak_at.day, peak_at.hour), (8, 11, 17));
        assert!((peak - 69_199.22).abs() < 0.01);
    }

    #[test]
    fn four_cp_of_2016() {
        let hours = four_cp_hours(&load(), 2016);
        assert_eq!(hours.len(), 4);
        assert!(hours.contains(&(8, 11, 17)), "{hours:?}");
        assert_eq!(hours.iter().map(|h| h.0).collect::<Vec<_>>(), [6, 7, 8, 9]);
        // Each is its month's maximum.
        let l = load();
        for &(m, d, h) in &hours {
            let at = l
                .hours
                .iter()
                .find(|(c, _)| c.year == 2016 && c.month == m && c.day == d && c.hour == h)
                .unwrap()
                .1;
            assert!(
                l.hours
                    .iter()
                    .filter(|(c, _)| c.year == 2016 && c.month == m)
                    .all(|&(_, mw)| mw <= at)
            );
        }
        // No summer in 2015's three days of December.
        assert!(four_cp_hours(&l, 2015).is_empty());
    }

    #[test]
    fn schedule_maps_onto_other_years_by_date() {
        let s = FourCpSchedule::ercot_2016().unwrap();
        // 2026-08-11 is day 223 (a common year); 2016-08-11 was day 224.
        let doy = Date::parse("2026-08-11").unwrap().ordinal();
        assert_eq!(doy, 223);
        assert!(s.is_four_cp(2026, doy, 17));
        assert!(!s.is_four_cp(2026, doy, 16));
        assert!(!s.is_four_cp(2026, doy + 1, 17));
        assert!(s.is_four_cp(2016, 224, 17));
        assert!(s.is_four_cp(2028, 224, 17));
        // Hour-ending 17:00 is the interval starting at 16:00.
        assert!(s.is_four_cp_starting(2026, doy, 16));
        assert!(!s.is_four_cp_starting(2026, doy, 17));
        // Out of range is never 4CP.
        assert!(!s.is_four_cp(2026, 0, 17));
        assert!(!s.is_four_cp(2026, 366, 17));
        // Exactly four hours in a year.
        let n = (1..=365u16)
            .flat_map(|d| (0..24u8).map(move |h| (d, h)))
            .filter(|&(d, h)| s.is_four_cp(2026, d, h))
            .count();
        assert_eq!(n, 4);
    }

    #[test]
    fn load_shape_is_mean_one() {
        let shape = load().shape(2016).unwrap();
        assert_eq!(shape.factors.len(), 8_784);
        let mean = shape.factors.iter().sum::<f64>() / 8_784.0;
        assert!((mean - 1.0).abs() < 1e-9);
        let peak = shape.factor(8, 11, 17).unwrap();
        assert!((peak - 69_199.22 / shape.mean_mw).abs() < 1e-9);
        assert_eq!(shape.factor_for(2026, 223, 17), Some(peak));
        assert!(shape.factor(2, 30, 0).is_none());
        assert!(load().shape(2015).is_none(), "2015 is incomplete");
    }

    fn expect_problem(text: &str, line: usize, column: usize, needle: &str) {
        let p = parse_ercot("e.csv", text).unwrap_err();
        assert_eq!(p.file, "e.csv");
        assert_eq!((p.line, p.column), (line, column), "{p}");
        assert!(p.message.contains(needle), "{p}");
    }

    #[test]
    fn bad_ercot_files_are_placed() {
        let head = "Hour_End,Bus1,ERCOT\n";
        expect_problem(
            &format!("{head}1/1/2016 0:00,1,100\n1/1/2016 1:00,1,abc\n"),
            3,
            17,
            "not a number",
        );
        expect_problem(
            &format!("{head}13/1/2016 0:00,1,100\n"),
            2,
            1,
            "no such date",
        );
        expect_problem(
            &format!("{head}2/30/2016 0:00,1,100\n"),
            2,
            1,
            "no such date",
        );
        expect_problem(&format!("{head}1/1/2016 24:00,1,100\n"), 2, 1, "hour 24");
        expect_problem(&format!("{head}1/1/2016 1:30,1,100\n"), 2, 1, "minutes");
        expect_problem(&format!("{head}2016-01-01 1:00,1,100\n"), 2, 1, "M/D/YYYY");
        expect_problem(&format!("{head}1/1/2016 0:00,1,-5\n"), 2, 17, "positive");
        expect_problem(&format!("{head}1/1/2016 0:00,1,NaN\n"), 2, 17, "positive");
        expect_problem(
            &format!("{head}1/1/2016 0:00,1,100\n1/1/2016 2:00,1,100\n"),
            3,
            1,
            "by one hour",
        );
        expect_problem(
            &format!("{head}1/1/2016 0:00,1,100\n1/1/2016 0:00,1,100\n"),
            3,
            1,
            "by one hour",
        );
        expect_problem(
            &format!("{head}1/1/2016 0:00,1,100\n1/1/2016 1:00,100\n"),
            3,
            1,
            "the header has 3",
        );
        expect_problem(head, 1, 1, "no data rows");
        expect_problem("", 1, 1, "Hour_End");
        expect_problem("Time,ERCOT\n", 1, 1, "Hour_End");
        expect_problem("Hour_End,Bus1\n", 1, 1, "ERCOT");
        // Quoted fields before the bad one.
        expect_problem(
            &format!("{head}1/1/2016 0:00,\"1,5\",x\n"),
            2,
            21,
            "not a number",
        );
        // Across a year end and a leap day, rows are consecutive.
        let ok =
            format!("{head}12/31/2015 23:00,1,100\n1/1/2016 0:00,1,101\n2/28/2016 23:00,1,1\n");
        expect_problem(&ok, 4, 1, "by one hour");
        let ok = format!("{head}2/29/2016 23:00,1,100\n3/1/2016 0:00,1,101\n");
        assert_eq!(parse_ercot("e.csv", &ok).unwrap().hours.len(), 2);
        // CRLF line ends keep their line numbers.
        let crlf = "Hour_End,Bus1,ERCOT\r\n1/1/2016 0:00,1,100\r\n1/1/2016 1:00,1,x\r\n";
        expect_problem(crlf, 3, 17, "not a number");
        let crlf = "Hour_End,Bus1,ERCOT\r\n1/1/2016 0:00,1,100\r\n1/1/2016 1:00,1\r\n";
        expect_problem(crlf, 3, 1, "the header has 3");
    }

    #[test]
    fn daylight_saving_skips_and_repeats_once_a_day() {
        let head = "Hour_End,ERCOT\n";
        let rows = |hours: &[&str]| {
            let mut t = head.to_string();
            for h in hours {
                t.push_str(&format!("3/13/2016 {h}:00,100\n"));
            }
            t
        };
        // Spring forward: 1:00 then 3:00; fall back: 2:00 twice.
        assert!(parse_ercot("d.csv", &rows(&["0", "1", "3", "4"])).is_ok());
        assert!(parse_ercot("d.csv", &rows(&["1", "2", "2", "3"])).is_ok());
        // Not twice a day, not at other hours, not bigger gaps.
        let p = parse_ercot("d.csv", &rows(&["1", "2", "2", "3", "3"])).unwrap_err();
        assert_eq!(p.line, 6, "{p}");
        assert!(parse_ercot("d.csv", &rows(&["10", "12"])).is_err());
        assert!(parse_ercot("d.csv", &rows(&["5", "5"])).is_err());
        assert!(parse_ercot("d.csv", &rows(&["1", "4"])).is_err());
        // Not across midnight.
        let t = format!("{head}3/12/2016 23:00,1\n3/13/2016 1:00,1\n");
        assert!(parse_ercot("d.csv", &t).is_err());
        // The 2016 file has both.
        let l = load();
        let day = |m: u8, d: u8| {
            l.hours
                .iter()
                .filter(|(h, _)| h.month == m && h.day == d && h.year == 2016)
                .count()
        };
        assert_eq!((day(3, 13), day(11, 6), day(7, 1)), (23, 25, 24));
        // The shape fills the skipped hour and merges the repeated one.
        let shape = l.shape(2016).unwrap();
        let f = |m, d, h| shape.factor(m, d, h).unwrap();
        assert!((f(3, 13, 2) - (f(3, 13, 1) + f(3, 13, 3)) / 2.0).abs() < 1e-12);
        let mw = (27_836.0 + 26_715.57) / 2.0;
        assert!((f(11, 6, 2) - mw / shape.mean_mw).abs() < 1e-12);
    }

    #[test]
    fn never_panics_on_odd_bytes() {
        for text in [
            "Hour_End,ERCOT\n\"",
            "Hour_End,ERCOT\n,\n",
            "Hour_End,ERCOT\n\u{e9}/1/2016 0:00,1\n",
            "Hour_End,ERCOT\n1/1/99999 0:00,1\n",
            "Hour_End,ERCOT\n1/1/0000 0:00,1\n",
            "Hour_End,ERCOT\n/ :\n",
            "\n\n\n",
        ] {
            let _ = parse_ercot("x.csv", text);
            let _ = parse_price_csv("x.csv", text);
        }
    }

    #[test]
    fn price_csv() {
        let ok = "hour,usd_per_mwh\n0,21.5\n1, -3.2\n2,4000\n";
        assert_eq!(parse_price_csv("p.csv", ok).unwrap(), [21.5, -3.2, 4000.0]);
        let p = parse_price_csv("p.csv", "hour,usd_per_mwh\n0,1\n2,1\n").unwrap_err();
        assert_eq!((p.line, p.column, p.field.as_str()), (3, 1, "hour"));
        assert!(p.message.contains("expected hour 1"), "{p}");
        let p = parse_price_csv("p.csv", "hour,usd_per_mwh\n0,inf\n").unwrap_err();
        assert_eq!((p.line, p.column, p.field.as_str()), (2, 3, "usd_per_mwh"));
        let p = parse_price_csv("p.csv", "hour,price\n0,1\n").unwrap_err();
        assert_eq!(p.line, 1);
        assert!(p.message.contains("hour,usd_per_mwh"));
        let p = parse_price_csv("p.csv", "hour,usd_per_mwh\n").unwrap_err();
        assert!(p.message.contains("no price rows"));
        let p = parse_price_csv("p.csv", "hour,usd_per_mwh\nx,1\n").unwrap_err();
        assert_eq!((p.line, p.column), (2, 1));
    }

    fn modelled_series(seed: u64) -> Vec<f64> {
        let shape = load().shape(2016).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        ModelledPrice::default().series(&shape.factors, &mut rng)
    }

    #[test]
    fn modelled_price_statistics() {
        let mut means = Vec::new();
        for seed in 0..8 {
            let prices = modelled_series(seed);
            let mean = prices.iter().sum::<f64>() / prices.len() as f64;
            let spikes = prices.iter().filter(|&&p| p >= 1_000.0).count();
            let negative = prices.iter().filter(|&&p| p < 0.0).count();
            let max = prices.iter().copied().fold(f64::MIN, f64::max);
            assert!((1..=60).contains(&spikes), "seed {seed}: {spikes} spikes");
            assert!(max <= 4_000.0);
            let share = negative as f64 / prices.len() as f64;
            assert!((0.03..0.07).contains(&share), "seed {seed}: {share}");
            means.push(mean);
        }
        let mean = means.iter().sum::<f64>() / means.len() as f64;
        assert!((24.0..30.0).contains(&mean), "mean {mean}: {means:?}");
    }

    #[test]
    fn modelled_price_is_deterministic_and_follows_load() {
        assert_eq!(modelled_series(7), modelled_series(7));
        assert_ne!(modelled_series(7), modelled_series(8));
        // Without spikes, negatives or noise, price is base × factor².
        let m = ModelledPrice {
            spike_probability: 0.0,
            spike_probability_at_peak: 0.0,
            negative_share: 0.0,
            noise: 0.0,
            ..ModelledPrice::default()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert!((m.price(0, 1.0, &mut rng) - 21.5).abs() < 1e-12);
        assert!((m.price(0, 1.5, &mut rng) - 48.375).abs() < 1e-12);
        // Always a spike when told so, within range.
        let spiky = ModelledPrice {
            spike_probability: 1.0,
            ..ModelledPrice::default()
        };
        let p = spiky.price(0, 1.0, &mut rng);
        assert!((1_000.0..=4_000.0).contains(&p));
    }

    #[test]
    fn settings_round_trip_and_reject_unknown_fields() {
        let s = GridSettings::default();
        let text = toml::to_string(&s).unwrap();
        assert_eq!(toml::from_str::<GridSettings>(&text).unwrap(), s);
        assert_eq!(toml::from_str::<GridSettings>("").unwrap(), s);
        let csv: GridSettings = toml::from_str("[price.csv]\npath = \"p.csv\"\n").unwrap();
        assert_eq!(
            csv.price,
            PriceSource::Csv {
                path: "p.csv".into()
            }
        );
        let m: GridSettings =
            toml::from_str("[price.modelled]\nbase_usd_per_mwh = 40.0\n").unwrap();
        let PriceSource::Modelled(m) = m.price else {
            panic!()
        };
        assert_eq!(m.base_usd_per_mwh, 40.0);
        assert_eq!(m.noise, ModelledPrice::default().noise);
        assert!(toml::from_str::<GridSettings>("gas_cost = 3.0").is_err());
        assert!(toml::from_str::<GridSettings>("[price.modelled]\nmean = 3.0").is_err());
        assert!(toml::from_str::<GridSettings>("[price.csv]\npath = \"a\"\nx = 1").is_err());
    }

    fn settings() -> GridSettings {
        GridSettings::default()
    }

    fn balanced(d: &Dispatch, demand: f64) {
        let sum = d.grid_mw + d.gas_mw + d.battery_mw + d.curtailed_mw;
        assert!((sum - demand).abs() < 1e-9, "{d:?} vs {demand}");
    }

    #[test]
    fn grid_when_cheaper_than_gas() {
        let s = settings();
        let mut b = BatteryState::new(50.0, 200.0);
        let d = dispatch(&s, 100.0, 500.0, 300.0, &mut b, 25.0, false);
        assert_eq!((d.grid_mw, d.gas_mw, d.battery_mw), (100.0, 0.0, 0.0));
        assert_eq!(d.cost_usd, 2_500.0);
        assert!((d.emissions_t - 37.0).abs() < 1e-9);
        assert_eq!(b.soc_mwh, 200.0);
        balanced(&d, 100.0);
    }

    #[test]
    fn gas_covers_what_the_grid_cannot() {
        let s = settings();
        let mut b = BatteryState::none();
        let d = dispatch(&s, 400.0, 300.0, 200.0, &mut b, 20.0, false);
        assert_eq!((d.grid_mw, d.gas_mw, d.curtailed_mw), (300.0, 100.0, 0.0));
        assert_eq!(d.cost_usd, 300.0 * 20.0 + 100.0 * 30.0);
        assert!((d.emissions_t - (300.0 * 0.37 + 100.0 * 0.50)).abs() < 1e-9);
        balanced(&d, 400.0);
    }

    #[test]
    fn gas_runs_when_the_price_is_above_its_cost() {
        let s = settings();
        let mut b = BatteryState::none();
        let d = dispatch(&s, 400.0, 500.0, 300.0, &mut b, 45.0, false);
        assert_eq!((d.grid_mw, d.gas_mw), (100.0, 300.0));
        assert_eq!(d.cost_usd, 100.0 * 45.0 + 300.0 * 30.0);
        balanced(&d, 400.0);
    }

    #[test]
    fn four_cp_minimises_import_with_battery_then_gas() {
        let s = settings();
        let mut b = BatteryState::new(50.0, 200.0);
        // Cheap price, yet a 4CP hour: battery 50, gas 300, grid the rest.
        let d = dispatch(&s, 400.0, 500.0, 300.0, &mut b, 20.0, true);
        assert_eq!((d.battery_mw, d.gas_mw, d.grid_mw), (50.0, 300.0, 50.0));
        assert_eq!(b.soc_mwh, 150.0);
        balanced(&d, 400.0);
        // With curtailing off, a 4CP hour is an ordinary hour.
        let off = GridSettings {
            curtail_in_4cp: false,
            ..settings()
        };
        let mut b = BatteryState::new(50.0, 200.0);
        let d = dispatch(&off, 400.0, 500.0, 300.0, &mut b, 20.0, true);
        assert_eq!((d.battery_mw, d.gas_mw, d.grid_mw), (0.0, 0.0, 400.0));
        // No charging in a curtailed 4CP hour even at a low price.
        let mut b = BatteryState::new(50.0, 200.0);
        b.soc_mwh = 0.0;
        let d = dispatch(&s, 100.0, 500.0, 300.0, &mut b, 5.0, true);
        assert_eq!((d.battery_mw, d.gas_mw, d.grid_mw), (0.0, 100.0, 0.0));
        assert_eq!(b.soc_mwh, 0.0);
    }

    #[test]
    fn battery_charges_when_cheap() {
        let s = settings();
        let mut b = BatteryState::new(50.0, 200.0);
        b.soc_mwh = 180.0;
        let d = dispatch(&s, 100.0, 500.0, 300.0, &mut b, 10.0, false);
        // Room for 20 MWh takes 20 / 0.85 MWh from the grid.
        let drawn = 20.0 / 0.85;
        assert!((d.battery_mw + drawn).abs() < 1e-9, "{d:?}");
        assert!((d.grid_mw - (100.0 + drawn)).abs() < 1e-9);
        assert!((b.soc_mwh - 200.0).abs() < 1e-9);
        balanced(&d, 100.0);
        // Limited by power and by import headroom.
        let mut b = BatteryState::new(50.0, 200.0);
        b.soc_mwh = 0.0;
        let d = dispatch(&s, 100.0, 130.0, 0.0, &mut b, -5.0, false);
        assert_eq!((d.grid_mw, d.battery_mw), (130.0, -30.0));
        assert!((b.soc_mwh - 30.0 * 0.85).abs() < 1e-9);
        assert_eq!(d.cost_usd, 130.0 * -5.0);
        // Not above the threshold.
        let mut b = BatteryState::new(50.0, 200.0);
        b.soc_mwh = 0.0;
        let d = dispatch(&s, 100.0, 500.0, 0.0, &mut b, 25.0, false);
        assert_eq!(d.battery_mw, 0.0);
    }

    #[test]
    fn battery_discharges_in_scarcity_and_shortfall() {
        let s = settings();
        let mut b = BatteryState::new(50.0, 30.0);
        let d = dispatch(&s, 100.0, 500.0, 300.0, &mut b, 2_000.0, false);
        assert_eq!((d.battery_mw, d.gas_mw, d.grid_mw), (30.0, 70.0, 0.0));
        assert_eq!(b.soc_mwh, 0.0);
        // Shortfall: grid and gas are not enough; battery, then curtailment.
        let mut b = BatteryState::new(50.0, 200.0);
        let d = dispatch(&s, 500.0, 300.0, 100.0, &mut b, 20.0, false);
        assert_eq!(
            (d.grid_mw, d.gas_mw, d.battery_mw, d.curtailed_mw),
            (300.0, 100.0, 50.0, 50.0)
        );
        balanced(&d, 500.0);
    }

    #[test]
    fn odd_inputs_do_not_break_the_balance() {
        let s = settings();
        let mut b = BatteryState::new(10.0, 10.0);
        let d = dispatch(&s, -5.0, -1.0, -1.0, &mut b, 20.0, false);
        assert_eq!(d, Dispatch::default());
        let d = dispatch(&s, 50.0, 0.0, 0.0, &mut b, 20.0, false);
        assert_eq!((d.battery_mw, d.curtailed_mw), (10.0, 40.0));
        balanced(&d, 50.0);
    }

    #[test]
    fn four_cp_charge() {
        let s = settings();
        // Mean 150 MW = 150,000 kW × $100/kW-year = $15M.
        assert_eq!(
            four_cp_charge_usd(&s, &[100.0, 200.0, 150.0, 150.0]),
            15_000_000.0
        );
        assert_eq!(four_cp_charge_usd(&s, &[]), 0.0);
    }
}
