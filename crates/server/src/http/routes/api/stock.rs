//! `GET /api/stock`: the stock rows of the key's devices, as JSON or CSV, paged or streamed.

use actix_web::{HttpRequest, HttpResponse, get, http::header, web};
use partlogic_types::{Problem, StockRow};

use crate::error::ApiError;
use crate::http::state::AppState;
use crate::keys::ApiCaller;
use crate::stock::encode::Names;
use crate::stock::slots::NoSlot;
use crate::stock::{Format, StockFilters, query, stream};

/// Unpaged answers up to this many rows are sent in one piece; longer ones are streamed.
const SMALL_ANSWER: u64 = 1000;

/// List stock rows, paged or as a full export
///
/// Stock rows of the key's devices (its ticked devices that its owner may still see), by `id`.
///
/// Without `limit` every matching row is exported (streamed; at most two exports run at once
/// per key, and a client reading slower than 16 KiB/s after 30 seconds is cut off). With
/// `limit`, one page is returned and a relative `Link: </api/stock?…&after=N>; rel="next"`
/// points at the next while more rows remain. Send `Accept: text/csv` for CSV with a header
/// line; in CSV (only), text cells starting with `=`, `+`, `-`, `@`, TAB or CR get a leading
/// `'` so spreadsheets show them as text instead of running them as formulas.
#[utoipa::path(
    tag = "stock",
    security(("api_key" = []), ("basic" = []), ("bearer" = [])),
    params(
        ("device" = Option<Vec<i64>>, Query, description = "Only these devices (repeat the parameter for several); each must be within the key's reach", explode = true),
        ("sku" = Option<String>, Query, min_length = 1, max_length = 100, description = "Only this item code (1 to 100 characters, no control characters)"),
        ("below_min" = Option<bool>, Query, description = "Only rows whose Physical is below MinQty (`true` or `false`)"),
        ("updated_since" = Option<String>, Query, format = DateTime, description = "Only rows updated at or after this RFC 3339 time"),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 1000, description = "Page size; without it all rows are exported"),
        ("after" = Option<i64>, Query, minimum = 0, description = "Return rows with an id greater than this (keyset paging)"),
    ),
    responses(
        (status = 200, description = "Stock rows ordered by id", headers(("Link" = String, description = "`</api/stock?…&after=N>; rel=\"next\"` (relative) while more pages remain"), ("PartLogic-Key-Expires" = String, description = "When the key stops working (keys with an expiry only)")), content(
            (Vec<StockRow> = "application/json"),
            (String = "text/csv", example = json!("id,DeviceName,SKU,Description,MinQty,MaxQty,Physical,DeviceId,Customer,Location,UpdatedAt\n1,Main Stores,BRG-6204,Deep groove ball bearing 6204,10,40,25,1,North Plant,A-01-03,2026-01-01T12:00:00.000Z\n")),
        )),
        (status = 400, description = "Invalid parameters (`invalid_parameters`, with `errors`), a key in the URL (`api_key_in_query`) or two different keys (`conflicting_api_keys`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable key: `missing_api_key`, `malformed_api_key`, `invalid_api_key`, `api_key_expired`, `api_key_retired`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A `device` outside the key's reach (`device_not_in_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "This key used up its rate limit for the minute (`rate_limited`) or already runs two exports (`too_many_streams`); see `Retry-After`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Every export slot is taken (`server_busy`) or the database is unreachable (`service_unavailable`); see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/stock")]
pub async fn list_stock(
    caller: ApiCaller,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let filters = StockFilters::parse(req.query_string())?;
    query::check_devices(&caller, &filters)?;
    let format = Format::negotiate(&req);
    let mut res = HttpResponse::Ok();
    res.content_type(format.content_type())
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::VARY, "Accept"));

    // With a limit, one page. Without one, a small answer is still fetched as one page (two
    // short queries beat an export), and anything bigger is exported.
    let limit = filters.limit.unwrap_or(SMALL_ANSWER);
    let mut body = Vec::with_capacity(16 * 1024);
    format.open(&mut body);
    let (mut names, mut first, mut written, mut last) = (Names::of(&caller), true, 0u64, None);
    // One row more than the page: it tells whether there is a next page.
    let end = query::page(
        &state.store,
        &caller,
        &filters,
        filters.after,
        limit + 1,
        &mut |row| {
            if written < limit {
                format.write_row(row, &mut names, &mut first, &mut body);
                last = Some(row.id);
            }
            written += 1;
        },
    )
    .await?;
    if filters.limit.is_some() || !end.full {
        state
            .usage
            .rows(caller.key_id(), state.clock.now(), written.min(limit));
        if end.full
            && let Some(last) = last
        {
            res.insert_header((
                header::LINK,
                super::next_link(&req, &state.link_prefix, "after", last),
            ));
        }
        format.close(&mut body);
        return Ok(res.body(body));
    }
    drop(body);

    // Take a slot before answering 200: once the status line is out, a refusal could only be
    // told by a broken body.
    let slot = state
        .streams
        .try_take(caller.key_id(), caller.account_id())
        .map_err(|no| match no {
            NoSlot::KeyFull(n) => ApiError::TooManyStreams(n, "this API key"),
            NoSlot::AccountFull(n) => ApiError::TooManyStreams(n, "your account"),
            NoSlot::ServerFull => ApiError::Busy(10),
        })?;
    let exporter = stream::Exporter {
        store: state.store.clone(),
        keys: state.keys.clone(),
        usage: state.usage.clone(),
        clock: state.clock.clone(),
    };
    Ok(res.streaming(stream::export(
        exporter,
        slot,
        caller,
        filters,
        format,
        state.settings.streams.clone(),
    )))
}
