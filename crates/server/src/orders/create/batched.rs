//! Group commit of creates on PostgreSQL: the one-statement writes of creates that arrive while
//! others are being written go to PostgreSQL together, as one statement that is one
//! transaction.
//!
//! Why: at 64 connections on two cores, a create's cost in PostgreSQL was mostly per statement
//! and per commit (executor start 23 %, the commit 10 %, plus the protocol and TLS), not per row
//! (docs/performance.md, "Orders"). A statement of eight creates pays those once.
//!
//! Each create keeps its own outcome: its stock check, its `Idempotency-Key`'s advisory lock and
//! its record are per create in the statement, so one create's "in use" or out-of-date stock row
//! holds back nothing but itself. All of a batch commits or none of it: when the statement fails
//! (a stock row deleted meanwhile fails its foreign key, say), each create is written again on
//! its own ([`Prepared::write`]), so that a failure is only its own create's.
//!
//! Nothing waits to fill a batch: a batch is whatever arrived while the ones before it ran
//! ([`RUNNING`] at once), so a create alone is written at once, as before.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use partlogic_types::{EventType, OrderAction, OrderStatus};
use sea_orm::DatabaseConnection;
use tokio::sync::oneshot;

use super::one_statement::{Prepared, Written};
use super::{created_detail, failed, key_and_user};
use crate::error::ApiError;
use crate::orders::idempotency::{self, Attempt, Stored};
use crate::orders::numbers::Numbers;
use crate::orders::parse::NewOrder;
use crate::orders::store::Actor;

/// Batches written at once. With the default pool of 16 connections this leaves most of them to
/// reads; more at once only makes each batch smaller.
const RUNNING: usize = 4;

/// The most creates in one statement (200 lines each at most: 6,400 lines).
const MOST: usize = 32;

/// A create to write: what [`Prepared::write`] takes, owned, as it outlives the request that
/// asked for it when that request goes away while its batch runs.
#[derive(Debug)]
pub struct Create {
    /// The order, checked and numbered.
    pub prepared: Box<Prepared>,
    /// Its account.
    pub account_id: i64,
    /// What was asked for.
    pub new: NewOrder,
    /// Who asks.
    pub actor: Actor,
    /// The request's `Idempotency-Key` and the answer to keep for it.
    pub attempt: Option<(Attempt, Stored)>,
    /// When.
    pub now: DateTime<Utc>,
}

impl Create {
    /// Written on its own, in one statement.
    async fn write_alone(&self, db: &DatabaseConnection) -> Result<Written, ApiError> {
        self.prepared
            .write(
                db,
                self.account_id,
                &self.new,
                &self.actor,
                self.attempt.as_ref().map(|(a, s)| (a, s)),
                self.now,
            )
            .await
    }

    /// Two creates with one `Idempotency-Key` never share a batch: in one transaction both
    /// would hold its advisory lock.
    fn key(&self) -> Option<(i64, i64, &str)> {
        self.attempt
            .as_ref()
            .map(|(a, _)| (a.account_id, a.api_key_id, a.key.as_str()))
    }
}

struct Job {
    create: Create,
    reply: oneshot::Sender<Result<Written, ApiError>>,
}

#[derive(Default)]
struct Queue {
    waiting: VecDeque<Job>,
    /// Tasks writing batches, at most [`RUNNING`].
    running: usize,
}

/// Creates waiting to be written, and the tasks writing them.
#[derive(Default)]
pub struct Batches {
    queue: Mutex<Queue>,
    /// Where the tasks run; `None`: on the runtime of the create that starts one.
    runtime: Option<tokio::runtime::Handle>,
    /// Where a number goes back when a create that was not written has nobody left to hear it.
    numbers: Arc<Numbers>,
}

impl std::fmt::Debug for Batches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let q = self.queue();
        f.debug_struct("Batches")
            .field("waiting", &q.waiting.len())
            .field("running", &q.running)
            .finish()
    }
}

