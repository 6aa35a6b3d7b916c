//! Orders in the database, behind names: create, find, list, receive, cancel, and the view
//! `GET /api/orders/{id}` shows. Every function is told which devices its caller reaches (a
//! key's reach, or the devices a portal user sees): an order of any other device does not exist
//! for that caller.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use partlogic_entity::{customer, device, order, order_event, order_line, stock};
use partlogic_types::{
    EventType, Order, OrderAction, OrderActor, OrderDevice, OrderEvent, OrderLine, OrderStatus,
    order_number,
};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use super::parse::Receipt;
use crate::domain::field_error;
use crate::error::ApiError;

/// Who acts on an order.
#[derive(Debug, Clone)]
pub enum Actor {
    /// An API key.
    Key {
        /// Its id.
        id: i64,
        /// Its name.
        name: String,
        /// Its display prefix.
        prefix: String,
    },
    /// A portal user.
    User {
        /// Their id.
        id: i64,
        /// Their name.
        name: String,
        /// Their email.
        email: String,
    },
}

impl Actor {
    pub(super) fn kind(&self) -> &'static str {
        match self {
            Actor::Key { .. } => "key",
            Actor::User { .. } => "user",
        }
    }

    pub(super) fn name(&self) -> &str {
        match self {
            Actor::Key { name, .. } | Actor::User { name, .. } => name,
        }
    }

    pub(super) fn detail(&self) -> &str {
        match self {
            Actor::Key { prefix, .. } => prefix,
            Actor::User { email, .. } => email,
        }
    }
}

pub(super) fn actor_view(kind: &str, name: String, detail: String) -> OrderActor {
    if kind == "user" {
        OrderActor::User {
            name,
            email: detail,
        }
    } else {
        OrderActor::Key {
            name,
            prefix: detail,
        }
    }
}

