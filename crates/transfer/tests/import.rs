//! Customer CSV import and export on both engines.

use canopy_domain::{Actor, ConsentChannel, ConsentPurpose, ConsentSource, ConsentStatus, Region};
use canopy_store::Store;
use canopy_testkit::both_stores;
use canopy_transfer::{ImportOptions, ImportReport, RowOutcome, import_customers};
use jiff::Timestamp;

fn options() -> ImportOptions {
    ImportOptions::new(Region::US, jiff::civil::date(2026, 11, 23))
}

async fn import(store: &Store, csv: &str, options: &ImportOptions) -> ImportReport {
    import_customers(
        store,
        csv.as_bytes(),
        options,
        &Actor::system("test import"),
        Timestamp::now(),
    )
    .await
    .unwrap()
}

const FROM_OTHER_POS: &str = "\
First Name,Last Name,Mobile,E-mail Address,DOB,Customer Type,Notes,SMS Opt In,Favourite Strain
Sarah,Miller,(303) 555-0142,Sarah.Miller@Example.com,02/11/1998,Rec,Prefers edibles,yes,Blue Dream
James,Nguyen,720.555.0199,,1985-07-30,Medical,,no,
Maria,Garcia,,maria@example.org,,,,,
";

both_stores!(
    async fn an_import_creates_everyone_and_a_second_run_changes_nothing(store) {
        let first = import(&store, FROM_OTHER_POS, &options()).await;

        assert!(first.written, "{:?}", first.rows);
        assert_eq!((first.summary.created, first.summary.errors), (3, 0));
        assert_eq!(first.unmapped_columns, vec!["Favourite Strain"]);
        assert_eq!(store.count_customers().await.unwrap(), 3);
        let sarah = store.search_customers("3035550142", 1).await.unwrap().remove(0);
        assert_eq!(sarah.details.email.as_ref().unwrap().as_str(), "Sarah.Miller@Example.com");
        assert_eq!(sarah.details.date_of_birth.unwrap().to_string(), "1998-02-11");
        assert_eq!(sarah.details.created_channel.as_str(), "import");
        assert_eq!(store.notes(sarah.id).await.unwrap()[0].body, "Prefers edibles");
        let consent = store.consent_entries(sarah.id).await.unwrap();
        assert_eq!(consent.len(), 1);
        assert_eq!(consent[0].change.source, ConsentSource::Import);
        assert_eq!((consent[0].change.channel, consent[0].change.purpose), (ConsentChannel::Sms, ConsentPurpose::Marketing));
        assert_eq!(consent[0].change.status, ConsentStatus::Granted);

        let second = import(&store, FROM_OTHER_POS, &options()).await;

        assert!(!second.written);
        assert_eq!((second.summary.unchanged, second.summary.created, second.summary.updated), (3, 0, 0));
        assert_eq!(store.count_customers().await.unwrap(), 3);
        assert_eq!(store.notes(sarah.id).await.unwrap().len(), 1);
        assert_eq!(store.consent_entries(sarah.id).await.unwrap().len(), 1);
    }
);

