//! Settings in layers: built-in defaults, then a TOML file (`--config`, `CANOPY_CONFIG`, or `./canopy.toml`
//! when present), then environment variables and flags (clap reads `CANOPY_*` for each flag).

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub db: Option<String>,
    pub listen: Option<String>,
    /// ISO country for phone numbers typed without a country code (default US).
    pub phone_region: Option<String>,
    /// IANA time zone of the store (default: the machine's zone).
    pub time_zone: Option<String>,
}

impl FileConfig {
    pub fn load(explicit: Option<&Path>) -> anyhow::Result<FileConfig> {
        let path: PathBuf = match explicit {
            Some(p) => p.to_path_buf(),
            None if Path::new("canopy.toml").exists() => PathBuf::from("canopy.toml"),
            None => return Ok(FileConfig::default()),
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("config file {}", path.display()))
    }
}

pub const DEFAULT_DB: &str = "canopy.db";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
