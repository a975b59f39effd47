//! Sending text and reading history.

use super::parse_id;
use crate::error::ApiResult;
use crate::extract::{ApiJson, Params, User};
use crate::state::{now_ms, AppState};
use axum::extract::State;
use axum::Json;
use chat_core::rules;
use chat_core::wire::{HistoryReply, SendReply, SendRequest, MAX_PAGE};

pub async fn send(
    State(s): State<AppState>,
    User(user): User,
    ApiJson(req): ApiJson<SendRequest>,
) -> ApiResult<Json<SendReply>> {
    let id = parse_id(&req.conversation_id)?;
    rules::check_text(&req.text)?;
    rules::check_not_self(&user, &id, &req.conversation_id)?;
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
