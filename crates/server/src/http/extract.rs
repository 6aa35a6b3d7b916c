//! Extractors: what a handler's signature asks for and gets only if the request earns it. An
//! [`ApiCaller`] (a Stock API request whose key may be used now, counted against its rate limit)
//! and a [`PortalUser`] (a portal request with a current session).

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
use sha2::{Digest, Sha256};

use crate::accounts::PortalUser;
use crate::accounts::session::cookie_name;
use crate::error::ApiError;
use crate::http::net::client_ip;
use crate::http::state::AppState;
use crate::keys::caller::{self, ApiCaller, KeyExpiry, KeyUsed};
use crate::keys::{self, credential, last_used};

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

impl<P: caller::Needs + 'static> FromRequest for caller::Permitted<P> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            req.extensions_mut()
                .insert(caller::RequiredPermission(P::PERMISSION));
            let caller = authenticate(&req, Limit::Counted).await?;
            caller::Permitted::check(caller)
        })
    }
}

async fn authenticate(req: &HttpRequest, limit: Limit) -> Result<ApiCaller, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Internal("AppState missing".to_owned()))?;
    let candidate = credential::presented_key(req)?;
    if !keys::is_well_formed(&candidate) {
        return Err(ApiError::MalformedApiKey);
    }
    let digest: [u8; 32] = Sha256::digest(candidate.as_bytes()).into();
    let now = state.clock.now();
    let key = caller::lookup(&state.keys, &state.store, &digest).await?;
    req.extensions_mut().insert(KeyUsed {
        key_id: key.id,
        account_id: key.account_id,
    });
    if let Err(refused) = caller::check(&key, now) {
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
        state.uses.record(last_used::Use {
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

impl FromRequest for PortalUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| ApiError::Internal("AppState missing".to_owned()))?;
            let cookie = req
                .cookie(cookie_name(state.settings.secure_cookies))
                .ok_or(ApiError::NotLoggedIn)?;
            PortalUser::from_token(&state.db, cookie.value(), state.clock.now()).await
        })
    }
}
