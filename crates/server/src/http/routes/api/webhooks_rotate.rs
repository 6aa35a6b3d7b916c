//! `POST /api/webhooks/{id}/rotate-secret`.

use actix_web::{HttpResponse, http::header, post, web};
use partlogic_types::{Problem, WebhookSecret};

use super::webhooks_create::vault;
use crate::error::ApiError;
use crate::http::state::AppState;
use crate::keys::caller::{Permitted, WebhooksManage};
use crate::webhooks::store;

/// Rotate an endpoint's signing secret
///
/// Makes a new signing secret, shown this once. For 24 hours every delivery carries two
/// signatures in `webhook-signature` (the new secret's and the old one's), so the receiver can
/// switch without missing a delivery. Needs `webhooks:manage`.
#[utoipa::path(
    tag = "webhooks",
    security(("api_key" = []), ("basic" = []), ("bearer" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The endpoint's id")),
    responses(
        (status = 200, description = "The new secret, shown only now", body = WebhookSecret, headers(("PartLogic-Required-Permission" = String, description = "`webhooks:manage`"))),
        (status = 400, description = "A key in the URL or two keys", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `webhooks:manage` (`permission_denied`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint for this key (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "This key used up its rate limit for the minute (`rate_limited`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "This server has no webhook key (`webhooks_not_configured`) or the database is unreachable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks/{id}/rotate-secret")]
pub async fn rotate_webhook_secret(
    who: Permitted<WebhooksManage>,
    id: web::Path<i64>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let vault = vault(&state)?;
    let e = store::find(&state.db, who.caller.key_id(), id.into_inner()).await?;
    let secret = store::rotate(&state.db, vault, e, state.clock.now()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(secret))
}
