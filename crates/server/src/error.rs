//! One error type for every route: a contract code, an HTTP status and the `{code, message}` body.

use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chat_core::error::{quote, ChatError, ErrorCode};
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
    tracing::error!("storage error: {cause}");
    ChatError::new(ErrorCode::ServerError, "internal server error")
}

/// Whether `path` is one of the API's (where every error must be `{code, message}`).
fn is_api_path(path: &str) -> bool {
    ["/v1", "/dev"].iter().any(|p| {
        path.strip_prefix(p)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// Gives the errors that the router and the layers answer on their own (unknown route, wrong
/// method, body too large, a panic, ...) the `{code, message}` body under `/v1` and `/dev`.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !is_api_path(&path) || is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let shown = quote(&path);
    let (code, message) = match status {
        StatusCode::NOT_FOUND => (
            ErrorCode::ConversationNotFound,
            format!("no such route {shown}"),
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            ErrorCode::InvalidParameters,
            format!("method {method} not allowed for {shown}"),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            ErrorCode::InvalidParameters,
            format!("request body too large (limit {} bytes)", crate::BODY_LIMIT),
        ),
        StatusCode::REQUEST_TIMEOUT => (ErrorCode::RequestTimeout, "request timed out".into()),
        s if s.is_server_error() => (ErrorCode::ServerError, "internal server error".into()),
        s => (
            ErrorCode::InvalidParameters,
            format!("bad request: HTTP {s}"),
        ),
    };
    let mut replaced = ApiError {
        status,
        error: ChatError::new(code, message),
    }
    .into_response();
    // Keep what the status needs (Allow on 405, CORS headers), drop the old body's headers.
    let mut headers = response.headers().clone();
    headers.remove(axum::http::header::CONTENT_LENGTH);
    headers.remove(CONTENT_TYPE);
    replaced.headers_mut().extend(headers);
    replaced
}
