//! The one place the CLI finds a shipped campus by name.

use abilene_model::Campus;
use abilene_model::preset::Preset;
use anyhow::Result;

/// The shipped preset `name`, or an error listing those there are.
pub fn find(name: &str) -> Result<&'static Preset> {
    Ok(abilene_fixtures::preset(name)?)
}

/// The shipped preset `name`, loaded and validated.
pub fn load_preset(name: &str) -> Result<Campus> {
    Ok(abilene_fixtures::campus(name)?)
}
