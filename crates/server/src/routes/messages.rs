//! Sending text and reading history.

use super::parse_id;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Params, User};
use crate::state::{now_ms, AppState};
use axum::extract::State;
use axum::Json;
use chat_core::wire::{HistoryReply, SendReply, SendRequest, MAX_PAGE, MAX_TEXT_BYTES};

pub async fn send(
    State(s): State<AppState>,
    User(user): User,
    ApiJson(req): ApiJson<SendRequest>,
) -> ApiResult<Json<SendReply>> {
    let id = parse_id(&req.conversation_id)?;
    let len = req.text.len();
    if len == 0 || len > MAX_TEXT_BYTES {
        return Err(ApiError::invalid(format!(
            "text must be 1-{MAX_TEXT_BYTES} bytes, got {len} bytes"
        )));
    }
    Ok(Json(
        s.storage.send_text(&user, &id, &req.text, now_ms()).await?,
    ))
}

pub async fn history(
    State(s): State<AppState>,
    User(user): User,
    params: Params,
) -> ApiResult<Json<HistoryReply>> {
    let id = parse_id(params.required("conversationID")?)?;
    let count = params.count(20, MAX_PAGE)?;
    let before = match params.get("beforeSeq") {
        None => None,
        Some(_) => Some(params.u64_or("beforeSeq", None)?),
    };
    Ok(Json(s.storage.history(&user, &id, count, before).await?))
}
