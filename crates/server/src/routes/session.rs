//! `GET /v1/info` and `POST /v1/login`.

use crate::error::ApiResult;
use crate::extract::{ApiJson, User};
use crate::state::{now_ms, AppState};
use axum::extract::State;
use axum::Json;
use chat_core::error::{quote, ChatError, ErrorCode};
use chat_core::wire::{LoginReply, LoginRequest, ServerInfo};

pub async fn info(State(s): State<AppState>) -> Json<ServerInfo> {
    Json(ServerInfo {
        sdk_app_id: s.config.sdk_app_id,
        sync_conversation_deletion: s.config.sync_conversation_deletion,
        dev: s.config.dev,
    })
}

pub async fn login(
    State(s): State<AppState>,
    User(user): User,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Json<LoginReply>> {
    if req.sdk_app_id != s.config.sdk_app_id {
        return Err(ChatError::new(
            ErrorCode::UserSigInvalid,
            format!("sdkAppID {} does not match this server", req.sdk_app_id),
        )
        .into());
    }
    if req.user_id != user {
        return Err(ChatError::new(
            ErrorCode::UserSigInvalid,
            format!("the userSig is not for userID {}", quote(&req.user_id)),
        )
        .into());
    }
    s.storage.ensure_user(&user).await?;
    Ok(Json(LoginReply {
        user_id: user,
        server_time: now_ms(),
        sync_conversation_deletion: s.config.sync_conversation_deletion,
    }))
}
