//! Customer profiles, staff notes and bans.

use canopy_domain::{
    Actor, Address, Ban, Channel, Customer, CustomerDraft, CustomerId, CustomerType, Email,
    EventKind, IdDocument, Note, NoteId, PersonName, PhoneNumber,
};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;
use sqlx::AssertSqlSafe;

use crate::backend::{Tx, on_read, on_tx};
use crate::time::{from_micros, to_micros};
use crate::{Result, Store, StoreError, audit, events};

pub(crate) const CUSTOMER_COLUMNS: &str = "id, first_name, middle_name, last_name, preferred_name, phone_e164, email, \
     date_of_birth, customer_type, addresses, id_kind, id_number, id_jurisdiction, id_expiry, created_channel, \
     created_at, updated_at, ban_reason, ban_note, ban_since, ban_until, ban_by";

/// One `customers` row. Serialisable so a merge can keep both profiles exactly as they were stored.
#[derive(sqlx::FromRow, Serialize, serde::Deserialize, Clone)]
pub(crate) struct CustomerRow {
    id: String,
    first_name: String,
    middle_name: Option<String>,
    last_name: String,
    preferred_name: Option<String>,
    phone_e164: Option<String>,
    email: Option<String>,
    date_of_birth: Option<String>,
    customer_type: String,
    addresses: String,
    id_kind: Option<String>,
    id_number: Option<String>,
    id_jurisdiction: Option<String>,
    id_expiry: Option<String>,
    created_channel: String,
    created_at: i64,
    updated_at: i64,
    ban_reason: Option<String>,
    ban_note: Option<String>,
    ban_since: Option<i64>,
    ban_until: Option<i64>,
    ban_by: Option<String>,
}

impl From<&Customer> for CustomerRow {
    fn from(c: &Customer) -> Self {
        let v = DraftValues::from(&c.details);
        let ban = c.ban.as_ref();
        CustomerRow {
            id: c.id.to_string(),
            first_name: v.first_name,
            middle_name: v.middle_name,
            last_name: v.last_name,
            preferred_name: v.preferred_name,
            phone_e164: v.phone_e164,
            email: v.email,
            date_of_birth: v.date_of_birth,
            customer_type: v.customer_type.to_string(),
            addresses: v.addresses,
            id_kind: v.id_kind,
            id_number: v.id_number,
            id_jurisdiction: v.id_jurisdiction,
            id_expiry: v.id_expiry,
            created_channel: c.details.created_channel.as_str().to_string(),
            created_at: to_micros(c.created_at),
            updated_at: to_micros(c.updated_at),
            ban_reason: ban.map(|b| b.reason.clone()),
            ban_note: ban.and_then(|b| b.note.clone()),
            ban_since: ban.map(|b| to_micros(b.since)),
            ban_until: ban.and_then(|b| b.until.map(to_micros)),
            ban_by: ban.and_then(|b| b.by.clone()),
        }
    }
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what}: {value:?}"))
}

impl TryFrom<CustomerRow> for Customer {
    type Error = StoreError;

    fn try_from(r: CustomerRow) -> Result<Customer> {
        let id = r.id.parse().map_err(|_| corrupt("customer id", &r.id))?;
        let date_of_birth = r
            .date_of_birth
            .map(|d| d.parse().map_err(|_| corrupt("date_of_birth", &d)))
            .transpose()?;
        let customer_type = CustomerType::parse(&r.customer_type)
            .ok_or_else(|| corrupt("customer_type", &r.customer_type))?;
        let created_channel = Channel::parse(&r.created_channel)
            .ok_or_else(|| corrupt("created_channel", &r.created_channel))?;
        let addresses: Vec<Address> =
            serde_json::from_str(&r.addresses).map_err(|_| corrupt("addresses", &r.addresses))?;
        let id_document = match (r.id_kind, r.id_number) {
            (Some(kind), Some(number)) => Some(IdDocument {
                kind: serde_json::from_value(serde_json::Value::String(kind.clone()))
                    .map_err(|_| corrupt("id_kind", &kind))?,
                number,
                jurisdiction: r.id_jurisdiction,
                expiry: r
                    .id_expiry
                    .map(|d| d.parse().map_err(|_| corrupt("id_expiry", &d)))
                    .transpose()?,
            }),
            _ => None,
        };
        let ban = match (r.ban_reason, r.ban_since) {
            (Some(reason), Some(since)) => Some(Ban {
                reason,
                note: r.ban_note,
                since: from_micros(since),
                until: r.ban_until.map(from_micros),
                by: r.ban_by,
            }),
            _ => None,
        };
        Ok(Customer {
            id,
            details: CustomerDraft {
                name: PersonName {
                    first: r.first_name,
                    middle: r.middle_name,
                    last: r.last_name,
                    preferred: r.preferred_name,
                },
                phone: r.phone_e164.map(PhoneNumber::from_stored),
                email: r.email.map(Email::from_stored),
                date_of_birth,
                customer_type,
                addresses,
                id_document,
                created_channel,
            },
            created_at: from_micros(r.created_at),
            updated_at: from_micros(r.updated_at),
            ban,
        })
    }
}

