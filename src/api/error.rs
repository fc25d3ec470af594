//! The one error type at the HTTP boundary.
//!
//! Every failure becomes the engine's status code and a `{"message": "..."}` body. Domain
//! errors (`control`, `store`) are small enums that convert into [`ApiError`] with `From`, so
//! handlers just use `?`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::control::ControlError;
use crate::store::{LookupError, StoreError};

/// The engine's error categories (moby's errdefs), each with its status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 400: bad parameters or body.
    InvalidParameter,
    /// 404: no such object or page.
    NotFound,
    /// 409: a name is taken, or the object is in the wrong state.
    Conflict,
    /// 500: internal failures, and the engine's `update out of sequence`.
    System,
    /// 501: an operation the swarm does not support (renaming a service).
    NotImplemented,
    /// 503: not a manager, already in a swarm, locked.
    Unavailable,
    /// 403: refused by policy.
    Forbidden,
    /// 401: a wrong unlock key.
    Unauthorized,
}

impl ErrorKind {
    pub fn status(self) -> StatusCode {
        match self {
            ErrorKind::InvalidParameter => StatusCode::BAD_REQUEST,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::System => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorKind::NotImplemented => StatusCode::NOT_IMPLEMENTED,
            ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
        }
    }
}

/// An Engine API error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub kind: ErrorKind,
    pub message: String,
    /// The engine answers a too-old version prefix in plain text; everything else is JSON.
    plain_text: bool,
}

/// The engine's text for swarm endpoints on a node that is not a manager.
pub const NOT_A_MANAGER: &str = "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again.";

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            plain_text: false,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidParameter, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::System, message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unavailable, message)
    }

    pub fn not_implemented(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotImplemented, message)
    }

    /// 503 for swarm endpoints when this node is not a manager.
    pub fn not_a_manager() -> Self {
        Self::unavailable(NOT_A_MANAGER)
    }

    /// 404 for unknown paths and wrong methods, as the engine's router answers.
    pub fn page_not_found() -> Self {
        Self::not_found("page not found")
    }

    /// A plain-text 400 (the engine's "client version is too old" answer).
    pub fn plain_text(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            plain_text: true,
        }
    }

    pub fn status(&self) -> StatusCode {
        self.kind.status()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if self.plain_text {
            let mut response = (status, format!("{}\n", self.message)).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            return response;
        }
        let body = serde_json::json!({ "message": self.message });
        let mut bytes = serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec());
        bytes.push(b'\n');
        let mut response = (status, bytes).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}

impl From<ControlError> for ApiError {
    fn from(error: ControlError) -> Self {
        let kind = match &error {
            ControlError::NotManager
            | ControlError::Locked
            | ControlError::AlreadyInSwarm
            | ControlError::NotInSwarm
            | ControlError::Unavailable(_) => ErrorKind::Unavailable,
            ControlError::Invalid(_) => ErrorKind::InvalidParameter,
            ControlError::NotFound(_) => ErrorKind::NotFound,
            ControlError::Conflict(_) => ErrorKind::Conflict,
            ControlError::NotImplemented(_) => ErrorKind::NotImplemented,
            ControlError::Unauthorized(_) => ErrorKind::Unauthorized,
            ControlError::Forbidden(_) => ErrorKind::Forbidden,
            ControlError::Internal(_) => ErrorKind::System,
            ControlError::Store(store) => store_kind(store),
            ControlError::Lookup(LookupError::NotFound { .. }) => ErrorKind::NotFound,
            ControlError::Lookup(LookupError::Ambiguous { .. }) => ErrorKind::InvalidParameter,
        };
        ApiError::new(kind, error.to_string())
    }
}

fn store_kind(error: &StoreError) -> ErrorKind {
    match error {
        StoreError::NotFound { .. } => ErrorKind::NotFound,
        StoreError::NameConflict { .. } => ErrorKind::Conflict,
        StoreError::OutOfSequence => ErrorKind::System,
        StoreError::InUse { .. }
        | StoreError::InvalidArgument(_)
        | StoreError::FailedPrecondition(_) => ErrorKind::InvalidParameter,
        StoreError::ClusterExists | StoreError::NoCluster => ErrorKind::Unavailable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn json_body_with_message() {
        let response = ApiError::not_found("service x not found").into_response();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            HeaderValue::from_static("application/json")
        );
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"{\"message\":\"service x not found\"}\n");
    }

    #[tokio::test]
    async fn plain_text_when_asked() {
        let response = ApiError::plain_text(ErrorKind::InvalidParameter, "too old").into_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"too old\n");
    }
}
