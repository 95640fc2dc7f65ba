//! The `Signed` extractor: reads the body (within the cap), verifies SigV4 for the
//! surface's signing name, and yields the calling account with the body.

use super::error::{ApiError, ErrorCode, Surface};
use super::key_cache::KeyEntry;
use super::sigv4::{self, AuthFailure, RequestParts};
use crate::state::AppState;
use crate::tenancy::{find_access_key, AccessKeyId, AccountId, OrganizationId};
use actix_web::dev::Payload;
use actix_web::web::{Bytes, BytesMut, Data};
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt as _;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// Who is calling: an account, through one of its access keys.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account_id: AccountId,
    /// The account's AWS Organizations id, which organization grants match.
    pub organization_id: Option<OrganizationId>,
    pub access_key_id: AccessKeyId,
}

/// A request whose SigV4 signature was verified, with its body.
#[derive(Debug)]
pub struct Signed {
    pub caller: Caller,
    pub body: Bytes,
    surface: Surface,
}

impl Signed {
    /// The body as JSON (see [`parse_json`]).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        parse_json(&self.body, self.surface)
    }
}

/// A JSON request body; malformed JSON or a wrong member type is a `SerializationException`.
/// An empty body reads as `{}` (botocore sends none when every member is in the URI).
pub fn parse_json<T: DeserializeOwned>(body: &[u8], surface: Surface) -> Result<T, ApiError> {
    let bytes: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(bytes).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Data => "a member has the wrong type or value",
            _ => "the body is not valid JSON",
        };
        ApiError::new(
            surface,
            ErrorCode::Serialization,
            format!(
                "Could not parse the request body: {what} (line {}, column {}).",
                e.line(),
                e.column()
            ),
        )
    })
}

impl FromRequest for Signed {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            let surface = Surface::of(&req);
            let state = req
                .app_data::<Data<AppState>>()
                .expect("AppState is registered on the App")
                .clone();
            let body = read_body(payload, state.max_body_bytes, surface).await?;
            let caller = authenticate(&state, &req, &body, surface).await?;
            Ok(Signed {
                caller,
                body,
                surface,
            })
        })
    }
}

/// Buffers the body, refusing it once it passes the cap (for bodies without a
/// `Content-Length`; declared lengths are refused earlier by the envelope middleware).
pub(crate) async fn read_body(
    mut payload: Payload,
    cap: usize,
    surface: Surface,
) -> Result<Bytes, ApiError> {
    let mut buf = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| {
            ApiError::new(
                surface,
                ErrorCode::Serialization,
                "The request body could not be read.",
            )
        })?;
        if buf.len() + chunk.len() > cap {
            return Err(super::envelope::too_large(surface, cap));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

pub(crate) async fn authenticate(
    state: &AppState,
    req: &HttpRequest,
    body: &[u8],
    surface: Surface,
) -> Result<Caller, ApiError> {
    let service = surface
        .signing_name()
        .expect("signed routes live under a surface prefix");
    let parts = RequestParts {
        method: req.method().as_str(),
        raw_path: req.uri().path(),
        raw_query: req.uri().query().unwrap_or(""),
        headers: req.headers(),
        body,
    };
    let pending = sigv4::prepare(&parts, service, &state.region, chrono::Utc::now())
        .map_err(|f| reject(f, surface))?;
    let auth = &pending.authorization;
    let scope = (
        auth.access_key_id.clone(),
        auth.scope_date.clone(),
        auth.region.clone(),
        auth.service.clone(),
    );
    let entry = match state.keys.get(&scope) {
        Some((entry, key)) => {
            pending.verify(&key).map_err(|f| reject(f, surface))?;
            entry
        }
        None => {
            let record = find_access_key(&state.system_pool, &auth.access_key_id)
                .await
                .map_err(|e| ApiError::database(surface, e))?
                .ok_or_else(|| reject(AuthFailure::UnknownAccessKey, surface))?;
            let secret = state
                .master_key
                .open(&record.secret_sealed, auth.access_key_id.as_bytes())
                .map_err(|e| ApiError::internal(surface, e))?;
            let secret = String::from_utf8(secret).map_err(|e| ApiError::internal(surface, e))?;
            let key = sigv4::signing_key(&secret, &auth.scope_date, &auth.region, &auth.service);
            let entry = Arc::new(KeyEntry {
                account_id: record.account_id,
                organization_id: record.organization_id,
            });
            // Only a key that verifies is remembered.
            pending.verify(&key).map_err(|f| reject(f, surface))?;
            state.keys.insert(scope, entry.clone(), key);
            entry
        }
    };
    let access_key_id = auth
        .access_key_id
        .parse()
        .map_err(|e: String| ApiError::internal(surface, e))?;
    super::envelope::log_account(req, &entry.account_id);
    Ok(Caller {
        account_id: entry.account_id.clone(),
        organization_id: entry.organization_id.clone(),
        access_key_id,
    })
}

fn reject(failure: AuthFailure, surface: Surface) -> ApiError {
    tracing::info!(reason = ?failure, "request signature rejected");
    failure.into_api_error(surface)
}