/// Which customers a manager's list shows. Every field narrows the list; the default selects everyone.
#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    /// Members of this group.
    pub group_id: Option<String>,
    pub customer_type: Option<CustomerType>,
    /// `Some(true)`: a ban is in force at `now`; `Some(false)`: none is.
    pub banned: Option<bool>,
    /// The ID document on file expires between `today` and this date (inclusive).
    pub id_expiring_by: Option<Date>,
    /// Bought before this instant and not since (live orders only).
    pub last_purchase_before: Option<Timestamp>,
    pub created_channel: Option<Channel>,
    pub now: Timestamp,
    pub today: Date,
}

/// The WHERE clause of [`CustomerFilter`], over `customers c` (a purchase is an order whose status
/// counts toward limits, the list built from [`canopy_orders::OrderStatus::counts_toward_limits`]), with parameters `$3`–`$10`
/// (`$1` and `$2` belong to the query around it). A `NULL` parameter turns its condition off.
fn filter_sql() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        let live = crate::orders::live_statuses();
        format!("($3 IS NULL OR EXISTS (SELECT 1 FROM group_members g WHERE g.customer_id = c.id AND g.group_id = $3)) \
     AND ($4 IS NULL OR c.customer_type = $4) \
     AND ($5 IS NULL OR ($5 = 'yes') = (c.ban_since IS NOT NULL AND c.ban_since <= $6 AND (c.ban_until IS NULL OR c.ban_until > $6))) \
     AND ($7 IS NULL OR (c.id_expiry IS NOT NULL AND c.id_expiry >= $8 AND c.id_expiry <= $7)) \
     AND ($9 IS NULL OR (EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.placed_at < $9 AND o.status IN {live}) \
          AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.placed_at >= $9 AND o.status IN {live}))) \
     AND ($10 IS NULL OR c.created_channel = $10)")
    })
}

/// Binds `$3`–`$10` of [`filter_sql`].
macro_rules! bind_filter {
    ($q:expr, $f:expr) => {{
        let f: &CustomerFilter = $f;
        $q.bind(f.group_id.clone())
            .bind(f.customer_type.map(|t| t.as_str().to_string()))
            .bind(f.banned.map(|b| if b { "yes" } else { "no" }))
            .bind(crate::time::to_micros(f.now))
            .bind(f.id_expiring_by.map(|d| d.to_string()))
            .bind(f.today.to_string())
            .bind(f.last_purchase_before.map(crate::time::to_micros))
            .bind(f.created_channel.map(|c| c.as_str().to_string()))
    }};
}

/// One page of customers in creation order; `next_cursor` continues after the last one.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerPage {
    pub items: Vec<Customer>,
    pub next_cursor: Option<CustomerId>,
}

/// A customer ready for bulk loading (imports, demo data): already valid, id and times chosen by the caller.
pub struct NewCustomerRecord {
    pub id: CustomerId,
    pub draft: CustomerDraft,
    pub created_at: Timestamp,
    pub ban: Option<Ban>,
    /// Staff notes as (author, body), stamped with `created_at`.
    pub notes: Vec<(String, String)>,
}

/// The values of the customer columns that a draft determines, in `DRAFT_COLUMNS` order.
struct DraftValues {
    first_name: String,
    middle_name: Option<String>,
    last_name: String,
    preferred_name: Option<String>,
    name_text: String,
    phone_e164: Option<String>,
    phone_rev: Option<String>,
    email: Option<String>,
    email_key: Option<String>,
    date_of_birth: Option<String>,
    customer_type: &'static str,
    addresses: String,
    id_kind: Option<String>,
    id_number: Option<String>,
    id_number_key: Option<String>,
    id_jurisdiction: Option<String>,
    id_expiry: Option<String>,
}

