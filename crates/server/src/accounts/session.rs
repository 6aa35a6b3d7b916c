//! Portal sessions: a random token in an HttpOnly, SameSite=Strict cookie; only its digest is
//! stored, in the database, so sessions survive restarts and work across server instances.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use base64::Engine;
use partlogic_entity::{session, user};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::error::ApiError;

/// The session cookie's name.
pub const COOKIE: &str = "pl_session";
/// The session cookie's name when cookies are `Secure`: the `__Host-` prefix makes browsers
/// refuse it unless it came over HTTPS from this very host with `Path=/` and no `Domain`, so a
/// sibling subdomain cannot plant or overwrite a session.
pub const SECURE_COOKIE: &str = "__Host-pl_session";
/// The trusted-browser cookie (see [`crate::accounts::throttle`]).
pub const BROWSER_COOKIE: &str = "pl_browser";
/// The trusted-browser cookie's name when cookies are `Secure`.
pub const SECURE_BROWSER_COOKIE: &str = "__Host-pl_browser";
/// How long a browser stays trusted after its last successful login.
pub const BROWSER_TRUST_DAYS: i64 = 365;

/// The session cookie's name under these settings.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure { SECURE_COOKIE } else { COOKIE }
}

/// The trusted-browser cookie's name under these settings.
pub fn browser_cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_BROWSER_COOKIE
    } else {
        BROWSER_COOKIE
    }
}

/// A logged-in portal user.
#[derive(Debug, Clone)]
pub struct PortalUser {
    /// The user.
    pub user: user::Model,
    /// The session's row id (to log out).
    pub session_id: i64,
}

impl PortalUser {
    /// The user whose session cookie holds `token`, if that session is current at `now` and the
    /// user is enabled.
    pub async fn from_token(
        db: &DatabaseConnection,
        token: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Self, ApiError> {
        let digest = crate::domain::digest::digest(token);
        let (session, user) = session::Entity::find()
            .filter(session::Column::Digest.eq(digest))
            .find_also_related(user::Entity)
            .one(db)
            .await?
            .and_then(|(s, u)| Some((s, u?)))
            .ok_or(ApiError::NotLoggedIn)?;
        if session.expires_at <= now || user.disabled_at.is_some() {
            return Err(ApiError::NotLoggedIn);
        }
        Ok(Self {
            user,
            session_id: session.id,
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
    build(cookie_name(secure), token, ttl, secure)
}

/// The trusted-browser cookie carrying `value`.
pub fn browser_cookie(value: String, secure: bool) -> Cookie<'static> {
    build(
        browser_cookie_name(secure),
        value,
        chrono::Duration::days(BROWSER_TRUST_DAYS),
        secure,
    )
}

fn build(
    name: &'static str,
    value: String,
    ttl: chrono::Duration,
    secure: bool,
) -> Cookie<'static> {
    Cookie::build(name, value)
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
