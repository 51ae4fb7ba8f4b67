//! The order lifecycle as a state machine. Every status change in Canopy is checked here first.
//!
//! ```text
//!             ┌──────────► ready_for_pickup ─┐ (pickup)
//!  received ──┼──────────► out_for_delivery ─┤ (delivery)
//!     │       └──────────────────────────────┴──► completed ──► returned (all lines back)
//!     └──► cancelled   (from any open status)         │
//!          voided      (from any open status or completed)
//! ```
//!
//! `cancelled`, `returned` and `voided` are final. In-store sales start `completed`.

use serde::{Deserialize, Serialize};

/// Where the order came from. One customer profile spans all three.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SalesChannel {
    /// At the register; handed over at once.
    InStore,
    /// Ordered online, picked up at the store.
    Pickup,
    /// Ordered online or by phone, delivered.
    Delivery,
}

impl SalesChannel {
    pub const ALL: [SalesChannel; 3] = [
        SalesChannel::InStore,
        SalesChannel::Pickup,
        SalesChannel::Delivery,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SalesChannel::InStore => "in_store",
            SalesChannel::Pickup => "pickup",
            SalesChannel::Delivery => "delivery",
        }
    }

    pub fn parse(s: &str) -> Option<SalesChannel> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Received,
    ReadyForPickup,
    OutForDelivery,
    Completed,
    Cancelled,
    /// Every line was returned (partial returns leave the order `completed`).
    Returned,
    /// Undone as a whole (a mistaken sale); restores the purchase-limit allotment.
    Voided,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 7] = [
        OrderStatus::Received,
        OrderStatus::ReadyForPickup,
        OrderStatus::OutForDelivery,
        OrderStatus::Completed,
        OrderStatus::Cancelled,
        OrderStatus::Returned,
        OrderStatus::Voided,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Received => "received",
            OrderStatus::ReadyForPickup => "ready_for_pickup",
            OrderStatus::OutForDelivery => "out_for_delivery",
            OrderStatus::Completed => "completed",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Returned => "returned",
            OrderStatus::Voided => "voided",
        }
    }

    pub fn parse(s: &str) -> Option<OrderStatus> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// No further change is possible.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            OrderStatus::Cancelled | OrderStatus::Returned | OrderStatus::Voided
        )
    }

    /// Whether the order's (unreturned) lines use up purchase-limit allotment. Open orders do:
    /// the product is reserved for the customer, so counting it is the conservative reading.
    pub fn counts_toward_limits(self) -> bool {
        !matches!(
            self,
            OrderStatus::Cancelled | OrderStatus::Returned | OrderStatus::Voided
        )
    }
}

/// A refused status change, with both ends so the message can say what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an order in status {from} ({channel}) cannot become {to}; allowed next: {allowed}")]
pub struct IllegalTransition {
    pub from: &'static str,
    pub to: &'static str,
    pub channel: &'static str,
    pub allowed: String,
}

/// The status a new order starts in.
pub fn initial_status(channel: SalesChannel) -> OrderStatus {
    match channel {
        SalesChannel::InStore => OrderStatus::Completed,
        SalesChannel::Pickup | SalesChannel::Delivery => OrderStatus::Received,
    }
}

/// The statuses reachable in one step.
pub fn next_statuses(channel: SalesChannel, from: OrderStatus) -> Vec<OrderStatus> {
    use OrderStatus::*;
    match from {
        Received => {
            let mut next = Vec::new();
            match channel {
                SalesChannel::Pickup => next.push(ReadyForPickup),
                SalesChannel::Delivery => next.push(OutForDelivery),
                SalesChannel::InStore => {}
            }
            next.extend([Completed, Cancelled, Voided]);
            next
        }
        ReadyForPickup | OutForDelivery => vec![Completed, Cancelled, Voided],
        Completed => vec![Returned, Voided],
        Cancelled | Returned | Voided => Vec::new(),
    }
}

/// Checks one status change.
pub fn transition(
    channel: SalesChannel,
    from: OrderStatus,
    to: OrderStatus,
) -> Result<(), IllegalTransition> {
    let next = next_statuses(channel, from);
    if next.contains(&to) {
        Ok(())
    } else {
        Err(IllegalTransition {
            from: from.as_str(),
            to: to.as_str(),
            channel: channel.as_str(),
            allowed: if next.is_empty() {
                "none (final)".into()
            } else {
                next.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus::*;
    use SalesChannel::*;

    #[test]
    fn a_pickup_order_goes_received_ready_completed() {
        assert_eq!(initial_status(Pickup), Received);
        assert!(transition(Pickup, Received, ReadyForPickup).is_ok());
        assert!(transition(Pickup, ReadyForPickup, Completed).is_ok());
    }

    #[test]
    fn a_pickup_order_cannot_go_out_for_delivery() {
        let err = transition(Pickup, Received, OutForDelivery).unwrap_err();
        assert!(err.to_string().contains("ready_for_pickup"), "{err}");
    }

    #[test]
    fn final_statuses_have_no_way_out() {
        for from in [Cancelled, Returned, Voided] {
            for to in OrderStatus::ALL {
                for channel in SalesChannel::ALL {
                    assert!(transition(channel, from, to).is_err());
                }
            }
        }
    }

    #[test]
    fn in_store_sales_start_completed_and_can_only_be_returned_or_voided() {
        assert_eq!(initial_status(InStore), Completed);
        assert_eq!(next_statuses(InStore, Completed), vec![Returned, Voided]);
        assert!(transition(InStore, Completed, Cancelled).is_err());
    }

    #[test]
    fn no_status_transitions_to_itself_and_names_round_trip() {
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
            for c in SalesChannel::ALL {
                assert!(transition(c, s, s).is_err());
            }
        }
    }

    #[test]
    fn only_live_orders_use_up_allotment() {
        assert!(Received.counts_toward_limits());
        assert!(Completed.counts_toward_limits());
        assert!(!Voided.counts_toward_limits());
        assert!(!Cancelled.counts_toward_limits());
    }
}
