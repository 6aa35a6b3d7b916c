//! `GET /portal/api/keys/{id}`.

use actix_web::{get, web};
use partlogic_types::{KeyDetail, Problem};

use crate::auth::PortalUser;
use crate::error::ApiError;
use crate::portal;
use crate::state::AppState;

/// One key with its devices and audit events (never its secret).
#[utoipa::path(
    tag = "portal",
    security(("session_cookie" = [])),
    params(("id" = i64, Path, description = "The key's id")),
    responses(
        (status = 200, description = "The key", body = KeyDetail),
        (status = 401, description = "Not logged in (`not_logged_in`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key that you may see (`not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/keys/{id}")]
pub async fn get_key(
    me: PortalUser,
    id: web::Path<i64>,
    state: web::Data<AppState>,
) -> Result<web::Json<KeyDetail>, ApiError> {
    let key = portal::key_for(&state.db, &me.user, id.into_inner()).await?;
    Ok(web::Json(
        portal::detail(&state.db, key, state.clock.now()).await?,
    ))
}
