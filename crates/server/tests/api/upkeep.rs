//! PostgreSQL statistics: the server analyses its tables when autovacuum does not, so that
//! statements planned on an empty table do not go on reading whole tables as they grow.

use partlogic_server::Clock;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::json;

use crate::helpers::{Backend, TestApp, World, postgres_url};

/// Whether `table` has been analysed by hand (autovacuum's analyses are counted apart).
async fn analysed(app: &TestApp, table: &str) -> bool {
    app.db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = $1",
            [table.into()],
        ))
        .await
        .unwrap()
        .map(|r| r.try_get_by_index::<bool>(0).unwrap())
        .unwrap()
}

/// `orders` with autovacuum turned off for it: after 60 orders through the API (more than
/// autovacuum's threshold for a table that small), the server has analysed it by itself; a
/// server told never to does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_autovacuum_leaves_alone_is_analysed_by_the_server() {
    if postgres_url().is_none() {
        eprintln!("skipped: set TEST_DATABASE_URL to run on PostgreSQL");
        return;
    }
    for every in [None, Some(std::time::Duration::from_millis(100))] {
        let app = TestApp::spawn_custom(Backend::Postgres, Clock::system(), |s| {
            s.db_analyze_every = every;
        })
        .await;
        let w = World::build(&app).await;
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
        assert!(!analysed(&app, "orders").await, "never analysed before");
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
        // PostgreSQL's counters reach pg_stat_user_tables some seconds after the commits:
        // the server that analyses is given 30 s, the one that does not is watched for 10.
        let wait = if every.is_some() { 30 } else { 10 };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(wait);
        while !analysed(&app, "orders").await && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        assert_eq!(
            analysed(&app, "orders").await,
            every.is_some(),
            "analysed every {every:?}"
        );
    }
}
