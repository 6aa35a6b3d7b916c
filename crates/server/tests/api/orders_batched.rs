//! On PostgreSQL, creates that arrive together are written in one statement
//! (`orders::create::batched`): each keeps the outcome it would have alone, all of a batch
//! commits in one transaction, and a batch that fails is written again create by create so that
//! only the create that failed it fails. PostgreSQL only: SQLite writes each create in a
//! transaction of its own.

use std::sync::Arc;

use futures_util::future::join_all;
use partlogic_server::orders::create::{self, Batches, Create, Draft, Memo, Ready, Written};
use partlogic_server::orders::idempotency::{Attempt, Stored, lock_id};
use partlogic_server::orders::numbers::Numbers;
use partlogic_server::orders::parse::{NewLine, NewOrder};
use partlogic_server::orders::store::Actor;
use partlogic_types::OrderDevice;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::{Backend, HeldLock, TestApp, World, postgres_url};

struct Kit {
    app: TestApp,
    w: World,
    key_id: i64,
    key: String,
    numbers: Arc<Numbers>,
    memo: Arc<Memo>,
    batches: Arc<Batches>,
}

impl Kit {
    async fn new() -> Option<Kit> {
        if postgres_url().is_none() {
            eprintln!("skipped: set TEST_DATABASE_URL to run on PostgreSQL");
            return None;
        }
        let (app, w) = TestApp::with_world(Backend::Postgres).await;
        let admin = app.login(&w.admin.email).await;
        let (key_id, key) = app
            .create_key(
                &admin,
                json!({"name": "batched", "device_ids": [w.n1], "permissions": {"orders": "write"}}),
            )
            .await;
        Some(Kit {
            app,
            w,
            key_id,
            key,
            numbers: Arc::new(Numbers::default()),
            memo: Arc::new(Memo::default()),
            batches: Arc::new(Batches::default()),
        })
    }

    /// Create `i`: three of item `N1-SKU{sku}` at device N1, checked and numbered as
    /// `POST /api/orders` does it, with `key` as its `Idempotency-Key` if given.
    async fn create(&self, i: usize, sku: usize, key: Option<&str>) -> Create {
        self.create_with(i, (self.w.n1, "N1"), sku, key, false)
            .await
    }

    /// As [`Kit::create`], from what the instance remembers of the item's stock row (one round
    /// trip; the write checks the row's description too): the item must have been prepared
    /// before.
    async fn create_remembered(&self, i: usize, sku: usize) -> Create {
        self.create_with(i, (self.w.n1, "N1"), sku, None, true)
            .await
    }

    /// Create `i` at `device` (id and name) of its item `sku`.
    async fn create_with(
        &self,
        i: usize,
        (device_id, device_name): (i64, &str),
        sku: usize,
        key: Option<&str>,
        remembered: bool,
    ) -> Create {
        let new = NewOrder {
            device_id,
            lines: vec![NewLine {
                sku: format!("{device_name}-SKU{sku}"),
                quantity: 3,
            }],
            reference: Some(format!("batched-{i}")),
            note: None,
        };
        let device = OrderDevice {
            id: device_id,
            name: device_name.to_owned(),
            customer: "North".to_owned(),
        };
        let actor = Actor::Key {
            id: self.key_id,
            name: "batched".to_owned(),
            prefix: "pl_test".to_owned(),
        };
        let now = chrono::Utc::now();
        let attempt = key.map(|k| {
            Attempt::new(
                self.w.acme,
                self.key_id,
                k.to_owned(),
                "POST /api/orders".to_owned(),
                format!("body {i}").as_bytes(),
            )
        });
        let draft = Draft {
            account_id: self.w.acme,
            device: &device,
            new: &new,
            actor: &actor,
            now,
        };
        let prepared = if remembered {
            create::quick(&self.app.db, &self.numbers, &self.memo, draft)
                .await
                .unwrap()
                .expect("remembered")
        } else {
            let Ready::Write(prepared) = create::prepare(
                &self.app.db,
                &self.numbers,
                &self.memo,
                draft,
                attempt.as_ref(),
            )
            .await
            .unwrap() else {
                panic!("item {i} had a record already");
            };
            prepared
        };
        let stored = Stored {
            status: 201,
            body: serde_json::to_string(&prepared.order).unwrap(),
            location: Some(format!("/api/orders/{}", prepared.order.id)),
        };
        Create {
            prepared,
            account_id: self.w.acme,
            new,
            actor,
            attempt: attempt.map(|a| (a, stored)),
            now,
        }
    }

