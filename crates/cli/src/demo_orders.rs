//! Demo stores, products, groups with members and a realistic order history, so every screen
//! has data. Bulk inserts throughout; seeded, so the same sizes give the same data.

use anyhow::Context;
use canopy_domain::{Actor, CustomerId, DiscountId, GroupId, OrderId};
use canopy_limits::{Category, CustomerClass, EnforcementMode};
use canopy_orders::{
    CartLine, Discount, DiscountKind, Group, HistoryScope, LicenceType, Measures, Order,
    OrderEvent, OrderLine, OrderStatus, Payment, Product, ProductDraft, RetailStore, SalesChannel,
    StoreSettings, price,
};
use canopy_store::{GroupDraft, Store};
use jiff::{SignedDuration, Timestamp};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

/// What the demo sells from and where.
pub struct Catalog {
    pub stores: Vec<RetailStore>,
    pub products: Vec<Product>,
    pub groups: Vec<Group>,
}

const STORES: &[(&str, &str, &str, LicenceType)] = &[
    (
        "Canopy Denver Colfax",
        "Canopy Colorado LLC",
        "US-CO",
        LicenceType::Both,
    ),
    (
        "Canopy Boulder Pearl St",
        "Canopy Colorado LLC",
        "US-CO",
        LicenceType::AdultUse,
    ),
    (
        "Canopy Seattle Capitol Hill",
        "Canopy Washington Inc",
        "US-WA",
        LicenceType::Both,
    ),
];

/// (sku, name, category, net weight g, concentrate g, THC mg, volume mL, price cents)
type ProductRow = (
    &'static str,
    &'static str,
    Category,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    i64,
);
const PRODUCTS: &[ProductRow] = &[
    (
        "FLW-BD-35",
        "Blue Dream 3.5 g",
        Category::Flower,
        Some(3500),
        None,
        None,
        None,
        3500,
    ),
    (
        "FLW-GG-35",
        "Gorilla Glue #4 3.5 g",
        Category::Flower,
        Some(3500),
        None,
        None,
        None,
        4000,
    ),
    (
        "FLW-SD-7",
        "Sour Diesel 7 g",
        Category::Flower,
        Some(7000),
        None,
        None,
        None,
        6500,
    ),
    (
        "FLW-OG-14",
        "OG Kush 14 g",
        Category::Flower,
        Some(14000),
        None,
        None,
        None,
        11000,
    ),
    (
        "PRE-HB-1",
        "Headband pre-roll 1 g",
        Category::PreRoll,
        Some(1000),
        None,
        None,
        None,
        1000,
    ),
    (
        "PRE-5PK",
        "Pre-roll five pack 2.5 g",
        Category::PreRoll,
        Some(2500),
        None,
        None,
        None,
        2500,
    ),
    (
        "IPR-MOON",
        "Moon rock infused pre-roll",
        Category::InfusedPreRoll,
        Some(1000),
        Some(300),
        None,
        None,
        1800,
    ),
    (
        "CON-LR-1",
        "Live resin 1 g",
        Category::Concentrate,
        Some(1000),
        Some(1000),
        None,
        None,
        4500,
    ),
    (
        "CON-SH-1",
        "Shatter 1 g",
        Category::Concentrate,
        Some(1000),
        Some(1000),
        None,
        None,
        3000,
    ),
    (
        "VAP-CART-05",
        "Vape cartridge 0.5 g",
        Category::Vape,
        Some(500),
        Some(500),
        None,
        None,
        3000,
    ),
    (
        "VAP-DISP-1",
        "Disposable vape 1 g",
        Category::Vape,
        Some(1000),
        Some(1000),
        None,
        None,
        4500,
    ),
    (
        "EDB-GUM-100",
        "Gummies 10 × 10 mg",
        Category::Edible,
        Some(30000),
        None,
        Some(100_000),
        None,
        2000,
    ),
    (
        "EDB-CHO-100",
        "Dark chocolate bar 100 mg",
        Category::Edible,
        Some(40000),
        None,
        Some(100_000),
        None,
        2200,
    ),
    (
        "EDB-MINT-50",
        "Mints 20 × 2.5 mg",
        Category::Edible,
        Some(15000),
        None,
        Some(50_000),
        None,
        1500,
    ),
    (
        "BEV-SELTZ-5",
        "Seltzer 5 mg 355 mL",
        Category::Beverage,
        None,
        None,
        Some(5_000),
        Some(355_000),
        600,
    ),
    (
        "TNC-1000",
        "Tincture 1000 mg 30 mL",
        Category::Tincture,
        None,
        None,
        Some(1_000_000),
        Some(30_000),
        6000,
    ),
    (
        "CAP-10-30",
        "Capsules 30 × 10 mg",
        Category::Capsule,
        Some(15000),
        None,
        Some(300_000),
        None,
        3500,
    ),
    (
        "TOP-BALM",
        "CBD/THC balm 50 mL",
        Category::Topical,
        None,
        None,
        Some(200_000),
        Some(50_000),
        2800,
    ),
];

