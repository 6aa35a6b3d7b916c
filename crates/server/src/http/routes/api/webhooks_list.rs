//! `GET /api/webhooks`.

use actix_web::{HttpResponse, get, http::header, web};
use partlogic_types::{Problem, WebhookEndpoint};

use crate::error::ApiError;
use crate::http::state::AppState;
use crate::keys::caller::{Permitted, WebhooksManage};
use crate::webhooks::store;

/// List webhook endpoints
///
/// This key's endpoints, oldest first (never their secrets). Needs `webhooks:manage`.
#[utoipa::path(
    tag = "webhooks",
    security(("api_key" = []), ("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The endpoints", body = Vec<WebhookEndpoint>, headers(("PartLogic-Required-Permission" = String, description = "`webhooks:manage`"))),
        (status = 400, description = "A key in the URL or two keys", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `webhooks:manage` (`permission_denied`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "This key used up its rate limit for the minute (`rate_limited`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    who: Permitted<WebhooksManage>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let list: Vec<WebhookEndpoint> = store::list(&state.db, who.caller.key_id())
        .await?
        .iter()
        .map(|m| store::view(m, now))
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(list))
}
