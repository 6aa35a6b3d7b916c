//! `GET /portal/api/orders`.

use actix_web::{HttpRequest, HttpResponse, get, http::header, web};
use partlogic_types::{Order, Problem};

use crate::accounts::PortalUser;
use crate::error::ApiError;
use crate::http::state::AppState;
use crate::keys::manage::visible_devices;
use crate::orders::store::{self, ListFilters};

/// List orders
///
/// Orders of the devices the user sees (a member's own devices, an admin's whole account),
/// newest first, a page at a time with `Link` like the Stock API's. Filters: `status`,
/// `device` and `customer` (each repeatable), `reference`, `created_since`.
#[utoipa::path(
    tag = "orders",
    security(("session_cookie" = [])),
    params(
        ("status" = Option<partlogic_types::OrderStatus>, Query, description = "Only `open`, `received` or `cancelled` orders"),
        ("device" = Option<Vec<i64>>, Query, description = "Only these devices (repeat for several)", explode = true),
        ("customer" = Option<Vec<i64>>, Query, description = "Only devices of these customers (repeat for several)", explode = true),
        ("reference" = Option<String>, Query, min_length = 1, max_length = 100, description = "Only orders with this reference"),
        ("created_since" = Option<String>, Query, format = DateTime, description = "Only orders created at or after this RFC 3339 time"),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 1000, description = "Page size (default 100)"),
        ("before" = Option<i64>, Query, minimum = 1, description = "Only orders with an id smaller than this (from `Link`)"),
    ),
    responses(
        (status = 200, description = "Orders, newest first", body = Vec<Order>, headers(("Link" = String, description = "The next page while more remain"))),
        (status = 400, description = "Invalid parameters (`invalid_parameters`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not logged in (`not_logged_in`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/orders")]
pub async fn list_orders(
    me: PortalUser,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    // `customer` is the portal's own filter; the rest are the Stock API's.
    let mut customers = Vec::new();
    let mut bad = Vec::new();
    let mut rest = form_urlencoded::Serializer::new(String::new());
    for (name, value) in form_urlencoded::parse(req.query_string().as_bytes()) {
        if name == "customer" {
            match value.parse::<i64>() {
                Ok(id) if id >= 1 => customers.push(id),
                _ => bad.push(crate::domain::field_error(
                    "customer",
                    "must be a customer id (a whole number from 1)",
                )),
            }
        } else {
            rest.append_pair(&name, &value);
        }
    }
    let filters = ListFilters::parse(&rest.finish());
    if !bad.is_empty() {
        return Err(ApiError::InvalidParameters(bad));
    }
    let mut filters = filters?;
    let visible = visible_devices(&state.db, &me.user, None).await?;
    let devices: Vec<i64> = visible
        .iter()
        .filter(|d| customers.is_empty() || customers.contains(&d.customer_id))
        .map(|d| d.id)
        .collect();
    // Devices the user does not see match nothing, like any other filter.
    filters.devices.retain(|d| devices.contains(d));
    let asked_devices = !req.query_string().is_empty()
        && form_urlencoded::parse(req.query_string().as_bytes()).any(|(n, _)| n == "device");
    let names: std::collections::HashMap<i64, partlogic_types::OrderDevice> = visible
        .iter()
        .map(|d| {
            (
                d.id,
                partlogic_types::OrderDevice {
                    id: d.id,
                    name: d.name.clone(),
                    customer: d.customer_name.clone(),
                },
            )
        })
        .collect();
    let (orders, next) = if asked_devices && filters.devices.is_empty() {
        (Vec::new(), None)
    } else {
        store::page(&state.store, &state.db, &devices, &filters, |id| {
            names
                .get(&id)
                .cloned()
                .unwrap_or(partlogic_types::OrderDevice {
                    id,
                    name: String::new(),
                    customer: String::new(),
                })
        })
        .await?
    };
    let mut res = HttpResponse::Ok();
    res.insert_header((header::CACHE_CONTROL, "no-store"));
    if let Some(last) = next {
        res.insert_header((
            header::LINK,
            crate::http::routes::api::next_link(&req, &state.link_prefix, "before", last),
        ));
    }
    Ok(res.json(orders))
}
