//! The initial schema: accounts, customers, devices, stock, users, keys, audit, sessions.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Customers {
    Table,
    Id,
    AccountId,
    Name,
}

#[derive(DeriveIden)]
enum Devices {
    Table,
    Id,
    AccountId,
    CustomerId,
    Name,
}

#[derive(DeriveIden)]
enum Stock {
    Table,
    Id,
    DeviceId,
    Sku,
    Description,
    MinQty,
    MaxQty,
    Physical,
    Location,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    AccountId,
    Email,
    Name,
    PasswordHash,
    Role,
    DisabledAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum UserDevices {
    Table,
    UserId,
    DeviceId,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    AccountId,
    UserId,
    Name,
    Prefix,
    Digest,
    CreatedAt,
    ExpiresOn,
    TimeZone,
    ExpiresAt,
    RetiredAt,
    RetiredBy,
    LastUsedAt,
    LastUsedIp,
}

#[derive(DeriveIden)]
enum ApiKeyDevices {
    Table,
    KeyId,
    DeviceId,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    AccountId,
    KeyId,
    ActorId,
    Action,
    Ip,
    Detail,
    At,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    Digest,
    UserId,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum LoginFailures {
    Table,
    Id,
    Subject,
    At,
}

/// A foreign key that takes the child rows with it: a deleted device must vanish from stock,
/// grants and keys at once, which is what "disappears from the key's results" means.
fn cascade(
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

async fn index(
    m: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    cols: &[&'static str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for c in cols {
        stmt.col(Alias::new(*c));
    }
    if unique {
        stmt.unique();
    }
    m.create_index(stmt).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Accounts::Table)
                .col(big_pk_auto(Accounts::Id))
                .col(string_uniq(Accounts::Name))
                .col(timestamp_with_time_zone(Accounts::CreatedAt))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Customers::Table)
                .col(big_pk_auto(Customers::Id))
                .col(big_integer(Customers::AccountId))
                .col(string(Customers::Name))
                .foreign_key(&mut cascade(
                    (Customers::Table, Customers::AccountId),
                    (Accounts::Table, Accounts::Id),
                ))
                .take(),
        )
        .await?;
        index(
            m,
            "ux_customers_account_name",
            Customers::Table,
            &["account_id", "name"],
            true,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Devices::Table)
                .col(big_pk_auto(Devices::Id))
                .col(big_integer(Devices::AccountId))
                .col(big_integer(Devices::CustomerId))
                .col(string(Devices::Name))
                .foreign_key(&mut cascade(
                    (Devices::Table, Devices::AccountId),
                    (Accounts::Table, Accounts::Id),
                ))
                .foreign_key(&mut cascade(
                    (Devices::Table, Devices::CustomerId),
                    (Customers::Table, Customers::Id),
                ))
                .take(),
        )
        .await?;
        index(
            m,
            "ux_devices_account_name",
            Devices::Table,
            &["account_id", "name"],
            true,
        )
        .await?;
        index(
            m,
            "ix_devices_customer",
            Devices::Table,
            &["customer_id"],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Stock::Table)
                .col(big_pk_auto(Stock::Id))
                .col(big_integer(Stock::DeviceId))
                .col(string(Stock::Sku))
                .col(text(Stock::Description))
                .col(big_integer(Stock::MinQty))
                .col(big_integer(Stock::MaxQty))
                .col(big_integer(Stock::Physical))
                .col(string(Stock::Location))
                .col(timestamp_with_time_zone(Stock::UpdatedAt))
                .foreign_key(&mut cascade(
                    (Stock::Table, Stock::DeviceId),
                    (Devices::Table, Devices::Id),
                ))
                .take(),
        )
        .await?;
        // (device_id, sku) is both the import's upsert key and the index the Stock API's
        // `device_id IN (…)` filter walks.
        index(
            m,
            "ux_stock_device_sku",
            Stock::Table,
            &["device_id", "sku"],
            true,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(big_pk_auto(Users::Id))
                .col(big_integer(Users::AccountId))
                .col(string_uniq(Users::Email))
                .col(string(Users::Name))
                .col(string(Users::PasswordHash))
                .col(string(Users::Role))
                .col(timestamp_with_time_zone_null(Users::DisabledAt))
                .col(timestamp_with_time_zone(Users::CreatedAt))
                .foreign_key(&mut cascade(
                    (Users::Table, Users::AccountId),
                    (Accounts::Table, Accounts::Id),
                ))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(UserDevices::Table)
                .col(big_integer(UserDevices::UserId))
                .col(big_integer(UserDevices::DeviceId))
                .primary_key(
                    Index::create()
                        .col(UserDevices::UserId)
                        .col(UserDevices::DeviceId),
                )
                .foreign_key(&mut cascade(
                    (UserDevices::Table, UserDevices::UserId),
                    (Users::Table, Users::Id),
                ))
                .foreign_key(&mut cascade(
                    (UserDevices::Table, UserDevices::DeviceId),
                    (Devices::Table, Devices::Id),
                ))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ApiKeys::Table)
                .col(big_pk_auto(ApiKeys::Id))
                .col(big_integer(ApiKeys::AccountId))
                .col(big_integer(ApiKeys::UserId))
                .col(string(ApiKeys::Name))
                .col(string(ApiKeys::Prefix))
                .col(string_uniq(ApiKeys::Digest))
                .col(timestamp_with_time_zone(ApiKeys::CreatedAt))
                .col(date_null(ApiKeys::ExpiresOn))
                .col(string(ApiKeys::TimeZone))
                .col(timestamp_with_time_zone_null(ApiKeys::ExpiresAt))
                .col(timestamp_with_time_zone_null(ApiKeys::RetiredAt))
                .col(big_integer_null(ApiKeys::RetiredBy))
                .col(timestamp_with_time_zone_null(ApiKeys::LastUsedAt))
                .col(string_null(ApiKeys::LastUsedIp))
                .foreign_key(&mut cascade(
                    (ApiKeys::Table, ApiKeys::AccountId),
                    (Accounts::Table, Accounts::Id),
                ))
                .foreign_key(&mut cascade(
                    (ApiKeys::Table, ApiKeys::UserId),
                    (Users::Table, Users::Id),
                ))
                .take(),
        )
        .await?;
        index(
            m,
            "ix_api_keys_account",
            ApiKeys::Table,
            &["account_id"],
            false,
        )
        .await?;
        index(m, "ix_api_keys_user", ApiKeys::Table, &["user_id"], false).await?;

        m.create_table(
            Table::create()
                .table(ApiKeyDevices::Table)
                .col(big_integer(ApiKeyDevices::KeyId))
                .col(big_integer(ApiKeyDevices::DeviceId))
                .primary_key(
                    Index::create()
                        .col(ApiKeyDevices::KeyId)
                        .col(ApiKeyDevices::DeviceId),
                )
                .foreign_key(&mut cascade(
                    (ApiKeyDevices::Table, ApiKeyDevices::KeyId),
                    (ApiKeys::Table, ApiKeys::Id),
                ))
                .foreign_key(&mut cascade(
                    (ApiKeyDevices::Table, ApiKeyDevices::DeviceId),
                    (Devices::Table, Devices::Id),
                ))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AuditEvents::Table)
                .col(big_pk_auto(AuditEvents::Id))
                .col(big_integer(AuditEvents::AccountId))
                .col(big_integer(AuditEvents::KeyId))
                .col(big_integer_null(AuditEvents::ActorId))
                .col(string(AuditEvents::Action))
                .col(string_null(AuditEvents::Ip))
                .col(text_null(AuditEvents::Detail))
                .col(timestamp_with_time_zone(AuditEvents::At))
                .foreign_key(&mut cascade(
                    (AuditEvents::Table, AuditEvents::KeyId),
                    (ApiKeys::Table, ApiKeys::Id),
                ))
                .take(),
        )
        .await?;
        index(
            m,
            "ix_audit_events_key",
            AuditEvents::Table,
            &["key_id"],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Sessions::Table)
                .col(big_pk_auto(Sessions::Id))
                .col(string_uniq(Sessions::Digest))
                .col(big_integer(Sessions::UserId))
                .col(timestamp_with_time_zone(Sessions::CreatedAt))
                .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                .foreign_key(&mut cascade(
                    (Sessions::Table, Sessions::UserId),
                    (Users::Table, Users::Id),
                ))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(LoginFailures::Table)
                .col(big_pk_auto(LoginFailures::Id))
                .col(string(LoginFailures::Subject))
                .col(timestamp_with_time_zone(LoginFailures::At))
                .take(),
        )
        .await?;
        index(
            m,
            "ix_login_failures_subject",
            LoginFailures::Table,
            &["subject", "at"],
            false,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            LoginFailures::Table.into_iden(),
            Sessions::Table.into_iden(),
            AuditEvents::Table.into_iden(),
            ApiKeyDevices::Table.into_iden(),
            ApiKeys::Table.into_iden(),
            UserDevices::Table.into_iden(),
            Users::Table.into_iden(),
            Stock::Table.into_iden(),
            Devices::Table.into_iden(),
            Customers::Table.into_iden(),
            Accounts::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).take()).await?;
        }
        Ok(())
    }
}
