//! `/dev/*`, mounted only with `--dev`.

use crate::auth::make_user_sig;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Params};
use crate::state::{now_ms, AppState};
use axum::extract::State;
use axum::Json;
use chat_core::error::quote;
use chat_core::id::{validate_group_id, validate_user_id, ConversationId};
use chat_core::wire::{CreateGroupRequest, UserSigReply};
use serde::Deserialize;

const SIG_LIFETIME_SECS: u64 = 86_400 * 7;
const MAX_GROUP_NAME_BYTES: usize = 256;
const MAX_GROUP_MEMBERS: usize = 1000;
const MAX_SEED_PEERS: u32 = 500;
const MAX_SEED_MESSAGES_EACH: u32 = 100;

pub async fn usersig(State(s): State<AppState>, params: Params) -> ApiResult<Json<UserSigReply>> {
    let user = params.required("userID")?;
    validate_user_id(user)?;
    Ok(Json(UserSigReply {
        user_sig: make_user_sig(
            s.config.sdk_app_id,
            &s.config.secret_key,
            user,
            now_ms() / 1000 + SIG_LIFETIME_SECS,
        ),
    }))
}

pub async fn groups(
    State(s): State<AppState>,
    ApiJson(req): ApiJson<CreateGroupRequest>,
) -> ApiResult<Json<serde_json::Value>> {
    validate_group_id(&req.group_id)?;
    if req.name.is_empty() || req.name.len() > MAX_GROUP_NAME_BYTES {
        return Err(ApiError::invalid(format!(
            "group name must be 1-{MAX_GROUP_NAME_BYTES} bytes, got {}",
            quote(&req.name)
        )));
    }
    if req.members.len() > MAX_GROUP_MEMBERS {
        return Err(ApiError::invalid(format!(
            "at most {MAX_GROUP_MEMBERS} members, got {}",
            req.members.len()
        )));
    }
    for m in &req.members {
        validate_user_id(m)?;
    }
    s.storage
        .upsert_group(&req.group_id, &req.name, &req.members)
        .await?;
    Ok(Json(serde_json::json!({})))
}

/// `POST /dev/seed`: demo data for one user.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedRequest {
    #[serde(rename = "userID")]
    user_id: String,
    peers: u32,
    messages_each: u32,
}

/// Gives `userID` a C2C conversation with each of `peer1..peerN`, `messagesEach` messages in
/// each (alternating senders, the peer first), through the same path as real sends.
pub async fn seed(
    State(s): State<AppState>,
    ApiJson(req): ApiJson<SeedRequest>,
) -> ApiResult<Json<serde_json::Value>> {
    validate_user_id(&req.user_id)?;
    if req.peers == 0 || req.peers > MAX_SEED_PEERS {
        return Err(ApiError::invalid(format!(
            "peers must be 1-{MAX_SEED_PEERS}, got {}",
            req.peers
        )));
    }
    if req.messages_each == 0 || req.messages_each > MAX_SEED_MESSAGES_EACH {
        return Err(ApiError::invalid(format!(
            "messagesEach must be 1-{MAX_SEED_MESSAGES_EACH}, got {}",
            req.messages_each
        )));
    }
    let user = req.user_id;
    s.storage.ensure_user(&user).await?;
    let mut peers = 0;
    for p in 1..=req.peers {
        let peer = format!("peer{p}");
        if peer == user {
            continue;
        }
        s.storage.ensure_user(&peer).await?;
        peers += 1;
        for m in 1..=req.messages_each {
            let (from, to) = if m % 2 == 1 {
                (&peer, &user)
            } else {
                (&user, &peer)
            };
            let text = format!("seed message {m} of {} from {from}", req.messages_each);
            s.storage
                .send_text(from, &ConversationId::c2c(to), &text, now_ms())
                .await?;
        }
    }
    Ok(Json(serde_json::json!({
        "conversations": peers,
        "messages": peers * req.messages_each,
    })))
}
