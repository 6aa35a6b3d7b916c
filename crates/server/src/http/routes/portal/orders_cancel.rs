//! `POST /portal/api/orders/{id}/cancel`.

use actix_web::{HttpRequest, HttpResponse, post, web};
use partlogic_types::{Order, Problem};

use super::orders_get::{answer, order_for};
use super::orders_receive::user_actor;
use crate::accounts::PortalUser;
use crate::error::ApiError;
use crate::http::state::AppState;
use crate::orders::store;

/// Cancel an order
///
/// Cancels an open order on which nothing was received yet. Send its `ETag` as `If-Match`.
#[utoipa::path(
    tag = "orders",
    security(("session_cookie" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The order's id")),
    responses(
        (status = 200, description = "The order, cancelled", body = Order, headers(("ETag" = String, description = "Its new version"))),
        (status = 401, description = "Not logged in (`not_logged_in`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order that you may see (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Received or cancelled already (`order_not_open`) or partly received (`order_partly_received`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since you loaded it (`precondition_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/orders/{id}/cancel")]
pub async fn cancel_order(
    me: PortalUser,
    id: web::Path<i64>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let txn = crate::db::begin_write(&state.db).await?;
    let (order, devices) = order_for(&txn, &me, id.into_inner()).await?;
    if !crate::domain::if_match(req.headers(), &store::etag(&order)) {
        return Err(ApiError::PreconditionFailed);
    }
    store::cancel(&txn, &order, &user_actor(&me), now).await?;
    let order = store::find(&txn, &devices, order.id)
        .await?
        .ok_or(ApiError::NotFound("order"))?;
    let res = answer(&txn, order).await?;
    txn.commit().await?;
    Ok(res)
}
