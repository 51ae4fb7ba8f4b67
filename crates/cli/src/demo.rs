//! Realistic synthetic customers, fast: names, phones, emails, birth dates, ID numbers, a few bans and notes.
//! Seeded, so the same database size always produces the same people.

use anyhow::Context;
use canopy_domain::{
    Actor, Address, Ban, Channel, CustomerDraft, CustomerId, CustomerType, DiscountId, Email,
    IdDocument, IdDocumentKind, PersonName, PhoneNumber, Role, Username,
};
use canopy_limits::{EnforcementMode, Jurisdiction};
use canopy_orders::{Discount, DiscountKind, HistoryScope, LicenceType, StoreSettings};
use canopy_store::{GroupDraft, NewCustomerRecord, NewStaffUser, Store};
use jiff::{Timestamp, ToSpan};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

const FIRST: &[&str] = &[
    "Sarah",
    "James",
    "Maria",
    "Michael",
    "Jennifer",
    "David",
    "Linda",
    "Robert",
    "Emily",
    "Daniel",
    "Jessica",
    "Matthew",
    "Ashley",
    "Christopher",
    "Amanda",
    "Joshua",
    "Stephanie",
    "Andrew",
    "Nicole",
    "Joseph",
    "Elizabeth",
    "Ryan",
    "Megan",
    "Brandon",
    "Lauren",
    "Tyler",
    "Rachel",
    "Kevin",
    "Samantha",
    "Jacob",
    "Hannah",
    "Nicholas",
    "Olivia",
    "Anthony",
    "Sophia",
    "Jonathan",
    "Isabella",
    "Justin",
    "Emma",
    "Aaron",
    "Abigail",
    "Adam",
    "Madison",
    "Kyle",
    "Chloe",
    "Jose",
    "Grace",
    "Luis",
    "Natalie",
    "Carlos",
    "Victoria",
    "Juan",
    "Alexis",
    "Miguel",
    "Gabriela",
    "Diego",
    "Camila",
    "Mateo",
    "Valeria",
    "Wei",
    "Mei",
    "Hiroshi",
    "Yuki",
    "Priya",
    "Arjun",
    "Aisha",
    "Omar",
    "Fatima",
    "Hassan",
    "Noah",
    "Liam",
    "Ethan",
    "Mason",
    "Lucas",
    "Ava",
    "Mia",
    "Harper",
    "Evelyn",
    "Zoe",
    "Leah",
    "Marcus",
    "Andre",
    "Jamal",
    "Keisha",
    "Tanisha",
    "Darnell",
    "Kenji",
    "Siobhan",
    "Declan",
    "Niamh",
    "Connor",
    "Bridget",
    "Dmitri",
    "Svetlana",
    "Ivan",
    "Olga",
    "Katarzyna",
    "Piotr",
    "Sven",
    "Ingrid",
    "Lars",
    "Astrid",
    "Rafael",
    "Lucia",
    "Tomas",
    "Elena",
    "Nadia",
];

const LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Gomez",
    "Phillips",
    "Evans",
    "Turner",
    "Diaz",
    "Parker",
    "Cruz",
    "Edwards",
    "Collins",
    "Reyes",
    "Stewart",
    "Morris",
    "Morales",
    "Murphy",
    "Cook",
    "Rogers",
    "Gutierrez",
    "Ortiz",
    "Morgan",
    "Cooper",
    "Peterson",
    "Bailey",
    "Reed",
    "Kelly",
    "Howard",
    "Ramos",
    "Kim",
    "Cox",
    "Ward",
    "Richardson",
    "Watson",
    "Brooks",
    "Chavez",
    "Wood",
    "James",
    "Bennett",
    "Gray",
    "Mendoza",
    "Ruiz",
    "Hughes",
    "Price",
    "Alvarez",
    "Castillo",
    "Sanders",
    "Patel",
    "Myers",
    "Long",
    "Ross",
    "Foster",
    "Jimenez",
    "O'Brien",
    "McCarthy",
    "Kowalski",
    "Nakamura",
    "Tanaka",
    "Chen",
    "Wang",
    "Singh",
    "Khan",
    "Okafor",
    "Mensah",
    "Novak",
    "Schmidt",
    "Muller",
    "Larsen",
    "Johansson",
    "Rossi",
    "Romano",
    "Silva",
    "Santos",
    "Dubois",
    "Laurent",
    "Blackwood",
];

