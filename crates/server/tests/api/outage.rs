//! The database going away and coming back, and instances starting together.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use partlogic_entity::account;
use partlogic_server::{Application, Clock, Settings};
use sea_orm::{ConnectionTrait, Database, EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use crate::helpers::{
    Backend, Cleanup, TestApp, World, assert_problem, postgres_url, with_database,
};
use crate::on_every_database;

on_every_database!(instances_starting_together_on_an_empty_database_both_come_up);

/// A TCP proxy in front of PostgreSQL that a test can cut (every connection dropped, new ones
/// closed at once) and restore: a database outage without stopping the shared server.
/// With a delay, each new connection waits that long before it reaches PostgreSQL: a server
/// far away, or a slow machine's TLS handshake.
struct Proxy {
    port: u16,
    cut: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(target: &'static str) -> Self {
        Self::start_slow(target, Duration::ZERO).await
    }

    async fn start_slow(target: &'static str, delay: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (c, l) = (cut.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if c.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let link = tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    if let Ok(mut server) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                l.lock().await.push(link);
            }
        });
        Self { port, cut, links }
    }

    async fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for link in self.links.lock().await.drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_answers_503_fast_and_recovers_by_itself() {
    if postgres_url().is_none() {
        eprintln!("skipped: set TEST_DATABASE_URL to run on PostgreSQL");
        return;
    }
    let proxy = Proxy::start("127.0.0.1:5432").await;
    let port = proxy.port;
    let app = TestApp::spawn_custom(Backend::Postgres, Clock::system(), move |s| {
        s.database_url = s.database_url.replacen(":5432/", &format!(":{port}/"), 1);
        assert!(
            s.database_url.contains(&format!(":{port}/")),
            "{}",
            s.database_url
        );
    })
    .await;
    let (admin, key) = working_key(&app).await;

    proxy.cut().await;
    let started = Instant::now();
    let res = app.api_get("/api/stock?limit=5", &key).await;
    assert!(
        started.elapsed() <= Duration::from_millis(2500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(res.headers()["retry-after"], "5");
    assert_problem(res, 503, "service_unavailable").await;
    // A key in memory needs no database, but only while changes to it can be heard: within a
    // second of the cut, checking it needs the database too, and so it is 503.
    let cut = Instant::now();
    loop {
        let res = app.api_get("/api/devices", &key).await;
        if res.status() == 503 {
            assert_problem(res, 503, "service_unavailable").await;
            break;
        }
        assert_eq!(res.status(), 200);
        assert!(
            cut.elapsed() < Duration::from_secs(1),
            "served from memory a second after the cut"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let started = Instant::now();
    let res = admin.get(app.url("/portal/api/keys")).send().await.unwrap();
    assert!(started.elapsed() <= Duration::from_millis(2500));
    assert_problem(res, 503, "service_unavailable").await;
    // Still alive: ping needs no database; health says what is wrong.
    assert_eq!(
        app.client()
            .get(app.url("/api/ping"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let res = app
        .client()
        .get(app.url("/api/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    assert!(res.headers().contains_key("retry-after"));
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["database"], "down");

    // Back again: no restart needed.
    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if app.api_get("/api/devices", &key).await.status() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let res = app
        .client()
        .get(app.url("/api/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

/// The fixture, an admin's session and a key that reads (so the server works end to end).
async fn working_key(app: &TestApp) -> (reqwest::Client, String) {
    let w = World::build(app).await;
    let admin = app.login(&w.admin.email).await;
    let (_, key) = app
        .create_key(&admin, json!({"name": "k", "device_ids": [w.n1]}))
        .await;
    assert_eq!(app.api_get("/api/devices", &key).await.status(), 200);
    (admin, key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_pool_of_slow_connections_still_starts() {
    if postgres_url().is_none() {
        eprintln!("skipped: set TEST_DATABASE_URL to run on PostgreSQL");
        return;
    }
    // 16 connections of 300 ms each: one after another they take 4.8 s, past the 2 s a pool
    // waits for a connection, and the server did not start.
    let proxy = Proxy::start_slow("127.0.0.1:5432", Duration::from_millis(300)).await;
    let port = proxy.port;
    let app = TestApp::spawn_custom(Backend::Postgres, Clock::system(), move |s| {
        s.database_url = s.database_url.replacen(":5432/", &format!(":{port}/"), 1);
        assert!(s.database_url.contains(&format!(":{port}/")));
        s.db_max_connections = 16;
    })
    .await;
    // Every connection is open before the first request (see `db::connect` for why).
    assert_eq!(app.db.get_postgres_connection_pool().size(), 16);
    working_key(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_cannot_be_reached_fails_the_start_and_keeps_the_password() {
    // Nothing listens on a port just freed.
    let port = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut s = Settings::new(format!(
        "postgres://partlogic:s3cret-pw@127.0.0.1:{port}/partlogic"
    ));
    s.bind = "127.0.0.1:0".to_owned();
    let Err(e) = Application::build(s, Clock::system()).await else {
        panic!("started without a database");
    };
    let message = e.to_string();
    assert!(message.contains("cannot open the database"), "{message}");
    assert!(message.contains("partlogic:***@"), "{message}");
    assert!(!message.contains("s3cret-pw"), "{message}");
}

async fn instances_starting_together_on_an_empty_database_both_come_up(backend: Backend) {
    // An empty database for both: made by a throwaway app's harness, then emptied.
    let (url, _keep) = match backend {
        Backend::Sqlite => {
            let path = std::env::temp_dir().join(format!(
                "partlogic-start-{}.db",
                std::process::id() ^ rand_suffix()
            ));
            (
                format!("sqlite://{}?mode=rwc", path.display()),
                Cleanup::File(path),
            )
        }
        Backend::Postgres => {
            let admin_url = postgres_url().unwrap();
            let name = format!("partlogic_start_{:x}", rand_suffix());
            let admin = Database::connect(&admin_url).await.unwrap();
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .unwrap();
            let url = with_database(&admin_url, &name);
            let _ = admin.close().await;
            (url, Cleanup::Postgres { admin_url, name })
        }
    };
    let settings = || {
        let mut s = Settings::new(url.clone());
        s.bind = "127.0.0.1:0".to_owned();
        s.workers = 1;
        s.demo = true;
        s
    };
    let (a, b) = tokio::join!(
        Application::build(settings(), Clock::system()),
        Application::build(settings(), Clock::system())
    );
    let (a, b) = (a.expect("first instance"), b.expect("second instance"));
    assert_ne!(a.port(), b.port());
    // Demo data was seeded exactly once.
    assert_eq!(account::Entity::find().count(a.db()).await.unwrap(), 2);
    let _ = a.db().clone().close().await;
    let _ = b.db().clone().close().await;
}

fn rand_suffix() -> u32 {
    let mut b = [0u8; 4];
    getrandom::fill(&mut b).unwrap();
    u32::from_le_bytes(b)
}

/// The pool keeps its connections for the server's life: sqlx would retire each after 30
/// minutes and open its replacement on whichever runtime asked next, an HTTP worker's, which a
/// stopping server lets go first (see `db::connect`).
#[tokio::test]
async fn the_pool_never_retires_a_connection() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let p = app.db.get_sqlite_connection_pool();
    assert_eq!(p.options().get_max_lifetime(), None, "SQLite");
    if postgres_url().is_some() {
        let app = TestApp::spawn(Backend::Postgres).await;
        let p = app.db.get_postgres_connection_pool();
        assert_eq!(p.options().get_max_lifetime(), None, "PostgreSQL");
        assert_eq!(p.size(), p.options().get_min_connections());
    }
}
