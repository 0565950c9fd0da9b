//! The report's charts, drawn with plotters into SVG strings.
//!
//! Every chart has the same size and layout: a legend strip at the top, the
//! plotting area below with the y axis on the left. A chart without data says
//! "no data" instead.

use std::error::Error;
use std::ops::Range;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::format::compact;
use crate::metrics::{HourRow, TenantWaits};

const WIDTH: u32 = 640;
const HEIGHT: u32 = 330;
const LEGEND_H: u32 = 30;
const Y_LABEL_W: u32 = 72;
const X_LABEL_H: u32 = 44;
const FONT: &str = "sans-serif";

const TEXT: RGBColor = RGBColor(51, 51, 51);
const MUTED: RGBColor = RGBColor(140, 140, 140);
const GRID: RGBColor = RGBColor(228, 228, 228);
const AXIS: RGBColor = RGBColor(120, 120, 120);

const BLUE: RGBColor = RGBColor(31, 119, 180);
const ORANGE: RGBColor = RGBColor(255, 127, 14);
const GREEN: RGBColor = RGBColor(44, 160, 44);
const RED: RGBColor = RGBColor(214, 39, 40);
const PURPLE: RGBColor = RGBColor(148, 103, 189);

type Root<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type DrawResult = Result<(), Box<dyn Error>>;

/// One chart of the report.
pub(crate) struct Plot {
    /// Short stable identifier, used as the HTML element id.
    pub id: &'static str,
    pub title: &'static str,
    /// A sentence under the chart saying what it shows.
    pub note: String,
    pub svg: String,
}

/// How a legend entry is drawn.
#[derive(Clone, Copy)]
enum Mark {
    Line,
    Box,
    Dot,
}

/// A named line. Points with a non-finite y break the line. A long series
/// is drawn as the means of buckets of hours with their range shaded.
struct Line {
    label: String,
    color: RGBColor,
    points: Vec<(f64, f64)>,
    /// Per point, the lowest and highest value of its bucket; empty when the
    /// points are not aggregated.
    range: Vec<(f64, f64)>,
}

/// Series longer than this are aggregated into buckets (a chart is only
/// about 550 pixels wide).
const MAX_POINTS: usize = 1_200;

/// Hours per bucket for a series of `n` hourly points: whole days once the
/// series is long enough to need aggregating, 1 (no aggregation) otherwise.
pub(crate) fn bucket_hours(n: usize) -> usize {
    if n <= MAX_POINTS {
        1
    } else {
        n.div_ceil(MAX_POINTS / 2).div_ceil(24) * 24
    }
}

fn line(label: &str, color: RGBColor, points: Vec<(f64, f64)>) -> Line {
    let bucket = bucket_hours(points.len());
    if bucket == 1 {
        return Line {
            label: label.to_owned(),
            color,
            points,
            range: Vec::new(),
        };
    }
    let (points, range) = points
        .chunks(bucket)
        .map(|c| {
            let x = (c[0].0 + c[c.len() - 1].0) / 2.0;
            let (mut n, mut sum, mut lo, mut hi) = (0, 0.0, f64::INFINITY, f64::NEG_INFINITY);
            for &(_, y) in c.iter().filter(|p| p.1.is_finite()) {
                n += 1;
                sum += y;
                lo = lo.min(y);
                hi = hi.max(y);
            }
            if n == 0 {
                ((x, f64::NAN), (f64::NAN, f64::NAN))
            } else {
                ((x, sum / f64::from(n)), (lo, hi))
            }
        })
        .unzip();
    Line {
        label: label.to_owned(),
        color,
        points,
        range,
    }
}

