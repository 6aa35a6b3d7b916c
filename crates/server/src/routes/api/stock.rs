//! `GET /api/stock`: the stock rows of the key's devices, as JSON or CSV, paged or streamed.

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, get, http::header, web};
use chrono::{DateTime, Datelike, Utc};
use futures_util::TryStreamExt;
use futures_util::stream;
use partlogic_entity::{customer, device, stock};
use partlogic_types::{FieldError, Problem, StockRow};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, JoinType, QueryFilter,
    QueryOrder, QuerySelect, RelationTrait, Select, SelectModel, Selector,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, mpsc};

use crate::auth::ApiCaller;
use crate::error::ApiError;
use crate::reach;
use crate::state::AppState;

/// The most rows one page may ask for.
pub const MAX_LIMIT: u64 = 1000;
/// Unpaged answers up to this many rows are sent in one piece; longer ones are streamed.
const SMALL_ANSWER: u64 = 1000;
const CSV_HEADER: &str =
    "id,DeviceName,SKU,Description,MinQty,MaxQty,Physical,DeviceId,Customer,Location,UpdatedAt\n";

/// The query parameters of `GET /api/stock`, parsed and checked.
#[derive(Debug, Clone, Default)]
pub struct StockFilters {
    devices: Vec<i64>,
    sku: Option<String>,
    below_min: bool,
    updated_since: Option<DateTime<Utc>>,
    limit: Option<u64>,
    after: Option<i64>,
}

impl StockFilters {
    /// Parses a query string. `device` may repeat. Unknown names are refused so that a typo
    /// (`belowmin=true`) does not silently return everything; names starting with `_` (cache
    /// busters) are let through.
    pub fn parse(query: &str) -> Result<Self, ApiError> {
        let mut f = Self::default();
        let mut errors = Vec::new();
        let mut bad = |field: &str, message: String| {
            errors.push(FieldError {
                field: field.to_owned(),
                message,
            })
        };
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            match name.as_ref() {
                "device" => match value.parse::<i64>() {
                    Ok(id) => f.devices.push(id),
                    Err(_) => bad("device", format!("`{value}` is not a device id")),
                },
                "sku" => f.sku = Some(value.into_owned()),
                "below_min" => match value.as_ref() {
                    "true" | "1" => f.below_min = true,
                    "false" | "0" => f.below_min = false,
                    _ => bad("below_min", "must be true or false".to_owned()),
                },
                "updated_since" => match DateTime::parse_from_rfc3339(&value) {
                    // Years past 9999 do not survive the trip through every database's
                    // timestamp type; nothing is updated then anyway.
                    Ok(t) if t.with_timezone(&Utc).year() <= 9999 => {
                        f.updated_since = Some(t.with_timezone(&Utc))
                    }
                    _ => bad(
                        "updated_since",
                        "must be an RFC 3339 time such as 2026-01-01T00:00:00Z".to_owned(),
                    ),
                },
                "limit" => match value.parse::<u64>() {
                    Ok(n) if (1..=MAX_LIMIT).contains(&n) => f.limit = Some(n),
                    _ => bad(
                        "limit",
                        format!("must be a whole number from 1 to {MAX_LIMIT}"),
                    ),
                },
                "after" => match value.parse::<i64>() {
                    Ok(id) => f.after = Some(id),
                    Err(_) => bad("after", "must be a row id".to_owned()),
                },
                other if other.starts_with('_') => {}
                other => bad(other, "unknown parameter".to_owned()),
            }
        }
        if errors.is_empty() {
            Ok(f)
        } else {
            Err(ApiError::InvalidParameters(errors))
        }
    }
}

/// A row as the join returns it.
#[derive(Debug, FromQueryResult)]
struct RowModel {
    id: i64,
    device_id: i64,
    sku: String,
    description: String,
    min_qty: i64,
    max_qty: i64,
    physical: i64,
    location: String,
    updated_at: DateTime<Utc>,
    device_name: String,
    customer: String,
}

impl From<RowModel> for StockRow {
    fn from(r: RowModel) -> Self {
        StockRow {
            id: r.id,
            device_name: r.device_name,
            sku: r.sku,
            description: r.description,
            min_qty: r.min_qty,
            max_qty: r.max_qty,
            physical: r.physical,
            device_id: r.device_id,
            customer: r.customer,
            location: r.location,
            updated_at: r.updated_at,
        }
    }
}

