//! `GET /api/orders/{id}`.

use actix_web::{HttpResponse, get, http::header, web};
use partlogic_types::{Order, Problem};

use crate::error::ApiError;
use crate::http::state::AppState;
use crate::keys::caller::{OrdersRead, Permitted};
use crate::orders::store;

/// Get one order
///
/// One order of a device the key reaches, with its lines (ordered, received, outstanding) and
/// history. An order of any other device, or of a device its owner no longer sees, is 404.
/// Needs `orders:read`.
#[utoipa::path(
    tag = "orders",
    security(("api_key" = []), ("basic" = []), ("bearer" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The order's id")),
    responses(
        (status = 200, description = "The order", body = Order, headers(("PartLogic-Required-Permission" = String, description = "`orders:read`"))),
        (status = 400, description = "A key in the URL or two keys", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `orders:read` (`permission_denied`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order for this key (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "This key used up its rate limit for the minute (`rate_limited`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/orders/{id}")]
pub async fn get_order(
    who: Permitted<OrdersRead>,
    id: web::Path<i64>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let devices = who.caller.reach_ids();
    let Some(order) = store::find(&state.db, &devices, id.into_inner()).await? else {
        return Err(ApiError::NotFound("order"));
    };
    let order = store::view(&state.db, order).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(order))
}
