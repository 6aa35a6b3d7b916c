//! Low-stock alerts: one row per crossing of a stock row's minimum (down: `below_min`, back up:
//! `restocked`), written in the same transaction as the change. Ids are never reused (SQLite
//! `AUTOINCREMENT`, PostgreSQL sequences), because polling tools such as Zapier deduplicate on
//! them forever.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StockAlerts {
    Table,
    Id,
    StockId,
    DeviceId,
    Kind,
    MinQty,
    MaxQty,
    Physical,
    PreviousPhysical,
    At,
}

#[derive(DeriveIden)]
enum Stock {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Devices {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(StockAlerts::Table)
                .col(big_pk_auto(StockAlerts::Id))
                .col(big_integer(StockAlerts::StockId))
                .col(big_integer(StockAlerts::DeviceId))
                .col(string(StockAlerts::Kind))
                .col(big_integer(StockAlerts::MinQty))
                .col(big_integer(StockAlerts::MaxQty))
                .col(big_integer(StockAlerts::Physical))
                .col(big_integer(StockAlerts::PreviousPhysical))
                .col(timestamp_with_time_zone(StockAlerts::At))
                .foreign_key(
                    ForeignKey::create()
                        .from(StockAlerts::Table, StockAlerts::StockId)
                        .to(Stock::Table, Stock::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(StockAlerts::Table, StockAlerts::DeviceId)
                        .to(Devices::Table, Devices::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        // A key's alerts, newest first: walk each reached device's alerts by id.
        m.create_index(
            Index::create()
                .name("ix_stock_alerts_device_id")
                .table(StockAlerts::Table)
                .col(StockAlerts::DeviceId)
                .col(StockAlerts::Id)
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_stock_alerts_at")
                .table(StockAlerts::Table)
                .col(StockAlerts::At)
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(StockAlerts::Table).to_owned())
            .await
    }
}
