//! `DELETE /portal/api/keys/{id}`: retire a key.

use actix_web::{HttpRequest, HttpResponse, delete, http::header, web};
use partlogic_types::{KeyDetail, Problem, RetiredReason};

use crate::accounts::PortalUser;
use crate::error::ApiError;
use crate::http::net::client_ip;
use crate::http::state::AppState;
use crate::keys::{manage, views};

/// Retire an API key
///
/// Retires a key: it fails from its very next request and stays listed as retired, with who and
/// when. Retiring a retired key changes nothing and answers the same. Send the key's `ETag` in
/// `If-Match` to retire it only as you last saw it (412 `precondition_failed` otherwise).
#[utoipa::path(
    tag = "keys",
    security(("session_cookie" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The key's id")),
    responses(
        (status = 200, description = "The key, now retired", body = KeyDetail, headers(("ETag" = String, description = "The key's new version"))),
        (status = 401, description = "Not logged in (`not_logged_in`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Sent from another site (`cross_origin_refused`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key that you may see (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names another version of the key (`precondition_failed`): reload it", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/keys/{id}")]
pub async fn retire_key(
    me: PortalUser,
    id: web::Path<i64>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let txn = crate::db::begin_write(&state.db).await?;
    let mut key = manage::key_for_update(&txn, &me.user, id.into_inner()).await?;
    manage::check_if_match(&req, &key)?;
    if key.retired_at.is_none() {
        key = crate::keys::lifecycle::retire(
            &txn,
            key,
            crate::keys::lifecycle::Retirement {
                reason: RetiredReason::Retired,
                detail: None,
                actor: Some(me.user.id),
                ip: client_ip(&req, state.settings.trust_proxy),
                history: None,
            },
            now,
        )
        .await?;
        tracing::info!(key_id = key.id, user_id = me.user.id, "key retired");
    }
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
