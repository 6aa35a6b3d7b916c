//! Serving the built SPA: client routes get index.html (never cached), hashed assets are cached
//! for good, and the JSON APIs keep their own 404s.

use partlogic_server::Clock;
use partlogic_server::http::spa::EmbeddedFile;

use crate::helpers::{Backend, TestApp, assert_problem};
use crate::on_every_database;

on_every_database!(
    spa_routes_assets_and_caching,
    the_embedded_portal_needs_no_directory,
);

/// A portal as `build.rs` compiles one in (sorted by path, gzip twins for the big files).
static EMBEDDED: &[EmbeddedFile] = &[
    EmbeddedFile {
        path: "app-0123456789abcdef.js",
        body: b"console.log('portal')",
        gzip: Some(GZIPPED),
        etag: "\"js1\"",
    },
    EmbeddedFile {
        path: "index.html",
        body:
            b"<!DOCTYPE html><title>Embedded portal</title><script type=\"module\">init()</script>",
        gzip: None,
        etag: "\"index1\"",
    },
    EmbeddedFile {
        path: "robots.txt",
        body: b"User-agent: *",
        gzip: None,
        etag: "\"robots1\"",
    },
];
/// `printf "console.log('portal')" | gzip -9 -n`
static GZIPPED: &[u8] = &[
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x4b, 0xce, 0xcf, 0x2b, 0xce, 0xcf,
    0x49, 0xd5, 0xcb, 0xc9, 0x4f, 0xd7, 0x50, 0x2f, 0xc8, 0x2f, 0x2a, 0x49, 0xcc, 0x51, 0xd7, 0x04,
    0x00, 0x02, 0xf6, 0xb9, 0x46, 0x15, 0x00, 0x00, 0x00,
];

/// With no directory given, the portal comes from the binary: pages, assets (gzipped for
/// browsers that take it), revalidation by ETag, the CSP naming the inline loader, 404s for
/// missing assets; a directory given still wins.
async fn the_embedded_portal_needs_no_directory(backend: Backend) {
    let app = TestApp::spawn_custom(backend, Clock::system(), |s| {
        s.static_dir = None;
        s.embedded_spa = EMBEDDED;
    })
    .await;
    let get = |path: &'static str, headers: &'static [(&'static str, &'static str)]| {
        let mut req = app.client().get(app.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        async move { req.send().await.unwrap() }
    };
    for route in ["/", "/index.html", "/integrations/keys/12", "/help/zapier"] {
        let res = get(route, &[]).await;
        assert_eq!(res.status(), 200, "{route}");
        assert_eq!(res.headers()["cache-control"], "no-cache");
        assert_eq!(res.headers()["etag"], "\"index1\"");
        assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8");
        // echo -n 'init()' | openssl dgst -sha256 -binary | base64
        assert!(
            res.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("'sha256-w4ujnOpjBoH2vcasx+reJRUwYivG8Q3afx/XevGJod8='")
        );
        assert!(res.text().await.unwrap().contains("Embedded portal"));
    }
    // Assets: gzipped for a browser, plain for a client that does not take gzip.
    let res = get(
        "/app-0123456789abcdef.js",
        &[("Accept-Encoding", "gzip, br")],
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-encoding"], "gzip");
    assert_eq!(res.headers()["vary"], "Accept-Encoding");
    assert_eq!(
        res.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(
        res.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    let raw = res.bytes().await.unwrap();
    assert_eq!(&raw[..], GZIPPED);
    let plain = get(
        "/app-0123456789abcdef.js",
        &[("Accept-Encoding", "identity")],
    )
    .await;
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(plain.text().await.unwrap(), "console.log('portal')");
    // Revalidation.
    let res = get("/app-0123456789abcdef.js", &[("If-None-Match", "\"js1\"")]).await;
    assert_eq!(res.status(), 304);
    assert_eq!(res.headers()["etag"], "\"js1\"");
    assert_eq!(
        get("/", &[("If-None-Match", "W/\"index1\"")])
            .await
            .status(),
        304
    );
    assert_eq!(
        get("/robots.txt", &[]).await.headers()["cache-control"],
        "no-cache"
    );
    assert_eq!(get("/missing-0123456789abcdef.js", &[]).await.status(), 404);
    assert_problem(get("/api/nope", &[]).await, 404, "not_found").await;
    let res = app
        .client()
        .head(app.url("/integrations"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // A directory given wins over the binary's own portal.
    let dir = std::env::temp_dir().join(format!("partlogic-spa-over-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), "<title>From a directory</title>").unwrap();
    let over = dir.clone();
    let app = TestApp::spawn_custom(backend, Clock::system(), move |s| {
        s.static_dir = Some(over);
        s.embedded_spa = EMBEDDED;
    })
    .await;
    let res = app.client().get(app.url("/")).send().await.unwrap();
    assert!(res.text().await.unwrap().contains("From a directory"));
    let _ = std::fs::remove_dir_all(dir);

    // Neither: a page says the portal is not built.
    let app = TestApp::spawn_custom(backend, Clock::system(), |s| {
        s.static_dir = None;
        s.embedded_spa = &[];
    })
    .await;
    let res = app.client().get(app.url("/")).send().await.unwrap();
    let v = assert_problem(res, 404, "not_found").await;
    assert!(v["detail"].as_str().unwrap().contains("not built"), "{v}");
}

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
