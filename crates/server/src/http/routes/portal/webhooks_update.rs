//! `PATCH /portal/api/keys/{id}/webhooks/{webhook_id}`.

use actix_web::{HttpResponse, http::header, patch, web};
use partlogic_types::{Problem, UpdateWebhookRequest, WebhookEndpoint};

use super::webhooks_list::{endpoint_for, permissions};
use crate::accounts::PortalUser;
use crate::error::ApiError;
use crate::http::state::AppState;
use crate::webhooks::parse::Change;
use crate::webhooks::store;

/// Change a key's webhook endpoint
///
/// Changes the fields sent; `enabled: true` enables a disabled endpoint again (its waiting
/// deliveries go out), `false` pauses it. The URL is checked as when adding.
#[utoipa::path(
    tag = "webhooks",
    security(("session_cookie" = [])),
    params(
        ("id" = i64, Path, minimum = 1, description = "The key's id"),
        ("webhook_id" = i64, Path, minimum = 1, description = "The endpoint's id"),
    ),
    request_body = UpdateWebhookRequest,
    responses(
        (status = 200, description = "The endpoint, changed", body = WebhookEndpoint),
        (status = 400, description = "Not JSON of this shape (`invalid_body`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not logged in (`not_logged_in`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Sent from another site (`cross_origin_refused`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key or endpoint that you may see (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A URL that may not be called (`webhook_url_not_allowed`) or invalid fields (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/keys/{id}/webhooks/{webhook_id}")]
pub async fn update_webhook(
    me: PortalUser,
    path: web::Path<(i64, i64)>,
    state: web::Data<AppState>,
    body: crate::http::json::Json<UpdateWebhookRequest>,
) -> Result<HttpResponse, ApiError> {
    let (key_id, id) = path.into_inner();
    let (key, current) = endpoint_for(&state.db, &me, key_id, id).await?;
    let change = Change::parse(
        &body,
        &permissions(&key),
        state.settings.webhook_allow_private,
    )
    .await?;
    let now = state.clock.now();
    let row = store::update(&state.db, current, change, now).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(store::view(&row, now)))
}
