//! The weather that drives the cooling model: an hourly typical
//! meteorological year (TMY3), by default NREL's year for Abilene Regional
//! Airport (see `data/README.md`).
//!
//! A TMY3 file is CSV: line 1 describes the station, line 2 names the
//! columns, then one row per hour, 01:00 on 1 January to 24:00 on
//! 31 December, 8,760 rows. Columns are found by name, not by position.

use crate::datafile::field_column;
use abilene_model::Problem;

/// Hours in a (non-leap) TMY year.
pub const HOURS_PER_YEAR: usize = 8_760;

/// Column of the dry-bulb temperature, in C.
pub const DRY_BULB_COLUMN: &str = "Dry-bulb (C)";

/// Column of the dew-point temperature, in C.
pub const DEW_POINT_COLUMN: &str = "Dew-point (C)";

/// The TMY3 year of Abilene Regional Airport (NREL, as shipped in PNNL's
/// TESP repository; see `data/README.md`).
pub const ABILENE_TMY3: &str = include_str!("../../../data/weather/TX-Abilene_Regional_Ap_Ut.tmy3");

/// The name [`ABILENE_TMY3`] goes by in problems and reports.
pub const ABILENE_TMY3_FILE: &str = "data/weather/TX-Abilene_Regional_Ap_Ut.tmy3";

/// Temperatures outside this band are taken for a broken file, not weather.
const PLAUSIBLE_C: std::ops::RangeInclusive<f64> = -90.0..=65.0;

/// One year of hourly weather; index 0 is the hour ending 01:00 on 1 January.
#[derive(Debug, Clone, PartialEq)]
pub struct WeatherYear {
    /// The station as line 1 of the file names it, e.g.
    /// `722660 ABILENE REGIONAL AP [UT], TX`.
    pub station: String,
    pub dry_bulb_c: Vec<f64>,
    pub dew_point_c: Vec<f64>,
}

impl WeatherYear {
    /// Dry-bulb temperature (C) of an hour of the year; hours past the end
    /// wrap around, so a run longer than a year repeats it. NaN only for a
    /// year built by hand with no hours ([`parse_tmy3`] never makes one).
    pub fn at_hour(&self, hour_of_year: usize) -> f64 {
        wrap(&self.dry_bulb_c, hour_of_year)
    }

    /// Dew-point temperature (C) of an hour of the year, wrapping like
    /// [`WeatherYear::at_hour`].
    pub fn dew_point_at(&self, hour_of_year: usize) -> f64 {
        wrap(&self.dew_point_c, hour_of_year)
    }

    /// The same year `delta_c` warmer (or colder, if negative) every hour: a
    /// hotter year. Dew point moves with the dry bulb, so the air keeps its
    /// dew-point depression and dew point never exceeds dry bulb.
    pub fn with_offset(&self, delta_c: f64) -> WeatherYear {
        self.with_heat_wave(0, self.dry_bulb_c.len(), delta_c)
    }

    /// The same year with `delta_c` added to `hours` consecutive hours from
    /// `start_hour` (wrapping past the end of the year): a heat wave.
    pub fn with_heat_wave(&self, start_hour: usize, hours: usize, delta_c: f64) -> WeatherYear {
        let mut out = self.clone();
        let n = out.dry_bulb_c.len();
        if n == 0 {
            return out;
        }
        for k in 0..hours.min(n) {
            let h = (start_hour + k) % n;
            out.dry_bulb_c[h] += delta_c;
            if let Some(d) = out.dew_point_c.get_mut(h) {
                *d += delta_c;
            }
        }
        if delta_c != 0.0 {
            let what = if hours >= n { "year" } else { "heat wave" };
            out.station = format!("{} ({what} {delta_c:+.1} C)", self.station);
        }
        out
    }

    /// Mean dry-bulb temperature over the year, C.
    pub fn mean_c(&self) -> f64 {
        if self.dry_bulb_c.is_empty() {
            return f64::NAN;
        }
        self.dry_bulb_c.iter().sum::<f64>() / self.dry_bulb_c.len() as f64
    }

    /// Hottest hour of the year, C.
    pub fn max_c(&self) -> f64 {
        self.dry_bulb_c
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max)
    }

    /// Coldest hour of the year, C.
    pub fn min_c(&self) -> f64 {
        self.dry_bulb_c
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min)
    }
}

