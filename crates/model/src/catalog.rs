//! The hardware catalogue: rack types (SKUs) with their GPUs, trays, power
//! shelves and performance. The built-in entries live in
//! `presets/catalog.toml`, where every figure carries its source; a campus
//! file may add or replace entries under `[sku.NAME]`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::SkuId;

/// One rack type as written in TOML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkuSpec {
    /// Human name, e.g. "NVIDIA GB200 NVL72".
    pub name: String,
    /// GPU model, e.g. "B200".
    pub gpu: String,
    pub trays_per_rack: u32,
    pub gpus_per_tray: u32,
    /// Trays that share one NVLink domain: the whole rack for NVL72, one
    /// node for HGX.
    pub nvlink_domain_trays: u32,
    pub gpu_tdp_w: f64,
    pub rack_kw_typical: f64,
    pub rack_kw_max: f64,
    /// Power shelves per rack (0 where the PSUs sit in each node).
    pub power_shelves: u32,
    pub psus: u32,
    pub psu_kw: f64,
    /// Share of rack heat taken by liquid (0..=1); the rest goes to air.
    pub liquid_cooled_share: f64,
    pub nics_per_gpu: u32,
    pub nic_gbps: u32,
    /// Dense per-GPU throughput.
    pub fp8_pflops: f64,
    pub bf16_pflops: f64,
    pub hbm_gb: f64,
}

impl SkuSpec {
    pub fn gpus_per_rack(&self) -> u64 {
        u64::from(self.trays_per_rack) * u64::from(self.gpus_per_tray)
    }

    pub fn nics_per_rack(&self) -> u64 {
        self.gpus_per_rack()
            .saturating_mul(u64::from(self.nics_per_gpu))
    }

    pub fn installed_psu_kw(&self) -> f64 {
        f64::from(self.psus) * self.psu_kw
    }
}

/// The source text of the built-in catalogue.
pub const BUILTIN_CATALOG_TOML: &str = include_str!("../../../presets/catalog.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    sku: BTreeMap<String, SkuSpec>,
}

/// The built-in rack types, by key (parsed once per process).
pub fn builtin_skus() -> BTreeMap<String, SkuSpec> {
    static BUILTIN: std::sync::OnceLock<BTreeMap<String, SkuSpec>> = std::sync::OnceLock::new();
    BUILTIN
        .get_or_init(|| {
            // The file is part of the binary and covered by tests, so a
            // failure here is a build defect, not user input.
            toml::from_str::<CatalogFile>(BUILTIN_CATALOG_TOML)
                .expect("presets/catalog.toml is valid (tested)")
                .sku
        })
        .clone()
}

/// Rack types resolved for one campus: built-ins overlaid by the campus's own.
#[derive(Debug, Clone)]
pub struct Catalog {
    keys: Vec<String>,
    skus: Vec<SkuSpec>,
}

impl Catalog {
    pub fn new(overrides: &BTreeMap<String, SkuSpec>) -> Self {
        let mut all = builtin_skus();
        for (key, sku) in overrides {
            all.insert(key.clone(), sku.clone());
        }
        let (keys, skus) = all.into_iter().unzip();
        Catalog { keys, skus }
    }

    /// The id of `key`; `None` also for a key past the 65,536 that ids can
    /// name (validation refuses such a catalogue), never another SKU's id.
    pub fn lookup(&self, key: &str) -> Option<SkuId> {
        self.keys
            .binary_search_by(|k| k.as_str().cmp(key))
            .ok()
            .and_then(|i| u16::try_from(i).ok())
            .map(SkuId)
    }

    /// Rack types known, built-in and the campus's own.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn get(&self, id: SkuId) -> &SkuSpec {
        &self.skus[usize::from(id.0)]
    }

    pub fn key(&self, id: SkuId) -> &str {
        &self.keys[usize::from(id.0)]
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (SkuId, &str, &SkuSpec)> {
        self.keys
            .iter()
            .zip(&self.skus)
            .enumerate()
            .map_while(|(i, (k, s))| Some((SkuId(u16::try_from(i).ok()?), k.as_str(), s)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_parses_and_has_the_required_skus() {
        let skus = builtin_skus();
        for key in ["gb200-nvl72", "gb300-nvl72", "hgx-b200", "hgx-h100"] {
            assert!(skus.contains_key(key), "missing {key}");
        }
        let gb200 = &skus["gb200-nvl72"];
        assert_eq!(gb200.gpus_per_rack(), 72);
        assert_eq!(gb200.installed_psu_kw(), 264.0);
    }

    #[test]
    fn keys_past_the_id_range_are_not_found_as_other_skus() {
        let sku = builtin_skus()["gb200-nvl72"].clone();
        let many: BTreeMap<String, SkuSpec> = (0..70_000)
            .map(|i| (format!("s{i:05}"), sku.clone()))
            .collect();
        let catalog = Catalog::new(&many);
        assert!(catalog.len() > usize::from(u16::MAX) + 1);
        // The last key sorts past id 65,535: it must not wrap to a low id.
        let last = catalog.keys().last().unwrap().to_string();
        assert_eq!(catalog.lookup(&last), None);
        let first = catalog.keys().next().unwrap().to_string();
        assert_eq!(catalog.key(catalog.lookup(&first).unwrap()), first);
        assert_eq!(catalog.iter().count(), usize::from(u16::MAX) + 1);
    }

    #[test]
    fn campus_entries_override_builtins() {
        let mut mine = BTreeMap::new();
        let mut sku = builtin_skus()["gb200-nvl72"].clone();
        sku.rack_kw_max = 140.0;
        mine.insert("gb200-nvl72".to_string(), sku);
        let catalog = Catalog::new(&mine);
        let id = catalog.lookup("gb200-nvl72").unwrap();
        assert_eq!(catalog.get(id).rack_kw_max, 140.0);
        assert!(catalog.lookup("no-such-rack").is_none());
    }
}
