//! Per-key rate limits: a fixed window of one minute (on the server's clock) per key.
//!
//! With one instance (SQLite) the window is counted in memory, exactly. With several instances
//! on one PostgreSQL the limit is global, without a database write per request:
//!
//! - Each instance decides locally and counts what it accepts in memory. Every
//!   [`SYNC_EVERY`] (250 ms) it adds those counts to the key's row of `rate_windows` in one
//!   statement for every active key, and reads back the global count (what every instance
//!   has added).
//! - Between two syncs an instance accepts locally at most [`LOCAL_SHARE`]th of what is left
//!   of the key's window as it last saw it. So N instances accept at most N/8 of what is left
//!   before they hear of each other: the limit holds outright for up to eight instances.
//! - Past that share, and on a key's first request of a window on this instance, each request
//!   is decided by the database itself: one conditional upsert that adds the request only if
//!   the global count stays within the limit. Near its limit a key is thus decided strictly;
//!   once it is full, each instance refuses it from memory until the window ends.
//! - Far below its limit a key costs what it did with per-instance counting: a lock and an
//!   add. The database sees one statement per instance per 250 ms, plus one per request only
//!   for the last few requests before a key's limit.
//!
//! PostgreSQL was chosen over LISTEN/NOTIFY for sharing: counts must add up, and a row updated
//! with `used = used + n` adds up under any interleaving, survives an instance's restart, and
//! lets a new instance learn a window's count with one read, where notifications are
//! fire-and-forget and would need every instance to keep every other's tally.
//!
//! The limiter talks to PostgreSQL through a pool of its own ([`OWN_CONNECTIONS`]
//! connections), so that requests queueing for the main pool under load never hold up the
//! sharing, and a sync never takes a connection a request needs.
//!
//! If the database cannot be reached, each instance falls back to counting alone (at most N
//! times the limit) rather than refusing every request, and says so in the log at most once
//! every [`WARN_EVERY`].
//!
//! Counts not shared yet when a key's window ends on this instance are dropped with it: nobody
//! decides on an ended window again, so they would change no answer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

mod shared;
use shared::strict;

/// Keys share these many locks, so that two workers rarely wait on each other.
const SHARDS: usize = 16;
/// Past this many keys in one shard, windows that have ended are dropped.
const PRUNE_AT: usize = 4096;

/// The length of a window in seconds.
pub const WINDOW_SECS: i64 = 60;

/// How often an instance shares its counts with the others.
pub const SYNC_EVERY: Duration = Duration::from_millis(250);

/// Between two syncs an instance accepts locally at most this fraction (1/8) of what is left of
/// a key's window: eight instances together cannot pass the limit before they hear of each
/// other.
pub const LOCAL_SHARE: u32 = 8;

/// The connections of the limiter's own pool (a sync and a strict decision side by side).
pub const OWN_CONNECTIONS: u32 = 2;

/// How often, at most, the fallback to counting alone is logged during an outage.
pub const WARN_EVERY: Duration = Duration::from_secs(10);

/// The counters. Cloning shares them.
#[derive(Clone, Default)]
pub struct RateLimiter {
    shards: Arc<[Mutex<HashMap<i64, Window>>; SHARDS]>,
    /// The database the counts are shared through (PostgreSQL); `None`: this instance counts
    /// alone.
    shared: Option<DatabaseConnection>,
    /// The server's clock, whose minutes the windows are.
    clock: Option<crate::clock::Clock>,
    /// When the fallback to counting alone was last logged (a Unix second; 0: never).
    warned_at: Arc<std::sync::atomic::AtomicI64>,
}

#[derive(Clone, Copy)]
struct Window {
    minute: i64,
    /// The limit the key had at its last request.
    limit: u32,
    /// The global count as the database last said (shared mode; always 0 alone).
    known: u32,
    /// Requests accepted here and not yet added to the database (alone: every request).
    pending: u32,
    /// Requests on their way to the database (a sync or a strict decision not answered yet):
    /// counted as used meanwhile, so that requests beside them are not let through on a count
    /// that leaves them out.
    in_flight: u32,
    /// Whether `known` has been read from the database in this window.
    synced: bool,
}

impl Window {
    fn used(&self) -> u32 {
        self.known
            .saturating_add(self.pending)
            .saturating_add(self.in_flight)
    }
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

/// What the local counts say about one request.
enum Local {
    Allowed(RateState),
    Refused(RateState),
    /// Near the limit, or first seen in this window: the database decides. Carries the counts
    /// taken out of `pending` to send along.
    AskDatabase(u32),
}

impl RateLimiter {
    /// Counters shared with every other instance on the database at `url` (PostgreSQL),
    /// through a pool of their own, synced by a task this spawns; on any other database,
    /// counters of this instance alone.
    pub async fn for_database(
        url: &str,
        clock: crate::clock::Clock,
    ) -> Result<Self, sea_orm::DbErr> {
        if !url.starts_with("postgres") {
            return Ok(Self::default());
        }
        let own = crate::db::connect(url, OWN_CONNECTIONS).await?;
        let limiter = Self {
            shared: Some(own),
            clock: Some(clock),
            ..Self::default()
        };
        limiter.spawn_sync();
        Ok(limiter)
    }