fn wrap(values: &[f64], hour: usize) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values[hour % values.len()]
}

/// The embedded Abilene TMY3 year ([`ABILENE_TMY3`]).
pub fn abilene() -> WeatherYear {
    parse_tmy3(ABILENE_TMY3_FILE, ABILENE_TMY3)
        .expect("the embedded Abilene TMY3 file parses (checked by the weather tests)")
}

/// Parses a TMY3 file; `file` is the name used in problems. A missing
/// column, a row whose temperature is not a number, or a year that is not
/// 8,760 rows long gives one [`Problem`] with the 1-based line and the
/// column's name as its field.
pub fn parse_tmy3(file: &str, text: &str) -> Result<WeatherYear, Problem> {
    let problem = |line: u64, column: usize, field: &str, message: String| Problem {
        file: file.to_string(),
        line: usize::try_from(line).unwrap_or(usize::MAX),
        column,
        field: field.to_string(),
        message,
    };
    let csv_problem = |e: &csv::Error| crate::datafile::csv_problem(file, text, e);

    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut records = reader.records();

    // Line 1: the station.
    let station = match records.next() {
        None => {
            return Err(problem(
                1,
                1,
                "",
                "empty file: expected a TMY3 station line".into(),
            ));
        }
        Some(Err(e)) => return Err(csv_problem(&e)),
        Some(Ok(r)) => station_name(&r),
    };

    // Line 2: the column names.
    let header = match records.next() {
        None => {
            return Err(problem(
                2,
                1,
                "",
                "no column names: a TMY3 file has them on line 2".into(),
            ));
        }
        Some(Err(e)) => return Err(csv_problem(&e)),
        Some(Ok(r)) => r,
    };
    let header_line = header.position().map_or(2, |p| p.line());
    let find = |name: &str| {
        header.iter().position(|h| h == name).ok_or_else(|| {
            problem(
                header_line,
                1,
                name,
                format!(
                    "no \"{name}\" column among the {} column names on this line",
                    header.len()
                ),
            )
        })
    };
    let dry_col = find(DRY_BULB_COLUMN)?;
    let dew_col = find(DEW_POINT_COLUMN)?;

    let mut dry = Vec::with_capacity(HOURS_PER_YEAR);
    let mut dew = Vec::with_capacity(HOURS_PER_YEAR);
    let mut last_line = header_line;
    for record in records {
        let record = record.map_err(|e| csv_problem(&e))?;
        let pos = record.position().cloned();
        let line = pos.as_ref().map_or(last_line + 1, |p| p.line());
        last_line = line;
        if dry.len() == HOURS_PER_YEAR {
            return Err(problem(
                line,
                1,
                "",
                format!(
                    "more than {HOURS_PER_YEAR} hourly rows: a TMY3 year ends at line {}",
                    header_line + HOURS_PER_YEAR as u64
                ),
            ));
        }
        for (col, name, out) in [
            (dry_col, DRY_BULB_COLUMN, &mut dry),
            (dew_col, DEW_POINT_COLUMN, &mut dew),
        ] {
            // Found only for a problem: it scans the line.
            let column = || {
                pos.as_ref()
                    .and_then(|p| usize::try_from(p.byte()).ok())
                    .map_or(1, |b| field_column(text, b, col))
            };
            let Some(raw) = record.get(col) else {
                return Err(problem(
                    line,
                    column(),
                    name,
                    format!(
                        "row has {} fields; the \"{name}\" column is field {}",
                        record.len(),
                        col + 1
                    ),
                ));
            };
            match raw.parse::<f64>() {
                Ok(v) if PLAUSIBLE_C.contains(&v) => out.push(v),
                Ok(v) => {
                    return Err(problem(
                        line,
                        column(),
                        name,
                        format!(
                            "{v} C is not a plausible temperature (expected {} to {} C)",
                            PLAUSIBLE_C.start(),
                            PLAUSIBLE_C.end()
                        ),
                    ));
                }
                Err(_) => {
                    return Err(problem(
                        line,
                        column(),
                        name,
                        format!("expected a temperature in C, found \"{raw}\""),
                    ));
                }
            }
        }
    }
    if dry.len() != HOURS_PER_YEAR {
        return Err(problem(
            last_line + 1,
            1,
            "",
            format!(
                "expected {HOURS_PER_YEAR} hourly rows, found {}: the file ends early",
                dry.len()
            ),
        ));
    }
    Ok(WeatherYear {
        station,
        dry_bulb_c: dry,
        dew_point_c: dew,
    })
}

