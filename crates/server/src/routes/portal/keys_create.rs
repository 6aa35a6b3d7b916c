//! `POST /portal/api/keys`.

use actix_web::{HttpRequest, HttpResponse, http::header, post, web};
use partlogic_entity::api_key;
use partlogic_types::{CreateKeyRequest, CreatedKey, Problem};
use sea_orm::{ActiveValue::Set, EntityTrait};

use crate::auth::PortalUser;
use crate::error::ApiError;
use crate::keys;
use crate::net::client_ip;
use crate::portal;
use crate::state::AppState;

/// Creates a key for the given devices and returns its secret, this once
/// (`Cache-Control: no-store`). Only the secret's SHA-256 digest is stored.
#[utoipa::path(
    tag = "portal",
    security(("session_cookie" = [])),
    request_body = CreateKeyRequest,
    responses(
        (status = 201, description = "Created; `secret` is shown only now", body = CreatedKey),
        (status = 400, description = "Not JSON of this shape (`invalid_body`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not logged in (`not_logged_in`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Sent from another site (`cross_origin_refused`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (`validation_failed`, with `errors` for `name`, `expires_on`, `time_zone`, `device_ids`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/keys")]
pub async fn create_key(
    me: PortalUser,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<CreateKeyRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let mut errors = Vec::new();
    let name = portal::check_name(&body.name, &mut errors);
    let (expires_on, time_zone, expires_at) = portal::check_expiry(
        body.expires_on.as_deref(),
        body.time_zone.as_deref(),
        now,
        &mut errors,
    );
    let device_ids =
        portal::check_devices(&state.db, &me.user, &body.device_ids, "you", &mut errors).await?;
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }

    let secret = keys::generate().map_err(|e| ApiError::Internal(format!("no randomness: {e}")))?;
    let ip = client_ip(&req, state.settings.trust_proxy);
    let txn = crate::db::begin_write(&state.db).await?;
    let key = api_key::Entity::insert(api_key::ActiveModel {
        account_id: Set(me.user.account_id),
        user_id: Set(me.user.id),
        name: Set(name),
        prefix: Set(secret.display_prefix()),
        digest: Set(secret.digest()),
        created_at: Set(now),
        expires_on: Set(expires_on),
        time_zone: Set(time_zone.clone()),
        expires_at: Set(expires_at),
        ..Default::default()
    })
    .exec_with_returning(&txn)
    .await?;
    portal::set_key_devices(&txn, key.id, &device_ids).await?;
    let what = match expires_on {
        Some(d) => format!("{} devices; expires on {d} ({time_zone})", device_ids.len()),
        None => format!("{} devices; never expires", device_ids.len()),
    };
    portal::audit(&txn, &key, &me.user, "created", ip, Some(what), now).await?;
    let detail = portal::detail(&txn, key, now).await?;
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
        .json(CreatedKey {
            key: detail,
            secret: secret.expose().to_owned(),
        }))
}
