//! The OpenAPI document. utoipa-actix-web collects every handler registered with `.service()`;
//! this adds the title, security schemes and tags, then states the rules utoipa's attributes
//! cannot (patterns built from the server's own character classes, id ranges, required fields,
//! the zone list, the 503 every database-backed operation can answer), so that the document
//! calls valid exactly what the server accepts. `openapi/openapi.json` is this, committed.

use partlogic_types::{NAME_SPACES, character_class, forbidden_class};
use serde_json::{Value, json};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::keys::name::MAX_NAME_CHARS;

/// The document's fixed parts.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "PartLogic API",
        description = "Read stock from your PartLogic devices with a device-scoped API key.\n\n\
            Send the key in the `X-API-Key` header, or as HTTP Basic (the key as the user name, any \
            password) or a Bearer token; never in the URL (such requests are refused with \
            `api_key_in_query`). Two different keys in one request are refused \
            (`conflicting_api_keys`). Every answer to a key with an expiry carries \
            `PartLogic-Key-Expires`; `GET /api/key` tells which key you are using and what it \
            reaches. Every error is an RFC 9457 problem document \
            (`application/problem+json`) with a stable `code`. When the database cannot be reached, \
            requests that need it answer `503 service_unavailable` with `Retry-After` within about \
            two seconds; `GET /api/ping` stays up and `GET /api/health` reports the database.\n\n\
            CSV answers (`Accept: text/csv`) neutralise spreadsheet formulas: a text cell starting \
            with `=`, `+`, `-`, `@`, TAB or CR gets a leading `'`. JSON is never changed.\n\n\
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
            "basic",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "The same key as HTTP Basic: the key as the user name, any password (it is ignored). For tools that only do Basic, such as Zapier's Retrieve Poll or Power Query's credential store",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("pl_…")
                    .description(Some("The same key as a Bearer token"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::accounts::session::COOKIE,
                "The portal session (named `__Host-pl_session` when the server runs with secure cookies)",
            ))),
        );
    }
}

/// A pattern for a trimmed name of 1 to `max` characters with none of the forbidden ones: the
/// spaces around it are free, the first and last of what remains are neither space nor
/// forbidden, and nothing between is forbidden.
fn name_pattern(max: usize) -> String {
    let (sp, bad) = (character_class(NAME_SPACES), forbidden_class());
    format!(
        "^[{sp}]*[^{sp}{bad}](?:[^{bad}]{{0,{}}}[^{sp}{bad}])?[{sp}]*$",
        max - 2
    )
}

/// Stock filters and other short texts: no control characters.
const NO_CONTROL: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$";

fn schema_prop<'a>(doc: &'a mut Value, schema: &str, prop: &str) -> Option<&'a mut Value> {
    doc.pointer_mut(&format!("/components/schemas/{schema}/properties/{prop}"))
}

fn merge(target: Option<&mut Value>, extra: Value) {
    if let (Some(Value::Object(t)), Value::Object(e)) = (target, extra) {
        t.extend(e);
    }
}

fn require(doc: &mut Value, schema: &str, fields: &[&str]) {
    if let Some(obj) = doc.pointer_mut(&format!("/components/schemas/{schema}")) {
        obj["required"] = json!(fields);
    }
}

