//! The Amazon WorkDocs sharing surface (aws-wire.md §6–§7): users and tokens, groups,
//! folders and documents, sharing with inherited roles, activities and notifications.
//! Each file is one slice (HTTP shapes, rules and SQL side by side); what they share —
//! the acting principal, access decisions, ids, shapes, errors — lives here.

pub mod access;
mod activities;
pub mod activity;
pub mod actor;
mod documents;
mod folders;
mod groups;
pub mod guard;
pub mod ids;
pub mod model;
pub mod outbox;
mod resources;
mod sharing;
pub mod store;
pub mod token_cache;
pub mod tokens;
mod users;

use crate::aws::query::QueryParams;
use crate::aws::{ApiError, ErrorCode, Surface};
use actix_web::web;
use actor::Actor;

pub const S: Surface = Surface::WorkDocs;

/// Every WorkDocs route, under one `/api/v1` scope: the router compares that prefix once
/// instead of trying each route's pattern on Lambda paths (and the reverse for the Lambda
/// scope). Paths inside are relative to it; unknown ones fall to the App's default.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::scope("/api/v1").configure(|cfg| {
        users::routes(cfg);
        tokens::routes(cfg);
        groups::routes(cfg);
        folders::routes(cfg);
        documents::routes(cfg);
        sharing::routes(cfg);
        resources::routes(cfg);
        activities::routes(cfg);
    }));
}

pub fn db(e: sqlx::Error) -> ApiError {
    ApiError::database(S, e)
}

/// 404 for a resource the caller cannot see, whether it exists, belongs to another tenant,
/// or never existed: the text depends only on the caller and the operation.
pub fn not_visible(actor: &Actor, op: &str) -> ApiError {
    ApiError::new(
        S,
        ErrorCode::UnauthorizedResourceAccess,
        format!(
            "Principal [{}] is not allowed to execute [workdocs:{op}] on the resource.",
            actor.principal()
        ),
    )
}

/// 403 for a caller who can see the resource but may not do this to it.
pub fn forbidden(actor: &Actor, op: &str) -> ApiError {
    ApiError::new(
        S,
        ErrorCode::UnauthorizedOperation,
        format!(
            "Principal [{}] does not have the role required to execute [workdocs:{op}] on the resource.",
            actor.principal()
        ),
    )
}

/// An invalid, expired or revoked token, or one of a deactivated user.
pub fn not_authenticated() -> ApiError {
    ApiError::new(
        S,
        ErrorCode::UnauthorizedResourceAccess,
        "The authentication token is not valid or has expired.",
    )
}

pub fn entity_not_exists(id: &str) -> ApiError {
    ApiError::new(
        S,
        ErrorCode::EntityNotExists,
        format!("The resource {id} does not exist."),
    )
    .with_entity_ids(vec![id.to_owned()])
}

pub fn invalid_argument(message: impl Into<String>) -> ApiError {
    ApiError::new(S, ErrorCode::InvalidArgument, message)
}

/// Operations that only a token user may call (GetCurrentUser, DescribeRootFolders).
pub fn token_only(actor: &Actor, op: &str) -> Result<(), ApiError> {
    match actor {
        Actor::User(_) => Ok(()),
        Actor::Admin { .. } => Err(ApiError::new(
            S,
            ErrorCode::UnauthorizedOperation,
            format!(
                "[workdocs:{op}] is not a valid action for SigV4 (administrative API) clients."
            ),
        )),
    }
}

/// The answer to a `limit` or `marker` that is not valid (the model's documented text).
pub fn bad_paging() -> ApiError {
    invalid_argument("The pagination marker or limit fields are not valid.")
}

/// `limit` (1..=`max`, default `default`) and an opaque `marker`; bad values are 400
/// `InvalidArgumentException`.
pub fn paging(
    query: &QueryParams,
    default: i64,
    max: i64,
) -> Result<(i64, Option<String>), ApiError> {
    let limit = match query.get("limit") {
        None => default,
        Some(raw) => match raw.parse::<i64>() {
            Ok(n) if (1..=max).contains(&n) => n,
            _ => return Err(bad_paging()),
        },
    };
    let marker = match query.get("marker") {
        None => None,
        Some(raw) => {
            use base64::Engine as _;
            let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(raw)
                .map_err(|_| bad_paging())?;
            Some(String::from_utf8(bytes).map_err(|_| bad_paging())?)
        }
    };
    Ok((limit, marker))
}

pub fn encode_marker(value: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value)
}
