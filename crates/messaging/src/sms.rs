//! SMS providers: a Twilio-compatible REST API, and a log file so that a new install works without an
//! account (every message lands in `canopy-sms.log` instead of a phone).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

/// Where texts go, chosen from configuration.
#[derive(Clone)]
pub enum SmsProviderConfig {
    /// Append each message as a JSON line to this file.
    Log {
        path: PathBuf,
    },
    Twilio(TwilioConfig),
}

impl fmt::Debug for SmsProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SmsProviderConfig::Log { path } => f.debug_struct("Log").field("path", path).finish(),
            SmsProviderConfig::Twilio(c) => c.fmt(f),
        }
    }
}

/// A Twilio account, or any service that speaks Twilio's Messages API.
#[derive(Clone)]
pub struct TwilioConfig {
    pub account_sid: String,
    pub auth_token: String,
    /// The sending number (E.164) or messaging service SID.
    pub from: String,
    /// `https://api.twilio.com` in production; a local server in tests.
    pub base_url: String,
}

impl fmt::Debug for TwilioConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TwilioConfig")
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"***")
            .field("from", &self.from)
            .field("base_url", &self.base_url)
            .finish()
    }
}

pub const TWILIO_BASE_URL: &str = "https://api.twilio.com";

/// Why a send failed, and whether trying again could help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Network trouble, rate limiting, a provider outage: retry later.
    #[error("temporary failure: {0}")]
    Temporary(String),
    /// The provider refused this message (bad number, unsubscribed recipient): retrying cannot help.
    #[error("refused: {0}")]
    Permanent(String),
}

pub enum SmsProvider {
    Log {
        path: PathBuf,
        lock: tokio::sync::Mutex<()>,
    },
    Twilio {
        config: TwilioConfig,
        client: reqwest::Client,
    },
}

/// Longer than this and the send is abandoned as a temporary failure; kept well inside the claim lease so
/// a slow provider cannot outlive the lease and let a second worker send the same message.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(15);

impl SmsProvider {
    pub fn new(config: SmsProviderConfig) -> Result<SmsProvider, reqwest::Error> {
        Ok(match config {
            SmsProviderConfig::Log { path } => SmsProvider::Log {
                path,
                lock: tokio::sync::Mutex::new(()),
            },
            SmsProviderConfig::Twilio(config) => SmsProvider::Twilio {
                client: reqwest::Client::builder()
                    .timeout(SEND_TIMEOUT)
                    .user_agent(concat!("canopy/", env!("CARGO_PKG_VERSION")))
                    .build()?,
                config,
            },
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            SmsProvider::Log { .. } => "log",
            SmsProvider::Twilio { .. } => "twilio",
        }
    }

    /// Sends one message; returns the provider's message id when it gives one.
    pub async fn send(&self, to: &str, body: &str) -> Result<Option<String>, SendError> {
        match self {
            SmsProvider::Log { path, lock } => {
                let line = serde_json::json!({
                    "at": jiff::Timestamp::now().to_string(),
                    "to": to,
                    "body": body,
                })
                .to_string();
                let _guard = lock.lock().await;
                let mut file = tokio::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .await
                    .map_err(|e| SendError::Temporary(format!("{}: {e}", path.display())))?;
                file.write_all(format!("{line}\n").as_bytes())
                    .await
                    .map_err(|e| SendError::Temporary(format!("{}: {e}", path.display())))?;
                file.flush()
                    .await
                    .map_err(|e| SendError::Temporary(e.to_string()))?;
                Ok(None)
            }
            SmsProvider::Twilio { config, client } => twilio_send(client, config, to, body).await,
        }
    }
}

async fn twilio_send(
    client: &reqwest::Client,
    config: &TwilioConfig,
    to: &str,
    body: &str,
) -> Result<Option<String>, SendError> {
    let url = format!(
        "{}/2010-04-01/Accounts/{}/Messages.json",
        config.base_url.trim_end_matches('/'),
        config.account_sid
    );
    let from_field = if config.from.starts_with("MG") {
        "MessagingServiceSid"
    } else {
        "From"
    };
    let response = client
        .post(&url)
        .basic_auth(&config.account_sid, Some(&config.auth_token))
        .form(&[
            ("To", to),
            (from_field, config.from.as_str()),
            ("Body", body),
        ])
        .send()
        .await
        .map_err(|e| SendError::Temporary(crate::describe_http_error(&e)))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    if status.is_success() {
        return Ok(json["sid"].as_str().map(str::to_string));
    }
    let detail = match (json["code"].as_i64(), json["message"].as_str()) {
        (Some(code), Some(message)) => format!("HTTP {status}: {code} {message}"),
        _ => format!("HTTP {status}"),
    };
    if status.as_u16() == 429 || status.is_server_error() {
        Err(SendError::Temporary(detail))
    } else {
        Err(SendError::Permanent(detail))
    }
}
