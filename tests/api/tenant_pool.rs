//! The tenant pool gives connections back without a round trip, so what a dropped request
//! leaves on its connection must still be dealt with: an open transaction's locks, and a
//! statement still running when the next tenant gets the connection.

use crate::helpers::{database_url, spawn_app, TestAccount, TestApp};
use grantd::db::tenant::{self, TenantConn, TenantPool};
use grantd::tenancy::AccountId;
use sqlx::postgres::PgConnectOptions;
use std::str::FromStr;
use std::time::{Duration, Instant};

fn account(id: &str) -> AccountId {
    AccountId::from_str(id).unwrap()
}

/// An app with two tenants, a user "first" in its own account and "second" in the other,
/// and a tenant pool of one connection, so the second tenant gets the very connection the
/// first one used.
pub(crate) async fn two_tenants_on_one_connection() -> (TestApp, TestAccount, TenantPool) {
    let app = spawn_app().await;
    let other = app.create_account(None).await;
    app.wd_user(&app.account, "first").await;
    app.wd_user(&other, "second").await;
    let options = PgConnectOptions::from_str(&database_url(&app.database_name)).unwrap();
    let pool = tenant::pool(options, 1, 1).await.unwrap();
    (app, other, pool)
}

#[tokio::test]
async fn a_transaction_dropped_open_releases_its_locks_without_the_connection_being_reused() {
    let app = spawn_app().await;
    app.wd_user(&app.account, "locked").await;
    let options = PgConnectOptions::from_str(&database_url(&app.database_name)).unwrap();
    let pool = tenant::pool(options, 1, 1).await.unwrap();
    let me = account(&app.account.account_id);

    let mut conn = TenantConn::acquire(&pool, &me).await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("UPDATE wd_users SET given_name = 'uncommitted' WHERE username = 'locked'")
        .execute(&mut *tx)
        .await
        .unwrap();
    // What a cancelled request leaves: the transaction and the connection dropped, no
    // COMMIT or ROLLBACK awaited.
    drop(tx);
    drop(conn);

    // Nobody uses the pool again, yet the row is free for another session within moments.
    let started = Instant::now();
    let mut other = app.pool.begin().await.unwrap();
    sqlx::query("SET LOCAL lock_timeout = '5s'")
        .execute(&mut *other)
        .await
        .unwrap();
    let given: String =
        sqlx::query_scalar("SELECT given_name FROM wd_users WHERE username = 'locked' FOR UPDATE")
            .fetch_one(&mut *other)
            .await
            .expect("the dropped transaction's lock was released");
    assert_ne!(
        given, "uncommitted",
        "the dropped transaction was rolled back"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    other.rollback().await.unwrap();

    // And the connection went back to the pool, usable.
    let mut again = tokio::time::timeout(Duration::from_secs(5), TenantConn::acquire(&pool, &me))
        .await
        .expect("the only connection came back to the pool")
        .unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM wd_users WHERE username = 'locked'")
        .fetch_one(&mut *again)
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(pool.status().open, 1, "the same connection, not a new one");
}

#[tokio::test]
async fn a_statement_cancelled_mid_flight_never_answers_the_next_tenant() {
    let (app, other, pool) = two_tenants_on_one_connection().await;

    let mut conn = TenantConn::acquire(&pool, &account(&app.account.account_id))
        .await
        .unwrap();
    // The first tenant's query is still running on the server when its request is dropped.
    let cancelled = tokio::time::timeout(
        Duration::from_millis(200),
        sqlx::query_scalar::<_, String>("SELECT username FROM wd_users, pg_sleep(1)")
            .fetch_all(&mut *conn),
    )
    .await;
    assert!(cancelled.is_err(), "the query was still running");
    drop(conn);

    let mut next = TenantConn::acquire(&pool, &account(&other.account_id))
        .await
        .unwrap();
    let names: Vec<String> = sqlx::query_scalar("SELECT username FROM wd_users")
        .fetch_all(&mut *next)
        .await
        .unwrap();
    assert_eq!(
        names,
        ["second"],
        "only the next tenant's rows, and none of the old answer"
    );
    let account_id: String = sqlx::query_scalar("SELECT current_setting('grantd.account_id')")
        .fetch_one(&mut *next)
        .await
        .unwrap();
    assert_eq!(account_id, other.account_id);
}

#[tokio::test]
async fn the_pool_size_is_shared_out_over_the_shards_and_never_exceeded() {
    let app = spawn_app().await;
    let options = PgConnectOptions::from_str(&database_url(&app.database_name)).unwrap();
    for (size, shards) in [(16, 3), (5, 2), (1, 4)] {
        let pool = tenant::pool(options.clone(), size, shards).await.unwrap();
        assert_eq!(pool.status().max, size as usize, "{size} over {shards}");
    }
    // One connection in all: a second checkout on the same thread waits for the first.
    let pool = tenant::pool(options, 1, 4).await.unwrap();
    let me = account(&app.account.account_id);
    let held = TenantConn::acquire(&pool, &me).await.unwrap();
    let waiting = tokio::time::timeout(Duration::from_millis(300), TenantConn::acquire(&pool, &me));
    assert!(waiting.await.is_err(), "no second connection was opened");
    drop(held);
    TenantConn::acquire(&pool, &me).await.unwrap();
    assert_eq!(pool.status().open, 1);
}