both_stores!(
    async fn one_bad_row_is_reported_with_its_line_and_nothing_is_written(store) {
        let csv = "first,last,phone,email,dob\n\
                   Sarah,Miller,303-555-0142,,\n\
                   Bad,Phone,555,,\n\
                   Bad,Email,,not-an-email,\n\
                   ,Noname,,,\n\
                   Future,Born,,,2099-01-01\n";

        let report = import(&store, csv, &options()).await;

        assert!(!report.written);
        assert_eq!(report.summary.errors, 4);
        let errors: Vec<(u64, Option<String>)> = report
            .errors()
            .map(|r| match &r.outcome {
                RowOutcome::Error { column, .. } => (r.line, column.clone()),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(
            errors,
            vec![(3, Some("phone".into())), (4, Some("email".into())), (5, Some("first".into())), (6, Some("dob".into()))]
        );
        assert_eq!(store.count_customers().await.unwrap(), 0, "the valid row was not written either");
    }
);

both_stores!(
    async fn a_dry_run_reports_each_row_and_writes_nothing(store) {
        let mut dry = options();
        dry.dry_run = true;

        let report = import(&store, FROM_OTHER_POS, &dry).await;

        assert!(!report.written);
        let actions: Vec<(u64, &str)> = report
            .rows
            .iter()
            .map(|r| (r.line, match r.outcome { RowOutcome::Create { .. } => "create", _ => "other" }))
            .collect();
        assert_eq!(actions, vec![(2, "create"), (3, "create"), (4, "create")]);
        assert_eq!(store.count_customers().await.unwrap(), 0);
    }
);

both_stores!(
    async fn a_row_matching_an_existing_customer_updates_only_what_changed(store) {
        import(&store, FROM_OTHER_POS, &options()).await;
        // Same person, phone spelled differently, a new email and a new note; the blank DOB keeps the old one.
        let csv = "first,last,phone,email,dob,notes\nSarah,Miller,+1 303 555 0142,sarah@new.example.com,,Moved to Boulder\n";

        let report = import(&store, csv, &options()).await;

        assert!(report.written);
        match &report.rows[0].outcome {
            RowOutcome::Update { changes, .. } => assert_eq!(changes, &vec!["email".to_string(), "notes".to_string()]),
            other => panic!("expected an update, got {other:?}"),
        }
        assert_eq!(store.count_customers().await.unwrap(), 3);
        let sarah = store.search_customers("3035550142", 1).await.unwrap().remove(0);
        assert_eq!(sarah.details.email.unwrap().as_str(), "sarah@new.example.com");
        assert_eq!(sarah.details.date_of_birth.unwrap().to_string(), "1998-02-11");
        assert_eq!(store.notes(sarah.id).await.unwrap().len(), 2);
    }
);

both_stores!(
    async fn rows_that_point_at_two_customers_or_repeat_a_phone_are_errors(store) {
        import(&store, FROM_OTHER_POS, &options()).await;
        let csv = "first,last,phone,email\n\
                   Sarah,Miller,303-555-0142,maria@example.org\n\
                   Dana,Lee,303-555-0177,\n\
                   Dana,Lee,(303) 555-0177,\n";

        let report = import(&store, csv, &options()).await;

        let codes: Vec<(u64, String)> = report
            .errors()
            .map(|r| match &r.outcome {
                RowOutcome::Error { code, .. } => (r.line, code.clone()),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(codes, vec![(2, "ambiguous_match".into()), (4, "duplicate_in_file".into())]);
        assert_eq!(store.count_customers().await.unwrap(), 3);
    }
);

both_stores!(
    async fn an_export_reimports_as_unchanged_and_guards_against_formulas(store) {
        import(&store, FROM_OTHER_POS, &options()).await;
        let csv = "first,last,email\n=HYPERLINK(\"http://x\"),Formula,f@example.com\n";
        import(&store, csv, &options()).await;
        let mut out = Vec::new();

        let n = canopy_transfer::export_customers(&store, &mut out).await.unwrap();

        let text = String::from_utf8(out).unwrap();
        assert_eq!(n, 4);
        assert!(text.contains("'+13035550142"), "{text}");
        assert!(text.contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "{text}");
        let again = import(&store, &text, &options()).await;
        assert_eq!((again.summary.unchanged, again.summary.errors), (4, 0), "{:?}", again.rows);
        assert!(!again.written);
    }
);

both_stores!(
    async fn rows_without_phone_email_or_id_are_matched_by_name_and_birth_date(store) {
        let csv = "name,dob\nAlex Kim,1990-01-01\nJo Park,\n";
        import(&store, csv, &options()).await;

        let again = import(&store, csv, &options()).await;

        assert_eq!(again.summary.unchanged, 2, "{:?}", again.rows);
        assert_eq!(store.count_customers().await.unwrap(), 2);
    }
);

both_stores!(
    async fn mapping_overrides_choose_between_columns(store) {
        let csv = "first,last,Home Phone,Cell\nSarah,Miller,303-555-0100,303-555-0142\n";
        let mut opts = options();
        opts.map = vec!["Home Phone=ignore".into(), "Cell=phone".into()];

        let report = import(&store, csv, &opts).await;

        assert!(report.written, "{:?}", report.rows);
        assert_eq!(store.search_customers("3035550142", 1).await.unwrap().len(), 1);
    }
);

/// What a customer holds after an import: loyalty balance, ledger entries and group names.
async fn loyalty_and_groups(
    store: &Store,
    phone: &str,
) -> (i64, Vec<(i64, Option<String>)>, Vec<String>) {
    let customer = store.search_customers(phone, 1).await.unwrap().remove(0);
    let balance = store
        .loyalty_balance(
            customer.id,
            jiff::SignedDuration::from_hours(24 * 30),
            Timestamp::now(),
        )
        .await
        .unwrap()
        .balance;
    let entries = store
        .loyalty_history(customer.id, None, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.points, e.reason))
        .collect();
    let groups = store
        .customer_groups(customer.id)
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.name)
        .collect();
    (balance, entries, groups)
}

async fn group_names(store: &Store) -> Vec<String> {
    store
        .list_groups()
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.name)
        .collect()
}

fn from_legacy_pos() -> ImportOptions {
    let mut options = options();
    options.source = "legacy-pos.csv".into();
    options
}

const WITH_POINTS_AND_GROUPS: &str = "\
first,last,phone,points,groups
Sarah,Miller,303-555-0142,\"1,250\",vip; Medical Patients
James,Nguyen,720-555-0199,0,VIP
Maria,Garcia,303-555-0177,,
";

both_stores!(
    async fn points_become_one_opening_balance_and_groups_become_memberships_once(store) {
        let vip = canopy_store::GroupDraft { name: "VIP".into(), description: None, discounts: vec![] };
        store.create_group(vip, &Actor::system("test"), Timestamp::now()).await.unwrap();

        let first = import(&store, WITH_POINTS_AND_GROUPS, &from_legacy_pos()).await;

        assert!(first.written, "{:?}", first.rows);
        assert_eq!(first.summary.created, 3);
        assert_eq!((first.summary.opening_balances, first.summary.groups_created, first.summary.memberships), (1, 1, 3));
        assert_eq!(first.new_groups, vec!["Medical Patients"]);
        assert!(first.warnings.is_empty(), "{:?}", first.warnings);
        assert_eq!(
            loyalty_and_groups(&store, "3035550142").await,
            (1250, vec![(1250, Some("Opening balance imported from legacy-pos.csv".into()))], vec!["Medical Patients".into(), "VIP".into()])
        );
        assert_eq!(loyalty_and_groups(&store, "7205550199").await, (0, vec![], vec!["VIP".into()]), "0 points writes no entry");
        assert_eq!(loyalty_and_groups(&store, "3035550177").await, (0, vec![], vec![]));
        assert_eq!(group_names(&store).await, vec!["Medical Patients", "VIP"], "'vip' matched the existing VIP");
        let verify = store.verify_loyalty().await.unwrap();
        assert_eq!((verify.entries, verify.lots, verify.differences.len()), (1, 1, 0));

        let second = import(&store, WITH_POINTS_AND_GROUPS, &from_legacy_pos()).await;

        assert!(!second.written);
        assert_eq!((second.summary.unchanged, second.summary.created, second.summary.updated), (3, 0, 0), "{:?}", second.rows);
        assert_eq!((second.summary.opening_balances, second.summary.groups_created, second.summary.memberships), (0, 0, 0));
        assert_eq!(loyalty_and_groups(&store, "3035550142").await.1.len(), 1, "still one ledger entry");
        assert_eq!(group_names(&store).await, vec!["Medical Patients", "VIP"]);
        let verify = store.verify_loyalty().await.unwrap();
        assert_eq!((verify.entries, verify.differences.len()), (1, 0));
    }
);

both_stores!(
    async fn a_customer_gets_an_opening_balance_once_whatever_later_files_say(store) {
        import(&store, "first,last,phone\nSarah,Miller,303-555-0142\n", &options()).await;

        let with_points = import(&store, "first,last,phone,points\nSarah,Miller,303-555-0142,300\n", &options()).await;
        let more_points = import(&store, "first,last,phone,points,groups\nSarah,Miller,303-555-0142,500,Staff\n", &options()).await;

        let changes = |report: &ImportReport| match &report.rows[0].outcome {
            RowOutcome::Update { changes, .. } => changes.clone(),
            other => panic!("expected an update, got {other:?}"),
        };
        assert_eq!(changes(&with_points), vec!["loyalty_points"]);
        assert_eq!(changes(&more_points), vec!["groups"], "the second balance is not written, so not reported");
        assert_eq!(
            loyalty_and_groups(&store, "3035550142").await,
            (300, vec![(300, Some("Opening balance imported from previous system".into()))], vec!["Staff".into()])
        );
        assert!(store.verify_loyalty().await.unwrap().differences.is_empty());
    }
);

both_stores!(
    async fn a_dry_run_with_points_and_groups_reports_them_and_writes_nothing(store) {
        let mut dry = from_legacy_pos();
        dry.dry_run = true;

        let report = import(&store, WITH_POINTS_AND_GROUPS, &dry).await;

        assert!(!report.written);
        assert_eq!((report.summary.created, report.summary.opening_balances, report.summary.groups_created, report.summary.memberships), (3, 1, 2, 3));
        assert_eq!(report.new_groups, vec!["vip", "Medical Patients"]);
        assert_eq!(store.count_customers().await.unwrap(), 0);
        assert!(group_names(&store).await.is_empty());
        assert_eq!(store.verify_loyalty().await.unwrap().entries, 0);
    }
);

both_stores!(
    async fn a_negative_balance_is_a_row_error_and_nothing_at_all_is_written(store) {
        let csv = "first,last,phone,points,groups\n\
                   Sarah,Miller,303-555-0142,1250,VIP\n\
                   James,Nguyen,720-555-0199,-40,VIP\n";

        let report = import(&store, csv, &from_legacy_pos()).await;

        assert!(!report.written);
        let errors: Vec<(u64, Option<String>, String)> = report
            .errors()
            .map(|r| match &r.outcome {
                RowOutcome::Error { column, code, .. } => (r.line, column.clone(), code.clone()),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(errors, vec![(3, Some("points".into()), "invalid_points".into())]);
        match &report.errors().next().unwrap().outcome {
            RowOutcome::Error { message, .. } => assert_eq!(message, "'-40' is negative: an opening balance is 0 points or more"),
            _ => unreachable!(),
        }
        assert_eq!(store.count_customers().await.unwrap(), 0);
        assert!(group_names(&store).await.is_empty());
        let verify = store.verify_loyalty().await.unwrap();
        assert_eq!((verify.customers, verify.entries), (0, 0));
    }
);
