//! `POST /api/orders`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};
use partlogic_types::{CreateOrderRequest, Order, OrderDevice, Problem};

use crate::error::ApiError;
use crate::http::idempotent::{
    Idempotent, Outcome, Recall, after_race, answer, parse_body, read_body, recall, refused,
    succeeded,
};
use crate::http::state::AppState;
use crate::keys::ApiCaller;
use crate::keys::caller::{OrdersWrite, Permitted};
use crate::orders::create::{self, Ready, Written};
use crate::orders::idempotency::{self, Attempt, Found};
use crate::orders::parse::{MAX_BODY_BYTES, NewOrder};
use crate::orders::store::Actor;

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
    if state
        .order_numbers
        .in_blocks(state.db.get_database_backend())
    {
        match recall(&state, &req, &caller, ENDPOINT.to_owned(), &body, now)? {
            Recall::Replay(res) => return Ok(res),
            Recall::Unknown(attempt) => {
                if let Some(res) =
                    in_one_statement(&state, &caller, attempt.as_ref(), &body, now).await?
                {
                    return Ok(res);
                }
            }
        }
    }
    let write = Idempotent::start(&state, &req, &caller, ENDPOINT.to_owned(), &body, now).await?;
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
        let (new, device) = checked(&caller, &body)?;
        let (row, order) = create::create(
            &txn,
            &state.order_numbers,
            caller.account_id(),
            &device,
            &new,
            &actor(&caller),
            now,
        )
        .await?;
        Outcome::json(StatusCode::CREATED, &order, Some(location(&state, row.id)))
    }
    .await;
    write.complete(&state.db, txn, result).await
}

/// The endpoint an `Idempotency-Key` is recorded for.
const ENDPOINT: &str = "POST /api/orders";

/// The request's order, and its device if the key reaches it.
fn checked(caller: &ApiCaller, body: &[u8]) -> Result<(NewOrder, OrderDevice), ApiError> {
    let request: CreateOrderRequest = parse_body(body)?;
    let new = NewOrder::parse(&request).map_err(ApiError::Validation)?;
    let Some(device) = caller.reached(new.device_id) else {
        return Err(ApiError::DeviceNotInScope(new.device_id));
    };
    let device = OrderDevice {
        id: device.id,
        name: device.name.clone(),
        customer: device.customer.clone(),
    };
    Ok((new, device))
}

fn actor(caller: &ApiCaller) -> Actor {
    Actor::Key {
        id: caller.key_id(),
        name: caller.key.name.clone(),
        prefix: caller.key.prefix.clone(),
    }
}

fn location(state: &AppState, id: i64) -> String {
    format!("{}/api/orders/{id}", state.link_prefix)
}

/// Creates the order on PostgreSQL in one statement that also takes the `Idempotency-Key`
/// (`attempt`, which this instance knows nothing of) with the answer: see `orders::create`.
/// `None` when another request holds the key, or its record expired: the transaction path
/// decides those.
async fn in_one_statement(
    state: &AppState,
    caller: &ApiCaller,
    attempt: Option<&Attempt>,
    body: &[u8],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<HttpResponse>, ApiError> {
    let (new, device) = match checked(caller, body) {
        Ok(checked) => checked,
        Err(e) => {
            // The key's record, if it has one, answers before this refusal is kept.
            if let Some(a) = attempt {
                match idempotency::look(&state.db, a, now).await? {
                    Found::Nothing => {}
                    found => return answer(state, a, found),
                }
            }
            return refused(state, attempt, e, now).await.map(Some);
        }
    };
    let actor = actor(caller);
    // First from what this instance remembers of the device's stock (one round trip); when that
    // is missing or out of date, by reading it (two). A stock row deleted between the read and
    // the write fails the write on its foreign key, and the next preparation then refuses the
    // line as not stocked: three rounds at most.
    let draft = create::Draft {
        account_id: caller.account_id(),
        device: &device,
        new: &new,
        actor: &actor,
        now,
    };
    let mut remembered = true;
    for _ in 0..3 {
        let quick = if remembered {
            create::quick(&state.db, &state.order_numbers, &state.order_memo, draft).await?
        } else {
            None
        };
        let from_memo = quick.is_some();
        let prepared = match quick {
            Some(p) => p,
            None => match create::prepare(
                &state.db,
                &state.order_numbers,
                &state.order_memo,
                draft,
                attempt,
            )
            .await
            {
                Ok(Ready::Write(p)) => p,
                Ok(Ready::Recorded(found)) => {
                    let attempt = attempt.ok_or_else(|| {
                        ApiError::Internal("a record found for no key".to_owned())
                    })?;
                    return answer(state, attempt, found);
                }
                Err(e) => return refused(state, attempt, e, now).await.map(Some),
            },
        };
        let outcome = match Outcome::json(
            StatusCode::CREATED,
            &prepared.order,
            Some(location(state, prepared.order.id)),
        ) {
            Ok(outcome) => outcome,
            Err(e) => {
                state
                    .order_numbers
                    .put_back(caller.account_id(), prepared.number);
                return Err(e);
            }
        };
        let number = prepared.number;
        let written = state
            .order_batches
            .write(
                &state.db,
                create::Create {
                    prepared,
                    account_id: caller.account_id(),
                    new: new.clone(),
                    actor: actor.clone(),
                    attempt: attempt.map(|a| (a.clone(), outcome.stored())),
                    now,
                },
            )
            .await;
        if matches!(
            written,
            Ok(Written::InUse | Written::Taken | Written::Gone | Written::Stale)
        ) {
            // Known not written (an error may have come after a commit): the next order takes
            // this number.
            state.order_numbers.put_back(caller.account_id(), number);
        }
        match written? {
            Written::Created => {
                return Ok(Some(succeeded(state, attempt, outcome, now)));
            }
            Written::InUse => {
                // From memory, nobody looked at the key's record first: a retry of an answered
                // key racing another retry of it is a replay, not "in use".
                if from_memo && let Some(attempt) = attempt {
                    match idempotency::look(&state.db, attempt, now).await? {
                        Found::Nothing => {}
                        found => return answer(state, attempt, found),
                    }
                }
                return Err(ApiError::IdempotencyKeyInUse);
            }
            Written::Taken => {
                let attempt = attempt.ok_or_else(|| {
                    ApiError::Internal("an order without a key lost a race for one".to_owned())
                })?;
                if from_memo {
                    // Nobody looked at the key's record before this write: it may be a stored
                    // answer, an expired record or one held by a request that died, which the
                    // transaction path decides, as after `prepare`.
                    let found = idempotency::look(&state.db, attempt, now).await?;
                    return answer(state, attempt, found);
                }
                return after_race(state, attempt, now).await.map(Some);
            }
            Written::Gone | Written::Stale => {
                state.order_memo.forget(device.id);
                remembered = false;
            }
        }
    }
    Err(ApiError::Busy(1))
}
