//! userSig: `base64url(JSON payload) "." base64url(HMAC-SHA256(secretKey, first part))`, no padding.

use crate::error::server_error;
use crate::storage::Storage;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chat_core::error::{quote, ChatError, ErrorCode};
use chat_core::id::is_valid_user_id;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use sha2::Sha256;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

type HmacSha256 = Hmac<Sha256>;

#[derive(Serialize, Deserialize)]
struct Payload {
    #[serde(rename = "sdkAppID")]
    sdk_app_id: u64,
    #[serde(rename = "userID")]
    user_id: String,
    expire: u64,
}

fn mac(secret_key: &str) -> HmacSha256 {
    HmacSha256::new_from_slice(secret_key.as_bytes()).expect("HMAC accepts any key length")
}

/// Signs a userSig valid until `expire` (Unix seconds).
pub fn make_user_sig(sdk_app_id: u64, secret_key: &str, user_id: &str, expire: u64) -> String {
    let payload = serde_json::to_vec(&Payload {
        sdk_app_id,
        user_id: user_id.to_owned(),
        expire,
    })
    .expect("payload serializes");
    let first = URL_SAFE_NO_PAD.encode(payload);
    let mut m = mac(secret_key);
    m.update(first.as_bytes());
    let sig = URL_SAFE_NO_PAD.encode(m.finalize().into_bytes());
    format!("{first}.{sig}")
}

fn invalid(why: &str) -> ChatError {
    ChatError::new(ErrorCode::UserSigInvalid, format!("invalid userSig: {why}"))
}

/// Returns the userID the sig was issued for, checking signature, app and expiry (in that order,
/// so a forged payload can never produce "expired").
pub fn verify_user_sig(
    sig: &str,
    sdk_app_id: u64,
    secret_key: &str,
    now_secs: u64,
) -> Result<String, ChatError> {
    let (first, second) = sig.split_once('.').ok_or_else(|| invalid("malformed"))?;
    let tag = URL_SAFE_NO_PAD
        .decode(second)
        .map_err(|_| invalid("malformed signature"))?;
    let mut m = mac(secret_key);
    m.update(first.as_bytes());
    m.verify_slice(&tag).map_err(|_| invalid("bad signature"))?;
    let raw = URL_SAFE_NO_PAD
        .decode(first)
        .map_err(|_| invalid("malformed payload"))?;
    let payload: Payload =
        serde_json::from_slice(&raw).map_err(|_| invalid("malformed payload"))?;
    if payload.sdk_app_id != sdk_app_id {
        return Err(invalid(&format!(
            "issued for sdkAppID {}, this server is {sdk_app_id}",
            payload.sdk_app_id
        )));
    }
    if !is_valid_user_id(&payload.user_id) {
        return Err(invalid(&format!("bad userID {}", quote(&payload.user_id))));
    }
    if payload.expire <= now_secs {
        return Err(ChatError::new(
            ErrorCode::UserSigExpired,
            format!("userSig of {} expired", quote(&payload.user_id)),
        ));
    }
    Ok(payload.user_id)
}

/// WebSocket tickets: short-lived, single-use stand-ins for the userSig, so that no credential
/// appears in a WebSocket URL (URLs end up in logs and browser console messages). They live in
/// the database, so that behind a load balancer the `POST /v1/ws-ticket` and the `GET /v1/ws`
/// may land on different instances; only a digest is stored (a database reader cannot use it).
/// This is the one place that decides lifetime, single use and the errors.
/// Unused, unexpired tickets one user may hold: one per socket of the per-user socket cap (16)
/// and as many again for reconnects, so a client that never opens its sockets cannot fill the
/// table (with `--rate-limit 0` nothing else would bound it within a ticket's lifetime).
pub const MAX_LIVE_TICKETS: u32 = 32;

pub struct Tickets {
    ttl: Duration,
    /// When expired tickets are next purged (Unix ms): at most once per lifetime.
    next_purge_ms: AtomicU64,
}

fn digest(ticket: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(ticket.as_bytes()))
}

impl Tickets {
    pub fn new(ttl: Duration) -> Self {
        Tickets {
            ttl,
            next_purge_ms: AtomicU64::new(0),
        }
    }

    /// A fresh ticket for `user_id`. Issuing is bounded by the user's rate limit (the bearer
    /// userSig is charged) and by `MAX_LIVE_TICKETS` unexpired tickets per user (429/9506), and
    /// expired tickets are purged as new ones are issued.
    pub async fn issue(
        &self,
        storage: &dyn Storage,
        user_id: &str,
        now_ms: u64,
    ) -> Result<String, ChatError> {
        let mut bytes = [0u8; 24];
        getrandom::fill(&mut bytes).map_err(server_error)?;
        let ticket = URL_SAFE_NO_PAD.encode(bytes);
        let ttl_ms = self.ttl.as_millis() as u64;
        let due = self.next_purge_ms.load(Ordering::Relaxed);
        if now_ms >= due
            && self
                .next_purge_ms
                .compare_exchange(due, now_ms + ttl_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            storage.purge_tickets(now_ms).await?;
        }
        let stored = storage
            .put_ticket(
                &digest(&ticket),
                user_id,
                now_ms,
                now_ms + ttl_ms,
                MAX_LIVE_TICKETS,
            )
            .await?;
        if !stored {
            return Err(ChatError::new(
                ErrorCode::FrequencyLimit,
                format!(
                    "{} already holds {MAX_LIVE_TICKETS} unused WebSocket tickets: use one or wait until they expire",
                    quote(user_id)
                ),
            ));
        }
        Ok(ticket)
    }

    /// The user a ticket was issued to; the ticket is used up either way, on every instance.
    pub async fn redeem(
        &self,
        storage: &dyn Storage,
        ticket: &str,
        now_ms: u64,
    ) -> Result<String, ChatError> {
        match storage.take_ticket(&digest(ticket)).await? {
            Some((user, expires_ms)) if expires_ms > now_ms => Ok(user),
            Some(_) => Err(ChatError::new(
                ErrorCode::UserSigInvalid,
                "WebSocket ticket expired: get a new one from POST /v1/ws-ticket",
            )),
            None => Err(ChatError::new(
                ErrorCode::UserSigInvalid,
                "unknown or already used WebSocket ticket: get one from POST /v1/ws-ticket",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_failures() {
        let sig = make_user_sig(7, "k", "alice", 100);
        assert_eq!(verify_user_sig(&sig, 7, "k", 99).unwrap(), "alice");
        assert_eq!(verify_user_sig(&sig, 7, "k", 100).unwrap_err().code, 70001);
        assert_eq!(
            verify_user_sig(&sig, 7, "other", 1).unwrap_err().code,
            70003
        );
        assert_eq!(verify_user_sig(&sig, 8, "k", 1).unwrap_err().code, 70003);
        assert_eq!(verify_user_sig("nodot", 7, "k", 1).unwrap_err().code, 70003);
        let tampered = sig.replacen('e', "f", 1);
        assert_eq!(
            verify_user_sig(&tampered, 7, "k", 1).unwrap_err().code,
            70003
        );
    }
}
