//! `POST /portal/api/keys/{id}/webhooks/{webhook_id}/deliveries/{message_id}/replay`.

use actix_web::{HttpResponse, post, web};
use partlogic_types::{Problem, QueuedMessage};

use super::webhooks_list::endpoint_for;
use crate::accounts::PortalUser;
use crate::error::ApiError;
use crate::http::state::AppState;
use crate::webhooks::store;

/// Replay a delivery of a key's webhook endpoint
///
/// Sends the message to the endpoint again, now, with the same `webhook-id`.
#[utoipa::path(
    tag = "webhooks",
    security(("session_cookie" = [])),
    params(
        ("id" = i64, Path, minimum = 1, description = "The key's id"),
        ("webhook_id" = i64, Path, minimum = 1, description = "The endpoint's id"),
        ("message_id" = String, Path, description = "The message's id (`msg_…`)"),
    ),
    responses(
        (status = 202, description = "Queued again", body = QueuedMessage),
        (status = 401, description = "Not logged in (`not_logged_in`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Sent from another site (`cross_origin_refused`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key, endpoint or delivery that you may see (`not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/keys/{id}/webhooks/{webhook_id}/deliveries/{message_id}/replay")]
pub async fn replay_webhook_delivery(
    me: PortalUser,
    path: web::Path<(i64, i64, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (key_id, id, message_id) = path.into_inner();
    let (_, e) = endpoint_for(&state.db, &me, key_id, id).await?;
    store::replay(&state.db, &e, &message_id, state.clock.now()).await?;
    Ok(HttpResponse::Accepted().json(QueuedMessage { message_id }))
}
