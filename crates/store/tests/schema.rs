//! The two migration sets must describe the same tables and columns.

use canopy_testkit::{Engine, TestDb};

#[tokio::test]
async fn sqlite_and_postgres_schemas_have_the_same_tables_and_columns() {
    let sqlite = TestDb::create(Engine::Sqlite).await.unwrap().open().await;
    let Some(pg) = TestDb::create(Engine::Postgres).await else {
        return;
    };
    let pg = pg.open().await;
    let sqlite_columns = sqlite.schema_columns().await.unwrap();
    let pg_columns = pg.schema_columns().await.unwrap();
    assert!(!sqlite_columns.is_empty());
    assert_eq!(sqlite_columns, pg_columns);
}
