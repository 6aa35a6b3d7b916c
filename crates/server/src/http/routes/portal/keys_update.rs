//! `PATCH /portal/api/keys/{id}`.

use std::collections::BTreeSet;

use actix_web::{HttpRequest, HttpResponse, http::header, patch, web};
use partlogic_entity::{api_key_device, user};
use partlogic_types::{AuditAction, KeyDetail, Problem, UpdateKeyRequest};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QuerySelect,
};

use crate::accounts::PortalUser;
use crate::domain::FieldErrors;
use crate::error::ApiError;
use crate::http::net::client_ip;
use crate::http::state::AppState;
use crate::keys::devices::DeviceSelection;
use crate::keys::name::KeyName;
use crate::keys::settings::RateLimit;
use crate::keys::{manage, permissions, views};
use partlogic_types::KeyPermissions;

/// Rename a key or change its devices
///
/// Renames a key and/or replaces its device list. The secret does not change; the new reach
/// applies from the key's next request. Send the key's `ETag` as you read it in `If-Match`, and
/// a change someone else made meanwhile is not overwritten: 412 `precondition_failed`.
#[utoipa::path(
    tag = "keys",
    security(("session_cookie" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The key's id")),
    request_body = UpdateKeyRequest,
    responses(
        (status = 200, description = "The key as it is now", body = KeyDetail, headers(("ETag" = String, description = "The key's new version"))),
        (status = 400, description = "Not JSON of this shape (`invalid_body`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not logged in (`not_logged_in`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Devices you (or the key's owner) may not use (`device_not_in_scope`, with `errors`), a rate limit changed by a member (`admin_only`) or sent from another site (`cross_origin_refused`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key that you may see (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The key is retired (`key_retired`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names another version of the key (`precondition_failed`): reload it", body = Problem, content_type = "application/problem+json"),
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
    body: crate::http::json::Json<UpdateKeyRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let body = body.into_inner();
    let mut errors = FieldErrors::default();
    let name = body
        .name
        .as_deref()
        .and_then(|n| errors.take(KeyName::parse(n)));
    let selection = body
        .device_ids
        .as_deref()
        .and_then(|ids| errors.take(DeviceSelection::parse(ids)));
    // Absent: unchanged; null: the account's default; a number: the key's own.
    let rate: Option<Option<RateLimit>> = match body.rate_limit_per_minute {
        None => None,
        Some(None) => Some(None),
        Some(Some(n)) => errors.take(RateLimit::parse(n)).map(Some),
    };
    errors.finish().map_err(ApiError::Validation)?;
    if rate.is_some() && !me.user.is_admin() {
        return Err(ApiError::AdminOnly(
            "only account admins may change a key's rate limit",
        ));
    }

    let txn = crate::db::begin_write(&state.db).await?;
    let key = manage::key_for_update(&txn, &me.user, id.into_inner()).await?;
    manage::check_if_match(&req, &key)?;
    if key.retired_at.is_some() {
        return Err(ApiError::KeyRetired);
    }
    if let Some(selection) = &selection {
        manage::check_devices(&txn, &me.user, selection, "you").await?;
        // An admin editing a member's key may only tick what that member sees: a device the
        // owner cannot see would sit on the key unused until some unrelated grant silently
        // switched it on.
        if key.user_id != me.user.id {
            let owner = user::Entity::find_by_id(key.user_id)
                .one(&txn)
                .await?
                .ok_or_else(|| ApiError::Internal(format!("key {} has no owner", key.id)))?;
            manage::check_devices(&txn, &owner, selection, "the key's owner").await?;
        }
    }

    let mut changes = Vec::new();
    let mut am = key.clone().into_active_model();
    if let Some(name) = name.filter(|n| n.as_str() != key.name) {
        changes.push(format!(
            "renamed from \u{201c}{}\u{201d} to \u{201c}{}\u{201d}",
            key.name,
            name.as_str()
        ));
        am.name = Set(name.into_inner());
    }
    if let Some(selection) = selection {
        let old: BTreeSet<i64> = api_key_device::Entity::find()
            .select_only()
            .column(api_key_device::Column::DeviceId)
            .filter(api_key_device::Column::KeyId.eq(key.id))
            .into_tuple::<i64>()
            .all(&txn)
            .await?
            .into_iter()
            .collect();
        let new_set: BTreeSet<i64> = selection.ids().iter().copied().collect();
        if new_set != old {
            let added = new_set.difference(&old).count();
            let removed = old.difference(&new_set).count();
            changes.push(format!(
                "devices: {added} added, {removed} removed ({} now)",
                new_set.len()
            ));
            manage::set_key_devices(&txn, key.id, selection.ids()).await?;
        }
    }
    if let Some(rate) = rate {
        let new = rate.map(RateLimit::get);
        if new != key.rate_limit_per_minute {
            let say = |n: Option<i32>| {
                n.map_or("the account's default".to_owned(), |n| {
                    format!("{n} requests a minute")
                })
            };
            changes.push(format!(
                "rate limit: {} → {}",
                say(key.rate_limit_per_minute),
                say(new)
            ));
            am.rate_limit_per_minute = Set(new);
        }
    }
    if let Some(p) = &body.permissions {
        let old = KeyPermissions::from_scopes(&key.permissions);
        let new = permissions::apply(old, p);
        if new != old {
            changes.push(format!(
                "permissions: {} \u{2192} {}",
                old.describe(),
                new.describe()
            ));
            am.permissions = Set(new.to_scopes());
        }
    }
    let key = if changes.is_empty() {
        key
    } else {
        am.version = Set(key.version + 1);
        let key = am.update(&txn).await?;
        let ip = client_ip(&req, state.settings.trust_proxy);
        manage::audit(
            &txn,
            &key,
            &me.user,
            AuditAction::Edited,
            ip,
            Some(changes.join("; ")),
            now,
        )
        .await?;
        key
    };
    let tag = manage::etag(&key);
    let detail = views::detail(&txn, key, now, &state.usage).await?;
    txn.commit().await?;
    // Before answering: the key's next request must see this change (other instances hear of
    // it from the database).
    state.keys.clear();
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, tag))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(detail))
}
