//! SQL shared by several WorkDocs slices: creating users (with their root folder and
//! recycle bin) and tokens.

use super::ids::{new_principal_id, new_resource_id};
use super::model::{UserRow, USER_COLUMNS};
use crate::tenancy::AccountId;
use chrono::{DateTime, Utc};
use rand::RngCore;
use sqlx::PgConnection;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("a user named {0} already exists in the organization")]
    UsernameTaken(String),
    #[error("account {0} does not exist")]
    NoSuchAccount(AccountId),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub email_address: Option<&'a str>,
    pub given_name: &'a str,
    pub surname: &'a str,
    pub user_type: &'a str,
    pub status: &'a str,
    /// argon2id PHC string, already computed off the async executor.
    pub password_hash: Option<&'a str>,
    pub time_zone_id: Option<&'a str>,
    pub storage_allocated: Option<i64>,
    pub storage_type: &'a str,
}

/// Creates the user with a root folder and a recycle bin, in the caller's transaction.
pub async fn create_user(
    conn: &mut PgConnection,
    account: &AccountId,
    new: &NewUser<'_>,
) -> Result<UserRow, StoreError> {
    let directory_id: String =
        sqlx::query_scalar("SELECT directory_id FROM directories WHERE account_id = $1")
            .bind(account)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| StoreError::NoSuchAccount(account.clone()))?;
    let user_id = new_principal_id(&directory_id);
    let root = new_resource_id();
    let bin = new_resource_id();
    let inserted: Result<UserRow, sqlx::Error> = sqlx::query_as(&format!(
        "INSERT INTO wd_users (account_id, user_id, directory_id, username, email_address,
             given_name, surname, user_type, status, password_hash, root_folder_id,
             recycle_bin_folder_id, time_zone_id, storage_allocated, storage_type)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         RETURNING {USER_COLUMNS}"
    ))
    .bind(account)
    .bind(&user_id)
    .bind(&directory_id)
    .bind(new.username)
    .bind(new.email_address)
    .bind(new.given_name)
    .bind(new.surname)
    .bind(new.user_type)
    .bind(new.status)
    .bind(new.password_hash)
    .bind(&root)
    .bind(&bin)
    .bind(new.time_zone_id)
    .bind(new.storage_allocated)
    .bind(new.storage_type)
    .fetch_one(&mut *conn)
    .await;
    let user = match inserted {
        Err(sqlx::Error::Database(e)) if e.constraint() == Some("wd_users_username") => {
            return Err(StoreError::UsernameTaken(new.username.to_owned()))
        }
        other => other?,
    };
    for (id, special) in [(&root, "ROOT"), (&bin, "RECYCLE_BIN")] {
        sqlx::query(
            "INSERT INTO wd_resources (account_id, resource_id, kind, owner_id, creator_id, name, special)
             VALUES ($1, $2, 'FOLDER', $3, $3, $4, $4)",
        )
        .bind(account)
        .bind(id)
        .bind(&user_id)
        .bind(special)
        .execute(&mut *conn)
        .await?;
    }
    Ok(user)
}

/// A new bearer token for the user: returned once, stored only as its SHA-256 digest.
pub async fn create_token(
    conn: &mut PgConnection,
    account: &AccountId,
    user_id: &str,
    expires_at: DateTime<Utc>,
) -> Result<String, sqlx::Error> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    use base64::Engine as _;
    let token = format!(
        "gdt_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    sqlx::query(
        "INSERT INTO wd_tokens (account_id, token_digest, user_id, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(account)
    .bind(super::actor::token_digest(&token))
    .bind(user_id)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(token)
}
