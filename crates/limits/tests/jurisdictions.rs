//! Per-jurisdiction cases derived from the regulations (cited in the test names and comments),
//! each at exactly the limit and one unit over. Amounts: 1 oz = 28.3495 g unless the regulator
//! uses another constant (NJ 28.35, VT 28.34); 1 US fl oz = 29.5735295625 mL.
mod support;
use support::*;

// ===================================== California ============================================
// 4 CCR §15409 — per retailer, per single day.
const CA: &str = "US-CA";
const CA_AT: &str = "2026-03-14T15:30:00-07:00";

#[test]
fn ca_15409_a1_non_concentrated_28_5_g_allowed() {
    check(au(CA, CA_AT).cart([flower("28.5")]), Allowed);
}
#[test]
fn ca_15409_a1_non_concentrated_28_51_g_blocked() {
    check(
        au(CA, CA_AT).cart([flower("28.51")]),
        over(&["au-non-concentrated"]),
    );
}
#[test]
fn ca_15409_a2_concentrate_8_g_allowed_and_8_01_blocked() {
    check(au(CA, CA_AT).cart([concentrate("8")]), Allowed);
    check(
        au(CA, CA_AT).cart([concentrate("8.01")]),
        over(&["au-concentrate"]),
    );
}
#[test]
fn ca_15409_a2_concentrate_in_products_counts_by_thc_when_unknown() {
    // 8 packages of 1,000 mg THC = 8 g; one more milligram of vape oil is over.
    check(au(CA, CA_AT).cart([edibles(8, "1000")]), Allowed);
    check(
        au(CA, CA_AT).cart([edibles(8, "1000"), vapes(1, "0.001")]),
        over(&["au-concentrate"]),
    );
}
#[test]
fn ca_15409_a_caps_are_independent() {
    check(
        au(CA, CA_AT).cart([flower("28.5"), concentrate("8"), plants(6)]),
        Allowed,
    );
}
#[test]
fn ca_15409_a3_six_immature_plants_allowed_seven_blocked() {
    check(au(CA, CA_AT).cart([plants(6)]), Allowed);
    check(
        au(CA, CA_AT).cart([plants(7)]),
        over(&["au-immature-plants"]),
    );
}
#[test]
fn ca_single_day_counts_earlier_purchases_the_same_day() {
    let s = au(CA, CA_AT).bought("2026-03-14T09:00:00-07:00", [concentrate("6.5")]);
    let d = check(s.clone().cart([concentrate("1.5")]), Allowed);
    let conc = d
        .outcomes
        .iter()
        .find(|o| o.rule == "au-concentrate")
        .unwrap();
    assert_eq!(conc.message, "Concentrate: 8 g of 8 g today, 0 g left");
    check(s.cart([concentrate("1.51")]), over(&["au-concentrate"]));
}
#[test]
fn ca_message_reports_used_limit_and_remaining() {
    let d = check(
        au(CA, CA_AT)
            .bought("2026-03-14T09:00:00-07:00", [concentrate("5")])
            .cart([concentrate("1.5")]),
        Allowed,
    );
    let conc = d
        .outcomes
        .iter()
        .find(|o| o.rule == "au-concentrate")
        .unwrap();
    assert_eq!(conc.message, "Concentrate: 6.5 g of 8 g today, 1.5 g left");
}
#[test]
fn ca_single_day_rolls_over_at_local_midnight() {
    let s = au(CA, CA_AT).bought("2026-03-13T23:59:59-07:00", [flower("28.5")]);
    check(s.cart([flower("28.5")]), Allowed);
}
#[test]
fn ca_15409_b1_medical_8_oz_at_limit_and_over() {
    // 8 × 28.3495 = 226.796 g.
    check(med(CA, CA_AT).cart([flower("226.796")]), Allowed);
    check(
        med(CA, CA_AT).cart([flower("226.797")]),
        over(&["med-flower"]),
    );
}
#[test]
fn ca_15409_b2_medical_twelve_plants() {
    check(med(CA, CA_AT).cart([plants(12)]), Allowed);
    check(
        med(CA, CA_AT).cart([plants(13)]),
        over(&["med-immature-plants"]),
    );
}
#[test]
fn ca_15409_c_physician_recommendation_raises_the_medical_limit() {
    let rec = canopy_limits::CustomerOverride {
        kind: canopy_limits::OverrideKind::PhysicianRecommendation,
        amount: Some(d("16")),
        unit: Some(canopy_limits::Unit::Oz),
        category: Some(canopy_limits::Category::Flower),
        rule: None,
        valid_from: None,
        valid_until: None,
        reference: Some("rec #123".into()),
    };
    check(
        med(CA, CA_AT)
            .with_override(rec.clone())
            .cart([flower("453.592")]),
        Allowed,
    );
    check(
        med(CA, CA_AT).with_override(rec).cart([flower("453.593")]),
        over(&["med-flower"]),
    );
}
#[test]
fn ca_15409_d_adult_use_purchases_count_toward_medical_limits_the_same_day() {
    let s = med(CA, CA_AT).bought("2026-03-14T10:00:00-07:00", [flower("200")]);
    check(s.cart([flower("27")]), over(&["med-flower"]));
}

// ===================================== Colorado ==============================================
// 1 oz flower = 8 g concentrate = 800 mg THC (former R 402(C)(1.5)); per day (MED 2017).
const CO: &str = "US-CO";
const CO_AT: &str = "2026-03-14T15:30:00-06:00";

