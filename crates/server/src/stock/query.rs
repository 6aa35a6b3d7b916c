//! The stock queries, named: what the handler and the exporter ask the database.

use chrono::{DateTime, Utc};
use partlogic_entity::{customer, device, stock};
use partlogic_types::StockRow;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, JoinType, QueryFilter,
    QueryOrder, QuerySelect, RelationTrait, Select, SelectModel, Selector,
};

use super::StockFilters;
use crate::auth::ApiCaller;
use crate::error::ApiError;
use crate::reach;

/// A row as the join returns it.
#[derive(Debug, FromQueryResult)]
struct RowModel {
    id: i64,
    device_id: i64,
    sku: String,
    description: String,
    min_qty: i64,
    max_qty: i64,
    physical: i64,
    location: String,
    updated_at: DateTime<Utc>,
    device_name: String,
    customer: String,
}

impl From<RowModel> for StockRow {
    fn from(r: RowModel) -> Self {
        StockRow {
            id: r.id,
            device_name: r.device_name,
            sku: r.sku,
            description: r.description,
            min_qty: r.min_qty,
            max_qty: r.max_qty,
            physical: r.physical,
            device_id: r.device_id,
            customer: r.customer,
            location: r.location,
            updated_at: r.updated_at,
        }
    }
}

/// The stock rows the key may read and the filters allow, with an id above `after`. The reach is
/// a subquery on `devices`, so the row query itself touches only `stock` and its
/// `(device_id, id)` index.
fn matching(caller: &ApiCaller, f: &StockFilters, after: Option<i64>) -> Select<stock::Entity> {
    let reach = Query::select()
        .column((device::Entity, device::Column::Id))
        .from(device::Entity)
        .cond_where(reach::key_devices(caller))
        .to_owned();
    let mut q = stock::Entity::find().filter(stock::Column::DeviceId.in_subquery(reach));
    if !f.devices.is_empty() {
        q = q.filter(stock::Column::DeviceId.is_in(f.devices.clone()));
    }
    if let Some(sku) = &f.sku {
        q = q.filter(stock::Column::Sku.eq(sku.as_str()));
    }
    if f.below_min {
        q = q.filter(
            Expr::col((stock::Entity, stock::Column::Physical))
                .lt(Expr::col((stock::Entity, stock::Column::MinQty))),
        );
    }
    if let Some(t) = f.updated_since {
        q = q.filter(stock::Column::UpdatedAt.gte(t));
    }
    if let Some(after) = after {
        q = q.filter(stock::Column::Id.gt(after));
    }
    q
}

/// `q`'s rows with their device and customer names, by id.
fn with_names(q: Select<stock::Entity>) -> Selector<SelectModel<RowModel>> {
    q.select_only()
        .columns([
            stock::Column::Id,
            stock::Column::DeviceId,
            stock::Column::Sku,
            stock::Column::Description,
            stock::Column::MinQty,
            stock::Column::MaxQty,
            stock::Column::Physical,
            stock::Column::Location,
            stock::Column::UpdatedAt,
        ])
        .column_as(device::Column::Name, "device_name")
        .column_as(customer::Column::Name, "customer")
        .join(JoinType::InnerJoin, stock::Relation::Device.def())
        .join(JoinType::InnerJoin, device::Relation::Customer.def())
        .order_by_asc(stock::Column::Id)
        .into_model::<RowModel>()
}

/// One page of rows, and whether the id walk filled it (more may follow; a row deleted between
/// the two steps makes `rows` shorter without ending the walk).
pub struct Page {
    /// The rows, by id.
    pub rows: Vec<StockRow>,
    /// The last id the walk found: the next page starts after it.
    pub last_id: Option<i64>,
    /// Whether the walk found `limit` ids.
    pub full: bool,
}

/// Up to `limit` rows after `after`, by id, in two steps: the page's ids first (an index-only
/// walk of the key's devices past `after`, sorting integers rather than whole rows), then just
/// those rows with their names. Each call is a short read: nothing stays open between pages.
pub async fn page(
    db: &DatabaseConnection,
    caller: &ApiCaller,
    f: &StockFilters,
    after: Option<i64>,
    limit: u64,
) -> Result<Page, sea_orm::DbErr> {
    let ids: Vec<i64> = matching(caller, f, after)
        .select_only()
        .column(stock::Column::Id)
        .order_by_asc(stock::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    let (last_id, full) = (ids.last().copied(), ids.len() as u64 == limit);
    if ids.is_empty() {
        return Ok(Page {
            rows: Vec::new(),
            last_id,
            full,
        });
    }
    let rows = with_names(stock::Entity::find().filter(stock::Column::Id.is_in(ids)))
        .all(db)
        .await?;
    Ok(Page {
        rows: rows.into_iter().map(StockRow::from).collect(),
        last_id,
        full,
    })
}

/// Refuses a `device` filter naming anything outside the key's reach.
pub async fn check_devices(
    db: &DatabaseConnection,
    caller: &ApiCaller,
    f: &StockFilters,
) -> Result<(), ApiError> {
    if f.devices.is_empty() {
        return Ok(());
    }
    let found: Vec<i64> = device::Entity::find()
        .select_only()
        .column(device::Column::Id)
        .filter(reach::key_devices(caller))
        .filter(device::Column::Id.is_in(f.devices.clone()))
        .into_tuple()
        .all(db)
        .await?;
    match f.devices.iter().find(|d| !found.contains(d)) {
        Some(missing) => Err(ApiError::DeviceNotInScope(*missing)),
        None => Ok(()),
    }
}

/// The devices the key reaches now, by id.
pub async fn devices(
    db: &DatabaseConnection,
    caller: &ApiCaller,
) -> Result<Vec<partlogic_types::ApiDevice>, sea_orm::DbErr> {
    let rows: Vec<(i64, String, String)> = device::Entity::find()
        .select_only()
        .column(device::Column::Id)
        .column(device::Column::Name)
        .column_as(customer::Column::Name, "customer")
        .join(JoinType::InnerJoin, device::Relation::Customer.def())
        .filter(reach::key_devices(caller))
        .order_by_asc(device::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, customer)| partlogic_types::ApiDevice { id, name, customer })
        .collect())
}
