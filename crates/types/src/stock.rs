//! The Stock API (`/api`, authenticated by `X-API-Key`): ping and health, stock rows, stock
//! alerts, and the devices a key can read.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::serde_helpers::rfc3339_millis;

/// The answer of `GET /api/ping`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Ping {
    /// Always `true`.
    pub ok: bool,
    /// The server's clock, UTC with milliseconds.
    #[serde(with = "rfc3339_millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime, example = "2026-01-01T12:00:00.000Z"))]
    pub time: DateTime<Utc>,
}

/// The answer of `GET /api/health`: whether the server can do more than answer `/api/ping`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Health {
    /// `true` when the database answers (status 200), `false` otherwise (status 503).
    pub ok: bool,
    /// `up` or `down`.
    pub database: DatabaseState,
    /// How long the database took to answer, in milliseconds (`null` when it did not).
    pub database_ms: Option<u64>,
    /// The server's clock, UTC with milliseconds.
    #[serde(with = "rfc3339_millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime, example = "2026-01-01T12:00:00.000Z"))]
    pub time: DateTime<Utc>,
}

/// Whether the database answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DatabaseState {
    /// It answered a trivial query within two seconds.
    Up,
    /// It did not.
    Down,
}

/// One stock row. The first seven names are the legacy ones existing integrations map, kept
/// exactly (including their capitals).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct StockRow {
    /// The row's id; rows are returned in ascending id order.
    pub id: i64,
    /// The device (store room, tool crib, vending machine) holding the stock.
    #[serde(rename = "DeviceName")]
    pub device_name: String,
    /// The item code.
    #[serde(rename = "SKU")]
    pub sku: String,
    /// The item's description.
    #[serde(rename = "Description")]
    pub description: String,
    /// The quantity below which the item should be reordered.
    #[serde(rename = "MinQty")]
    pub min_qty: i64,
    /// The quantity to fill up to.
    #[serde(rename = "MaxQty")]
    pub max_qty: i64,
    /// The quantity physically in the device.
    #[serde(rename = "Physical")]
    pub physical: i64,
    /// The device's id (use it with `?device=`).
    #[serde(rename = "DeviceId")]
    pub device_id: i64,
    /// The customer (site) the device belongs to.
    #[serde(rename = "Customer")]
    pub customer: String,
    /// Where in the device the item is kept (bin, shelf); may be empty.
    #[serde(rename = "Location")]
    pub location: String,
    /// When the row last changed.
    #[serde(rename = "UpdatedAt", with = "rfc3339_millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime, example = "2026-01-01T12:00:00.000Z"))]
    pub updated_at: DateTime<Utc>,
}

/// Which way a stock row crossed its minimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// `Physical` fell below `MinQty`.
    BelowMin,
    /// `Physical` came back to `MinQty` or above.
    Restocked,
}

impl AlertKind {
    /// The kind as stored and sent (`below_min`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BelowMin => "below_min",
            Self::Restocked => "restocked",
        }
    }

    /// The kind written `s`, if it is one.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::BelowMin, Self::Restocked]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// One crossing of a stock row's minimum, as `GET /api/stock/alerts` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct StockAlert {
    /// Unique per crossing and never reused: polling tools deduplicate on it.
    pub id: i64,
    /// The stock row (its `id` in `/api/stock`).
    #[serde(rename = "StockId")]
    pub stock_id: i64,
    /// The device.
    #[serde(rename = "DeviceId")]
    pub device_id: i64,
    /// The device's name.
    #[serde(rename = "DeviceName")]
    pub device_name: String,
    /// The customer (site) the device belongs to.
    #[serde(rename = "Customer")]
    pub customer: String,
    /// The item code.
    #[serde(rename = "SKU")]
    pub sku: String,
    /// The item's description.
    #[serde(rename = "Description")]
    pub description: String,
    /// The reorder level when it crossed.
    #[serde(rename = "MinQty")]
    pub min_qty: i64,
    /// The fill-up level then.
    #[serde(rename = "MaxQty")]
    pub max_qty: i64,
    /// The quantity after the change.
    #[serde(rename = "Physical")]
    pub physical: i64,
    /// The quantity before it.
    #[serde(rename = "PreviousPhysical")]
    pub previous_physical: i64,
    /// Which way it crossed.
    #[serde(rename = "Kind")]
    pub kind: AlertKind,
    /// When.
    #[serde(rename = "At", with = "rfc3339_millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime, example = "2026-01-01T12:00:00.000Z"))]
    pub at: DateTime<Utc>,
}

/// A device an API key can read, as `GET /api/devices` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ApiDevice {
    /// The device's id.
    pub id: i64,
    /// The device's name.
    #[serde(rename = "Name")]
    pub name: String,
    /// The customer (site) it belongs to.
    #[serde(rename = "Customer")]
    pub customer: String,
}