#[test]
fn co_1_oz_flower_allowed_one_hundredth_more_blocked() {
    check(au(CO, CO_AT).cart([flower("28.3495")]), Allowed);
    check(
        au(CO, CO_AT).cart([flower("28.3496")]),
        over(&["au-flower-equivalent"]),
    );
}
#[test]
fn co_equivalency_8_g_concentrate_is_one_ounce() {
    check(au(CO, CO_AT).cart([concentrate("8")]), Allowed);
    check(
        au(CO, CO_AT).cart([concentrate("8.001")]),
        over(&["au-flower-equivalent"]),
    );
}
#[test]
fn co_equivalency_800_mg_thc_is_one_ounce() {
    check(au(CO, CO_AT).cart([edibles(8, "100")]), Allowed);
    check(
        au(CO, CO_AT).cart([edibles(8, "100"), edibles(1, "1")]),
        over(&["au-flower-equivalent"]),
    );
}
#[test]
fn co_mix_and_match_half_ounce_plus_4_g_plus_nothing_else() {
    check(
        au(CO, CO_AT).cart([flower("14.17475"), concentrate("4")]),
        Allowed,
    );
    check(
        au(CO, CO_AT).cart([flower("14.17475"), concentrate("2"), edibles(2, "100")]),
        Allowed,
    );
    check(
        au(CO, CO_AT).cart([flower("14.17475"), concentrate("4"), edibles(1, "1")]),
        over(&["au-flower-equivalent"]),
    );
}
#[test]
fn co_hb16_1216_topicals_are_exempt() {
    check(
        au(CO, CO_AT).cart([flower("28.3495"), topical("5000")]),
        Allowed,
    );
}
#[test]
fn co_med_position_statement_same_day_transactions_aggregate() {
    let s = au(CO, CO_AT).bought("2026-03-14T10:00:00-06:00", [flower("20")]);
    check(s.clone().cart([flower("8.3495")]), Allowed);
    check(s.cart([flower("8.35")]), over(&["au-flower-equivalent"]));
}
#[test]
fn co_hb21_1317_medical_concentrate_8_g_for_21_and_over() {
    check(med(CO, CO_AT).cart([concentrate("8")]), Allowed);
    check(
        med(CO, CO_AT).cart([concentrate("8.01")]),
        over(&["med-concentrate-21"]),
    );
}
#[test]
fn co_hb21_1317_medical_concentrate_2_g_for_18_to_20() {
    check(med(CO, CO_AT).age(19).cart([concentrate("2")]), Allowed);
    check(
        med(CO, CO_AT).age(19).cart([concentrate("2.01")]),
        over(&["med-concentrate-18-20"]),
    );
}
#[test]
fn co_caregiver_uses_the_patients_age_band() {
    let s = med(CO, CO_AT).caregiver().age(45).patient_age(19);
    check(
        s.cart([concentrate("2.5")]),
        over(&["med-concentrate-18-20"]),
    );
}
#[test]
fn co_rule_version_switch_2022_01_01_medical_concentrate() {
    // 20 g/day was allowed under the old 40 g figure on 2021-12-31, not from 2022-01-01.
    check(
        med(CO, "2021-12-31T12:00:00-07:00").cart([concentrate("20")]),
        Allowed,
    );
    check(
        med(CO, "2022-01-01T00:00:00-07:00").cart([concentrate("20")]),
        over(&["med-concentrate-21"]),
    );
}
#[test]
fn co_medical_2_oz_flower_per_day() {
    check(med(CO, CO_AT).cart([flower("56.699")]), Allowed);
    check(med(CO, CO_AT).cart([flower("56.7")]), over(&["med-flower"]));
}
#[test]
fn co_medical_under_18_is_ineligible() {
    check(med(CO, CO_AT).age(17).cart([flower("1")]), Ineligible);
}
#[test]
fn co_adult_use_under_21_is_ineligible() {
    check(au(CO, CO_AT).age(20).cart([flower("1")]), Ineligible);
}

// ===================================== Washington ============================================
// WAC 314-55-095(1)(d)(i), single transaction; RCW 69.51A.210 medical 3x.
const WA: &str = "US-WA";
const WA_AT: &str = "2026-03-14T15:30:00-07:00";

#[test]
fn wa_a_useable_one_ounce() {
    check(au(WA, WA_AT).cart([flower("28.3495")]), Allowed);
    check(
        au(WA, WA_AT).cart([flower("28.3496")]),
        over(&["au-useable"]),
    );
}
#[test]
fn wa_b_solid_16_oz() {
    check(au(WA, WA_AT).cart([edible_g(1, "453.592", "100")]), Allowed);
    check(
        au(WA, WA_AT).cart([edible_g(1, "453.593", "100")]),
        over(&["au-solid"]),
    );
}
#[test]
fn wa_c_concentrate_7_g() {
    check(au(WA, WA_AT).cart([vapes(7, "1")]), Allowed);
    check(
        au(WA, WA_AT).cart([vapes(7, "1"), concentrate("0.01")]),
        over(&["au-concentrate"]),
    );
}
#[test]
fn wa_d_ten_units_of_other_products() {
    check(au(WA, WA_AT).cart(vec![topical("10"); 10]), Allowed);
    check(
        au(WA, WA_AT).cart(vec![topical("10"); 11]),
        over(&["au-other-units"]),
    );
}
#[test]
fn wa_e_liquid_72_fl_oz() {
    // 72 × 29.5735295625 mL = 2129.2941285 mL.
    check(
        au(WA, WA_AT).cart([beverages(1, "2129.2941285", "10")]),
        Allowed,
    );
    check(
        au(WA, WA_AT).cart([beverages(1, "2129.2942", "10")]),
        over(&["au-liquid"]),
    );
}
#[test]
fn wa_f_low_dose_liquids_200_mg_from_2025_01_07() {
    check(au(WA, WA_AT).cart([beverages(50, "10", "4")]), Allowed);
    check(
        au(WA, WA_AT).cart([beverages(51, "10", "4")]),
        over(&["au-liquid-low-dose"]),
    );
}
#[test]
fn wa_rule_version_switch_2025_01_07_low_dose_liquids() {
    check(
        au(WA, "2025-01-06T20:00:00-08:00").cart([beverages(51, "10", "4")]),
        Allowed,
    );
    check(
        au(WA, "2025-01-07T08:00:00-08:00").cart([beverages(51, "10", "4")]),
        over(&["au-liquid-low-dose"]),
    );
}
#[test]
fn wa_caps_are_any_combination() {
    check(
        au(WA, WA_AT).cart([
            flower("28"),
            vapes(7, "1"),
            edible_g(1, "400", "100"),
            topical("1"),
        ]),
        Allowed,
    );
}
#[test]
fn wa_single_transaction_ignores_earlier_sales() {
    let s = au(WA, WA_AT).bought("2026-03-14T09:00:00-07:00", [flower("28.3495")]);
    check(s.cart([flower("28.3495")]), Allowed);
}
#[test]
fn wa_rcw_69_51a_210_database_patients_three_times() {
    check(
        med(WA, WA_AT).cart([flower("85.0485"), concentrate("21")]),
        Allowed,
    );
    check(
        med(WA, WA_AT).cart([flower("85.0486")]),
        over(&["med-useable"]),
    );
}

// ===================================== Oregon ================================================
// OLCC: "at any one time or within one day".
const OR: &str = "US-OR";
const OR_AT: &str = "2026-03-14T15:30:00-07:00";

