//! What every handler can reach.

use crate::aws::key_cache::KeyCache;
use crate::crypto::MasterKey;
use crate::metrics::Metrics;
use sqlx::PgPool;

pub struct AppState {
    pub pool: PgPool,
    pub master_key: MasterKey,
    /// The region in ARNs and the only one accepted in SigV4 scopes.
    pub region: String,
    pub max_body_bytes: usize,
    pub metrics: Metrics,
    /// Verified access keys and their derived signing keys (bounded, 30 s time-to-live).
    pub keys: KeyCache,
    /// Limits on guessing passwords and tokens.
    pub guard: crate::workdocs::guard::Guard,
}
