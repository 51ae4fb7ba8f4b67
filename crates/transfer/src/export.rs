//! CSV export. Files are meant to be opened in spreadsheets, so every cell that a spreadsheet would run as
//! a formula (starting with `=`, `+`, `-`, `@`, or a tab or carriage return) is prefixed with `'`. The
//! import removes that prefix again, so an export can be imported back unchanged.

use std::io::Write;

use canopy_domain::{ConsentChannel, ConsentPurpose, ConsentStatus, CustomerId};
use canopy_store::{CustomerFilter, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("writing CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("writing: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A cell a spreadsheet will show as text, never evaluate.
pub fn safe_cell(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    }
}

/// The customer columns, named so that `canopy import customers` maps them without `--map`.
pub const CUSTOMER_COLUMNS: [&str; 25] = [
    "id",
    "first_name",
    "middle_name",
    "last_name",
    "preferred_name",
    "phone",
    "email",
    "date_of_birth",
    "customer_type",
    "id_kind",
    "id_number",
    "id_jurisdiction",
    "id_expiry",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "country",
    "sms_opt_in",
    "email_opt_in",
    "created_channel",
    "created_at",
    "banned",
    "ban_reason",
];

fn opt_in(status: Option<ConsentStatus>) -> &'static str {
    match status {
        Some(ConsentStatus::Granted) => "yes",
        Some(ConsentStatus::Revoked) => "no",
        None => "",
    }
}

/// Writes every customer, in creation order, a page at a time. Returns how many were written.
pub async fn export_customers<W: Write>(store: &Store, out: W) -> Result<usize, ExportError> {
    export_customers_filtered(store, &CustomerFilter::default(), out).await
}

