//! Reading low-stock alerts for a key: newest first, only its reach, within the retention.

use chrono::{DateTime, Utc};
use partlogic_entity::{customer, device, stock, stock_alert};
use partlogic_types::{AlertKind, FieldError, StockAlert};
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, JoinType, QueryFilter,
    QueryOrder, QuerySelect, RelationTrait,
};

use crate::auth::ApiCaller;
use crate::error::ApiError;
use crate::reach;

/// The most alerts one request may ask for.
pub const MAX_LIMIT: u64 = 1000;
/// How many alerts a request gets without `limit`.
pub const DEFAULT_LIMIT: u64 = 100;

/// The parameters of `GET /api/stock/alerts`.
#[derive(Debug, Clone)]
pub struct AlertFilters {
    /// How many, newest first.
    pub limit: u64,
    /// Only this kind.
    pub kind: Option<AlertKind>,
}

impl AlertFilters {
    /// Parses a query string; unknown names are refused, as on `/api/stock`.
    pub fn parse(query: &str) -> Result<Self, ApiError> {
        let mut f = Self {
            limit: DEFAULT_LIMIT,
            kind: None,
        };
        let mut errors = Vec::new();
        let mut bad = |field: &str, message: String| {
            errors.push(FieldError {
                field: field.to_owned(),
                message,
            })
        };
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            match name.as_ref() {
                "limit" => match value.parse::<u64>() {
                    Ok(n) if (1..=MAX_LIMIT).contains(&n) => f.limit = n,
                    _ => bad(
                        "limit",
                        format!("must be a whole number from 1 to {MAX_LIMIT}"),
                    ),
                },
                "kind" => match AlertKind::parse(&value) {
                    Some(k) => f.kind = Some(k),
                    None => bad("kind", "must be below_min or restocked".to_owned()),
                },
                other if other.starts_with('_') => {}
                other => bad(other, "unknown parameter".to_owned()),
            }
        }
        if errors.is_empty() {
            Ok(f)
        } else {
            Err(ApiError::InvalidParameters(errors))
        }
    }
}

#[derive(Debug, FromQueryResult)]
struct AlertModel {
    id: i64,
    stock_id: i64,
    device_id: i64,
    kind: String,
    min_qty: i64,
    max_qty: i64,
    physical: i64,
    previous_physical: i64,
    at: DateTime<Utc>,
    sku: String,
    description: String,
    device_name: String,
    customer: String,
}

/// The key's alerts since `since`, newest first.
pub async fn list(
    db: &DatabaseConnection,
    caller: &ApiCaller,
    f: &AlertFilters,
    since: DateTime<Utc>,
) -> Result<Vec<StockAlert>, sea_orm::DbErr> {
    let reach = Query::select()
        .column((device::Entity, device::Column::Id))
        .from(device::Entity)
        .cond_where(reach::key_devices(caller))
        .to_owned();
    let mut q = stock_alert::Entity::find()
        .filter(stock_alert::Column::DeviceId.in_subquery(reach))
        .filter(stock_alert::Column::At.gte(since));
    if let Some(kind) = f.kind {
        q = q.filter(stock_alert::Column::Kind.eq(kind.as_str()));
    }
    let rows = q
        .select_only()
        .columns([
            stock_alert::Column::Id,
            stock_alert::Column::StockId,
            stock_alert::Column::DeviceId,
            stock_alert::Column::Kind,
            stock_alert::Column::MinQty,
            stock_alert::Column::MaxQty,
            stock_alert::Column::Physical,
            stock_alert::Column::PreviousPhysical,
            stock_alert::Column::At,
        ])
        .column(stock::Column::Sku)
        .column(stock::Column::Description)
        .column_as(device::Column::Name, "device_name")
        .column_as(customer::Column::Name, "customer")
        .join(JoinType::InnerJoin, stock_alert::Relation::Stock.def())
        .join(JoinType::InnerJoin, stock::Relation::Device.def())
        .join(JoinType::InnerJoin, device::Relation::Customer.def())
        .order_by_desc(stock_alert::Column::Id)
        .limit(f.limit)
        .into_model::<AlertModel>()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(StockAlert {
                id: r.id,
                stock_id: r.stock_id,
                device_id: r.device_id,
                device_name: r.device_name,
                customer: r.customer,
                sku: r.sku,
                description: r.description,
                min_qty: r.min_qty,
                max_qty: r.max_qty,
                physical: r.physical,
                previous_physical: r.previous_physical,
                kind: AlertKind::parse(&r.kind)?,
                at: r.at,
            })
        })
        .collect())
}
