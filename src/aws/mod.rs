//! What both wire surfaces share: SigV4, the error envelope, validation messages, the
//! request envelope (request id, size cap, metrics) and query-string parsing.

pub mod auth;
pub mod envelope;
pub mod error;
pub mod key_cache;
pub mod query;
pub mod sigv4;
pub mod validation;

pub use auth::{Caller, Signed};
pub use error::{ApiError, ErrorCode, Surface};
