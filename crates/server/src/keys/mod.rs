//! API keys and everything that happens to them: their format, their settings (name, expiry,
//! devices, rate limit), checking a presented key (cache, rate limits, last use), usage counts,
//! rolling and retiring, leaks reported by secret scanners, and the portal's reads and writes
//! of keys.
//!
//! A feature: it may use `accounts` (whose devices a key's owner may see), `db`, `domain`,
//! `error` and `clock`; never `http`, `cli` or `stock`.

pub mod cache;
pub mod caller;
pub mod credential;
pub mod devices;
pub mod expiry;
pub mod format;
pub mod last_used;
pub mod leaks;
pub mod lifecycle;
pub mod manage;
pub mod name;
pub mod permissions;
pub mod rate_limit;
pub mod settings;
pub mod usage;
pub mod views;

pub use caller::ApiCaller;
pub use format::{DISPLAY_PREFIX_LEN, KEY_LEN, PREFIX, Secret, generate, is_well_formed};
