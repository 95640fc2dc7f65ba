//! The JSON shapes of the layer operations (aws-wire.md §4.1–§4.2).

use super::arn::LayerRef;
use super::store::VersionRow;
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublishRequest {
    pub description: Option<String>,
    pub content: Option<ContentInput>,
    pub compatible_runtimes: Option<Vec<String>>,
    pub license_info: Option<String>,
    pub compatible_architectures: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContentInput {
    pub s3_bucket: Option<String>,
    pub s3_key: Option<String>,
    pub s3_object_version: Option<String>,
    /// Base64 in JSON, as the SDKs send a blob.
    pub zip_file: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AddPermissionRequest {
    pub statement_id: Option<String>,
    pub action: Option<String>,
    pub principal: Option<String>,
    pub organization_id: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContentOutput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_sha256: Option<String>,
    pub code_size: i64,
}

/// Publish, GetLayerVersion and GetLayerVersionByArn answer with this.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LayerVersionOutput {
    pub content: ContentOutput,
    pub layer_arn: String,
    pub layer_version_arn: String,
    pub description: String,
    pub created_date: String,
    pub version: i64,
    pub compatible_runtimes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license_info: Option<String>,
    pub compatible_architectures: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LayerVersionsListItem {
    pub layer_version_arn: String,
    pub version: i64,
    pub description: String,
    pub created_date: String,
    pub compatible_runtimes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license_info: Option<String>,
    pub compatible_architectures: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LayersListItem {
    pub layer_name: String,
    pub layer_arn: String,
    pub latest_matching_version: LayerVersionsListItem,
}

/// `YYYY-MM-DDTHH:MM:SS.mmm+0000`, as Lambda writes `CreatedDate`.
pub fn created_date(row: &VersionRow) -> String {
    row.created_at.format("%Y-%m-%dT%H:%M:%S%.3f%z").to_string()
}

impl LayerVersionsListItem {
    pub fn from_row(layer: &LayerRef, row: VersionRow) -> Self {
        LayerVersionsListItem {
            layer_version_arn: layer.version_arn(row.version),
            version: row.version,
            created_date: created_date(&row),
            description: row.description,
            compatible_runtimes: row.compatible_runtimes,
            license_info: row.license_info,
            compatible_architectures: row.compatible_architectures,
        }
    }
}

impl LayerVersionOutput {
    pub fn from_row(layer: &LayerRef, row: VersionRow, location: Option<String>) -> Self {
        LayerVersionOutput {
            content: ContentOutput {
                location: row.code_sha256.as_ref().and(location),
                code_sha256: row.code_sha256.clone(),
                code_size: row.code_size,
            },
            layer_arn: layer.arn(),
            layer_version_arn: layer.version_arn(row.version),
            created_date: created_date(&row),
            version: row.version,
            description: row.description,
            compatible_runtimes: row.compatible_runtimes,
            license_info: row.license_info,
            compatible_architectures: row.compatible_architectures,
        }
    }
}
