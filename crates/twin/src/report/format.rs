//! Number, duration and text formatting shared by the terminal table, the
//! HTML report and the plots, and the catalogue of summary figures with
//! their labels and units.

use crate::metrics::{Spread, Summary};

/// One figure of the [`Summary`]: how to label it, its unit and precision.
pub(crate) struct Metric {
    /// The `Summary` field name (and the name a [`Spread`] is expected to use).
    pub key: &'static str,
    pub group: &'static str,
    pub label: &'static str,
    pub unit: &'static str,
    /// The value shown is the field times `scale` (100 for fractions in %).
    pub scale: f64,
    pub decimals: usize,
}

const fn m(
    key: &'static str,
    group: &'static str,
    label: &'static str,
    unit: &'static str,
    scale: f64,
    decimals: usize,
) -> Metric {
    Metric {
        key,
        group,
        label,
        unit,
        scale,
        decimals,
    }
}

const COMPUTE: &str = "Compute";
const ENERGY: &str = "Energy";
const MONEY: &str = "Money";
const RUN: &str = "Run";

/// Every numeric figure of the summary, in display order.
pub(crate) const METRICS: &[Metric] = &[
    m("utilisation", COMPUTE, "Utilisation", "%", 100.0, 1),
    m("goodput", COMPUTE, "Goodput", "%", 100.0, 1),
    m("ettr", COMPUTE, "ETTR (GPU-hour weighted)", "%", 100.0, 1),
    m("ettr_mean", COMPUTE, "ETTR, mean of jobs", "%", 100.0, 1),
    m(
        "mean_slowdown",
        COMPUTE,
        "Mean placement slowdown",
        "x",
        1.0,
        3,
    ),
    m("interruptions", COMPUTE, "Job interruptions", "", 1.0, 0),
    m("failures", COMPUTE, "Failures (all causes)", "", 1.0, 0),
    m(
        "spare_exhaustions",
        COMPUTE,
        "Runs left without warm spares",
        "",
        1.0,
        0,
    ),
    m("energy_mwh", ENERGY, "Facility energy", "MWh", 1.0, 1),
    m("peak_it_mw", ENERGY, "Peak IT load", "MW", 1.0, 1),
    m(
        "peak_facility_mw",
        ENERGY,
        "Peak facility load",
        "MW",
        1.0,
        1,
    ),
    m("pue_mean", ENERGY, "PUE, mean", "", 1.0, 3),
    m("pue_min", ENERGY, "PUE, min", "", 1.0, 3),
    m("pue_max", ENERGY, "PUE, max", "", 1.0, 3),
    m("grid_mwh", ENERGY, "Grid energy", "MWh", 1.0, 1),
    m("gas_mwh", ENERGY, "Gas generation", "MWh", 1.0, 1),
    m("emissions_t", ENERGY, "Emissions", "t CO2e", 1.0, 1),
    m(
        "four_cp_hours_curtailed",
        ENERGY,
        "4CP hours curtailed",
        "h",
        1.0,
        0,
    ),
    m("energy_cost_usd", MONEY, "Energy cost", "USD", 1.0, 0),
    m(
        "capex_depreciation_usd",
        MONEY,
        "Capex depreciation",
        "USD",
        1.0,
        0,
    ),
    m("financing_usd", MONEY, "Financing", "USD", 1.0, 0),
    m("opex_usd", MONEY, "Opex", "USD", 1.0, 0),
    m("revenue_usd", MONEY, "Revenue", "USD", 1.0, 0),
    m(
        "cost_per_delivered_gpu_hour_usd",
        MONEY,
        "Cost per delivered GPU-hour",
        "USD/GPU-h",
        1.0,
        2,
    ),
    m("wall_seconds", RUN, "Simulation wall time", "s", 1.0, 1),
];

/// The raw value of a metric in `s` (None for an absent optional figure).
pub(crate) fn metric_value(s: &Summary, key: &str) -> Option<f64> {
    Some(match key {
        "utilisation" => s.utilisation,
        "goodput" => s.goodput,
        "ettr" => s.ettr?,
        "ettr_mean" => s.ettr_mean?,
        "mean_slowdown" => s.mean_slowdown,
        "interruptions" => f64::from(s.interruptions),
        "spare_exhaustions" => f64::from(s.spare_exhaustions),
        "failures" => f64::from(s.failures),
        "energy_mwh" => s.energy_mwh,
        "peak_it_mw" => s.peak_it_mw,
        "peak_facility_mw" => s.peak_facility_mw,
        "pue_mean" => s.pue_mean,
        "pue_min" => s.pue_min,
        "pue_max" => s.pue_max,
        "grid_mwh" => s.grid_mwh,
        "gas_mwh" => s.gas_mwh,
        "emissions_t" => s.emissions_t,
        "four_cp_hours_curtailed" => f64::from(s.four_cp_hours_curtailed),
        "energy_cost_usd" => s.energy_cost_usd,
        "capex_depreciation_usd" => s.capex_depreciation_usd,
        "financing_usd" => s.financing_usd,
        "opex_usd" => s.opex_usd,
        "revenue_usd" => s.revenue_usd,
        "cost_per_delivered_gpu_hour_usd" => s.cost_per_delivered_gpu_hour_usd?,
        "wall_seconds" => s.wall_seconds,
        _ => return None,
    })
}

