//! Free capacity, indexed for placement.
//!
//! A tray is either wholly free (every GPU idle, counted in its NVLink
//! domain), partly free (some GPUs held by sub-tray jobs, kept in a bucket by
//! free GPU count), or not in the index at all (busy, down, drained, or in
//! another pool). Each domain sits in a bucket by how many whole trays it has
//! free, and every leaf group, building and the campus keep a histogram of
//! their domains' free counts, so "how many chunks of k trays fit here" is a
//! sum over at most 65 buckets, and best fit is the first non-empty bucket.

use crate::topo::Topology;

const NONE: u32 = u32::MAX;
/// Buckets for partly free trays: 0..=64 free GPUs.
const GPU_BUCKETS: usize = 65;

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FreeIndex {
    width: usize,
    skus: usize,
    domain_mask: Vec<u64>,
    bucket_pos: Vec<u32>,
    buckets: Vec<Vec<u32>>,
    unit_hist: Vec<u32>,
    building_hist: Vec<u32>,
    campus_hist: Vec<u32>,
    tray_gpu_free: Vec<u64>,
    partial_pos: Vec<u32>,
    partial: Vec<Vec<u32>>,
    free_gpus: Vec<u64>,
}

fn full_mask(n: u32) -> u64 {
    if n >= 64 { u64::MAX } else { (1u64 << n) - 1 }
}

impl FreeIndex {
    /// An index with nothing free.
    pub fn empty(topo: &Topology) -> FreeIndex {
        let width = topo.max_domain_trays + 1;
        FreeIndex {
            width,
            skus: topo.skus,
            domain_mask: vec![0; topo.domains()],
            bucket_pos: vec![NONE; topo.domains()],
            buckets: vec![Vec::new(); topo.skus * width],
            unit_hist: vec![0; topo.units() * width],
            building_hist: vec![0; topo.buildings() * topo.skus * width],
            campus_hist: vec![0; topo.skus * width],
            tray_gpu_free: vec![0; topo.tray_domain.len()],
            partial_pos: vec![NONE; topo.tray_domain.len()],
            partial: vec![Vec::new(); topo.skus * GPU_BUCKETS],
            free_gpus: vec![0; topo.skus],
        }
    }

