//! The events partners can subscribe to with outbound webhooks. The names are a public contract: once
//! published they are never renamed, only added to.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventKind {
    #[serde(rename = "customer.created")]
    CustomerCreated,
    #[serde(rename = "customer.updated")]
    CustomerUpdated,
    #[serde(rename = "customer.banned")]
    CustomerBanned,
    #[serde(rename = "customer.unbanned")]
    CustomerUnbanned,
    #[serde(rename = "customer.merged")]
    CustomerMerged,
    #[serde(rename = "customer.unmerged")]
    CustomerUnmerged,
    #[serde(rename = "consent.changed")]
    ConsentChanged,
    #[serde(rename = "order.created")]
    OrderCreated,
    #[serde(rename = "order.status_changed")]
    OrderStatusChanged,
    #[serde(rename = "loyalty.changed")]
    LoyaltyChanged,
    #[serde(rename = "checkin.created")]
    CheckinCreated,
    /// A customer's personal data was erased at their request (the payload carries only the id).
    #[serde(rename = "customer.erased")]
    CustomerErased,
    /// Staff approved a customer's ID or medical card submission (the verification is recorded).
    #[serde(rename = "document.approved")]
    DocumentApproved,
    /// Staff rejected a submission, with a reason code from a fixed list.
    #[serde(rename = "document.rejected")]
    DocumentRejected,
}

impl EventKind {
    pub const ALL: [EventKind; 14] = [
        EventKind::CustomerCreated,
        EventKind::CustomerUpdated,
        EventKind::CustomerBanned,
        EventKind::CustomerUnbanned,
        EventKind::CustomerMerged,
        EventKind::CustomerUnmerged,
        EventKind::ConsentChanged,
        EventKind::OrderCreated,
        EventKind::OrderStatusChanged,
        EventKind::LoyaltyChanged,
        EventKind::CheckinCreated,
        EventKind::CustomerErased,
        EventKind::DocumentApproved,
        EventKind::DocumentRejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::CustomerCreated => "customer.created",
            EventKind::CustomerUpdated => "customer.updated",
            EventKind::CustomerBanned => "customer.banned",
            EventKind::CustomerUnbanned => "customer.unbanned",
            EventKind::CustomerMerged => "customer.merged",
            EventKind::CustomerUnmerged => "customer.unmerged",
            EventKind::ConsentChanged => "consent.changed",
            EventKind::OrderCreated => "order.created",
            EventKind::OrderStatusChanged => "order.status_changed",
            EventKind::LoyaltyChanged => "loyalty.changed",
            EventKind::CheckinCreated => "checkin.created",
            EventKind::CustomerErased => "customer.erased",
            EventKind::DocumentApproved => "document.approved",
            EventKind::DocumentRejected => "document.rejected",
        }
    }

    pub fn parse(name: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_round_trip_through_text_and_json() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
    }
}
