//! Valid campus specs survive TOML unchanged: a property test over random
//! small campuses, plus the shipped presets.

use std::collections::BTreeMap;

use abilene_model::catalog::builtin_skus;
use abilene_model::spec::*;
use abilene_model::validate::validate;
use abilene_model::{Campus, CampusSpec, Date, SkuSpec, preset};
use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;

const BUILTIN: [&str; 4] = ["gb200-nvl72", "gb300-nvl72", "hgx-b200", "hgx-h100"];

/// Free text: names, locations, file paths; never blank.
fn text() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9 _.,'\"\\\\/#=é-]{0,12}"
}

/// A table key, sometimes one that TOML must quote.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z][a-z0-9-]{0,8}",
        1 => "[a-z0-9 .\"'=#é\\[\\]]{1,6}",
    ]
}

fn site() -> impl Strategy<Value = SiteSpec> {
    (
        (text(), text(), option::of(text())),
        // The largest campus below draws 4 x 3 x 24 racks x 200 kW = 57.6 MW
        // of IT, 173 MW at PUE 3: every grid here supplies it.
        200.0..5000.0f64,
        1.0..=3.0f64,
        0.8..=1.0f64,
        option::of((1u32..=20, 0.5..60.0f64)),
        option::of((0.0..500.0f64, 0.0..2000.0f64)),
    )
        .prop_map(
            |((name, location, climate_file), grid, pue, pf, gas, battery)| SiteSpec {
                name,
                location,
                climate_file,
                grid_interconnect_mw: grid,
                design_pue: pue,
                power_factor: pf,
                gas_turbines: gas.map(|(count, mw_each)| GasTurbinesSpec { count, mw_each }),
                battery: battery.map(|(mw, mwh)| BatterySpec { mw, mwh }),
            },
        )
}

fn even_radix() -> impl Strategy<Value = u32> {
    (1u32..=256).prop_map(|r| r * 2)
}

fn fabric() -> impl Strategy<Value = FabricSpec> {
    (
        even_radix(),
        1.0..16.0f64,
        even_radix(),
        1.0..16.0f64,
        even_radix(),
    )
        .prop_map(|(lr, lo, sr, so, ssr)| FabricSpec {
            leaf: SwitchTierSpec {
                radix: lr,
                oversubscription: lo,
            },
            spine: SwitchTierSpec {
                radix: sr,
                oversubscription: so,
            },
            super_spine: SuperSpineSpec { radix: ssr },
        })
}

/// A valid rack type of at most 200 kW.
fn custom_sku() -> impl Strategy<Value = SkuSpec> {
    (1u32..=18)
        .prop_flat_map(|trays| {
            let divisors: Vec<u32> = (1..=trays).filter(|d| trays % d == 0).collect();
            (Just(trays), select(divisors))
        })
        .prop_flat_map(|(trays, domain)| {
            (
                (text(), text(), Just(trays), 1u32..=8, Just(domain)),
                (100.0..2000.0f64, 1.0..200.0f64, 0.1..=1.0f64),
                (0u32..=8, 1u32..=16, 1.01..2.0f64),
                (0.0..=1.0f64, 1u32..=4, 0u32..=1600),
                (0.0..10.0f64, 0.0..5.0f64, 1.0..300.0f64),
            )
        })
        .prop_map(
            |(
                (name, gpu, trays_per_rack, gpus_per_tray, nvlink_domain_trays),
                (gpu_tdp_w, rack_kw_max, typical_share),
                (power_shelves, psus, psu_headroom),
                (liquid_cooled_share, nics_per_gpu, nic_gbps),
                (fp8_pflops, bf16_pflops, hbm_gb),
            )| SkuSpec {
                name,
                gpu,
                trays_per_rack,
                gpus_per_tray,
                nvlink_domain_trays,
                gpu_tdp_w,
                rack_kw_typical: rack_kw_max * typical_share,
                rack_kw_max,
                power_shelves,
                psus,
                psu_kw: rack_kw_max / f64::from(psus) * psu_headroom,
                liquid_cooled_share,
                nics_per_gpu,
                nic_gbps,
                fp8_pflops,
                bf16_pflops,
                hbm_gb,
            },
        )
}

/// 1-2 groups of 1-3 units of 1-4 racks: at most 24 racks, 4.8 MW.
fn unit_groups(skus: Vec<String>) -> impl Strategy<Value = Vec<UnitGroupSpec>> {
    vec(
        (select(skus), 1u32..=3, 1u32..=4).prop_map(|(sku, count, racks_per_unit)| UnitGroupSpec {
            sku,
            count,
            racks_per_unit,
        }),
        1..=2,
    )
}

