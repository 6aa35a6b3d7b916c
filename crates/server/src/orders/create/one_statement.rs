//! Creating an order on PostgreSQL in one statement that is its own transaction: the
//! `Idempotency-Key` record with its stored answer, the order, its lines and its history event,
//! chained so that nothing is written unless the record is. The order's id and number are known
//! before anything is written (ids and numbers come from this instance's blocks), so its answer
//! is stored in the same statement.
//!
//! Two ways to get there:
//! - [`quick`]: one round trip. The SKUs' stock rows come from this instance's [`Memo`], and the
//!   write itself checks that each is still stocked at the device with that description; when
//!   one is not, nothing is written ([`Written::Stale`]) and the create goes the other way.
//! - [`prepare`]: reads the SKUs' stock rows, an id and the key's record first (two round
//!   trips), and refuses unknown SKUs.
//!
//! Why: with two cores shared by wrk, the server and PostgreSQL, a create's cost was mostly
//! its statements' round trips on loopback (the server's `send` alone took half its CPU, and
//! PostgreSQL's executor start as much as its execution).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use partlogic_types::{EventType, Order, OrderAction, OrderDevice, OrderStatus};
use sea_orm::DatabaseConnection;

use super::{created_detail, failed, key_and_user, stocked, view};
use crate::error::ApiError;
use crate::orders::idempotency::{self, Attempt, Found, Record, Stored};
use crate::orders::numbers::{Numbers, Pace};
use crate::orders::parse::NewOrder;
use crate::orders::store::Actor;

/// How long drawn ids stay usable. Listings go newest first by id: an id drawn long before it is
/// used would put a new order below older ones, so ids older than this are dropped (a gap in
/// ids, which nobody sees) and new ones drawn.
const ID_FRESH_FOR: Duration = Duration::from_secs(1);

/// A block of ids lasting longer than this makes the next one half the size: at a rate that
/// would leave most of a block to go stale, blocks shrink back to the smallest.
const IDS_LAST: Duration = Duration::from_millis(500);

/// How many `(device, SKU)` stock rows [`Memo`] keeps before it starts again from empty.
const MEMO_ROWS: usize = 10_000;

/// What this instance remembers so that most creates are one round trip ([`quick`]): the
/// stock row (id and description) of each `(device, SKU)` a create found, and order ids drawn
/// ahead from the sequence, in blocks paced as order numbers are ([`Pace`]). Nothing here is
/// trusted: the write checks every stock row again.
#[derive(Debug, Default)]
pub struct Memo {
    stock: Mutex<HashMap<(i64, String), (i64, String)>>,
    ids: Mutex<Ids>,
    /// One draw at a time by creates that found no id left.
    draw: tokio::sync::Mutex<()>,
}

/// Order ids drawn and not handed out yet.
#[derive(Debug)]
struct Ids {
    /// Lowest first, each with when it was drawn.
    ready: VecDeque<(i64, Instant)>,
    pace: Pace,
    /// A create is drawing the next block already.
    ahead: bool,
}

impl Default for Ids {
    fn default() -> Ids {
        Ids {
            ready: VecDeque::new(),
            pace: Pace::new(IDS_LAST),
            ahead: false,
        }
    }
}

/// Clears the "drawing ahead" mark however the draw ends.
struct Ahead(Arc<Memo>);

impl Drop for Ahead {
    fn drop(&mut self) {
        self.0.ids().ahead = false;
    }
}

impl Memo {
    fn ids(&self) -> std::sync::MutexGuard<'_, Ids> {
        self.ids.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn remember(&self, device_id: i64, by_sku: &HashMap<String, (i64, String)>) {
        let mut stock = self.stock.lock().unwrap_or_else(|e| e.into_inner());
        if stock.len() + by_sku.len() > MEMO_ROWS {
            stock.clear();
        }
        for (sku, row) in by_sku {
            stock.insert((device_id, sku.clone()), row.clone());
        }
    }

    /// Each line's stock row at `new`'s device, if every one is remembered.
    fn recall(&self, new: &NewOrder) -> Option<HashMap<String, (i64, String)>> {
        let stock = self.stock.lock().unwrap_or_else(|e| e.into_inner());
        new.lines
            .iter()
            .map(|l| {
                stock
                    .get(&(new.device_id, l.sku.clone()))
                    .map(|row| (l.sku.clone(), row.clone()))
            })
            .collect()
    }

