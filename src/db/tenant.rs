//! Connections scoped to one tenant. They run as the role `grantd_tenant`, to which
//! row-level security (migration `20261201000001_row_level_security.sql`) shows only the
//! rows of the account in `grantd.account_id`. Every request handler touches tenant data
//! through a [`TenantConn`], so a query that forgets its `account_id` filter still cannot
//! read or change another tenant's rows.
//!
//! The pool is deadpool's, not sqlx's: sqlx 0.8 pings every connection given back to its
//! pool, one more round trip per request on both sides. Here a connection goes back as it
//! is, and only one that still has writes queued (the `ROLLBACK` that dropping an open
//! transaction queues, for one) is flushed first, by a task that holds it out of the pool
//! until the server has answered. So no lock outlives its request, and the next tenant's
//! first statement (setting the account) is never queued behind the last one's work.

use super::{PoolStatus, ACQUIRE_TIMEOUT};
use crate::tenancy::AccountId;
use deadpool::managed::{self, Metrics, Object, PoolError, RecycleError, RecycleResult};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection as _, Executor, PgConnection, Postgres, TransactionManager as _};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The role tenant connections take; the migration creates it.
pub const TENANT_ROLE: &str = "grantd_tenant";

/// Connections are replaced after this long, and closed after being idle this long
/// (sqlx's defaults, which this pool replaced).
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);
const IDLE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
const REAP_EVERY: Duration = Duration::from_secs(60);

pub struct Manager {
    options: PgConnectOptions,
}

impl managed::Manager for Manager {
    type Type = PgConnection;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<PgConnection, sqlx::Error> {
        let mut conn = PgConnection::connect_with(&self.options).await?;
        conn.execute(format!("SET ROLE {TENANT_ROLE}").as_str())
            .await?;
        Ok(conn)
    }

    /// No round trip: setting the account is the first one of every checkout and tests the
    /// connection as well (see [`TenantConn::acquire`]).
    async fn recycle(
        &self,
        conn: &mut PgConnection,
        metrics: &Metrics,
    ) -> RecycleResult<sqlx::Error> {
        if metrics.age() >= MAX_LIFETIME {
            return Err(RecycleError::message("past its lifetime"));
        }
        // Never expected (see `TenantConn::drop`), but a connection must not be handed out
        // inside someone else's transaction.
        if sqlx::postgres::PgTransactionManager::get_transaction_depth(conn) > 0 {
            return Err(RecycleError::message("inside a transaction"));
        }
        if conn.should_flush() {
            conn.ping().await.map_err(RecycleError::Backend)?;
        }
        Ok(())
    }
}

/// A pool whose connections have all taken the tenant role, in one shard per HTTP worker
/// thread. Each worker runs its own single-threaded runtime, and a connection's socket
/// belongs to the runtime that opened it: used from another worker, every answer from the
/// server first wakes the owner's thread, which then wakes the user's. So a thread keeps to
/// one shard, whose connections it opened itself.
#[derive(Clone)]
pub struct TenantPool(Arc<[managed::Pool<Manager>]>);

/// Opens the pool, `size` connections at most, in `shards` shards (one per HTTP worker;
/// never more shards than connections), and one connection, so a missing role (the
/// migrations create it) or a refused login fails the start, not each request.
pub async fn pool(
    options: PgConnectOptions,
    size: u32,
    shards: usize,
) -> anyhow::Result<TenantPool> {
    let size = size.max(1) as usize;
    let shards = shards.clamp(1, size);
    let pools = (0..shards)
        .map(|i| {
            // `size` spread as evenly as it divides: 16 over 3 shards is 6 + 5 + 5.
            let max = size / shards + usize::from(i < size % shards);
            managed::Pool::builder(Manager {
                options: options.clone(),
            })
            .max_size(max)
            .queue_mode(managed::QueueMode::Lifo)
            .wait_timeout(Some(ACQUIRE_TIMEOUT))
            .create_timeout(Some(ACQUIRE_TIMEOUT))
            .recycle_timeout(Some(ACQUIRE_TIMEOUT))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
        })
        .collect::<Result<Arc<[_]>, _>>()?;
    // Opened on this thread's runtime, so not kept for a worker to use.
    super::patiently(|| async { pools[0].get().await.map(Object::take).map_err(into_sqlx) })
        .await?;
    for pool in pools.iter() {
        let weak = pool.weak();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(REAP_EVERY).await;
                let Some(pool) = weak.upgrade() else { return };
                pool.retain(|_, metrics| {
                    metrics.last_used() < IDLE_TIMEOUT && metrics.age() < MAX_LIFETIME
                });
            }
        });
    }
    Ok(TenantPool(pools))
}

