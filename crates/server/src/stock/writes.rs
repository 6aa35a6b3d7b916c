//! Every change to stock rows goes through here (the CSV import, the demo seed), so that a row
//! crossing its minimum is recorded as an alert in the same transaction as the change that made
//! it cross: no writer can forget, and no alert can exist for a change that was rolled back.
//! The alert's webhook event (`stock.below_min`, `stock.restocked`) is recorded with it, for the
//! same reasons.

use chrono::{DateTime, Utc};
use partlogic_entity::{customer, device, stock, stock_alert};
use partlogic_types::{AlertKind, EventType, StockAlert};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QuerySelect, RelationTrait,
};

/// New values for some of a row's columns; `None` leaves a column as it is.
#[derive(Debug, Clone, Default)]
pub struct RowChange {
    /// A new description.
    pub description: Option<String>,
    /// A new physical quantity.
    pub physical: Option<i64>,
    /// A new location.
    pub location: Option<String>,
    /// A new reorder level.
    pub min_qty: Option<i64>,
    /// A new fill-up level.
    pub max_qty: Option<i64>,
}

/// Applies `change` to `current` at `now`. A change that changes nothing writes nothing (the
/// row keeps its `UpdatedAt`, so `updated_since` syncs do not fetch it again) and returns
/// false. When the row goes below its minimum, or back to it or above, an alert is recorded.
pub async fn update(
    db: &impl ConnectionTrait,
    current: stock::Model,
    change: RowChange,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let description = change.description.filter(|d| *d != current.description);
    let physical = change.physical.filter(|p| *p != current.physical);
    let location = change.location.filter(|l| *l != current.location);
    let min_qty = change.min_qty.filter(|m| *m != current.min_qty);
    let max_qty = change.max_qty.filter(|m| *m != current.max_qty);
    if description.is_none()
        && physical.is_none()
        && location.is_none()
        && min_qty.is_none()
        && max_qty.is_none()
    {
        return Ok(false);
    }
    let was_below = current.physical < current.min_qty;
    let previous = current.physical;
    let mut am = current.into_active_model();
    if let Some(d) = description {
        am.description = Set(d);
    }
    if let Some(p) = physical {
        am.physical = Set(p);
    }
    if let Some(l) = location {
        am.location = Set(l);
    }
    if let Some(m) = min_qty {
        am.min_qty = Set(m);
    }
    if let Some(m) = max_qty {
        am.max_qty = Set(m);
    }
    am.updated_at = Set(now);
    let row = am.update(db).await?;
    let is_below = row.physical < row.min_qty;
    if was_below != is_below {
        let kind = if is_below {
            AlertKind::BelowMin
        } else {
            AlertKind::Restocked
        };
        let alert_id = stock_alert::Entity::insert(stock_alert::ActiveModel {
            stock_id: Set(row.id),
            device_id: Set(row.device_id),
            kind: Set(kind.as_str().to_owned()),
            min_qty: Set(row.min_qty),
            max_qty: Set(row.max_qty),
            physical: Set(row.physical),
            previous_physical: Set(previous),
            at: Set(now),
            ..Default::default()
        })
        .exec(db)
        .await?
        .last_insert_id;
        record_event(db, &row, kind, alert_id, previous, now).await?;
    }
    Ok(true)
}

/// Records the webhook event of the alert `alert_id` on `row`, when an endpoint wants it.
async fn record_event(
    db: &impl ConnectionTrait,
    row: &stock::Model,
    kind: AlertKind,
    alert_id: i64,
    previous: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    use crate::webhooks::outbox::{self, Audience};
    let event = match kind {
        AlertKind::BelowMin => EventType::StockBelowMin,
        AlertKind::Restocked => EventType::StockRestocked,
    };
    let audience = Audience::Device {
        device_id: row.device_id,
    };
    let targets = outbox::targets(db, audience, event).await?;
    if targets.is_empty() {
        return Ok(());
    }
    let Some((account_id, device_name, customer)) = device::Entity::find_by_id(row.device_id)
        .select_only()
        .column(device::Column::AccountId)
        .column(device::Column::Name)
        .column_as(customer::Column::Name, "customer")
        .join(
            sea_orm::JoinType::InnerJoin,
            device::Relation::Customer.def(),
        )
        .into_tuple::<(i64, String, String)>()
        .one(db)
        .await?
    else {
        return Ok(());
    };
    let alert = StockAlert {
        id: alert_id,
        stock_id: row.id,
        device_id: row.device_id,
        device_name,
        customer,
        sku: row.sku.clone(),
        description: row.description.clone(),
        min_qty: row.min_qty,
        max_qty: row.max_qty,
        physical: row.physical,
        previous_physical: previous,
        kind,
        at: now,
    };
    let data = serde_json::to_string(&alert).map_err(|e| DbErr::Custom(e.to_string()))?;
    outbox::write(
        db,
        targets,
        account_id,
        Some(row.device_id),
        event,
        &data,
        now,
    )
    .await?;
    Ok(())
}

/// Adds new rows. A new row has no earlier quantity to cross from, so it records no alert.
pub async fn insert(db: &impl ConnectionTrait, rows: Vec<stock::ActiveModel>) -> Result<(), DbErr> {
    for chunk in rows.chunks(200) {
        stock::Entity::insert_many(chunk.to_vec()).exec(db).await?;
    }
    Ok(())
}

/// Forgets alerts older than `retention`.
pub async fn prune_alerts(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    retention: chrono::Duration,
) -> Result<u64, DbErr> {
    Ok(stock_alert::Entity::delete_many()
        .filter(stock_alert::Column::At.lt(now - retention))
        .exec(db)
        .await?
        .rows_affected)
}
