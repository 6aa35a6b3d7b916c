//! `GET /api/ping`, the OpenAPI document and the docs UI.

use crate::helpers::{Backend, TestApp, assert_problem};
use crate::on_every_database;

on_every_database!(
    ping_needs_no_key,
    openapi_is_served_and_matches_the_committed_file,
    unknown_api_paths_are_problems
);

async fn ping_needs_no_key(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let res = app.client().get(app.url("/api/ping")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(v["ok"], true);
    let time = v["time"].as_str().unwrap();
    // 2026-01-01T12:00:00.000Z: UTC, milliseconds, Z.
    assert_eq!(time.len(), 24, "{time}");
    assert!(time.ends_with('Z') && time.as_bytes()[19] == b'.', "{time}");
    chrono::DateTime::parse_from_rfc3339(time).unwrap();

    let res = app
        .client()
        .get(app.url("/api/ping?api_key=whatever"))
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "api_key_in_query").await;
}

/// The operation ids of each document, in document order. They are method names in every
/// generated client: changing one breaks their callers, so it takes changing this list too.
const STOCK_OPERATIONS: [&str; 22] = [
    "ping",
    "get_health",
    "list_devices",
    "list_stock",
    "list_stock_alerts",
    "list_orders",
    "create_order",
    "get_order",
    "receive_order",
    "cancel_order",
    "list_webhooks",
    "create_webhook",
    "get_webhook",
    "delete_webhook",
    "update_webhook",
    "list_webhook_deliveries",
    "replay_webhook_delivery",
    "rotate_webhook_secret",
    "test_webhook",
    "get_current_key",
    "retire_current_key",
    "report_leaked_keys",
];
const PORTAL_OPERATIONS: [&str; 24] = [
    "get_connect",
    "list_assignable_devices",
    "list_keys",
    "create_key",
    "get_key",
    "retire_key",
    "update_key",
    "roll_key",
    "get_usage",
    "list_webhooks",
    "create_webhook",
    "delete_webhook",
    "update_webhook",
    "list_webhook_deliveries",
    "replay_webhook_delivery",
    "rotate_webhook_secret",
    "test_webhook",
    "list_orders",
    "get_order",
    "cancel_order",
    "receive_order",
    "get_session",
    "create_session",
    "delete_session",
];

/// `(method, operation)` pairs in document order, read from the text (a parsed
/// `serde_json::Value` sorts the paths).
fn operations(text: &str, doc: &serde_json::Value) -> Vec<(String, serde_json::Value)> {
    let mut by_id = std::collections::BTreeMap::new();
    for (_, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            by_id.insert(
                op["operationId"].as_str().unwrap().to_owned(),
                (method.clone(), op.clone()),
            );
        }
    }
    text.split("\"operationId\":")
        .skip(1)
        .map(|rest| {
            let id = rest.trim_start().trim_start_matches('"');
            let id = &id[..id.find('"').unwrap()];
            by_id[id].clone()
        })
        .collect()
}

