//! Order-status text messages: which statuses notify the customer, and the templates they are written from.

use serde::{Deserialize, Serialize};

use crate::FieldError;

/// The order statuses that send the customer a text. Other status changes are silent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifiedStatus {
    Received,
    ReadyForPickup,
    OutForDelivery,
}

impl NotifiedStatus {
    pub const ALL: [NotifiedStatus; 3] = [
        NotifiedStatus::Received,
        NotifiedStatus::ReadyForPickup,
        NotifiedStatus::OutForDelivery,
    ];

    /// The order status name, as the orders module spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            NotifiedStatus::Received => "received",
            NotifiedStatus::ReadyForPickup => "ready_for_pickup",
            NotifiedStatus::OutForDelivery => "out_for_delivery",
        }
    }

    /// `None` for a status that sends nothing.
    pub fn parse(status: &str) -> Option<NotifiedStatus> {
        NotifiedStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == status)
    }

    /// The text used until an admin edits it.
    pub fn default_template(self) -> &'static str {
        match self {
            NotifiedStatus::Received => {
                "Hi {first_name}, we received your order {order}. We'll text you when it's ready. Reply STOP to opt out."
            }
            NotifiedStatus::ReadyForPickup => {
                "Hi {first_name}, your order {order} is ready for pickup. Bring your ID. Reply STOP to opt out."
            }
            NotifiedStatus::OutForDelivery => {
                "Hi {first_name}, your order {order} is out for delivery. Have your ID ready. Reply STOP to opt out."
            }
        }
    }
}

/// The placeholders a template may use.
pub const PLACEHOLDERS: [&str; 3] = ["first_name", "order", "status"];

/// Longest template accepted: four SMS segments, so a rendered message stays affordable.
pub const MAX_TEMPLATE_CHARS: usize = 600;

/// A template that only uses known placeholders and fits the length limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct SmsTemplate(String);

impl SmsTemplate {
    pub fn parse(body: &str) -> Result<SmsTemplate, FieldError> {
        let body = crate::text::required("body", body, MAX_TEMPLATE_CHARS)?;
        let mut rest = body.as_str();
        while let Some(open) = rest.find('{') {
            let after = &rest[open + 1..];
            let close = after.find('}').ok_or_else(|| {
                FieldError::new("body", "invalid_template", "a '{' is never closed")
            })?;
            let name = &after[..close];
            if !PLACEHOLDERS.contains(&name) {
                return Err(FieldError::new(
                    "body",
                    "invalid_template",
                    format!(
                        "unknown placeholder {{{name}}}; use {}",
                        PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ")
                    ),
                ));
            }
            rest = &after[close + 1..];
        }
        Ok(SmsTemplate(body))
    }

    pub fn from_stored(body: String) -> SmsTemplate {
        SmsTemplate(body)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Fills the placeholders. `order` is the reference the customer knows the order by.
    pub fn render(&self, first_name: &str, order: &str, status: NotifiedStatus) -> String {
        let status_text = status.as_str().replace('_', " ");
        self.0
            .replace("{first_name}", first_name)
            .replace("{order}", order)
            .replace("{status}", &status_text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_renders_every_placeholder() {
        let t = SmsTemplate::parse("{first_name}: {order} is {status}").unwrap();
        assert_eq!(
            t.render("Sarah", "A-1042", NotifiedStatus::ReadyForPickup),
            "Sarah: A-1042 is ready for pickup"
        );
    }

    #[test]
    fn unknown_or_unclosed_placeholders_are_refused() {
        for bad in ["Hi {name}", "Hi {first_name", "   "] {
            assert!(SmsTemplate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn default_templates_are_valid_and_only_three_statuses_notify() {
        for s in NotifiedStatus::ALL {
            SmsTemplate::parse(s.default_template()).unwrap();
        }
        assert_eq!(NotifiedStatus::parse("completed"), None);
    }
}
