//! Folders (aws-wire.md §6.6, §7.2): CreateFolder, GetFolder, GetFolderPath,
//! DescribeFolderContents, UpdateFolder, DeleteFolder, DescribeRootFolders — and the tree
//! rules documents share with them (lookups by kind, paths, renames, moves, recycling,
//! deletion).
//!
//! Recycling sets `ResourceState` RECYCLED on the item only and keeps its parent, so a
//! restore puts it back where it was. Recycled items leave their folder's listing and are
//! listed in the owner's recycle bin instead; nothing is created in or moved into a
//! recycled folder (or one below it), and a recycled item is renamed or moved only while
//! being restored.
//!
//! Concurrency: a tree changes shape only through moves and deletions, and each of them
//! first locks the row of the tree's root folder (`FOR NO KEY UPDATE`, which does not block
//! new children), so they apply one at a time per tree. A move checks for a cycle only
//! after taking that lock, on a fresh read of the target's ancestors, so two concurrent
//! moves (A into B, B into A) can never both pass. Moves between trees are refused and a
//! resource never changes owner, so that one lock covers every row a move reads. Creations
//! take no tree lock: a new leaf cannot close a cycle, and if its parent is deleted
//! meanwhile the foreign key refuses it.

use super::access::{authorize, Role, CHAIN_CTE, GRANT_MATCHES_USER};
use super::activity::{self, Details};
use super::actor::{Actor, WorkDocs};
use super::ids::{new_resource_id, ID, RESOURCE_ID, RESOURCE_NAME, RESOURCE_NAME_SOURCE};
use super::model::{DocumentMetadata, FolderMetadata, ResourceRow, RESOURCE_COLUMNS};
use super::{db, encode_marker, entity_not_exists, not_visible, paging, token_only, S};
use crate::aws::query::QueryParams;
use crate::aws::validation::{Constraint, Pattern, Violations};
use crate::aws::{ApiError, ErrorCode};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{PgConnection, PgExecutor};
use std::sync::LazyLock;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/folders", web::post().to(create_folder))
        .service(
            crate::startup::resource("/folders/{FolderId}")
                .route(web::get().to(get_folder))
                .route(web::patch().to(update_folder))
                .route(web::delete().to(delete_folder)),
        )
        .route(
            "/folders/{FolderId}/contents",
            web::get().to(describe_folder_contents),
        )
        .route("/folders/{FolderId}/path", web::get().to(get_folder_path))
        .route("/me/root", web::get().to(describe_root_folders));
}

/// The same text as every other paging refusal (`super::paging`).
/// The `ResourceState` values the API accepts; RESTORING and RECYCLING are the service's own.
const API_STATES: &[&str] = &["ACTIVE", "RECYCLED"];
const CONTENT_TYPES: &[&str] = &["ALL", "DOCUMENT", "FOLDER"];
const SORTS: &[&str] = &["DATE", "NAME"];
const ORDERS: &[&str] = &["ASCENDING", "DESCENDING"];
/// `include` (DescribeFolderContents) and `fields` (Get*Path): comma lists of words.
static WORD_LIST: LazyLock<Pattern> = LazyLock::new(|| Pattern::new(r"[\w,]+"));
/// The foreign key from a resource to its parent: a parent deleted under a write.
const PARENT_FK: &str = "wd_resources_account_id_parent_id_fkey";

/// Folders and documents share one table and most rules; an operation names one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Folder,
    Document,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Folder => "FOLDER",
            Kind::Document => "DOCUMENT",
        }
    }

    /// The member name of the path label in validation messages.
    fn id_member(self) -> &'static str {
        match self {
            Kind::Folder => "folderId",
            Kind::Document => "documentId",
        }
    }

    /// The `Metadata` of a response.
    pub(super) fn metadata(self, row: ResourceRow) -> serde_json::Value {
        match self {
            Kind::Folder => json!(FolderMetadata::from(row)),
            Kind::Document => json!(DocumentMetadata::from(row)),
        }
    }
}

pub(super) fn prohibited(message: &str) -> ApiError {
    ApiError::new(S, ErrorCode::ProhibitedState, message)
}

