//! Extractors that turn every bad input into the `{code, message}` body: the authenticated user
//! (bearer userSig + rate limit), JSON bodies and query parameters.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::StatusCode;
use chat_core::error::{quote, ChatError, ErrorCode};
use serde::de::DeserializeOwned;
use std::collections::HashMap;

/// The user a valid bearer userSig names (after the rate limit).
pub struct User(pub String);

impl FromRequestParts<AppState> for User {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let sig = header.strip_prefix("Bearer ").map(str::trim).unwrap_or("");
        if sig.is_empty() {
            return Err(ChatError::new(
                ErrorCode::UserSigInvalid,
                "missing Authorization: Bearer <userSig>",
            )
            .into());
        }
        state.authenticate(sig).map(User)
    }
}

/// A JSON body; any failure (syntax, types, missing fields, size) becomes 6017.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> ApiResult<Self> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().starts_with("application/json"));
        if !is_json {
            return Err(ApiError::invalid("Content-Type must be application/json"));
        }
        // Refuse an announced oversize body at once rather than waiting for it.
        let announced = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if announced.is_some_and(|n| n > crate::BODY_LIMIT as u64) {
            return Err(ApiError::too_large(crate::BODY_LIMIT));
        }
        // The whole body within the deadline: a client that announces more than it sends (or
        // drips it) is answered instead of holding the connection.
        let deadline = state.config.timeouts.body;
        let read = tokio::time::timeout(deadline, Bytes::from_request(req, state))
            .await
            .map_err(|_| ApiError {
                status: StatusCode::REQUEST_TIMEOUT,
                error: ChatError::new(
                    ErrorCode::RequestTimeout,
                    format!("request body not received within {} s", deadline.as_secs()),
                ),
            })?;
        let bytes = read.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::too_large(crate::BODY_LIMIT)
            } else {
                ApiError::invalid(format!("cannot read body: {}", quote(&e.body_text())))
            }
        })?;
        serde_json::from_slice(&bytes).map(ApiJson).map_err(|e| {
            // serde's message names the bad value; keep it readable and bounded.
            let mut msg: String = e.to_string().chars().take(200).collect();
            msg.retain(|c| !c.is_control());
            ApiError::invalid(format!("invalid JSON body: {msg}"))
        })
    }
}

/// Query parameters as strings, validated by the handlers so messages can name the value.
pub struct Params(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Self> {
        Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| Params(q))
            .map_err(|e| ApiError::invalid(format!("bad query string: {}", quote(&e.body_text()))))
    }
}

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn required(&self, name: &str) -> ApiResult<&str> {
        self.get(name)
            .ok_or_else(|| ApiError::invalid(format!("missing query parameter {name}")))
    }

    /// A non-negative integer parameter, or `default` when absent.
    pub fn u64_or(&self, name: &str, default: Option<u64>) -> ApiResult<u64> {
        match self.get(name) {
            None => {
                default.ok_or_else(|| ApiError::invalid(format!("missing query parameter {name}")))
            }
            Some(v) => v.parse::<u64>().map_err(|_| {
                ApiError::invalid(format!(
                    "{name} must be a non-negative integer, got {}",
                    quote(v)
                ))
            }),
        }
    }

    /// `count`: 1..=max, `default` when absent.
    pub fn count(&self, default: u64, max: usize) -> ApiResult<usize> {
        let raw = self.get("count").unwrap_or("");
        let n = if self.get("count").is_none() {
            default
        } else {
            raw.parse::<u64>().unwrap_or(0)
        };
        if n == 0 || n > max as u64 {
            return Err(ApiError::invalid(format!(
                "count must be 1-{max}, got {}",
                quote(raw)
            )));
        }
        Ok(n as usize)
    }
}
