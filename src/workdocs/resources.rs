//! `GetResources(collectionType=SHARED_WITH_ME)`: what others shared with a user directly,
//! through one of their groups, or with their whole organization.

use super::actor::{Actor, WorkDocs};
use super::ids::ID;
use super::model::{DocumentMetadata, FolderMetadata, ResourceRow, RESOURCE_COLUMNS};
use super::{db, encode_marker, invalid_argument, not_visible, paging, S};
use crate::aws::query::QueryParams;
use crate::aws::validation::Violations;
use crate::aws::ApiError;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/resources", web::get().to(get_resources));
}

async fn get_resources(
    req: HttpRequest,
    state: web::Data<AppState>,
    request: WorkDocs,
) -> Result<HttpResponse, ApiError> {
    const OP: &str = "GetResources";
    let query = QueryParams::parse(req.query_string());
    let mut v = Violations::new();
    v.optional_enum(
        "collectionType",
        query.get("collectionType"),
        &["SHARED_WITH_ME"],
    );
    v.optional_str("userId", query.get("userId"), 1, 256, Some(&ID));
    v.finish(S)?;
    let (limit, after) = paging(&query, 100, 999)?;
    let actor = &request.actor;
    let mut conn = state.tenant(actor.account_id()).await.map_err(db)?;
    // Administrators name the user; a token user may only ask about themselves.
    let (user_id, directory_id) = match actor {
        Actor::User(u) => match query.get("userId") {
            Some(id) if id != u.user_id => return Err(not_visible(actor, OP)),
            _ => (u.user_id.clone(), u.directory_id.clone()),
        },
        Actor::Admin { directory_id, .. } => {
            let id = query.get("userId").ok_or_else(|| {
                invalid_argument("UserId is required when calling GetResources with administrator (SigV4) credentials.")
            })?;
            let known: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM wd_users WHERE account_id = $1 AND user_id = $2)",
            )
            .bind(actor.account_id())
            .bind(id)
            .fetch_one(&mut *conn)
            .await
            .map_err(db)?;
            if !known {
                return Err(not_visible(actor, OP));
            }
            (id.to_owned(), directory_id.clone())
        }
    };
    let rows: Vec<ResourceRow> = sqlx::query_as(&format!(
        "SELECT {RESOURCE_COLUMNS} FROM wd_resources r
         WHERE r.account_id = $1 AND r.owner_id <> $2 AND r.resource_state = 'ACTIVE'
           AND ($4::text IS NULL OR r.resource_id > $4)
           AND EXISTS (
               SELECT 1 FROM wd_grants g
               WHERE g.account_id = $1 AND g.resource_id = r.resource_id
                 AND ((g.principal_type IN ('USER', 'INVITE') AND g.principal_id = $2)
                      OR (g.principal_type = 'GROUP' AND g.principal_id IN (
                            SELECT m.group_id FROM wd_group_members m
                            WHERE m.account_id = $1 AND m.user_id = $2))
                      OR (g.principal_type = 'ORGANIZATION' AND g.principal_id = $3)))
         ORDER BY r.resource_id
         LIMIT $5"
    ))
    .bind(actor.account_id())
    .bind(&user_id)
    .bind(&directory_id)
    .bind(after.as_deref())
    .bind(limit + 1)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let mut rows = rows;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let marker = more.then(|| encode_marker(&rows.last().expect("a full page").resource_id));
    let (folders, documents): (Vec<ResourceRow>, Vec<ResourceRow>) =
        rows.into_iter().partition(ResourceRow::is_folder);
    let mut out = serde_json::json!({
        "Folders": folders.into_iter().map(FolderMetadata::from).collect::<Vec<_>>(),
        "Documents": documents.into_iter().map(DocumentMetadata::from).collect::<Vec<_>>(),
    });
    if let Some(marker) = marker {
        out["Marker"] = marker.into();
    }
    Ok(HttpResponse::Ok().json(out))
}
