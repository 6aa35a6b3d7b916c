//! Database connection and migrations.

pub mod store;
pub mod upkeep;

use partlogic_migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, Statement,
};

/// The pool's size unless [`crate::Settings::db_max_connections`] says otherwise.
pub const MAX_CONNECTIONS: u32 = 16;

/// How long a request waits for a database connection (or for a new one to open) before it is
/// told the service is unavailable: an outage answers in about this long instead of hanging.
pub const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Opens a pool of `max_connections` on `url`. SQLite gets WAL journalling so readers never
/// wait for the writer, and `synchronous=FULL` so that an answered create or retire survives a
/// power cut (in WAL mode NORMAL may lose the last commits; FULL syncs the WAL at every commit,
/// which costs writes a little and reads nothing).
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    let mut opts = ConnectOptions::new(url.to_owned());
    // sqlx's statement log would be noise at info level; slow statements still warn.
    // Every connection is opened up front, on the runtime that opens the pool (which
    // outlives the HTTP workers): a PostgreSQL connection belongs to the
    // runtime that opened it, and one opened on demand inside an HTTP worker dies with that
    // worker when a stopping server lets it go first, failing whichever request (an export
    // finishing during shutdown) holds it then.
    let max = max_connections.max(1);
    // For the same reason no connection is retired: sqlx would close each after 30 minutes and
    // open its replacement on whichever runtime asked next, an HTTP worker's.
    opts.sqlx_logging(false)
        .max_connections(max)
        .min_connections(max)
        .max_lifetime(None::<std::time::Duration>)
        .connect_timeout(CONNECT_TIMEOUT)
        .acquire_timeout(CONNECT_TIMEOUT);
    if url.starts_with("sqlite:") {
        opts.map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(std::time::Duration::from_secs(10))
                // 512 KiB of page cache per connection instead of SQLite's 2 MB. The pool's
                // connections write and serve the portal (stock reads have their own, see
                // `store::sqlite`), and each kept what it had cached: a drain of 100,000
                // webhook deliveries, spread over 16 connections, grew the server by 31 to
                // 33 MB, most of it page caches; with 512 KiB, 9 to 11 MB at the same rate
                // (`scripts/bench`, webhooks). The pages stay in the OS's cache.
                .pragma("cache_size", "-512")
        });
    }
    let postgres = url.starts_with("postgres");
    if postgres {
        // Every statement is prepared once per connection and then planned generically. With
        // custom plans PostgreSQL replans each execution and, seeing one device with most of
        // the rows, walks the primary key past other devices' rows for a page of a small one
        // (measured: 0.9 ms a page instead of 0.07 ms); the generic plan reads the
        // `(device_id, id)` range that the page's SQL is written for.
        opts.map_sqlx_postgres_opts(|o| o.options([("plan_cache_mode", "force_generic_plan")]));
    }
    // sqlx opens a pool's connections one after another, all within one `acquire_timeout`:
    // where each takes long (a remote server's TLS handshake, a slow machine: 70 ms each was
    // seen on loopback), a pool of 32 never started. PostgreSQL's pool is made without
    // connections and then filled a few at a time, each batch within the timeout, so an
    // outage still fails in about CONNECT_TIMEOUT and a big pool starts whatever it costs.
    // SQLite opens a file in a millisecond; its pool opens as sqlx does it.
    opts.connect_lazy(postgres);
    // sea-orm's connection errors quote the whole URL, password and all.
    let failed = |e: DbErr| {
        DbErr::Custom(format!(
            "cannot open the database {}: {}",
            redact_url(url),
            e.to_string().replace(url, &redact_url(url))
        ))
    };
    let db = Database::connect(opts).await.map_err(failed)?;
    if postgres {
        open_all(db.get_postgres_connection_pool(), max)
            .await
            .map_err(|e| failed(DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e.into()))))?;
    }
    Ok(db)
}

/// How many connections a PostgreSQL pool opens at once when it starts.
const OPENING_AT_ONCE: usize = 8;

/// Opens `max` connections in `pool`, [`OPENING_AT_ONCE`] at a time, each batch within the
/// pool's acquire timeout, and leaves them idle in it. They are opened from the caller's task,
/// on the runtime that outlives the HTTP workers (see [`connect`]). The pool cannot open more
/// than `max`: each connection takes one of its permits.
async fn open_all<DB: sea_orm::sqlx::Database>(
    pool: &sea_orm::sqlx::Pool<DB>,
    max: u32,
) -> Result<(), sea_orm::sqlx::Error> {
    let max = max as usize;
    let mut held = Vec::with_capacity(max);
    while held.len() < max {
        let batch = (max - held.len()).min(OPENING_AT_ONCE);
        held.extend(futures_util::future::try_join_all((0..batch).map(|_| pool.acquire())).await?);
    }
    Ok(())
}

