//! `GET /portal/api/connect`: what the portal's guides need to show working snippets.

use actix_web::{get, web};
use partlogic_types::{ConnectInfo, Problem};

use crate::accounts::PortalUser;
use crate::error::ApiError;
use crate::http::state::AppState;

/// Get the public URL and the recipes
///
/// The server's public base URL (as integrations should call it) and the recipes it serves,
/// for the Help pages and the "Use this key" panel.
#[utoipa::path(
    tag = "connect",
    security(("session_cookie" = [])),
    responses(
        (status = 200, description = "Where integrations reach this server", body = ConnectInfo),
        (status = 401, description = "Not logged in (`not_logged_in`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/connect")]
pub async fn get_connect(
    _me: PortalUser,
    state: web::Data<AppState>,
) -> Result<web::Json<ConnectInfo>, ApiError> {
    Ok(web::Json(ConnectInfo {
        base_url: state.public_url.clone(),
        recipes: crate::http::recipes::RECIPES
            .iter()
            .map(|r| r.file.to_owned())
            .collect(),
    }))
}
