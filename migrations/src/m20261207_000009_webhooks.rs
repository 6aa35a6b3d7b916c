//! Webhooks: endpoints that belong to a key, the events written with the changes they report
//! (the outbox), and one delivery per event and endpoint, claimed by workers.
//!
//! Signing secrets are stored encrypted with a key that is not in the database
//! (`PARTLOGIC_WEBHOOK_KEY`), so a dump alone cannot sign as PartLogic.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    ExpiringNoticeAt,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    AccountId,
    KeyId,
    Url,
    Description,
    Events,
    Format,
    Secret,
    PreviousSecret,
    PreviousUntil,
    Enabled,
    DisabledReason,
    FailingSince,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookMessages {
    Table,
    Id,
    PublicId,
    AccountId,
    DeviceId,
    EventType,
    Payload,
    CreatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    EndpointId,
    MessageId,
    State,
    Attempts,
    NextAttemptAt,
    ClaimedUntil,
    LastAttemptAt,
    LastStatus,
    LastLatencyMs,
    LastError,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // `key.expiring` is sent once per key: when it was.
        m.alter_table(
            Table::alter()
                .table(ApiKeys::Table)
                .add_column(timestamp_with_time_zone_null(ApiKeys::ExpiringNoticeAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(WebhookEndpoints::Table)
                .col(big_pk_auto(WebhookEndpoints::Id))
                .col(big_integer(WebhookEndpoints::AccountId))
                .col(big_integer(WebhookEndpoints::KeyId))
                .col(text(WebhookEndpoints::Url))
                .col(string(WebhookEndpoints::Description))
                // Event types, space-separated.
                .col(string(WebhookEndpoints::Events))
                .col(string(WebhookEndpoints::Format))
                .col(string(WebhookEndpoints::Secret))
                .col(string_null(WebhookEndpoints::PreviousSecret))
                .col(timestamp_with_time_zone_null(
                    WebhookEndpoints::PreviousUntil,
                ))
                .col(boolean(WebhookEndpoints::Enabled).default(true))
                .col(string_null(WebhookEndpoints::DisabledReason))
                .col(timestamp_with_time_zone_null(
                    WebhookEndpoints::FailingSince,
                ))
                .col(timestamp_with_time_zone(WebhookEndpoints::CreatedAt))
                .col(timestamp_with_time_zone(WebhookEndpoints::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(WebhookEndpoints::Table, WebhookEndpoints::AccountId)
                        .to(Accounts::Table, Accounts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(WebhookEndpoints::Table, WebhookEndpoints::KeyId)
                        .to(ApiKeys::Table, ApiKeys::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // A change looks up the endpoints of its account.
        m.create_index(
            Index::create()
                .name("webhook_endpoints_account")
                .table(WebhookEndpoints::Table)
                .col(WebhookEndpoints::AccountId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("webhook_endpoints_key")
                .table(WebhookEndpoints::Table)
                .col(WebhookEndpoints::KeyId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(WebhookMessages::Table)
                .col(big_pk_auto(WebhookMessages::Id))
                .col(string(WebhookMessages::PublicId))
                .col(big_integer(WebhookMessages::AccountId))
                .col(big_integer_null(WebhookMessages::DeviceId))
                .col(string(WebhookMessages::EventType))
                .col(text(WebhookMessages::Payload))
                .col(timestamp_with_time_zone(WebhookMessages::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(WebhookMessages::Table, WebhookMessages::AccountId)
                        .to(Accounts::Table, Accounts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("webhook_messages_public_id")
                .table(WebhookMessages::Table)
                .col(WebhookMessages::PublicId)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(WebhookDeliveries::Table)
                .col(big_pk_auto(WebhookDeliveries::Id))
                .col(big_integer(WebhookDeliveries::EndpointId))
                .col(big_integer(WebhookDeliveries::MessageId))
                .col(string(WebhookDeliveries::State))
                .col(integer(WebhookDeliveries::Attempts).default(0))
                .col(timestamp_with_time_zone(WebhookDeliveries::NextAttemptAt))
                .col(timestamp_with_time_zone_null(
                    WebhookDeliveries::ClaimedUntil,
                ))
                .col(timestamp_with_time_zone_null(
                    WebhookDeliveries::LastAttemptAt,
                ))
                .col(integer_null(WebhookDeliveries::LastStatus))
                .col(big_integer_null(WebhookDeliveries::LastLatencyMs))
                .col(string_null(WebhookDeliveries::LastError))
                .foreign_key(
                    ForeignKey::create()
                        .from(WebhookDeliveries::Table, WebhookDeliveries::EndpointId)
                        .to(WebhookEndpoints::Table, WebhookEndpoints::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(WebhookDeliveries::Table, WebhookDeliveries::MessageId)
                        .to(WebhookMessages::Table, WebhookMessages::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // Workers claim what is due, oldest first.
        m.create_index(
            Index::create()
                .name("webhook_deliveries_due")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::State)
                .col(WebhookDeliveries::NextAttemptAt)
                .to_owned(),
        )
        .await?;
        // An endpoint's deliveries, newest first; one per message.
        m.create_index(
            Index::create()
                .name("webhook_deliveries_endpoint")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::EndpointId)
                .col(WebhookDeliveries::MessageId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("webhook_deliveries_message")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::MessageId)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            WebhookDeliveries::Table.into_iden(),
            WebhookMessages::Table.into_iden(),
            WebhookEndpoints::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        m.alter_table(
            Table::alter()
                .table(ApiKeys::Table)
                .drop_column(ApiKeys::ExpiringNoticeAt)
                .to_owned(),
        )
        .await
    }
}
