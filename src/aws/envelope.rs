//! Around every request: a request id (header and log span), the body-size cap answered
//! from `Content-Length` before anything reads the body, metrics, and one log line.

use super::error::{ApiError, ErrorCode, Surface};
use crate::state::AppState;
use crate::tenancy::AccountId;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue, CONTENT_LENGTH};
use actix_web::middleware::Next;
use actix_web::web::Data;
use actix_web::{HttpMessage, HttpRequest, ResponseError};
use std::time::Instant;
use tracing::Instrument as _;
use uuid::Uuid;

/// The id of the request, also sent as `x-amzn-RequestId`.
#[derive(Debug, Clone, Copy)]
pub struct RequestId(pub Uuid);

/// The account a request acted for, once authentication knows it: named in the request's
/// log line.
#[derive(Debug, Clone)]
struct LoggedAccount(AccountId);

/// Names `account` in the request's log line (called where authentication succeeds).
pub fn log_account(req: &HttpRequest, account: &AccountId) {
    req.extensions_mut().insert(LoggedAccount(account.clone()));
}

pub fn too_large(surface: Surface, cap: usize) -> ApiError {
    too_large_for(surface, cap, None)
}

/// The 413 answer, naming the operation when the method and path tell it (as Lambda does:
/// "... bytes for the PublishLayerVersion operation").
fn too_large_for(surface: Surface, cap: usize, operation: Option<&str>) -> ApiError {
    let message = match operation {
        Some(op) => format!("Request must be smaller than {cap} bytes for the {op} operation"),
        None => format!("Request must be smaller than {cap} bytes."),
    };
    ApiError::new(surface, ErrorCode::RequestEntityTooLarge, message)
}

/// The Lambda operations that take a request body, by method and path.
fn lambda_body_operation(method: &actix_web::http::Method, path: &str) -> Option<&'static str> {
    if method != actix_web::http::Method::POST {
        return None;
    }
    let rest = path.strip_prefix("/2018-10-31/layers/")?;
    let segments: Vec<&str> = rest.split('/').collect();
    match segments.as_slice() {
        [_, "versions"] => Some("PublishLayerVersion"),
        [_, "versions", _, "policy"] => Some("AddLayerVersionPermission"),
        _ => None,
    }
}

pub async fn envelope(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let request_id = Uuid::new_v4();
    req.extensions_mut().insert(RequestId(request_id));
    // The span carries only what is known now: recording a field later makes the JSON
    // formatter parse and rewrite the span's fields (a third of grantd's CPU per request
    // went to logging that way). Method, route and account go in the closing line.
    let span = tracing::info_span!("request", request_id = %request_id);
    let started = Instant::now();
    let state = req.app_data::<Data<AppState>>().cloned();
    let surface = Surface::of_path(req.path());

    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let cap = state.as_ref().map_or(usize::MAX, |s| s.max_body_bytes);
    let mut res = match declared {
        Some(len) if len > cap as u64 => {
            let operation = lambda_body_operation(req.method(), req.path());
            let err = too_large_for(surface, cap, operation);
            let res = err.error_response();
            req.into_response(res).map_into_right_body()
        }
        _ => next
            .call(req)
            .instrument(span.clone())
            .await?
            .map_into_left_body(),
    };

    res.headers_mut().insert(
        HeaderName::from_static("x-amzn-requestid"),
        HeaderValue::from_str(&request_id.to_string()).expect("a UUID is a valid header value"),
    );
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let status = res.status();
    let elapsed = started.elapsed();
    if let Some(state) = &state {
        state.metrics.observe(
            &route,
            res.request().method().as_str(),
            status.as_u16(),
            elapsed,
        );
    }
    if tracing::enabled!(tracing::Level::INFO) {
        let extensions = res.request().extensions();
        let account = extensions.get::<LoggedAccount>().map(|a| a.0.as_str());
        span.in_scope(|| {
            tracing::info!(
                method = res.request().method().as_str(),
                route = route.as_str(),
                account_id = account,
                status = status.as_u16(),
                latency_ms = elapsed.as_secs_f64() * 1000.0,
                "request finished"
            )
        });
    }
    Ok(res)
}
