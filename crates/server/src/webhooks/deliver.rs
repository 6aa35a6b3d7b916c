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

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use partlogic_entity::{webhook_endpoint, webhook_message};
use partlogic_types::{DeliveryState, EventType, KeyPermissions, Permission, WebhookFormat};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait};

use super::outbox;
use super::secrets::{Vault, signature_header};
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

/// What decides whether a key may still receive events: its row and its owner's.
#[derive(Debug, Clone)]
struct KeyFacts {
    retired: bool,
    expires: Option<DateTime<Utc>>,
    permissions: KeyPermissions,
    owner_disabled: bool,
    owner_account: i64,
    owner_admin: bool,
    owner: i64,
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
        .pool_max_idle_per_host(PER_ENDPOINT);
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
            }
            let room = self.permits.available_permits().min(BATCH);
            let mut full = false;
            if room > 0 {
                match self.claim(room).await {
                    Ok(jobs) => {
                        full = jobs.len() == room;
                        for job in jobs {
                            let w = self.clone();
                            tokio::spawn(async move { w.deliver(job).await });
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "webhooks: claiming deliveries failed"),
                }
            }
            if full {
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
                 WHERE d.state = ? AND d.next_attempt_at <= ? AND we.enabled = TRUE \
                 AND (d.claimed_until IS NULL OR d.claimed_until < ?) \
                 ORDER BY d.next_attempt_at LIMIT 1",
                vec![
                    DeliveryState::Pending.as_str().into(),
                    now.into(),
                    Utc::now().into(),
                ],
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

    fn busy(&self) -> Vec<i64> {
        let inflight = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
        inflight
            .iter()
            .filter(|(_, n)| **n >= PER_ENDPOINT)
            .map(|(id, _)| *id)
            .collect()
    }

    /// Claims up to `limit` due deliveries of enabled endpoints that have room; claims beyond
    /// an endpoint's room are let go at once. Leases are in real time whatever the server's
    /// clock says (a test's clock must not make a running delivery look abandoned).
    async fn claim(&self, limit: usize) -> Result<Vec<Job>, DbErr> {
        let now = self.clock.now();
        let real = Utc::now();
        let backend = self.db.get_database_backend();
        let busy = self.busy();
        let not_busy = if busy.is_empty() {
            String::new()
        } else {
            format!(
                " AND d.endpoint_id NOT IN ({})",
                vec!["?"; busy.len()].join(", ")
            )
        };
        let due = format!(
            "SELECT d.id FROM webhook_deliveries d \
             JOIN webhook_endpoints we ON we.id = d.endpoint_id \
             WHERE d.state = ? AND d.next_attempt_at <= ? \
             AND (d.claimed_until IS NULL OR d.claimed_until < ?) AND we.enabled = TRUE{not_busy} \
             ORDER BY d.next_attempt_at, d.id LIMIT ?"
        );
        let mut due_values: Vec<sea_orm::Value> = vec![
            DeliveryState::Pending.as_str().into(),
            now.into(),
            real.into(),
        ];
        due_values.extend(busy.iter().map(|b| sea_orm::Value::from(*b)));
        due_values.push((limit as i64).into());
        // A look first: on SQLite the claim takes the write lock, which an idle poll must not.
        if self
            .db
            .query_one_raw(crate::db::raw(backend, &due, due_values.clone()))
            .await?
            .is_none()
        {
            return Ok(Vec::new());
        }
        // Microseconds: what PostgreSQL keeps, so the lease reads back equal.
        let lease = real + LEASE;
        let lease =
            lease - chrono::Duration::nanoseconds(i64::from(lease.timestamp_subsec_nanos() % 1000));
        let lock = if backend == DbBackend::Postgres {
            " FOR UPDATE OF d SKIP LOCKED"
        } else {
            ""
        };
        let mut values: Vec<sea_orm::Value> = vec![lease.into()];
        values.extend(due_values);
        let sql = format!(
            "UPDATE webhook_deliveries SET claimed_until = ? WHERE id IN ({due}{lock}) \
             RETURNING id, endpoint_id, message_id, attempts"
        );
        let rows = self
            .db
            .query_all_raw(crate::db::raw(backend, &sql, values))
            .await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for r in rows {
            claimed.push(Job {
                id: r.try_get_by_index(0)?,
                endpoint_id: r.try_get_by_index(1)?,
                message_id: r.try_get_by_index(2)?,
                attempts: r.try_get_by_index(3)?,
                lease,
                endpoint: None,
                message: None,
                refusal: None,
            });
        }
        if let Err(e) = self.prepare(&mut claimed).await {
            // A fault on our side: let them go, due again in a minute (not at the next look,
            // which would meet the same fault four times a second); or the lease lets them go.
            let mut values: Vec<sea_orm::Value> = vec![(now + chrono::Duration::minutes(1)).into()];
            values.extend(claimed.iter().map(|j| sea_orm::Value::from(j.id)));
            let marks = vec!["?"; claimed.len()].join(", ");
            let _ = self
                .db
                .execute_raw(crate::db::raw(
                    backend,
                    &format!(
                        "UPDATE webhook_deliveries SET claimed_until = NULL, next_attempt_at = ? \
                         WHERE id IN ({marks})"
                    ),
                    values,
                ))
                .await;
            return Err(e);
        }
        // Counted in flight only now that nothing above can fail.
        let mut jobs = Vec::with_capacity(claimed.len());
        let mut excess = Vec::new();
        {
            let mut inflight = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
            for job in claimed {
                let n = inflight.entry(job.endpoint_id).or_insert(0);
                if *n >= PER_ENDPOINT {
                    excess.push(job.id);
                } else {
                    *n += 1;
                    jobs.push(job);
                }
            }
        }
        if !excess.is_empty() {
            let marks = vec!["?"; excess.len()].join(", ");
            // If this fails the lease lets them go anyway.
            if let Err(e) = self
                .db
                .execute_raw(crate::db::raw(
                    backend,
                    &format!(
                        "UPDATE webhook_deliveries SET claimed_until = NULL WHERE id IN ({marks})"
                    ),
                    excess.into_iter().map(sea_orm::Value::from).collect(),
                ))
                .await
            {
                tracing::warn!(error = %e, "webhooks: letting go of extra claims failed");
            }
        }
        jobs.sort_by_key(|j| j.id);
        Ok(jobs)
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

    /// Writes outcomes as they come, each batch that gathered meanwhile in one transaction.
    async fn record_all(
        self: Arc<Self>,
        mut received: tokio::sync::mpsc::Receiver<(Job, Outcome)>,
    ) {
        let mut batch = Vec::new();
        while received.recv_many(&mut batch, RECORD_BATCH).await > 0 {
            // Each failure is logged where it happens.
            let _ = self.record_batch(&batch).await;
            batch.clear();
        }
    }

    /// Records `batch` in one transaction; if that fails, each outcome in its own, so that one
    /// that cannot be written does not take the others with it.
    async fn record_batch(&self, batch: &[(Job, Outcome)]) -> Result<(), crate::error::ApiError> {
        let together = async {
            let txn = crate::db::begin_write(&self.db).await?;
            for (job, outcome) in batch.iter() {
                self.record(&txn, job, outcome).await?;
            }
            txn.commit().await?;
            Ok::<(), crate::error::ApiError>(())
        };
        let Err(first) = together.await else {
            return Ok(());
        };
        tracing::warn!(error = %first, deliveries = batch.len(), "webhooks: recording a batch failed; recording its outcomes one by one");
        let mut last = Ok(());
        for (job, outcome) in batch.iter() {
            let one = async {
                let txn = crate::db::begin_write(&self.db).await?;
                self.record(&txn, job, outcome).await?;
                txn.commit().await?;
                Ok::<(), crate::error::ApiError>(())
            };
            if let Err(e) = one.await {
                // The claim runs out and the delivery is made again: at least once.
                tracing::warn!(error = %e, delivery = job.id, "webhooks: recording an outcome failed");
                last = Err(e);
            }
        }
        last
    }

    /// Reads what the jobs' deliveries need, a few statements for the whole claim: their
    /// endpoints, messages, keys (with their owners) and whether each key reaches each device;
    /// then decides each one's refusal, if any.
    async fn prepare(&self, jobs: &mut [Job]) -> Result<(), DbErr> {
        use sea_orm::{ColumnTrait, QueryFilter};
        if jobs.is_empty() {
            return Ok(());
        }
        let now = self.clock.now();
        let backend = self.db.get_database_backend();
        let distinct = |ids: Vec<i64>| -> Vec<i64> {
            let mut ids = ids;
            ids.sort_unstable();
            ids.dedup();
            ids
        };
        let endpoints: HashMap<i64, Arc<webhook_endpoint::Model>> =
            webhook_endpoint::Entity::find()
                .filter(
                    webhook_endpoint::Column::Id
                        .is_in(distinct(jobs.iter().map(|j| j.endpoint_id).collect())),
                )
                .all(&self.db)
                .await?
                .into_iter()
                .map(|e| (e.id, Arc::new(e)))
                .collect();
        let messages: HashMap<i64, Arc<webhook_message::Model>> = webhook_message::Entity::find()
            .filter(
                webhook_message::Column::Id
                    .is_in(distinct(jobs.iter().map(|j| j.message_id).collect())),
            )
            .all(&self.db)
            .await?
            .into_iter()
            .map(|m| (m.id, Arc::new(m)))
            .collect();
        let key_ids = distinct(endpoints.values().map(|e| e.key_id).collect());
        let marks = |n: usize| vec!["?"; n.max(1)].join(", ");
        let mut keys: HashMap<i64, KeyFacts> = HashMap::new();
        if !key_ids.is_empty() {
            let rows = self
                .db
                .query_all_raw(crate::db::raw(
                    backend,
                    &format!(
                        "SELECT k.id, k.retired_at, k.expires_at, k.permissions, u.disabled_at,                          u.account_id, u.role, u.id FROM api_keys k JOIN users u ON u.id = k.user_id                          WHERE k.id IN ({})",
                        marks(key_ids.len())
                    ),
                    key_ids.iter().map(|k| (*k).into()).collect(),
                ))
                .await?;
            for r in rows {
                let retired: Option<DateTime<Utc>> = r.try_get_by_index(1)?;
                let disabled: Option<DateTime<Utc>> = r.try_get_by_index(4)?;
                let role: String = r.try_get_by_index(6)?;
                keys.insert(
                    r.try_get_by_index(0)?,
                    KeyFacts {
                        retired: retired.is_some(),
                        expires: r.try_get_by_index(2)?,
                        permissions: KeyPermissions::from_scopes(&r.try_get_by_index::<String>(3)?),
                        owner_disabled: disabled.is_some(),
                        owner_account: r.try_get_by_index(5)?,
                        owner_admin: role == partlogic_entity::roles::ADMIN,
                        owner: r.try_get_by_index(7)?,
                    },
                );
            }
        }
        // Which of the (key, device) pairs these events are about each key still reaches:
        // ticked, of the endpoint's account, and seen by its owner (admins see them all).
        let devices = distinct(messages.values().filter_map(|m| m.device_id).collect());
        let mut ticked: HashMap<(i64, i64), i64> = HashMap::new();
        let mut seen: std::collections::HashSet<(i64, i64)> = std::collections::HashSet::new();
        if !devices.is_empty() && !key_ids.is_empty() {
            let mut values: Vec<sea_orm::Value> = key_ids.iter().map(|k| (*k).into()).collect();
            values.extend(devices.iter().map(|d| sea_orm::Value::from(*d)));
            let rows = self
                .db
                .query_all_raw(crate::db::raw(
                    backend,
                    &format!(
                        "SELECT kd.key_id, kd.device_id, d.account_id FROM api_key_devices kd                          JOIN devices d ON d.id = kd.device_id                          WHERE kd.key_id IN ({}) AND kd.device_id IN ({})",
                        marks(key_ids.len()),
                        marks(devices.len())
                    ),
                    values,
                ))
                .await?;
            for r in rows {
                ticked.insert(
                    (r.try_get_by_index(0)?, r.try_get_by_index(1)?),
                    r.try_get_by_index(2)?,
                );
            }
            let owners = distinct(
                keys.values()
                    .filter(|k| !k.owner_admin)
                    .map(|k| k.owner)
                    .collect(),
            );
            if !owners.is_empty() {
                let mut values: Vec<sea_orm::Value> = owners.iter().map(|o| (*o).into()).collect();
                values.extend(devices.iter().map(|d| sea_orm::Value::from(*d)));
                let rows = self
                    .db
                    .query_all_raw(crate::db::raw(
                        backend,
                        &format!(
                            "SELECT user_id, device_id FROM user_devices                              WHERE user_id IN ({}) AND device_id IN ({})",
                            marks(owners.len()),
                            marks(devices.len())
                        ),
                        values,
                    ))
                    .await?;
                for r in rows {
                    seen.insert((r.try_get_by_index(0)?, r.try_get_by_index(1)?));
                }
            }
        }
        for job in jobs.iter_mut() {
            job.endpoint = endpoints.get(&job.endpoint_id).cloned();
            job.message = messages.get(&job.message_id).cloned();
            let (Some(endpoint), Some(message)) = (&job.endpoint, &job.message) else {
                continue;
            };
            job.refusal = refusal(
                endpoint,
                message,
                keys.get(&endpoint.key_id),
                |key, device| {
                    ticked
                        .get(&(key, device))
                        .is_some_and(|account| *account == endpoint.account_id)
                        && keys
                            .get(&key)
                            .is_some_and(|k| k.owner_admin || seen.contains(&(k.owner, device)))
                },
                now,
            );
        }
        Ok(())
    }

    async fn attempt(&self, job: &Job) -> Result<Outcome, DbErr> {
        let now = self.clock.now();
        let Some(endpoint) = &job.endpoint else {
            return Ok(Outcome::Dropped("the endpoint was deleted".to_owned()));
        };
        let Some(message) = &job.message else {
            return Ok(Outcome::Dropped("the event is gone".to_owned()));
        };
        if let Some(why) = &job.refusal {
            return Ok(Outcome::Dropped(why.clone()));
        }
        let Some(vault) = &self.vault else {
            return Ok(Outcome::Internal(
                "this server has no webhook key".to_owned(),
            ));
        };
        let mut secrets = Vec::new();
        match vault.open(&endpoint.secret) {
            Some(s) => secrets.push(s),
            None => {
                return Ok(Outcome::Internal(
                    "the signing secret cannot be opened with this server's webhook key; rotate it"
                        .to_owned(),
                ));
            }
        }
        if endpoint.previous_until.is_some_and(|u| u > now)
            && let Some(old) = endpoint
                .previous_secret
                .as_deref()
                .and_then(|s| vault.open(s))
        {
            secrets.push(old);
        }
        let body = match WebhookFormat::parse(&endpoint.format).unwrap_or_default() {
            WebhookFormat::Standard => message.payload.clone(),
            WebhookFormat::Slack => super::slack::body(&message.payload, &self.settings.portal_url),
        };
        Ok(self
            .post(endpoint, &message.public_id, &secrets, body)
            .await)
    }

    async fn post(
        &self,
        endpoint: &webhook_endpoint::Model,
        id: &str,
        secrets: &[String],
        body: String,
    ) -> Outcome {
        let failed = |error: String| Outcome::Failed {
            status: None,
            ms: None,
            error,
            retry_after: None,
        };
        let Ok(url) = url::Url::parse(&endpoint.url) else {
            return failed("the URL cannot be read".to_owned());
        };
        if !self.settings.allow_private && super::url::literal_forbidden(&url) {
            return failed("the URL names an address that is not public".to_owned());
        }
        // The signature's time is the real one whatever the server's clock says: receivers
        // compare it with theirs.
        let timestamp = Utc::now().timestamp();
        let signature = signature_header(secrets, id, timestamp, body.as_bytes());
        let started = Instant::now();
        let sent = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        let mut res = match sent {
            Ok(r) => r,
            Err(e) => {
                let ms = started.elapsed().as_millis() as i64;
                let error = if e.is_timeout() {
                    format!("no answer within {} s", TIMEOUT.as_secs())
                } else if e.is_connect() {
                    format!("could not connect: {}", root_cause(&e))
                } else {
                    format!("the request failed: {}", root_cause(&e))
                };
                return Outcome::Failed {
                    status: None,
                    ms: Some(ms),
                    error,
                    retry_after: None,
                };
            }
        };
        let status = res.status().as_u16();
        let retry_after = if status == 429 || status == 503 {
            res.headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| {
                    let v = v.trim();
                    v.parse::<i64>().ok().or_else(|| {
                        // Or an HTTP date.
                        DateTime::parse_from_rfc2822(v)
                            .ok()
                            .map(|at| (at.with_timezone(&Utc) - Utc::now()).num_seconds())
                    })
                })
                .map(|s| s.clamp(1, 24 * 3600))
        } else {
            None
        };
        // Read (and drop) at most MAX_BODY of the answer, so the connection can be reused
        // and a receiver streaming forever costs nothing (the client's timeout covers the
        // body too).
        let mut read = 0usize;
        while read < MAX_BODY {
            match res.chunk().await {
                Ok(Some(c)) => read += c.len(),
                _ => break,
            }
        }
        let ms = started.elapsed().as_millis() as i64;
        match status {
            200..=299 => Outcome::Delivered { status, ms },
            410 => Outcome::Gone { ms },
            300..=399 => Outcome::Failed {
                status: Some(status),
                ms: Some(ms),
                error: "answered a redirect, which is not followed; use the final URL".to_owned(),
                retry_after: None,
            },
            _ => Outcome::Failed {
                status: Some(status),
                ms: Some(ms),
                error: format!("answered {status}"),
                retry_after,
            },
        }
    }

    async fn record(
        &self,
        db: &impl ConnectionTrait,
        job: &Job,
        outcome: &Outcome,
    ) -> Result<(), crate::error::ApiError> {
        let now = self.clock.now();
        let backend = db.get_database_backend();
        let attempts = job.attempts + 1;
        // Only while the claim is still this one: a replay or another worker after the lease
        // ran out has it otherwise, and its outcome is the one to keep.
        let set = "UPDATE webhook_deliveries SET state = ?, attempts = ?, next_attempt_at = ?, \
                   claimed_until = NULL, last_attempt_at = ?, last_status = ?, \
                   last_latency_ms = ?, last_error = ? WHERE id = ? AND claimed_until = ?";
        let write = |state: DeliveryState,
                     attempts: i32,
                     next: DateTime<Utc>,
                     status: Option<u16>,
                     ms: Option<i64>,
                     error: Option<String>| {
            let statement = crate::db::raw(
                backend,
                set,
                vec![
                    state.as_str().into(),
                    attempts.into(),
                    next.into(),
                    now.into(),
                    status.map(i32::from).into(),
                    ms.into(),
                    error.into(),
                    job.id.into(),
                    job.lease.into(),
                ],
            );
            async move { Ok::<bool, DbErr>(db.execute_raw(statement).await?.rows_affected() == 1) }
        };
        match outcome {
            Outcome::Delivered { status, ms } => {
                let kept = write(
                    DeliveryState::Delivered,
                    attempts,
                    now,
                    Some(*status),
                    Some(*ms),
                    None,
                )
                .await?;
                if kept {
                    db.execute_raw(crate::db::raw(
                        backend,
                        "UPDATE webhook_endpoints SET failing_since = NULL \
                             WHERE id = ? AND failing_since IS NOT NULL",
                        vec![job.endpoint_id.into()],
                    ))
                    .await?;
                }
            }
            Outcome::Gone { ms } => {
                let kept = write(
                    DeliveryState::Failed,
                    attempts,
                    now,
                    Some(410),
                    Some(*ms),
                    Some("answered 410 Gone: the endpoint was disabled".to_owned()),
                )
                .await?;
                if kept {
                    super::store::disable(
                        db,
                        job.endpoint_id,
                        "the receiver answered 410 Gone (it no longer wants these events)",
                        now,
                    )
                    .await?;
                }
            }
            Outcome::Dropped(why) => {
                write(
                    DeliveryState::Dropped,
                    job.attempts,
                    now,
                    None,
                    None,
                    Some(why.clone()),
                )
                .await?;
            }
            Outcome::Internal(why) => {
                write(
                    DeliveryState::Pending,
                    job.attempts,
                    now + chrono::Duration::minutes(1),
                    None,
                    None,
                    Some(why.clone()),
                )
                .await?;
            }
            Outcome::Failed {
                status,
                ms,
                error,
                retry_after,
            } => {
                let index = usize::try_from(job.attempts).unwrap_or(usize::MAX);
                let (state, next) = match SCHEDULE.get(index) {
                    Some(wait) => {
                        let wait = retry_after.unwrap_or_else(|| jitter(*wait));
                        (
                            DeliveryState::Pending,
                            now + chrono::Duration::seconds(wait),
                        )
                    }
                    None => (DeliveryState::Failed, now),
                };
                if !write(state, attempts, next, *status, *ms, Some(error.clone())).await? {
                    return Ok(());
                }
                db.execute_raw(crate::db::raw(
                    backend,
                    "UPDATE webhook_endpoints SET failing_since = ? \
                     WHERE id = ? AND failing_since IS NULL",
                    vec![now.into(), job.endpoint_id.into()],
                ))
                .await?;
                // Read again here, after the outcomes recorded before this one: a success
                // since the claim may have cleared it, a new URL too.
                let failing: Option<DateTime<Utc>> =
                    webhook_endpoint::Entity::find_by_id(job.endpoint_id)
                        .one(db)
                        .await?
                        .and_then(|e| e.failing_since);
                if failing.is_some_and(|since| now - since >= DISABLE_AFTER) {
                    super::store::disable(
                        db,
                        job.endpoint_id,
                        "every delivery failed for 5 days",
                        now,
                    )
                    .await?;
                }
            }
        }
        Ok(())
    }
}

/// Why `endpoint`'s key (`key`, read with its owner) may not receive `message` now, if it may
/// not; `reaches(key, device)` says whether the key still reaches a device.
fn refusal(
    endpoint: &webhook_endpoint::Model,
    message: &webhook_message::Model,
    key: Option<&KeyFacts>,
    reaches: impl Fn(i64, i64) -> bool,
    now: DateTime<Utc>,
) -> Option<String> {
    let Some(k) = key else {
        return Some("the key no longer exists".to_owned());
    };
    if k.retired {
        return Some("the key is retired".to_owned());
    }
    if k.expires.is_some_and(|e| e <= now) {
        return Some("the key has expired".to_owned());
    }
    if k.owner_disabled || k.owner_account != endpoint.account_id {
        return Some("the key's owner can no longer use it".to_owned());
    }
    if !k.permissions.allows(Permission::WebhooksManage) {
        return Some("the key no longer has the webhooks:manage permission".to_owned());
    }
    let kind = EventType::parse(&message.event_type);
    // A test event goes to the endpoint that asked for it whatever the key reaches.
    if kind == Some(EventType::WebhookTest) {
        return None;
    }
    if kind.is_some_and(EventType::needs_orders_read)
        && !k.permissions.allows(Permission::OrdersRead)
    {
        return Some("the key no longer has the orders:read permission".to_owned());
    }
    if let Some(device) = message.device_id
        && !reaches(endpoint.key_id, device)
    {
        return Some("the key no longer reaches this device".to_owned());
    }
    None
}

/// `wait` seconds, give or take a tenth, so that retries of many deliveries spread out.
fn jitter(wait: i64) -> i64 {
    let mut b = [0u8; 4];
    if getrandom::fill(&mut b).is_err() {
        return wait;
    }
    let spread = (wait / 10).max(1);
    let r = i64::from(u32::from_le_bytes(b)) % (2 * spread + 1);
    (wait - spread + r).max(1)
}

/// The innermost cause of a request error, for the delivery's `last_error` (never the URL,
/// whose path may hold a secret).
fn root_cause(e: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_a_tenth() {
        for wait in SCHEDULE {
            for _ in 0..50 {
                let j = jitter(wait);
                assert!((wait - wait / 10 - 1..=wait + wait / 10 + 1).contains(&j));
            }
        }
    }
}
