//! HTTP handlers of the layer operations: parse and validate at the edge, then decide
//! ownership and policy, then run the SQL in one transaction per change.

use super::arn::{self, LayerRef, LAYER_NAME, VERSION_ARN};
use super::content;
use super::model::*;
use super::policy::{self, Grantee, ACTION, POLICY_LIMIT_BYTES};
use super::store::{self, Content, ListFilter, NewStatement, NewVersion};
use super::{ARCHITECTURES, PUBLISH_RUNTIMES, RUNTIMES};
use crate::aws::query::QueryParams;
use crate::aws::validation::{utf16_len, Constraint, Pattern, Violations};
use crate::aws::{ApiError, Caller, ErrorCode, Signed, Surface};
use crate::state::AppState;
use crate::tenancy::OrganizationId;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

const S: Surface = Surface::Lambda;
const DEFAULT_PAGE: i64 = 50;
const NOT_FOUND: &str = "The resource you requested does not exist.";
const NO_POLICY: &str = "No policy is associated with the given resource.";
const STALE_REVISION: &str = "The Revision Id provided does not match the latest Revision Id. Call the GetLayerPolicy API to retrieve the latest Revision Id";

static STATEMENT_ID: LazyLock<Pattern> = LazyLock::new(|| Pattern::new("([a-zA-Z0-9-_]+)"));
static ACTION_PATTERN: LazyLock<Pattern> = LazyLock::new(|| Pattern::new(ACTION));
static PRINCIPAL: LazyLock<Pattern> =
    LazyLock::new(|| Pattern::new(r"\d{12}|\*|arn:(aws[a-zA-Z-]*):iam::\d{12}:root"));
static ORGANIZATION: LazyLock<Pattern> = LazyLock::new(|| Pattern::new("o-[a-z0-9]{10,32}"));

fn err(code: ErrorCode, message: impl Into<String>) -> ApiError {
    ApiError::new(S, code, message)
}

fn db(e: sqlx::Error) -> ApiError {
    ApiError::database(S, e)
}

/// The `LayerName` path label, validated, resolved against the caller, in this region.
fn layer_ref(
    state: &AppState,
    caller: &Caller,
    name: &str,
    v: &mut Violations,
) -> Option<LayerRef> {
    let valid = (1..=140).contains(&utf16_len(name)) && LAYER_NAME.full_match(name);
    v.required_str("layerName", Some(name), 1, 140, Some(&LAYER_NAME));
    valid.then(|| LayerRef::resolve(name, &caller.account_id, &state.region))
}

/// The region of an ARN must be the server's (aws-wire.md §9).
fn same_region(state: &AppState, layer: &LayerRef) -> Result<(), ApiError> {
    if layer.region == state.region {
        Ok(())
    } else {
        Err(err(
            ErrorCode::ResourceNotFound,
            format!(
                "Layers from '{}' are not reachable from {}",
                layer.region, state.region
            ),
        ))
    }
}

/// A `long` path label; something that is no number is a malformed request.
fn version_label(raw: &str) -> Result<i64, ApiError> {
    raw.parse().map_err(|_| {
        err(
            ErrorCode::Serialization,
            format!("The path label VersionNumber must be a number, got '{raw}'."),
        )
    })
}

fn at_least_one(version: i64) -> Result<(), ApiError> {
    if version < 1 {
        Err(err(
            ErrorCode::InvalidParameterValue,
            "Layer Version Cannot be less than 1",
        ))
    } else {
        Ok(())
    }
}

fn access_denied(caller: &Caller, action: &str, resource: &str) -> ApiError {
    // The caller's ARN is in the partition of the resource's (aws, aws-cn, aws-us-gov).
    let partition = resource.split(':').nth(1).unwrap_or("aws");
    err(
        ErrorCode::AccessDenied,
        format!(
            "User: arn:{partition}:iam::{}:root is not authorized to perform: {action} on resource: {resource} because no resource-based policy allows the {action} action",
            caller.account_id
        ),
    )
}

/// Only the owner may do anything but read a granted version.
fn require_owner(
    caller: &Caller,
    layer: &LayerRef,
    action: &str,
    resource: &str,
) -> Result<(), ApiError> {
    if layer.account_id == caller.account_id {
        Ok(())
    } else {
        Err(access_denied(caller, action, resource))
    }
}

