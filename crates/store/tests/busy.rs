//! A write lock held by another process is "busy", a retryable condition, never a plain database error.

use std::time::Duration;

use canopy_store::StoreError;
use canopy_testkit::{Engine, TestDb};
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

#[tokio::test]
async fn a_write_lock_held_elsewhere_past_the_timeout_is_busy() {
    let db = TestDb::create(Engine::Sqlite).await;
    db.open().await.close().await;
    let options = SqliteConnectOptions::new()
        .filename(&db.url)
        .busy_timeout(Duration::ZERO);
    let mut holder = SqliteConnection::connect_with(&options).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut holder)
        .await
        .unwrap();

    let mut other = SqliteConnection::connect_with(&options).await.unwrap();
    let err = sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .expect_err("the lock is held");
    assert!(matches!(StoreError::from(err), StoreError::Busy(_)));
}

#[tokio::test]
async fn a_store_write_waits_for_another_connection_to_commit() {
    let db = TestDb::create(Engine::Sqlite).await;
    let store = db.open().await;
    let options = SqliteConnectOptions::new().filename(&db.url);
    let mut holder = SqliteConnection::connect_with(&options).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut holder)
        .await
        .unwrap();
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        sqlx::query("COMMIT").execute(&mut holder).await.unwrap();
    });
    let key =
        canopy_testkit::create_key(&store, "while locked", canopy_domain::PermissionSet::all())
            .await;
    assert!(!key.is_empty());
    release.await.unwrap();
}