#[test]
fn or_usable_one_ounce_per_day() {
    let s = au(OR, OR_AT).bought("2026-03-14T08:00:00-07:00", [flower("14")]);
    check(s.clone().cart([flower("14.3495")]), Allowed);
    check(s.cart([flower("14.35")]), over(&["usable"]));
}
#[test]
fn or_concentrate_5_g() {
    check(au(OR, OR_AT).cart([concentrate("5")]), Allowed);
    check(
        au(OR, OR_AT).cart([concentrate("5.01")]),
        over(&["concentrate"]),
    );
}
#[test]
fn or_four_plants_ten_seeds() {
    check(au(OR, OR_AT).cart([plants(4), seeds(10)]), Allowed);
    check(
        au(OR, OR_AT).cart([plants(5), seeds(11)]),
        over(&["immature-plants", "seeds"]),
    );
}
#[test]
fn or_solid_16_oz_and_liquid_72_fl_oz() {
    check(
        au(OR, OR_AT).cart([
            edible_g(1, "453.592", "50"),
            beverages(1, "2129.2941285", "5"),
        ]),
        Allowed,
    );
    check(
        au(OR, OR_AT).cart([edible_g(1, "453.6", "50")]),
        over(&["solid"]),
    );
}
#[test]
fn or_ommp_8_oz_per_day() {
    check(med(OR, OR_AT).cart([flower("226.796")]), Allowed);
    check(
        med(OR, OR_AT).cart([flower("226.8")]),
        over(&["med-usable-day"]),
    );
}
#[test]
fn or_ommp_32_oz_per_month_conservatively_rolling_31_days() {
    let mut s = med(OR, OR_AT);
    for day in ["2026-03-13", "2026-03-06", "2026-02-27", "2026-02-20"] {
        s = s.bought(&format!("{day}T12:00:00-07:00"), [flower("226.796")]);
    }
    check(s.clone().cart([flower("1")]), over(&["med-usable-month"]));
    // The oldest purchase 32 days back no longer counts.
    let mut s = med(OR, OR_AT);
    for day in ["2026-03-13", "2026-03-06", "2026-02-27", "2026-02-10"] {
        s = s.bought(&format!("{day}T12:00:00-07:00"), [flower("226.796")]);
    }
    check(s.cart([flower("226.796")]), Allowed);
}

// ===================================== Michigan ==============================================
const MI: &str = "US-MI";
const MI_AT: &str = "2026-03-14T15:30:00-04:00";

#[test]
fn mi_r_420_506_adult_use_2_5_oz_total() {
    check(au(MI, MI_AT).cart([flower("70.87375")]), Allowed);
    check(au(MI, MI_AT).cart([flower("70.8738")]), over(&["au-total"]));
}
#[test]
fn mi_r_420_506_3_concentrate_15_g_within_the_total() {
    check(
        au(MI, MI_AT).cart([concentrate("15"), flower("55.87375")]),
        Allowed,
    );
    check(
        au(MI, MI_AT).cart([concentrate("15.01")]),
        over(&["au-concentrate"]),
    );
    check(
        au(MI, MI_AT).cart([concentrate("15"), flower("55.8738")]),
        over(&["au-total"]),
    );
}
#[test]
fn mi_cra_infused_pre_rolls_count_toward_concentrate() {
    check(au(MI, MI_AT).cart([infused_pre_roll("15", "1")]), Allowed);
    check(
        au(MI, MI_AT).cart([infused_pre_roll("15.5", "1")]),
        over(&["au-concentrate"]),
    );
}
#[test]
fn mi_medical_2_5_oz_per_day() {
    let s = med(MI, MI_AT).bought("2026-03-14T09:00:00-04:00", [flower("70")]);
    check(s.clone().cart([flower("0.87375")]), Allowed);
    check(s.cart([flower("0.874")]), over(&["med-day"]));
}
#[test]
fn mi_medical_10_oz_per_30_days_rolls_over() {
    let mut s = med(MI, MI_AT);
    for day in ["2026-03-13", "2026-03-06", "2026-02-27"] {
        s = s.bought(&format!("{day}T12:00:00-05:00"), [flower("70.87375")]);
    }
    let base = s.clone();
    // The window is 30 store days ending 14 March: a 4th purchase on 13 February (day 1), even
    // at its first minute, still counts.
    let s = base
        .clone()
        .bought("2026-02-13T00:00:00-05:00", [flower("70.87375")]);
    check(s.cart([flower("0.01")]), over(&["med-30-days"]));
    // On 12 February (day 31), even at its last minute and later in the day than now, it has
    // rolled out of the window.
    let s = base.bought("2026-02-12T23:59:00-05:00", [flower("70.87375")]);
    check(s.cart([flower("70.87375")]), Allowed);
}
#[test]
fn mi_mmma_equivalents_7_g_inhalable_is_one_ounce() {
    check(med(MI, MI_AT).cart([concentrate("17.5")]), Allowed);
    check(
        med(MI, MI_AT).cart([concentrate("17.51")]),
        over(&["med-day"]),
    );
}

// ===================================== Illinois ==============================================
// 410 ILCS 705/10-10; 410 ILCS 130/10; 77 Ill. Adm. Code 946.315.
const IL: &str = "US-IL";
const IL_AT: &str = "2026-03-14T15:30:00-05:00";