fn version_missing(layer: &LayerRef, version: i64) -> ApiError {
    err(
        ErrorCode::ResourceNotFound,
        format!(
            "Layer version {} does not exist.",
            layer.version_arn(version)
        ),
    )
}

fn list_value(items: &[String]) -> String {
    format!("[{}]", items.join(", "))
}

fn max_items(query: &QueryParams, v: &mut Violations) -> Result<i64, ApiError> {
    let Some(raw) = query.get("MaxItems") else {
        return Ok(DEFAULT_PAGE);
    };
    let n: i64 = raw.parse().map_err(|_| {
        err(
            ErrorCode::Serialization,
            format!("The query parameter MaxItems must be an integer, got '{raw}'."),
        )
    })?;
    v.int_range("maxItems", Some(n), 1, 50);
    Ok(n)
}

fn list_filters<'q>(
    query: &'q QueryParams,
    v: &mut Violations,
) -> (Option<&'q str>, Option<&'q str>) {
    let runtime = query.get("CompatibleRuntime");
    let architecture = query.get("CompatibleArchitecture");
    v.optional_enum("compatibleRuntime", runtime, RUNTIMES);
    v.optional_enum("compatibleArchitecture", architecture, ARCHITECTURES);
    (runtime, architecture)
}

fn bad_marker() -> ApiError {
    err(ErrorCode::InvalidParameterValue, "The marker is not valid.")
}

fn encode_marker(value: &str) -> String {
    B64URL.encode(value)
}

fn decode_marker(raw: &str) -> Result<String, ApiError> {
    let bytes = B64URL.decode(raw).map_err(|_| bad_marker())?;
    String::from_utf8(bytes).map_err(|_| bad_marker())
}

/// `POST /2018-10-31/layers/{LayerName}/versions`: PublishLayerVersion.
pub async fn publish(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    signed: Signed,
) -> Result<HttpResponse, ApiError> {
    let body: PublishRequest = signed.json()?;
    let caller = &signed.caller;
    let mut v = Violations::new();
    let layer = layer_ref(&state, caller, &path, &mut v);
    v.optional_str("description", body.description.as_deref(), 0, 256, None);
    v.optional_str("licenseInfo", body.license_info.as_deref(), 0, 512, None);
    let runtimes = body.compatible_runtimes.unwrap_or_default();
    let architectures = body.compatible_architectures.unwrap_or_default();
    if runtimes
        .iter()
        .any(|r| !PUBLISH_RUNTIMES.contains(&r.as_str()))
    {
        v.add(
            "compatibleRuntimes",
            Some(&list_value(&runtimes)),
            Constraint::Enum(PUBLISH_RUNTIMES),
        );
    }
    if runtimes.len() > 15 {
        v.add(
            "compatibleRuntimes",
            Some(&list_value(&runtimes)),
            Constraint::MaxLength(15),
        );
    }
    if architectures
        .iter()
        .any(|a| !ARCHITECTURES.contains(&a.as_str()))
    {
        v.add(
            "compatibleArchitectures",
            Some(&list_value(&architectures)),
            Constraint::ListEnum(ARCHITECTURES),
        );
    }
    if architectures.len() > 2 {
        v.add(
            "compatibleArchitectures",
            Some(&list_value(&architectures)),
            Constraint::MaxLength(2),
        );
    }
    match &body.content {
        None => v.add("content", None, Constraint::NotNull),
        Some(c) => {
            if let Some(bucket) = c.s3_bucket.as_deref() {
                v.optional_str("content.s3Bucket", Some(bucket), 3, 63, None);
                let charset_ok = bucket
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
                if !charset_ok || bucket.ends_with('.') {
                    v.add(
                        "content.s3Bucket",
                        Some(bucket),
                        Constraint::Pattern(r"[0-9A-Za-z\.\-_]*(?<!\.)"),
                    );
                }
            }
            v.optional_str("content.s3Key", c.s3_key.as_deref(), 1, 1024, None);
            v.optional_str(
                "content.s3ObjectVersion",
                c.s3_object_version.as_deref(),
                1,
                1024,
                None,
            );
        }
    }
    v.finish(S)?;
    let layer = layer.expect("validated above");
    same_region(&state, &layer)?;
    require_owner(caller, &layer, "lambda:PublishLayerVersion", &layer.arn())?;

    let content = body.content.expect("validated above");
    let zip;
    let content = match (&content.zip_file, &content.s3_bucket, &content.s3_key) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(err(
                ErrorCode::InvalidParameterValue,
                "Please do not provide other Content fields if you provide a ZipFile.",
            ))
        }
        (Some(b64), None, None) => {
            zip = B64.decode(b64).map_err(|_| {
                err(
                    ErrorCode::Serialization,
                    "Content.ZipFile must be base64-encoded.",
                )
            })?;
            if !(zip.starts_with(b"PK\x03\x04") || zip.starts_with(b"PK\x05\x06")) {
                return Err(err(
                    ErrorCode::InvalidParameterValue,
                    "Could not unzip uploaded file. Please check your file, then try to upload again.",
                ));
            }
            Content::Zip {
                bytes: &zip,
                sha256_b64: B64.encode(Sha256::digest(&zip)),
            }
        }
        (None, Some(bucket), Some(key)) => Content::S3 {
            bucket,
            key,
            object_version: content.s3_object_version.as_deref(),
        },
        _ => {
            return Err(err(
                ErrorCode::InvalidParameterValue,
                "Please provide a source for the layer content: ZipFile, or S3Bucket and S3Key.",
            ))
        }
    };
    let new = NewVersion {
        description: body.description.as_deref().unwrap_or(""),
        license_info: body.license_info.as_deref(),
        compatible_runtimes: &runtimes,
        compatible_architectures: &architectures,
        content,
    };
    let mut conn = state.tenant(&caller.account_id).await.map_err(db)?;
    let mut tx = conn.begin().await.map_err(db)?;
    let row = store::publish(&mut tx, &layer, &new).await.map_err(db)?;
    tx.commit().await.map_err(db)?;
    tracing::info!(layer = %layer.name, version = row.version, "published layer version");
    let location = content::location(&req, &state, &layer, row.version, &caller.account_id);
    Ok(HttpResponse::Created().json(LayerVersionOutput::from_row(&layer, row, Some(location))))
}

