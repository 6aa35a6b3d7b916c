//! Verified keys kept in memory by digest, with everything a request needs (the key, its owner,
//! its expiry and its reach), so that checking a key costs no database round trip.
//!
//! A change must be seen on the very next request. On the instance that makes it (a retire, an
//! edit) the handler clears the cache before it answers. Every other instance learns of it from
//! the database itself: triggers on the tables a cached key depends on (`m20261128_000005`)
//! notify channel `partlogic_keys` on PostgreSQL, heard here by a listener (within
//! milliseconds), and bump a generation on SQLite, polled here every [`POLL`] (well within a
//! second). While changes cannot be heard (the listener is down, its heartbeats stop arriving,
//! the generation cannot be read), the cache is bypassed: a request then asks the database, so
//! an answer is slower, never stale. Unknown keys are never cached, so keys made up
//! by a caller cannot fill memory; the cache holds at most [`MAX_ENTRIES`] keys.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::db::store::{KeyRecord, Store};

/// How often a SQLite instance looks for changes made by other processes.
pub const POLL: Duration = Duration::from_millis(250);
/// The most keys kept; past it the cache starts afresh.
pub const MAX_ENTRIES: usize = 100_000;

/// The cache. Cloning shares it.
#[derive(Clone, Default)]
pub struct KeyCache {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: RwLock<HashMap<[u8; 32], Arc<KeyRecord>>>,
    /// Bumped by every clear: an entry read from the database before a clear must not be
    /// stored after it.
    epoch: AtomicU64,
    /// False while changes cannot be heard (the PostgreSQL listener is down).
    listening: AtomicBool,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl KeyCache {
    /// An empty cache that is not yet listening (and so not yet used).
    pub fn new() -> Self {
        Self::default()
    }

    /// The cached key for `digest`, if the cache is in use and holds it.
    pub fn get(&self, digest: &[u8; 32]) -> Option<Arc<KeyRecord>> {
        if !self.inner.listening.load(Ordering::Acquire) {
            return None;
        }
        let found = self
            .inner
            .entries
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(digest)
            .cloned();
        let counter = if found.is_some() {
            &self.inner.hits
        } else {
            &self.inner.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Where a database read begins: pass it to [`KeyCache::put`].
    pub fn epoch(&self) -> u64 {
        self.inner.epoch.load(Ordering::Acquire)
    }

    /// Keeps `record`, read from the database since `epoch`, unless the cache was cleared
    /// meanwhile (the record may predate the change that cleared it) or is not listening.
    pub fn put(&self, digest: [u8; 32], record: Arc<KeyRecord>, epoch: u64) {
        if !self.inner.listening.load(Ordering::Acquire) {
            return;
        }
        let mut entries = self
            .inner
            .entries
            .write()
            .unwrap_or_else(|p| p.into_inner());
        // Checked under the lock that `clear` takes too: no clear can slip in between.
        if self.inner.epoch.load(Ordering::Acquire) != epoch {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(digest, record);
    }

    /// Forgets every key: something a key depends on changed.
    pub fn clear(&self) {
        let mut entries = self
            .inner
            .entries
            .write()
            .unwrap_or_else(|p| p.into_inner());
        self.inner.epoch.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }

    /// Whether changes can be heard; while not, the cache is bypassed and emptied.
    pub fn set_listening(&self, listening: bool) {
        self.clear();
        self.inner.listening.store(listening, Ordering::Release);
        if !listening {
            self.clear();
        }
    }

    /// Whether the cache is in use.
    pub fn is_listening(&self) -> bool {
        self.inner.listening.load(Ordering::Acquire)
    }

    /// Keys held now.
    pub fn len(&self) -> usize {
        self.inner
            .entries
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// (hits, misses) so far.
    pub fn stats(&self) -> (u64, u64) {
        (
            self.inner.hits.load(Ordering::Relaxed),
            self.inner.misses.load(Ordering::Relaxed),
        )
    }

    /// Keeps the cache honest for as long as the process runs: on PostgreSQL by listening on
    /// `partlogic_keys`, on SQLite by polling the generation.
    pub fn watch(&self, store: Store, db: &sea_orm::DatabaseConnection) {
        match store {
            Store::Postgres(_) => {
                let pool = db.get_postgres_connection_pool().clone();
                tokio::spawn(listen(self.clone(), pool));
            }
            Store::Sqlite(_) => {
                tokio::spawn(poll(self.clone(), store));
            }
        }
    }
}

/// How often each PostgreSQL instance sends itself a heartbeat through the pool.
const HEARTBEAT: Duration = Duration::from_millis(250);
/// Without a heartbeat for this long, changes might go unheard: the cache is bypassed until
/// the next one arrives. (Under a second, so another instance's change is never missed for
/// longer than that.)
const HEARTBEAT_LOST: Duration = Duration::from_millis(750);

/// PostgreSQL: every notification clears the cache. The listener also hears its own
/// heartbeats, sent through the pool: if they stop (the listener's connection died, or the
/// database is unreachable, or a network partition swallows packets silently), the cache is
/// bypassed within [`HEARTBEAT_LOST`] until they come back, and cleared then, since changes
/// notified meanwhile may have been missed.
async fn listen(cache: KeyCache, pool: sea_orm::sqlx::PgPool) {
    use sea_orm::sqlx::postgres::PgListener;
    let beat_pool = pool.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(HEARTBEAT);
        loop {
            every.tick().await;
            let _ = sea_orm::sqlx::query("SELECT pg_notify('partlogic_heartbeat', '')")
                .execute(&beat_pool)
                .await;
        }
    });
    let mut backoff = Duration::from_millis(100);
    loop {
        let listener = async {
            let mut l = PgListener::connect_with(&pool).await?;
            l.listen_all(["partlogic_keys", "partlogic_heartbeat"])
                .await?;
            Ok::<_, sea_orm::sqlx::Error>(l)
        }
        .await;
        match listener {
            Ok(mut l) => {
                backoff = Duration::from_millis(100);
                loop {
                    match tokio::time::timeout(HEARTBEAT_LOST, l.try_recv()).await {
                        Ok(Ok(Some(n))) => {
                            if n.channel() == "partlogic_keys" {
                                cache.clear();
                            } else if !cache.is_listening() {
                                // Heard again: start afresh, then trust what is heard.
                                cache.set_listening(true);
                            }
                        }
                        Err(_) => {
                            if cache.is_listening() {
                                tracing::warn!(
                                    "key cache heard no heartbeat; checking keys in the database until it does"
                                );
                                cache.set_listening(false);
                            }
                        }
                        // The connection dropped: what was notified meanwhile is lost. Start
                        // over (bypassed until heard again).
                        Ok(Ok(None)) => break,
                        Ok(Err(e)) => {
                            tracing::warn!(error = %e, "key cache listener failed; checking keys in the database until it is back");
                            break;
                        }
                    }
                }
                cache.set_listening(false);
            }
            Err(e) => {
                cache.set_listening(false);
                tracing::warn!(error = %e, "key cache listener cannot start; checking keys in the database");
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// SQLite: a change to the generation clears the cache. If the generation cannot be read, the
/// cache is bypassed until it can.
async fn poll(cache: KeyCache, store: Store) {
    let mut seen: Option<i64> = None;
    let mut every = tokio::time::interval(POLL);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match store.cache_generation().await {
            Ok(generation) => {
                if seen != Some(generation) {
                    cache.clear();
                    seen = Some(generation);
                }
                if !cache.is_listening() {
                    cache.set_listening(true);
                }
            }
            Err(e) => {
                if cache.is_listening() {
                    tracing::warn!(error = %e, "key cache cannot see changes; checking keys in the database");
                    cache.set_listening(false);
                }
                seen = None;
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn record() -> Arc<KeyRecord> {
        Arc::new(KeyRecord {
            id: 1,
            account_id: 1,
            owner_id: 1,
            name: "k".into(),
            prefix: "pl_x".into(),
            digest: "d".into(),
            secret: crate::db::store::SecretKind::Current,
            previous_until: None,
            rate_limit: 600,
            created_at: chrono::Utc::now(),
            expires_on: None,
            time_zone: "UTC".into(),
            expires_at: None,
            retired_at: None,
            used_before: false,
            owner_is_admin: true,
            owner_disabled: false,
            owner_account_id: 1,
            permissions: Default::default(),
            reach: Vec::new(),
            devices_json: Default::default(),
        })
    }

    #[test]
    fn a_record_read_before_a_clear_is_not_kept() {
        let cache = KeyCache::new();
        cache.set_listening(true);
        let before = cache.epoch();
        cache.clear();
        cache.put([1; 32], record(), before);
        assert!(cache.get(&[1; 32]).is_none());
        let now = cache.epoch();
        cache.put([1; 32], record(), now);
        assert!(cache.get(&[1; 32]).is_some());
    }

    #[test]
    fn not_listening_means_not_used() {
        let cache = KeyCache::new();
        cache.put([1; 32], record(), cache.epoch());
        assert!(cache.get(&[1; 32]).is_none());
        cache.set_listening(true);
        cache.put([1; 32], record(), cache.epoch());
        assert!(cache.get(&[1; 32]).is_some());
        cache.set_listening(false);
        assert!(cache.get(&[1; 32]).is_none());
    }
}
