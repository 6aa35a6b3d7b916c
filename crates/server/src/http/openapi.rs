//! The two OpenAPI documents, one per audience. utoipa-actix-web collects every handler
//! registered with `.service()`; this splits what it collects by path into the **Stock API**
//! (`/api/openapi.json`, committed as `openapi/openapi.json`: what a key can call) and the
//! **Portal API** (`/portal/api/openapi.json`, committed as `openapi/portal.json`: what the SPA
//! calls with its session cookie), each with its own title, tags, security schemes and only the
//! schemas it uses. It also states the rules utoipa's attributes cannot (patterns built from the
//! server's own character classes, id ranges, required fields, the zone pattern, the 503 every
//! database-backed operation can answer, `security: []` where no credential is needed), so that
//! each document calls valid exactly what the server accepts, and orders the operations so that
//! tools running every request in document order (Postman's "Run collection") reach the ones that
//! change the caller's key last.

use std::collections::{BTreeMap, BTreeSet};

use partlogic_types::{NAME_SPACES, character_class, forbidden_class};
use serde_json::{Value, json};
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

use crate::keys::name::MAX_NAME_CHARS;

/// A bare document for utoipa-actix-web to collect the handlers into; everything else is added
/// per [`Document`].
#[derive(OpenApi)]
pub struct ApiDoc;

/// The base URL the committed documents carry. The served ones carry `PARTLOGIC_PUBLIC_URL` (or
/// the bind address). Not `localhost`: linters flag that as a leftover.
pub const PLACEHOLDER_URL: &str = "http://127.0.0.1:8080";

/// One of the two OpenAPI documents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Document {
    /// The Stock API: everything under `/api`, with an API key.
    Stock,
    /// The portal's JSON API: everything under `/portal/api`, with the session cookie.
    Portal,
}

impl Document {
    /// Both, the Stock API first (the docs UI opens on it).
    pub const ALL: [Document; 2] = [Document::Stock, Document::Portal];

