//! The PartLogic portal server: the Stock API (`/api`, API keys), the portal JSON API
//! (`/portal/api`, session cookies), the OpenAPI document and docs UI, and the command line
//! (serve, migrate, demo data, account and user admin, CSV import).
//!
//! Layers, top to bottom (ARCHITECTURE.md; `scripts/check-layers` enforces them):
//! `http`, `cli` (the edges) → `demo`, `stock`, `keys`, `accounts` (features) → `db`,
//! `domain`, `error`, `clock`, `telemetry` (foundation) → the `partlogic-types` and
//! `partlogic-entity` crates.

pub mod accounts;
pub mod cli;
pub mod clock;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod keys;
pub mod orders;
pub mod stock;
pub mod telemetry;
pub mod webhooks;

pub use clock::Clock;
pub use http::config::Settings;
pub use http::startup::Application;
