//! `GET /portal/api/keys/{id}`.

use actix_web::{HttpResponse, get, http::header, web};
use partlogic_types::{KeyDetail, Problem};

use crate::accounts::PortalUser;
use crate::error::ApiError;
use crate::http::state::AppState;
use crate::keys::{manage, views};

/// Get one API key with its history
///
/// One key with its devices and audit events (never its secret).
#[utoipa::path(
    tag = "keys",
    security(("session_cookie" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The key's id")),
    responses(
        (status = 200, description = "The key", body = KeyDetail, headers(("ETag" = String, description = "The key's version: send it as `If-Match` when changing or retiring the key"))),
        (status = 401, description = "Not logged in (`not_logged_in`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key that you may see (`not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/keys/{id}")]
pub async fn get_key(
    me: PortalUser,
    id: web::Path<i64>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let key = manage::key_for(&state.db, &me.user, id.into_inner()).await?;
    let tag = manage::etag(&key);
    let detail = views::detail(&state.db, key, state.clock.now(), &state.usage).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, tag))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(detail))
}
