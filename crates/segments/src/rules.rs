//! The segment rule tree: a JSON document of `{"all": [...]}`, `{"any": [...]}`, `{"not": {...}}` nodes whose
//! leaves are conditions `{"field": "days_since_last_purchase", "op": ">=", "value": 90}`. A field that looks
//! at a window takes `"days"` (`{"field": "orders_in_last_days", "days": 90, "op": ">=", "value": 3}`).
//!
//! [`parse`] is the single gate from untrusted JSON to a [`Rule`]: it checks the shape, the size caps, each
//! field against the [`Field`] catalogue and each operator and value against the field's kind, and reports
//! the first problem with the JSON path at fault. The store compiles a valid [`Rule`] to one SQL predicate
//! (see `canopy_store::segments`); nothing here knows SQL.

use serde::Serialize;
use serde_json::Value;

/// Version of the rule format written with every stored rule; a future format bumps it.
pub const FORMAT_VERSION: u32 = 1;
/// Deepest nesting of `all`/`any`/`not` allowed (the root counts as 1).
pub const MAX_DEPTH: usize = 5;
/// Most conditions (leaves) in one rule.
pub const MAX_CONDITIONS: usize = 50;
/// Longest `days` window a condition may use.
pub const MAX_DAYS: u32 = 3_660;

/// What a field's values are, which decides the operators it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Whole numbers (counts, cents, days, points): `= != < <= > >=`.
    Integer,
    /// Text: `=`, `!=`, `in` (a list).
    Text,
    /// A calendar date: `within_days` (from today through today + N).
    Date,
}

/// A field of the catalogue. Every field is per customer and evaluated at a given instant in the store's
/// time zone; cents and points are integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    CustomerType,
    AgeYears,
    BirthdayMonth,
    CreatedChannel,
    IdJurisdiction,
    InGroup,
    SmsMarketingConsent,
    EmailMarketingConsent,
    DaysSinceLastPurchase,
    OrdersInLastDays,
    SpendInLastDaysCents,
    LifetimeOrders,
    LifetimeSpendCents,
    AverageOrderCents,
    LoyaltyBalance,
    PointsExpiringWithinDays,
    IdExpiry,
    MedicalCardExpiry,
}

/// One entry of the catalogue, as served to the segment builder.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct FieldInfo {
    pub name: &'static str,
    pub field: Field,
    pub group: &'static str,
    pub kind: Kind,
    /// Whether the condition needs a `days` window.
    pub takes_days: bool,
    pub description: &'static str,
}

const fn info(
    name: &'static str,
    field: Field,
    group: &'static str,
    kind: Kind,
    takes_days: bool,
    description: &'static str,
) -> FieldInfo {
    FieldInfo {
        name,
        field,
        group,
        kind,
        takes_days,
        description,
    }
}