impl Batches {
    /// Batches written by tasks on `runtime` (one that outlives the HTTP workers), giving
    /// numbers back to `numbers`.
    pub fn new(runtime: Option<tokio::runtime::Handle>, numbers: Arc<Numbers>) -> Batches {
        Batches {
            queue: Mutex::default(),
            runtime,
            numbers,
        }
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes `create` with whatever other creates are waiting, as [`Prepared::write`] would
    /// alone: the same outcomes, and all of it commits or none.
    pub async fn write(
        self: &Arc<Self>,
        db: &DatabaseConnection,
        create: Create,
    ) -> Result<Written, ApiError> {
        let (reply, answer) = oneshot::channel();
        let start = {
            let mut q = self.queue();
            q.waiting.push_back(Job { create, reply });
            let start = q.running < RUNNING;
            if start {
                q.running += 1;
            }
            start
        };
        if start {
            let task = Task {
                batches: self.clone(),
                finished: false,
            };
            let db = db.clone();
            match &self.runtime {
                Some(runtime) => drop(runtime.spawn(task.run(db))),
                None => drop(tokio::spawn(task.run(db))),
            }
        }
        answer.await.unwrap_or_else(|_| {
            Err(ApiError::Internal(
                "the batch writing an order ended without an answer".to_owned(),
            ))
        })
    }

    /// The next batch: the longest-waiting creates, one per `Idempotency-Key`.
    fn take(&self) -> Option<Vec<Job>> {
        let mut q = self.queue();
        let mut batch: Vec<Job> = Vec::new();
        let mut i = 0;
        while i < q.waiting.len() && batch.len() < MOST {
            let clash = q.waiting[i]
                .create
                .key()
                .is_some_and(|k| batch.iter().any(|j| j.create.key() == Some(k)));
            if clash {
                i += 1;
            } else if let Some(job) = q.waiting.remove(i) {
                batch.push(job);
            }
        }
        if batch.is_empty() {
            // Under the lock that pushes: a create queued after this look starts a task.
            q.running -= 1;
            None
        } else {
            Some(batch)
        }
    }
}

/// One task writing batches until none is waiting.
struct Task {
    batches: Arc<Batches>,
    finished: bool,
}

impl Drop for Task {
    fn drop(&mut self) {
        // A task that panicked or whose runtime stopped. The next create starts another; when
        // none is left to write what waits, those requests fail now (a 5xx, not kept) rather
        // than wait for a create that may never come.
        if !self.finished {
            let mut q = self.batches.queue();
            q.running -= 1;
            if q.running == 0 {
                q.waiting.clear();
            }
        }
    }
}

impl Task {
    /// Answers `job`'s request; when it has gone away, the number of an order not written goes
    /// back, as the request would have given it back.
    fn answer(&self, job: Job, written: Result<Written, ApiError>) {
        let (account_id, number) = (job.create.account_id, job.create.prepared.number);
        if let Err(Ok(w)) = job.reply.send(written)
            && w != Written::Created
        {
            self.batches.numbers.put_back(account_id, number);
        }
    }

    async fn run(mut self, db: DatabaseConnection) {
        loop {
            let Some(batch) = self.batches.take() else {
                self.finished = true;
                return;
            };
            if let [_] = batch.as_slice() {
                for job in batch {
                    let written = job.create.write_alone(&db).await;
                    self.answer(job, written);
                }
                continue;
            }
            match write_all(&db, &batch).await {
                Ok(outcomes) => {
                    for (job, written) in batch.into_iter().zip(outcomes) {
                        // The request may have gone away: its order stands, as it would alone.
                        self.answer(job, Ok(written));
                    }
                }
                Err(Failed::Nothing(e)) => {
                    // Nothing of the batch is written: each create again on its own, so that the
                    // one that failed it fails alone.
                    tracing::debug!(error = %e, creates = batch.len(), "a batch of creates failed; writing each alone");
                    for job in batch {
                        let written = job.create.write_alone(&db).await;
                        self.answer(job, written);
                    }
                }
                Err(Failed::Unsent(e)) => {
                    // No connection: each alone would wait as long again.
                    for job in batch {
                        self.answer(job, Err(ApiError::from(e.clone())));
                    }
                }
                Err(Failed::Unknown(e)) => {
                    // Perhaps committed: written again, a create would find its own record and
                    // report it taken, and its number would be given back while in use. Each
                    // request fails (a 5xx, not kept); a retry with its key replays the answer.
                    tracing::warn!(error = %e, creates = batch.len(), "a batch of creates failed after it was sent");
                    for job in batch {
                        // Its number is not given back: the order may be written.
                        let _ = job.reply.send(Err(ApiError::from(e.clone())));
                    }
                }
            }
        }
    }
}

/// The creates of a batch in one statement, as [`Prepared::write`] writes one: per create (`x`,
/// its lines `y`), `c` says whether each line's stock row is still at the device with the SKU
/// (and description) its answer shows, `g` takes its key's advisory lock, `i` inserts its key's
/// record, and `k` are the creates to write: stock as shown, and the key's record inserted
/// (or no key). The `order.created` webhook event (`m`, `w`) is written for an order whose
/// device an endpoint that wants it reaches (`we`), as the outbox would. `l` inserts lines in
/// stock-row order: their foreign-key checks then lock stock rows in id order, as the stock
/// import does (`stock::import`), so the two cannot deadlock.
const WRITE_ALL: &str = "\
WITH x AS (
  SELECT * FROM unnest($1::int4[], $2::int4[], $3::int4[], $4::int8[], $5::int8[], $6::text[],
                       $7::text[], $8::text[], $9::timestamptz[], $10::int4[], $11::text[],
                       $12::text[], $13::int8[], $14::int8[], $15::int8[], $16::int8[],
                       $17::text[], $18::text[], $19::int8[], $20::int8[], $21::text[],
                       $22::text[], $23::timestamptz[], $24::text[], $25::text[], $26::text[],
                       $27::text[])
    AS x(n, l0, l1, ia, ik, idem, endpoint, digest, expires, status, body, location, order_id,
         account_id, number, device_id, reference, note, key_id, user_id, name, detail, at,
         kind, created, message_id, payload)),
