//! Per-process cache of access keys and derived SigV4 signing keys.
//!
//! Without it every signed request reads the key from PostgreSQL, opens the sealed secret
//! and runs four HMACs to derive the signing key. With it a signing key is derived once per
//! access key, day, region and service. Entries live at most [`TTL`]: a deactivated or
//! deleted access key stops working within that bound on every process. Unknown keys are
//! never cached, so guessing ids cannot fill the cache.

use crate::tenancy::{AccountId, OrganizationId};
use moka::sync::Cache;
use std::sync::Arc;
use std::time::Duration;

/// How long a verified access key may be used without asking the database again.
pub const TTL: Duration = Duration::from_secs(30);
const CAPACITY: u64 = 10_000;

#[derive(Debug)]
pub struct KeyEntry {
    pub account_id: AccountId,
    pub organization_id: Option<OrganizationId>,
}

/// (access key id, date, region, service) → the account and the signing key.
type Scope = (String, String, String, String);

#[derive(Clone)]
pub struct KeyCache {
    signing: Cache<Scope, (Arc<KeyEntry>, [u8; 32])>,
}

impl Default for KeyCache {
    fn default() -> Self {
        KeyCache {
            signing: Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(TTL)
                .build(),
        }
    }
}

impl KeyCache {
    pub fn get(&self, scope: &Scope) -> Option<(Arc<KeyEntry>, [u8; 32])> {
        self.signing.get(scope)
    }

    pub fn insert(&self, scope: Scope, entry: Arc<KeyEntry>, key: [u8; 32]) {
        self.signing.insert(scope, (entry, key));
    }
}
