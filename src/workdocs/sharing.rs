//! Sharing (aws-wire.md §6.5): AddResourcePermissions, DescribeResourcePermissions,
//! RemoveResourcePermission, RemoveAllResourcePermissions.
//!
//! Only DIRECT grants are stored, one per principal and resource (the primary key); what
//! a folder grants is INHERITED below it at read time. Every change locks the resource
//! row, bumps its `permissions_revision`, and records its activity and e-mails in the same
//! transaction, so concurrent writers on one resource apply in some serial order.

use super::access::{authorize, Role, CHAIN_CTE};
use super::activity::{self, Details};
use super::actor::{Actor, WorkDocs};
use super::ids::{ID, RESOURCE_ID};
use super::model::ResourceRow;
use super::{db, encode_marker, forbidden, invalid_argument, outbox, paging, S};
use crate::aws::query::QueryParams;
use crate::aws::validation::{Constraint, Violations};
use crate::aws::{ApiError, ErrorCode};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use std::collections::BTreeMap;
use std::sync::LazyLock;

const PRINCIPAL_TYPES: &[&str] = &["USER", "GROUP", "INVITE", "ANONYMOUS", "ORGANIZATION"];
const ROLES: &[&str] = &["VIEWER", "CONTRIBUTOR", "OWNER", "COOWNER"];
/// The model sets no maximum; a bounded request keeps one transaction bounded.
const MAX_PRINCIPALS: usize = 100;
static EMAIL: LazyLock<crate::aws::validation::Pattern> = LazyLock::new(|| {
    crate::aws::validation::Pattern::new(r"[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}")
});

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        crate::startup::resource("/resources/{ResourceId}/permissions")
            .route(web::post().to(add_permissions))
            .route(web::get().to(describe_permissions))
            .route(web::delete().to(remove_all_permissions)),
    )
    .route(
        "/resources/{ResourceId}/permissions/{PrincipalId}",
        web::delete().to(remove_permission),
    );
}

