//! The wire types of PartLogic: what the Stock API answers and what the portal SPA sends and
//! receives. This crate is the boundary between server and browser, so it holds serde types only
//! and builds for `wasm32-unknown-unknown`; the `openapi` feature adds `utoipa::ToSchema` derives
//! for the server's OpenAPI spec.

mod audit;
mod keys;
mod lifecycle;
mod orders;
mod permissions;
mod portal;
mod problem;
mod secret_scanning;
mod serde_helpers;
mod stock;
mod text;
mod webhooks;

pub use audit::{AuditAction, AuditEvent};
pub use keys::{KeyDetail, KeyInfo, KeyStatus, KeySummary, KeyUsage, UsageBucket};
pub use lifecycle::{
    CreateKeyRequest, CreatedKey, RetiredReason, RollKeyRequest, RollOverlap, UpdateKeyRequest,
};
pub use orders::{
    CreateOrderRequest, Order, OrderAction, OrderActor, OrderDevice, OrderEvent, OrderLine,
    OrderLineRequest, OrderStatus, ReceiveOrderRequest, order_number,
};
pub use permissions::{
    Access, KeyPermissions, Permission, PermissionsRequest, describe_orders, describe_webhooks,
};
pub use portal::{ConnectInfo, CurrentUser, LoginRequest, PortalDevice, Role, UserRef};
pub use problem::{FieldError, Problem, ProblemCode};
pub use secret_scanning::{LeakLabel, LeakReport, LeakVerdict};
// The serde helper modules keep their old paths (`partlogic_types::rfc3339_millis::format`).
pub use serde_helpers::{rfc3339_millis, whole_numbers};
pub use stock::{AlertKind, ApiDevice, DatabaseState, Health, Ping, StockAlert, StockRow};
pub use text::{
    FORBIDDEN_IN_NAMES, NAME_SPACES, character_class, forbidden_class, is_forbidden_in_names,
};
pub use webhooks::{
    CreateWebhookRequest, CreatedWebhookEndpoint, DeliveryState, EventType, QueuedMessage,
    UpdateWebhookRequest, WebhookDelivery, WebhookEndpoint, WebhookFormat, WebhookSecret,
};
