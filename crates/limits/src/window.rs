//! Limit windows and DST-safe day boundaries in the store's local time zone.

use std::fmt;
use std::str::FromStr;

use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

use crate::LimitsError;

/// Over what span of time a limit accumulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Window {
    /// The cart alone; history does not count.
    Transaction,
    /// The store-local calendar day containing the sale (midnight to midnight, 23 or 25 hours
    /// long on DST change days).
    Day,
    /// The store-local calendar month containing the sale.
    CalendarMonth,
    /// The `N` store-local calendar days ending with the sale's day: from local midnight `N - 1`
    /// days before the sale's day up to the sale. A purchase on day 1 of a 30-day window counts
    /// through day 30 and no longer on day 31, whatever the hour, as dispensaries' published
    /// examples of rolling windows count them.
    RollingDays(u16),
}

impl Window {
    /// Stable machine name: `transaction`, `day`, `calendar_month`, `rolling_30_days`.
    pub fn name(&self) -> String {
        match self {
            Window::Transaction => "transaction".into(),
            Window::Day => "day".into(),
            Window::CalendarMonth => "calendar_month".into(),
            Window::RollingDays(n) => format!("rolling_{n}_days"),
        }
    }

    /// Phrase for messages ("today", "in the last 30 days").
    pub fn phrase(&self) -> String {
        match self {
            Window::Transaction => "in this transaction".into(),
            Window::Day => "today".into(),
            Window::CalendarMonth => "this month".into(),
            Window::RollingDays(n) => format!("in the last {n} days"),
        }
    }

    /// The span of history this window covers for a sale at `at`, as `[start, end)`, or `None`
    /// for [`Window::Transaction`]. For rolling windows `end` is just after `at`.
    pub fn bounds(&self, at: Timestamp, tz: &TimeZone) -> Result<Option<Span>, LimitsError> {
        let zdt = at.to_zoned_datetime(tz.clone());
        let span = match self {
            Window::Transaction => return Ok(None),
            Window::Day => day_bounds(at, tz)?,
            Window::CalendarMonth => {
                let start = zdt.first_of_month().and_then(|z| z.start_of_day());
                let end = zdt
                    .first_of_month()
                    .and_then(|z| z.checked_add(1.month()))
                    .and_then(|z| z.start_of_day());
                Span {
                    start: start.map_err(time_err)?.timestamp(),
                    end: end.map_err(time_err)?.timestamp(),
                }
            }
            Window::RollingDays(n) => {
                let first_day = zdt
                    .checked_sub(i64::from(n.saturating_sub(1)).days())
                    .and_then(|z| z.start_of_day())
                    .map_err(time_err)?;
                Span {
                    start: first_day.timestamp(),
                    end: at
                        .checked_add(jiff::SignedDuration::from_nanos(1))
                        .map_err(time_err)?,
                }
            }
        };
        Ok(Some(span))
    }
}

/// A half-open interval of instants, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// First instant included.
    pub start: Timestamp,
    /// First instant excluded.
    pub end: Timestamp,
}

impl Span {
    /// Whether `t` falls inside.
    pub fn contains(&self, t: Timestamp) -> bool {
        self.start <= t && t < self.end
    }
}

/// The store-local calendar day containing `at`: `[local midnight, next local midnight)`.
///
/// DST-safe: on a spring-forward day the span is 23 hours, on fall-back 25; in zones whose
/// transition skips midnight the day starts at the first instant that exists.
pub fn day_bounds(at: Timestamp, tz: &TimeZone) -> Result<Span, LimitsError> {
    let zdt = at.to_zoned_datetime(tz.clone());
    let start = zdt.start_of_day().map_err(time_err)?;
    let end = zdt
        .tomorrow()
        .and_then(|z| z.start_of_day())
        .map_err(time_err)?;
    Ok(Span {
        start: start.timestamp(),
        end: end.timestamp(),
    })
}

pub(crate) fn time_err(e: jiff::Error) -> LimitsError {
    LimitsError::Time(e.to_string())
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl FromStr for Window {
    type Err = String;
    /// Accepts `transaction`, `day`, `calendar_month`, `rolling_30_days` or `30 days`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        match t.as_str() {
            "transaction" => return Ok(Window::Transaction),
            "day" => return Ok(Window::Day),
            "calendar_month" => return Ok(Window::CalendarMonth),
            _ => {}
        }
        let digits = t
            .strip_prefix("rolling_")
            .and_then(|r| r.strip_suffix("_days"))
            .or_else(|| t.strip_suffix(" days"))
            .ok_or_else(|| {
                format!(
                    "unknown window {s:?}; use transaction, day, calendar_month or \"<N> days\""
                )
            })?;
        let n: u16 = digits
            .trim()
            .parse()
            .map_err(|_| format!("window {s:?}: bad day count"))?;
        if n == 0 || n > 400 {
            return Err(format!("window {s:?}: day count must be 1..=400"));
        }
        Ok(Window::RollingDays(n))
    }
}

impl Serialize for Window {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

impl<'de> Deserialize<'de> for Window {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}
