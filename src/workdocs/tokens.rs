//! How WorkDocs users prove who they are: argon2id passwords, our own login endpoint
//! (WorkDocs has none: its tokens come from an OAuth flow we do not copy), token revocation
//! and token lifetimes.
//!
//! `POST /api/v1/grantd/login` with `{"OrganizationId", "Username", "Password"}` answers
//! `{"AuthenticationToken", "ExpiresAt"}`; the token goes in `Authentication: Bearer …`.
//! `DELETE /api/v1/grantd/token` revokes the token the request carries.

use super::actor::{bearer, token_digest, WorkDocs};
use super::model::epoch;
use super::store::{self, redacted_message, PASSWORD, USERNAME};
use super::{db, ids, token_only, S};
use crate::aws::auth::{parse_json, read_body};
use crate::aws::validation::Violations;
use crate::aws::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::tenancy::AccountId;
use actix_web::{web, HttpRequest, HttpResponse};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, Duration, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;
use tokio::sync::Semaphore;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/grantd/login", web::post().to(login))
        .route("/grantd/token", web::delete().to(revoke));
}

/// How long a token lives unless asked otherwise.
pub fn default_ttl() -> Duration {
    Duration::hours(12)
}

/// The longest lifetime `--ttl` accepts.
fn max_ttl() -> Duration {
    Duration::days(366)
}

/// A token lifetime as people write it: a positive number and a unit, `s`, `m`, `h` or
/// `d` (`30m`, `12h`, `7d`), at most a year.
pub fn parse_ttl(raw: &str) -> Result<Duration, String> {
    let bad = || format!("'{raw}' is not a duration like 30m, 12h or 7d");
    let raw = raw.trim();
    let split = raw.len().checked_sub(1).ok_or_else(bad)?;
    let (number, unit) = raw.split_at(split);
    let n: i64 = number.parse().map_err(|_| bad())?;
    let ttl = match unit {
        "s" => Duration::try_seconds(n),
        "m" => Duration::try_minutes(n),
        "h" => Duration::try_hours(n),
        "d" => Duration::try_days(n),
        _ => None,
    }
    .ok_or_else(bad)?;
    if ttl <= Duration::zero() {
        return Err(bad());
    }
    if ttl > max_ttl() {
        return Err(format!(
            "'{raw}' is longer than the longest token lifetime, 366d"
        ));
    }
    Ok(ttl)
}

/// A token as shown to its holder, once.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IssuedToken {
    pub authentication_token: String,
    pub expires_at: f64,
}

/// A new token for `user_id`, living `ttl`, in the caller's transaction.
pub async fn issue(
    conn: &mut sqlx::PgConnection,
    account: &AccountId,
    user_id: &str,
    ttl: Duration,
) -> Result<IssuedToken, sqlx::Error> {
    // Whole milliseconds, so that `ExpiresAt` is exactly what is stored.
    let now = DateTime::from_timestamp_millis(Utc::now().timestamp_millis())
        .expect("the current time is representable");
    let expires_at = now + ttl;
    let token = store::create_token(conn, account, user_id, expires_at).await?;
    Ok(IssuedToken {
        authentication_token: token,
        expires_at: epoch(expires_at),
    })
}

// Passwords.

/// The OWASP-recommended argon2id parameters (19 MiB, 2 passes, 1 lane).
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Verified instead of a stored hash when the user is unknown or has no password, so that
/// every failed login costs the same (parameters as [`hasher`]).
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$\
    gZiV/M1gPc22ElAH/Jh1Hw$CWOrkoo7oJBQ/iyh7uJ0LO2aLEfrHwTWllSAxT0zRno";

/// Each hash holds 19 MiB and a core for tens of milliseconds: at most one per core runs
/// at once, the others wait, so a burst of logins cannot exhaust memory or the blocking pool.
static ARGON2_SLOTS: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())));

async fn on_argon2_slot<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    let _slot = ARGON2_SLOTS
        .acquire()
        .await
        .map_err(|e| format!("argon2 slots closed: {e}"))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| format!("argon2 task failed: {e}"))
}

/// The argon2id PHC string of `password`, computed off the async executor.
pub async fn hash_password(password: SecretString) -> Result<String, String> {
    on_argon2_slot(move || {
        let mut salt = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut salt);
        let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
        hasher()
            .hash_password(password.expose_secret().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| e.to_string())
    })
    .await?
}

/// Whether `password` matches `stored`; with no stored hash, a dummy one is verified so
/// that the answer takes as long as for a real user.
async fn verify_password(stored: Option<String>, password: SecretString) -> Result<bool, String> {
    on_argon2_slot(move || {
        let phc = stored.as_deref().unwrap_or(DUMMY_HASH);
        let parsed = PasswordHash::new(phc).map_err(|e| e.to_string())?;
        let matches = hasher()
            .verify_password(password.expose_secret().as_bytes(), &parsed)
            .is_ok();
        Ok(matches && stored.is_some())
    })
    .await?
}

// Login and revocation.

/// Login bodies are three short strings; no need to buffer the general body cap.
const LOGIN_BODY_CAP: usize = 16 * 1024;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LoginRequest {
    organization_id: Option<String>,
    username: Option<String>,
    password: Option<String>,
}

