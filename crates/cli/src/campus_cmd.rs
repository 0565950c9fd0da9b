//! `abilene campus ...` and `abilene demo`.

use std::path::PathBuf;
use std::process::ExitCode;

use abilene_model::Campus;
use abilene_model::preset::PRESETS;
use abilene_model::summary::{CampusSummary, Figures};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};

use crate::format::{count, number, table};
use crate::out::{out, outln};

#[derive(Subcommand)]
pub enum CampusCommand {
    /// Show buildings, halls, racks, GPUs, power, cooling, compute and the phase timeline
    Show {
        #[command(flatten)]
        source: CampusSource,
        /// Print JSON for scripts instead of tables
        #[arg(long)]
        json: bool,
    },
    /// Check a campus file and list every problem with its file, line and field
    Validate {
        #[command(flatten)]
        source: CampusSource,
    },
    /// List the campuses shipped in the binary
    Presets,
    /// Print a preset's TOML, to copy and edit
    Export {
        /// Preset name (see `abilene campus presets`)
        name: String,
    },
}

/// Which campus: a shipped preset or a TOML file.
#[derive(Args, Clone)]
pub struct CampusSource {
    /// A preset shipped in the binary (see `abilene campus presets`)
    #[arg(long, conflicts_with = "file")]
    pub preset: Option<String>,
    /// A campus TOML file
    pub file: Option<PathBuf>,
}

impl CampusSource {
    /// The campus's name for messages and its TOML text.
    pub fn read(&self) -> Result<(String, String)> {
        match (&self.preset, &self.file) {
            (Some(name), _) => {
                let p = crate::presets::find(name)?;
                Ok((format!("{} (preset {name})", p.file), p.toml.to_string()))
            }
            (None, Some(path)) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read campus file {}", path.display()))?;
                Ok((path.display().to_string(), text))
            }
            (None, None) => bail!("name a campus: --preset NAME or a FILE"),
        }
    }

    /// Reads and builds the campus; on problems prints them all and returns None.
    pub fn load(&self) -> Result<Option<Campus>> {
        let (name, text) = self.read()?;
        match Campus::load_with(&name, &text, &abilene_twin::scenario::machine_limits()) {
            Ok(c) => Ok(Some(c)),
            Err(e) => {
                eprintln!("{e}");
                Ok(None)
            }
        }
    }
}

pub fn run(cmd: CampusCommand) -> Result<ExitCode> {
    match cmd {
        CampusCommand::Show { source, json } => {
            let Some(campus) = source.load()? else {
                return Ok(ExitCode::FAILURE);
            };
            let summary = campus.summary();
            if json {
                outln!("{}", serde_json::to_string_pretty(&summary)?);
            } else {
                out!("{}", render(&summary));
            }
            Ok(ExitCode::SUCCESS)
        }
        CampusCommand::Validate { source } => {
            let Some(campus) = source.load()? else {
                return Ok(ExitCode::FAILURE);
            };
            let s = campus.summary();
            outln!(
                "ok: {} buildings, {} halls, {} racks, {} GPUs",
                s.total.buildings,
                s.total.halls,
                count(s.total.racks),
                count(s.total.gpus)
            );
            Ok(ExitCode::SUCCESS)
        }
        CampusCommand::Presets => {
            let rows = PRESETS
                .iter()
                .map(|p| vec![p.name.to_string(), p.file.to_string(), p.about.to_string()])
                .collect();
            outln!("{}", table(&["preset", "file", "what"], rows, 3));
            Ok(ExitCode::SUCCESS)
        }
        CampusCommand::Export { name } => {
            let p = crate::presets::find(&name)?;
            out!("{}", p.toml);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn figure_cells(f: &Figures) -> Vec<String> {
    vec![
        count(u64::from(f.halls)),
        count(f.racks),
        count(f.trays),
        count(f.gpus),
        number(f.it_mw, 1),
        number(f.facility_mw, 1),
        number(f.power_capacity_mw, 1),
        number(f.cooling_capacity_mw, 1),
        number(f.peak_fp8_pflops / 1000.0, 1),
    ]
}

const FIGURE_HEADERS: [&str; 9] = [
    "halls",
    "racks",
    "trays",
    "GPUs",
    "IT MW",
    "facility MW",
    "power cap MW",
    "cooling MW",
    "FP8 EFLOPS",
];

/// The text report of `campus show`.
pub fn render(s: &CampusSummary) -> String {
    let mut out = String::new();
    let site = &s.site;
    out += &format!("{} — {}\n\n", s.name, s.location);
    out += &format!(
        "Site: grid interconnect {} MW, on-site gas {} MW, battery {} MW / {} MWh, design PUE {:.2}\n\n",
        number(site.grid_interconnect_mw, 1),
        number(site.gas_mw, 1),
        number(site.battery_mw, 1),
        number(site.battery_mwh, 1),
        site.design_pue
    );
    let mut header = vec!["building", "phase", "commissioned"];
    header.extend(FIGURE_HEADERS);
    let mut rows: Vec<Vec<String>> = s
        .buildings
        .iter()
        .map(|b| {
            let mut r = vec![b.name.clone(), b.phase.to_string(), b.commissioned.clone()];
            r.extend(figure_cells(&b.figures));
            r
        })
        .collect();
    let mut total = vec![
        format!("total ({})", s.total.buildings),
        String::new(),
        String::new(),
    ];
    total.extend(figure_cells(&s.total));
    rows.push(total);
    out += "Buildings (IT MW at rack maximum; facility MW = IT x design PUE; FP8 dense peak)\n";
    out += &table(&header, rows, 3);
    out += "\n\n";
    let t = &s.total;
    out += &format!(
        "Power: facility load {} MW of {} MW power-chain capacity ({} MW headroom for denser racks);\n\
         supply {} MW (grid + gas) covers it {}.\n",
        number(t.facility_mw, 1),
        number(t.power_capacity_mw, 1),
        number(t.power_capacity_mw - t.facility_mw, 1),
        number(site.supply_mw, 1),
        if site.supply_mw >= t.facility_mw {
            "with room"
        } else {
            "NOT"
        }
    );
    out += &format!(
        "Fabric: {} leaf, {} spine, {} super-spine switches.\n\n",
        count(s.fabric.leaves),
        count(s.fabric.spines),
        count(s.fabric.super_spines)
    );
    let mut header = vec!["date", "phase", "added"];
    header.extend([
        "buildings",
        "GPUs",
        "IT MW",
        "facility MW",
        "power cap MW",
        "FP8 EFLOPS",
    ]);
    let rows = s
        .timeline
        .iter()
        .map(|step| {
            let c = &step.cumulative;
            vec![
                step.date.clone(),
                step.phase.to_string(),
                step.added.join(" "),
                count(u64::from(c.buildings)),
                count(c.gpus),
                number(c.it_mw, 1),
                number(c.facility_mw, 1),
                number(c.power_capacity_mw, 1),
                number(c.peak_fp8_pflops / 1000.0, 1),
            ]
        })
        .collect();
    out += "Phase timeline (cumulative)\n";
    out += &table(&header, rows, 3);
    out += "\n";
    out
}
