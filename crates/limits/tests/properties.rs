//! Property tests: monotonicity (adding an item never unblocks a cart) and order independence.
mod support;
use support::*;

use canopy_limits::{Category, Decimal, Item};
use proptest::prelude::*;

fn arb_item() -> impl Strategy<Value = Item> {
    let cat = prop::sample::select(vec![
        Category::Flower,
        Category::PreRoll,
        Category::InfusedPreRoll,
        Category::Concentrate,
        Category::Vape,
        Category::Edible,
        Category::Beverage,
        Category::Tincture,
        Category::Capsule,
        Category::Topical,
        Category::ImmaturePlant,
        Category::Seed,
        Category::Other,
    ]);
    // Every measure present, in thousandths, so every rule can read the item.
    (
        cat,
        0..4i32,
        1..20_000i64,
        1..5_000i64,
        1..3_000_000i64,
        1..500_000i64,
    )
        .prop_map(|(c, q, w, conc, thc, ml)| {
            Item::new(c, q)
                .with_net_weight_g(Decimal::new(w, 3))
                .with_concentrate_g(Decimal::new(conc, 3))
                .with_thc_mg(Decimal::new(thc, 3))
                .with_volume_ml(Decimal::new(ml, 3))
        })
}

fn arb_scenario() -> impl Strategy<Value = Scenario> {
    let js = prop::sample::select(vec![
        ("US-CO", false),
        ("US-CA", true),
        ("US-MI", true),
        ("US-WA", false),
        ("US-OH", true),
        ("CA-ON", false),
        ("US-MA", true),
        ("US-MO", true),
        ("US-AK", false),
        ("US-NV", true),
    ]);
    (js, prop::collection::vec(arb_item(), 0..6), 0..3u8).prop_map(
        |((j, has_med), history, day)| {
            let at = "2026-03-14T22:30:00Z";
            let mut s = if has_med && day == 0 {
                med(j, at)
            } else {
                au(j, at)
            };
            s = s.bought(&format!("2026-03-{:02}T18:00:00Z", 10 + day), history);
            s
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn adding_an_item_never_turns_blocked_into_allowed(
        s in arb_scenario(),
        cart in prop::collection::vec(arb_item(), 0..6),
        extra in arb_item(),
    ) {
        let before = s.clone().cart(cart.clone()).evaluate().unwrap();
        let mut bigger = cart.clone();
        bigger.push(extra);
        let after = s.cart(bigger).evaluate().unwrap();
        if !before.allowed {
            prop_assert!(!after.allowed);
            for v in &before.violations {
                prop_assert!(after.violations.iter().any(|a| a.rule == v.rule), "{} unblocked", v.rule);
            }
        }
    }

    #[test]
    fn order_of_items_does_not_matter(
        s in arb_scenario(),
        cart in prop::collection::vec(arb_item(), 0..8),
        seed in any::<u64>(),
    ) {
        let a = s.clone().cart(cart.clone()).evaluate().unwrap();
        let mut shuffled = cart;
        // Deterministic shuffle from the seed.
        let mut x = seed | 1;
        for i in (1..shuffled.len()).rev() {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            shuffled.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let b = s.cart(shuffled).evaluate().unwrap();
        prop_assert_eq!(a.allowed, b.allowed);
        prop_assert_eq!(a.outcomes, b.outcomes);
    }

    #[test]
    fn an_exactly_full_weighted_allotment_is_allowed_and_any_more_is_not(conc_mg in 0..8_000i64) {
        // Colorado: 8 g concentrate = 1 oz = 28.3495 g, so each gram of concentrate uses
        // 3.5436875 g of the allotment; fill the rest with flower, exactly.
        let conc = Decimal::new(conc_mg, 3);
        let flower_g = Decimal::new(283_495, 4) - conc * Decimal::new(35_436_875, 7);
        let s = au("US-CO", "2026-03-14T15:30:00-06:00");
        let c = Item::new(Category::Concentrate, 1).with_net_weight_g(conc);
        let f = Item::new(Category::Flower, 1).with_net_weight_g(flower_g);
        prop_assert!(s.clone().cart([c.clone(), f.clone()]).evaluate().unwrap().allowed);
        let tiny = Item::new(Category::Flower, 1).with_net_weight_g(Decimal::new(1, 9));
        prop_assert!(!s.cart([c, f, tiny]).evaluate().unwrap().allowed);
    }
}
