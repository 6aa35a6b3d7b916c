//! Database connection and migrations.

use partlogic_migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

/// The pool's size.
pub const MAX_CONNECTIONS: u32 = 16;

/// Opens a pool on `url`. SQLite gets WAL journalling so readers never wait for the writer.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut opts = ConnectOptions::new(url.to_owned());
    // sqlx's statement log would be noise at info level; slow statements still warn.
    opts.sqlx_logging(false)
        .max_connections(MAX_CONNECTIONS)
        .min_connections(1);
    if url.starts_with("sqlite:") {
        opts.map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(std::time::Duration::from_secs(10))
        });
    }
    // sea-orm's connection errors quote the whole URL, password and all.
    Database::connect(opts).await.map_err(|e| {
        DbErr::Custom(format!(
            "cannot open the database {}: {}",
            redact_url(url),
            e.to_string().replace(url, &redact_url(url))
        ))
    })
}

/// `url` with any password replaced by `***`, fit for messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => match rest[..at].find(':') {
            Some(colon) => format!(
                "{}{}:***{}",
                &url[..scheme_end],
                &rest[..colon],
                &rest[at..]
            ),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// Runs every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Starts a transaction that will write. On SQLite it takes the write lock up front
/// (`BEGIN IMMEDIATE`): a deferred transaction that reads first and writes later fails at once
/// with "database is locked" when another writer got in between, instead of waiting its turn.
/// PostgreSQL ignores the mode.
pub async fn begin_write(db: &DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, DbErr> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_leave_urls() {
        assert_eq!(
            redact_url("postgres://pl:s3cret@db:5432/x?ssl=1"),
            "postgres://pl:***@db:5432/x?ssl=1"
        );
        assert_eq!(redact_url("postgres://pl@db/x"), "postgres://pl@db/x");
        assert_eq!(
            redact_url("sqlite://partlogic.db?mode=rwc"),
            "sqlite://partlogic.db?mode=rwc"
        );
    }
}
