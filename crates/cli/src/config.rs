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
    /// Where `/metrics` is served (off when unset; `CANOPY_METRICS_LISTEN` wins).
    pub metrics_listen: Option<String>,
    /// ISO country for phone numbers typed without a country code (default US).
    pub phone_region: Option<String>,
    /// IANA time zone of the store (default: the machine's zone).
    pub time_zone: Option<String>,
    /// Base64 of 32 bytes: the key that encrypts ID images (`CANOPY_ID_IMAGE_KEY` wins).
    pub id_image_key: Option<String>,
    /// A file holding the ID image key (created on first start if missing): `CANOPY_ID_IMAGE_KEY_FILE`
    /// wins. Keep it apart from the database (another disk, a secrets mount) so that a copy of the
    /// database folder does not carry the key to its images.
    pub id_image_key_file: Option<String>,
    /// Private networks webhooks may reach besides the public internet (`10.1.2.3`, `10.8.0.0/16`,
    /// comma-separated): `CANOPY_WEBHOOK_ALLOW` wins.
    pub webhook_allow: Option<String>,
    /// Retired ID image keys, still used to open older images after a rotation.
    #[serde(default)]
    pub id_image_retired_keys: Vec<String>,
    /// Order-status texts (the `[sms]` table).
    #[serde(default)]
    pub sms: SmsFileConfig,
}

/// `[sms]`: which provider sends texts. Every key can also come from the environment (`CANOPY_SMS_*`,
/// `CANOPY_TWILIO_*`), which wins.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsFileConfig {
    /// `log` (default: append to a file, no account needed) or `twilio`.
    pub provider: Option<String>,
    /// The file the `log` provider appends to (default `canopy-sms.log`).
    pub log_path: Option<String>,
    pub twilio_account_sid: Option<String>,
    pub twilio_auth_token: Option<String>,
    /// The sending number in E.164, or a messaging service SID (`MG…`).
    pub twilio_from: Option<String>,
    /// Default `https://api.twilio.com`; any Twilio-compatible API works.
    pub twilio_base_url: Option<String>,
    /// Shared secret the provider must put in the inbound webhook URL (`?token=`).
    pub inbound_token: Option<String>,
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
pub const DEFAULT_SMS_LOG: &str = "canopy-sms.log";
