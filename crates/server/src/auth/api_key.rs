//! The `ApiCaller` extractor: a request to `/api` authenticated by its key (in `X-API-Key`, or
//! as HTTP Basic or Bearer: see [`super::credential`]).

use std::future::Future;
use std::pin::Pin;

use std::sync::Arc;

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::keys;
use crate::net::client_ip;
use crate::state::AppState;
use crate::store::{KeyRecord, ReachDevice, SecretKind};

/// The header that carries the key.
pub const HEADER: &str = "X-API-Key";

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

    /// The reached device `id`, if the key reaches it.
    pub fn reached(&self, id: i64) -> Option<&ReachDevice> {
        self.key
            .reach
            .binary_search_by_key(&id, |d| d.id)
            .ok()
            .map(|i| &self.key.reach[i])
    }
}

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

/// Whether a request counts against its key's rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Limit {
    /// It does (every Stock API read).
    Counted,
    /// It does not, and is never refused for it: retiring a key with itself, so that whoever
    /// found a key can switch it off while someone else uses it up.
    Exempt,
}

impl FromRequest for ApiCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authenticate(&req, Limit::Counted).await })
    }
}

/// An [`ApiCaller`] whose request is not counted against the key's rate limit (its window is
/// still reported). For `DELETE /api/key` only.
#[derive(Debug, Clone)]
pub struct UnlimitedCaller(pub ApiCaller);

impl FromRequest for UnlimitedCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authenticate(&req, Limit::Exempt).await.map(Self) })
    }
}

async fn authenticate(req: &HttpRequest, limit: Limit) -> Result<ApiCaller, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Internal("AppState missing".to_owned()))?;
    let candidate = super::credential::presented_key(req)?;
    if !keys::is_well_formed(&candidate) {
        return Err(ApiError::MalformedApiKey);
    }
    let digest: [u8; 32] = Sha256::digest(candidate.as_bytes()).into();
    let now = state.clock.now();
    let key = lookup(state, &digest).await?;
    req.extensions_mut().insert(KeyUsed {
        key_id: key.id,
        account_id: key.account_id,
    });
    if let Err(refused) = check(&key, now) {
        // A known key hears where its window stands even when refused.
        req.extensions_mut()
            .insert(state.limits.peek(key.id, key.rate_limit, now));
        return Err(refused);
    }
    let rate = if limit == Limit::Exempt {
        state.limits.peek(key.id, key.rate_limit, now)
    } else {
        state
            .limits
            .take(key.id, key.rate_limit, now)
            .await
            .inspect_err(|full| {
                req.extensions_mut().insert(*full);
            })
            .map_err(|full| ApiError::RateLimited(full.reset_secs, full.limit))?
    };
    req.extensions_mut().insert(rate);
    if state.last_used.should_write(key.id) {
        state.uses.record(super::last_used::Use {
            key_id: key.id,
            account_id: key.account_id,
            first: !key.used_before,
            ip: client_ip(req, state.settings.trust_proxy),
            at: now,
        });
    }
    if let Some(end) = key.expires_at {
        req.extensions_mut().insert(KeyExpiry(end));
    }
    Ok(ApiCaller { key, digest })
}

/// The key with this digest: from the cache, or from the database (and then cached). Unknown
/// keys are refused and never cached.
async fn lookup(state: &AppState, digest: &[u8; 32]) -> Result<Arc<KeyRecord>, ApiError> {
    if let Some(key) = state.keys.get(digest) {
        return Ok(key);
    }
    let epoch = state.keys.epoch();
    let hex = keys::hex(digest);
    let Some(record) = state.store.key_record(&hex).await? else {
        return Err(ApiError::InvalidApiKey);
    };
    // The index lookup already matched; this keeps the final decision constant-time anyway.
    // (A secret rolled past matched `retired_digests` exactly, and is refused as retired.)
    if record.secret != SecretKind::RolledPast && !keys::digests_match(&record.digest, &hex) {
        return Err(ApiError::InvalidApiKey);
    }
    let record = Arc::new(record);
    state.keys.put(*digest, record.clone(), epoch);
    Ok(record)
}

/// Whether `key` may be used at `now`.
fn check(key: &KeyRecord, now: chrono::DateTime<chrono::Utc>) -> Result<(), ApiError> {
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
    state: &AppState,
    caller: &ApiCaller,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<Arc<KeyRecord>>, ApiError> {
    match lookup(state, &caller.digest).await {
        Ok(key) => Ok(check(&key, now).is_ok().then_some(key)),
        Err(ApiError::InvalidApiKey) => Ok(None),
        Err(e) => Err(e),
    }
}
