//! Every check a campus must pass before it is built, all reported in one run.

use std::collections::{BTreeMap, HashMap};

use crate::catalog::{Catalog, SkuSpec};
use crate::cooling::CoolingCapacity;
use crate::date::Date;
use crate::diagnostic::{Diagnostic, FieldPath};
use crate::hall::HallLoad;
use crate::power;
use crate::spec::*;

/// Index types bound how big a campus can be.
const MAX_BUILDINGS: u64 = u16::MAX as u64;
const MAX_HALLS: u64 = u16::MAX as u64;
const MAX_GPUS: u64 = u32::MAX as u64;
/// Rack types a campus may know, built-in and its own: a [`crate::SkuId`]
/// is 16 bits.
pub const MAX_SKUS: usize = u16::MAX as usize + 1;
/// Trays in one NVLink domain: the scheduler keeps a domain's free trays as
/// the bits of a 64-bit mask (`crates/scheduler/src/topo.rs`,
/// `MAX_DOMAIN_TRAYS`). NVLink 5 allows up to 576 GPUs per domain
/// (domain.md §2), 144 four-GPU trays, which this does not yet model.
pub const MAX_NVLINK_DOMAIN_TRAYS: u32 = 64;

/// How much memory the built campus may take; set by the caller, since
/// this crate does no I/O and cannot ask the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Bytes the campus's arrays (units, racks, trays, GPUs) may take.
    pub index_bytes: u64,
    /// Where the figure comes from, for the message.
    pub why: String,
}

/// Assumed when the machine's memory is unknown: 4 GiB, room for campuses
/// a hundred times the 400,000 GPUs of Abilene (domain.md §1).
const DEFAULT_INDEX_BYTES: u64 = 4 << 30;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            index_bytes: DEFAULT_INDEX_BYTES,
            why: "the default for a machine of unknown memory".into(),
        }
    }
}

impl Limits {
    /// A quarter of `total_bytes` of memory: the scheduler and the twin keep
    /// state of about the same size per tray and GPU, and the machine has
    /// other work.
    pub fn for_memory(total_bytes: u64) -> Limits {
        Limits {
            index_bytes: total_bytes / 4,
            why: format!(
                "a quarter of this machine's {} of memory",
                gigabytes(total_bytes)
            ),
        }
    }
}

fn gigabytes(bytes: u64) -> String {
    format!("{:.1} GB", bytes as f64 / 1e9)
}

/// Bytes the built campus's arrays take for `load`, saturating.
pub fn index_bytes(load: &HallLoad) -> u64 {
    use std::mem::size_of;
    let per = |n: u64, size: usize| n.saturating_mul(size as u64);
    per(load.units, size_of::<crate::Unit>())
        .saturating_add(per(load.racks, size_of::<crate::Rack>()))
        .saturating_add(per(load.trays, size_of::<crate::Tray>()))
        .saturating_add(per(load.gpus, size_of::<crate::TrayId>()))
}

/// All problems with `spec`; empty when it can be built.
pub fn validate(spec: &CampusSpec) -> Vec<Diagnostic> {
    validate_with(spec, &Limits::default())
}

