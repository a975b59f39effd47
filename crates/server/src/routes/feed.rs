//! The change feed (`GET /v1/changes`) and its push channel (`GET /v1/ws`).

use crate::config::WsLimits;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Params, User};
use crate::push::Subscription;
use crate::state::{now_ms, AppState};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use axum::Json;
use chat_core::error::{ChatError, ErrorCode};
use chat_core::wire::{ChangesReply, MAX_CHANGES_PER_REPLY};
use std::time::Instant;
use tokio::time::timeout;

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
    let ticket = params.get("ticket").unwrap_or("");
    if ticket.is_empty() {
        return Err(ChatError::new(
            ErrorCode::UserSigInvalid,
            "missing ticket query parameter: get one from POST /v1/ws-ticket",
        )
        .into());
    }
    let upgrade = upgrade.map_err(|e| ApiError::invalid(e.body_text()))?;
    let user = s.tickets.redeem(&*s.storage, ticket, now_ms()).await?;
    // Subscribe before answering so that nothing committed after the 101 can be missed.
    let sub = s.hub.subscribe(&user).map_err(|e| {
        ChatError::new(
            ErrorCode::FrequencyLimit,
            format!("at most {} WebSockets per user", e.limit),
        )
    })?;
    let limits = s.hub.limits().clone();
    // Small explicit buffers keep an idle socket cheap; frames are written as they come.
    Ok(upgrade
        .read_buffer_size(WS_READ_BUFFER)
        .write_buffer_size(0)
        .max_write_buffer_size(WS_MAX_WRITE_BUFFER)
        .max_message_size(WS_MAX_INCOMING)
        .max_frame_size(WS_MAX_INCOMING)
        .on_upgrade(move |socket| run(socket, sub, limits)))
}

/// Read chunk of a socket: clients send nothing but control frames.
const WS_READ_BUFFER: usize = 4096;
/// Largest frame or message a client may send.
const WS_MAX_INCOMING: usize = 4096;
/// Bytes waiting in the socket's own write buffer (pongs, a frame being written): over this the
/// socket errors instead of growing.
const WS_MAX_WRITE_BUFFER: usize = 256 * 1024;

/// Forwards queued changes until the client leaves, the server stops, or the client is too slow
/// (queue overflow or a send past the deadline) or too chatty: then the socket closes and the
/// client resyncs from `/v1/changes` when it reconnects.
async fn run(mut socket: WebSocket, mut sub: Subscription, limits: WsLimits) {
    if *sub.shutdown.borrow() {
        return;
    }
    let mut window = Instant::now();
    let mut incoming = 0u32;
    loop {
        tokio::select! {
            next = sub.rx.recv() => match next {
                Some(frame) => {
                    sub.dequeued(&frame);
                    if sub.overflowed() {
                        close(&mut socket, close_code::AGAIN, "push queue overflow: resync", &limits).await;
                        break;
                    }
                    let sent = timeout(limits.send_timeout, socket.send(Message::Text(frame))).await;
                    if !matches!(sent, Ok(Ok(()))) {
                        break; // stalled past the deadline, or gone: drop the connection
                    }
                }
                None => {
                    if sub.overflowed() {
                        close(&mut socket, close_code::AGAIN, "push queue overflow: resync", &limits).await;
                    }
                    break;
                }
            },
            received = socket.recv() => match received {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(_)) => {
                    if window.elapsed() > limits.incoming_window {
                        window = Instant::now();
                        incoming = 0;
                    }
                    incoming += 1;
                    if incoming > limits.incoming_per_window {
                        close(&mut socket, close_code::POLICY, "too many frames from the client", &limits).await;
                        break;
                    }
                }
            },
            _ = sub.shutdown.changed() => {
                close(&mut socket, close_code::AWAY, "server shutting down", &limits).await;
                break;
            }
        }
    }
}

/// Sends a close frame, giving up at the send deadline (the peer may not be reading).
async fn close(socket: &mut WebSocket, code: u16, reason: &'static str, limits: &WsLimits) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = timeout(
        limits.send_timeout,
        socket.send(Message::Close(Some(frame))),
    )
    .await;
}
