//! Limits on guessing credentials, per process.
//!
//! Logins are limited per source address and per (source, username); requests with an
//! invalid token are limited per source. Keys always include the source, so an attacker
//! exhausting a limit locks out only themselves, never the real user at another address.
//! Over a limit the answer is 429 `ThrottlingException` with `Retry-After`. Behind a proxy
//! every client shares the proxy's address: give each grantd its clients' addresses
//! directly or limit at the proxy.

use super::S;
use crate::aws::{ApiError, ErrorCode};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;

pub struct Guard {
    logins_by_source: DefaultKeyedRateLimiter<IpAddr>,
    logins_by_user: DefaultKeyedRateLimiter<(IpAddr, String)>,
    bad_tokens_by_source: DefaultKeyedRateLimiter<IpAddr>,
}

fn per_minute(n: u32, burst: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n).expect("non-zero"))
        .allow_burst(NonZeroU32::new(burst).expect("non-zero"))
}

impl Default for Guard {
    fn default() -> Self {
        Guard {
            logins_by_source: RateLimiter::keyed(per_minute(30, 20)),
            logins_by_user: RateLimiter::keyed(per_minute(10, 10)),
            bad_tokens_by_source: RateLimiter::keyed(per_minute(60, 30)),
        }
    }
}

fn check<K: Hash + Eq + Clone>(
    limiter: &DefaultKeyedRateLimiter<K>,
    key: &K,
) -> Result<(), ApiError> {
    // Forget idle keys now and then so the maps stay bounded.
    if limiter.len() > 100_000 {
        limiter.retain_recent();
    }
    limiter.check_key(key).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        ApiError::new(
            S,
            ErrorCode::Throttling,
            "Too many attempts. Wait before trying again.",
        )
        .with_retry_after(wait.as_secs().max(1))
    })
}

impl Guard {
    /// Counts a login attempt; refuses it when the source or the source-and-user is over.
    pub fn login(&self, source: IpAddr, username: &str) -> Result<(), ApiError> {
        check(&self.logins_by_source, &source)?;
        check(&self.logins_by_user, &(source, username.to_lowercase()))
    }

    /// Counts a request with an invalid token; refuses it once the source is over.
    pub fn bad_token(&self, source: IpAddr) -> Result<(), ApiError> {
        check(&self.bad_tokens_by_source, &source)
    }
}
