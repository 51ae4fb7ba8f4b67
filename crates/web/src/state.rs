use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use canopy_domain::{OutboundPolicy, Region};
use canopy_store::Store;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use crate::id_image_keys::IdImageKeys;

/// Server-wide settings, fixed at start.
#[derive(Clone)]
pub struct Settings {
    /// Region for phone numbers typed without a country code.
    pub phone_region: Region,
    /// The store's time zone: "today" and day boundaries are evaluated here, never in UTC.
    pub time_zone: TimeZone,
    /// Mark session cookies `Secure` (set when Canopy is served over HTTPS: `CANOPY_SECURE_COOKIES=1`).
    pub secure_cookies: bool,
    /// Take the client address from the last `X-Forwarded-For` entry (only behind a trusted reverse proxy:
    /// `CANOPY_TRUST_PROXY=1`); otherwise the peer address is used.
    pub trust_forwarded_for: bool,
    /// A session unused for this long ends (30 minutes).
    pub session_idle: SignedDuration,
    /// A session ends this long after sign-in however busy it is (12 hours).
    pub session_lifetime: SignedDuration,
    /// Keys for ID images at rest; `None` refuses image uploads and views (see `id_image_keys`).
    pub id_image_keys: Option<Arc<IdImageKeys>>,
    /// The shared secret the SMS provider puts in the inbound webhook URL (`?token=`); inbound SMS is off
    /// without one.
    pub sms_inbound_token: Option<String>,
    /// Where webhook endpoints may point: public addresses plus the operator's allow-list
    /// (`CANOPY_WEBHOOK_ALLOW`); checked when an endpoint is saved and again at every connection.
    pub webhook_policy: Arc<OutboundPolicy>,
    /// Where "now" comes from: the system clock, or a clock tests move by hand.
    pub clock: Clock,
}

/// The server's source of "now". Every handler asks [`AppState::now`], so a test can serve with a
/// [`Clock::manual`] and move time forward (session expiry, lockouts) instead of sleeping.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// Microseconds since the epoch, shared by every clone; `None` is the system clock.
    manual: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// A clock standing still at `at` until [`Clock::advance`] moves it.
    pub fn manual(at: Timestamp) -> Clock {
        Clock {
            manual: Some(Arc::new(AtomicI64::new(at.as_microsecond()))),
        }
    }

    pub fn now(&self) -> Timestamp {
        match &self.manual {
            None => Timestamp::now(),
            Some(micros) => {
                Timestamp::from_microsecond(micros.load(Ordering::SeqCst)).unwrap_or(Timestamp::MAX)
            }
        }
    }

    /// Moves a manual clock forward by `by` (for every clone); the system clock cannot be moved.
    pub fn advance(&self, by: SignedDuration) {
        if let Some(micros) = &self.manual {
            let step = i64::try_from(by.as_micros()).unwrap_or(i64::MAX);
            micros.fetch_add(step, Ordering::SeqCst);
        }
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("phone_region", &self.phone_region)
            .field("time_zone", &self.time_zone)
            .field("secure_cookies", &self.secure_cookies)
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .field("session_idle", &self.session_idle)
            .field("session_lifetime", &self.session_lifetime)
            .field("id_image_keys", &self.id_image_keys.as_ref().map(|_| "***"))
            .field(
                "sms_inbound_token",
                &self.sms_inbound_token.as_ref().map(|_| "***"),
            )
            .field("webhook_policy", &self.webhook_policy)
            .field("clock", &self.clock)
            .finish()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            phone_region: Region::US,
            time_zone: TimeZone::UTC,
            secure_cookies: false,
            trust_forwarded_for: false,
            session_idle: SignedDuration::from_mins(30),
            session_lifetime: SignedDuration::from_hours(12),
            id_image_keys: None,
            sms_inbound_token: None,
            webhook_policy: Arc::new(OutboundPolicy::public_only()),
            clock: Clock::system(),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub settings: Arc<Settings>,
}

impl AppState {
    pub fn new(store: Store, settings: Settings) -> Self {
        AppState {
            store,
            settings: Arc::new(settings),
        }
    }

    pub fn now(&self) -> Timestamp {
        self.settings.clock.now()
    }

    /// The calendar date at the store right now.
    pub fn today(&self) -> Date {
        self.now()
            .to_zoned_datetime(self.settings.time_zone.clone())
            .date()
    }
}
