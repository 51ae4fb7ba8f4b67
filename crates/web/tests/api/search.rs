use canopy_testkit::{TestApp, both_engines};
use serde_json::json;

async fn seed(app: &TestApp) {
    for (first, last, phone, email, id) in [
        (
            "Sarah",
            "Miller",
            "(303) 555-0142",
            "sarah.m@example.com",
            "S1234567",
        ),
        (
            "Sara",
            "Millerton",
            "720-555-0199",
            "sara.millerton@example.com",
            "T7654321",
        ),
        (
            "James",
            "Davis",
            "206.555.0101",
            "jdavis@example.org",
            "D0000001",
        ),
        (
            "Jane",
            "Smith",
            "+1 503 555 0177",
            "jane@smith.net",
            "WA9876543",
        ),
        (
            "Joan",
            "Blacksmith",
            "415-555-0123",
            "joan@example.com",
            "C555",
        ),
    ] {
        let res = app
            .post(
                "/api/v1/customers",
                json!({"first_name": first, "last_name": last, "phone": phone, "email": email,
                "id_document": {"number": id, "jurisdiction": "CO"}}),
            )
            .await;
        assert_eq!(res.status, 201, "{:?}", res.body);
    }
}

async fn names(app: &TestApp, q: &str) -> Vec<String> {
    let res = app
        .get(&format!("/api/v1/customers?q={}", urlencode(q)))
        .await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    res.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c["first_name"].as_str().unwrap(),
                c["last_name"].as_str().unwrap()
            )
        })
        .collect()
}

fn urlencode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

both_engines!(
    async fn a_phone_is_found_in_any_common_format(app) {
        seed(&app).await;
        for q in ["(303) 555-0142", "303.555.0142", "+13035550142", "3035550142", "0142", "5550142"] {
            assert_eq!(names(&app, q).await.first().map(String::as_str), Some("Sarah Miller"), "{q}");
        }
    }
);

both_engines!(
    async fn a_name_is_found_by_prefix_substring_and_with_one_typo(app) {
        seed(&app).await;
        assert_eq!(names(&app, "Miller").await, ["Sarah Miller", "Sara Millerton"]);
        assert_eq!(names(&app, "mill").await, ["Sarah Miller", "Sara Millerton"]);
        assert_eq!(names(&app, "iller").await, ["Sarah Miller", "Sara Millerton"]);
        // "sarah" is one edit from "Sara", so Sara Millerton matches too, after the exact name.
        assert_eq!(names(&app, "sarah mil").await, ["Sarah Miller", "Sara Millerton"]);
        assert_eq!(names(&app, "sarah jam").await, Vec::<String>::new());
        assert_eq!(names(&app, "Milller").await, ["Sarah Miller"]);
        assert_eq!(names(&app, "Dvais").await, ["James Davis"]);
        assert_eq!(names(&app, "smith").await, ["Jane Smith", "Joan Blacksmith"]);
    }
);

both_engines!(
    async fn three_letter_names_do_not_match_by_typo(app) {
        seed(&app).await;
        // Four letters allow one typo, ranked below the name they start.
        assert_eq!(names(&app, "jame").await, ["James Davis", "Jane Smith"]);
        // "Sra" is one letter from Sara, but in three letters that is too little to go on.
        assert!(names(&app, "Sra").await.is_empty());
    }
);

async fn add(app: &TestApp, first: &str, last: &str, phone: &str) {
    let res = app
        .post(
            "/api/v1/customers",
            json!({"first_name": first, "last_name": last, "phone": phone}),
        )
        .await;
    assert_eq!(res.status, 201, "{:?}", res.body);
}

both_engines!(
    async fn one_typo_in_a_four_letter_name_finds_it_below_the_exact_name(app) {
        add(&app, "Ann", "Reed", "303-555-0101").await;
        add(&app, "Bo", "Reid", "303-555-0102").await;
        add(&app, "John", "Carter", "303-555-0103").await;
        assert_eq!(names(&app, "Reid").await, ["Bo Reid", "Ann Reed"]);
        assert_eq!(names(&app, "Reed").await, ["Ann Reed", "Bo Reid"]);
        assert_eq!(names(&app, "Jonh").await, ["John Carter"]);
        assert_eq!(names(&app, "jonh carter").await, ["John Carter"]);
    }
);

both_engines!(
    async fn a_slip_in_one_word_widens_only_that_word(app) {
        add(&app, "Sofia", "Smith", "303-555-0121").await;
        add(&app, "Sophia", "Smith", "303-555-0122").await;
        add(&app, "Sofia", "Lane", "303-555-0123").await;
        // "sofia" is a name on file, typed as stored; the slip is "smiht", so only it looks for names one
        // typo away or sounding the same, and Sophia Smith is not offered for a first name never typed.
        assert_eq!(names(&app, "sofia smiht").await, ["Sofia Smith"]);
        assert_eq!(names(&app, "sophia smiht").await, ["Sophia Smith"]);
    }
);

both_engines!(
    async fn when_every_word_is_a_name_on_file_any_of_them_may_be_the_slip(app) {
        add(&app, "Ann", "Reed", "303-555-0131").await;
        add(&app, "Bo", "Reid", "303-555-0132").await;
        // "ann" is too short to be widened and "reid" is on file (Bo Reid), yet no Ann Reid exists: "reid"
        // is the slip for Reed.
        assert_eq!(names(&app, "ann reid").await, ["Ann Reed"]);
    }
);