/// The stock rows the key may read and the filters allow, with an id above `after`. The reach is
/// a subquery on `devices`, so the row query itself touches only `stock` and its
/// `(device_id, id)` index.
fn matching(caller: &ApiCaller, f: &StockFilters, after: Option<i64>) -> Select<stock::Entity> {
    let reach = Query::select()
        .column((device::Entity, device::Column::Id))
        .from(device::Entity)
        .cond_where(reach::key_devices(caller))
        .to_owned();
    let mut q = stock::Entity::find().filter(stock::Column::DeviceId.in_subquery(reach));
    if !f.devices.is_empty() {
        q = q.filter(stock::Column::DeviceId.is_in(f.devices.clone()));
    }
    if let Some(sku) = &f.sku {
        q = q.filter(stock::Column::Sku.eq(sku.as_str()));
    }
    if f.below_min {
        q = q.filter(
            Expr::col((stock::Entity, stock::Column::Physical))
                .lt(Expr::col((stock::Entity, stock::Column::MinQty))),
        );
    }
    if let Some(t) = f.updated_since {
        q = q.filter(stock::Column::UpdatedAt.gte(t));
    }
    if let Some(after) = after {
        q = q.filter(stock::Column::Id.gt(after));
    }
    q
}

/// `q`'s rows with their device and customer names, by id.
fn with_names(q: Select<stock::Entity>) -> Selector<SelectModel<RowModel>> {
    q.select_only()
        .columns([
            stock::Column::Id,
            stock::Column::DeviceId,
            stock::Column::Sku,
            stock::Column::Description,
            stock::Column::MinQty,
            stock::Column::MaxQty,
            stock::Column::Physical,
            stock::Column::Location,
            stock::Column::UpdatedAt,
        ])
        .column_as(device::Column::Name, "device_name")
        .column_as(customer::Column::Name, "customer")
        .join(JoinType::InnerJoin, stock::Relation::Device.def())
        .join(JoinType::InnerJoin, device::Relation::Customer.def())
        .order_by_asc(stock::Column::Id)
        .into_model::<RowModel>()
}

/// One page in two steps: the page's ids first (an index-only walk of the key's devices past
/// `after`, sorting integers rather than whole rows), then just those rows with their names.
async fn page(
    db: &DatabaseConnection,
    caller: &ApiCaller,
    f: &StockFilters,
    limit: u64,
) -> Result<Vec<StockRow>, sea_orm::DbErr> {
    let ids: Vec<i64> = matching(caller, f, f.after)
        .select_only()
        .column(stock::Column::Id)
        .order_by_asc(stock::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = with_names(stock::Entity::find().filter(stock::Column::Id.is_in(ids)))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(StockRow::from).collect())
}

/// Refuses a `device` filter naming anything outside the key's reach.
async fn check_devices(
    db: &DatabaseConnection,
    caller: &ApiCaller,
    f: &StockFilters,
) -> Result<(), ApiError> {
    if f.devices.is_empty() {
        return Ok(());
    }
    let found: Vec<i64> = device::Entity::find()
        .select_only()
        .column(device::Column::Id)
        .filter(reach::key_devices(caller))
        .filter(device::Column::Id.is_in(f.devices.clone()))
        .into_tuple()
        .all(db)
        .await?;
    match f.devices.iter().find(|d| !found.contains(d)) {
        Some(missing) => Err(ApiError::DeviceNotInScope(*missing)),
        None => Ok(()),
    }
}

/// The response format the client asked for through `Accept`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
}

fn negotiate(req: &HttpRequest) -> Format {
    let Some(accept) = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
    else {
        return Format::Json;
    };
    let (mut csv_q, mut json_q) = (0.0f32, 0.0f32);
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default().to_ascii_lowercase();
        let q = parts
            .find_map(|p| p.strip_prefix("q="))
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        match media.as_str() {
            "text/csv" => csv_q = csv_q.max(q),
            "application/json" => json_q = json_q.max(q),
            _ => {}
        }
    }
    if csv_q > 0.0 && csv_q >= json_q {
        Format::Csv
    } else {
        Format::Json
    }
}

fn write_rows(format: Format, rows: &[StockRow], first: &mut bool, out: &mut Vec<u8>) {
    match format {
        Format::Json => {
            for row in rows {
                if !*first {
                    out.push(b',');
                }
                *first = false;
                // Serialising these plain structs cannot fail.
                let _ = serde_json::to_writer(&mut *out, row);
            }
        }
        Format::Csv => {
            let mut w = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(Vec::new());
            for row in rows {
                let updated = partlogic_types::rfc3339_millis::format(&row.updated_at);
                let _ = w.write_record([
                    row.id.to_string().as_str(),
                    &row.device_name,
                    &row.sku,
                    &row.description,
                    &row.min_qty.to_string(),
                    &row.max_qty.to_string(),
                    &row.physical.to_string(),
                    &row.device_id.to_string(),
                    &row.customer,
                    &row.location,
                    &updated,
                ]);
            }
            if let Ok(bytes) = w.into_inner() {
                out.extend_from_slice(&bytes);
            }
        }
    }
}