/// Cooling with at least 5 MW at every stage.
fn cooling() -> impl Strategy<Value = CoolingSpec> {
    (1u32..=6)
        .prop_flat_map(|count| {
            (
                (Just(count), 0..count, 5000.0..20000.0f64),
                (5.0..50.0f64, 5.0..50.0f64),
                (0u32..=5, 0.0..5.0f64, 5.0..20.0f64, -10.0..50.0f64),
            )
        })
        .prop_map(
            |(
                (count, redundant, capacity_kw),
                (facility_loop_mw, air_handlers_mw),
                (dry_coolers, dry_cooler_mw, chillers_mw, design_ambient_c),
            )| CoolingSpec {
                cdu: CduSpec {
                    count,
                    capacity_kw,
                    redundant,
                },
                facility_loop_mw,
                air_handlers_mw,
                heat_rejection: HeatRejectionSpec {
                    dry_coolers,
                    dry_cooler_mw,
                    chillers_mw,
                    design_ambient_c,
                },
            },
        )
}

/// A power chain that passes at least 10 MW at a power factor of 0.8.
fn power() -> impl Strategy<Value = PowerSpec> {
    (1u32..=6)
        .prop_flat_map(|count| {
            (
                (10.0..100.0f64, 13.0..100.0f64, 13.0..100.0f64),
                (Just(count), 0..count, 13.0..50.0f64),
                option::of(10.0..100.0f64),
            )
        })
        .prop_map(
            |((utility, substation, switchgear), (count, redundant, mva_each), ups_mw)| PowerSpec {
                utility_feed_mw: utility,
                substation_mva: substation,
                switchgear_mva: switchgear,
                transformers: TransformersSpec {
                    count,
                    mva_each,
                    redundant,
                },
                ups_mw,
            },
        )
}

fn hall_body(skus: Vec<String>) -> impl Strategy<Value = HallBody> {
    (unit_groups(skus), cooling(), power()).prop_map(|(scalable_units, cooling, power)| HallBody {
        scalable_units,
        cooling,
        power,
    })
}

/// A hall written inline, or naming a template with some parts overridden.
fn hall(skus: Vec<String>, templates: Vec<String>) -> BoxedStrategy<HallSpec> {
    // Hall ids become parts of location names: no spaces or slashes.
    let id = "[A-Za-z0-9][A-Za-z0-9_.-]{0,4}";
    let inline = (id, unit_groups(skus.clone()), cooling(), power()).prop_map(
        |(id, groups, cooling, power)| HallSpec {
            id,
            template: None,
            scalable_units: Some(groups),
            cooling: Some(cooling),
            power: Some(power),
        },
    );
    if templates.is_empty() {
        return inline.boxed();
    }
    let templated = (
        id,
        select(templates),
        option::of(unit_groups(skus)),
        option::of(cooling()),
        option::of(power()),
    )
        .prop_map(|(id, template, scalable_units, cooling, power)| HallSpec {
            id,
            template: Some(template),
            scalable_units,
            cooling,
            power,
        });
    prop_oneof![inline, templated].boxed()
}

fn building(skus: Vec<String>, templates: Vec<String>) -> impl Strategy<Value = BuildingSpec> {
    (
        "[A-Za-z0-9][A-Za-z0-9_.-]{0,4}",
        1u32..=5,
        // 1970-01-01 to 2134: always a 4-digit year.
        0i64..60_000,
        vec(hall(skus, templates), 1..=3),
    )
        .prop_map(|(id, phase, days, mut halls)| {
            // Hall ids must differ within a building.
            for (i, h) in halls.iter_mut().enumerate() {
                h.id = format!("{}{i}", h.id);
            }
            BuildingSpec {
                id,
                phase,
                commissioned: Date::from_days_since_epoch(days).to_string(),
                halls,
            }
        })
}

/// A small valid campus: 1-4 buildings of 1-3 halls, the built-in SKUs and
/// perhaps one of its own (new, or replacing a built-in), 0-2 templates.
fn campus() -> impl Strategy<Value = CampusSpec> {
    let custom = option::of((
        prop_oneof![key(), select(BUILTIN.to_vec()).prop_map(String::from)],
        custom_sku(),
    ));
    (site(), fabric(), custom)
        .prop_flat_map(|(site, fabric, custom)| {
            let skus: BTreeMap<String, SkuSpec> = custom.into_iter().collect();
            let mut keys: Vec<String> = BUILTIN.iter().map(|k| k.to_string()).collect();
            keys.extend(skus.keys().cloned());
            keys.sort();
            keys.dedup();
            let templates = btree_map(key(), hall_body(keys.clone()), 0..=2);
            (Just(site), Just(fabric), Just(skus), templates, Just(keys))
        })
        .prop_flat_map(|(site, fabric, skus, templates, keys)| {
            let names: Vec<String> = templates.keys().cloned().collect();
            let buildings = vec(building(keys, names), 1..=4);
            (
                Just(site),
                Just(fabric),
                Just(skus),
                Just(templates),
                buildings,
            )
        })
        .prop_map(|(site, fabric, skus, hall_templates, mut buildings)| {
            for (i, b) in buildings.iter_mut().enumerate() {
                b.id = format!("{}-{i}", b.id);
            }
            CampusSpec {
                site,
                fabric,
                skus,
                hall_templates,
                buildings,
            }
        })
}