/// The version for its owner, or for an account its policy grants (§5.6). A version the
/// caller may not see and one that does not exist answer alike for a foreign layer.
async fn readable_version(
    req: &HttpRequest,
    state: &AppState,
    caller: &Caller,
    layer: &LayerRef,
    version: i64,
) -> Result<HttpResponse, ApiError> {
    same_region(state, layer)?;
    let row = if layer.account_id != caller.account_id {
        // The one reviewed cross-tenant read: on grantd's own role, past row-level
        // security, and only after the owner's policy granted it.
        let granted = store::policy_grants(
            &state.system_pool,
            layer,
            version,
            &caller.account_id,
            caller.organization_id.as_ref(),
        )
        .await
        .map_err(db)?;
        if !granted {
            return Err(access_denied(caller, ACTION, &layer.version_arn(version)));
        }
        store::get_version(&state.system_pool, layer, version).await
    } else {
        let mut conn = state.tenant(&caller.account_id).await.map_err(db)?;
        store::get_version(&mut *conn, layer, version).await
    };
    let row = row
        .map_err(db)?
        .ok_or_else(|| err(ErrorCode::ResourceNotFound, NOT_FOUND))?;
    let location = content::location(req, state, layer, version, &caller.account_id);
    Ok(HttpResponse::Ok().json(LayerVersionOutput::from_row(layer, row, Some(location))))
}

/// `GET /2018-10-31/layers/{LayerName}/versions/{VersionNumber}`: GetLayerVersion.
pub async fn get_version(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    signed: Signed,
) -> Result<HttpResponse, ApiError> {
    let (name, raw_version) = path.into_inner();
    let version = version_label(&raw_version)?;
    let mut v = Violations::new();
    let layer = layer_ref(&state, &signed.caller, &name, &mut v);
    v.finish(S)?;
    at_least_one(version)?;
    readable_version(
        &req,
        &state,
        &signed.caller,
        &layer.expect("validated"),
        version,
    )
    .await
}

