/// Why a loyalty operation was refused. Each variant is a client error the API answers with a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoyaltyError {
    /// A redemption or reduction asked for more points than the customer may use now.
    #[error("only {available} points are available, {requested} were requested")]
    InsufficientPoints {
        /// Points asked for.
        requested: i64,
        /// Points the customer may use now (pending and expired points excluded for redemptions).
        available: i64,
    },
    /// A redemption would be worth more than the order it pays for.
    #[error("at most {max} points can be redeemed on this order, {requested} were requested")]
    ExceedsOrderTotal {
        /// Points asked for.
        requested: i64,
        /// The most points whose value fits in the order total.
        max: i64,
    },
    /// Manual adjustments must say why.
    #[error("a reason is required")]
    ReasonRequired,
    /// The program is switched off, or does not cover this customer type or jurisdiction.
    #[error("{0}")]
    NotEligible(String),
    /// A return would bring back more than the order was worth.
    #[error(
        "returns of {returned_cents} cents exceed the {remaining_cents} cents of the order not yet returned"
    )]
    ReturnExceedsOrder {
        /// Cents this return asked to reverse.
        returned_cents: i64,
        /// Cents of the order not returned before.
        remaining_cents: i64,
    },
    /// A number in a request is out of range (`field` names it).
    #[error("{field}: {message}")]
    Invalid {
        /// The field at fault, as the API names it.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
}

impl LoyaltyError {
    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        LoyaltyError::Invalid {
            field,
            message: message.into(),
        }
    }
}