fn discount(label: &str, kind: DiscountKind, categories: Option<Vec<Category>>) -> Discount {
    Discount {
        id: DiscountId::new(),
        label: label.into(),
        kind,
        categories,
        starts_on: None,
        ends_on: None,
    }
}

/// Creates the demo stores, products and groups unless stores already exist (then loads them).
pub async fn seed_catalog(store: &Store) -> anyhow::Result<Catalog> {
    let actor = Actor::system("demo");
    let now = Timestamp::now();
    if store.list_stores().await?.is_empty() {
        for (name, licensee, jurisdiction, licence) in STORES {
            let zone = canopy_limits::RuleBook::shared()
                .rule_set(&jurisdiction.parse().map_err(anyhow::Error::msg)?)?
                .time_zone_name()
                .to_string();
            store
                .create_store(
                    StoreSettings {
                        name: name.to_string(),
                        licensee: licensee.to_string(),
                        licence_type: *licence,
                        jurisdiction: jurisdiction.parse().map_err(anyhow::Error::msg)?,
                        time_zone: zone,
                        enforcement: EnforcementMode::Block,
                        history_scope: HistoryScope::Licensee,
                    },
                    &actor,
                    now,
                )
                .await?;
        }
        let drafts: Vec<ProductDraft> = PRODUCTS
            .iter()
            .map(
                |(sku, name, category, net, conc, thc, vol, cents)| ProductDraft {
                    sku: sku.to_string(),
                    name: name.to_string(),
                    category: *category,
                    measures: Measures {
                        net_weight_mg: *net,
                        concentrate_mg: *conc,
                        thc_ug: *thc,
                        volume_ul: *vol,
                    },
                    price_cents: *cents,
                },
            )
            .collect();
        store.import_products(&drafts, &actor, now).await?;
        for (name, description, discounts) in [
            (
                "VIP",
                "Top spenders",
                vec![discount(
                    "VIP 10% off",
                    DiscountKind::Percent { basis_points: 1000 },
                    None,
                )],
            ),
            (
                "Veterans",
                "Show a veteran ID once",
                vec![discount(
                    "Veterans 15% off",
                    DiscountKind::Percent { basis_points: 1500 },
                    None,
                )],
            ),
            (
                "Seniors",
                "65 and over",
                vec![discount(
                    "Seniors 10% off",
                    DiscountKind::Percent { basis_points: 1000 },
                    None,
                )],
            ),
            (
                "Industry",
                "Budtenders and growers",
                vec![discount(
                    "Industry 20% off flower",
                    DiscountKind::Percent { basis_points: 2000 },
                    Some(vec![Category::Flower, Category::PreRoll]),
                )],
            ),
            (
                "Edibles club",
                "Edible fans",
                vec![discount(
                    "$5 off edibles",
                    DiscountKind::Amount { cents: 500 },
                    Some(vec![Category::Edible, Category::Beverage]),
                )],
            ),
        ] {
            store
                .create_group(
                    GroupDraft {
                        name: name.into(),
                        description: Some(description.into()),
                        discounts,
                    },
                    &actor,
                    now,
                )
                .await?;
        }
    }
    Ok(Catalog {
        stores: store.list_stores().await?,
        products: store.list_products(false).await?,
        groups: store.list_groups().await?,
    })
}

/// Puts about one customer in six into a group (veterans and seniors rarer than VIPs).
pub async fn seed_memberships(
    store: &Store,
    catalog: &Catalog,
    customers: &[CustomerId],
) -> anyhow::Result<Vec<(GroupId, CustomerId)>> {
    let mut rng = StdRng::seed_from_u64(0x6_0000 + customers.len() as u64);
    let mut pairs = Vec::new();
    for customer in customers {
        if rng.random_bool(0.16) {
            let group = catalog.groups.choose(&mut rng).context("groups")?;
            pairs.push((group.id, *customer));
        }
    }
    store
        .add_group_members_bulk(&pairs, &Actor::system("demo"), Timestamp::now())
        .await?;
    Ok(pairs)
}

