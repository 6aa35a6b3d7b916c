//! Stock by (device, id): the Stock API pages and streams a key's rows in id order, and this
//! index lets it seek straight to `id > after` within each of the key's devices and read ids
//! without touching the table.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("ix_stock_device_id")
                .table(Alias::new("stock"))
                .col(Alias::new("device_id"))
                .col(Alias::new("id"))
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_stock_device_id")
                .table(Alias::new("stock"))
                .to_owned(),
        )
        .await
    }
}
