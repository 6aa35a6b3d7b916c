//! `POST /api/orders/{id}/receive`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};
use partlogic_types::{Order, Problem, ReceiveOrderRequest};

use crate::error::ApiError;
use crate::http::idempotent::{self, Outcome, Started, parse_body, read_body};
use crate::http::state::AppState;
use crate::keys::caller::{ApiCaller, OrdersWrite, Permitted};
use crate::orders::parse::{MAX_BODY_BYTES, Receipt};
use crate::orders::store::{self, Actor};

/// The actor a key's write is recorded as.
pub(crate) fn key_actor(caller: &ApiCaller) -> Actor {
    Actor::Key {
        id: caller.key_id(),
        name: caller.key.name.clone(),
        prefix: caller.key.prefix.clone(),
    }
}

/// Receive an order
///
/// Records what arrived: per line (by SKU) a whole quantity up to what is still outstanding, or,
/// with no `lines`, everything outstanding. Each quantity is added to the stock row's `Physical`
/// in the same transaction (a row back at its minimum records its `restocked` alert). The order
/// is `received` once nothing is outstanding; a partial receipt leaves it `open`. Needs
/// `orders:write`; takes an `Idempotency-Key` like creating does.
#[utoipa::path(
    tag = "orders",
    security(("api_key" = []), ("basic" = []), ("bearer" = [])),
    request_body = ReceiveOrderRequest,
    params(
        ("id" = i64, Path, minimum = 1, description = "The order's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 printable characters, kept 24 hours per account"),
    ),
    responses(
        (status = 200, description = "The order as it is now", body = Order, headers(("PartLogic-Required-Permission" = String, description = "`orders:write`"))),
        (status = 400, description = "Not a JSON object of this shape (`invalid_body`) or a bad `Idempotency-Key`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `orders:write` (`permission_denied`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order for this key (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The order is received or cancelled (`order_not_open`), or this `Idempotency-Key` is in use (`idempotency_key_in_use`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Someone else received or cancelled it at the same moment (`precondition_failed`); read it again", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "A body over 64 KiB (`payload_too_large`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A line not on the order or more than is outstanding (`validation_failed`, naming `lines[i].sku` or `lines[i].quantity`), or a reused `Idempotency-Key` (`idempotency_key_reused`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "This key used up its rate limit for the minute (`rate_limited`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/orders/{id}/receive")]
pub async fn receive_order(
    who: Permitted<OrdersWrite>,
    id: web::Path<i64>,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let caller = who.caller;
    let id = id.into_inner();
    let now = state.clock.now();
    // No body (and no content type) means `{}`: receive everything outstanding.
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
        format!("POST /api/orders/{id}/receive"),
        &body,
        now,
    )
    .await?
    {
        Started::Replay(res) => return Ok(res),
        Started::Run(write, txn) => (write, txn),
    };
    let result = async {
        let request: ReceiveOrderRequest = parse_body(&body)?;
        let receipt = Receipt::parse(&request).map_err(ApiError::Validation)?;
        let devices = caller.reach_ids();
        let Some(order) = store::find_for_update(&txn, &devices, id).await? else {
            return Err(ApiError::NotFound("order"));
        };
        store::receive(&txn, &order, &receipt, &key_actor(&caller), now).await?;
        let Some(order) = store::find(&txn, &devices, id).await? else {
            return Err(ApiError::NotFound("order"));
        };
        Outcome::json(StatusCode::OK, &store::view(&txn, order).await?, None)
    }
    .await;
    write.complete(&state.db, txn, result).await
}
