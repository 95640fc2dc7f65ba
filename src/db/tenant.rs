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
    // No ping when a connection is handed out: setting the account is the first round trip
    // of every checkout and tests the connection as well (see `TenantConn::acquire`).
    let pool_options = super::pool_options(size)
        .test_before_acquire(false)
        .after_connect(|conn, _meta| {
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
        // A connection that broke while idle (the server restarted) fails here and is
        // closed; every idle connection may have, so try past all of them.
        let attempts = pool.options().get_max_connections() + 1;
        let mut attempt = 1;
        loop {
            let mut conn = pool.acquire().await?;
            let set = sqlx::query("SELECT set_config('grantd.account_id', $1, false)")
                .bind(account.as_str())
                .execute(&mut *conn)
                .await;
            match set {
                Ok(_) => return Ok(TenantConn(conn)),
                Err(e @ sqlx::Error::Database(_)) => return Err(e),
                Err(e) => {
                    conn.close_on_drop();
                    if attempt >= attempts {
                        return Err(e);
                    }
                    attempt += 1;
                }
            }
        }
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
