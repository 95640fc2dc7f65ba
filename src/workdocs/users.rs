//! Users (aws-wire.md §6.3, §7): CreateUser, DescribeUsers, GetCurrentUser, ActivateUser,
//! DeactivateUser and UpdateUser.
//!
//! Only the account's administrators (SigV4) create and change users; a token user, even
//! one of type ADMIN, gets 403. Who administers a tenant is then decided in one place, its
//! access keys, and a stolen user token cannot mint users or promote anyone.

use super::actor::{Actor, WorkDocs};
use super::model::{User, UserRow, USER_COLUMNS};
use super::store::{self, redacted_message, StoreError, UserInput, STORAGE_TYPES, USER_TYPES};
use super::tokens::hash_password;
use super::{db, encode_marker, entity_not_exists, forbidden, ids, invalid_argument, not_visible};
use super::{not_authenticated, paging, token_only, S};
use crate::aws::query::QueryParams;
use crate::aws::validation::{Pattern, Violations};
use crate::aws::{ApiError, ErrorCode};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::LazyLock;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        crate::startup::resource("/users")
            .route(web::get().to(describe_users))
            .route(web::post().to(create_user)),
    )
    .route("/me", web::get().to(get_current_user))
    .service(
        crate::startup::resource("/users/{UserId}/activation")
            .route(web::post().to(activate_user))
            .route(web::delete().to(deactivate_user)),
    )
    .route("/users/{UserId}", web::patch().to(update_user));
}

/// `SearchQueryType`: the whole Basic Multilingual Plane from space up.
pub(super) static SEARCH_QUERY: LazyLock<Pattern> =
    LazyLock::new(|| Pattern::new(r"[\u0020-\uFFFF]+"));
static USER_IDS: LazyLock<Pattern> = LazyLock::new(|| Pattern::new(r"[&\w+-.@, ]+"));
static FIELDS: LazyLock<Pattern> = LazyLock::new(|| Pattern::new(r"[\w,]+"));
const LOCALES: &[&str] = &[
    "en", "fr", "ko", "de", "es", "ja", "ru", "zh_CN", "zh_TW", "pt_BR", "default",
];
const INCLUDE: &[&str] = &["ALL", "ACTIVE_PENDING"];
const ORDER: &[&str] = &["ASCENDING", "DESCENDING"];
const SORT: &[&str] = &[
    "USER_NAME",
    "FULL_NAME",
    "STORAGE_LIMIT",
    "USER_STATUS",
    "STORAGE_USED",
];
/// Names and searches compare case- and accent-insensitively ("Ma" finds "Márcia"): the
/// SQL expression folding `column` (decomposed, combining marks removed, lower case).
pub(super) fn fold(column: &str) -> String {
    format!("lower(regexp_replace(normalize({column}, NFD), '[\\u0300-\\u036f]', '', 'g'))")
}