fn validate_resource_id(id: &str, v: &mut Violations) {
    v.required_str("resourceId", Some(id), 1, 128, Some(&RESOURCE_ID));
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SharePrincipal {
    id: Option<String>,
    #[serde(rename = "Type")]
    kind: Option<String>,
    role: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NotificationOptions {
    send_email: Option<bool>,
    email_message: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AddRequest {
    principals: Option<Vec<SharePrincipal>>,
    notification_options: Option<NotificationOptions>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ShareResult {
    principal_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    invitee_principal_id: Option<String>,
    role: String,
    status: &'static str,
    share_id: String,
    status_message: String,
}

/// What one requested principal became.
enum Outcome {
    Applied {
        stored_id: String,
        stored_type: &'static str,
        invitee: Option<String>,
        email: Option<String>,
    },
    Failed(String),
}

/// Locks the resource for a permission change and bumps its revision.
async fn lock_and_bump(
    conn: &mut PgConnection,
    resource: &ResourceRow,
    actor: &Actor,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE wd_resources SET permissions_revision = permissions_revision + 1
         WHERE account_id = $1 AND resource_id = $2",
    )
    .bind(actor.account_id())
    .bind(&resource.resource_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// `POST /api/v1/resources/{ResourceId}/permissions`: AddResourcePermissions.
async fn add_permissions(
    state: web::Data<AppState>,
    path: web::Path<String>,
    request: WorkDocs,
) -> Result<HttpResponse, ApiError> {
    const OP: &str = "AddResourcePermissions";
    let body: AddRequest = request.json()?;
    let actor = &request.actor;
    let mut v = Violations::new();
    validate_resource_id(&path, &mut v);
    match &body.principals {
        None => v.add("principals", None, Constraint::NotNull),
        Some(list) => {
            for (i, p) in list.iter().enumerate() {
                // Coral names list members `principals.N.member.field` (1-based).
                let member = |f: &str| format!("principals.{}.member.{f}", i + 1);
                v.required_str(member("id"), p.id.as_deref(), 1, 256, Some(&ID));
                match p.kind.as_deref() {
                    None => v.add(member("type"), None, Constraint::NotNull),
                    k => v.optional_enum(member("type"), k, PRINCIPAL_TYPES),
                }
                match p.role.as_deref() {
                    None => v.add(member("role"), None, Constraint::NotNull),
                    r => v.optional_enum(member("role"), r, ROLES),
                }
            }
        }
    }
    if let Some(n) = &body.notification_options {
        v.optional_str(
            "notificationOptions.emailMessage",
            n.email_message.as_deref(),
            0,
            2048,
            None,
        );
    }
    v.finish(S)?;
    let principals = body.principals.expect("validated");
    if principals.is_empty() || principals.len() > MAX_PRINCIPALS {
        return Err(invalid_argument(format!(
            "Principals must list between 1 and {MAX_PRINCIPALS} principals."
        )));
    }
    let mut conn = state.tenant(actor.account_id()).await.map_err(db)?;
    let authorized = authorize(&mut conn, actor, &path, OP, Role::Coowner).await?;
    let resource = authorized.resource;
    if resource.resource_state != "ACTIVE" {
        return Err(ApiError::new(
            S,
            ErrorCode::ProhibitedState,
            "The resource is not active and cannot be shared.",
        ));
    }
    let send_email = body
        .notification_options
        .as_ref()
        .and_then(|n| n.send_email)
        .unwrap_or(false);
    let message = body
        .notification_options
        .as_ref()
        .and_then(|n| n.email_message.clone())
        .unwrap_or_default();

    let mut tx = conn.begin().await.map_err(db)?;
    lock_and_bump(&mut tx, &resource, actor).await.map_err(db)?;
    let mut results = Vec::with_capacity(principals.len());
    for p in &principals {
        let id = p.id.as_deref().expect("validated");
        let kind = p.kind.as_deref().expect("validated");
        let role = p.role.as_deref().expect("validated");
        let outcome = resolve_principal(&mut tx, actor, &resource, id, kind, role)
            .await
            .map_err(db)?;
        let (status, message_text, invitee) = match outcome {
            Outcome::Failed(reason) => ("FAILURE", reason, None),
            Outcome::Applied {
                stored_id,
                stored_type,
                invitee,
                email,
            } => {
                let previous: Option<String> = sqlx::query_scalar(
                    "SELECT role FROM wd_grants
                     WHERE account_id = $1 AND resource_id = $2 AND principal_id = $3",
                )
                .bind(actor.account_id())
                .bind(&resource.resource_id)
                .bind(&stored_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
                if previous.as_deref() != Some(role) {
                    sqlx::query(
                        "INSERT INTO wd_grants (account_id, resource_id, principal_id, principal_type, role, granted_by)
                         VALUES ($1, $2, $3, $4, $5, $6)
                         ON CONFLICT ON CONSTRAINT wd_grants_one_direct_role
                         DO UPDATE SET role = EXCLUDED.role, principal_type = EXCLUDED.principal_type,
                                       granted_by = EXCLUDED.granted_by, modified_at = now()",
                    )
                    .bind(actor.account_id())
                    .bind(&resource.resource_id)
                    .bind(&stored_id)
                    .bind(stored_type)
                    .bind(role)
                    .bind(actor.principal())
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                    let (users, groups) = participants(stored_type, &stored_id);
                    let kind = if previous.is_some() {
                        "SHARE_PERMISSION_CHANGED"
                    } else {
                        "SHARED"
                    };
                    activity::record(
                        &mut tx,
                        actor,
                        &resource,
                        kind,
                        Details {
                            participant_users: &users,
                            participant_groups: &groups,
                            ..Default::default()
                        },
                    )
                    .await
                    .map_err(db)?;
                    if send_email {
                        if let Some(to) = email {
                            outbox::enqueue(&mut tx, actor, &to, &resource, role, &message)
                                .await
                                .map_err(db)?;
                        }
                    }
                }
                ("SUCCESS", String::new(), invitee)
            }
        };
        results.push(ShareResult {
            principal_id: id.to_owned(),
            invitee_principal_id: invitee,
            role: role.to_owned(),
            status,
            share_id: resource.resource_id.clone(),
            status_message: message_text,
        });
    }
    tx.commit().await.map_err(db)?;
    Ok(HttpResponse::Created().json(serde_json::json!({ "ShareResults": results })))
}

fn participants(kind: &str, id: &str) -> (Vec<String>, Vec<String>) {
    match kind {
        "USER" | "INVITE" => (vec![id.to_owned()], vec![]),
        "GROUP" => (vec![], vec![id.to_owned()]),
        _ => (vec![], vec![]),
    }
}

/// Checks one requested principal against the tenant; failures are per principal.
async fn resolve_principal(
    conn: &mut PgConnection,
    actor: &Actor,
    resource: &ResourceRow,
    id: &str,
    kind: &str,
    role: &str,
) -> Result<Outcome, sqlx::Error> {
    let failed = |m: String| Ok(Outcome::Failed(m));
    if role == "OWNER" {
        return failed("The OWNER role cannot be granted; use COOWNER.".into());
    }
    let account = actor.account_id();
    match kind {
        "USER" => {
            let user: Option<(String, Option<String>)> = sqlx::query_as(
                "SELECT status, email_address FROM wd_users WHERE account_id = $1 AND user_id = $2",
            )
            .bind(account)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
            match user {
                None => failed(format!("The principal {id} does not exist.")),
                Some((status, _)) if status == "INACTIVE" => {
                    failed(format!("The user {id} is not active."))
                }
                Some(_) if id == resource.owner_id => {
                    failed("The owner already has every permission on the resource.".into())
                }
                Some((_, email)) => Ok(Outcome::Applied {
                    stored_id: id.to_owned(),
                    stored_type: "USER",
                    invitee: None,
                    email,
                }),
            }
        }
        "GROUP" => {
            let exists: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM wd_groups WHERE account_id = $1 AND group_id = $2)",
            )
            .bind(account)
            .bind(id)
            .fetch_one(&mut *conn)
            .await?;
            if !exists {
                return failed(format!("The principal {id} does not exist."));
            }
            Ok(Outcome::Applied {
                stored_id: id.to_owned(),
                stored_type: "GROUP",
                invitee: None,
                email: None,
            })
        }
        "INVITE" => {
            if role != "VIEWER" {
                return failed("Invited users can only be viewers.".into());
            }
            if !EMAIL.full_match(id) {
                return failed(format!("{id} is not a valid e-mail address."));
            }
            let user_id = find_or_invite(conn, actor, id).await?;
            if user_id == resource.owner_id {
                return failed("The owner already has every permission on the resource.".into());
            }
            Ok(Outcome::Applied {
                stored_id: user_id.clone(),
                stored_type: "INVITE",
                invitee: Some(user_id),
                email: Some(id.to_owned()),
            })
        }
        "ANONYMOUS" => {
            if id != "anonymous" {
                return failed("The anonymous principal's id is 'anonymous'.".into());
            }
            if role != "VIEWER" {
                return failed("Anonymous users can only be viewers.".into());
            }
            Ok(Outcome::Applied {
                stored_id: "anonymous".into(),
                stored_type: "ANONYMOUS",
                invitee: None,
                email: None,
            })
        }
        "ORGANIZATION" => {
            if id != actor.directory_id() {
                return failed(format!("The principal {id} does not exist."));
            }
            Ok(Outcome::Applied {
                stored_id: id.to_owned(),
                stored_type: "ORGANIZATION",
                invitee: None,
                email: None,
            })
        }
        _ => failed(format!("Unsupported principal type {kind}.")),
    }
}

/// The user with this e-mail, or a new PENDING user for it (no password, cannot log in).
async fn find_or_invite(
    conn: &mut PgConnection,
    actor: &Actor,
    email: &str,
) -> Result<String, sqlx::Error> {
    let existing: Option<String> = sqlx::query_scalar(
        "SELECT user_id FROM wd_users WHERE account_id = $1 AND lower(email_address) = lower($2)
         ORDER BY created_at LIMIT 1",
    )
    .bind(actor.account_id())
    .bind(email)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(id) = existing {
        return Ok(id);
    }
    let local = email.split('@').next().unwrap_or(email);
    let new = super::store::NewUser {
        username: email,
        email_address: Some(email),
        given_name: local,
        surname: local,
        user_type: "MINIMALUSER",
        status: "PENDING",
        password_hash: None,
        time_zone_id: None,
        storage_allocated: None,
        storage_type: "UNLIMITED",
    };
    match super::store::create_user(conn, actor.account_id(), &new).await {
        Ok(user) => Ok(user.user_id),
        Err(super::store::StoreError::Database(e)) => Err(e),
        // A user whose username is that e-mail but who has another address: use them.
        Err(_) => sqlx::query_scalar(
            "SELECT user_id FROM wd_users WHERE account_id = $1 AND lower(username) = lower($2)",
        )
        .bind(actor.account_id())
        .bind(email)
        .fetch_one(&mut *conn)
        .await,
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct PermissionInfo {
    role: String,
    #[serde(rename = "Type")]
    kind: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Principal {
    id: String,
    #[serde(rename = "Type")]
    kind: String,
    roles: Vec<PermissionInfo>,
}

/// `GET /api/v1/resources/{ResourceId}/permissions`: DescribeResourcePermissions.
async fn describe_permissions(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    request: WorkDocs,
) -> Result<HttpResponse, ApiError> {
    const OP: &str = "DescribeResourcePermissions";
    let query = QueryParams::parse(req.query_string());
    let mut v = Violations::new();
    validate_resource_id(&path, &mut v);
    let principal_filter = query.get("principalId");
    v.optional_str("principalId", principal_filter, 1, 256, Some(&ID));
    v.finish(S)?;
    let (limit, after) = paging(&query, 100, 999)?;
    let mut conn = state.tenant(request.actor.account_id()).await.map_err(db)?;
    let resource = authorize(&mut conn, &request.actor, &path, OP, Role::Viewer)
        .await?
        .resource;

    let rows: Vec<(String, String, String, bool)> = sqlx::query_as(&format!(
        // The grants of each folder of the chain by an index scan on (account, resource): the
        // OFFSET 0 keeps the planner from making it a join that scans all the tenant's
        // grants (see access::RANK).
        "{CHAIN_CTE}
         SELECT g.principal_id, g.principal_type, g.role, c.depth = 0
         FROM chain c CROSS JOIN LATERAL (
             SELECT g.principal_id, g.principal_type, g.role FROM wd_grants g
             WHERE g.account_id = $1 AND g.resource_id = c.resource_id OFFSET 0) g
         ORDER BY c.depth"
    ))
    .bind(request.actor.account_id())
    .bind(&resource.resource_id)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;

    // The owner first, then every principal by id; DIRECT roles before INHERITED ones.
    let mut principals: BTreeMap<String, Principal> = BTreeMap::new();
    for (id, kind, role, direct) in rows {
        let entry = principals.entry(id.clone()).or_insert_with(|| Principal {
            id,
            kind: kind.clone(),
            roles: Vec::new(),
        });
        let info_kind = if direct { "DIRECT" } else { "INHERITED" };
        if !entry
            .roles
            .iter()
            .any(|r| r.role == role && r.kind == info_kind)
        {
            entry.roles.push(PermissionInfo {
                role,
                kind: info_kind,
            });
        }
        entry.roles.sort_by_key(|r| r.kind != "DIRECT");
    }
    let owner = Principal {
        id: resource.owner_id.clone(),
        kind: "USER".into(),
        roles: vec![PermissionInfo {
            role: "OWNER".into(),
            kind: "DIRECT",
        }],
    };
    principals.remove(&resource.owner_id);
    let all: Vec<Principal> = std::iter::once(owner)
        .chain(principals.into_values())
        .filter(|p| principal_filter.is_none_or(|f| f == p.id))
        .collect();
    let start = match &after {
        None => 0,
        Some(marker) => all
            .iter()
            .position(|p| &p.id == marker)
            .map(|i| i + 1)
            .ok_or_else(super::bad_paging)?,
    };
    let page: Vec<&Principal> = all.iter().skip(start).take(limit as usize).collect();
    let mut out = serde_json::json!({ "Principals": page });
    if start + page.len() < all.len() {
        out["Marker"] = encode_marker(&page.last().expect("a full page").id).into();
    }
    Ok(HttpResponse::Ok().json(out))
}

#[derive(Debug, Deserialize)]
struct RemovePath {
    #[serde(rename = "ResourceId")]
    resource_id: String,
    #[serde(rename = "PrincipalId")]
    principal_id: String,
}

/// `DELETE /api/v1/resources/{ResourceId}/permissions/{PrincipalId}`: RemoveResourcePermission.
/// Owners and co-owners may remove anyone but the owner; anyone may remove themselves.
async fn remove_permission(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<RemovePath>,
    request: WorkDocs,
) -> Result<HttpResponse, ApiError> {
    const OP: &str = "RemoveResourcePermission";
    let query = QueryParams::parse(req.query_string());
    let actor = &request.actor;
    let mut v = Violations::new();
    validate_resource_id(&path.resource_id, &mut v);
    v.required_str("principalId", Some(&path.principal_id), 1, 256, Some(&ID));
    let kind = query.get("type");
    v.optional_enum("principalType", kind, PRINCIPAL_TYPES);
    v.finish(S)?;
    let mut conn = state.tenant(actor.account_id()).await.map_err(db)?;
    let authorized = authorize(&mut conn, actor, &path.resource_id, OP, Role::Viewer).await?;
    let removing_self = actor.user().is_some_and(|u| u.user_id == path.principal_id);
    if authorized.role < Role::Coowner && !removing_self {
        return Err(forbidden(actor, OP));
    }
    let resource = authorized.resource;
    if path.principal_id == resource.owner_id {
        return Err(ApiError::new(
            S,
            ErrorCode::UnauthorizedOperation,
            "The owner's permission cannot be removed.",
        ));
    }
    let mut tx = conn.begin().await.map_err(db)?;
    lock_and_bump(&mut tx, &resource, actor).await.map_err(db)?;
    // An invitation is stored under the invitee's user id; it may also be named by the
    // e-mail address it was shared with (what AddResourcePermissions answered).
    let removed: Option<(String, String)> = sqlx::query_as(
        "DELETE FROM wd_grants
         WHERE account_id = $1 AND resource_id = $2
           AND (principal_id = $3
                OR (principal_type = 'INVITE' AND strpos($3, '@') > 0 AND principal_id IN (
                      SELECT user_id FROM wd_users
                      WHERE account_id = $1 AND lower(email_address) = lower($3))))
           AND ($4::text IS NULL OR principal_type = $4)
         RETURNING principal_type, principal_id",
    )
    .bind(actor.account_id())
    .bind(&resource.resource_id)
    .bind(&path.principal_id)
    .bind(kind)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?;
    if let Some((kind, principal_id)) = removed {
        let (users, groups) = participants(&kind, &principal_id);
        activity::record(
            &mut tx,
            actor,
            &resource,
            "UNSHARED",
            Details {
                participant_users: &users,
                participant_groups: &groups,
                ..Default::default()
            },
        )
        .await
        .map_err(db)?;
    }
    tx.commit().await.map_err(db)?;
    Ok(HttpResponse::NoContent().finish())
}

/// `DELETE /api/v1/resources/{ResourceId}/permissions`: RemoveAllResourcePermissions
/// (the owner stays).
async fn remove_all_permissions(
    state: web::Data<AppState>,
    path: web::Path<String>,
    request: WorkDocs,
) -> Result<HttpResponse, ApiError> {
    const OP: &str = "RemoveAllResourcePermissions";
    let actor = &request.actor;
    let mut v = Violations::new();
    validate_resource_id(&path, &mut v);
    v.finish(S)?;
    let mut conn = state.tenant(actor.account_id()).await.map_err(db)?;
    let resource = authorize(&mut conn, actor, &path, OP, Role::Coowner)
        .await?
        .resource;
    let mut tx = conn.begin().await.map_err(db)?;
    lock_and_bump(&mut tx, &resource, actor).await.map_err(db)?;
    let removed: Vec<(String, String)> = sqlx::query_as(
        "DELETE FROM wd_grants WHERE account_id = $1 AND resource_id = $2
         RETURNING principal_id, principal_type",
    )
    .bind(actor.account_id())
    .bind(&resource.resource_id)
    .fetch_all(&mut *tx)
    .await
    .map_err(db)?;
    if !removed.is_empty() {
        let mut users = Vec::new();
        let mut groups = Vec::new();
        for (id, kind) in removed {
            let (u, g) = participants(&kind, &id);
            users.extend(u);
            groups.extend(g);
        }
        activity::record(
            &mut tx,
            actor,
            &resource,
            "UNSHARED",
            Details {
                participant_users: &users,
                participant_groups: &groups,
                ..Default::default()
            },
        )
        .await
        .map_err(db)?;
    }
    tx.commit().await.map_err(db)?;
    Ok(HttpResponse::NoContent().finish())
}
