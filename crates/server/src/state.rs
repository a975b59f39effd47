//! Shared state of the handlers.

use crate::auth::{verify_user_sig, Tickets};
use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::push::Hub;
use crate::ratelimit::RateLimiter;
use crate::storage::Storage;
use chat_core::error::{ChatError, ErrorCode};
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub storage: Arc<dyn Storage>,
    pub hub: Arc<Hub>,
    pub limiter: RateLimiter,
    pub tickets: Tickets,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Inner {
    /// Verifies a userSig and charges the user's rate limit.
    pub fn authenticate(&self, sig: &str) -> ApiResult<String> {
        let user = verify_user_sig(
            sig,
            self.config.sdk_app_id,
            &self.config.secret_key,
            now_ms() / 1000,
        )?;
        if !self.limiter.allow(&user) {
            return Err(ApiError::from(ChatError::new(
                ErrorCode::FrequencyLimit,
                format!(
                    "too many requests: limit is {} per second",
                    self.config.rate_limit
                ),
            )));
        }
        Ok(user)
    }
}
