//! The one AWS error envelope, shared by both wire surfaces (aws-wire.md §3.3).
//!
//! Every error answer carries `X-Amzn-ErrorType`, `X-Amzn-RequestId` and a JSON body with
//! `__type` plus the members the service models, in their exact capitalization. Which
//! capitalization applies depends on the surface and the code, so an [`ApiError`] knows
//! its [`Surface`]. Unexpected failures are logged in full where they happen and answered
//! with a fixed, opaque text: no SQL, path or stack ever reaches a client.

use actix_web::http::header::{HeaderName, HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde_json::{Map, Value};
use std::fmt;

/// Which wire protocol a request speaks; decides the error body's member names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    Lambda,
    WorkDocs,
    /// Neither prefix (unknown routes, operational endpoints).
    Plain,
}

impl Surface {
    pub const LAMBDA_PREFIX: &'static str = "/2018-10-31/";
    pub const WORKDOCS_PREFIX: &'static str = "/api/v1/";

    /// The surface is fixed by the path prefix, so extractors can tell it without routing.
    pub fn of_path(path: &str) -> Surface {
        if path.starts_with(Self::LAMBDA_PREFIX) || path == "/2018-10-31" {
            Surface::Lambda
        } else if path.starts_with(Self::WORKDOCS_PREFIX) || path == "/api/v1" {
            Surface::WorkDocs
        } else {
            Surface::Plain
        }
    }

    pub fn of(req: &HttpRequest) -> Surface {
        Surface::of_path(req.path())
    }

    /// The SigV4 signing name (credential-scope service) of the surface.
    pub fn signing_name(self) -> Option<&'static str> {
        match self {
            Surface::Lambda => Some("lambda"),
            Surface::WorkDocs => Some("workdocs"),
            Surface::Plain => None,
        }
    }
}

