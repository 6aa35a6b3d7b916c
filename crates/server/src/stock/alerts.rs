//! Reading low-stock alerts for a key: newest first, only its reach, within the retention.

use chrono::{DateTime, Utc};
use partlogic_types::{AlertKind, FieldError, StockAlert};

use crate::db::store::Store;
use crate::error::ApiError;
use crate::keys::ApiCaller;

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

/// The key's alerts since `since`, newest first.
pub async fn list(
    store: &Store,
    caller: &ApiCaller,
    f: &AlertFilters,
    since: DateTime<Utc>,
) -> Result<Vec<StockAlert>, sea_orm::DbErr> {
    let devices: Vec<i64> = caller.reach().iter().map(|d| d.id).collect();
    let raw = store.alerts(&devices, f.kind, since, f.limit).await?;
    Ok(raw
        .into_iter()
        .filter_map(|a| {
            let device = caller.reached(a.device_id)?;
            Some(StockAlert {
                id: a.id,
                stock_id: a.stock_id,
                device_id: a.device_id,
                device_name: device.name.clone(),
                customer: device.customer.clone(),
                sku: a.sku,
                description: a.description,
                min_qty: a.min_qty,
                max_qty: a.max_qty,
                physical: a.physical,
                previous_physical: a.previous_physical,
                kind: a.kind,
                at: a.at,
            })
        })
        .collect())
}
