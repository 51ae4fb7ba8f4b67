//! Checkout (the compliance gate plus one atomic write), orders, returns, voids, status changes,
//! purchase history and the profile figures computed from orders.
//!
//! The gate, in order: ban → eligibility (verified, unexpired ID, old enough, medical where the
//! store requires it) → purchase limits over the customer's history in the rule set's lookback
//! window and the store's history scope → the best group discount → loyalty redemption. A refusal
//! collects every reason, writes nothing but one audit row, and returns the limits explanation.
//! An accepted checkout writes the order, its lines, its first event, the limits decision, the
//! loyalty entries (points redeemed; points earned when the order is complete at once), the audit
//! row and the idempotency record in one transaction.
//!
//! Loyalty follows the order's lifecycle in the same transactions: an order that completes later
//! earns then; returns take back earned points and give back redeemed ones in proportion (measured
//! on the order after discounts, before points); a void or cancellation reverses the rest.
//!
//! On PostgreSQL the customer row is locked (`FOR UPDATE`) before history is read, so two
//! registers cannot both spend the same remaining allotment; SQLite has a single writer.

use std::collections::BTreeMap;

use canopy_domain::{Actor, Customer, CustomerId, EventKind, OrderId, StoreId};
use canopy_limits::{Category, CustomerClass, Decision, ExternalAllotment, HistoryEntry, RuleBook};
use canopy_loyalty::{OrderAmounts, ReturnShare};
use canopy_orders::{
    AllotmentAuthority, GateInputs, GroupDiscount, HistoryScope, LoyaltyInputs, Measures, Order,
    OrderEvent, OrderLine, OrderStatus, PatientLink, Payment, RetailStore, SalesChannel, evaluate,
    initial_status, limits_subject, refund_for, required_measures, resolve_line, transition,
};
pub use canopy_orders::{Evaluation, LineInput, ResolvedLine};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::AssertSqlSafe;

use crate::backend::{Tx, on_read, on_tx};
use crate::customers::{CUSTOMER_COLUMNS, CustomerRow};
use crate::loyalty::{self, RedemptionContext};
use crate::retail::{corrupt, parse_category};
use crate::time::{from_micros, to_micros};
use crate::{Result, Store, StoreError, audit};

/// A checkout or quote, parsed by the web layer.
#[derive(Debug, Clone)]
pub struct CheckoutRequest {
    pub customer_id: CustomerId,
    pub store_id: StoreId,
    pub channel: SalesChannel,
    pub lines: Vec<LineInput>,
    pub payments: Vec<Payment>,
    /// Loyalty points the customer chose to redeem (0: none). Their value comes off the total after
    /// group discounts; the ledger entry is written in the order's transaction.
    pub loyalty_redeem_points: i64,
    /// A manager's reason to override a warn-mode limit decision. The caller has already
    /// checked the `limits:override` permission.
    pub limits_override: Option<String>,
    /// The reason for prices different from the catalogue's. The caller has already checked the
    /// `orders:price_override` permission.
    pub price_override: Option<String>,
    /// Remaining allotments reported by the state tracking system.
    pub external_allotments: Vec<ExternalAllotment>,
    /// Whether the caller may make them replace local history (a state-system integration).
    pub allotment_authority: AllotmentAuthority,
    pub external_ref: Option<String>,
    /// For a caregiver: the linked patient this purchase is for (required for caregivers, refused for
    /// anyone else). The patient's eligibility and purchase history decide the limits.
    pub patient_id: Option<CustomerId>,
}

/// The `Idempotency-Key` and the hash of the canonical request it came with.
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub key: String,
    pub request_hash: String,
}

/// What a checkout did.
#[derive(Debug)]
pub enum CheckoutOutcome {
    /// A new order; `response` is the receipt JSON stored with the idempotency key.
    Placed { order: Box<Order>, response: String },
    /// The same key and request again: the first response, unchanged.
    Replayed { status: u16, response: String },
    /// Refused: nothing written but the audit row.
    Refused(Box<Evaluation>),
}

/// The receipt returned (and replayed) for a placed order.
#[derive(Serialize)]
struct Receipt<'a> {
    order: &'a Order,
    limits: &'a Decision,
    loyalty: LoyaltyReceipt,
}

/// What the order did to the customer's points.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LoyaltyReceipt {
    pub redeemed_points: i64,
    pub redeemed_cents: i64,
    /// Points earned (orders that complete later earn then).
    pub earned_points: i64,
    /// When the earned points can be spent (after the program's pending period).
    pub earned_available_at: Option<Timestamp>,
}

/// Filters for a customer's purchase history.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub channel: Option<SalesChannel>,
    pub status: Option<OrderStatus>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    /// Only orders with a smaller number (paging backwards, newest first).
    pub before: Option<i64>,
    pub limit: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrderPage {
    pub items: Vec<Order>,
    /// Pass as `before` for the next (older) page.
    pub next_before: Option<i64>,
}

/// (category, its spend, order count, lifetime spend, last purchase at, last purchase cents)
type StatsRow = (String, i64, i64, i64, Option<i64>, Option<i64>);

/// Figures for the profile screen, from one query over the customer's orders.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct CustomerStats {
    /// What the customer paid, less refunds, over live and completed orders.
    pub lifetime_spend_cents: i64,
    pub order_count: i64,
    pub last_purchase_at: Option<Timestamp>,
    pub last_purchase_cents: Option<i64>,
    /// Up to three categories by spend, highest first.
    pub favourite_categories: Vec<Category>,
}

fn class_str(class: CustomerClass) -> &'static str {
    class.name()
}

fn parse_class(s: &str) -> Result<CustomerClass> {
    match s {
        "adult-use" => Ok(CustomerClass::AdultUse),
        "medical" => Ok(CustomerClass::Medical),
        "caregiver" => Ok(CustomerClass::Caregiver),
        other => Err(corrupt("customer_class", other)),
    }
}

fn parse_status(s: &str) -> Result<OrderStatus> {
    OrderStatus::parse(s).ok_or_else(|| corrupt("order status", s))
}

/// The statuses whose orders count toward purchase limits, as an SQL list built from the one rule,
/// [`OrderStatus::counts_toward_limits`].
pub(crate) fn live_statuses() -> &'static str {
    static LIST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    LIST.get_or_init(|| {
        let names: Vec<String> = OrderStatus::ALL
            .into_iter()
            .filter(|s| s.counts_toward_limits())
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        format!("({})", names.join(", "))
    })
}

