use std::sync::Arc;

use canopy_domain::Region;
use canopy_store::Store;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// Server-wide settings, fixed at start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Region for phone numbers typed without a country code.
    pub phone_region: Region,
    /// The store's time zone: "today" and day boundaries are evaluated here, never in UTC.
    pub time_zone: TimeZone,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            phone_region: Region::US,
            time_zone: TimeZone::UTC,
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
        Timestamp::now()
    }

    /// The calendar date at the store right now.
    pub fn today(&self) -> Date {
        self.now()
            .to_zoned_datetime(self.settings.time_zone.clone())
            .date()
    }
}