y AS (
  SELECT * FROM unnest($28::int4[], $29::int4[], $30::int8[], $31::text[], $32::int8[],
                       $33::text[])
    AS y(n, line_no, stock_id, sku, quantity, description)),
c AS (
  SELECT x.n, count(s.id) = count(*) AS ok
  FROM x JOIN y ON y.n = x.n
  LEFT JOIN stock s ON s.id = y.stock_id AND s.device_id = x.device_id AND s.sku = y.sku
                   AND (y.description IS NULL OR s.description = y.description)
  GROUP BY x.n),
g AS (
  SELECT x.n, CASE WHEN x.l0 IS NULL THEN NULL ELSE pg_try_advisory_xact_lock(x.l0, x.l1) END AS got
  FROM x JOIN c ON c.n = x.n AND c.ok),
i AS (
  INSERT INTO idempotency_keys (account_id, api_key_id, idem_key, endpoint, request_digest, token,
                                locked_at, expires_at, response_status, response_body,
                                response_location)
  SELECT x.ia, x.ik, x.idem, x.endpoint, x.digest, NULL, x.at, x.expires, x.status, x.body,
         x.location
  FROM x JOIN g ON g.n = x.n WHERE g.got
  ON CONFLICT (account_id, api_key_id, idem_key) DO NOTHING
  RETURNING account_id, api_key_id, idem_key),
k AS (
  SELECT x.n FROM x JOIN g ON g.n = x.n
  WHERE g.got IS NULL
     OR EXISTS (SELECT 1 FROM i WHERE i.account_id = x.ia AND i.api_key_id = x.ik
                                   AND i.idem_key = x.idem)),
o AS (
  INSERT INTO orders (id, account_id, number, device_id, status, reference, note,
                      created_by_key_id, created_by_user_id, created_by_name, created_by_detail,
                      created_at, updated_at, version)
  SELECT x.order_id, x.account_id, x.number, x.device_id, $34, x.reference, x.note, x.key_id,
         x.user_id, x.name, x.detail, x.at, x.at, 1
  FROM x JOIN k ON k.n = x.n
  RETURNING id),
l AS (
  INSERT INTO order_lines (order_id, line_no, stock_id, sku, quantity, received)
  SELECT o.id, y.line_no, y.stock_id, y.sku, y.quantity, 0
  FROM o JOIN x ON x.order_id = o.id JOIN y ON y.n = x.n
  ORDER BY y.stock_id),
e AS (
  INSERT INTO order_events (order_id, action, actor_kind, actor_name, actor_detail, at, detail)
  SELECT o.id, $35, x.kind, x.name, x.detail, x.at, x.created
  FROM o JOIN x ON x.order_id = o.id),
we AS (
  SELECT x.n, we.id AS endpoint_id
  FROM o JOIN x ON x.order_id = o.id
  JOIN webhook_endpoints we ON we.account_id = x.account_id AND we.enabled = TRUE
                           AND (' ' || we.events || ' ') LIKE $36
  JOIN api_key_devices kd ON kd.key_id = we.key_id AND kd.device_id = x.device_id
  WHERE EXISTS (SELECT 1 FROM api_keys ak WHERE ak.id = we.key_id AND ak.retired_at IS NULL)),
m AS (
  INSERT INTO webhook_messages (public_id, account_id, device_id, event_type, payload, created_at)
  SELECT x.message_id, x.account_id, x.device_id, $37, x.payload, x.at
  FROM x WHERE x.n IN (SELECT n FROM we)
  RETURNING id, public_id),
