//! Documents (aws-wire.md §6.6, §7.2): InitiateDocumentVersionUpload, GetDocument,
//! GetDocumentPath, UpdateDocument, DeleteDocument. The tree rules are the folders'.
//!
//! grantd decides who may use a document; it does not store content. A document row
//! carries its latest version's metadata only (earlier versions are not kept), every
//! version stays INITIALIZED (no operation here completes an upload), and the
//! `UploadUrl` names a grantd path that accepts nothing.

use super::access::{authorize, Role};
use super::activity::{self, Details};
use super::actor::WorkDocs;
use super::folders::{self, check_name, lock_row, prohibited, usable_parent, write_error, Kind};
use super::ids::{new_resource_id, RESOURCE_ID};
use super::model::{DocumentMetadata, ResourceRow, RESOURCE_COLUMNS};
use super::{db, entity_not_exists, invalid_argument, not_visible, S};
use crate::aws::validation::Violations;
use crate::aws::ApiError;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/documents", web::post().to(initiate_upload))
        .service(
            crate::startup::resource("/documents/{DocumentId}")
                .route(web::get().to(get_document))
                .route(web::patch().to(update_document))
                .route(web::delete().to(delete_document)),
        )
        .route(
            "/documents/{DocumentId}/path",
            web::get().to(get_document_path),
        );
}

const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InitiateRequest {
    id: Option<String>,
    name: Option<String>,
    /// Epoch seconds, as the SDKs send timestamps in a JSON body.
    content_created_timestamp: Option<f64>,
    content_modified_timestamp: Option<f64>,
    content_type: Option<String>,
    document_size_in_bytes: Option<i64>,
    parent_folder_id: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct UploadMetadata {
    upload_url: String,
    signed_headers: BTreeMap<&'static str, String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct InitiateOutput {
    metadata: DocumentMetadata,
    upload_metadata: UploadMetadata,
}

/// `<epoch millis>-<64 hex>`, the shape of WorkDocs version ids.
fn new_version_id() -> String {
    format!("{}-{}", Utc::now().timestamp_millis(), new_resource_id())
}

/// An epoch-seconds body member (milliseconds kept, as WorkDocs keeps them).
fn content_time(member: &str, seconds: Option<f64>) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some(seconds) = seconds else {
        return Ok(None);
    };
    let millis = seconds * 1000.0;
    let time = (millis.is_finite() && millis.abs() < i64::MAX as f64)
        .then(|| DateTime::from_timestamp_millis(millis.round() as i64))
        .flatten();
    time.map(Some)
        .ok_or_else(|| invalid_argument(format!("{member} is not a valid time.")))
}

