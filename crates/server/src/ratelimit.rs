//! Per-user token bucket: `rate` tokens per second, capacity `2 * rate`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

pub struct RateLimiter {
    rate: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(per_second: u32) -> Self {
        RateLimiter {
            rate: per_second as f64,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `user`; false when the bucket is empty. Always true with rate 0.
    pub fn allow(&self, user: &str) -> bool {
        if self.rate <= 0.0 {
            return true;
        }
        let capacity = self.rate * 2.0;
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > 100_000 {
            // Full buckets carry no state worth keeping; drop them to bound memory.
            let rate = self.rate;
            buckets
                .retain(|_, (t, at)| *t + now.duration_since(*at).as_secs_f64() * rate < capacity);
        }
        let (tokens, at) = buckets.entry(user.to_owned()).or_insert((capacity, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.rate).min(capacity);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}
