//! State shared by every request.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::accounts::throttle::Throttle;
use crate::clock::Clock;
use crate::http::config::Settings;
use crate::keys::last_used::LastUsedThrottle;
use crate::stock::slots::StreamSlots;

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
    /// Unpaged stock exports running on this instance, in all and per key.
    pub streams: StreamSlots,
    /// Password checks running at once for untrusted logins (each holds ~19 MiB); about one
    /// per core.
    pub hash_permits: Arc<tokio::sync::Semaphore>,
    /// One more password check, for trusted browsers alone (which may take any other free turn
    /// too): however many strangers queue for [`AppState::hash_permits`], a browser that logged
    /// in before never waits behind them.
    pub trusted_permits: Arc<tokio::sync::Semaphore>,
    /// The login throttle's key.
    pub throttle: Throttle,
    /// The base URL integrations call, for recipes and guides.
    pub public_url: String,
    /// The path the public URL adds in front of the server's own (`/pl`), for `Link`.
    pub link_prefix: String,
    /// Verified keys in memory.
    pub keys: crate::keys::cache::KeyCache,
    /// The hot reads.
    pub store: crate::db::store::Store,
    /// Writes when keys were last used.
    pub uses: crate::keys::last_used::UseWriter,
    /// Per-key request counts for rate limits.
    pub limits: crate::keys::rate_limit::RateLimiter,
    /// Per-key usage counters, written off the request path.
    pub usage: crate::keys::usage::Usage,
    /// Public keys that sign secret-scanning reports; `None`: reports are not taken.
    pub scanning_keys: Option<Arc<crate::keys::leaks::ScanningKeys>>,
    /// Request counts and latencies, when `/metrics` is served.
    pub metrics: Option<Arc<crate::http::metrics::Metrics>>,
    /// Stored `Idempotency-Key` answers this instance has seen (`orders::idempotency`).
    pub replays: Arc<crate::orders::idempotency::Replays>,
    /// Seals and opens webhook signing secrets; `None`: this server takes no webhook endpoints.
    pub webhook_vault: Option<Arc<crate::webhooks::secrets::Vault>>,
    /// Order numbers reserved by this instance (`orders::numbers`).
    pub order_numbers: Arc<crate::orders::numbers::Numbers>,
    /// Stock rows and order ids this instance keeps for one-round-trip creates on PostgreSQL
    /// (`orders::create`).
    pub order_memo: Arc<crate::orders::create::Memo>,
    /// Creates on PostgreSQL waiting to be written together (`orders::create::batched`).
    pub order_batches: Arc<crate::orders::create::Batches>,
}