/// A LIKE pattern matching values that start with `prefix` taken literally.
pub(super) fn like_prefix(prefix: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// The (sort key, id) a keyset marker carries: where the previous page ended.
pub(super) fn keyset_after(marker: Option<String>) -> Result<Option<(String, String)>, ApiError> {
    marker
        .map(|m| serde_json::from_str(&m).map_err(|_| super::bad_paging()))
        .transpose()
}

/// Cuts the `limit + 1` rows fetched to one page; the marker of the next page, if any.
pub(super) fn next_page<T>(
    rows: &mut Vec<T>,
    limit: i64,
    keyset: impl Fn(&T) -> (&str, &str),
) -> Option<String> {
    if rows.len() as i64 <= limit {
        return None;
    }
    rows.truncate(limit as usize);
    let (key, id) = keyset(rows.last().expect("a full page"));
    Some(encode_marker(&json!([key, id]).to_string()))
}

/// Creating and changing users is for the account's administrators (see the module doc).
pub(super) fn admin_only(actor: &Actor, op: &str) -> Result<(), ApiError> {
    match actor {
        Actor::Admin { .. } => Ok(()),
        Actor::User(_) => Err(forbidden(actor, op)),
    }
}

fn validation(v: &Violations, sensitive: &[(&str, Option<&str>)]) -> Result<(), ApiError> {
    if v.is_empty() {
        Ok(())
    } else {
        Err(ApiError::new(
            S,
            ErrorCode::Validation,
            redacted_message(v, sensitive),
        ))
    }
}

/// An `organizationId` member names the caller's own directory, or nothing it may see.
fn own_organization(actor: &Actor, given: Option<&str>, op: &str) -> Result<(), ApiError> {
    match given {
        Some(org) if org != actor.directory_id() => Err(not_visible(actor, op)),
        _ => Ok(()),
    }
}

/// The `UserId` path label: `&` arrives decoded, and the model's pattern applies.
fn user_id_label(raw: &str) -> Result<&str, ApiError> {
    let mut v = Violations::new();
    v.required_str("userId", Some(raw), 1, 256, Some(&ids::ID));
    v.finish(S)?;
    Ok(raw)
}

fn user_body(row: UserRow) -> Value {
    json!({ "User": User::from(row) })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StorageRuleInput {
    storage_allocated_in_bytes: Option<i64>,
    storage_type: Option<String>,
}

impl StorageRuleInput {
    fn check(&self, v: &mut Violations) {
        v.int_range(
            "storageRule.storageAllocatedInBytes",
            self.storage_allocated_in_bytes,
            0,
            i64::MAX,
        );
        v.optional_enum(
            "storageRule.storageType",
            self.storage_type.as_deref(),
            STORAGE_TYPES,
        );
    }

    /// The allocation and type a rule asks for; an allocation without a type is a quota.
    fn resolve(rule: Option<&Self>) -> (Option<i64>, Option<&str>) {
        let allocated = rule.and_then(|r| r.storage_allocated_in_bytes);
        let storage_type = match rule.and_then(|r| r.storage_type.as_deref()) {
            None if allocated.is_some() => Some("QUOTA"),
            given => given,
        };
        (allocated, storage_type)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateUserRequest {
    organization_id: Option<String>,
    username: Option<String>,
    email_address: Option<String>,
    given_name: Option<String>,
    surname: Option<String>,
    password: Option<String>,
    time_zone_id: Option<String>,
    storage_rule: Option<StorageRuleInput>,
}

/// `POST /api/v1/users`: CreateUser, an ACTIVE user with a root folder and a recycle bin.
#[tracing::instrument(name = "CreateUser", skip_all, fields(user_id = tracing::field::Empty))]
async fn create_user(state: web::Data<AppState>, wd: WorkDocs) -> Result<HttpResponse, ApiError> {
    let actor = &wd.actor;
    admin_only(actor, "CreateUser")?;
    let body: CreateUserRequest = wd.json()?;
    let input = UserInput {
        username: body.username.as_deref(),
        email_address: body.email_address.as_deref(),
        given_name: body.given_name.as_deref(),
        surname: body.surname.as_deref(),
        password: body.password.as_deref(),
        time_zone_id: body.time_zone_id.as_deref(),
    };
    let mut v = Violations::new();
    v.optional_str(
        "organizationId",
        body.organization_id.as_deref(),
        1,
        256,
        Some(&ids::ID),
    );
    input.check(true, &mut v);
    if let Some(rule) = &body.storage_rule {
        rule.check(&mut v);
    }
    validation(&v, &input.sensitive())?;
    own_organization(actor, body.organization_id.as_deref(), "CreateUser")?;

    let password = SecretString::from(body.password.clone().expect("validated"));
    let hash = hash_password(password)
        .await
        .map_err(|e| ApiError::internal(S, e))?;
    let (allocated, storage_type) = StorageRuleInput::resolve(body.storage_rule.as_ref());
    let new = store::NewUser {
        username: input.username.expect("validated"),
        email_address: input.email_address,
        given_name: input.given_name.expect("validated"),
        surname: input.surname.expect("validated"),
        user_type: "USER",
        status: "ACTIVE",
        password_hash: Some(&hash),
        time_zone_id: input.time_zone_id,
        storage_allocated: allocated,
        storage_type: storage_type.unwrap_or("UNLIMITED"),
    };
    let mut conn = state.tenant(actor.account_id()).await.map_err(db)?;
    let mut tx = conn.begin().await.map_err(db)?;
    let row = match store::create_user(&mut tx, actor.account_id(), &new).await {
        Ok(row) => row,
        Err(StoreError::UsernameTaken(_)) => {
            return Err(ApiError::new(
                S,
                ErrorCode::EntityAlreadyExists,
                "A user with this username already exists in the organization.",
            ))
        }
        Err(StoreError::Database(e)) => return Err(db(e)),
        Err(e) => return Err(ApiError::internal(S, e)),
    };
    tx.commit().await.map_err(db)?;
    tracing::Span::current().record("user_id", row.user_id.as_str());
    tracing::info!("user created");
    Ok(HttpResponse::Created().json(user_body(row)))
}

/// A row with the key it was sorted by, for the next page's marker.
#[derive(sqlx::FromRow)]
struct Sorted {
    #[sqlx(flatten)]
    user: UserRow,
    sort_key: String,
}

/// The text a sort orders by; ties are broken by the user id. Nothing is stored in
/// grantd, so every user has used 0 bytes and STORAGE_USED orders by id alone. Under
/// STORAGE_LIMIT, no limit (UNLIMITED) sorts after every number.
fn sort_key(sort: &str) -> &'static str {
    match sort {
        "FULL_NAME" => r#"(lower(given_name || ' ' || surname) COLLATE "C")"#,
        "STORAGE_LIMIT" => {
            r#"(lpad(COALESCE(storage_allocated, 9223372036854775807)::text, 19, '0') COLLATE "C")"#
        }
        "USER_STATUS" => r#"(status COLLATE "C")"#,
        "STORAGE_USED" => r#"(''::text COLLATE "C")"#,
        _ => r#"(lower(username) COLLATE "C")"#,
    }
}

/// `GET /api/v1/users`: DescribeUsers.
async fn describe_users(
    req: HttpRequest,
    state: web::Data<AppState>,
    wd: WorkDocs,
) -> Result<HttpResponse, ApiError> {
    let actor = &wd.actor;
    let q = QueryParams::parse(req.query_string());
    let (organization, user_ids, query) =
        (q.get("organizationId"), q.get("userIds"), q.get("query"));
    let (include, order, sort, fields) = (
        q.get("include"),
        q.get("order"),
        q.get("sort"),
        q.get("fields"),
    );
    let mut v = Violations::new();
    v.optional_str("organizationId", organization, 1, 256, Some(&ids::ID));
    v.optional_str("userIds", user_ids, 1, 2000, Some(&USER_IDS));
    v.optional_str("query", query, 1, 512, Some(&SEARCH_QUERY));
    v.optional_enum("include", include, INCLUDE);
    v.optional_enum("order", order, ORDER);
    v.optional_enum("sort", sort, SORT);
    v.optional_str("fields", fields, 1, 256, Some(&FIELDS));
    validation(&v, &[("query", query)])?;
    let (limit, marker) = paging(&q, 24, 999)?;
    let after = keyset_after(marker)?;
    own_organization(actor, organization, "DescribeUsers")?;

    // `userIds` wins over `query` (the model says so).
    let ids: Option<Vec<String>> = user_ids.map(|list| {
        list.split(',')
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .collect()
    });
    let prefixes: Option<Vec<String>> = match (&ids, query) {
        (None, Some(query)) => Some(query.split_whitespace().map(like_prefix).collect()),
        _ => None,
    };
    let descending = order == Some("DESCENDING");
    let key = sort_key(sort.unwrap_or("USER_NAME"));
    let (direction, beyond) = if descending {
        ("DESC", "<")
    } else {
        ("ASC", ">")
    };
    let matches = |column: &str| format!("{} LIKE {} ESCAPE '\\'", fold(column), fold("p"));
    let sql = format!(
        "SELECT {USER_COLUMNS}, {key} AS sort_key FROM wd_users
         WHERE account_id = $1
           AND ($2::text[] IS NULL OR user_id = ANY($2))
           AND ($3::text[] IS NULL OR NOT EXISTS (
                 SELECT 1 FROM unnest($3::text[]) AS prefixes (p)
                 WHERE NOT ({} OR {} OR {})))
           AND ($4 OR status <> 'INACTIVE')
           AND ($5::text IS NULL OR ({key}, user_id COLLATE \"C\") {beyond} ($5, $6))
         ORDER BY {key} {direction}, user_id COLLATE \"C\" {direction}
         LIMIT $7",
        matches("given_name"),
        matches("surname"),
        matches("username"),
    );
    let mut conn = state.tenant(actor.account_id()).await.map_err(db)?;
    let mut rows: Vec<Sorted> = sqlx::query_as(&sql)
        .bind(actor.account_id())
        .bind(&ids)
        .bind(&prefixes)
        .bind(include == Some("ALL"))
        .bind(after.as_ref().map(|a| &a.0))
        .bind(after.as_ref().map(|a| &a.1))
        .bind(limit + 1)
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
    let next = next_page(&mut rows, limit, |r| (&r.sort_key, &r.user.user_id));
    let with_storage = fields.is_some_and(|f| f.split(',').any(|f| f == "STORAGE_METADATA"));
    let users: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            let mut user = serde_json::to_value(User::from(r.user)).expect("a User serializes");
            if !with_storage {
                user.as_object_mut()
                    .expect("a User is an object")
                    .remove("Storage");
            }
            user
        })
        .collect();
    let mut out = json!({ "Users": users });
    if let Some(next) = next {
        out["Marker"] = next.into();
    }
    Ok(HttpResponse::Ok().json(out))
}

/// `GET /api/v1/me`: GetCurrentUser, the token's user.
async fn get_current_user(
    state: web::Data<AppState>,
    wd: WorkDocs,
) -> Result<HttpResponse, ApiError> {
    token_only(&wd.actor, "GetCurrentUser")?;
    let me = wd.actor.user().expect("token only");
    let mut conn = state.tenant(wd.actor.account_id()).await.map_err(db)?;
    let row = store::load_user(&mut *conn, &me.account_id, &me.user_id)
        .await
        .map_err(db)?
        .ok_or_else(not_authenticated)?;
    Ok(HttpResponse::Ok().json(user_body(row)))
}

/// Sets the user's status; idempotent, and the modification time moves only on a change.
/// A deactivated user's tokens stop working with the next request: the token lookup
/// requires an ACTIVE user.
async fn set_status(
    state: &AppState,
    actor: &Actor,
    user_id: &str,
    status: &str,
) -> Result<UserRow, ApiError> {
    // Deactivation also revokes the user's tokens, so reactivating never revives a token
    // handed out before: one statement, so no request sees one without the other.
    let mut conn = state.tenant(actor.account_id()).await.map_err(db)?;
    let row: Option<UserRow> = sqlx::query_as(&format!(
        "WITH revoked AS (
             UPDATE wd_tokens SET revoked_at = now()
             WHERE account_id = $1 AND user_id = $2 AND $3 = 'INACTIVE' AND revoked_at IS NULL
         )
         UPDATE wd_users
         SET status = $3,
             modified_at = CASE WHEN status = $3 THEN modified_at ELSE now() END
         WHERE account_id = $1 AND user_id = $2
         RETURNING {USER_COLUMNS}"
    ))
    .bind(actor.account_id())
    .bind(user_id)
    .bind(status)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?;
    let row = row.ok_or_else(|| entity_not_exists(user_id))?;
    if status == "INACTIVE" {
        state.tokens.forget_all();
    }
    tracing::info!(user_id, status, "user status set");
    Ok(row)
}

/// `POST /api/v1/users/{UserId}/activation`: ActivateUser.
async fn activate_user(
    state: web::Data<AppState>,
    path: web::Path<String>,
    wd: WorkDocs,
) -> Result<HttpResponse, ApiError> {
    admin_only(&wd.actor, "ActivateUser")?;
    let user_id = user_id_label(&path)?;
    let row = set_status(&state, &wd.actor, user_id, "ACTIVE").await?;
    Ok(HttpResponse::Ok().json(user_body(row)))
}

/// `DELETE /api/v1/users/{UserId}/activation`: DeactivateUser. The administrators of a
/// site are its access keys, so deactivating users never leaves it without one.
async fn deactivate_user(
    state: web::Data<AppState>,
    path: web::Path<String>,
    wd: WorkDocs,
) -> Result<HttpResponse, ApiError> {
    admin_only(&wd.actor, "DeactivateUser")?;
    let user_id = user_id_label(&path)?;
    set_status(&state, &wd.actor, user_id, "INACTIVE").await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateUserRequest {
    given_name: Option<String>,
    surname: Option<String>,
    #[serde(rename = "Type")]
    user_type: Option<String>,
    storage_rule: Option<StorageRuleInput>,
    time_zone_id: Option<String>,
    locale: Option<String>,
    grant_poweruser_privileges: Option<String>,
}

/// The type after an update: `GrantPoweruserPrivileges` TRUE makes a power user, FALSE
/// makes a power user a plain user again; contradicting an explicit `Type` is refused.
fn resolve_type(
    given: Option<&str>,
    grant: Option<&str>,
) -> Result<Option<&'static str>, ApiError> {
    let given = given.map(|t| {
        *USER_TYPES
            .iter()
            .find(|known| **known == t)
            .expect("validated")
    });
    match (given, grant) {
        (Some(t), Some("TRUE")) if t != "POWERUSER" => Err(contradiction()),
        (Some("POWERUSER"), Some("FALSE")) => Err(contradiction()),
        (None, Some("TRUE")) => Ok(Some("POWERUSER")),
        (given, _) => Ok(given),
    }
}

fn contradiction() -> ApiError {
    invalid_argument("Type and GrantPoweruserPrivileges contradict each other.")
}

/// `PATCH /api/v1/users/{UserId}`: UpdateUser.
async fn update_user(
    state: web::Data<AppState>,
    path: web::Path<String>,
    wd: WorkDocs,
) -> Result<HttpResponse, ApiError> {
    let actor = &wd.actor;
    admin_only(actor, "UpdateUser")?;
    let body: UpdateUserRequest = wd.json()?;
    let mut v = Violations::new();
    v.required_str("userId", Some(path.as_str()), 1, 256, Some(&ids::ID));
    v.optional_str("givenName", body.given_name.as_deref(), 1, 64, None);
    v.optional_str("surname", body.surname.as_deref(), 1, 64, None);
    v.optional_enum("type", body.user_type.as_deref(), USER_TYPES);
    if let Some(rule) = &body.storage_rule {
        rule.check(&mut v);
    }
    v.optional_str("timeZoneId", body.time_zone_id.as_deref(), 1, 256, None);
    v.optional_enum("locale", body.locale.as_deref(), LOCALES);
    v.optional_enum(
        "grantPoweruserPrivileges",
        body.grant_poweruser_privileges.as_deref(),
        &["TRUE", "FALSE"],
    );
    let sensitive = [
        ("givenName", body.given_name.as_deref()),
        ("surname", body.surname.as_deref()),
    ];
    validation(&v, &sensitive)?;
    let user_type = resolve_type(
        body.user_type.as_deref(),
        body.grant_poweruser_privileges.as_deref(),
    )?;
    let revoke_power = body.grant_poweruser_privileges.as_deref() == Some("FALSE");
    let (allocated, storage_type) = StorageRuleInput::resolve(body.storage_rule.as_ref());
    let mut conn = state.tenant(actor.account_id()).await.map_err(db)?;
    let row: Option<UserRow> = sqlx::query_as(&format!(
        "UPDATE wd_users
         SET given_name = COALESCE($3, given_name),
             surname = COALESCE($4, surname),
             user_type = CASE
                 WHEN $5::text IS NOT NULL THEN $5
                 WHEN $6 AND user_type = 'POWERUSER' THEN 'USER'
                 ELSE user_type END,
             storage_allocated = COALESCE($7, storage_allocated),
             storage_type = COALESCE($8, storage_type),
             time_zone_id = COALESCE($9, time_zone_id),
             locale = COALESCE($10, locale),
             modified_at = now()
         WHERE account_id = $1 AND user_id = $2
         RETURNING {USER_COLUMNS}"
    ))
    .bind(actor.account_id())
    .bind(path.as_str())
    .bind(&body.given_name)
    .bind(&body.surname)
    .bind(user_type)
    .bind(revoke_power)
    .bind(allocated)
    .bind(storage_type)
    .bind(&body.time_zone_id)
    .bind(&body.locale)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?;
    let row = row.ok_or_else(|| entity_not_exists(&path))?;
    tracing::info!(user_id = %row.user_id, "user updated");
    Ok(HttpResponse::Ok().json(user_body(row)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_prefixes_take_metacharacters_literally() {
        assert_eq!(like_prefix("Ma"), "Ma%");
        assert_eq!(like_prefix(r"50%_a\b"), r"50\%\_a\\b%");
    }

    #[test]
    fn search_queries_are_the_basic_multilingual_plane_from_space_up() {
        assert!(SEARCH_QUERY.full_match("Márcia O"));
        assert!(!SEARCH_QUERY.full_match("a\tb"));
        assert!(!SEARCH_QUERY.full_match("📁"));
        assert_eq!(SEARCH_QUERY.source(), r"[\u0020-\uFFFF]+");
    }

    #[test]
    fn poweruser_grants_agree_with_an_explicit_type() {
        assert_eq!(resolve_type(None, Some("TRUE")).unwrap(), Some("POWERUSER"));
        assert_eq!(resolve_type(Some("ADMIN"), None).unwrap(), Some("ADMIN"));
        assert_eq!(resolve_type(None, Some("FALSE")).unwrap(), None);
        assert!(resolve_type(Some("ADMIN"), Some("TRUE")).is_err());
        assert!(resolve_type(Some("POWERUSER"), Some("FALSE")).is_err());
    }
}
