//! How close two trays are, on the shipped presets: known pairs, HGX nodes,
//! symmetry against a slow reference, and the GPU <-> tray index.

use std::sync::LazyLock;

use abilene_model::{Campus, Proximity, TrayId, preset};
use proptest::prelude::*;

fn load(name: &str) -> Campus {
    let p = preset::preset(name).expect("shipped preset");
    Campus::load(p.file, p.toml).unwrap_or_else(|e| panic!("{name}: {e}"))
}

static TINY: LazyLock<Campus> = LazyLock::new(|| load("tiny"));
static ABILENE: LazyLock<Campus> = LazyLock::new(|| load("abilene"));

/// Tray `slot` of rack `rack`.
fn tray(c: &Campus, rack: u32, slot: u32) -> TrayId {
    let r = &c.racks[rack as usize];
    assert!(
        slot < r.trays.end - r.trays.start,
        "rack {rack} has no slot {slot}"
    );
    TrayId(r.trays.start + slot)
}

/// The first rack of unit `unit`.
fn unit_rack(c: &Campus, unit: u32, nth: u32) -> u32 {
    let u = &c.units[unit as usize];
    assert!(nth < u.racks.end - u.racks.start);
    u.racks.start + nth
}

/// Proximity from first principles: a tray's NVLink domain is its rack and
/// its slot divided by the SKU's domain size; its leaf group is its rack's
/// unit; its building its rack's building.
fn reference(c: &Campus, a: TrayId, b: TrayId) -> Proximity {
    let (ta, tb) = (c.tray(a), c.tray(b));
    let (ra, rb) = (&c.racks[ta.rack.index()], &c.racks[tb.rack.index()]);
    let domain = |t: &abilene_model::Tray| {
        let n = c.sku(t.sku).nvlink_domain_trays;
        (t.rack, u32::from(t.slot) / n)
    };
    if a == b {
        Proximity::Tray
    } else if domain(ta) == domain(tb) {
        Proximity::NvlinkDomain
    } else if ra.unit == rb.unit {
        Proximity::LeafGroup
    } else if ra.building == rb.building {
        Proximity::Building
    } else {
        Proximity::Campus
    }
}

/// Check a pair both ways, against the reference too.
#[track_caller]
fn check(c: &Campus, a: TrayId, b: TrayId, want: Proximity) {
    assert_eq!(c.proximity(a, b), want, "proximity({a}, {b})");
    assert_eq!(c.proximity(b, a), want, "proximity({b}, {a})");
    assert_eq!(reference(c, a, b), want, "reference({a}, {b})");
}

#[test]
fn tiny_known_pairs() {
    let c = &*TINY;
    // B1/H1: 2 units of 4 GB200 NVL72 racks; B2: a GB300 unit, an HGX unit.
    assert_eq!(c.buildings.len(), 2);
    assert_eq!(c.units.len(), 4);
    let r0 = unit_rack(c, 0, 0);
    let t = tray(c, r0, 0);
    check(c, t, t, Proximity::Tray);
    check(c, t, tray(c, r0, 1), Proximity::NvlinkDomain);
    check(c, t, tray(c, r0, 17), Proximity::NvlinkDomain);
    check(c, t, tray(c, unit_rack(c, 0, 1), 0), Proximity::LeafGroup);
    check(c, t, tray(c, unit_rack(c, 0, 3), 17), Proximity::LeafGroup);
    check(c, t, tray(c, unit_rack(c, 1, 0), 0), Proximity::Building);
    // Another hall of another building.
    check(c, t, tray(c, unit_rack(c, 2, 0), 0), Proximity::Campus);
    check(c, t, tray(c, unit_rack(c, 3, 3), 3), Proximity::Campus);
    // Two halls of B2 share only the building.
    check(
        c,
        tray(c, unit_rack(c, 2, 0), 0),
        tray(c, unit_rack(c, 3, 0), 0),
        Proximity::Building,
    );
    assert_ne!(
        c.units[2].hall, c.units[3].hall,
        "B2's units sit in two halls"
    );
}

