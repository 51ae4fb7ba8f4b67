//! The background loops `canopy serve` runs: one sends due texts, one delivers due webhook events.
//!
//! Both follow the same shape: claim a batch with a lease (so another server process sharing the database
//! skips it), do the network call outside any transaction, then record the outcome only if the lease is
//! still ours. A crash between the call and the record leaves the row to be retried when its lease
//! expires; that window (at most the send timeout) is the only way a message can go out twice.

use std::sync::Arc;
use std::time::{Duration, Instant};

use canopy_domain::OutboundPolicy;
use canopy_store::{AttemptResult, DeliveryState, DueDelivery, SmsMessage, SmsOutcome, Store};
use jiff::{SignedDuration, Timestamp};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::backoff::Backoff;
use crate::sms::{SendError, SmsProvider, SmsProviderConfig};
use crate::{outbound, signature};

/// How the workers run. `Default` is what production uses.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub sms: SmsProviderConfig,
    pub sms_backoff: Backoff,
    pub webhook_backoff: Backoff,
    /// How often to look for due work when idle.
    pub poll_interval: Duration,
    /// How long a claim holds a row; longer than any single send can take.
    pub lease: SignedDuration,
    pub batch: u32,
    /// Per-request timeout for webhook deliveries.
    pub webhook_timeout: Duration,
    /// Where webhooks may connect: public addresses, plus the networks an operator allowed
    /// (`CANOPY_WEBHOOK_ALLOW`).
    pub webhook_policy: Arc<OutboundPolicy>,
}

impl WorkerConfig {
    pub fn new(sms: SmsProviderConfig) -> WorkerConfig {
        WorkerConfig {
            sms,
            sms_backoff: Backoff::SMS,
            webhook_backoff: Backoff::WEBHOOKS,
            poll_interval: Duration::from_secs(1),
            lease: SignedDuration::from_secs(60),
            batch: 20,
            webhook_timeout: Duration::from_secs(10),
            webhook_policy: Arc::new(OutboundPolicy::public_only()),
        }
    }
}

/// Running workers; [`Workers::shutdown`] lets the current batch finish and stops them.
pub struct Workers {
    stop: watch::Sender<bool>,
    handles: Vec<JoinHandle<()>>,
}

impl Workers {
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for handle in self.handles {
            let _ = handle.await;
        }
    }
}

/// Starts the SMS and webhook workers on the current runtime.
pub fn spawn(store: Store, config: WorkerConfig) -> Result<Workers, reqwest::Error> {
    let (stop, stopped) = watch::channel(false);
    let owner = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
    let sms = SmsWorker {
        store: store.clone(),
        provider: Arc::new(SmsProvider::new(config.sms.clone())?),
        owner: format!("sms-{owner}"),
        config: config.clone(),
    };
    let hooks = WebhookWorker::new(store, format!("webhooks-{owner}"), config.clone())?;
    let poll = config.poll_interval;
    let handles = vec![
        tokio::spawn(run_loop("sms", poll, stopped.clone(), move || {
            let worker = sms.clone();
            async move { worker.run_once().await }
        })),
        tokio::spawn(run_loop("webhooks", poll, stopped, move || {
            let worker = hooks.clone();
            async move { worker.run_once().await }
        })),
    ];
    Ok(Workers { stop, handles })
}

/// Runs `step` until stopped; a step that did work runs again at once, an idle or failing one waits.
async fn run_loop<F, Fut>(
    name: &'static str,
    poll: Duration,
    mut stopped: watch::Receiver<bool>,
    step: F,
) where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = canopy_store::Result<usize>>,
{
    tracing::info!(worker = name, "started");
    loop {
        if *stopped.borrow() {
            break;
        }
        let wait = match step().await {
            Ok(0) => poll,
            Ok(_) => Duration::ZERO,
            Err(err) => {
                tracing::warn!(worker = name, error = %err, "worker step failed");
                poll
            }
        };
        if !wait.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stopped.changed() => {}
            }
        }
    }
    tracing::info!(worker = name, "stopped");
}

/// Sends due order-status texts.
#[derive(Clone)]
pub struct SmsWorker {
    store: Store,
    provider: Arc<SmsProvider>,
    owner: String,
    config: WorkerConfig,
}

impl SmsWorker {
    pub fn new(store: Store, config: WorkerConfig) -> Result<SmsWorker, reqwest::Error> {
        Ok(SmsWorker {
            provider: Arc::new(SmsProvider::new(config.sms.clone())?),
            owner: format!("sms-{}", uuid::Uuid::new_v4().simple()),
            store,
            config,
        })
    }

    /// Claims and sends one batch; returns how many messages it handled.
    pub async fn run_once(&self) -> canopy_store::Result<usize> {
        let claimed = self
            .store
            .claim_due_sms(
                &self.owner,
                Timestamp::now(),
                self.config.lease,
                self.config.batch,
            )
            .await?;
        let n = claimed.len();
        for message in claimed {
            self.send(message).await?;
        }
        Ok(n)
    }

