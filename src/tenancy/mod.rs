//! Tenancy: accounts (the tenants), their organization, access keys and directory.
//! Every stored row elsewhere carries an [`AccountId`] from here.

mod ids;
mod store;

pub use ids::{random_secret, AccessKeyId, AccountId, DirectoryId, OrganizationId};
pub use store::{
    create_access_key, create_account, ensure_default_account, find_access_key, organization_of,
    verify_master_key, AccessKeyRecord, NewAccessKey, NewAccount, NewAccountSpec, TenancyError,
};
