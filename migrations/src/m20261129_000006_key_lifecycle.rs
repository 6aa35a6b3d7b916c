//! Key lifecycle: rolling a key with an overlap (the previous secret's digest and prefix, and
//! when it stops), per-key rate limits (and each account's default), why a key was retired,
//! hourly usage counters, refused-use events at most once per reason and hour, leak reports,
//! and the digests of secrets rolled past (refused as retired, not as unknown).
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    PreviousDigest,
    PreviousPrefix,
    PreviousUntil,
    RateLimitPerMinute,
    RetiredReason,
    RetiredDetail,
    LeakedAt,
    LeakedUrl,
}

#[derive(DeriveIden)]
enum RetiredDigests {
    Table,
    Digest,
    KeyId,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    RateLimitPerMinute,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Dedupe,
}

#[derive(DeriveIden)]
enum KeyUsage {
    Table,
    KeyId,
    Hour,
    Outcome,
    Requests,
    Rows,
}

/// The requests a key may make a minute when neither it nor its account says otherwise.
const DEFAULT_RATE_LIMIT: i32 = 600;

/// The columns of `api_keys` whose change the key cache must hear of (the earlier migration's
/// list, and the new ones a cached key carries).
const KEY_COLUMNS: &str = "retired_at, expires_at, name, prefix, user_id, account_id, digest, \
     previous_digest, previous_until, rate_limit_per_minute";
const OLD_KEY_COLUMNS: &str = "retired_at, expires_at, name, prefix, user_id, account_id, digest";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        for col in [
            string_null(ApiKeys::PreviousDigest),
            string_null(ApiKeys::PreviousPrefix),
            timestamp_with_time_zone_null(ApiKeys::PreviousUntil),
            integer_null(ApiKeys::RateLimitPerMinute),
            string_null(ApiKeys::RetiredReason),
            text_null(ApiKeys::RetiredDetail),
            timestamp_with_time_zone_null(ApiKeys::LeakedAt),
            text_null(ApiKeys::LeakedUrl),
        ] {
            let mut col = col;
            m.alter_table(
                Table::alter()
                    .table(ApiKeys::Table)
                    .add_column(&mut col)
                    .take(),
            )
            .await?;
        }
        m.create_index(
            Index::create()
                .name("ux_api_keys_previous_digest")
                .table(ApiKeys::Table)
                .col(ApiKeys::PreviousDigest)
                .unique()
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Accounts::Table)
                .add_column(integer(Accounts::RateLimitPerMinute).default(DEFAULT_RATE_LIMIT))
                .take(),
        )
        .await?;
        // Refused uses are recorded at most once per key, reason and hour: the event carries
        // that as a unique text, and the database refuses the second.
        m.alter_table(
            Table::alter()
                .table(AuditEvents::Table)
                .add_column(string_null(AuditEvents::Dedupe))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_audit_events_dedupe")
                .table(AuditEvents::Table)
                .col(AuditEvents::Dedupe)
                .unique()
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(KeyUsage::Table)
                .col(big_integer(KeyUsage::KeyId))
                .col(timestamp_with_time_zone(KeyUsage::Hour))
                .col(string(KeyUsage::Outcome))
                .col(big_integer(KeyUsage::Requests))
                .col(big_integer(KeyUsage::Rows))
                .primary_key(
                    Index::create()
                        .col(KeyUsage::KeyId)
                        .col(KeyUsage::Hour)
                        .col(KeyUsage::Outcome),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(KeyUsage::Table, KeyUsage::KeyId)
                        .to(ApiKeys::Table, ApiKeys::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_key_usage_hour")
                .table(KeyUsage::Table)
                .col(KeyUsage::Hour)
                .take(),
        )
        .await?;
        // Secrets a key no longer has (rolled past): still recognised, to be refused as retired
        // rather than unknown.
        m.create_table(
            Table::create()
                .table(RetiredDigests::Table)
                .col(string(RetiredDigests::Digest).primary_key())
                .col(big_integer(RetiredDigests::KeyId))
                .foreign_key(
                    ForeignKey::create()
                        .from(RetiredDigests::Table, RetiredDigests::KeyId)
                        .to(ApiKeys::Table, ApiKeys::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .take(),
        )
        .await?;
        replace_key_trigger(m, KEY_COLUMNS).await?;
        watch(
            m,
            "accounts",
            "UPDATE OF rate_limit_per_minute",
            "accounts_update",
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_trigger(m, "accounts", "accounts_update").await?;
        replace_key_trigger(m, OLD_KEY_COLUMNS).await?;
        m.drop_table(Table::drop().table(RetiredDigests::Table).take())
            .await?;
        m.drop_table(Table::drop().table(KeyUsage::Table).take())
            .await?;
        m.drop_index(
            Index::drop()
                .name("ux_audit_events_dedupe")
                .table(AuditEvents::Table)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(AuditEvents::Table)
                .drop_column(AuditEvents::Dedupe)
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Accounts::Table)
                .drop_column(Accounts::RateLimitPerMinute)
                .take(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("ux_api_keys_previous_digest")
                .table(ApiKeys::Table)
                .to_owned(),
        )
        .await?;
        for col in [
            ApiKeys::PreviousDigest,
            ApiKeys::PreviousPrefix,
            ApiKeys::PreviousUntil,
            ApiKeys::RateLimitPerMinute,
            ApiKeys::RetiredReason,
            ApiKeys::RetiredDetail,
            ApiKeys::LeakedAt,
            ApiKeys::LeakedUrl,
        ] {
            m.alter_table(Table::alter().table(ApiKeys::Table).drop_column(col).take())
                .await?;
        }
        Ok(())
    }
}

/// The key cache's trigger on `api_keys` updates, made to watch `columns`.
async fn replace_key_trigger(m: &SchemaManager<'_>, columns: &str) -> Result<(), DbErr> {
    drop_trigger(m, "api_keys", "tr_key_cache_api_keys_update").await?;
    watch(
        m,
        "api_keys",
        &format!("UPDATE OF {columns}"),
        "tr_key_cache_api_keys_update",
    )
    .await
}

async fn drop_trigger(m: &SchemaManager<'_>, table: &str, name: &str) -> Result<(), DbErr> {
    let name = trigger(name);
    let sql = if m.get_database_backend() == sea_orm::DbBackend::Postgres {
        format!("DROP TRIGGER IF EXISTS {name} ON {table}")
    } else {
        format!("DROP TRIGGER IF EXISTS {name}")
    };
    m.get_connection().execute_unprepared(&sql).await?;
    Ok(())
}

/// A trigger that tells every instance's key cache of `event` on `table` (as the key cache
/// migration's triggers do).
async fn watch(m: &SchemaManager<'_>, table: &str, event: &str, name: &str) -> Result<(), DbErr> {
    let name = trigger(name);
    let sql = if m.get_database_backend() == sea_orm::DbBackend::Postgres {
        format!(
            "CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH STATEMENT \
             EXECUTE FUNCTION partlogic_keys_changed()"
        )
    } else {
        format!(
            "CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN \
             UPDATE key_cache_generation SET generation = generation + 1 WHERE id = 1; END"
        )
    };
    m.get_connection().execute_unprepared(&sql).await?;
    Ok(())
}

/// Trigger names as the key cache migration writes them.
fn trigger(name: &str) -> String {
    if name.starts_with("tr_key_cache_") {
        name.to_owned()
    } else {
        format!("tr_key_cache_{name}")
    }
}