/// The index ranges of the runs of finite points of `points`.
fn runs(points: &[(f64, f64)]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, p) in points.iter().enumerate() {
        match (p.0.is_finite() && p.1.is_finite(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push(s..i);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(s..points.len());
    }
    out
}

/// Draws a chart into an SVG string.
fn render(draw: impl FnOnce(&Root<'_>) -> DrawResult) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        draw(&root).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

fn no_data(root: &Root<'_>) -> DrawResult {
    root.draw(&Text::new(
        "no data",
        ((WIDTH / 2) as i32, (HEIGHT / 2) as i32),
        (FONT, 28)
            .into_font()
            .color(&MUTED)
            .pos(Pos::new(HPos::Center, VPos::Center)),
    ))?;
    Ok(())
}

/// Draws the legend along the top of the chart, aligned with the plotting
/// area.
fn legend(root: &Root<'_>, entries: &[(&str, RGBColor, Mark)]) -> DrawResult {
    let font = (FONT, 17).into_font().color(&TEXT);
    let y = (LEGEND_H / 2) as i32;
    let mut x = Y_LABEL_W as i32 + 4;
    for &(label, color, mark) in entries {
        match mark {
            Mark::Line => {
                root.draw(&PathElement::new(
                    vec![(x, y), (x + 20, y)],
                    color.stroke_width(3),
                ))?;
            }
            Mark::Box => {
                root.draw(&Rectangle::new(
                    [(x + 3, y - 6), (x + 17, y + 6)],
                    color.filled(),
                ))?;
            }
            Mark::Dot => {
                root.draw(&Circle::new((x + 10, y), 4, color.filled()))?;
            }
        }
        root.draw(&Text::new(
            label.to_owned(),
            (x + 26, y),
            font.clone().pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        // plotters over-estimates the width of proportional text.
        let (w, _) = root.estimate_text_size(label, &font)?;
        x += 26 + (f64::from(w) * 0.8) as i32 + 22;
    }
    Ok(())
}

/// A range covering `values` with some headroom; `from_zero` anchors it at 0
/// (or below, for negative values). Never empty.
fn span(values: impl IntoIterator<Item = f64>, from_zero: bool) -> Option<Range<f64>> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.into_iter().filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        return None;
    }
    if from_zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    let pad = if hi > lo {
        (hi - lo) * 0.06
    } else {
        lo.abs().max(1.0) * 0.1
    };
    if !from_zero || lo < 0.0 {
        lo -= pad;
    }
    if !from_zero || hi > 0.0 || hi == lo {
        hi += pad;
    }
    Some(lo..hi)
}

/// The x range of an hourly chart: from the start to the end of the last
/// hour, in days.
fn day_span(hours: &[HourRow]) -> Range<f64> {
    let end = hours.iter().map(|h| h.hour + 1).max().unwrap_or(1);
    0.0..f64::from(end) / 24.0
}

fn day(h: &HourRow) -> f64 {
    f64::from(h.hour) / 24.0
}

/// Intervals of days shaded across the whole height of a chart.
#[derive(Clone, Copy)]
struct Shading<'a> {
    label: &'a str,
    color: RGBColor,
    spans: &'a [(f64, f64)],
}

/// A chart over days since the start with the given lines and, optionally,
/// shaded intervals.
fn line_chart(
    root: &Root<'_>,
    x: Range<f64>,
    y: Option<Range<f64>>,
    y_desc: &str,
    lines: &[Line],
    band: Option<Shading<'_>>,
) -> DrawResult {
    let Some(y) = y.or_else(|| {
        span(
            lines.iter().flat_map(|l| {
                l.points
                    .iter()
                    .map(|p| p.1)
                    .chain(l.range.iter().flat_map(|r| [r.0, r.1]))
            }),
            true,
        )
    }) else {
        return no_data(root);
    };
    if lines
        .iter()
        .all(|l| l.points.iter().all(|p| !p.1.is_finite()))
    {
        return no_data(root);
    }
    let mut entries: Vec<(&str, RGBColor, Mark)> = lines
        .iter()
        .map(|l| (l.label.as_str(), l.color, Mark::Line))
        .collect();
    if let Some(b) = band
        && !b.spans.is_empty()
    {
        entries.push((b.label, b.color, Mark::Box));
    }
    legend(root, &entries)?;
    let mut chart = chart(root, x, y.clone())?;
    mesh(&mut chart, "days since start", y_desc)?;
    if let Some(b) = band {
        chart.draw_series(b.spans.iter().map(|&(x0, x1)| {
            Rectangle::new([(x0, y.start), (x1, y.end)], b.color.mix(0.25).filled())
        }))?;
    }
    if y.start < 0.0 && y.end > 0.0 {
        let x = chart.x_range();
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(x.start, 0.0), (x.end, 0.0)],
            AXIS.stroke_width(1),
        )))?;
    }
    for l in lines {
        for run in runs(&l.points) {
            let points = &l.points[run.clone()];
            if !l.range.is_empty() && points.len() > 1 {
                let range = &l.range[run];
                let band: Vec<(f64, f64)> = points
                    .iter()
                    .zip(range)
                    .map(|(p, r)| (p.0, r.1))
                    .chain(points.iter().zip(range).rev().map(|(p, r)| (p.0, r.0)))
                    .collect();
                chart.draw_series(std::iter::once(Polygon::new(
                    band,
                    l.color.mix(0.22).filled(),
                )))?;
            }
            if let [p] = points {
                chart.draw_series(std::iter::once(Circle::new(*p, 2, l.color.filled())))?;
            } else {
                chart.draw_series(LineSeries::new(
                    points.iter().copied(),
                    l.color.stroke_width(2),
                ))?;
            }
        }
    }
    Ok(())
}