/// `POST /api/v1/documents`: InitiateDocumentVersionUpload. Without `Id`, a new document
/// in `ParentFolderId` (CONTRIBUTOR or more there; `Name` required). With `Id`, a new
/// version of that document (CONTRIBUTOR or more on it; `Name` renames it if given).
async fn initiate_upload(
    req: HttpRequest,
    state: web::Data<AppState>,
    wd: WorkDocs,
) -> Result<HttpResponse, ApiError> {
    const OP: &str = "InitiateDocumentVersionUpload";
    let body: InitiateRequest = wd.json()?;
    let new_document = body.id.is_none();
    let mut v = Violations::new();
    v.optional_str("id", body.id.as_deref(), 1, 128, Some(&RESOURCE_ID));
    check_name(&mut v, body.name.as_deref(), new_document);
    v.optional_str("contentType", body.content_type.as_deref(), 1, 128, None);
    let parent_id = body.parent_folder_id.as_deref();
    if new_document {
        v.required_str("parentFolderId", parent_id, 1, 128, Some(&RESOURCE_ID));
    } else {
        v.optional_str("parentFolderId", parent_id, 1, 128, Some(&RESOURCE_ID));
    }
    v.finish(S)?;
    let size = body.document_size_in_bytes.unwrap_or(0);
    if size < 0 {
        return Err(invalid_argument("DocumentSizeInBytes cannot be negative."));
    }
    let created = content_time("ContentCreatedTimestamp", body.content_created_timestamp)?;
    let modified = content_time("ContentModifiedTimestamp", body.content_modified_timestamp)?;
    let content_type = body.content_type.as_deref();
    let version_id = new_version_id();
    let actor = &wd.actor;
    let mut conn = state.tenant(actor.account_id()).await.map_err(db)?;

    let row: ResourceRow = match body.id.as_deref() {
        None => {
            let parent_id = parent_id.expect("validated");
            let name = body.name.as_deref().expect("validated");
            let parent = usable_parent(&mut conn, actor, parent_id, OP).await?;
            let mut tx = conn.begin().await.map_err(db)?;
            let row: ResourceRow = sqlx::query_as(&format!(
                "INSERT INTO wd_resources (account_id, resource_id, kind, parent_id, owner_id,
                     creator_id, name, version_id, version_status, content_type, size,
                     content_created_at, content_modified_at)
                 VALUES ($1, $2, 'DOCUMENT', $3, $4, $5, $6, $7, 'INITIALIZED', $8, $9, $10, $11)
                 RETURNING {RESOURCE_COLUMNS}"
            ))
            .bind(actor.account_id())
            .bind(new_resource_id())
            .bind(parent_id)
            .bind(&parent.owner_id)
            .bind(actor.principal())
            .bind(name)
            .bind(&version_id)
            .bind(content_type)
            .bind(size)
            .bind(created)
            .bind(modified)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| write_error(e, actor, OP, name))?;
            activity::record(&mut tx, actor, &row, "VERSION_UPLOADED", Details::default())
                .await
                .map_err(db)?;
            tx.commit().await.map_err(db)?;
            row
        }
        Some(id) => {
            let document = authorize(&mut conn, actor, id, OP, Role::Contributor)
                .await?
                .resource;
            if document.is_folder() {
                return Err(entity_not_exists(id));
            }
            let mut tx = conn.begin().await.map_err(db)?;
            let current = lock_row(&mut tx, actor, id)
                .await
                .map_err(db)?
                .ok_or_else(|| not_visible(actor, OP))?;
            if parent_id.is_some_and(|p| Some(p) != current.parent_id.as_deref()) {
                return Err(invalid_argument(
                    "ParentFolderId does not name the document's folder; move it with UpdateDocument.",
                ));
            }
            if current.resource_state == "RECYCLED" {
                return Err(prohibited(
                    "A recycled document must be restored before a new version is uploaded.",
                ));
            }
            let row: ResourceRow = sqlx::query_as(&format!(
                "UPDATE wd_resources
                 SET version_id = $3, version_status = 'INITIALIZED', name = COALESCE($4, name),
                     content_type = COALESCE($5, content_type), size = $6,
                     content_created_at = $7, content_modified_at = $8, signature = '',
                     modified_at = now()
                 WHERE account_id = $1 AND resource_id = $2
                 RETURNING {RESOURCE_COLUMNS}"
            ))
            .bind(actor.account_id())
            .bind(id)
            .bind(&version_id)
            .bind(body.name.as_deref())
            .bind(content_type)
            .bind(size)
            .bind(created)
            .bind(modified)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
            let details = Details {
                original_name: body
                    .name
                    .as_deref()
                    .filter(|n| *n != current.name)
                    .map(|_| current.name.as_str()),
                ..Details::default()
            };
            activity::record(&mut tx, actor, &row, "VERSION_UPLOADED", details)
                .await
                .map_err(db)?;
            tx.commit().await.map_err(db)?;
            row
        }
    };
    tracing::info!(document_id = %row.resource_id, version_id = %version_id, "document version initiated");
    let info = req.connection_info();
    let upload_url = format!(
        "{}://{}/api/v1/grantd/upload/{}/{version_id}",
        info.scheme(),
        info.host(),
        row.resource_id
    );
    let signed_headers = BTreeMap::from([(
        "Content-Type",
        row.content_type
            .clone()
            .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned()),
    )]);
    Ok(HttpResponse::Created().json(InitiateOutput {
        metadata: row.into(),
        upload_metadata: UploadMetadata {
            upload_url,
            signed_headers,
        },
    }))
}

/// `GET /api/v1/documents/{DocumentId}`: GetDocument.
async fn get_document(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    wd: WorkDocs,
) -> Result<HttpResponse, ApiError> {
    folders::get(&req, &state, &wd, Kind::Document, &path, "GetDocument").await
}

/// `GET /api/v1/documents/{DocumentId}/path`: GetDocumentPath.
async fn get_document_path(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    wd: WorkDocs,
) -> Result<HttpResponse, ApiError> {
    folders::path(&req, &state, &wd, Kind::Document, &path, "GetDocumentPath").await
}

/// `PATCH /api/v1/documents/{DocumentId}`: UpdateDocument.
async fn update_document(
    state: web::Data<AppState>,
    path: web::Path<String>,
    wd: WorkDocs,
) -> Result<HttpResponse, ApiError> {
    folders::update(&state, &wd, Kind::Document, &path, "UpdateDocument").await
}

/// `DELETE /api/v1/documents/{DocumentId}`: DeleteDocument.
async fn delete_document(
    state: web::Data<AppState>,
    path: web::Path<String>,
    wd: WorkDocs,
) -> Result<HttpResponse, ApiError> {
    folders::delete(&state, &wd, Kind::Document, &path, "DeleteDocument").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_ids_have_the_workdocs_shape() {
        let id = new_version_id();
        let (millis, hex) = id.split_once('-').unwrap();
        assert!(millis.parse::<i64>().unwrap() > 1_700_000_000_000);
        assert_eq!(hex.len(), 64);
        assert!(RESOURCE_ID.full_match(&id));
    }

    #[test]
    fn content_times_keep_milliseconds_and_refuse_nonsense() {
        let t = content_time("X", Some(1_704_164_645.25)).unwrap().unwrap();
        assert_eq!(t.timestamp_millis(), 1_704_164_645_250);
        assert_eq!(content_time("X", None).unwrap(), None);
        assert!(content_time("X", Some(1e300)).is_err());
    }
}
