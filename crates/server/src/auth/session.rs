//! Portal sessions: a random token in an HttpOnly, SameSite=Strict cookie; only its digest is
//! stored, in the database, so sessions survive restarts and work across server instances.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use base64::Engine;
use partlogic_entity::{session, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::error::ApiError;
use crate::keys;
use crate::state::AppState;

/// The session cookie's name.
pub const COOKIE: &str = "pl_session";

/// A logged-in portal user.
#[derive(Debug, Clone)]
pub struct PortalUser {
    /// The user.
    pub user: user::Model,
    /// The session's row id (to log out).
    pub session_id: i64,
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
            let cookie = req.cookie(COOKIE).ok_or(ApiError::NotLoggedIn)?;
            let digest = keys::digest(cookie.value());
            let (session, user) = session::Entity::find()
                .filter(session::Column::Digest.eq(digest))
                .find_also_related(user::Entity)
                .one(&state.db)
                .await?
                .and_then(|(s, u)| Some((s, u?)))
                .ok_or(ApiError::NotLoggedIn)?;
            if session.expires_at <= state.clock.now() || user.disabled_at.is_some() {
                return Err(ApiError::NotLoggedIn);
            }
            Ok(PortalUser {
                user,
                session_id: session.id,
            })
        })
    }
}

/// A new session token: 256 random bits, URL-safe base64.
pub fn new_token() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::Internal(format!("no randomness: {e}")))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The cookie that carries `token` for `ttl`.
pub fn cookie(token: String, ttl: chrono::Duration, secure: bool) -> Cookie<'static> {
    Cookie::build(COOKIE, token)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .max_age(CookieDuration::seconds(ttl.num_seconds()))
        .finish()
}

/// The cookie that removes the session cookie from the browser.
pub fn removal_cookie(secure: bool) -> Cookie<'static> {
    let mut c = cookie(String::new(), chrono::Duration::zero(), secure);
    c.make_removal();
    c
}
