//! One decision with 30 days of history (100 past orders), Colorado medical (day + no
//! rolling) and Michigan medical (day + rolling 30 days). Target: ≤ 50 µs per decision.
use std::hint::black_box;
use std::str::FromStr;

use canopy_limits::{
    Category, Customer, CustomerClass, Decimal, EnforcementMode, EvaluationRequest, HistoryEntry,
    Item, RuleBook,
};
use criterion::{Criterion, criterion_group, criterion_main};
use jiff::{Timestamp, ToSpan};

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn request(jurisdiction: &str, class: CustomerClass) -> EvaluationRequest {
    let at: Timestamp = "2026-03-14T22:30:00Z".parse().unwrap();
    let history = (0..100)
        .map(|i| HistoryEntry {
            at: at.checked_sub((i * 7).hours()).unwrap(),
            class: Some(class),
            items: vec![
                Item::new(Category::Flower, 1).with_net_weight_g(d("0.1")),
                Item::new(Category::Vape, 1).with_net_weight_g(d("0.05")),
                Item::new(Category::Edible, 1)
                    .with_thc_mg(d("1"))
                    .with_net_weight_g(d("5")),
            ],
            returned: i % 17 == 0,
        })
        .collect();
    EvaluationRequest {
        jurisdiction: jurisdiction.parse().unwrap(),
        at,
        time_zone: None,
        customer: Customer {
            class,
            age: 30,
            patient_age: None,
            resident: true,
            overrides: vec![],
        },
        cart: vec![
            Item::new(Category::Flower, 2).with_net_weight_g(d("3.5")),
            Item::new(Category::Concentrate, 1).with_net_weight_g(d("1")),
            Item::new(Category::Edible, 1)
                .with_thc_mg(d("100"))
                .with_net_weight_g(d("40")),
        ],
        history,
        external_allotments: vec![],
        enforcement: EnforcementMode::Block,
    }
}

fn bench(c: &mut Criterion) {
    let book = RuleBook::embedded().unwrap();
    let mi = request("US-MI", CustomerClass::Medical);
    let co = request("US-CO", CustomerClass::AdultUse);
    assert!(book.evaluate(&mi).is_ok());
    c.bench_function("evaluate US-MI medical, 100 orders / 30 days", |b| {
        b.iter(|| book.evaluate(black_box(&mi)).unwrap())
    });
    c.bench_function("evaluate US-CO adult-use, 100 orders / 30 days", |b| {
        b.iter(|| book.evaluate(black_box(&co)).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
