//! The delivery worker: claims due deliveries, checks that the endpoint's key may still see
//! each event, posts it, and records what happened.
//!
//! - **Claims** are leases: a delivery is taken by setting `claimed_until` (PostgreSQL picks
//!   rows with `FOR UPDATE SKIP LOCKED`, so instances share the work and do not take the same
//!   row); a worker that dies (`kill -9`) lets its claims go when the lease passes, and the
//!   delivery is made then, with the same `webhook-id`.
//! - **Bounds**: at most [`PER_ENDPOINT`] deliveries in flight per endpoint and [`GLOBAL`] in
//!   all, so a receiver that hangs holds only its own deliveries; claims leave out endpoints
//!   already at their bound.
//! - **Outcomes**: 2xx is delivered; `410 Gone` disables the endpoint at once; anything else,
//!   a timeout ([`TIMEOUT`]) or a refused connection is retried on [`SCHEDULE`] (with jitter;
//!   `Retry-After` on 429 and 503 is honoured), and an endpoint failing for [`DISABLE_AFTER`]
//!   is disabled. Redirects are not followed; response bodies are read up to [`MAX_BODY`] and
//!   dropped.
//!
//! Here: the worker's loop, its bounds and one delivery's life. `claim.rs` takes due
//! deliveries and reads what they need; `send.rs` makes one attempt; `record.rs` writes
//! outcomes with the retry schedule.

mod claim;
mod record;
mod send;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use partlogic_entity::{webhook_endpoint, webhook_message};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr};

use super::outbox;
use super::secrets::Vault;
use crate::clock::Clock;

/// Deliveries in flight to one endpoint at most.
pub const PER_ENDPOINT: usize = 8;
/// Deliveries in flight in all at most: more than one key's endpoints can hold
/// (10 × [`PER_ENDPOINT`]), so one key's hanging receivers never take every slot.
pub const GLOBAL: usize = 128;
/// How long a receiver has to answer.
pub const TIMEOUT: Duration = Duration::from_secs(15);
/// How much of a response body is read (and dropped).
pub const MAX_BODY: usize = 64 * 1024;
/// The wait before each retry, after the first attempt (Standard Webhooks' schedule).
pub const SCHEDULE: [i64; 9] = [
    5,
    5 * 60,
    30 * 60,
    2 * 3600,
    5 * 3600,
    10 * 3600,
    14 * 3600,
    20 * 3600,
    24 * 3600,
];
/// An endpoint whose deliveries have all failed for this long is disabled.
pub const DISABLE_AFTER: chrono::Duration = chrono::Duration::days(5);
/// How long a claim holds a delivery: the timeout and a margin.
const LEASE: chrono::Duration = chrono::Duration::seconds(45);
/// How often the worker looks for due deliveries without being woken (retries, other
/// instances' events).
const POLL: Duration = Duration::from_millis(250);
/// How many deliveries one claim takes at most.
const BATCH: usize = 100;
/// How many outcomes one transaction records at most.
const RECORD_BATCH: usize = 256;

/// Delivery counts and the queue's age, for `/metrics`.
#[derive(Debug, Default)]
pub struct Stats {
    /// Attempts answered 2xx.
    pub delivered: AtomicU64,
    /// Attempts that failed (to be retried, or the last one).
    pub failed: AtomicU64,
    /// Attempts answered `410 Gone`.
    pub gone: AtomicU64,
    /// Deliveries not sent because the key may no longer see the event.
    pub dropped: AtomicU64,
    /// Deliveries in flight on this instance.
    pub in_flight: AtomicU64,
    /// How long the oldest due delivery has waited, in milliseconds (0 when none waits).
    pub oldest_due_ms: AtomicU64,
}

/// This process's delivery counts.
pub fn stats() -> &'static Stats {
    static STATS: std::sync::OnceLock<Stats> = std::sync::OnceLock::new();
    STATS.get_or_init(Stats::default)
}

/// What the worker needs to know.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Whether `http` and private addresses may be called (tests, on-premises).
    pub allow_private: bool,
    /// The portal's base URL, for links in Slack messages.
    pub portal_url: String,
}

/// A claimed delivery, with what sending it needs (read once per claim, for all its
/// deliveries: see [`Worker::prepare`]). No `Debug`: the endpoint's URL may hold a secret.
#[derive(Clone)]
struct Job {
    id: i64,
    endpoint_id: i64,
    message_id: i64,
    attempts: i32,
    /// The claim's `claimed_until`: the outcome is recorded only while it is still this (a
    /// replay, or another worker after the lease ran out, took it otherwise).
    lease: DateTime<Utc>,
    endpoint: Option<Arc<webhook_endpoint::Model>>,
    message: Option<Arc<webhook_message::Model>>,
    /// Why the endpoint's key may not receive the message, if it may not.
    refusal: Option<String>,
}

