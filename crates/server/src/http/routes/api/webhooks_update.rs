//! `PATCH /api/webhooks/{id}`.

use actix_web::{HttpResponse, http::header, patch, web};
use partlogic_types::{Problem, UpdateWebhookRequest, WebhookEndpoint};

use crate::error::ApiError;
use crate::http::state::AppState;
use crate::keys::caller::{Permitted, WebhooksManage};
use crate::webhooks::parse::Change;
use crate::webhooks::store;

/// Change a webhook endpoint
///
/// Changes the fields sent (`url`, `events`, `description`, `format`); `enabled: true` enables
/// a disabled endpoint again (its waiting deliveries go out), `false` pauses it. The URL is
/// checked as when adding. Needs `webhooks:manage`.
#[utoipa::path(
    tag = "webhooks",
    security(("api_key" = []), ("basic" = []), ("bearer" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The endpoint's id")),
    request_body = UpdateWebhookRequest,
    responses(
        (status = 200, description = "The endpoint, changed", body = WebhookEndpoint, headers(("PartLogic-Required-Permission" = String, description = "`webhooks:manage`"))),
        (status = 400, description = "Not JSON of this shape (`invalid_body`), a key in the URL or two keys", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `webhooks:manage` (`permission_denied`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint for this key (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "A body over 32 KiB (`payload_too_large`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A URL that may not be called (`webhook_url_not_allowed`) or invalid fields (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "This key used up its rate limit for the minute (`rate_limited`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/webhooks/{id}")]
pub async fn update_webhook(
    who: Permitted<WebhooksManage>,
    id: web::Path<i64>,
    state: web::Data<AppState>,
    body: crate::http::json::Json<UpdateWebhookRequest>,
) -> Result<HttpResponse, ApiError> {
    let caller = who.caller;
    let current = store::find(&state.db, caller.key_id(), id.into_inner()).await?;
    let change = Change::parse(
        &body,
        &caller.key.permissions,
        state.settings.webhook_allow_private,
    )
    .await?;
    let now = state.clock.now();
    let row = store::update(&state.db, current, change, now).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(store::view(&row, now)))
}