/// 409 `ConflictingOperationException` (aws-wire.md §6.6).
// ErrorCode has no ConflictingOperation variant yet (src/aws/error.rs is not this
// slice's); until it does, this answers with the other 409 of the model.
fn conflicting(message: &str) -> ApiError {
    ApiError::new(S, ErrorCode::ConflictingOperation, message)
}

fn refuse_special(row: &ResourceRow) -> Result<(), ApiError> {
    match row.special {
        Some(_) => Err(prohibited(
            "The root folder and the recycle bin cannot be renamed, moved, recycled or deleted.",
        )),
        None => Ok(()),
    }
}

/// A write refused by a constraint: a folder name taken under the parent, or a parent
/// deleted meanwhile (which then is not visible any more).
pub(super) fn write_error(e: sqlx::Error, actor: &Actor, op: &str, name: &str) -> ApiError {
    if let sqlx::Error::Database(d) = &e {
        match d.constraint() {
            Some("wd_resources_folder_name") => {
                return ApiError::new(
                    S,
                    ErrorCode::EntityAlreadyExists,
                    format!("A folder named '{name}' already exists in the parent folder."),
                )
            }
            Some(PARENT_FK) => return not_visible(actor, op),
            _ => {}
        }
    }
    db(e)
}

/// `Name`: UTF-16 length 1..=255 and the model's pattern, printed with the model's text.
pub(super) fn check_name(v: &mut Violations, name: Option<&str>, required: bool) {
    match name {
        None if required => v.add("name", None, Constraint::NotNull),
        None => {}
        Some(name) => {
            v.optional_str("name", Some(name), 1, 255, None);
            if !RESOURCE_NAME.full_match(name) {
                v.add(
                    "name",
                    Some(name),
                    Constraint::Pattern(RESOURCE_NAME_SOURCE),
                );
            }
        }
    }
}

/// `includeCustomMetadata` must be a boolean; grantd keeps no custom metadata, so there is
/// never any to include.
pub(super) fn check_include_custom_metadata(query: &QueryParams) -> Result<(), ApiError> {
    match query.get("includeCustomMetadata") {
        None | Some("true") | Some("false") => Ok(()),
        Some(other) => Err(ApiError::new(
            S,
            ErrorCode::Serialization,
            format!(
                "The query parameter includeCustomMetadata must be true or false, got '{other}'."
            ),
        )),
    }
}

/// `id` for `op` with at least `need`, of the kind the operation names: a visible
/// resource of the other kind does not exist as far as this operation is concerned.
async fn authorize_kind(
    conn: &mut PgConnection,
    actor: &Actor,
    id: &str,
    op: &str,
    need: Role,
    kind: Kind,
) -> Result<ResourceRow, ApiError> {
    let authorized = authorize(conn, actor, id, op, need).await?;
    if authorized.resource.kind != kind.as_str() {
        return Err(entity_not_exists(id));
    }
    Ok(authorized.resource)
}

/// One folder on the way from the root down to a resource.
#[derive(Debug, sqlx::FromRow)]
struct Link {
    resource_id: String,
    name: String,
    special: Option<String>,
    resource_state: String,
    /// A grant on this folder applies to the actor (always false for administrators).
    granted: bool,
}

/// The resource and every folder above it, from the top down (empty if it is gone).
async fn chain(
    conn: impl PgExecutor<'_>,
    actor: &Actor,
    resource_id: &str,
) -> Result<Vec<Link>, sqlx::Error> {
    let (user_id, directory_id) = match actor.user() {
        Some(u) => (Some(u.user_id.as_str()), Some(u.directory_id.as_str())),
        None => (None, None),
    };
    sqlx::query_as(&format!(
        "{CHAIN_CTE}
         SELECT c.resource_id, r.name, r.special, r.resource_state,
                ($3::text IS NOT NULL AND EXISTS (
                    SELECT 1 FROM wd_grants g
                    WHERE g.account_id = $1 AND g.resource_id = c.resource_id
                      AND {GRANT_MATCHES_USER})) AS granted
         FROM chain c JOIN wd_resources r ON r.account_id = $1 AND r.resource_id = c.resource_id
         ORDER BY c.depth DESC"
    ))
    .bind(actor.account_id())
    .bind(resource_id)
    .bind(user_id)
    .bind(directory_id)
    .fetch_all(conn)
    .await
}