/// How one attempt ended.
#[derive(Debug)]
enum Outcome {
    Delivered {
        status: u16,
        ms: i64,
    },
    Gone {
        ms: i64,
    },
    Failed {
        status: Option<u16>,
        ms: Option<i64>,
        error: String,
        retry_after: Option<i64>,
    },
    Dropped(String),
    /// Not sent for a fault of this server (the database, the webhook key): tried again in a
    /// minute, without counting against the receiver.
    Internal(String),
}

/// The worker of one instance.
pub struct Worker {
    db: DatabaseConnection,
    clock: Clock,
    vault: Option<Arc<Vault>>,
    settings: WorkerSettings,
    client: reqwest::Client,
    inflight: Mutex<HashMap<i64, usize>>,
    permits: Arc<tokio::sync::Semaphore>,
    freed: tokio::sync::Notify,
    /// Outcomes go to one recorder, which writes what has gathered in one transaction: a
    /// commit per delivery would cost more than the delivery.
    outcomes: tokio::sync::mpsc::Sender<(Job, Outcome)>,
    /// When this instance last refreshed PostgreSQL's statistics of the deliveries (see
    /// [`Worker::claim`]).
    analyzed: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Worker(..)")
    }
}

/// Starts the worker; it runs until the runtime stops.
pub fn spawn(
    db: DatabaseConnection,
    clock: Clock,
    vault: Option<Arc<Vault>>,
    settings: WorkerSettings,
) -> Result<Arc<Worker>, reqwest::Error> {
    let mut client = reqwest::Client::builder()
        // A proxy from the environment would resolve and connect for us, past the checks.
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("PartLogic-Webhooks/", env!("CARGO_PKG_VERSION")))
        // Per host, not per endpoint: one key's endpoints are often one service's
        // (hooks.slack.com, hooks.zapier.com), and connections beyond a small pool would be
        // closed and opened again on every delivery.
        .pool_max_idle_per_host(GLOBAL);
    if !settings.allow_private {
        client = client.dns_resolver(Arc::new(super::url::PublicOnly));
    }
    // Bounded: a slow database holds the senders (and so new claims) back instead of
    // outcomes piling up in memory.
    let (outcomes, received) = tokio::sync::mpsc::channel(GLOBAL + BATCH);
    let worker = Arc::new(Worker {
        db,
        clock,
        vault,
        settings,
        client: client.build()?,
        inflight: Mutex::new(HashMap::new()),
        permits: Arc::new(tokio::sync::Semaphore::new(GLOBAL)),
        freed: tokio::sync::Notify::new(),
        outcomes,
        analyzed: Mutex::new(None),
    });
    let w = worker.clone();
    tokio::spawn(async move { w.run().await });
    let w = worker.clone();
    tokio::spawn(async move { w.record_all(received).await });
    Ok(worker)
}