/// The field catalogue, in the order the builder lists it.
pub const CATALOGUE: &[FieldInfo] = &[
    info(
        "customer_type",
        Field::CustomerType,
        "profile",
        Kind::Text,
        false,
        "adult_use, medical or caregiver",
    ),
    info(
        "age_years",
        Field::AgeYears,
        "profile",
        Kind::Integer,
        false,
        "whole years of age today (no birth date: never matches)",
    ),
    info(
        "birthday_month",
        Field::BirthdayMonth,
        "profile",
        Kind::Integer,
        false,
        "month of birth, 1–12",
    ),
    info(
        "created_channel",
        Field::CreatedChannel,
        "profile",
        Kind::Text,
        false,
        "channel the customer was created through",
    ),
    info(
        "id_jurisdiction",
        Field::IdJurisdiction,
        "profile",
        Kind::Text,
        false,
        "issuer of the ID on file, e.g. US-CA",
    ),
    info(
        "in_group",
        Field::InGroup,
        "profile",
        Kind::Text,
        false,
        "name of a customer group they belong to (use =)",
    ),
    info(
        "sms_marketing_consent",
        Field::SmsMarketingConsent,
        "profile",
        Kind::Text,
        false,
        "latest SMS marketing consent: granted or revoked",
    ),
    info(
        "email_marketing_consent",
        Field::EmailMarketingConsent,
        "profile",
        Kind::Text,
        false,
        "latest email marketing consent: granted or revoked",
    ),
    info(
        "days_since_last_purchase",
        Field::DaysSinceLastPurchase,
        "behaviour",
        Kind::Integer,
        false,
        "whole days since the last live order (none: never matches)",
    ),
    info(
        "orders_in_last_days",
        Field::OrdersInLastDays,
        "behaviour",
        Kind::Integer,
        true,
        "live orders placed in the last `days` days",
    ),
    info(
        "spend_in_last_days_cents",
        Field::SpendInLastDaysCents,
        "behaviour",
        Kind::Integer,
        true,
        "spend net of refunds in the last `days` days, in cents",
    ),
    info(
        "lifetime_orders",
        Field::LifetimeOrders,
        "behaviour",
        Kind::Integer,
        false,
        "live orders ever",
    ),
    info(
        "lifetime_spend_cents",
        Field::LifetimeSpendCents,
        "behaviour",
        Kind::Integer,
        false,
        "spend net of refunds ever, in cents",
    ),
    info(
        "average_order_cents",
        Field::AverageOrderCents,
        "behaviour",
        Kind::Integer,
        false,
        "lifetime spend ÷ live orders, in cents, rounded toward zero",
    ),
    info(
        "loyalty_balance",
        Field::LoyaltyBalance,
        "loyalty",
        Kind::Integer,
        false,
        "points balance",
    ),
    info(
        "points_expiring_within_days",
        Field::PointsExpiringWithinDays,
        "loyalty",
        Kind::Integer,
        true,
        "unspent points whose lots expire in the next `days` days",
    ),
    info(
        "id_expiry",
        Field::IdExpiry,
        "compliance",
        Kind::Date,
        false,
        "expiry date of the ID on file",
    ),
    info(
        "medical_card_expiry",
        Field::MedicalCardExpiry,
        "compliance",
        Kind::Date,
        false,
        "expiry date of the medical card",
    ),
];

impl Field {
    pub fn info(self) -> &'static FieldInfo {
        CATALOGUE
            .iter()
            .find(|i| i.field == self)
            .unwrap_or(&CATALOGUE[0])
    }

    pub fn name(self) -> &'static str {
        self.info().name
    }

    pub fn parse(name: &str) -> Option<Field> {
        CATALOGUE.iter().find(|i| i.name == name).map(|i| i.field)
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Op {
    #[serde(rename = "=")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "in")]
    In,
    #[serde(rename = "within_days")]
    WithinDays,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::In => "in",
            Op::WithinDays => "within_days",
        }
    }

    fn parse(s: &str) -> Option<Op> {
        [
            Op::Eq,
            Op::Ne,
            Op::Lt,
            Op::Le,
            Op::Gt,
            Op::Ge,
            Op::In,
            Op::WithinDays,
        ]
        .into_iter()
        .find(|op| op.as_str() == s)
    }

    fn allowed_for(self, kind: Kind) -> bool {
        match kind {
            Kind::Integer => matches!(self, Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge),
            Kind::Text => matches!(self, Op::Eq | Op::Ne | Op::In),
            Kind::Date => self == Op::WithinDays,
        }
    }
}

/// The value a condition compares with, already checked against the field's kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Operand {
    Integer(i64),
    Text(String),
    List(Vec<String>),
}

/// One leaf: `field [days] op value`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Condition {
    pub field: Field,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    pub op: Op,
    pub value: Operand,
}

/// A validated rule tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    All(Vec<Rule>),
    Any(Vec<Rule>),
    Not(Box<Rule>),
    Leaf(Condition),
}

/// Why a rule was refused, with the JSON path of the part at fault (`$.all[2].value`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct RuleError {
    pub path: String,
    pub message: String,
}

fn err<T>(path: &str, message: impl Into<String>) -> Result<T, RuleError> {
    Err(RuleError {
        path: path.to_owned(),
        message: message.into(),
    })
}

/// Parses and validates a rule tree.
pub fn parse(json: &Value) -> Result<Rule, RuleError> {
    let mut conditions = 0;
    parse_node(json, "$", 1, &mut conditions)
}