/// Refuses a folder that cannot take a new child: the recycle bin, or a folder that is
/// recycled or below a recycled one.
async fn check_can_hold(
    conn: impl PgExecutor<'_>,
    actor: &Actor,
    op: &str,
    folder_id: &str,
) -> Result<(), ApiError> {
    let links = chain(conn, actor, folder_id).await.map_err(db)?;
    let Some(folder) = links.last() else {
        return Err(not_visible(actor, op));
    };
    if folder.special.as_deref() == Some("RECYCLE_BIN") {
        return Err(prohibited(
            "Nothing can be created in or moved into the recycle bin; recycle it instead.",
        ));
    }
    if links.iter().any(|l| l.resource_state == "RECYCLED") {
        return Err(prohibited("The parent folder is in the recycle bin."));
    }
    Ok(())
}

/// The folder a new folder or document goes into: CONTRIBUTOR or more on it, and able to
/// hold one.
pub(super) async fn usable_parent(
    conn: &mut PgConnection,
    actor: &Actor,
    parent_id: &str,
    op: &str,
) -> Result<ResourceRow, ApiError> {
    let parent =
        authorize_kind(conn, actor, parent_id, op, Role::Contributor, Kind::Folder).await?;
    check_can_hold(&mut *conn, actor, op, parent_id).await?;
    Ok(parent)
}

/// Serializes the moves and deletions of one user's tree (see the module comment).
async fn lock_tree(
    conn: &mut PgConnection,
    actor: &Actor,
    owner_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "SELECT 1 FROM wd_resources
         WHERE account_id = $1
           AND resource_id = (SELECT root_folder_id FROM wd_users WHERE account_id = $1 AND user_id = $2)
         FOR NO KEY UPDATE",
    )
    .bind(actor.account_id())
    .bind(owner_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The current row, locked for this transaction.
pub(super) async fn lock_row(
    conn: &mut PgConnection,
    actor: &Actor,
    id: &str,
) -> Result<Option<ResourceRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {RESOURCE_COLUMNS} FROM wd_resources
         WHERE account_id = $1 AND resource_id = $2 FOR NO KEY UPDATE"
    ))
    .bind(actor.account_id())
    .bind(id)
    .fetch_optional(conn)
    .await
}

fn check_resource_id(v: &mut Violations, kind: Kind, id: &str) {
    v.required_str(kind.id_member(), Some(id), 1, 128, Some(&RESOURCE_ID));
}

