//! Integration tests: the real server, a real PostgreSQL, real clients.

mod cli;
mod envelope;
mod faults;
mod helpers;
mod hostile;
mod layers;
mod ops;
mod process;
mod race;
mod row_security;
mod sdk;
mod signing;
mod tenant_pool;
mod workdocs_folders;
mod workdocs_helpers;
mod workdocs_sdk;
mod workdocs_sharing;
mod workdocs_users;