#[test]
fn il_10_10_a_resident_30_g_5_g_500_mg() {
    check(
        au(IL, IL_AT).cart([flower("30"), concentrate("5"), edibles(5, "100")]),
        Allowed,
    );
    check(
        au(IL, IL_AT).cart([flower("30.01")]),
        over(&["au-flower-resident"]),
    );
    check(
        au(IL, IL_AT).cart([concentrate("5.01")]),
        over(&["au-concentrate-resident"]),
    );
    check(
        au(IL, IL_AT).cart([edibles(5, "100"), edibles(1, "1")]),
        over(&["au-infused-resident"]),
    );
}
#[test]
fn il_10_10_b_non_resident_half() {
    let nr = || au(IL, IL_AT).non_resident();
    check(
        nr().cart([flower("15"), concentrate("2.5"), edibles(25, "10")]),
        Allowed,
    );
    check(
        nr().cart([flower("15.01")]),
        over(&["au-flower-nonresident"]),
    );
    check(
        nr().cart([concentrate("2.51")]),
        over(&["au-concentrate-nonresident"]),
    );
    check(
        nr().cart([edibles(26, "10")]),
        over(&["au-infused-nonresident"]),
    );
}
#[test]
fn il_unknown_residency_defaults_to_non_resident_limits() {
    let mut s = au(IL, IL_AT);
    s.0.customer.resident = false;
    let json = serde_json::json!({"class": "adult-use", "age": 30});
    let c: canopy_limits::Customer = serde_json::from_value(json).unwrap();
    assert!(!c.resident);
    check(s.cart([flower("20")]), over(&["au-flower-nonresident"]));
}
#[test]
fn il_130_10_medical_2_5_oz_per_14_days() {
    let recent = med(IL, IL_AT).bought("2026-03-01T12:00:00-06:00", [flower("70.87375")]);
    check(recent.cart([flower("0.01")]), over(&["med-14-days"]));
    let old = med(IL, IL_AT).bought("2026-02-27T12:00:00-06:00", [flower("70.87375")]);
    check(old.cart([flower("70.87375")]), Allowed);
}
#[test]
fn il_946_315_waiver_raises_the_medical_amount() {
    let waiver = canopy_limits::CustomerOverride {
        kind: canopy_limits::OverrideKind::Waiver,
        amount: Some(d("5")),
        unit: Some(canopy_limits::Unit::Oz),
        category: None,
        rule: Some("med-14-days".into()),
        valid_from: None,
        valid_until: Some("2026-12-31".parse().unwrap()),
        reference: None,
    };
    check(
        med(IL, IL_AT)
            .with_override(waiver.clone())
            .cart([flower("141.7475")]),
        Allowed,
    );
    check(
        med(IL, IL_AT)
            .with_override(waiver)
            .cart([flower("141.75")]),
        over(&["med-14-days"]),
    );
}
#[test]
fn il_expired_waiver_is_ignored_with_a_notice() {
    let waiver = canopy_limits::CustomerOverride {
        kind: canopy_limits::OverrideKind::Waiver,
        amount: Some(d("5")),
        unit: Some(canopy_limits::Unit::Oz),
        category: None,
        rule: None,
        valid_from: None,
        valid_until: Some("2026-01-31".parse().unwrap()),
        reference: None,
    };
    let d = check(
        med(IL, IL_AT).with_override(waiver).cart([flower("100")]),
        over(&["med-14-days"]),
    );
    assert!(
        d.notices.iter().any(|n| n.contains("not valid")),
        "{:?}",
        d.notices
    );
}

// =================================== Massachusetts ===========================================
// 935 CMR 500.140(3)(a): 1 oz = 5 g concentrate = 500 mg THC, per day; topicals exempt.
const MA: &str = "US-MA";
const MA_AT: &str = "2026-03-14T15:30:00-04:00";

#[test]
fn ma_500_140_one_ounce_per_day() {
    let s = au(MA, MA_AT).bought("2026-03-14T10:00:00-04:00", [flower("20")]);
    check(s.clone().cart([flower("8.3495")]), Allowed);
    check(
        s.cart([flower("8.35")]),
        over(&["au-dry-weight-equivalent"]),
    );
}
#[test]
fn ma_500_140_five_grams_concentrate_by_product_weight() {
    check(au(MA, MA_AT).cart([concentrate("5")]), Allowed);
    check(
        au(MA, MA_AT).cart([concentrate("5.01")]),
        over(&["au-dry-weight-equivalent"]),
    );
}
#[test]
fn ma_500_140_500_mg_edibles() {
    check(au(MA, MA_AT).cart([edibles(5, "100")]), Allowed);
    check(
        au(MA, MA_AT).cart([edibles(5, "100"), edibles(1, "1")]),
        over(&["au-dry-weight-equivalent"]),
    );
}
#[test]
fn ma_500_140_3_a_3_topicals_have_no_limit() {
    check(
        au(MA, MA_AT).cart([flower("28.3495"), topical("2000")]),
        Allowed,
    );
}
#[test]
fn ma_501_medical_10_oz_per_60_days() {
    let s = med(MA, MA_AT).bought("2026-01-20T12:00:00-05:00", [flower("200")]);
    check(s.clone().cart([flower("83.495")]), Allowed);
    check(s.cart([flower("83.5")]), over(&["med-60-day-supply"]));
}

// ===================================== Nevada ================================================
// SB 277 (2024): 2.5 oz ≡ 7,087 mg THC; 1/4 oz concentrated. Before: 1 oz ≡ 3,543 mg; 1/8 oz.
const NV: &str = "US-NV";
const NV_AT: &str = "2026-03-14T15:30:00-07:00";

#[test]
fn nv_sb277_2_5_oz_usable() {
    check(au(NV, NV_AT).cart([flower("70.87375")]), Allowed);
    check(
        au(NV, NV_AT).cart([flower("70.8738")]),
        over(&["au-usable-equivalent"]),
    );
}
#[test]
fn nv_ccb_chart_7087_mg_thc_with_no_flower() {
    check(
        au(NV, NV_AT).cart([edibles(70, "100"), edibles(1, "87")]),
        Allowed,
    );
    check(
        au(NV, NV_AT).cart([edibles(70, "100"), edibles(1, "88")]),
        over(&["au-usable-equivalent"]),
    );
}
#[test]
fn nv_ccb_chart_half_flower_half_thc() {
    // 1.25 oz flower leaves 7,087 × 0.5 = 3,543.5 mg.
    check(
        au(NV, NV_AT).cart([flower("35.436875"), edible_g(1, "10", "3543.5")]),
        Allowed,
    );
    check(
        au(NV, NV_AT).cart([flower("35.436875"), edible_g(1, "10", "3543.6")]),
        over(&["au-usable-equivalent"]),
    );
}
#[test]
fn nv_sb277_quarter_ounce_concentrated() {
    check(au(NV, NV_AT).cart([concentrate("7.087375")]), Allowed);
    check(
        au(NV, NV_AT).cart([concentrate("7.0874")]),
        over(&["au-concentrated"]),
    );
}
#[test]
fn nv_rule_version_switch_2024_01_01() {
    check(
        au(NV, "2023-12-31T20:00:00-08:00").cart([flower("42")]),
        over(&["au-usable-equivalent"]),
    );
    check(
        au(NV, "2024-01-01T09:00:00-08:00").cart([flower("42")]),
        Allowed,
    );
}

// ===================================== Arizona ===============================================
// A.R.S. §36-2852(A)(1): 1 oz, of which ≤ 5 g concentrate; §36-2816(A) 2.5 oz / 14 days.
const AZ: &str = "US-AZ";
const AZ_AT: &str = "2026-03-14T15:30:00-07:00";

