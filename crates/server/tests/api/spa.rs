//! Serving the built SPA: client routes get index.html (never cached), hashed assets are cached
//! for good, and the JSON APIs keep their own 404s.

use partlogic_server::Clock;

use crate::helpers::{Backend, TestApp, assert_problem};
use crate::on_every_database;

on_every_database!(spa_routes_assets_and_caching);

async fn spa_routes_assets_and_caching(backend: Backend) {
    let dir = std::env::temp_dir().join(format!("partlogic-spa-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("index.html"),
        "<!DOCTYPE html><title>PartLogic portal</title>",
    )
    .unwrap();
    std::fs::write(dir.join("app-0123456789abcdef_bg.wasm"), b"\0asm").unwrap();
    std::fs::write(dir.join("robots.txt"), "User-agent: *").unwrap();
    let static_dir = dir.clone();
    let app = TestApp::spawn_custom(backend, Clock::system(), move |s| {
        s.static_dir = Some(static_dir)
    })
    .await;
    let get = |path: &'static str| {
        let client = app.client();
        let url = app.url(path);
        async move { client.get(url).send().await.unwrap() }
    };

    for route in [
        "/",
        "/integrations",
        "/integrations/keys/12",
        "/login?next=%2Fintegrations",
    ] {
        let res = app.client().get(app.url(route)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{route}");
        assert_eq!(res.headers()["cache-control"], "no-cache");
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        assert_eq!(res.headers()["x-frame-options"], "DENY");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(res.text().await.unwrap().contains("PartLogic portal"));
    }
    let res = get("/app-0123456789abcdef_bg.wasm").await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(res.headers()["content-type"], "application/wasm");
    assert_eq!(
        get("/robots.txt").await.headers()["cache-control"],
        "no-cache"
    );
    assert_eq!(get("/missing-0123456789abcdef.js").await.status(), 404);
    assert_eq!(
        get("/../Cargo.toml").await.status(),
        404,
        "never a file outside the directory"
    );
    assert!(
        !get("/%2e%2e/Cargo.toml")
            .await
            .text()
            .await
            .unwrap()
            .contains("[package]")
    );
    // The APIs keep their JSON 404s.
    assert_problem(get("/api/nope").await, 404, "not_found").await;
    assert_problem(get("/portal/api/nope").await, 404, "not_found").await;
    // App paths take GET and HEAD only, and say so.
    let res = app
        .client()
        .post(app.url("/integrations"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["allow"], "GET, HEAD");
    assert_problem(res, 405, "method_not_allowed").await;
    let _ = std::fs::remove_dir_all(dir);
}

on_every_database!(behind_a_trusted_proxy_the_proxy_s_own_entry_is_the_client);

async fn behind_a_trusted_proxy_the_proxy_s_own_entry_is_the_client(backend: Backend) {
    let app = TestApp::spawn_custom(backend, Clock::system(), |s| s.trust_proxy = true).await;
    let w = crate::helpers::World::build(&app).await;
    let admin = app.login(&w.admin.email).await;
    // The client wrote 6.6.6.6 itself; the proxy appended what it saw, 203.0.113.9.
    let res = admin
        .post(app.url("/portal/api/keys"))
        .header("X-Forwarded-For", "6.6.6.6, 203.0.113.9")
        .json(&serde_json::json!({"name": "k", "device_ids": [w.n1]}))
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(v["key"]["events"][0]["ip"], "203.0.113.9");
    let res = admin
        .post(app.url("/portal/api/keys"))
        .header("X-Forwarded-For", "not-an-ip")
        .json(&serde_json::json!({"name": "k2", "device_ids": [w.n1]}))
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        v["key"]["events"][0]["ip"], "127.0.0.1",
        "garbage falls back to the socket peer"
    );
}
