//! The PartLogic portal server: the Stock API (`/api`, API keys), the portal JSON API
//! (`/portal/api`, session cookies), the OpenAPI document and docs UI, and the admin CLI's
//! building blocks (accounts, users, demo data, CSV import).

pub mod admin;
pub mod auth;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod expiry;
#[doc(hidden)]
pub mod fuzzing;
pub mod import;
pub mod json;
pub mod keys;
pub mod leaks;
pub mod lifecycle;
pub mod metrics;
pub mod middleware;
pub mod net;
pub mod openapi;
pub mod portal;
pub mod reach;
pub mod recipes;
pub mod routes;
pub mod spa;
pub mod startup;
pub mod state;
pub mod stock;
pub mod store;
pub mod telemetry;
pub mod usage;

pub use clock::Clock;
pub use config::Settings;
pub use startup::Application;