/// Adds `count` past orders over the last year for the given customers, priced with their
/// groups' discounts, in batches.
pub async fn seed_orders(
    store: &Store,
    catalog: &Catalog,
    customers: &[CustomerId],
    memberships: &[(GroupId, CustomerId)],
    count: u64,
) -> anyhow::Result<u64> {
    if customers.is_empty() || catalog.stores.is_empty() || catalog.products.is_empty() {
        return Ok(0);
    }
    let existing = store.count_orders().await? as u64;
    let mut rng = StdRng::seed_from_u64(0x0_0DE5 + existing);
    let actor = Actor::system("demo");
    let now = Timestamp::now();
    let by_customer: std::collections::HashMap<CustomerId, Vec<canopy_orders::GroupDiscount>> =
        memberships
            .iter()
            .filter_map(|(g, c)| {
                catalog
                    .groups
                    .iter()
                    .find(|x| x.id == *g)
                    .map(|g| (*c, g.pricing_discounts()))
            })
            .collect();
    let started = std::time::Instant::now();
    let mut done = 0u64;
    const BATCH: u64 = 5_000;
    while done < count {
        let n = BATCH.min(count - done);
        let mut batch = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let customer = *customers.choose(&mut rng).context("customers")?;
            let discounts = by_customer.get(&customer).cloned().unwrap_or_default();
            batch.push(synthetic_order(
                &mut rng, catalog, customer, &discounts, now,
            )?);
        }
        store.insert_orders_bulk(&batch, &actor, now).await?;
        done += n;
        if count >= 200_000 && done.is_multiple_of(500_000) {
            eprintln!(
                "  {done} orders ({:.0}/s)",
                done as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(done)
}

fn synthetic_order(
    rng: &mut StdRng,
    catalog: &Catalog,
    customer: CustomerId,
    discounts: &[canopy_orders::GroupDiscount],
    now: Timestamp,
) -> anyhow::Result<Order> {
    let shop = catalog.stores.choose(rng).context("stores")?;
    let placed_at = now - SignedDuration::from_secs(rng.random_range(3_600..365 * 86_400));
    let today = shop.settings.today(placed_at);
    let mut picked: Vec<(&Product, u32)> = Vec::new();
    for _ in 0..rng.random_range(1..=3) {
        let p = catalog.products.choose(rng).context("products")?;
        if !picked.iter().any(|(q, _)| q.id == p.id) {
            picked.push((p, rng.random_range(1..=2)));
        }
    }
    let cart: Vec<CartLine> = picked
        .iter()
        .map(|(p, q)| CartLine {
            category: p.draft.category,
            quantity: *q,
            unit_price_cents: p.draft.price_cents,
        })
        .collect();
    let priced = price(&cart, discounts, today, 0)?;
    let channel = *[
        SalesChannel::InStore,
        SalesChannel::InStore,
        SalesChannel::InStore,
        SalesChannel::Pickup,
        SalesChannel::Delivery,
    ]
    .choose(rng)
    .context("channels")?;
    let roll = rng.random_range(0..100);
    let status = match roll {
        0..=1 => OrderStatus::Voided,
        2..=4 if channel != SalesChannel::InStore => OrderStatus::Cancelled,
        5 => OrderStatus::Returned,
        _ => OrderStatus::Completed,
    };
    let lines: Vec<OrderLine> = picked
        .iter()
        .zip(&priced.lines)
        .enumerate()
        .map(|(i, ((p, q), lp))| OrderLine {
            line_no: i as u32 + 1,
            product_id: Some(p.id),
            sku: Some(p.draft.sku.clone()),
            name: p.draft.name.clone(),
            category: p.draft.category,
            quantity: *q,
            returned_quantity: if status == OrderStatus::Returned {
                *q
            } else {
                0
            },
            measures: p.draft.measures,
            unit_price_cents: p.draft.price_cents,
            subtotal_cents: lp.subtotal_cents,
            discount_cents: lp.discount_cents,
            loyalty_cents: lp.loyalty_cents,
            total_cents: lp.total_cents,
        })
        .collect();
    let method = *["cash", "debit", "credit"].choose(rng).context("methods")?;
    Ok(Order {
        id: OrderId::new(),
        number: 0,
        customer_id: customer,
        store_id: shop.id,
        channel,
        status,
        customer_class: CustomerClass::AdultUse,
        subtotal_cents: priced.subtotal_cents,
        discount_cents: priced.discount_cents,
        loyalty_redeemed_cents: 0,
        total_cents: priced.total_cents,
        refunded_cents: if status == OrderStatus::Returned {
            priced.total_cents
        } else {
            0
        },
        discounts: priced.discounts,
        payments: vec![Payment {
            method: method.into(),
            amount_cents: priced.total_cents,
        }],
        staff_id: None,
        staff: (*["alex", "jordan", "sam", "riley"]
            .choose(rng)
            .context("staff")?)
        .into(),
        external_ref: None,
        patient_id: None,
        limits_override: None,
        price_override: None,
        caller_asserted: false,
        placed_at,
        updated_at: placed_at,
        lines,
        events: Vec::<OrderEvent>::new(),
    })
}

/// The whole order side of the demo: catalogue, group members among the first customers with a
/// valid ID, and `orders` past orders spread over them.
pub async fn seed_all(store: &Store, orders: u64) -> anyhow::Result<(Catalog, u64)> {
    let catalog = seed_catalog(store).await?;
    let today = Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    let buyers = store.customers_with_valid_id(today, 200_000).await?;
    let members = seed_memberships(store, &catalog, &buyers).await?;
    let n = seed_orders(store, &catalog, &buyers, &members, orders).await?;
    Ok((catalog, n))
}
