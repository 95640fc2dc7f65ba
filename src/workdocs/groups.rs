//! Groups: DescribeGroups (aws-wire.md §7), and our own administrator endpoints to create
//! groups and manage their members, which WorkDocs leaves to its directory:
//!
//! - `POST /api/v1/groups` `{"Name"}` → 201 `{"Group": {"Id", "Name"}}`
//! - `GET /api/v1/groups/{GroupId}/members` → 200 `{"Users": [UserMetadata]}`
//! - `PUT` / `DELETE /api/v1/groups/{GroupId}/members/{UserId}` → 204, idempotent
//!
//! They take SigV4 credentials of the account; a token user gets 403.

use super::actor::WorkDocs;
use super::model::UserMetadata;
use super::store::{self, redacted_message, GroupError, GroupRow};
use super::users::{admin_only, fold, keyset_after, like_prefix, next_page, SEARCH_QUERY};
use super::{db, entity_not_exists, ids, not_visible};
use super::{paging, S};
use crate::aws::query::QueryParams;
use crate::aws::validation::Violations;
use crate::aws::{ApiError, ErrorCode};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        crate::startup::resource("/groups")
            .route(web::get().to(describe_groups))
            .route(web::post().to(create_group)),
    )
    .service(crate::startup::resource("/groups/{GroupId}/members").route(web::get().to(members)))
    .service(
        crate::startup::resource("/groups/{GroupId}/members/{UserId}")
            .route(web::put().to(add_member))
            .route(web::delete().to(remove_member)),
    );
}

fn group_json(g: GroupRow) -> Value {
    json!({"Id": g.group_id, "Name": g.name})
}

#[derive(sqlx::FromRow)]
struct Sorted {
    #[sqlx(flatten)]
    group: GroupRow,
    sort_key: String,
}

