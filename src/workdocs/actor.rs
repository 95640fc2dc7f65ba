//! Who acts in a WorkDocs request (aws-wire.md §6.1): an administrator of the account
//! (SigV4, no token), or the user of an `Authentication` bearer token (unsigned, or
//! SigV4-signed with the token signed too).

use super::{not_authenticated, S};
use crate::aws::auth::{authenticate, parse_json, read_body};
use crate::aws::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::tenancy::AccountId;
use actix_web::dev::Payload;
use actix_web::web::{Bytes, Data};
use actix_web::{FromRequest, HttpRequest};
use chrono::{DateTime, Utc};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

/// A token user, as every authorization decision needs it.
#[derive(Debug, Clone)]
pub struct UserActor {
    pub account_id: AccountId,
    pub user_id: String,
    pub directory_id: String,
    pub username: String,
}

#[derive(Debug, Clone)]
pub enum Actor {
    /// SigV4 credentials of the account: administrator of its own organization only.
    Admin {
        account_id: AccountId,
        directory_id: String,
    },
    User(UserActor),
}

impl Actor {
    pub fn account_id(&self) -> &AccountId {
        match self {
            Actor::Admin { account_id, .. } => account_id,
            Actor::User(u) => &u.account_id,
        }
    }

    pub fn directory_id(&self) -> &str {
        match self {
            Actor::Admin { directory_id, .. } => directory_id,
            Actor::User(u) => &u.directory_id,
        }
    }

    /// How the caller is named in messages and as an activity's initiator.
    pub fn principal(&self) -> String {
        match self {
            Actor::Admin { account_id, .. } => format!("arn:aws:iam::{account_id}:root"),
            Actor::User(u) => u.user_id.clone(),
        }
    }

    pub fn user(&self) -> Option<&UserActor> {
        match self {
            Actor::User(u) => Some(u),
            Actor::Admin { .. } => None,
        }
    }
}

/// A verified WorkDocs request: who acts, and the body.
#[derive(Debug)]
pub struct WorkDocs {
    pub actor: Actor,
    pub body: Bytes,
}

impl WorkDocs {
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        parse_json(&self.body, S)
    }
}

/// The token as sent: `Bearer <token>` or the bare token (the SDKs copy the member verbatim).
pub fn bearer(req: &HttpRequest) -> Option<String> {
    let raw = req.headers().get("authentication")?.to_str().ok()?.trim();
    let token = match raw.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("bearer ") => raw[7..].trim(),
        _ => raw,
    };
    (!token.is_empty()).then(|| token.to_owned())
}

pub fn token_digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl FromRequest for WorkDocs {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            let state = req
                .app_data::<Data<AppState>>()
                .expect("AppState is registered on the App")
                .clone();
            let body = read_body(payload, state.max_body_bytes, S).await?;
            let token = bearer(&req);
            let signed = if req.headers().contains_key("authorization") {
                Some(authenticate(&state, &req, &body, S).await?)
            } else {
                None
            };
            let actor = match (signed, token) {
                (signed, Some(token)) => {
                    let user = match resolve_token(&state, &token).await {
                        Ok(user) => user,
                        Err(refused) => {
                            let guessed = refused.code() == ErrorCode::UnauthorizedResourceAccess;
                            if let Some(source) =
                                req.peer_addr().filter(|_| guessed).map(|a| a.ip())
                            {
                                state.guard.bad_token(source)?;
                            }
                            return Err(refused);
                        }
                    };
                    // A signed request with a token acts as the token's user, who must be
                    // of the signing account.
                    if signed.is_some_and(|c| c.account_id != user.account_id) {
                        return Err(not_authenticated());
                    }
                    crate::aws::envelope::log_account(&req, &user.account_id);
                    Actor::User(user)
                }
                (Some(caller), None) => {
                    let directory_id = directory_of(&state, &caller.account_id).await?;
                    Actor::Admin {
                        account_id: caller.account_id,
                        directory_id,
                    }
                }
                (None, None) => {
                    return Err(ApiError::new(
                        S,
                        ErrorCode::MissingAuthenticationToken,
                        "Missing Authentication Token",
                    ))
                }
            };
            Ok(WorkDocs { actor, body })
        })
    }
}

/// The active user of an unexpired, unrevoked token; anything else is one answer. A token
/// resolved in the last few seconds comes from the cache ([`super::token_cache`]).
async fn resolve_token(state: &AppState, token: &str) -> Result<UserActor, ApiError> {
    if token.len() > 8192 {
        return Err(not_authenticated());
    }
    let digest = token_digest(token);
    if let Some(user) = state.tokens.get(&digest) {
        return Ok(user);
    }
    let row: Option<(AccountId, String, String, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT u.account_id, u.user_id, u.directory_id, u.username, t.expires_at
         FROM wd_tokens t
         JOIN wd_users u ON u.account_id = t.account_id AND u.user_id = t.user_id
         WHERE t.token_digest = $1 AND t.revoked_at IS NULL AND t.expires_at > now()
           AND u.status = 'ACTIVE'",
    )
    .bind(&digest[..])
    .fetch_optional(&state.system_pool)
    .await
    .map_err(|e| ApiError::database(S, e))?;
    let (account_id, user_id, directory_id, username, expires_at) =
        row.ok_or_else(not_authenticated)?;
    let user = UserActor {
        account_id,
        user_id,
        directory_id,
        username,
    };
    state.tokens.insert(digest, user.clone(), expires_at);
    Ok(user)
}

async fn directory_of(state: &AppState, account: &AccountId) -> Result<String, ApiError> {
    sqlx::query_scalar("SELECT directory_id FROM directories WHERE account_id = $1")
        .bind(account)
        .fetch_one(&state.system_pool)
        .await
        .map_err(|e| ApiError::database(S, e))
}
