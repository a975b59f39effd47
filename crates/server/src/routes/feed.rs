//! The change feed (`GET /v1/changes`) and its push channel (`GET /v1/ws`).

use crate::error::{ApiError, ApiResult};
use crate::extract::{Params, User};
use crate::push::Subscription;
use crate::state::AppState;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use axum::Json;
use chat_core::error::{ChatError, ErrorCode};
use chat_core::wire::{ChangesReply, MAX_CHANGES_PER_REPLY};

pub async fn changes(
    State(s): State<AppState>,
    User(user): User,
    params: Params,
) -> ApiResult<Json<ChangesReply>> {
    let since = params.u64_or("since", Some(0))?;
    // Reset pages follow conversation IDs in canonical form.
    let after = params
        .get("after")
        .filter(|a| !a.is_empty())
        .map(|a| super::parse_id(a).map(|id| id.canonical()))
        .transpose()?;
    Ok(Json(
        s.storage
            .changes(&user, since, after.as_deref(), MAX_CHANGES_PER_REPLY)
            .await?,
    ))
}

pub async fn ws(
    State(s): State<AppState>,
    params: Params,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let sig = params.get("userSig").unwrap_or("");
    if sig.is_empty() {
        return Err(
            ChatError::new(ErrorCode::UserSigInvalid, "missing userSig query parameter").into(),
        );
    }
    let user = s.authenticate(sig)?;
    let upgrade = upgrade.map_err(|e| ApiError::invalid(e.body_text()))?;
    // Subscribe before answering so that nothing committed after the 101 can be missed.
    let sub = s.hub.subscribe(&user);
    Ok(upgrade
        .max_message_size(4096)
        .on_upgrade(move |socket| run(socket, sub)))
}

/// Forwards queued changes until the client leaves, the queue is dropped, or the server stops.
async fn run(mut socket: WebSocket, mut sub: Subscription) {
    if *sub.shutdown.borrow() {
        return;
    }
    loop {
        tokio::select! {
            next = sub.rx.recv() => match next {
                Some(text) => {
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                None => break,
            },
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(_)) => {}
            },
            _ = sub.shutdown.changed() => {
                let _ = socket.send(Message::Close(None)).await;
                break;
            }
        }
    }
}