const DRAFT_COLUMNS: [&str; 17] = [
    "first_name",
    "middle_name",
    "last_name",
    "preferred_name",
    "name_text",
    "phone_e164",
    "phone_rev",
    "email",
    "email_key",
    "date_of_birth",
    "customer_type",
    "addresses",
    "id_kind",
    "id_number",
    "id_number_key",
    "id_jurisdiction",
    "id_expiry",
];

impl From<&CustomerDraft> for DraftValues {
    fn from(d: &CustomerDraft) -> Self {
        let doc = d.id_document.as_ref();
        DraftValues {
            first_name: d.name.first.clone(),
            middle_name: d.name.middle.clone(),
            last_name: d.name.last.clone(),
            preferred_name: d.name.preferred.clone(),
            name_text: d.name.search_text(),
            phone_e164: d.phone.as_ref().map(|p| p.as_str().to_string()),
            phone_rev: d.phone.as_ref().map(PhoneNumber::reversed_digits),
            email: d.email.as_ref().map(|e| e.as_str().to_string()),
            email_key: d.email.as_ref().map(Email::key),
            date_of_birth: d.date_of_birth.map(|d| d.to_string()),
            customer_type: d.customer_type.as_str(),
            addresses: serde_json::to_string(&d.addresses).unwrap_or_else(|_| "[]".into()),
            id_kind: doc
                .and_then(|doc| serde_json::to_value(doc.kind).ok())
                .and_then(|v| v.as_str().map(str::to_string)),
            id_number: doc.map(|doc| doc.number.clone()),
            id_number_key: doc.map(IdDocument::number_key),
            id_jurisdiction: doc.and_then(|doc| doc.jurisdiction.clone()),
            id_expiry: doc.and_then(|doc| doc.expiry).map(|d| d.to_string()),
        }
    }
}

/// Binds the draft's values in `DRAFT_COLUMNS` order onto a query of either engine.
macro_rules! bind_draft {
    ($query:expr, $v:expr) => {
        $query
            .bind($v.first_name.clone())
            .bind($v.middle_name.clone())
            .bind($v.last_name.clone())
            .bind($v.preferred_name.clone())
            .bind($v.name_text.clone())
            .bind($v.phone_e164.clone())
            .bind($v.phone_rev.clone())
            .bind($v.email.clone())
            .bind($v.email_key.clone())
            .bind($v.date_of_birth.clone())
            .bind($v.customer_type)
            .bind($v.addresses.clone())
            .bind($v.id_kind.clone())
            .bind($v.id_number.clone())
            .bind($v.id_number_key.clone())
            .bind($v.id_jurisdiction.clone())
            .bind($v.id_expiry.clone())
    };
}

pub(crate) fn audit_view(customer: &Customer) -> serde_json::Value {
    serde_json::to_value(customer).unwrap_or_default()
}