/// An sqlx error (from a query made with sqlx itself, past sea-orm) as sea-orm reports it, so
/// that [`is_outage`] tells outages apart the same way.
pub(crate) fn sqlx_failed(e: sea_orm::sqlx::Error) -> DbErr {
    DbErr::Query(sea_orm::RuntimeErr::SqlxError(std::sync::Arc::new(e)))
}

/// Whether `e` means the database cannot be reached (as opposed to a query that is wrong): no
/// connection to be had, a connection that broke, or PostgreSQL shutting down. Such requests
/// answer 503 `service_unavailable`, and the pool reconnects by itself once it is back.
pub fn is_outage(e: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx::Error as E};
    let sqlx = match e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
        DbErr::Exec(RuntimeErr::SqlxError(s)) | DbErr::Query(RuntimeErr::SqlxError(s)) => s,
        _ => return false,
    };
    match sqlx.as_ref() {
        E::Io(_)
        | E::Tls(_)
        | E::Protocol(_)
        | E::PoolTimedOut
        | E::PoolClosed
        | E::WorkerCrashed => true,
        // SQLSTATE class 08 (connection exception) and 57P (operator intervention: shutdown,
        // crash recovery, cannot connect now).
        E::Database(d) => d
            .code()
            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
        _ => false,
    }
}

/// The pool's open connections, idle ones among them, and its limit.
pub fn pool_status(db: &DatabaseConnection) -> (u32, usize, u32) {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let p = db.get_postgres_connection_pool();
            (p.size(), p.num_idle(), p.options().get_max_connections())
        }
        DbBackend::Sqlite => {
            let p = db.get_sqlite_connection_pool();
            (p.size(), p.num_idle(), p.options().get_max_connections())
        }
        _ => (0, 0, 0),
    }
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

/// The PostgreSQL advisory lock that serialises start-up work between instances ("PLST").
const STARTUP_LOCK: i64 = 0x504c_5354;

/// Runs migrations (and then `seed`, if given: the demo data, which lives above this layer) with
/// every other instance held off: on PostgreSQL under a session advisory lock on a connection of
/// its own, so instances started together on an empty database take turns instead of racing to
/// create the same tables. Returns what `seed` returned (whether it seeded), or `false`.
pub async fn prepare<F, Fut>(url: &str, seed: Option<F>) -> Result<bool, DbErr>
where
    F: FnOnce(DatabaseConnection) -> Fut,
    Fut: std::future::Future<Output = Result<bool, String>>,
{
    // SQLite has no advisory locks; a lock file beside the database does the same for the
    // processes of one machine (the only ones that can share a SQLite file).
    let _file_lock = match sqlite_path(url) {
        Some(path) => Some(lock_file(format!("{path}.lock")).await?),
        None => None,
    };
    let conn = connect(url, 1).await?;
    let postgres = conn.get_database_backend() == DbBackend::Postgres;
    if postgres {
        // A pool of one: the lock, the migrations and the unlock share one session (they take
        // seconds, well within a pooled connection's lifetime; and if that session dies,
        // PostgreSQL drops the lock with it and the migration fails rather than running on
        // unguarded).
        conn.execute_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT pg_advisory_lock({STARTUP_LOCK})"),
        ))
        .await?;
    }
    let result = async {
        migrate(&conn).await?;
        match seed {
            Some(seed) => seed(conn.clone()).await.map_err(DbErr::Custom),
            None => Ok(false),
        }
    }
    .await;
    if postgres
        && let Err(e) = conn
            .execute_raw(Statement::from_string(
                DbBackend::Postgres,
                format!("SELECT pg_advisory_unlock({STARTUP_LOCK})"),
            ))
            .await
    {
        // Closing the session below releases it anyway.
        tracing::warn!(error = %e, "could not release the start-up lock; closing its session");
    }
    let _ = conn.close().await;
    result
}

/// The file behind a SQLite URL (`sqlite://dir/x.db?mode=rwc` → `dir/x.db`), if it is one.
pub(crate) fn sqlite_path(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.contains(":memory:")).then(|| path.to_owned())
}

/// Takes an exclusive lock on `path` (created if missing), waiting for whoever holds it.
async fn lock_file(path: String) -> Result<std::fs::File, DbErr> {
    tokio::task::spawn_blocking(move || {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        f.lock()?;
        Ok::<_, std::io::Error>(f)
    })
    .await
    .map_err(|e| DbErr::Custom(format!("start-up lock: {e}")))?
    .map_err(|e| DbErr::Custom(format!("start-up lock: {e}")))
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

/// `sql`, written with `?` placeholders, as a statement for `backend` (PostgreSQL numbers
/// them `$1`, `$2`, …). The text must hold no `?` other than placeholders.
pub(crate) fn raw(backend: DbBackend, sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    let text = if backend == DbBackend::Postgres {
        let mut out = String::with_capacity(sql.len() + 16);
        let mut n = 0;
        for ch in sql.chars() {
            if ch == '?' {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(ch);
            }
        }
        out
    } else {
        sql.to_owned()
    };
    Statement::from_sql_and_values(backend, text, values)
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