    pub fn memory_bytes(&self) -> usize {
        let vecs: usize = self
            .buckets
            .iter()
            .chain(&self.partial)
            .map(|b| b.capacity() * 4 + 24)
            .sum();
        vecs + self.domain_mask.capacity() * 8
            + self.bucket_pos.capacity() * 4
            + (self.unit_hist.capacity()
                + self.building_hist.capacity()
                + self.campus_hist.capacity())
                * 4
            + self.tray_gpu_free.capacity() * 8
            + self.partial_pos.capacity() * 4
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn free_gpus(&self, sku: u16) -> u64 {
        self.free_gpus[usize::from(sku)]
    }

    /// Free GPU bits of a tray (all bits for a wholly free tray, 0 if absent).
    pub fn tray_free_mask(&self, t: u32) -> u64 {
        self.tray_gpu_free[t as usize]
    }

    pub fn domain_mask(&self, d: u32) -> u64 {
        self.domain_mask[d as usize]
    }

    pub fn domain_free(&self, d: u32) -> u32 {
        self.domain_mask[d as usize].count_ones()
    }

    pub fn unit_hist(&self, u: u32) -> &[u32] {
        let w = self.width;
        &self.unit_hist[u as usize * w..(u as usize + 1) * w]
    }

    pub fn building_hist(&self, b: u16, sku: u16) -> &[u32] {
        let w = self.width;
        let i = (usize::from(b) * self.skus + usize::from(sku)) * w;
        &self.building_hist[i..i + w]
    }

    pub fn campus_hist(&self, sku: u16) -> &[u32] {
        let w = self.width;
        &self.campus_hist[usize::from(sku) * w..(usize::from(sku) + 1) * w]
    }

    /// Domains of `sku` with exactly `free` whole trays free.
    pub fn bucket(&self, sku: u16, free: usize) -> &[u32] {
        &self.buckets[usize::from(sku) * self.width + free]
    }

    /// Trays of `sku` with exactly `free` GPUs free and some busy.
    pub fn partial_bucket(&self, sku: u16, free: u32) -> &[u32] {
        &self.partial[usize::from(sku) * GPU_BUCKETS + free as usize]
    }

    fn move_domain(&mut self, topo: &Topology, d: u32, old: u32, new: u32) {
        if old == new {
            return;
        }
        let di = d as usize;
        let sku = usize::from(topo.domain_sku[di]);
        let w = self.width;
        let unit = topo.domain_unit[di] as usize;
        let b = usize::from(topo.domain_building[di]);
        let (old, new) = (old as usize, new as usize);
        self.unit_hist[unit * w + old] -= 1;
        self.unit_hist[unit * w + new] += 1;
        self.building_hist[(b * self.skus + sku) * w + old] -= 1;
        self.building_hist[(b * self.skus + sku) * w + new] += 1;
        self.campus_hist[sku * w + old] -= 1;
        self.campus_hist[sku * w + new] += 1;
        if old > 0 {
            let bucket = &mut self.buckets[sku * w + old];
            let pos = self.bucket_pos[di] as usize;
            bucket.swap_remove(pos);
            if let Some(&moved) = bucket.get(pos) {
                self.bucket_pos[moved as usize] = pos as u32;
            }
            self.bucket_pos[di] = NONE;
        }
        if new > 0 {
            let bucket = &mut self.buckets[sku * w + new];
            self.bucket_pos[di] = bucket.len() as u32;
            bucket.push(d);
        }
    }

    /// Whether `other` has this index's dimensions (same campus).
    pub fn same_shape(&self, other: &FreeIndex) -> bool {
        self.width == other.width
            && self.skus == other.skus
            && self.domain_mask.len() == other.domain_mask.len()
            && self.bucket_pos.len() == other.bucket_pos.len()
            && self.buckets.len() == other.buckets.len()
            && self.unit_hist.len() == other.unit_hist.len()
            && self.building_hist.len() == other.building_hist.len()
            && self.campus_hist.len() == other.campus_hist.len()
            && self.tray_gpu_free.len() == other.tray_gpu_free.len()
            && self.partial_pos.len() == other.partial_pos.len()
            && self.partial.len() == other.partial.len()
            && self.free_gpus.len() == other.free_gpus.len()
    }

    /// Checks that the buckets and their positions agree with the masks:
    /// every domain with free trays sits once in the bucket of its count,
    /// every partly free tray once in the bucket of its free GPUs.
    pub fn check_buckets(&self, topo: &Topology) -> Result<(), String> {
        let w = self.width;
        let mut seen = vec![false; self.domain_mask.len()];
        for (i, bucket) in self.buckets.iter().enumerate() {
            let (sku, free) = (i / w, i % w);
            for (pos, &d) in bucket.iter().enumerate() {
                let di = d as usize;
                if di >= seen.len() || seen[di] {
                    return Err(format!("domain {d} is filed twice or does not exist"));
                }
                seen[di] = true;
                if usize::from(topo.domain_sku[di]) != sku
                    || self.domain_mask[di].count_ones() as usize != free
                    || self.bucket_pos[di] as usize != pos
                {
                    return Err(format!("domain {d} is in the wrong bucket"));
                }
            }
        }
        for (d, &m) in self.domain_mask.iter().enumerate() {
            if (m != 0) != seen[d] || (m == 0 && self.bucket_pos[d] != NONE) {
                return Err(format!("domain {d} is missing from its bucket"));
            }
        }
        let mut seen = vec![false; self.tray_gpu_free.len()];
        for (i, bucket) in self.partial.iter().enumerate() {
            let (sku, free) = (i / GPU_BUCKETS, i % GPU_BUCKETS);
            for (pos, &t) in bucket.iter().enumerate() {
                let ti = t as usize;
                if ti >= seen.len() || seen[ti] {
                    return Err(format!("tray {t} is filed twice or does not exist"));
                }
                seen[ti] = true;
                let full = Self::tray_full(topo, t);
                let m = self.tray_gpu_free[ti];
                if usize::from(topo.sku_of_tray(t).0) != sku
                    || m.count_ones() as usize != free
                    || m == 0
                    || m == full
                    || self.partial_pos[ti] as usize != pos
                {
                    return Err(format!("tray {t} is in the wrong partial bucket"));
                }
            }
        }
        for (t, &m) in self.tray_gpu_free.iter().enumerate() {
            let partly = m != 0 && m != Self::tray_full(topo, t as u32);
            if partly != seen[t] || (!partly && self.partial_pos[t] != NONE) {
                return Err(format!("tray {t} is missing from its partial bucket"));
            }
        }
        Ok(())
    }

    /// Registers every domain with zero free trays; call once before inserts.
    pub fn init_histograms(&mut self, topo: &Topology) {
        let w = self.width;
        for d in 0..topo.domains() {
            let sku = usize::from(topo.domain_sku[d]);
            self.unit_hist[topo.domain_unit[d] as usize * w] += 1;
            self.building_hist[(usize::from(topo.domain_building[d]) * self.skus + sku) * w] += 1;
            self.campus_hist[sku * w] += 1;
        }
    }

    fn partial_remove(&mut self, topo: &Topology, t: u32) {
        let ti = t as usize;
        if self.partial_pos[ti] == NONE {
            return;
        }
        let sku = usize::from(topo.sku_of_tray(t).0);
        let free = self.tray_gpu_free[ti].count_ones() as usize;
        let bucket = &mut self.partial[sku * GPU_BUCKETS + free];
        let pos = self.partial_pos[ti] as usize;
        bucket.swap_remove(pos);
        if let Some(&moved) = bucket.get(pos) {
            self.partial_pos[moved as usize] = pos as u32;
        }
        self.partial_pos[ti] = NONE;
    }

    fn partial_insert(&mut self, topo: &Topology, t: u32) {
        let ti = t as usize;
        let sku = usize::from(topo.sku_of_tray(t).0);
        let free = self.tray_gpu_free[ti].count_ones() as usize;
        let bucket = &mut self.partial[sku * GPU_BUCKETS + free];
        self.partial_pos[ti] = bucket.len() as u32;
        bucket.push(t);
    }

    fn tray_full(topo: &Topology, t: u32) -> u64 {
        full_mask(u32::from(topo.tray_gpus[t as usize]))
    }

    /// Returns GPUs `mask` of tray `t` to the index.
    pub fn release(&mut self, topo: &Topology, t: u32, mask: u64) {
        let ti = t as usize;
        let full = Self::tray_full(topo, t);
        let old = self.tray_gpu_free[ti];
        debug_assert_eq!(old & mask, 0, "tray {t}: GPUs released twice");
        let new = old | mask;
        let sku = topo.sku_of_tray(t).0;
        self.free_gpus[usize::from(sku)] += u64::from(mask.count_ones());
        self.partial_remove(topo, t);
        self.tray_gpu_free[ti] = new;
        if new == full {
            let d = topo.tray_domain[ti];
            let bit = 1u64 << (t - topo.domain_first_tray[d as usize]);
            let before = self.domain_mask[d as usize].count_ones();
            self.domain_mask[d as usize] |= bit;
            self.move_domain(topo, d, before, before + 1);
        } else {
            self.partial_insert(topo, t);
        }
    }

    /// Takes GPUs `mask` of tray `t` out of the index; they must be free.
    pub fn take(&mut self, topo: &Topology, t: u32, mask: u64) {
        let ti = t as usize;
        let full = Self::tray_full(topo, t);
        let old = self.tray_gpu_free[ti];
        debug_assert_eq!(old & mask, mask, "tray {t}: taking GPUs that are not free");
        let sku = topo.sku_of_tray(t).0;
        self.free_gpus[usize::from(sku)] -= u64::from(mask.count_ones());
        if old == full {
            let d = topo.tray_domain[ti];
            let bit = 1u64 << (t - topo.domain_first_tray[d as usize]);
            let before = self.domain_mask[d as usize].count_ones();
            self.domain_mask[d as usize] &= !bit;
            self.move_domain(topo, d, before, before - 1);
        } else {
            self.partial_remove(topo, t);
        }
        let new = old & !mask;
        self.tray_gpu_free[ti] = new;
        if new != 0 {
            self.partial_insert(topo, t);
        }
    }

    /// Takes whatever of tray `t` is free; returns the GPUs taken.
    pub fn take_all(&mut self, topo: &Topology, t: u32) -> u64 {
        let mask = self.tray_gpu_free[t as usize];
        if mask != 0 {
            self.take(topo, t, mask);
        }
        mask
    }
}

/// Chunks of `k` trays that domains counted in `hist` can hold.
pub fn chunks_in(hist: &[u32], k: usize) -> u64 {
    hist.iter()
        .enumerate()
        .skip(k)
        .map(|(free, &n)| u64::from(n) * (free / k) as u64)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use abilene_model::{Campus, preset};

    fn tiny() -> (Campus, Topology) {
        let p = preset::preset("tiny").unwrap();
        let c = Campus::load(p.file, p.toml).unwrap();
        let t = Topology::new(&c).unwrap();
        (c, t)
    }

    #[test]
    fn release_and_take_keep_histograms_true() {
        let (_c, topo) = tiny();
        let mut f = FreeIndex::empty(&topo);
        f.init_histograms(&topo);
        for t in 0..topo.tray_domain.len() as u32 {
            f.release(&topo, t, full_mask(u32::from(topo.tray_gpus[t as usize])));
        }
        let sku = topo.sku_index("gb200-nvl72").unwrap();
        // 8 GB200 racks, each a full 18-tray domain.
        assert_eq!(f.campus_hist(sku)[18], 8);
        assert_eq!(chunks_in(f.campus_hist(sku), 16), 8);
        assert_eq!(f.free_gpus(sku), 576);
        f.take(&topo, 0, 0b0011);
        assert_eq!(f.campus_hist(sku)[17], 1);
        assert_eq!(f.partial_bucket(sku, 2), &[0]);
        f.take(&topo, 0, 0b1100);
        assert!(f.partial_bucket(sku, 2).is_empty());
        f.release(&topo, 0, 0b1111);
        assert_eq!(f.campus_hist(sku)[18], 8);
        assert_eq!(f.free_gpus(sku), 576);
    }
}
