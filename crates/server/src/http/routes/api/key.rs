//! `GET /api/key`: the "test connection" step.

use actix_web::{HttpResponse, get, http::header, web};
use partlogic_types::{KeyInfo, Problem};

use crate::error::ApiError;
use crate::http::state::AppState;
use crate::keys::ApiCaller;
use crate::keys::expiry;
use crate::stock::query;

/// Describe the key making this request
///
/// The calling key: its name, prefix, when it was made and when it stops working, its status,
/// and the devices it reaches *now* (its ticked devices that its owner may still see). What
/// every tool's "test connection" step should call.
#[utoipa::path(
    tag = "key",
    security(("api_key" = []), ("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The key", body = KeyInfo, headers(("PartLogic-Key-Expires" = String, description = "When the key stops working (keys with an expiry only)"))),
        (status = 400, description = "A key in the URL (`api_key_in_query`) or two different keys (`conflicting_api_keys`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable key: `missing_api_key`, `malformed_api_key`, `invalid_api_key`, `api_key_expired`, `api_key_retired`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "This key used up its rate limit for the minute (`rate_limited`); see `Retry-After` and `RateLimit`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/key")]
pub async fn get_current_key(
    caller: ApiCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let devices = query::reach(&caller);
    let k = &caller.key;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(KeyInfo {
            name: k.name.clone(),
            prefix: k.prefix.clone(),
            created_at: k.created_at,
            expires_on: k.expires_on,
            time_zone: k.time_zone.clone(),
            expires_at: k.expires_at,
            status: expiry::status(None, k.expires_at, state.clock.now()),
            devices,
            permissions: k.permissions,
        }))
}