type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

fn chart<'a, 'b>(
    root: &'a Root<'b>,
    x: Range<f64>,
    y: Range<f64>,
) -> Result<Chart<'a, 'b>, Box<dyn Error>> {
    chart_sized(root, x, y, X_LABEL_H)
}

/// A chart below the legend strip, with `x_label_h` pixels for x labels.
fn chart_sized<'a, 'b>(
    root: &'a Root<'b>,
    x: Range<f64>,
    y: Range<f64>,
    x_label_h: u32,
) -> Result<Chart<'a, 'b>, Box<dyn Error>> {
    let (_, area) = root.split_vertically(LEGEND_H);
    Ok(ChartBuilder::on(&area)
        .margin_right(18)
        .margin_top(6)
        .x_label_area_size(x_label_h)
        .y_label_area_size(Y_LABEL_W)
        .build_cartesian_2d(x, y)?)
}

fn mesh(chart: &mut Chart<'_, '_>, x_desc: &str, y_desc: &str) -> DrawResult {
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_labels(9)
        .y_labels(6)
        .x_label_formatter(&|v| compact(*v))
        .y_label_formatter(&|v| compact(*v))
        .label_style((FONT, 16).into_font().color(&TEXT))
        .axis_desc_style((FONT, 17).into_font().color(&TEXT))
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(AXIS)
        .draw()?;
    Ok(())
}

/// Labels whole numbers only.
fn whole(v: &f64) -> String {
    if v.fract() == 0.0 {
        compact(*v)
    } else {
        String::new()
    }
}

fn ratio(num: f64, den: u64) -> f64 {
    if den == 0 {
        f64::NAN
    } else {
        100.0 * num / den as f64
    }
}

pub(crate) fn utilisation(hours: &[HourRow]) -> Result<String, String> {
    let busy = hours
        .iter()
        .map(|h| (day(h), ratio(h.gpus_busy, h.gpus_online)))
        .collect();
    let productive = hours
        .iter()
        .map(|h| (day(h), ratio(h.gpus_productive, h.gpus_online)))
        .collect();
    let lines = [
        line("utilisation (busy / online)", BLUE, busy),
        line("goodput (productive / online)", GREEN, productive),
    ];
    let top = lines
        .iter()
        .flat_map(|l| {
            l.points
                .iter()
                .map(|p| p.1)
                .chain(l.range.iter().map(|r| r.1))
        })
        .filter(|v| v.is_finite())
        .fold(100.0_f64, f64::max);
    render(|root| {
        line_chart(
            root,
            day_span(hours),
            Some(0.0..top * 1.04),
            "% of online GPUs",
            &lines,
            None,
        )
    })
}

pub(crate) fn power(hours: &[HourRow]) -> Result<String, String> {
    let lines = [
        line(
            "facility",
            ORANGE,
            hours.iter().map(|h| (day(h), h.facility_mw)).collect(),
        ),
        line(
            "IT",
            BLUE,
            hours.iter().map(|h| (day(h), h.it_mw)).collect(),
        ),
    ];
    render(|root| line_chart(root, day_span(hours), None, "MW", &lines, None))
}

