//! The built campus: every building, hall, scalable unit, rack, tray and GPU
//! in flat arrays, addressed by the dense ids of [`crate::ids`].

use std::ops::Range;

use sha2::{Digest, Sha256};

use crate::catalog::{Catalog, SkuSpec};
use crate::cooling::CoolingCapacity;
use crate::date::Date;
use crate::diagnostic::{Diagnostic, LoadError, Source};
use crate::hall::HallLoad;
use crate::ids::*;
use crate::power::{self, Stage};
use crate::spec::CampusSpec;
use crate::validate::{Limits, validate_with};

/// Names the canonical form that [`Campus::fingerprint`] hashes; a new form
/// gets a new name, so it never collides with an old one.
const FINGERPRINT_FORM: &[u8] = b"abilene campus spec, TOML, v1\n";

#[derive(Debug, Clone)]
pub struct Building {
    pub name: String,
    pub phase: u32,
    pub commissioned: Date,
    pub halls: Range<u16>,
    pub racks: Range<u32>,
    pub trays: Range<u32>,
    pub gpus: Range<u32>,
}

#[derive(Debug, Clone)]
pub struct Hall {
    pub name: String,
    pub building: BuildingId,
    pub units: Range<u32>,
    pub racks: Range<u32>,
    pub load: HallLoad,
    pub power_capacity_mw: f64,
    pub power_bottleneck: Stage,
    pub cooling: CoolingCapacity,
}

/// A scalable unit: racks of one SKU under one group of leaf switches.
#[derive(Debug, Clone)]
pub struct Unit {
    pub hall: HallId,
    pub building: BuildingId,
    pub sku: SkuId,
    pub racks: Range<u32>,
}

#[derive(Debug, Clone)]
pub struct Rack {
    pub unit: UnitId,
    pub hall: HallId,
    pub building: BuildingId,
    pub sku: SkuId,
    pub trays: Range<u32>,
}

/// Where a tray sits, packed so that topology questions are a few compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tray {
    pub rack: RackId,
    pub domain: DomainId,
    pub unit: UnitId,
    pub hall: HallId,
    pub building: BuildingId,
    pub sku: SkuId,
    pub first_gpu: GpuId,
    pub gpus: u8,
    /// Position in its rack, 0-based.
    pub slot: u8,
}

/// A validated campus with its index of every GPU.
#[derive(Debug, Clone)]
pub struct Campus {
    pub spec: CampusSpec,
    pub catalog: Catalog,
    pub buildings: Vec<Building>,
    pub halls: Vec<Hall>,
    pub units: Vec<Unit>,
    pub racks: Vec<Rack>,
    pub trays: Vec<Tray>,
    /// The tray of each GPU.
    pub gpu_tray: Vec<TrayId>,
    pub domains: u32,
}

impl Campus {
    /// Parses, validates and builds a campus from TOML text; `name` is the
    /// file name used in error messages.
    pub fn load(name: &str, text: &str) -> Result<Campus, LoadError> {
        Campus::load_with(name, text, &Limits::default())
    }

    /// [`Campus::load`] on a machine with `limits`.
    pub fn load_with(name: &str, text: &str, limits: &Limits) -> Result<Campus, LoadError> {
        let source = Source::new(name, text);
        let spec: CampusSpec = crate::diagnostic::deserialize_all(&source)
            .map_err(|problems| LoadError { problems })?;
        Campus::build_with(spec, limits).map_err(|diags| LoadError {
            problems: diags.iter().map(|d| source.place(d)).collect(),
        })
    }

    /// Validates and builds a campus from its spec.
    pub fn build(spec: CampusSpec) -> Result<Campus, Vec<Diagnostic>> {
        Campus::build_with(spec, &Limits::default())
    }

    /// [`Campus::build`] on a machine with `limits`.
    pub fn build_with(spec: CampusSpec, limits: &Limits) -> Result<Campus, Vec<Diagnostic>> {
        let diags = validate_with(&spec, limits);
        if !diags.is_empty() {
            return Err(diags);
        }
        Ok(Builder::new(spec).finish())
    }

    pub fn sku(&self, id: SkuId) -> &SkuSpec {
        self.catalog.get(id)
    }

    pub fn tray(&self, id: TrayId) -> &Tray {
        &self.trays[id.index()]
    }

    pub fn gpu_count(&self) -> u32 {
        self.gpu_tray.len() as u32
    }

    pub fn tray_count(&self) -> u32 {
        self.trays.len() as u32
    }

    /// The GPUs of a tray, as a range of ids.
    pub fn tray_gpus(&self, id: TrayId) -> Range<u32> {
        let t = self.tray(id);
        t.first_gpu.0..t.first_gpu.0 + u32::from(t.gpus)
    }

