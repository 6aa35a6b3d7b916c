//! Checking a presented key: the [`ApiCaller`] a request to `/api` becomes once its key (in
//! `X-API-Key`, or as HTTP Basic or Bearer: see [`super::credential`]) is found, from the cache
//! or the database, and may be used now. The extractor that does it for a request is
//! `http::extract`.

use std::sync::Arc;

use super::cache::KeyCache;
use crate::db::store::{KeyRecord, ReachDevice, SecretKind, Store};
use crate::domain::digest;
use crate::error::ApiError;

/// A caller holding a valid, unexpired, unretired key whose owner is enabled: the key as the
/// cache (or the database) has it, reach included.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    /// The key, its owner and its reach.
    pub key: Arc<KeyRecord>,
    /// The key's SHA-256, to check it again (long exports do, between batches).
    pub digest: [u8; 32],
}

impl ApiCaller {
    /// The key's id.
    pub fn key_id(&self) -> i64 {
        self.key.id
    }

    /// The key's account.
    pub fn account_id(&self) -> i64 {
        self.key.account_id
    }

    /// The devices the key reaches now, by id.
    pub fn reach(&self) -> &[ReachDevice] {
        &self.key.reach
    }

    /// The ids of the devices the key reaches now.
    pub fn reach_ids(&self) -> Vec<i64> {
        self.key.reach.iter().map(|d| d.id).collect()
    }

    /// The reached device `id`, if the key reaches it.
    pub fn reached(&self, id: i64) -> Option<&ReachDevice> {
        self.key
            .reach
            .binary_search_by_key(&id, |d| d.id)
            .ok()
            .map(|i| &self.key.reach[i])
    }
}

/// A permission as a type, so that a handler's signature says what it needs
/// (`Permitted<OrdersWrite>`), and the extractor, not an `if` in the handler, checks it.
pub trait Needs {
    /// The permission.
    const PERMISSION: partlogic_types::Permission;
}

/// Needs `orders:read`.
#[derive(Debug, Clone, Copy)]
pub struct OrdersRead;

impl Needs for OrdersRead {
    const PERMISSION: partlogic_types::Permission = partlogic_types::Permission::OrdersRead;
}

/// Needs `orders:write`.
#[derive(Debug, Clone, Copy)]
pub struct OrdersWrite;

impl Needs for OrdersWrite {
    const PERMISSION: partlogic_types::Permission = partlogic_types::Permission::OrdersWrite;
}

/// Needs `webhooks:manage`.
#[derive(Debug, Clone, Copy)]
pub struct WebhooksManage;

impl Needs for WebhooksManage {
    const PERMISSION: partlogic_types::Permission = partlogic_types::Permission::WebhooksManage;
}

/// An [`ApiCaller`] whose key holds the permission `P` names; a key without it is refused with
/// 403 `permission_denied`. Every answer of an operation taking one names the permission in
/// `PartLogic-Required-Permission` (see [`RequiredPermission`]).
#[derive(Debug, Clone)]
pub struct Permitted<P: Needs> {
    /// The caller.
    pub caller: ApiCaller,
    need: std::marker::PhantomData<P>,
}

impl<P: Needs> Permitted<P> {
    /// `caller`, if its key holds `P`.
    pub fn check(caller: ApiCaller) -> Result<Self, ApiError> {
        if caller.key.permissions.allows(P::PERMISSION) {
            Ok(Permitted {
                caller,
                need: std::marker::PhantomData,
            })
        } else {
            Err(ApiError::PermissionDenied(P::PERMISSION))
        }
    }
}

/// Put in a request's extensions by a permission-checked operation before anything else, so
/// that its every answer (refusals included) names the permission it needs.
#[derive(Debug, Clone, Copy)]
pub struct RequiredPermission(pub partlogic_types::Permission);

/// Put in a request's extensions once its key is accepted: the expiry every authenticated
/// answer announces (`PartLogic-Key-Expires`).
#[derive(Debug, Clone, Copy)]
pub struct KeyExpiry(pub chrono::DateTime<chrono::Utc>);

/// Put in a request's extensions once its key is known (accepted or not): whose use the
/// answer counts as.
#[derive(Debug, Clone, Copy)]
pub struct KeyUsed {
    /// The key.
    pub key_id: i64,
    /// Its account.
    pub account_id: i64,
}

/// The key with this digest: from the cache, or from the database (and then cached). Unknown
/// keys are refused and never cached.
pub async fn lookup(
    cache: &KeyCache,
    store: &Store,
    digest: &[u8; 32],
) -> Result<Arc<KeyRecord>, ApiError> {
    if let Some(key) = cache.get(digest) {
        return Ok(key);
    }
    let epoch = cache.epoch();
    let hex = digest::hex(digest);
    let Some(record) = store.key_record(&hex).await? else {
        return Err(ApiError::InvalidApiKey);
    };
    // The index lookup already matched; this keeps the final decision constant-time anyway.
    // (A secret rolled past matched `retired_digests` exactly, and is refused as retired.)
    if record.secret != SecretKind::RolledPast && !digest::digests_match(&record.digest, &hex) {
        return Err(ApiError::InvalidApiKey);
    }
    let record = Arc::new(record);
    cache.put(*digest, record.clone(), epoch);
    Ok(record)
}

/// Whether `key` may be used at `now`.
pub fn check(key: &KeyRecord, now: chrono::DateTime<chrono::Utc>) -> Result<(), ApiError> {
    if key.retired_at.is_some() {
        return Err(ApiError::ApiKeyRetired);
    }
    match key.secret {
        SecretKind::Current => {}
        // A rolled key's old secret works until its overlap ends.
        SecretKind::Previous => {
            if key.previous_until.is_none_or(|end| now >= end) {
                return Err(ApiError::ApiKeyRetired);
            }
        }
        SecretKind::RolledPast => return Err(ApiError::ApiKeyRetired),
    }
    if let Some(end) = key.expires_at
        && now >= end
    {
        return Err(ApiError::ApiKeyExpired(
            partlogic_types::rfc3339_millis::format(&end),
        ));
    }
    if key.owner_disabled || key.owner_account_id != key.account_id {
        return Err(ApiError::InvalidApiKey);
    }
    Ok(())
}

/// The caller's key as it stands now, if it would still be accepted at `now` (not retired, not
/// expired, its owner enabled): long exports ask between batches, so a key retired mid-export,
/// or one that lost a device the export reads, stops there. With the cache warm this costs no
/// database read.
pub async fn current(
    cache: &KeyCache,
    store: &Store,
    caller: &ApiCaller,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<Arc<KeyRecord>>, ApiError> {
    match lookup(cache, store, &caller.digest).await {
        Ok(key) => Ok(check(&key, now).is_ok().then_some(key)),
        Err(ApiError::InvalidApiKey) => Ok(None),
        Err(e) => Err(e),
    }
}
