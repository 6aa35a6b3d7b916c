//! How `/api` refuses: every 401 code, keys in URLs, and credentials crossing between the APIs.

use serde_json::json;

use crate::helpers::{Backend, TestApp, assert_problem};
use crate::on_every_database;

on_every_database!(
    each_refusal_has_its_code,
    a_key_in_the_query_string_is_refused_even_with_a_valid_header,
    session_cookie_never_opens_the_api_and_a_key_never_opens_the_portal,
);

async fn each_refusal_has_its_code(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let admin = app.login(&w.admin.email).await;
    let (_, key) = app
        .create_key(&admin, json!({"name": "k", "device_ids": [w.n1]}))
        .await;

    let res = app
        .client()
        .get(app.url("/api/stock"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["www-authenticate"],
        "ApiKey header=\"X-API-Key\""
    );
    assert_problem(res, 401, "missing_api_key").await;
    assert_problem(app.api_get("/api/stock", "").await, 401, "missing_api_key").await;

    for bad in [
        "hello".to_owned(),
        key.replacen("pl_", "pk_", 1),   // wrong prefix
        key[..key.len() - 1].to_owned(), // wrong length
        format!("{key}x"),               // wrong length
        {
            // one character changed: the checksum no longer matches
            let mut b = key.clone().into_bytes();
            b[5] = if b[5] == b'a' { b'b' } else { b'a' };
            String::from_utf8(b).unwrap()
        },
        key.replacen(&key[10..11], "-", 1), // a character outside the alphabet
    ] {
        let v = assert_problem(
            app.api_get("/api/stock", &bad).await,
            401,
            "malformed_api_key",
        )
        .await;
        assert!(
            !v.to_string().contains(&key[3..20]),
            "the problem must not echo the key"
        );
    }

    // Well-formed but unknown: build a key that passes the checksum yet was never issued.
    let stranger = partlogic_server::keys::generate().unwrap();
    assert_problem(
        app.api_get("/api/stock", stranger.expose()).await,
        401,
        "invalid_api_key",
    )
    .await;

    // Whitespace around a pasted key is forgiven.
    let res = app.api_get("/api/stock", &format!("  {key} ")).await;
    assert_eq!(res.status(), 200);
}

async fn a_key_in_the_query_string_is_refused_even_with_a_valid_header(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let admin = app.login(&w.admin.email).await;
    let (_, key) = app
        .create_key(&admin, json!({"name": "k", "device_ids": [w.n1]}))
        .await;
    for q in [
        format!("X-API-Key={key}"),
        format!("api_key={key}"),
        format!("apiKey={key}"),
        format!("token={key}"),
        format!("anything={key}"),
        "key=abc".to_owned(),
        key.clone(), // the key as a bare parameter name
        format!("{key}=1"),
    ] {
        for path in ["/api/stock", "/api/devices", "/api/ping"] {
            let res = app.api_get(&format!("{path}?{q}"), &key).await;
            let v = assert_problem(res, 400, "api_key_in_query").await;
            assert!(
                !v.to_string().contains(&key),
                "the problem must not echo the key"
            );
        }
    }
}

async fn session_cookie_never_opens_the_api_and_a_key_never_opens_the_portal(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let admin = app.login(&w.admin.email).await;
    let (_, key) = app
        .create_key(&admin, json!({"name": "k", "device_ids": [w.n1]}))
        .await;

    // The logged-in client carries its session cookie, but /api wants a key.
    let res = admin.get(app.url("/api/stock")).send().await.unwrap();
    assert_problem(res, 401, "missing_api_key").await;

    // A key on the portal API is ignored: no session, no entry.
    let res = app
        .client()
        .get(app.url("/portal/api/keys"))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap();
    assert_problem(res, 401, "not_logged_in").await;
    let res = app
        .client()
        .get(app.url("/portal/api/keys"))
        .header("Cookie", format!("pl_session={key}"))
        .send()
        .await
        .unwrap();
    assert_problem(res, 401, "not_logged_in").await;
}
