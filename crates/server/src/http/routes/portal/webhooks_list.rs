//! `GET /portal/api/keys/{id}/webhooks`.

use actix_web::{HttpResponse, get, http::header, web};
use partlogic_entity::{api_key, webhook_endpoint};
use partlogic_types::{KeyPermissions, Problem, WebhookEndpoint};
use sea_orm::ConnectionTrait;

use crate::accounts::PortalUser;
use crate::error::ApiError;
use crate::http::state::AppState;
use crate::keys::manage;
use crate::webhooks::store;

/// What a key may do, from its stored scopes.
pub(crate) fn permissions(key: &api_key::Model) -> KeyPermissions {
    KeyPermissions::from_scopes(&key.permissions)
}

/// Key `key_id` as the user may see it, and its endpoint `id` (404 for either otherwise).
pub(crate) async fn endpoint_for(
    db: &impl ConnectionTrait,
    me: &PortalUser,
    key_id: i64,
    id: i64,
) -> Result<(api_key::Model, webhook_endpoint::Model), ApiError> {
    let key = manage::key_for(db, &me.user, key_id).await?;
    let endpoint = store::find(db, key.id, id).await?;
    Ok((key, endpoint))
}

/// List a key's webhook endpoints
///
/// The endpoints that receive this key's events, oldest first, with their state: enabled or
/// disabled (and why), and since when deliveries fail (never their secrets).
#[utoipa::path(
    tag = "webhooks",
    security(("session_cookie" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The key's id")),
    responses(
        (status = 200, description = "The key's endpoints", body = Vec<WebhookEndpoint>),
        (status = 401, description = "Not logged in (`not_logged_in`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key that you may see (`not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/keys/{id}/webhooks")]
pub async fn list_webhooks(
    me: PortalUser,
    id: web::Path<i64>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let key = manage::key_for(&state.db, &me.user, id.into_inner()).await?;
    let now = state.clock.now();
    let list: Vec<WebhookEndpoint> = store::list(&state.db, key.id)
        .await?
        .iter()
        .map(|m| store::view(m, now))
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(list))
}