/// Where the gate reads: the open write transaction (checkout) or the read pool (quote).
enum Source<'a> {
    Tx(&'a mut Tx),
    Read(&'a Store),
}

#[derive(sqlx::FromRow)]
struct HistoryRow {
    order_id: String,
    placed_at: i64,
    customer_class: String,
    category: String,
    quantity: i64,
    returned_quantity: i64,
    net_weight_mg: Option<i64>,
    concentrate_mg: Option<i64>,
    thc_ug: Option<i64>,
    volume_ul: Option<i64>,
}

impl Source<'_> {
    /// The latest verification and the medical card (caregiver links are not needed here).
    async fn compliance(&mut self, id: CustomerId) -> Result<crate::Compliance> {
        match self {
            Source::Tx(tx) => crate::verification::compliance_in_tx(tx, id).await,
            Source::Read(store) => Ok(store.compliance(&[id]).await?.pop().unwrap_or_default()),
        }
    }

    async fn is_caregiver_of(
        &mut self,
        caregiver: CustomerId,
        patient: CustomerId,
    ) -> Result<bool> {
        let sql =
            "SELECT COUNT(*) FROM caregiver_patients WHERE caregiver_id = $1 AND patient_id = $2";
        let (c, p) = (caregiver.to_string(), patient.to_string());
        let n: i64 = match self {
            Source::Tx(tx) => on_tx!(&mut **tx, |conn| sqlx::query_scalar(sql)
                .bind(&c)
                .bind(&p)
                .fetch_one(&mut **conn)
                .await)?,
            Source::Read(store) => on_read!(store, |pool| sqlx::query_scalar(sql)
                .bind(&c)
                .bind(&p)
                .fetch_one(pool)
                .await)?,
        };
        Ok(n > 0)
    }

    async fn customer(&mut self, id: CustomerId) -> Result<Customer> {
        let row: Option<CustomerRow> = match self {
            Source::Tx(tx) => {
                let lock = if matches!(tx, Tx::Postgres(_)) {
                    " FOR UPDATE"
                } else {
                    ""
                };
                let sql = format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = $1{lock}");
                on_tx!(&mut **tx, |c| sqlx::query_as(AssertSqlSafe(sql.clone()))
                    .bind(id.to_string())
                    .fetch_optional(&mut **c)
                    .await)?
            }
            Source::Read(store) => {
                let sql = format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = $1");
                on_read!(store, |p| sqlx::query_as(AssertSqlSafe(sql.clone()))
                    .bind(id.to_string())
                    .fetch_optional(p)
                    .await)?
            }
        };
        row.ok_or(StoreError::NotFound { entity: "customer" })?
            .try_into()
    }

    /// The live purchases since `since` that count at `store` (its history scope) toward `customer`'s
    /// limits: their own, and those their caregivers made for them.
    async fn history(
        &mut self,
        customer: CustomerId,
        store: &RetailStore,
        since: Timestamp,
    ) -> Result<Vec<HistoryEntry>> {
        let scope = match store.settings.history_scope {
            HistoryScope::Store => "o.store_id = $3",
            HistoryScope::Licensee | HistoryScope::State => {
                "o.store_id IN (SELECT id FROM stores WHERE licensee = $4 AND jurisdiction = $5) AND $3 <> ''"
            }
        };
        let live = live_statuses();
        let sql = format!(
            "SELECT o.id AS order_id, o.placed_at, o.customer_class, l.category, l.quantity, l.returned_quantity, \
             l.net_weight_mg, l.concentrate_mg, l.thc_ug, l.volume_ul \
             FROM orders o JOIN order_lines l ON l.order_id = o.id \
             WHERE (o.customer_id = $1 OR o.patient_id = $1) AND o.placed_at >= $2 AND o.status IN {live} AND {scope} \
             ORDER BY o.placed_at, o.id, l.line_no"
        );
        let binds = (
            customer.to_string(),
            to_micros(since),
            store.id.to_string(),
            store.settings.licensee.clone(),
            store.settings.jurisdiction.as_str().to_string(),
        );
        let rows: Vec<HistoryRow> = match self {
            Source::Tx(tx) => on_tx!(&mut **tx, |c| sqlx::query_as(AssertSqlSafe(sql.clone()))
                .bind(&binds.0)
                .bind(binds.1)
                .bind(&binds.2)
                .bind(&binds.3)
                .bind(&binds.4)
                .fetch_all(&mut **c)
                .await)?,
            Source::Read(s) => on_read!(s, |p| sqlx::query_as(AssertSqlSafe(sql.clone()))
                .bind(&binds.0)
                .bind(binds.1)
                .bind(&binds.2)
                .bind(&binds.3)
                .bind(&binds.4)
                .fetch_all(p)
                .await)?,
        };
        let mut entries: Vec<HistoryEntry> = Vec::new();
        let mut last_order = String::new();
        for r in rows {
            let net = r.quantity - r.returned_quantity;
            if r.order_id != last_order {
                entries.push(HistoryEntry {
                    at: from_micros(r.placed_at),
                    class: Some(parse_class(&r.customer_class)?),
                    items: Vec::new(),
                    returned: false,
                });
                last_order = r.order_id.clone();
            }
            if net <= 0 {
                continue;
            }
            let measures = Measures {
                net_weight_mg: r.net_weight_mg,
                concentrate_mg: r.concentrate_mg,
                thc_ug: r.thc_ug,
                volume_ul: r.volume_ul,
            };
            if let Some(entry) = entries.last_mut() {
                entry.items.push(measures.to_item(
                    parse_category(&r.category)?,
                    i32::try_from(net).map_err(|_| corrupt("quantity", &net.to_string()))?,
                ));
            }
        }
        Ok(entries)
    }
}

