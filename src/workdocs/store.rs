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
    .bind(&super::actor::token_digest(&token)[..])
    .bind(user_id)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(token)
}

// Users: the model's constraints on a user's fields, shared by the two edges that create
// users (CreateUser and `grantd admin create-user`), and lookups.

/// `UsernameType`.
pub static USERNAME: std::sync::LazyLock<crate::aws::validation::Pattern> =
    std::sync::LazyLock::new(|| {
        crate::aws::validation::Pattern::new(r"[\w\-+.]+(@[a-zA-Z0-9.\-]+\.[a-zA-Z]+)?")
    });
/// `EmailAddressType`.
pub static EMAIL: std::sync::LazyLock<crate::aws::validation::Pattern> =
    std::sync::LazyLock::new(|| {
        crate::aws::validation::Pattern::new(r"[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}")
    });
/// `PasswordType`.
pub static PASSWORD: std::sync::LazyLock<crate::aws::validation::Pattern> =
    std::sync::LazyLock::new(|| crate::aws::validation::Pattern::new(r"[\u0020-\u00FF]+"));
pub const USER_TYPES: &[&str] = &[
    "USER",
    "ADMIN",
    "POWERUSER",
    "MINIMALUSER",
    "WORKSPACESUSER",
];
pub const STORAGE_TYPES: &[&str] = &["UNLIMITED", "QUOTA"];

/// A new user's fields as the caller gave them (absent members are `None`).
#[derive(Debug, Default, Clone, Copy)]
pub struct UserInput<'a> {
    pub username: Option<&'a str>,
    pub email_address: Option<&'a str>,
    pub given_name: Option<&'a str>,
    pub surname: Option<&'a str>,
    pub password: Option<&'a str>,
    pub time_zone_id: Option<&'a str>,
}

impl<'a> UserInput<'a> {
    /// The CreateUser constraints; `password_required` is false for the CLI, whose users
    /// may have no password (they get tokens from `grantd admin create-token`).
    pub fn check(&self, password_required: bool, v: &mut crate::aws::validation::Violations) {
        v.required_str("username", self.username, 1, 256, Some(&USERNAME));
        v.optional_str("emailAddress", self.email_address, 1, 256, Some(&EMAIL));
        v.required_str("givenName", self.given_name, 1, 64, None);
        v.required_str("surname", self.surname, 1, 64, None);
        if password_required {
            v.required_str("password", self.password, 4, 32, Some(&PASSWORD));
        } else {
            v.optional_str("password", self.password, 4, 32, Some(&PASSWORD));
        }
        v.optional_str("timeZoneId", self.time_zone_id, 1, 256, None);
    }

    /// The members the model marks sensitive, for [`redacted_message`].
    pub fn sensitive(&self) -> [(&'static str, Option<&'a str>); 5] {
        [
            ("username", self.username),
            ("emailAddress", self.email_address),
            ("givenName", self.given_name),
            ("surname", self.surname),
            ("password", self.password),
        ]
    }
}

/// The validation message with the values of sensitive members left out, as AWS prints
/// them (`Value at 'password' failed to satisfy constraint: ...`): a password must never
/// come back in a response or reach a log.
pub fn redacted_message(
    v: &crate::aws::validation::Violations,
    sensitive: &[(&str, Option<&str>)],
) -> String {
    let mut message = v.message();
    for (member, value) in sensitive {
        if let Some(value) = value {
            message = message.replace(
                &format!("Value '{value}' at '{member}'"),
                &format!("Value at '{member}'"),
            );
        }
    }
    message
}

/// A user of the account.
pub async fn load_user(
    db: impl sqlx::PgExecutor<'_>,
    account: &AccountId,
    user_id: &str,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM wd_users WHERE account_id = $1 AND user_id = $2"
    ))
    .bind(account)
    .bind(user_id)
    .fetch_optional(db)
    .await
}

/// The account a directory (WorkDocs organization) belongs to.
pub async fn account_of_directory(
    db: impl sqlx::PgExecutor<'_>,
    directory_id: &str,
) -> Result<Option<AccountId>, sqlx::Error> {
    sqlx::query_scalar("SELECT account_id FROM directories WHERE directory_id = $1")
        .bind(directory_id)
        .fetch_optional(db)
        .await
}

// Groups: created and filled by our admin endpoints and `grantd admin` (WorkDocs has no
// API for either).

#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    #[error("a group named {0} already exists in the organization")]
    NameTaken(String),
    #[error("account {0} does not exist")]
    NoSuchAccount(AccountId),
    #[error("group {0} does not exist")]
    NoSuchGroup(String),
    #[error("user {0} does not exist")]
    NoSuchUser(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A group as stored: its id and name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupRow {
    pub group_id: String,
    pub name: String,
}

/// A new group in the account's directory; names are unique whatever their case.
pub async fn create_group(
    conn: &mut PgConnection,
    account: &AccountId,
    name: &str,
) -> Result<GroupRow, GroupError> {
    let directory_id: String =
        sqlx::query_scalar("SELECT directory_id FROM directories WHERE account_id = $1")
            .bind(account)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| GroupError::NoSuchAccount(account.clone()))?;
    let inserted = sqlx::query_as(
        "INSERT INTO wd_groups (account_id, group_id, directory_id, name) VALUES ($1, $2, $3, $4)
         RETURNING group_id, name",
    )
    .bind(account)
    .bind(new_principal_id(&directory_id))
    .bind(&directory_id)
    .bind(name)
    .fetch_one(&mut *conn)
    .await;
    match inserted {
        Err(sqlx::Error::Database(e)) if e.constraint() == Some("wd_groups_name") => {
            Err(GroupError::NameTaken(name.to_owned()))
        }
        other => Ok(other?),
    }
}

/// Adds a user of the account to a group of the account; adding a member again changes
/// nothing.
pub async fn add_group_member(
    conn: &mut PgConnection,
    account: &AccountId,
    group_id: &str,
    user_id: &str,
) -> Result<(), GroupError> {
    // The group row is locked so that a concurrent delete cannot slip in between.
    let group: Option<String> = sqlx::query_scalar(
        "SELECT group_id FROM wd_groups WHERE account_id = $1 AND group_id = $2 FOR SHARE",
    )
    .bind(account)
    .bind(group_id)
    .fetch_optional(&mut *conn)
    .await?;
    if group.is_none() {
        return Err(GroupError::NoSuchGroup(group_id.to_owned()));
    }
    if load_user(&mut *conn, account, user_id).await?.is_none() {
        return Err(GroupError::NoSuchUser(user_id.to_owned()));
    }
    sqlx::query(
        "INSERT INTO wd_group_members (account_id, group_id, user_id) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
    )
    .bind(account)
    .bind(group_id)
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
