//! `GET /portal/api/keys/{id}/usage`.

use actix_web::{HttpRequest, HttpResponse, get, http::header, web};
use chrono_tz::Tz;
use partlogic_types::{FieldError, KeyUsage, Problem};

use crate::accounts::PortalUser;
use crate::error::ApiError;
use crate::http::state::AppState;
use crate::keys::manage;

/// Get how a key was used
///
/// How a key was used: the last 24 hours by hour and the last 30 days by day, oldest first,
/// each bucket with requests answered (`ok`), refused (by problem code) and stock rows
/// returned. Days are read in `time_zone` (default: the key's). This instance's counts are
/// included at once; other instances' within about ten seconds.
#[utoipa::path(
    tag = "keys",
    security(("session_cookie" = [])),
    params(
        ("id" = i64, Path, minimum = 1, description = "The key's id"),
        ("time_zone" = Option<String>, Query, description = "An IANA time zone for the days (`Europe/Berlin`); default: the key's"),
    ),
    responses(
        (status = 200, description = "The key's use", body = KeyUsage),
        (status = 400, description = "An unknown `time_zone` (`invalid_parameters`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not logged in (`not_logged_in`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key that you may see (`not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/keys/{id}/usage")]
pub async fn get_usage(
    me: PortalUser,
    id: web::Path<i64>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut zone = None;
    for (name, value) in form_urlencoded::parse(req.query_string().as_bytes()) {
        if name == "time_zone" {
            zone = Some(value.parse::<Tz>().map_err(|_| {
                ApiError::InvalidParameters(vec![FieldError {
                    field: "time_zone".to_owned(),
                    message: "must be an IANA time zone such as Europe/London".to_owned(),
                }])
            })?);
        }
    }
    let key = manage::key_for(&state.db, &me.user, id.into_inner()).await?;
    let zone = zone.unwrap_or_else(|| key.time_zone.parse().unwrap_or(Tz::UTC));
    let usage =
        crate::keys::usage::for_key(&state.db, &state.usage, key.id, state.clock.now(), zone)
            .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(usage))
}
