//! State shared by every request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::DatabaseConnection;

use crate::clock::Clock;
use crate::config::Settings;

/// What handlers and extractors reach through `web::Data<AppState>`.
#[derive(Clone)]
pub struct AppState {
    /// The connection pool.
    pub db: DatabaseConnection,
    /// "Now".
    pub clock: Clock,
    /// Server settings.
    pub settings: Arc<Settings>,
    /// When this process last recorded each key's use.
    pub last_used: LastUsedThrottle,
    /// Unpaged stock answers streaming at once; each holds a pooled connection while it runs.
    pub stream_permits: Arc<tokio::sync::Semaphore>,
}

/// How many unpaged stock answers may stream at once: half the pool, so short requests always
/// find a connection while big exports run (further streams wait their turn).
pub const MAX_CONCURRENT_STREAMS: usize = crate::db::MAX_CONNECTIONS as usize / 2;

/// Remembers when each key's "last used" was last written, so that a busy key costs one write a
/// minute instead of one per request.
#[derive(Clone, Default)]
pub struct LastUsedThrottle {
    seen: Arc<Mutex<HashMap<i64, Instant>>>,
}

impl LastUsedThrottle {
    /// How often at most a key's last use is written.
    pub const PERIOD: Duration = Duration::from_secs(60);

    /// Whether the caller should write `key_id`'s last use now (and records that it will).
    pub fn should_write(&self, key_id: i64) -> bool {
        let now = Instant::now();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        match seen.get(&key_id) {
            Some(at) if now.duration_since(*at) < Self::PERIOD => false,
            _ => {
                // Keep the map from growing without bound on a long-running server.
                if seen.len() > 100_000 {
                    seen.retain(|_, at| now.duration_since(*at) < Self::PERIOD);
                }
                seen.insert(key_id, now);
                true
            }
        }
    }
}