/// Writes the customers `filter` selects (a manager's filtered list), in creation order.
pub async fn export_customers_filtered<W: Write>(
    store: &Store,
    filter: &CustomerFilter,
    out: W,
) -> Result<usize, ExportError> {
    const PAGE: u32 = 1000;
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(CUSTOMER_COLUMNS)?;
    let mut after: Option<CustomerId> = None;
    let mut count = 0;
    let now = jiff::Timestamp::now();
    loop {
        let page = store.list_customers_filtered(filter, after, PAGE).await?;
        let ids: Vec<CustomerId> = page.items.iter().map(|c| c.id).collect();
        let consents = store.latest_consents(&ids).await?;
        for customer in &page.items {
            let d = &customer.details;
            let doc = d.id_document.as_ref();
            let address = d.addresses.first();
            let consent = |channel| {
                opt_in(
                    consents
                        .get(&(customer.id, channel, ConsentPurpose::Marketing))
                        .copied(),
                )
            };
            let kind = doc
                .and_then(|doc| serde_json::to_value(doc.kind).ok())
                .and_then(|v| v.as_str().map(str::to_string));
            let fields: [String; 25] = [
                customer.id.to_string(),
                d.name.first.clone(),
                d.name.middle.clone().unwrap_or_default(),
                d.name.last.clone(),
                d.name.preferred.clone().unwrap_or_default(),
                d.phone
                    .as_ref()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_default(),
                d.email
                    .as_ref()
                    .map(|e| e.as_str().to_string())
                    .unwrap_or_default(),
                d.date_of_birth.map(|x| x.to_string()).unwrap_or_default(),
                d.customer_type.as_str().to_string(),
                kind.unwrap_or_default(),
                doc.map(|x| x.number.clone()).unwrap_or_default(),
                doc.and_then(|x| x.jurisdiction.clone()).unwrap_or_default(),
                doc.and_then(|x| x.expiry)
                    .map(|x| x.to_string())
                    .unwrap_or_default(),
                address.map(|a| a.line1.clone()).unwrap_or_default(),
                address.and_then(|a| a.line2.clone()).unwrap_or_default(),
                address.map(|a| a.city.clone()).unwrap_or_default(),
                address.map(|a| a.region.clone()).unwrap_or_default(),
                address.map(|a| a.postal_code.clone()).unwrap_or_default(),
                address.map(|a| a.country.clone()).unwrap_or_default(),
                consent(ConsentChannel::Sms).to_string(),
                consent(ConsentChannel::Email).to_string(),
                d.created_channel.as_str().to_string(),
                customer.created_at.to_string(),
                if customer.banned_at(now) { "yes" } else { "no" }.to_string(),
                customer
                    .ban
                    .as_ref()
                    .map(|b| b.reason.clone())
                    .unwrap_or_default(),
            ];
            writer.write_record(fields.iter().map(|f| safe_cell(f)))?;
            count += 1;
        }
        match page.next_cursor {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    writer.flush()?;
    Ok(count)
}

/// The order columns: one row per order line, the order's own figures repeated on each of its lines so
/// a spreadsheet can filter and sum either way. Money in integer cents, weights in the API's units.
pub const ORDER_COLUMNS: [&str; 30] = [
    "order_number",
    "order_id",
    "placed_at",
    "customer_id",
    "store_id",
    "channel",
    "status",
    "staff",
    "external_ref",
    "payment_methods",
    "order_subtotal_cents",
    "order_discount_cents",
    "order_loyalty_cents",
    "order_total_cents",
    "order_refunded_cents",
    "line_no",
    "sku",
    "product_name",
    "category",
    "quantity",
    "returned_quantity",
    "net_weight_g",
    "concentrate_g",
    "thc_mg",
    "volume_ml",
    "unit_price_cents",
    "line_subtotal_cents",
    "line_discount_cents",
    "line_loyalty_cents",
    "line_total_cents",
];

/// Writes every order line of every order, in order-number order, a page at a time. Returns how many
/// orders were written.
pub async fn export_orders<W: Write>(store: &Store, out: W) -> Result<usize, ExportError> {
    const PAGE: u32 = 500;
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(ORDER_COLUMNS)?;
    let mut after = None;
    let mut count = 0;
    loop {
        let page = store.orders_after(after, PAGE).await?;
        for order in &page {
            write_order(&mut writer, order)?;
        }
        count += page.len();
        match page.last() {
            Some(last) if page.len() == PAGE as usize => after = Some(last.number),
            _ => break,
        }
    }
    writer.flush()?;
    Ok(count)
}

fn write_order<W: Write>(
    writer: &mut csv::Writer<W>,
    order: &canopy_orders::Order,
) -> Result<(), ExportError> {
    let decimal = |d: Option<rust_decimal::Decimal>| d.map(|d| d.normalize().to_string());
    let payments: Vec<&str> = order.payments.iter().map(|p| p.method.as_str()).collect();
    for line in &order.lines {
        let m = &line.measures;
        let cells: [String; 30] = [
            order.number.to_string(),
            order.id.to_string(),
            order.placed_at.to_string(),
            order.customer_id.to_string(),
            order.store_id.to_string(),
            order.channel.as_str().to_string(),
            order.status.as_str().to_string(),
            order.staff.clone(),
            order.external_ref.clone().unwrap_or_default(),
            payments.join(";"),
            order.subtotal_cents.to_string(),
            order.discount_cents.to_string(),
            order.loyalty_redeemed_cents.to_string(),
            order.total_cents.to_string(),
            order.refunded_cents.to_string(),
            line.line_no.to_string(),
            line.sku.clone().unwrap_or_default(),
            line.name.clone(),
            line.category.name().to_string(),
            line.quantity.to_string(),
            line.returned_quantity.to_string(),
            decimal(m.net_weight_g()).unwrap_or_default(),
            decimal(m.concentrate_g()).unwrap_or_default(),
            decimal(m.thc_mg()).unwrap_or_default(),
            decimal(m.volume_ml()).unwrap_or_default(),
            line.unit_price_cents.to_string(),
            line.subtotal_cents.to_string(),
            line.discount_cents.to_string(),
            line.loyalty_cents.to_string(),
            line.total_cents.to_string(),
        ];
        writer.write_record(cells.iter().map(|c| safe_cell(c)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_a_spreadsheet_would_evaluate_are_quoted() {
        assert_eq!(safe_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(safe_cell("+13035550142"), "'+13035550142");
        assert_eq!(safe_cell("-1"), "'-1");
        assert_eq!(safe_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(safe_cell("\tx"), "'\tx");
        assert_eq!(safe_cell("Sarah"), "Sarah");
    }
}
