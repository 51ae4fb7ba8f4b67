//! Shared test vocabulary: scenario builder, item constructors and the one `check` helper.
#![allow(dead_code)]

use std::str::FromStr;

use canopy_limits::{
    Category, Customer, CustomerClass, CustomerOverride, Decimal, Decision, EnforcementMode,
    EvaluationRequest, ExternalAllotment, HistoryEntry, Item, LimitsError, RuleBook,
};

pub fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

pub fn book() -> &'static RuleBook {
    RuleBook::shared()
}

// ----- items (per-unit measures; amounts as written in the regulations) -----

pub fn flower(g: &str) -> Item {
    Item::new(Category::Flower, 1).with_net_weight_g(d(g))
}
pub fn flower_thc(g: &str, thc_mg: &str) -> Item {
    flower(g).with_thc_mg(d(thc_mg))
}
pub fn pre_rolls(n: i32, g_each: &str) -> Item {
    Item::new(Category::PreRoll, n).with_net_weight_g(d(g_each))
}
pub fn concentrate(g: &str) -> Item {
    Item::new(Category::Concentrate, 1).with_net_weight_g(d(g))
}
pub fn vapes(n: i32, g_each: &str) -> Item {
    Item::new(Category::Vape, n).with_net_weight_g(d(g_each))
}
/// Edible packages with `thc_mg_each` THC and 10 g net weight each.
pub fn edibles(n: i32, thc_mg_each: &str) -> Item {
    Item::new(Category::Edible, n)
        .with_thc_mg(d(thc_mg_each))
        .with_net_weight_g(d("10"))
}
pub fn edible_g(n: i32, net_g_each: &str, thc_mg_each: &str) -> Item {
    Item::new(Category::Edible, n)
        .with_net_weight_g(d(net_g_each))
        .with_thc_mg(d(thc_mg_each))
}
pub fn beverages(n: i32, ml_each: &str, thc_mg_each: &str) -> Item {
    Item::new(Category::Beverage, n)
        .with_volume_ml(d(ml_each))
        .with_net_weight_g(d(ml_each))
        .with_thc_mg(d(thc_mg_each))
}
pub fn topical(thc_mg: &str) -> Item {
    Item::new(Category::Topical, 1)
        .with_thc_mg(d(thc_mg))
        .with_net_weight_g(d("50"))
}
pub fn plants(n: i32) -> Item {
    Item::new(Category::ImmaturePlant, n)
}
pub fn seeds(n: i32) -> Item {
    Item::new(Category::Seed, n)
}
pub fn infused_pre_roll(g: &str, conc_g: &str) -> Item {
    Item::new(Category::InfusedPreRoll, 1)
        .with_net_weight_g(d(g))
        .with_concentrate_g(d(conc_g))
}

// ----- scenario -----

#[derive(Clone, Debug)]
pub struct Scenario(pub EvaluationRequest);

fn scenario(j: &str, at: &str, class: CustomerClass) -> Scenario {
    Scenario(EvaluationRequest {
        jurisdiction: j.parse().unwrap(),
        at: at.parse().unwrap(),
        time_zone: None,
        customer: Customer {
            class,
            age: 30,
            patient_age: None,
            resident: true,
            overrides: vec![],
        },
        cart: vec![],
        history: vec![],
        external_allotments: vec![],
        enforcement: EnforcementMode::Block,
    })
}

/// Adult-use customer, 30 years old, resident.
pub fn au(j: &str, at: &str) -> Scenario {
    scenario(j, at, CustomerClass::AdultUse)
}
/// Medical patient, 30 years old, resident.
pub fn med(j: &str, at: &str) -> Scenario {
    scenario(j, at, CustomerClass::Medical)
}

impl Scenario {
    pub fn cart(mut self, items: impl IntoIterator<Item = Item>) -> Self {
        self.0.cart.extend(items);
        self
    }
    pub fn bought(mut self, at: &str, items: impl IntoIterator<Item = Item>) -> Self {
        self.0.history.push(HistoryEntry {
            at: at.parse().unwrap(),
            class: Some(self.0.customer.class),
            items: items.into_iter().collect(),
            returned: false,
        });
        self
    }
    pub fn returned(mut self, at: &str, items: impl IntoIterator<Item = Item>) -> Self {
        self.0.history.push(HistoryEntry {
            at: at.parse().unwrap(),
            class: Some(self.0.customer.class),
            items: items.into_iter().collect(),
            returned: true,
        });
        self
    }
    pub fn age(mut self, age: u8) -> Self {
        self.0.customer.age = age;
        self
    }
    pub fn patient_age(mut self, age: u8) -> Self {
        self.0.customer.patient_age = Some(age);
        self
    }
    pub fn caregiver(mut self) -> Self {
        self.0.customer.class = CustomerClass::Caregiver;
        self
    }
    pub fn non_resident(mut self) -> Self {
        self.0.customer.resident = false;
        self
    }
    pub fn with_override(mut self, o: CustomerOverride) -> Self {
        self.0.customer.overrides.push(o);
        self
    }
    pub fn external(mut self, e: ExternalAllotment) -> Self {
        self.0.external_allotments.push(e);
        self
    }
    pub fn warn(mut self) -> Self {
        self.0.enforcement = EnforcementMode::Warn;
        self
    }
    pub fn zone(mut self, tz: &str) -> Self {
        self.0.time_zone = Some(tz.into());
        self
    }
    pub fn evaluate(&self) -> Result<Decision, LimitsError> {
        book().evaluate(&self.0)
    }
}

// ----- expectations -----

pub enum Expected {
    Allowed,
    /// Blocked by exactly these rule ids.
    Over(&'static [&'static str]),
    Ineligible,
}
#[allow(unused_imports)]
pub use Expected::{Allowed, Ineligible};

pub fn over(rules: &'static [&'static str]) -> Expected {
    Expected::Over(rules)
}

/// The one assertion helper: evaluate and compare the verdict and the violated rules.
#[track_caller]
pub fn check(s: Scenario, expected: Expected) -> Decision {
    let decision = s
        .evaluate()
        .unwrap_or_else(|e| panic!("evaluation failed: {e}"));
    let violated: Vec<&str> = decision
        .violations
        .iter()
        .map(|v| v.rule.as_str())
        .collect();
    let summary = decision
        .outcomes
        .iter()
        .map(|o| o.message.clone())
        .collect::<Vec<_>>()
        .join("\n  ");
    match expected {
        Expected::Allowed => assert!(
            decision.allowed && violated.is_empty() && decision.ineligible.is_empty(),
            "expected allowed, got violations {violated:?}\n  {summary}"
        ),
        Expected::Over(rules) => {
            let mut want: Vec<&str> = rules.to_vec();
            want.sort();
            let mut got = violated.clone();
            got.sort();
            assert!(
                !decision.allowed,
                "expected blocked by {want:?}, was allowed\n  {summary}"
            );
            assert_eq!(got, want, "\n  {summary}");
        }
        Expected::Ineligible => assert!(
            !decision.allowed && !decision.ineligible.is_empty(),
            "expected ineligible\n  {summary}"
        ),
    }
    decision
}
