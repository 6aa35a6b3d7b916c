//! `POST /portal/api/session`: log in.

use actix_web::{HttpRequest, HttpResponse, post, web};
use partlogic_entity::{session, user};
use partlogic_types::{CurrentUser, LoginRequest, Problem};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use crate::accounts::email::{Email, Password};
use crate::accounts::{password, session as cookie, throttle};
use crate::domain::FieldErrors;
use crate::error::ApiError;
use crate::http::net::client_addr;
use crate::http::state::AppState;

/// Log in
///
/// Logs in with email and password and sets the session cookie (HttpOnly, SameSite=Strict).
/// Failed attempts are throttled so that a guesser cannot lock the owner out: see "Login
/// throttling" in docs/operations.md.
#[utoipa::path(
    tag = "session",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in; the session cookie is set (and the trusted-browser cookie renewed)", body = CurrentUser),
        (status = 400, description = "Not JSON of this shape (`invalid_body`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong email or password (`invalid_credentials`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Sent from another site (`cross_origin_refused`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Email or password missing, too long, or holding control characters (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed logins (`too_many_attempts`); see `Retry-After`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Busy checking other passwords (`server_busy`) or the database is unreachable (`service_unavailable`); see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/session")]
pub async fn create_session(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: crate::http::json::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let mut errors = FieldErrors::default();
    let email = errors.take(Email::parse(&body.email));
    let password = errors.take(Password::parse(&body.password));
    errors.finish().map_err(ApiError::Validation)?;
    let (Some(email), Some(password)) = (email, password) else {
        return Err(ApiError::Internal("parsed login fields missing".to_owned()));
    };

    let now = state.clock.now();
    let secure = state.settings.secure_cookies;
    let found = user::Entity::find()
        .filter(user::Column::Email.eq(email.as_str()))
        .one(&state.db)
        .await?;
    let account = throttle::Account {
        email: email.as_str(),
        password_hash: found.as_ref().map(|u| u.password_hash.as_str()),
    };
    let browser = req.cookie(cookie::browser_cookie_name(secure));
    let subjects = state.throttle.subjects(
        &account,
        client_addr(&req, state.settings.trust_proxy),
        browser.as_ref().map(|c| c.value()),
        now,
    );
    // Refused attempts leave no mark, so they cannot prolong a lock.
    if let Some(wait) = throttle::locked_for(&state.db, &subjects, now).await? {
        return Err(ApiError::TooManyAttempts(wait));
    }
    // Counted *before* the password is checked: a burst of parallel guesses gets no more tries
    // than a sequence would.
    let counted = throttle::record(&state.db, &subjects, now).await?;
    if let Some(wait) = counted.wait {
        return Err(ApiError::TooManyAttempts(wait));
    }
    if counted.slow {
        // Someone is guessing at this email from many places: slow every untrusted attempt
        // down (never refuse it, so the owner still gets in). The pause holds nothing anyone
        // else needs: no password-check turn, no database connection.
        tokio::time::sleep(state.settings.login_slowdown).await;
    }
    // A turn at the password checker, taken only now and held only for the check itself. A
    // trusted browser may also take a turn kept for trusted browsers, so strangers queueing
    // for the others never hold it up.
    let permit = if throttle::is_trusted(&subjects) {
        password::check_permit_either(&state.trusted_permits, &state.hash_permits).await
    } else {
        password::check_permit(&state.hash_permits).await
    };
    let _permit = match permit {
        Ok(permit) => permit,
        Err(busy) => {
            // An attempt the server was too busy to check must not count against anyone.
            throttle::take_back(&state.db, &subjects).await?;
            return Err(busy);
        }
    };
    let ok = password::verify(
        password.into_inner(),
        found.as_ref().map(|u| u.password_hash.clone()),
    )
    .await?;
    let user = match found {
        Some(u) if ok && u.disabled_at.is_none() => u,
        _ => return Err(ApiError::InvalidCredentials),
    };
    throttle::forgive(&state.db, &subjects).await?;

    let token = cookie::new_token()?;
    session::Entity::insert(session::ActiveModel {
        digest: Set(crate::domain::digest::digest(&token)),
        user_id: Set(user.id),
        created_at: Set(now),
        expires_at: Set(now + state.settings.session_ttl),
        ..Default::default()
    })
    .exec(&state.db)
    .await?;
    session::Entity::delete_many()
        .filter(session::Column::ExpiresAt.lt(now))
        .exec(&state.db)
        .await?;
    tracing::info!(user_id = user.id, "logged in");
    let me = super::current_user(&state.db, &user).await?;
    let mut res = HttpResponse::Ok();
    res.cookie(cookie::cookie(token, state.settings.session_ttl, secure))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"));
    let trusted = throttle::Account {
        email: email.as_str(),
        password_hash: Some(user.password_hash.as_str()),
    };
    if let Some(value) = state.throttle.browser_cookie(&trusted, now) {
        res.cookie(cookie::browser_cookie(value, secure));
    }
    Ok(res.json(me))
}
