//! PostgreSQL upkeep: the server analyses (and vacuums) its tables when autovacuum does not, so
//! that statements planned on an empty table do not go on reading whole tables as they grow.

use partlogic_server::http::config::Settings;
use partlogic_server::http::startup::Application;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::json;

use crate::helpers::{Backend, TestApp, postgres_url};

/// `orders` with autovacuum turned off for it: after 60 orders through the API (more than
/// autovacuum's analyse threshold for a table that small), the server has analysed it by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_autovacuum_leaves_alone_is_analysed_by_the_server() {
    if postgres_url().is_none() {
        eprintln!("skipped: set TEST_DATABASE_URL to run on PostgreSQL");
        return;
    }
    let (app, w) = TestApp::with_world(Backend::Postgres).await;
    let admin = app.login(&w.admin.email).await;
    let (_, key) = app
        .create_key(
            &admin,
            json!({"name": "orders", "device_ids": [w.n1], "permissions": {"orders": "write"}}),
        )
        .await;
    app.db
        .execute_unprepared("ALTER TABLE orders SET (autovacuum_enabled = false)")
        .await
        .unwrap();
    let last_analyze = || async {
        app.db
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT last_analyze IS NOT NULL \
                 FROM pg_stat_user_tables WHERE relname = 'orders'",
            ))
            .await
            .unwrap()
            .map(|r| r.try_get_by_index::<bool>(0).unwrap())
            .unwrap()
    };
    assert!(!last_analyze().await, "never analysed before");
    // A second instance that looks every 100 ms (the test server looks every 10 s).
    let mut settings = Settings::new(app.database_url());
    settings.bind = "127.0.0.1:0".to_owned();
    settings.workers = 1;
    settings.db_upkeep_every = std::time::Duration::from_millis(100);
    let other = Application::build(settings, app.clock.clone())
        .await
        .unwrap();
    tokio::spawn(other.run_until_stopped());
    for i in 0..60 {
        let res = app
            .client()
            .post(app.url("/api/orders"))
            .header("X-API-Key", &key)
            .header("Idempotency-Key", format!("upkeep-{i}"))
            .json(&json!({"device_id": w.n1, "lines": [{"sku": "N1-SKU0", "quantity": 1}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
    // PostgreSQL's counters reach pg_stat_user_tables up to some seconds after the commits.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !last_analyze().await {
        assert!(
            std::time::Instant::now() < deadline,
            "orders was not analysed within a minute"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
