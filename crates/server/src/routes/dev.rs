//! `/dev/*`, mounted only with `--dev`.

use crate::auth::make_user_sig;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Params};
use crate::state::{now_ms, AppState};
use axum::extract::State;
use axum::Json;
use chat_core::error::quote;
use chat_core::id::{validate_group_id, validate_user_id};
use chat_core::wire::{CreateGroupRequest, UserSigReply};

const SIG_LIFETIME_SECS: u64 = 86_400 * 7;
const MAX_GROUP_NAME_BYTES: usize = 256;
const MAX_GROUP_MEMBERS: usize = 1000;

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
