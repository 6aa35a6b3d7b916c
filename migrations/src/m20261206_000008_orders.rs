//! Orders, the Stock API's first writes: key permissions, replenishment orders with their lines
//! and history, per-account order numbers, and the `Idempotency-Key` records that make creating
//! one happen exactly once.
//!
//! Existing keys keep exactly what they could do (`permissions` empty: stock read, orders
//! none). Permissions are stored as scope words (`orders:write`) so that the next resource
//! needs no migration.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Permissions,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Devices {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Stock {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    AccountId,
    Number,
    DeviceId,
    Status,
    Reference,
    Note,
    CreatedByKeyId,
    CreatedByUserId,
    CreatedByName,
    CreatedByDetail,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum OrderLines {
    Table,
    Id,
    OrderId,
    LineNo,
    StockId,
    Sku,
    Quantity,
    Received,
}

#[derive(DeriveIden)]
enum OrderEvents {
    Table,
    Id,
    OrderId,
    Action,
    ActorKind,
    ActorName,
    ActorDetail,
    At,
    Detail,
}

#[derive(DeriveIden)]
enum OrderCounters {
    Table,
    AccountId,
    Last,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Id,
    AccountId,
    ApiKeyId,
    IdemKey,
    Endpoint,
    RequestDigest,
    Token,
    LockedAt,
    ExpiresAt,
    ResponseStatus,
    ResponseBody,
    ResponseLocation,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ApiKeys::Table)
                .add_column(string(ApiKeys::Permissions).default(""))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(OrderCounters::Table)
                .col(big_integer(OrderCounters::AccountId).primary_key())
                .col(big_integer(OrderCounters::Last).default(0))
                .foreign_key(
                    ForeignKey::create()
                        .from(OrderCounters::Table, OrderCounters::AccountId)
                        .to(Accounts::Table, Accounts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Orders::Table)
                .col(big_pk_auto(Orders::Id))
                .col(big_integer(Orders::AccountId))
                .col(big_integer(Orders::Number))
                .col(big_integer(Orders::DeviceId))
                .col(string(Orders::Status))
                .col(string_null(Orders::Reference))
                .col(text_null(Orders::Note))
                // Who created it: a key or a user (the other is null), and their name and prefix
                // or email as they were then, so the order still says who after a rename.
                .col(big_integer_null(Orders::CreatedByKeyId))
                .col(big_integer_null(Orders::CreatedByUserId))
                .col(string(Orders::CreatedByName))
                .col(string(Orders::CreatedByDetail))
                .col(timestamp_with_time_zone(Orders::CreatedAt))
                .col(timestamp_with_time_zone(Orders::UpdatedAt))
                .col(integer(Orders::Version).default(1))
                .foreign_key(
                    ForeignKey::create()
                        .from(Orders::Table, Orders::AccountId)
                        .to(Accounts::Table, Accounts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Orders::Table, Orders::DeviceId)
                        .to(Devices::Table, Devices::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("orders_account_number")
                .table(Orders::Table)
                .col(Orders::AccountId)
                .col(Orders::Number)
                .unique()
                .to_owned(),
        )
        .await?;
        // Listings walk newest first within the devices a caller reaches.
        m.create_index(
            Index::create()
                .name("orders_device_id")
                .table(Orders::Table)
                .col(Orders::DeviceId)
                .col(Orders::Id)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(OrderLines::Table)
                .col(big_pk_auto(OrderLines::Id))
                .col(big_integer(OrderLines::OrderId))
                .col(integer(OrderLines::LineNo))
                .col(big_integer(OrderLines::StockId))
                .col(string(OrderLines::Sku))
                .col(big_integer(OrderLines::Quantity))
                .col(big_integer(OrderLines::Received).default(0))
                .foreign_key(
                    ForeignKey::create()
                        .from(OrderLines::Table, OrderLines::OrderId)
                        .to(Orders::Table, Orders::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(OrderLines::Table, OrderLines::StockId)
                        .to(Stock::Table, Stock::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("order_lines_order")
                .table(OrderLines::Table)
                .col(OrderLines::OrderId)
                .col(OrderLines::LineNo)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(OrderEvents::Table)
                .col(big_pk_auto(OrderEvents::Id))
                .col(big_integer(OrderEvents::OrderId))
                .col(string(OrderEvents::Action))
                .col(string(OrderEvents::ActorKind))
                .col(string(OrderEvents::ActorName))
                .col(string(OrderEvents::ActorDetail))
                .col(timestamp_with_time_zone(OrderEvents::At))
                .col(text_null(OrderEvents::Detail))
                .foreign_key(
                    ForeignKey::create()
                        .from(OrderEvents::Table, OrderEvents::OrderId)
                        .to(Orders::Table, Orders::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("order_events_order")
                .table(OrderEvents::Table)
                .col(OrderEvents::OrderId)
                .col(OrderEvents::Id)
                .to_owned(),
        )
        .await?;

        // One row per (account, API key, Idempotency-Key): the unique index is what decides, on
        // every instance at once, which request is the first.
        m.create_table(
            Table::create()
                .table(IdempotencyKeys::Table)
                .col(big_pk_auto(IdempotencyKeys::Id))
                .col(big_integer(IdempotencyKeys::AccountId))
                // The key that sent it: a record answers only that key's retries (another key
                // of the account may reach other devices, and must not read their orders in a
                // replay, nor take a key another integration will use).
                .col(big_integer(IdempotencyKeys::ApiKeyId))
                .col(string(IdempotencyKeys::IdemKey))
                .col(string(IdempotencyKeys::Endpoint))
                .col(string(IdempotencyKeys::RequestDigest))
                // Held by the request processing it (null once its result is stored).
                .col(string_null(IdempotencyKeys::Token))
                .col(timestamp_with_time_zone(IdempotencyKeys::LockedAt))
                .col(timestamp_with_time_zone(IdempotencyKeys::ExpiresAt))
                .col(integer_null(IdempotencyKeys::ResponseStatus))
                .col(text_null(IdempotencyKeys::ResponseBody))
                .col(string_null(IdempotencyKeys::ResponseLocation))
                .foreign_key(
                    ForeignKey::create()
                        .from(IdempotencyKeys::Table, IdempotencyKeys::AccountId)
                        .to(Accounts::Table, Accounts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idempotency_keys_account_key")
                .table(IdempotencyKeys::Table)
                .col(IdempotencyKeys::AccountId)
                .col(IdempotencyKeys::ApiKeyId)
                .col(IdempotencyKeys::IdemKey)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idempotency_keys_expires_at")
                .table(IdempotencyKeys::Table)
                .col(IdempotencyKeys::ExpiresAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            IdempotencyKeys::Table.into_iden(),
            OrderEvents::Table.into_iden(),
            OrderLines::Table.into_iden(),
            Orders::Table.into_iden(),
            OrderCounters::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        m.alter_table(
            Table::alter()
                .table(ApiKeys::Table)
                .drop_column(ApiKeys::Permissions)
                .to_owned(),
        )
        .await
    }
}
