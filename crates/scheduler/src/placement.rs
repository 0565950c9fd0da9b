//! Where a gang goes: topology first, then best fit.
//!
//! A gang asks for `chunks` chunks of `k` trays, each chunk inside one NVLink
//! domain (its tensor-parallel group or segment). The search goes level by
//! level and stops at the first that can hold the whole gang: one NVLink
//! domain, one leaf group, one building, and only then several buildings. At
//! each level the tightest fit wins, so that whole racks stay free for big
//! jobs; when a gang must span, it takes the largest pieces first, so it
//! spans as few leaf groups and buildings as it can.

use crate::free::{FreeIndex, chunks_in};
use crate::topo::Topology;

/// What one gang needs.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Need {
    /// Fewer GPUs than a tray holds, all on one tray.
    Gpus(u32),
    /// `chunks` chunks of `k` whole trays, each chunk in one NVLink domain.
    Trays { k: u32, chunks: u32 },
}

/// GPUs chosen for a gang: whole trays, or part of one tray.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    pub trays: Vec<u32>,
    /// For `Need::Gpus`, the GPUs of `trays[0]`; else 0 (whole trays).
    pub gpu_mask: u64,
}

/// The limit that power caps put on a placement: how many more kW each
/// building may draw, and what one tray of the job adds.
#[derive(Debug, Clone, Copy)]
pub struct PowerRoom<'a> {
    pub building_kw: &'a [f64],
    pub campus_kw: f64,
    pub tray_kw: f64,
}

impl PowerRoom<'_> {
    fn chunks(&self, b: u16, k: u32) -> u64 {
        let per_chunk = self.tray_kw * f64::from(k);
        if per_chunk <= 0.0 {
            return u64::MAX;
        }
        let room = self.building_kw[usize::from(b)].min(self.campus_kw);
        if room <= 0.0 {
            0
        } else {
            (room / per_chunk + 1e-9).floor() as u64
        }
    }
}

pub fn place(
    free: &FreeIndex,
    topo: &Topology,
    sku: u16,
    need: Need,
    power: Option<PowerRoom<'_>>,
) -> Option<Chosen> {
    match need {
        Need::Gpus(g) => place_gpus(free, topo, sku, g, power),
        Need::Trays { k, chunks } => {
            let trays = place_trays(free, topo, sku, k, chunks, power)?;
            Some(Chosen { trays, gpu_mask: 0 })
        }
    }
}

fn building_room(power: &Option<PowerRoom<'_>>, b: u16, k: u32) -> u64 {
    power.map_or(u64::MAX, |p| p.chunks(b, k))
}

fn place_gpus(
    free: &FreeIndex,
    topo: &Topology,
    sku: u16,
    g: u32,
    power: Option<PowerRoom<'_>>,
) -> Option<Chosen> {
    let gpt = u32::from(topo.sku_gpus_per_tray[usize::from(sku)]);
    let gpu_kw = power.map_or(0.0, |p| p.tray_kw / f64::from(gpt));
    let fits = |t: u32| {
        power.is_none_or(|p| {
            let b = topo.tray_building[t as usize];
            p.building_kw[usize::from(b)].min(p.campus_kw) >= gpu_kw * f64::from(g) - 1e-9
        })
    };
    // Best fit among partly used trays, then a tray from the tightest domain.
    for f in g..gpt {
        if let Some(&t) = free.partial_bucket(sku, f).iter().find(|&&t| fits(t)) {
            return Some(Chosen {
                trays: vec![t],
                gpu_mask: lowest_bits(free.tray_free_mask(t), g),
            });
        }
    }
    for f in 1..free.width() {
        for &d in free.bucket(sku, f) {
            let t = topo.domain_first_tray[d as usize] + free.domain_mask(d).trailing_zeros();
            if fits(t) {
                return Some(Chosen {
                    trays: vec![t],
                    gpu_mask: lowest_bits(free.tray_free_mask(t), g),
                });
            }
        }
    }
    None
}

fn lowest_bits(mask: u64, n: u32) -> u64 {
    let mut out = 0u64;
    let mut m = mask;
    for _ in 0..n {
        let bit = m & m.wrapping_neg();
        out |= bit;
        m &= !bit;
    }
    out
}

/// Splits `need` among children given as (id, capacity): the tightest single
/// child that holds it all, else the largest children first, finishing with
/// the tightest fit for the remainder.
fn split(mut children: Vec<(u32, u64)>, mut need: u64) -> Vec<(u32, u64)> {
    children.retain(|c| c.1 > 0);
    children.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut out = Vec::new();
    let mut i = 0;
    while need > 0 && i < children.len() {
        // Children are sorted by capacity descending: the last that still
        // holds `need` is the tightest fit.
        let fit = children[i..].iter().rposition(|c| c.1 >= need);
        if let Some(j) = fit {
            out.push((children[i + j].0, need));
            return out;
        }
        out.push(children[i]);
        need -= children[i].1;
        i += 1;
    }
    out
}