impl Worker {
    async fn run(self: Arc<Self>) {
        if self.vault.is_none() {
            tracing::warn!(
                "webhooks: no PARTLOGIC_WEBHOOK_KEY, so no deliveries are made on this instance"
            );
            return;
        }
        // SQLite has one instance: whatever was claimed when it stopped (a `kill -9` in the
        // middle of a delivery) was this instance's, and is due again now.
        if self.db.get_database_backend() == DbBackend::Sqlite
            && let Err(e) = self
                .db
                .execute_unprepared(
                    "UPDATE webhook_deliveries SET claimed_until = NULL \
                     WHERE claimed_until IS NOT NULL",
                )
                .await
        {
            tracing::warn!(error = %e, "webhooks: releasing claims failed");
        }
        let mut expiring_checked: Option<DateTime<Utc>> = None;
        let mut pruned: Option<DateTime<Utc>> = None;
        let mut aged = Instant::now();
        loop {
            if aged.elapsed() >= Duration::from_secs(1) {
                aged = Instant::now();
                match self.oldest_due().await {
                    Ok(ms) => stats().oldest_due_ms.store(ms, Ordering::Relaxed),
                    Err(e) => {
                        tracing::warn!(error = %e, "webhooks: reading the queue's age failed")
                    }
                }
            }
            // Keys about to expire, once a minute, and old events, once an hour (by the
            // server's clock, which tests move).
            let now = self.clock.now();
            if pruned.is_none_or(|at| now - at >= chrono::Duration::hours(1)) {
                pruned = Some(now);
                if let Err(e) = super::store::prune(&self.db, now).await {
                    tracing::warn!(error = %e, "webhooks: forgetting old events failed");
                }
            }
            if expiring_checked.is_none_or(|at| now - at >= chrono::Duration::minutes(1)) {
                expiring_checked = Some(now);
                if let Err(e) = super::expiring::record(&self.db, now).await {
                    tracing::warn!(error = %e, "webhooks: recording key.expiring failed");
                }
                match super::store::sort_held(&self.db).await {
                    Ok(0) => {}
                    Ok(moved) => tracing::debug!(moved, "webhooks: held and released deliveries"),
                    Err(e) => {
                        tracing::warn!(error = %e, "webhooks: sorting held deliveries failed")
                    }
                }
            }
            let room = self.permits.available_permits().min(BATCH);
            // Claimed some (or lost what it picked to another instance): look again at once,
            // for endpoints whose deliveries were past this look (the next one leaves out those
            // now more than half busy).
            let mut again = false;
            if room > 0 {
                match self.claim(room).await {
                    Ok(claimed) => {
                        again = claimed.again;
                        if claimed.slow {
                            let w = self.clone();
                            tokio::spawn(async move { w.refresh_statistics().await });
                        }
                        for job in claimed.jobs {
                            let w = self.clone();
                            tokio::spawn(async move { w.deliver(job).await });
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "webhooks: claiming deliveries failed"),
                }
            }
            if again {
                tokio::task::yield_now().await;
                continue;
            }
            tokio::select! {
                _ = outbox::wake().notified() => {
                    // The event's transaction commits right after it wakes us.
                    tokio::time::sleep(Duration::from_millis(15)).await;
                }
                _ = self.freed.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// How long the oldest due, unclaimed delivery has waited, in milliseconds.
    async fn oldest_due(&self) -> Result<u64, DbErr> {
        let now = self.clock.now();
        let backend = self.db.get_database_backend();
        let row = self
            .db
            .query_one_raw(crate::db::raw(
                backend,
                "SELECT d.next_attempt_at FROM webhook_deliveries d \
                 JOIN webhook_endpoints we ON we.id = d.endpoint_id \
                 WHERE d.state = 'pending' AND d.next_attempt_at <= ? AND we.enabled = TRUE \
                 AND (d.claimed_until IS NULL OR d.claimed_until < ?) \
                 ORDER BY d.next_attempt_at LIMIT 1",
                vec![now.into(), Utc::now().into()],
            ))
            .await?;
        Ok(match row {
            Some(r) => {
                let due: DateTime<Utc> = r.try_get_by_index(0)?;
                u64::try_from((now - due).num_milliseconds()).unwrap_or(0)
            }
            None => 0,
        })
    }

    /// How many deliveries are in flight to each endpoint.
    fn running(&self) -> HashMap<i64, usize> {
        self.inflight
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    async fn deliver(self: Arc<Self>, job: Job) {
        let permit = self.permits.clone().acquire_owned().await;
        stats().in_flight.fetch_add(1, Ordering::Relaxed);
        let outcome = match self.attempt(&job).await {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!(error = %e, delivery = job.id, "webhooks: preparing a delivery failed");
                Outcome::Internal(
                    "the server could not prepare it; trying again shortly".to_owned(),
                )
            }
        };
        let counter = match &outcome {
            Outcome::Delivered { .. } => &stats().delivered,
            Outcome::Gone { .. } => &stats().gone,
            Outcome::Failed { .. } => &stats().failed,
            Outcome::Dropped(_) | Outcome::Internal(_) => &stats().dropped,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        stats().in_flight.fetch_sub(1, Ordering::Relaxed);
        let endpoint_id = job.endpoint_id;
        // Until it is recorded the delivery stays claimed, so no one takes it again; if the
        // recording fails the claim runs out and it is made again: at least once. The rows
        // read for sending are not needed to record it.
        let job = Job {
            endpoint: None,
            message: None,
            refusal: None,
            ..job
        };
        // The slot is held until the recorder has taken the outcome.
        let _ = self.outcomes.send((job, outcome)).await;
        drop(permit);
        {
            let mut inflight = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(n) = inflight.get_mut(&endpoint_id) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    inflight.remove(&endpoint_id);
                }
            }
        }
        self.freed.notify_one();
    }
}
