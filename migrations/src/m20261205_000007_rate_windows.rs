//! Per-key rate-limit windows shared between instances (PostgreSQL): how many requests each
//! key has made in each one-minute window, summed over every instance. Instances add what they
//! counted in memory every 250 ms, and near a key's limit each request adds itself, so the
//! limit holds across instances. SQLite (one instance) counts in memory only and leaves this
//! table empty.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RateWindows {
    Table,
    KeyId,
    Minute,
    Used,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // No foreign key: rows live two minutes at most, and a retired or deleted key's rows
        // simply age out with the rest.
        m.create_table(
            Table::create()
                .table(RateWindows::Table)
                .col(big_integer(RateWindows::KeyId))
                .col(big_integer(RateWindows::Minute))
                .col(big_integer(RateWindows::Used).default(0))
                .primary_key(
                    Index::create()
                        .col(RateWindows::KeyId)
                        .col(RateWindows::Minute),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(RateWindows::Table).to_owned())
            .await
    }
}