w AS (
  INSERT INTO webhook_deliveries (endpoint_id, message_id, state, attempts, next_attempt_at)
  SELECT we.endpoint_id, m.id, 'pending', 0, x.at
  FROM m JOIN x ON x.message_id = m.public_id JOIN we ON we.n = x.n)
SELECT x.n, c.ok, g.got, EXISTS (SELECT 1 FROM o WHERE o.id = x.order_id),
       EXISTS (SELECT 1 FROM m WHERE m.public_id = x.message_id)
FROM x JOIN c ON c.n = x.n LEFT JOIN g ON g.n = x.n";

/// Column by column, the values of [`WRITE_ALL`]'s `x` (one per create) and `y` (one per line).
#[derive(Default)]
struct Columns<'a> {
    n: Vec<i32>,
    l0: Vec<Option<i32>>,
    l1: Vec<Option<i32>>,
    ia: Vec<Option<i64>>,
    ik: Vec<Option<i64>>,
    idem: Vec<Option<&'a str>>,
    endpoint: Vec<Option<&'a str>>,
    digest: Vec<Option<&'a str>>,
    expires: Vec<Option<DateTime<Utc>>>,
    status: Vec<Option<i32>>,
    body: Vec<Option<&'a str>>,
    location: Vec<Option<&'a str>>,
    order_id: Vec<i64>,
    account_id: Vec<i64>,
    number: Vec<i64>,
    device_id: Vec<i64>,
    reference: Vec<Option<&'a str>>,
    note: Vec<Option<&'a str>>,
    key_id: Vec<Option<i64>>,
    user_id: Vec<Option<i64>>,
    name: Vec<&'a str>,
    detail: Vec<&'a str>,
    at: Vec<DateTime<Utc>>,
    kind: Vec<&'static str>,
    created: Vec<String>,
    message_id: Vec<String>,
    payload: Vec<String>,
    line_n: Vec<i32>,
    line_no: Vec<i32>,
    stock_id: Vec<i64>,
    sku: Vec<&'a str>,
    quantity: Vec<i64>,
    description: Vec<Option<&'a str>>,
}

impl<'a> Columns<'a> {
    fn push(&mut self, n: i32, c: &'a Create) -> Result<(), ApiError> {
        let p = &c.prepared;
        let attempt = c.attempt.as_ref();
        let lock = attempt.map(|(a, _)| idempotency::lock_id(a));
        let (key_id, user_id) = key_and_user(&c.actor);
        self.n.push(n);
        self.l0.push(lock.map(|l| l.0));
        self.l1.push(lock.map(|l| l.1));
        self.ia.push(attempt.map(|(a, _)| a.account_id));
        self.ik.push(attempt.map(|(a, _)| a.api_key_id));
        self.idem.push(attempt.map(|(a, _)| a.key.as_str()));
        self.endpoint
            .push(attempt.map(|(a, _)| a.endpoint.as_str()));
        self.digest.push(attempt.map(|(a, _)| a.digest.as_str()));
        self.expires
            .push(attempt.map(|_| c.now + idempotency::KEEP_FOR));
        self.status.push(attempt.map(|(_, s)| i32::from(s.status)));
        self.body.push(attempt.map(|(_, s)| s.body.as_str()));
        self.location
            .push(attempt.and_then(|(_, s)| s.location.as_deref()));
        self.order_id.push(p.order.id);
        self.account_id.push(c.account_id);
        self.number.push(p.number);
        self.device_id.push(c.new.device_id);
        self.reference.push(c.new.reference.as_deref());
        self.note.push(c.new.note.as_deref());
        self.key_id.push(key_id);
        self.user_id.push(user_id);
        self.name.push(c.actor.name());
        self.detail.push(c.actor.detail());
        self.at.push(c.now);
        self.kind.push(c.actor.kind());
        self.created.push(created_detail(&c.new));
        self.message_id.push(
            crate::webhooks::secrets::new_message_id()
                .map_err(|e| ApiError::Internal(format!("no randomness: {e}")))?,
        );
        self.payload.push(crate::webhooks::outbox::payload(
            EventType::OrderCreated,
            c.now,
            &serde_json::to_string(&p.order).map_err(|e| ApiError::Internal(e.to_string()))?,
        ));
        for line in p.lines() {
            self.line_n.push(n);
            self.line_no.push(line.line_no);
            self.stock_id.push(line.stock_id);
            self.sku.push(line.sku);
            self.quantity.push(line.quantity);
            self.description.push(line.description);
        }
        Ok(())
    }
}