#[test]
fn az_36_2852_one_ounce_of_which_5_g_concentrate() {
    check(
        au(AZ, AZ_AT).cart([concentrate("5"), flower("23.3495")]),
        Allowed,
    );
    check(
        au(AZ, AZ_AT).cart([concentrate("5.01")]),
        over(&["au-concentrate"]),
    );
    check(
        au(AZ, AZ_AT).cart([concentrate("5"), flower("23.35")]),
        over(&["au-total"]),
    );
}
#[test]
fn az_36_2816_medical_2_5_oz_in_any_14_days_may_be_all_concentrate() {
    check(med(AZ, AZ_AT).cart([concentrate("70.87375")]), Allowed);
    let s = med(AZ, AZ_AT).bought("2026-03-02T12:00:00-07:00", [concentrate("70")]);
    check(s.cart([concentrate("0.9")]), over(&["med-14-days"]));
}

// ===================================== New York ==============================================
const NY: &str = "US-NY";
const NY_AT: &str = "2026-03-14T15:30:00-04:00";

#[test]
fn ny_222_three_ounces_flower_24_g_concentrate() {
    check(
        au(NY, NY_AT).cart([flower("85.0485"), concentrate("24")]),
        Allowed,
    );
    check(
        au(NY, NY_AT).cart([flower("85.0486")]),
        over(&["au-flower"]),
    );
    check(
        au(NY, NY_AT).cart([concentrate("24.01")]),
        over(&["au-concentrate"]),
    );
}
#[test]
fn ny_conservative_daily_window() {
    let s = au(NY, NY_AT).bought("2026-03-14T09:00:00-04:00", [concentrate("20")]);
    check(s.cart([concentrate("4.01")]), over(&["au-concentrate"]));
}
#[test]
fn ny_31_medical_needs_a_practitioner_supply_on_file() {
    check(
        med(NY, NY_AT).cart([edibles(1, "10")]),
        over(&["med-60-day-supply"]),
    );
    let rec = canopy_limits::CustomerOverride {
        kind: canopy_limits::OverrideKind::PhysicianRecommendation,
        amount: Some(d("6000")),
        unit: Some(canopy_limits::Unit::Mg),
        category: None,
        rule: None,
        valid_from: None,
        valid_until: None,
        reference: None,
    };
    check(
        med(NY, NY_AT)
            .with_override(rec.clone())
            .cart([edibles(60, "100")]),
        Allowed,
    );
    check(
        med(NY, NY_AT).with_override(rec).cart([edibles(61, "100")]),
        over(&["med-60-day-supply"]),
    );
}

// ==================================== New Jersey =============================================
// nj.gov/cannabis: 28.35 g ≡ 4 g concentrate ≡ 1,000 mg THC per transaction.
const NJ: &str = "US-NJ";
const NJ_AT: &str = "2026-03-14T15:30:00-04:00";

#[test]
fn nj_crc_28_35_g_flower() {
    check(au(NJ, NJ_AT).cart([flower("28.35")]), Allowed);
    check(
        au(NJ, NJ_AT).cart([flower("28.36")]),
        over(&["au-equivalent"]),
    );
}
#[test]
fn nj_crc_4_g_concentrate_and_1000_mg_ingestibles() {
    check(au(NJ, NJ_AT).cart([vapes(4, "1")]), Allowed);
    check(
        au(NJ, NJ_AT).cart([vapes(4, "1"), concentrate("0.01")]),
        over(&["au-equivalent"]),
    );
    check(au(NJ, NJ_AT).cart([edibles(10, "100")]), Allowed);
    check(
        au(NJ, NJ_AT).cart([edibles(10, "100"), edibles(1, "1")]),
        over(&["au-equivalent"]),
    );
}
#[test]
fn nj_crc_examples_half_flower_plus_2_g_or_five_packages() {
    check(
        au(NJ, NJ_AT).cart([flower("14.17"), concentrate("2")]),
        Allowed,
    );
    check(
        au(NJ, NJ_AT).cart([flower("14.17"), edibles(5, "100")]),
        Allowed,
    );
    check(
        au(NJ, NJ_AT).cart([flower("14.18"), edibles(5, "100")]),
        over(&["au-equivalent"]),
    );
}
#[test]
fn nj_honig_act_terminally_ill_patients_have_no_limit() {
    let hospice = canopy_limits::CustomerOverride {
        kind: canopy_limits::OverrideKind::TerminalIllness,
        amount: None,
        unit: None,
        category: None,
        rule: None,
        valid_from: None,
        valid_until: None,
        reference: None,
    };
    check(med(NJ, NJ_AT).cart([flower("85.05")]), Allowed);
    check(
        med(NJ, NJ_AT).cart([flower("85.06")]),
        over(&["med-30-days"]),
    );
    let d = check(
        med(NJ, NJ_AT).with_override(hospice).cart([flower("500")]),
        Allowed,
    );
    assert_eq!(d.outcomes[0].limit, None);
}

// ===================================== Maryland ==============================================
const MD: &str = "US-MD";
const MD_AT: &str = "2026-03-14T15:30:00-04:00";

#[test]
fn md_personal_use_amount_each_alone() {
    check(au(MD, MD_AT).cart([flower("42.52425")]), Allowed);
    check(au(MD, MD_AT).cart([concentrate("12")]), Allowed);
    check(au(MD, MD_AT).cart([edibles(75, "10")]), Allowed);
    check(
        au(MD, MD_AT).cart([flower("42.5243")]),
        over(&["au-personal-use-amount"]),
    );
}
#[test]
fn md_personal_use_amount_conservatively_either_or() {
    check(
        au(MD, MD_AT).cart([flower("42.52425"), edibles(1, "1")]),
        over(&["au-personal-use-amount"]),
    );
}
#[test]
fn md_comar_14_17_12_medical_120_g_per_30_days() {
    let s = med(MD, MD_AT).bought("2026-02-20T12:00:00-05:00", [flower("100")]);
    check(s.clone().cart([flower("20")]), Allowed);
    check(s.cart([flower("20.01")]), over(&["med-usable-30-days"]));
}
#[test]
fn md_medical_36_g_thc_cap() {
    check(med(MD, MD_AT).cart([edibles(360, "100")]), Allowed);
    check(
        med(MD, MD_AT).cart([edibles(361, "100")]),
        over(&["med-thc-30-days"]),
    );
}

