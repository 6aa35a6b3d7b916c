//! Per-key rate limits across instances: three servers on one PostgreSQL, traffic spread over
//! them at three times a key's limit, accept the limit and at most 10 % more, and tell the
//! truth in their `RateLimit` fields. (SQLite runs one instance and counts exactly in memory:
//! see `lifecycle.rs`.)

use std::time::Duration;

use partlogic_server::{Application, Settings};
use serde_json::json;

use crate::helpers::{Backend, TestApp, World, postgres_url};

/// A further server on `app`'s database and clock; its base URL.
async fn another_instance(app: &TestApp) -> String {
    let mut settings = Settings::new(app.database_url());
    settings.bind = "127.0.0.1:0".to_owned();
    settings.workers = 1;
    settings.db_max_connections = 4;
    let b = Application::build(settings, app.clock.clone())
        .await
        .expect("another instance");
    let url = format!("http://127.0.0.1:{}", b.port());
    tokio::spawn(b.run_until_stopped());
    url
}

fn remaining(res: &reqwest::Response) -> u32 {
    let field = res.headers()["ratelimit"].to_str().unwrap();
    let r = field
        .split(";r=")
        .nth(1)
        .unwrap()
        .split(';')
        .next()
        .unwrap();
    r.parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_hold_a_key_to_its_limit() {
    if postgres_url().is_none() {
        eprintln!("skipped: set TEST_DATABASE_URL to run on PostgreSQL");
        return;
    }
    let app = TestApp::spawn_at(
        Backend::Postgres,
        chrono::DateTime::parse_from_rfc3339("2026-12-05T10:00:05Z")
            .unwrap()
            .with_timezone(&chrono::Utc),
    )
    .await;
    let w = World::build(&app).await;
    let admin = app.login(&w.admin.email).await;
    const LIMIT: u32 = 100;
    let (_, key) = app
        .create_key(
            &admin,
            json!({"name": "shared", "device_ids": [w.n1], "rate_limit_per_minute": LIMIT}),
        )
        .await;
    let instances = [
        app.address.clone(),
        another_instance(&app).await,
        another_instance(&app).await,
    ];
    let client = reqwest::Client::new();
    let get = |i: usize| {
        client
            .get(format!("{}/api/devices", instances[i % 3]))
            .header("X-API-Key", &key)
            .send()
    };

    // The fields tell the truth across instances: 30 requests on A, then B and C know.
    for _ in 0..30 {
        assert_eq!(get(0).await.unwrap().status(), 200);
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    let res = get(1).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(remaining(&res), LIMIT - 31);
    let res = get(2).await.unwrap();
    assert_eq!(remaining(&res), LIMIT - 32);

    // Three times the limit, spread over the three instances at about 50 requests a second,
    // four clients at a time, all in one window (the clock stands still).
    let mut accepted = 32u32;
    let mut refused = 0u32;
    let mut sent = 32u32;
    while sent < 3 * LIMIT {
        let batch: Vec<_> = (0..4).map(|i| get(sent as usize + i)).collect();
        for res in futures_util::future::join_all(batch).await {
            match res.unwrap().status().as_u16() {
                200 => accepted += 1,
                429 => refused += 1,
                other => panic!("unexpected {other}"),
            }
        }
        sent += 4;
        tokio::time::sleep(Duration::from_millis(80)).await;
    }
    eprintln!(
        "{sent} sent over 3 instances, {accepted} accepted, {refused} refused (limit {LIMIT})"
    );
    assert!(accepted >= LIMIT, "the whole limit is usable: {accepted}");
    assert!(
        accepted <= LIMIT + LIMIT / 10,
        "at most the limit + 10 % across instances: {accepted}"
    );
    // Once full, every instance refuses from memory, each saying nothing is left.
    for i in 0..3 {
        let res = get(i).await.unwrap();
        assert_eq!(res.status(), 429);
        assert_eq!(remaining(&res), 0);
    }
    // The database holds the same count every instance acted on.
    let used: i64 = {
        use sea_orm::{ConnectionTrait, Statement};
        tokio::time::sleep(Duration::from_millis(600)).await;
        let row = app
            .db
            .query_one_raw(Statement::from_string(
                sea_orm::DbBackend::Postgres,
                "SELECT SUM(used)::bigint AS used FROM rate_windows",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get("", "used").unwrap()
    };
    assert_eq!(used, i64::from(accepted));
}