/// How a batch's statement failed.
enum Failed {
    /// Nothing of it was written: it was never sent, or PostgreSQL refused it (a statement is its
    /// own transaction, rolled back whole).
    Nothing(ApiError),
    /// Never sent: no connection to be had. Nothing written.
    Unsent(sea_orm::DbErr),
    /// Sent, and no answer from PostgreSQL or a failure of the connection itself: it may have
    /// committed.
    Unknown(sea_orm::DbErr),
}

/// Writes the batch's creates in one statement: each one's outcome, in the batch's order, or
/// how it failed.
async fn write_all(db: &DatabaseConnection, batch: &[Job]) -> Result<Vec<Written>, Failed> {
    use sea_orm::sqlx::{self, Row as _};
    let mut cols = Columns::default();
    for (n, job) in batch.iter().enumerate() {
        cols.push(n as i32, &job.create).map_err(Failed::Nothing)?;
    }
    let rows = sqlx::query(WRITE_ALL)
        .bind(&cols.n)
        .bind(&cols.l0)
        .bind(&cols.l1)
        .bind(&cols.ia)
        .bind(&cols.ik)
        .bind(&cols.idem)
        .bind(&cols.endpoint)
        .bind(&cols.digest)
        .bind(&cols.expires)
        .bind(&cols.status)
        .bind(&cols.body)
        .bind(&cols.location)
        .bind(&cols.order_id)
        .bind(&cols.account_id)
        .bind(&cols.number)
        .bind(&cols.device_id)
        .bind(&cols.reference)
        .bind(&cols.note)
        .bind(&cols.key_id)
        .bind(&cols.user_id)
        .bind(&cols.name)
        .bind(&cols.detail)
        .bind(&cols.at)
        .bind(&cols.kind)
        .bind(&cols.created)
        .bind(&cols.message_id)
        .bind(&cols.payload)
        .bind(&cols.line_n)
        .bind(&cols.line_no)
        .bind(&cols.stock_id)
        .bind(&cols.sku)
        .bind(&cols.quantity)
        .bind(&cols.description)
        .bind(OrderStatus::Open.as_str())
        .bind(OrderAction::Created.as_str())
        .bind(crate::webhooks::outbox::wants(EventType::OrderCreated))
        .bind(EventType::OrderCreated.as_str())
        .fetch_all(db.get_postgres_connection_pool())
        .await
        .map_err(|e| {
            // A statement PostgreSQL refused is rolled back whole; a connection that failed
            // (SQLSTATE classes 08 and 57P, shutdown among them) may have failed after the commit.
            let refused = e.as_database_error().is_some_and(|d| {
                d.code()
                    .is_none_or(|c| !(c.starts_with("08") || c.starts_with("57P")))
            });
            if refused {
                Failed::Nothing(failed(e))
            } else if matches!(e, sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed) {
                Failed::Unsent(crate::db::sqlx_failed(e))
            } else {
                Failed::Unknown(crate::db::sqlx_failed(e))
            }
        })?;
    // Committed from here on: what cannot be read back is unknown to the requests, not undone.
    let unknown = |e: sqlx::Error| Failed::Unknown(crate::db::sqlx_failed(e));
    let mut outcomes: Vec<Option<Written>> = batch.iter().map(|_| None).collect();
    let mut messaged = false;
    for row in rows {
        let n: i32 = row.try_get(0).map_err(unknown)?;
        let ok: bool = row.try_get(1).map_err(unknown)?;
        let got: Option<bool> = row.try_get(2).map_err(unknown)?;
        let created: bool = row.try_get(3).map_err(unknown)?;
        messaged |= row.try_get::<bool, _>(4).map_err(unknown)?;
        let Some(i) = usize::try_from(n).ok().filter(|i| *i < batch.len()) else {
            return Err(Failed::Unknown(sea_orm::DbErr::Custom(format!(
                "a batched create numbered {n} of {}",
                batch.len()
            ))));
        };
        let keyed = batch[i].create.attempt.is_some();
        let written = match (ok, created, got) {
            (false, _, _) => Written::Stale,
            (true, true, _) => Written::Created,
            (true, false, Some(false)) if keyed => Written::InUse,
            (true, false, Some(true)) if keyed => Written::Taken,
            _ => {
                return Err(Failed::Unknown(sea_orm::DbErr::Custom(format!(
                    "a batched create came back neither written nor refused ({ok}, {got:?})"
                ))));
            }
        };
        outcomes[i] = Some(written);
    }
    if messaged {
        crate::webhooks::outbox::wake().notify_one();
    }
    outcomes
        .into_iter()
        .map(|o| {
            o.ok_or_else(|| {
                Failed::Unknown(sea_orm::DbErr::Custom(
                    "a batched create had no outcome".to_owned(),
                ))
            })
        })
        .collect()
}