impl Store {
    /// Catalogue lookups for the request's lines, resolved by [`canopy_orders::resolve_line`]
    /// (outside the write transaction: the catalogue is not part of the compliance decision's
    /// consistency).
    async fn resolve_lines(
        &self,
        lines: &[LineInput],
        store: &RetailStore,
        now: Timestamp,
        book: &RuleBook,
    ) -> Result<Vec<ResolvedLine>> {
        let skus: Vec<String> = lines.iter().filter_map(|l| l.sku.clone()).collect();
        let products = self.products_by_sku(&skus).await?;
        lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let product = l
                    .sku
                    .as_ref()
                    .and_then(|sku| products.iter().find(|p| &p.draft.sku == sku));
                Ok(resolve_line(i, l, product, |c| {
                    required_measures(book, &store.settings, now, c)
                })?)
            })
            .collect()
    }

    /// The discounts of every group the customer belongs to.
    async fn discounts_for(&self, customer: CustomerId) -> Result<Vec<GroupDiscount>> {
        Ok(self
            .customer_groups(customer)
            .await?
            .iter()
            .flat_map(|g| g.pricing_discounts())
            .collect())
    }

    /// The loyalty figures a quote prices a redemption with, read only when the request redeems
    /// points (a checkout reads them under the customer's lock instead, see [`loyalty::Wallet`]).
    async fn loyalty_for(
        &self,
        req: &CheckoutRequest,
        now: Timestamp,
    ) -> Result<Option<RedemptionContext>> {
        if req.loyalty_redeem_points == 0 {
            return Ok(None);
        }
        Ok(Some(self.redemption_context(req.customer_id, now).await?))
    }

    /// Runs the gate and prices without writing anything (the register's what-if). An empty cart
    /// is allowed here: its limits are what is left of each allotment before anything is rung up,
    /// which the profile screen shows as a meter.
    pub async fn quote(
        &self,
        req: &CheckoutRequest,
        actor: &Actor,
        now: Timestamp,
        book: &RuleBook,
    ) -> Result<Evaluation> {
        let store = self.retail_store(req.store_id).await?;
        let lines = self.resolve_lines(&req.lines, &store, now, book).await?;
        let discounts = self.discounts_for(req.customer_id).await?;
        let loyalty = self.loyalty_for(req, now).await?;
        let mut src = Source::Read(self);
        let ctx = GateContext {
            store: &store,
            discounts: &discounts,
            loyalty: loyalty.as_ref(),
            open_wallet: false,
        };
        Ok(gate(&mut src, req, &ctx, lines, actor, now, book)
            .await?
            .evaluation)
    }

    /// Places an order if the gate allows it; see the module docs.
    pub async fn checkout(
        &self,
        req: &CheckoutRequest,
        idempotency: Option<&Idempotency>,
        actor: &Actor,
        now: Timestamp,
        book: &RuleBook,
    ) -> Result<CheckoutOutcome> {
        if let Some(key) = idempotency
            && let Some(replay) = self.replay(key).await?
        {
            return Ok(replay);
        }
        if req.lines.is_empty() {
            return Err(StoreError::invalid(
                "lines",
                "empty_cart",
                "add at least one line",
            ));
        }
        let store = self.retail_store(req.store_id).await?;
        let lines = self.resolve_lines(&req.lines, &store, now, book).await?;
        let discounts = self.discounts_for(req.customer_id).await?;
        let mut tx = self.begin().await?;
        let Gated {
            evaluation,
            customer,
            wallet,
        } = {
            let mut src = Source::Tx(&mut tx);
            let ctx = GateContext {
                store: &store,
                discounts: &discounts,
                loyalty: None,
                open_wallet: req.loyalty_redeem_points != 0
                    || initial_status(req.channel) == OrderStatus::Completed,
            };
            gate(&mut src, req, &ctx, lines, actor, now, book).await?
        };
        if !evaluation.allowed {
            let details = serde_json::json!({
                "store_id": store.id, "channel": req.channel.as_str(), "reasons": evaluation.reasons,
                "limits": {"verdict": evaluation.limits.verdict, "violations": evaluation.limits.violations},
                "total_cents": evaluation.pricing.total_cents,
            });
            audit::record(
                &mut tx,
                actor,
                now,
                "checkout.refused",
                "customer",
                Some(&req.customer_id.to_string()),
                &details,
            )
            .await?;
            tx.commit().await?;
            return Ok(CheckoutOutcome::Refused(Box::new(evaluation)));
        }
        let order = build_order(req, &store, evaluation.clone(), actor, now);
        let number = insert_order(&mut tx, &order, &evaluation.limits).await?;
        let order = Order { number, ..order };
        let loyalty =
            loyalty_at_checkout(&mut tx, wallet, &order, &evaluation, &store, actor, now).await?;
        let response = serde_json::to_string(&Receipt {
            order: &order,
            limits: &evaluation.limits,
            loyalty,
        })
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        record_event(
            &mut tx,
            order.id,
            now,
            "placed",
            None,
            order.status,
            &actor.label,
            None,
            &serde_json::json!({}),
        )
        .await?;
        crate::events::emit(
            &mut tx,
            EventKind::OrderCreated,
            &order.id.to_string(),
            serde_json::json!({ "order": order }),
            now,
        )
        .await?;
        crate::sms::queue_status_sms_to(
            &mut tx,
            &order.id.to_string(),
            &order.number.to_string(),
            &customer,
            order.status.as_str(),
            now,
        )
        .await?;
        if let Some(key) = idempotency {
            let inserted = on_tx!(&mut tx, |c| {
                sqlx::query(
                "INSERT INTO idempotency_keys (key, request_hash, order_id, status_code, response, created_at) \
                 VALUES ($1, $2, $3, 201, $4, $5)"
            )
            .bind(&key.key)
            .bind(&key.request_hash)
            .bind(order.id.to_string())
            .bind(&response)
            .bind(to_micros(now))
            .execute(&mut **c)
            .await
            .map(|_| ())
            });
            if let Err(e) = inserted {
                if StoreError::is_unique_violation(&e) {
                    drop(tx);
                    return self
                        .replay(key)
                        .await?
                        .ok_or(StoreError::Conflict("idempotency key vanished".into()));
                }
                return Err(e.into());
            }
        }
        let details = serde_json::json!({
            "number": order.number, "customer_id": order.customer_id, "store_id": order.store_id,
            "channel": order.channel, "total_cents": order.total_cents, "discounts": order.discounts,
            "limits_verdict": evaluation.limits.verdict, "limits_override": order.limits_override,
            "price_override": order.price_override, "caller_asserted": order.caller_asserted,
        });
        audit::record(
            &mut tx,
            actor,
            now,
            "order.checkout",
            "order",
            Some(&order.id.to_string()),
            &details,
        )
        .await?;
        tx.commit().await?;
        Ok(CheckoutOutcome::Placed {
            order: Box::new(order),
            response,
        })
    }

    async fn replay(&self, key: &Idempotency) -> Result<Option<CheckoutOutcome>> {
        let row: Option<(String, i64, String)> = on_read!(self, |p| sqlx::query_as(
            "SELECT request_hash, status_code, response FROM idempotency_keys WHERE key = $1"
        )
        .bind(&key.key)
        .fetch_optional(p)
        .await)?;
        match row {
            None => Ok(None),
            Some((hash, _, _)) if hash != key.request_hash => Err(StoreError::IdempotencyKeyReused),
            Some((_, status, response)) => Ok(Some(CheckoutOutcome::Replayed {
                status: u16::try_from(status).unwrap_or(201),
                response,
            })),
        }
    }

    /// Forgets idempotency keys created before `before` (keep at least 24 hours).
    pub async fn purge_idempotency_keys(&self, before: Timestamp) -> Result<u64> {
        let mut tx = self.begin().await?;
        let n = on_tx!(&mut tx, |c| sqlx::query(
            "DELETE FROM idempotency_keys WHERE created_at < $1"
        )
        .bind(to_micros(before))
        .execute(&mut **c)
        .await
        .map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(n)
    }
}

/// What the gate works from besides the request: read before the checkout's transaction begins.
struct GateContext<'a> {
    store: &'a RetailStore,
    discounts: &'a [GroupDiscount],
    /// A quote's redemption figures, present when the request redeems points.
    loyalty: Option<&'a RedemptionContext>,
    /// A checkout that redeems or earns: open the buyer's [`loyalty::Wallet`] right after locking
    /// their row, and price the redemption from it.
    open_wallet: bool,
}

/// The gate's decision and what it loaded that the checkout writes with.
struct Gated {
    evaluation: Evaluation,
    /// The buyer's row (on PostgreSQL locked for the checkout's transaction).
    customer: Customer,
    wallet: Option<loyalty::Wallet>,
}

/// Loads what [`canopy_orders::evaluate`] reads through `src`, each once (the buyer's row first:
/// in a checkout on PostgreSQL that locks it, so two registers cannot spend one allotment), and
/// hands it the decision.
async fn gate(
    src: &mut Source<'_>,
    req: &CheckoutRequest,
    ctx: &GateContext<'_>,
    lines: Vec<ResolvedLine>,
    actor: &Actor,
    now: Timestamp,
    book: &RuleBook,
) -> Result<Gated> {
    let settings = &ctx.store.settings;
    let customer = src.customer(req.customer_id).await?;
    let wallet = match src {
        Source::Tx(tx) if ctx.open_wallet => Some(
            loyalty::Wallet::open(tx, customer.id, Some(customer.details.customer_type), now)
                .await?,
        ),
        _ => None,
    };
    let redemption = match (&wallet, ctx.loyalty) {
        (Some(w), _) if req.loyalty_redeem_points != 0 => Some(LoyaltyInputs {
            program: w.program(),
            available: w.available(now),
        }),
        (_, Some(l)) => Some(LoyaltyInputs {
            program: &l.program,
            available: l.available,
        }),
        _ => None,
    };
    let compliance = src.compliance(req.customer_id).await?;
    let patient = match req.patient_id {
        Some(id) if src.is_caregiver_of(req.customer_id, id).await? => {
            let patient = src.customer(id).await?;
            let facts = src.compliance(id).await?;
            Some((patient, facts))
        }
        _ => None,
    };
    let link = match (&patient, req.patient_id) {
        (Some((customer, facts)), _) => PatientLink::Linked {
            customer,
            facts: facts.facts(),
        },
        (None, Some(_)) => PatientLink::NotLinked,
        (None, None) => PatientLink::NotNamed,
    };
    let subject = limits_subject(&customer, &link);
    let history =
        match book.lookback_start(&settings.jurisdiction, now, Some(&settings.time_zone))? {
            Some(since) => src.history(subject.id, ctx.store, since).await?,
            None => Vec::new(),
        };
    let inputs = GateInputs {
        store: settings,
        customer: &customer,
        facts: compliance.facts(),
        patient: link,
        lines,
        history,
        external_allotments: req.external_allotments.clone(),
        allotment_authority: req.allotment_authority,
        discounts: ctx.discounts,
        loyalty: redemption,
        redeem_points: req.loyalty_redeem_points,
        limits_override: req.limits_override.clone(),
        price_override: req.price_override.clone(),
        approver: actor.id.clone().unwrap_or_else(|| actor.label.clone()),
        payments: &req.payments,
    };
    let evaluation = evaluate(inputs, book, now)?;
    Ok(Gated {
        evaluation,
        customer,
        wallet,
    })
}

