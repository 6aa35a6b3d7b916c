//! `POST /api/webhooks`.

use actix_web::{HttpResponse, http::header, post, web};
use partlogic_types::{CreateWebhookRequest, CreatedWebhookEndpoint, Problem};

use crate::error::ApiError;
use crate::http::state::AppState;
use crate::keys::caller::{Permitted, WebhooksManage};
use crate::webhooks::parse::NewEndpoint;
use crate::webhooks::secrets::Vault;
use crate::webhooks::store;

/// The server's vault for signing secrets, or 503 `webhooks_not_configured`.
pub(crate) fn vault(state: &AppState) -> Result<&Vault, ApiError> {
    state
        .webhook_vault
        .as_deref()
        .ok_or(ApiError::WebhooksNotConfigured)
}

/// Add a webhook endpoint
///
/// Registers a URL that receives this key's events, signed the Standard Webhooks way
/// (`webhook-id`, `webhook-timestamp`, `webhook-signature`). The answer holds the signing
/// secret (`whsec_…`) this once. The URL must be `https` and public (not loopback, private,
/// link-local or metadata addresses, also after DNS: `webhook_url_not_allowed`). `format:
/// "slack"` posts Slack incoming-webhook messages instead. Order events need the key's
/// `orders:read`. At most 10 endpoints per key. Needs `webhooks:manage`.
#[utoipa::path(
    tag = "webhooks",
    security(("api_key" = []), ("basic" = []), ("bearer" = [])),
    request_body = CreateWebhookRequest,
    responses(
        (status = 201, description = "Added; `secret` is shown only now", body = CreatedWebhookEndpoint, headers(("Location" = String, description = "The endpoint's URL"), ("PartLogic-Required-Permission" = String, description = "`webhooks:manage`"))),
        (status = 400, description = "Not JSON of this shape (`invalid_body`), a key in the URL or two keys", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `webhooks:manage` (`permission_denied`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The key has 10 endpoints already (`too_many_webhooks`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "A body over 32 KiB (`payload_too_large`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A URL that may not be called (`webhook_url_not_allowed`) or invalid fields (`validation_failed`, with `errors` for `events`, `description`, `format`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "This key used up its rate limit for the minute (`rate_limited`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "This server has no webhook key (`webhooks_not_configured`) or the database is unreachable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks")]
pub async fn create_webhook(
    who: Permitted<WebhooksManage>,
    state: web::Data<AppState>,
    body: crate::http::json::Json<CreateWebhookRequest>,
) -> Result<HttpResponse, ApiError> {
    let caller = who.caller;
    let vault = vault(&state)?;
    let new = NewEndpoint::parse(
        &body,
        &caller.key.permissions,
        state.settings.webhook_allow_private,
    )
    .await?;
    let created = store::create(
        &state.db,
        vault,
        caller.account_id(),
        caller.key_id(),
        new,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("{}/api/webhooks/{}", state.link_prefix, created.endpoint.id),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(created))
}
