//! Integration tests: the real server, a real PostgreSQL, real clients.

mod envelope;
mod helpers;
mod ops;
mod signing;