#[test]
fn tiny_units_and_buildings_are_where_the_preset_says() {
    let c = &*TINY;
    let sku = |u: usize| c.catalog.key(c.units[u].sku).to_string();
    assert_eq!(sku(0), "gb200-nvl72");
    assert_eq!(sku(1), "gb200-nvl72");
    assert_eq!(sku(2), "gb300-nvl72");
    assert_eq!(sku(3), "hgx-h100");
    assert_eq!(c.units[1].building, c.units[0].building);
    assert_ne!(c.units[2].building, c.units[0].building);
    for u in &c.units {
        assert_eq!(u.racks.end - u.racks.start, 4);
    }
}

#[test]
fn hgx_trays_in_one_rack_are_separate_nvlink_domains() {
    let c = &*TINY;
    let hgx = c.catalog.lookup("hgx-h100").unwrap();
    let rack = c
        .racks
        .iter()
        .position(|r| r.sku == hgx)
        .expect("tiny has HGX racks") as u32;
    let r = &c.racks[rack as usize];
    assert_eq!(r.trays.end - r.trays.start, 4);
    let (a, b) = (tray(c, rack, 0), tray(c, rack, 1));
    assert_eq!(c.tray(a).rack, c.tray(b).rack);
    assert_ne!(c.tray(a).domain, c.tray(b).domain);
    check(c, a, b, Proximity::LeafGroup);
    assert_ne!(c.proximity(a, b), Proximity::NvlinkDomain);
    // An HGX node is one 8-GPU NVLink domain.
    assert_eq!(c.tray(a).gpus, 8);
    check(c, a, a, Proximity::Tray);
    // HGX racks of one unit also share only the leaf group.
    check(c, a, tray(c, rack + 1, 0), Proximity::LeafGroup);
}

#[test]
fn nvl72_rack_is_one_nvlink_domain() {
    for c in [&*TINY, &*ABILENE] {
        let gb200 = c.catalog.lookup("gb200-nvl72").unwrap();
        let rack = c.racks.iter().position(|r| r.sku == gb200).unwrap() as u32;
        let domains: Vec<_> = c.racks[rack as usize]
            .trays
            .clone()
            .map(|t| c.tray(TrayId(t)).domain)
            .collect();
        assert_eq!(domains.len(), 18);
        assert!(domains.iter().all(|d| *d == domains[0]));
        let gpus: u32 = c.racks[rack as usize]
            .trays
            .clone()
            .map(|t| u32::from(c.tray(TrayId(t)).gpus))
            .sum();
        assert_eq!(gpus, 72);
    }
}

#[test]
fn abilene_known_pairs() {
    let c = &*ABILENE;
    assert_eq!(c.buildings.len(), 8);
    // 4 halls x 11 units per building, 16 racks per unit.
    assert_eq!(c.units.len(), 8 * 4 * 11);
    let t = tray(c, unit_rack(c, 0, 0), 0);
    check(c, t, t, Proximity::Tray);
    check(
        c,
        t,
        tray(c, unit_rack(c, 0, 0), 9),
        Proximity::NvlinkDomain,
    );
    check(c, t, tray(c, unit_rack(c, 0, 15), 0), Proximity::LeafGroup);
    check(c, t, tray(c, unit_rack(c, 1, 0), 0), Proximity::Building);
    // Unit 11 is the first of the second hall of B1.
    assert_eq!(c.units[11].building, c.units[0].building);
    assert_ne!(c.units[11].hall, c.units[0].hall);
    check(c, t, tray(c, unit_rack(c, 11, 0), 0), Proximity::Building);
    // Unit 44 is the first of B2; the last unit is in B8.
    assert_ne!(c.units[44].building, c.units[0].building);
    check(c, t, tray(c, unit_rack(c, 44, 0), 0), Proximity::Campus);
    let last = c.units.len() as u32 - 1;
    check(c, t, tray(c, unit_rack(c, last, 15), 17), Proximity::Campus);
}

