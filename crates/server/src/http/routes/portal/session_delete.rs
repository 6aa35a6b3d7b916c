//! `DELETE /portal/api/session`: log out.

use actix_web::{HttpResponse, delete, web};
use partlogic_entity::session;
use partlogic_types::Problem;
use sea_orm::EntityTrait;

use crate::accounts::{PortalUser, session as cookie};
use crate::error::ApiError;
use crate::http::state::AppState;

/// Log out
///
/// Ends the session on the server and removes the cookie.
#[utoipa::path(
    tag = "session",
    security(("session_cookie" = [])),
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "Not logged in (`not_logged_in`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/session")]
pub async fn delete_session(
    me: PortalUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    session::Entity::delete_by_id(me.session_id)
        .exec(&state.db)
        .await?;
    Ok(HttpResponse::NoContent()
        .cookie(cookie::removal_cookie(state.settings.secure_cookies))
        .finish())
}