/// `722660,"ABILENE REGIONAL AP [UT]",TX,...` -> `722660 ABILENE REGIONAL AP [UT], TX`.
fn station_name(r: &csv::StringRecord) -> String {
    let id = r.get(0).unwrap_or("");
    let name = r.get(1).unwrap_or("");
    let state = r.get(2).unwrap_or("");
    let mut s = [id, name]
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    if !state.is_empty() {
        s = format!("{s}, {state}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small well-formed TMY3-like text with `rows` hours, dry bulb 20 C.
    fn synthetic(rows: usize) -> String {
        let mut s = String::from("1,\"TEST STATION\",XX,0,0,0,0\n");
        s.push_str("Date (MM/DD/YYYY),Time (HH:MM),Dew-point (C),Dry-bulb (C),RHum (%)\n");
        for h in 0..rows {
            s.push_str(&format!("01/01/2000,{:02}:00,10.0,20.0,50\n", h % 24 + 1));
        }
        s
    }

    #[test]
    fn abilene_parses_to_a_full_year() {
        let w = abilene();
        assert_eq!(w.dry_bulb_c.len(), HOURS_PER_YEAR);
        assert_eq!(w.dew_point_c.len(), HOURS_PER_YEAR);
        assert_eq!(w.station, "722660 ABILENE REGIONAL AP [UT], TX");
        // The first row of the file: 01/01/1985 01:00, 1.1 C, dew point -1.1 C.
        assert_eq!(w.at_hour(0), 1.1);
        assert_eq!(w.dew_point_at(0), -1.1);
        println!(
            "Abilene TMY3: mean {:.1} C, min {:.1} C, max {:.1} C",
            w.mean_c(),
            w.min_c(),
            w.max_c()
        );
        assert!((15.0..20.0).contains(&w.mean_c()));
        assert!(w.max_c() > 38.0 && w.max_c() < 45.0);
        assert!(w.min_c() < 0.0);
        assert!(
            w.dry_bulb_c
                .iter()
                .zip(&w.dew_point_c)
                .all(|(t, d)| d <= &(t + 0.6)),
            "dew point above dry bulb"
        );
    }

    #[test]
    fn july_highs_match_the_published_climate() {
        // domain.md §4: July mean high ~35 C. July is days 181..212 of a
        // non-leap year; a TMY3 day is the 24 rows 01:00..24:00.
        let w = abilene();
        let highs: Vec<f64> = (181..212)
            .map(|d| {
                (d * 24..(d + 1) * 24)
                    .map(|h| w.at_hour(h))
                    .fold(f64::NEG_INFINITY, f64::max)
            })
            .collect();
        let mean_high = highs.iter().sum::<f64>() / highs.len() as f64;
        println!("Abilene TMY3 July mean daily high: {mean_high:.1} C");
        assert!((31.0..38.0).contains(&mean_high), "{mean_high}");
    }

    #[test]
    fn hours_wrap_around_the_year() {
        let w = abilene();
        assert_eq!(w.at_hour(HOURS_PER_YEAR), w.at_hour(0));
        assert_eq!(w.at_hour(HOURS_PER_YEAR * 3 + 17), w.at_hour(17));
        let empty = WeatherYear {
            station: String::new(),
            dry_bulb_c: vec![],
            dew_point_c: vec![],
        };
        assert!(empty.at_hour(5).is_nan());
    }

    #[test]
    fn offsets_shift_every_hour_or_a_window() {
        let w = abilene();
        let hot = w.with_offset(3.0);
        for h in [0, 4_000, 8_759] {
            assert!((hot.at_hour(h) - w.at_hour(h) - 3.0).abs() < 1e-9);
            assert!((hot.dew_point_at(h) - w.dew_point_at(h) - 3.0).abs() < 1e-9);
        }
        assert!(hot.station.contains("+3.0 C"));
        assert_eq!(w.with_offset(0.0), w);

        // A 48-hour wave across new year wraps.
        let wave = w.with_heat_wave(8_750, 48, 5.0);
        assert!((wave.at_hour(8_755) - w.at_hour(8_755) - 5.0).abs() < 1e-9);
        assert!((wave.at_hour(30) - w.at_hour(30) - 5.0).abs() < 1e-9);
        assert_eq!(wave.at_hour(40), w.at_hour(40));
        assert_eq!(wave.at_hour(4_000), w.at_hour(4_000));
    }

    #[test]
    fn columns_are_found_by_name() {
        let w = parse_tmy3("t.tmy3", &synthetic(HOURS_PER_YEAR)).unwrap();
        assert_eq!(w.at_hour(10), 20.0);
        assert_eq!(w.dew_point_at(10), 10.0);
        assert_eq!(w.station, "1 TEST STATION, XX");
        // Windows line endings are fine too.
        let crlf = synthetic(HOURS_PER_YEAR).replace('\n', "\r\n");
        assert_eq!(parse_tmy3("t.tmy3", &crlf).unwrap(), w);
    }

    #[test]
    fn a_bad_value_names_line_and_field() {
        let mut lines: Vec<String> = ABILENE_TMY3.lines().map(String::from).collect();
        let header: Vec<&str> = lines[1].split(',').collect();
        let col = header.iter().position(|h| *h == DRY_BULB_COLUMN).unwrap();
        // Line 100 of the file is index 99.
        let mut fields: Vec<String> = lines[99].split(',').map(String::from).collect();
        fields[col] = "hot".into();
        lines[99] = fields.join(",");
        let e = parse_tmy3("abilene.tmy3", &lines.join("\n")).unwrap_err();
        assert_eq!(e.file, "abilene.tmy3");
        assert_eq!(e.line, 100);
        assert_eq!(e.field, DRY_BULB_COLUMN);
        assert!(e.message.contains("\"hot\""), "{}", e.message);
        // The column points at the value.
        let expected_col = fields[..col].iter().map(|f| f.len() + 1).sum::<usize>() + 1;
        assert_eq!(e.column, expected_col);
        println!("{e}");
    }

    #[test]
    fn bad_inputs_give_problems_not_panics() {
        let full = synthetic(HOURS_PER_YEAR);

        let e = parse_tmy3("t", "").unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (1, ""));

        let e = parse_tmy3("t", "1,\"X\",XX\n").unwrap_err();
        assert_eq!(e.line, 2);

        // Missing column: reported on the header line, named.
        let no_dew = full.replacen("Dew-point (C)", "Dewpoint", 1);
        let e = parse_tmy3("t", &no_dew).unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (2, DEW_POINT_COLUMN));
        assert!(e.message.contains("no \"Dew-point (C)\" column"), "{e}");

        // Short row: line 3 is the first hour.
        let short = full.replacen("01/01/2000,01:00,10.0,20.0,50", "01/01/2000,01:00,10.0", 1);
        let e = parse_tmy3("t", &short).unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (3, DRY_BULB_COLUMN));
        assert!(e.message.contains("3 fields"), "{e}");

        // Implausible and non-finite values.
        let mut lines: Vec<&str> = full.lines().collect();
        lines[6] = "01/01/2000,05:00,10.0,9999,50";
        let e = parse_tmy3("t", &lines.join("\n")).unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (7, DRY_BULB_COLUMN));
        assert!(e.message.contains("plausible"), "{e}");
        lines[6] = "01/01/2000,05:00,NaN,20.0,50";
        let e = parse_tmy3("t", &lines.join("\n")).unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (7, DEW_POINT_COLUMN));
        lines[6] = "01/01/2000,05:00,10.0,,50";
        let e = parse_tmy3("t", &lines.join("\n")).unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (7, DRY_BULB_COLUMN));
        assert!(e.message.contains("found \"\""), "{e}");

        // Wrong row counts.
        let e = parse_tmy3("t", &synthetic(100)).unwrap_err();
        assert_eq!(e.line, 103);
        assert!(e.message.contains("found 100"), "{e}");
        let e = parse_tmy3("t", &synthetic(HOURS_PER_YEAR + 1)).unwrap_err();
        assert_eq!(e.line, HOURS_PER_YEAR + 3);
        assert!(e.message.contains("more than 8760"), "{e}");

        // Unbalanced quote and other junk never panic.
        for junk in ["\"", "a\n\"b", "\u{0}\n,,,\n\"\"\"", ",\n,\n,\n"] {
            assert!(parse_tmy3("t", junk).is_err(), "{junk:?}");
        }
    }
}
