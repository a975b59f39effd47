//! Conversation list, get, read mark and batch delete.

use super::parse_id;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Params, User};
use crate::state::AppState;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::Json;
use chat_core::error::ChatError;
use chat_core::id::ConversationId;
use chat_core::model::{Conversation, ConversationOperationResult};
use chat_core::wire::{
    ConversationListReply, DeleteReply, DeleteRequest, DeleteResultItem, MarkReadRequest,
    MAX_DELETE_BATCH, MAX_PAGE,
};
use std::collections::HashSet;

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
) -> ApiResult<Json<Conversation>> {
    let id = parse_id(&req.conversation_id)?;
    Ok(Json(s.storage.mark_read(&user, &id).await?))
}

fn item(raw: &str, code: u32, info: String, upto_seq: u64) -> DeleteResultItem {
    DeleteResultItem {
        result: ConversationOperationResult {
            conversation_id: raw.to_owned(),
            result_code: code,
            result_info: info,
        },
        upto_seq,
        feed_seq: 0,
    }
}

pub async fn delete(
    State(s): State<AppState>,
    User(user): User,
    ApiJson(req): ApiJson<DeleteRequest>,
) -> ApiResult<Json<DeleteReply>> {
    let n = req.conversation_id_list.len();
    if n == 0 || n > MAX_DELETE_BATCH {
        return Err(ApiError::invalid(format!(
            "conversationIDList must hold 1-{MAX_DELETE_BATCH} IDs, got {n}"
        )));
    }
    // Distinct items in first-seen order; both ID styles of one conversation collapse.
    let mut seen_ids = HashSet::new();
    let mut seen_bad = HashSet::new();
    let mut items: Vec<(String, Result<ConversationId, ChatError>)> = Vec::new();
    for raw in req.conversation_id_list {
        match ConversationId::parse(&raw) {
            Ok(id) => {
                if seen_ids.insert(id.clone()) {
                    items.push((raw, Ok(id)));
                }
            }
            Err(e) => {
                if seen_bad.insert(raw.clone()) {
                    items.push((raw, Err(e)));
                }
            }
        }
    }
    let valid: Vec<ConversationId> = items
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok().cloned())
        .collect();
    let mut outcomes = s
        .storage
        .delete_conversations(&user, &valid, req.clear_message)
        .await?
        .into_iter();
    let results = items
        .into_iter()
        .map(|(raw, parsed)| match parsed {
            Err(e) => item(&raw, e.code, e.message, 0),
            Ok(_) => match outcomes.next() {
                Some(Ok(upto)) => item(&raw, 0, String::new(), upto),
                Some(Err(e)) if e.code == 2500 => {
                    item(&raw, e.code, ChatError::not_found(&raw).message, 0)
                }
                Some(Err(e)) => item(&raw, e.code, e.message, 0),
                None => item(&raw, 9530, "internal server error".into(), 0),
            },
        })
        .collect();
    Ok(Json(DeleteReply { results }))
}