/// GetFolder and GetDocument: VIEWER or more.
pub(super) async fn get(
    req: &HttpRequest,
    state: &AppState,
    wd: &WorkDocs,
    kind: Kind,
    id: &str,
    op: &str,
) -> Result<HttpResponse, ApiError> {
    let mut v = Violations::new();
    check_resource_id(&mut v, kind, id);
    v.finish(S)?;
    check_include_custom_metadata(&QueryParams::parse(req.query_string()))?;
    let mut conn = state.tenant(wd.actor.account_id()).await.map_err(db)?;
    let row = authorize_kind(&mut conn, &wd.actor, id, op, Role::Viewer, kind).await?;
    Ok(HttpResponse::Ok().json(json!({ "Metadata": kind.metadata(row) })))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct PathComponent {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

/// GetFolderPath and GetDocumentPath: the folders from the top down to the resource, which
/// ends the path. `limit` keeps that many levels (default 100) nearest the resource; names
/// only with `fields=NAME`. A user who sees the resource through a share sees the path
/// from the highest folder shared with them, never the owner's folders above it.
pub(super) async fn path(
    req: &HttpRequest,
    state: &AppState,
    wd: &WorkDocs,
    kind: Kind,
    id: &str,
    op: &str,
) -> Result<HttpResponse, ApiError> {
    let query = QueryParams::parse(req.query_string());
    let fields = query.get("fields");
    let mut v = Violations::new();
    // These two operations type the label as `IdType`, as the model does.
    v.required_str(kind.id_member(), Some(id), 1, 256, Some(&ID));
    v.optional_str("fields", fields, 1, 256, Some(&WORD_LIST));
    v.optional_str("marker", query.get("marker"), 1, 2048, None);
    v.finish(S)?;
    // The path is one page: a marker is checked, then has nothing to resume.
    let (limit, _) = paging(&query, 100, 999)?;
    let names = fields.is_some_and(|f| f.split(',').any(|x| x == "NAME"));
    let actor = &wd.actor;
    let mut conn = state.tenant(actor.account_id()).await.map_err(db)?;
    let resource = authorize_kind(&mut conn, actor, id, op, Role::Viewer, kind).await?;
    let links = chain(&mut *conn, actor, id).await.map_err(db)?;
    let sees_all = actor.user().is_none_or(|u| u.user_id == resource.owner_id);
    let top = if sees_all {
        0
    } else {
        links
            .iter()
            .position(|l| l.granted)
            .unwrap_or(links.len().saturating_sub(1))
    };
    let visible = &links[top..];
    let skip = visible.len().saturating_sub(limit as usize);
    let components: Vec<PathComponent> = visible[skip..]
        .iter()
        .map(|l| PathComponent {
            id: l.resource_id.clone(),
            name: names.then(|| l.name.clone()),
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "Path": { "Components": components } })))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateRequest {
    name: Option<String>,
    parent_folder_id: Option<String>,
    resource_state: Option<String>,
}

/// UpdateFolder and UpdateDocument: rename, move, recycle, restore; COOWNER or more on the
/// resource, and CONTRIBUTOR or more on a new parent. 200 with no body.
pub(super) async fn update(
    state: &AppState,
    wd: &WorkDocs,
    kind: Kind,
    id: &str,
    op: &str,
) -> Result<HttpResponse, ApiError> {
    let body: UpdateRequest = wd.json()?;
    let mut v = Violations::new();
    check_resource_id(&mut v, kind, id);
    check_name(&mut v, body.name.as_deref(), false);
    v.optional_str(
        "parentFolderId",
        body.parent_folder_id.as_deref(),
        1,
        128,
        Some(&RESOURCE_ID),
    );
    v.optional_enum("resourceState", body.resource_state.as_deref(), API_STATES);
    v.finish(S)?;
    let actor = &wd.actor;
    let mut conn = state.tenant(actor.account_id()).await.map_err(db)?;
    let item = authorize_kind(&mut conn, actor, id, op, Role::Coowner, kind).await?;
    refuse_special(&item)?;
    let target = match body.parent_folder_id.as_deref() {
        Some(p) if Some(p) != item.parent_id.as_deref() => {
            let parent =
                authorize_kind(&mut conn, actor, p, op, Role::Contributor, Kind::Folder).await?;
            if parent.owner_id != item.owner_id {
                return Err(conflicting(
                    "A folder or document cannot be moved into another user's folders.",
                ));
            }
            Some(parent.resource_id)
        }
        _ => None,
    };

    let mut tx = conn.begin().await.map_err(db)?;
    if target.is_some() {
        lock_tree(&mut tx, actor, &item.owner_id)
            .await
            .map_err(db)?;
    }
    let before = lock_row(&mut tx, actor, id)
        .await
        .map_err(db)?
        .ok_or_else(|| not_visible(actor, op))?;
    let recycled = before.resource_state == "RECYCLED";
    let new_state = body
        .resource_state
        .as_deref()
        .filter(|s| *s != before.resource_state);
    let new_name = body.name.as_deref().filter(|n| *n != before.name);
    let new_parent = target
        .as_deref()
        .filter(|p| Some(*p) != before.parent_id.as_deref());
    if recycled && new_state != Some("ACTIVE") && (new_name.is_some() || new_parent.is_some()) {
        return Err(prohibited(
            "A recycled folder or document must be restored before it is renamed or moved.",
        ));
    }
    if let Some(parent) = new_parent {
        let links = chain(&mut *tx, actor, parent).await.map_err(db)?;
        if links.is_empty() {
            return Err(not_visible(actor, op));
        }
        if links.iter().any(|l| l.resource_id == before.resource_id) {
            return Err(conflicting(
                "A folder cannot be moved into itself or one of its sub-folders.",
            ));
        }
        check_can_hold(&mut *tx, actor, op, parent).await?;
    }
    if new_state.is_none() && new_name.is_none() && new_parent.is_none() {
        return Ok(HttpResponse::Ok().finish());
    }
    let after: ResourceRow = sqlx::query_as(&format!(
        "UPDATE wd_resources
         SET name = COALESCE($3, name), parent_id = COALESCE($4, parent_id),
             resource_state = COALESCE($5, resource_state), modified_at = now()
         WHERE account_id = $1 AND resource_id = $2
         RETURNING {RESOURCE_COLUMNS}"
    ))
    .bind(actor.account_id())
    .bind(id)
    .bind(new_name)
    .bind(new_parent)
    .bind(new_state)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| write_error(e, actor, op, new_name.unwrap_or(&before.name)))?;
    if let Some(state) = new_state {
        let what = if state == "RECYCLED" {
            "RECYCLED"
        } else {
            "RESTORED"
        };
        activity::record(&mut tx, actor, &after, what, Details::default())
            .await
            .map_err(db)?;
    }
    if new_name.is_some() {
        let details = Details {
            original_name: Some(&before.name),
            ..Details::default()
        };
        activity::record(&mut tx, actor, &after, "RENAMED", details)
            .await
            .map_err(db)?;
    }
    if new_parent.is_some() {
        let details = Details {
            original_parent_id: before.parent_id.as_deref(),
            ..Details::default()
        };
        activity::record(&mut tx, actor, &after, "MOVED", details)
            .await
            .map_err(db)?;
    }
    tx.commit().await.map_err(db)?;
    tracing::info!(
        resource_id = %id,
        renamed = new_name.is_some(),
        moved = new_parent.is_some(),
        state = new_state.unwrap_or("unchanged"),
        "resource updated"
    );
    Ok(HttpResponse::Ok().finish())
}

