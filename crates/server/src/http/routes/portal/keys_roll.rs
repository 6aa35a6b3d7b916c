//! `POST /portal/api/keys/{id}/roll`.

use actix_web::{HttpRequest, HttpResponse, http::header, post, web};
use partlogic_entity::retired_digest;
use partlogic_types::{AuditAction, CreatedKey, FieldError, Problem, RollKeyRequest};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel};

use crate::accounts::PortalUser;
use crate::domain::FieldErrors;
use crate::error::ApiError;
use crate::http::net::client_ip;
use crate::http::state::AppState;
use crate::keys;
use crate::keys::settings::Overlap;
use crate::keys::{manage, views};

/// Give a key a new secret
///
/// Gives a key a new secret, shown once like a new key's; its name, devices, expiry, owner and
/// history stay. The old secret keeps working for the overlap chosen (`PT0S`: not at all,
/// `PT1H`, `PT24H`, `P7D`) and is then refused with `api_key_retired`. Rolling again while an
/// overlap runs stops the older secret at once: a key has at most two working secrets (secrets
/// rolled past are refused as `api_key_retired`). Expired keys are not rolled. Send the
/// key's `ETag` in `If-Match` to roll it only as you last saw it.
#[utoipa::path(
    tag = "keys",
    security(("session_cookie" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The key's id")),
    request_body = RollKeyRequest,
    responses(
        (status = 201, description = "Rolled; `secret` is the new secret, shown only now", body = CreatedKey, headers(("ETag" = String, description = "The key's new version"))),
        (status = 400, description = "Not JSON of this shape (`invalid_body`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not logged in (`not_logged_in`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Sent from another site (`cross_origin_refused`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key that you may see (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The key is retired (`key_retired`) or expired (`expiry_out_of_range`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names another version of the key (`precondition_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An overlap other than `PT0S`, `PT1H`, `PT24H`, `P7D` (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/keys/{id}/roll")]
pub async fn roll_key(
    me: PortalUser,
    id: web::Path<i64>,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: crate::http::json::Json<RollKeyRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let mut errors = FieldErrors::default();
    let overlap = errors.take(Overlap::parse(&body.overlap));
    errors.finish().map_err(ApiError::Validation)?;
    let overlap = overlap.ok_or_else(|| ApiError::Internal("overlap missing".to_owned()))?;

    let secret = keys::generate().map_err(|e| ApiError::Internal(format!("no randomness: {e}")))?;
    let txn = crate::db::begin_write(&state.db).await?;
    let key = manage::key_for_update(&txn, &me.user, id.into_inner()).await?;
    manage::check_if_match(&req, &key)?;
    if key.retired_at.is_some() {
        return Err(ApiError::KeyRetired);
    }
    // A new secret for an expired key would be dead on arrival.
    if key.expires_at.is_some_and(|end| end <= now) {
        return Err(ApiError::ExpiryOutOfRange(FieldError {
            field: "expires_on".to_owned(),
            message: "this key has expired, so a new secret would not work either; create a key like it instead".to_owned(),
        }));
    }
    // The secret rolled past is still recognised, to be refused as retired.
    if let Some(old) = key.previous_digest.clone() {
        retired_digest::Entity::insert(retired_digest::ActiveModel {
            digest: Set(old),
            key_id: Set(key.id),
        })
        .on_conflict_do_nothing()
        .exec(&txn)
        .await?;
    }
    let until = now + overlap.duration();
    let what = format!(
        "new secret {}…; the old one ({}…) works {}",
        secret.display_prefix(),
        key.prefix,
        if overlap.duration().is_zero() {
            "no longer".to_owned()
        } else {
            format!(
                "for {} more, until {}",
                overlap.label(),
                partlogic_types::rfc3339_millis::format(&until)
            )
        }
    );
    let version = key.version;
    let mut am = key.clone().into_active_model();
    am.previous_digest = Set(Some(key.digest.clone()));
    am.previous_prefix = Set(Some(key.prefix.clone()));
    am.previous_until = Set(Some(until));
    am.digest = Set(secret.digest());
    am.prefix = Set(secret.display_prefix());
    am.version = Set(version + 1);
    let key = am.update(&txn).await?;
    let ip = client_ip(&req, state.settings.trust_proxy);
    manage::audit(
        &txn,
        &key,
        &me.user,
        AuditAction::Rolled,
        ip,
        Some(what),
        now,
    )
    .await?;
    let tag = manage::etag(&key);
    let detail = views::detail(&txn, key, now, &state.usage).await?;
    txn.commit().await?;
    // Before answering: the old secret's next request must see its new end.
    state.keys.clear();
    tracing::info!(
        key_id = detail.summary.id,
        user_id = me.user.id,
        "key rolled"
    );
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::ETAG, tag))
        .json(CreatedKey {
            key: detail,
            secret: secret.expose().to_owned(),
        }))
}
