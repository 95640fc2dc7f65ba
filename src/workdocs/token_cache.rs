//! Per-process cache of resolved bearer tokens.
//!
//! The document backend sends a token with every request; without this cache each one
//! costs a database round trip before the request's own work starts. An entry maps the
//! token's SHA-256 digest (never the token) to its user and expiry, and lives at most
//! [`TTL`]. Revoking a token (`DELETE /api/v1/grantd/token`) or deactivating a user takes
//! effect at once on the process that served it, and within [`TTL`] on every other process
//! sharing the database. An entry is never used past the token's own expiry. Tokens that do
//! not resolve are never cached, so guessing cannot fill the cache.

use super::actor::UserActor;
use chrono::{DateTime, Utc};
use moka::sync::Cache;
use std::sync::Arc;
use std::time::Duration;

/// How long a resolved token may be used without asking the database again: the bound on
/// how long a revocation made through another grantd process goes unnoticed here.
pub const TTL: Duration = Duration::from_secs(5);
const CAPACITY: u64 = 100_000;

type Digest = [u8; 32];

#[derive(Clone)]
pub struct TokenCache {
    tokens: Cache<Digest, Arc<(UserActor, DateTime<Utc>)>>,
}

impl Default for TokenCache {
    fn default() -> Self {
        TokenCache {
            tokens: Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(TTL)
                .build(),
        }
    }
}

impl TokenCache {
    /// The token's user, if it was resolved less than [`TTL`] ago and has not expired.
    pub fn get(&self, digest: &Digest) -> Option<UserActor> {
        let entry = self.tokens.get(digest)?;
        if entry.1 <= Utc::now() {
            self.tokens.invalidate(digest);
            return None;
        }
        Some(entry.0.clone())
    }

    pub fn insert(&self, digest: Digest, user: UserActor, expires_at: DateTime<Utc>) {
        self.tokens.insert(digest, Arc::new((user, expires_at)));
    }

    /// One token stops resolving from the cache (it was revoked).
    pub fn forget(&self, digest: &Digest) {
        self.tokens.invalidate(digest);
    }

    /// No token resolves from the cache (a user was deactivated: all of their tokens are
    /// revoked, and deactivation is rare enough that the whole cache can be refilled).
    pub fn forget_all(&self) {
        self.tokens.invalidate_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> UserActor {
        UserActor {
            account_id: "123456789012".parse().unwrap(),
            user_id: "u".into(),
            directory_id: "d".into(),
            username: "pat".into(),
        }
    }

    #[test]
    fn an_expired_token_never_resolves_from_the_cache() {
        let cache = TokenCache::default();
        cache.insert([1; 32], user(), Utc::now() - chrono::Duration::seconds(1));
        assert!(cache.get(&[1; 32]).is_none());
        cache.insert([2; 32], user(), Utc::now() + chrono::Duration::hours(1));
        assert_eq!(cache.get(&[2; 32]).unwrap().username, "pat");
        cache.forget(&[2; 32]);
        assert!(cache.get(&[2; 32]).is_none());
        cache.insert([3; 32], user(), Utc::now() + chrono::Duration::hours(1));
        cache.forget_all();
        assert!(cache.get(&[3; 32]).is_none());
    }
}
