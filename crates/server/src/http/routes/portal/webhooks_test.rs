//! `POST /portal/api/keys/{id}/webhooks/{webhook_id}/test`.

use actix_web::{HttpResponse, post, web};
use partlogic_types::{Problem, QueuedMessage};

use super::webhooks_list::endpoint_for;
use crate::accounts::PortalUser;
use crate::error::ApiError;
use crate::http::state::AppState;
use crate::webhooks::store;

/// Send a test event to a key's webhook endpoint
///
/// Queues a `webhook.test` event for this endpoint alone; it is delivered within a second,
/// like any other, and shows in its deliveries.
#[utoipa::path(
    tag = "webhooks",
    security(("session_cookie" = [])),
    params(
        ("id" = i64, Path, minimum = 1, description = "The key's id"),
        ("webhook_id" = i64, Path, minimum = 1, description = "The endpoint's id"),
    ),
    responses(
        (status = 202, description = "Queued", body = QueuedMessage),
        (status = 401, description = "Not logged in (`not_logged_in`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Sent from another site (`cross_origin_refused`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key or endpoint that you may see (`not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/keys/{id}/webhooks/{webhook_id}/test")]
pub async fn test_webhook(
    me: PortalUser,
    path: web::Path<(i64, i64)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (key_id, id) = path.into_inner();
    let (_, e) = endpoint_for(&state.db, &me, key_id, id).await?;
    let message_id = store::test(&state.db, &e, state.clock.now()).await?;
    Ok(HttpResponse::Accepted().json(QueuedMessage { message_id }))
}
