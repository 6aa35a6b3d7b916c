//! Webhooks: endpoints a key manages, events written with their changes, deliveries signed the
//! Standard Webhooks way (verified with the `standardwebhooks` package from PyPI, which no one
//! here wrote), retries on the schedule, 410, `Retry-After`, the 5-day disable, SSRF refusals,
//! reach and permission changes, a hanging receiver, and two instances on one PostgreSQL.
//!
//! The receivers are real HTTP servers on loopback (actix-web), started by each test.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use chrono::{DateTime, Utc};
use partlogic_entity::stock;
use partlogic_server::Clock;
use partlogic_server::stock::writes::{self, RowChange};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, World, assert_problem, postgres_url};
use crate::on_every_database;

on_every_database!(
    endpoints_need_their_permission_and_belong_to_their_key,
    stock_changes_arrive_signed_and_an_outside_library_verifies_them,
    failures_retry_on_the_schedule_and_410_and_five_days_disable,
    reach_permission_and_retirement_changes_stop_events,
    urls_that_could_reach_inside_are_refused_at_creation_and_delivery,
    a_hanging_receiver_does_not_delay_another_endpoint,
    a_paused_endpoint_keeps_its_retries_until_enabled,
    order_events_carry_the_order_and_need_orders_read,
    a_key_about_to_expire_says_so_once,
    kill_9_mid_delivery_loses_nothing,
    the_portal_manages_a_keys_endpoints,
);

