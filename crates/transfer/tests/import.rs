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
