//! Server settings, read from the command line and environment by the binary and built directly
//! by tests.

use std::path::PathBuf;
use std::time::Duration;

use crate::stock::slots::StreamLimits;

/// The address the server listens on unless told otherwise.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// How long a portal login lasts unless told otherwise, in hours.
pub const DEFAULT_SESSION_HOURS: i64 = 12;
/// The longest a portal login may be configured to last: a year.
pub const MAX_SESSION_HOURS: i64 = 24 * 366;

/// Everything [`crate::http::startup::Application::build`] needs to know.
#[derive(Clone, Debug)]
pub struct Settings {
    /// A sea-orm database URL: `sqlite://partlogic.db?mode=rwc` or `postgres://…`.
    pub database_url: String,
    /// The address to listen on; port 0 picks a free port (tests).
    pub bind: String,
    /// Mark cookies `Secure` with the `__Host-` prefix and send `Strict-Transport-Security`
    /// (set this behind HTTPS).
    pub secure_cookies: bool,
    /// Take the client IP from `X-Forwarded-For` (only behind a proxy you run).
    pub trust_proxy: bool,
    /// How long a portal login lasts.
    pub session_ttl: chrono::Duration,
    /// A directory of the built SPA (`frontend/dist`) to serve at `/` instead of the embedded one.
    pub static_dir: Option<PathBuf>,
    /// The SPA compiled into the binary, served when `static_dir` is not given.
    pub embedded_spa: &'static [crate::http::spa::EmbeddedFile],
    /// HTTP worker threads (0: one per core).
    pub workers: usize,
    /// Seed demo data when the database has no accounts yet.
    pub demo: bool,
    /// The database pool's size.
    pub db_max_connections: u32,
    /// Limits on unpaged stock exports.
    pub streams: StreamLimits,
    /// The base URL integrations call (`https://partlogic.example`); `None`: made from the
    /// address the server listens on.
    pub public_url: Option<String>,
    /// How long low-stock alerts are kept.
    pub alert_retention: chrono::Duration,
    /// The pause before checking an untrusted login for an email someone is guessing at.
    pub login_slowdown: Duration,
    /// Where `/metrics` is served (its own address; not served when `None`).
    pub metrics_bind: Option<String>,
    /// How long a stopping server lets running requests and exports finish.
    pub shutdown_grace: Duration,
    /// How often key usage counted in memory is written.
    pub usage_flush: Duration,
    /// The file of public keys that sign secret-scanning reports (GitHub's format); reports
    /// are refused (404) without it.
    pub secret_scanning_keys: Option<PathBuf>,
    /// The key webhook signing secrets are sealed with (`PARTLOGIC_WEBHOOK_KEY`). Without it, a
    /// SQLite server keeps one in a file beside its database (`<db>.webhook-key`); a
    /// PostgreSQL server takes no webhook endpoints (every instance needs the same key).
    pub webhook_key: Option<crate::webhooks::secrets::WebhookKey>,
    /// Whether webhook URLs may be `http` and private addresses (tests, on-premises).
    pub webhook_allow_private: bool,
    /// Whether this instance delivers webhooks (tests that run a second server on one database
    /// turn it off in one of them).
    pub webhook_worker: bool,
    /// How often, on PostgreSQL, the server looks for its tables that autovacuum does not
    /// analyse and need fresh statistics ([`crate::db::upkeep`]); `None`: never.
    pub db_analyze_every: Option<Duration>,
}

/// Seconds a stopping server lets running requests and exports finish, by default.
pub const DEFAULT_SHUTDOWN_GRACE_SECS: u64 = 30;

/// How long low-stock alerts are kept unless configured otherwise.
pub const DEFAULT_ALERT_RETENTION_DAYS: u32 = 90;

impl Settings {
    /// Settings for a server on `database_url` with every default.
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            bind: DEFAULT_BIND.to_owned(),
            secure_cookies: false,
            trust_proxy: false,
            session_ttl: chrono::Duration::hours(DEFAULT_SESSION_HOURS),
            static_dir: None,
            embedded_spa: crate::http::spa::EMBEDDED,
            workers: 0,
            demo: false,
            db_max_connections: crate::db::MAX_CONNECTIONS,
            streams: StreamLimits::default(),
            public_url: None,
            alert_retention: chrono::Duration::days(i64::from(DEFAULT_ALERT_RETENTION_DAYS)),
            login_slowdown: Duration::from_secs(3),
            metrics_bind: None,
            shutdown_grace: Duration::from_secs(DEFAULT_SHUTDOWN_GRACE_SECS),
            usage_flush: Duration::from_secs(10),
            secret_scanning_keys: None,
            webhook_key: None,
            webhook_allow_private: false,
            webhook_worker: true,
            db_analyze_every: Some(crate::db::upkeep::EVERY),
        }
    }
}