/// What a receiver answers: a status (with headers), or nothing for a while.
#[derive(Clone, Debug)]
enum Reply {
    Status(u16, Vec<(&'static str, String)>),
    Hang(Duration),
}

/// One request a receiver got.
#[derive(Clone, Debug)]
struct Hit {
    path: String,
    headers: HashMap<String, String>,
    body: String,
}

#[derive(Default)]
struct Shared {
    hits: Mutex<Vec<Hit>>,
    /// Replies to come, per path; 200 when none is left.
    script: Mutex<HashMap<String, VecDeque<Reply>>>,
}

/// A local HTTP receiver.
struct Receiver {
    base: String,
    shared: Arc<Shared>,
}

async fn receive(req: HttpRequest, body: web::Bytes, shared: web::Data<Shared>) -> HttpResponse {
    let hit = Hit {
        path: req.path().to_owned(),
        headers: req
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    shared.hits.lock().unwrap().push(hit);
    let reply = shared
        .script
        .lock()
        .unwrap()
        .get_mut(req.path())
        .and_then(VecDeque::pop_front);
    match reply {
        None => HttpResponse::Ok().body("thanks"),
        Some(Reply::Status(code, headers)) => {
            let mut res = HttpResponse::build(actix_web::http::StatusCode::from_u16(code).unwrap());
            for (k, v) in headers {
                res.insert_header((k, v));
            }
            res.body("")
        }
        Some(Reply::Hang(d)) => {
            tokio::time::sleep(d).await;
            HttpResponse::Ok().finish()
        }
    }
}

impl Receiver {
    async fn start() -> Receiver {
        let shared = Arc::new(Shared::default());
        let data = web::Data::from(shared.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(receive))
        })
        .workers(2)
        .bind("127.0.0.1:0")
        .unwrap();
        let port = server.addrs()[0].port();
        tokio::spawn(server.run());
        Receiver {
            base: format!("http://127.0.0.1:{port}"),
            shared,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn script(&self, path: &str, replies: Vec<Reply>) {
        self.shared
            .script
            .lock()
            .unwrap()
            .entry(path.to_owned())
            .or_default()
            .extend(replies);
    }

    fn hits(&self, path: &str) -> Vec<Hit> {
        self.shared
            .hits
            .lock()
            .unwrap()
            .iter()
            .filter(|h| h.path == path)
            .cloned()
            .collect()
    }

    /// Waits (up to `secs`) until `path` got `n` requests; returns them.
    async fn wait_for(&self, path: &str, n: usize, secs: u64) -> Vec<Hit> {
        let until = std::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let hits = self.hits(path);
            if hits.len() >= n {
                return hits;
            }
            assert!(
                std::time::Instant::now() < until,
                "{path}: {} of {n} deliveries within {secs} s",
                hits.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Verifies a delivery with the `standardwebhooks` package from PyPI (installed by
/// scripts/test in .venv-webhooks).
fn verified_by_standardwebhooks(secret: &str, hit: &Hit) -> bool {
    let python = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../.venv-webhooks/bin/python"
    );
    assert!(
        std::path::Path::new(python).exists(),
        "{python} is missing: scripts/test installs standardwebhooks into .venv-webhooks"
    );
    let input = json!({
        "secret": secret,
        "body": hit.body,
        "headers": {
            "webhook-id": hit.headers["webhook-id"],
            "webhook-timestamp": hit.headers["webhook-timestamp"],
            "webhook-signature": hit.headers["webhook-signature"],
        },
    });
    let script = "import sys, json\n\
from standardwebhooks.webhooks import Webhook\n\
d = json.load(sys.stdin)\n\
try:\n    Webhook(d['secret']).verify(d['body'], d['headers'])\n    print('verified')\n\
except Exception as e:\n    print('refused', e)\n";
    let mut child = std::process::Command::new(python)
        .arg("-c")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "verified"
}

struct Setup {
    app: TestApp,
    w: World,
    admin: reqwest::Client,
    key_id: i64,
    key: String,
}

async fn setup_on(app: TestApp, w: World, permissions: Value) -> Setup {
    let admin = app.login(&w.admin.email).await;
    let (key_id, key) = app
        .create_key(
            &admin,
            json!({"name": "hooks", "device_ids": [w.n1, w.n2], "permissions": permissions}),
        )
        .await;
    Setup {
        app,
        w,
        admin,
        key_id,
        key,
    }
}

async fn setup(backend: Backend) -> Setup {
    let (app, w) = TestApp::with_world(backend).await;
    setup_on(app, w, json!({"orders": "read", "webhooks": true})).await
}

impl Setup {
    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.app
            .client()
            .request(method, self.app.url(path))
            .header("X-API-Key", &self.key)
    }

    /// Adds an endpoint; returns it (with its secret).
    async fn endpoint(&self, body: Value) -> Value {
        let res = self
            .req(reqwest::Method::POST, "/api/webhooks")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        res.json().await.unwrap()
    }

    async fn get_endpoint(&self, id: i64) -> Value {
        self.req(reqwest::Method::GET, &format!("/api/webhooks/{id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Waits (up to 5 s) until endpoint `id` is disabled; returns it.
    async fn disabled(&self, id: i64) -> Value {
        for _ in 0..100 {
            let e = self.get_endpoint(id).await;
            if e["enabled"] == false {
                return e;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("endpoint {id} was not disabled");
    }

    async fn deliveries(&self, endpoint: i64) -> Vec<Value> {
        let res = self
            .req(
                reqwest::Method::GET,
                &format!("/api/webhooks/{endpoint}/deliveries"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    /// Waits (up to 5 s) until `endpoint`'s newest delivery satisfies `check`.
    async fn delivery_where(&self, endpoint: i64, check: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..250 {
            let list = self.deliveries(endpoint).await;
            if let Some(d) = list.first()
                && check(d)
            {
                return d.clone();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("no such delivery: {:?}", self.deliveries(endpoint).await);
    }

    /// Sets the physical quantity of `sku` at `device` through the one stock writer.
    async fn set_physical(&self, device: i64, sku: &str, physical: i64) {
        let now = self.app.clock.now();
        let txn = partlogic_server::db::begin_write(&self.app.db)
            .await
            .unwrap();
        let row = stock::Entity::find()
            .filter(stock::Column::DeviceId.eq(device))
            .filter(stock::Column::Sku.eq(sku))
            .one(&txn)
            .await
            .unwrap()
            .unwrap();
        writes::update(
            &txn,
            row,
            RowChange {
                physical: Some(physical),
                ..Default::default()
            },
            now,
        )
        .await
        .unwrap();
        txn.commit().await.unwrap();
    }
}

async fn endpoints_need_their_permission_and_belong_to_their_key(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let plain = setup_on(app, w, json!({})).await;
    let res = plain
        .req(reqwest::Method::GET, "/api/webhooks")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["partlogic-required-permission"],
        "webhooks:manage"
    );
    assert_problem(res, 403, "permission_denied").await;

    // Given the permission in the portal, the same key manages endpoints at once.
    let res = plain
        .admin
        .patch(plain.app.url(&format!("/portal/api/keys/{}", plain.key_id)))
        .json(&json!({"permissions": {"webhooks": true}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let detail: Value = res.json().await.unwrap();
    assert_eq!(detail["permissions"]["webhooks"], true);
    let s = plain;
    let info: Value = s
        .app
        .api_get("/api/key", &s.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info["permissions"]["webhooks"], true);

    let created = s
        .endpoint(json!({"url": "https://hooks.example.com/partlogic", "events": ["stock.restocked", "stock.below_min", "stock.restocked"], "description": "Store room"}))
        .await;
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_") && secret.len() > 40);
    assert_eq!(
        created["events"],
        json!(["stock.below_min", "stock.restocked"])
    );
    assert_eq!(created["format"], "standard");
    assert_eq!(created["enabled"], true);
    let id = created["id"].as_i64().unwrap();

    // Never again the secret; and not in the database in plain text.
    let got: Value = s
        .req(reqwest::Method::GET, &format!("/api/webhooks/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(got.get("secret").is_none());
    assert_eq!(got["description"], "Store room");
    let stored = partlogic_entity::webhook_endpoint::Entity::find_by_id(id)
        .one(&s.app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.secret.contains(&secret["whsec_".len()..]));

    // Another key of the same account sees none of them.
    let (_, other) = s
        .app
        .create_key(
            &s.admin,
            json!({"name": "other", "device_ids": [s.w.n1], "permissions": {"webhooks": true}}),
        )
        .await;
    let res = s
        .app
        .client()
        .get(s.app.url(&format!("/api/webhooks/{id}")))
        .header("X-API-Key", &other)
        .send()
        .await
        .unwrap();
    assert_problem(res, 404, "not_found").await;

    // Bad fields are named; order events need orders:read (this key has none).
    let res = s
        .req(reqwest::Method::POST, "/api/webhooks")
        .json(&json!({"url": "https://hooks.example.com/x", "events": ["stock.sold", "order.created"], "format": "xml"}))
        .send()
        .await
        .unwrap();
    let p = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(
        crate::helpers::error_fields(&p),
        vec!["events[0]", "events[1]", "format"]
    );
    let res = s
        .req(reqwest::Method::POST, "/api/webhooks")
        .json(&json!({"url": "https://hooks.example.com/x", "events": []}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 422, "validation_failed").await;
    let res = s
        .req(reqwest::Method::POST, "/api/webhooks")
        .json(&json!({"url": "https://hooks.example.com/x", "events": ["stock.below_min"], "extra": 1}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "invalid_body").await;

    // Change, pause, enable, delete.
    let res = s
        .req(reqwest::Method::PATCH, &format!("/api/webhooks/{id}"))
        .json(&json!({"events": ["stock.restocked"], "format": "slack", "enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let changed: Value = res.json().await.unwrap();
    assert_eq!(changed["events"], json!(["stock.restocked"]));
    assert_eq!(changed["format"], "slack");
    assert_eq!(changed["enabled"], false);
    assert!(
        changed["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("paused")
    );

    // At most ten per key.
    for i in 1..10 {
        s.endpoint(
            json!({"url": format!("https://hooks.example.com/{i}"), "events": ["stock.below_min"]}),
        )
        .await;
    }
    let res = s
        .req(reqwest::Method::POST, "/api/webhooks")
        .json(&json!({"url": "https://hooks.example.com/11", "events": ["stock.below_min"]}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 409, "too_many_webhooks").await;
    let list: Vec<Value> = s
        .req(reqwest::Method::GET, "/api/webhooks")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 10);
    let res = s
        .req(reqwest::Method::DELETE, &format!("/api/webhooks/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = s
        .req(reqwest::Method::DELETE, &format!("/api/webhooks/{id}"))
        .send()
        .await
        .unwrap();
    assert_problem(res, 404, "not_found").await;
}

async fn stock_changes_arrive_signed_and_an_outside_library_verifies_them(backend: Backend) {
    let s = setup(backend).await;
    let rx = Receiver::start().await;
    let created = s
        .endpoint(json!({"url": rx.url("/hook"), "events": ["stock.below_min", "stock.restocked"]}))
        .await;
    let secret = created["secret"].as_str().unwrap().to_owned();
    let id = created["id"].as_i64().unwrap();

    // N1-SKU0 goes below its minimum (10), then back.
    s.set_physical(s.w.n1, "N1-SKU0", 4).await;
    let hits = rx.wait_for("/hook", 1, 5).await;
    let hit = &hits[0];
    assert_eq!(hit.headers["content-type"], "application/json");
    assert!(hit.headers["webhook-id"].starts_with("msg_"));
    assert!(hit.headers["webhook-signature"].starts_with("v1,"));
    assert!(verified_by_standardwebhooks(&secret, hit));
    // A wrong secret or a changed body is refused by the same library.
    assert!(!verified_by_standardwebhooks(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        hit
    ));
    let mut changed = hit.clone();
    changed.body = changed.body.replace("\"Physical\":4", "\"Physical\":40");
    assert!(!verified_by_standardwebhooks(&secret, &changed));
    let event: Value = serde_json::from_str(&hit.body).unwrap();
    assert_eq!(event["type"], "stock.below_min");
    assert!(event["timestamp"].as_str().is_some());
    assert_eq!(event["data"]["SKU"], "N1-SKU0");
    assert_eq!(event["data"]["DeviceName"], "N1");
    assert_eq!(event["data"]["Customer"], "North");
    assert_eq!(event["data"]["Physical"], 4);
    assert_eq!(event["data"]["PreviousPhysical"], 20);
    assert_eq!(event["data"]["Kind"], "below_min");
    assert!(hit.body.len() < 20_000);

    let d = s.delivery_where(id, |d| d["state"] == "delivered").await;
    assert_eq!(d["message_id"], hit.headers["webhook-id"].as_str());
    assert_eq!(d["event_type"], "stock.below_min");
    assert_eq!(d["attempts"], 1);
    assert_eq!(d["last_status"], 200);

    // A device the key does not tick (S1) sends nothing; a change that crosses nothing neither.
    s.set_physical(s.w.s1, "S1-SKU0", 1).await;
    s.set_physical(s.w.n1, "N1-SKU0", 3).await;

    // After a rotation both secrets sign for a day: each verifies alone.
    let res = s
        .req(
            reqwest::Method::POST,
            &format!("/api/webhooks/{id}/rotate-secret"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let rotated: Value = res.json().await.unwrap();
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    s.set_physical(s.w.n1, "N1-SKU0", 30).await;
    let hits = rx.wait_for("/hook", 2, 5).await;
    let hit = &hits[1];
    assert_eq!(
        serde_json::from_str::<Value>(&hit.body).unwrap()["type"],
        "stock.restocked"
    );
    assert_eq!(hit.headers["webhook-signature"].split(' ').count(), 2);
    assert!(verified_by_standardwebhooks(&new_secret, hit));
    assert!(verified_by_standardwebhooks(&secret, hit));

    // A test event, and a replay with the same webhook-id.
    let res = s
        .req(reqwest::Method::POST, &format!("/api/webhooks/{id}/test"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let queued: Value = res.json().await.unwrap();
    let hits = rx.wait_for("/hook", 3, 5).await;
    assert_eq!(
        hits[2].headers["webhook-id"],
        queued["message_id"].as_str().unwrap()
    );
    assert_eq!(
        serde_json::from_str::<Value>(&hits[2].body).unwrap()["type"],
        "webhook.test"
    );
    let first = hits[0].headers["webhook-id"].clone();
    let res = s
        .req(
            reqwest::Method::POST,
            &format!("/api/webhooks/{id}/deliveries/{first}/replay"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let hits = rx.wait_for("/hook", 4, 5).await;
    assert_eq!(hits[3].headers["webhook-id"], first);
    assert_eq!(hits[3].body, hits[0].body);
    let res = s
        .req(
            reqwest::Method::POST,
            &format!("/api/webhooks/{id}/deliveries/msg_nope/replay"),
        )
        .send()
        .await
        .unwrap();
    assert_problem(res, 404, "not_found").await;

    // Paging the deliveries.
    let res = s
        .req(
            reqwest::Method::GET,
            &format!("/api/webhooks/{id}/deliveries?limit=2"),
        )
        .send()
        .await
        .unwrap();
    let link = res.headers()["link"].to_str().unwrap().to_owned();
    assert!(link.contains("before="), "{link}");
    let page: Vec<Value> = res.json().await.unwrap();
    assert_eq!(page.len(), 2);
    let res = s
        .req(
            reqwest::Method::GET,
            &format!("/api/webhooks/{id}/deliveries?limit=0"),
        )
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "invalid_parameters").await;

    // Slack format: Slack's body, signed the same way.
    let slack = s
        .endpoint(
            json!({"url": rx.url("/slack"), "events": ["stock.below_min"], "format": "slack"}),
        )
        .await;
    s.set_physical(s.w.n2, "N2-SKU2", 2).await;
    let hits = rx.wait_for("/slack", 1, 5).await;
    let body: Value = serde_json::from_str(&hits[0].body).unwrap();
    let text = body["text"].as_str().unwrap();
    assert!(
        text.contains("*N2* (North): N2-SKU2 Item N2-SKU2 is at *2*, below its minimum of 10"),
        "{text}"
    );
    assert!(verified_by_standardwebhooks(
        slack["secret"].as_str().unwrap(),
        &hits[0]
    ));
}

async fn failures_retry_on_the_schedule_and_410_and_five_days_disable(backend: Backend) {
    let start: DateTime<Utc> = "2026-06-01T08:00:00Z".parse().unwrap();
    let app = TestApp::spawn_custom(backend, Clock::frozen(start), |s| {
        s.metrics_bind = Some("127.0.0.1:0".to_owned());
    })
    .await;
    let w = World::build(&app).await;
    let s = setup_on(app, w, json!({"webhooks": true})).await;
    let rx = Receiver::start().await;
    let created = s
        .endpoint(
            json!({"url": rx.url("/flaky"), "events": ["stock.below_min", "stock.restocked"]}),
        )
        .await;
    let id = created["id"].as_i64().unwrap();
    rx.script(
        "/flaky",
        vec![
            Reply::Status(500, vec![]),
            Reply::Status(503, vec![("Retry-After", "120".to_owned())]),
        ],
    );
    s.set_physical(s.w.n1, "N1-SKU0", 4).await;
    rx.wait_for("/flaky", 1, 5).await;
    let d = s.delivery_where(id, |d| d["attempts"] == 1).await;
    assert_eq!(d["state"], "pending");
    assert_eq!(d["last_status"], 500);
    assert_eq!(d["last_error"], "answered 500");
    // About 5 s later (a tenth either way).
    let next: DateTime<Utc> = d["next_attempt_at"].as_str().unwrap().parse().unwrap();
    let wait = (next - start).num_milliseconds();
    assert!((4000..=6000).contains(&wait), "{wait} ms");
    let e: Value = s
        .req(reqwest::Method::GET, &format!("/api/webhooks/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(e["failing_since"].is_string());

    // Not before it is due.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(rx.hits("/flaky").len(), 1);
    s.app.clock.set(start + chrono::Duration::seconds(7));
    let hits = rx.wait_for("/flaky", 2, 5).await;
    assert_eq!(hits[0].headers["webhook-id"], hits[1].headers["webhook-id"]);
    // 503 with Retry-After: 120 waits 120 s, not the schedule's 5 minutes.
    let d = s.delivery_where(id, |d| d["attempts"] == 2).await;
    let next: DateTime<Utc> = d["next_attempt_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        next,
        start + chrono::Duration::seconds(7) + chrono::Duration::seconds(120)
    );
    s.app.clock.set(start + chrono::Duration::seconds(130));
    rx.wait_for("/flaky", 3, 5).await;
    let d = s.delivery_where(id, |d| d["state"] == "delivered").await;
    assert_eq!(d["attempts"], 3);
    let e: Value = s
        .req(reqwest::Method::GET, &format!("/api/webhooks/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(e.get("failing_since").is_none(), "{e}");

    // Failing for five days disables the endpoint, and the key's history says so.
    rx.script("/flaky", vec![Reply::Status(500, vec![]); 3]);
    let t1 = start + chrono::Duration::seconds(200);
    s.app.clock.set(t1);
    s.set_physical(s.w.n1, "N1-SKU0", 30).await;
    rx.wait_for("/flaky", 4, 5).await;
    s.delivery_where(id, |d| d["attempts"] == 1 && d["state"] == "pending")
        .await;
    s.app.clock.set(t1 + chrono::Duration::days(5));
    s.set_physical(s.w.n1, "N1-SKU0", 2).await;
    // Both the retry and the new event are due; the first failure disables it.
    rx.wait_for("/flaky", 5, 5).await;
    let e = s.disabled(id).await;
    assert!(
        e["disabled_reason"].as_str().unwrap().contains("5 days"),
        "{e}"
    );
    // Five days on, the portal session from the start has expired.
    let admin = s.app.login(&s.w.admin.email).await;
    let detail: Value = admin
        .get(s.app.url(&format!("/portal/api/keys/{}", s.key_id)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        detail["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "webhook_disabled"),
        "{detail}"
    );

    // Enabled again, it delivers what waited; a 410 disables it at once.
    rx.script("/flaky", vec![Reply::Status(410, vec![]); 5]);
    s.app
        .clock
        .set(t1 + chrono::Duration::days(5) + chrono::Duration::minutes(10));
    let res = s
        .req(reqwest::Method::PATCH, &format!("/api/webhooks/{id}"))
        .json(&json!({"enabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let before = rx.hits("/flaky").len();
    rx.wait_for("/flaky", before + 1, 5).await;
    let e = s.disabled(id).await;
    assert!(
        e["disabled_reason"].as_str().unwrap().contains("410"),
        "{e}"
    );
    // The outcomes are counted in /metrics.
    let metrics = reqwest::get(format!(
        "{}/metrics",
        s.app.metrics_address.as_deref().unwrap()
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    let count = |outcome: &str| -> f64 {
        let prefix = format!("partlogic_webhook_attempts_total{{outcome=\"{outcome}\"}} ");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(
        count("delivered") >= 1.0 && count("failed") >= 4.0 && count("gone") >= 1.0,
        "{metrics}"
    );
    assert!(metrics.contains("partlogic_webhook_queue_age_seconds "));
}

async fn reach_permission_and_retirement_changes_stop_events(backend: Backend) {
    // A clock the test moves, to make a retry due.
    let app = TestApp::spawn_at(backend, Utc::now()).await;
    let w = World::build(&app).await;
    // A member's key: its reach is the member's grants (N1, N2 in the world).
    let member = app.login(&w.member.email).await;
    let (key_id, key) = app
        .create_key(
            &member,
            json!({"name": "m", "device_ids": [w.n1], "permissions": {"webhooks": true}}),
        )
        .await;
    let admin = app.login(&w.admin.email).await;
    let s = Setup {
        app,
        w,
        admin,
        key_id,
        key,
    };
    let rx = Receiver::start().await;
    let id = s
        .endpoint(json!({"url": rx.url("/r"), "events": ["stock.below_min", "stock.restocked"]}))
        .await["id"]
        .as_i64()
        .unwrap();
    s.set_physical(s.w.n1, "N1-SKU0", 4).await;
    rx.wait_for("/r", 1, 5).await;

    // The member loses N1: its events stop at once (checked when sent).
    s.app
        .db
        .execute_unprepared(&format!(
            "DELETE FROM user_devices WHERE user_id = {} AND device_id = {}",
            s.w.member.id, s.w.n1
        ))
        .await
        .unwrap();
    s.set_physical(s.w.n1, "N1-SKU0", 30).await;
    let d = s.delivery_where(id, |d| d["state"] == "dropped").await;
    assert!(
        d["last_error"]
            .as_str()
            .unwrap()
            .contains("no longer reaches"),
        "{d}"
    );
    s.app
        .db
        .execute_unprepared(&format!(
            "INSERT INTO user_devices (user_id, device_id) VALUES ({}, {})",
            s.w.member.id, s.w.n1
        ))
        .await
        .unwrap();

    // Without webhooks:manage, nothing is sent.
    let res = s
        .admin
        .patch(s.app.url(&format!("/portal/api/keys/{}", s.key_id)))
        .json(&json!({"permissions": {"webhooks": false}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    s.set_physical(s.w.n1, "N1-SKU0", 3).await;
    // (The key may not list its deliveries any more either: read them from the database.)
    let newest = settled(&s, id).await;
    assert_eq!(newest.state, "dropped");
    assert!(newest.last_error.unwrap().contains("webhooks:manage"));

    // Retired, its endpoints stop: a delivery waiting then is dropped when due, and later
    // changes record none.
    let res = s
        .admin
        .patch(s.app.url(&format!("/portal/api/keys/{}", s.key_id)))
        .json(&json!({"permissions": {"webhooks": true}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    rx.script("/r", vec![Reply::Status(500, vec![])]);
    let start = s.app.clock.now();
    s.set_physical(s.w.n1, "N1-SKU0", 30).await;
    s.delivery_where(id, |d| {
        d["event_type"] == "stock.restocked" && d["attempts"] == 1
    })
    .await;
    let res = s
        .admin
        .delete(s.app.url(&format!("/portal/api/keys/{}", s.key_id)))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    s.app.clock.set(start + chrono::Duration::seconds(10));
    let newest = settled(&s, id).await;
    assert_eq!(newest.event_type_check, "stock.restocked");
    assert_eq!(newest.state, "dropped");
    assert_eq!(newest.last_error.as_deref(), Some("the key is retired"));
    s.set_physical(s.w.n1, "N1-SKU0", 2).await;
    let rows = partlogic_entity::webhook_delivery::Entity::find()
        .filter(partlogic_entity::webhook_delivery::Column::EndpointId.eq(id))
        .all(&s.app.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 4, "no delivery recorded for a retired key");
    assert_eq!(rx.hits("/r").len(), 2);
}

/// The stored state of each delivery of `endpoint`, from the database.
async fn stored_states(s: &Setup, endpoint: i64) -> Vec<String> {
    use partlogic_entity::webhook_delivery as d;
    d::Entity::find()
        .filter(d::Column::EndpointId.eq(endpoint))
        .all(&s.app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.state)
        .collect()
}

/// The newest delivery of `endpoint` once nothing of it is pending, from the database.
struct Settled {
    state: String,
    last_error: Option<String>,
    event_type_check: String,
}

async fn settled(s: &Setup, endpoint: i64) -> Settled {
    use partlogic_entity::{webhook_delivery as d, webhook_message as m};
    for _ in 0..250 {
        let rows = d::Entity::find()
            .filter(d::Column::EndpointId.eq(endpoint))
            .all(&s.app.db)
            .await
            .unwrap();
        if !rows.is_empty() && rows.iter().all(|r| r.state != "pending") {
            let newest = rows.into_iter().max_by_key(|r| r.id).unwrap();
            let message = m::Entity::find_by_id(newest.message_id)
                .one(&s.app.db)
                .await
                .unwrap()
                .unwrap();
            return Settled {
                state: newest.state,
                last_error: newest.last_error,
                event_type_check: message.event_type,
            };
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("deliveries of {endpoint} still pending");
}

async fn urls_that_could_reach_inside_are_refused_at_creation_and_delivery(backend: Backend) {
    let app = TestApp::spawn_custom(backend, Clock::system(), |s| {
        s.webhook_allow_private = false;
    })
    .await;
    let w = World::build(&app).await;
    let s = setup_on(app, w, json!({"webhooks": true})).await;
    for url in [
        "http://hooks.example.com/x",
        "https://127.0.0.1/x",
        "https://10.1.2.3/x",
        "https://192.168.0.10/x",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.100.100.200/x",
        "https://[::1]/x",
        "https://[fd00:ec2::254]/x",
        "https://[::ffff:127.0.0.1]/x",
        "https://[fe80::1]/x",
        "https://2130706433/x",
        "https://localhost/x",
        "https://user:pass@hooks.example.com/x",
    ] {
        let res = s
            .req(reqwest::Method::POST, "/api/webhooks")
            .json(&json!({"url": url, "events": ["stock.below_min"]}))
            .send()
            .await
            .unwrap();
        let p = assert_problem(res, 422, "webhook_url_not_allowed").await;
        assert_eq!(crate::helpers::error_fields(&p), vec!["url"], "{url}");
    }
    // A URL that got in some other way (an older server, a database edit) is still not
    // called: literal addresses are checked before connecting, names when resolved.
    let rx = Receiver::start().await;
    let port = rx.base.rsplit(':').next().unwrap().to_owned();
    let ok = s
        .endpoint(json!({"url": "https://hooks.example.com/x", "events": ["stock.below_min", "stock.restocked"]}))
        .await;
    let id = ok["id"].as_i64().unwrap();
    for (i, url) in [
        format!("http://127.0.0.1:{port}/inside"),
        format!("http://localhost:{port}/inside"),
    ]
    .into_iter()
    .enumerate()
    {
        s.app
            .db
            .execute_unprepared(&format!(
                "UPDATE webhook_endpoints SET url = '{url}' WHERE id = {id}"
            ))
            .await
            .unwrap();
        s.set_physical(s.w.n1, "N1-SKU0", if i == 0 { 4 } else { 30 })
            .await;
        let d = s
            .delivery_where(id, |d| {
                d["attempts"] == 1
                    && d["event_type"]
                        == if i == 0 {
                            "stock.below_min"
                        } else {
                            "stock.restocked"
                        }
            })
            .await;
        let err = d["last_error"].as_str().unwrap();
        assert!(err.contains("not public"), "{url}: {err}");
    }
    assert!(rx.hits("/inside").is_empty());
}

async fn a_hanging_receiver_does_not_delay_another_endpoint(backend: Backend) {
    let s = setup(backend).await;
    let rx = Receiver::start().await;
    s.endpoint(json!({"url": rx.url("/slow"), "events": ["stock.below_min", "stock.restocked"]}))
        .await;
    s.endpoint(json!({"url": rx.url("/fast"), "events": ["stock.below_min", "stock.restocked"]}))
        .await;
    rx.script("/slow", vec![Reply::Hang(Duration::from_secs(20)); 40]);
    let started = std::time::Instant::now();
    for i in 0..20 {
        s.set_physical(s.w.n1, "N1-SKU0", if i % 2 == 0 { 4 } else { 30 })
            .await;
    }
    rx.wait_for("/fast", 20, 5).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    // The slow one holds at most its own bound of deliveries.
    assert!(rx.hits("/slow").len() <= partlogic_server::webhooks::deliver::PER_ENDPOINT);
}

/// Retries due at a paused endpoint are not claimed (while another endpoint's deliveries go),
/// and are sent, with their ids, once it is enabled again.
async fn a_paused_endpoint_keeps_its_retries_until_enabled(backend: Backend) {
    let start: DateTime<Utc> = "2026-06-01T08:00:00Z".parse().unwrap();
    let app = TestApp::spawn_custom(backend, Clock::frozen(start), |_| {}).await;
    let w = World::build(&app).await;
    let s = setup_on(app, w, json!({"webhooks": true})).await;
    let rx = Receiver::start().await;
    let events = json!(["stock.below_min", "stock.restocked"]);
    let paused = s
        .endpoint(json!({"url": rx.url("/paused"), "events": events}))
        .await["id"]
        .as_i64()
        .unwrap();
    s.endpoint(json!({"url": rx.url("/other"), "events": events}))
        .await;
    rx.script("/paused", vec![Reply::Status(500, vec![]); 6]);
    for i in 0..6 {
        s.set_physical(s.w.n1, "N1-SKU0", if i % 2 == 0 { 4 } else { 30 })
            .await;
    }
    let first = rx.wait_for("/paused", 6, 5).await;
    rx.wait_for("/other", 6, 5).await;
    for _ in 0..250 {
        if s.deliveries(paused)
            .await
            .iter()
            .all(|d| d["attempts"] == 1)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let res = s
        .req(reqwest::Method::PATCH, &format!("/api/webhooks/{paused}"))
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // Due now, but paused: nothing is sent to it; the other endpoint's new events still go.
    s.app.clock.set(start + chrono::Duration::seconds(30));
    s.set_physical(s.w.n1, "N1-SKU0", 4).await;
    rx.wait_for("/other", 7, 5).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(rx.hits("/paused").len(), 6);
    let waiting = s.deliveries(paused).await;
    assert_eq!(waiting.len(), 6, "a paused endpoint gets no new deliveries");
    assert!(waiting.iter().all(|d| d["state"] == "pending"));
    // Shown as pending, but stored out of the queue that claims walk.
    assert_eq!(stored_states(&s, paused).await, vec!["held"; 6]);
    // A replay while paused is queued as pending (and skipped); the worker's check, a minute
    // on, holds it with the others.
    let replayed = waiting[0]["message_id"].as_str().unwrap().to_owned();
    let res = s
        .req(
            reqwest::Method::POST,
            &format!("/api/webhooks/{paused}/deliveries/{replayed}/replay"),
        )
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    assert!(
        stored_states(&s, paused)
            .await
            .contains(&"pending".to_owned())
    );
    s.app.clock.set(start + chrono::Duration::seconds(95));
    for _ in 0..250 {
        if stored_states(&s, paused).await == vec!["held"; 6] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(stored_states(&s, paused).await, vec!["held"; 6]);
    assert_eq!(rx.hits("/paused").len(), 6, "nothing sent while paused");

    let res = s
        .req(reqwest::Method::PATCH, &format!("/api/webhooks/{paused}"))
        .json(&json!({"enabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let hits = rx.wait_for("/paused", 12, 5).await;
    let ids = |hits: &[Hit]| {
        let mut ids: Vec<String> = hits
            .iter()
            .map(|h| h.headers["webhook-id"].clone())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(
        ids(&hits[6..]),
        ids(&first[..6]),
        "the same messages, each once"
    );
    for _ in 0..250 {
        if s.deliveries(paused)
            .await
            .iter()
            .all(|d| d["state"] == "delivered")
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "not delivered after enabling: {:?}",
        s.deliveries(paused).await
    );
}

async fn order_events_carry_the_order_and_need_orders_read(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let s = setup_on(app, w, json!({"orders": "write", "webhooks": true})).await;
    let rx = Receiver::start().await;
    s.endpoint(json!({"url": rx.url("/orders"), "events": ["order.created", "order.received", "order.cancelled"]}))
        .await;
    let res = s
        .req(reqwest::Method::POST, "/api/orders")
        .header("Idempotency-Key", "row-1")
        .json(&json!({"device_id": s.w.n1, "lines": [{"sku": "N1-SKU1", "quantity": 7}], "reference": "row-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let order: Value = res.json().await.unwrap();
    let hits = rx.wait_for("/orders", 1, 5).await;
    let event: Value = serde_json::from_str(&hits[0].body).unwrap();
    assert_eq!(event["type"], "order.created");
    assert_eq!(event["data"], order);
    let id = order["id"].as_i64().unwrap();
    let res = s
        .req(reqwest::Method::POST, &format!("/api/orders/{id}/receive"))
        .json(&json!({"lines": [{"sku": "N1-SKU1", "quantity": 7}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let received: Value = res.json().await.unwrap();
    let hits = rx.wait_for("/orders", 2, 5).await;
    let event: Value = serde_json::from_str(&hits[1].body).unwrap();
    assert_eq!(event["type"], "order.received");
    assert_eq!(event["data"], received);
    assert_eq!(event["data"]["status"], "received");
}

/// Two instances on one PostgreSQL share the work: each message is delivered once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_deliver_each_message_once() {
    if postgres_url().is_none() {
        eprintln!("skipped: set TEST_DATABASE_URL to run on PostgreSQL");
        return;
    }
    let s = setup(Backend::Postgres).await;
    let second = partlogic_server::Application::build(
        {
            let mut settings = partlogic_server::Settings::new(s.app.database_url().to_owned());
            settings.bind = "127.0.0.1:0".to_owned();
            settings.workers = 1;
            settings.db_max_connections = 4;
            settings.webhook_key = Some(partlogic_server::webhooks::secrets::WebhookKey([42; 32]));
            settings.webhook_allow_private = true;
            settings
        },
        Clock::system(),
    )
    .await
    .unwrap();
    tokio::spawn(second.run_until_stopped());
    let rx = Receiver::start().await;
    s.endpoint(json!({"url": rx.url("/once"), "events": ["stock.below_min", "stock.restocked"]}))
        .await;
    s.endpoint(json!({"url": rx.url("/twice"), "events": ["stock.below_min", "stock.restocked"]}))
        .await;
    for i in 0..60 {
        s.set_physical(s.w.n1, "N1-SKU0", if i % 2 == 0 { 4 } else { 30 })
            .await;
    }
    for path in ["/once", "/twice"] {
        let hits = rx.wait_for(path, 60, 10).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let hits_after = rx.hits(path);
        assert_eq!(hits_after.len(), hits.len());
        let ids: std::collections::HashSet<&String> = hits_after
            .iter()
            .map(|h| &h.headers["webhook-id"])
            .collect();
        assert_eq!(ids.len(), 60, "{path}: every message once");
    }
}

async fn a_key_about_to_expire_says_so_once(backend: Backend) {
    let start: DateTime<Utc> = "2026-06-01T08:00:00Z".parse().unwrap();
    let app = TestApp::spawn_custom(backend, Clock::frozen(start), |_| {}).await;
    let w = World::build(&app).await;
    let admin = app.login(&w.admin.email).await;
    let (key_id, key) = app
        .create_key(
            &admin,
            json!({"name": "Sheets", "device_ids": [w.n1], "expires_on": "2026-06-20", "time_zone": "UTC", "permissions": {"webhooks": true}}),
        )
        .await;
    let s = Setup {
        app,
        w,
        admin,
        key_id,
        key,
    };
    let rx = Receiver::start().await;
    s.endpoint(json!({"url": rx.url("/expiring"), "events": ["key.expiring"]}))
        .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(rx.hits("/expiring").is_empty(), "not yet: 19 days ahead");
    // Six days before the end of 20 June.
    s.app
        .clock
        .set("2026-06-15T12:00:00Z".parse::<DateTime<Utc>>().unwrap());
    let hits = rx.wait_for("/expiring", 1, 5).await;
    let event: Value = serde_json::from_str(&hits[0].body).unwrap();
    assert_eq!(event["type"], "key.expiring");
    assert_eq!(event["data"]["name"], "Sheets");
    assert_eq!(event["data"]["id"], s.key_id);
    assert_eq!(event["data"]["expires_on"], "2026-06-20");
    s.app
        .clock
        .set("2026-06-15T12:05:00Z".parse::<DateTime<Utc>>().unwrap());
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(rx.hits("/expiring").len(), 1, "once");
}

/// The binary, delivering webhooks for the test's database, on a free port.
async fn start_binary(app: &TestApp) -> crate::helpers::KillOnDrop {
    use base64::Engine as _;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = crate::helpers::KillOnDrop(Some(
        std::process::Command::new(env!("CARGO_BIN_EXE_partlogic"))
            .args([
                "serve",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--workers",
                "1",
            ])
            .env("DATABASE_URL", app.database_url())
            .env(
                "PARTLOGIC_WEBHOOK_KEY",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([42u8; 32]),
            )
            .env("PARTLOGIC_WEBHOOK_ALLOW_PRIVATE", "true")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .unwrap(),
    ));
    for _ in 0..100 {
        if reqwest::get(format!("http://127.0.0.1:{port}/api/ping"))
            .await
            .is_ok()
        {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not start");
}

async fn kill_9_mid_delivery_loses_nothing(backend: Backend) {
    // The test's own server only arranges things; the binary delivers.
    let app = TestApp::spawn_custom(backend, Clock::system(), |s| s.webhook_worker = false).await;
    let w = World::build(&app).await;
    let s = setup_on(app, w, json!({"webhooks": true})).await;
    let rx = Receiver::start().await;
    let id = s
        .endpoint(json!({"url": rx.url("/crash"), "events": ["stock.below_min"]}))
        .await["id"]
        .as_i64()
        .unwrap();
    rx.script("/crash", vec![Reply::Hang(Duration::from_secs(60))]);
    let mut first = start_binary(&s.app).await;
    s.set_physical(s.w.n1, "N1-SKU0", 4).await;
    let hits = rx.wait_for("/crash", 1, 5).await;
    // Mid-delivery: the receiver has it and has not answered.
    let child = first.0.as_mut().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let d = s.deliveries(id).await;
    assert_eq!(d[0]["state"], "pending");
    assert_eq!(d[0]["attempts"], 0);
    let _second = start_binary(&s.app).await;
    // SQLite's one instance takes its claims back at start; on PostgreSQL the claim's lease
    // (45 s) runs out first.
    let again = rx.wait_for("/crash", 2, 70).await;
    assert_eq!(
        again[1].headers["webhook-id"],
        hits[0].headers["webhook-id"]
    );
    assert_eq!(again[1].body, hits[0].body);
    s.delivery_where(id, |d| d["state"] == "delivered").await;
}

/// The key page's Webhooks section, through the portal API with the session cookie: add (the
/// secret once), a stock change and a test event arriving signed, the deliveries, replay with
/// the same id, pause and enable, rotation, delete; another user's key, a key without the
/// permission and a retired key refused.
async fn the_portal_manages_a_keys_endpoints(backend: Backend) {
    let s = setup(backend).await;
    let rx = Receiver::start().await;
    let base = format!("/portal/api/keys/{}/webhooks", s.key_id);
    let portal = |method: reqwest::Method, path: &str| s.admin.request(method, s.app.url(path));
    let list = || async {
        let res = portal(reqwest::Method::GET, &base).send().await.unwrap();
        assert_eq!(res.status(), 200);
        res.json::<Vec<Value>>().await.unwrap()
    };
    assert!(list().await.is_empty());

    // Bad fields are named; a URL that may not be called has its own code.
    let res = portal(reqwest::Method::POST, &base)
        .json(&json!({"url": "ftp://example.com/x", "events": []}))
        .send()
        .await
        .unwrap();
    let p = assert_problem(res, 422, "webhook_url_not_allowed").await;
    assert!(p["detail"].as_str().is_some());
    let res = portal(reqwest::Method::POST, &base)
        .json(&json!({"url": rx.url("/p"), "events": []}))
        .send()
        .await
        .unwrap();
    let p = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(crate::helpers::error_fields(&p), ["events"]);

    let res = portal(reqwest::Method::POST, &base)
        .json(&json!({"url": rx.url("/p"), "events": ["stock.below_min"], "description": "store room"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let created: Value = res.json().await.unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let id = created["id"].as_i64().unwrap();
    let listed = list().await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["description"], "store room");
    assert!(
        listed[0].get("secret").is_none(),
        "the secret is shown once"
    );
    // The Stock API sees the same endpoint through the key.
    assert_eq!(s.get_endpoint(id).await["url"], rx.url("/p"));

    s.set_physical(s.w.n1, "N1-SKU0", 4).await;
    let hits = rx.wait_for("/p", 1, 5).await;
    assert!(verified_by_standardwebhooks(&secret, &hits[0]));

    // Send test event: queued, delivered, listed.
    let res = portal(reqwest::Method::POST, &format!("{base}/{id}/test"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let queued: Value = res.json().await.unwrap();
    let hits = rx.wait_for("/p", 2, 5).await;
    assert_eq!(
        hits[1].headers["webhook-id"],
        queued["message_id"].as_str().unwrap()
    );
    let event: Value = serde_json::from_str(&hits[1].body).unwrap();
    assert_eq!(event["type"], "webhook.test");
    let deliveries = |path: String| async move {
        for _ in 0..250 {
            let res = portal(reqwest::Method::GET, &path).send().await.unwrap();
            assert_eq!(res.status(), 200);
            let rows: Vec<Value> = res.json().await.unwrap();
            if rows.len() == 2 && rows.iter().all(|d| d["state"] == "delivered") {
                return rows;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("deliveries not settled");
    };
    let rows = deliveries(format!("{base}/{id}/deliveries")).await;
    assert_eq!(rows[0]["event_type"], "webhook.test");
    assert_eq!(rows[1]["event_type"], "stock.below_min");
    assert_eq!(rows[1]["last_status"], 200);
    assert!(rows[1]["last_latency_ms"].as_i64().is_some());

    // Replay: the same message again, with the same webhook-id.
    let first = hits[0].headers["webhook-id"].clone();
    let res = portal(
        reqwest::Method::POST,
        &format!("{base}/{id}/deliveries/{first}/replay"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), 202);
    let hits = rx.wait_for("/p", 3, 5).await;
    assert_eq!(hits[2].headers["webhook-id"], first);
    assert_eq!(hits[2].body, hits[0].body);
    let res = portal(
        reqwest::Method::POST,
        &format!("{base}/{id}/deliveries/msg_nosuchmessage/replay"),
    )
    .send()
    .await
    .unwrap();
    assert_problem(res, 404, "not_found").await;

    // Bad changes are refused with their codes, naming the field; nothing changes.
    let res = portal(reqwest::Method::PATCH, &format!("{base}/{id}"))
        .json(&json!({"url": "ftp://example.com/x"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 422, "webhook_url_not_allowed").await;
    let res = portal(reqwest::Method::PATCH, &format!("{base}/{id}"))
        .json(&json!({"events": ["stock.nope"]}))
        .send()
        .await
        .unwrap();
    let p = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(crate::helpers::error_fields(&p), ["events[0]"]);
    let res = portal(reqwest::Method::PATCH, &format!("{base}/{id}"))
        .json(&json!({"colour": "red"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "invalid_body").await;
    let res = portal(reqwest::Method::POST, &base)
        .header("Content-Type", "text/plain")
        .body("url=https://example.com")
        .send()
        .await
        .unwrap();
    assert_problem(res, 415, "unsupported_media_type").await;
    assert_eq!(list().await[0]["url"], rx.url("/p"));

    // Pause, then Enable again.
    let res = portal(reqwest::Method::PATCH, &format!("{base}/{id}"))
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let e: Value = res.json().await.unwrap();
    assert_eq!(e["enabled"], false);
    assert!(e["disabled_reason"].as_str().is_some());
    let res = portal(reqwest::Method::PATCH, &format!("{base}/{id}"))
        .json(&json!({"enabled": true}))
        .send()
        .await
        .unwrap();
    let e: Value = res.json().await.unwrap();
    assert_eq!(e["enabled"], true);
    assert!(e.get("disabled_reason").is_none());

    // Rotate: a new secret, the old one signs for a day more.
    let res = portal(reqwest::Method::POST, &format!("{base}/{id}/rotate-secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let rotated: Value = res.json().await.unwrap();
    assert_ne!(rotated["secret"], secret);
    assert!(list().await[0]["previous_secret_until"].as_str().is_some());

    // Another user's view: a member does not see the admin's key or its endpoints.
    let member = s.app.login(&s.w.member.email).await;
    let res = member.get(s.app.url(&base)).send().await.unwrap();
    assert_problem(res, 404, "not_found").await;
    let res = member
        .post(s.app.url(&format!("{base}/{id}/test")))
        .send()
        .await
        .unwrap();
    assert_problem(res, 404, "not_found").await;
    // Another key's path does not reach this endpoint.
    let (other, _) = s
        .app
        .create_key(
            &s.admin,
            json!({"name": "no hooks", "device_ids": [s.w.n1]}),
        )
        .await;
    let res = portal(
        reqwest::Method::POST,
        &format!("/portal/api/keys/{other}/webhooks/{id}/test"),
    )
    .send()
    .await
    .unwrap();
    assert_problem(res, 404, "not_found").await;
    // A key without Webhooks: manage gets no endpoints (it would receive nothing).
    let res = portal(
        reqwest::Method::POST,
        &format!("/portal/api/keys/{other}/webhooks"),
    )
    .json(&json!({"url": rx.url("/q"), "events": ["stock.below_min"]}))
    .send()
    .await
    .unwrap();
    assert_problem(res, 403, "permission_denied").await;
    // Not logged in.
    let res = s.app.client().get(s.app.url(&base)).send().await.unwrap();
    assert_problem(res, 401, "not_logged_in").await;

    // Delete: gone from both APIs; again is 404.
    let res = portal(reqwest::Method::DELETE, &format!("{base}/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(list().await.is_empty());
    let res = portal(reqwest::Method::DELETE, &format!("{base}/{id}"))
        .send()
        .await
        .unwrap();
    assert_problem(res, 404, "not_found").await;

    // A retired key takes no new endpoints.
    let res = s
        .admin
        .delete(s.app.url(&format!("/portal/api/keys/{}", s.key_id)))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    let res = portal(reqwest::Method::POST, &base)
        .json(&json!({"url": rx.url("/p"), "events": ["stock.below_min"]}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 409, "key_retired").await;
}
