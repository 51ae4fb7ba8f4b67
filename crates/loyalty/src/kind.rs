use serde::{Deserialize, Serialize};

/// What a ledger entry records. Every change to a balance is exactly one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// Points earned by an order (positive; at most one per order).
    Earn,
    /// Points spent on an order (negative; at most one per order).
    Redeem,
    /// A manager's adjustment, with its reason (either sign).
    Adjust,
    /// Points that reached their expiry (negative; at most one per lot).
    Expire,
    /// A return: earned points taken back (negative) or redeemed points given back (positive).
    Reverse,
}

impl EntryKind {
    /// The name stored and shown in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Earn => "earn",
            EntryKind::Redeem => "redeem",
            EntryKind::Adjust => "adjust",
            EntryKind::Expire => "expire",
            EntryKind::Reverse => "reverse",
        }
    }

    /// The kind named by [`EntryKind::as_str`].
    pub fn parse(name: &str) -> Option<EntryKind> {
        [
            EntryKind::Earn,
            EntryKind::Redeem,
            EntryKind::Adjust,
            EntryKind::Expire,
            EntryKind::Reverse,
        ]
        .into_iter()
        .find(|k| k.as_str() == name)
    }
}