/// DeleteFolder and DeleteDocument: permanently, with everything inside (the foreign keys
/// cascade to children and grants); COOWNER or more. 204.
pub(super) async fn delete(
    state: &AppState,
    wd: &WorkDocs,
    kind: Kind,
    id: &str,
    op: &str,
) -> Result<HttpResponse, ApiError> {
    let mut v = Violations::new();
    check_resource_id(&mut v, kind, id);
    v.finish(S)?;
    let actor = &wd.actor;
    let mut conn = state.tenant(actor.account_id()).await.map_err(db)?;
    let item = authorize_kind(&mut conn, actor, id, op, Role::Coowner, kind).await?;
    refuse_special(&item)?;
    let mut tx = conn.begin().await.map_err(db)?;
    lock_tree(&mut tx, actor, &item.owner_id)
        .await
        .map_err(db)?;
    let current = lock_row(&mut tx, actor, id)
        .await
        .map_err(db)?
        .ok_or_else(|| not_visible(actor, op))?;
    // Activities have no foreign key: recorded while the row still exists, kept after.
    activity::record(&mut tx, actor, &current, "DELETED", Details::default())
        .await
        .map_err(db)?;
    sqlx::query("DELETE FROM wd_resources WHERE account_id = $1 AND resource_id = $2")
        .bind(actor.account_id())
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    tx.commit().await.map_err(db)?;
    tracing::info!(resource_id = %id, kind = kind.as_str(), "resource deleted");
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateFolderRequest {
    name: Option<String>,
    parent_folder_id: Option<String>,
}

/// `POST /api/v1/folders`: CreateFolder. The folder joins the parent's tree (its owner is
/// the tree's owner); its creator is the caller.
async fn create_folder(state: web::Data<AppState>, wd: WorkDocs) -> Result<HttpResponse, ApiError> {
    const OP: &str = "CreateFolder";
    let body: CreateFolderRequest = wd.json()?;
    let mut v = Violations::new();
    check_name(&mut v, body.name.as_deref(), true);
    v.required_str(
        "parentFolderId",
        body.parent_folder_id.as_deref(),
        1,
        128,
        Some(&RESOURCE_ID),
    );
    v.finish(S)?;
    let (name, parent_id) = (
        body.name.expect("validated"),
        body.parent_folder_id.expect("validated"),
    );
    let actor = &wd.actor;
    let mut conn = state.tenant(actor.account_id()).await.map_err(db)?;
    let parent = usable_parent(&mut conn, actor, &parent_id, OP).await?;
    let mut tx = conn.begin().await.map_err(db)?;
    let row: ResourceRow = sqlx::query_as(&format!(
        "INSERT INTO wd_resources (account_id, resource_id, kind, parent_id, owner_id, creator_id, name)
         VALUES ($1, $2, 'FOLDER', $3, $4, $5, $6)
         RETURNING {RESOURCE_COLUMNS}"
    ))
    .bind(actor.account_id())
    .bind(new_resource_id())
    .bind(&parent_id)
    .bind(&parent.owner_id)
    .bind(actor.principal())
    .bind(&name)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| write_error(e, actor, OP, &name))?;
    activity::record(&mut tx, actor, &row, "CREATED", Details::default())
        .await
        .map_err(db)?;
    tx.commit().await.map_err(db)?;
    tracing::info!(folder_id = %row.resource_id, "folder created");
    Ok(HttpResponse::Created().json(json!({ "Metadata": FolderMetadata::from(row) })))
}

