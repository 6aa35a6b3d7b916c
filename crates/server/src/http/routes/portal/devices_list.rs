//! `GET /portal/api/devices`.

use actix_web::{get, web};
use partlogic_types::{PortalDevice, Problem};

use crate::accounts::PortalUser;
use crate::error::ApiError;
use crate::http::state::AppState;
use crate::keys::manage;

/// List the devices the user may give keys
///
/// Every device the user may put on a key, with its customer, by customer then name.
#[utoipa::path(
    tag = "devices",
    security(("session_cookie" = [])),
    responses(
        (status = 200, description = "The user's devices", body = Vec<PortalDevice>),
        (status = 401, description = "Not logged in (`not_logged_in`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/devices")]
pub async fn list_assignable_devices(
    me: PortalUser,
    state: web::Data<AppState>,
) -> Result<web::Json<Vec<PortalDevice>>, ApiError> {
    Ok(web::Json(
        manage::visible_devices(&state.db, &me.user, None).await?,
    ))
}
