//! Retry timing: exponential backoff with a ceiling and a last attempt.

use std::time::Duration;

use jiff::SignedDuration;

/// Attempt `n` (from 1) that failed waits `base × 2^(n-1)`, capped at `max`; after `max_attempts`
/// attempts the work is given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
    pub max_attempts: u32,
}

impl Backoff {
    /// Texts are time-sensitive ("your order is ready"): a few quick retries, then give up.
    pub const SMS: Backoff = Backoff {
        base: Duration::from_secs(30),
        max: Duration::from_secs(30 * 60),
        max_attempts: 6,
    };

    /// Partners may be down for a while: retries spread over about a day and a half.
    pub const WEBHOOKS: Backoff = Backoff {
        base: Duration::from_secs(30),
        max: Duration::from_secs(6 * 60 * 60),
        max_attempts: 15,
    };

    /// How long to wait after failed attempt `attempt`, or `None` when it was the last one.
    pub fn delay_after(&self, attempt: i64) -> Option<SignedDuration> {
        if attempt >= i64::from(self.max_attempts) {
            return None;
        }
        let exponent = u32::try_from(attempt.saturating_sub(1).max(0))
            .unwrap_or(u32::MAX)
            .min(30);
        let delay = self
            .base
            .saturating_mul(2u32.saturating_pow(exponent))
            .min(self.max);
        SignedDuration::try_from(delay).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_ceiling_then_stop_after_the_last_attempt() {
        let b = Backoff {
            base: Duration::from_secs(10),
            max: Duration::from_secs(60),
            max_attempts: 5,
        };
        let secs: Vec<Option<i64>> = (1..=5)
            .map(|n| b.delay_after(n).map(|d| d.as_secs()))
            .collect();
        assert_eq!(secs, vec![Some(10), Some(20), Some(40), Some(60), None]);
    }

    #[test]
    fn the_default_schedules_give_up_eventually() {
        assert_eq!(Backoff::SMS.delay_after(6), None);
        assert_eq!(Backoff::WEBHOOKS.delay_after(15), None);
        assert_eq!(
            Backoff::WEBHOOKS.delay_after(14).map(|d| d.as_secs()),
            Some(6 * 3600)
        );
    }
}