both_engines!(
    async fn a_name_spelt_as_it_sounds_finds_the_customer_after_exact_matches(app) {
        add(&app, "Sophia", "Lane", "303-555-0111").await;
        add(&app, "Sofia", "Lane", "303-555-0112").await;
        add(&app, "Katherine", "Moss", "303-555-0113").await;
        add(&app, "Maria", "Lane", "303-555-0114").await;
        assert_eq!(names(&app, "sofia").await, ["Sofia Lane", "Sophia Lane"]);
        assert_eq!(names(&app, "sofia lane").await, ["Sofia Lane", "Sophia Lane"]);
        assert_eq!(names(&app, "Catherine").await, ["Katherine Moss"]);
        assert_eq!(names(&app, "catherine moss").await, ["Katherine Moss"]);
    }
);

both_engines!(
    async fn the_start_of_an_id_number_finds_the_customer(app) {
        seed(&app).await;
        assert_eq!(names(&app, "WA987").await, ["Jane Smith"]);
        assert_eq!(names(&app, "s123").await.first().map(String::as_str), Some("Sarah Miller"));
    }
);

both_engines!(
    async fn an_area_code_with_a_name_keeps_customers_with_that_area_code(app) {
        seed(&app).await;
        assert_eq!(names(&app, "303 miller").await, ["Sarah Miller"]);
        assert_eq!(names(&app, "720 mill").await, ["Sara Millerton"]);
        assert!(names(&app, "206 miller").await.is_empty());
    }
);

both_engines!(
    async fn search_results_page_with_offset_and_say_whether_more_follow(app) {
        for i in 0..7 {
            add(&app, &format!("Pat{}", ["a", "b", "c", "d", "e", "f", "g"][i]), "Quinn",
                &format!("303-555-02{i:02}")).await;
        }
        let page = |offset: u32| {
            let app = &app;
            async move {
                let res = app.get(&format!("/api/v1/customers?q=quinn&limit=3&offset={offset}")).await;
                assert_eq!(res.status, 200, "{:?}", res.body);
                let firsts: Vec<String> = res.body["items"].as_array().unwrap().iter()
                    .map(|c| c["first_name"].as_str().unwrap().to_string()).collect();
                (firsts, res.body["has_more"].as_bool().unwrap())
            }
        };
        assert_eq!(page(0).await, (vec!["Pata".into(), "Patb".into(), "Patc".into()], true));
        assert_eq!(page(3).await, (vec!["Patd".into(), "Pate".into(), "Patf".into()], true));
        assert_eq!(page(6).await, (vec!["Patg".to_string()], false));
        let res = app.get("/api/v1/customers?q=quinn&limit=200&offset=900").await;
        assert_eq!(res.status, 400);
        assert_eq!(res.error_code(), "invalid_offset");
        assert_eq!(app.get("/api/v1/customers?offset=3").await.error_code(), "invalid_offset");
    }
);

both_engines!(
    async fn an_email_is_found_by_prefix_whatever_its_case(app) {
        seed(&app).await;
        assert_eq!(names(&app, "SARAH.M@example.com").await, ["Sarah Miller"]);
        assert_eq!(names(&app, "jdav").await, ["James Davis"]);
    }
);

both_engines!(
    async fn an_id_number_is_found_exactly_and_ranks_first(app) {
        seed(&app).await;
        assert_eq!(names(&app, "s-1234567").await, ["Sarah Miller"]);
        assert_eq!(names(&app, "C555").await.first().map(String::as_str), Some("Joan Blacksmith"));
    }
);

both_engines!(
    async fn the_limit_caps_results_and_nonsense_finds_nothing(app) {
        seed(&app).await;
        let res = app.get("/api/v1/customers?q=a&limit=1").await;
        assert!(res.body["items"].as_array().unwrap().len() <= 1);
        assert!(names(&app, "zzzqqq").await.is_empty());
        assert!(names(&app, "%_").await.is_empty());
    }
);

both_engines!(
    async fn a_huge_query_is_refused_at_once_and_the_server_stays_responsive(app) {
        seed(&app).await;
        // Past the URL limit the request never reaches search; below it the query limit answers.
        let res = app.get(&format!("/api/v1/customers?q={}", "a".repeat(12_000))).await;
        assert_eq!(res.status, 414, "{:?}", res.body);
        let huge = "a".repeat(4_000);
        let res = app.get(&format!("/api/v1/customers?q={huge}")).await;
        assert_eq!(res.status, 400, "{:?}", res.body);
        assert_eq!(res.error_code(), "query_too_long");
        assert_eq!(res.body["error"]["field"], "q", "{:?}", res.body);
        let res = app.get("/api/v1/customers?q=a+b+c+d+e+f+g").await;
        assert_eq!(res.error_code(), "query_too_many_words");

        // The largest queries accepted (one long word, six long words) answer, and several at once leave
        // the health check answering: no query's work grows past what the limits allow.
        let one_word = "q".repeat(199);
        let six_words = vec!["smithsonianx".repeat(2); 6].join(" ");
        let anonymous = app.anonymous();
        let work = futures::future::join_all((0..8).map(|i| {
            let q = if i % 2 == 0 { one_word.clone() } else { six_words.clone() };
            let app = &app;
            async move { app.get(&format!("/api/v1/customers?q={}", urlencode(&q))).await }
        }));
        let health = async {
            let res = anonymous.get("/healthz").await;
            assert_eq!(res.status, 200);
        };
        let within = std::time::Duration::from_secs(10);
        let (answers, ()) = tokio::time::timeout(within, futures::future::join(work, health))
            .await
            .expect("lookups and the health check answer");
        for res in answers {
            assert_eq!(res.status, 200, "{:?}", res.body);
            assert!(res.body["items"].as_array().unwrap().is_empty());
        }
    }
);
