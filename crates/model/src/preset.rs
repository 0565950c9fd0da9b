//! Campuses shipped in the binary; the same files sit in `presets/` for
//! users to copy and edit.

/// A shipped campus.
#[derive(Debug, Clone, Copy)]
pub struct Preset {
    pub name: &'static str,
    pub file: &'static str,
    pub about: &'static str,
    pub toml: &'static str,
}

pub const PRESETS: [Preset; 3] = [
    Preset {
        name: "abilene",
        file: "presets/abilene.toml",
        about: "all 8 buildings, ~1.2 GW, ~50,000 GB200 GPUs per building",
        toml: include_str!("../../../presets/abilene.toml"),
    },
    Preset {
        name: "abilene-phase1",
        file: "presets/abilene-phase1.toml",
        about: "the 2 buildings of phase 1, ~206 MW",
        toml: include_str!("../../../presets/abilene-phase1.toml"),
    },
    Preset {
        name: "tiny",
        file: "presets/tiny.toml",
        about: "2 small buildings with GB200, GB300 and HGX H100 racks, for tests and examples",
        toml: include_str!("../../../presets/tiny.toml"),
    },
];

pub fn preset(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

pub fn names() -> Vec<&'static str> {
    PRESETS.iter().map(|p| p.name).collect()
}
