//! The records the store reads and writes: retail stores, products, groups, orders.

use canopy_domain::{
    CustomerId, DiscountId, FieldError, GroupId, OrderId, ProductId, StoreId, text,
};
use canopy_limits::{Category, CustomerClass, EnforcementMode, Jurisdiction, ManagerOverride};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::{AppliedDiscount, DiscountKind, GroupDiscount, HistoryScope, LicenceType, Measures};
use crate::{OrderStatus, SalesChannel};

/// A licensed retail location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetailStore {
    pub id: StoreId,
    #[serde(flatten)]
    pub settings: StoreSettings,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Everything about a store that staff configure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreSettings {
    pub name: String,
    /// The licence holder; stores of one licensee can share purchase-limit history.
    pub licensee: String,
    pub licence_type: LicenceType,
    pub jurisdiction: Jurisdiction,
    /// IANA zone: "today", day limits and the dashboard use it.
    pub time_zone: String,
    /// Over-limit carts: `block` (default) or `warn` (manager override with a reason).
    pub enforcement: EnforcementMode,
    pub history_scope: HistoryScope,
}

impl StoreSettings {
    /// The store's zone (validated when the store was saved; UTC if it ever stops resolving).
    pub fn zone(&self) -> TimeZone {
        TimeZone::get(&self.time_zone).unwrap_or(TimeZone::UTC)
    }

    pub fn today(&self, now: Timestamp) -> Date {
        now.to_zoned_datetime(self.zone()).date()
    }

    /// The subdivision part of the jurisdiction (`CO` of `US-CO`), as ID documents carry it.
    pub fn region_code(&self) -> &str {
        self.jurisdiction
            .as_str()
            .split_once('-')
            .map(|(_, r)| r)
            .unwrap_or("")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Product {
    pub id: ProductId,
    #[serde(flatten)]
    pub draft: ProductDraft,
    pub archived: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProductDraft {
    pub sku: String,
    pub name: String,
    pub category: Category,
    #[serde(flatten)]
    pub measures: Measures,
    pub price_cents: i64,
}

impl ProductDraft {
    /// The one gate from raw product fields (API, CSV import) to a valid draft.
    pub fn parse(
        sku: &str,
        name: &str,
        category: &str,
        measures: Measures,
        price_cents: i64,
    ) -> Result<ProductDraft, FieldError> {
        let sku = text::required("sku", sku, 64)?;
        if sku.chars().any(char::is_whitespace) {
            return Err(FieldError::new(
                "sku",
                "invalid_sku",
                "sku must not contain spaces",
            ));
        }
        let name = text::required("name", name, 200)?;
        let category = Category::ALL
            .into_iter()
            .find(|c| c.name() == category.trim())
            .ok_or_else(|| {
                let names: Vec<&str> = Category::ALL.iter().map(|c| c.name()).collect();
                FieldError::new(
                    "category",
                    "invalid_category",
                    format!("category must be one of {}", names.join(", ")),
                )
            })?;
        if !(0..=100_000_000).contains(&price_cents) {
            return Err(FieldError::new(
                "price_cents",
                "invalid_price",
                "price_cents must be between 0 and 100000000",
            ));
        }
        Ok(ProductDraft {
            sku,
            name,
            category,
            measures,
            price_cents,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discount {
    pub id: DiscountId,
    pub label: String,
    #[serde(flatten)]
    pub kind: DiscountKind,
    /// Categories it applies to; absent means every item.
    pub categories: Option<Vec<Category>>,
    pub starts_on: Option<Date>,
    pub ends_on: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    pub id: GroupId,
    pub name: String,
    pub description: Option<String>,
    pub discounts: Vec<Discount>,
    pub member_count: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Group {
    /// The group's discounts as pricing sees them.
    pub fn pricing_discounts(&self) -> Vec<GroupDiscount> {
        self.discounts
            .iter()
            .map(|d| GroupDiscount {
                discount_id: d.id.to_string(),
                group_id: self.id.to_string(),
                group_name: self.name.clone(),
                label: d.label.clone(),
                kind: d.kind,
                categories: d.categories.clone(),
                starts_on: d.starts_on,
                ends_on: d.ends_on,
            })
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// `cash`, `debit`, `credit`, `gift_card`, `store_credit`, `other`.
    pub method: String,
    pub amount_cents: i64,
}

pub const PAYMENT_METHODS: [&str; 6] = [
    "cash",
    "debit",
    "credit",
    "gift_card",
    "store_credit",
    "other",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderLine {
    pub line_no: u32,
    pub product_id: Option<ProductId>,
    pub sku: Option<String>,
    pub name: String,
    pub category: Category,
    pub quantity: u32,
    pub returned_quantity: u32,
    #[serde(flatten)]
    pub measures: Measures,
    pub unit_price_cents: i64,
    pub subtotal_cents: i64,
    pub discount_cents: i64,
    pub loyalty_cents: i64,
    pub total_cents: i64,
}

/// Something that happened to an order: placed, a status change, a return, a void.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderEvent {
    pub at: Timestamp,
    pub kind: String,
    pub from_status: Option<OrderStatus>,
    pub to_status: OrderStatus,
    pub actor: String,
    pub reason: Option<String>,
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Order {
    pub id: OrderId,
    /// Human-friendly, unique, increasing.
    pub number: i64,
    pub customer_id: CustomerId,
    /// A caregiver's purchase for this patient: it counts toward the patient's purchase limits.
    pub patient_id: Option<CustomerId>,
    pub store_id: StoreId,
    pub channel: SalesChannel,
    pub status: OrderStatus,
    pub customer_class: CustomerClass,
    pub subtotal_cents: i64,
    pub discount_cents: i64,
    pub loyalty_redeemed_cents: i64,
    pub total_cents: i64,
    pub refunded_cents: i64,
    /// Each discount with its source (the group that gave it).
    pub discounts: Vec<AppliedDiscount>,
    pub payments: Vec<Payment>,
    pub staff_id: Option<String>,
    pub staff: String,
    pub external_ref: Option<String>,
    /// A warn-mode manager override: who, why and the decision it overrode.
    pub limits_override: Option<ManagerOverride>,
    /// Prices different from the catalogue's: who allowed them, why, and each line's two prices.
    pub price_override: Option<crate::PriceOverride>,
    /// Some line's category and measures were described by the caller (an external POS), not
    /// taken from the catalogue.
    pub caller_asserted: bool,
    pub placed_at: Timestamp,
    pub updated_at: Timestamp,
    /// Empty in summary views.
    pub lines: Vec<OrderLine>,
    /// Empty in summary views.
    pub events: Vec<OrderEvent>,
}