/// `GET /api/v1/folders/{FolderId}`: GetFolder.
async fn get_folder(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    wd: WorkDocs,
) -> Result<HttpResponse, ApiError> {
    get(&req, &state, &wd, Kind::Folder, &path, "GetFolder").await
}

/// `GET /api/v1/folders/{FolderId}/path`: GetFolderPath.
async fn get_folder_path(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    wd: WorkDocs,
) -> Result<HttpResponse, ApiError> {
    self::path(&req, &state, &wd, Kind::Folder, &path, "GetFolderPath").await
}

/// `PATCH /api/v1/folders/{FolderId}`: UpdateFolder.
async fn update_folder(
    state: web::Data<AppState>,
    path: web::Path<String>,
    wd: WorkDocs,
) -> Result<HttpResponse, ApiError> {
    update(&state, &wd, Kind::Folder, &path, "UpdateFolder").await
}

/// `DELETE /api/v1/folders/{FolderId}`: DeleteFolder.
async fn delete_folder(
    state: web::Data<AppState>,
    path: web::Path<String>,
    wd: WorkDocs,
) -> Result<HttpResponse, ApiError> {
    delete(&state, &wd, Kind::Folder, &path, "DeleteFolder").await
}

/// Where a page of folder contents ends. Folders come before documents, then the sort key,
/// then the id, so a boundary is one point of that order and pages never overlap. Encoded
/// as `<N|D><0|1>:<id>:<name or epoch microseconds>`, tied to the sort it was made for.
#[derive(Debug, PartialEq)]
struct ContentsMarker {
    by_date: bool,
    documents: bool,
    id: String,
    name: String,
    modified_at: DateTime<Utc>,
}

impl ContentsMarker {
    fn after(row: &ResourceRow, by_date: bool) -> ContentsMarker {
        ContentsMarker {
            by_date,
            documents: !row.is_folder(),
            id: row.resource_id.clone(),
            name: row.name.clone(),
            modified_at: row.modified_at,
        }
    }

    fn encode(&self) -> String {
        let value = if self.by_date {
            self.modified_at.timestamp_micros().to_string()
        } else {
            self.name.clone()
        };
        format!(
            "{}{}:{}:{value}",
            if self.by_date { 'D' } else { 'N' },
            u8::from(self.documents),
            self.id
        )
    }