    /// Where `key` stands at `now`, counting nothing.
    pub fn peek(&self, key: i64, limit: u32, now: DateTime<Utc>) -> RateState {
        let (minute, reset_secs) = window(now);
        let shard = &self.shards[shard_of(key)];
        let used = shard
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .filter(|w| w.minute == minute)
            .map_or(0, Window::used);
        RateState {
            limit,
            remaining: limit.saturating_sub(used),
            reset_secs,
        }
    }

    /// Counts one request of `key` at `now` against `limit`: `Ok` if it may go ahead, `Err`
    /// (with nothing left) if the key has used its window up. Refused requests do not count.
    pub async fn take(
        &self,
        key: i64,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<RateState, RateState> {
        let (minute, reset_secs) = window(now);
        let ask = match self.decide(key, limit, minute, reset_secs) {
            Local::Allowed(s) => return Ok(s),
            Local::Refused(s) => return Err(s),
            Local::AskDatabase(ask) => ask,
        };
        let Some(db) = &self.shared else {
            return Err(full(limit, reset_secs));
        };
        match strict(db, key, minute, ask, limit).await {
            Ok((accepted, used)) => {
                let state = self.update(key, minute, |w| {
                    w.in_flight = w.in_flight.saturating_sub(ask);
                    w.known = w.known.max(used);
                    w.synced = true;
                });
                let remaining = limit.saturating_sub(state.map_or(used, |w| w.used()));
                let state = RateState {
                    limit,
                    remaining,
                    reset_secs,
                };
                if accepted { Ok(state) } else { Err(state) }
            }
            Err(e) => {
                // Counting alone beats refusing everyone while the database is away; the
                // counts taken out go back, to be shared once it is back. Said once in a
                // while, not once per request.
                let second = now.timestamp();
                let last = self.warned_at.load(std::sync::atomic::Ordering::Relaxed);
                if second - last >= WARN_EVERY.as_secs() as i64
                    && self
                        .warned_at
                        .compare_exchange(
                            last,
                            second,
                            std::sync::atomic::Ordering::Relaxed,
                            std::sync::atomic::Ordering::Relaxed,
                        )
                        .is_ok()
                {
                    tracing::warn!(error = %e, "rate limit not shared; counting on this instance alone");
                }
                let mut allowed = false;
                let state = self.update(key, minute, |w| {
                    w.in_flight = w.in_flight.saturating_sub(ask);
                    w.pending += ask.saturating_sub(1);
                    if w.used() < limit {
                        w.pending += 1;
                        allowed = true;
                    }
                    // Ask the database again at the next sync, not per request.
                    w.synced = true;
                });
                let used = state.map_or(0, |w| w.used());
                let state = RateState {
                    limit,
                    remaining: limit.saturating_sub(used),
                    reset_secs,
                };
                if allowed { Ok(state) } else { Err(state) }
            }
        }
    }

    /// The local decision, under the shard's lock.
    fn decide(&self, key: i64, limit: u32, minute: i64, reset_secs: u32) -> Local {
        let shard = &self.shards[shard_of(key)];
        let mut windows = shard.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() >= PRUNE_AT && !windows.contains_key(&key) {
            windows.retain(|_, w| w.minute == minute);
        }
        let fresh = Window {
            minute,
            limit,
            known: 0,
            pending: 0,
            in_flight: 0,
            synced: false,
        };
        let w = windows.entry(key).or_insert(fresh);
        if w.minute != minute {
            *w = fresh;
        }
        w.limit = limit;
        if w.used() >= limit {
            return Local::Refused(full(limit, reset_secs));
        }
        let local_budget = if self.shared.is_none() {
            limit
        } else if w.synced {
            limit.saturating_sub(w.known) / LOCAL_SHARE
        } else {
            0
        };
        if w.pending < local_budget {
            w.pending += 1;
            return Local::Allowed(RateState {
                limit,
                remaining: limit - w.used(),
                reset_secs,
            });
        }
        // The database decides: the counts not shared yet go along with this request.
        let ask = w.pending + 1;
        w.pending = 0;
        w.in_flight += ask;
        Local::AskDatabase(ask)
    }

    /// Applies `f` to `key`'s window if it is still `minute`'s, and returns it.
    fn update(&self, key: i64, minute: i64, f: impl FnOnce(&mut Window)) -> Option<Window> {
        let shard = &self.shards[shard_of(key)];
        let mut windows = shard.lock().unwrap_or_else(|p| p.into_inner());
        let w = windows.get_mut(&key).filter(|w| w.minute == minute)?;
        f(w);
        Some(*w)
    }
}

/// A refusal's state: nothing left.
fn full(limit: u32, reset_secs: u32) -> RateState {
    RateState {
        limit,
        remaining: 0,
        reset_secs,
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

    #[tokio::test]
    async fn a_window_allows_its_limit_then_resets_on_the_minute() {
        let l = RateLimiter::default();
        let t = at("2026-11-27T10:00:15Z");
        assert_eq!(l.take(1, 2, t).await.unwrap().remaining, 1);
        let last = l.take(1, 2, t).await.unwrap();
        assert_eq!((last.remaining, last.reset_secs), (0, 45));
        assert!(l.take(1, 2, t).await.is_err());
        assert_eq!(l.peek(1, 2, t).remaining, 0);
        // Another key has its own window.
        assert!(l.take(2, 2, t).await.is_ok());
        assert!(l.take(1, 2, at("2026-11-27T10:00:59.999Z")).await.is_err());
        assert_eq!(
            l.take(1, 2, at("2026-11-27T10:01:00Z"))
                .await
                .unwrap()
                .remaining,
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
