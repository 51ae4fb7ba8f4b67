//! One test per real-world quirk, named after it, on the fixture that shows
//! it. The data-driven test covers every field; these pin the reason.

use canopy_aamva::{Country, Date, DocumentType, IdCard, Sex, parse};
use serde_json::Value;

fn card(id: &str) -> IdCard {
    let json: Value = serde_json::from_str(include_str!("fixtures/aamva-vectors.json")).unwrap();
    let v = json
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == id)
        .unwrap();
    parse(v["payload"].as_str().unwrap()).unwrap()
}

fn d(y: i16, m: i8, day: i8) -> Option<Date> {
    Some(jiff::civil::date(y, m, day))
}

#[test]
fn alberta_non_numeric_offset_and_canadian_dates() {
    let c = card("idparser-ab");
    assert_eq!(c.subfiles[0].offset, None);
    assert_eq!(
        (c.dob, c.expiry),
        (jiff::civil::date(1993, 2, 4), d(2019, 1, 8))
    );
    assert_eq!(
        (c.country, c.jurisdiction.as_deref()),
        (Some(Country::Canada), Some("AB"))
    );
    assert_eq!(c.postal_code.as_deref(), Some("T4G 7A7"));
}

#[test]
fn wyoming_middle_initial_in_first_name_and_city_line_in_street2() {
    let c = card("idparser-wy");
    assert_eq!(
        (c.first_name.as_deref(), c.middle_name.as_deref()),
        (Some("MOTORIST"), Some("E"))
    );
    assert_eq!(c.street2, None);
    assert_eq!(c.expiry, d(2021, 10, 31), "v04 card written CCYYMMDD");
}

#[test]
fn pennsylvania_v01_full_name_is_first_middle_last() {
    let c = card("idparser-pa-two-middle-names");
    assert_eq!(
        (
            c.first_name.as_deref(),
            c.middle_name.as_deref(),
            c.last_name.as_deref()
        ),
        (Some("JOHN"), Some("ROBERT LEE"), Some("SMITH"))
    );
}

#[test]
fn separators_stripped_payload_is_scanned_by_element_id() {
    let c = card("aamvajs-pdf417-ks");
    assert_eq!(c.last_name.as_deref(), Some("HAECHERL"));
    assert_eq!(c.elements.get("DCG"), Some("USA"));
    assert_eq!(c.postal_code.as_deref(), Some("66062"));
}

#[test]
fn piped_payload_reads_like_the_original() {
    let mut piped = card("idparser-ma-piped");
    let mut original = card("idparser-ma-2009");
    piped.elements = Default::default();
    original.elements = Default::default();
    assert_eq!(piped, original);
}

#[test]
fn placeholder_dates_read_as_absent() {
    assert_eq!(card("idparser-core-tx-dbdnone").issue_date, None);
    assert_eq!(card("idparser-va").elements.get("DDC"), Some("00000000"));
}

#[test]
fn id_card_subfile_is_an_id_document() {
    assert_eq!(
        card("idparser-tn").document_type,
        Some(DocumentType::IdCard)
    );
    assert_eq!(
        card("syfaro-rs-va-real-u21").document_type,
        Some(DocumentType::IdCard)
    );
}

#[test]
fn v01_sex_letters_and_padded_zip() {
    let c = card("idparser-mo");
    assert_eq!(c.sex, Some(Sex::Male));
    assert_eq!(c.postal_code.as_deref(), Some("63301"));
    assert_eq!(c.middle_name, None);
}

#[test]
fn zip_plus_four_is_kept_when_real() {
    assert_eq!(
        card("idparser-nj").postal_code.as_deref(),
        Some("07418-2554")
    );
    assert_eq!(card("idparser-hi").postal_code.as_deref(), Some("96826"));
}

#[test]
fn under_21_until_is_dob_plus_21_years() {
    let c = card("idparser-ak");
    assert_eq!(
        c.under_21_until,
        Some(c.dob.saturating_add(jiff::Span::new().years(21)))
    );
}

