//! Stopping the real binary with SIGTERM: it stops taking connections, lets a running export
//! finish (up to the grace period, then cuts it), writes the key uses it still holds, and exits
//! cleanly.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use partlogic_entity::{api_key, audit_event, stock};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};

use crate::helpers::{Backend, KillOnDrop, TestApp};
use crate::on_every_database;

on_every_database!(
    sigterm_lets_an_export_finish_and_writes_key_uses,
    sigterm_cuts_a_stuck_export_at_the_grace_period,
);

/// The binary serving the test's database on a free port, with `args`; returns it and its URL.
async fn start(app: &TestApp, args: &[&str]) -> (KillOnDrop, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = KillOnDrop(Some(
        Command::new(env!("CARGO_BIN_EXE_partlogic"))
            .args([
                "serve",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--workers",
                "2",
                "--db-connections",
                "4",
            ])
            .args(args)
            .env("DATABASE_URL", app.database_url())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    ));
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if reqwest::get(format!("{base}/api/ping")).await.is_ok() {
            return (child, base);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not start");
}

fn sigterm(child: &KillOnDrop) {
    let pid = child.0.as_ref().unwrap().id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
}

/// Waits up to `within` for the process to end; its exit status and how long that took.
async fn exited(child: &mut KillOnDrop, within: Duration) -> (std::process::ExitStatus, Duration) {
    let started = Instant::now();
    while started.elapsed() < within {
        if let Some(status) = child.0.as_mut().unwrap().try_wait().unwrap() {
            child.0 = None;
            return (status, started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the server was still running after {within:?}");
}

/// A device of `n` more rows, so its export takes a while.
async fn fill(app: &TestApp, device: i64, n: usize) {
    let now = chrono::Utc::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        stock::Entity::insert_many(chunk.iter().map(|i| stock::ActiveModel {
            device_id: Set(device),
            sku: Set(format!("BULK-{i:06}")),
            description: Set(format!(
                "Bulk item {i} with a description of ordinary length"
            )),
            min_qty: Set(1),
            max_qty: Set(9),
            physical: Set(5),
            location: Set("Z-01".into()),
            updated_at: Set(now),
            ..Default::default()
        }))
        .exec(&app.db)
        .await
        .unwrap();
    }
}

async fn sigterm_lets_an_export_finish_and_writes_key_uses(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    fill(&app, w.n1, 30_000).await;
    let admin = app.login(&w.admin.email).await;
    let (_, export_key) = app
        .create_key(&admin, json!({"name": "Export", "device_ids": [w.n1]}))
        .await;
    let mut keys = Vec::new();
    for i in 0..20 {
        keys.push(
            app.create_key(
                &admin,
                json!({"name": format!("Burst {i}"), "device_ids": [w.n2]}),
            )
            .await,
        );
    }
    let (mut child, base) = start(&app, &["--shutdown-grace", "30"]).await;
    let client = reqwest::Client::new();

    // An export under way, read slowly at first.
    let res = client
        .get(format!("{base}/api/stock"))
        .header("X-API-Key", &export_key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut body = res.bytes_stream();
    let mut bytes = body.next().await.unwrap().unwrap().to_vec();
    // Twenty keys used for the first time, and the stop right behind them.
    let uses = keys.iter().map(|(_, k)| {
        client
            .get(format!("{base}/api/devices"))
            .header("X-API-Key", k)
            .send()
    });
    for res in futures_util::future::join_all(uses).await {
        assert_eq!(res.unwrap().status(), 200);
    }
    sigterm(&child);

    // New connections are refused soon after.
    let fresh = || {
        reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap()
    };
    let mut refused = false;
    for _ in 0..50 {
        if fresh()
            .get(format!("{base}/api/ping"))
            .send()
            .await
            .is_err()
        {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(refused, "still taking connections after SIGTERM");

    // The export runs to its end, whole.
    while let Some(chunk) = body.next().await {
        bytes.extend_from_slice(&chunk.expect("the export was cut"));
    }
    let rows: Vec<Value> = serde_json::from_slice(&bytes).expect("a whole JSON array");
    assert_eq!(rows.len(), 30_003);

    let (status, _) = exited(&mut child, Duration::from_secs(30)).await;
    assert!(status.success(), "{status:?}");
    // Every use was written before the process ended.
    for (id, _) in &keys {
        let k = api_key::Entity::find_by_id(*id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        assert!(k.last_used_at.is_some(), "key {id}'s use was lost");
        let first_used = audit_event::Entity::find()
            .filter(audit_event::Column::KeyId.eq(*id))
            .filter(audit_event::Column::Action.eq("first_used"))
            .count(&app.db)
            .await
            .unwrap();
        assert_eq!(first_used, 1);
    }
}

async fn sigterm_cuts_a_stuck_export_at_the_grace_period(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    fill(&app, w.n1, 30_000).await;
    let admin = app.login(&w.admin.email).await;
    let (_, key) = app
        .create_key(&admin, json!({"name": "Stuck", "device_ids": [w.n1]}))
        .await;
    let (mut child, base) = start(&app, &["--shutdown-grace", "2"]).await;
    // A client that takes the first piece and then reads no more.
    let res = reqwest::Client::new()
        .get(format!("{base}/api/stock"))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut body = res.bytes_stream();
    let _ = body.next().await.unwrap().unwrap();
    sigterm(&child);
    let (status, took) = exited(&mut child, Duration::from_secs(15)).await;
    assert!(status.success(), "{status:?}");
    assert!(
        took < Duration::from_secs(8),
        "took {took:?} with a 2 s grace period"
    );
    // What the client gets is cut short, never passed off as whole.
    let mut rest = Vec::new();
    let mut broken = false;
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(c) => rest.extend_from_slice(&c),
            Err(_) => {
                broken = true;
                break;
            }
        }
    }
    assert!(broken || !rest.ends_with(b"]"), "a cut export looked whole");
}
