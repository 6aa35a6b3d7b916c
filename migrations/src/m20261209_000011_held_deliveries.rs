//! Pending deliveries of disabled endpoints leave the due index.
//!
//! The due index (`webhook_deliveries_pending`, migration 000010) holds `state = 'pending'`
//! rows in claim order, and a claim's look walks it from the oldest, skipping the deliveries of
//! disabled endpoints one by one. An endpoint disabled with a backlog (its receiver answered
//! 410 during a burst, or its owner paused it) put that whole backlog in front of every other
//! endpoint's deliveries, on every look, until it was enabled or deleted. From this version
//! such deliveries are stored as `held` while their endpoint is disabled (the API still shows
//! them as pending) and go back to `pending` when it is enabled; this moves the ones already
//! waiting, and indexes held deliveries by endpoint, so that enabling one, and the workers'
//! check that nothing is held for an enabled endpoint, read only those. `down` puts them back.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared(
                "UPDATE webhook_deliveries SET state = 'held' WHERE state = 'pending' \
                 AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE enabled = FALSE)",
            )
            .await?;
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX webhook_deliveries_held ON webhook_deliveries (endpoint_id) \
                 WHERE state = 'held'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS webhook_deliveries_held")
            .await?;
        m.get_connection()
            .execute_unprepared(
                "UPDATE webhook_deliveries SET state = 'pending' WHERE state = 'held'",
            )
            .await?;
        Ok(())
    }
}
