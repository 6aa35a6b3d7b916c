//! Creating an order: the rules every path shares (each SKU stocked at the device, the view
//! `POST /api/orders` answers) and two ways to write it.
//!
//! - [`create`] writes in a transaction the caller opened (SQLite, the portal's demo seed, and
//!   PostgreSQL when a key's record is held by another request): about eight statements.
//! - [`Prepared::write`] writes on PostgreSQL in one statement that is its own transaction: the
//!   `Idempotency-Key` record with its stored answer, the order, its lines and its history
//!   event, chained so that nothing is written unless the record is. The profile of the
//!   transaction path showed a create spending its time in round trips and in a second commit
//!   (the claim's); this path makes two round trips (the key's record, the SKUs and the order's
//!   id; then the write) and one commit. The order's id comes from its sequence and its number from this
//!   instance's block, so the answer is known, and stored, before anything is written.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use partlogic_entity::{order, order_line, stock};
use partlogic_types::{
    EventType, Order, OrderAction, OrderDevice, OrderEvent, OrderLine, OrderStatus, order_number,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect,
};

use super::idempotency::{self, Attempt, Found, Record, Stored};
use super::numbers::Numbers;
use super::parse::NewOrder;
use super::store::{Actor, actor_view, event};
use crate::domain::field_error;
use crate::error::ApiError;

/// The stock row behind each line of `new`, by SKU (id and description), or a 422 naming each
/// line whose SKU is not stocked at the device.
fn stocked(
    new: &NewOrder,
    rows: impl IntoIterator<Item = (i64, String, String)>,
) -> Result<HashMap<String, (i64, String)>, ApiError> {
    let by_sku: HashMap<String, (i64, String)> = rows
        .into_iter()
        .map(|(id, sku, description)| (sku, (id, description)))
        .collect();
    let unknown: Vec<_> = new
        .lines
        .iter()
        .enumerate()
        .filter(|(_, l)| !by_sku.contains_key(&l.sku))
        .map(|(i, l)| {
            field_error(
                &format!("lines[{i}].sku"),
                format!("{} is not stocked at device {}", l.sku, new.device_id),
            )
        })
        .collect();
    if unknown.is_empty() {
        Ok(by_sku)
    } else {
        Err(ApiError::Validation(unknown))
    }
}

fn created_detail(new: &NewOrder) -> String {
    format!(
        "{} line{}",
        new.lines.len(),
        if new.lines.len() == 1 { "" } else { "s" }
    )
}