impl Store {
    /// Creates a customer, refusing a phone, email or ID document that another customer already has.
    pub async fn create_customer(
        &self,
        draft: CustomerDraft,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Customer> {
        let mut tx = self.begin().await?;
        crate::privacy::refuse_erased(&mut tx, &[&draft], now).await?;
        let customer = create_in_tx(&mut tx, draft, actor, now).await?;
        tx.commit().await?;
        Ok(customer)
    }

    /// Replaces a customer's details (the caller merged the patch and validated it), auditing each changed field.
    pub async fn update_customer(
        &self,
        id: CustomerId,
        draft: CustomerDraft,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Customer> {
        let mut tx = self.begin().await?;
        let before = fetch_customer(&mut tx, id)
            .await?
            .ok_or(StoreError::NotFound { entity: "customer" })?;
        Self::ensure_unique(&mut tx, &draft, Some(id)).await?;
        write_draft(&mut tx, id, &draft, now).await?;
        let after = Customer {
            details: draft,
            updated_at: now,
            ..before.clone()
        };
        let changes = audit::diff(&audit_view(&before), &audit_view(&after));
        audit::record(
            &mut tx,
            actor,
            now,
            "customer.update",
            "customer",
            Some(&id.to_string()),
            &changes,
        )
        .await?;
        events::emit(
            &mut tx,
            EventKind::CustomerUpdated,
            &id.to_string(),
            serde_json::json!({ "customer": audit_view(&after), "changes": changes }),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn customer(&self, id: CustomerId) -> Result<Customer> {
        let sql = format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = $1");
        let row: Option<CustomerRow> =
            on_read!(self, |p| sqlx::query_as(AssertSqlSafe(sql.clone()))
                .bind(id.to_string())
                .fetch_optional(p)
                .await)?;
        row.ok_or(StoreError::NotFound { entity: "customer" })?
            .try_into()
    }

    /// Customers by id, in the order asked (ids that do not exist are skipped).
    pub async fn customers_by_ids(&self, ids: &[CustomerId]) -> Result<Vec<Customer>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id IN ({})",
            placeholders.join(", ")
        );
        let rows: Vec<CustomerRow> = on_read!(self, |p| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql.clone()));
            for id in ids {
                q = q.bind(id.to_string());
            }
            q.fetch_all(p).await
        })?;
        let mut found: Vec<Customer> = rows
            .into_iter()
            .map(Customer::try_from)
            .collect::<Result<_>>()?;
        found.sort_by_key(|c| ids.iter().position(|id| *id == c.id));
        Ok(found)
    }

    /// Customers in creation order, `limit` at a time, continuing after `after`.
    pub async fn list_customers(
        &self,
        after: Option<CustomerId>,
        limit: u32,
    ) -> Result<CustomerPage> {
        self.list_customers_filtered(&CustomerFilter::default(), after, limit)
            .await
    }

    /// The customers `filter` selects, in creation order, `limit` at a time after `after`.
    pub async fn list_customers_filtered(
        &self,
        filter: &CustomerFilter,
        after: Option<CustomerId>,
        limit: u32,
    ) -> Result<CustomerPage> {
        let after = after.map(|id| id.to_string()).unwrap_or_default();
        let sql = format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers c WHERE id > $1 AND {} ORDER BY id LIMIT $2",
            filter_sql()
        );
        let rows: Vec<CustomerRow> = on_read!(self, |p| {
            let q = sqlx::query_as(AssertSqlSafe(sql.clone()))
                .bind(&after)
                .bind(i64::from(limit) + 1);
            bind_filter!(q, filter).fetch_all(p).await
        })?;
        let mut items: Vec<Customer> = rows
            .into_iter()
            .map(Customer::try_from)
            .collect::<Result<_>>()?;
        let next_cursor = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(|c| c.id)
        } else {
            None
        };
        Ok(CustomerPage { items, next_cursor })
    }

    /// How many customers `filter` selects.
    pub async fn count_customers_filtered(&self, filter: &CustomerFilter) -> Result<i64> {
        // The same numbered parameters as the listing, so one WHERE clause serves both.
        let sql = format!(
            "SELECT COUNT(*) FROM customers c WHERE $1 = $1 AND $2 = $2 AND {}",
            filter_sql()
        );
        let (n,): (i64,) = on_read!(self, |p| {
            let q = sqlx::query_as(AssertSqlSafe(sql.clone()))
                .bind("")
                .bind(0_i64);
            bind_filter!(q, filter).fetch_one(p).await
        })?;
        Ok(n)
    }

    pub async fn count_customers(&self) -> Result<i64> {
        let (n,): (i64,) = on_read!(self, |p| sqlx::query_as("SELECT COUNT(*) FROM customers")
            .fetch_one(p)
            .await)?;
        Ok(n)
    }

    /// Bans a customer (replacing any earlier ban). Banned customers stay searchable but cannot buy.
    pub async fn ban_customer(
        &self,
        id: CustomerId,
        ban: Ban,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Customer> {
        let mut tx = self.begin().await?;
        let before = fetch_customer(&mut tx, id)
            .await?
            .ok_or(StoreError::NotFound { entity: "customer" })?;
        on_tx!(&mut tx, |c| {
            sqlx::query(
                "UPDATE customers SET ban_reason = $1, ban_note = $2, ban_since = $3, ban_until = $4, ban_by = $5, \
                 updated_at = $6 WHERE id = $7",
            )
            .bind(&ban.reason)
            .bind(ban.note.as_deref())
            .bind(to_micros(ban.since))
            .bind(ban.until.map(to_micros))
            .bind(ban.by.as_deref())
            .bind(to_micros(now))
            .bind(id.to_string())
            .execute(&mut **c)
            .await
            .map(|_| ())
        })?;
        let after = Customer {
            ban: Some(ban),
            updated_at: now,
            ..before.clone()
        };
        let changes = serde_json::json!({ "ban": { "old": before.ban, "new": after.ban } });
        audit::record(
            &mut tx,
            actor,
            now,
            "customer.ban",
            "customer",
            Some(&id.to_string()),
            &changes,
        )
        .await?;
        events::emit(
            &mut tx,
            EventKind::CustomerBanned,
            &id.to_string(),
            serde_json::json!({ "customer": audit_view(&after) }),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn unban_customer(
        &self,
        id: CustomerId,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Customer> {
        let mut tx = self.begin().await?;
        let before = fetch_customer(&mut tx, id)
            .await?
            .ok_or(StoreError::NotFound { entity: "customer" })?;
        on_tx!(&mut tx, |c| {
            sqlx::query(
                "UPDATE customers SET ban_reason = NULL, ban_note = NULL, ban_since = NULL, ban_until = NULL, \
                 ban_by = NULL, updated_at = $1 WHERE id = $2",
            )
            .bind(to_micros(now))
            .bind(id.to_string())
            .execute(&mut **c)
            .await
            .map(|_| ())
        })?;
        let changes = serde_json::json!({ "ban": { "old": before.ban, "new": null } });
        audit::record(
            &mut tx,
            actor,
            now,
            "customer.unban",
            "customer",
            Some(&id.to_string()),
            &changes,
        )
        .await?;
        let after = Customer {
            ban: None,
            updated_at: now,
            ..before
        };
        events::emit(
            &mut tx,
            EventKind::CustomerUnbanned,
            &id.to_string(),
            serde_json::json!({ "customer": audit_view(&after) }),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn add_note(
        &self,
        customer: CustomerId,
        body: String,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Note> {
        let note = Note {
            id: NoteId::new(),
            customer_id: customer,
            body,
            author: actor.label.clone(),
            created_at: now,
        };
        let mut tx = self.begin().await?;
        fetch_customer(&mut tx, customer)
            .await?
            .ok_or(StoreError::NotFound { entity: "customer" })?;
        on_tx!(&mut tx, |c| {
            sqlx::query("INSERT INTO customer_notes (id, customer_id, body, author, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(note.id.to_string())
                .bind(customer.to_string())
                .bind(&note.body)
                .bind(&note.author)
                .bind(to_micros(now))
                .execute(&mut **c)
                .await
            .map(|_| ())
        })?;
        let details = serde_json::json!({ "note_id": note.id, "body": note.body });
        audit::record(
            &mut tx,
            actor,
            now,
            "customer.note_add",
            "customer",
            Some(&customer.to_string()),
            &details,
        )
        .await?;
        tx.commit().await?;
        Ok(note)
    }

    /// A customer's notes, newest first.
    pub async fn notes(&self, customer: CustomerId) -> Result<Vec<Note>> {
        self.customer(customer).await?;
        let rows: Vec<(String, String, String, i64)> = on_read!(self, |p| {
            sqlx::query_as(
                "SELECT id, body, author, created_at FROM customer_notes WHERE customer_id = $1 ORDER BY created_at DESC, id DESC",
            )
            .bind(customer.to_string())
            .fetch_all(p)
            .await
        })?;
        rows.into_iter()
            .map(|(id, body, author, at)| {
                Ok(Note {
                    id: id.parse().map_err(|_| corrupt("note id", &id))?,
                    customer_id: customer,
                    body,
                    author,
                    created_at: from_micros(at),
                })
            })
            .collect()
    }

    /// Loads many valid customers in one transaction (demo data, imports); audited as one bulk action.
    pub async fn insert_customers_bulk(
        &self,
        records: &[NewCustomerRecord],
        actor: &Actor,
        now: Timestamp,
    ) -> Result<()> {
        const CHUNK: usize = 400;
        let mut tx = self.begin().await?;
        for chunk in records.chunks(CHUNK) {
            insert_chunk(&mut tx, chunk).await?;
        }
        if events::has_subscribers(&mut tx, EventKind::CustomerCreated).await? {
            let created: Vec<(String, serde_json::Value)> = records
                .iter()
                .map(|r| {
                    let customer = Customer {
                        id: r.id,
                        details: r.draft.clone(),
                        created_at: r.created_at,
                        updated_at: r.created_at,
                        ban: r.ban.clone(),
                    };
                    (
                        r.id.to_string(),
                        serde_json::json!({ "customer": audit_view(&customer) }),
                    )
                })
                .collect();
            events::emit_many(&mut tx, EventKind::CustomerCreated, &created, now).await?;
        }
        let details = serde_json::json!({ "count": records.len() });
        audit::record(
            &mut tx,
            actor,
            now,
            "customer.bulk_insert",
            "customer",
            None,
            &details,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn ensure_unique(
        tx: &mut Tx,
        draft: &CustomerDraft,
        except: Option<CustomerId>,
    ) -> Result<()> {
        let except = except.map(|id| id.to_string()).unwrap_or_default();
        let checks: [(&'static str, &str, Option<String>, Option<String>); 3] = [
            (
                "phone",
                "phone_e164 = $1",
                draft.phone.as_ref().map(|p| p.as_str().to_string()),
                None,
            ),
            (
                "email",
                "email_key = $1",
                draft.email.as_ref().map(Email::key),
                None,
            ),
            (
                "id_document.number",
                "id_number_key = $1 AND COALESCE(id_jurisdiction, '') = COALESCE($2, '')",
                draft.id_document.as_ref().map(IdDocument::number_key),
                draft
                    .id_document
                    .as_ref()
                    .and_then(|d| d.jurisdiction.clone()),
            ),
        ];
        for (field, condition, value, extra) in checks {
            let Some(value) = value else { continue };
            let sql = format!("SELECT id FROM customers WHERE {condition} AND id <> $3 LIMIT 1");
            let existing: Option<(String,)> = on_tx!(tx, |c| {
                sqlx::query_as(AssertSqlSafe(sql.clone()))
                    .bind(&value)
                    .bind(extra.as_deref())
                    .bind(&except)
                    .fetch_optional(&mut **c)
                    .await
            })?;
            if let Some((id,)) = existing {
                return Err(StoreError::DuplicateCustomer {
                    field,
                    existing: id.parse().ok(),
                });
            }
        }
        Ok(())
    }
}

/// Creates a customer inside `tx`: uniqueness check, row, audit row and `customer.created` event.
pub(crate) async fn create_in_tx(
    tx: &mut Tx,
    draft: CustomerDraft,
    actor: &Actor,
    now: Timestamp,
) -> Result<Customer> {
    let id = CustomerId::new();
    Store::ensure_unique(tx, &draft, None).await?;
    insert_customer(tx, id, &draft, now).await?;
    let customer = Customer {
        id,
        details: draft,
        created_at: now,
        updated_at: now,
        ban: None,
    };
    audit::record(
        tx,
        actor,
        now,
        "customer.create",
        "customer",
        Some(&id.to_string()),
        &audit_view(&customer),
    )
    .await?;
    events::emit(
        tx,
        EventKind::CustomerCreated,
        &id.to_string(),
        serde_json::json!({ "customer": audit_view(&customer) }),
        now,
    )
    .await?;
    Ok(customer)
}

fn map_unique(err: sqlx::Error, existing: Option<CustomerId>) -> StoreError {
    if StoreError::is_unique_violation(&err) {
        let field = match &err {
            sqlx::Error::Database(db) => {
                let text = format!("{} {}", db.message(), db.constraint().unwrap_or_default());
                if text.contains("phone") {
                    "phone"
                } else if text.contains("email") {
                    "email"
                } else {
                    "id_document.number"
                }
            }
            _ => "id",
        };
        StoreError::DuplicateCustomer { field, existing }
    } else {
        StoreError::from(err)
    }
}

/// Overwrites a customer's details (not its id, channel, times of creation or ban).
pub(crate) async fn write_draft(
    tx: &mut Tx,
    id: CustomerId,
    draft: &CustomerDraft,
    now: Timestamp,
) -> Result<()> {
    let values = DraftValues::from(draft);
    let sets: Vec<String> = DRAFT_COLUMNS
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} = ${}", i + 1))
        .collect();
    let sql = format!(
        "UPDATE customers SET {}, updated_at = $18 WHERE id = $19",
        sets.join(", ")
    );
    on_tx!(tx, |c| {
        bind_draft!(sqlx::query(AssertSqlSafe(sql.clone())), values)
            .bind(to_micros(now))
            .bind(id.to_string())
            .execute(&mut **c)
            .await
            .map(|_| ())
    })
    .map_err(|e| map_unique(e, None))
}

pub(crate) async fn fetch_customer(tx: &mut Tx, id: CustomerId) -> Result<Option<Customer>> {
    let sql = format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = $1");
    let row: Option<CustomerRow> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql.clone()))
        .bind(id.to_string())
        .fetch_optional(&mut **c)
        .await)?;
    row.map(Customer::try_from).transpose()
}

pub(crate) async fn insert_customer(
    tx: &mut Tx,
    id: CustomerId,
    draft: &CustomerDraft,
    now: Timestamp,
) -> Result<()> {
    let record = NewCustomerRecord {
        id,
        draft: draft.clone(),
        created_at: now,
        ban: None,
        notes: Vec::new(),
    };
    insert_chunk(tx, std::slice::from_ref(&record)).await
}

/// One multi-row INSERT for the customers plus their dictionary words.
pub(crate) async fn insert_chunk(tx: &mut Tx, records: &[NewCustomerRecord]) -> Result<()> {
    let columns = DRAFT_COLUMNS.join(", ");
    let per_row = DRAFT_COLUMNS.len() + 9;
    let rows: Vec<String> = (0..records.len())
        .map(|r| {
            let params: Vec<String> = (1..=per_row)
                .map(|i| format!("${}", r * per_row + i))
                .collect();
            format!("({})", params.join(", "))
        })
        .collect();
    let sql = tx.bulk_sql(format!(
        "INSERT INTO customers (id, created_channel, created_at, updated_at, ban_reason, ban_note, ban_since, ban_until, ban_by, {columns}) VALUES {}",
        rows.join(", ")
    ));
    let values: Vec<DraftValues> = records
        .iter()
        .map(|r| DraftValues::from(&r.draft))
        .collect();
    on_tx!(tx, |c| {
        let mut q = sqlx::query(AssertSqlSafe(sql.clone()));
        for (record, v) in records.iter().zip(&values) {
            let ban = record.ban.as_ref();
            q = q
                .bind(record.id.to_string())
                .bind(record.draft.created_channel.as_str())
                .bind(to_micros(record.created_at))
                .bind(to_micros(record.created_at))
                .bind(ban.map(|b| b.reason.clone()))
                .bind(ban.and_then(|b| b.note.clone()))
                .bind(ban.map(|b| to_micros(b.since)))
                .bind(ban.and_then(|b| b.until.map(to_micros)))
                .bind(ban.and_then(|b| b.by.clone()));
            q = bind_draft!(q, v);
        }
        q.execute(&mut **c).await.map(|_| ()).map(|_| ())
    })
    .map_err(|e| map_unique(e, None))?;
    let notes: Vec<(CustomerId, &str, &str, Timestamp)> = records
        .iter()
        .flat_map(|r| {
            r.notes
                .iter()
                .map(move |(author, body)| (r.id, author.as_str(), body.as_str(), r.created_at))
        })
        .collect();
    insert_notes(tx, &notes).await?;
    let words: std::collections::BTreeSet<String> = values
        .iter()
        .flat_map(|v| canopy_search::dictionary_words(&v.name_text).collect::<Vec<_>>())
        .collect();
    crate::search::add_dictionary_words(tx, words).await
}

/// Staff notes as (customer, author, body, written at), a few hundred per statement.
pub(crate) async fn insert_notes(
    tx: &mut Tx,
    notes: &[(CustomerId, &str, &str, Timestamp)],
) -> Result<()> {
    for chunk in notes.chunks(500) {
        let sql = tx.bulk_sql(format!(
            "INSERT INTO customer_notes (id, customer_id, body, author, created_at) VALUES {}",
            crate::events::placeholders(chunk.len(), 5)
        ));
        on_tx!(tx, |c| {
            let mut q = sqlx::query(AssertSqlSafe(sql.clone()));
            for (customer, author, body, at) in chunk {
                q = q
                    .bind(NoteId::new().to_string())
                    .bind(customer.to_string())
                    .bind(*body)
                    .bind(*author)
                    .bind(to_micros(*at));
            }
            q.execute(&mut **c).await.map(|_| ())
        })?;
    }
    Ok(())
}