#[test]
fn every_level_occurs_in_abilene() {
    let c = &*ABILENE;
    let t = TrayId(0);
    let mut seen: Vec<Proximity> = (0..c.tray_count())
        .step_by(97)
        .map(|i| c.proximity(t, TrayId(i)))
        .collect();
    seen.push(c.proximity(t, TrayId(1)));
    seen.sort();
    seen.dedup();
    assert_eq!(seen, Proximity::ALL.to_vec());
    // Closest first.
    assert!(Proximity::ALL.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn tray_fields_agree_with_their_rack() {
    for c in [&*TINY, &*ABILENE] {
        for (i, t) in c.trays.iter().enumerate() {
            let r = &c.racks[t.rack.index()];
            assert!(r.trays.contains(&(i as u32)), "tray {i} not in its rack");
            assert_eq!(u32::from(t.slot), i as u32 - r.trays.start);
            assert_eq!(t.unit, r.unit);
            assert_eq!(t.hall, r.hall);
            assert_eq!(t.building, r.building);
            assert_eq!(t.sku, r.sku);
            let u = &c.units[t.unit.index()];
            assert!(u.racks.contains(&t.rack.0));
            assert_eq!(u.building, t.building);
        }
        assert_eq!(
            c.trays.last().map(|t| t.domain.0 + 1),
            Some(c.domains),
            "domain ids are dense"
        );
    }
}

#[test]
fn gpu_tray_and_tray_gpus_agree() {
    for c in [&*TINY, &*ABILENE] {
        let mut next = 0u32;
        for t in 0..c.tray_count() {
            let gpus = c.tray_gpus(TrayId(t));
            assert_eq!(gpus.start, next, "GPUs of tray {t} follow the last tray's");
            assert_eq!(gpus.len(), usize::from(c.tray(TrayId(t)).gpus));
            for g in gpus.clone() {
                assert_eq!(c.gpu_tray[g as usize], TrayId(t));
            }
            next = gpus.end;
        }
        assert_eq!(next, c.gpu_count());
        for (g, &t) in c.gpu_tray.iter().enumerate() {
            assert!(
                c.tray_gpus(t).contains(&(g as u32)),
                "GPU {g} not in its tray {t}"
            );
        }
    }
}

#[test]
fn building_ranges_partition_the_campus() {
    for c in [&*TINY, &*ABILENE] {
        let (mut racks, mut trays, mut gpus) = (0, 0, 0);
        for b in &c.buildings {
            assert_eq!(b.racks.start, racks);
            assert_eq!(b.trays.start, trays);
            assert_eq!(b.gpus.start, gpus);
            (racks, trays, gpus) = (b.racks.end, b.trays.end, b.gpus.end);
        }
        assert_eq!(racks as usize, c.racks.len());
        assert_eq!(trays, c.tray_count());
        assert_eq!(gpus, c.gpu_count());
    }
}

#[test]
fn tiny_and_abilene_sizes() {
    assert_eq!(TINY.gpu_count(), 992);
    assert_eq!(ABILENE.gpu_count(), 405_504);
    assert_eq!(ABILENE.tray_count(), 405_504 / 4);
    assert_eq!(ABILENE.racks.len(), 8 * 704);
    assert_eq!(ABILENE.domains, 8 * 704, "one NVLink domain per NVL72 rack");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn abilene_proximity_is_symmetric_and_matches_the_reference(
        a in 0..ABILENE.tray_count(),
        b in 0..ABILENE.tray_count(),
    ) {
        let c = &*ABILENE;
        let (a, b) = (TrayId(a), TrayId(b));
        let p = c.proximity(a, b);
        prop_assert_eq!(p, c.proximity(b, a));
        prop_assert_eq!(p, reference(c, a, b));
        // Domain ids agree with the reference's idea of a domain.
        let same_domain = c.tray(a).domain == c.tray(b).domain;
        prop_assert_eq!(same_domain, p <= Proximity::NvlinkDomain);
    }

    #[test]
    fn abilene_near_pairs_match_the_reference(
        a in 0..ABILENE.tray_count(),
        offset in 0u32..400,
    ) {
        // Uniform pairs are nearly all across buildings; these are close.
        let c = &*ABILENE;
        let b = (a + offset).min(c.tray_count() - 1);
        let (a, b) = (TrayId(a), TrayId(b));
        prop_assert_eq!(c.proximity(a, b), reference(c, a, b));
        prop_assert_eq!(c.proximity(b, a), reference(c, b, a));
    }
}
