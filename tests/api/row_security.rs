//! Row-level security: a tenant connection sees and changes only its own account's rows,
//! even through a query that names no account; without an account it sees nothing.

use crate::helpers::{database_url, spawn_app};
use crate::layers::{publish, EMPTY_ZIP};
use grantd::db::tenant::{self, TenantConn};
use grantd::tenancy::AccountId;
use serde_json::json;
use sqlx::postgres::PgConnectOptions;
use std::str::FromStr;

/// Every table with tenant rows that request handlers may touch.
const TENANT_TABLES: [&str; 14] = [
    "accounts",
    "directories",
    "layers",
    "layer_versions",
    "layer_version_contents",
    "layer_version_statements",
    "wd_users",
    "wd_tokens",
    "wd_groups",
    "wd_group_members",
    "wd_resources",
    "wd_grants",
    "wd_activities",
    "wd_outbox",
];

fn sql_state(e: sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => d.code().unwrap_or_default().into_owned(),
        other => panic!("expected a database error, got {other}"),
    }
}

#[tokio::test]
async fn a_tenant_connection_sees_only_its_own_rows_even_without_an_account_filter() {
    let app = spawn_app().await;
    let other = app.create_account(None).await;
    use base64::Engine as _;
    let zip = base64::engine::general_purpose::STANDARD.encode(EMPTY_ZIP);
    for (account, name) in [(&app.account, "mine"), (&other, "theirs")] {
        publish(&app, account, name, json!({"Content": {"ZipFile": zip}})).await;
        app.wd_user(account, &format!("{name}-user")).await;
    }
    let options = PgConnectOptions::from_str(&database_url(&app.database_name)).unwrap();
    let pool = tenant::pool(options.clone(), 2, 1).await.unwrap();
    let me = AccountId::from_str(&app.account.account_id).unwrap();
    let mut conn = TenantConn::acquire(&pool, &me).await.unwrap();

    for table in TENANT_TABLES {
        // No WHERE clause: only row-level security keeps the other account out.
        let seen: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT DISTINCT account_id FROM {table} ORDER BY 1"
        ))
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        assert!(
            seen.iter().all(|a| a == &app.account.account_id),
            "{table} shows {seen:?}"
        );
    }
    let layers: Vec<String> = sqlx::query_scalar("SELECT layer_name FROM layers")
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    assert_eq!(layers, ["mine"]);

    // An unfiltered UPDATE and DELETE change only the tenant's own rows.
    let renamed = sqlx::query("UPDATE wd_users SET surname = 'Renamed'")
        .execute(&mut *conn)
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(renamed, 1);
    sqlx::query("DELETE FROM layer_version_statements")
        .execute(&mut *conn)
        .await
        .unwrap();
    let untouched: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM wd_users WHERE account_id = $1 AND surname <> 'Renamed'",
    )
    .bind(&other.account_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(untouched, 1, "the other tenant's user was not renamed");

    // Writing a row of another tenant is refused.
    let refused = sqlx::query(
        "INSERT INTO wd_groups (account_id, group_id, directory_id, name) VALUES ($1, 'g&d-x', 'd-x', 'spies')",
    )
    .bind(&other.account_id)
    .execute(&mut *conn)
    .await
    .unwrap_err();
    assert_eq!(sql_state(refused), "42501");
    let moved = sqlx::query("UPDATE layers SET account_id = $1")
        .bind(&other.account_id)
        .execute(&mut *conn)
        .await
        .unwrap_err();
    assert_eq!(sql_state(moved), "42501");

    // Sealed secrets are not readable by the tenant role at all.
    for table in ["access_keys", "master_key_check"] {
        let denied = sqlx::query(&format!("SELECT * FROM {table}"))
            .execute(&mut *conn)
            .await
            .unwrap_err();
        assert_eq!(sql_state(denied), "42501", "{table}");
    }
    drop(conn);

    // A tenant-role connection whose account was never set sees nothing.
    let mut bare = {
        use sqlx::{Connection as _, Executor as _};
        let mut bare = sqlx::PgConnection::connect_with(&options).await.unwrap();
        bare.execute(format!("SET ROLE {}", tenant::TENANT_ROLE).as_str())
            .await
            .unwrap();
        bare
    };
    for table in TENANT_TABLES {
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&mut bare)
            .await
            .unwrap();
        assert_eq!(n, 0, "{table} without an account");
    }
    let groups: i64 = sqlx::query_scalar("SELECT count(*) FROM wd_groups")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(groups, 0, "the refused insert left nothing");
}

#[tokio::test]
async fn a_pooled_connection_handed_to_another_tenant_sees_only_that_tenant() {
    let (app, other, pool) = crate::tenant_pool::two_tenants_on_one_connection().await;
    for (account, expected) in [
        (&app.account, "first"),
        (&other, "second"),
        (&app.account, "first"),
    ] {
        let id = AccountId::from_str(&account.account_id).unwrap();
        let mut conn = TenantConn::acquire(&pool, &id).await.unwrap();
        let names: Vec<String> = sqlx::query_scalar("SELECT username FROM wd_users")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
        assert_eq!(names, [expected]);
    }
}

/// What an operator's external database looks like: grantd's user is no superuser, only
/// allowed to create its database and the tenant role. grantd must start, take the role on
/// its request connections, and serve.
#[tokio::test]
async fn a_database_user_that_is_no_superuser_serves_under_row_level_security() {
    use crate::helpers::{drop_database, signed_request, TestAccount};
    use crate::process::{data_dir, Grantd};
    use sqlx::Connection as _;

    let role = format!("grantd_it_{}", uuid::Uuid::new_v4().simple());
    let database = format!("{role}_db");
    let admin_options = PgConnectOptions::from_str(&database_url("postgres")).unwrap();
    let mut admin = sqlx::PgConnection::connect_with(&admin_options)
        .await
        .unwrap();
    sqlx::query(&format!(
        "CREATE ROLE {role} LOGIN NOSUPERUSER CREATEDB CREATEROLE"
    ))
    .execute(&mut admin)
    .await
    .unwrap();
    let mut url = url::Url::parse(&database_url(&database)).unwrap();
    url.set_username(&role).unwrap();

    let dir = data_dir();
    let server = Grantd::serve(dir.path(), &[("DATABASE_URL", url.as_str())]).unwrap();
    let account = TestAccount::from_json(&server.started["DefaultAccount"]);
    let res = signed_request(&server.endpoint(), &account, "GET", "/2018-10-31/layers")
        .send()
        .await;
    assert_eq!(res.status(), 200);
    // Its request connections took the tenant role at connect (it would not have started
    // otherwise); the role came from the migration, granted to this user.
    let member: bool = sqlx::query_scalar("SELECT pg_has_role($1, 'grantd_tenant', 'MEMBER')")
        .bind(&role)
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert!(
        member,
        "the migration granted the tenant role to grantd's user"
    );
    let (status, _) = server.stop();
    assert!(status.success());
    drop_database(&database).await;
    let _ = sqlx::query(&format!("DROP ROLE {role}"))
        .execute(&mut admin)
        .await;
}