    /// Forgets the device's stock rows (one of them changed or went away).
    pub fn forget(&self, device_id: i64) {
        self.stock
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(device, _), _| *device != device_id);
    }

    /// The lowest fresh id, and whether the caller should draw the next block now (fewer than
    /// half of this one left, nobody drawing yet).
    fn take_id(&self) -> Option<(i64, bool)> {
        let mut ids = self.ids();
        while ids
            .ready
            .front()
            .is_some_and(|(_, drawn)| drawn.elapsed() > ID_FRESH_FOR)
        {
            ids.ready.pop_front();
        }
        let (id, _) = ids.ready.pop_front()?;
        let ahead = !ids.ahead && ids.pace.low(ids.ready.len() as i64);
        if ahead {
            ids.ahead = true;
        }
        Some((id, ahead))
    }

    /// Draws a block of ids from the orders' sequence.
    async fn draw_ids(&self, db: &DatabaseConnection) -> Result<(), ApiError> {
        use sea_orm::sqlx::{self, Row as _};
        let size = self.ids().pace.next();
        let rows = sqlx::query("SELECT nextval('orders_id_seq') FROM generate_series(1, $1)")
            .bind(size)
            .fetch_all(db.get_postgres_connection_pool())
            .await
            .map_err(failed)?;
        let drawn = rows
            .iter()
            .map(|r| r.try_get::<i64, _>(0))
            .collect::<Result<Vec<_>, _>>()
            .map_err(failed)?;
        let now = Instant::now();
        let mut ids = self.ids();
        ids.ready.extend(drawn.into_iter().map(|id| (id, now)));
        // Lowest first, whichever of two draws ended first.
        ids.ready.make_contiguous().sort_unstable();
        Ok(())
    }

    /// An order id from this instance's blocks; when a create leaves fewer than half of a
    /// block, the next one is drawn in a task of its own, so that nobody waits for it.
    async fn next_id(self: &Arc<Self>, db: &DatabaseConnection) -> Result<i64, ApiError> {
        loop {
            if let Some((id, ahead)) = self.take_id() {
                if ahead {
                    let (mark, db) = (Ahead(self.clone()), db.clone());
                    tokio::spawn(async move {
                        // A failure costs no order anything: the next to run short draws.
                        if let Err(e) = mark.0.draw_ids(&db).await {
                            tracing::debug!(error = %e, "drawing order ids ahead failed");
                        }
                        drop(mark);
                    });
                }
                return Ok(id);
            }
            let _one = self.draw.lock().await;
            let empty = self.ids().ready.is_empty();
            if empty {
                self.draw_ids(db).await?;
            }
        }
    }
}

/// An order to create: for `account_id`, at `device` (already checked against the caller's
/// reach), by `actor`, at `now`.
#[derive(Debug, Clone, Copy)]
pub struct Draft<'a> {
    /// The account it is for.
    pub account_id: i64,
    /// Its device, within the caller's reach.
    pub device: &'a OrderDevice,
    /// What was asked for.
    pub new: &'a NewOrder,
    /// Who asks.
    pub actor: &'a Actor,
    /// When.
    pub now: DateTime<Utc>,
}

/// One round trip's worth of preparation: the order checked against what `memo` remembers of
/// its device's stock and numbered, or `None` when a line's stock row is not remembered (then
/// [`prepare`] it). The write checks the remembered rows again.
pub async fn quick(
    db: &DatabaseConnection,
    numbers: &Arc<Numbers>,
    memo: &Arc<Memo>,
    draft: Draft<'_>,
) -> Result<Option<Box<Prepared>>, ApiError> {
    let Some(by_sku) = memo.recall(draft.new) else {
        return Ok(None);
    };
    let id = memo.next_id(db).await?;
    let number = numbers.reserve(db, draft.account_id).await?;
    Ok(Some(Box::new(Prepared::new(
        true, id, number, draft, &by_sku,
    ))))
}

/// An order checked and numbered on PostgreSQL, ready for [`Prepared::write`].
#[derive(Debug)]
pub struct Prepared {
    /// What `POST /api/orders` answers once it is written.
    pub order: Order,
    /// Its number, given back ([`Numbers::put_back`]) when the order is not written.
    pub number: i64,
    /// `(line_no, stock_id, sku, quantity, description)` per line: the write checks that each
    /// stock row is still at the device with that SKU (and, when [`Prepared::remembered`], that
    /// description).
    lines: Vec<(i32, i64, String, i64, String)>,
    /// Built from [`Memo`]: the descriptions in the answer may be out of date, so the write
    /// checks them. Read just before, they are written as read (as they would be in a
    /// transaction), however often an import changes them.
    remembered: bool,
}

