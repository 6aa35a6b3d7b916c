//! `GET /api/orders`.

use actix_web::{HttpRequest, HttpResponse, get, http::header, web};
use partlogic_types::{Order, Problem};

use crate::error::ApiError;
use crate::http::state::AppState;
use crate::keys::caller::{OrdersRead, Permitted};
use crate::orders::store::{self, ListFilters};
use crate::stock::encode::Format;

/// List orders, newest first
///
/// Orders of the devices the key reaches, newest first, a page at a time (`limit`, default 100):
/// while more remain, a relative `Link: </api/orders?…&before=N>; rel="next"` points at the
/// next page. Filter by `status`, `device` (repeatable), `reference` and `created_since`.
/// `Accept: text/csv` gives one row per order line, text cells neutralised like stock CSV.
/// Needs `orders:read`.
#[utoipa::path(
    tag = "orders",
    security(("api_key" = []), ("basic" = []), ("bearer" = [])),
    params(
        ("status" = Option<partlogic_types::OrderStatus>, Query, description = "Only `open`, `received` or `cancelled` orders"),
        ("device" = Option<Vec<i64>>, Query, description = "Only these devices (repeat for several); each must be within the key's reach", explode = true),
        ("reference" = Option<String>, Query, min_length = 1, max_length = 100, description = "Only orders with this reference"),
        ("created_since" = Option<String>, Query, format = DateTime, description = "Only orders created at or after this RFC 3339 time"),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 1000, description = "Page size (default 100)"),
        ("before" = Option<i64>, Query, minimum = 1, description = "Only orders with an id smaller than this (keyset paging, from `Link`)"),
    ),
    responses(
        (status = 200, description = "Orders, newest first", headers(("Link" = String, description = "The next page while more remain"), ("PartLogic-Required-Permission" = String, description = "`orders:read`")), content(
            (Vec<Order> = "application/json"),
            (String = "text/csv", example = json!("OrderId,Number,Status,DeviceId,DeviceName,Customer,Reference,SKU,Description,Quantity,Received,Outstanding,CreatedBy,CreatedAt\n1,PO-000001,open,1,NP Main Stores,North Plant,row-12,BRG-6204,Deep groove ball bearing 6204-2RS,10,0,10,Zapier (pl_3kT9),2026-01-01T12:00:00.000Z\n")),
        )),
        (status = 400, description = "Invalid parameters (`invalid_parameters`), a key in the URL or two keys", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `orders:read` (`permission_denied`) or a `device` is outside its reach (`device_not_in_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "This key used up its rate limit for the minute (`rate_limited`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/orders")]
pub async fn list_orders(
    who: Permitted<OrdersRead>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let caller = who.caller;
    let filters = ListFilters::parse(req.query_string())?;
    if let Some(outside) = filters
        .devices
        .iter()
        .find(|d| caller.reached(**d).is_none())
    {
        return Err(ApiError::DeviceNotInScope(*outside));
    }
    let devices = caller.reach_ids();
    let format = Format::negotiate(&req);
    let mut res = HttpResponse::Ok();
    res.content_type(format.content_type())
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::VARY, "Accept"));
    if format == Format::Json {
        let device = |id: i64, out: &mut Vec<u8>| {
            use crate::domain::cells::{int, json_str};
            let (name, customer) = caller
                .reached(id)
                .map_or(("", ""), |d| (d.name.as_str(), d.customer.as_str()));
            out.extend_from_slice(b"{\"id\":");
            int(out, id);
            out.extend_from_slice(b",\"name\":");
            json_str(out, name);
            out.extend_from_slice(b",\"customer\":");
            json_str(out, customer);
            out.push(b'}');
        };
        if let Some(page) = store::page_json(&state.store, &devices, &filters, &device)? {
            if let Some(last) = page.next {
                res.insert_header((
                    header::LINK,
                    super::next_link(&req, &state.link_prefix, "before", last),
                ));
            }
            return Ok(res.body(page.body));
        }
    }
    let (orders, next) = store::page(&state.store, &state.db, &devices, &filters, |id| {
        caller.reached(id).map_or_else(
            || partlogic_types::OrderDevice {
                id,
                name: String::new(),
                customer: String::new(),
            },
            |d| partlogic_types::OrderDevice {
                id,
                name: d.name.clone(),
                customer: d.customer.clone(),
            },
        )
    })
    .await?;
    if let Some(last) = next {
        res.insert_header((
            header::LINK,
            super::next_link(&req, &state.link_prefix, "before", last),
        ));
    }
    Ok(match format {
        Format::Json => res.json(orders),
        Format::Csv => res.body(crate::orders::csv::body(&orders)),
    })
}
