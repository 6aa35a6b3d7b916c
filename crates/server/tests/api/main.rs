//! The one integration-test binary: every test starts the real server on port 0 over a fresh
//! real database, on SQLite always and on PostgreSQL when `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod helpers;

mod auth;
mod cache;
mod cli;
mod connect;
mod expiry;
mod exports;
mod hardening;
mod keys;
mod lifecycle;
mod metrics;
mod orders;
mod orders_batched;
mod outage;
mod ping_docs;
mod rate_limits;
mod reach;
mod secrets;
mod session;
mod shutdown;
mod spa;
mod stock;
mod throttle;
mod trust;
mod upkeep;
mod webhooks;