impl Prepared {
    fn new(
        remembered: bool,
        id: i64,
        number: i64,
        draft: Draft<'_>,
        by_sku: &HashMap<String, (i64, String)>,
    ) -> Prepared {
        let Draft {
            device,
            new,
            actor,
            now,
            ..
        } = draft;
        let lines = new
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let (stock_id, description) = &by_sku[&l.sku];
                (
                    i as i32 + 1,
                    *stock_id,
                    l.sku.clone(),
                    l.quantity,
                    description.clone(),
                )
            })
            .collect();
        Prepared {
            order: view(id, number, device, new, by_sku, actor, now),
            number,
            lines,
            remembered,
        }
    }
}

/// One line of a [`Prepared`] order as its write binds it.
pub(super) struct LineRow<'a> {
    pub line_no: i32,
    pub stock_id: i64,
    pub sku: &'a str,
    pub quantity: i64,
    /// The description the answer shows, to be checked by the write: only when it came from
    /// [`Memo`].
    pub description: Option<&'a str>,
}

impl Prepared {
    /// Its lines, as the write binds them.
    pub(super) fn lines(&self) -> impl Iterator<Item = LineRow<'_>> {
        self.lines.iter().map(|l| LineRow {
            line_no: l.0,
            stock_id: l.1,
            sku: &l.2,
            quantity: l.3,
            description: self.remembered.then_some(l.4.as_str()),
        })
    }
}

/// How [`Prepared::write`] ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Written {
    /// The order and its record are committed.
    Created,
    /// Another request holds the `Idempotency-Key` right now: nothing written.
    InUse,
    /// A record for the key appeared since it was looked at: nothing written; look again.
    Taken,
    /// A stock row or the device went away since it was read (its foreign key failed):
    /// nothing written; prepare again.
    Gone,
    /// A stock row is no longer what was read or remembered (another SKU or description, or
    /// another device): nothing written; prepare again.
    Stale,
}

/// What [`prepare`] found.
#[derive(Debug)]
pub enum Ready {
    /// The order, checked and numbered: [`Prepared::write`] it.
    Write(Box<Prepared>),
    /// The request's `Idempotency-Key` has a record: this is what it means.
    Recorded(Found),
}

/// The first round trip of a create on PostgreSQL: each SKU's stock row at the device, an id
/// from the orders' sequence, and the record of the request's `Idempotency-Key` if it has one.
const PREPARE: &str = "\
SELECT nextval('orders_id_seq'), st.ids, st.skus, st.descriptions,
       k.endpoint, k.request_digest, k.expires_at, k.response_status, k.response_body,
       k.response_location
FROM (SELECT coalesce(array_agg(s.id), '{}') AS ids, coalesce(array_agg(s.sku), '{}') AS skus,
             coalesce(array_agg(s.description), '{}') AS descriptions
      FROM stock s WHERE s.device_id = $1 AND s.sku = ANY($2)) AS st
LEFT JOIN idempotency_keys k ON k.account_id = $3 AND k.api_key_id = $4 AND k.idem_key = $5";

/// On PostgreSQL with numbers in blocks ([`Numbers::in_blocks`]), in one round trip: the
/// record of `attempt`'s key if there is one (then nothing else matters), else each SKU checked
/// as stocked at the device, an id from the sequence and a number from this instance's block.
pub async fn prepare(
    db: &DatabaseConnection,
    numbers: &Arc<Numbers>,
    memo: &Memo,
    draft: Draft<'_>,
    attempt: Option<&Attempt>,
) -> Result<Ready, ApiError> {
    use sea_orm::sqlx::{self, Row as _};
    let (new, now) = (draft.new, draft.now);
    let skus: Vec<&str> = new.lines.iter().map(|l| l.sku.as_str()).collect();
    // One row however many SKUs match. The id is drawn even when it is not used (a refusal, a
    // replay): a gap in ids, which nobody sees; numbers, which people see, have none for that.
    let row = sqlx::query(PREPARE)
        .bind(new.device_id)
        .bind(&skus)
        .bind(attempt.map(|a| a.account_id))
        .bind(attempt.map(|a| a.api_key_id))
        .bind(attempt.map(|a| a.key.as_str()))
        .fetch_one(db.get_postgres_connection_pool())
        .await
        .map_err(failed)?;
    if let Some(attempt) = attempt
        && let Some(endpoint) = row.try_get::<Option<String>, _>(4).map_err(failed)?
    {
        let record = Record {
            endpoint,
            request_digest: row.try_get(5).map_err(failed)?,
            expires_at: row.try_get(6).map_err(failed)?,
            response_status: row.try_get(7).map_err(failed)?,
            response_body: row.try_get(8).map_err(failed)?,
            response_location: row.try_get(9).map_err(failed)?,
        };
        return Ok(Ready::Recorded(record.judge(attempt, now)));
    }
    let id: i64 = row.try_get(0).map_err(failed)?;
    let ids: Vec<i64> = row.try_get(1).map_err(failed)?;
    let found: Vec<String> = row.try_get(2).map_err(failed)?;
    let descriptions: Vec<String> = row.try_get(3).map_err(failed)?;
    let by_sku = stocked(
        new,
        ids.into_iter()
            .zip(found)
            .zip(descriptions)
            .map(|((id, sku), d)| (id, sku, d)),
    )?;
    memo.remember(new.device_id, &by_sku);
    let number = numbers.reserve(db, draft.account_id).await?;
    Ok(Ready::Write(Box::new(Prepared::new(
        false, id, number, draft, &by_sku,
    ))))
}

