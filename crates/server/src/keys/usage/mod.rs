//! How keys are used, counted in memory and written off the request path.
//!
//! Every answer to a request whose key the server recognised counts once per key, hour and
//! outcome (`ok`, or the problem code it was refused with); stock rows count where they are
//! written. A writer task adds what was counted to `key_usage` every few seconds (10 by
//! default) with one upsert, and once more at shutdown. A crash (or `kill -9`) loses at most
//! what was counted since the last write; a failed write keeps the counts for the next one.
//!
//! Refused uses also go into the key's history, at most once per key, reason and hour: the
//! event carries that as its unique `dedupe` text, so the database keeps the first even when
//! several instances report the same refusal; this instance skips the ones it has already sent.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use partlogic_entity::{api_key, audit_event, key_usage};
use partlogic_types::{AuditAction, KeyUsage, ProblemCode, UsageBucket};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QuerySelect,
};
use tokio::sync::Notify;

use crate::clock::Clock;

mod report;
mod write;

pub use report::{for_key, requests_7d};
pub use write::{UsageFlusher, spawn};
use write::{write_counts, write_refusal};

/// How long usage is kept.
pub const RETENTION_DAYS: i64 = 90;
/// Counters held before new ones are dropped (a database down for long, millions of keys).
const MAX_PENDING: usize = 200_000;

/// One counter: a key, an hour (its start, in seconds since the epoch) and an outcome (`None`
/// for answered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Slot {
    key_id: i64,
    hour: i64,
    outcome: Option<ProblemCode>,
}

/// What a counter holds.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    requests: u64,
    rows: u64,
}

/// A refused use to put in the key's history.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// The key.
    pub key_id: i64,
    /// Its account.
    pub account_id: i64,
    /// Why it was refused.
    pub code: ProblemCode,
    /// The client's address.
    pub ip: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

impl Refusal {
    /// The event's unique text: one per key, reason and hour.
    fn dedupe(&self) -> String {
        format!("refused:{}:{}:{}", self.key_id, self.code, hour_of(self.at))
    }

    /// The history's words for it ("used after expiry from 203.0.113.7").
    fn detail(&self) -> String {
        let what = match self.code {
            ProblemCode::ApiKeyExpired => "used after expiry".to_owned(),
            ProblemCode::ApiKeyRetired => "used after it was retired".to_owned(),
            ProblemCode::RateLimited => "used over its rate limit".to_owned(),
            ProblemCode::InvalidApiKey => "used while its owner is disabled".to_owned(),
            ProblemCode::DeviceNotInScope => "asked for a device it does not reach".to_owned(),
            ProblemCode::TooManyStreams => "started more exports than it may".to_owned(),
            other => format!("refused ({other})"),
        };
        match &self.ip {
            Some(ip) => format!("{what} from {ip}"),
            None => what,
        }
    }
}

#[derive(Default)]
struct Pending {
    counts: HashMap<Slot, Counts>,
    refused: Vec<Refusal>,
    /// The refusals sent this hour (reset when the hour changes).
    noted: HashSet<String>,
    noted_hour: i64,
    /// Counts being written now: still this instance's until the write commits, so readers
    /// see them meanwhile.
    in_flight: HashMap<Slot, Counts>,
    /// Counts dropped because too many were waiting (logged once per write).
    dropped: u64,
}

/// Counts uses. Cloning shares the counters.
#[derive(Clone, Default)]
pub struct Usage {
    pending: Arc<Mutex<Pending>>,
}

/// The start of `at`'s hour, in seconds since the epoch.
fn hour_of(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(3600) * 3600
}

fn instant(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

fn outcome_text(o: Option<ProblemCode>) -> &'static str {
    o.map_or("ok", ProblemCode::as_str)
}

fn parse_outcome(s: &str) -> Option<Option<ProblemCode>> {
    if s == "ok" {
        return Some(None);
    }
    serde_json::from_value::<ProblemCode>(serde_json::Value::String(s.to_owned()))
        .ok()
        .map(Some)
}

