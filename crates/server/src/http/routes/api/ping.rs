//! `GET /api/ping`.

use actix_web::{get, web};
use partlogic_types::{Ping, Problem};

use crate::http::state::AppState;

/// Check that the API is up
///
/// Is the API up? Needs no key; answers with the server's clock.
#[utoipa::path(
    tag = "status",
    responses(
        (status = 200, description = "The API is up", body = Ping),
        (status = 400, description = "A key was sent in the URL (`api_key_in_query`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/ping")]
pub async fn ping(state: web::Data<AppState>) -> web::Json<Ping> {
    web::Json(Ping {
        ok: true,
        time: state.clock.now(),
    })
}