/// Shards are dealt to threads in the order they first ask, so the HTTP workers, which
/// start together, get one each.
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static SHARD: usize = NEXT_SHARD.fetch_add(1, Ordering::Relaxed);
}

impl TenantPool {
    fn shard(&self) -> &managed::Pool<Manager> {
        &self.0[SHARD.with(|s| *s) % self.0.len()]
    }

    pub fn status(&self) -> PoolStatus {
        let mut total = PoolStatus {
            open: 0,
            idle: 0,
            max: 0,
        };
        for pool in self.0.iter() {
            let status = pool.status();
            total.open += status.size;
            total.idle += status.available;
            total.max += status.max_size;
        }
        total
    }

    /// Closes the idle connections; connections in use close when given back.
    pub fn close(&self) {
        for pool in self.0.iter() {
            pool.close();
        }
    }
}

fn into_sqlx(e: PoolError<sqlx::Error>) -> sqlx::Error {
    match e {
        PoolError::Backend(e) => e,
        PoolError::Timeout(_) => sqlx::Error::PoolTimedOut,
        PoolError::Closed | PoolError::NoRuntimeSpecified | PoolError::PostCreateHook(_) => {
            sqlx::Error::PoolClosed
        }
    }
}

/// A pooled connection that sees only `account`'s rows until it goes back to the pool;
/// the next [`TenantConn::acquire`] sets the account anew before anything else runs.
pub struct TenantConn(Option<Object<Manager>>);

impl TenantConn {
    pub async fn acquire(
        pool: &TenantPool,
        account: &AccountId,
    ) -> Result<TenantConn, sqlx::Error> {
        // A connection that broke while idle (the server restarted) fails here and is
        // closed; every idle connection may have, so try past all of them.
        let shard = pool.shard();
        let mut attempt = 1;
        loop {
            let mut conn = TenantConn(Some(shard.get().await.map_err(into_sqlx)?));
            let set = sqlx::query("SELECT set_config('grantd.account_id', $1, false)")
                .bind(account.as_str())
                .execute(&mut *conn)
                .await;
            match set {
                Ok(_) => return Ok(conn),
                Err(e @ sqlx::Error::Database(_)) => return Err(e),
                Err(e) => {
                    conn.discard();
                    // Read here, not on every checkout: the status takes the shard's lock.
                    if attempt > shard.status().max_size {
                        return Err(e);
                    }
                    attempt += 1;
                }
            }
        }
    }

    pub async fn begin(&mut self) -> Result<sqlx::Transaction<'_, Postgres>, sqlx::Error> {
        sqlx::Connection::begin(&mut **self).await
    }

    /// Takes a broken connection out of the pool; it closes here.
    fn discard(&mut self) {
        if let Some(object) = self.0.take() {
            drop(Object::take(object));
        }
    }
}

impl Drop for TenantConn {
    fn drop(&mut self) {
        let Some(mut object) = self.0.take() else {
            return;
        };
        if !object.should_flush() {
            return; // back to the pool as it is
        }
        // Writes are queued: a transaction dropped open queued its ROLLBACK, or a request
        // was cancelled mid-statement. Send them now, so no lock waits for this connection's
        // next use, and keep the connection out of the pool until the server has answered.
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if object.ping().await.is_err() {
                        drop(Object::take(object));
                    }
                });
            }
            // No runtime to send them on: close the connection, which ends its session and
            // so its transaction.
            Err(_) => drop(Object::take(object)),
        }
    }
}

impl Deref for TenantConn {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        self.0.as_ref().expect("a connection until dropped")
    }
}

impl DerefMut for TenantConn {
    fn deref_mut(&mut self) -> &mut PgConnection {
        self.0.as_mut().expect("a connection until dropped")
    }
}