/// Redeems the points the evaluation allowed and, for an order complete at once (in store), credits what
/// it earns, inside the checkout's transaction, through the wallet the gate opened under the customer's
/// lock (so nothing is read again). The ledger re-checks the redemption there, so a program changed
/// since the gate priced the order fails the whole checkout.
async fn loyalty_at_checkout(
    tx: &mut Tx,
    wallet: Option<loyalty::Wallet>,
    order: &Order,
    evaluation: &Evaluation,
    store: &RetailStore,
    actor: &Actor,
    now: Timestamp,
) -> Result<LoyaltyReceipt> {
    let mut receipt = LoyaltyReceipt::default();
    let Some(mut wallet) = wallet else {
        return Ok(receipt);
    };
    let order_id = order.id.to_string();
    let region = Some(store.settings.region_code());
    let fresh = || StoreError::Conflict("a new order already had loyalty entries".into());
    if evaluation.loyalty_points > 0 {
        let redeemed = wallet
            .spend(
                tx,
                actor,
                &order_id,
                evaluation.loyalty_points,
                order.subtotal_cents - order.discount_cents,
                region,
                now,
            )
            .await?
            .ok_or_else(fresh)?;
        if redeemed.value_cents != order.loyalty_redeemed_cents {
            return Err(StoreError::Conflict(
                "the loyalty program changed during checkout; quote again".into(),
            ));
        }
        receipt.redeemed_points = redeemed.points;
        receipt.redeemed_cents = redeemed.value_cents;
    }
    if order.status == OrderStatus::Completed {
        let amounts = OrderAmounts {
            before_discounts_cents: order.subtotal_cents,
            after_discounts_cents: order.total_cents,
        };
        let earned = wallet
            .earn(tx, actor, &order_id, amounts, region, now)
            .await?
            .ok_or_else(fresh)?;
        receipt.earned_points = earned.points;
        receipt.earned_available_at = earned.available_at;
    } else {
        wallet.save(tx, now).await?;
    }
    Ok(receipt)
}

/// Credits the points a completed order earns: on the amount before or after discounts as the program
/// says, where "after" is what the customer paid (points redeemed on it earn nothing).
async fn earn_on_completion(
    tx: &mut Tx,
    id: OrderId,
    customer: CustomerId,
    actor: &Actor,
    now: Timestamp,
) -> Result<loyalty::Earned> {
    let (subtotal, total, jurisdiction): (i64, i64, String) = on_tx!(tx, |c| sqlx::query_as(
        "SELECT o.subtotal_cents, o.total_cents, s.jurisdiction FROM orders o \
         JOIN stores s ON s.id = o.store_id WHERE o.id = $1"
    )
    .bind(id.to_string())
    .fetch_one(&mut **c)
    .await)?;
    let amounts = OrderAmounts {
        before_discounts_cents: subtotal,
        after_discounts_cents: total,
    };
    let region = jurisdiction.split_once('-').map(|(_, r)| r);
    loyalty::earn_for_order(tx, actor, customer, &id.to_string(), amounts, region, now).await
}

/// Takes back what is left of an order's points when it is voided or cancelled: the earned points of
/// the part not yet returned, and the redeemed points not yet given back.
async fn reverse_rest(
    tx: &mut Tx,
    head: &OrderHead,
    return_id: &str,
    actor: &Actor,
    now: Timestamp,
) -> Result<()> {
    let order_id = head.id.to_string();
    let (subtotal, discount): (i64, i64) = on_tx!(tx, |c| sqlx::query_as(
        "SELECT subtotal_cents, discount_cents FROM orders WHERE id = $1"
    )
    .bind(&order_id)
    .fetch_one(&mut **c)
    .await)?;
    let order_total_cents = subtotal - discount;
    let returned_cents = order_total_cents - loyalty::returned_cents(tx, &order_id).await?;
    if order_total_cents <= 0 || returned_cents <= 0 {
        return Ok(());
    }
    let share = ReturnShare {
        returned_cents,
        order_total_cents,
    };
    loyalty::reverse_for_order(
        tx,
        actor,
        head.customer_id,
        &order_id,
        return_id,
        share,
        now,
    )
    .await?;
    Ok(())
}

fn build_order(
    req: &CheckoutRequest,
    store: &RetailStore,
    evaluation: Evaluation,
    actor: &Actor,
    now: Timestamp,
) -> Order {
    let Evaluation {
        lines,
        pricing,
        customer_class,
        limits_override,
        price_override,
        caller_asserted,
        ..
    } = evaluation;
    let status = initial_status(req.channel);
    Order {
        id: OrderId::new(),
        number: 0,
        customer_id: req.customer_id,
        store_id: store.id,
        channel: req.channel,
        status,
        customer_class,
        subtotal_cents: pricing.subtotal_cents,
        discount_cents: pricing.discount_cents,
        loyalty_redeemed_cents: pricing.loyalty_cents,
        total_cents: pricing.total_cents,
        refunded_cents: 0,
        discounts: pricing.discounts.clone(),
        payments: req.payments.clone(),
        staff_id: actor.id.clone(),
        staff: actor.label.clone(),
        external_ref: req.external_ref.clone(),
        patient_id: req.patient_id,
        limits_override,
        price_override,
        caller_asserted,
        placed_at: now,
        updated_at: now,
        lines: lines
            .into_iter()
            .zip(&pricing.lines)
            .enumerate()
            .map(|(i, (l, p))| OrderLine {
                line_no: i as u32 + 1,
                product_id: l.product_id,
                sku: l.sku,
                name: l.name,
                category: l.category,
                quantity: l.quantity,
                returned_quantity: 0,
                measures: l.measures,
                unit_price_cents: l.unit_price_cents,
                subtotal_cents: p.subtotal_cents,
                discount_cents: p.discount_cents,
                loyalty_cents: p.loyalty_cents,
                total_cents: p.total_cents,
            })
            .collect(),
        events: vec![OrderEvent {
            at: now,
            kind: "placed".into(),
            from_status: None,
            to_status: status,
            actor: actor.label.clone(),
            reason: None,
            details: serde_json::json!({}),
        }],
    }
}

