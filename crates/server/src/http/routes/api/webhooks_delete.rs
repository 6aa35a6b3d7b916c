//! `DELETE /api/webhooks/{id}`.

use actix_web::{HttpResponse, delete, web};
use partlogic_types::Problem;

use crate::error::ApiError;
use crate::http::state::AppState;
use crate::keys::caller::{Permitted, WebhooksManage};
use crate::webhooks::store;

/// Delete a webhook endpoint
///
/// Deletes one of this key's endpoints with its deliveries: nothing more is sent to it. Needs
/// `webhooks:manage`.
#[utoipa::path(
    tag = "webhooks",
    security(("api_key" = []), ("basic" = []), ("bearer" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The endpoint's id")),
    responses(
        (status = 204, description = "Deleted", headers(("PartLogic-Required-Permission" = String, description = "`webhooks:manage`"))),
        (status = 400, description = "A key in the URL or two keys", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `webhooks:manage` (`permission_denied`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint for this key (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "This key used up its rate limit for the minute (`rate_limited`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    who: Permitted<WebhooksManage>,
    id: web::Path<i64>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    store::delete(&state.db, who.caller.key_id(), id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
