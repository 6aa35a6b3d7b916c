//! Creating an order: the rules every path shares (each SKU stocked at the device, the view
//! `POST /api/orders` answers) and two ways to write it.
//!
//! - [`create`] writes in a transaction the caller opened (SQLite, the portal's demo seed, and
//!   PostgreSQL when a key's record is held by another request): about eight statements.
//! - [`Prepared::write`] (`one_statement`) writes on PostgreSQL in one statement that is its
//!   own transaction: the `Idempotency-Key` record with its stored answer, the order, its lines
//!   and its history event, chained so that nothing is written unless the record is; creates
//!   arriving together go to PostgreSQL in one such statement (`batched`, [`Batches`]).

mod batched;
mod one_statement;

pub use batched::{Batches, Create};
pub use one_statement::{Draft, Memo, Prepared, Ready, Written, prepare, quick};

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use partlogic_entity::{order, order_line, stock};
use partlogic_types::{
    EventType, Order, OrderAction, OrderDevice, OrderEvent, OrderLine, OrderStatus, order_number,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
};

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
