//! `POST /portal/api/keys`.

use actix_web::{HttpRequest, HttpResponse, http::header, post, web};
use partlogic_entity::api_key;
use partlogic_types::{AuditAction, CreateKeyRequest, CreatedKey, Problem};
use sea_orm::{ActiveValue::Set, EntityTrait};

use crate::accounts::PortalUser;
use crate::domain::FieldErrors;
use crate::error::ApiError;
use crate::http::net::client_ip;
use crate::http::state::AppState;
use crate::keys;
use crate::keys::devices::DeviceSelection;
use crate::keys::expiry::{Expiry, ExpiryError};
use crate::keys::name::KeyName;
use crate::keys::settings::RateLimit;
use crate::keys::{manage, permissions, views};
use partlogic_types::KeyPermissions;

/// Create an API key
///
/// Creates a key for the given devices and returns its secret, this once
/// (`Cache-Control: no-store`). Only the secret's SHA-256 digest is stored.
#[utoipa::path(
    tag = "keys",
    security(("session_cookie" = [])),
    request_body = CreateKeyRequest,
    responses(
        (status = 201, description = "Created; `secret` is shown only now", body = CreatedKey, headers(("ETag" = String, description = "The key's version, for `If-Match`"), ("Location" = String, description = "The key's URL"))),
        (status = 400, description = "Not JSON of this shape (`invalid_body`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not logged in (`not_logged_in`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Devices you may not use (`device_not_in_scope`, with `errors`), a rate limit set by a member (`admin_only`) or sent from another site (`cross_origin_refused`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An expiry date already over in its zone, or more than five years ahead (`expiry_out_of_range`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (`validation_failed`, with `errors` for `name`, `expires_on`, `time_zone`, `device_ids`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/keys")]
pub async fn create_key(
    me: PortalUser,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: crate::http::json::Json<CreateKeyRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let body = body.into_inner();
    let mut errors = FieldErrors::default();
    let name = errors.take(KeyName::parse(&body.name));
    let selection = errors.take(DeviceSelection::parse(&body.device_ids));
    let rate = body
        .rate_limit_per_minute
        .and_then(|n| errors.take(RateLimit::parse(n)));
    let permissions = body.permissions.map_or_else(KeyPermissions::default, |p| {
        permissions::apply(KeyPermissions::default(), &p)
    });
    let expiry = match Expiry::parse(body.expires_on.as_deref(), body.time_zone.as_deref(), now) {
        Ok(e) => Some(Ok(e)),
        Err(ExpiryError::Invalid(es)) => {
            es.into_iter().for_each(|e| errors.push(e));
            None
        }
        Err(ExpiryError::OutOfRange(e)) => Some(Err(e)),
    };
    errors.finish().map_err(ApiError::Validation)?;
    let (Some(name), Some(selection), Some(expiry)) = (name, selection, expiry) else {
        return Err(ApiError::Internal("parsed key fields missing".to_owned()));
    };
    // Well-formed but not allowed: the schema cannot say which devices or dates these are.
    let expiry = expiry.map_err(ApiError::ExpiryOutOfRange)?;
    if rate.is_some() && !me.user.is_admin() {
        return Err(ApiError::AdminOnly(
            "only account admins may set a key's rate limit",
        ));
    }
    manage::check_devices(&state.db, &me.user, &selection, "you").await?;

    let secret = keys::generate().map_err(|e| ApiError::Internal(format!("no randomness: {e}")))?;
    let ip = client_ip(&req, state.settings.trust_proxy);
    let txn = crate::db::begin_write(&state.db).await?;
    let key = api_key::Entity::insert(api_key::ActiveModel {
        account_id: Set(me.user.account_id),
        user_id: Set(me.user.id),
        name: Set(name.into_inner()),
        prefix: Set(secret.display_prefix()),
        digest: Set(secret.digest()),
        created_at: Set(now),
        expires_on: Set(expiry.date()),
        time_zone: Set(expiry.zone.name().to_owned()),
        expires_at: Set(expiry.ends_at()),
        version: Set(1),
        rate_limit_per_minute: Set(rate.map(RateLimit::get)),
        permissions: Set(permissions.to_scopes()),
        ..Default::default()
    })
    .exec_with_returning(&txn)
    .await?;
    let device_ids = selection.ids();
    manage::set_key_devices(&txn, key.id, device_ids).await?;
    let what = match expiry.date() {
        Some(d) => format!(
            "{} devices; expires on {d} ({})",
            device_ids.len(),
            expiry.zone.name()
        ),
        None => format!("{} devices; never expires", device_ids.len()),
    };
    let what = match rate {
        Some(r) => format!("{what}; {} requests a minute", r.get()),
        None => what,
    };
    let what = format!("{what}; {}", permissions.describe());
    let tag = manage::etag(&key);
    manage::audit(
        &txn,
        &key,
        &me.user,
        AuditAction::Created,
        ip,
        Some(what),
        now,
    )
    .await?;
    let detail = views::detail(&txn, key, now, &state.usage).await?;
    txn.commit().await?;
    tracing::info!(
        key_id = detail.summary.id,
        user_id = me.user.id,
        "key created"
    );
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::LOCATION,
            format!("/portal/api/keys/{}", detail.summary.id),
        ))
        .insert_header((header::ETAG, tag))
        .json(CreatedKey {
            key: detail,
            secret: secret.expose().to_owned(),
        }))
}