/// Racks, trays and GPUs of a spec, counted straight from its tables.
fn reference_counts(spec: &CampusSpec) -> (usize, usize, usize) {
    let builtin = builtin_skus();
    let (mut racks, mut trays, mut gpus) = (0, 0, 0);
    for b in &spec.buildings {
        for h in &b.halls {
            let groups = match &h.scalable_units {
                Some(g) => g,
                None => &spec.hall_templates[h.template.as_ref().unwrap()].scalable_units,
            };
            for g in groups {
                let sku = spec.skus.get(&g.sku).unwrap_or_else(|| &builtin[&g.sku]);
                let r = (g.count * g.racks_per_unit) as usize;
                racks += r;
                trays += r * sku.trays_per_rack as usize;
                gpus += r * (sku.trays_per_rack * sku.gpus_per_tray) as usize;
            }
        }
    }
    (racks, trays, gpus)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn valid_specs_round_trip_through_toml(spec in campus()) {
        let diags = validate(&spec);
        prop_assert!(diags.is_empty(), "generated spec is invalid: {:?}", diags);

        let text = toml::to_string(&spec).expect("a spec serialises");
        let back: CampusSpec = match toml::from_str(&text) {
            Ok(back) => back,
            Err(e) => return Err(TestCaseError::fail(format!("{e}\n{text}"))),
        };
        prop_assert_eq!(&back, &spec, "round trip changed the spec:\n{}", text);

        let built = Campus::build(spec.clone()).expect("valid spec builds");
        let rebuilt = Campus::build(back).expect("round-tripped spec builds");
        prop_assert_eq!(rebuilt.gpu_count(), built.gpu_count());
        prop_assert_eq!(rebuilt.tray_count(), built.tray_count());
        prop_assert_eq!(rebuilt.racks.len(), built.racks.len());
        prop_assert_eq!(rebuilt.units.len(), built.units.len());
        prop_assert_eq!(rebuilt.halls.len(), built.halls.len());
        prop_assert_eq!(rebuilt.buildings.len(), spec.buildings.len());

        let (racks, trays, gpus) = reference_counts(&spec);
        prop_assert_eq!(built.racks.len(), racks);
        prop_assert_eq!(built.trays.len(), trays);
        prop_assert_eq!(built.gpu_count() as usize, gpus);

        // The text loads the same way through the file path too.
        let loaded = Campus::load("roundtrip.toml", &text)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(loaded.gpu_count(), built.gpu_count());
    }
}

#[test]
fn presets_round_trip_through_toml() {
    for p in preset::PRESETS {
        let spec: CampusSpec = toml::from_str(p.toml).unwrap_or_else(|e| panic!("{}: {e}", p.name));
        assert!(validate(&spec).is_empty(), "{} is invalid", p.name);
        let text = toml::to_string(&spec).unwrap();
        let back: CampusSpec = toml::from_str(&text).unwrap();
        assert_eq!(back, spec, "{} changed in a round trip", p.name);
        let (a, b) = (Campus::build(spec).unwrap(), Campus::build(back).unwrap());
        assert_eq!(a.gpu_count(), b.gpu_count(), "{}", p.name);
    }
}

#[test]
fn the_generator_makes_every_kind_of_hall() {
    // Guard against a generator that silently stops covering templates,
    // overrides or custom SKUs.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut templated, mut overridden, mut inline, mut custom, mut replaced) = (0, 0, 0, 0, 0);
    for _ in 0..256 {
        let spec = campus().new_tree(&mut runner).unwrap().current();
        for k in spec.skus.keys() {
            if BUILTIN.contains(&k.as_str()) {
                replaced += 1;
            } else {
                custom += 1;
            }
        }
        for h in spec.buildings.iter().flat_map(|b| &b.halls) {
            match (&h.template, &h.scalable_units, &h.cooling, &h.power) {
                (None, ..) => inline += 1,
                (Some(_), None, None, None) => templated += 1,
                (Some(_), ..) => overridden += 1,
            }
        }
    }
    for (what, n) in [
        ("inline halls", inline),
        ("template halls", templated),
        ("halls overriding a template", overridden),
        ("custom SKUs", custom),
        ("replaced built-in SKUs", replaced),
    ] {
        assert!(n > 0, "the generator made no {what}");
    }
}
