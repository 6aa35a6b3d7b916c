//! `POST /portal/api/keys/{id}/webhooks`.

use actix_web::{HttpResponse, http::header, post, web};
use partlogic_types::{CreateWebhookRequest, CreatedWebhookEndpoint, Permission, Problem};

use super::webhooks_list::permissions;
use crate::accounts::PortalUser;
use crate::error::ApiError;
use crate::http::routes::api::webhooks_create::vault;
use crate::http::state::AppState;
use crate::keys::manage;
use crate::webhooks::parse::NewEndpoint;
use crate::webhooks::store;

/// Add a webhook endpoint to a key
///
/// As `POST /api/webhooks` does with the key itself: the URL must be `https` and public
/// (`webhook_url_not_allowed`), order events need the key's `orders:read`, at most 10 per key.
/// The key must hold `webhooks:manage` (its events are sent only while it does) and not be
/// retired. The answer holds the signing secret (`whsec_…`) this once.
#[utoipa::path(
    tag = "webhooks",
    security(("session_cookie" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The key's id")),
    request_body = CreateWebhookRequest,
    responses(
        (status = 201, description = "Added; `secret` is shown only now", body = CreatedWebhookEndpoint),
        (status = 400, description = "Not JSON of this shape (`invalid_body`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not logged in (`not_logged_in`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `webhooks:manage` (`permission_denied`) or the request came from another site (`cross_origin_refused`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key that you may see (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The key is retired (`key_retired`) or has 10 endpoints already (`too_many_webhooks`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A URL that may not be called (`webhook_url_not_allowed`) or invalid fields (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "This server has no webhook key (`webhooks_not_configured`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/keys/{id}/webhooks")]
pub async fn create_webhook(
    me: PortalUser,
    id: web::Path<i64>,
    state: web::Data<AppState>,
    body: crate::http::json::Json<CreateWebhookRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = manage::key_for(&state.db, &me.user, id.into_inner()).await?;
    if key.retired_at.is_some() {
        return Err(ApiError::KeyRetired);
    }
    let perms = permissions(&key);
    if !perms.allows(Permission::WebhooksManage) {
        return Err(ApiError::PermissionDenied(Permission::WebhooksManage));
    }
    let vault = vault(&state)?;
    let new = NewEndpoint::parse(&body, &perms, state.settings.webhook_allow_private).await?;
    let created: CreatedWebhookEndpoint = store::create(
        &state.db,
        vault,
        key.account_id,
        key.id,
        new,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(created))
}
