//! `POST /v1/ws-ticket`: trades the bearer userSig for a short-lived, single-use ticket that
//! opens one WebSocket (`GET /v1/ws?ticket=...`), so no credential travels in a URL.

use crate::error::ApiResult;
use crate::extract::User;
use crate::state::{now_ms, AppState};
use axum::extract::State;
use axum::Json;
use serde::Serialize;

/// How long a ticket stays valid.
pub const TICKET_TTL: std::time::Duration = std::time::Duration::from_secs(30);

#[derive(Serialize)]
pub struct TicketReply {
    pub ticket: String,
}

pub async fn issue(State(s): State<AppState>, User(user): User) -> ApiResult<Json<TicketReply>> {
    let ticket = s.tickets.issue(&*s.storage, &user, now_ms()).await?;
    Ok(Json(TicketReply { ticket }))
}