fn parse_node(
    json: &Value,
    path: &str,
    depth: usize,
    conditions: &mut usize,
) -> Result<Rule, RuleError> {
    if depth > MAX_DEPTH {
        return err(
            path,
            format!("rules may nest at most {MAX_DEPTH} levels deep"),
        );
    }
    let Some(object) = json.as_object() else {
        return err(path, "expected an object");
    };
    if object.contains_key("field") {
        *conditions += 1;
        if *conditions > MAX_CONDITIONS {
            return err(
                path,
                format!("a rule may have at most {MAX_CONDITIONS} conditions"),
            );
        }
        return parse_condition(object, path).map(Rule::Leaf);
    }
    if object.len() != 1 {
        return err(
            path,
            "expected exactly one of `all`, `any`, `not`, or a condition with `field`",
        );
    }
    let (key, child) = object.iter().next().ok_or_else(|| RuleError {
        path: path.to_owned(),
        message: "empty object".into(),
    })?;
    let here = format!("{path}.{key}");
    match key.as_str() {
        "all" | "any" => {
            let Some(items) = child.as_array() else {
                return err(&here, "expected a list of rules");
            };
            if items.is_empty() {
                return err(&here, "expected at least one rule");
            }
            let rules = items
                .iter()
                .enumerate()
                .map(|(i, item)| parse_node(item, &format!("{here}[{i}]"), depth + 1, conditions))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if key == "all" {
                Rule::All(rules)
            } else {
                Rule::Any(rules)
            })
        }
        "not" => Ok(Rule::Not(Box::new(parse_node(
            child,
            &here,
            depth + 1,
            conditions,
        )?))),
        other => err(
            path,
            format!("unknown node `{other}` (expected all, any or not)"),
        ),
    }
}

fn parse_condition(
    object: &serde_json::Map<String, Value>,
    path: &str,
) -> Result<Condition, RuleError> {
    for key in object.keys() {
        if !matches!(key.as_str(), "field" | "op" | "value" | "days") {
            return err(&format!("{path}.{key}"), "unknown key in a condition");
        }
    }
    let field_path = format!("{path}.field");
    let name = object.get("field").and_then(Value::as_str).unwrap_or("");
    let Some(field) = Field::parse(name) else {
        return err(&field_path, format!("unknown field `{name}`"));
    };
    let info = field.info();
    let days = match (object.get("days"), info.takes_days) {
        (None, false) => None,
        (None, true) => {
            return err(
                &format!("{path}.days"),
                format!("`{name}` needs a `days` window"),
            );
        }
        (Some(_), false) => {
            return err(&format!("{path}.days"), format!("`{name}` takes no `days`"));
        }
        (Some(v), true) => match v.as_u64() {
            Some(d) if (1..=u64::from(MAX_DAYS)).contains(&d) => u32::try_from(d).ok(),
            _ => {
                return err(
                    &format!("{path}.days"),
                    format!("expected a whole number of days, 1–{MAX_DAYS}"),
                );
            }
        },
    };
    let op_path = format!("{path}.op");
    let op_name = object.get("op").and_then(Value::as_str).unwrap_or("");
    let Some(op) = Op::parse(op_name) else {
        return err(&op_path, format!("unknown operator `{op_name}`"));
    };
    if !op.allowed_for(info.kind) {
        return err(&op_path, format!("`{op_name}` does not apply to `{name}`"));
    }
    let value_path = format!("{path}.value");
    let value = object.get("value").unwrap_or(&Value::Null);
    let operand = match (info.kind, op) {
        (Kind::Integer, _) | (Kind::Date, _) => match value.as_i64() {
            Some(n) if info.kind == Kind::Date && !(0..=i64::from(MAX_DAYS)).contains(&n) => {
                return err(
                    &value_path,
                    format!("expected a number of days, 0–{MAX_DAYS}"),
                );
            }
            Some(n) => Operand::Integer(n),
            None => return err(&value_path, "expected a whole number"),
        },
        (Kind::Text, Op::In) => match value.as_array() {
            Some(items) if !items.is_empty() && items.len() <= 100 => Operand::List(
                items
                    .iter()
                    .map(|v| v.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| RuleError {
                        path: value_path.clone(),
                        message: "expected a list of text values".into(),
                    })?,
            ),
            _ => return err(&value_path, "expected a list of 1–100 text values"),
        },
        (Kind::Text, _) => match value.as_str() {
            Some(s) if !s.is_empty() && s.len() <= 200 => Operand::Text(s.to_owned()),
            _ => return err(&value_path, "expected text (1–200 characters)"),
        },
    };
    Ok(Condition {
        field,
        days,
        op,
        value: operand,
    })
}