const MIDDLE: &[&str] = &[
    "A", "B", "C", "D", "E", "J", "L", "M", "R", "S", "Marie", "Lynn", "Ann", "Lee", "Ray", "James",
];
const DOMAINS: &[&str] = &[
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "icloud.com",
    "hotmail.com",
    "proton.me",
    "aol.com",
];
/// Colorado, Washington, Oregon, California and Michigan area codes: where the demo stores are.
const AREA_CODES: &[&str] = &[
    "303", "719", "720", "970", "206", "253", "360", "425", "509", "503", "541", "971", "213",
    "310", "415", "510", "619", "714", "818", "916", "248", "313", "517", "586", "616", "734",
    "810",
];
const STREETS: &[&str] = &[
    "Main St",
    "Colfax Ave",
    "Broadway",
    "Pearl St",
    "Oak St",
    "Maple Ave",
    "Cedar Ln",
    "Elm St",
    "Park Ave",
];
const CITIES: &[(&str, &str, &str)] = &[
    ("Denver", "CO", "802"),
    ("Boulder", "CO", "803"),
    ("Seattle", "WA", "981"),
    ("Portland", "OR", "972"),
    ("Los Angeles", "CA", "900"),
    ("Detroit", "MI", "482"),
];
const NOTES: &[&str] = &[
    "Prefers indica flower; ask about new Blue Dream drops.",
    "Delivery: ring the side door, dog is friendly.",
    "Sensitive to high-THC edibles, recommend 2.5 mg.",
    "Veteran, asked about the veterans group discount.",
    "Likes pre-rolls in packs of five.",
    "Requested text updates only, no calls.",
];
const BAN_REASONS: &[&str] = &[
    "Attempted resale (diversion)",
    "Abusive to staff",
    "Shoplifting",
    "Fraudulent ID presented",
];

