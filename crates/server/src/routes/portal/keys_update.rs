//! `PATCH /portal/api/keys/{id}`.

use std::collections::BTreeSet;

use actix_web::{HttpRequest, patch, web};
use partlogic_entity::{api_key_device, user};
use partlogic_types::{KeyDetail, Problem, UpdateKeyRequest};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QuerySelect,
};

use crate::auth::PortalUser;
use crate::error::ApiError;
use crate::net::client_ip;
use crate::portal;
use crate::state::AppState;

/// Renames a key and/or replaces its device list. The secret does not change; the new reach
/// applies from the key's next request.
#[utoipa::path(
    tag = "portal",
    security(("session_cookie" = [])),
    params(("id" = i64, Path, description = "The key's id")),
    request_body = UpdateKeyRequest,
    responses(
        (status = 200, description = "The key as it is now", body = KeyDetail),
        (status = 400, description = "Not JSON of this shape (`invalid_body`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not logged in (`not_logged_in`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Sent from another site (`cross_origin_refused`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key that you may see (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The key is retired (`key_retired`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/keys/{id}")]
pub async fn update_key(
    me: PortalUser,
    id: web::Path<i64>,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<UpdateKeyRequest>,
) -> Result<web::Json<KeyDetail>, ApiError> {
    let now = state.clock.now();
    let txn = crate::db::begin_write(&state.db).await?;
    let key = portal::key_for_update(&txn, &me.user, id.into_inner()).await?;
    if key.retired_at.is_some() {
        return Err(ApiError::KeyRetired);
    }
    let mut errors = Vec::new();
    let name = body
        .name
        .as_deref()
        .map(|n| portal::check_name(n, &mut errors));
    let devices = match &body.device_ids {
        Some(ids) => {
            let checked = portal::check_devices(&txn, &me.user, ids, "you", &mut errors).await?;
            // An admin editing a member's key may only tick what that member sees: a device
            // the owner cannot see would sit on the key unused until some unrelated grant
            // silently switched it on.
            if key.user_id != me.user.id && errors.is_empty() {
                let owner = user::Entity::find_by_id(key.user_id)
                    .one(&txn)
                    .await?
                    .ok_or_else(|| ApiError::Internal(format!("key {} has no owner", key.id)))?;
                portal::check_devices(&txn, &owner, ids, "the key's owner", &mut errors).await?;
            }
            Some(checked)
        }
        None => None,
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }

    let mut changes = Vec::new();
    let mut key = key;
    if let Some(name) = name.filter(|n| *n != key.name) {
        changes.push(format!(
            "renamed from \u{201c}{}\u{201d} to \u{201c}{name}\u{201d}",
            key.name
        ));
        let mut am = key.clone().into_active_model();
        am.name = Set(name);
        key = am.update(&txn).await?;
    }
    if let Some(new) = devices {
        let old: BTreeSet<i64> = api_key_device::Entity::find()
            .select_only()
            .column(api_key_device::Column::DeviceId)
            .filter(api_key_device::Column::KeyId.eq(key.id))
            .into_tuple::<i64>()
            .all(&txn)
            .await?
            .into_iter()
            .collect();
        let new_set: BTreeSet<i64> = new.iter().copied().collect();
        if new_set != old {
            let added = new_set.difference(&old).count();
            let removed = old.difference(&new_set).count();
            changes.push(format!(
                "devices: {added} added, {removed} removed ({} now)",
                new_set.len()
            ));
            portal::set_key_devices(&txn, key.id, &new).await?;
        }
    }
    if !changes.is_empty() {
        let ip = client_ip(&req, state.settings.trust_proxy);
        portal::audit(
            &txn,
            &key,
            &me.user,
            "edited",
            ip,
            Some(changes.join("; ")),
            now,
        )
        .await?;
    }
    let detail = portal::detail(&txn, key, now).await?;
    txn.commit().await?;
    Ok(web::Json(detail))
}
