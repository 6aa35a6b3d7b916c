//! `GET /portal/api/session`: who am I?

use actix_web::{get, web};
use partlogic_types::{CurrentUser, Problem};

use crate::accounts::PortalUser;
use crate::error::ApiError;
use crate::http::state::AppState;

/// Get the logged-in user
///
/// The logged-in user.
#[utoipa::path(
    tag = "session",
    security(("session_cookie" = [])),
    responses(
        (status = 200, description = "The logged-in user", body = CurrentUser),
        (status = 401, description = "Not logged in (`not_logged_in`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/session")]
pub async fn get_session(
    me: PortalUser,
    state: web::Data<AppState>,
) -> Result<web::Json<CurrentUser>, ApiError> {
    Ok(web::Json(super::current_user(&state.db, &me.user).await?))
}
