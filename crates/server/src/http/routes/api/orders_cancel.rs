//! `POST /api/orders/{id}/cancel`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};
use partlogic_types::{Order, Problem};

use super::orders_receive::key_actor;
use crate::error::ApiError;
use crate::http::idempotent::{self, Outcome, Started, read_body};
use crate::http::state::AppState;
use crate::keys::caller::{OrdersWrite, Permitted};
use crate::orders::parse::MAX_BODY_BYTES;
use crate::orders::store;

/// Cancel an order
///
/// Cancels an open order on which nothing has been received yet (409 `order_partly_received`
/// once anything has). The body is empty or `{}`. Needs `orders:write`; takes an
/// `Idempotency-Key` like creating does.
#[utoipa::path(
    tag = "orders",
    security(("api_key" = []), ("basic" = []), ("bearer" = [])),
    params(
        ("id" = i64, Path, minimum = 1, description = "The order's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 printable characters, kept 24 hours per account"),
    ),
    responses(
        (status = 200, description = "The order, cancelled", body = Order, headers(("PartLogic-Required-Permission" = String, description = "`orders:write`"))),
        (status = 400, description = "A body that is not empty or `{}` (`invalid_body`) or a bad `Idempotency-Key`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `orders:write` (`permission_denied`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order for this key (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already received or cancelled (`order_not_open`), partly received (`order_partly_received`), or this `Idempotency-Key` is in use", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Someone else changed it at the same moment (`precondition_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A reused `Idempotency-Key` (`idempotency_key_reused`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "This key used up its rate limit for the minute (`rate_limited`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/orders/{id}/cancel")]
pub async fn cancel_order(
    who: Permitted<OrdersWrite>,
    id: web::Path<i64>,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let caller = who.caller;
    let id = id.into_inner();
    let now = state.clock.now();
    // An empty body has no content type; anything else must be a JSON `{}`.
    let body = if req
        .headers()
        .contains_key(actix_web::http::header::CONTENT_TYPE)
    {
        read_body(&req, payload, MAX_BODY_BYTES).await?
    } else {
        Vec::new()
    };
    let (write, txn) = match idempotent::begin(
        &state,
        &req,
        &caller,
        format!("POST /api/orders/{id}/cancel"),
        &body,
        now,
    )
    .await?
    {
        Started::Replay(res) => return Ok(res),
        Started::Run(write, txn) => (write, txn),
    };
    let result = async {
        let empty: serde_json::Map<String, serde_json::Value> =
            crate::http::idempotent::parse_body(&body)?;
        if !empty.is_empty() {
            return Err(ApiError::InvalidBody(
                "cancelling takes no fields: send no body or {}".to_owned(),
            ));
        }
        let devices = caller.reach_ids();
        let Some(order) = store::find_for_update(&txn, &devices, id).await? else {
            return Err(ApiError::NotFound("order"));
        };
        store::cancel(&txn, &order, &key_actor(&caller), now).await?;
        let Some(order) = store::find(&txn, &devices, id).await? else {
            return Err(ApiError::NotFound("order"));
        };
        Outcome::json(StatusCode::OK, &store::view(&txn, order).await?, None)
    }
    .await;
    write.complete(&state.db, txn, result).await
}