    /// Writes `creates` as requests arriving together: all are queued before the first batch
    /// starts (one thread), so they go in one batch.
    async fn write_together(&self, creates: Vec<Create>) -> Vec<Result<Written, String>> {
        join_all(
            creates
                .into_iter()
                .map(|c| self.batches.write(&self.app.db, c)),
        )
        .await
        .into_iter()
        .map(|r| r.map_err(|e| e.to_string()))
        .collect()
    }

    async fn count(&self, sql: String) -> i64 {
        let row = self
            .app
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                sql,
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index::<i64>(0).unwrap()
    }

    async fn records(&self, key: &str) -> i64 {
        self.count(format!(
            "SELECT count(*) FROM idempotency_keys WHERE api_key_id = {} AND idem_key = '{key}'",
            self.key_id
        ))
        .await
    }
}

/// Five creates in one batch, each with its own fate: two written (one with a key, one
/// without), one whose stock row changed since it was read (stale), one whose key another
/// session holds (in use), one whose key got a record meanwhile (taken). Only the first two are
/// written, in one transaction, each as its answer shows it.
#[tokio::test]
async fn creates_arriving_together_keep_their_own_outcomes() {
    let Some(k) = Kit::new().await else { return };
    let n1 = k.w.n1;
    let a = k.create(0, 0, Some("a")).await;
    let b = k.create(1, 1, None).await;
    let c = k.create(2, 2, Some("c")).await;
    let d = k.create(3, 0, Some("d")).await;
    let e = k.create(4, 1, Some("e")).await;
    let ids: Vec<i64> = [&a, &b, &c, &d, &e]
        .iter()
        .map(|c| c.prepared.order.id)
        .collect();
    let answer_a: Value = serde_json::from_str(&a.attempt.as_ref().unwrap().1.body).unwrap();

    // c: its item now goes by another SKU.
    k.app
        .db
        .execute_unprepared(&format!(
            "UPDATE stock SET sku = 'N1-MOVED' WHERE device_id = {n1} AND sku = 'N1-SKU2'"
        ))
        .await
        .unwrap();
    // d: a create with its key runs elsewhere and holds the key's lock.
    let elsewhere = HeldLock::take(&k.app.db, lock_id(&d.attempt.as_ref().unwrap().0)).await;
    // e: a request with its key committed its record first.
    k.app
        .db
        .execute_unprepared(&format!(
            "INSERT INTO idempotency_keys (account_id, api_key_id, idem_key, endpoint, \
             request_digest, locked_at, expires_at, response_status, response_body) \
             VALUES ({}, {}, 'e', 'POST /api/orders', 'first', now(), now() + interval '1 day', \
             201, '{{}}')",
            k.w.acme, k.key_id
        ))
        .await
        .unwrap();

    let outcomes = k.write_together(vec![a, b, c, d, e]).await;
    assert_eq!(
        outcomes,
        vec![
            Ok(Written::Created),
            Ok(Written::Created),
            Ok(Written::Stale),
            Ok(Written::InUse),
            Ok(Written::Taken),
        ]
    );
    elsewhere.release().await;

    let list = |ids: &[i64]| ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let (written, refused) = (list(&ids[..2]), list(&ids[2..]));
    assert_eq!(
        k.count(format!(
            "SELECT count(*) FROM orders WHERE id IN ({written})"
        ))
        .await,
        2
    );
    assert_eq!(
        k.count(format!(
            "SELECT count(DISTINCT xmin::text) FROM orders WHERE id IN ({written})"
        ))
        .await,
        1,
        "one transaction"
    );
    for table in [
        "orders WHERE id",
        "order_lines WHERE order_id",
        "order_events WHERE order_id",
    ] {
        assert_eq!(
            k.count(format!("SELECT count(*) FROM {table} IN ({refused})"))
                .await,
            0,
            "{table}: nothing of the refused creates"
        );
        assert_eq!(
            k.count(format!("SELECT count(*) FROM {table} IN ({written})"))
                .await,
            2,
            "{table}"
        );
    }
    assert_eq!(k.records("a").await, 1);
    assert_eq!(k.records("c").await, 0);
    assert_eq!(k.records("d").await, 0);
    assert_eq!(
        k.count(format!(
            "SELECT count(*) FROM idempotency_keys WHERE api_key_id = {} AND idem_key = 'e' \
             AND request_digest = 'first'",
            k.key_id
        ))
        .await,
        1,
        "the first record stays"
    );

    // What a's key keeps is what was written.
    let read: Value = k
        .app
        .api_get(&format!("/api/orders/{}", ids[0]), &k.key)
        .await
        .json()
        .await
        .unwrap();
    for field in [
        "id",
        "number",
        "status",
        "device",
        "lines",
        "reference",
        "created_by",
    ] {
        assert_eq!(read[field], answer_a[field], "{field}");
    }
    let stored: Value = serde_json::from_str(
        &k.app
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                format!(
                    "SELECT response_body FROM idempotency_keys WHERE api_key_id = {} AND idem_key = 'a'",
                    k.key_id
                ),
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<String>(0)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(stored, answer_a);
}

/// A batch whose statement fails (here one create's id is taken, as a create could find after
/// a lost answer) writes nothing; each of its creates is then written alone, and only the one
/// that failed it fails.
#[tokio::test]
async fn a_batch_that_fails_is_written_create_by_create() {
    let Some(k) = Kit::new().await else { return };
    let first = k.create(0, 0, None).await;
    let taken = first.prepared.order.id;
    assert_eq!(
        k.write_together(vec![first]).await,
        vec![Ok(Written::Created)]
    );

    let f = k.create(1, 1, Some("f")).await;
    let mut g = k.create(2, 2, Some("g")).await;
    g.prepared.order.id = taken;
    let h = k.create(3, 0, None).await;
    let (f_id, h_id) = (f.prepared.order.id, h.prepared.order.id);
    let outcomes = k.write_together(vec![f, g, h]).await;
    assert_eq!(outcomes[0], Ok(Written::Created));
    assert!(outcomes[1].is_err(), "{:?}", outcomes[1]);
    assert_eq!(outcomes[2], Ok(Written::Created));
    assert_eq!(
        k.count(format!(
            "SELECT count(DISTINCT xmin::text) FROM orders WHERE id IN ({f_id}, {h_id})"
        ))
        .await,
        2,
        "each alone"
    );
    assert_eq!(k.records("f").await, 1);
    assert_eq!(k.records("g").await, 0, "nothing of the create that failed");
    assert_eq!(k.count("SELECT count(*) FROM orders".to_owned()).await, 3);
}

/// Through the API: 60 creates sent at once (40 with keys of their own, 10 without, and 5 keys
/// sent twice) make 55 orders with 55 numbers, one per key, each read back as it was answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_sent_at_once_make_one_order_each() {
    let Some(k) = Kit::new().await else { return };
    let n1 = k.w.n1;
    let client = reqwest::Client::new();
    let mut sends = Vec::new();
    for i in 0..60 {
        let key = match i {
            0..40 => Some(format!("own-{i}")),
            40..50 => None,
            _ => Some(format!("twice-{}", i % 5)),
        };
        // The two requests with one key send one body.
        let j = if i >= 50 { 50 + i % 5 } else { i };
        let body = json!({"device_id": n1, "lines": [{"sku": format!("N1-SKU{}", j % 3), "quantity": 1 + j % 7}], "reference": key.clone().unwrap_or_else(|| format!("keyless-{i}"))});
        let (client, url, api_key) = (client.clone(), k.app.url("/api/orders"), k.key.clone());
        sends.push(tokio::spawn(async move {
            for _ in 0..200 {
                let mut req = client.post(&url).header("X-API-Key", &api_key).json(&body);
                if let Some(key) = &key {
                    req = req.header("Idempotency-Key", key);
                }
                let res = req.send().await.unwrap();
                if res.status() == 409 {
                    // The other request with this key is being written: retry as a client would.
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    continue;
                }
                assert_eq!(res.status(), 201);
                return (key, res.json::<Value>().await.unwrap());
            }
            panic!("{key:?}: in use for 4 s");
        }));
    }
    let answers: Vec<(Option<String>, Value)> = join_all(sends)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    let mut by_key = std::collections::HashMap::new();
    for (key, answer) in &answers {
        if let Some(key) = key
            && let Some(first) = by_key.insert(key.clone(), answer.clone())
        {
            assert_eq!(&first, answer, "{key}: one answer");
        }
    }
    let mut ids: Vec<i64> = answers
        .iter()
        .map(|(_, a)| a["id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 55);
    let numbers: std::collections::HashSet<&str> = answers
        .iter()
        .map(|(_, a)| a["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers.len(), 55);
    assert_eq!(k.count("SELECT count(*) FROM orders".to_owned()).await, 55);
    assert_eq!(
        k.count("SELECT count(*) FROM order_lines".to_owned()).await,
        55
    );
    assert_eq!(
        k.count("SELECT count(*) FROM idempotency_keys".to_owned())
            .await,
        45
    );
    for (_, answer) in answers.iter().step_by(7) {
        let read: Value = k
            .app
            .api_get(&format!("/api/orders/{}", answer["id"]), &k.key)
            .await
            .json()
            .await
            .unwrap();
        for field in ["number", "lines", "reference", "device"] {
            assert_eq!(read[field], answer[field], "{field}");
        }
    }
}

/// A create built from what the instance remembers of its item checks the remembered
/// description in the batch too: changed since, it is stale (and prepared again by
/// `POST /api/orders`), while the create beside it is written.
#[tokio::test]
async fn a_remembered_item_that_changed_is_stale_in_a_batch() {
    let Some(k) = Kit::new().await else { return };
    let n1 = k.w.n1;
    // Prepared once (never written), so the instance remembers N1-SKU0.
    drop(k.create(0, 0, None).await);
    let remembered = k.create_remembered(1, 0).await;
    let beside = k.create(2, 1, Some("beside")).await;
    k.app
        .db
        .execute_unprepared(&format!(
            "UPDATE stock SET description = 'Renamed meanwhile' WHERE device_id = {n1} AND sku = 'N1-SKU0'"
        ))
        .await
        .unwrap();
    assert_eq!(
        k.write_together(vec![remembered, beside]).await,
        vec![Ok(Written::Stale), Ok(Written::Created)]
    );
    assert_eq!(k.count("SELECT count(*) FROM orders".to_owned()).await, 1);
    assert_eq!(k.records("beside").await, 1);
}

/// The `order.created` events of a batch: one message per order, delivered to each endpoint
/// whose key reaches the order's device and to no other.
#[tokio::test]
async fn a_batch_s_order_events_go_to_the_endpoints_reaching_each_device() {
    let Some(k) = Kit::new().await else { return };
    let (n1, n2) = (k.w.n1, k.w.n2);
    let admin = k.app.login(&k.w.admin.email).await;
    for (device, path) in [(n1, "n1"), (n2, "n2")] {
        let (_, key) = k
            .app
            .create_key(
                &admin,
                json!({"name": format!("hooks {path}"), "device_ids": [device], "permissions": {"orders": "read", "webhooks": true}}),
            )
            .await;
        let res = k
            .app
            .client()
            .post(k.app.url("/api/webhooks"))
            .header("X-API-Key", &key)
            .json(
                &json!({"url": format!("http://127.0.0.1:9/{path}"), "events": ["order.created"]}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    }
    let creates = vec![
        k.create_with(0, (n1, "N1"), 0, Some("hook-1"), false).await,
        k.create_with(1, (n2, "N2"), 0, None, false).await,
        k.create_with(2, (n1, "N1"), 1, None, false).await,
        k.create_with(3, (n2, "N2"), 2, Some("hook-2"), false).await,
    ];
    let ids: Vec<String> = creates
        .iter()
        .map(|c| c.prepared.order.id.to_string())
        .collect();
    assert_eq!(
        k.write_together(creates).await,
        (0..4).map(|_| Ok(Written::Created)).collect::<Vec<_>>()
    );
    let ids = ids.join(",");
    assert_eq!(
        k.count(format!(
            "SELECT count(*) FROM webhook_messages WHERE event_type = 'order.created' \
             AND (payload::jsonb -> 'data' ->> 'id')::int8 IN ({ids}) \
             AND (payload::jsonb -> 'data' -> 'device' ->> 'id')::int8 = device_id"
        ))
        .await,
        4,
        "one message per order, of its device"
    );
    assert_eq!(
        k.count("SELECT count(*) FROM webhook_messages".to_owned())
            .await,
        4
    );
    assert_eq!(
        k.count(format!(
            "SELECT count(*) FROM webhook_deliveries d \
             JOIN webhook_endpoints e ON e.id = d.endpoint_id \
             JOIN webhook_messages m ON m.id = d.message_id \
             WHERE (m.device_id = {n1} AND e.url LIKE '%/n1') OR (m.device_id = {n2} AND e.url LIKE '%/n2')"
        ))
        .await,
        4,
        "each to the endpoint reaching its device"
    );
    assert_eq!(
        k.count("SELECT count(*) FROM webhook_deliveries".to_owned())
            .await,
        4
    );
}
