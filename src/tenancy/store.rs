//! SQL for accounts and access keys. Functions take an executor; callers own transactions.

use super::ids::{random_secret, AccessKeyId, AccountId, DirectoryId, OrganizationId};
use crate::crypto::MasterKey;
use secrecy::SecretString;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};

#[derive(Debug, thiserror::Error)]
pub enum TenancyError {
    #[error("account {0} already exists")]
    AccountExists(AccountId),
    #[error("account {0} does not exist")]
    NoSuchAccount(AccountId),
    #[error("the master key does not match the key this database's secrets were sealed with; start grantd with the original master key (GRANTD_MASTER_KEY or <data-dir>/master.key)")]
    WrongMasterKey,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// What `grantd admin create-account` asks for.
#[derive(Debug, Default, Clone)]
pub struct NewAccountSpec {
    pub account_id: Option<AccountId>,
    pub organization_id: Option<OrganizationId>,
    pub name: Option<String>,
}

/// A created access key; the secret is shown once and never stored in plaintext.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NewAccessKey {
    pub access_key_id: AccessKeyId,
    #[serde(serialize_with = "expose")]
    pub secret_access_key: SecretString,
}

fn expose<S: serde::Serializer>(secret: &SecretString, s: S) -> Result<S::Ok, S::Error> {
    use secrecy::ExposeSecret;
    s.serialize_str(secret.expose_secret())
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NewAccount {
    pub account_id: AccountId,
    pub organization_id: Option<OrganizationId>,
    pub directory_id: DirectoryId,
    #[serde(flatten)]
    pub key: NewAccessKey,
}

/// An access key as authentication needs it.
#[derive(Debug)]
pub struct AccessKeyRecord {
    pub account_id: AccountId,
    pub organization_id: Option<OrganizationId>,
    pub secret_sealed: Vec<u8>,
}

const CHECK_VALUE: &[u8] = b"grantd master key check";

/// Seal a known value on first use; on later starts, prove the key opens it.
pub async fn verify_master_key(pool: &PgPool, key: &MasterKey) -> Result<(), TenancyError> {
    let sealed = key.seal(CHECK_VALUE, b"master_key_check");
    sqlx::query("INSERT INTO master_key_check (sealed) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(&sealed)
        .execute(pool)
        .await?;
    let stored: Vec<u8> = sqlx::query_scalar("SELECT sealed FROM master_key_check")
        .fetch_one(pool)
        .await?;
    match key.open(&stored, b"master_key_check") {
        Ok(v) if v == CHECK_VALUE => Ok(()),
        _ => Err(TenancyError::WrongMasterKey),
    }
}

#[tracing::instrument(skip_all, fields(account_id))]
pub async fn create_account(
    conn: &mut PgConnection,
    key: &MasterKey,
    spec: NewAccountSpec,
) -> Result<NewAccount, TenancyError> {
    let chosen = spec.account_id.is_some();
    // A random id may collide; retry a few times, but an explicit one is the caller's.
    for _ in 0..5 {
        let account_id = spec.account_id.clone().unwrap_or_else(AccountId::random);
        let name = spec.name.clone().unwrap_or_else(|| account_id.to_string());
        let inserted = sqlx::query(
            "INSERT INTO accounts (account_id, organization_id, name) VALUES ($1, $2, $3)
             ON CONFLICT (account_id) DO NOTHING",
        )
        .bind(&account_id)
        .bind(&spec.organization_id)
        .bind(&name)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if inserted == 0 {
            if chosen {
                return Err(TenancyError::AccountExists(account_id));
            }
            continue;
        }
        tracing::Span::current().record("account_id", account_id.as_str());
        let directory_id = DirectoryId::random();
        sqlx::query("INSERT INTO directories (account_id, directory_id) VALUES ($1, $2)")
            .bind(&account_id)
            .bind(&directory_id)
            .execute(&mut *conn)
            .await?;
        let key = insert_access_key(conn, key, &account_id).await?;
        return Ok(NewAccount {
            account_id,
            organization_id: spec.organization_id,
            directory_id,
            key,
        });
    }
    Err(TenancyError::Database(sqlx::Error::Protocol(
        "could not draw an unused account id".into(),
    )))
}

pub async fn create_access_key(
    conn: &mut PgConnection,
    key: &MasterKey,
    account_id: &AccountId,
) -> Result<NewAccessKey, TenancyError> {
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM accounts WHERE account_id = $1)")
            .bind(account_id)
            .fetch_one(&mut *conn)
            .await?;
    if !exists {
        return Err(TenancyError::NoSuchAccount(account_id.clone()));
    }
    insert_access_key(conn, key, account_id).await
}

async fn insert_access_key(
    conn: &mut PgConnection,
    key: &MasterKey,
    account_id: &AccountId,
) -> Result<NewAccessKey, TenancyError> {
    let access_key_id = AccessKeyId::random();
    let secret = random_secret();
    let sealed = key.seal(secret.as_bytes(), access_key_id.as_str().as_bytes());
    sqlx::query(
        "INSERT INTO access_keys (account_id, access_key_id, secret_sealed) VALUES ($1, $2, $3)",
    )
    .bind(account_id)
    .bind(&access_key_id)
    .bind(&sealed)
    .execute(&mut *conn)
    .await?;
    Ok(NewAccessKey {
        access_key_id,
        secret_access_key: SecretString::from(secret),
    })
}

/// The active key with this id, whatever its account (authentication's one cross-tenant
/// lookup, see the migration).
pub async fn find_access_key(
    pool: &PgPool,
    access_key_id: &str,
) -> Result<Option<AccessKeyRecord>, sqlx::Error> {
    let row: Option<(AccountId, Option<OrganizationId>, Vec<u8>)> = sqlx::query_as(
        "SELECT k.account_id, a.organization_id, k.secret_sealed
         FROM access_keys k JOIN accounts a ON a.account_id = k.account_id
         WHERE k.access_key_id = $1 AND k.status = 'Active'",
    )
    .bind(access_key_id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(
        |(account_id, organization_id, secret_sealed)| AccessKeyRecord {
            account_id,
            organization_id,
            secret_sealed,
        },
    ))
}

/// On the first start with an empty database, create the default account. Serialized by an
/// advisory lock so that several processes starting together create exactly one.
pub async fn ensure_default_account(
    pool: &PgPool,
    key: &MasterKey,
) -> Result<Option<NewAccount>, TenancyError> {
    const LOCK: i64 = 0x6772_616e_7464; // "grantd"
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(LOCK)
        .execute(&mut *tx)
        .await?;
    let any: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM accounts)")
        .fetch_one(&mut *tx)
        .await?;
    if any {
        return Ok(None);
    }
    let account = create_account(
        &mut tx,
        key,
        NewAccountSpec {
            name: Some("default".into()),
            ..Default::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Some(account))
}

/// The account's organization, for organization grants.
pub async fn organization_of(
    pool: &PgPool,
    account: &AccountId,
) -> Result<Option<OrganizationId>, sqlx::Error> {
    Ok(
        sqlx::query_scalar("SELECT organization_id FROM accounts WHERE account_id = $1")
            .bind(account)
            .fetch_optional(pool)
            .await?
            .flatten(),
    )
}