/// All problems with `spec` on a machine with `limits`.
pub fn validate_with(spec: &CampusSpec, limits: &Limits) -> Vec<Diagnostic> {
    let mut v = Validator::default();
    let root = FieldPath::root();
    v.site(&spec.site, &root.key("site"));
    v.fabric(&spec.fabric, &root.key("fabric"));
    for (key, sku) in &spec.skus {
        v.sku(sku, &root.key("sku").key(key));
    }
    let catalog = Catalog::new(&spec.skus);
    if catalog.len() > MAX_SKUS {
        v.err(
            root.key("sku"),
            format!(
                "the catalogue has {} rack types, built-in and this file's `[sku]` tables; \
                 at most {MAX_SKUS} are supported",
                catalog.len()
            ),
        );
    }
    for (name, body) in &spec.hall_templates {
        let path = root.key("hall_template").key(name);
        v.unit_groups(&body.scalable_units, &catalog, &path.key("scalable_units"));
        v.cooling(&body.cooling, &path.key("cooling"));
        v.power(&body.power, &path.key("power"));
    }
    let mut campus = HallLoad::default();
    let mut hall_count = 0u64;
    let mut building_ids: HashMap<&str, usize> = HashMap::new();
    for (b, building) in spec.buildings.iter().enumerate() {
        let path = root.key("building").index(b);
        if building.id.trim().is_empty() {
            v.err(path.key("id"), "building id is empty");
        } else if let Some(bad) = id_misfits(&building.id) {
            v.err(
                path.key("id"),
                format!("building id `{}` {bad}", building.id),
            );
        } else if let Some(&first) = building_ids.get(building.id.as_str()) {
            v.err(
                path.key("id"),
                format!(
                    "duplicate building id `{}` (first used by building[{first}])",
                    building.id
                ),
            );
        } else {
            building_ids.insert(&building.id, b);
        }
        if building.phase == 0 {
            v.err(path.key("phase"), "phase must be 1 or more");
        }
        if let Err(e) = Date::parse(&building.commissioned) {
            v.err(path.key("commissioned"), e.to_string());
        }
        if building.halls.is_empty() {
            v.err(path.key("hall"), "building has no halls");
        }
        let mut hall_ids: HashMap<&str, usize> = HashMap::new();
        for (h, hall) in building.halls.iter().enumerate() {
            let hpath = path.key("hall").index(h);
            hall_count += 1;
            if hall.id.trim().is_empty() {
                v.err(hpath.key("id"), "hall id is empty");
            } else if let Some(bad) = id_misfits(&hall.id) {
                v.err(
                    hpath.key("id"),
                    format!("hall id `{}` in building `{}` {bad}", hall.id, building.id),
                );
            } else if let Some(&first) = hall_ids.get(hall.id.as_str()) {
                v.err(
                    hpath.key("id"),
                    format!(
                        "duplicate hall id `{}` in building `{}` (first used by hall[{first}])",
                        hall.id, building.id
                    ),
                );
            } else {
                hall_ids.insert(&hall.id, h);
            }
            let load = v.hall(spec, &catalog, building, hall, &hpath);
            campus.add(&load);
        }
    }
    if spec.buildings.is_empty() {
        v.err(root.key("building"), "campus has no buildings");
    }
    if spec.buildings.len() as u64 > MAX_BUILDINGS || hall_count > MAX_HALLS {
        v.err(
            root.key("building"),
            format!("at most {MAX_BUILDINGS} buildings and {MAX_HALLS} halls are supported"),
        );
    }
    if campus.gpus > MAX_GPUS || campus.trays > MAX_GPUS {
        v.err(
            root.key("building"),
            format!(
                "campus has {} GPUs; at most {MAX_GPUS} are supported",
                campus.gpus
            ),
        );
    }
    let bytes = index_bytes(&campus);
    if bytes > limits.index_bytes {
        v.err(
            root.key("building"),
            format!(
                "the campus's index needs {} for {} GPUs in {} trays and {} racks; the limit is {}, {}",
                gigabytes(bytes),
                campus.gpus,
                campus.trays,
                campus.racks,
                gigabytes(limits.index_bytes),
                limits.why
            ),
        );
    }
    let site = &spec.site;
    let supply = site.grid_interconnect_mw
        + site
            .gas_turbines
            .as_ref()
            .map_or(0.0, |g| f64::from(g.count) * g.mw_each);
    let facility = campus.it_max_kw / 1000.0 * site.design_pue;
    if facility > supply {
        v.err(
            root.key("site").key("grid_interconnect_mw"),
            format!(
                "campus IT load {:.1} MW x design PUE {} = {:.1} MW exceeds grid interconnect + on-site generation = {:.1} MW",
                campus.it_max_kw / 1000.0,
                site.design_pue,
                facility,
                supply
            ),
        );
    }
    v.diags
}

/// Why `id` cannot be a building or hall id, if it cannot. Those ids are the
/// first parts of every location name (`B3/H2/R0417/T05`, see
/// [`crate::names`]), so they hold no `/` and nothing that needs quoting.
fn id_misfits(id: &str) -> Option<String> {
    let mut bad: Vec<char> = Vec::new();
    let fits = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    for c in id.chars() {
        if !fits(c) && !bad.contains(&c) {
            bad.push(c);
        }
    }
    if bad.is_empty() {
        return None;
    }
    let list: Vec<String> = bad.iter().map(|c| format!("{c:?}")).collect();
    Some(format!(
        "may not contain {}: ids use only A-Z, a-z, 0-9, `_`, `.` and `-`, as they start location names like `B3/H2/R0417`",
        list.join(", ")
    ))
}