// ===================================== Missouri ==============================================
// MME: 3.5 g flower = 1 g concentrate = 100 mg THC. AU 3 oz per transaction.
const MO: &str = "US-MO";
const MO_AT: &str = "2026-03-14T15:30:00-05:00";

#[test]
fn mo_art_xiv_2_three_ounces() {
    check(au(MO, MO_AT).cart([flower("85.0485")]), Allowed);
    check(
        au(MO, MO_AT).cart([flower("85.0486")]),
        over(&["au-transaction"]),
    );
}
#[test]
fn mo_mme_concentrate_and_thc() {
    // 85.0485 / 3.5 = 24.2995714… g concentrate; × 100 = 2,429.957… mg THC.
    check(au(MO, MO_AT).cart([concentrate("24.2995")]), Allowed);
    check(
        au(MO, MO_AT).cart([concentrate("24.2996")]),
        over(&["au-transaction"]),
    );
    check(au(MO, MO_AT).cart([edible_g(1, "10", "2429.957")]), Allowed);
    check(
        au(MO, MO_AT).cart([edible_g(1, "10", "2429.958")]),
        over(&["au-transaction"]),
    );
}
#[test]
fn mo_rule_version_switch_2022_12_08_medical_4_to_6_oz() {
    let five_oz = || flower("141.7475");
    check(
        med(MO, "2022-12-07T12:00:00-06:00").cart([five_oz()]),
        over(&["med-30-days"]),
    );
    check(
        med(MO, "2022-12-08T12:00:00-06:00").cart([five_oz()]),
        Allowed,
    );
}
#[test]
fn mo_medical_6_oz_per_30_days() {
    let s = med(MO, MO_AT).bought("2026-02-20T12:00:00-06:00", [flower("141.7475")]);
    check(s.clone().cart([flower("28.3495")]), Allowed);
    check(s.cart([flower("28.35")]), over(&["med-30-days"]));
}

// ====================================== Maine ================================================
const ME: &str = "US-ME";
const ME_AT: &str = "2026-03-14T15:30:00-04:00";

#[test]
fn me_3_9_2_two_and_a_half_ounces_of_which_5_g_concentrate() {
    check(
        au(ME, ME_AT).cart([flower("65.87375"), concentrate("5")]),
        Allowed,
    );
    check(
        au(ME, ME_AT).cart([concentrate("5.01")]),
        over(&["au-concentrate"]),
    );
    check(
        au(ME, ME_AT).cart([flower("65.8738"), concentrate("5")]),
        over(&["au-total"]),
    );
}
#[test]
fn me_3_9_2_concentrate_contained_in_edibles() {
    check(au(ME, ME_AT).cart([edibles(50, "100")]), Allowed);
    check(
        au(ME, ME_AT).cart([edibles(50, "100"), edibles(1, "1")]),
        over(&["au-concentrate"]),
    );
}
#[test]
fn me_within_one_day() {
    let s = au(ME, ME_AT).bought("2026-03-14T09:00:00-04:00", [concentrate("4")]);
    check(s.cart([concentrate("1.01")]), over(&["au-concentrate"]));
}

// ====================================== Alaska ===============================================
// 3 AAC 306.355(a): 1 oz; 7 g; 5,600 mg THC; per person per day since 2020-10-18.
const AK: &str = "US-AK";
const AK_AT: &str = "2026-03-14T15:30:00-08:00";

#[test]
fn ak_306_355_a1_one_ounce() {
    check(au(AK, AK_AT).cart([flower_thc("28.3495", "4000")]), Allowed);
    check(
        au(AK, AK_AT).cart([flower_thc("28.3496", "4000")]),
        over(&["usable"]),
    );
}
#[test]
fn ak_306_355_a2_seven_grams_concentrate() {
    check(
        au(AK, AK_AT).cart([concentrate("7").with_thc_mg(d("5600"))]),
        Allowed,
    );
    check(
        au(AK, AK_AT).cart([concentrate("7.01").with_thc_mg(d("5000"))]),
        over(&["inhalable-concentrate"]),
    );
}
#[test]
fn ak_306_355_a3_thc_cap_conservatively_counts_flower() {
    // 1 oz of 20 % flower = 5,670 mg THC > 5,600 mg.
    check(au(AK, AK_AT).cart([flower_thc("28.3495", "5600")]), Allowed);
    check(
        au(AK, AK_AT).cart([flower_thc("28.3495", "5670")]),
        over(&["thc-total"]),
    );
}
#[test]
fn ak_thc_cap_needs_thc_content_of_flower() {
    let err = au(AK, AK_AT).cart([flower("3.5")]).evaluate().unwrap_err();
    assert!(err.to_string().contains("thc_mg"), "{err}");
}
#[test]
fn ak_rule_version_switch_2020_10_18_per_day() {
    let day = |date: &str| {
        au(AK, &format!("{date}T18:00:00-08:00"))
            .bought(
                &format!("{date}T10:00:00-08:00"),
                [flower_thc("28", "3000")],
            )
            .cart([flower_thc("28", "2000")])
    };
    check(day("2020-10-17"), Allowed);
    check(day("2020-10-18"), over(&["usable"]));
}
#[test]
fn ak_has_no_medical_programme() {
    let err = med(AK, AK_AT)
        .cart([flower_thc("1", "100")])
        .evaluate()
        .unwrap_err();
    assert!(
        matches!(err, canopy_limits::LimitsError::ClassNotServed { .. }),
        "{err}"
    );
}

// ====================================== Montana ==============================================
const MT: &str = "US-MT";
const MT_AT: &str = "2026-03-14T15:30:00-06:00";