/// The write of [`Prepared::write`]. `c` says whether each line's stock row is still at the
/// device with the SKU and description the answer shows, `g` whether the key's advisory lock
/// was taken, and `i` yields one row when both hold and the key's record was inserted: every
/// later insert selects from what came before it, so nothing is written unless the record is.
/// The `order.created` webhook event (`m`, `w`) is written only when an endpoint wants it
/// (`we`), as the outbox would. Without a key, `g` is constant and `i` depends on `c` alone.
const CHECK_STOCK: &str = "\
WITH c AS (SELECT count(*) = cardinality($26::int8[]) AS ok
  FROM unnest($26::int8[], $27::text[], $36::text[]) AS x(id, sku, description)
  JOIN stock s ON s.id = x.id AND s.device_id = $16 AND s.sku = x.sku
                  AND (x.description IS NULL OR s.description = x.description)),
";
const WRITE_WITH_KEY: &str = "\
g AS (SELECT pg_try_advisory_xact_lock($1, $2) AS got),
i AS (
  INSERT INTO idempotency_keys (account_id, api_key_id, idem_key, endpoint, request_digest, token,
                                locked_at, expires_at, response_status, response_body,
                                response_location)
  SELECT $3, $4, $5, $6, $7, NULL, $8, $9, $10, $11, $12 FROM g, c WHERE g.got AND c.ok
  ON CONFLICT (account_id, api_key_id, idem_key) DO NOTHING
  RETURNING id),";
const WRITE_WITHOUT_KEY: &str = "\
g AS (SELECT $1::int4 IS NULL AND $2::int4 IS NULL AS got),
i AS (SELECT $3::int8, $4::int8, $5::text, $6::text, $7::text, $8::timestamptz,
             $9::timestamptz, $10::int4, $11::text, $12::text FROM g, c WHERE c.ok),";
const WRITE_ORDER: &str = "
o AS (
  INSERT INTO orders (id, account_id, number, device_id, status, reference, note,
                      created_by_key_id, created_by_user_id, created_by_name, created_by_detail,
                      created_at, updated_at, version)
  SELECT $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $24, 1 FROM i
  RETURNING id),
l AS (
  INSERT INTO order_lines (order_id, line_no, stock_id, sku, quantity, received)
  SELECT o.id, v.n, v.stock_id, v.sku, v.quantity, 0
  FROM o, unnest($25::int4[], $26::int8[], $27::text[], $28::int8[]) AS v(n, stock_id, sku, quantity)),
e AS (
  INSERT INTO order_events (order_id, action, actor_kind, actor_name, actor_detail, at, detail)
  SELECT o.id, $29, $30, $22, $23, $24, $31 FROM o),
we AS (
  SELECT we.id FROM webhook_endpoints we
  JOIN api_key_devices kd ON kd.key_id = we.key_id AND kd.device_id = $16
  WHERE we.account_id = $14 AND we.enabled = TRUE AND (' ' || we.events || ' ') LIKE $34
    AND EXISTS (SELECT 1 FROM api_keys k WHERE k.id = we.key_id AND k.retired_at IS NULL)),
m AS (
  INSERT INTO webhook_messages (public_id, account_id, device_id, event_type, payload, created_at)
  SELECT $32, $14, $16, $35, $33, $24 FROM o WHERE EXISTS (SELECT 1 FROM we)
  RETURNING id),
w AS (
  INSERT INTO webhook_deliveries (endpoint_id, message_id, state, attempts, next_attempt_at)
  SELECT we.id, m.id, 'pending', 0, $24 FROM m, we)
SELECT (SELECT got FROM g), EXISTS (SELECT 1 FROM o), EXISTS (SELECT 1 FROM m), (SELECT ok FROM c)";