/// PUE is only meaningful in hours with an IT load.
fn pue(h: &HourRow) -> f64 {
    if h.it_mw > 0.0 && h.pue > 0.0 {
        h.pue
    } else {
        f64::NAN
    }
}

pub(crate) fn pue_series(hours: &[HourRow]) -> Result<String, String> {
    let lines = [line(
        "PUE (facility / IT)",
        PURPLE,
        hours.iter().map(|h| (day(h), pue(h))).collect(),
    )];
    let y = span(
        lines[0]
            .points
            .iter()
            .map(|p| p.1)
            .chain(lines[0].range.iter().flat_map(|r| [r.0, r.1])),
        false,
    );
    render(|root| line_chart(root, day_span(hours), y, "PUE", &lines, None))
}

pub(crate) fn ambient_vs_pue(hours: &[HourRow]) -> Result<String, String> {
    let points: Vec<(f64, f64)> = hours
        .iter()
        .map(|h| (h.ambient_c, pue(h)))
        .filter(|p| p.0.is_finite() && p.1.is_finite())
        .collect();
    render(|root| {
        let (Some(x), Some(y)) = (
            span(points.iter().map(|p| p.0), false),
            span(points.iter().map(|p| p.1), false),
        ) else {
            return no_data(root);
        };
        legend(root, &[("one simulated hour", PURPLE, Mark::Dot)])?;
        let mut chart = chart(root, x, y)?;
        mesh(&mut chart, "ambient temperature (°C)", "PUE")?;
        // Hours that would land on the same spot are drawn once, so a long
        // run stays a light file.
        let mut seen = std::collections::HashSet::new();
        let dots: Vec<(f64, f64)> = points
            .iter()
            .copied()
            .filter(|p| {
                let (x, y) = chart.backend_coord(p);
                seen.insert((x / 2, y / 2))
            })
            .collect();
        chart.draw_series(
            dots.into_iter()
                .map(|p| Circle::new(p, 3, PURPLE.mix(0.8).filled())),
        )?;
        Ok(())
    })
}

pub(crate) fn failures_per_day(hours: &[HourRow]) -> Result<String, String> {
    let days = day_span(hours).end.ceil() as usize;
    let mut per_day = vec![0_u64; days];
    for h in hours {
        per_day[(h.hour / 24) as usize] += u64::from(h.failures);
    }
    render(|root| {
        if hours.is_empty() {
            return no_data(root);
        }
        let max = per_day.iter().copied().max().unwrap_or(0) as f64;
        let top = (max * 1.12).ceil().max(5.0);
        legend(root, &[("failures in the day", RED, Mark::Box)])?;
        let mut chart = chart(root, 0.0..days as f64, 0.0..top)?;
        chart
            .configure_mesh()
            .x_desc("days since start")
            .y_desc("failures per day")
            .x_labels(9)
            .y_labels(6)
            // Whole days and failures only.
            .x_label_formatter(&whole)
            .y_label_formatter(&whole)
            .label_style((FONT, 16).into_font().color(&TEXT))
            .axis_desc_style((FONT, 17).into_font().color(&TEXT))
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .axis_style(AXIS)
            .draw()?;
        let gap = if days > 60 { 0.0 } else { 0.12 };
        chart.draw_series(
            per_day
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(d, &n)| {
                    let d = d as f64;
                    Rectangle::new([(d + gap, 0.0), (d + 1.0 - gap, n as f64)], RED.filled())
                }),
        )?;
        Ok(())
    })
}

pub(crate) fn sources(hours: &[HourRow]) -> Result<String, String> {
    let lines = [
        line(
            "grid",
            BLUE,
            hours.iter().map(|h| (day(h), h.grid_mw)).collect(),
        ),
        line(
            "gas",
            ORANGE,
            hours.iter().map(|h| (day(h), h.gas_mw)).collect(),
        ),
        line(
            "battery (+ discharge)",
            GREEN,
            hours.iter().map(|h| (day(h), h.battery_mw)).collect(),
        ),
    ];
    let bands: Vec<(f64, f64)> = hours
        .iter()
        .filter(|h| h.four_cp)
        .map(|h| (day(h), day(h) + 1.0 / 24.0))
        .collect();
    render(|root| {
        line_chart(
            root,
            day_span(hours),
            None,
            "MW",
            &lines,
            Some(Shading {
                label: "4CP hour",
                color: RED,
                spans: &bands,
            }),
        )
    })
}

