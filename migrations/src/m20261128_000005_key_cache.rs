//! The key cache's invalidation, done by the database itself, so that every writer (the portal,
//! the CLI, a person at a SQL prompt) invalidates it: whenever a key, its devices, its owner,
//! the owner's grants or a device or customer name changes, PostgreSQL notifies every instance
//! on channel `partlogic_keys` (at commit), and SQLite bumps a generation number that each
//! instance polls.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (table, the change that matters) pairs. Inserts of keys and devices do not matter: nothing
/// cached can name a key or a device that did not exist.
const WATCHED: &[(&str, &str)] = &[
    (
        "api_keys",
        "UPDATE OF retired_at, expires_at, name, prefix, user_id, account_id, digest",
    ),
    ("api_keys", "DELETE"),
    ("api_key_devices", "INSERT"),
    ("api_key_devices", "UPDATE"),
    ("api_key_devices", "DELETE"),
    ("users", "UPDATE OF role, disabled_at, account_id"),
    ("users", "DELETE"),
    ("user_devices", "INSERT"),
    ("user_devices", "UPDATE"),
    ("user_devices", "DELETE"),
    ("devices", "UPDATE OF name, customer_id, account_id"),
    ("devices", "DELETE"),
    ("customers", "UPDATE OF name"),
    ("customers", "DELETE"),
];

fn trigger_name(table: &str, event: &str) -> String {
    let verb = event
        .split_whitespace()
        .next()
        .unwrap_or("change")
        .to_lowercase();
    format!("tr_key_cache_{table}_{verb}")
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if m.get_database_backend() == sea_orm::DbBackend::Postgres {
            db.execute_unprepared(
                "CREATE OR REPLACE FUNCTION partlogic_keys_changed() RETURNS trigger \
                 LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('partlogic_keys', ''); \
                 RETURN NULL; END $$",
            )
            .await?;
            for (table, event) in WATCHED {
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER {} AFTER {event} ON {table} FOR EACH STATEMENT \
                     EXECUTE FUNCTION partlogic_keys_changed()",
                    trigger_name(table, event)
                ))
                .await?;
            }
        }
        // Both databases keep the generation (PostgreSQL instances do not poll it, but a
        // tool may); on SQLite it is the signal.
        db.execute_unprepared(
            "CREATE TABLE key_cache_generation (id INTEGER PRIMARY KEY, generation BIGINT NOT NULL)",
        )
        .await?;
        db.execute_unprepared("INSERT INTO key_cache_generation (id, generation) VALUES (1, 0)")
            .await?;
        if m.get_database_backend() == sea_orm::DbBackend::Sqlite {
            for (table, event) in WATCHED {
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER {} AFTER {event} ON {table} BEGIN \
                     UPDATE key_cache_generation SET generation = generation + 1 WHERE id = 1; END",
                    trigger_name(table, event)
                ))
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for (table, event) in WATCHED {
            let sql = if m.get_database_backend() == sea_orm::DbBackend::Postgres {
                format!(
                    "DROP TRIGGER IF EXISTS {} ON {table}",
                    trigger_name(table, event)
                )
            } else {
                format!("DROP TRIGGER IF EXISTS {}", trigger_name(table, event))
            };
            db.execute_unprepared(&sql).await?;
        }
        db.execute_unprepared("DROP TABLE IF EXISTS key_cache_generation")
            .await?;
        if m.get_database_backend() == sea_orm::DbBackend::Postgres {
            db.execute_unprepared("DROP FUNCTION IF EXISTS partlogic_keys_changed()")
                .await?;
        }
        Ok(())
    }
}
