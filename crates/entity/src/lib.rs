//! sea-orm entities for the PartLogic schema (see `migrations/` for the tables and indexes).
//!
//! Account → customers (sites) → devices → stock rows; users belong to an account and see all of
//! its devices (admins) or those in `user_devices` (members); API keys belong to a user and reach
//! the devices in `api_key_devices` that their owner may still see.

pub mod account;
pub mod api_key;
pub mod api_key_device;
pub mod audit_event;
pub mod customer;
pub mod device;
pub mod idempotency_key;
pub mod key_usage;
pub mod login_throttle;
pub mod order;
pub mod order_counter;
pub mod order_event;
pub mod order_line;
pub mod retired_digest;
pub mod server_secret;
pub mod session;
pub mod stock;
pub mod stock_alert;
pub mod user;
pub mod user_device;
pub mod webhook_delivery;
pub mod webhook_endpoint;
pub mod webhook_message;

/// The role strings stored in `users.role`.
pub mod roles {
    /// Sees every device of the account.
    pub const ADMIN: &str = "admin";
    /// Sees only the devices granted in `user_devices`.
    pub const MEMBER: &str = "member";
}
