//! Every HTTP route, one file per handler action; the handler's name is its OpenAPI operation id.

pub mod api;
pub mod portal;

use actix_web::{HttpResponse, http::header, middleware::from_fn};
use utoipa_actix_web::{scope, service_config::ServiceConfig};

use crate::error::ApiError;
use crate::middleware;

/// Registers the Stock API under `/api` and the portal JSON API under `/portal/api`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        scope::scope("/api")
            .wrap(from_fn(middleware::refuse_key_in_query))
            .service(api::ping::ping)
            .service(api::stock::list_stock)
            .service(api::devices::list_api_devices)
            .default_service(actix_web::web::to(not_found)),
    )
    .service(
        scope::scope("/portal/api")
            .wrap(from_fn(middleware::same_origin_only))
            .service(portal::session_create::create_session)
            .service(portal::session_get::get_session)
            .service(portal::session_delete::delete_session)
            .service(portal::devices_list::list_devices)
            .service(portal::keys_list::list_keys)
            .service(portal::keys_create::create_key)
            .service(portal::keys_get::get_key)
            .service(portal::keys_update::update_key)
            .service(portal::keys_retire::retire_key)
            .default_service(actix_web::web::to(not_found)),
    );
}

/// Unknown paths (and methods) under the JSON APIs answer in JSON too.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("endpoint"))
}

/// `/api/docs` without the slash: the docs UI lives at `/api/docs/`.
pub async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/api/docs/"))
        .finish()
}