/// Every error code grantd emits, with its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    // Shared by both surfaces (unmodeled).
    MissingAuthenticationToken,
    UnrecognizedClient,
    InvalidSignature,
    IncompleteSignature,
    Serialization,
    Validation,
    UnknownOperation,
    RequestEntityTooLarge,
    // Lambda.
    InvalidParameterValue,
    ResourceConflict,
    PolicyLengthExceeded,
    PreconditionFailed,
    ResourceNotFound,
    TooManyRequests,
    Service,
    AccessDenied,
    // WorkDocs.
    InvalidArgument,
    InvalidPassword,
    UnauthorizedOperation,
    UnauthorizedResourceAccess,
    EntityNotExists,
    EntityAlreadyExists,
    ProhibitedState,
    ConflictingOperation,
    ConcurrentModification,
    ServiceUnavailable,
    Throttling,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            MissingAuthenticationToken => "MissingAuthenticationTokenException",
            UnrecognizedClient => "UnrecognizedClientException",
            InvalidSignature => "InvalidSignatureException",
            IncompleteSignature => "IncompleteSignatureException",
            Serialization => "SerializationException",
            Validation => "ValidationException",
            UnknownOperation => "UnknownOperationException",
            RequestEntityTooLarge => "RequestEntityTooLargeException",
            InvalidParameterValue => "InvalidParameterValueException",
            ResourceConflict => "ResourceConflictException",
            PolicyLengthExceeded => "PolicyLengthExceededException",
            PreconditionFailed => "PreconditionFailedException",
            ResourceNotFound => "ResourceNotFoundException",
            TooManyRequests => "TooManyRequestsException",
            Service => "ServiceException",
            AccessDenied => "AccessDeniedException",
            InvalidArgument => "InvalidArgumentException",
            InvalidPassword => "InvalidPasswordException",
            UnauthorizedOperation => "UnauthorizedOperationException",
            UnauthorizedResourceAccess => "UnauthorizedResourceAccessException",
            EntityNotExists => "EntityNotExistsException",
            EntityAlreadyExists => "EntityAlreadyExistsException",
            ProhibitedState => "ProhibitedStateException",
            ConflictingOperation => "ConflictingOperationException",
            ConcurrentModification => "ConcurrentModificationException",
            ServiceUnavailable => "ServiceUnavailableException",
            Throttling => "ThrottlingException",
        }
    }

    pub fn status(self) -> StatusCode {
        use ErrorCode::*;
        match self {
            MissingAuthenticationToken
            | UnrecognizedClient
            | InvalidSignature
            | AccessDenied
            | UnauthorizedOperation => StatusCode::FORBIDDEN,
            IncompleteSignature
            | Serialization
            | Validation
            | InvalidParameterValue
            | PolicyLengthExceeded
            | InvalidArgument => StatusCode::BAD_REQUEST,
            UnknownOperation | ResourceNotFound | UnauthorizedResourceAccess | EntityNotExists => {
                StatusCode::NOT_FOUND
            }
            RequestEntityTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            InvalidPassword => StatusCode::UNAUTHORIZED,
            ResourceConflict
            | EntityAlreadyExists
            | ProhibitedState
            | ConflictingOperation
            | ConcurrentModification => StatusCode::CONFLICT,
            PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            TooManyRequests | Throttling => StatusCode::TOO_MANY_REQUESTS,
            Service => StatusCode::INTERNAL_SERVER_ERROR,
            ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// An error answer in the AWS format of its surface.
#[derive(Debug)]
pub struct ApiError {
    surface: Surface,
    code: ErrorCode,
    message: String,
    entity_ids: Option<Vec<String>>,
    retry_after: Option<u64>,
}

/// The text every unexpected failure answers with; the cause goes to the log only.
const INTERNAL_MESSAGE: &str = "The service encountered an internal error. Try again later.";

impl ApiError {
    pub fn new(surface: Surface, code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            surface,
            code,
            message: message.into(),
            entity_ids: None,
            retry_after: None,
        }
    }

    /// An unexpected failure: logged here with its cause, answered opaquely.
    pub fn internal(surface: Surface, cause: impl fmt::Display) -> Self {
        tracing::error!(error = %cause, "request failed unexpectedly");
        let code = match surface {
            Surface::WorkDocs => ErrorCode::ServiceUnavailable,
            _ => ErrorCode::Service,
        };
        ApiError::new(surface, code, INTERNAL_MESSAGE)
    }

    /// The database could not be reached or answered with an unexpected error.
    pub fn database(surface: Surface, err: sqlx::Error) -> Self {
        Self::internal(surface, format_args!("database: {err}"))
    }

    pub fn with_entity_ids(mut self, ids: Vec<String>) -> Self {
        self.entity_ids = Some(ids);
        self
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn surface(&self) -> Surface {
        self.surface
    }

    /// The JSON body: `__type` plus the modeled members with their exact capitalization.
    pub fn body(&self) -> Value {
        use ErrorCode::*;
        let mut body = Map::new();
        body.insert("__type".into(), Value::from(self.code.as_str()));
        match self.surface {
            Surface::WorkDocs => {
                // Every WorkDocs error shape has only `Message` (plus `EntityIds`).
                body.insert("Message".into(), Value::from(self.message.as_str()));
                if let Some(ids) = &self.entity_ids {
                    body.insert("EntityIds".into(), Value::from(ids.clone()));
                }
            }
            Surface::Lambda => {
                // Modeled Lambda errors carry `Type`; unmodeled framework errors do not.
                let modeled = matches!(
                    self.code,
                    InvalidParameterValue
                        | ResourceConflict
                        | PolicyLengthExceeded
                        | PreconditionFailed
                        | ResourceNotFound
                        | TooManyRequests
                        | Service
                        | AccessDenied
                        | RequestEntityTooLarge
                );
                if modeled {
                    let kind = if self.code == Service {
                        "Service"
                    } else {
                        "User"
                    };
                    body.insert("Type".into(), Value::from(kind));
                }
                let key = if matches!(self.code, ResourceNotFound | Service | AccessDenied) {
                    "Message"
                } else {
                    "message"
                };
                body.insert(key.into(), Value::from(self.message.as_str()));
                if self.code == TooManyRequests {
                    body.insert("Reason".into(), Value::from("CallerRateLimitExceeded"));
                }
            }
            Surface::Plain => {
                body.insert("message".into(), Value::from(self.message.as_str()));
            }
        }
        Value::Object(body)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for ApiError {}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((CONTENT_TYPE, "application/json"));
        res.insert_header((
            HeaderName::from_static("x-amzn-errortype"),
            HeaderValue::from_static(self.code.as_str()),
        ));
        if let Some(seconds) = self.retry_after {
            res.insert_header((RETRY_AFTER, seconds.to_string()));
        }
        res.body(self.body().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_not_found_uses_capital_message_and_type() {
        let e = ApiError::new(Surface::Lambda, ErrorCode::ResourceNotFound, "gone");
        assert_eq!(
            e.body().to_string(),
            r#"{"Message":"gone","Type":"User","__type":"ResourceNotFoundException"}"#
        );
    }

    #[test]
    fn lambda_validation_has_no_type() {
        let e = ApiError::new(Surface::Lambda, ErrorCode::Validation, "bad");
        assert_eq!(
            e.body(),
            serde_json::json!({"__type":"ValidationException","message":"bad"})
        );
    }

    #[test]
    fn workdocs_errors_use_message_and_entity_ids() {
        let e = ApiError::new(Surface::WorkDocs, ErrorCode::EntityNotExists, "no")
            .with_entity_ids(vec!["f".into()]);
        assert_eq!(
            e.body(),
            serde_json::json!({"__type":"EntityNotExistsException","Message":"no","EntityIds":["f"]})
        );
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let e = ApiError::internal(Surface::Lambda, "relation \"x\" does not exist");
        assert_eq!(e.code(), ErrorCode::Service);
        assert!(!e.body().to_string().contains("relation"));
        let w = ApiError::internal(Surface::WorkDocs, "boom");
        assert_eq!(w.code().status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