    async fn send(&self, message: SmsMessage) -> canopy_store::Result<()> {
        let outcome = if !self
            .store
            .transactional_sms_allowed(message.customer_id)
            .await?
        {
            SmsOutcome::Skipped {
                reason: "transactional SMS consent revoked after the message was queued".into(),
            }
        } else {
            match self.provider.send(&message.to, &message.body).await {
                Ok(provider_message_id) => SmsOutcome::Sent {
                    provider_message_id,
                },
                Err(SendError::Permanent(error)) => SmsOutcome::Failed { error },
                Err(SendError::Temporary(error)) => {
                    match self.config.sms_backoff.delay_after(message.attempts) {
                        Some(delay) => SmsOutcome::Retry {
                            error,
                            at: Timestamp::now()
                                .saturating_add(delay)
                                .unwrap_or_else(|_| Timestamp::now()),
                        },
                        None => SmsOutcome::Failed { error },
                    }
                }
            }
        };
        match &outcome {
            SmsOutcome::Sent { .. } => {
                tracing::info!(sms = %message.id, provider = self.provider.name(), attempt = message.attempts, "sms sent")
            }
            SmsOutcome::Retry { error, at } => {
                metrics::counter!("canopy_delivery_failures_total", "outbox" => "sms", "final" => "false").increment(1);
                tracing::warn!(sms = %message.id, attempt = message.attempts, %error, retry_at = %at, "sms failed; will retry")
            }
            SmsOutcome::Failed { error } => {
                metrics::counter!("canopy_delivery_failures_total", "outbox" => "sms", "final" => "true").increment(1);
                tracing::error!(sms = %message.id, attempt = message.attempts, %error, "sms failed; giving up")
            }
            SmsOutcome::Skipped { reason } => {
                tracing::info!(sms = %message.id, %reason, "sms skipped")
            }
        }
        if !self
            .store
            .finish_sms(message.id, &self.owner, &outcome, Timestamp::now())
            .await?
        {
            tracing::warn!(sms = %message.id, "lease lost before the outcome was recorded");
        }
        Ok(())
    }
}

/// Delivers due webhook events, signed.
#[derive(Clone)]
pub struct WebhookWorker {
    store: Store,
    client: reqwest::Client,
    owner: String,
    config: WorkerConfig,
}

impl WebhookWorker {
    pub fn new(
        store: Store,
        owner: String,
        config: WorkerConfig,
    ) -> Result<WebhookWorker, reqwest::Error> {
        let client =
            outbound::webhook_client(config.webhook_policy.clone(), config.webhook_timeout)?;
        Ok(WebhookWorker {
            store,
            client,
            owner,
            config,
        })
    }

    /// Claims and delivers one batch concurrently; returns how many deliveries it attempted.
    pub async fn run_once(&self) -> canopy_store::Result<usize> {
        let claimed = self
            .store
            .claim_due_webhook_deliveries(
                &self.owner,
                Timestamp::now(),
                self.config.lease,
                self.config.batch,
            )
            .await?;
        let n = claimed.len();
        let results = futures::future::join_all(claimed.into_iter().map(|d| self.deliver(d))).await;
        for result in results {
            result?;
        }
        Ok(n)
    }

    async fn deliver(&self, due: DueDelivery) -> canopy_store::Result<()> {
        let started = Instant::now();
        let timestamp = Timestamp::now().as_second();
        let header = signature::sign(&due.secret, timestamp, due.payload.as_bytes());
        if !outbound::literal_host_permitted(&due.url, &self.config.webhook_policy) {
            let error = outbound::DestinationNotAllowed.to_string();
            return self.record(&due, None, Some(error), 0).await;
        }
        let response = self
            .client
            .post(&due.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(signature::HEADER, header)
            .header("Canopy-Event-Id", due.event_id.to_string())
            .header("Canopy-Event-Type", &due.event_type)
            .header("Canopy-Delivery-Id", due.id.to_string())
            .body(due.payload.clone())
            .send()
            .await;
        let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let (status_code, error) = match response {
            Ok(r) if r.status().is_success() => (Some(r.status().as_u16()), None),
            Ok(r) => (
                Some(r.status().as_u16()),
                Some(format!("HTTP {}", r.status())),
            ),
            Err(e) => (None, Some(outbound::describe_failure(&e))),
        };
        self.record(&due, status_code, error, duration_ms).await
    }

    async fn record(
        &self,
        due: &DueDelivery,
        status_code: Option<u16>,
        error: Option<String>,
        duration_ms: i64,
    ) -> canopy_store::Result<()> {
        let (state, retry_at) = if error.is_none() {
            (DeliveryState::Delivered, None)
        } else {
            match self.config.webhook_backoff.delay_after(due.attempt) {
                Some(delay) => (
                    DeliveryState::Pending,
                    Some(
                        Timestamp::now()
                            .saturating_add(delay)
                            .unwrap_or_else(|_| Timestamp::now()),
                    ),
                ),
                None => (DeliveryState::Failed, None),
            }
        };
        match &error {
            None => {
                tracing::info!(delivery = %due.id, event = %due.event_type, attempt = due.attempt, "webhook delivered")
            }
            Some(e) => {
                let last = if state == DeliveryState::Failed {
                    "true"
                } else {
                    "false"
                };
                metrics::counter!("canopy_delivery_failures_total", "outbox" => "webhooks", "final" => last).increment(1);
                tracing::warn!(delivery = %due.id, event = %due.event_type, attempt = due.attempt, error = %e, ?state, "webhook attempt failed")
            }
        }
        let result = AttemptResult {
            status_code,
            error,
            duration_ms,
            state,
            retry_at,
        };
        if !self
            .store
            .record_webhook_attempt(due.id, &self.owner, due.attempt, &result, Timestamp::now())
            .await?
        {
            tracing::warn!(delivery = %due.id, "lease lost before the attempt was recorded");
        }
        Ok(())
    }
}
