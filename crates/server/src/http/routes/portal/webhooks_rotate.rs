//! `POST /portal/api/keys/{id}/webhooks/{webhook_id}/rotate-secret`.

use actix_web::{HttpResponse, http::header, post, web};
use partlogic_types::{Problem, WebhookSecret};

use super::webhooks_list::endpoint_for;
use crate::accounts::PortalUser;
use crate::error::ApiError;
use crate::http::routes::api::webhooks_create::vault;
use crate::http::state::AppState;
use crate::webhooks::store;

/// Rotate a key's webhook endpoint's signing secret
///
/// A new secret, shown this once; the previous one keeps signing beside it for 24 hours (each
/// delivery carries both signatures), so the receiver can switch without missing one.
#[utoipa::path(
    tag = "webhooks",
    security(("session_cookie" = [])),
    params(
        ("id" = i64, Path, minimum = 1, description = "The key's id"),
        ("webhook_id" = i64, Path, minimum = 1, description = "The endpoint's id"),
    ),
    responses(
        (status = 200, description = "The new secret, shown only now", body = WebhookSecret),
        (status = 401, description = "Not logged in (`not_logged_in`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Sent from another site (`cross_origin_refused`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key or endpoint that you may see (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "This server has no webhook key (`webhooks_not_configured`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/keys/{id}/webhooks/{webhook_id}/rotate-secret")]
pub async fn rotate_webhook_secret(
    me: PortalUser,
    path: web::Path<(i64, i64)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (key_id, id) = path.into_inner();
    let vault = vault(&state)?;
    let (_, e) = endpoint_for(&state.db, &me, key_id, id).await?;
    let secret = store::rotate(&state.db, vault, e, state.clock.now()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(secret))
}
