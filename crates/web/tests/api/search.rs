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
    async fn short_names_do_not_match_by_typo(app) {
        seed(&app).await;
        assert!(names(&app, "jame").await.iter().all(|n| n.starts_with("James")));
        assert!(names(&app, "Jone").await.is_empty());
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
        let huge = "a".repeat(12_000);
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
