//! The OpenAPI document. utoipa-actix-web collects every handler registered with `.service()`;
//! this adds the title, security schemes and tags. `openapi/openapi.json` is this, committed.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

/// The document's fixed parts.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "PartLogic API",
        description = "Read stock from your PartLogic devices with a device-scoped API key.\n\n\
            Send the key in the `X-API-Key` header (never in the URL: such requests are refused with \
            `api_key_in_query`). Every error is an RFC 9457 problem document \
            (`application/problem+json`) with a stable `code`.\n\n\
            The `portal` endpoints are what the PartLogic web portal calls; they take the portal's \
            session cookie, not an API key.",
        license(name = "Proprietary")
    ),
    modifiers(&Security),
    tags(
        (name = "stock", description = "The Stock API, for integrations holding an API key"),
        (name = "portal", description = "The portal's own JSON API (session cookie)"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-API-Key",
                "A PartLogic API key (pl_…), created in the portal under Integrations",
            ))),
        );
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::session::COOKIE,
            ))),
        );
    }
}

/// The complete document, exactly as the server serves it at `/api/openapi.json`.
pub fn spec() -> utoipa::openapi::OpenApi {
    let (_, spec) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::routes::configure)
        .split_for_parts();
    spec
}

/// The document as committed in `openapi/openapi.json` (pretty, with a final newline).
pub fn spec_json() -> String {
    let mut s = spec().to_pretty_json().unwrap_or_default();
    s.push('\n');
    s
}
