//! `DescribeActivities`. Activities are written by every change, in its transaction
//! (`activity::record`). Indirect activities are derived when read: asking about a
//! resource with `includeIndirectActivities=true` also returns the sharing activities of
//! the folders above it, flagged `IsIndirectActivity`, so sharing a folder of 100,000
//! documents writes one row, not 100,000.

use super::access::{authorize, Role, CHAIN_CTE};
use super::actor::{Actor, WorkDocs};
use super::ids::ID;
use super::model::{epoch, UserMetadata};
use super::{db, encode_marker, invalid_argument, not_visible, paging, S};
use crate::aws::query::QueryParams;
use crate::aws::validation::{Pattern, Violations};
use crate::aws::ApiError;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::LazyLock;

/// The model's `ActivityNamesFilterType`: a comma-separated list of names.
static ACTIVITY_TYPES_PATTERN: LazyLock<Pattern> = LazyLock::new(|| Pattern::new(r"[\w,]+"));

pub const ACTIVITY_TYPES: &[&str] = &[
    "DOCUMENT_CHECKED_IN",
    "DOCUMENT_CHECKED_OUT",
    "DOCUMENT_RENAMED",
    "DOCUMENT_VERSION_UPLOADED",
    "DOCUMENT_VERSION_DELETED",
    "DOCUMENT_VERSION_VIEWED",
    "DOCUMENT_VERSION_DOWNLOADED",
    "DOCUMENT_RECYCLED",
    "DOCUMENT_RESTORED",
    "DOCUMENT_REVERTED",
    "DOCUMENT_SHARED",
    "DOCUMENT_UNSHARED",
    "DOCUMENT_SHARE_PERMISSION_CHANGED",
    "DOCUMENT_SHAREABLE_LINK_CREATED",
    "DOCUMENT_SHAREABLE_LINK_REMOVED",
    "DOCUMENT_SHAREABLE_LINK_PERMISSION_CHANGED",
    "DOCUMENT_MOVED",
    "DOCUMENT_COMMENT_ADDED",
    "DOCUMENT_COMMENT_DELETED",
    "DOCUMENT_ANNOTATION_ADDED",
    "DOCUMENT_ANNOTATION_DELETED",
    "FOLDER_CREATED",
    "FOLDER_DELETED",
    "FOLDER_RENAMED",
    "FOLDER_RECYCLED",
    "FOLDER_RESTORED",
    "FOLDER_SHARED",
    "FOLDER_UNSHARED",
    "FOLDER_SHARE_PERMISSION_CHANGED",
    "FOLDER_SHAREABLE_LINK_CREATED",
    "FOLDER_SHAREABLE_LINK_REMOVED",
    "FOLDER_SHAREABLE_LINK_PERMISSION_CHANGED",
    "FOLDER_MOVED",
];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/activities", web::get().to(describe_activities));
}

