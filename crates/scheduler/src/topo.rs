//! The campus as the scheduler walks it: NVLink domains grouped into leaf
//! groups (scalable units) and buildings, each a contiguous range, so that
//! placement descends campus -> building -> leaf group -> domain -> tray.

use std::ops::Range;

use abilene_model::{Campus, SkuId, TrayId};

/// Largest NVLink domain the scheduler tracks with one bitmask.
pub const MAX_DOMAIN_TRAYS: u32 = 64;

#[derive(Debug, Clone)]
pub(crate) struct Topology {
    pub skus: usize,
    /// Largest domain, in trays; histograms have this many + 1 buckets.
    pub max_domain_trays: usize,
    pub domain_first_tray: Vec<u32>,
    pub domain_trays: Vec<u8>,
    pub domain_unit: Vec<u32>,
    pub domain_building: Vec<u16>,
    pub domain_sku: Vec<u16>,
    pub unit_domains: Vec<Range<u32>>,
    pub unit_building: Vec<u16>,
    pub unit_sku: Vec<u16>,
    pub building_units: Vec<Range<u32>>,
    pub tray_domain: Vec<u32>,
    pub tray_first_gpu: Vec<u32>,
    pub tray_gpus: Vec<u8>,
    pub tray_building: Vec<u16>,
    pub sku_gpus_per_tray: Vec<u8>,
    pub sku_domain_trays: Vec<u8>,
    /// Typical and idle draw of one tray, in kW, per SKU.
    pub sku_tray_kw: Vec<f64>,
    pub sku_keys: Vec<String>,
    /// GPUs of each SKU on the campus.
    pub sku_capacity: Vec<u64>,
    pub gpus: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopologyError {
    #[error(
        "SKU `{sku}` has NVLink domains of {trays} trays; the scheduler supports at most {MAX_DOMAIN_TRAYS}"
    )]
    DomainTooLarge { sku: String, trays: u32 },
}

impl Topology {
    pub fn new(campus: &Campus) -> Result<Topology, TopologyError> {
        for (_, key, sku) in campus.catalog.iter() {
            if sku.nvlink_domain_trays > MAX_DOMAIN_TRAYS {
                return Err(TopologyError::DomainTooLarge {
                    sku: key.to_string(),
                    trays: sku.nvlink_domain_trays,
                });
            }
        }
        let ndom = campus.domains as usize;
        let mut t = Topology {
            skus: campus.catalog.iter().count(),
            max_domain_trays: 1,
            domain_first_tray: vec![0; ndom],
            domain_trays: vec![0; ndom],
            domain_unit: vec![0; ndom],
            domain_building: vec![0; ndom],
            domain_sku: vec![0; ndom],
            unit_domains: vec![0..0; campus.units.len()],
            unit_building: campus.units.iter().map(|u| u.building.0).collect(),
            unit_sku: campus.units.iter().map(|u| u.sku.0).collect(),
            building_units: Vec::new(),
            tray_domain: campus.trays.iter().map(|t| t.domain.0).collect(),
            tray_first_gpu: campus.trays.iter().map(|t| t.first_gpu.0).collect(),
            tray_gpus: campus.trays.iter().map(|t| t.gpus).collect(),
            tray_building: campus.trays.iter().map(|t| t.building.0).collect(),
            sku_gpus_per_tray: Vec::new(),
            sku_domain_trays: Vec::new(),
            sku_tray_kw: Vec::new(),
            sku_keys: Vec::new(),
            sku_capacity: Vec::new(),
            gpus: campus.gpu_count(),
        };
        for (_, key, sku) in campus.catalog.iter() {
            t.sku_gpus_per_tray.push(sku.gpus_per_tray as u8);
            t.sku_domain_trays.push(sku.nvlink_domain_trays as u8);
            t.sku_tray_kw
                .push(sku.rack_kw_typical / f64::from(sku.trays_per_rack));
            t.sku_keys.push(key.to_string());
            t.max_domain_trays = t.max_domain_trays.max(sku.nvlink_domain_trays as usize);
        }
        for (i, tray) in campus.trays.iter().enumerate() {
            let d = tray.domain.index();
            if t.domain_trays[d] == 0 {
                t.domain_first_tray[d] = i as u32;
                t.domain_unit[d] = tray.unit.0;
                t.domain_building[d] = tray.building.0;
                t.domain_sku[d] = tray.sku.0;
                let u = tray.unit.index();
                if t.unit_domains[u].is_empty() {
                    t.unit_domains[u] = tray.domain.0..tray.domain.0 + 1;
                } else {
                    t.unit_domains[u].end = tray.domain.0 + 1;
                }
            }
            t.domain_trays[d] += 1;
        }
        t.sku_capacity = vec![0; t.skus];
        for d in 0..ndom {
            let sku = usize::from(t.domain_sku[d]);
            t.sku_capacity[sku] +=
                u64::from(t.domain_trays[d]) * u64::from(t.sku_gpus_per_tray[sku]);
        }
        t.building_units = vec![0..0; campus.buildings.len()];
        for (u, unit) in campus.units.iter().enumerate() {
            let u = u as u32;
            let r = &mut t.building_units[unit.building.index()];
            if r.start == r.end {
                *r = u..u + 1;
            } else {
                r.end = u + 1;
            }
        }
        Ok(t)
    }

    pub fn memory_bytes(&self) -> usize {
        let d = self.domains();
        let t = self.tray_domain.len();
        d * (4 + 1 + 4 + 2 + 2) + self.units() * (8 + 2 + 2) + t * (4 + 4 + 1 + 2)
    }

    /// GPUs of each SKU on the campus.
    pub fn capacity(&self) -> &[u64] {
        &self.sku_capacity
    }

    pub fn domains(&self) -> usize {
        self.domain_trays.len()
    }

    pub fn buildings(&self) -> usize {
        self.building_units.len()
    }

    pub fn units(&self) -> usize {
        self.unit_domains.len()
    }

    pub fn tray_gpu_range(&self, t: TrayId) -> Range<u32> {
        let first = self.tray_first_gpu[t.index()];
        first..first + u32::from(self.tray_gpus[t.index()])
    }

    pub fn sku_of_tray(&self, t: u32) -> SkuId {
        SkuId(self.domain_sku[self.tray_domain[t as usize] as usize])
    }

    pub fn sku_index(&self, key: &str) -> Option<u16> {
        self.sku_keys
            .iter()
            .position(|k| k == key)
            .map(|i| i as u16)
    }
}