fn content_type(format: Format) -> &'static str {
    match format {
        Format::Json => "application/json",
        Format::Csv => "text/csv; charset=utf-8",
    }
}

/// The URL of the next page: this request's own parameters with `after` moved on.
fn next_link(req: &HttpRequest, last_id: i64) -> String {
    let mut qs = form_urlencoded::Serializer::new(String::new());
    for (name, value) in form_urlencoded::parse(req.query_string().as_bytes()) {
        if name != "after" {
            qs.append_pair(&name, &value);
        }
    }
    qs.append_pair("after", &last_id.to_string());
    let info = req.connection_info();
    format!(
        "<{}://{}{}?{}>; rel=\"next\"",
        info.scheme(),
        info.host(),
        req.path(),
        qs.finish()
    )
}

/// Stock rows of the key's devices (its ticked devices that its owner may still see), by `id`.
///
/// Without `limit` every matching row is streamed. With `limit`, one page is returned and a
/// `Link: <…>; rel="next"` header points at the next while more rows remain. Send
/// `Accept: text/csv` for CSV with a header line.
#[utoipa::path(
    tag = "stock",
    security(("api_key" = [])),
    params(
        ("device" = Option<Vec<i64>>, Query, description = "Only these devices (repeat the parameter for several); each must be within the key's reach", explode = true),
        ("sku" = Option<String>, Query, description = "Only this item code"),
        ("below_min" = Option<bool>, Query, description = "Only rows whose Physical is below MinQty"),
        ("updated_since" = Option<String>, Query, format = DateTime, description = "Only rows updated at or after this RFC 3339 time"),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 1000, description = "Page size; without it all rows are streamed"),
        ("after" = Option<i64>, Query, description = "Return rows with an id greater than this (keyset paging)"),
    ),
    responses(
        (status = 200, description = "Stock rows ordered by id", headers(("Link" = String, description = "`<url>; rel=\"next\"` while more pages remain")), content(
            (Vec<StockRow> = "application/json"),
            (String = "text/csv", example = json!("id,DeviceName,SKU,Description,MinQty,MaxQty,Physical,DeviceId,Customer,Location,UpdatedAt\n1,Main Stores,BRG-6204,Deep groove ball bearing 6204,10,40,25,1,North Plant,A-01-03,2026-01-01T12:00:00.000Z\n")),
        )),
        (status = 400, description = "Invalid parameters (`invalid_parameters`, with `errors`) or a key in the URL (`api_key_in_query`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable key: `missing_api_key`, `malformed_api_key`, `invalid_api_key`, `api_key_expired`, `api_key_retired`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A `device` outside the key's reach (`device_not_in_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Every streaming slot is taken (`server_busy`); see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/stock")]
pub async fn list_stock(
    caller: ApiCaller,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let filters = StockFilters::parse(req.query_string())?;
    check_devices(&state.db, &caller, &filters).await?;
    let format = negotiate(&req);
    let mut res = HttpResponse::Ok();
    res.content_type(content_type(format))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::VARY, "Accept"));

    // With a limit, one page. Without one, a small answer is still fetched as one page (two
    // short queries beat opening a cursor), and anything bigger is streamed.
    let limit = filters.limit.unwrap_or(SMALL_ANSWER);
    let mut rows = page(&state.db, &caller, &filters, limit + 1).await?;
    if filters.limit.is_some() || rows.len() as u64 <= SMALL_ANSWER {
        if rows.len() as u64 > limit {
            rows.truncate(limit as usize);
            if let Some(last) = rows.last() {
                res.insert_header((header::LINK, next_link(&req, last.id)));
            }
        }
        let mut body = Vec::new();
        match format {
            Format::Json => body.push(b'['),
            Format::Csv => body.extend_from_slice(CSV_HEADER.as_bytes()),
        }
        write_rows(format, &rows, &mut true, &mut body);
        if format == Format::Json {
            body.push(b']');
        }
        return Ok(res.body(body));
    }
    drop(rows);

    // Take a streaming slot before answering 200: once the status line is out, a client left
    // waiting for a slot could only be told by a hang.
    let permit = tokio::time::timeout(SLOT_WAIT, state.stream_permits.clone().acquire_owned())
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or(ApiError::Busy(SLOT_WAIT.as_secs()))?;
    Ok(res.streaming(stream_all(
        state.db.clone(),
        permit,
        caller,
        filters,
        format,
    )))
}

