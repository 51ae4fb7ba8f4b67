//! Canopy's outbound messaging: order-status texts through an SMS provider and signed webhook deliveries
//! to partners, each run by a background worker that `canopy serve` starts.
//!
//! What to send is decided elsewhere and written to outboxes in the database in the same transaction as
//! the change that caused it (`canopy_store`); this crate only drains those outboxes. That split is what
//! makes delivery reliable: a change that committed always has its message queued, a change that rolled
//! back never does, and a crashed server picks up where it left off.

pub mod backoff;
pub mod outbound;
pub mod signature;
pub mod sms;
pub mod worker;

pub use backoff::Backoff;
pub use sms::{SendError, SmsProvider, SmsProviderConfig, TwilioConfig};
pub use worker::{SmsWorker, WebhookWorker, WorkerConfig, Workers, spawn};

/// A reqwest error without its URL (which may carry an account id): the kind and the innermost cause.
pub(crate) fn describe_http_error(err: &reqwest::Error) -> String {
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {cause}")
    }
}