impl Rule {
    /// The conditions in document order (the order reasons are listed in).
    pub fn conditions(&self) -> Vec<&Condition> {
        let mut out = Vec::new();
        fn walk<'a>(rule: &'a Rule, out: &mut Vec<&'a Condition>) {
            match rule {
                Rule::All(rules) | Rule::Any(rules) => rules.iter().for_each(|r| walk(r, out)),
                Rule::Not(rule) => walk(rule, out),
                Rule::Leaf(c) => out.push(c),
            }
        }
        walk(self, &mut out);
        out
    }

    /// The rule back as JSON (canonical form of what [`parse`] accepted).
    pub fn to_json(&self) -> Value {
        match self {
            Rule::All(rules) => {
                serde_json::json!({ "all": rules.iter().map(Rule::to_json).collect::<Vec<_>>() })
            }
            Rule::Any(rules) => {
                serde_json::json!({ "any": rules.iter().map(Rule::to_json).collect::<Vec<_>>() })
            }
            Rule::Not(rule) => serde_json::json!({ "not": rule.to_json() }),
            Rule::Leaf(c) => serde_json::to_value(c).unwrap_or(Value::Null),
        }
    }
}

impl Condition {
    /// The condition in words with the customer's value, e.g. "days_since_last_purchase 97 >= 90". `value`
    /// is the customer's value as the store read it (`None` when they have none).
    pub fn explain(&self, value: Option<&str>) -> String {
        let name = match self.days {
            Some(d) => format!("{} ({d} days)", self.field.name()),
            None => self.field.name().to_owned(),
        };
        let threshold = match &self.value {
            Operand::Integer(n) => n.to_string(),
            Operand::Text(s) => s.clone(),
            Operand::List(items) => format!("[{}]", items.join(", ")),
        };
        let value = value.unwrap_or("none");
        format!("{name} {value} {} {threshold}", self.op.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_nested_rule_parses_and_round_trips() {
        let doc = json!({"all": [
            {"field": "days_since_last_purchase", "op": ">=", "value": 90},
            {"any": [
                {"field": "orders_in_last_days", "days": 365, "op": ">=", "value": 3},
                {"not": {"field": "customer_type", "op": "in", "value": ["medical"]}}
            ]}
        ]});
        let rule = parse(&doc).expect("valid");
        assert_eq!(rule.conditions().len(), 3);
        assert_eq!(rule.to_json(), doc);
        assert_eq!(parse(&rule.to_json()), Ok(rule));
    }

    #[test]
    fn errors_name_the_path_at_fault() {
        let e = |doc: Value| parse(&doc).unwrap_err();
        assert_eq!(
            e(json!({"all": [{"field": "nope", "op": "=", "value": 1}]})).path,
            "$.all[0].field"
        );
        assert_eq!(
            e(json!({"field": "customer_type", "op": ">", "value": "x"})).path,
            "$.op"
        );
        assert_eq!(
            e(json!({"field": "age_years", "op": ">", "value": "21"})).path,
            "$.value"
        );
        assert_eq!(
            e(json!({"field": "orders_in_last_days", "op": ">", "value": 1})).path,
            "$.days"
        );
        assert_eq!(
            e(json!({"field": "age_years", "days": 3, "op": ">", "value": 1})).path,
            "$.days"
        );
        assert_eq!(e(json!({"all": []})).path, "$.all");
        assert_eq!(e(json!({"both": []})).path, "$");
        assert_eq!(
            e(json!({"field": "age_years", "op": ">", "value": 1, "x": 1})).path,
            "$.x"
        );
    }

    #[test]
    fn size_caps_hold() {
        let leaf = json!({"field": "age_years", "op": ">=", "value": 21});
        let mut deep = leaf.clone();
        for _ in 0..MAX_DEPTH {
            deep = json!({"not": deep});
        }
        assert!(parse(&deep).unwrap_err().message.contains("nest"));
        let wide = json!({"any": vec![leaf.clone(); MAX_CONDITIONS + 1]});
        assert!(parse(&wide).unwrap_err().message.contains("conditions"));
        assert!(parse(&json!({"any": vec![leaf; MAX_CONDITIONS]})).is_ok());
    }

    #[test]
    fn explanations_show_the_customers_value() {
        let Rule::Leaf(c) =
            parse(&json!({"field": "days_since_last_purchase", "op": ">=", "value": 90})).unwrap()
        else {
            panic!("leaf")
        };
        assert_eq!(c.explain(Some("97")), "days_since_last_purchase 97 >= 90");
        assert_eq!(c.explain(None), "days_since_last_purchase none >= 90");
    }

    #[test]
    fn every_catalogue_name_parses_to_its_field() {
        for i in CATALOGUE {
            assert_eq!(Field::parse(i.name), Some(i.field));
            assert_eq!(i.field.name(), i.name);
        }
    }
}
