//! Conversation list, get, read mark and batch delete.

use super::parse_id;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Params, User};
use crate::state::AppState;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::Json;
use chat_core::error::{ChatError, ErrorCode};
use chat_core::id::ConversationId;
use chat_core::model::{Conversation, ConversationOperationResult};
use chat_core::rules;
use chat_core::wire::{
    ConversationListReply, DeleteReply, DeleteRequest, DeleteResultItem, MarkReadRequest,
    ReadReply, MAX_PAGE,
};

pub async fn list(
    State(s): State<AppState>,
    User(user): User,
    params: Params,
) -> ApiResult<Json<ConversationListReply>> {
    let next_seq = params.u64_or("nextSeq", Some(0))?;
    let count = params.count(20, MAX_PAGE)?;
    Ok(Json(
        s.storage.list_conversations(&user, next_seq, count).await?,
    ))
}

pub async fn get_one(
    State(s): State<AppState>,
    User(user): User,
    path: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<Conversation>> {
    let Path(raw) = path.map_err(|e| ApiError::invalid(e.body_text()))?;
    let id = parse_id(&raw)?;
    Ok(Json(s.storage.get_conversation(&user, &id).await?))
}

pub async fn read(
    State(s): State<AppState>,
    User(user): User,
    ApiJson(req): ApiJson<MarkReadRequest>,
) -> ApiResult<Json<ReadReply>> {
    let id = parse_id(&req.conversation_id)?;
    Ok(Json(s.storage.mark_read(&user, &id).await?))
}

fn item(raw: &str, code: u32, info: String, upto_seq: u64, feed_seq: u64) -> DeleteResultItem {
    DeleteResultItem {
        result: ConversationOperationResult {
            conversation_id: raw.to_owned(),
            result_code: code,
            result_info: info,
        },
        upto_seq,
        feed_seq,
    }
}

pub async fn delete(
    State(s): State<AppState>,
    User(user): User,
    ApiJson(req): ApiJson<DeleteRequest>,
) -> ApiResult<Json<DeleteReply>> {
    rules::check_delete_batch(req.conversation_id_list.len())?;
    let items = rules::distinct_delete_list(req.conversation_id_list.iter().map(String::as_str));
    let valid: Vec<ConversationId> = items
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok().cloned())
        .collect();
    let mut outcomes = s
        .storage
        .delete_conversations(&user, &valid, req.clear_message)
        .await?
        .into_iter();
    let not_found = ErrorCode::ConversationNotFound.code();
    let results = items
        .into_iter()
        .map(|(raw, parsed)| match parsed {
            Err(e) => item(&raw, e.code, e.message, 0, 0),
            Ok(_) => match outcomes.next() {
                Some(Ok(d)) => item(&raw, 0, String::new(), d.upto_seq, d.feed_seq),
                // Named as the caller wrote it, not in its canonical form.
                Some(Err(e)) if e.code == not_found => {
                    item(&raw, e.code, ChatError::not_found(&raw).message, 0, 0)
                }
                Some(Err(e)) => item(&raw, e.code, e.message, 0, 0),
                None => item(
                    &raw,
                    ErrorCode::ServerError.code(),
                    "internal server error".into(),
                    0,
                    0,
                ),
            },
        })
        .collect();
    Ok(Json(DeleteReply { results }))
}
