//! `POST /portal/api/session`: log in.

use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::{DateTime, Utc};
use partlogic_entity::{login_failure, session, user};
use partlogic_types::{CurrentUser, LoginRequest, Problem};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::auth::{password, session as cookie};
use crate::error::ApiError;
use crate::keys;
use crate::net::client_ip;
use crate::state::AppState;

/// How far back failed logins count.
pub const WINDOW: chrono::Duration = chrono::Duration::minutes(15);
/// Failed logins for one email within the window before it is locked.
pub const MAX_PER_EMAIL: u64 = 5;
/// Failed logins from one IP within the window before it is locked.
pub const MAX_PER_IP: u64 = 30;

/// The longest email address (RFC 5321's path limit).
pub const MAX_EMAIL_CHARS: usize = 254;
/// The longest password accepted: enough for any passphrase, short enough that hashing it
/// cannot be turned into a denial of service.
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// Seconds until `subject` may try again, if its attempts within the window (this one
/// included) are more than `max`. The lock lifts when the oldest of the last `max` attempts
/// leaves the window.
async fn locked_for(
    state: &AppState,
    subject: &str,
    max: u64,
    now: DateTime<Utc>,
) -> Result<Option<u64>, ApiError> {
    let recent = login_failure::Entity::find()
        .filter(login_failure::Column::Subject.eq(subject))
        .filter(login_failure::Column::At.gt(now - WINDOW));
    if recent.clone().count(&state.db).await? <= max {
        return Ok(None);
    }
    let oldest: Option<DateTime<Utc>> = recent
        .select_only()
        .column(login_failure::Column::At)
        .order_by_desc(login_failure::Column::At)
        .offset(max - 1)
        .into_tuple()
        .one(&state.db)
        .await?;
    let wait = oldest
        .map(|t| (t + WINDOW - now).num_seconds())
        .unwrap_or(1);
    Ok(Some(wait.max(1) as u64))
}

/// Checks a password off the async workers: argon2 takes tens of milliseconds of CPU and would
/// otherwise stall every request sharing the worker.
async fn verify_password(password: String, phc: Option<String>) -> Result<bool, ApiError> {
    web::block(move || match phc {
        Some(phc) => password::verify(&password, &phc),
        None => {
            password::verify_dummy(&password);
            false
        }
    })
    .await
    .map_err(|e| ApiError::Internal(format!("password check: {e}")))
}

/// Logs in with email and password and sets the session cookie (HttpOnly, SameSite=Strict).
/// Failed attempts are throttled per email and per IP address.
#[utoipa::path(
    tag = "portal",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in; the `pl_session` cookie is set", body = CurrentUser),
        (status = 400, description = "Not JSON of this shape (`invalid_body`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong email or password (`invalid_credentials`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Sent from another site (`cross_origin_refused`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Email or password missing (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed logins (`too_many_attempts`); see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/session")]
pub async fn create_session(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let email = body.email.trim().to_lowercase();
    let mut errors = Vec::new();
    let mut bad = |field: &str, message: String| {
        errors.push(partlogic_types::FieldError {
            field: field.into(),
            message,
        })
    };
    if email.is_empty() {
        bad("email", "enter your email".into());
    } else if email.chars().count() > MAX_EMAIL_CHARS {
        bad(
            "email",
            format!("an email address has at most {MAX_EMAIL_CHARS} characters"),
        );
    }
    if body.password.is_empty() {
        bad("password", "enter your password".into());
    } else if body.password.chars().count() > MAX_PASSWORD_CHARS {
        bad(
            "password",
            format!("a password has at most {MAX_PASSWORD_CHARS} characters"),
        );
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let now = state.clock.now();
    let ip = client_ip(&req, state.settings.trust_proxy).unwrap_or_else(|| "unknown".to_owned());
    let email_subject = format!("email:{email}");
    let ip_subject = format!("ip:{ip}");

    // Every attempt is written down *before* the password is checked and counted with the
    // others, so a burst of parallel guesses cannot all slip in under the limit; a success
    // takes its marks back.
    let attempt = |subject: &String| login_failure::ActiveModel {
        subject: Set(subject.clone()),
        at: Set(now),
        ..Default::default()
    };
    login_failure::Entity::insert(attempt(&email_subject))
        .exec(&state.db)
        .await?;
    let ip_mark = login_failure::Entity::insert(attempt(&ip_subject))
        .exec(&state.db)
        .await?
        .last_insert_id;
    for (subject, max) in [(&email_subject, MAX_PER_EMAIL), (&ip_subject, MAX_PER_IP)] {
        if let Some(wait) = locked_for(&state, subject, max, now).await? {
            return Err(ApiError::TooManyAttempts(wait));
        }
    }

    let found = user::Entity::find()
        .filter(user::Column::Email.eq(email.as_str()))
        .one(&state.db)
        .await?;
    let ok = verify_password(
        body.password.clone(),
        found.as_ref().map(|u| u.password_hash.clone()),
    )
    .await?;
    let user = match found {
        Some(u) if ok && u.disabled_at.is_none() => u,
        _ => {
            // Forget attempts that no longer count, so the table stays small.
            login_failure::Entity::delete_many()
                .filter(login_failure::Column::At.lt(now - WINDOW))
                .exec(&state.db)
                .await?;
            return Err(ApiError::InvalidCredentials);
        }
    };
    login_failure::Entity::delete_many()
        .filter(
            sea_orm::Condition::any()
                .add(login_failure::Column::Subject.eq(email_subject))
                .add(login_failure::Column::Id.eq(ip_mark)),
        )
        .exec(&state.db)
        .await?;

    let token = cookie::new_token()?;
    session::Entity::insert(session::ActiveModel {
        digest: Set(keys::digest(&token)),
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
    Ok(HttpResponse::Ok()
        .cookie(cookie::cookie(
            token,
            state.settings.session_ttl,
            state.settings.secure_cookies,
        ))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(me))
}
