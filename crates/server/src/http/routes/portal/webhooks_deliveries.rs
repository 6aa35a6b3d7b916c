//! `GET /portal/api/keys/{id}/webhooks/{webhook_id}/deliveries`.

use actix_web::{HttpResponse, get, http::header, web};
use partlogic_types::{Problem, WebhookDelivery};

use super::webhooks_list::endpoint_for;
use crate::accounts::PortalUser;
use crate::error::ApiError;
use crate::http::state::AppState;
use crate::webhooks::store::{self, MAX_DELIVERIES_PAGE};

/// List a key's webhook endpoint's latest deliveries
///
/// Its last 100 deliveries, newest first: each message's event, state, attempts, and its
/// latest attempt's time, status, latency and error.
#[utoipa::path(
    tag = "webhooks",
    security(("session_cookie" = [])),
    params(
        ("id" = i64, Path, minimum = 1, description = "The key's id"),
        ("webhook_id" = i64, Path, minimum = 1, description = "The endpoint's id"),
    ),
    responses(
        (status = 200, description = "Deliveries, newest first", body = Vec<WebhookDelivery>),
        (status = 401, description = "Not logged in (`not_logged_in`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key or endpoint that you may see (`not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/keys/{id}/webhooks/{webhook_id}/deliveries")]
pub async fn list_webhook_deliveries(
    me: PortalUser,
    path: web::Path<(i64, i64)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (key_id, id) = path.into_inner();
    let (_, e) = endpoint_for(&state.db, &me, key_id, id).await?;
    let (list, _): (Vec<WebhookDelivery>, _) =
        store::deliveries(&state.db, e.id, None, MAX_DELIVERIES_PAGE).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(list))
}
