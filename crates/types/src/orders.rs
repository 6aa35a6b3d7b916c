//! Replenishment orders: what integrations create with an `orders:write` key
//! (`POST /api/orders`) and people receive or cancel in the portal.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::serde_helpers::rfc3339_millis;

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Waiting for (the rest of) its goods; lines may be partly received.
    Open,
    /// Every line received in full.
    Received,
    /// Cancelled before anything was received.
    Cancelled,
}

impl OrderStatus {
    /// Every status.
    pub const ALL: [OrderStatus; 3] = [
        OrderStatus::Open,
        OrderStatus::Received,
        OrderStatus::Cancelled,
    ];

    /// The status as stored and sent (`open`).
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Open => "open",
            OrderStatus::Received => "received",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    /// The status written `s`, if it is one.
    pub fn parse(s: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// `POST /api/orders`: an order for one device.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateOrderRequest {
    /// The device to replenish (one the key reaches: see `GET /api/devices`).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = i64, minimum = 1))]
    pub device_id: Option<serde_json::Value>,
    /// 1 to 200 lines, each a different SKU stocked at that device.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<OrderLineRequest>, min_items = 1, max_items = 200))]
    pub lines: Option<Vec<OrderLineRequest>>,
    /// Your own id for it (a spreadsheet row, a ticket): 1 to 100 characters; filter on it with
    /// `?reference=`.
    #[serde(default)]
    pub reference: Option<String>,
    /// A note for whoever receives it: up to 1,000 characters.
    #[serde(default)]
    pub note: Option<String>,
}

/// One line of a new order, or what arrived of one line (`quantity` then at most what is
/// outstanding).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OrderLineRequest {
    /// An item code stocked at the order's device.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub sku: Option<serde_json::Value>,
    /// How many: a whole number from 1 to 1,000,000.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = i64, minimum = 1, maximum = 1000000))]
    pub quantity: Option<serde_json::Value>,
}

/// `POST /api/orders/{id}/receive` (and the portal's): what arrived.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReceiveOrderRequest {
    /// The quantity received per line, each at most what is still outstanding; lines not named
    /// receive nothing. Omit (or `null`) to receive everything outstanding.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<OrderLineRequest>>, min_items = 1, max_items = 200))]
    pub lines: Option<Vec<OrderLineRequest>>,
}

/// Who did something to an order: an API key (by name and prefix) or a portal user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OrderActor {
    /// An API key.
    Key {
        /// The key's name when it acted.
        name: String,
        /// Its display prefix (`pl_3kT9`).
        prefix: String,
    },
    /// A portal user.
    User {
        /// Their name.
        name: String,
        /// Their email address.
        email: String,
    },
}

/// The device an order is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OrderDevice {
    /// The device's id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its customer (site).
    pub customer: String,
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OrderLine {
    /// The item code.
    pub sku: String,
    /// The item's description (as the stock row has it now).
    pub description: String,
    /// How many were ordered.
    pub quantity: i64,
    /// How many have been received so far.
    pub received: i64,
    /// `quantity - received`.
    pub outstanding: i64,
}

/// What happened to an order, as its history records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrderAction {
    /// It was created.
    Created,
    /// Some or all of its lines were received.
    Received,
    /// It was cancelled.
    Cancelled,
}

impl OrderAction {
    /// The action as stored and sent (`received`).
    pub fn as_str(self) -> &'static str {
        match self {
            OrderAction::Created => "created",
            OrderAction::Received => "received",
            OrderAction::Cancelled => "cancelled",
        }
    }

    /// The action stored as `s`, if it is one.
    pub fn parse(s: &str) -> Option<OrderAction> {
        [
            OrderAction::Created,
            OrderAction::Received,
            OrderAction::Cancelled,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
}

/// Something that happened to an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OrderEvent {
    /// What.
    pub action: OrderAction,
    /// Who.
    pub actor: OrderActor,
    /// When.
    #[serde(with = "rfc3339_millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: DateTime<Utc>,
    /// What, in words (`BRG-6204 ×5`).
    pub detail: Option<String>,
}

/// A replenishment order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Order {
    /// The order's id (`/api/orders/{id}`).
    pub id: i64,
    /// Its number in the account, to say on the phone (`PO-000123`).
    pub number: String,
    /// `open`, `received` or `cancelled`.
    pub status: OrderStatus,
    /// The device it replenishes.
    pub device: OrderDevice,
    /// The lines, in the order they were sent.
    pub lines: Vec<OrderLine>,
    /// The creator's own id for it.
    pub reference: Option<String>,
    /// A note for whoever receives it.
    pub note: Option<String>,
    /// Who created it.
    pub created_by: OrderActor,
    /// When it was created.
    #[serde(with = "rfc3339_millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(with = "rfc3339_millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: DateTime<Utc>,
    /// What happened to it, oldest first.
    pub events: Vec<OrderEvent>,
}

/// The display number of order `n` (`PO-000123`).
pub fn order_number(n: i64) -> String {
    format!("PO-{n:06}")
}