/// `GET /api/v1/groups`: DescribeGroups, a prefix search on the name.
async fn describe_groups(
    req: HttpRequest,
    state: web::Data<AppState>,
    wd: WorkDocs,
) -> Result<HttpResponse, ApiError> {
    let actor = &wd.actor;
    let q = QueryParams::parse(req.query_string());
    let (search, organization) = (q.get("searchQuery"), q.get("organizationId"));
    let mut v = Violations::new();
    v.required_str("searchQuery", search, 1, 512, Some(&SEARCH_QUERY));
    v.optional_str("organizationId", organization, 1, 256, Some(&ids::ID));
    if !v.is_empty() {
        return Err(ApiError::new(
            S,
            ErrorCode::Validation,
            redacted_message(&v, &[("searchQuery", search)]),
        ));
    }
    // `PositiveIntegerType`: at least 1, no maximum but the type's.
    let (limit, marker) = paging(&q, 24, i64::from(i32::MAX))?;
    let after = keyset_after(marker)?;
    if organization.is_some_and(|o| o != actor.directory_id()) {
        return Err(not_visible(actor, "DescribeGroups"));
    }
    let key = r#"(lower(name) COLLATE "C")"#;
    let mut conn = state.tenant(actor.account_id()).await.map_err(db)?;
    let mut rows: Vec<Sorted> = sqlx::query_as(&format!(
        "SELECT group_id, name, {key} AS sort_key FROM wd_groups
         WHERE account_id = $1 AND {} LIKE {} ESCAPE '\\'
           AND ($3::text IS NULL OR ({key}, group_id COLLATE \"C\") > ($3, $4))
         ORDER BY {key}, group_id COLLATE \"C\"
         LIMIT $5",
        fold("name"),
        fold("$2"),
    ))
    .bind(actor.account_id())
    .bind(like_prefix(search.expect("validated")))
    .bind(after.as_ref().map(|a| &a.0))
    .bind(after.as_ref().map(|a| &a.1))
    .bind(limit.saturating_add(1))
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let next = next_page(&mut rows, limit, |r| (&r.sort_key, &r.group.group_id));
    let groups: Vec<Value> = rows.into_iter().map(|r| group_json(r.group)).collect();
    let mut out = json!({ "Groups": groups });
    if let Some(next) = next {
        out["Marker"] = next.into();
    }
    Ok(HttpResponse::Ok().json(out))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateGroupRequest {
    name: Option<String>,
}

/// `POST /api/v1/groups`: a new group of the caller's organization.
async fn create_group(state: web::Data<AppState>, wd: WorkDocs) -> Result<HttpResponse, ApiError> {
    admin_only(&wd.actor, "CreateGroup")?;
    let body: CreateGroupRequest = wd.json()?;
    let mut v = Violations::new();
    v.required_str("name", body.name.as_deref(), 1, 256, Some(&SEARCH_QUERY));
    v.finish(S)?;
    let name = body.name.as_deref().expect("validated");
    let mut conn = state.tenant(wd.actor.account_id()).await.map_err(db)?;
    let group = store::create_group(&mut conn, wd.actor.account_id(), name)
        .await
        .map_err(group_error)?;
    tracing::info!(group_id = %group.group_id, "group created");
    Ok(HttpResponse::Created().json(json!({ "Group": group_json(group) })))
}

fn group_error(e: GroupError) -> ApiError {
    match e {
        GroupError::NameTaken(_) => ApiError::new(
            S,
            ErrorCode::EntityAlreadyExists,
            "A group with this name already exists in the organization.",
        ),
        GroupError::NoSuchGroup(id) | GroupError::NoSuchUser(id) => entity_not_exists(&id),
        GroupError::Database(e) => db(e),
        e @ GroupError::NoSuchAccount(_) => ApiError::internal(S, e),
    }
}

/// The `GroupId` and `UserId` path labels, validated.
fn member_labels(path: &(String, String)) -> Result<(), ApiError> {
    let mut v = Violations::new();
    v.required_str("groupId", Some(&path.0), 1, 256, Some(&ids::ID));
    v.required_str("userId", Some(&path.1), 1, 256, Some(&ids::ID));
    v.finish(S)
}

/// `PUT /api/v1/groups/{GroupId}/members/{UserId}`.
async fn add_member(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    wd: WorkDocs,
) -> Result<HttpResponse, ApiError> {
    admin_only(&wd.actor, "AddGroupMember")?;
    member_labels(&path)?;
    let (group_id, user_id) = path.into_inner();
    let mut conn = state.tenant(wd.actor.account_id()).await.map_err(db)?;
    let mut tx = conn.begin().await.map_err(db)?;
    store::add_group_member(&mut tx, wd.actor.account_id(), &group_id, &user_id)
        .await
        .map_err(group_error)?;
    tx.commit().await.map_err(db)?;
    tracing::info!(%group_id, %user_id, "group member added");
    Ok(HttpResponse::NoContent().finish())
}

/// `DELETE /api/v1/groups/{GroupId}/members/{UserId}`: 204 whether or not the user was a
/// member; an unknown group or user is 404, so that a typo does not pass for success.
async fn remove_member(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    wd: WorkDocs,
) -> Result<HttpResponse, ApiError> {
    admin_only(&wd.actor, "RemoveGroupMember")?;
    member_labels(&path)?;
    let (group_id, user_id) = path.into_inner();
    let account = wd.actor.account_id();
    let mut conn = state.tenant(wd.actor.account_id()).await.map_err(db)?;
    let (group, user): (bool, bool) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM wd_groups WHERE account_id = $1 AND group_id = $2),
                EXISTS (SELECT 1 FROM wd_users WHERE account_id = $1 AND user_id = $3)",
    )
    .bind(account)
    .bind(&group_id)
    .bind(&user_id)
    .fetch_one(&mut *conn)
    .await
    .map_err(db)?;
    if !group {
        return Err(entity_not_exists(&group_id));
    }
    if !user {
        return Err(entity_not_exists(&user_id));
    }
    sqlx::query(
        "DELETE FROM wd_group_members WHERE account_id = $1 AND group_id = $2 AND user_id = $3",
    )
    .bind(account)
    .bind(&group_id)
    .bind(&user_id)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    tracing::info!(%group_id, %user_id, "group member removed");
    Ok(HttpResponse::NoContent().finish())
}

#[derive(sqlx::FromRow)]
struct Member {
    user_id: String,
    username: String,
    given_name: String,
    surname: String,
    email_address: Option<String>,
}

/// `GET /api/v1/groups/{GroupId}/members`: every member, by username.
async fn members(
    state: web::Data<AppState>,
    path: web::Path<String>,
    wd: WorkDocs,
) -> Result<HttpResponse, ApiError> {
    admin_only(&wd.actor, "DescribeGroupMembers")?;
    let mut v = Violations::new();
    v.required_str("groupId", Some(path.as_str()), 1, 256, Some(&ids::ID));
    v.finish(S)?;
    let account = wd.actor.account_id();
    let mut conn = state.tenant(wd.actor.account_id()).await.map_err(db)?;
    let exists: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM wd_groups WHERE account_id = $1 AND group_id = $2)",
    )
    .bind(account)
    .bind(path.as_str())
    .fetch_one(&mut *conn)
    .await
    .map_err(db)?;
    if !exists {
        return Err(entity_not_exists(&path));
    }
    let rows: Vec<Member> = sqlx::query_as(
        "SELECT u.user_id, u.username, u.given_name, u.surname, u.email_address
         FROM wd_group_members m
         JOIN wd_users u ON u.account_id = m.account_id AND u.user_id = m.user_id
         WHERE m.account_id = $1 AND m.group_id = $2
         ORDER BY lower(u.username) COLLATE \"C\"",
    )
    .bind(account)
    .bind(path.as_str())
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let users: Vec<UserMetadata> = rows
        .into_iter()
        .map(|m| UserMetadata {
            id: m.user_id,
            username: Some(m.username),
            given_name: Some(m.given_name),
            surname: Some(m.surname),
            email_address: m.email_address,
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "Users": users })))
}