impl Prepared {
    /// Writes the order for `account_id` and, when the request carried a key (`attempt`), its
    /// record holding `answer`, in one statement: all of it commits or none.
    ///
    /// A concurrent request with the same key either holds its advisory lock ([`Written::InUse`])
    /// or committed its record first ([`Written::Taken`]); the unique index on the records
    /// decides in the end, across instances.
    #[allow(clippy::too_many_arguments)]
    pub async fn write(
        &self,
        db: &DatabaseConnection,
        account_id: i64,
        new: &NewOrder,
        actor: &Actor,
        attempt: Option<(&Attempt, &Stored)>,
        now: DateTime<Utc>,
    ) -> Result<Written, ApiError> {
        use sea_orm::sqlx::{self, Row as _};
        let (key_id, user_id) = key_and_user(actor);
        let (lock, idem) = match attempt {
            Some((a, _)) => (Some(idempotency::lock_id(a)), Some(a)),
            None => (None, None),
        };
        let text = format!(
            "{CHECK_STOCK}{}{WRITE_ORDER}",
            if attempt.is_some() {
                WRITE_WITH_KEY
            } else {
                WRITE_WITHOUT_KEY
            }
        );
        let stored = attempt.map(|(_, s)| s);
        let event = crate::webhooks::outbox::payload(
            EventType::OrderCreated,
            now,
            &serde_json::to_string(&self.order).map_err(|e| ApiError::Internal(e.to_string()))?,
        );
        let message_id = crate::webhooks::secrets::new_message_id()
            .map_err(|e| ApiError::Internal(format!("no randomness: {e}")))?;
        let row = sqlx::query(sqlx::AssertSqlSafe(text))
            .bind(lock.map(|l| l.0))
            .bind(lock.map(|l| l.1))
            .bind(idem.map(|a| a.account_id))
            .bind(idem.map(|a| a.api_key_id))
            .bind(idem.map(|a| a.key.as_str()))
            .bind(idem.map(|a| a.endpoint.as_str()))
            .bind(idem.map(|a| a.digest.as_str()))
            .bind(idem.map(|_| now))
            .bind(idem.map(|_| now + idempotency::KEEP_FOR))
            .bind(stored.map(|s| i32::from(s.status)))
            .bind(stored.map(|s| s.body.as_str()))
            .bind(stored.and_then(|s| s.location.as_deref()))
            .bind(self.order.id)
            .bind(account_id)
            .bind(self.number)
            .bind(new.device_id)
            .bind(OrderStatus::Open.as_str())
            .bind(new.reference.as_deref())
            .bind(new.note.as_deref())
            .bind(key_id)
            .bind(user_id)
            .bind(actor.name())
            .bind(actor.detail())
            .bind(now)
            .bind(self.lines.iter().map(|l| l.0).collect::<Vec<i32>>())
            .bind(self.lines.iter().map(|l| l.1).collect::<Vec<i64>>())
            .bind(
                self.lines
                    .iter()
                    .map(|l| l.2.as_str())
                    .collect::<Vec<&str>>(),
            )
            .bind(self.lines.iter().map(|l| l.3).collect::<Vec<i64>>())
            .bind(OrderAction::Created.as_str())
            .bind(actor.kind())
            .bind(created_detail(new))
            .bind(&message_id)
            .bind(&event)
            .bind(crate::webhooks::outbox::wants(EventType::OrderCreated))
            .bind(EventType::OrderCreated.as_str())
            .bind(self.remembered.then(|| {
                self.lines
                    .iter()
                    .map(|l| l.4.as_str())
                    .collect::<Vec<&str>>()
            }))
            .fetch_one(db.get_postgres_connection_pool())
            .await;
        let row = match row {
            // Only these two: the order's account going away is no reason to try again.
            Err(e)
                if e.as_database_error()
                    .and_then(|d| d.constraint())
                    .is_some_and(|c| {
                        c == "order_lines_stock_id_fkey" || c == "orders_device_id_fkey"
                    }) =>
            {
                return Ok(Written::Gone);
            }
            other => other.map_err(failed)?,
        };
        let got: bool = row.try_get(0).map_err(failed)?;
        if !row.try_get::<bool, _>(3).map_err(failed)? {
            return Ok(Written::Stale);
        }
        let created: bool = row.try_get(1).map_err(failed)?;
        if row.try_get::<bool, _>(2).map_err(failed)? {
            crate::webhooks::outbox::wake().notify_one();
        }
        Ok(match (got, created) {
            (_, true) => Written::Created,
            (false, false) => Written::InUse,
            (true, false) => Written::Taken,
        })
    }
}