    fn decode(raw: &str, by_date: bool) -> Option<ContentsMarker> {
        let (head, rest) = raw.split_once(':')?;
        let (id, value) = rest.split_once(':')?;
        let documents = match head {
            "N0" | "D0" => false,
            "N1" | "D1" => true,
            _ => return None,
        };
        if head.starts_with('D') != by_date || id.len() != 64 || !RESOURCE_ID.full_match(id) {
            return None;
        }
        let (name, modified_at) = if by_date {
            (
                String::new(),
                DateTime::from_timestamp_micros(value.parse().ok()?)?,
            )
        } else {
            (value.to_owned(), DateTime::UNIX_EPOCH)
        };
        Some(ContentsMarker {
            by_date,
            documents,
            id: id.to_owned(),
            name,
            modified_at,
        })
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ContentsOutput {
    folders: Vec<FolderMetadata>,
    documents: Vec<DocumentMetadata>,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
}

/// `GET /api/v1/folders/{FolderId}/contents`: DescribeFolderContents. ACTIVE folders and
/// documents directly inside (in a recycle bin: its owner's RECYCLED ones). Documents are
/// listed once their latest version is ACTIVE, and with `include=INITIALIZED` also while
/// it is INITIALIZED — which, as grantd stores no content, is every document it has.
/// `sort` NAME (default) or DATE (last modified); folders always come first.
async fn describe_folder_contents(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    wd: WorkDocs,
) -> Result<HttpResponse, ApiError> {
    const OP: &str = "DescribeFolderContents";
    let query = QueryParams::parse(req.query_string());
    let (sort, order, kind, include) = (
        query.get("sort"),
        query.get("order"),
        query.get("type"),
        query.get("include"),
    );
    let mut v = Violations::new();
    check_resource_id(&mut v, Kind::Folder, &path);
    v.optional_enum("sort", sort, SORTS);
    v.optional_enum("order", order, ORDERS);
    v.optional_enum("type", kind, CONTENT_TYPES);
    v.optional_str("include", include, 1, 256, Some(&WORD_LIST));
    v.finish(S)?;
    let (limit, marker) = paging(&query, 100, 999)?;
    let by_date = sort == Some("DATE");
    let marker = marker
        .map(|m| ContentsMarker::decode(&m, by_date).ok_or_else(super::bad_paging))
        .transpose()?;
    let initialized = include.is_some_and(|i| i.split(',').any(|x| x == "INITIALIZED"));
    let kind = match kind {
        Some("FOLDER") => Some("FOLDER"),
        Some("DOCUMENT") => Some("DOCUMENT"),
        _ => None,
    };
    let actor = &wd.actor;
    let mut conn = state.tenant(actor.account_id()).await.map_err(db)?;
    let folder = authorize_kind(&mut conn, actor, &path, OP, Role::Viewer, Kind::Folder).await?;

    let (scope, scope_value) = if folder.special.as_deref() == Some("RECYCLE_BIN") {
        (
            "owner_id = $2 AND resource_state = 'RECYCLED'",
            &folder.owner_id,
        )
    } else {
        (
            "parent_id = $2 AND resource_state = 'ACTIVE'",
            &folder.resource_id,
        )
    };
    let (key, key_param) = if by_date {
        ("modified_at", "$7")
    } else {
        ("name", "$6")
    };
    let (direction, after) = if order == Some("DESCENDING") {
        ("DESC", "<")
    } else {
        ("ASC", ">")
    };
    let rank = "(CASE kind WHEN 'FOLDER' THEN 0 ELSE 1 END)";
    let mut rows: Vec<ResourceRow> = sqlx::query_as(&format!(
        "SELECT {RESOURCE_COLUMNS} FROM wd_resources
         WHERE account_id = $1 AND {scope}
           AND ($3::text IS NULL OR kind = $3)
           AND (kind = 'FOLDER' OR version_status = 'ACTIVE'
                OR ($4 AND version_status = 'INITIALIZED'))
           AND ($5::int IS NULL OR {rank} > $5
                OR ({rank} = $5 AND ({key}, resource_id) {after} ({key_param}, $8)))
         ORDER BY {rank}, {key} {direction}, resource_id {direction}
         LIMIT $9"
    ))
    .bind(actor.account_id())
    .bind(scope_value)
    .bind(kind)
    .bind(initialized)
    .bind(marker.as_ref().map(|m| i32::from(m.documents)))
    .bind(marker.as_ref().map(|m| m.name.as_str()))
    .bind(marker.as_ref().map(|m| m.modified_at))
    .bind(marker.as_ref().map(|m| m.id.as_str()))
    .bind(limit + 1)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = more.then(|| {
        let last = rows.last().expect("a full page");
        encode_marker(&ContentsMarker::after(last, by_date).encode())
    });
    let mut out = ContentsOutput {
        folders: Vec::new(),
        documents: Vec::new(),
        marker: next,
    };
    for row in rows {
        if row.is_folder() {
            out.folders.push(row.into());
        } else {
            out.documents.push(row.into());
        }
    }
    Ok(HttpResponse::Ok().json(out))
}

/// `GET /api/v1/me/root`: DescribeRootFolders, token only: the caller's root folder, then
/// their recycle bin.
async fn describe_root_folders(
    req: HttpRequest,
    state: web::Data<AppState>,
    wd: WorkDocs,
) -> Result<HttpResponse, ApiError> {
    const OP: &str = "DescribeRootFolders";
    token_only(&wd.actor, OP)?;
    let user = wd.actor.user().expect("a token user");
    let query = QueryParams::parse(req.query_string());
    let (limit, marker) = paging(&query, 100, 999)?;
    let skip = match marker {
        None => 0,
        Some(m) => m.parse::<usize>().map_err(|_| super::bad_paging())?,
    };
    let mut conn = state.tenant(wd.actor.account_id()).await.map_err(db)?;
    let rows: Vec<ResourceRow> = sqlx::query_as(&format!(
        "SELECT {RESOURCE_COLUMNS} FROM wd_resources
         WHERE account_id = $1 AND resource_id IN (
             SELECT unnest(ARRAY[root_folder_id, recycle_bin_folder_id])
             FROM wd_users WHERE account_id = $1 AND user_id = $2)
         ORDER BY special = 'RECYCLE_BIN', resource_id"
    ))
    .bind(&user.account_id)
    .bind(&user.user_id)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let end = skip.saturating_add(limit as usize);
    let marker = (end < rows.len()).then(|| encode_marker(&end.to_string()));
    let folders: Vec<FolderMetadata> = rows
        .into_iter()
        .skip(skip)
        .take(limit as usize)
        .map(FolderMetadata::from)
        .collect();
    let mut out = json!({ "Folders": folders });
    if let Some(marker) = marker {
        out["Marker"] = marker.into();
    }
    Ok(HttpResponse::Ok().json(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contents_markers_round_trip_and_stay_tied_to_their_sort() {
        let id = "a".repeat(64);
        let by_name = ContentsMarker {
            by_date: false,
            documents: true,
            id: id.clone(),
            name: "a:b:c".into(),
            modified_at: DateTime::UNIX_EPOCH,
        };
        let raw = by_name.encode();
        assert_eq!(raw, format!("N1:{id}:a:b:c"));
        assert_eq!(ContentsMarker::decode(&raw, false), Some(by_name));
        assert_eq!(ContentsMarker::decode(&raw, true), None);

        let at = DateTime::from_timestamp_micros(1_704_164_645_123_456).unwrap();
        let by_date = ContentsMarker {
            by_date: true,
            documents: false,
            id: id.clone(),
            name: String::new(),
            modified_at: at,
        };
        assert_eq!(
            ContentsMarker::decode(&by_date.encode(), true),
            Some(by_date)
        );
        assert_eq!(ContentsMarker::decode("N0:short:x", false), None);
        assert_eq!(ContentsMarker::decode(&format!("X0:{id}:x"), false), None);
        assert_eq!(ContentsMarker::decode(&format!("D0:{id}:soon"), true), None);
    }

    #[test]
    fn names_are_checked_with_the_model_text() {
        let mut v = Violations::new();
        check_name(&mut v, Some("a\u{202E}b"), true);
        assert!(v.message().contains(
            r"Member must satisfy regular expression pattern: [\u0020-\u202D\u202F-\uFFFF]+"
        ));
        let mut v = Violations::new();
        check_name(&mut v, None, true);
        assert_eq!(
            v.message(),
            "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null"
        );
        let mut v = Violations::new();
        check_name(&mut v, Some("résumé 📁"), true);
        assert!(v.is_empty());
    }
}
