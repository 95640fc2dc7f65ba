//! Integration tests: the real server, a real PostgreSQL, real clients.

mod envelope;
mod helpers;
mod layers;
mod ops;
mod signing;