#[derive(Debug, sqlx::FromRow)]
struct ActivityRow {
    activity_id: i64,
    activity_type: String,
    occurred_at: DateTime<Utc>,
    initiator_id: String,
    resource_id: String,
    resource_type: String,
    resource_name: String,
    parent_id: Option<String>,
    original_parent_id: Option<String>,
    original_name: Option<String>,
    participant_users: Vec<String>,
    participant_groups: Vec<String>,
    indirect: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ResourceMetadata {
    #[serde(rename = "Type")]
    kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    original_name: Option<String>,
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_id: Option<String>,
}

#[derive(Serialize, Clone)]
#[serde(rename_all = "PascalCase")]
struct GroupMetadata {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Participants {
    users: Vec<UserMetadata>,
    groups: Vec<GroupMetadata>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Activity {
    #[serde(rename = "Type")]
    kind: String,
    time_stamp: f64,
    is_indirect_activity: bool,
    organization_id: String,
    initiator: UserMetadata,
    participants: Participants,
    resource_metadata: ResourceMetadata,
    #[serde(skip_serializing_if = "Option::is_none")]
    original_parent: Option<ResourceMetadata>,
}

fn parse_time(name: &str, raw: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    raw.map(|t| {
        DateTime::parse_from_rfc3339(t)
            .map(|d| d.with_timezone(&Utc))
            .or_else(|_| {
                t.parse::<f64>().map(|s| {
                    DateTime::from_timestamp_millis((s * 1000.0) as i64).unwrap_or_default()
                })
            })
            .map_err(|_| invalid_argument(format!("{name} must be an ISO-8601 timestamp.")))
    })
    .transpose()
}

async fn describe_activities(
    req: HttpRequest,
    state: web::Data<AppState>,
    request: WorkDocs,
) -> Result<HttpResponse, ApiError> {
    const OP: &str = "DescribeActivities";
    let query = QueryParams::parse(req.query_string());
    let actor = &request.actor;
    let mut v = Violations::new();
    v.optional_str(
        "organizationId",
        query.get("organizationId"),
        1,
        256,
        Some(&ID),
    );
    v.optional_str("resourceId", query.get("resourceId"), 1, 256, Some(&ID));
    v.optional_str("userId", query.get("userId"), 1, 256, Some(&ID));
    v.optional_str(
        "activityTypes",
        query.get("activityTypes"),
        1,
        1024,
        Some(&ACTIVITY_TYPES_PATTERN),
    );
    v.finish(S)?;
    let (limit, after) = paging(&query, 100, 999)?;
    let before: Option<i64> = after
        .map(|m| m.parse().map_err(|_| super::bad_paging()))
        .transpose()?;
    let start = parse_time("StartTime", query.get("startTime"))?;
    let end = parse_time("EndTime", query.get("endTime"))?;
    let types: Option<Vec<String>> = match query.get("activityTypes") {
        None => None,
        Some(list) => {
            let types: Vec<String> = list.split(',').map(str::to_owned).collect();
            if let Some(bad) = types.iter().find(|t| !ACTIVITY_TYPES.contains(&t.as_str())) {
                return Err(invalid_argument(format!("{bad} is not an activity type.")));
            }
            Some(types)
        }
    };
    let indirect = query.get("includeIndirectActivities") == Some("true");
    match actor {
        Actor::Admin { directory_id, .. } => match query.get("organizationId") {
            None => {
                return Err(invalid_argument(
                    "OrganizationId is required when calling DescribeActivities with administrator (SigV4) credentials.",
                ))
            }
            Some(org) if org != directory_id => return Err(not_visible(actor, OP)),
            Some(_) => {}
        },
        Actor::User(_) => {
            if query.get("userId").is_some() {
                return Err(invalid_argument("UserId is only for administrator (SigV4) requests."));
            }
        }
    }
    let resource_id = query.get("resourceId");
    let mut conn = state.tenant(actor.account_id()).await.map_err(db)?;
    if let Some(id) = resource_id {
        authorize(&mut conn, actor, id, OP, Role::Viewer).await?;
    }
    // Scope: one resource (and, if asked, the sharing of the folders above it); else what
    // the user did or was a participant of; else (administrators) the organization.
    let subject = match actor {
        Actor::User(u) if resource_id.is_none() => Some(u.user_id.as_str()),
        _ => query.get("userId"),
    };
    let rows: Vec<ActivityRow> = sqlx::query_as(&format!(
        "{CHAIN_CTE}
         SELECT a.activity_id, a.activity_type, a.occurred_at, a.initiator_id, a.resource_id,
                a.resource_type, a.resource_name, a.parent_id, a.original_parent_id,
                a.original_name, a.participant_users, a.participant_groups,
                ($2::text IS NOT NULL AND a.resource_id <> $2) AS indirect
         FROM wd_activities a
         WHERE a.account_id = $1
           AND ($2::text IS NULL
                OR a.resource_id = $2
                OR ($3 AND a.activity_type LIKE '%SHARE%'
                    AND a.resource_id IN (SELECT resource_id FROM chain WHERE depth > 0)))
           AND ($4::text IS NULL OR a.initiator_id = $4 OR $4 = ANY (a.participant_users))
           AND ($5::timestamptz IS NULL OR a.occurred_at >= $5)
           AND ($6::timestamptz IS NULL OR a.occurred_at < $6)
           AND ($7::text[] IS NULL OR a.activity_type = ANY ($7))
           AND ($8::bigint IS NULL OR a.activity_id < $8)
         ORDER BY a.activity_id DESC
         LIMIT $9"
    ))
    .bind(actor.account_id())
    .bind(resource_id)
    .bind(indirect)
    .bind(subject)
    .bind(start)
    .bind(end)
    .bind(types)
    .bind(before)
    .bind(limit + 1)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let mut rows = rows;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let marker =
        more.then(|| encode_marker(&rows.last().expect("a full page").activity_id.to_string()));

    let mut user_ids: Vec<String> = rows.iter().map(|r| r.initiator_id.clone()).collect();
    user_ids.extend(
        rows.iter()
            .flat_map(|r| r.participant_users.iter().cloned()),
    );
    let users: HashMap<String, UserMetadata> =
        sqlx::query_as::<_, (String, String, String, String, Option<String>)>(
            "SELECT user_id, username, given_name, surname, email_address FROM wd_users
         WHERE account_id = $1 AND user_id = ANY ($2)",
        )
        .bind(actor.account_id())
        .bind(&user_ids)
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?
        .into_iter()
        .map(|(id, username, given, surname, email)| {
            (
                id.clone(),
                UserMetadata {
                    id,
                    username: Some(username),
                    given_name: Some(given),
                    surname: Some(surname),
                    email_address: email,
                },
            )
        })
        .collect();
    let group_ids: Vec<String> = rows
        .iter()
        .flat_map(|r| r.participant_groups.iter().cloned())
        .collect();
    let groups: HashMap<String, String> = sqlx::query_as::<_, (String, String)>(
        "SELECT group_id, name FROM wd_groups WHERE account_id = $1 AND group_id = ANY ($2)",
    )
    .bind(actor.account_id())
    .bind(&group_ids)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?
    .into_iter()
    .collect();
    let user = |id: &str| {
        users.get(id).cloned().unwrap_or(UserMetadata {
            id: id.to_owned(),
            username: None,
            given_name: None,
            surname: None,
            email_address: None,
        })
    };
    let activities: Vec<Activity> = rows
        .into_iter()
        .map(|r| Activity {
            kind: r.activity_type,
            time_stamp: epoch(r.occurred_at),
            is_indirect_activity: r.indirect,
            organization_id: actor.directory_id().to_owned(),
            initiator: user(&r.initiator_id),
            participants: Participants {
                users: r.participant_users.iter().map(|id| user(id)).collect(),
                groups: r
                    .participant_groups
                    .iter()
                    .map(|id| GroupMetadata {
                        id: id.clone(),
                        name: groups.get(id).cloned(),
                    })
                    .collect(),
            },
            original_parent: r.original_parent_id.map(|id| ResourceMetadata {
                kind: "FOLDER".into(),
                name: None,
                original_name: None,
                id,
                parent_id: None,
            }),
            resource_metadata: ResourceMetadata {
                kind: r.resource_type,
                name: Some(r.resource_name),
                original_name: r.original_name,
                id: r.resource_id,
                parent_id: r.parent_id,
            },
        })
        .collect();
    let mut out = serde_json::json!({ "UserActivities": activities });
    if let Some(marker) = marker {
        out["Marker"] = marker.into();
    }
    Ok(HttpResponse::Ok().json(out))
}
