//! The key cache keeps its promise: a change is seen on the very next request on the instance
//! that made it, within a second on every other instance, and never stale while changes cannot
//! be heard.

use std::time::{Duration, Instant};

use partlogic_server::{Application, Clock, Settings};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, postgres_url};
use crate::on_every_database;

on_every_database!(
    the_instance_that_changes_a_key_refuses_it_on_the_next_request,
    another_instance_sees_a_retire_within_a_second,
);

async fn the_instance_that_changes_a_key_refuses_it_on_the_next_request(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let admin = app.login(&w.admin.email).await;
    let (id, key) = app
        .create_key(&admin, json!({"name": "k", "device_ids": [w.n1, w.n2]}))
        .await;
    // Warm: the key is now served from memory.
    for _ in 0..3 {
        assert_eq!(app.api_get("/api/devices", &key).await.status(), 200);
    }
    // An edit through the portal: the very next request has the new reach.
    let res = admin
        .patch(app.url(&format!("/portal/api/keys/{id}")))
        .json(&json!({"device_ids": [w.n1]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let devices: Vec<Value> = app
        .api_get("/api/devices", &key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(devices.len(), 1);
    // A retire through the portal: the very next request is refused.
    let res = admin
        .delete(app.url(&format!("/portal/api/keys/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_problem(
        app.api_get("/api/devices", &key).await,
        401,
        "api_key_retired",
    )
    .await;
}

/// A second server on the test's database.
async fn second_instance(app: &TestApp) -> String {
    let mut settings = Settings::new(app.database_url());
    settings.bind = "127.0.0.1:0".to_owned();
    settings.workers = 1;
    let b = Application::build(settings, Clock::system())
        .await
        .expect("second instance");
    let address = format!("http://127.0.0.1:{}", b.port());
    tokio::spawn(b.run_until_stopped());
    address
}

async fn get(address: &str, path: &str, key: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{address}{path}"))
        .header("X-API-Key", key)
        .send()
        .await
        .unwrap()
}

async fn another_instance_sees_a_retire_within_a_second(backend: Backend) {
    let (a, w) = TestApp::with_world(backend).await;
    let b = second_instance(&a).await;
    let admin = a.login(&w.admin.email).await;
    let (id, key) = a
        .create_key(&admin, json!({"name": "k", "device_ids": [w.n1]}))
        .await;
    // Both instances have the key in memory.
    tokio::time::sleep(Duration::from_millis(400)).await;
    for _ in 0..3 {
        assert_eq!(a.api_get("/api/devices", &key).await.status(), 200);
        assert_eq!(get(&b, "/api/devices", &key).await.status(), 200);
    }
    let res = admin
        .delete(a.url(&format!("/portal/api/keys/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let retired = Instant::now();
    loop {
        let res = get(&b, "/api/devices", &key).await;
        if res.status() == 401 {
            assert_problem(res, 401, "api_key_retired").await;
            break;
        }
        assert!(
            retired.elapsed() < Duration::from_secs(1),
            "instance B still accepted the key a second after A retired it"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// While an instance cannot hear changes (its PostgreSQL listener was cut off), it asks the
/// database instead of answering from memory: never stale.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_its_listener_down_an_instance_is_never_stale() {
    if postgres_url().is_none() {
        eprintln!("skipped: set TEST_DATABASE_URL to run on PostgreSQL");
        return;
    }
    let (a, w) = TestApp::with_world(Backend::Postgres).await;
    let b = second_instance(&a).await;
    let admin = a.login(&w.admin.email).await;
    let (id, key) = a
        .create_key(&admin, json!({"name": "k", "device_ids": [w.n1]}))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for _ in 0..3 {
        assert_eq!(get(&b, "/api/devices", &key).await.status(), 200);
    }
    // Cut every listener's connection to this database (A's and B's).
    let name: String = {
        let row =
            a.db.query_one_raw(Statement::from_string(
                a.db.get_database_backend(),
                "SELECT current_database()",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index(0).unwrap()
    };
    a.db.execute_unprepared(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = '{name}' AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
    ))
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A change made while B cannot hear it...
    let res = admin
        .delete(a.url(&format!("/portal/api/keys/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // ...is not missed: B bypasses its cache, or has reconnected and started afresh.
    assert_problem(get(&b, "/api/devices", &key).await, 401, "api_key_retired").await;
}
