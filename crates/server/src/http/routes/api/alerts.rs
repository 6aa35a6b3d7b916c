//! `GET /api/stock/alerts`.

use actix_web::{HttpRequest, HttpResponse, get, http::header, web};
use partlogic_types::{Problem, StockAlert};

use crate::error::ApiError;
use crate::http::state::AppState;
use crate::keys::ApiCaller;
use crate::stock::Format;
use crate::stock::alerts::{self, AlertFilters};

/// List low-stock alerts, newest first
///
/// Low-stock alerts of the key's devices, newest first: one per crossing of a row's `MinQty`,
/// down (`below_min`) or back up (`restocked`). Each `id` is one crossing and is never reused,
/// so a polling tool (Zapier's Retrieve Poll deduplicates on `id`) fires exactly once per
/// crossing, and again if the row recovers and falls once more. Alerts are kept 90 days
/// (configurable). Send `Accept: text/csv` for CSV.
#[utoipa::path(
    tag = "stock",
    security(("api_key" = []), ("basic" = []), ("bearer" = [])),
    params(
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 1000, description = "How many, newest first (default 100)"),
        ("kind" = Option<partlogic_types::AlertKind>, Query, description = "Only `below_min` or only `restocked`"),
    ),
    responses(
        (status = 200, description = "Alerts, newest first", content(
            (Vec<StockAlert> = "application/json"),
            (String = "text/csv", example = json!("id,StockId,DeviceId,DeviceName,Customer,SKU,Description,MinQty,MaxQty,Physical,PreviousPhysical,Kind,At\n7,1,1,Main Stores,North Plant,BRG-6204,Deep groove ball bearing 6204,10,40,8,12,below_min,2026-01-01T12:00:00.000Z\n")),
        ), headers(("PartLogic-Key-Expires" = String, description = "When the key stops working (keys with an expiry only)"))),
        (status = 400, description = "Invalid parameters (`invalid_parameters`), a key in the URL (`api_key_in_query`) or two different keys (`conflicting_api_keys`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable key: `missing_api_key`, `malformed_api_key`, `invalid_api_key`, `api_key_expired`, `api_key_retired`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "This key used up its rate limit for the minute (`rate_limited`); see `Retry-After` and `RateLimit`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/stock/alerts")]
pub async fn list_stock_alerts(
    caller: ApiCaller,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let filters = AlertFilters::parse(req.query_string())?;
    let since = state.clock.now() - state.settings.alert_retention;
    let list = alerts::list(&state.store, &caller, &filters, since).await?;
    let format = Format::negotiate(&req);
    Ok(HttpResponse::Ok()
        .content_type(format.content_type())
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::VARY, "Accept"))
        .body(format.alerts_body(&list)))
}
