//! The two migration sets must build the same schema: tables, columns with their types, nullability and
//! defaults, primary keys, indexes and unique constraints, and the triggers that keep ledgers append-only.

use std::collections::BTreeSet;

use canopy_testkit::{Engine, TestDb};

#[tokio::test]
async fn sqlite_and_postgres_migrations_build_the_same_schema() {
    let (sqlite_db, pg_db) = (
        TestDb::create(Engine::Sqlite).await,
        TestDb::create(Engine::Postgres).await,
    );
    let sqlite = sqlite_db.open().await.describe_schema().await.unwrap();
    let pg = pg_db.open().await.describe_schema().await.unwrap();
    assert!(
        sqlite.columns.len() > 100,
        "{} columns",
        sqlite.columns.len()
    );
    assert!(
        sqlite.triggers.contains("refuses update on audit_log"),
        "{:?}",
        sqlite.triggers
    );
    assert!(
        sqlite
            .triggers
            .contains("refuses delete on loyalty_entries")
    );
    let diff = |what: &str, a: &BTreeSet<String>, b: &BTreeSet<String>| {
        let only_sqlite: Vec<_> = a.difference(b).collect();
        let only_pg: Vec<_> = b.difference(a).collect();
        if only_sqlite.is_empty() && only_pg.is_empty() {
            String::new()
        } else {
            format!(
                "{what}\n  only in SQLite: {only_sqlite:#?}\n  only in PostgreSQL: {only_pg:#?}\n"
            )
        }
    };
    let report = [
        diff("columns", &sqlite.columns, &pg.columns),
        diff("keys and indexes", &sqlite.indexes, &pg.indexes),
        diff("append-only triggers", &sqlite.triggers, &pg.triggers),
    ]
    .concat();
    assert!(report.is_empty(), "the migration sets differ:\n{report}");
}
