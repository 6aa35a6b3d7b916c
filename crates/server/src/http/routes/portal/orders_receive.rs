//! `POST /portal/api/orders/{id}/receive`.

use actix_web::{HttpRequest, HttpResponse, post, web};
use partlogic_types::{Order, Problem, ReceiveOrderRequest};

use super::orders_get::{answer, order_for};
use crate::accounts::PortalUser;
use crate::error::ApiError;
use crate::http::state::AppState;
use crate::orders::parse::Receipt;
use crate::orders::store::{self, Actor};

/// The actor a portal user's change is recorded as.
pub(crate) fn user_actor(me: &PortalUser) -> Actor {
    Actor::User {
        id: me.user.id,
        name: me.user.name.clone(),
        email: me.user.email.clone(),
    }
}

/// Receive an order
///
/// Records what arrived, per line or (without `lines`) everything outstanding; the quantities
/// go to the stock rows' `Physical`. Send the order's `ETag` as `If-Match`: if someone else
/// received or cancelled it since you loaded it, nothing is received twice (412).
#[utoipa::path(
    tag = "orders",
    security(("session_cookie" = [])),
    request_body = ReceiveOrderRequest,
    params(("id" = i64, Path, minimum = 1, description = "The order's id")),
    responses(
        (status = 200, description = "The order as it is now", body = Order, headers(("ETag" = String, description = "Its new version"))),
        (status = 400, description = "Not JSON of this shape (`invalid_body`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not logged in (`not_logged_in`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order that you may see (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Received or cancelled already (`order_not_open`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since you loaded it (`precondition_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A line not on the order or more than is outstanding (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/orders/{id}/receive")]
pub async fn receive_order(
    me: PortalUser,
    id: web::Path<i64>,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: crate::http::json::Json<ReceiveOrderRequest>,
) -> Result<HttpResponse, ApiError> {
    let receipt = Receipt::parse(&body).map_err(ApiError::Validation)?;
    let now = state.clock.now();
    let txn = crate::db::begin_write(&state.db).await?;
    let (order, devices) = order_for(&txn, &me, id.into_inner()).await?;
    if !crate::domain::if_match(req.headers(), &store::etag(&order)) {
        return Err(ApiError::PreconditionFailed);
    }
    store::receive(&txn, &order, &receipt, &user_actor(&me), now).await?;
    let order = store::find(&txn, &devices, order.id)
        .await?
        .ok_or(ApiError::NotFound("order"))?;
    let res = answer(&txn, order).await?;
    txn.commit().await?;
    Ok(res)
}
