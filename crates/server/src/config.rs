//! Server settings, read from the command line and environment by the binary and built directly
//! by tests.

use std::path::PathBuf;

/// Everything [`crate::startup::Application::build`] needs to know.
#[derive(Clone, Debug)]
pub struct Settings {
    /// A sea-orm database URL: `sqlite://partlogic.db?mode=rwc` or `postgres://…`.
    pub database_url: String,
    /// The address to listen on; port 0 picks a free port (tests).
    pub bind: String,
    /// Mark the session cookie `Secure` (set this behind HTTPS).
    pub secure_cookies: bool,
    /// Take the client IP from `X-Forwarded-For`/`Forwarded` (only behind a proxy you run).
    pub trust_proxy: bool,
    /// How long a portal login lasts.
    pub session_ttl: chrono::Duration,
    /// The built SPA (`frontend/dist`), served at `/` when present.
    pub static_dir: Option<PathBuf>,
    /// HTTP worker threads (0: one per core).
    pub workers: usize,
    /// Seed demo data when the database has no accounts yet.
    pub demo: bool,
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
        }
    }
}