async fn openapi_is_served_and_matches_the_committed_file(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (path, file, expected) in [
        ("/api/openapi.json", "openapi.json", &STOCK_OPERATIONS[..]),
        (
            "/portal/api/openapi.json",
            "portal.json",
            &PORTAL_OPERATIONS[..],
        ),
    ] {
        let res = app.client().get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let text = res.text().await.unwrap();
        let mut served: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut committed: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(format!(
                "{}/../../openapi/{file}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap(),
        )
        .unwrap();
        // The served document names this server; the committed one a documented placeholder.
        let url = served["servers"][0]["url"].as_str().unwrap().to_owned();
        assert!(app.url("/").starts_with(&url), "{url} is not this server");
        assert_eq!(
            committed["servers"][0]["url"],
            partlogic_server::http::openapi::PLACEHOLDER_URL
        );
        served["servers"] = serde_json::Value::Null;
        committed["servers"] = serde_json::Value::Null;
        assert_eq!(
            served, committed,
            "the served {path} differs from openapi/{file}"
        );

        let declared: Vec<&str> = served["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        let ops = operations(&text, &served);
        let ids: Vec<&str> = ops
            .iter()
            .map(|(_, op)| op["operationId"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids, expected,
            "{path}: operation ids or their order changed"
        );
        let mut all_ids = std::collections::BTreeSet::new();
        let mut key_changing_seen = false;
        for (method, op) in &ops {
            let id = op["operationId"].as_str().unwrap();
            assert!(all_ids.insert(id.to_owned()), "{id} is used twice");
            let summary = op["summary"].as_str().unwrap_or_default();
            assert!(
                !summary.is_empty() && summary.len() <= 60 && !summary.contains('\n'),
                "{id}: the summary must be one short line: {summary:?}"
            );
            assert!(op["description"].is_string(), "{id} has no description");
            assert!(op["security"].is_array(), "{id} has no security");
            for tag in op["tags"].as_array().unwrap() {
                assert!(
                    declared.contains(&tag.as_str().unwrap()),
                    "{id}: {tag} undeclared"
                );
            }
            // Tools that run every request in order reach the key-changing ones last.
            let changes_key = op["tags"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t == "key-retirement" || t == "secret-scanning");
            assert!(
                changes_key || !key_changing_seen,
                "{method} {id} comes after an operation that changes the key"
            );
            key_changing_seen |= changes_key;
            for p in op["parameters"].as_array().into_iter().flatten() {
                assert!(
                    p.get("example").is_some(),
                    "{id}: {} has no example",
                    p["name"]
                );
            }
        }
    }
    let stock: serde_json::Value = app
        .client()
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        stock["components"]["securitySchemes"]["api_key"]["name"],
        "X-API-Key"
    );
    assert!(
        stock["components"]["securitySchemes"]
            .get("session_cookie")
            .is_none()
    );
    assert!(
        stock["paths"]
            .as_object()
            .unwrap()
            .keys()
            .all(|p| p.starts_with("/api/"))
    );
    // A JSON client gets JSON types: JSON is the first media type of the CSV-capable answers.
    for path in ["/api/stock", "/api/stock/alerts"] {
        let content = stock["paths"][path]["get"]["responses"]["200"]["content"]
            .as_object()
            .unwrap();
        assert_eq!(
            content.keys().next().map(String::as_str),
            Some("application/json"),
            "{path}"
        );
        assert!(content.contains_key("text/csv"), "{path}");
    }

    let docs = app
        .client()
        .get(app.url("/api/docs/"))
        .send()
        .await
        .unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger"));
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let bare = no_redirect.get(app.url("/api/docs")).send().await.unwrap();
    assert_eq!(bare.status(), 308);
    assert_eq!(bare.headers()["location"], "/api/docs/");
    // The UI's own assets are served locally (works offline), and it offers both documents.
    let init = app
        .client()
        .get(app.url("/api/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(init.status(), 200);
    let init = init.text().await.unwrap();
    assert!(init.contains("/api/openapi.json"), "{init}");
    assert!(init.contains("/portal/api/openapi.json"), "{init}");
}

async fn unknown_api_paths_are_problems(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let res = app.client().get(app.url("/api/nope")).send().await.unwrap();
    assert_problem(res, 404, "not_found").await;
    let res = app
        .client()
        .get(app.url("/portal/api/nope"))
        .send()
        .await
        .unwrap();
    assert_problem(res, 404, "not_found").await;
}

/// The committed documents are exactly what the code generates. To update them after changing
/// the API: `UPDATE_OPENAPI=1 cargo test -p partlogic-server --test api committed_openapi`, or
/// `partlogic openapi > openapi/openapi.json` and `partlogic openapi --portal > openapi/portal.json`.
#[test]
fn committed_openapi_has_not_drifted() {
    use partlogic_server::http::openapi::{Document, spec_json};
    for doc in Document::ALL {
        let path = format!("{}/../../{}", env!("CARGO_MANIFEST_DIR"), doc.committed());
        let generated = spec_json(doc);
        if std::env::var("UPDATE_OPENAPI").is_ok() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{} is out of date; regenerate it with UPDATE_OPENAPI=1 cargo test (see this test's doc)",
            doc.committed()
        );
    }
}