#[derive(Default)]
struct Validator {
    diags: Vec<Diagnostic>,
}

impl Validator {
    fn err(&mut self, path: FieldPath, message: impl Into<String>) {
        self.diags.push(Diagnostic::new(path, message));
    }

    /// A finite number strictly above zero.
    fn positive(&mut self, path: &FieldPath, field: &str, value: f64) {
        if !(value.is_finite() && value > 0.0) {
            self.err(
                path.key(field),
                format!("must be a number above 0, got {value}"),
            );
        }
    }

    fn non_negative(&mut self, path: &FieldPath, field: &str, value: f64) {
        if !(value.is_finite() && value >= 0.0) {
            self.err(
                path.key(field),
                format!("must be a number of 0 or more, got {value}"),
            );
        }
    }

    fn at_least_one(&mut self, path: &FieldPath, field: &str, value: u32) {
        if value == 0 {
            self.err(path.key(field), "must be 1 or more");
        }
    }

    fn site(&mut self, s: &SiteSpec, path: &FieldPath) {
        if s.name.trim().is_empty() {
            self.err(path.key("name"), "site name is empty");
        }
        self.non_negative(path, "grid_interconnect_mw", s.grid_interconnect_mw);
        if !(s.design_pue.is_finite() && (1.0..=3.0).contains(&s.design_pue)) {
            self.err(
                path.key("design_pue"),
                format!("must be between 1.0 and 3.0, got {}", s.design_pue),
            );
        }
        if !(s.power_factor.is_finite() && s.power_factor > 0.0 && s.power_factor <= 1.0) {
            self.err(
                path.key("power_factor"),
                format!("must be above 0 and at most 1, got {}", s.power_factor),
            );
        }
        if let Some(g) = &s.gas_turbines {
            let p = path.key("gas_turbines");
            self.at_least_one(&p, "count", g.count);
            self.positive(&p, "mw_each", g.mw_each);
        }
        if let Some(b) = &s.battery {
            let p = path.key("battery");
            self.non_negative(&p, "mw", b.mw);
            self.non_negative(&p, "mwh", b.mwh);
        }
    }

    fn fabric(&mut self, f: &FabricSpec, path: &FieldPath) {
        for (name, radix) in [
            ("leaf", f.leaf.radix),
            ("spine", f.spine.radix),
            ("super_spine", f.super_spine.radix),
        ] {
            if radix < 2 || radix % 2 != 0 {
                self.err(
                    path.key(name).key("radix"),
                    format!("must be an even number of ports, 2 or more, got {radix}"),
                );
            }
        }
        for (name, tier) in [("leaf", &f.leaf), ("spine", &f.spine)] {
            let p = path.key(name);
            if !(tier.oversubscription.is_finite() && tier.oversubscription >= 1.0) {
                self.err(
                    p.key("oversubscription"),
                    format!(
                        "must be 1.0 (non-blocking) or more, got {}",
                        tier.oversubscription
                    ),
                );
            }
        }
    }