#[test]
fn mt_16_12_106_one_ounce_8_g_800_mg() {
    check(au(MT, MT_AT).cart([flower("28.3495")]), Allowed);
    check(au(MT, MT_AT).cart([concentrate("8")]), Allowed);
    check(au(MT, MT_AT).cart([edibles(8, "100")]), Allowed);
    check(
        au(MT, MT_AT).cart([flower("28.3496")]),
        over(&["au-equivalent"]),
    );
}
#[test]
fn mt_dor_conservatively_either_or() {
    check(
        au(MT, MT_AT).cart([concentrate("4"), edibles(4, "100")]),
        Allowed,
    );
    check(
        au(MT, MT_AT).cart([concentrate("4"), edibles(4, "100"), edibles(1, "1")]),
        over(&["au-equivalent"]),
    );
}
#[test]
fn mt_16_12_515_medical_5_oz_per_rolling_30_days() {
    let mut s = med(MT, MT_AT);
    for day in [
        "2026-03-13",
        "2026-03-10",
        "2026-03-05",
        "2026-02-28",
        "2026-02-20",
    ] {
        s = s.bought(&format!("{day}T12:00:00-07:00"), [flower("28.3495")]);
    }
    check(s.cart([flower("0.01")]), over(&["med-30-days"]));
}
#[test]
fn mt_rule_version_switch_2022_03_01_calendar_month_to_rolling() {
    // 5 oz bought on 28 February 2022: under the calendar-month rule the next day is a new month.
    let feb = |at: &str| {
        let mut s = med(MT, at);
        for day in [
            "2022-02-24",
            "2022-02-25",
            "2022-02-26",
            "2022-02-27",
            "2022-02-28",
        ] {
            s = s.bought(&format!("{day}T12:00:00-07:00"), [flower("28.3495")]);
        }
        s.cart([flower("1")])
    };
    // On 2022-03-01 the rolling 30-day rule is in force and still counts February.
    check(feb("2022-03-01T12:00:00-07:00"), over(&["med-30-days"]));
    // Under the old version, January purchases are forgotten on 1 February.
    let mut s = med(MT, "2022-02-01T12:00:00-07:00");
    for day in [
        "2022-01-27",
        "2022-01-28",
        "2022-01-29",
        "2022-01-30",
        "2022-01-31",
    ] {
        s = s.bought(&format!("{day}T12:00:00-07:00"), [flower("28.3495")]);
    }
    check(s.cart([flower("28")]), Allowed);
}
#[test]
fn mt_petition_is_capped_at_8_oz() {
    let petition = canopy_limits::CustomerOverride {
        kind: canopy_limits::OverrideKind::Petition,
        amount: Some(d("10")),
        unit: Some(canopy_limits::Unit::Oz),
        category: None,
        rule: Some("med-30-days".into()),
        valid_from: None,
        valid_until: None,
        reference: None,
    };
    let mut s = med(MT, MT_AT).with_override(petition);
    for day in [
        "2026-03-13",
        "2026-03-12",
        "2026-03-11",
        "2026-03-10",
        "2026-03-09",
        "2026-03-08",
        "2026-03-07",
    ] {
        s = s.bought(&format!("{day}T12:00:00-06:00"), [flower("28.3495")]);
    }
    // 7 oz used, petition (capped at 8 oz) leaves 1 oz.
    let d = check(s.clone().cart([flower("28.3495")]), Allowed);
    assert!(
        d.notices.iter().any(|n| n.contains("capped")),
        "{:?}",
        d.notices
    );
    check(s.cart([flower("28.35")]), over(&["med-30-days", "med-day"]));
}

// ==================================== Connecticut ============================================
const CT: &str = "US-CT";

#[test]
fn ct_dcp_quarter_ounce_until_2023_11_30_half_ounce_from_2023_12_01() {
    let at_nov = "2023-11-30T18:00:00-05:00";
    let at_dec = "2023-12-01T09:00:00-05:00";
    check(au(CT, at_nov).cart([flower("7.087375")]), Allowed);
    check(
        au(CT, at_nov).cart([flower("7.0874")]),
        over(&["au-equivalent"]),
    );
    check(au(CT, at_dec).cart([flower("14.17475")]), Allowed);
    check(
        au(CT, at_dec).cart([flower("14.1748")]),
        over(&["au-equivalent"]),
    );
}
#[test]
fn ct_dcp_examples_fourteen_1_g_pre_rolls_or_four_1_g_carts() {
    let at = "2026-03-14T15:30:00-04:00";
    check(au(CT, at).cart([pre_rolls(14, "1")]), Allowed);
    check(au(CT, at).cart([vapes(4, "1")]), Allowed);
    check(
        au(CT, at).cart([vapes(4, "1"), pre_rolls(1, "0.1")]),
        over(&["au-equivalent"]),
    );
}
#[test]
fn ct_medical_5_oz_conservatively_rolling_30_days() {
    let at = "2026-03-14T15:30:00-04:00";
    let s = med(CT, at).bought("2026-02-20T12:00:00-05:00", [flower("141.7475")]);
    check(s.cart([flower("0.01")]), over(&["med-month"]));
}

// ====================================== Vermont ==============================================
const VT: &str = "US-VT";
const VT_AT: &str = "2026-03-14T15:30:00-04:00";

#[test]
fn vt_907_b_one_ounce_at_28_34_g() {
    check(au(VT, VT_AT).cart([flower("28.34")]), Allowed);
    check(
        au(VT, VT_AT).cart([flower("28.35")]),
        over(&["au-equivalent"]),
    );
}
#[test]
fn vt_ccb_chart_8_carts_or_8400_mg() {
    check(au(VT, VT_AT).cart([vapes(8, "1")]), Allowed);
    check(
        au(VT, VT_AT).cart([vapes(8, "1"), flower("0.01")]),
        over(&["au-equivalent"]),
    );
    check(au(VT, VT_AT).cart([edibles(168, "50")]), Allowed);
    check(
        au(VT, VT_AT).cart([edibles(169, "50")]),
        over(&["au-equivalent"]),
    );
}

// ======================================= Ohio ================================================
const OH: &str = "US-OH";
const OH_AT: &str = "2026-03-14T15:30:00-04:00";

