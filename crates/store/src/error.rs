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
    /// The change would leave no active admin, so nobody could manage staff or keys any more.
    #[error("this is the last active admin; make someone else an admin first")]
    LastAdmin,
    /// A request the current state refuses, with a stable code (an erasure while orders are open,
    /// re-creating a person whose data was erased, undoing a merge whose points were spent);
    /// `message` says what to do.
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
    /// The database stayed locked by other writers (or every connection stayed taken) for longer than
    /// the wait allows. Nothing was written; the same request may simply be sent again.
    #[error("the database is busy: {0}")]
    Busy(sqlx::Error),
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A loyalty rule refused the operation (not enough points, no reason given, …).
    #[error(transparent)]
    Loyalty(#[from] canopy_loyalty::LoyaltyError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A file operation of a backup or restore failed.
    #[error("{what}: {source}")]
    Io {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The operation does not exist for this engine (a SQLite file backup of a PostgreSQL database).
    #[error("not supported here: {0}")]
    Unsupported(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        if is_busy(&err) {
            StoreError::Busy(err)
        } else {
            StoreError::Database(err)
        }
    }
}

/// Errors that mean "try again later" rather than "this request is wrong": SQLite's `SQLITE_BUSY` and
/// `SQLITE_LOCKED` (with their extended codes) once the busy timeout has passed, PostgreSQL's lock
/// timeouts, serialization failures and deadlocks, and a pool with no free connection in time.
fn is_busy(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                // Primary result code is the low byte of the extended one: 5 BUSY, 6 LOCKED.
                code.parse::<i32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6))
            } else {
                matches!(code.as_ref(), "55P03" | "40001" | "40P01")
            }
        }
        _ => false,
    }
}

impl From<canopy_orders::GateError> for StoreError {
    fn from(e: canopy_orders::GateError) -> Self {
        match e {
            canopy_orders::GateError::Invalid {
                field,
                code,
                message,
            } => StoreError::Invalid {
                field,
                code,
                message,
            },
            canopy_orders::GateError::Limits(e) => StoreError::Limits(e),
        }
    }
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
