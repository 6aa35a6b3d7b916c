//! `GET /api/webhooks/{id}/deliveries`.

use actix_web::{HttpRequest, HttpResponse, get, http::header, web};
use partlogic_types::{FieldError, Problem, WebhookDelivery};

use crate::error::ApiError;
use crate::http::state::AppState;
use crate::keys::caller::{Permitted, WebhooksManage};
use crate::webhooks::store::{self, MAX_DELIVERIES_PAGE};

/// `limit` and `before`, or 400 naming each bad one.
fn paging(query: &str) -> Result<(u64, Option<i64>), ApiError> {
    let (mut limit, mut before) = (MAX_DELIVERIES_PAGE, None);
    let mut errors = Vec::new();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        match name.as_ref() {
            "limit" => match value.parse::<u64>() {
                Ok(n) if (1..=MAX_DELIVERIES_PAGE).contains(&n) => limit = n,
                _ => errors.push(FieldError {
                    field: "limit".to_owned(),
                    message: format!("must be a whole number from 1 to {MAX_DELIVERIES_PAGE}"),
                }),
            },
            "before" => match value.parse::<i64>() {
                Ok(n) if n >= 1 => before = Some(n),
                _ => errors.push(FieldError {
                    field: "before".to_owned(),
                    message: "must be a whole number of at least 1".to_owned(),
                }),
            },
            other if other.starts_with('_') => {}
            other => errors.push(FieldError {
                field: other.to_owned(),
                message: "unknown parameter".to_owned(),
            }),
        }
    }
    if errors.is_empty() {
        Ok((limit, before))
    } else {
        Err(ApiError::InvalidParameters(errors))
    }
}

/// List an endpoint's deliveries
///
/// Newest first, a page at a time (`limit`, at most and by default 100): each message's state
/// (`pending`, `delivered`, `failed`, `dropped`), attempts, and its latest attempt's time,
/// status, latency and error. While more remain, `Link` points at the next page. Needs
/// `webhooks:manage`.
#[utoipa::path(
    tag = "webhooks",
    security(("api_key" = []), ("basic" = []), ("bearer" = [])),
    params(
        ("id" = i64, Path, minimum = 1, description = "The endpoint's id"),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 100, description = "Page size (default 100)"),
        ("before" = Option<i64>, Query, minimum = 1, description = "Only deliveries older than this cursor (from `Link`)"),
    ),
    responses(
        (status = 200, description = "Deliveries, newest first", body = Vec<WebhookDelivery>, headers(("Link" = String, description = "The next page while more remain"), ("PartLogic-Required-Permission" = String, description = "`webhooks:manage`"))),
        (status = 400, description = "Invalid parameters (`invalid_parameters`), a key in the URL or two keys", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No usable key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `webhooks:manage` (`permission_denied`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint for this key (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "This key used up its rate limit for the minute (`rate_limited`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_webhook_deliveries(
    who: Permitted<WebhooksManage>,
    id: web::Path<i64>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (limit, before) = paging(req.query_string())?;
    let e = store::find(&state.db, who.caller.key_id(), id.into_inner()).await?;
    let (list, next): (Vec<WebhookDelivery>, _) =
        store::deliveries(&state.db, e.id, before, limit).await?;
    let mut res = HttpResponse::Ok();
    res.insert_header((header::CACHE_CONTROL, "no-store"));
    if let Some(last) = next {
        res.insert_header((
            header::LINK,
            super::next_link(&req, &state.link_prefix, "before", last),
        ));
    }
    Ok(res.json(list))
}
