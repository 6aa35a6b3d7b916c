//! `GET /api/health`.

use actix_web::{HttpResponse, get, http::StatusCode, http::header, web};
use partlogic_types::{DatabaseState, Health, Problem};
use sea_orm::{ConnectionTrait, Statement};

use crate::http::state::AppState;

/// Check that the API can reach its database
///
/// Is the service ready? Needs no key. 200 when the database answers within two seconds, 503
/// (with `Retry-After`) when it does not; `/api/ping` stays 200 either way, so a load balancer
/// can tell "process alive" from "able to serve".
#[utoipa::path(
    tag = "status",
    responses(
        (status = 200, description = "The database answers", body = Health),
        (status = 400, description = "A key was sent in the URL (`api_key_in_query`) or a parameter holds control characters (`invalid_parameters`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database does not answer; see `Retry-After`", body = Health, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    )
)]
#[get("/health")]
pub async fn get_health(state: web::Data<AppState>) -> HttpResponse {
    let started = std::time::Instant::now();
    let probe = state.db.execute_raw(Statement::from_string(
        state.db.get_database_backend(),
        "SELECT 1",
    ));
    let up = matches!(
        tokio::time::timeout(crate::db::CONNECT_TIMEOUT, probe).await,
        Ok(Ok(_))
    );
    let body = Health {
        ok: up,
        database: if up {
            DatabaseState::Up
        } else {
            DatabaseState::Down
        },
        database_ms: up.then(|| started.elapsed().as_millis() as u64),
        time: state.clock.now(),
    };
    let mut res = HttpResponse::build(if up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    });
    res.insert_header((header::CACHE_CONTROL, "no-store"));
    if !up {
        res.insert_header((header::RETRY_AFTER, "5"));
    }
    res.json(body)
}