/// The order as `GET /api/orders/{id}` shows it right after its creation: built from what is
/// written, so nothing needs reading back.
fn view(
    id: i64,
    number: i64,
    device: &OrderDevice,
    new: &NewOrder,
    by_sku: &HashMap<String, (i64, String)>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Order {
    let actor_view = actor_view(
        actor.kind(),
        actor.name().to_owned(),
        actor.detail().to_owned(),
    );
    Order {
        id,
        number: order_number(number),
        status: OrderStatus::Open,
        device: device.clone(),
        lines: new
            .lines
            .iter()
            .map(|l| OrderLine {
                sku: l.sku.clone(),
                description: by_sku[&l.sku].1.clone(),
                quantity: l.quantity,
                received: 0,
                outstanding: l.quantity,
            })
            .collect(),
        reference: new.reference.clone(),
        note: new.note.clone(),
        created_by: actor_view.clone(),
        created_at: now,
        updated_at: now,
        events: vec![OrderEvent {
            action: OrderAction::Created,
            actor: actor_view,
            at: now,
            detail: Some(created_detail(new)),
        }],
    }
}

fn key_and_user(actor: &Actor) -> (Option<i64>, Option<i64>) {
    match actor {
        Actor::Key { id, .. } => (Some(*id), None),
        Actor::User { id, .. } => (None, Some(*id)),
    }
}

/// Creates `new` for `account_id` in the transaction `db` (its device already checked against
/// the caller's reach). An SKU not stocked at the device is a 422 naming its line; nothing is
/// written then.
pub async fn create(
    db: &impl ConnectionTrait,
    numbers: &Numbers,
    account_id: i64,
    device: &OrderDevice,
    new: &NewOrder,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(order::Model, Order), ApiError> {
    let skus: Vec<&str> = new.lines.iter().map(|l| l.sku.as_str()).collect();
    let rows: Vec<(i64, String, String)> = stock::Entity::find()
        .select_only()
        .column(stock::Column::Id)
        .column(stock::Column::Sku)
        .column(stock::Column::Description)
        .filter(stock::Column::DeviceId.eq(new.device_id))
        .filter(stock::Column::Sku.is_in(skus))
        .into_tuple()
        .all(db)
        .await?;
    let by_sku = stocked(new, rows)?;
    let number = numbers.next(db, account_id).await?;
    let (key_id, user_id) = key_and_user(actor);
    let row = order::Entity::insert(order::ActiveModel {
        account_id: Set(account_id),
        number: Set(number),
        device_id: Set(new.device_id),
        status: Set(OrderStatus::Open.as_str().to_owned()),
        reference: Set(new.reference.clone()),
        note: Set(new.note.clone()),
        created_by_key_id: Set(key_id),
        created_by_user_id: Set(user_id),
        created_by_name: Set(actor.name().to_owned()),
        created_by_detail: Set(actor.detail().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await?;
    let lines: Vec<order_line::ActiveModel> = new
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| order_line::ActiveModel {
            order_id: Set(row.id),
            line_no: Set(i as i32 + 1),
            stock_id: Set(by_sku[&l.sku].0),
            sku: Set(l.sku.clone()),
            quantity: Set(l.quantity),
            received: Set(0),
            ..Default::default()
        })
        .collect();
    order_line::Entity::insert_many(lines)
        .exec_without_returning(db)
        .await?;
    event(
        db,
        row.id,
        OrderAction::Created,
        actor,
        Some(created_detail(new)),
        now,
    )
    .await?;
    let order = view(row.id, row.number, device, new, &by_sku, actor, now);
    super::store::record_event(
        db,
        account_id,
        new.device_id,
        EventType::OrderCreated,
        &order,
        now,
    )
    .await?;
    Ok((row, order))
}

fn failed(e: sea_orm::sqlx::Error) -> ApiError {
    crate::db::sqlx_failed(e).into()
}

/// An order checked and numbered on PostgreSQL, ready for [`Prepared::write`].
#[derive(Debug)]
pub struct Prepared {
    /// What `POST /api/orders` answers once it is written.
    pub order: Order,
    /// Its number, given back ([`Numbers::put_back`]) when the order is not written.
    pub number: i64,
    /// `(line_no, stock_id, sku, quantity)` per line.
    lines: Vec<(i32, i64, String, i64)>,
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
    /// A stock row or the device went away since [`prepare`] (its foreign key failed):
    /// nothing written; prepare again.
    Gone,
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
#[allow(clippy::too_many_arguments)]
pub async fn prepare(
    db: &DatabaseConnection,
    numbers: &Numbers,
    account_id: i64,
    device: &OrderDevice,
    new: &NewOrder,
    actor: &Actor,
    attempt: Option<&Attempt>,
    now: DateTime<Utc>,
) -> Result<Ready, ApiError> {
    use sea_orm::sqlx::{self, Row as _};
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
    let number = numbers.reserve(db, account_id).await?;
    let lines = new
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| (i as i32 + 1, by_sku[&l.sku].0, l.sku.clone(), l.quantity))
        .collect();
    Ok(Ready::Write(Box::new(Prepared {
        order: view(id, number, device, new, &by_sku, actor, now),
        number,
        lines,
    })))
}

/// The write of [`Prepared::write`]. `g` says whether the key's advisory lock was taken and `i`
/// yields one row when the key's record was inserted: every later insert selects from what
/// came before it, so nothing is written unless the record is. The `order.created` webhook
/// event (`m`, `w`) is written only when an endpoint wants it (`we`), as the outbox would. Without a key, `g` and `i` are
/// constant.
const WRITE_WITH_KEY: &str = "\
WITH g AS (SELECT pg_try_advisory_xact_lock($1, $2) AS got),
i AS (
  INSERT INTO idempotency_keys (account_id, api_key_id, idem_key, endpoint, request_digest, token,
                                locked_at, expires_at, response_status, response_body,
                                response_location)
  SELECT $3, $4, $5, $6, $7, NULL, $8, $9, $10, $11, $12 FROM g WHERE g.got
  ON CONFLICT (account_id, api_key_id, idem_key) DO NOTHING
  RETURNING id),";
const WRITE_WITHOUT_KEY: &str = "\
WITH g AS (SELECT $1::int4 IS NULL AND $2::int4 IS NULL AS got),
i AS (SELECT $3::int8, $4::int8, $5::text, $6::text, $7::text, $8::timestamptz,
             $9::timestamptz, $10::int4, $11::text, $12::text FROM g),";
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
SELECT (SELECT got FROM g), EXISTS (SELECT 1 FROM o), EXISTS (SELECT 1 FROM m)";

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
            "{}{WRITE_ORDER}",
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
