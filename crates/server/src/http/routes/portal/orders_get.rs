//! `GET /portal/api/orders/{id}`.

use actix_web::{HttpResponse, get, http::header, web};
use partlogic_entity::order;
use partlogic_types::{Order, Problem};

use crate::accounts::PortalUser;
use crate::error::ApiError;
use crate::http::state::AppState;
use crate::keys::manage::visible_devices;
use crate::orders::store;

/// The order `id` if `me` sees its device (404 otherwise, as for one that does not exist).
pub(crate) async fn order_for(
    db: &impl sea_orm::ConnectionTrait,
    me: &PortalUser,
    id: i64,
) -> Result<(order::Model, Vec<i64>), ApiError> {
    let devices: Vec<i64> = visible_devices(db, &me.user, None)
        .await?
        .into_iter()
        .map(|d| d.id)
        .collect();
    let order = store::find(db, &devices, id)
        .await?
        .ok_or(ApiError::NotFound("order"))?;
    Ok((order, devices))
}

/// An order's answer: the view, with its `ETag`.
pub(crate) async fn answer(
    db: &impl sea_orm::ConnectionTrait,
    order: order::Model,
) -> Result<HttpResponse, ApiError> {
    let tag = store::etag(&order);
    let view = store::view(db, order).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, tag))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(view))
}

/// Get one order
///
/// One order of a device the user sees, with its lines and history, and its `ETag` for
/// receiving or cancelling it.
#[utoipa::path(
    tag = "orders",
    security(("session_cookie" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The order's id")),
    responses(
        (status = 200, description = "The order", body = Order, headers(("ETag" = String, description = "Its version: send it as `If-Match` when receiving or cancelling it"))),
        (status = 401, description = "Not logged in (`not_logged_in`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order that you may see (`not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/orders/{id}")]
pub async fn get_order(
    me: PortalUser,
    id: web::Path<i64>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (order, _) = order_for(&state.db, &me, id.into_inner()).await?;
    answer(&state.db, order).await
}