/// Cumulative energy cost and revenue, in USD, thousands or millions.
pub(crate) fn money(hours: &[HourRow]) -> Result<String, String> {
    let cumulative = |f: fn(&HourRow) -> f64| -> Vec<(f64, f64)> {
        let mut total = 0.0;
        hours
            .iter()
            .map(|h| {
                total += f(h);
                (day(h) + 1.0 / 24.0, total)
            })
            .collect()
    };
    let cost = cumulative(|h| h.energy_cost_usd);
    let revenue = cumulative(|h| h.revenue_usd);
    let max = cost
        .iter()
        .chain(&revenue)
        .map(|p| p.1.abs())
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let (scale, unit) = if max >= 2e6 {
        (1e6, "million USD")
    } else if max >= 2e3 {
        (1e3, "thousand USD")
    } else {
        (1.0, "USD")
    };
    let scaled = |v: Vec<(f64, f64)>| v.into_iter().map(|(x, y)| (x, y / scale)).collect();
    let lines = [
        line("revenue", GREEN, scaled(revenue)),
        line("energy cost", RED, scaled(cost)),
    ];
    render(|root| line_chart(root, day_span(hours), None, unit, &lines, None))
}

/// The most tenants the waits chart shows; the table lists them all.
pub(crate) const MAX_TENANTS: usize = 10;

/// Grouped bars of p50/p90/p99 queue waits for the tenants with most jobs.
pub(crate) fn waits(waits: &[TenantWaits]) -> Result<String, String> {
    let mut shown: Vec<&TenantWaits> = waits.iter().collect();
    shown.sort_by_key(|w| std::cmp::Reverse(w.jobs));
    shown.truncate(MAX_TENANTS);
    let max = shown
        .iter()
        .flat_map(|w| [w.p50_s, w.p90_s, w.p99_s])
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let (scale, unit) = if max >= 2.0 * 3600.0 {
        (3600.0, "queue wait (hours)")
    } else if max >= 120.0 {
        (60.0, "queue wait (minutes)")
    } else {
        (1.0, "queue wait (seconds)")
    };
    // Names go under their group of bars (about 7 pixels a character) if
    // they all fit, else they are written upwards, cut to ROTATED_CHARS; the
    // table lists them in full.
    const ROTATED_CHARS: usize = 16;
    let room = (WIDTH - Y_LABEL_W - 30) as usize / shown.len().max(1) / 7;
    let rotated = shown.iter().any(|w| w.tenant.chars().count() > room);
    let names: Vec<String> = shown
        .iter()
        .map(|w| {
            if !rotated || w.tenant.chars().count() <= ROTATED_CHARS {
                w.tenant.clone()
            } else {
                let cut: String = w.tenant.chars().take(ROTATED_CHARS - 1).collect();
                format!("{}…", cut.trim_end())
            }
        })
        .collect();
    render(|root| {
        if shown.is_empty() {
            return no_data(root);
        }
        legend(
            root,
            &[
                ("p50", BLUE, Mark::Box),
                ("p90", ORANGE, Mark::Box),
                ("p99", RED, Mark::Box),
            ],
        )?;
        let n = shown.len();
        let top = (max / scale * 1.1).max(1.0);
        let label_h = if rotated { 122 } else { X_LABEL_H };
        let mut chart = chart_sized(root, -0.5..n as f64 - 0.5, 0.0..top, label_h)?;
        let label = |v: &f64| {
            let i = v.round();
            if !rotated && (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < n {
                names[i as usize].clone()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .y_desc(unit)
            .x_labels(n)
            .y_labels(6)
            .x_label_formatter(&label)
            .y_label_formatter(&|v| compact(*v))
            .label_style((FONT, 16).into_font().color(&TEXT))
            .axis_desc_style((FONT, 17).into_font().color(&TEXT))
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .axis_style(AXIS)
            .draw()?;
        if rotated {
            let style = (FONT, 16)
                .into_font()
                .color(&TEXT)
                .transform(FontTransform::Rotate270)
                .pos(Pos::new(HPos::Right, VPos::Center));
            for (i, name) in names.iter().enumerate() {
                let (x, y) = chart.backend_coord(&(i as f64, 0.0));
                root.draw(&Text::new(name.clone(), (x, y + 8), style.clone()))?;
            }
        }
        let width = 0.8 / 3.0;
        for (i, w) in shown.iter().enumerate() {
            for (k, (v, color)) in [(w.p50_s, BLUE), (w.p90_s, ORANGE), (w.p99_s, RED)]
                .into_iter()
                .enumerate()
            {
                if !v.is_finite() || v <= 0.0 {
                    continue;
                }
                let x0 = i as f64 - 0.4 + k as f64 * width;
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x0 + 0.01, 0.0), (x0 + width - 0.01, v / scale)],
                    color.filled(),
                )))?;
            }
        }
        Ok(())
    })
}

