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

async fn openapi_is_served_and_matches_the_committed_file(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let served: serde_json::Value = app
        .client()
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let committed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../openapi/openapi.json"
        ))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        served, committed,
        "the served spec differs from openapi/openapi.json"
    );
    for op in [
        "ping",
        "list_stock",
        "list_api_devices",
        "create_key",
        "retire_key",
        "create_session",
    ] {
        assert!(
            served
                .to_string()
                .contains(&format!("\"operationId\":\"{op}\"")),
            "{op} missing"
        );
    }
    assert_eq!(
        served["components"]["securitySchemes"]["api_key"]["name"],
        "X-API-Key"
    );

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
    // The UI's own assets are served locally (works offline).
    let init = app
        .client()
        .get(app.url("/api/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(init.status(), 200);
    assert!(init.text().await.unwrap().contains("/api/openapi.json"));
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

/// The committed spec is exactly what the code generates. To update it after changing the API:
/// `cargo run -p partlogic-server -- openapi > openapi/openapi.json`.
#[test]
fn committed_openapi_has_not_drifted() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi/openapi.json");
    let generated = partlogic_server::http::openapi::spec_json();
    if std::env::var("UPDATE_OPENAPI").is_ok() {
        std::fs::write(path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is out of date; regenerate it with \
         `cargo run -p partlogic-server -- openapi > openapi/openapi.json` (or UPDATE_OPENAPI=1 cargo test)"
    );
}