fn place_trays(
    free: &FreeIndex,
    topo: &Topology,
    sku: u16,
    k: u32,
    chunks: u32,
    power: Option<PowerRoom<'_>>,
) -> Option<Vec<u32>> {
    let kk = k as usize;
    let n = u64::from(chunks);
    let total = k * chunks;
    // One NVLink domain, tightest first.
    if (total as usize) < free.width() {
        for f in total as usize..free.width() {
            for &d in free.bucket(sku, f) {
                if building_room(&power, topo.domain_building[d as usize], total) >= 1 {
                    let mut trays = Vec::with_capacity(total as usize);
                    take_from_domain(free, topo, d, total, &mut trays);
                    return Some(trays);
                }
            }
        }
    }
    // Capacity per building, limited by power room.
    let buildings: Vec<(u32, u64)> = (0..topo.buildings() as u16)
        .map(|b| {
            let cap = chunks_in(free.building_hist(b, sku), kk).min(building_room(&power, b, k));
            (u32::from(b), cap)
        })
        .collect();
    if buildings.iter().map(|b| b.1).sum::<u64>() < n {
        return None;
    }
    let mut trays = Vec::with_capacity(total as usize);
    // One leaf group, tightest first.
    let mut best: Option<(u64, u32)> = None;
    for &(b, cap) in &buildings {
        if cap < n {
            continue;
        }
        for u in topo.building_units[b as usize].clone() {
            if topo.unit_sku[u as usize] != sku {
                continue;
            }
            let c = chunks_in(free.unit_hist(u), kk);
            if c >= n && best.is_none_or(|(bc, _)| c < bc) {
                best = Some((c, u));
            }
        }
    }
    if let Some((_, u)) = best {
        fill_unit(free, topo, u, k, n, &mut trays);
        return Some(trays);
    }
    // One building, else as few buildings as possible.
    for (b, m) in split(buildings, n) {
        fill_building(free, topo, sku, b as u16, k, m, &mut trays);
    }
    debug_assert_eq!(trays.len(), total as usize);
    Some(trays)
}

fn fill_building(
    free: &FreeIndex,
    topo: &Topology,
    sku: u16,
    b: u16,
    k: u32,
    n: u64,
    out: &mut Vec<u32>,
) {
    let units: Vec<(u32, u64)> = topo.building_units[usize::from(b)]
        .clone()
        .filter(|&u| topo.unit_sku[u as usize] == sku)
        .map(|u| (u, chunks_in(free.unit_hist(u), k as usize)))
        .collect();
    for (u, m) in split(units, n) {
        fill_unit(free, topo, u, k, m, out);
    }
}

fn fill_unit(free: &FreeIndex, topo: &Topology, u: u32, k: u32, n: u64, out: &mut Vec<u32>) {
    let domains: Vec<(u32, u64)> = topo.unit_domains[u as usize]
        .clone()
        .map(|d| (d, u64::from(free.domain_free(d) / k)))
        .collect();
    for (d, m) in split(domains, n) {
        take_from_domain(free, topo, d, k * m as u32, out);
    }
}

fn take_from_domain(free: &FreeIndex, topo: &Topology, d: u32, count: u32, out: &mut Vec<u32>) {
    let first = topo.domain_first_tray[d as usize];
    let mut mask = free.domain_mask(d);
    for _ in 0..count {
        let bit = mask.trailing_zeros();
        debug_assert!(bit < 64, "domain {d} has fewer free trays than counted");
        out.push(first + bit);
        mask &= mask - 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_prefers_one_tight_child_then_largest_first() {
        assert_eq!(split(vec![(0, 10), (1, 5), (2, 7)], 6), vec![(2, 6)]);
        assert_eq!(
            split(vec![(0, 10), (1, 5), (2, 7)], 12),
            vec![(0, 10), (1, 2)]
        );
        assert_eq!(split(vec![(0, 3), (1, 3)], 6), vec![(0, 3), (1, 3)]);
        assert_eq!(split(vec![(0, 0), (1, 4)], 4), vec![(1, 4)]);
    }

    #[test]
    fn lowest_bits_takes_from_the_bottom() {
        assert_eq!(lowest_bits(0b1011_0100, 2), 0b0001_0100);
    }
}