/// A summary figure ready to print: label, formatted value and unit.
pub(crate) struct Figure {
    pub group: &'static str,
    pub label: &'static str,
    pub value: String,
    pub unit: &'static str,
}

/// All summary figures, formatted.
pub(crate) fn figures(s: &Summary) -> Vec<Figure> {
    METRICS
        .iter()
        .map(|m| Figure {
            group: m.group,
            label: m.label,
            value: metric_value(s, m.key)
                .map_or_else(|| "n/a".to_owned(), |v| thousands(v * m.scale, m.decimals)),
            unit: m.unit,
        })
        .collect()
}

/// A spread formatted with the label, unit and precision of the summary
/// figure it names (matched by field name or label, ignoring case, spaces
/// and dashes); an unknown name is shown as is with a precision that suits
/// its magnitude.
pub(crate) struct SpreadRow {
    /// The spread's name, normalised: a figure's key when it names one.
    pub key: String,
    /// Whether it names a figure of the summary.
    pub figure: bool,
    pub label: String,
    pub mean: String,
    pub p5: String,
    pub p95: String,
    pub unit: &'static str,
}

fn normalise(name: &str) -> String {
    name.trim()
        .chars()
        .map(|c| match c {
            ' ' | '-' | '.' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

pub(crate) fn spread_row(spread: &Spread) -> SpreadRow {
    let key = normalise(&spread.name);
    let metric = METRICS
        .iter()
        .find(|m| m.key == key || normalise(m.label) == key);
    let (label, unit, scale, decimals) = match metric {
        Some(m) => {
            // A mean over seeds of a count is not a whole number.
            let count = matches!(
                m.key,
                "interruptions" | "failures" | "spare_exhaustions" | "four_cp_hours_curtailed"
            );
            let decimals = if count { 1 } else { m.decimals };
            (m.label.to_owned(), m.unit, m.scale, decimals)
        }
        None => {
            let mag = [spread.mean, spread.p5, spread.p95]
                .iter()
                .flatten()
                .fold(0.0_f64, |m, v| m.max(v.abs()));
            (spread.name.clone(), "", 1.0, auto_decimals(mag))
        }
    };
    let show =
        |v: Option<f64>| v.map_or_else(|| "n/a".to_owned(), |v| thousands(v * scale, decimals));
    SpreadRow {
        key: metric.map_or(key, |m| m.key.to_owned()),
        figure: metric.is_some(),
        label,
        mean: show(spread.mean),
        p5: show(spread.p5),
        p95: show(spread.p95),
        unit,
    }
}

impl SpreadRow {
    /// "[p5, p95]", or "n/a" when the figure is undefined in every seed.
    pub fn interval(&self) -> String {
        if self.p5 == "n/a" {
            "n/a".to_owned()
        } else {
            format!("[{}, {}]", self.p5, self.p95)
        }
    }
}

/// Decimals that show about three significant figures of `magnitude`.
pub(crate) fn auto_decimals(magnitude: f64) -> usize {
    if magnitude >= 100.0 {
        0
    } else if magnitude >= 10.0 {
        1
    } else if magnitude >= 1.0 {
        2
    } else {
        3
    }
}

/// `x` with `decimals` decimals and a comma between thousands:
/// `thousands(-1234567.891, 2)` is `"-1,234,567.89"`. Non-finite values are
/// written as "n/a", "inf" or "-inf".
pub fn thousands(x: f64, decimals: usize) -> String {
    if x.is_nan() {
        return "n/a".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    let text = format!("{:.*}", decimals, x.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut out = String::with_capacity(text.len() + text.len() / 3 + 1);
    // "-0.00" reads oddly: only show the sign of something that is not zero.
    if x < 0.0 && text.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
        out.push('-');
    }
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// A short number for axis ticks and captions: thousands separators, at most
/// two decimals and no trailing zeros (`1200` → "1,200", `0.50` → "0.5").
pub(crate) fn compact(x: f64) -> String {
    let decimals = if x.abs() >= 100.0 {
        0
    } else if x.abs() >= 10.0 {
        1
    } else {
        2
    };
    let mut s = thousands(x, decimals);
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    if s == "-0" { "0".to_owned() } else { s }
}

/// A duration for people: "45 s", "12.5 min", "3.2 h", "2.1 d".
pub(crate) fn duration(seconds: f64) -> String {
    if !seconds.is_finite() {
        return "n/a".to_owned();
    }
    let a = seconds.abs();
    if a < 90.0 {
        format!("{} s", thousands(seconds, 0))
    } else if a < 90.0 * 60.0 {
        format!("{} min", thousands(seconds / 60.0, 1))
    } else if a < 48.0 * 3600.0 {
        format!("{} h", thousands(seconds / 3600.0, 1))
    } else {
        format!("{} d", thousands(seconds / 86_400.0, 1))
    }
}

/// Escapes text for HTML element content and attribute values.
pub(crate) fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
