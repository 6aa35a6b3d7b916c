//! `POST /api/webhooks/{id}/deliveries/{message_id}/replay`.

use actix_web::{HttpResponse, post, web};
use partlogic_types::{Problem, QueuedMessage};

use crate::error::ApiError;
use crate::http::state::AppState;
use crate::keys::caller::{Permitted, WebhooksManage};
use crate::webhooks::store;

/// Replay a delivery
///
/// Sends a message to this endpoint again, now, with the same `webhook-id` (receivers that
/// keep ids see it is the same message). Needs `webhooks:manage`.
#[utoipa::path(
    tag = "webhooks",
    security(("api_key" = []), ("basic" = []), ("bearer" = [])),
    params(
        ("id" = i64, Path, minimum = 1, description = "The endpoint's id"),
        ("message_id" = String, Path, description = "The message's id (`msg_…`)"),
    ),
    responses(
        (status = 202, description = "Queued again", body = QueuedMessage, headers(("PartLogic-Required-Permission" = String, description = "`webhooks:manage`"))),
        (status = 400, description = "A key in the URL or two keys", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `webhooks:manage` (`permission_denied`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint or delivery for this key (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "This key used up its rate limit for the minute (`rate_limited`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks/{id}/deliveries/{message_id}/replay")]
pub async fn replay_webhook_delivery(
    who: Permitted<WebhooksManage>,
    path: web::Path<(i64, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (id, message_id) = path.into_inner();
    let e = store::find(&state.db, who.caller.key_id(), id).await?;
    store::replay(&state.db, &e, &message_id, state.clock.now()).await?;
    Ok(HttpResponse::Accepted().json(QueuedMessage { message_id }))
}
