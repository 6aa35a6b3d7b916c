//! `DELETE /portal/api/keys/{id}/webhooks/{webhook_id}`.

use actix_web::{HttpResponse, delete, web};
use partlogic_types::Problem;

use crate::accounts::PortalUser;
use crate::error::ApiError;
use crate::http::state::AppState;
use crate::keys::manage;
use crate::webhooks::store;

/// Delete a key's webhook endpoint
///
/// It receives nothing more; its deliveries are forgotten.
#[utoipa::path(
    tag = "webhooks",
    security(("session_cookie" = [])),
    params(
        ("id" = i64, Path, minimum = 1, description = "The key's id"),
        ("webhook_id" = i64, Path, minimum = 1, description = "The endpoint's id"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not logged in (`not_logged_in`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Sent from another site (`cross_origin_refused`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key or endpoint that you may see (`not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/keys/{id}/webhooks/{webhook_id}")]
pub async fn delete_webhook(
    me: PortalUser,
    path: web::Path<(i64, i64)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (key_id, id) = path.into_inner();
    let key = manage::key_for(&state.db, &me.user, key_id).await?;
    store::delete(&state.db, key.id, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
