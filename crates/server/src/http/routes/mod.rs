//! Every HTTP route, one file per handler action; the handler's name is its OpenAPI operation id.

pub mod api;
pub mod portal;

use std::sync::OnceLock;

use actix_web::{HttpRequest, HttpResponse, http::Method, http::header, middleware::from_fn};
use utoipa_actix_web::{scope, service_config::ServiceConfig};

use crate::error::ApiError;
use crate::http::middleware;

/// Registers the Stock API under `/api` and the portal JSON API under `/portal/api`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        scope::scope("/api")
            .wrap(from_fn(middleware::api_answers))
            .wrap(from_fn(middleware::refuse_control_chars))
            .service(api::ping::ping)
            .service(api::health::get_health)
            .service(api::key::get_current_key)
            .service(api::key_retire::retire_current_key)
            .service(api::secret_scanning::report_leaked_keys)
            .service(api::stock::list_stock)
            .service(api::alerts::list_stock_alerts)
            .service(api::devices::list_devices)
            .service(api::orders_create::create_order)
            .service(api::orders_list::list_orders)
            .service(api::orders_get::get_order)
            .service(api::orders_receive::receive_order)
            .service(api::orders_cancel::cancel_order)
            .service(api::webhooks_create::create_webhook)
            .service(api::webhooks_list::list_webhooks)
            .service(api::webhooks_get::get_webhook)
            .service(api::webhooks_update::update_webhook)
            .service(api::webhooks_delete::delete_webhook)
            .service(api::webhooks_test::test_webhook)
            .service(api::webhooks_rotate::rotate_webhook_secret)
            .service(api::webhooks_deliveries::list_webhook_deliveries)
            .service(api::webhooks_replay::replay_webhook_delivery)
            .default_service(actix_web::web::to(fallback)),
    )
    .service(
        scope::scope("/portal/api")
            .wrap(from_fn(middleware::refuse_control_chars))
            .wrap(from_fn(middleware::same_origin_only))
            .service(portal::session_create::create_session)
            .service(portal::session_get::get_session)
            .service(portal::session_delete::delete_session)
            .service(portal::devices_list::list_assignable_devices)
            .service(portal::connect_get::get_connect)
            .service(portal::keys_list::list_keys)
            .service(portal::keys_create::create_key)
            .service(portal::keys_get::get_key)
            .service(portal::keys_update::update_key)
            .service(portal::keys_retire::retire_key)
            .service(portal::keys_roll::roll_key)
            .service(portal::keys_usage::get_usage)
            .service(portal::orders_list::list_orders)
            .service(portal::orders_get::get_order)
            .service(portal::orders_receive::receive_order)
            .service(portal::orders_cancel::cancel_order)
            .service(portal::webhooks_list::list_webhooks)
            .service(portal::webhooks_create::create_webhook)
            .service(portal::webhooks_update::update_webhook)
            .service(portal::webhooks_delete::delete_webhook)
            .service(portal::webhooks_test::test_webhook)
            .service(portal::webhooks_rotate::rotate_webhook_secret)
            .service(portal::webhooks_deliveries::list_webhook_deliveries)
            .service(portal::webhooks_replay::replay_webhook_delivery)
            .default_service(actix_web::web::to(fallback)),
    );
}

/// A path template (`/portal/api/keys/{id}`) and the methods it takes.
struct Route {
    segments: Vec<String>,
    methods: Vec<Method>,
}

impl Route {
    fn matches(&self, path: &str) -> bool {
        let parts: Vec<&str> = path.split('/').collect();
        parts.len() == self.segments.len()
            && parts
                .iter()
                .zip(&self.segments)
                .all(|(p, s)| (s.starts_with('{') && s.ends_with('}') && !p.is_empty()) || p == s)
    }

    /// The `Allow` value: the methods, with `HEAD` wherever `GET` is.
    fn allow(&self) -> String {
        let mut names: Vec<&str> = Vec::new();
        for m in &self.methods {
            names.push(m.as_str());
            if *m == Method::GET {
                names.push("HEAD");
            }
        }
        names.join(", ")
    }
}

/// Every path of the OpenAPI documents with its methods (the documents are made from the very
/// handlers registered above, so the two cannot disagree), plus the docs' own paths.
fn routes() -> &'static [Route] {
    static ROUTES: OnceLock<Vec<Route>> = OnceLock::new();
    ROUTES.get_or_init(|| {
        let mut out: Vec<Route> = crate::http::openapi::operations()
            .into_iter()
            .map(|(path, methods)| Route {
                segments: path.split('/').map(str::to_owned).collect(),
                methods,
            })
            .collect();
        for extra in [
            crate::http::openapi::Document::Stock.path(),
            crate::http::openapi::Document::Portal.path(),
            "/api/docs",
            "/api/docs/",
            "/api/docs/{file}",
        ] {
            out.push(Route {
                segments: extra.split('/').map(str::to_owned).collect(),
                methods: vec![Method::GET],
            });
        }
        out
    })
}

/// Whatever no handler took under the JSON APIs: a known path asked with another method is 405
/// with `Allow` (`OPTIONS` answers 204 with it), anything else 404, always in JSON.
pub async fn fallback(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    // Exact paths only: `/api/stock/` is not `/api/stock` (no handler took it, whatever the
    // method, so it is simply not there).
    let Some(route) = routes().iter().find(|r| r.matches(req.path())) else {
        return Err(ApiError::NotFound("endpoint"));
    };
    if route.methods.contains(req.method()) {
        return Err(ApiError::NotFound("endpoint"));
    }
    if req.method() == Method::OPTIONS {
        return Ok(HttpResponse::NoContent()
            .insert_header((header::ALLOW, format!("{}, OPTIONS", route.allow())))
            .finish());
    }
    Err(ApiError::MethodNotAllowed {
        method: req.method().to_string(),
        allow: route.allow(),
    })
}

/// `/api/docs` without the slash: the docs UI lives at `/api/docs/`.
pub async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/api/docs/"))
        .finish()
}
