//! Server settings, read from the command line and environment by the binary and built directly
//! by tests.

use std::path::PathBuf;
use std::time::Duration;

/// Everything [`crate::startup::Application::build`] needs to know.
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
    /// The built SPA (`frontend/dist`), served at `/` when present.
    pub static_dir: Option<PathBuf>,
    /// HTTP worker threads (0: one per core).
    pub workers: usize,
    /// Seed demo data when the database has no accounts yet.
    pub demo: bool,
    /// The database pool's size.
    pub db_max_connections: u32,
    /// Limits on unpaged stock exports.
    pub streams: StreamLimits,
}

/// How many unpaged exports may run, and how slowly a client may read one.
#[derive(Clone, Debug)]
pub struct StreamLimits {
    /// Exports running at once on this instance.
    pub total: usize,
    /// Exports running at once per key on this instance.
    pub per_key: usize,
    /// The slowest average a client may read at once `grace` has passed (bytes per second).
    pub min_bytes_per_sec: u64,
    /// How long a client may read at any pace before the minimum applies.
    pub grace: Duration,
    /// The longest any one export may take.
    pub deadline: Duration,
}

impl Default for StreamLimits {
    fn default() -> Self {
        Self {
            total: 32,
            per_key: 2,
            min_bytes_per_sec: 16 * 1024,
            grace: Duration::from_secs(30),
            deadline: Duration::from_secs(30 * 60),
        }
    }
}

impl Settings {
    /// Settings for a server on `database_url` with every default.
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            bind: "127.0.0.1:8080".to_owned(),
            secure_cookies: false,
            trust_proxy: false,
            session_ttl: chrono::Duration::hours(12),
            static_dir: None,
            workers: 0,
            demo: false,
            db_max_connections: crate::db::MAX_CONNECTIONS,
            streams: StreamLimits::default(),
        }
    }
}
