//! `POST /api/webhooks/{id}/test`.

use actix_web::{HttpResponse, post, web};
use partlogic_types::{Problem, QueuedMessage};

use crate::error::ApiError;
use crate::http::state::AppState;
use crate::keys::caller::{Permitted, WebhooksManage};
use crate::webhooks::store;

/// Send a test event
///
/// Queues a `webhook.test` event for this endpoint alone (whatever events it receives); it is
/// delivered within a second like any other. Needs `webhooks:manage`.
#[utoipa::path(
    tag = "webhooks",
    security(("api_key" = []), ("basic" = []), ("bearer" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The endpoint's id")),
    responses(
        (status = 202, description = "Queued", body = QueuedMessage, headers(("PartLogic-Required-Permission" = String, description = "`webhooks:manage`"))),
        (status = 400, description = "A key in the URL or two keys", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `webhooks:manage` (`permission_denied`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint for this key (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "This key used up its rate limit for the minute (`rate_limited`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks/{id}/test")]
pub async fn test_webhook(
    who: Permitted<WebhooksManage>,
    id: web::Path<i64>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let e = store::find(&state.db, who.caller.key_id(), id.into_inner()).await?;
    let message_id = store::test(&state.db, &e, state.clock.now()).await?;
    Ok(HttpResponse::Accepted().json(QueuedMessage { message_id }))
}
