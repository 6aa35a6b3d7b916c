//! `POST /api/orders`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};
use partlogic_types::{CreateOrderRequest, Order, Problem};

use crate::error::ApiError;
use crate::http::idempotent::{Idempotent, Outcome, parse_body, read_body};
use crate::http::state::AppState;
use crate::keys::caller::{OrdersWrite, Permitted};
use crate::orders::parse::{MAX_BODY_BYTES, NewOrder};
use crate::orders::store::{self, Actor};

/// Create an order
///
/// Creates a replenishment order for one device the key reaches: 1 to 200 lines, each an item
/// stocked at that device and a whole quantity from 1 to 1,000,000, with an optional
/// `reference` (your own id for it) and `note`. Needs the `orders:write` permission.
///
/// Send an `Idempotency-Key` (any 1 to 255 printable characters that identify this order on
/// your side, such as a spreadsheet row's id) and retry freely: the first request's answer is
/// kept for 24 hours and every retry with the same key and body gets it again, with
/// `Idempotent-Replayed: true`, instead of a second order.
#[utoipa::path(
    tag = "orders",
    security(("api_key" = []), ("basic" = []), ("bearer" = [])),
    request_body = CreateOrderRequest,
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 printable characters, kept 24 hours per account"),
    ),
    responses(
        (status = 201, description = "Created (or, with `Idempotent-Replayed: true`, created by an earlier request with the same `Idempotency-Key`)", body = Order, headers(("Location" = String, description = "The order's URL"), ("PartLogic-Required-Permission" = String, description = "`orders:write`"))),
        (status = 400, description = "Not a JSON object of this shape (`invalid_body`), a bad `Idempotency-Key` (`invalid_parameters`), a key in the URL or two keys", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `orders:write` (`permission_denied`) or does not reach the device (`device_not_in_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A request with this `Idempotency-Key` is still being processed (`idempotency_key_in_use`); see `Retry-After`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "A body over 64 KiB (`payload_too_large`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (`validation_failed`, with `errors` naming each: `device_id`, `lines`, `lines[3].sku`, `lines[3].quantity`, `reference`, `note`), or an `Idempotency-Key` already used with another request (`idempotency_key_reused`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "This key used up its rate limit for the minute (`rate_limited`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/orders")]
pub async fn create_order(
    who: Permitted<OrdersWrite>,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let caller = who.caller;
    let now = state.clock.now();
    let body = read_body(&req, payload, MAX_BODY_BYTES).await?;
    let write = Idempotent::start(
        &state,
        &req,
        &caller,
        "POST /api/orders".to_owned(),
        &body,
        now,
    )
    .await?;
    if let Idempotent::Replay(res) = write {
        return Ok(res);
    }
    // A number block, if one is needed, is reserved before the transaction takes a connection.
    if let Err(e) = state
        .order_numbers
        .prepare(&state.db, caller.account_id())
        .await
    {
        return Err(write.abandon(&state, e).await);
    }
    let txn = write.open(&state).await?;
    let result = async {
        let request: CreateOrderRequest = parse_body(&body)?;
        let new = NewOrder::parse(&request).map_err(ApiError::Validation)?;
        let Some(device) = caller.reached(new.device_id) else {
            return Err(ApiError::DeviceNotInScope(new.device_id));
        };
        let device = partlogic_types::OrderDevice {
            id: device.id,
            name: device.name.clone(),
            customer: device.customer.clone(),
        };
        let actor = Actor::Key {
            id: caller.key_id(),
            name: caller.key.name.clone(),
            prefix: caller.key.prefix.clone(),
        };
        let (row, order) = store::create(
            &txn,
            &state.order_numbers,
            caller.account_id(),
            &device,
            &new,
            &actor,
            now,
        )
        .await?;
        let id = row.id;
        Outcome::json(
            StatusCode::CREATED,
            &order,
            Some(format!("{}/api/orders/{id}", state.link_prefix)),
        )
    }
    .await;
    write.complete(&state.db, txn, result).await
}