/// All charts of a run, in report order; an error names the chart.
pub(crate) fn all(
    hours: &[HourRow],
    tenant_waits: &[TenantWaits],
) -> Result<Vec<Plot>, (&'static str, String)> {
    let four_cp = hours.iter().filter(|h| h.four_cp).count();
    let bucket = bucket_hours(hours.len());
    // Says how a long run's lines were aggregated.
    let lines = |note: &str| match bucket {
        1 => note.to_owned(),
        24 => format!("{note} Lines are daily means; the shading spans each day's range."),
        h => format!(
            "{note} Lines are means over {} days; the shading spans their range.",
            h / 24
        ),
    };
    let tenants_note = if tenant_waits.len() > MAX_TENANTS {
        format!(
            "Median, 90th and 99th percentile wait from submission to first start; the {MAX_TENANTS} tenants with most jobs of {}.",
            tenant_waits.len()
        )
    } else {
        "Median, 90th and 99th percentile wait from submission to first start.".to_owned()
    };
    Ok(vec![
        Plot {
            id: "utilisation",
            title: "Utilisation and goodput",
            note: lines(
                "GPUs held by jobs, and GPUs doing work that is kept, as a share of GPUs online (hourly means).",
            ),
            svg: utilisation(hours).map_err(|e| ("utilisation", e))?,
        },
        Plot {
            id: "power",
            title: "IT and facility power",
            note: lines("Hourly mean load; facility = IT + cooling + other."),
            svg: power(hours).map_err(|e| ("power", e))?,
        },
        Plot {
            id: "pue",
            title: "PUE",
            note: lines("Power usage effectiveness, facility over IT power, per hour."),
            svg: pue_series(hours).map_err(|e| ("pue", e))?,
        },
        Plot {
            id: "ambient-pue",
            title: "Ambient temperature vs PUE",
            note: "Each dot is one hour: hot hours cost more cooling.".to_owned(),
            svg: ambient_vs_pue(hours).map_err(|e| ("ambient-pue", e))?,
        },
        Plot {
            id: "failures",
            title: "Failures per day",
            note: "Failures of every cause (hardware and software) across the campus in each day of the run.".to_owned(),
            svg: failures_per_day(hours).map_err(|e| ("failures", e))?,
        },
        Plot {
            id: "sources",
            title: "Grid, gas and battery",
            note: lines(&match four_cp {
                0 => "Where the power came from; battery positive when discharging.".to_owned(),
                n => format!(
                    "Where the power came from; battery positive when discharging. {n} ERCOT 4CP hour{} shaded red.",
                    if n == 1 { "" } else { "s" }
                ),
            }),
            svg: sources(hours).map_err(|e| ("sources", e))?,
        },
        Plot {
            id: "money",
            title: "Cumulative energy cost and revenue",
            note: lines("Running totals from the start of the run."),
            svg: money(hours).map_err(|e| ("money", e))?,
        },
        Plot {
            id: "waits",
            title: "Queue waits by tenant",
            note: tenants_note,
            svg: waits(tenant_waits).map_err(|e| ("waits", e))?,
        },
    ])
}
