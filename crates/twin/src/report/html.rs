//! The self-contained HTML report: inline CSS and SVG, no scripts, no
//! external assets.

use std::fmt::Write as _;

use super::format::{
    METRICS, SpreadRow, duration, figures, html_escape as esc, spread_row, thousands,
};
use super::plots::Plot;
use crate::metrics::{RunOutput, Spread, Summary};

const STYLE: &str = r#"
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f5f6f8; color: #222; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1320px; margin: 0 auto; padding: 28px 32px 48px; }
header { border-bottom: 3px solid #1f77b4; padding-bottom: 12px; margin-bottom: 20px; }
h1 { font-size: 26px; margin: 0 0 6px; overflow-wrap: anywhere; }
h1 small { display: block; font-size: 13px; font-weight: 600; color: #1f77b4; letter-spacing: .08em; text-transform: uppercase; }
h2 { font-size: 18px; margin: 28px 0 10px; }
.meta { margin: 0; color: #555; }
.meta b { color: #222; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(240px, 1fr)); gap: 12px; }
.card { background: #fff; border: 1px solid #e1e4e8; border-radius: 8px; padding: 12px 14px; }
.card .v { font-size: 24px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; font-weight: 650; font-variant-numeric: tabular-nums; }
.card .k { color: #666; font-size: 13px; }
.cols { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 0 28px; align-items: start; }
table { border-collapse: collapse; background: #fff; border: 1px solid #e1e4e8; width: 100%; }
th, td { padding: 5px 10px; border-bottom: 1px solid #eceef1; text-align: left; }
th { background: #f0f2f5; font-weight: 600; font-size: 13px; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.u { color: #666; white-space: nowrap; }
td.k { white-space: nowrap; }
tr.group td { background: #fafbfc; font-weight: 600; color: #1f77b4; font-size: 13px; text-transform: uppercase; letter-spacing: .05em; }
ul.traces { margin: 0; padding-left: 20px; }
ul.traces li { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; overflow-wrap: anywhere; }
.none { color: #777; font-style: italic; }
.plots { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 18px; }
figure { margin: 0; background: #fff; border: 1px solid #e1e4e8; border-radius: 8px; padding: 12px 12px 10px; }
figure h3 { margin: 0 0 4px; font-size: 15px; }
figure svg { display: block; width: 100%; height: auto; }
figcaption { color: #666; font-size: 13px; margin-top: 4px; }
footer { margin-top: 32px; color: #888; font-size: 12px; }
"#;

/// A number of days, without decimals when whole.
fn days(d: f64) -> String {
    if d.fract() == 0.0 {
        thousands(d, 0)
    } else {
        thousands(d, 2)
    }
}

fn opt(v: Option<f64>, scale: f64, decimals: usize) -> String {
    v.map_or_else(|| "–".to_owned(), |v| thousands(v * scale, decimals))
}

fn or_dash(text: &str) -> &str {
    if text.trim().is_empty() { "–" } else { text }
}

fn header(out: &mut String, s: &Summary) {
    let _ = write!(
        out,
        r#"<header><h1><small>abilene digital twin</small>{scenario}</h1>
<p class="meta">Campus <b>{campus}</b> · seed <b>{seed}</b> · start <b>{start}</b> · <b>{days}</b> day{plural}</p></header>
"#,
        scenario = esc(or_dash(&s.scenario)),
        campus = esc(or_dash(&s.campus)),
        seed = s.seed,
        start = esc(or_dash(&s.start)),
        days = days(s.days),
        plural = if s.days == 1.0 { "" } else { "s" },
    );
}

fn cards(out: &mut String, run: &RunOutput) {
    let s = &run.summary;
    let completed = run.jobs.iter().filter(|j| j.completed).count();
    let cards = [
        (
            format!("{} %", thousands(s.utilisation * 100.0, 1)),
            "utilisation",
        ),
        (format!("{} %", thousands(s.goodput * 100.0, 1)), "goodput"),
        (
            s.ettr.map_or_else(
                || "n/a".to_owned(),
                |e| format!("{} %", thousands(e * 100.0, 1)),
            ),
            "ETTR, GPU-hour weighted",
        ),
        (thousands(s.pue_mean, 3), "mean PUE"),
        (
            format!("{} MW", thousands(s.peak_facility_mw, 1)),
            "peak facility load",
        ),
        (
            format!("${}", thousands(s.energy_cost_usd, 0)),
            "energy cost",
        ),
        (format!("${}", thousands(s.revenue_usd, 0)), "revenue"),
        (
            s.cost_per_delivered_gpu_hour_usd
                .map_or_else(|| "–".to_owned(), |c| format!("${}", thousands(c, 2))),
            "per delivered GPU-hour",
        ),
        (
            format!(
                "{} / {}",
                thousands(completed as f64, 0),
                thousands(run.jobs.len() as f64, 0)
            ),
            "jobs completed / recorded",
        ),
    ];
    out.push_str("<section class=\"cards\">\n");
    for (value, key) in cards {
        let _ = writeln!(
            out,
            r#"<div class="card"><div class="v">{}</div><div class="k">{}</div></div>"#,
            esc(&value),
            key
        );
    }
    out.push_str("</section>\n");
}

/// What the headline figures mean, from their one definition.
fn definitions(out: &mut String) {
    out.push_str("<h2>Definitions</h2>\n<ul class=\"defs\">\n");
    for d in [
        crate::metrics::UTILISATION,
        crate::metrics::GOODPUT,
        crate::metrics::ETTR,
    ] {
        let _ = writeln!(out, "<li>{}</li>", esc(d));
    }
    out.push_str("</ul>\n");
}

fn traces(out: &mut String, s: &Summary) {
    out.push_str("<h2>Traces replayed</h2>\n");
    if s.traces.is_empty() {
        out.push_str("<p class=\"none\">None: synthetic workload only.</p>\n");
        return;
    }
    out.push_str("<ul class=\"traces\">\n");
    for t in &s.traces {
        let _ = writeln!(out, "<li>{}</li>", esc(t));
    }
    out.push_str("</ul>\n");
}

/// The summary table: each figure's value, or with `spreads` (several
/// seeds) its mean over the seeds and 90% interval ("n/a" when undefined
/// in every seed); spreads that name no figure follow in their own table.
fn summary_table(out: &mut String, s: &Summary, spreads: &[Spread]) {
    let rows: Vec<SpreadRow> = spreads.iter().map(spread_row).collect();
    let seeds = spreads.iter().map(|r| r.seeds).max().unwrap_or(0);
    if rows.is_empty() {
        out.push_str(
            "<div><h2>Summary</h2>\n<table>\n<thead><tr><th>Figure</th><th class=\"n\">Value</th><th>Unit</th></tr></thead>\n<tbody>\n",
        );
    } else {
        let _ = write!(
            out,
            "<div><h2>Summary over {seeds} seeds</h2>\n<table>\n<thead><tr><th>Figure</th><th class=\"n\">Mean</th><th class=\"n\">90% interval (p5 – p95)</th><th>Unit</th></tr></thead>\n<tbody>\n",
        );
    }
    let cols = if rows.is_empty() { 3 } else { 4 };
    let mut group = "";
    for (f, m) in figures(s).into_iter().zip(METRICS) {
        if f.group != group {
            group = f.group;
            let _ = writeln!(
                out,
                "<tr class=\"group\"><td colspan=\"{cols}\">{group}</td></tr>"
            );
        }
        if rows.is_empty() {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"u\">{}</td></tr>",
                f.label,
                esc(&f.value),
                esc(f.unit)
            );
            continue;
        }
        let (mean, interval) = match rows.iter().find(|r| r.figure && r.key == m.key) {
            Some(r) => (r.mean.clone(), html_interval(r)),
            None => (f.value.clone(), "–".to_owned()),
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"u\">{}</td></tr>",
            f.label,
            esc(&mean),
            esc(&interval),
            esc(f.unit)
        );
    }
    out.push_str("</tbody>\n</table></div>\n");
}

fn html_interval(r: &SpreadRow) -> String {
    if r.p5 == "n/a" {
        "n/a".to_owned()
    } else {
        format!("{} – {}", r.p5, r.p95)
    }
}

/// Spreads that name no figure of the summary.
fn spreads_table(out: &mut String, spreads: &[Spread]) {
    let rows: Vec<SpreadRow> = spreads
        .iter()
        .map(spread_row)
        .filter(|r| !r.figure)
        .collect();
    if rows.is_empty() {
        return;
    }
    out.push_str(
        "<div><h2>Other figures over seeds</h2>\n<table>\n<thead><tr><th>Figure</th><th class=\"n\">Mean</th><th class=\"n\">90% interval (p5 – p95)</th><th>Unit</th></tr></thead>\n<tbody>\n",
    );
    for r in &rows {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"u\">{}</td></tr>",
            esc(&r.label),
            esc(&r.mean),
            esc(&html_interval(r)),
            esc(r.unit)
        );
    }
    out.push_str("</tbody>\n</table></div>\n");
}

fn by_size(out: &mut String, s: &Summary) {
    out.push_str("<div><h2>Reliability by job size</h2>\n");
    if s.by_size.is_empty() {
        out.push_str("<p class=\"none\">No jobs.</p></div>\n");
        return;
    }
    out.push_str(
        "<table>\n<thead><tr><th>GPUs per job</th><th class=\"n\">Jobs</th><th class=\"n\">Interruptions</th><th class=\"n\">Job hours</th><th class=\"n\">MTTF (h)</th><th class=\"n\">Mean ETTR (%)</th></tr></thead>\n<tbody>\n",
    );
    for b in &s.by_size {
        let _ = writeln!(
            out,
            "<tr><td class=\"k\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&b.gpus),
            thousands(f64::from(b.jobs), 0),
            thousands(f64::from(b.interruptions), 0),
            thousands(b.job_hours, 1),
            opt(b.mttf_hours, 1.0, 1),
            opt(b.ettr_mean, 100.0, 1),
        );
    }
    out.push_str("</tbody>\n</table></div>\n");
}

fn waits(out: &mut String, s: &Summary) {
    out.push_str("<div><h2>Queue waits by tenant</h2>\n");
    if s.waits.is_empty() {
        out.push_str("<p class=\"none\">No jobs started.</p></div>\n");
        return;
    }
    out.push_str(
        "<table>\n<thead><tr><th>Tenant</th><th class=\"n\">Jobs</th><th class=\"n\">p50 wait</th><th class=\"n\">p90 wait</th><th class=\"n\">p99 wait</th></tr></thead>\n<tbody>\n",
    );
    for w in &s.waits {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&w.tenant),
            thousands(f64::from(w.jobs), 0),
            esc(&duration(w.p50_s)),
            esc(&duration(w.p90_s)),
            esc(&duration(w.p99_s)),
        );
    }
    out.push_str("</tbody>\n</table></div>\n");
}

/// The whole report page.
pub(crate) fn page(run: &RunOutput, spreads: &[Spread], plots: &[Plot]) -> String {
    let s = &run.summary;
    let mut out =
        String::with_capacity(64 * 1024 + plots.iter().map(|p| p.svg.len()).sum::<usize>());
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{} · {} · seed {} · abilene</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
        esc(&s.scenario),
        esc(&s.campus),
        s.seed
    );
    header(&mut out, s);
    cards(&mut out, run);
    if !spreads.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"meta\">The summary table gives means over the seeds with 90% intervals; the cards, the tables by job size and tenant, and the plots are of the first seed, {}.</p>",
            s.seed
        );
    }
    traces(&mut out, s);
    out.push_str("<section class=\"cols\">\n");
    summary_table(&mut out, s, spreads);
    spreads_table(&mut out, spreads);
    out.push_str("</section>\n<section class=\"cols\">\n");
    by_size(&mut out, s);
    waits(&mut out, s);
    out.push_str("</section>\n");
    definitions(&mut out);
    out.push_str("<h2>Plots</h2>\n<section class=\"plots\">\n");
    for p in plots {
        let _ = write!(
            out,
            "<figure id=\"{}\">\n<h3>{}</h3>\n{}<figcaption>{}</figcaption>\n</figure>\n",
            p.id,
            esc(p.title),
            p.svg,
            esc(&p.note)
        );
    }
    let _ = write!(
        out,
        "</section>\n<footer>abilene twin · {} hourly rows · {} job records · simulated in {} s wall time</footer>\n</main>\n</body>\n</html>\n",
        thousands(run.hourly.len() as f64, 0),
        thousands(run.jobs.len() as f64, 0),
        thousands(s.wall_seconds, 1),
    );
    out
}