/// How long an unpaged request waits for a streaming slot before it is told to come back.
const SLOT_WAIT: Duration = Duration::from_secs(10);

/// Rows written to the body per batch.
const BATCH_ROWS: usize = 256;
/// Body bytes gathered before they are handed to the connection.
const FLUSH_BYTES: usize = 32 * 1024;
/// How long a client may stall before the stream is abandoned and its database cursor freed.
const SEND_TIMEOUT: Duration = Duration::from_secs(60);

/// Every matching row from one query in id order, written as it arrives. A task reads the
/// database cursor and hands the body over in ~32 KiB pieces through a two-piece channel, so the
/// server's memory stays flat however many rows there are; a semaphore keeps long streams from
/// holding every pooled connection.
fn stream_all(
    db: DatabaseConnection,
    permit: OwnedSemaphorePermit,
    caller: ApiCaller,
    filters: StockFilters,
    format: Format,
) -> impl futures_util::Stream<Item = Result<Bytes, actix_web::Error>> {
    let (tx, rx) = mpsc::channel::<Result<Bytes, actix_web::Error>>(2);
    // Set when the producer gives up on a stalled client: the body must then end in an error
    // (a reset connection), never in a clean end that would pass a truncated export as whole.
    let aborted = Arc::new(AtomicBool::new(false));
    let abort_flag = aborted.clone();
    actix_web::rt::spawn(async move {
        let _permit = permit;
        match produce(&db, &caller, &filters, format, &tx).await {
            Ok(Delivery::Complete) => {}
            Ok(Delivery::Stalled) => {
                tracing::warn!(
                    key_id = caller.key_id,
                    "stock stream abandoned: the client stopped reading"
                );
                abort_flag.store(true, Ordering::SeqCst);
            }
            Err(e) => {
                tracing::error!(error = %e, "stock stream failed");
                abort_flag.store(true, Ordering::SeqCst);
            }
        }
    });
    stream::unfold(
        (rx, aborted, false),
        |(mut rx, aborted, ended)| async move {
            if ended {
                return None;
            }
            match rx.recv().await {
                Some(item) => Some((item, (rx, aborted, false))),
                // The status line is gone already; cutting the body short is the only signal left
                // (and a JSON parser will notice the missing `]`).
                None if aborted.load(Ordering::SeqCst) => Some((
                    Err(actix_web::error::ErrorInternalServerError("stream aborted")),
                    (rx, aborted, true),
                )),
                None => None,
            }
        },
    )
}

/// How a stream ended.
enum Delivery {
    /// Every row was handed over.
    Complete,
    /// The client stopped reading (or went away) first.
    Stalled,
}

/// Hands `bytes` to the response; false when the client has gone or stalled.
async fn send(tx: &mpsc::Sender<Result<Bytes, actix_web::Error>>, bytes: Vec<u8>) -> bool {
    matches!(
        tokio::time::timeout(SEND_TIMEOUT, tx.send(Ok(Bytes::from(bytes)))).await,
        Ok(Ok(()))
    )
}

async fn produce(
    db: &DatabaseConnection,
    caller: &ApiCaller,
    filters: &StockFilters,
    format: Format,
    tx: &mpsc::Sender<Result<Bytes, actix_web::Error>>,
) -> Result<Delivery, sea_orm::DbErr> {
    let rows = with_names(matching(caller, filters, filters.after))
        .stream(db)
        .await?;
    futures_util::pin_mut!(rows);
    let mut out = Vec::with_capacity(FLUSH_BYTES * 2);
    match format {
        Format::Json => out.push(b'['),
        Format::Csv => out.extend_from_slice(CSV_HEADER.as_bytes()),
    }
    let mut first = true;
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    while let Some(row) = rows.try_next().await? {
        batch.push(StockRow::from(row));
        if batch.len() == BATCH_ROWS {
            write_rows(format, &batch, &mut first, &mut out);
            batch.clear();
            if out.len() >= FLUSH_BYTES && !send(tx, std::mem::take(&mut out)).await {
                return Ok(Delivery::Stalled);
            }
        }
    }
    write_rows(format, &batch, &mut first, &mut out);
    if format == Format::Json {
        out.push(b']');
    }
    Ok(if send(tx, out).await {
        Delivery::Complete
    } else {
        Delivery::Stalled
    })
}