/// `GET /2018-10-31/layers`: ListLayers, or GetLayerVersionByArn with `find=LayerVersion`.
pub async fn list_layers_or_find(
    req: HttpRequest,
    state: web::Data<AppState>,
    signed: Signed,
) -> Result<HttpResponse, ApiError> {
    let query = QueryParams::parse(req.query_string());
    if query.get("find") == Some("LayerVersion") {
        return get_version_by_arn(&req, &state, &signed.caller, &query).await;
    }
    let mut v = Violations::new();
    let (runtime, architecture) = list_filters(&query, &mut v);
    let limit = max_items(&query, &mut v)?;
    v.finish(S)?;
    let after = query.get("Marker").map(decode_marker).transpose()?;
    let filter = ListFilter {
        runtime,
        architecture,
        limit,
    };
    let mut conn = state.tenant(&signed.caller.account_id).await.map_err(db)?;
    let mut rows = store::latest_matching(
        &mut *conn,
        &signed.caller.account_id,
        &filter,
        after.as_deref(),
    )
    .await
    .map_err(db)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = more.then(|| encode_marker(&rows.last().expect("a full page").layer_name));
    let layers: Vec<LayersListItem> = rows
        .into_iter()
        .map(|row| {
            let layer =
                LayerRef::resolve(&row.layer_name, &signed.caller.account_id, &state.region);
            LayersListItem {
                layer_name: row.layer_name.clone(),
                layer_arn: layer.arn(),
                latest_matching_version: LayerVersionsListItem::from_row(&layer, row),
            }
        })
        .collect();
    let mut out = serde_json::json!({ "Layers": layers });
    if let Some(next) = next {
        out["NextMarker"] = next.into();
    }
    Ok(HttpResponse::Ok().json(out))
}

async fn get_version_by_arn(
    req: &HttpRequest,
    state: &AppState,
    caller: &Caller,
    query: &QueryParams,
) -> Result<HttpResponse, ApiError> {
    let arn = query.get("Arn");
    let mut v = Violations::new();
    v.required_str("arn", arn, 1, 140, Some(&VERSION_ARN));
    v.finish(S)?;
    let (layer, version) = arn::parse_version_arn(arn.expect("validated"))
        .ok_or_else(|| err(ErrorCode::ResourceNotFound, NOT_FOUND))?;
    at_least_one(version)?;
    readable_version(req, state, caller, &layer, version).await
}

/// `GET /2018-10-31/layers/{LayerName}/versions`: ListLayerVersions.
pub async fn list_versions(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    signed: Signed,
) -> Result<HttpResponse, ApiError> {
    let query = QueryParams::parse(req.query_string());
    let caller = &signed.caller;
    let mut v = Violations::new();
    let layer = layer_ref(&state, caller, &path, &mut v);
    let (runtime, architecture) = list_filters(&query, &mut v);
    let limit = max_items(&query, &mut v)?;
    v.finish(S)?;
    let layer = layer.expect("validated");
    same_region(&state, &layer)?;
    require_owner(caller, &layer, "lambda:ListLayerVersions", &layer.arn())?;
    let before = query
        .get("Marker")
        .map(|m| decode_marker(m)?.parse::<i64>().map_err(|_| bad_marker()))
        .transpose()?;
    let filter = ListFilter {
        runtime,
        architecture,
        limit,
    };
    let mut conn = state.tenant(&caller.account_id).await.map_err(db)?;
    let mut rows = store::versions(&mut *conn, &layer, &filter, before)
        .await
        .map_err(db)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = more.then(|| encode_marker(&rows.last().expect("a full page").version.to_string()));
    let versions: Vec<LayerVersionsListItem> = rows
        .into_iter()
        .map(|row| LayerVersionsListItem::from_row(&layer, row))
        .collect();
    let mut out = serde_json::json!({ "LayerVersions": versions });
    if let Some(next) = next {
        out["NextMarker"] = next.into();
    }
    Ok(HttpResponse::Ok().json(out))
}

