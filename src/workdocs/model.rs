//! Shapes shared by the WorkDocs operations (aws-wire.md §7.1). Every timestamp is a JSON
//! number of epoch seconds: aws-sdk-rust fails on anything else.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Epoch seconds with milliseconds, as WorkDocs writes them (`1534450467.622`).
pub fn epoch(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

/// A user as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub user_id: String,
    pub directory_id: String,
    pub username: String,
    pub email_address: Option<String>,
    pub given_name: String,
    pub surname: String,
    pub user_type: String,
    pub status: String,
    pub root_folder_id: Option<String>,
    pub recycle_bin_folder_id: Option<String>,
    pub time_zone_id: Option<String>,
    pub locale: Option<String>,
    pub storage_allocated: Option<i64>,
    pub storage_type: String,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
}

pub const USER_COLUMNS: &str = "user_id, directory_id, username, email_address, given_name, \
    surname, user_type, status, root_folder_id, recycle_bin_folder_id, time_zone_id, locale, \
    storage_allocated, storage_type, created_at, modified_at";

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StorageRule {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_allocated_in_bytes: Option<i64>,
    pub storage_type: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserStorage {
    pub storage_utilized_in_bytes: i64,
    pub storage_rule: StorageRule,
}

/// The `User` shape.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct User {
    pub id: String,
    pub username: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_address: Option<String>,
    pub given_name: String,
    pub surname: String,
    pub organization_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root_folder_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recycle_bin_folder_id: Option<String>,
    pub status: String,
    #[serde(rename = "Type")]
    pub user_type: String,
    pub created_timestamp: f64,
    pub modified_timestamp: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_zone_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    pub storage: UserStorage,
}

impl From<UserRow> for User {
    fn from(u: UserRow) -> User {
        User {
            id: u.user_id,
            username: u.username,
            email_address: u.email_address,
            given_name: u.given_name,
            surname: u.surname,
            organization_id: u.directory_id,
            root_folder_id: u.root_folder_id,
            recycle_bin_folder_id: u.recycle_bin_folder_id,
            status: u.status,
            user_type: u.user_type,
            created_timestamp: epoch(u.created_at),
            modified_timestamp: epoch(u.modified_at),
            time_zone_id: u.time_zone_id,
            locale: u.locale,
            storage: UserStorage {
                storage_utilized_in_bytes: 0,
                storage_rule: StorageRule {
                    storage_allocated_in_bytes: u.storage_allocated,
                    storage_type: u.storage_type,
                },
            },
        }
    }
}

/// The `UserMetadata` shape (activities, participants).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserMetadata {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub surname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_address: Option<String>,
}

/// A folder or document as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ResourceRow {
    pub resource_id: String,
    pub kind: String,
    pub parent_id: Option<String>,
    pub owner_id: String,
    pub creator_id: String,
    pub name: String,
    pub special: Option<String>,
    pub resource_state: String,
    pub signature: String,
    pub version_id: Option<String>,
    pub version_status: Option<String>,
    pub content_type: Option<String>,
    pub size: i64,
    pub content_created_at: Option<DateTime<Utc>>,
    pub content_modified_at: Option<DateTime<Utc>>,
    pub permissions_revision: i64,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
}

pub const RESOURCE_COLUMNS: &str = "resource_id, kind, parent_id, owner_id, creator_id, name, \
    special, resource_state, signature, version_id, version_status, content_type, size, \
    content_created_at, content_modified_at, permissions_revision, created_at, modified_at";

impl ResourceRow {
    pub fn is_folder(&self) -> bool {
        self.kind == "FOLDER"
    }
}

/// The `FolderMetadata` shape.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FolderMetadata {
    pub id: String,
    pub name: String,
    pub creator_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_folder_id: Option<String>,
    pub created_timestamp: f64,
    pub modified_timestamp: f64,
    pub resource_state: String,
    pub signature: String,
    pub labels: Vec<String>,
    pub size: i64,
    pub latest_version_size: i64,
}

impl From<ResourceRow> for FolderMetadata {
    fn from(r: ResourceRow) -> Self {
        FolderMetadata {
            id: r.resource_id,
            name: r.name,
            creator_id: r.creator_id,
            parent_folder_id: r.parent_id,
            created_timestamp: epoch(r.created_at),
            modified_timestamp: epoch(r.modified_at),
            resource_state: r.resource_state,
            signature: r.signature,
            labels: Vec::new(),
            size: r.size,
            latest_version_size: r.size,
        }
    }
}

/// The `DocumentVersionMetadata` shape.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DocumentVersionMetadata {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    pub size: i64,
    pub signature: String,
    pub status: String,
    pub created_timestamp: f64,
    pub modified_timestamp: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_created_timestamp: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_modified_timestamp: Option<f64>,
    pub creator_id: String,
}

/// The `DocumentMetadata` shape.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DocumentMetadata {
    pub id: String,
    pub creator_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_folder_id: Option<String>,
    pub created_timestamp: f64,
    pub modified_timestamp: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_version_metadata: Option<DocumentVersionMetadata>,
    pub resource_state: String,
    pub labels: Vec<String>,
}

impl From<ResourceRow> for DocumentMetadata {
    fn from(r: ResourceRow) -> Self {
        let version = r.version_id.clone().map(|id| DocumentVersionMetadata {
            id,
            name: r.name.clone(),
            content_type: r.content_type.clone(),
            size: r.size,
            signature: r.signature.clone(),
            status: r
                .version_status
                .clone()
                .unwrap_or_else(|| "INITIALIZED".into()),
            created_timestamp: epoch(r.created_at),
            modified_timestamp: epoch(r.modified_at),
            content_created_timestamp: r.content_created_at.map(epoch),
            content_modified_timestamp: r.content_modified_at.map(epoch),
            creator_id: r.creator_id.clone(),
        });
        DocumentMetadata {
            id: r.resource_id,
            creator_id: r.creator_id,
            parent_folder_id: r.parent_id,
            created_timestamp: epoch(r.created_at),
            modified_timestamp: epoch(r.modified_at),
            latest_version_metadata: version,
            resource_state: r.resource_state,
            labels: Vec::new(),
        }
    }
}
