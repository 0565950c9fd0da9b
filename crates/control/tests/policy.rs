//! The control policy on the tiny campus, against the real scheduler.

use abilene_control::{Alarm, AlarmKind, Controller, Observation, PlantReading};
use abilene_model::{Campus, preset};
use abilene_scheduler::{Command, Config, JobId, JobSpec, PowerScope, Scheduler, TenantSpec};

fn scheduler() -> Scheduler {
    let p = preset::preset("tiny").expect("tiny preset");
    let campus = Campus::load(p.file, p.toml).expect("tiny loads");
    let tenants = vec![
        TenantSpec::new("operator", None),
        TenantSpec::new("lessee", Some("operator")),
        TenantSpec::new("project", Some("lessee")),
    ];
    Scheduler::new(&campus, Config::default(), &tenants).expect("valid set-up")
}

fn plant(shortfall: &[(&str, f64)], four_cp: bool) -> Observation {
    Observation::Plant(PlantReading {
        shortfall_kw: shortfall.iter().map(|(b, s)| (b.to_string(), *s)).collect(),
        it_kw: 1000.0,
        facility_kw: 1200.0,
        four_cp,
        own_generation_mw: 0.6,
        halls: Vec::new(),
        supply: Default::default(),
    })
}

#[test]
fn hardware_observations_become_tray_and_building_commands() {
    let s = scheduler();
    let tray = "B1/H1/R0001/T01".to_string();
    let mut c = Controller::new();
    let cmds = c.commands(
        &[
            Observation::TrayDown {
                tray: tray.clone(),
                cause: "GPU".into(),
            },
            Observation::TrayUp { tray: tray.clone() },
            Observation::TrayRequalified { tray: tray.clone() },
            Observation::Uncommissioned {
                building: "B2".into(),
            },
            Observation::Commissioned {
                building: "B2".into(),
            },
            Observation::JobExited { job: JobId(7) },
            Observation::Alarm(Alarm {
                kind: AlarmKind::Leak,
                location: "B1/H1/R0001".into(),
                message: "CDU 3 drip tray".into(),
            }),
            Observation::Alarm(Alarm {
                kind: AlarmKind::OverTemperature,
                location: "B1/H1".into(),
                message: "inlet 32 C".into(),
            }),
        ],
        &s,
    );
    assert_eq!(
        cmds,
        vec![
            Command::TrayFailed { tray: tray.clone() },
            Command::TrayRepaired { tray: tray.clone() },
            Command::ClearQuarantine { tray },
            Command::Drain {
                targets: vec!["B2".into()],
                reason: "not yet commissioned".into()
            },
            Command::Resume {
                targets: vec!["B2".into()]
            },
            Command::Complete(JobId(7)),
            Command::Drain {
                targets: vec!["B1/H1/R0001".into()],
                reason: "leak: CDU 3 drip tray".into()
            },
        ]
    );
}

#[test]
fn a_cooling_shortfall_caps_its_building_until_it_has_room_again() {
    let mut s = scheduler();
    let out = s.step(
        0,
        [Command::Submit(JobSpec::training(
            1,
            "project",
            "gb200-nvl72",
            72,
        ))],
    );
    assert!(out.results.iter().all(Result::is_ok));
    let draw = s.building_draw_kw();
    let mut c = Controller::new();
    let cmds = c.commands(&[plant(&[("B1", 50.0)], false)], &s);
    assert_eq!(
        cmds,
        vec![Command::SetPowerCap {
            scope: PowerScope::Building("B1".into()),
            kw: Some(draw[0] - 50.0),
        }]
    );
    // Still short: capped again at the new figure; then room: lifted once.
    let cmds = c.commands(&[plant(&[("B1", 10.0)], false)], &s);
    assert_eq!(cmds.len(), 1);
    let cmds = c.commands(&[plant(&[], false)], &s);
    assert_eq!(
        cmds,
        vec![Command::SetPowerCap {
            scope: PowerScope::Building("B1".into()),
            kw: None,
        }]
    );
    assert!(
        c.commands(&[plant(&[], false)], &s).is_empty(),
        "lifted only once"
    );
    // Every command the policy makes is one the scheduler accepts.
    let out = s.step(1, c.commands(&[plant(&[("B2", 1e9)], false)], &s));
    assert!(out.results.iter().all(Result::is_ok), "{:?}", out.results);
}

#[test]
fn a_4cp_hour_caps_the_campus_at_own_generation_then_lifts_it() {
    let s = scheduler();
    let mut c = Controller::new();
    let cmds = c.commands(&[plant(&[], true)], &s);
    let total: f64 = s.building_draw_kw().iter().sum();
    // 0.6 MW own generation at PUE 1.2, in the scheduler's units (its
    // projected draw over the plant's IT load of 1,000 kW).
    let want = 600.0 / 1.2 * (total / 1000.0);
    match cmds.as_slice() {
        [
            Command::SetPowerCap {
                scope: PowerScope::Campus,
                kw: Some(kw),
            },
        ] => assert!((kw - want).abs() < 1e-9, "{kw} vs {want}"),
        other => panic!("expected one campus cap, got {other:?}"),
    }
    assert_eq!(
        c.commands(&[plant(&[], false)], &s),
        vec![Command::SetPowerCap {
            scope: PowerScope::Campus,
            kw: None
        }]
    );
    assert!(c.commands(&[plant(&[], false)], &s).is_empty());
}
