//! Per-key rate limits: a fixed window of one minute (on the server's clock) per key, counted in
//! this instance's memory. With N instances behind a proxy a key may make up to N times its
//! limit a minute; each instance answers with its own `RateLimit` field. Counting in memory
//! costs no database round trip; sharing counts would cost one per request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

/// Keys share these many locks, so that two workers rarely wait on each other.
const SHARDS: usize = 16;
/// Past this many keys in one shard, windows that have ended are dropped.
const PRUNE_AT: usize = 4096;

/// The length of a window in seconds.
pub const WINDOW_SECS: i64 = 60;

/// The counters. Cloning shares them.
#[derive(Clone, Default)]
pub struct RateLimiter {
    shards: Arc<[Mutex<HashMap<i64, Window>>; SHARDS]>,
}

#[derive(Clone, Copy)]
struct Window {
    minute: i64,
    used: u32,
}

/// Where a key stands in its window, as the `RateLimit` fields tell the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateState {
    /// Requests allowed per window.
    pub limit: u32,
    /// Requests left in this window.
    pub remaining: u32,
    /// Seconds until the window resets.
    pub reset_secs: u32,
}

impl RateState {
    /// `RateLimit-Policy: "per-key";q=600;w=60`.
    pub fn policy_field(&self) -> String {
        format!("\"per-key\";q={};w={WINDOW_SECS}", self.limit)
    }

    /// `RateLimit: "per-key";r=599;t=42`.
    pub fn limit_field(&self) -> String {
        format!("\"per-key\";r={};t={}", self.remaining, self.reset_secs)
    }
}

impl RateLimiter {
    /// Where `key` stands at `now`, counting nothing.
    pub fn peek(&self, key: i64, limit: u32, now: DateTime<Utc>) -> RateState {
        let (minute, reset_secs) = window(now);
        let shard = &self.shards[shard_of(key)];
        let used = shard
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .filter(|w| w.minute == minute)
            .map_or(0, |w| w.used);
        RateState {
            limit,
            remaining: limit.saturating_sub(used),
            reset_secs,
        }
    }

    /// Counts one request of `key` at `now` against `limit`: `Ok` if it may go ahead, `Err`
    /// (with nothing left) if the key has used its window up. Refused requests do not count.
    pub fn take(&self, key: i64, limit: u32, now: DateTime<Utc>) -> Result<RateState, RateState> {
        let (minute, reset_secs) = window(now);
        let shard = &self.shards[shard_of(key)];
        let mut windows = shard.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() >= PRUNE_AT && !windows.contains_key(&key) {
            windows.retain(|_, w| w.minute == minute);
        }
        let w = windows.entry(key).or_insert(Window { minute, used: 0 });
        if w.minute != minute {
            *w = Window { minute, used: 0 };
        }
        if w.used >= limit {
            return Err(RateState {
                limit,
                remaining: 0,
                reset_secs,
            });
        }
        w.used += 1;
        Ok(RateState {
            limit,
            remaining: limit - w.used,
            reset_secs,
        })
    }
}

/// The window `now` falls in, and the seconds until it ends.
fn window(now: DateTime<Utc>) -> (i64, u32) {
    let secs = now.timestamp();
    let reset = u32::try_from(WINDOW_SECS - secs.rem_euclid(WINDOW_SECS)).unwrap_or(60);
    (secs.div_euclid(WINDOW_SECS), reset)
}

fn shard_of(key: i64) -> usize {
    usize::try_from(key.rem_euclid(SHARDS as i64)).unwrap_or(0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_window_allows_its_limit_then_resets_on_the_minute() {
        let l = RateLimiter::default();
        let t = at("2026-11-27T10:00:15Z");
        assert_eq!(l.take(1, 2, t).unwrap().remaining, 1);
        let last = l.take(1, 2, t).unwrap();
        assert_eq!((last.remaining, last.reset_secs), (0, 45));
        assert!(l.take(1, 2, t).is_err());
        assert_eq!(l.peek(1, 2, t).remaining, 0);
        // Another key has its own window.
        assert!(l.take(2, 2, t).is_ok());
        assert!(l.take(1, 2, at("2026-11-27T10:00:59.999Z")).is_err());
        assert_eq!(
            l.take(1, 2, at("2026-11-27T10:01:00Z")).unwrap().remaining,
            1
        );
    }

    #[test]
    fn fields_follow_the_ietf_draft() {
        let s = RateState {
            limit: 600,
            remaining: 599,
            reset_secs: 42,
        };
        assert_eq!(s.policy_field(), "\"per-key\";q=600;w=60");
        assert_eq!(s.limit_field(), "\"per-key\";r=599;t=42");
    }
}
