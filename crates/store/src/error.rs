use canopy_domain::CustomerId;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{entity} not found")]
    NotFound { entity: &'static str },
    /// A unique field (phone, email, ID number) already belongs to another customer.
    #[error("another customer already has this {field}")]
    DuplicateCustomer {
        field: &'static str,
        existing: Option<CustomerId>,
    },
    /// A unique field of something other than a customer (a username) is already taken.
    #[error("another {entity} already has this {field}")]
    Duplicate {
        entity: &'static str,
        field: &'static str,
    },
    #[error("{0}")]
    Conflict(String),
    /// A request the current state refuses, with a stable code (an erasure while orders are open,
    /// re-creating a person whose data was erased).
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    /// Input that only the database can judge (an unknown SKU, a return of more than was sold).
    #[error("{field}: {message}")]
    Invalid {
        field: String,
        code: &'static str,
        message: String,
    },
    /// An `Idempotency-Key` sent again with a different request.
    #[error("this Idempotency-Key was already used for a different request")]
    IdempotencyKeyReused,
    #[error(transparent)]
    IllegalTransition(#[from] canopy_orders::IllegalTransition),
    /// The limits engine could not decide (no rules for the class, a missing measure …).
    #[error("purchase limits: {0}")]
    Limits(#[from] canopy_limits::LimitsError),
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A loyalty rule refused the operation (not enough points, no reason given, …).
    #[error(transparent)]
    Loyalty(#[from] canopy_loyalty::LoyaltyError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    pub fn invalid(
        field: impl Into<String>,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        StoreError::Invalid {
            field: field.into(),
            code,
            message: message.into(),
        }
    }

    /// Unique-constraint violations from either engine.
    pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
        matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
    }
}