/// `DELETE /2018-10-31/layers/{LayerName}/versions/{VersionNumber}`: DeleteLayerVersion,
/// 204 whether or not there was anything to delete.
pub async fn delete_version(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    signed: Signed,
) -> Result<HttpResponse, ApiError> {
    let (name, raw_version) = path.into_inner();
    let version = version_label(&raw_version)?;
    let mut v = Violations::new();
    let layer = layer_ref(&state, &signed.caller, &name, &mut v);
    v.finish(S)?;
    at_least_one(version)?;
    let layer = layer.expect("validated");
    same_region(&state, &layer)?;
    require_owner(
        &signed.caller,
        &layer,
        "lambda:DeleteLayerVersion",
        &layer.version_arn(version),
    )?;
    let mut conn = state.tenant(&signed.caller.account_id).await.map_err(db)?;
    store::delete_version(&mut *conn, &layer, version)
        .await
        .map_err(db)?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy`:
/// AddLayerVersionPermission.
pub async fn add_permission(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    signed: Signed,
) -> Result<HttpResponse, ApiError> {
    let (name, raw_version) = path.into_inner();
    let body: AddPermissionRequest = signed.json()?;
    let version = version_label(&raw_version)?;
    let caller = &signed.caller;
    let mut v = Violations::new();
    let layer = layer_ref(&state, caller, &name, &mut v);
    v.required_str(
        "statementId",
        body.statement_id.as_deref(),
        1,
        100,
        Some(&STATEMENT_ID),
    );
    v.required_str(
        "action",
        body.action.as_deref(),
        0,
        22,
        Some(&ACTION_PATTERN),
    );
    v.required_str(
        "principal",
        body.principal.as_deref(),
        0,
        usize::MAX,
        Some(&PRINCIPAL),
    );
    v.optional_str(
        "organizationId",
        body.organization_id.as_deref(),
        0,
        34,
        Some(&ORGANIZATION),
    );
    v.finish(S)?;
    at_least_one(version)?;
    let layer = layer.expect("validated");
    let sid = body.statement_id.as_deref().expect("validated");
    let grantee = Grantee::from_principal(body.principal.as_deref().expect("validated"))
        .expect("a principal matching the pattern names a grantee");
    let organization: Option<OrganizationId> = body
        .organization_id
        .as_deref()
        .map(|o| o.parse().expect("validated"));
    if organization.is_some() && grantee != Grantee::Everyone {
        return Err(err(
            ErrorCode::InvalidParameterValue,
            "OrganizationId can only be given with the principal '*'.",
        ));
    }
    same_region(&state, &layer)?;
    let version_arn = layer.version_arn(version);
    require_owner(
        caller,
        &layer,
        "lambda:AddLayerVersionPermission",
        &version_arn,
    )?;
    let given_revision = QueryParams::parse(req.query_string())
        .get("RevisionId")
        .map(str::to_owned);

    let statement = policy::statement_json(
        sid,
        &grantee,
        organization.as_ref(),
        &version_arn,
        &state.region,
    );
    let alone = policy::document_len_alone(&statement);
    let mut conn = state.tenant(&caller.account_id).await.map_err(db)?;
    let outcome = store::add_statement(
        &mut conn,
        &layer,
        version,
        &NewStatement {
            statement_id: sid,
            grantee: &grantee,
            organization: organization.as_ref(),
            json: &statement,
        },
        given_revision.as_deref(),
        alone,
        POLICY_LIMIT_BYTES,
    )
    .await
    .map_err(db)?;
    let revision = match outcome {
        store::AddOutcome::Added(revision) => revision,
        store::AddOutcome::VersionMissing => return Err(version_missing(&layer, version)),
        store::AddOutcome::Refused(facts) => {
            return Err(refused_add(sid, given_revision.as_deref(), &facts, alone))
        }
    };
    tracing::info!(layer = %layer.name, version, statement_id = sid, grantee = grantee.stored(), "layer version permission added");
    Ok(HttpResponse::Created().json(serde_json::json!({
        "Statement": statement,
        "RevisionId": revision.to_string(),
    })))
}

/// Why an add changed nothing, in the order aws-wire.md §9 pins: a duplicate id wins over
/// a stale revision, which wins over the size limit. When none holds on the row as it
/// stood, a concurrent add took the id while this one waited for the lock.
fn refused_add(
    sid: &str,
    given_revision: Option<&str>,
    facts: &store::PolicyFacts,
    alone: usize,
) -> ApiError {
    let conflict = || {
        err(
            ErrorCode::ResourceConflict,
            format!("The statement id ({sid}) provided already exists. Please provide a new statement id, or remove the existing statement."),
        )
    };
    if facts.id_taken {
        return conflict();
    }
    if let Some(given) = given_revision {
        if facts.revision.map(|r| r.to_string()).as_deref() != Some(given) {
            return err(ErrorCode::PreconditionFailed, STALE_REVISION);
        }
    }
    let size = facts.size_with(alone);
    if size > POLICY_LIMIT_BYTES as i64 {
        return err(
            ErrorCode::PolicyLengthExceeded,
            format!(
                "The final policy size ({size}) is bigger than the limit ({POLICY_LIMIT_BYTES})."
            ),
        );
    }
    conflict()
}

/// `GET /2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy`:
/// GetLayerVersionPolicy.
pub async fn get_policy(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    signed: Signed,
) -> Result<HttpResponse, ApiError> {
    let (name, raw_version) = path.into_inner();
    let version = version_label(&raw_version)?;
    let mut v = Violations::new();
    let layer = layer_ref(&state, &signed.caller, &name, &mut v);
    v.finish(S)?;
    at_least_one(version)?;
    let layer = layer.expect("validated");
    same_region(&state, &layer)?;
    require_owner(
        &signed.caller,
        &layer,
        "lambda:GetLayerVersionPolicy",
        &layer.version_arn(version),
    )?;
    let mut conn = state.tenant(&signed.caller.account_id).await.map_err(db)?;
    let store::PolicyState {
        revision,
        statements,
    } = store::policy(&mut conn, &layer, version)
        .await
        .map_err(db)?
        .ok_or_else(|| version_missing(&layer, version))?;
    let (Some(revision), Some(statements)) = (revision, statements) else {
        return Err(err(ErrorCode::ResourceNotFound, NO_POLICY));
    };
    // The statements come joined by commas: wrapped as one, they are the whole list.
    let policy = policy::policy_document(std::iter::once(statements.as_str()));
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "Policy": policy,
        "RevisionId": revision.to_string(),
    })))
}

/// `DELETE /2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy/{StatementId}`:
/// RemoveLayerVersionPermission.
pub async fn remove_permission(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
    signed: Signed,
) -> Result<HttpResponse, ApiError> {
    let (name, raw_version, sid) = path.into_inner();
    let version = version_label(&raw_version)?;
    let caller = &signed.caller;
    let mut v = Violations::new();
    let layer = layer_ref(&state, caller, &name, &mut v);
    v.required_str("statementId", Some(&sid), 1, 100, Some(&STATEMENT_ID));
    v.finish(S)?;
    at_least_one(version)?;
    let layer = layer.expect("validated");
    same_region(&state, &layer)?;
    require_owner(
        caller,
        &layer,
        "lambda:RemoveLayerVersionPermission",
        &layer.version_arn(version),
    )?;
    let given_revision = QueryParams::parse(req.query_string())
        .get("RevisionId")
        .map(str::to_owned);

    let mut conn = state.tenant(&caller.account_id).await.map_err(db)?;
    let mut tx = conn.begin().await.map_err(db)?;
    let current = store::lock_policy(&mut tx, &layer, version)
        .await
        .map_err(db)?
        .ok_or_else(|| version_missing(&layer, version))?;
    if let Some(given) = &given_revision {
        if current.map(|r| r.to_string()).as_deref() != Some(given.as_str()) {
            return Err(err(ErrorCode::PreconditionFailed, STALE_REVISION));
        }
    }
    store::remove_statement(&mut tx, &layer, version, &sid)
        .await
        .map_err(db)?
        .ok_or_else(|| {
            err(
                ErrorCode::ResourceNotFound,
                format!("Statement {sid} is not found in resource policy."),
            )
        })?;
    tx.commit().await.map_err(db)?;
    tracing::info!(layer = %layer.name, version, statement_id = %sid, "layer version permission removed");
    Ok(HttpResponse::NoContent().finish())
}