#[test]
fn oh_1301_18_8_08_a2a_two_and_a_half_ounces_plant_material() {
    check(au(OH, OH_AT).cart([flower("70.87375")]), Allowed);
    check(
        au(OH, OH_AT).cart([flower("70.8738")]),
        over(&["au-plant-material", "au-combined"]),
    );
}
#[test]
fn oh_1301_18_8_08_a2b_15000_mg_thc() {
    check(au(OH, OH_AT).cart([edibles(150, "100")]), Allowed);
    check(
        au(OH, OH_AT).cart([edibles(151, "100")]),
        over(&["au-thc-products", "au-combined"]),
    );
}
#[test]
fn oh_conservative_reading_both_caps_share_one_day() {
    check(
        au(OH, OH_AT).cart([flower("35.436875"), edibles(75, "100")]),
        Allowed,
    );
    check(
        au(OH, OH_AT).cart([flower("70.87375"), edibles(1, "1")]),
        over(&["au-combined"]),
    );
}
#[test]
fn oh_dcc_guidance_1_oz_until_2025_06_09() {
    check(
        au(OH, "2025-06-08T12:00:00-04:00").cart([flower("28.3496")]),
        over(&["au-plant-material"]),
    );
    check(
        au(OH, "2025-06-09T12:00:00-04:00").cart([flower("28.3496")]),
        Allowed,
    );
}
#[test]
fn oh_no_adult_use_before_2024_08_06() {
    let err = au(OH, "2024-08-05T12:00:00-04:00")
        .cart([flower("1")])
        .evaluate()
        .unwrap_err();
    assert!(
        matches!(err, canopy_limits::LimitsError::ClassNotServed { .. }),
        "{err}"
    );
}
#[test]
fn oh_3796_medical_45_day_fill_is_half_of_the_90_day_supply() {
    // Tier II plant 5.3 oz / 90 days → 2.65 oz = 75.126175 g per 45 days.
    check(med(OH, OH_AT).cart([flower("75.126175")]), Allowed);
    check(
        med(OH, OH_AT).cart([flower("75.1262")]),
        over(&["med-45-day-fill"]),
    );
    // 9.9 g THC edibles / 90 days → 4.95 g per 45 days.
    check(
        med(OH, OH_AT).cart([edibles(49, "100"), edibles(1, "50")]),
        Allowed,
    );
    check(
        med(OH, OH_AT).cart([edibles(50, "100")]),
        over(&["med-45-day-fill"]),
    );
}

// ===================================== Minnesota =============================================
const MN: &str = "US-MN";
const MN_AT: &str = "2026-03-14T15:30:00-05:00";

#[test]
fn mn_342_two_ounces_8_g_800_mg() {
    check(au(MN, MN_AT).cart([flower("56.699")]), Allowed);
    check(au(MN, MN_AT).cart([concentrate("8")]), Allowed);
    check(au(MN, MN_AT).cart([edibles(8, "100")]), Allowed);
    check(
        au(MN, MN_AT).cart([flower("56.6991")]),
        over(&["au-equivalent"]),
    );
}
#[test]
fn mn_conservatively_one_weighted_limit_per_day() {
    let s = au(MN, MN_AT).bought("2026-03-14T10:00:00-05:00", [concentrate("4")]);
    check(s.clone().cart([edibles(4, "100")]), Allowed);
    check(
        s.cart([edibles(4, "100"), edibles(1, "1")]),
        over(&["au-equivalent"]),
    );
}
#[test]
fn mn_medical_not_researched_is_refused() {
    assert!(med(MN, MN_AT).cart([flower("1")]).evaluate().is_err());
}

// ===================================== Delaware ==============================================
const DE: &str = "US-DE";
const DE_AT: &str = "2026-03-14T15:30:00-04:00";

#[test]
fn de_4764_separate_caps_1_oz_12_g_750_mg() {
    check(
        au(DE, DE_AT).cart([flower("28.3495"), concentrate("12"), edibles(75, "10")]),
        Allowed,
    );
    check(au(DE, DE_AT).cart([flower("28.3496")]), over(&["au-leaf"]));
    check(
        au(DE, DE_AT).cart([concentrate("12.01")]),
        over(&["au-concentrate"]),
    );
    check(
        au(DE, DE_AT).cart([edibles(76, "10")]),
        over(&["au-thc-products"]),
    );
}
#[test]
fn de_adult_use_sales_begin_2025_08_01() {
    assert!(
        au(DE, "2025-07-31T12:00:00-04:00")
            .cart([flower("1")])
            .evaluate()
            .is_err()
    );
    check(
        au(DE, "2025-08-01T12:00:00-04:00").cart([flower("1")]),
        Allowed,
    );
}
#[test]
fn de_49a_medical_3_oz_per_14_days_and_6_oz_per_30_days() {
    let s = med(DE, DE_AT).bought("2026-03-10T12:00:00-04:00", [flower("85.0485")]);
    check(s.clone().cart([flower("0.01")]), over(&["med-14-days"]));
    let s = med(DE, DE_AT)
        .bought("2026-02-27T12:00:00-05:00", [flower("85.0485")])
        .bought("2026-02-20T12:00:00-05:00", [flower("85.0485")]);
    check(s.clone().cart([flower("0.01")]), over(&["med-30-days"]));
}

// ====================================== Ontario ==============================================
// Cannabis Act Schedule 3; 30 g dried equivalent per transaction; 19+.
const ON: &str = "CA-ON";
const ON_AT: &str = "2026-03-14T15:30:00-04:00";

#[test]
fn on_schedule_3_thirty_grams_dried() {
    check(au(ON, ON_AT).cart([flower("30")]), Allowed);
    check(
        au(ON, ON_AT).cart([flower("30.01")]),
        over(&["dried-equivalent"]),
    );
}
#[test]
fn on_schedule_3_concentrate_0_25_g_is_1_g_dried() {
    check(au(ON, ON_AT).cart([concentrate("7.5")]), Allowed);
    check(
        au(ON, ON_AT).cart([concentrate("7.51")]),
        over(&["dried-equivalent"]),
    );
}
#[test]
fn on_schedule_3_solids_15_g_is_1_g_dried_exactly() {
    // 450 g of edibles = 30 g dried: 1/15 is non-terminating, the engine must still be exact.
    check(au(ON, ON_AT).cart([edible_g(45, "10", "10")]), Allowed);
    check(
        au(ON, ON_AT).cart([edible_g(45, "10", "10"), flower("0.001")]),
        over(&["dried-equivalent"]),
    );
}
#[test]
fn on_schedule_3_one_seed_is_one_gram() {
    check(au(ON, ON_AT).cart([seeds(30)]), Allowed);
    check(au(ON, ON_AT).cart([seeds(31)]), over(&["dried-equivalent"]));
}
#[test]
fn on_rule_version_switch_2022_12_02_beverages_570_g() {
    // 2,100 g of beverages: 30 g under the non-solids row, 3.68 g under the beverage row.
    let cart = || [beverages(6, "350", "10"), flower("26")];
    check(
        au(ON, "2022-12-01T12:00:00-05:00").cart(cart()),
        over(&["dried-equivalent"]),
    );
    check(au(ON, "2022-12-02T12:00:00-05:00").cart(cart()), Allowed);
}
#[test]
fn on_minimum_age_19() {
    check(au(ON, ON_AT).age(18).cart([flower("1")]), Ineligible);
    check(au(ON, ON_AT).age(19).cart([flower("1")]), Allowed);
}
