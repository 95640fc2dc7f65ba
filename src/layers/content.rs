//! Downloading a layer version's zip. `Content.Location` is, as on AWS, a URL that works
//! with a plain GET for a short while: grantd signs it (HMAC over owner, layer, version,
//! grantee and expiry) instead of S3. The grant is checked again on download, so a revoked
//! permission stops a URL handed out before.

use super::arn::LayerRef;
use super::store;
use crate::aws::query::QueryParams;
use crate::aws::{ApiError, ErrorCode, Surface};
use crate::state::AppState;
use crate::tenancy::{self, AccountId};
use actix_web::{web, HttpRequest, HttpResponse};
use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use sha2::Sha256;

/// How long a `Content.Location` URL works (S3's presigned URLs from Lambda: 10 minutes).
const VALID_SECONDS: i64 = 600;
pub const ROUTE: &str = "/grantd/layer-content/{account}/{layer}/{version}";

fn mac(
    key: &[u8; 32],
    layer: &LayerRef,
    version: i64,
    grantee: &str,
    expires: i64,
) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(
        format!(
            "{}\n{}\n{version}\n{grantee}\n{expires}",
            layer.account_id, layer.name
        )
        .as_bytes(),
    );
    mac
}

/// The download URL for `grantee`, on the host the client addressed.
pub fn location(
    req: &HttpRequest,
    state: &AppState,
    layer: &LayerRef,
    version: i64,
    grantee: &AccountId,
) -> String {
    let expires = chrono::Utc::now().timestamp() + VALID_SECONDS;
    let signature = hex::encode(
        mac(
            state.master_key.url_key(),
            layer,
            version,
            grantee.as_str(),
            expires,
        )
        .finalize()
        .into_bytes(),
    );
    let info = req.connection_info();
    format!(
        "{}://{}/grantd/layer-content/{}/{}/{version}?Grantee={grantee}&Expires={expires}&Signature={signature}",
        info.scheme(),
        info.host(),
        layer.account_id,
        utf8_percent_encode(&layer.name, NON_ALPHANUMERIC),
    )
}

fn denied() -> ApiError {
    ApiError::new(
        Surface::Plain,
        ErrorCode::AccessDenied,
        "The download URL is not valid or has expired.",
    )
}

/// `GET /grantd/layer-content/{account}/{layer}/{version}?Grantee&Expires&Signature`.
pub async fn download(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (account, name, version) = path.into_inner();
    let query = QueryParams::parse(req.query_string());
    let (Ok(account_id), Ok(version), Some(grantee), Some(expires), Some(signature)) = (
        account.parse::<AccountId>(),
        version.parse::<i64>(),
        query.get("Grantee"),
        query.get("Expires").and_then(|e| e.parse::<i64>().ok()),
        query.get("Signature").and_then(|s| hex::decode(s).ok()),
    ) else {
        return Err(denied());
    };
    let layer = LayerRef {
        account_id,
        region: state.region.clone(),
        name,
    };
    mac(
        state.master_key.url_key(),
        &layer,
        version,
        grantee,
        expires,
    )
    .verify_slice(&signature)
    .map_err(|_| denied())?;
    if expires < chrono::Utc::now().timestamp() {
        return Err(denied());
    }
    let db = |e| ApiError::database(Surface::Plain, e);
    let zip = if grantee != layer.account_id.as_str() {
        // The reviewed cross-tenant read (see `handlers::readable_version`).
        let grantee: AccountId = grantee.parse().map_err(|_| denied())?;
        let organization = tenancy::organization_of(&state.system_pool, &grantee)
            .await
            .map_err(db)?;
        let granted = store::policy_grants(
            &state.system_pool,
            &layer,
            version,
            &grantee,
            organization.as_ref(),
        )
        .await
        .map_err(db)?;
        if !granted {
            return Err(denied());
        }
        store::get_zip(&state.system_pool, &layer, version).await
    } else {
        let mut conn = state.tenant(&layer.account_id).await.map_err(db)?;
        store::get_zip(&mut *conn, &layer, version).await
    };
    let zip = zip.map_err(db)?.ok_or_else(|| {
        ApiError::new(
            Surface::Plain,
            ErrorCode::ResourceNotFound,
            "The resource you requested does not exist.",
        )
    })?;
    Ok(HttpResponse::Ok().content_type("application/zip").body(zip))
}