/// Inserts `count` customers in batches, printing progress. Returns the number inserted.
pub async fn seed_customers(store: &Store, count: u64) -> anyhow::Result<u64> {
    let existing = store
        .count_customers()
        .await
        .context("counting customers")? as u64;
    let mut rng = StdRng::seed_from_u64(0xCA_0000 + existing);
    let now = Timestamp::now();
    let actor = Actor::system("demo");
    let started = std::time::Instant::now();
    let mut done = 0u64;
    const BATCH: u64 = 10_000;
    while done < count {
        let n = BATCH.min(count - done);
        let records: Vec<NewCustomerRecord> = (0..n)
            .map(|i| synthetic_customer(&mut rng, existing + done + i, now))
            .collect::<anyhow::Result<_>>()?;
        store
            .insert_customers_bulk(&records, &actor, now)
            .await
            .context("inserting demo customers")?;
        done += n;
        if count >= 50_000 && done.is_multiple_of(100_000) {
            eprintln!(
                "  {done} customers ({:.0}/s)",
                done as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(done)
}

/// One person. `n` (unique per database) makes the phone, email and ID number unique.
pub(crate) fn synthetic_customer(
    rng: &mut StdRng,
    n: u64,
    now: Timestamp,
) -> anyhow::Result<NewCustomerRecord> {
    let first = *FIRST.choose(rng).context("names")?;
    let last = *LAST.choose(rng).context("names")?;
    let middle = rng
        .random_bool(0.4)
        .then(|| MIDDLE.choose(rng).map(|m| m.to_string()))
        .flatten();
    let preferred = (first == "Christopher" && rng.random_bool(0.5)).then(|| "Chris".to_string());
    // Phones: a real area code, an exchange from 200–999 and a line number. `n` is scattered over the
    // 27 × 800 × 10,000 possible numbers by a multiplication that is a bijection modulo their count (the
    // multiplier is prime and shares no factor with it), so no two customers share a number.
    const NUMBERS: u64 = 27 * 800 * 10_000;
    let slot = (n % NUMBERS * 1_000_003 + 4_242) % NUMBERS;
    let area = AREA_CODES[(slot % AREA_CODES.len() as u64) as usize];
    let rest = slot / AREA_CODES.len() as u64;
    let exchange = 200 + (rest % 800);
    let line = rest / 800;
    let phone = PhoneNumber::from_stored(format!("+1{area}{exchange:03}{line:04}"));
    let local = format!("{}.{}{}", first, last, n)
        .to_lowercase()
        .replace('\'', "");
    let email = Email::parse(&format!(
        "{local}@{}",
        DOMAINS.choose(rng).context("domains")?
    ))?;
    let age_days = rng.random_range(21 * 366..85 * 365);
    let created_at = now - (rng.random_range(0..3 * 365 * 24) as i64).hours();
    let birth =
        created_at.to_zoned_datetime(jiff::tz::TimeZone::UTC).date() - (age_days as i64).days();
    let (city, state, zip) = *CITIES.choose(rng).context("cities")?;
    let customer_type = if rng.random_bool(0.12) {
        CustomerType::Medical
    } else {
        CustomerType::AdultUse
    };
    let addresses = if rng.random_bool(0.3) {
        vec![Address {
            label: Some("Home".into()),
            line1: format!(
                "{} {}",
                rng.random_range(10..9999),
                STREETS.choose(rng).context("streets")?
            ),
            line2: None,
            city: city.into(),
            region: state.into(),
            postal_code: format!("{zip}{:02}", rng.random_range(1..99)),
            country: "US".into(),
            delivery_instructions: None,
        }]
    } else {
        Vec::new()
    };
    // Licences run years ahead of today; about one in twenty has lapsed, enough to show the refusal
    // screens without making most of the demo line unservable.
    let today = now.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    let expiry = if rng.random_bool(0.05) {
        today - (rng.random_range(1..400) as i64).days()
    } else {
        today + (rng.random_range(30..6 * 365) as i64).days()
    };
    let id_document = Some(IdDocument {
        kind: IdDocumentKind::DriversLicense,
        number: format!("{}{:08}", &state[..1], n),
        jurisdiction: Some(state.to_string()),
        expiry: Some(expiry),
    });
    let channel = *[
        Channel::Pos,
        Channel::Pos,
        Channel::Online,
        Channel::BackOffice,
    ]
    .choose(rng)
    .context("channels")?;
    let ban = rng.random_bool(0.003).then(|| Ban {
        reason: BAN_REASONS
            .choose(rng)
            .map(|r| r.to_string())
            .unwrap_or_default(),
        note: None,
        since: created_at,
        until: None,
        by: Some("manager".into()),
    });
    let notes = if rng.random_bool(0.05) {
        vec![(
            "budtender".to_string(),
            NOTES.choose(rng).map(|s| s.to_string()).unwrap_or_default(),
        )]
    } else {
        Vec::new()
    };
    Ok(NewCustomerRecord {
        id: CustomerId::new(),
        draft: CustomerDraft {
            name: PersonName {
                first: first.into(),
                middle,
                last: last.into(),
                preferred,
            },
            phone: Some(phone),
            email: Some(email),
            date_of_birth: Some(birth),
            customer_type,
            addresses,
            id_document,
            created_channel: channel,
        },
        created_at,
        ban,
        notes,
    })
}

/// The demo sign-ins, created only by `canopy serve --demo` on a database without staff accounts
/// (documented in the README; never use them on a real database).
pub const DEMO_STAFF: &[(&str, &str, Role, &str)] = &[
    ("admin", "Alex Admin", Role::Admin, "admin-demo-pass"),
    (
        "manager",
        "Morgan Manager",
        Role::Manager,
        "manager-demo-pass",
    ),
    (
        "budtender",
        "Blake Budtender",
        Role::Budtender,
        "budtender-demo-pass",
    ),
];

/// Creates the demo staff accounts when the database has no staff yet. Returns whether it did.
pub async fn seed_staff(store: &Store) -> anyhow::Result<bool> {
    if store.count_staff_users().await.context("counting staff")? > 0 {
        return Ok(false);
    }
    let actor = Actor::system("demo");
    for (username, display_name, role, password) in DEMO_STAFF {
        let password_hash = canopy_web::auth::secrets::hash_password(password).await?;
        store
            .create_staff_user(
                NewStaffUser {
                    username: Username::parse(username).map_err(|e| anyhow::anyhow!(e.message))?,
                    display_name: display_name.to_string(),
                    role: *role,
                    password_hash,
                    stores: vec!["demo-store".to_string()],
                },
                &actor,
                Timestamp::now(),
            )
            .await
            .context("creating demo staff")?;
    }
    Ok(true)
}

/// A demo store and customer groups, so a newcomer's `canopy serve --demo` has a check-in queue to
/// use and group discounts to see. Each part is added only when the database has none yet.
pub async fn seed_retail(store: &Store) -> anyhow::Result<()> {
    let actor = Actor::system("demo");
    let now = Timestamp::now();
    if store
        .list_stores()
        .await
        .context("listing stores")?
        .is_empty()
    {
        store
            .create_store(
                StoreSettings {
                    name: "Canopy Demo — Denver".to_string(),
                    licensee: "Canopy Demo Co".to_string(),
                    licence_type: LicenceType::AdultUse,
                    jurisdiction: "US-CO"
                        .parse::<Jurisdiction>()
                        .map_err(|e| anyhow::anyhow!("{e}"))?,
                    time_zone: "America/Denver".to_string(),
                    enforcement: EnforcementMode::Block,
                    history_scope: HistoryScope::default(),
                },
                &actor,
                now,
            )
            .await
            .context("creating the demo store")?;
    }
    if !store
        .list_groups()
        .await
        .context("listing groups")?
        .is_empty()
    {
        return Ok(());
    }
    // (name, description, discount in basis points, one customer in every `every`)
    const GROUPS: &[(&str, &str, u32, usize)] = &[
        ("VIP", "Top regulars", 1000, 12),
        ("Veterans", "Military ID shown once", 1500, 25),
        ("Seniors", "65 and over", 1000, 30),
        ("Industry", "Staff of licensed businesses", 2000, 60),
    ];
    let mut customers = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .list_customers(cursor, 200)
            .await
            .context("listing customers")?;
        customers.extend(page.items.into_iter().map(|c| c.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let mut pairs = Vec::new();
    for (i, (name, description, basis_points, every)) in GROUPS.iter().enumerate() {
        let group = store
            .create_group(
                GroupDraft {
                    name: name.to_string(),
                    description: Some(description.to_string()),
                    discounts: vec![Discount {
                        id: DiscountId::new(),
                        label: format!("{name} {}% off", basis_points / 100),
                        kind: DiscountKind::Percent {
                            basis_points: *basis_points,
                        },
                        categories: None,
                        starts_on: None,
                        ends_on: None,
                    }],
                },
                &actor,
                now,
            )
            .await
            .context("creating demo groups")?;
        pairs.extend(
            customers
                .iter()
                .skip(i)
                .step_by(*every)
                .map(|c| (group.id, *c)),
        );
    }
    store
        .add_group_members_bulk(&pairs, &actor, now)
        .await
        .context("adding demo group members")?;
    Ok(())
}

/// Gives the first `orders` demo orders the points they would have earned at the register, at the time
/// they were placed (and takes them back for returned and voided orders), plus the odd manager adjustment.
/// Goes through the same ledger functions as checkout, so `canopy loyalty verify` must pass afterwards and
/// every earn entry points at a real order.
pub async fn seed_loyalty(store: &Store, orders: u32) -> anyhow::Result<u64> {
    use canopy_loyalty::{OrderAmounts, ReturnShare};
    use canopy_orders::OrderStatus;
    let mut rng = StdRng::seed_from_u64(0x10_7A17);
    let register = Actor::system("demo-register");
    let manager = Actor::system("demo-manager");
    let mut writes = 0u64;
    let mut after = None;
    let mut seen = 0u32;
    while seen < orders {
        let page = store.orders_after(after, 500).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.number);
        for order in page.into_iter().take((orders - seen) as usize) {
            seen += 1;
            let id = order.id.to_string();
            let amounts = OrderAmounts {
                before_discounts_cents: order.subtotal_cents,
                after_discounts_cents: order.total_cents,
            };
            let jurisdiction = None;
            let earned = store
                .earn_for_order(
                    &register,
                    order.customer_id,
                    &id,
                    amounts,
                    jurisdiction,
                    order.placed_at,
                )
                .await?;
            writes += u64::from(earned.points > 0);
            let undone = matches!(order.status, OrderStatus::Returned | OrderStatus::Voided);
            let value = order.subtotal_cents - order.discount_cents;
            if undone && value > 0 {
                let share = ReturnShare {
                    returned_cents: value,
                    order_total_cents: value,
                };
                let at = order.updated_at.max(order.placed_at);
                store
                    .reverse_for_order(&register, order.customer_id, &id, "demo", share, at)
                    .await?;
                writes += 1;
            }
            if rng.random_bool(0.02) {
                store
                    .adjust_loyalty_points(
                        &manager,
                        order.customer_id,
                        50,
                        "Goodwill: long wait at pickup",
                        order.placed_at,
                    )
                    .await?;
                writes += 1;
            }
        }
    }
    Ok(writes)
}

/// Records an ID verification (scanned at the counter by a demo register) for most demo customers with a
/// current ID, and a medical card for medical patients and caregivers, so the demo profiles show
/// "ID Verified" and medical customers can buy. A few cards are left out or expired on purpose.
pub async fn seed_compliance(store: &Store, customers: u32) -> anyhow::Result<u64> {
    use canopy_domain::{CustomerType, MedicalCard, VerificationMethod, VerifiedDocument};
    use canopy_store::NewVerification;
    let mut rng = StdRng::seed_from_u64(0xC0_4D17);
    let register = Actor::system("demo-register");
    let now = Timestamp::now();
    let today = now.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    let mut writes = 0u64;
    for id in store.customers_with_valid_id(today, customers).await? {
        let customer = store.customer(id).await?;
        let d = &customer.details;
        let (Some(doc), Some(dob)) = (&d.id_document, d.date_of_birth) else {
            continue;
        };
        if rng.random_bool(0.85) {
            let new = NewVerification {
                method: VerificationMethod::Scan,
                document: VerifiedDocument {
                    kind: doc.kind,
                    number: doc.number.clone(),
                    jurisdiction: doc.jurisdiction.clone(),
                    expiry: doc.expiry,
                    date_of_birth: dob,
                },
                reason: None,
            };
            store
                .record_verification(id, new, None, &register, now)
                .await?;
            writes += 1;
        }
        if d.customer_type != CustomerType::AdultUse && rng.random_bool(0.9) {
            let days = if rng.random_bool(0.1) {
                -rng.random_range(1..90)
            } else {
                rng.random_range(30..700)
            };
            let card = MedicalCard {
                number: format!("MMJ-{}", rng.random_range(100_000..999_999)),
                issuing_state: doc.jurisdiction.clone().unwrap_or_else(|| "CO".into()),
                expiry: today.checked_add(jiff::Span::new().days(days))?,
                recommendation: None,
            };
            store.set_medical_card(id, card, &register, now).await?;
            writes += 1;
        }
    }
    Ok(writes)
}
