//! `GET /api/devices`.

use actix_web::{HttpResponse, get, http::header};
use partlogic_types::{ApiDevice, Problem};

use crate::error::ApiError;
use crate::keys::ApiCaller;
use crate::stock::query;

/// List the devices this key reads
///
/// The devices this key can read: its ticked devices that its owner may still see.
#[utoipa::path(
    tag = "stock",
    security(("api_key" = []), ("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The key's devices, by id", body = Vec<ApiDevice>, headers(("PartLogic-Key-Expires" = String, description = "When the key stops working (keys with an expiry only)"))),
        (status = 400, description = "A key in the URL (`api_key_in_query`) or two different keys (`conflicting_api_keys`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable key: `missing_api_key`, `malformed_api_key`, `invalid_api_key`, `api_key_expired`, `api_key_retired`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "This key used up its rate limit for the minute (`rate_limited`); see `Retry-After` and `RateLimit`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/devices")]
pub async fn list_devices(caller: ApiCaller) -> Result<HttpResponse, ApiError> {
    // The reach comes with the key, encoded once: no database read, no encoding.
    Ok(HttpResponse::Ok()
        .content_type(header::ContentType::json())
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(query::reach_json(&caller)))
}
