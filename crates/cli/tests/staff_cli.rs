//! `canopy user …` and `canopy apikey …` against a fresh SQLite database: the bootstrap path a newcomer
//! follows (first admin, a key, revoking it) and the audit trail it leaves.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn canopy(db: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_canopy"))
        .args(args)
        .args(["--db", db])
        .env_remove("CANOPY_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run canopy");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().expect("canopy output")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn the_first_admin_and_a_key_are_created_from_the_shell_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("canopy.db").to_string_lossy().into_owned();

    let short = canopy(
        &db,
        &["user", "add", "--username", "Dana", "--role", "admin"],
        "short\n",
    );
    assert!(!short.status.success());
    assert!(text(&short.stderr).contains("at least 12 characters"));

    let added = canopy(
        &db,
        &[
            "user",
            "add",
            "--username",
            "Dana",
            "--role",
            "admin",
            "--store",
            "denver-1",
        ],
        "first admin password\n",
    );
    assert!(added.status.success(), "{}", text(&added.stderr));
    let list = canopy(&db, &["user", "list"], "");
    assert!(text(&list.stdout).contains("dana") && text(&list.stdout).contains("admin"));

    let last = canopy(&db, &["user", "disable", "--username", "dana"], "");
    assert!(!last.status.success(), "the last admin stays");

    let key = canopy(
        &db,
        &[
            "apikey",
            "create",
            "--name",
            "Online store",
            "--scopes",
            "customers:read,orders:write",
        ],
        "",
    );
    assert!(key.status.success(), "{}", text(&key.stderr));
    let secret = text(&key.stdout).trim().to_string();
    assert!(secret.starts_with("cnpy_"), "{secret}");
    let listed = text(&canopy(&db, &["apikey", "list"], "").stdout);
    assert!(listed.contains("Online store") && !listed.contains(&secret));
    let id = listed.split_whitespace().next().unwrap().to_string();
    let revoked = canopy(&db, &["apikey", "revoke", &id], "");
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));

    let store = canopy_store::Store::open(&db).await.unwrap();
    let (user, _) = store
        .staff_credentials(&canopy_domain::Username::parse("dana").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.stores, ["denver-1"]);
    let key = store.list_api_keys().await.unwrap().remove(0);
    assert!(key.revoked_at.is_some());
    let audit = store
        .audit_entries(&canopy_store::AuditFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["api_key.revoke", "api_key.create", "staff.create"]
    );
    assert!(audit.iter().all(|e| e.actor_label.starts_with("cli:")));
}