fn payload(id: &str) -> String {
    let json: Value = serde_json::from_str(include_str!("fixtures/aamva-vectors.json")).unwrap();
    json.as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == id)
        .unwrap()["payload"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn a_placeholder_or_missing_document_number_still_yields_every_other_field() {
    // IdParser's Massachusetts 2009 card, with its DAQ written the way damaged or specimen cards
    // write mandatory elements they lack (`NONE`, `unavl`), and with DAQ left out.
    let original = payload("idparser-ma-2009");
    for (variant, code) in [
        (original.replace("DAQS65807412", "DAQNONE"), "placeholder"),
        (original.replace("DAQS65807412", "DAQunavl"), "placeholder"),
        (original.replace("DAQS65807412\n", ""), "missing"),
    ] {
        let c = parse(&variant).unwrap();
        assert_eq!(c.license_number, None, "{code}");
        assert_eq!(
            (c.problems[0].field, c.problems[0].code),
            ("license_number", code)
        );
        assert_eq!(c.dob, jiff::civil::date(1977, 7, 7));
        assert_eq!(c.expiry, d(2020, 7, 7));
        assert_eq!(
            (c.first_name.as_deref(), c.last_name.as_deref()),
            (Some("ROBERT"), Some("SMITH"))
        );
        assert_eq!(c.jurisdiction.as_deref(), Some("MA"));
    }
    assert!(card("idparser-ma-2009").problems.is_empty());
}

#[test]
fn v01_full_names_split_in_every_separator_form() {
    // The DAA forms the public suites carry (IdParser CT, MO, OR, LA, DC, SC, PA; benhovinga), and
    // the same forms rebuilt on the benhovinga v01 card.
    for (id, first, middle, last) in [
        ("idparser-ct", "ADULT", Some("A"), "CTLIC"),
        ("idparser-mo", "FirstNameTest", None, "LastNameTest"),
        ("idparser-or", "MARY", Some("JONES"), "SMITH"),
        ("idparser-la", "MARCIA", Some("MOTORIST"), "JONES"),
        ("idparser-dc", "DIANA", Some("ROBIN"), "AL-MAAR"),
        (
            "idparser-core-sc-aamva2000-dbg",
            "MARY",
            Some("ROBINS"),
            "SMITH",
        ),
        (
            "idparser-pa-two-middle-names",
            "JOHN",
            Some("ROBERT LEE"),
            "SMITH",
        ),
    ] {
        let c = card(id);
        assert_eq!(
            (
                c.first_name.as_deref(),
                c.middle_name.as_deref(),
                c.last_name.as_deref()
            ),
            (Some(first), middle, Some(last)),
            "{id}"
        );
    }
    let v1 = payload("benhovinga-v1");
    for (daa, first, middle, last, suffix) in [
        (
            "PUBLIC,JOHN,QUINCY,",
            "JOHN",
            Some("QUINCY"),
            "PUBLIC",
            None,
        ),
        ("PUBLIC,JOHN,,JR", "JOHN", None, "PUBLIC", Some("JR")),
        (
            "PUBLIC, JOHN QUINCY",
            "JOHN",
            Some("QUINCY"),
            "PUBLIC",
            None,
        ),
        ("PUBLIC$JOHN$QUINCY", "JOHN", Some("QUINCY"), "PUBLIC", None),
        (
            "PUBLIC@JOHN@QUINCY@3RD",
            "JOHN",
            Some("QUINCY"),
            "PUBLIC",
            Some("3RD"),
        ),
        ("JOHN QUINCY PUBLIC", "JOHN", Some("QUINCY"), "PUBLIC", None),
        (
            "JOHN QUINCY PUBLIC JR",
            "JOHN",
            Some("QUINCY"),
            "PUBLIC",
            Some("JR"),
        ),
    ] {
        let c = parse(&v1.replace("DAAPUBLIC,JOHN,Q", &format!("DAA{daa}"))).unwrap();
        assert_eq!(
            (
                c.first_name.as_deref(),
                c.middle_name.as_deref(),
                c.last_name.as_deref(),
                c.suffix.as_deref()
            ),
            (Some(first), middle, Some(last), suffix),
            "{daa}"
        );
    }
}

#[test]
fn a_full_name_without_commas_is_read_first_to_last_and_named_ambiguous() {
    // IdParser's Pennsylvania card: `DAAJOHN ROBERT LEE SMITH` and no separate name elements.
    let c = card("idparser-pa-two-middle-names");
    assert_eq!(c.last_name.as_deref(), Some("SMITH"));
    let problem = c
        .problems
        .iter()
        .find(|p| p.code == "ambiguous_name_order")
        .expect("the ambiguity is named");
    assert_eq!(problem.field, "last_name");
    assert!(
        problem.message.contains("JOHN ROBERT LEE SMITH"),
        "{}",
        problem.message
    );

    // Every delimited form is the standard's `LAST,FIRST,MIDDLE`: nothing to flag.
    for id in [
        "idparser-ct",
        "idparser-mo",
        "idparser-or",
        "idparser-la",
        "idparser-dc",
        "benhovinga-v1",
    ] {
        assert!(
            card(id)
                .problems
                .iter()
                .all(|p| p.code != "ambiguous_name_order"),
            "{id}"
        );
    }
}

#[test]
fn a_separate_family_name_settles_a_full_name_without_commas() {
    // The benhovinga v01 card with its DAA rewritten without commas, and the family name given on its
    // own in DAB (v01's separate last-name element).
    let v1 = payload("benhovinga-v1");
    for (daa, first, middle) in [
        ("PUBLIC JOHN QUINCY", "JOHN", Some("QUINCY")),
        ("JOHN QUINCY PUBLIC", "JOHN", Some("QUINCY")),
        ("PUBLIC JOHN", "JOHN", None),
    ] {
        let c = parse(&v1.replace("DAAPUBLIC,JOHN,Q", &format!("DAA{daa}\nDABPUBLIC"))).unwrap();
        assert_eq!(
            (
                c.first_name.as_deref(),
                c.middle_name.as_deref(),
                c.last_name.as_deref()
            ),
            (Some(first), middle, Some("PUBLIC")),
            "{daa}"
        );
        assert!(c.problems.is_empty(), "{daa}: {:?}", c.problems);
    }
    // Without DAB, `LAST FIRST` cannot be told from `FIRST LAST`: read first … last, and flagged.
    let c = parse(&v1.replace("DAAPUBLIC,JOHN,Q", "DAAPUBLIC JOHN")).unwrap();
    assert_eq!(
        (c.first_name.as_deref(), c.last_name.as_deref()),
        (Some("PUBLIC"), Some("JOHN"))
    );
    assert_eq!(
        c.problems.iter().map(|p| p.code).collect::<Vec<_>>(),
        ["ambiguous_name_order"]
    );
}
