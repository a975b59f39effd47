//! userSig: `base64url(JSON payload) "." base64url(HMAC-SHA256(secretKey, first part))`, no padding.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chat_core::error::{quote, ChatError, ErrorCode};
use chat_core::id::is_valid_user_id;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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
/// appears in a WebSocket URL (URLs end up in logs and browser console messages).
pub struct Tickets {
    ttl: Duration,
    live: Mutex<HashMap<String, (String, Instant)>>,
}

/// Most tickets alive at once; a valid client holds one for a moment, so this only stops a flood.
const MAX_TICKETS: usize = 100_000;

impl Tickets {
    pub fn new(ttl: Duration) -> Self {
        Tickets {
            ttl,
            live: Mutex::new(HashMap::new()),
        }
    }

    /// A fresh ticket for `user_id`, or `None` when too many are outstanding.
    pub fn issue(&self, user_id: &str) -> Option<String> {
        let mut bytes = [0u8; 24];
        getrandom::fill(&mut bytes).ok()?;
        let ticket = URL_SAFE_NO_PAD.encode(bytes);
        let now = Instant::now();
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        if live.len() >= MAX_TICKETS / 2 {
            live.retain(|_, (_, expires)| *expires > now);
        }
        if live.len() >= MAX_TICKETS {
            return None;
        }
        live.insert(ticket.clone(), (user_id.to_owned(), now + self.ttl));
        Some(ticket)
    }

    /// The user a ticket was issued to; the ticket is used up either way.
    pub fn redeem(&self, ticket: &str) -> Result<String, ChatError> {
        let entry = self
            .live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(ticket);
        match entry {
            Some((user, expires)) if expires > Instant::now() => Ok(user),
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

    #[test]
    fn tickets_are_single_use_and_expire() {
        let tickets = Tickets::new(Duration::from_secs(30));
        let t = tickets.issue("alice").unwrap();
        assert_eq!(tickets.redeem(&t).unwrap(), "alice");
        assert_eq!(tickets.redeem(&t).unwrap_err().code, 70003);
        let expired = Tickets::new(Duration::ZERO);
        let t = expired.issue("alice").unwrap();
        assert_eq!(expired.redeem(&t).unwrap_err().code, 70003);
        assert_ne!(tickets.issue("a"), tickets.issue("a"));
    }
}