/// Inserts the order and its lines; returns the order number.
async fn insert_order(tx: &mut Tx, order: &Order, decision: &Decision) -> Result<i64> {
    let json = |v: &dyn erased::Ser| v.to_json();
    let (discounts, payments, decision_text, override_text) = (
        json(&order.discounts),
        json(&order.payments),
        json(decision),
        order.limits_override.as_ref().map(|o| json(o)),
    );
    let price_override_text = order.price_override.as_ref().map(|o| json(o));
    let (number,): (i64,) = on_tx!(tx, |c| {
        sqlx::query_as(
        "INSERT INTO orders (id, customer_id, store_id, channel, status, customer_class, subtotal_cents, discount_cents, \
         loyalty_redeemed_cents, total_cents, refunded_cents, discounts, payments, staff_id, staff_label, external_ref, \
         limits_decision, limits_override, placed_at, updated_at, patient_id, price_override, caller_asserted) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, $11, $12, $13, $14, $15, $16, $17, $18, $18, $19, $20, $21) RETURNING seq"
    )
    .bind(order.id.to_string())
    .bind(order.customer_id.to_string())
    .bind(order.store_id.to_string())
    .bind(order.channel.as_str())
    .bind(order.status.as_str())
    .bind(class_str(order.customer_class))
    .bind(order.subtotal_cents)
    .bind(order.discount_cents)
    .bind(order.loyalty_redeemed_cents)
    .bind(order.total_cents)
    .bind(&discounts)
    .bind(&payments)
    .bind(order.staff_id.as_deref())
    .bind(&order.staff)
    .bind(order.external_ref.as_deref())
    .bind(&decision_text)
    .bind(override_text.as_deref())
    .bind(to_micros(order.placed_at))
    .bind(order.patient_id.map(|p| p.to_string()))
    .bind(price_override_text.as_deref())
    .bind(order.caller_asserted)
    .fetch_one(&mut **c)
    .await
    })?;
    insert_lines(tx, &[(order.id, &order.lines)]).await?;
    Ok(number)
}

const LINE_COLUMNS: usize = 16;

/// Multi-row insert of order lines (also used by bulk loading).
pub(crate) async fn insert_lines(tx: &mut Tx, orders: &[(OrderId, &Vec<OrderLine>)]) -> Result<()> {
    let rows: Vec<(OrderId, &OrderLine)> = orders
        .iter()
        .flat_map(|(id, lines)| lines.iter().map(move |l| (*id, l)))
        .collect();
    // Small statements: sqlx-sqlite looks parameters up by name, so binding is quadratic in their number.
    for chunk in rows.chunks(2000 / LINE_COLUMNS) {
        let values: Vec<String> = (0..chunk.len())
            .map(|r| {
                let p: Vec<String> = (1..=LINE_COLUMNS)
                    .map(|i| format!("${}", r * LINE_COLUMNS + i))
                    .collect();
                format!(
                    "({}, {}, 0, {})",
                    p[..6].join(", "),
                    p[6],
                    p[7..].join(", ")
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO order_lines (order_id, line_no, product_id, sku, name, category, quantity, returned_quantity, \
             net_weight_mg, concentrate_mg, thc_ug, volume_ul, unit_price_cents, subtotal_cents, discount_cents, \
             loyalty_cents, total_cents) VALUES {}",
            values.join(", ")
        );
        on_tx!(tx, |c| {
            let mut q = sqlx::query(AssertSqlSafe(sql.clone()));
            for (id, l) in chunk {
                q = q
                    .bind(id.to_string())
                    .bind(i64::from(l.line_no))
                    .bind(l.product_id.map(|p| p.to_string()))
                    .bind(l.sku.clone())
                    .bind(l.name.clone())
                    .bind(l.category.name())
                    .bind(i64::from(l.quantity))
                    .bind(l.measures.net_weight_mg)
                    .bind(l.measures.concentrate_mg)
                    .bind(l.measures.thc_ug)
                    .bind(l.measures.volume_ul)
                    .bind(l.unit_price_cents)
                    .bind(l.subtotal_cents)
                    .bind(l.discount_cents)
                    .bind(l.loyalty_cents)
                    .bind(l.total_cents);
            }
            q.execute(&mut **c).await.map(|_| ())
        })?;
    }
    Ok(())
}

mod erased {
    pub trait Ser {
        fn to_json(&self) -> String;
    }
    impl<T: serde::Serialize> Ser for T {
        fn to_json(&self) -> String {
            serde_json::to_string(self).unwrap_or_else(|_| "null".into())
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn record_event(
    tx: &mut Tx,
    order: OrderId,
    at: Timestamp,
    kind: &str,
    from: Option<OrderStatus>,
    to: OrderStatus,
    actor_label: &str,
    reason: Option<&str>,
    details: &serde_json::Value,
) -> Result<()> {
    on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO order_events (order_id, at, kind, from_status, to_status, actor_label, reason, details) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    )
    .bind(order.to_string())
    .bind(to_micros(at))
    .bind(kind)
    .bind(from.map(|s| s.as_str()))
    .bind(to.as_str())
    .bind(actor_label)
    .bind(reason)
    .bind(details.to_string())
    .execute(&mut **c)
    .await
    .map(|_| ())
    })?;
    Ok(())
}

/// The one place an order's status changes: checks the lifecycle, updates the order, appends the
/// event and the audit row, all inside the caller's transaction. Notifications (SMS, webhooks)
/// belong here too, as outbox rows in the same transaction.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn record_status_change(
    tx: &mut Tx,
    order: &OrderHead,
    to: OrderStatus,
    kind: &str,
    actor: &Actor,
    now: Timestamp,
    reason: Option<&str>,
    details: &serde_json::Value,
) -> Result<()> {
    transition(order.channel, order.status, to)?;
    on_tx!(tx, |c| sqlx::query(
        "UPDATE orders SET status = $1, updated_at = $2 WHERE id = $3"
    )
    .bind(to.as_str())
    .bind(to_micros(now))
    .bind(order.id.to_string())
    .execute(&mut **c)
    .await
    .map(|_| ()))?;
    record_event(
        tx,
        order.id,
        now,
        kind,
        Some(order.status),
        to,
        &actor.label,
        reason,
        details,
    )
    .await?;
    audit::record(
        tx,
        actor,
        now,
        &format!("order.{kind}"),
        "order",
        Some(&order.id.to_string()),
        &serde_json::json!({ "from": order.status, "to": to, "reason": reason, "details": details }),
    )
    .await?;
    crate::events::emit(
        tx,
        EventKind::OrderStatusChanged,
        &order.id.to_string(),
        serde_json::json!({
            "order_id": order.id, "customer_id": order.customer_id, "from": order.status, "to": to,
            "reason": reason, "details": details,
        }),
        now,
    )
    .await?;
    let (number,): (i64,) = on_tx!(tx, |c| sqlx::query_as(
        "SELECT seq FROM orders WHERE id = $1"
    )
    .bind(order.id.to_string())
    .fetch_one(&mut **c)
    .await)?;
    crate::sms::queue_status_sms(
        tx,
        &order.id.to_string(),
        &number.to_string(),
        order.customer_id,
        to.as_str(),
        now,
    )
    .await?;
    match to {
        OrderStatus::Completed => {
            earn_on_completion(tx, order.id, order.customer_id, actor, now).await?;
        }
        OrderStatus::Voided | OrderStatus::Cancelled => {
            reverse_rest(tx, order, to.as_str(), actor, now).await?;
        }
        _ => {}
    }
    Ok(())
}

/// The parts of an order a status change needs, read (and on PostgreSQL locked) in the transaction.
pub(crate) struct OrderHead {
    pub id: OrderId,
    pub channel: SalesChannel,
    pub status: OrderStatus,
    pub customer_id: CustomerId,
}

async fn lock_order(tx: &mut Tx, id: OrderId) -> Result<OrderHead> {
    let lock = if matches!(tx, Tx::Postgres(_)) {
        " FOR UPDATE"
    } else {
        ""
    };
    let sql = format!("SELECT channel, status, customer_id FROM orders WHERE id = $1{lock}");
    let row: Option<(String, String, String)> =
        on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql.clone()))
            .bind(id.to_string())
            .fetch_optional(&mut **c)
            .await)?;
    let (channel, status, customer) = row.ok_or(StoreError::NotFound { entity: "order" })?;
    Ok(OrderHead {
        id,
        channel: SalesChannel::parse(&channel).ok_or_else(|| corrupt("channel", &channel))?,
        status: parse_status(&status)?,
        customer_id: customer
            .parse()
            .map_err(|_| corrupt("customer id", &customer))?,
    })
}

