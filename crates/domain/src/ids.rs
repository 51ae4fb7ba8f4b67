//! Typed identifiers, so a note id can never be passed where a customer id is expected.

use std::fmt;
use std::str::FromStr;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(uuid::Uuid);

        impl $name {
            /// A fresh, time-ordered id (UUIDv7), so new rows land at the end of B-tree indexes.
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7())
            }

            pub fn as_uuid(&self) -> uuid::Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl From<uuid::Uuid> for $name {
            fn from(value: uuid::Uuid) -> Self {
                Self(value)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(s).map(Self)
            }
        }
    };
}

typed_id!(
    /// A customer's stable id: never reused, never changed by edits or merges.
    CustomerId
);
typed_id!(
    /// One merge of two customer profiles (kept so it can be read and undone).
    MergeId
);
typed_id!(
    /// One staff note on a customer.
    NoteId
);
typed_id!(
    /// A retail location (a licensed store).
    StoreId
);
typed_id!(
    /// A catalogue product.
    ProductId
);
typed_id!(
    /// An order from any channel.
    OrderId
);
typed_id!(
    /// A customer group (VIP, veterans …).
    GroupId
);
typed_id!(
    /// A discount attached to a group.
    DiscountId
);
typed_id!(
    /// One visit in a store's check-in queue.
    CheckinId
);
typed_id!(
    /// A staff account.
    UserId
);
typed_id!(
    /// An integration's API key (the id, never the secret).
    ApiKeyId
);
typed_id!(
    /// A signed-in browser session (the id, never the token).
    SessionId
);
typed_id!(
    /// One outbound webhook endpoint a partner registered.
    WebhookEndpointId
);
typed_id!(
    /// One attempt-tracked delivery of an event to an endpoint (a replay is a new delivery).
    WebhookDeliveryId
);
typed_id!(
    /// One event in the webhook outbox; partners deduplicate on it.
    EventId
);
typed_id!(
    /// One queued order-status text message.
    SmsMessageId
);