    /// Where the server serves it.
    pub fn path(self) -> &'static str {
        match self {
            Document::Stock => "/api/openapi.json",
            Document::Portal => "/portal/api/openapi.json",
        }
    }

    /// Where it is committed, relative to the repository root.
    pub fn committed(self) -> &'static str {
        match self {
            Document::Stock => "openapi/openapi.json",
            Document::Portal => "openapi/portal.json",
        }
    }

    /// Its name in the docs UI's document switcher.
    pub fn label(self) -> &'static str {
        match self {
            Document::Stock => "Stock API (API key)",
            Document::Portal => "Portal API (session cookie)",
        }
    }

    /// The paths it describes start with this.
    fn prefix(self) -> &'static str {
        match self {
            Document::Stock => "/api/",
            Document::Portal => "/portal/api/",
        }
    }

    fn info(self) -> Value {
        let (title, description) = match self {
            Document::Stock => ("PartLogic Stock API", STOCK_DESCRIPTION),
            Document::Portal => ("PartLogic Portal API", PORTAL_DESCRIPTION),
        };
        json!({
            "title": title,
            "description": description,
            "license": {"name": "MIT", "identifier": "MIT"},
            "version": env!("CARGO_PKG_VERSION"),
        })
    }

    /// Its tags, in the order the docs UI and generated collections show them.
    fn tags(self) -> Value {
        match self {
            Document::Stock => json!([
                {"name": "status", "description": "Is the API up, and can it reach its database? No key needed."},
                {"name": "stock", "description": "Stock levels, alerts and devices within the key's reach. Read only."},
                {"name": "orders", "description": "Replenishment orders of the devices the key reaches. Listing and reading them needs the key's `orders:read` permission; creating, receiving and cancelling them `orders:write` (given in the portal, on the key's page). Every `POST` takes an `Idempotency-Key`: retried with the same key and body it answers the first result again instead of acting twice."},
                {"name": "webhooks", "description": "Endpoints that receive this key's events as they happen (`stock.below_min`, `stock.restocked`, `order.created`, `order.received`, `order.cancelled`, `key.expiring`, `webhook.test`), signed the Standard Webhooks way: verify `webhook-signature` with the endpoint's secret and any Standard Webhooks library. Needs the key's `webhooks:manage` permission (given in the portal); order events also need `orders:read`."},
                {"name": "key", "description": "The key you are calling with: its name, expiry, reach and permissions. Read only."},
                {"name": "key-retirement", "description": "**Changes your key.** `DELETE /api/key` retires the key that sends it, at once and for good (a rolled key's previous secret: only that secret). Listed last, so that tools running every request in order (Postman's *Run collection*) reach it after everything else."},
                {"name": "secret-scanning", "description": "**Retires keys found leaked.** For GitHub secret scanning only: a signed report of a leaked key retires that key at once. Needs no key, answers 404 unless the server takes reports. Listed last, with `key-retirement`."},
            ]),
            Document::Portal => json!([
                {"name": "session", "description": "Logging in and out of the portal."},
                {"name": "devices", "description": "The devices a user may give keys."},
                {"name": "keys", "description": "Creating, changing, rolling and retiring API keys, and their usage."},
                {"name": "orders", "description": "Orders of the devices the user sees: list, read, receive and cancel them (with the order's `ETag` as `If-Match`)."},
                {"name": "webhooks", "description": "A key's webhook endpoints, as the key's page shows them: add (the signing secret shown once), change, enable, rotate the secret, send a test event, read the last 100 deliveries and replay one, delete."},
                {"name": "connect", "description": "What the portal's connection guides need: the public URL and the recipes."},
            ]),
        }
    }

    fn security_schemes(self) -> Value {
        match self {
            Document::Stock => json!({
                "api_key": {
                    "type": "apiKey", "in": "header", "name": "X-API-Key",
                    "description": "A PartLogic API key (pl_…), created in the portal under Integrations"
                },
                "basic": {
                    "type": "http", "scheme": "basic",
                    "description": "The same key as HTTP Basic: the key as the user name, any password (it is ignored). For tools that only do Basic, such as Zapier's Retrieve Poll or Power Query's credential store"
                },
                "bearer": {
                    "type": "http", "scheme": "bearer", "bearerFormat": "pl_…",
                    "description": "The same key as a Bearer token"
                },
            }),
            Document::Portal => json!({
                "session_cookie": {
                    "type": "apiKey", "in": "cookie", "name": crate::accounts::session::COOKIE,
                    "description": "The portal session (named `__Host-pl_session` when the server runs with secure cookies), set by `POST /portal/api/session`"
                },
            }),
        }
    }

    /// The position of a path in the document: status first, the key-changing ones last, the
    /// rest as collected.
    fn rank(path: &str) -> u8 {
        match path {
            "/api/ping" => 0,
            "/api/health" => 1,
            // Orders: list and create, read one, receive it, then cancel (another one: see the
            // examples), so that a collection run in order finds each step possible.
            "/api/orders" | "/api/orders/{id}" => 6,
            "/api/orders/{id}/receive" => 7,
            "/api/orders/{id}/cancel" => 8,
            // Webhooks, after orders (each path's methods in utoipa's order: see
            // `parameter_example`).
            "/api/webhooks"
            | "/api/webhooks/{id}"
            | "/api/webhooks/{id}/test"
            | "/api/webhooks/{id}/deliveries"
            | "/api/webhooks/{id}/deliveries/{message_id}/replay"
            | "/api/webhooks/{id}/rotate-secret" => 9,
            "/api/key" => 10,
            "/api/secret-scanning" => 11,
            _ => 5,
        }
    }
}

const STOCK_DESCRIPTION: &str = "Read stock from your PartLogic devices with a device-scoped API key.\n\n\
Send the key in the `X-API-Key` header, or as HTTP Basic (the key as the user name, any password) \
or a Bearer token; never in the URL (such requests are refused with `api_key_in_query`). Two \
different keys in one request are refused (`conflicting_api_keys`). Every answer to a key with an \
expiry carries `PartLogic-Key-Expires`; `GET /api/key` tells which key you are using and what it \
reaches. Every error is an RFC 9457 problem document (`application/problem+json`) with a stable \
`code`. When the database cannot be reached, requests that need it answer \
`503 service_unavailable` with `Retry-After` within about two seconds; `GET /api/ping` stays up \
and `GET /api/health` reports the database.\n\n\
`GET /api/stock` and `GET /api/stock/alerts` answer JSON by default and CSV on \
`Accept: text/csv`. CSV answers neutralise spreadsheet formulas: a text cell starting with `=`, \
`+`, `-`, `@`, TAB or CR (also after a `;`, TAB or line break) gets a leading `'`. JSON is never \
changed.\n\n\
The operations tagged `key-retirement` and `secret-scanning` change keys and come last in this \
document; everything else only reads.";