/// States what the attributes cannot.
fn refine(doc: &mut Value) {
    let whole = json!({"minimum": 1, "maximum": i64::MAX});
    for schema in ["CreateKeyRequest", "UpdateKeyRequest"] {
        merge(
            schema_prop(doc, schema, "name"),
            json!({"pattern": name_pattern(MAX_NAME_CHARS),
                   "description": "1 to 100 characters once the spaces around it are trimmed; no control, invisible or direction-changing characters"}),
        );
        merge(
            doc.pointer_mut(&format!(
                "/components/schemas/{schema}/properties/device_ids/items"
            )),
            whole.clone(),
        );
    }
    merge(
        schema_prop(doc, "CreateKeyRequest", "expires_on"),
        json!({"pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
               "description": "The last day the key works (`YYYY-MM-DD`), read in `time_zone`; omit or null for no expiry. A date already over in that zone, or more than five years ahead, is refused with 409 `expiry_out_of_range`."}),
    );
    if let Some(tz) = schema_prop(doc, "CreateKeyRequest", "time_zone") {
        let zones: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()).collect();
        *tz = json!({
            "description": "An IANA time zone, spelled exactly (such as `Europe/London`); omit or null for UTC",
            "oneOf": [{"$ref": "#/components/schemas/TimeZone"}, {"type": "null"}]
        });
        if let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") {
            schemas.insert(
                "TimeZone".to_owned(),
                json!({"type": "string", "enum": zones, "description": "An IANA time zone name"}),
            );
        }
    }
    require(doc, "CreateKeyRequest", &["name", "device_ids"]);
    merge(
        schema_prop(doc, "RollKeyRequest", "overlap"),
        json!({"enum": partlogic_types::RollOverlap::ALL.map(|o| o.as_str())}),
    );
    require(doc, "RollKeyRequest", &["overlap"]);
    merge(
        schema_prop(doc, "LoginRequest", "email"),
        json!({"pattern": name_pattern(254)}),
    );
    merge(
        schema_prop(doc, "LoginRequest", "password"),
        json!({"minLength": 1, "maxLength": 1024}),
    );
    require(doc, "LoginRequest", &["email", "password"]);

    let Some(Value::Object(paths)) = doc.pointer_mut("/paths") else {
        return;
    };
    let problem = |description: &str| {
        json!({
            "description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        })
    };
    for (path, item) in paths.iter_mut() {
        let Value::Object(ops) = item else { continue };
        for (method, op) in ops.iter_mut() {
            if let Some(Value::Array(params)) = op.get_mut("parameters") {
                for p in params.iter_mut() {
                    refine_parameter(p, &whole);
                }
            }
            let Some(Value::Object(responses)) = op.get_mut("responses") else {
                continue;
            };
            if path != "/api/ping" && path != "/api/health" {
                responses.entry("503").or_insert_with(|| {
                    problem(
                        "The database is unreachable (`service_unavailable`); see `Retry-After`",
                    )
                });
            }
            // Every JSON API path refuses control characters in any query parameter.
            responses.entry("400").or_insert_with(|| {
                problem("A query parameter holds control characters (`invalid_parameters`)")
            });
            if path.starts_with("/portal/api") && method != "get" {
                responses
                    .entry("403")
                    .or_insert_with(|| problem("Sent from another site (`cross_origin_refused`)"));
            }
        }
    }
}

fn refine_parameter(p: &mut Value, whole: &Value) {
    let name = p["name"].as_str().unwrap_or_default().to_owned();
    let Some(schema) = p.get_mut("schema") else {
        return;
    };
    match name.as_str() {
        "id" | "after" => {
            schema["maximum"] = json!(i64::MAX);
        }
        "device" => merge(schema.get_mut("items"), whole.clone()),
        "sku" => schema["pattern"] = json!(NO_CONTROL),
        "time_zone" => *schema = json!({"$ref": "#/components/schemas/TimeZone"}),
        _ => {}
    }
}

/// The complete document, exactly as the server serves it at `/api/openapi.json`.
pub fn spec() -> utoipa::openapi::OpenApi {
    let (_, spec) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::http::routes::configure)
        .split_for_parts();
    let Ok(mut doc) = serde_json::to_value(&spec) else {
        return spec;
    };
    refine(&mut doc);
    serde_json::from_value(doc).unwrap_or(spec)
}

/// The document as committed in `openapi/openapi.json` (pretty, with a final newline).
pub fn spec_json() -> String {
    let mut s = spec().to_pretty_json().unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::accounts::email::Email;
    use crate::keys::name::KeyName;

    fn sample() -> impl proptest::strategy::Strategy<Value = String> {
        // Letters, each kind of space, and each kind of forbidden character, in any order and
        // around the length limits.
        proptest::collection::vec(
            proptest::sample::select(vec![
                'a',
                'Z',
                'é',
                '7',
                ' ',
                '\u{a0}',
                '\u{3000}',
                '\u{200b}',
                '\u{202e}',
                '\t',
                '\n',
                '\u{0}',
                '\u{feff}',
                '\u{2066}',
                '\u{ad}',
                '\u{85}',
                '\u{e0041}',
                '\u{fe0f}',
                '\u{34f}',
                '\u{1f600}',
            ]),
            0..110,
        )
        .prop_map(|cs| cs.into_iter().collect())
    }

    use proptest::strategy::Strategy;

    static NAME: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(&super::name_pattern(100)).unwrap());
    static EMAIL: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(&super::name_pattern(254)).unwrap());

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

        /// The spec's name pattern accepts exactly what `KeyName::parse` accepts.
        #[test]
        fn the_name_pattern_is_the_parser(name in sample()) {
            proptest::prop_assert_eq!(NAME.is_match(&name), KeyName::parse(&name).is_ok(), "{:?}", name);
        }

        /// Likewise for the login email.
        #[test]
        fn the_email_pattern_is_the_parser(name in sample()) {
            proptest::prop_assert_eq!(EMAIL.is_match(&name), Email::parse(&name).is_ok(), "{:?}", name);
        }
    }
}
