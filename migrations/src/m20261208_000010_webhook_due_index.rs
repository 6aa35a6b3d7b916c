//! The index workers claim deliveries by: pending ones only, in the order claims take them
//! (`next_attempt_at`, then `id`).
//!
//! The first index was `(state, next_attempt_at)`. Events written together (a CSV import that
//! takes 10,000 rows below their minimum in one transaction) share one `next_attempt_at`, so
//! every claim had to read and sort all their pending deliveries by `id` to find the oldest
//! hundred; on PostgreSQL, with the dead row versions each claim leaves until vacuum, a burst of
//! 100,000 drained at about a hundred a second. With `id` in the index a claim reads only the
//! rows it takes, and a partial index (both databases have them) holds only what is pending,
//! not every delivery ever made. Queries must say `state = 'pending'` literally for either
//! planner to use it.
//!
//! Upgrading: on PostgreSQL the index is built with a plain `CREATE INDEX`, which holds writes
//! to `webhook_deliveries` (and so the stock and order writes that record events) while it
//! reads the table: seconds for a million deliveries; run the upgrade when that is acceptable.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared("DROP INDEX IF EXISTS webhook_deliveries_due")
            .await?;
        db.execute_unprepared(
            "CREATE INDEX webhook_deliveries_pending ON webhook_deliveries \
             (next_attempt_at, id) WHERE state = 'pending'",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared("DROP INDEX IF EXISTS webhook_deliveries_pending")
            .await?;
        db.execute_unprepared(
            "CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at)",
        )
        .await?;
        Ok(())
    }
}