impl Usage {
    fn with<T>(&self, f: impl FnOnce(&mut Pending) -> T) -> T {
        f(&mut self.pending.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn add(&self, slot: Slot, requests: u64, rows: u64) {
        self.with(|p| {
            if p.counts.len() >= MAX_PENDING && !p.counts.contains_key(&slot) {
                p.dropped += requests;
                return;
            }
            let c = p.counts.entry(slot).or_default();
            c.requests += requests;
            c.rows += rows;
        });
    }

    /// Counts one request of `key_id` at `at`, answered (`None`) or refused with `outcome`.
    pub fn request(&self, key_id: i64, at: DateTime<Utc>, outcome: Option<ProblemCode>) {
        let hour = hour_of(at);
        self.add(
            Slot {
                key_id,
                hour,
                outcome,
            },
            1,
            0,
        );
    }

    /// Counts `n` stock rows sent to `key_id` at `at`.
    pub fn rows(&self, key_id: i64, at: DateTime<Utc>, n: u64) {
        if n == 0 {
            return;
        }
        let hour = hour_of(at);
        self.add(
            Slot {
                key_id,
                hour,
                outcome: None,
            },
            0,
            n,
        );
    }

    /// Puts a refused use in the key's history, unless this instance already did for this key,
    /// reason and hour.
    pub fn refused(&self, r: Refusal) {
        let hour = hour_of(r.at);
        let dedupe = r.dedupe();
        self.with(|p| {
            if p.noted_hour != hour {
                p.noted.clear();
                p.noted_hour = hour;
            }
            if p.refused.len() < 10_000 && p.noted.insert(dedupe) {
                p.refused.push(r);
            }
        });
    }

    /// Hands what was counted to a write: the counts stay visible (in flight) until
    /// [`Usage::written`].
    fn take(&self) -> (HashMap<Slot, Counts>, Vec<Refusal>, u64) {
        self.with(|p| {
            let counts = std::mem::take(&mut p.counts);
            p.in_flight = counts.clone();
            (
                counts,
                std::mem::take(&mut p.refused),
                std::mem::take(&mut p.dropped),
            )
        })
    }

    /// The write of the counts in flight ended: forgotten if it committed, else counted again.
    fn written(&self, committed: bool) {
        self.with(|p| {
            let done = std::mem::take(&mut p.in_flight);
            if committed {
                return;
            }
            for (slot, c) in done {
                let e = p.counts.entry(slot).or_default();
                e.requests += c.requests;
                e.rows += c.rows;
            }
        });
    }

    /// Refusals whose write failed, to try again (the database keeps one per key, reason and
    /// hour, so a retry can never make two) until their hour is over: one that cannot be
    /// written (its key deleted at a database prompt) is not retried for ever.
    fn retry_refusals(&self, failed: Vec<Refusal>, now: DateTime<Utc>) {
        let hour = hour_of(now);
        self.with(|p| {
            let room = 10_000usize.saturating_sub(p.refused.len());
            p.refused.extend(
                failed
                    .into_iter()
                    .filter(|r| hour_of(r.at) >= hour)
                    .take(room),
            );
        });
    }

    /// What this instance counted for `key_id` and has not written yet (in flight included).
    fn pending_for(&self, key_id: i64) -> Vec<(Slot, Counts)> {
        self.with(|p| {
            p.counts
                .iter()
                .chain(p.in_flight.iter())
                .filter(|(s, _)| s.key_id == key_id)
                .map(|(s, c)| (*s, *c))
                .collect()
        })
    }

    /// Writes what was counted, in one transaction: all of it or, if that fails, none (kept
    /// for the next try). Counts of keys that no longer exist are dropped.
    pub async fn flush(&self, db: &DatabaseConnection, now: DateTime<Utc>) {
        let (counts, refused, dropped) = self.take();
        if dropped > 0 {
            tracing::warn!(
                dropped,
                "key uses not counted: too many counters were waiting to be written"
            );
        }
        if !counts.is_empty() {
            let rows: Vec<(Slot, Counts)> = counts.into_iter().collect();
            let result = write_counts(db, &rows).await;
            if let Err(e) = &result {
                tracing::warn!(error = %e, "key usage not written yet; keeping it for the next try");
            }
            self.written(result.is_ok());
        }
        let mut failed = Vec::new();
        for r in refused {
            if let Err(e) = write_refusal(db, &r).await {
                tracing::warn!(key_id = r.key_id, error = %e, "refused use not recorded yet");
                failed.push(r);
            }
        }
        if !failed.is_empty() {
            self.retry_refusals(failed, now);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn refusals_are_noted_once_per_key_reason_and_hour() {
        let u = Usage::default();
        let r = |code, t| Refusal {
            key_id: 1,
            account_id: 1,
            code,
            ip: Some("203.0.113.7".into()),
            at: at(t),
        };
        u.refused(r(ProblemCode::ApiKeyExpired, "2026-11-27T10:05:00Z"));
        u.refused(r(ProblemCode::ApiKeyExpired, "2026-11-27T10:55:00Z"));
        u.refused(r(ProblemCode::RateLimited, "2026-11-27T10:56:00Z"));
        u.refused(r(ProblemCode::ApiKeyExpired, "2026-11-27T11:00:00Z"));
        let (_, refused, _) = u.take();
        assert_eq!(refused.len(), 3);
        assert_eq!(refused[0].detail(), "used after expiry from 203.0.113.7");
    }

    #[test]
    fn counts_add_up_per_hour_and_outcome() {
        let u = Usage::default();
        u.request(1, at("2026-11-27T10:05:00Z"), None);
        u.request(1, at("2026-11-27T10:59:59Z"), None);
        u.rows(1, at("2026-11-27T10:59:59Z"), 100);
        u.request(
            1,
            at("2026-11-27T10:30:00Z"),
            Some(ProblemCode::RateLimited),
        );
        let (counts, _, _) = u.take();
        assert_eq!(counts.len(), 2);
        let ok = counts.iter().find(|(s, _)| s.outcome.is_none()).unwrap().1;
        assert_eq!((ok.requests, ok.rows), (2, 100));
        assert_eq!(
            parse_outcome("rate_limited"),
            Some(Some(ProblemCode::RateLimited))
        );
        assert_eq!(parse_outcome("ok"), Some(None));
    }
}