pub(super) async fn event(
    db: &impl ConnectionTrait,
    order_id: i64,
    action: OrderAction,
    actor: &Actor,
    detail: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    order_event::Entity::insert(order_event::ActiveModel {
        order_id: Set(order_id),
        action: Set(action.as_str().to_owned()),
        actor_kind: Set(actor.kind().to_owned()),
        actor_name: Set(actor.name().to_owned()),
        actor_detail: Set(actor.detail().to_owned()),
        at: Set(now),
        detail: Set(detail),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Order `id` if it is one of `devices`' (and so exists for this caller).
pub async fn find(
    db: &impl ConnectionTrait,
    devices: &[i64],
    id: i64,
) -> Result<Option<order::Model>, ApiError> {
    let Some(o) = order::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    Ok(devices.contains(&o.device_id).then_some(o))
}

/// Like [`find`], locking the order's row until the transaction ends (PostgreSQL; SQLite's
/// write transaction holds the whole database already), so that concurrent receipts and
/// cancellations of one order queue and each sees the one before it, instead of one winning
/// and the others failing on a version they never chose.
pub async fn find_for_update(
    db: &impl ConnectionTrait,
    devices: &[i64],
    id: i64,
) -> Result<Option<order::Model>, ApiError> {
    let mut q = order::Entity::find_by_id(id);
    if db.get_database_backend() == DbBackend::Postgres {
        q = q.lock_exclusive();
    }
    let Some(o) = q.one(db).await? else {
        return Ok(None);
    };
    Ok(devices.contains(&o.device_id).then_some(o))
}

/// Filters of an order listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilters {
    /// Only this status.
    pub status: Option<OrderStatus>,
    /// Only these devices (each within the caller's reach).
    pub devices: Vec<i64>,
    /// Only orders with this reference.
    pub reference: Option<String>,
    /// Only orders created at or after this.
    pub created_since: Option<DateTime<Utc>>,
    /// Only orders older (smaller id) than this: the keyset cursor.
    pub before: Option<i64>,
    /// Page size.
    pub limit: u64,
}

/// Orders of `devices` matching `f`, newest first, one more than the page to tell whether
/// another page follows.
pub async fn list(
    db: &impl ConnectionTrait,
    devices: &[i64],
    f: &ListFilters,
) -> Result<Vec<order::Model>, ApiError> {
    let scope: Vec<i64> = if f.devices.is_empty() {
        devices.to_vec()
    } else {
        f.devices.clone()
    };
    if scope.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = order::Entity::find().filter(order::Column::DeviceId.is_in(scope));
    if let Some(s) = f.status {
        q = q.filter(order::Column::Status.eq(s.as_str()));
    }
    if let Some(r) = &f.reference {
        q = q.filter(order::Column::Reference.eq(r.as_str()));
    }
    if let Some(t) = f.created_since {
        q = q.filter(order::Column::CreatedAt.gte(t));
    }
    if let Some(b) = f.before {
        q = q.filter(order::Column::Id.lt(b));
    }
    Ok(q.order_by_desc(order::Column::Id)
        .limit(f.limit + 1)
        .all(db)
        .await?)
}

fn query(devices: &[i64], f: &ListFilters) -> crate::db::store::OrdersQuery {
    crate::db::store::OrdersQuery {
        devices: if f.devices.is_empty() {
            devices.to_vec()
        } else {
            f.devices.clone()
        },
        status: f.status.map(|s| s.as_str().to_owned()),
        reference: f.reference.clone(),
        created_since: f.created_since,
        before: f.before,
        // One more than the page: whether there are more.
        limit: f.limit + 1,
    }
}

/// Like [`page`], as the JSON `GET /api/orders` answers, encoded as it is read (SQLite; `None`
/// on PostgreSQL: use [`page`]). `device` writes a device's JSON.
pub fn page_json(
    store: &crate::db::store::Store,
    devices: &[i64],
    f: &ListFilters,
    device: crate::db::store::DeviceJson<'_>,
) -> Result<Option<crate::db::store::JsonPage>, ApiError> {
    Ok(store.orders_json(&query(devices, f), device)?)
}

/// A page of orders of `devices` matching `f`, newest first, and the id to continue before
/// when more follow. `device` names a device (the caller knows its own). On SQLite the page is
/// read through the store (rusqlite), elsewhere through the pool.
pub async fn page(
    store: &crate::db::store::Store,
    db: &impl ConnectionTrait,
    devices: &[i64],
    f: &ListFilters,
    device: impl Fn(i64) -> OrderDevice,
) -> Result<(Vec<Order>, Option<i64>), ApiError> {
    let query = query(devices, f);
    let limit = usize::try_from(f.limit).unwrap_or(usize::MAX);
    let mut orders = match store.orders(&query)? {
        Some(raw) => raw
            .into_iter()
            .map(|r| from_raw(r, &device))
            .collect::<Vec<_>>(),
        None => {
            let mut rows = list(db, devices, f).await?;
            let more = rows.len() > limit;
            rows.truncate(limit + usize::from(more));
            views(db, rows).await?
        }
    };
    let next = if orders.len() > limit {
        orders.truncate(limit);
        orders.last().map(|o| o.id)
    } else {
        None
    };
    Ok((orders, next))
}

fn from_raw(r: crate::db::store::RawOrder, device: &impl Fn(i64) -> OrderDevice) -> Order {
    Order {
        id: r.id,
        number: order_number(r.number),
        status: OrderStatus::parse(&r.status).unwrap_or(OrderStatus::Open),
        device: device(r.device_id),
        lines: r
            .lines
            .into_iter()
            .map(|(sku, description, quantity, received)| OrderLine {
                sku,
                description,
                quantity,
                received,
                outstanding: quantity - received,
            })
            .collect(),
        reference: r.reference,
        note: r.note,
        created_by: actor_view(
            if r.created_by_user { "user" } else { "key" },
            r.created_by_name,
            r.created_by_detail,
        ),
        created_at: r.created_at,
        updated_at: r.updated_at,
        events: r
            .events
            .into_iter()
            .map(|(action, kind, name, detail, at, what)| OrderEvent {
                action: OrderAction::parse(&action).unwrap_or(OrderAction::Created),
                actor: actor_view(&kind, name, detail),
                at,
                detail: what,
            })
            .collect(),
    }
}

/// The views of `orders` (lines, device and history loaded in three queries for all of them).
pub async fn views(
    db: &impl ConnectionTrait,
    orders: Vec<order::Model>,
) -> Result<Vec<Order>, ApiError> {
    if orders.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = orders.iter().map(|o| o.id).collect();
    let device_ids: Vec<i64> = orders.iter().map(|o| o.device_id).collect();
    let lines = order_line::Entity::find()
        .filter(order_line::Column::OrderId.is_in(ids.clone()))
        .order_by_asc(order_line::Column::OrderId)
        .order_by_asc(order_line::Column::LineNo)
        .all(db)
        .await?;
    let stock_ids: std::collections::BTreeSet<i64> = lines.iter().map(|l| l.stock_id).collect();
    let descriptions: HashMap<i64, String> = stock::Entity::find()
        .select_only()
        .column(stock::Column::Id)
        .column(stock::Column::Description)
        .filter(stock::Column::Id.is_in(stock_ids))
        .into_tuple::<(i64, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let events = order_event::Entity::find()
        .filter(order_event::Column::OrderId.is_in(ids))
        .order_by_asc(order_event::Column::Id)
        .all(db)
        .await?;
    let devices: Vec<(i64, String, String)> = device::Entity::find()
        .select_only()
        .column(device::Column::Id)
        .column(device::Column::Name)
        .column_as(customer::Column::Name, "customer_name")
        .join(
            sea_orm::JoinType::InnerJoin,
            <device::Relation as sea_orm::RelationTrait>::def(&device::Relation::Customer),
        )
        .filter(device::Column::Id.is_in(device_ids))
        .into_tuple()
        .all(db)
        .await?;
    let devices: HashMap<i64, OrderDevice> = devices
        .into_iter()
        .map(|(id, name, customer)| (id, OrderDevice { id, name, customer }))
        .collect();
    let mut lines_of: HashMap<i64, Vec<OrderLine>> = HashMap::new();
    for l in lines {
        lines_of.entry(l.order_id).or_default().push(OrderLine {
            description: descriptions.get(&l.stock_id).cloned().unwrap_or_default(),
            outstanding: l.quantity - l.received,
            sku: l.sku,
            quantity: l.quantity,
            received: l.received,
        });
    }
    let mut events_of: HashMap<i64, Vec<OrderEvent>> = HashMap::new();
    for e in events {
        let action = OrderAction::parse(&e.action).unwrap_or(OrderAction::Created);
        events_of.entry(e.order_id).or_default().push(OrderEvent {
            action,
            actor: actor_view(&e.actor_kind, e.actor_name, e.actor_detail),
            at: e.at,
            detail: e.detail,
        });
    }
    Ok(orders
        .into_iter()
        .map(|o| Order {
            id: o.id,
            number: order_number(o.number),
            status: OrderStatus::parse(&o.status).unwrap_or(OrderStatus::Open),
            device: devices.get(&o.device_id).cloned().unwrap_or(OrderDevice {
                id: o.device_id,
                name: String::new(),
                customer: String::new(),
            }),
            lines: lines_of.remove(&o.id).unwrap_or_default(),
            reference: o.reference,
            note: o.note,
            created_by: actor_view(
                if o.created_by_user_id.is_some() {
                    "user"
                } else {
                    "key"
                },
                o.created_by_name,
                o.created_by_detail,
            ),
            created_at: o.created_at,
            updated_at: o.updated_at,
            events: events_of.remove(&o.id).unwrap_or_default(),
        })
        .collect())
}

/// One order's view.
pub async fn view(db: &impl ConnectionTrait, o: order::Model) -> Result<Order, ApiError> {
    views(db, vec![o])
        .await?
        .pop()
        .ok_or(ApiError::NotFound("order"))
}

fn require_open(o: &order::Model) -> Result<(), ApiError> {
    match OrderStatus::parse(&o.status) {
        Some(OrderStatus::Open) => Ok(()),
        Some(OrderStatus::Received) => {
            Err(ApiError::OrderNotOpen(order_number(o.number), "received"))
        }
        _ => Err(ApiError::OrderNotOpen(order_number(o.number), "cancelled")),
    }
}

/// Moves the order from `version` on (the caller's `If-Match`, or the version it just read):
/// a concurrent change makes this fail with 412, and nothing is written.
async fn bump(
    db: &impl ConnectionTrait,
    o: &order::Model,
    status: OrderStatus,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let done = order::Entity::update_many()
        .col_expr(order::Column::Status, Expr::value(status.as_str()))
        .col_expr(order::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            order::Column::Version,
            Expr::col(order::Column::Version).add(1),
        )
        .filter(order::Column::Id.eq(o.id))
        .filter(order::Column::Version.eq(o.version))
        .exec(db)
        .await?;
    if done.rows_affected == 1 {
        Ok(())
    } else {
        Err(ApiError::PreconditionFailed)
    }
}

/// Receives `receipt` on `o`: each quantity at most what is outstanding on its line (422 naming
/// the line otherwise), added to the row's `Physical` through the one stock writer (so a row
/// back at its minimum records its `restocked` alert), all in the caller's transaction. The
/// order becomes `received` when nothing is outstanding.
pub async fn receive(
    db: &impl ConnectionTrait,
    o: &order::Model,
    receipt: &Receipt,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    require_open(o)?;
    // Claim the order first: a concurrent receive or cancel of the same version loses here,
    // before it has touched a line.
    let lines = order_line::Entity::find()
        .filter(order_line::Column::OrderId.eq(o.id))
        .order_by_asc(order_line::Column::LineNo)
        .all(db)
        .await?;
    let mut take: Vec<(order_line::Model, i64)> = Vec::new();
    match receipt {
        Receipt::Everything => {
            for l in &lines {
                if l.quantity > l.received {
                    take.push((l.clone(), l.quantity - l.received));
                }
            }
        }
        Receipt::Lines(wanted) => {
            let mut errors = Vec::new();
            for (i, sku, qty) in wanted {
                match lines.iter().find(|l| &l.sku == sku) {
                    None => errors.push(field_error(
                        &format!("lines[{i}].sku"),
                        format!("{sku} is not on order {}", order_number(o.number)),
                    )),
                    Some(l) if *qty > l.quantity - l.received => errors.push(field_error(
                        &format!("lines[{i}].quantity"),
                        format!("only {} of {sku} are outstanding", l.quantity - l.received),
                    )),
                    Some(l) => take.push((l.clone(), *qty)),
                }
            }
            if !errors.is_empty() {
                return Err(ApiError::Validation(errors));
            }
        }
    }
    if take.is_empty() {
        return Err(ApiError::field(
            "lines",
            "nothing is outstanding on this order",
        ));
    }
    let all_in = lines.iter().all(|l| {
        let got = take
            .iter()
            .find(|(t, _)| t.id == l.id)
            .map_or(0, |(_, q)| *q);
        l.received + got >= l.quantity
    });
    bump(
        db,
        o,
        if all_in {
            OrderStatus::Received
        } else {
            OrderStatus::Open
        },
        now,
    )
    .await?;
    let mut words = Vec::new();
    for (l, qty) in &take {
        let done = order_line::Entity::update_many()
            .col_expr(
                order_line::Column::Received,
                Expr::col(order_line::Column::Received).add(*qty),
            )
            .filter(order_line::Column::Id.eq(l.id))
            .filter(
                Expr::col(order_line::Column::Received)
                    .add(*qty)
                    .lte(Expr::col(order_line::Column::Quantity)),
            )
            .exec(db)
            .await?;
        if done.rows_affected != 1 {
            return Err(ApiError::PreconditionFailed);
        }
        let mut find = stock::Entity::find_by_id(l.stock_id);
        if db.get_database_backend() == DbBackend::Postgres {
            // Another writer (an import) must not add to the quantity this read.
            find = find.lock_exclusive();
        }
        if let Some(row) = find.one(db).await? {
            let physical = row.physical.saturating_add(*qty);
            crate::stock::writes::update(
                db,
                row,
                crate::stock::writes::RowChange {
                    physical: Some(physical),
                    ..Default::default()
                },
                now,
            )
            .await?;
        }
        words.push(format!("{} ×{qty}", l.sku));
    }
    event(
        db,
        o.id,
        OrderAction::Received,
        actor,
        Some(words.join(", ")),
        now,
    )
    .await?;
    record_changed(db, o.id, EventType::OrderReceived, now).await
}

/// Cancels `o`: only while open and nothing on it was received.
pub async fn cancel(
    db: &impl ConnectionTrait,
    o: &order::Model,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    require_open(o)?;
    let received: Vec<i64> = order_line::Entity::find()
        .select_only()
        .column(order_line::Column::Received)
        .filter(order_line::Column::OrderId.eq(o.id))
        .filter(order_line::Column::Received.gt(0))
        .into_tuple()
        .all(db)
        .await?;
    if !received.is_empty() {
        return Err(ApiError::OrderPartlyReceived(order_number(o.number)));
    }
    bump(db, o, OrderStatus::Cancelled, now).await?;
    event(db, o.id, OrderAction::Cancelled, actor, None, now).await?;
    record_changed(db, o.id, EventType::OrderCancelled, now).await
}

/// Records `kind` about the order `id` as it is now (in the caller's transaction), when an
/// endpoint wants it.
async fn record_changed(
    db: &impl ConnectionTrait,
    id: i64,
    kind: EventType,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let Some(o) = order::Entity::find_by_id(id).one(db).await? else {
        return Ok(());
    };
    let targets = crate::webhooks::outbox::targets(
        db,
        crate::webhooks::outbox::Audience::Device {
            device_id: o.device_id,
        },
        kind,
    )
    .await?;
    if targets.is_empty() {
        return Ok(());
    }
    let (account_id, device_id) = (o.account_id, o.device_id);
    let order = view(db, o).await?;
    write_event(db, targets, account_id, device_id, kind, &order, now).await
}

/// Records `kind` about `order` (on `device_id` of `account_id`) in the caller's transaction,
/// when an endpoint wants it.
pub(crate) async fn record_event(
    db: &impl ConnectionTrait,
    account_id: i64,
    device_id: i64,
    kind: EventType,
    order: &Order,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let targets = crate::webhooks::outbox::targets(
        db,
        crate::webhooks::outbox::Audience::Device { device_id },
        kind,
    )
    .await?;
    if targets.is_empty() {
        return Ok(());
    }
    write_event(db, targets, account_id, device_id, kind, order, now).await
}

async fn write_event(
    db: &impl ConnectionTrait,
    targets: Vec<i64>,
    account_id: i64,
    device_id: i64,
    kind: EventType,
    order: &Order,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let data = serde_json::to_string(order).map_err(|e| ApiError::Internal(e.to_string()))?;
    crate::webhooks::outbox::write(db, targets, account_id, Some(device_id), kind, &data, now)
        .await?;
    Ok(())
}

/// The order's version as an `ETag`: send it back as `If-Match` to receive or cancel it only as
/// last seen.
pub fn etag(o: &order::Model) -> String {
    format!("\"{}.{}\"", o.id, o.version)
}
