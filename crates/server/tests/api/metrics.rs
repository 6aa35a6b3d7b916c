//! `GET /metrics`: on its own address only, in the Prometheus text format, labelled with route
//! templates and never with a key or any other secret; unknown keys never fill the key cache.

use serde_json::json;

use crate::helpers::{Backend, TestApp};
use crate::on_every_database;
use partlogic_server::Clock;

on_every_database!(
    metrics_count_requests_without_secrets,
    metrics_are_off_by_default
);

/// The value of the sample `line_start` (a name with its labels), if present.
fn sample(text: &str, line_start: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(line_start)?.strip_prefix(' ')?.parse().ok())
}

async fn metrics_count_requests_without_secrets(backend: Backend) {
    let app = TestApp::spawn_custom(backend, Clock::system(), |s| {
        s.metrics_bind = Some("127.0.0.1:0".to_owned());
    })
    .await;
    let w = crate::helpers::World::build(&app).await;
    let admin = app.login(&w.admin.email).await;
    let (id, key) = app
        .create_key(&admin, json!({"name": "Metrics", "device_ids": [w.n1]}))
        .await;
    for _ in 0..3 {
        assert_eq!(app.api_get("/api/stock?limit=1", &key).await.status(), 200);
    }
    assert_eq!(
        admin
            .get(app.url(&format!("/portal/api/keys/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // A thousand well-formed keys nobody issued: refused, read from the database every time,
    // never remembered.
    for _ in 0..1000 {
        let unknown = partlogic_server::keys::generate().unwrap();
        let unknown = unknown.expose();
        assert_eq!(app.api_get("/api/devices", unknown).await.status(), 401);
    }
    // A path with a key in it is refused before routing: counted as unmatched, key unseen.
    let res = app
        .client()
        .get(app.url(&format!("/api/stock/{key}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);

    // The real key once more: making keys invalidates the cache (within the second), so this
    // is what puts it back.
    assert_eq!(app.api_get("/api/stock?limit=1", &key).await.status(), 200);

    let base = app.metrics_address.clone().expect("metrics served");
    // Under load an instance may miss a cache heartbeat and bypass the cache for a moment
    // (fail closed), so hits are not promised for any one request: ask with the key (on
    // another route, so the counts checked below stay exact) until the cache has served it
    // and holds it.
    let started = std::time::Instant::now();
    loop {
        let text = reqwest::get(format!("{base}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if sample(&text, "partlogic_key_cache_hits_total").unwrap_or(0.0) >= 2.0
            && sample(&text, "partlogic_key_cache_entries") == Some(1.0)
            && sample(&text, "partlogic_key_cache_listening") == Some(1.0)
        {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the key cache never served the key: {text}"
        );
        assert_eq!(app.api_get("/api/key", &key).await.status(), 200);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let res = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = res.text().await.unwrap();

    // Every line is a comment or `name{labels} value`.
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').unwrap();
        assert!(value.parse::<f64>().is_ok(), "{line}");
        assert!(series.starts_with("partlogic_"), "{line}");
    }
    let stock = "partlogic_http_requests_total{route=\"/api/stock\",method=\"GET\",status=\"200\"}";
    assert_eq!(sample(&text, stock), Some(4.0), "{text}");
    // Templates, not paths as sent.
    assert!(
        text.contains("route=\"/portal/api/keys/{id}\",method=\"GET\",status=\"200\""),
        "{text}"
    );
    assert!(!text.contains(&format!("/portal/api/keys/{id}\"")));
    assert_eq!(
        sample(
            &text,
            "partlogic_http_requests_total{route=\"/api/devices\",method=\"GET\",status=\"401\"}"
        ),
        Some(1000.0)
    );
    assert!(text.contains("route=\"unmatched\",method=\"GET\",status=\"400\""));
    // A histogram per series, its +Inf bucket equal to its count.
    let labels = "route=\"/api/stock\",method=\"GET\",status=\"200\"";
    assert_eq!(
        sample(
            &text,
            &format!("partlogic_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}}")
        ),
        Some(4.0)
    );
    assert_eq!(
        sample(
            &text,
            &format!("partlogic_http_request_duration_seconds_count{{{labels}}}")
        ),
        Some(4.0)
    );
    // The cache: the one real key, none of the thousand unknown ones.
    assert_eq!(sample(&text, "partlogic_key_cache_entries"), Some(1.0));
    assert!(sample(&text, "partlogic_key_cache_misses_total").unwrap() >= 1000.0);
    assert!(sample(&text, "partlogic_key_cache_hits_total").unwrap() >= 2.0);
    assert_eq!(sample(&text, "partlogic_key_cache_listening"), Some(1.0));
    assert!(sample(&text, "partlogic_db_pool_max_connections").unwrap() >= 1.0);
    assert!(sample(&text, "partlogic_db_pool_connections{state=\"idle\"}").is_some());
    assert_eq!(sample(&text, "partlogic_db_pool_waiting"), Some(0.0));
    assert_eq!(sample(&text, "partlogic_export_streams_open"), Some(0.0));
    // No secret in any form: not the key, its prefix or digest, the owner's email.
    let digest: String = {
        use sha2::Digest;
        sha2::Sha256::digest(key.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    for secret in [key.as_str(), &key[..10], &digest, "pl_", &w.admin.email] {
        assert!(!text.contains(secret), "metrics show {secret}");
    }
    // Not on the public address (where `/metrics` is just a path the portal does not have).
    let public = app.client().get(app.url("/metrics")).send().await.unwrap();
    assert!(!public.text().await.unwrap().contains("partlogic_"));
}

async fn metrics_are_off_by_default(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert!(app.metrics_address.is_none());
    let res = app.client().get(app.url("/metrics")).send().await.unwrap();
    assert!(!res.text().await.unwrap().contains("partlogic_"));
}