    fn sku(&mut self, s: &SkuSpec, path: &FieldPath) {
        self.at_least_one(path, "trays_per_rack", s.trays_per_rack);
        self.at_least_one(path, "gpus_per_tray", s.gpus_per_tray);
        self.at_least_one(path, "nvlink_domain_trays", s.nvlink_domain_trays);
        self.at_least_one(path, "nics_per_gpu", s.nics_per_gpu);
        self.at_least_one(path, "psus", s.psus);
        if s.nvlink_domain_trays > MAX_NVLINK_DOMAIN_TRAYS {
            self.err(
                path.key("nvlink_domain_trays"),
                format!(
                    "must be from 1 to {MAX_NVLINK_DOMAIN_TRAYS} trays (the scheduler's domain mask), got {}",
                    s.nvlink_domain_trays
                ),
            );
        }
        if s.trays_per_rack > 255 {
            self.err(
                path.key("trays_per_rack"),
                "at most 255 trays per rack are supported",
            );
        }
        if s.nics_per_gpu > 16 {
            self.err(
                path.key("nics_per_gpu"),
                "at most 16 NICs per GPU are supported",
            );
        }
        if s.gpus_per_tray > 64 {
            self.err(
                path.key("gpus_per_tray"),
                "at most 64 GPUs per tray are supported",
            );
        }
        if s.nvlink_domain_trays > 0 && !s.trays_per_rack.is_multiple_of(s.nvlink_domain_trays) {
            self.err(
                path.key("nvlink_domain_trays"),
                format!(
                    "{} trays per rack do not divide into NVLink domains of {}",
                    s.trays_per_rack, s.nvlink_domain_trays
                ),
            );
        }
        for (field, value) in [
            ("gpu_tdp_w", s.gpu_tdp_w),
            ("rack_kw_typical", s.rack_kw_typical),
            ("rack_kw_max", s.rack_kw_max),
            ("psu_kw", s.psu_kw),
            ("hbm_gb", s.hbm_gb),
        ] {
            self.positive(path, field, value);
        }
        self.non_negative(path, "fp8_pflops", s.fp8_pflops);
        self.non_negative(path, "bf16_pflops", s.bf16_pflops);
        if s.rack_kw_typical > s.rack_kw_max {
            self.err(
                path.key("rack_kw_typical"),
                format!(
                    "typical draw {} kW is above the maximum {} kW",
                    s.rack_kw_typical, s.rack_kw_max
                ),
            );
        }
        if s.rack_kw_max > s.installed_psu_kw() {
            self.err(
                path.key("rack_kw_max"),
                format!(
                    "rack draws up to {} kW but its {} PSUs x {} kW supply only {} kW",
                    s.rack_kw_max,
                    s.psus,
                    s.psu_kw,
                    s.installed_psu_kw()
                ),
            );
        }
        if !(0.0..=1.0).contains(&s.liquid_cooled_share) {
            self.err(
                path.key("liquid_cooled_share"),
                format!("must be between 0 and 1, got {}", s.liquid_cooled_share),
            );
        }
    }

    fn unit_groups(&mut self, groups: &[UnitGroupSpec], catalog: &Catalog, path: &FieldPath) {
        if groups.is_empty() {
            self.err(path.clone(), "no scalable units: a hall needs racks");
        }
        for (i, g) in groups.iter().enumerate() {
            let p = path.index(i);
            if catalog.lookup(&g.sku).is_none() {
                let known: Vec<&str> = catalog.keys().collect();
                self.err(
                    p.key("sku"),
                    format!("unknown SKU `{}`; known: {}", g.sku, known.join(", ")),
                );
            }
            self.at_least_one(&p, "count", g.count);
            self.at_least_one(&p, "racks_per_unit", g.racks_per_unit);
        }
    }

    fn cooling(&mut self, c: &CoolingSpec, path: &FieldPath) {
        let cdu = path.key("cdu");
        self.at_least_one(&cdu, "count", c.cdu.count);
        self.positive(&cdu, "capacity_kw", c.cdu.capacity_kw);
        if c.cdu.redundant >= c.cdu.count && c.cdu.count > 0 {
            self.err(
                cdu.key("redundant"),
                format!(
                    "{} redundant of {} CDUs leaves none to carry the load",
                    c.cdu.redundant, c.cdu.count
                ),
            );
        }
        self.non_negative(path, "facility_loop_mw", c.facility_loop_mw);
        self.non_negative(path, "air_handlers_mw", c.air_handlers_mw);
        let hr = path.key("heat_rejection");
        self.non_negative(&hr, "dry_cooler_mw", c.heat_rejection.dry_cooler_mw);
        self.non_negative(&hr, "chillers_mw", c.heat_rejection.chillers_mw);
        if !c.heat_rejection.design_ambient_c.is_finite() {
            self.err(hr.key("design_ambient_c"), "must be a finite temperature");
        }
    }

