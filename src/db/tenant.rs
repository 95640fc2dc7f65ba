//! Connections scoped to one tenant. They run as the role `grantd_tenant`, to which
//! row-level security (migration `20261201000001_row_level_security.sql`) shows only the
//! rows of the account in `grantd.account_id`. Every request handler touches tenant data
//! through a [`TenantConn`], so a query that forgets its `account_id` filter still cannot
//! read or change another tenant's rows.

use crate::tenancy::AccountId;
use sqlx::pool::PoolConnection;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Executor, PgConnection, PgPool, Postgres};
use std::ops::{Deref, DerefMut};

/// The role tenant connections take; the migration creates it.
pub const TENANT_ROLE: &str = "grantd_tenant";

/// A pool whose connections have all taken the tenant role. Opened after the migrations
/// (which create the role), so a missing role fails the start, not each request.
pub async fn pool(options: PgConnectOptions, size: u32) -> anyhow::Result<PgPool> {
    let pool_options = super::pool_options(size).after_connect(|conn, _meta| {
        Box::pin(async move {
            conn.execute(format!("SET ROLE {TENANT_ROLE}").as_str())
                .await?;
            Ok(())
        })
    });
    super::connect(pool_options, options).await
}

/// A pooled connection that sees only `account`'s rows until it goes back to the pool;
/// the next [`TenantConn::acquire`] sets the account anew before anything else runs.
pub struct TenantConn(PoolConnection<Postgres>);

impl TenantConn {
    pub async fn acquire(pool: &PgPool, account: &AccountId) -> Result<TenantConn, sqlx::Error> {
        let mut conn = pool.acquire().await?;
        sqlx::query("SELECT set_config('grantd.account_id', $1, false)")
            .bind(account.as_str())
            .execute(&mut *conn)
            .await?;
        Ok(TenantConn(conn))
    }

    pub async fn begin(&mut self) -> Result<sqlx::Transaction<'_, Postgres>, sqlx::Error> {
        sqlx::Connection::begin(&mut *self.0).await
    }
}

impl Deref for TenantConn {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        &self.0
    }
}

impl DerefMut for TenantConn {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.0
    }
}
