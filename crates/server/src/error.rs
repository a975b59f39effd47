//! One error type for every route: a contract code, an HTTP status and the `{code, message}` body.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chat_core::error::{ChatError, ErrorCode};
use chat_core::wire::ErrorBody;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub error: ChatError,
}

impl ApiError {
    pub fn invalid(message: impl Into<String>) -> Self {
        ChatError::invalid(message).into()
    }

    pub fn too_large(limit: usize) -> Self {
        ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            error: ChatError::invalid(format!("request body too large (limit {limit} bytes)")),
        }
    }

    pub fn not_found_route() -> Self {
        ApiError {
            status: StatusCode::NOT_FOUND,
            error: ChatError::new(ErrorCode::ConversationNotFound, "no such route"),
        }
    }
}

/// The HTTP status each contract code travels with (docs/protocol.md, "Errors").
pub fn status_for(code: u32) -> StatusCode {
    match ErrorCode::from_code(code) {
        Some(ErrorCode::InvalidParameters) => StatusCode::BAD_REQUEST,
        Some(ErrorCode::UserSigExpired | ErrorCode::UserSigInvalid) => StatusCode::UNAUTHORIZED,
        Some(ErrorCode::NoPermission) => StatusCode::FORBIDDEN,
        Some(ErrorCode::ConversationNotFound) => StatusCode::NOT_FOUND,
        Some(ErrorCode::FrequencyLimit) => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<ChatError> for ApiError {
    fn from(error: ChatError) -> Self {
        ApiError {
            status: status_for(error.code),
            error,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.error.code,
            message: self.error.message,
        };
        (self.status, Json(body)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Storage failures: the contract's server error, with the cause for the operator's logs.
pub fn server_error(cause: impl std::fmt::Display) -> ChatError {
    eprintln!("chat-server: storage error: {cause}");
    ChatError::new(ErrorCode::ServerError, "internal server error")
}
