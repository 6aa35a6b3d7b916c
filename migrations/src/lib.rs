//! Schema migrations for PartLogic, portable between SQLite and PostgreSQL. The server runs them
//! at start-up and `partlogic migrate` runs them on demand.

pub use sea_orm_migration::prelude::*;

mod m20261126_000001_init;
mod m20261126_000002_stock_by_device_and_id;
mod m20261127_000003_hardening;
mod m20261127_000004_stock_alerts;
mod m20261128_000005_key_cache;
mod m20261129_000006_key_lifecycle;
mod m20261205_000007_rate_windows;
mod m20261206_000008_orders;
mod m20261207_000009_webhooks;
mod m20261208_000010_webhook_due_index;
mod m20261209_000011_held_deliveries;

/// Every migration, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_init::Migration),
            Box::new(m20261126_000002_stock_by_device_and_id::Migration),
            Box::new(m20261127_000003_hardening::Migration),
            Box::new(m20261127_000004_stock_alerts::Migration),
            Box::new(m20261128_000005_key_cache::Migration),
            Box::new(m20261129_000006_key_lifecycle::Migration),
            Box::new(m20261205_000007_rate_windows::Migration),
            Box::new(m20261206_000008_orders::Migration),
            Box::new(m20261207_000009_webhooks::Migration),
            Box::new(m20261208_000010_webhook_due_index::Migration),
            Box::new(m20261209_000011_held_deliveries::Migration),
        ]
    }
}
