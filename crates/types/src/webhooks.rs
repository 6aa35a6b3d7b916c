//! Webhooks: the events PartLogic pushes, the endpoints a key registers to receive them, and
//! each delivery's outcome. Deliveries follow Standard Webhooks (`webhook-id`,
//! `webhook-timestamp`, `webhook-signature`), so any of its libraries verifies them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// What happened: the `type` of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub enum EventType {
    /// A stock row went below its minimum (`data`: the alert, as `/api/stock/alerts` has it).
    #[serde(rename = "stock.below_min")]
    StockBelowMin,
    /// A stock row came back to its minimum or above (`data`: the alert).
    #[serde(rename = "stock.restocked")]
    StockRestocked,
    /// An order was created (`data`: the order as `GET /api/orders/{id}` shows it).
    #[serde(rename = "order.created")]
    OrderCreated,
    /// Goods were received on an order (`data`: the order).
    #[serde(rename = "order.received")]
    OrderReceived,
    /// An order was cancelled (`data`: the order).
    #[serde(rename = "order.cancelled")]
    OrderCancelled,
    /// The endpoint's key expires within seven days (sent once; `data`: the key).
    #[serde(rename = "key.expiring")]
    KeyExpiring,
    /// Sent by `POST /api/webhooks/{id}/test` only.
    #[serde(rename = "webhook.test")]
    WebhookTest,
}

impl EventType {
    /// Every event type.
    pub const ALL: [EventType; 7] = [
        EventType::StockBelowMin,
        EventType::StockRestocked,
        EventType::OrderCreated,
        EventType::OrderReceived,
        EventType::OrderCancelled,
        EventType::KeyExpiring,
        EventType::WebhookTest,
    ];

    /// The type as it appears on the wire (`stock.below_min`).
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::StockBelowMin => "stock.below_min",
            EventType::StockRestocked => "stock.restocked",
            EventType::OrderCreated => "order.created",
            EventType::OrderReceived => "order.received",
            EventType::OrderCancelled => "order.cancelled",
            EventType::KeyExpiring => "key.expiring",
            EventType::WebhookTest => "webhook.test",
        }
    }

    /// The type named `s`, if any.
    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// What a person sees for it in the portal.
    pub fn label(self) -> &'static str {
        match self {
            EventType::StockBelowMin => "Stock fell below its minimum",
            EventType::StockRestocked => "Stock is back at its minimum or above",
            EventType::OrderCreated => "An order was created",
            EventType::OrderReceived => "Goods were received on an order",
            EventType::OrderCancelled => "An order was cancelled",
            EventType::KeyExpiring => "This key expires within 7 days",
            EventType::WebhookTest => "Test event",
        }
    }

    /// Whether an endpoint must hold `orders:read` (on its key) to receive it.
    pub fn needs_orders_read(self) -> bool {
        matches!(
            self,
            EventType::OrderCreated | EventType::OrderReceived | EventType::OrderCancelled
        )
    }
}

/// How a delivery's body is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WebhookFormat {
    /// The event as JSON (`{"type", "timestamp", "data"}`), signed (Standard Webhooks).
    #[default]
    Standard,
    /// Slack's incoming-webhook body (`{"text": …}`): a sentence a person reads.
    Slack,
}

impl WebhookFormat {
    /// The format as stored and sent (`standard`).
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookFormat::Standard => "standard",
            WebhookFormat::Slack => "slack",
        }
    }

    /// The format named `s`, if any.
    pub fn parse(s: &str) -> Option<WebhookFormat> {
        [WebhookFormat::Standard, WebhookFormat::Slack]
            .into_iter()
            .find(|f| f.as_str() == s)
    }
}

/// An endpoint that receives a key's events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WebhookEndpoint {
    /// Its id.
    pub id: i64,
    /// Where deliveries are posted.
    pub url: String,
    /// What it is for, in the owner's words.
    pub description: String,
    /// The events it receives.
    pub events: Vec<EventType>,
    /// How bodies are written.
    pub format: WebhookFormat,
    /// Whether deliveries are made. An endpoint that answered `410 Gone`, or failed for five
    /// days, is disabled; `PATCH {"enabled": true}` enables it again.
    pub enabled: bool,
    /// Why it was disabled, when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    /// Since when every delivery to it has failed, while some do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub failing_since: Option<DateTime<Utc>>,
    /// Until when the previous signing secret still signs beside the current one, after a
    /// rotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub previous_secret_until: Option<DateTime<Utc>>,
    /// When it was added.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: DateTime<Utc>,
}

/// A new endpoint, with the signing secret that is shown this once.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreatedWebhookEndpoint {
    /// The endpoint.
    #[serde(flatten)]
    pub endpoint: WebhookEndpoint,
    /// The signing secret (`whsec_…`): verify deliveries with it. It is not shown again.
    pub secret: String,
}

/// A new signing secret (after a rotation), shown this once.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WebhookSecret {
    /// The new secret (`whsec_…`).
    pub secret: String,
    /// Until when the previous secret also signs (each delivery carries both signatures).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub previous_secret_until: DateTime<Utc>,
}

// Debug never prints a secret (a log line or a panic message must not hold one).
impl std::fmt::Debug for CreatedWebhookEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedWebhookEndpoint")
            .field("endpoint", &self.endpoint)
            .field("secret", &"whsec_…")
            .finish()
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSecret")
            .field("secret", &"whsec_…")
            .field("previous_secret_until", &self.previous_secret_until)
            .finish()
    }
}

/// `POST /api/webhooks`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    /// Where to post: `https://…` (no user name or password in it).
    pub url: String,
    /// The events to receive (at least one).
    pub events: Vec<String>,
    /// What it is for.
    #[serde(default)]
    pub description: Option<String>,
    /// `standard` (the default) or `slack`.
    #[serde(default)]
    pub format: Option<String>,
}

/// `PATCH /api/webhooks/{id}`: the fields to change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookRequest {
    /// A new URL.
    #[serde(default)]
    pub url: Option<String>,
    /// New events.
    #[serde(default)]
    pub events: Option<Vec<String>>,
    /// A new description.
    #[serde(default)]
    pub description: Option<String>,
    /// A new format.
    #[serde(default)]
    pub format: Option<String>,
    /// `true` enables a disabled endpoint again; `false` pauses it.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its next attempt.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Every attempt failed; replay it to try again.
    Failed,
    /// Not sent: by then the key no longer reached the device, lacked the permission, or was
    /// retired or expired.
    Dropped,
}

impl DeliveryState {
    /// As stored (`pending`).
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
            DeliveryState::Dropped => "dropped",
        }
    }

    /// The state stored as `s`.
    pub fn parse(s: &str) -> Option<DeliveryState> {
        [
            DeliveryState::Pending,
            DeliveryState::Delivered,
            DeliveryState::Failed,
            DeliveryState::Dropped,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

/// One message to one endpoint: its latest attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WebhookDelivery {
    /// The message's id, sent as `webhook-id` on every attempt (`msg_…`).
    pub message_id: String,
    /// The event's type.
    pub event_type: EventType,
    /// When the event happened.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: DateTime<Utc>,
    /// Where it stands.
    pub state: DeliveryState,
    /// Attempts made so far.
    pub attempts: i32,
    /// When the latest attempt was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The receiver's HTTP status on the latest attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_status: Option<u16>,
    /// How long the latest attempt took, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_latency_ms: Option<i64>,
    /// What went wrong on the latest attempt (a timeout, a refused connection, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When the next attempt is due, while pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// A message queued by `test` or `replay`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct QueuedMessage {
    /// The message's id (`webhook-id`).
    pub message_id: String,
}