    /// The campus as data, hashed: a hex SHA-256, to refuse a snapshot (or
    /// any state keyed by ids) taken on another campus.
    ///
    /// It hashes a canonical form: the spec re-serialised as TOML, its
    /// `[sku]` tables replaced by every rack type the campus resolves,
    /// built-ins included. So comments, whitespace, key order and the
    /// spelling of numbers do not change it; any changed figure or id, a
    /// reordered building, hall or unit group, and a changed built-in rack
    /// type do. Rack types count even where no hall uses them, as they set
    /// the `SkuId`s. A campus that writes out a built-in rack type unchanged
    /// hashes as one that uses the built-in. The form is the `toml` crate's
    /// rendering: an upgrade of it that renders the spec differently changes
    /// every fingerprint, and a test pins one to catch that.
    pub fn fingerprint(&self) -> String {
        let mut canonical = self.spec.clone();
        canonical.skus = self
            .catalog
            .iter()
            .map(|(_, key, sku)| (key.to_string(), sku.clone()))
            .collect();
        // Plain data with string keys renders; the round-trip tests cover it.
        let text = toml::to_string(&canonical).expect("a campus spec renders as TOML");
        let digest = Sha256::new()
            .chain_update(FINGERPRINT_FORM)
            .chain_update(text.as_bytes())
            .finalize();
        let mut hex = String::with_capacity(2 * digest.len());
        for byte in digest.iter() {
            for nibble in [byte >> 4, byte & 0xf] {
                hex.push(char::from_digit(u32::from(nibble), 16).expect("a nibble"));
            }
        }
        hex
    }
}

struct Builder {
    campus: Campus,
}

impl Builder {
    fn new(spec: CampusSpec) -> Self {
        let catalog = Catalog::new(&spec.skus);
        Builder {
            campus: Campus {
                spec,
                catalog,
                buildings: Vec::new(),
                halls: Vec::new(),
                units: Vec::new(),
                racks: Vec::new(),
                trays: Vec::new(),
                gpu_tray: Vec::new(),
                domains: 0,
            },
        }
    }

    fn finish(mut self) -> Campus {
        let c = &mut self.campus;
        let (racks, trays, gpus) = totals(&c.spec, &c.catalog);
        c.racks.reserve_exact(racks);
        c.trays.reserve_exact(trays);
        c.gpu_tray.reserve_exact(gpus);
        let spec = c.spec.clone();
        for (b, bspec) in spec.buildings.iter().enumerate() {
            let building = BuildingId(b as u16);
            let start = (
                c.halls.len() as u16,
                c.racks.len() as u32,
                c.trays.len() as u32,
                c.gpu_tray.len() as u32,
            );
            for hspec in &bspec.halls {
                let hall = HallId(c.halls.len() as u16);
                let r = hspec.resolve(&spec.hall_templates);
                // Validation guarantees every part is present.
                let (Some(groups), Some(cooling), Some(power)) =
                    (r.scalable_units, r.cooling, r.power)
                else {
                    unreachable!("validated hall has all parts")
                };
                let unit_start = c.units.len() as u32;
                let rack_start = c.racks.len() as u32;
                for g in groups {
                    let sku_id = c.catalog.lookup(&g.sku).expect("validated SKU");
                    let sku = c.catalog.get(sku_id).clone();
                    for _ in 0..g.count {
                        let unit = UnitId(c.units.len() as u32);
                        let first_rack = c.racks.len() as u32;
                        for _ in 0..g.racks_per_unit {
                            let rack = RackId(c.racks.len() as u32);
                            let first_tray = c.trays.len() as u32;
                            for slot in 0..sku.trays_per_rack {
                                if slot % sku.nvlink_domain_trays == 0 {
                                    c.domains += 1;
                                }
                                let tray = TrayId(c.trays.len() as u32);
                                let first_gpu = GpuId(c.gpu_tray.len() as u32);
                                c.trays.push(Tray {
                                    rack,
                                    domain: DomainId(c.domains - 1),
                                    unit,
                                    hall,
                                    building,
                                    sku: sku_id,
                                    first_gpu,
                                    gpus: sku.gpus_per_tray as u8,
                                    slot: slot as u8,
                                });
                                c.gpu_tray
                                    .extend(std::iter::repeat_n(tray, sku.gpus_per_tray as usize));
                            }
                            c.racks.push(Rack {
                                unit,
                                hall,
                                building,
                                sku: sku_id,
                                trays: first_tray..c.trays.len() as u32,
                            });
                        }
                        c.units.push(Unit {
                            hall,
                            building,
                            sku: sku_id,
                            racks: first_rack..c.racks.len() as u32,
                        });
                    }
                }
                let (bottleneck, capacity) = power::capacity_mw(power, spec.site.power_factor);
                c.halls.push(Hall {
                    name: hspec.id.clone(),
                    building,
                    units: unit_start..c.units.len() as u32,
                    racks: rack_start..c.racks.len() as u32,
                    load: HallLoad::of(groups, &c.catalog),
                    power_capacity_mw: capacity,
                    power_bottleneck: bottleneck,
                    cooling: CoolingCapacity::of(cooling),
                });
            }
            c.buildings.push(Building {
                name: bspec.id.clone(),
                phase: bspec.phase,
                commissioned: Date::parse(&bspec.commissioned).expect("validated date"),
                halls: start.0..c.halls.len() as u16,
                racks: start.1..c.racks.len() as u32,
                trays: start.2..c.trays.len() as u32,
                gpus: start.3..c.gpu_tray.len() as u32,
            });
        }
        self.campus
    }
}

/// Racks, trays and GPUs a valid spec holds, to size the arrays once.
fn totals(spec: &CampusSpec, catalog: &Catalog) -> (usize, usize, usize) {
    let mut load = HallLoad::default();
    for b in &spec.buildings {
        for h in &b.halls {
            if let Some(g) = h.resolve(&spec.hall_templates).scalable_units {
                load.add(&HallLoad::of(g, catalog));
            }
        }
    }
    (load.racks as usize, load.trays as usize, load.gpus as usize)
}