    fn power(&mut self, p: &PowerSpec, path: &FieldPath) {
        self.positive(path, "utility_feed_mw", p.utility_feed_mw);
        self.positive(path, "substation_mva", p.substation_mva);
        self.positive(path, "switchgear_mva", p.switchgear_mva);
        let t = path.key("transformers");
        self.at_least_one(&t, "count", p.transformers.count);
        self.positive(&t, "mva_each", p.transformers.mva_each);
        if p.transformers.redundant >= p.transformers.count && p.transformers.count > 0 {
            self.err(
                t.key("redundant"),
                format!(
                    "{} redundant of {} transformers leaves none to carry the load",
                    p.transformers.redundant, p.transformers.count
                ),
            );
        }
        if let Some(ups) = p.ups_mw {
            self.positive(path, "ups_mw", ups);
        }
    }

    /// Checks one hall's own parts and its capacities against its racks.
    fn hall(
        &mut self,
        spec: &CampusSpec,
        catalog: &Catalog,
        building: &BuildingSpec,
        hall: &HallSpec,
        path: &FieldPath,
    ) -> HallLoad {
        let templates: &BTreeMap<String, HallBody> = &spec.hall_templates;
        if let Some(groups) = &hall.scalable_units {
            self.unit_groups(groups, catalog, &path.key("scalable_units"));
        }
        if let Some(c) = &hall.cooling {
            self.cooling(c, &path.key("cooling"));
        }
        if let Some(p) = &hall.power {
            self.power(p, &path.key("power"));
        }
        if let Some(t) = &hall.template
            && !templates.contains_key(t)
        {
            let known: Vec<&str> = templates.keys().map(String::as_str).collect();
            self.err(
                path.key("template"),
                format!(
                    "unknown hall template `{t}`; defined: {}",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            );
            return HallLoad::default();
        }
        let r = hall.resolve(templates);
        let mut missing = Vec::new();
        if r.scalable_units.is_none() {
            missing.push("scalable_units");
        }
        if r.cooling.is_none() {
            missing.push("cooling");
        }
        if r.power.is_none() {
            missing.push("power");
        }
        if !missing.is_empty() {
            self.err(
                path.clone(),
                format!(
                    "hall `{}` lacks {}: give them inline or name a `template`",
                    hall.id,
                    missing.join(", ")
                ),
            );
        }
        let load = r
            .scalable_units
            .map(|g| HallLoad::of(g, catalog))
            .unwrap_or_default();
        let name = format!("{}/{}", building.id, hall.id);
        // Capacity problems point at the part that is short, where the hall
        // writes it inline, else at the hall's `template` line.
        let at = |part: &str, field: &str, inline: bool| {
            if inline {
                path.key(part).key(field)
            } else {
                path.key("template")
            }
        };
        let it_mw = load.it_max_kw / 1000.0;
        if let Some(p) = r.power {
            let (stage, cap) = power::capacity_mw(p, spec.site.power_factor);
            if it_mw > cap {
                self.err(
                    at("power", stage.field(), hall.power.is_some()),
                    format!(
                        "hall {name}: racks draw up to {it_mw:.2} MW but the power chain delivers {cap:.2} MW (limited by its {stage})"
                    ),
                );
            }
        }
        if let Some(c) = r.cooling {
            let cap = CoolingCapacity::of(c);
            let inline = hall.cooling.is_some();
            let liquid = load.liquid_kw / 1000.0;
            let air = load.air_kw / 1000.0;
            let checks = [
                (
                    "cdu",
                    liquid,
                    cap.cdu_mw,
                    "liquid heat",
                    "its CDUs (at N) remove",
                ),
                (
                    "facility_loop_mw",
                    liquid,
                    cap.facility_loop_mw,
                    "liquid heat",
                    "its facility loop carries",
                ),
                (
                    "air_handlers_mw",
                    air,
                    cap.air_mw,
                    "air heat",
                    "its air handlers remove",
                ),
                (
                    "heat_rejection",
                    it_mw,
                    cap.rejection_mw,
                    "heat",
                    "its dry coolers and chillers reject",
                ),
            ];
            for (field, need, have, what, by) in checks {
                if need > have + 1e-9 {
                    self.err(
                        at("cooling", field, inline),
                        format!("hall {name}: racks make up to {need:.2} MW of {what} but {by} {have:.2} MW"),
                    );
                }
            }
        }
        load
    }
}