#[derive(sqlx::FromRow)]
struct OrderRow {
    seq: i64,
    id: String,
    customer_id: String,
    store_id: String,
    channel: String,
    status: String,
    customer_class: String,
    subtotal_cents: i64,
    discount_cents: i64,
    loyalty_redeemed_cents: i64,
    total_cents: i64,
    refunded_cents: i64,
    discounts: String,
    payments: String,
    staff_id: Option<String>,
    staff_label: String,
    external_ref: Option<String>,
    limits_override: Option<String>,
    placed_at: i64,
    updated_at: i64,
    patient_id: Option<String>,
    price_override: Option<String>,
    caller_asserted: bool,
}

const ORDER_COLUMNS: &str = "seq, id, customer_id, store_id, channel, status, customer_class, subtotal_cents, discount_cents, \
     loyalty_redeemed_cents, total_cents, refunded_cents, discounts, payments, staff_id, staff_label, external_ref, \
     limits_override, placed_at, updated_at, patient_id, price_override, caller_asserted";

impl TryFrom<OrderRow> for Order {
    type Error = StoreError;
    fn try_from(r: OrderRow) -> Result<Order> {
        let json_err = |what: &str, text: &str| corrupt(what, text);
        Ok(Order {
            id: r.id.parse().map_err(|_| corrupt("order id", &r.id))?,
            number: r.seq,
            customer_id: r
                .customer_id
                .parse()
                .map_err(|_| corrupt("customer id", &r.customer_id))?,
            patient_id: r
                .patient_id
                .map(|p| p.parse().map_err(|_| corrupt("patient id", &p)))
                .transpose()?,
            store_id: r
                .store_id
                .parse()
                .map_err(|_| corrupt("store id", &r.store_id))?,
            channel: SalesChannel::parse(&r.channel)
                .ok_or_else(|| corrupt("channel", &r.channel))?,
            status: parse_status(&r.status)?,
            customer_class: parse_class(&r.customer_class)?,
            subtotal_cents: r.subtotal_cents,
            discount_cents: r.discount_cents,
            loyalty_redeemed_cents: r.loyalty_redeemed_cents,
            total_cents: r.total_cents,
            refunded_cents: r.refunded_cents,
            discounts: serde_json::from_str(&r.discounts)
                .map_err(|_| json_err("discounts", &r.discounts))?,
            payments: serde_json::from_str(&r.payments)
                .map_err(|_| json_err("payments", &r.payments))?,
            staff_id: r.staff_id,
            staff: r.staff_label,
            external_ref: r.external_ref,
            limits_override: r
                .limits_override
                .map(|t| serde_json::from_str(&t).map_err(|_| json_err("limits_override", &t)))
                .transpose()?,
            price_override: r
                .price_override
                .map(|t| serde_json::from_str(&t).map_err(|_| json_err("price_override", &t)))
                .transpose()?,
            caller_asserted: r.caller_asserted,
            placed_at: from_micros(r.placed_at),
            updated_at: from_micros(r.updated_at),
            lines: Vec::new(),
            events: Vec::new(),
        })
    }
}

#[derive(sqlx::FromRow)]
struct LineRow {
    order_id: String,
    line_no: i64,
    product_id: Option<String>,
    sku: Option<String>,
    name: String,
    category: String,
    quantity: i64,
    returned_quantity: i64,
    net_weight_mg: Option<i64>,
    concentrate_mg: Option<i64>,
    thc_ug: Option<i64>,
    volume_ul: Option<i64>,
    unit_price_cents: i64,
    subtotal_cents: i64,
    discount_cents: i64,
    loyalty_cents: i64,
    total_cents: i64,
}

impl TryFrom<LineRow> for OrderLine {
    type Error = StoreError;
    fn try_from(r: LineRow) -> Result<OrderLine> {
        let n = |v: i64, what: &str| u32::try_from(v).map_err(|_| corrupt(what, &v.to_string()));
        Ok(OrderLine {
            line_no: n(r.line_no, "line_no")?,
            product_id: r
                .product_id
                .map(|p| p.parse().map_err(|_| corrupt("product id", &p)))
                .transpose()?,
            sku: r.sku,
            name: r.name,
            category: parse_category(&r.category)?,
            quantity: n(r.quantity, "quantity")?,
            returned_quantity: n(r.returned_quantity, "returned_quantity")?,
            measures: Measures {
                net_weight_mg: r.net_weight_mg,
                concentrate_mg: r.concentrate_mg,
                thc_ug: r.thc_ug,
                volume_ul: r.volume_ul,
            },
            unit_price_cents: r.unit_price_cents,
            subtotal_cents: r.subtotal_cents,
            discount_cents: r.discount_cents,
            loyalty_cents: r.loyalty_cents,
            total_cents: r.total_cents,
        })
    }
}

#[derive(sqlx::FromRow)]
struct EventRow {
    order_id: String,
    at: i64,
    kind: String,
    from_status: Option<String>,
    to_status: String,
    actor_label: String,
    reason: Option<String>,
    details: String,
}

impl Store {
    /// One order with its lines and events.
    pub async fn order(&self, id: OrderId) -> Result<Order> {
        let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1");
        let row: Option<OrderRow> = on_read!(self, |p| sqlx::query_as(AssertSqlSafe(sql.clone()))
            .bind(id.to_string())
            .fetch_optional(p)
            .await)?;
        let order = Order::try_from(row.ok_or(StoreError::NotFound { entity: "order" })?)?;
        let mut orders = vec![order];
        self.attach_details(&mut orders).await?;
        orders.pop().ok_or(StoreError::NotFound { entity: "order" })
    }

