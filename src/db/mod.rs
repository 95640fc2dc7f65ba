//! The database: an external server (`DATABASE_URL`) or the embedded cluster, the pool,
//! and the embedded migrations.

pub mod embedded;
pub mod tenant;

use anyhow::Context as _;
use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};
use std::str::FromStr;
use std::time::Duration;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Name of grantd's database inside the embedded cluster.
pub const EMBEDDED_DATABASE: &str = "grantd";

/// How long a request waits for a pooled connection before it is answered with a 5xx;
/// bounds every request while the database is down.
pub(crate) const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

pub fn options_from_url(url: &SecretString) -> anyhow::Result<PgConnectOptions> {
    PgConnectOptions::from_str(url.expose_secret())
        .map_err(|_| anyhow::anyhow!("DATABASE_URL is not a valid PostgreSQL URL"))
}

/// Creates the target database when it does not exist yet (several processes may race:
/// the loser's "already exists" is fine).
pub async fn ensure_database(options: &PgConnectOptions) -> anyhow::Result<()> {
    let name = options
        .get_database()
        .context("the database URL names no database")?
        .to_owned();
    match options.connect().await {
        Ok(conn) => {
            let _ = conn.close().await;
            return Ok(());
        }
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("3D000") => {}
        Err(e) => return Err(e).context("connecting to PostgreSQL"),
    }
    let mut admin = options
        .clone()
        .database("postgres")
        .connect()
        .await
        .context("connecting to the 'postgres' database to create the missing database")?;
    let sql = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
    match sqlx::query(&sql).execute(&mut admin).await {
        Ok(_) => tracing::info!(database = %name, "created database"),
        Err(sqlx::Error::Database(e))
            if matches!(e.code().as_deref(), Some("42P04") | Some("23505")) => {}
        Err(e) => return Err(e).with_context(|| format!("creating database {name}")),
    }
    let _ = admin.close().await;
    Ok(())
}

/// How long startup keeps trying to reach a database that is starting or overloaded.
const STARTUP_PATIENCE: Duration = Duration::from_secs(60);

/// How many connections of a process's `size` go to its system pool (authentication,
/// readiness, the e-mail worker): short queries, so fewer than the tenant pool's `size`.
pub fn system_pool_size(size: u32) -> u32 {
    (size / 2).max(2)
}

/// The pool of grantd's own role: migrations, authentication before a tenant is known,
/// background work and admin commands. Request handlers use [`tenant::TenantConn`].
pub async fn pool(options: PgConnectOptions, size: u32) -> anyhow::Result<PgPool> {
    connect(pool_options(size), options).await
}

/// Open, idle and allowed connections of a pool, for the metrics.
pub struct PoolStatus {
    pub open: usize,
    pub idle: usize,
    pub max: usize,
}

pub fn status(pool: &PgPool) -> PoolStatus {
    PoolStatus {
        open: pool.size() as usize,
        idle: pool.num_idle(),
        max: pool.options().get_max_connections() as usize,
    }
}

fn pool_options(size: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(ACQUIRE_TIMEOUT)
}

async fn connect(pool_options: PgPoolOptions, options: PgConnectOptions) -> anyhow::Result<PgPool> {
    patiently(|| pool_options.clone().connect_with(options.clone())).await
}

/// Runs `attempt` until it succeeds, for up to [`STARTUP_PATIENCE`] while PostgreSQL is
/// not reachable yet; a refused password or a missing database will not fix itself, so
/// a database error stops at once.
async fn patiently<T, F, Fut>(mut attempt: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, sqlx::Error>>,
{
    let started = std::time::Instant::now();
    loop {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(e @ sqlx::Error::Database(_)) => return Err(e).context("connecting to PostgreSQL"),
            Err(e) if started.elapsed() >= STARTUP_PATIENCE => {
                return Err(e).context("connecting to PostgreSQL")
            }
            Err(e) => {
                tracing::warn!(error = %e, "PostgreSQL not reachable yet; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR
        .run(pool)
        .await
        .context("applying database migrations")
}

/// Reachable, and every embedded migration applied.
pub async fn is_ready(pool: &PgPool) -> bool {
    let Some(latest) = MIGRATOR.iter().map(|m| m.version).max() else {
        return true;
    };
    let applied: Result<Option<i64>, _> =
        sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(pool)
            .await;
    matches!(applied, Ok(Some(v)) if v >= latest)
}
