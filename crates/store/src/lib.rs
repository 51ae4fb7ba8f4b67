//! Canopy's storage: one [`Store`] over SQLite (embedded, the default) or PostgreSQL (chains).
//!
//! Every method is named for what it does (`create_customer`, `search_customers`), takes domain types and
//! returns domain types; sqlx never leaks out of this crate. Both engines run the same SQL text wherever
//! they agree (numbered `$n` parameters, `RETURNING`, `ON CONFLICT`); only search and DDL differ. Anything that
//! must happen together (a change and its audit row) happens in one transaction.
//!
//! Durability: SQLite runs in WAL mode with `synchronous=FULL`; PostgreSQL with `synchronous_commit=on`.
//! SQLite writes go through a single-connection pool, so writers queue in Rust instead of failing with
//! `SQLITE_BUSY`, while readers use their own pool and never wait for a writer.

pub(crate) mod audit;
mod backend;
mod backup;
mod checkins;
mod consent;
mod customers;
mod documents;
mod error;
pub(crate) mod events;
mod groups;
mod imports;
pub(crate) mod loyalty;
mod merges;
mod orders;
pub mod privacy;
mod retail;
mod schema;
mod search;
mod sms;
mod staff;
mod stats;
mod time;
pub(crate) mod verification;
mod webhooks;

pub use audit::{AuditEntry, AuditFilter, diff as audit_diff};
pub use backend::{Engine, MigrationStatus, Store};
pub use backup::{BackupReport, restore_sqlite, verify_sqlite_backup};
pub use checkins::{Checkin, CheckinOutcome, Dashboard};
pub use consent::KeywordOutcome;
pub use customers::{CustomerFilter, CustomerPage, NewCustomerRecord};
pub use documents::{
    DEFAULT_REVIEW_TARGET_MINUTES, NewSubmission, ProposedDocument, ReviewDecision, Submission,
    SubmissionFilter,
};
pub use error::StoreError;
pub use events::envelope as event_envelope;
pub use groups::GroupDraft;
pub use imports::{CustomerImport, ImportCounts};
pub use loyalty::merge::{MovedLot, MovedPoints};
pub use loyalty::{
    Earned, ExpiryReport, LoyaltyBalance, LoyaltyDrift, LoyaltyEntry, LoyaltyLiability,
    LoyaltyVerifyReport, Redeemed, Reversed,
};
pub use merges::{
    DuplicateCandidate, IntakeOutcome, Merge, Moved, MovedConsent, MovedLink, ReviewPage,
    ReviewPair, ScanReport,
};
pub use orders::{
    CheckoutOutcome, CheckoutRequest, CustomerStats, Evaluation, Idempotency, LineInput,
    LoyaltyReceipt, OrderFilter, OrderPage, ResolvedLine,
};
pub use privacy::{ErasureReport, PurgeReport, RetentionState};
pub use retail::ImportSummary;
pub use schema::SchemaDescription;
pub use search::{MAX_SEARCH_DEPTH, SearchPage};
pub use sms::{SmsFilter, SmsMessage, SmsOutcome, SmsState, SmsTemplateView};
pub use staff::{
    NewApiKey, NewSession, NewStaffUser, SessionRecord, SignInAttempt, SignInLimit, StaffPatch,
};
pub use stats::{OutboxDepth, PoolStats};
pub use time::{from_micros, to_micros};
pub use verification::{Compliance, LinkedCustomer, NewVerification, SealedImage};
pub use webhooks::{
    AttemptResult, DeliveryFilter, DeliveryState, DueDelivery, NewWebhookEndpoint, WebhookAttempt,
    WebhookDelivery, WebhookEndpoint, WebhookEndpointChange,
};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
