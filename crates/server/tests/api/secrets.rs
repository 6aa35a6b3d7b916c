//! Secrets never reach the log: not keys (in headers or, refused, in URLs), not passwords, not
//! session tokens.

use serde_json::json;

use crate::helpers::{Backend, PASSWORD, TestApp, logs};
use crate::on_every_database;

on_every_database!(no_secret_appears_in_the_server_log);

async fn no_secret_appears_in_the_server_log(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let res = app
        .client()
        .post(app.url("/portal/api/session"))
        .json(&json!({"email": w.member.email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    let token = cookie["pl_session=".len()..cookie.find(';').unwrap()].to_owned();
    let member = app.login(&w.member.email).await;
    let (id, key) = app
        .create_key(&member, json!({"name": "k", "device_ids": [w.n1]}))
        .await;
    app.api_get("/api/stock", &key).await;
    app.api_get("/api/stock?limit=1", &key).await;
    app.api_get(&format!("/api/stock?api_key={key}"), &key)
        .await;
    app.api_get(&format!("/api/devices?X-API-Key={key}"), "")
        .await;
    app.api_get("/api/stock", &format!("{key}x")).await;
    app.api_get(&format!("/api/stock/{key}"), "").await;
    app.api_get(&format!("/api/{key}"), &key).await;
    member
        .delete(app.url(&format!("/portal/api/keys/{id}")))
        .send()
        .await
        .unwrap();
    app.api_get("/api/stock", &key).await;
    // A failed login with the password in the wrong field.
    app.client()
        .post(app.url("/portal/api/session"))
        .json(&json!({"email": PASSWORD, "password": "nope nope"}))
        .send()
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let log = logs();
    assert!(
        log.contains("path=\"/api/stock\""),
        "the access log is being captured:\n{log}"
    );
    assert!(
        log.contains("status=400"),
        "the refused request was logged, without its query"
    );
    assert!(!log.contains(&key[3..]), "an API key reached the log");
    assert!(
        !log.contains(&key[7..20]),
        "part of an API key reached the log"
    );
    assert!(!log.contains(PASSWORD), "a password reached the log");
    assert!(!log.contains(&token), "a session token reached the log");
    assert!(!log.contains("api_key="), "a query string reached the log");
}