/// One answer, 401 `InvalidPasswordException`, for a wrong password, an unknown user or
/// organization, an inactive user and a user without a password.
fn login_refused() -> ApiError {
    ApiError::new(
        S,
        ErrorCode::InvalidPassword,
        "The username or password is incorrect.",
    )
}

#[derive(sqlx::FromRow)]
struct Candidate {
    account_id: AccountId,
    user_id: String,
    status: String,
    password_hash: Option<String>,
}

/// `POST /api/v1/grantd/login`: a username and password of an organization for a token.
#[tracing::instrument(name = "login", skip_all, fields(user_id = tracing::field::Empty))]
async fn login(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let cap = LOGIN_BODY_CAP.min(state.max_body_bytes);
    let body = read_body(payload.into_inner(), cap, S).await?;
    let input: LoginRequest = parse_json(&body, S)?;
    let mut v = Violations::new();
    v.required_str(
        "organizationId",
        input.organization_id.as_deref(),
        1,
        256,
        Some(&ids::ID),
    );
    v.required_str(
        "username",
        input.username.as_deref(),
        1,
        256,
        Some(&USERNAME),
    );
    v.required_str(
        "password",
        input.password.as_deref(),
        4,
        32,
        Some(&PASSWORD),
    );
    if !v.is_empty() {
        let sensitive = [
            ("username", input.username.as_deref()),
            ("password", input.password.as_deref()),
        ];
        return Err(ApiError::new(
            S,
            ErrorCode::Validation,
            redacted_message(&v, &sensitive),
        ));
    }
    let (organization, username, password) = (
        input.organization_id.expect("validated"),
        input.username.expect("validated"),
        SecretString::from(input.password.expect("validated")),
    );
    if let Some(source) = req.peer_addr().map(|a| a.ip()) {
        state.guard.login(source, &username)?;
    }
    // The directory names the tenant: a login request carries no other credential.
    let candidate: Option<Candidate> = sqlx::query_as(
        "SELECT u.account_id, u.user_id, u.status, u.password_hash
         FROM directories d
         JOIN wd_users u ON u.account_id = d.account_id AND u.directory_id = d.directory_id
         WHERE d.directory_id = $1 AND lower(u.username) = lower($2)",
    )
    .bind(&organization)
    .bind(&username)
    .fetch_optional(&state.system_pool)
    .await
    .map_err(db)?;
    let stored = candidate.as_ref().and_then(|c| c.password_hash.clone());
    let matches = verify_password(stored, password)
        .await
        .map_err(|e| ApiError::internal(S, e))?;
    let user = match candidate {
        Some(c) if matches && c.status == "ACTIVE" => c,
        _ => {
            tracing::info!("login refused");
            return Err(login_refused());
        }
    };
    tracing::Span::current().record("user_id", user.user_id.as_str());
    let mut conn = state.tenant(&user.account_id).await.map_err(db)?;
    let issued = issue(&mut conn, &user.account_id, &user.user_id, default_ttl())
        .await
        .map_err(db)?;
    tracing::info!(account_id = %user.account_id, "token issued at login");
    Ok(HttpResponse::Ok().json(issued))
}

/// `DELETE /api/v1/grantd/token`: the token of this request stops working at once.
async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    wd: WorkDocs,
) -> Result<HttpResponse, ApiError> {
    token_only(&wd.actor, "RevokeToken")?;
    let token = bearer(&req).expect("a token user's request carries a token");
    let digest = token_digest(&token);
    let mut conn = state.tenant(wd.actor.account_id()).await.map_err(db)?;
    sqlx::query(
        "UPDATE wd_tokens SET revoked_at = now()
         WHERE account_id = $1 AND token_digest = $2 AND revoked_at IS NULL",
    )
    .bind(wd.actor.account_id())
    .bind(&digest[..])
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    state.tokens.forget(&digest);
    tracing::info!(user_id = %wd.actor.principal(), "token revoked");
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_read_like_people_write_them() {
        assert_eq!(parse_ttl("12h"), Ok(Duration::hours(12)));
        assert_eq!(parse_ttl("30m"), Ok(Duration::minutes(30)));
        assert_eq!(parse_ttl("7d"), Ok(Duration::days(7)));
        assert_eq!(parse_ttl("45s"), Ok(Duration::seconds(45)));
        for bad in [
            "",
            "h",
            "12",
            "0h",
            "-1h",
            "1.5h",
            "12w",
            "9999999999999999999d",
        ] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
        assert!(parse_ttl("367d").unwrap_err().contains("366d"));
    }

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_costs() {
        let dummy = PasswordHash::new(DUMMY_HASH).unwrap();
        let salt = SaltString::encode_b64(&[7u8; 16]).unwrap();
        let real = hasher().hash_password(b"pw", &salt).unwrap();
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.version, real.version);
        assert_eq!(dummy.params, real.params);
        assert_eq!(dummy.hash.map(|h| h.len()), real.hash.map(|h| h.len()));
    }

    #[tokio::test]
    async fn passwords_verify_against_their_own_hash_only() {
        let phc = hash_password(SecretString::from("correct horse"))
            .await
            .unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        let ok = verify_password(Some(phc.clone()), SecretString::from("correct horse"));
        assert!(ok.await.unwrap());
        let wrong = verify_password(Some(phc), SecretString::from("wrong horse"));
        assert!(!wrong.await.unwrap());
        let none = verify_password(None, SecretString::from("anything"));
        assert!(!none.await.unwrap());
    }
}
