//! What every handler can reach.

use crate::aws::key_cache::KeyCache;
use crate::crypto::MasterKey;
use crate::db::tenant::{TenantConn, TenantPool};
use crate::metrics::Metrics;
use crate::tenancy::AccountId;
use sqlx::PgPool;

pub struct AppState {
    /// grantd's own role, not subject to row-level security: authentication before a tenant
    /// is known, readiness, and the one reviewed cross-account read (layer policies).
    pub system_pool: PgPool,
    /// Connections that see one tenant's rows only: everything a request does to its data.
    pub tenant_pool: TenantPool,
    pub master_key: MasterKey,
    /// The region in ARNs and the only one accepted in SigV4 scopes.
    pub region: String,
    pub max_body_bytes: usize,
    pub metrics: Metrics,
    /// Verified access keys and their derived signing keys (bounded, 30 s time-to-live).
    pub keys: KeyCache,
    /// Resolved bearer tokens (bounded, 5 s time-to-live; revocation here is immediate).
    pub tokens: crate::workdocs::token_cache::TokenCache,
    /// Limits on guessing passwords and tokens.
    pub guard: crate::workdocs::guard::Guard,
}

impl AppState {
    /// A connection that sees only `account`'s rows.
    pub async fn tenant(&self, account: &AccountId) -> Result<TenantConn, sqlx::Error> {
        TenantConn::acquire(&self.tenant_pool, account).await
    }
}
