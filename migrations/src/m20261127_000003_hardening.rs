//! Hardening: bounded login throttling (one counter per subject and window, subjects stored only
//! as keyed digests), the server's own secrets, and a version on every key for `ETag`/`If-Match`.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LoginFailures {
    Table,
}

#[derive(DeriveIden)]
enum LoginThrottle {
    Table,
    Subject,
    WindowStart,
    Attempts,
}

#[derive(DeriveIden)]
enum ServerSecrets {
    Table,
    Name,
    Value,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Version,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // The old table held raw input (a password typed into the email field stayed there);
        // nothing in it is worth carrying over.
        m.drop_table(
            Table::drop()
                .table(LoginFailures::Table)
                .if_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(LoginThrottle::Table)
                .col(string(LoginThrottle::Subject).primary_key())
                .col(big_integer(LoginThrottle::WindowStart))
                .col(integer(LoginThrottle::Attempts))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_login_throttle_window")
                .table(LoginThrottle::Table)
                .col(LoginThrottle::WindowStart)
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ServerSecrets::Table)
                .col(string(ServerSecrets::Name).primary_key())
                .col(string(ServerSecrets::Value))
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(ApiKeys::Table)
                .add_column(integer(ApiKeys::Version).default(1))
                .take(),
        )
        .await?;
        // Keys made before dates were capped at four-digit years may hold one past 9999, which
        // no client can read. Such a key never expires in practice; now it says so.
        let repair = match m.get_database_backend() {
            sea_orm::DbBackend::Postgres => {
                "UPDATE api_keys SET expires_on = NULL, expires_at = NULL \
                 WHERE expires_on > DATE '9999-12-31'"
            }
            _ => {
                "UPDATE api_keys SET expires_on = NULL, expires_at = NULL \
                 WHERE length(expires_on) > 10"
            }
        };
        m.get_connection().execute_unprepared(repair).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ApiKeys::Table)
                .drop_column(ApiKeys::Version)
                .take(),
        )
        .await?;
        m.drop_table(Table::drop().table(ServerSecrets::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(LoginThrottle::Table).to_owned())
            .await
    }
}
