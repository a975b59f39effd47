//! The HTTP routes of docs/protocol.md.

pub mod conversations;
pub mod dev;
pub mod feed;
pub mod messages;
pub mod session;
pub mod ws_ticket;

use crate::error::ApiError;
use chat_core::id::ConversationId;

/// Unknown /v1 and /dev routes answer in the protocol's error shape.
pub async fn not_found() -> ApiError {
    ApiError::not_found_route()
}

pub fn parse_id(raw: &str) -> Result<ConversationId, ApiError> {
    ConversationId::parse(raw).map_err(ApiError::from)
}