const PORTAL_DESCRIPTION: &str = "The JSON API the PartLogic web portal calls: logging in, \
listing devices, creating, changing, rolling and retiring API keys. It takes the portal's session \
cookie (from `POST /portal/api/session`), not an API key, and refuses state-changing requests \
sent from another site (`cross_origin_refused`). Integrations use the Stock API \
(`/api/openapi.json`) instead. Every error is an RFC 9457 problem document \
(`application/problem+json`) with a stable `code`.";

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

/// The shape of every IANA zone name (checked against chrono-tz's list by a unit test).
pub(crate) const TIME_ZONE_PATTERN: &str = "^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$";

/// Stock filters and other short texts: no control characters.
const NO_CONTROL: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$";

/// A webhook URL: `https`, a host name (letters, digits, dots, hyphens) with an optional port,
/// then any path and query without spaces or a fragment.
const WEBHOOK_URL: &str = "^https://[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(:[1-9][0-9]{0,3})?([/?][^\\u0000-\\u0020#]*)?$";

/// An order's note: no control characters but line breaks.
const NOTE_TEXT: &str = "^[^\\u0000-\\u0009\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$";

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

/// Whole-object examples: what the docs UI shows and what generators put in sample requests and
/// mocks. Demo-like values, consistent across schemas (device 1 is NP Main Stores).
fn schema_examples() -> Vec<(&'static str, Value)> {
    let at = "2026-01-01T12:00:00.000Z";
    vec![
        (
            "CreateWebhookRequest",
            json!({
                "url": "https://hooks.example.com/partlogic",
                "events": ["stock.below_min", "stock.restocked"],
                "description": "Store room alerts"
            }),
        ),
        (
            "UpdateWebhookRequest",
            json!({"description": "Store room alerts (night shift)"}),
        ),
        (
            "StockRow",
            json!({
                "id": 1, "DeviceName": "NP Main Stores", "SKU": "BRG-6204",
                "Description": "Deep groove ball bearing 6204-2RS", "MinQty": 10, "MaxQty": 40,
                "Physical": 25, "DeviceId": 1, "Customer": "North Plant", "Location": "A-01-03",
                "UpdatedAt": at
            }),
        ),
        (
            "StockAlert",
            json!({
                "id": 7, "StockId": 1, "DeviceId": 1, "DeviceName": "NP Main Stores",
                "Customer": "North Plant", "SKU": "BRG-6204",
                "Description": "Deep groove ball bearing 6204-2RS", "MinQty": 10, "MaxQty": 40,
                "Physical": 8, "PreviousPhysical": 12, "Kind": "below_min", "At": at
            }),
        ),
        (
            "ApiDevice",
            json!({"id": 1, "Name": "NP Main Stores", "Customer": "North Plant"}),
        ),
        (
            "KeyInfo",
            json!({
                "name": "Zapier stock sync", "prefix": "pl_3kT9", "created_at": at,
                "expires_on": "2027-06-30", "time_zone": "Europe/London",
                "expires_at": "2027-06-30T23:00:00.000Z", "status": "active",
                "devices": [{"id": 1, "Name": "NP Main Stores", "Customer": "North Plant"}]
            }),
        ),
        (
            "Problem",
            json!({
                "type": "urn:partlogic:problem:invalid_api_key", "title": "API key invalid",
                "status": 401, "detail": "No key matches the one sent.", "code": "invalid_api_key"
            }),
        ),
        (
            "LeakReport",
            json!({
                "token": "pl_7Hq2rV9cXw4Lm8Zp3Ns6Bt1Ky5Fd0Gj2Qa4We7Ru9Ti3Oy6Pu",
                "type": "partlogic_api_key",
                "url": "https://github.com/octo-org/octo-repo/blob/main/.env",
                "source": "content"
            }),
        ),
        (
            "LoginRequest",
            json!({"email": "admin@acme.example", "password": "partlogic-demo"}),
        ),
        (
            "CreateKeyRequest",
            json!({
                "name": "Zapier stock sync", "device_ids": [1, 2], "expires_on": "2027-06-30",
                "time_zone": "Europe/London"
            }),
        ),
        (
            "UpdateKeyRequest",
            json!({"name": "Zapier stock sync (North Plant)", "device_ids": [1]}),
        ),
        ("RollKeyRequest", json!({"overlap": "PT24H"})),
        (
            "CreateOrderRequest",
            json!({
                "device_id": 1,
                "lines": [{"sku": "BRG-6204", "quantity": 10}, {"sku": "GLV-NIT-L", "quantity": 2}],
                "reference": "sheet-row-12",
                "note": "Line 3 is waiting for these"
            }),
        ),
        (
            "OrderLineRequest",
            json!({"sku": "BRG-6204", "quantity": 10}),
        ),
        (
            "ReceiveOrderRequest",
            json!({"lines": [{"sku": "BRG-6204", "quantity": 2}]}),
        ),
    ]
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
        *tz = json!({
            "description": "An IANA time zone, spelled exactly (such as `Europe/London`); omit or null for UTC",
            "oneOf": [{"$ref": "#/components/schemas/TimeZone"}, {"type": "null"}]
        });
    }
    if let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") {
        // A pattern, not an enum of the ~600 names: generators turn enum values into
        // identifiers, and `GMT+0`, `GMT-0` and `GMT0` (or `Etc/GMT+1` and `Etc/GMT-1`) become
        // the same one. The server still accepts exactly the IANA names.
        schemas.insert(
            "TimeZone".to_owned(),
            json!({
                "type": "string",
                "pattern": TIME_ZONE_PATTERN,
                "maxLength": 40,
                "example": "Europe/London",
                "description": "An IANA time zone name, spelled exactly as in the tz database (`Europe/London`, `America/Argentina/Buenos_Aires`, `UTC`); a well-formed name that is not one is refused"
            }),
        );
    }
    require(doc, "CreateKeyRequest", &["name", "device_ids"]);
    for (schema, example) in schema_examples() {
        if let Some(Value::Object(obj)) = doc.pointer_mut(&format!("/components/schemas/{schema}"))
        {
            obj.insert("example".to_owned(), example);
        }
    }
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
    require(doc, "CreateOrderRequest", &["device_id", "lines"]);
    let text =
        |max: usize, pattern: &str| json!({"minLength": 1, "maxLength": max, "pattern": pattern});
    merge(
        schema_prop(doc, "OrderLineRequest", "sku"),
        text(100, NO_CONTROL),
    );
    merge(
        schema_prop(doc, "CreateOrderRequest", "reference"),
        text(crate::orders::parse::MAX_REFERENCE_CHARS, NO_CONTROL),
    );
    merge(
        schema_prop(doc, "CreateOrderRequest", "note"),
        text(crate::orders::parse::MAX_NOTE_CHARS, NOTE_TEXT),
    );
    require(doc, "OrderLineRequest", &["sku", "quantity"]);
    // Webhook endpoints: what the shape of each field can say. Whether a host name resolves to
    // a private address cannot be said by any schema (`webhook_url_not_allowed`).
    for schema in ["CreateWebhookRequest", "UpdateWebhookRequest"] {
        merge(
            schema_prop(doc, schema, "url"),
            json!({"minLength": 9, "maxLength": crate::webhooks::url::MAX_URL_CHARS, "pattern": WEBHOOK_URL}),
        );
        merge(
            schema_prop(doc, schema, "events"),
            json!({"minItems": 1, "items": {"$ref": "#/components/schemas/EventType"}}),
        );
        merge(
            schema_prop(doc, schema, "description"),
            json!({"maxLength": crate::webhooks::parse::MAX_DESCRIPTION_CHARS, "pattern": NO_CONTROL}),
        );
        merge(
            schema_prop(doc, schema, "format"),
            json!({"enum": ["standard", "slack", null]}),
        );
    }
    require(doc, "CreateWebhookRequest", &["url", "events"]);

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
                    refine_parameter(path, p, &whole);
                    if path == "/api/webhooks/{id}" && method == "delete" && p["name"] == "id" {
                        p["example"] = json!(2);
                    }
                }
            }
            // No credential needed says so explicitly, so that a linter or a generator does
            // not take it for a forgotten one.
            if let Value::Object(o) = op {
                o.entry("security").or_insert_with(|| json!([]));
            }
            let has_query = op
                .get("parameters")
                .and_then(Value::as_array)
                .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
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
            // A URL over the server's limit is refused before any handler runs; operations
            // with query parameters (repeatable ones especially) can reach it.
            if has_query {
                responses.entry("414").or_insert_with(|| {
                    problem("The URL is longer than the server reads (`uri_too_long`)")
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

/// The example a parameter gets: what the docs UI fills in and what a converted collection sends
/// (`parametersResolution=Example`). Each is a real demo value that answers 2xx for a key that
/// reaches the first demo device.
fn parameter_example(path: &str, name: &str) -> Option<Value> {
    Some(match (path, name) {
        (_, "device") => json!([1]),
        (_, "customer") => json!([1]),
        (_, "sku") => json!("BRG-6204"),
        (_, "below_min") => json!(false),
        (_, "updated_since") => json!("2026-01-01T00:00:00Z"),
        ("/api/stock/alerts", "limit") => json!(20),
        // Demo order 1 is open with BRG-6204 outstanding; demo order 5 is open with nothing
        // received, so it can be cancelled.
        ("/api/orders/{id}/cancel", "id") => json!(5),
        // The Postman run adds endpoint 1 and uses it throughout. Its DELETE comes before its
        // PATCH in the document (utoipa writes a path's methods in a fixed order), so that
        // example names endpoint 2 (see `refine`, and e2e/clients/postman/run.mjs).
        (_, "message_id") => json!("msg_p5jXN8AQM9LWM0D4loKWxJek"),
        (_, "status") => json!("open"),
        (_, "reference") => json!("sheet-row-12"),
        (_, "created_since") => json!("2026-01-01T00:00:00Z"),
        (_, "before") => json!(1000),
        // One per operation: a key names one request, and is refused at another endpoint.
        ("/api/orders/{id}/receive", "Idempotency-Key") => json!("delivery-2026-01-15-PO-000001"),
        ("/api/orders/{id}/cancel", "Idempotency-Key") => json!("cancel-PO-000005"),
        (_, "Idempotency-Key") => json!("sheet-row-12"),
        (_, "limit") => json!(100),
        (_, "after") => json!(0),
        (_, "kind") => json!("below_min"),
        (_, "mine") => json!(false),
        (_, "id") => json!(1),
        (_, "webhook_id") => json!(1),
        (_, "time_zone") => json!("Europe/London"),
        (_, "GITHUB-PUBLIC-KEY-IDENTIFIER") => {
            json!("bcb53661c06b4728e59d897fb6165d5c9cda0fd9cdf9d09ead458168deb7518c")
        }
        (_, "GITHUB-PUBLIC-KEY-SIGNATURE") => json!(
            "MEUCIQDNjiHzXq3qz/qLE2x/z1j8CXJ2HU8Cy0XwR4/Ol8xgBAIgN3nEeLmC5yg8s5E0Zfub8Z1Rc3Ooq4ZgXLLmn0RPpVk="
        ),
        _ => return None,
    })
}

fn refine_parameter(path: &str, p: &mut Value, whole: &Value) {
    let name = p["name"].as_str().unwrap_or_default().to_owned();
    if let (Some(example), Value::Object(o)) = (parameter_example(path, &name), &mut *p) {
        o.entry("example").or_insert(example);
    }
    let Some(schema) = p.get_mut("schema") else {
        return;
    };
    match name.as_str() {
        "id" | "webhook_id" | "after" => {
            schema["maximum"] = json!(i64::MAX);
        }
        "device" | "customer" => merge(schema.get_mut("items"), whole.clone()),
        "sku" | "reference" => schema["pattern"] = json!(NO_CONTROL),
        "Idempotency-Key" => {
            merge(
                Some(schema),
                json!({"minLength": 1, "maxLength": crate::orders::idempotency::MAX_KEY_CHARS, "pattern": "^[ -~]+$"}),
            );
        }
        "time_zone" => *schema = json!({"$ref": "#/components/schemas/TimeZone"}),
        "limit" if path == "/api/stock/alerts" => {
            schema["default"] = json!(crate::stock::alerts::DEFAULT_LIMIT);
        }
        _ => {}
    }
}

/// Everything utoipa-actix-web collects from the registered handlers, refined: both
/// documents' paths and every schema.
fn collected() -> Value {
    let (_, spec) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::http::routes::configure)
        .split_for_parts();
    let mut doc = serde_json::to_value(&spec).unwrap_or(Value::Null);
    refine(&mut doc);
    doc
}

/// Every `$ref` to a schema in `v`, by schema name.
fn schema_refs(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k == "$ref"
                    && let Some(name) = child
                        .as_str()
                        .and_then(|r| r.strip_prefix("#/components/schemas/"))
                {
                    out.insert(name.to_owned());
                }
                schema_refs(child, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|c| schema_refs(c, out)),
        _ => {}
    }
}

/// One document cut from the collected whole: its paths, the schemas they reach (following
/// references between schemas), its info, tags, security schemes and server.
fn document(all: &Value, which: Document, server_url: &str) -> Option<utoipa::openapi::OpenApi> {
    let paths: serde_json::Map<String, Value> = all["paths"]
        .as_object()?
        .iter()
        .filter(|(path, _)| path.starts_with(which.prefix()))
        .map(|(p, item)| (p.clone(), item.clone()))
        .collect();
    let schemas = all["components"]["schemas"].as_object()?;
    let mut used = BTreeSet::new();
    schema_refs(&Value::Object(paths.clone()), &mut used);
    let mut pending: Vec<String> = used.iter().cloned().collect();
    while let Some(name) = pending.pop() {
        let mut more = BTreeSet::new();
        if let Some(schema) = schemas.get(&name) {
            schema_refs(schema, &mut more);
        }
        for m in more {
            if used.insert(m.clone()) {
                pending.push(m);
            }
        }
    }
    let kept: BTreeMap<&String, &Value> =
        schemas.iter().filter(|(n, _)| used.contains(*n)).collect();
    let doc = json!({
        "openapi": all["openapi"],
        "info": which.info(),
        "servers": [{"url": server_url, "description": "This PartLogic server"}],
        "paths": paths,
        "components": {"schemas": kept, "securitySchemes": which.security_schemes()},
        "tags": which.tags(),
    });
    let mut spec: utoipa::openapi::OpenApi = serde_json::from_value(doc).ok()?;
    spec.paths
        .paths
        .sort_by(|a, _, b, _| Document::rank(a).cmp(&Document::rank(b)).then(a.cmp(b)));
    Some(spec)
}

/// Both documents as served, with `server_url` as their server (collected once).
pub fn specs(server_url: &str) -> Vec<(Document, utoipa::openapi::OpenApi)> {
    let all = collected();
    Document::ALL
        .into_iter()
        .filter_map(|d| document(&all, d, server_url).map(|spec| (d, spec)))
        .collect()
}

/// One document, with `server_url` as its server.
pub fn spec(which: Document, server_url: &str) -> Option<utoipa::openapi::OpenApi> {
    document(&collected(), which, server_url)
}

/// The document as committed (with [`PLACEHOLDER_URL`] as its server; pretty, with a final
/// newline).
pub fn spec_json(which: Document) -> String {
    let mut s = spec(which, PLACEHOLDER_URL)
        .and_then(|s| s.to_pretty_json().ok())
        .unwrap_or_default();
    s.push('\n');
    s
}

/// Every path of both documents with its methods, for the 405/404 fallback.
pub(crate) fn operations() -> Vec<(String, Vec<actix_web::http::Method>)> {
    use actix_web::http::Method;
    let all = collected();
    let Some(paths) = all["paths"].as_object() else {
        return Vec::new();
    };
    let order = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
    ];
    paths
        .iter()
        .map(|(path, item)| {
            let methods = order
                .iter()
                .filter(|m| item.get(m.as_str().to_ascii_lowercase()).is_some())
                .cloned()
                .collect();
            (path.clone(), methods)
        })
        .collect()
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

    /// Every zone the server accepts matches the documented pattern and length.
    #[test]
    fn every_zone_matches_the_pattern() {
        let re = regex::Regex::new(super::TIME_ZONE_PATTERN).unwrap();
        for zone in chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()) {
            assert!(re.is_match(zone) && zone.len() <= 40, "{zone}");
        }
    }

    /// Each operation lands in exactly one document, and each document reaches only its schemes.
    #[test]
    fn the_documents_split_by_audience() {
        let all = super::collected();
        let total = all["paths"].as_object().unwrap().len();
        let mut seen = 0;
        for which in super::Document::ALL {
            let doc = serde_json::to_value(super::spec(which, "http://x").unwrap()).unwrap();
            let paths = doc["paths"].as_object().unwrap();
            seen += paths.len();
            assert!(paths.keys().all(|p| p.starts_with(which.prefix())));
            // Every referenced schema is present.
            let mut refs = std::collections::BTreeSet::new();
            super::schema_refs(&doc, &mut refs);
            for r in refs {
                assert!(
                    doc["components"]["schemas"].get(&r).is_some(),
                    "{which:?} lacks {r}"
                );
            }
        }
        assert_eq!(seen, total);
    }

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