    /// A customer's orders, newest first. `full` adds lines and events.
    pub async fn customer_orders(
        &self,
        customer: CustomerId,
        filter: &OrderFilter,
        full: bool,
    ) -> Result<OrderPage> {
        self.customer(customer).await?;
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE customer_id = $1 AND ($2 IS NULL OR channel = $2) \
             AND ($3 IS NULL OR status = $3) AND ($4 IS NULL OR placed_at >= $4) AND ($5 IS NULL OR placed_at < $5) \
             AND ($6 IS NULL OR seq < $6) ORDER BY seq DESC LIMIT $7"
        );
        let rows: Vec<OrderRow> = on_read!(self, |p| sqlx::query_as(AssertSqlSafe(sql.clone()))
            .bind(customer.to_string())
            .bind(filter.channel.map(|c| c.as_str()))
            .bind(filter.status.map(|s| s.as_str()))
            .bind(filter.from.map(to_micros))
            .bind(filter.to.map(to_micros))
            .bind(filter.before)
            .bind(i64::from(filter.limit) + 1)
            .fetch_all(p)
            .await)?;
        let mut items: Vec<Order> = rows
            .into_iter()
            .map(Order::try_from)
            .collect::<Result<_>>()?;
        let next_before = if items.len() > filter.limit as usize {
            items.truncate(filter.limit as usize);
            items.last().map(|o| o.number)
        } else {
            None
        };
        if full {
            self.attach_details(&mut items).await?;
        }
        Ok(OrderPage { items, next_before })
    }

    /// Every order in number order, `limit` at a time after order number `after`, with lines and events
    /// (the CSV export pages through all of them this way).
    pub async fn orders_after(&self, after: Option<i64>, limit: u32) -> Result<Vec<Order>> {
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE ($1 IS NULL OR seq > $1) ORDER BY seq LIMIT $2"
        );
        let rows: Vec<OrderRow> = on_read!(self, |p| sqlx::query_as(AssertSqlSafe(sql.clone()))
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(p)
            .await)?;
        let mut items: Vec<Order> = rows
            .into_iter()
            .map(Order::try_from)
            .collect::<Result<_>>()?;
        self.attach_details(&mut items).await?;
        Ok(items)
    }

    /// One order in full for someone allowed to read any order, with an `order.view` audit row:
    /// like the purchase history, reading an arbitrary order is a view of a customer's purchases.
    pub async fn view_order(&self, id: OrderId, actor: &Actor, now: Timestamp) -> Result<Order> {
        let order = self.order(id).await?;
        let mut tx = self.begin().await?;
        audit::record(
            &mut tx,
            actor,
            now,
            "order.view",
            "order",
            Some(&id.to_string()),
            &serde_json::json!({ "customer_id": order.customer_id, "number": order.number }),
        )
        .await?;
        tx.commit().await?;
        Ok(order)
    }

    /// Records that someone viewed a customer's full purchase history.
    pub async fn record_history_view(
        &self,
        customer: CustomerId,
        actor: &Actor,
        now: Timestamp,
        filter: &serde_json::Value,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        audit::record(
            &mut tx,
            actor,
            now,
            "order.history_view",
            "customer",
            Some(&customer.to_string()),
            filter,
        )
        .await?;
        tx.commit().await
    }

    async fn attach_details(&self, orders: &mut [Order]) -> Result<()> {
        if orders.is_empty() {
            return Ok(());
        }
        let placeholders: Vec<String> = (1..=orders.len()).map(|i| format!("${i}")).collect();
        let ids: Vec<String> = orders.iter().map(|o| o.id.to_string()).collect();
        let line_sql = format!(
            "SELECT order_id, line_no, product_id, sku, name, category, quantity, returned_quantity, net_weight_mg, \
             concentrate_mg, thc_ug, volume_ul, unit_price_cents, subtotal_cents, discount_cents, loyalty_cents, total_cents \
             FROM order_lines WHERE order_id IN ({}) ORDER BY order_id, line_no",
            placeholders.join(", ")
        );
        let event_sql = format!(
            "SELECT order_id, at, kind, from_status, to_status, actor_label, reason, details FROM order_events \
             WHERE order_id IN ({}) ORDER BY seq",
            placeholders.join(", ")
        );
        let lines: Vec<LineRow> = on_read!(self, |p| {
            let mut q = sqlx::query_as(AssertSqlSafe(line_sql.clone()));
            for id in &ids {
                q = q.bind(id);
            }
            q.fetch_all(p).await
        })?;
        let events: Vec<EventRow> = on_read!(self, |p| {
            let mut q = sqlx::query_as(AssertSqlSafe(event_sql.clone()));
            for id in &ids {
                q = q.bind(id);
            }
            q.fetch_all(p).await
        })?;
        let mut by_order: BTreeMap<String, (Vec<OrderLine>, Vec<OrderEvent>)> = BTreeMap::new();
        for l in lines {
            by_order
                .entry(l.order_id.clone())
                .or_default()
                .0
                .push(OrderLine::try_from(l)?);
        }
        for e in events {
            let event = OrderEvent {
                at: from_micros(e.at),
                kind: e.kind,
                from_status: e.from_status.as_deref().map(parse_status).transpose()?,
                to_status: parse_status(&e.to_status)?,
                actor: e.actor_label,
                reason: e.reason,
                details: serde_json::from_str(&e.details).unwrap_or(serde_json::Value::Null),
            };
            by_order.entry(e.order_id).or_default().1.push(event);
        }
        for o in orders.iter_mut() {
            if let Some((lines, events)) = by_order.remove(&o.id.to_string()) {
                o.lines = lines;
                o.events = events;
            }
        }
        Ok(())
    }

    /// The store an order was placed at (what store-scoped permissions on it are checked against).
    pub async fn order_store(&self, id: OrderId) -> Result<StoreId> {
        let row: Option<(String,)> = on_read!(self, |p| sqlx::query_as(
            "SELECT store_id FROM orders WHERE id = $1"
        )
        .bind(id.to_string())
        .fetch_optional(p)
        .await)?;
        let (store,) = row.ok_or(StoreError::NotFound { entity: "order" })?;
        store.parse().map_err(|_| corrupt("store id", &store))
    }

    /// Moves an order along its lifecycle (`ready_for_pickup`, `out_for_delivery`, `completed`,
    /// `cancelled`). Returns and voids have their own methods.
    pub async fn change_order_status(
        &self,
        id: OrderId,
        to: OrderStatus,
        reason: Option<&str>,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Order> {
        if matches!(to, OrderStatus::Returned | OrderStatus::Voided) {
            return Err(StoreError::invalid(
                "status",
                "use_dedicated_endpoint",
                "returns and voids have their own endpoints (…/returns, …/void)",
            ));
        }
        let mut tx = self.begin().await?;
        let head = lock_order(&mut tx, id).await?;
        record_status_change(
            &mut tx,
            &head,
            to,
            "status",
            actor,
            now,
            reason,
            &serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        self.order(id).await
    }

    /// Voids a whole order: it no longer counts toward purchase limits.
    pub async fn void_order(
        &self,
        id: OrderId,
        reason: &str,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Order> {
        let mut tx = self.begin().await?;
        let head = lock_order(&mut tx, id).await?;
        record_status_change(
            &mut tx,
            &head,
            OrderStatus::Voided,
            "void",
            actor,
            now,
            Some(reason),
            &serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        self.order(id).await
    }

    /// Returns some units of some lines of a completed order; refunds what was paid for them and
    /// gives the purchase-limit allotment back. When every unit is back the order is `returned`.
    pub async fn return_lines(
        &self,
        id: OrderId,
        returns: &[(u32, u32)],
        reason: &str,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Order> {
        if returns.is_empty() {
            return Err(StoreError::invalid(
                "lines",
                "empty_return",
                "name at least one line to return",
            ));
        }
        let mut tx = self.begin().await?;
        let head = lock_order(&mut tx, id).await?;
        if head.status != OrderStatus::Completed {
            transition(head.channel, head.status, OrderStatus::Returned)?;
        }
        let rows: Vec<(i64, i64, i64, i64, i64)> = on_tx!(&mut tx, |c| {
            sqlx::query_as(
            "SELECT line_no, quantity, returned_quantity, total_cents, subtotal_cents - discount_cents \
             FROM order_lines WHERE order_id = $1 ORDER BY line_no"
        )
        .bind(id.to_string())
        .fetch_all(&mut **c)
        .await
        })?;
        // Loyalty measures a return on the order after discounts and before points, so an order paid
        // entirely with points still has a value to take its earned points back in proportion to.
        let order_value: i64 = rows.iter().map(|r| r.4).sum();
        let mut returned_value = 0i64;
        let mut state: BTreeMap<u32, (u32, u32, i64, i64)> = rows
            .into_iter()
            .map(|(n, q, r, t, v)| (n as u32, (q as u32, r as u32, t, v)))
            .collect();
        let mut refund_total = 0i64;
        let mut details = Vec::new();
        for (i, (line_no, qty)) in returns.iter().enumerate() {
            let (quantity, returned, total, value) = state.get_mut(line_no).ok_or_else(|| {
                StoreError::invalid(
                    format!("lines[{i}].line_no"),
                    "unknown_line",
                    format!("the order has no line {line_no}"),
                )
            })?;
            if *qty == 0 || returned.saturating_add(*qty) > *quantity {
                return Err(StoreError::invalid(
                    format!("lines[{i}].quantity"),
                    "invalid_return_quantity",
                    format!(
                        "line {line_no}: {} of {} units can still be returned",
                        *quantity - *returned,
                        quantity
                    ),
                ));
            }
            let refund = refund_for(*total, *quantity, *returned, *qty);
            returned_value += refund_for(*value, *quantity, *returned, *qty);
            *returned += qty;
            refund_total += refund;
            details.push(
                serde_json::json!({"line_no": line_no, "quantity": qty, "refund_cents": refund}),
            );
            on_tx!(&mut tx, |c| {
                sqlx::query(
                "UPDATE order_lines SET returned_quantity = returned_quantity + $1 WHERE order_id = $2 AND line_no = $3"
            )
            .bind(i64::from(*qty))
            .bind(id.to_string())
            .bind(i64::from(*line_no))
            .execute(&mut **c)
            .await
            .map(|_| ())
            })?;
        }
        on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE orders SET refunded_cents = refunded_cents + $1, updated_at = $2 WHERE id = $3"
        )
        .bind(refund_total)
        .bind(to_micros(now))
        .bind(id.to_string())
        .execute(&mut **c)
        .await
        .map(|_| ()))?;
        let details = serde_json::json!({ "lines": details, "refund_cents": refund_total });
        if order_value > 0 && returned_value > 0 {
            let share = ReturnShare {
                returned_cents: returned_value,
                order_total_cents: order_value,
            };
            let return_id = uuid::Uuid::now_v7().to_string();
            let order_id = id.to_string();
            loyalty::reverse_for_order(
                &mut tx,
                actor,
                head.customer_id,
                &order_id,
                &return_id,
                share,
                now,
            )
            .await?;
        }
        let all_back = state.values().all(|(q, r, _, _)| q == r);
        if all_back {
            record_status_change(
                &mut tx,
                &head,
                OrderStatus::Returned,
                "return",
                actor,
                now,
                Some(reason),
                &details,
            )
            .await?;
        } else {
            record_event(
                &mut tx,
                id,
                now,
                "return",
                Some(head.status),
                head.status,
                &actor.label,
                Some(reason),
                &details,
            )
            .await?;
            audit::record(
                &mut tx,
                actor,
                now,
                "order.return",
                "order",
                Some(&id.to_string()),
                &details,
            )
            .await?;
        }
        tx.commit().await?;
        self.order(id).await
    }

    /// Lifetime spend, order count, last purchase and favourite categories, in one query.
    pub async fn customer_stats(&self, customer: CustomerId) -> Result<CustomerStats> {
        let live = live_statuses();
        let sql = format!(
            "SELECT l.category, CAST(SUM(l.total_cents) AS BIGINT) AS spend, \
               (SELECT COUNT(*) FROM orders c WHERE c.customer_id = $1 AND c.status IN {live}) AS order_count, \
               (SELECT CAST(COALESCE(SUM(c.total_cents - c.refunded_cents), 0) AS BIGINT) FROM orders c WHERE c.customer_id = $1 AND c.status IN {live}) AS lifetime, \
               (SELECT MAX(c.placed_at) FROM orders c WHERE c.customer_id = $1 AND c.status IN {live}) AS last_at, \
               (SELECT c.total_cents FROM orders c WHERE c.customer_id = $1 AND c.status IN {live} ORDER BY c.placed_at DESC LIMIT 1) AS last_cents \
             FROM orders o JOIN order_lines l ON l.order_id = o.id \
             WHERE o.customer_id = $1 AND o.status IN {live} \
             GROUP BY l.category ORDER BY spend DESC, l.category"
        );
        let rows: Vec<StatsRow> = on_read!(self, |p| sqlx::query_as(AssertSqlSafe(sql.clone()))
            .bind(customer.to_string())
            .fetch_all(p)
            .await)?;
        let Some(first) = rows.first() else {
            return Ok(CustomerStats::default());
        };
        Ok(CustomerStats {
            lifetime_spend_cents: first.3,
            order_count: first.2,
            last_purchase_at: first.4.map(from_micros),
            last_purchase_cents: first.5,
            favourite_categories: rows
                .iter()
                .take(3)
                .map(|r| parse_category(&r.0))
                .collect::<Result<_>>()?,
        })
    }
}

impl Store {
    /// Loads past orders in bulk (demo data, imports of another system's history): the orders
    /// and lines only, in one transaction audited as one action. The caller built them valid.
    pub async fn insert_orders_bulk(
        &self,
        orders: &[Order],
        actor: &Actor,
        now: Timestamp,
    ) -> Result<()> {
        const PER_ROW: usize = 19;
        let mut tx = self.begin().await?;
        for chunk in orders.chunks(100) {
            let values: Vec<String> = (0..chunk.len())
                .map(|r| {
                    let p: Vec<String> = (1..=PER_ROW)
                        .map(|i| format!("${}", r * PER_ROW + i))
                        .collect();
                    format!("({}, '{{\"source\":\"import\"}}')", p.join(", "))
                })
                .collect();
            let sql = format!(
                "INSERT INTO orders (id, customer_id, store_id, channel, status, customer_class, subtotal_cents, discount_cents, \
                 loyalty_redeemed_cents, total_cents, refunded_cents, discounts, payments, staff_id, staff_label, external_ref, \
                 placed_at, updated_at, limits_override, limits_decision) VALUES {}",
                values.join(", ")
            );
            on_tx!(&mut tx, |c| {
                let mut q = sqlx::query(AssertSqlSafe(sql.clone()));
                for o in chunk {
                    q = q
                        .bind(o.id.to_string())
                        .bind(o.customer_id.to_string())
                        .bind(o.store_id.to_string())
                        .bind(o.channel.as_str())
                        .bind(o.status.as_str())
                        .bind(class_str(o.customer_class))
                        .bind(o.subtotal_cents)
                        .bind(o.discount_cents)
                        .bind(o.loyalty_redeemed_cents)
                        .bind(o.total_cents)
                        .bind(o.refunded_cents)
                        .bind(serde_json::to_string(&o.discounts).unwrap_or_else(|_| "[]".into()))
                        .bind(serde_json::to_string(&o.payments).unwrap_or_else(|_| "[]".into()))
                        .bind(o.staff_id.clone())
                        .bind(o.staff.clone())
                        .bind(o.external_ref.clone())
                        .bind(to_micros(o.placed_at))
                        .bind(to_micros(o.updated_at))
                        .bind(None::<String>);
                }
                q.execute(&mut **c).await.map(|_| ())
            })?;
            let lines: Vec<(OrderId, &Vec<OrderLine>)> =
                chunk.iter().map(|o| (o.id, &o.lines)).collect();
            insert_lines(&mut tx, &lines).await?;
        }
        audit::record(
            &mut tx,
            actor,
            now,
            "order.bulk_insert",
            "order",
            None,
            &serde_json::json!({ "count": orders.len() }),
        )
        .await?;
        tx.commit().await
    }

    pub async fn count_orders(&self) -> Result<i64> {
        let (n,): (i64,) = on_read!(self, |p| sqlx::query_as("SELECT COUNT(*) FROM orders")
            .fetch_one(p)
            .await)?;
        Ok(n)
    }

    /// Up to `limit` customers, in creation order, who are not banned and whose ID is valid on
    /// `today` (benchmarks and demo data pick buyers from these).
    pub async fn customers_with_valid_id(
        &self,
        today: jiff::civil::Date,
        limit: u32,
    ) -> Result<Vec<CustomerId>> {
        let rows: Vec<(String,)> = on_read!(self, |p| {
            sqlx::query_as(
            "SELECT id FROM customers WHERE ban_reason IS NULL AND id_expiry >= $1 AND date_of_birth IS NOT NULL ORDER BY seq LIMIT $2"
        )
        .bind(today.to_string())
        .bind(i64::from(limit))
        .fetch_all(p)
        .await
        })?;
        rows.into_iter()
            .map(|(id,)| id.parse().map_err(|_| corrupt("customer id", &id)))
            .collect()
    }
}
