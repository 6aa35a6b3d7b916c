//! Orders through the Stock API: key permissions, creating, listing, receiving and cancelling,
//! reach, bad input, and `Idempotency-Key` (replay, reuse, in flight, several instances).

use std::sync::Arc;

use partlogic_server::http::config::Settings;
use partlogic_server::http::startup::Application;
use serde_json::{Value, json};

use crate::helpers::{
    Backend, HeldLock, TestApp, World, assert_problem, error_fields, postgres_url,
};
use crate::on_every_database;

on_every_database!(
    each_endpoint_needs_its_permission_and_changes_apply_at_once,
    orders_are_created_listed_and_read_within_reach,
    bad_orders_are_refused_naming_the_field_and_write_nothing,
    receiving_adds_to_stock_and_records_alerts,
    cancel_rules,
    concurrent_receives_of_one_line_let_one_win,
    idempotency_keys_replay_refuse_reuse_and_keep_4xx,
    orders_csv_neutralises_formulas,
    portal_orders_follow_who_sees_which_device_and_if_match,
    the_listing_is_serde_s_json_of_each_order,
    stock_rows_changed_since_the_last_create_are_read_again,
);

struct Setup {
    app: TestApp,
    w: World,
    admin: reqwest::Client,
    key_id: i64,
    key: String,
}

async fn setup(backend: Backend, orders: &str) -> Setup {
    let (app, w) = TestApp::with_world(backend).await;
    let admin = app.login(&w.admin.email).await;
    let (key_id, key) = app
        .create_key(
            &admin,
            json!({"name": "orders", "device_ids": [w.n1, w.n2], "permissions": {"orders": orders}}),
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

impl Setup {
    fn post(&self, path: &str, body: &Value) -> reqwest::RequestBuilder {
        self.app
            .client()
            .post(self.app.url(path))
            .header("X-API-Key", &self.key)
            .json(body)
    }

    async fn order(&self, body: Value) -> Value {
        let res = self.post("/api/orders", &body).send().await.unwrap();
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        res.json().await.unwrap()
    }

    fn sku(&self, device: i64, i: usize) -> String {
        let name = if device == self.w.n1 { "N1" } else { "N2" };
        format!("{name}-SKU{i}")
    }

    async fn physical(&self, device: i64, sku: &str) -> i64 {
        let rows: Vec<Value> = self
            .app
            .api_get(&format!("/api/stock?device={device}&sku={sku}"), &self.key)
            .await
            .json()
            .await
            .unwrap();
        rows[0]["Physical"].as_i64().unwrap()
    }
}

async fn each_endpoint_needs_its_permission_and_changes_apply_at_once(backend: Backend) {
    let s = setup(backend, "none").await;
    let body = json!({"device_id": s.w.n1, "lines": [{"sku": s.sku(s.w.n1, 0), "quantity": 1}]});
    let calls = |s: &Setup| {
        vec![
            ("orders:read", s.app.client().get(s.app.url("/api/orders"))),
            (
                "orders:read",
                s.app.client().get(s.app.url("/api/orders/1")),
            ),
            (
                "orders:write",
                s.app.client().post(s.app.url("/api/orders")).json(&body),
            ),
            (
                "orders:write",
                s.app
                    .client()
                    .post(s.app.url("/api/orders/1/receive"))
                    .json(&json!({})),
            ),
            (
                "orders:write",
                s.app.client().post(s.app.url("/api/orders/1/cancel")),
            ),
        ]
    };
    // Orders none: every orders endpoint refuses, naming what it needs; stock still reads.
    for (needs, req) in calls(&s) {
        let res = req.header("X-API-Key", &s.key).send().await.unwrap();
        assert_eq!(res.headers()["partlogic-required-permission"], needs);
        let p = assert_problem(res, 403, "permission_denied").await;
        assert!(p["detail"].as_str().unwrap().contains(needs), "{p}");
    }
    assert_eq!(s.app.api_get("/api/stock", &s.key).await.status(), 200);
    let info: Value = s
        .app
        .api_get("/api/key", &s.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        info["permissions"],
        json!({"stock": "read", "orders": "none", "webhooks": false})
    );
    // Even a refused key hears which permission an endpoint needs.
    let res = s
        .app
        .client()
        .get(s.app.url("/api/orders"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["partlogic-required-permission"],
        "orders:read"
    );
    assert_problem(res, 401, "missing_api_key").await;

    // Read only: reads pass, writes refused; the change is audited and applies at once.
    let patch = |orders: &str| {
        s.admin
            .patch(s.app.url(&format!("/portal/api/keys/{}", s.key_id)))
            .json(&json!({"permissions": {"orders": orders}}))
            .send()
    };
    let res = patch("read").await.unwrap();
    assert_eq!(res.status(), 200);
    let detail: Value = res.json().await.unwrap();
    assert_eq!(detail["permissions"]["orders"], "read");
    assert!(
        detail["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "edited"
                && e["detail"]
                    .as_str()
                    .unwrap()
                    .contains("Orders: no access → Orders: read only")),
        "{detail}"
    );
    assert_eq!(s.app.api_get("/api/orders", &s.key).await.status(), 200);
    let res = s.post("/api/orders", &body).send().await.unwrap();
    assert_problem(res, 403, "permission_denied").await;
    patch("write").await.unwrap();
    let res = s.post("/api/orders", &body).send().await.unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(
        res.headers()["partlogic-required-permission"],
        "orders:write"
    );
    // Back to none: refused on the very next request.
    patch("none").await.unwrap();
    let res = s.app.api_get("/api/orders", &s.key).await;
    assert_problem(res, 403, "permission_denied").await;
    // The portal list shows the permissions; unknown levels are refused.
    let keys: Vec<Value> = s.app.get_json(&s.admin, "/portal/api/keys").await;
    assert_eq!(keys[0]["permissions"]["orders"], "none");
    let res = s
        .admin
        .patch(s.app.url(&format!("/portal/api/keys/{}", s.key_id)))
        .json(&json!({"permissions": {"orders": "admin"}}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "invalid_body").await;
}

async fn orders_are_created_listed_and_read_within_reach(backend: Backend) {
    let s = setup(backend, "write").await;
    let (n1, n2) = (s.w.n1, s.w.n2);
    let a = s
        .order(json!({"device_id": n1, "lines": [{"sku": s.sku(n1, 0), "quantity": 5}, {"sku": s.sku(n1, 1), "quantity": 2}], "reference": "row-1", "note": "first\nsecond"}))
        .await;
    assert_eq!(a["number"], "PO-000001");
    assert_eq!(a["status"], "open");
    assert_eq!(a["device"]["name"], "N1");
    assert_eq!(a["lines"][1]["outstanding"], 2);
    assert_eq!(a["created_by"]["kind"], "key");
    assert_eq!(a["created_by"]["name"], "orders");
    let b = s
        .order(json!({"device_id": n2, "lines": [{"sku": s.sku(n2, 0), "quantity": 1}]}))
        .await;
    assert_eq!(b["number"], "PO-000002");
    let res = s.post("/api/orders", &json!({"device_id": n2, "lines": [{"sku": s.sku(n2, 2), "quantity": 3}], "reference": "row-1"})).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/api/orders/3");
    // Newest first, a page at a time, with a Link to the next.
    let res = s.app.api_get("/api/orders?limit=2", &s.key).await;
    let link = res.headers()["link"].to_str().unwrap().to_owned();
    assert_eq!(link, "</api/orders?limit=2&before=2>; rel=\"next\"");
    let page: Vec<Value> = res.json().await.unwrap();
    assert_eq!(
        page.iter()
            .map(|o| o["id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![3, 2]
    );
    let res = s.app.api_get("/api/orders?limit=2&before=2", &s.key).await;
    assert!(res.headers().get("link").is_none());
    let page: Vec<Value> = res.json().await.unwrap();
    assert_eq!(page.len(), 1);
    let ids = |path: String| {
        let s = &s;
        async move {
            let v: Vec<Value> = s.app.api_get(&path, &s.key).await.json().await.unwrap();
            v.iter()
                .map(|o| o["id"].as_i64().unwrap())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(ids(format!("/api/orders?device={n1}")).await, vec![1]);
    assert_eq!(ids("/api/orders?reference=row-1".into()).await, vec![3, 1]);
    assert_eq!(
        ids("/api/orders?status=received".into()).await,
        Vec::<i64>::new()
    );
    assert_eq!(
        ids("/api/orders?created_since=2000-01-01T00:00:00Z".into()).await,
        vec![3, 2, 1]
    );
    assert_eq!(
        ids("/api/orders?created_since=2999-01-01T00:00:00Z".into()).await,
        Vec::<i64>::new()
    );
    let res = s.app.api_get("/api/orders?status=lost", &s.key).await;
    assert_problem(res, 400, "invalid_parameters").await;
    let res = s
        .app
        .api_get(&format!("/api/orders?device={}", s.w.s1), &s.key)
        .await;
    assert_problem(res, 403, "device_not_in_scope").await;
    let one: Value = s
        .app
        .api_get("/api/orders/1", &s.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one, a);

    // Another key of the account reaching only N2 sees only N2's orders; N1's are 404.
    let (_, other) = s
        .app
        .create_key(
            &s.admin,
            json!({"name": "n2", "device_ids": [n2], "permissions": {"orders": "read"}}),
        )
        .await;
    let v: Vec<Value> = s
        .app
        .api_get("/api/orders", &other)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v.len(), 2);
    assert_problem(
        s.app.api_get("/api/orders/1", &other).await,
        404,
        "not_found",
    )
    .await;
    // Another account's key never sees them.
    let globex = s.app.login(&s.w.gadmin.email).await;
    let (_, gkey) = s
        .app
        .create_key(
            &globex,
            json!({"name": "g", "device_ids": [s.w.g1], "permissions": {"orders": "write"}}),
        )
        .await;
    assert_problem(
        s.app.api_get("/api/orders/1", &gkey).await,
        404,
        "not_found",
    )
    .await;
    let v: Vec<Value> = s
        .app
        .api_get("/api/orders", &gkey)
        .await
        .json()
        .await
        .unwrap();
    assert!(v.is_empty());
    // Orders of a device for which a key is refused: 403 on create.
    let res = s
        .app
        .client()
        .post(s.app.url("/api/orders"))
        .header("X-API-Key", &gkey)
        .json(&json!({"device_id": n1, "lines": [{"sku": s.sku(n1, 0), "quantity": 1}]}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 403, "device_not_in_scope").await;

    // A member's key loses a device when the member does: its orders there vanish (404).
    let member = s.app.login(&s.w.member.email).await;
    let (_, mkey) = s
        .app
        .create_key(
            &member,
            json!({"name": "m", "device_ids": [n1], "permissions": {"orders": "read"}}),
        )
        .await;
    assert_eq!(s.app.api_get("/api/orders/1", &mkey).await.status(), 200);
    partlogic_server::accounts::admin::revoke(
        &s.app.db,
        &s.w.member.email,
        &[partlogic_server::accounts::admin::DeviceRef::Id(n1)],
    )
    .await
    .unwrap();
    crate::helpers::within_a_second("the revoke reaches the key", || async {
        s.app.api_get("/api/orders/1", &mkey).await.status() == 404
    })
    .await;
}

async fn bad_orders_are_refused_naming_the_field_and_write_nothing(backend: Backend) {
    let s = setup(backend, "write").await;
    let n1 = s.w.n1;
    let sku = s.sku(n1, 0);
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"device_id": n1, "lines": [{"sku": "NOPE", "quantity": 1}, {"sku": sku, "quantity": 1}]}),
            "lines[0].sku",
        ),
        (
            json!({"device_id": n1, "lines": [{"sku": sku, "quantity": 0}]}),
            "lines[0].quantity",
        ),
        (
            json!({"device_id": n1, "lines": [{"sku": sku, "quantity": -3}]}),
            "lines[0].quantity",
        ),
        (
            json!({"device_id": n1, "lines": [{"sku": sku, "quantity": 1.5}]}),
            "lines[0].quantity",
        ),
        (
            json!({"device_id": n1, "lines": [{"sku": sku, "quantity": 1000001}]}),
            "lines[0].quantity",
        ),
        (
            json!({"device_id": n1, "lines": [{"sku": sku, "quantity": "2"}]}),
            "lines[0].quantity",
        ),
        (
            json!({"device_id": n1, "lines": [{"sku": sku, "quantity": 1}, {"sku": sku, "quantity": 2}]}),
            "lines[1].sku",
        ),
        (json!({"device_id": n1, "lines": []}), "lines"),
        (json!({"device_id": n1}), "lines"),
        (json!({"lines": [{"sku": sku, "quantity": 1}]}), "device_id"),
        (
            json!({"device_id": n1, "lines": [{"sku": "a\u{7}b", "quantity": 1}]}),
            "lines[0].sku",
        ),
        (
            json!({"device_id": n1, "lines": [{"sku": sku, "quantity": 1}], "reference": "x\u{0}"}),
            "reference",
        ),
        (
            json!({"device_id": n1, "lines": [{"sku": sku, "quantity": 1}], "reference": "r".repeat(101)}),
            "reference",
        ),
        (
            json!({"device_id": n1, "lines": [{"sku": sku, "quantity": 1}], "note": "n".repeat(1001)}),
            "note",
        ),
    ];
    for (body, field) in cases {
        let res = s.post("/api/orders", &body).send().await.unwrap();
        let p = assert_problem(res, 422, "validation_failed").await;
        assert!(error_fields(&p).contains(&field), "{body}: {p}");
    }
    let many: Vec<Value> = (0..201)
        .map(|i| json!({"sku": format!("S{i}"), "quantity": 1}))
        .collect();
    let p = assert_problem(
        s.post("/api/orders", &json!({"device_id": n1, "lines": many}))
            .send()
            .await
            .unwrap(),
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(error_fields(&p), vec!["lines"]);
    // Not JSON, not an object, unknown fields, wrong content type, too large.
    for (body, ctype, status, code) in [
        ("{", "application/json", 400, "invalid_body"),
        ("[1]", "application/json", 400, "invalid_body"),
        (
            "{\"device_id\": 1, \"lines\": [], \"colour\": 1}",
            "application/json",
            400,
            "invalid_body",
        ),
        (
            "device_id=1",
            "application/x-www-form-urlencoded",
            415,
            "unsupported_media_type",
        ),
    ] {
        let res = s
            .app
            .client()
            .post(s.app.url("/api/orders"))
            .header("X-API-Key", &s.key)
            .header("Content-Type", ctype)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_problem(res, status, code).await;
    }
    let huge = format!("{{\"device_id\": 1, \"note\": \"{}\"}}", "x".repeat(70_000));
    let res = s
        .app
        .client()
        .post(s.app.url("/api/orders"))
        .header("X-API-Key", &s.key)
        .header("Content-Type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_problem(res, 413, "payload_too_large").await;
    // Nothing was written.
    let v: Vec<Value> = s
        .app
        .api_get("/api/orders", &s.key)
        .await
        .json()
        .await
        .unwrap();
    assert!(v.is_empty(), "{v:?}");
    let ok = s
        .order(json!({"device_id": n1, "lines": [{"sku": sku, "quantity": 1}]}))
        .await;
    assert_eq!(ok["number"], "PO-000001", "refused orders took no number");
}

async fn receiving_adds_to_stock_and_records_alerts(backend: Backend) {
    let s = setup(backend, "write").await;
    let n1 = s.w.n1;
    // SKU1 has Physical 3 under MinQty 10.
    let (low, other) = (s.sku(n1, 1), s.sku(n1, 0));
    let o = s
        .order(json!({"device_id": n1, "lines": [{"sku": low, "quantity": 10}, {"sku": other, "quantity": 4}]}))
        .await;
    let before_other = s.physical(n1, &other).await;
    // Part of one line: the order stays open, the row climbs to 8 (still below: no alert).
    let res = s
        .post(
            "/api/orders/1/receive",
            &json!({"lines": [{"sku": low, "quantity": 5}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["status"], "open");
    assert_eq!(v["lines"][0]["received"], 5);
    assert_eq!(v["lines"][0]["outstanding"], 5);
    assert_eq!(s.physical(n1, &low).await, 8);
    // More than is outstanding, or a line not on the order: 422 naming it; nothing changes.
    let p = assert_problem(
        s.post(
            "/api/orders/1/receive",
            &json!({"lines": [{"sku": low, "quantity": 6}]}),
        )
        .send()
        .await
        .unwrap(),
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(error_fields(&p), vec!["lines[0].quantity"]);
    let p = assert_problem(
        s.post(
            "/api/orders/1/receive",
            &json!({"lines": [{"sku": "N2-SKU0", "quantity": 1}]}),
        )
        .send()
        .await
        .unwrap(),
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(error_fields(&p), vec!["lines[0].sku"]);
    assert_eq!(s.physical(n1, &low).await, 8);
    // The rest of everything: received; the low row is back over its minimum: restocked.
    let v: Value = s
        .post("/api/orders/1/receive", &json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "received");
    assert_eq!(s.physical(n1, &low).await, 13);
    assert_eq!(s.physical(n1, &other).await, before_other + 4);
    let alerts: Vec<Value> = s
        .app
        .api_get("/api/stock/alerts", &s.key)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        alerts.iter().any(|a| a["SKU"] == low
            && a["Kind"] == "restocked"
            && a["Physical"] == 13
            && a["PreviousPhysical"] == 8),
        "{alerts:?}"
    );
    let history: Vec<&str> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(history, vec!["created", "received", "received"]);
    assert_eq!(o["id"], v["id"]);
    // A received order takes nothing more (a POST with no body at all means "everything").
    let res = s
        .app
        .client()
        .post(s.app.url("/api/orders/1/receive"))
        .header("X-API-Key", &s.key)
        .send()
        .await
        .unwrap();
    assert_problem(res, 409, "order_not_open").await;
    assert_problem(
        s.post("/api/orders/1/receive", &json!({}))
            .send()
            .await
            .unwrap(),
        409,
        "order_not_open",
    )
    .await;
    assert_problem(
        s.post("/api/orders/99/receive", &json!({}))
            .send()
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;
}

async fn cancel_rules(backend: Backend) {
    let s = setup(backend, "write").await;
    let n1 = s.w.n1;
    let line = json!([{"sku": s.sku(n1, 0), "quantity": 4}]);
    s.order(json!({"device_id": n1, "lines": line})).await;
    s.order(json!({"device_id": n1, "lines": line})).await;
    let cancel = |id: i64| {
        s.app
            .client()
            .post(s.app.url(&format!("/api/orders/{id}/cancel")))
            .header("X-API-Key", &s.key)
            .send()
    };
    let res = cancel(1).await.unwrap();
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["status"], "cancelled");
    assert_eq!(v["events"][1]["action"], "cancelled");
    assert_problem(cancel(1).await.unwrap(), 409, "order_not_open").await;
    s.post(
        "/api/orders/2/receive",
        &json!({"lines": [{"sku": s.sku(n1, 0), "quantity": 1}]}),
    )
    .send()
    .await
    .unwrap();
    assert_problem(cancel(2).await.unwrap(), 409, "order_partly_received").await;
    let res = s
        .post("/api/orders/2/cancel", &json!({"why": "x"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "invalid_body").await;
}

async fn concurrent_receives_of_one_line_let_one_win(backend: Backend) {
    let s = setup(backend, "write").await;
    let n1 = s.w.n1;
    let sku = s.sku(n1, 0);
    s.order(json!({"device_id": n1, "lines": [{"sku": sku, "quantity": 10}]}))
        .await;
    let before = s.physical(n1, &sku).await;
    let body = json!({"lines": [{"sku": sku, "quantity": 10}]});
    let mut tasks = Vec::new();
    for _ in 0..6 {
        tasks.push(s.post("/api/orders/1/receive", &body).send());
    }
    let statuses: Vec<u16> = futures_util::future::join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| [200, 409, 412].contains(s)),
        "{statuses:?}"
    );
    assert_eq!(s.physical(n1, &sku).await, before + 10, "received once");
}

async fn idempotency_keys_replay_refuse_reuse_and_keep_4xx(backend: Backend) {
    let s = setup(backend, "write").await;
    let n1 = s.w.n1;
    let body = json!({"device_id": n1, "lines": [{"sku": s.sku(n1, 0), "quantity": 2}], "reference": "row-9"});
    let send = |key: &str, body: &Value| {
        s.post("/api/orders", body)
            .header("Idempotency-Key", key)
            .send()
    };
    let first = send("row-9", &body).await.unwrap();
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let location = first.headers()["location"].clone();
    let first: Value = first.json().await.unwrap();
    for _ in 0..3 {
        let again = send("row-9", &body).await.unwrap();
        assert_eq!(again.status(), 201);
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        assert_eq!(again.headers()["location"], location);
        let v: Value = again.json().await.unwrap();
        assert_eq!(v, first);
    }
    let v: Vec<Value> = s
        .app
        .api_get("/api/orders", &s.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v.len(), 1, "one order however often it is sent");
    // The same key with another body, or at another endpoint: refused.
    let other = json!({"device_id": n1, "lines": [{"sku": s.sku(n1, 0), "quantity": 3}]});
    assert_problem(
        send("row-9", &other).await.unwrap(),
        422,
        "idempotency_key_reused",
    )
    .await;
    let res = s
        .post("/api/orders/1/receive", &json!({}))
        .header("Idempotency-Key", "row-9")
        .send()
        .await
        .unwrap();
    assert_problem(res, 422, "idempotency_key_reused").await;
    // A 4xx is kept too: the same bad request gets the same answer, replayed.
    let bad = json!({"device_id": n1, "lines": [{"sku": "NOPE", "quantity": 1}]});
    let res = send("row-10", &bad).await.unwrap();
    assert!(res.headers().get("idempotent-replayed").is_none());
    let p1 = assert_problem(res, 422, "validation_failed").await;
    let res = send("row-10", &bad).await.unwrap();
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    assert_eq!(assert_problem(res, 422, "validation_failed").await, p1);
    // Records belong to the API key that sent them: another key of the same account (here one
    // reaching another device) with the same Idempotency-Key and body gets no replay of an
    // order it could not read, but an answer of its own.
    let (_, other) = s
        .app
        .create_key(
            &s.admin,
            json!({"name": "n2 only", "device_ids": [s.w.n2], "permissions": {"orders": "write"}}),
        )
        .await;
    let res = s
        .app
        .client()
        .post(s.app.url("/api/orders"))
        .header("X-API-Key", &other)
        .header("Idempotency-Key", "row-9")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("idempotent-replayed").is_none());
    assert_problem(res, 403, "device_not_in_scope").await;
    // Keys are per account: Globex may use the same one for its own order.
    let globex = s.app.login(&s.w.gadmin.email).await;
    let (_, gkey) = s
        .app
        .create_key(
            &globex,
            json!({"name": "g", "device_ids": [s.w.g1], "permissions": {"orders": "write"}}),
        )
        .await;
    let res = s
        .app
        .client()
        .post(s.app.url("/api/orders"))
        .header("X-API-Key", &gkey)
        .header("Idempotency-Key", "row-9")
        .json(&json!({"device_id": s.w.g1, "lines": [{"sku": "G1-SKU0", "quantity": 1}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert!(res.headers().get("idempotent-replayed").is_none());
    // Bad keys.
    for bad in ["", &"k".repeat(256), "tab\there"] {
        let res = s
            .post("/api/orders", &body)
            .header("Idempotency-Key", bad)
            .send()
            .await;
        if let Ok(res) = res {
            assert_problem(res, 400, "invalid_parameters").await;
        }
    }
    // Receive and cancel replay too.
    let line = json!({"lines": [{"sku": s.sku(n1, 0), "quantity": 1}]});
    let before = s.physical(n1, &s.sku(n1, 0)).await;
    for _ in 0..2 {
        let res = s
            .post("/api/orders/1/receive", &line)
            .header("Idempotency-Key", "rcv-1")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    assert_eq!(
        s.physical(n1, &s.sku(n1, 0)).await,
        before + 1,
        "received once"
    );
    // A record in flight (claimed moments ago, no result yet) makes the next request wait: 409.
    partlogic_entity::idempotency_key::Entity::insert(
        partlogic_entity::idempotency_key::ActiveModel {
            account_id: sea_orm::ActiveValue::Set(s.w.acme),
            api_key_id: sea_orm::ActiveValue::Set(s.key_id),
            idem_key: sea_orm::ActiveValue::Set("busy".into()),
            endpoint: sea_orm::ActiveValue::Set("POST /api/orders".into()),
            request_digest: sea_orm::ActiveValue::Set(hex_sha256(
                &serde_json::to_vec(&body).unwrap(),
            )),
            token: sea_orm::ActiveValue::Set(Some("someone".into())),
            locked_at: sea_orm::ActiveValue::Set(chrono::Utc::now()),
            expires_at: sea_orm::ActiveValue::Set(chrono::Utc::now() + chrono::Duration::hours(24)),
            ..Default::default()
        },
    )
    .exec(&s.app.db)
    .await
    .unwrap();
    let res = send("busy", &body).await.unwrap();
    assert_eq!(res.headers()["retry-after"], "1");
    assert_problem(res, 409, "idempotency_key_in_use").await;
    // One whose holder died (no result after a minute) is taken over.
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    partlogic_entity::idempotency_key::Entity::update_many()
        .col_expr(
            partlogic_entity::idempotency_key::Column::LockedAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::minutes(5)),
        )
        .filter(partlogic_entity::idempotency_key::Column::IdemKey.eq("busy"))
        .exec(&s.app.db)
        .await
        .unwrap();
    assert_eq!(send("busy", &body).await.unwrap().status(), 201);
    // Expired records are pruned.
    let pruned = partlogic_server::orders::idempotency::prune(
        &s.app.db,
        chrono::Utc::now() + chrono::Duration::hours(25),
    )
    .await
    .unwrap();
    assert!(pruned >= 4, "{pruned}");
}

fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn orders_csv_neutralises_formulas(backend: Backend) {
    let s = setup(backend, "write").await;
    let n1 = s.w.n1;
    s.order(json!({"device_id": n1, "lines": [{"sku": s.sku(n1, 0), "quantity": 2}, {"sku": s.sku(n1, 1), "quantity": 3}], "reference": "=HYPERLINK(\"http://evil.example\")"}))
        .await;
    let csv = s
        .app
        .client()
        .get(s.app.url("/api/orders"))
        .header("X-API-Key", &s.key)
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "a header and one row per order line: {csv}");
    assert!(lines[0].starts_with("OrderId,Number,Status"));
    assert!(
        lines[1].contains("\"'=HYPERLINK(\"\"http://evil.example\"\")\""),
        "{csv}"
    );
    assert!(lines[1].contains(",2,0,2,"), "{csv}");
}

/// Two instances on one PostgreSQL, racing the same `Idempotency-Key`: one order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_racing_one_idempotency_key_make_one_order() {
    if postgres_url().is_none() {
        eprintln!("skipped: set TEST_DATABASE_URL to run on PostgreSQL");
        return;
    }
    let s = setup(Backend::Postgres, "write").await;
    let mut settings = Settings::new(s.app.database_url());
    settings.bind = "127.0.0.1:0".to_owned();
    settings.workers = 2;
    let other = Application::build(settings, s.app.clock.clone())
        .await
        .unwrap();
    let other_url = format!("http://127.0.0.1:{}", other.port());
    tokio::spawn(other.run_until_stopped());
    let n1 = s.w.n1;
    let client = reqwest::Client::new();
    let key = Arc::new(s.key.clone());
    for round in 0..5 {
        let body = json!({"device_id": n1, "lines": [{"sku": s.sku(n1, 0), "quantity": 1}], "reference": format!("race-{round}")});
        let mut tasks = Vec::new();
        for i in 0..16 {
            let base = if i % 2 == 0 {
                s.app.url("")
            } else {
                other_url.clone()
            };
            let (client, key, body) = (client.clone(), key.clone(), body.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    let res = client
                        .post(format!("{base}/api/orders"))
                        .header("X-API-Key", key.as_str())
                        .header("Idempotency-Key", format!("race-{round}"))
                        .json(&body)
                        .send()
                        .await
                        .unwrap();
                    // In flight elsewhere: retry as a client would.
                    if res.status() == 409 {
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                        continue;
                    }
                    assert_eq!(res.status(), 201);
                    let v: Value = res.json().await.unwrap();
                    return v["id"].as_i64().unwrap();
                }
            }));
        }
        let ids: Vec<i64> = futures_util::future::join_all(tasks)
            .await
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        assert!(ids.iter().all(|id| *id == ids[0]), "round {round}: {ids:?}");
    }
    let v: Vec<Value> = s
        .app
        .api_get("/api/orders", &s.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v.len(), 5, "one order per key");
}

/// On PostgreSQL a create takes its `Idempotency-Key` in the statement that writes the order,
/// under a transaction-scoped advisory lock: while another session holds that lock (a create
/// with the key in progress elsewhere), the request hears `409 idempotency_key_in_use` and
/// nothing is written; once it is let go, the same request creates the order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_in_progress_elsewhere_is_in_use() {
    if postgres_url().is_none() {
        eprintln!("skipped: set TEST_DATABASE_URL to run on PostgreSQL");
        return;
    }
    use partlogic_server::orders::idempotency::{Attempt, lock_id};
    let s = setup(Backend::Postgres, "write").await;
    let n1 = s.w.n1;
    let body = json!({"device_id": n1, "lines": [{"sku": s.sku(n1, 0), "quantity": 1}]});
    let attempt = Attempt::new(
        s.w.acme,
        s.key_id,
        "held-elsewhere".to_owned(),
        "POST /api/orders".to_owned(),
        &serde_json::to_vec(&body).unwrap(),
    );
    let other = HeldLock::take(&s.app.db, lock_id(&attempt)).await;
    let send = || {
        s.post("/api/orders", &body)
            .header("Idempotency-Key", "held-elsewhere")
            .send()
    };
    let res = send().await.unwrap();
    assert_eq!(res.headers()["retry-after"], "1");
    assert_problem(res, 409, "idempotency_key_in_use").await;
    let v: Vec<Value> = s
        .app
        .api_get("/api/orders", &s.key)
        .await
        .json()
        .await
        .unwrap();
    assert!(v.is_empty(), "nothing written: {v:?}");
    other.release().await;
    let first = send().await.unwrap();
    assert_eq!(first.status(), 201);
    let again = send().await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
}

async fn portal_orders_follow_who_sees_which_device_and_if_match(backend: Backend) {
    let s = setup(backend, "write").await;
    let (n1, n2) = (s.w.n1, s.w.n2);
    s.order(json!({"device_id": n1, "lines": [{"sku": s.sku(n1, 0), "quantity": 4}, {"sku": s.sku(n1, 1), "quantity": 2}]}))
        .await;
    s.order(json!({"device_id": n2, "lines": [{"sku": s.sku(n2, 0), "quantity": 1}]}))
        .await;
    // The admin sees the account's orders; member2 (who sees S2 only) none; filters work.
    let all: Vec<Value> = s.app.get_json(&s.admin, "/portal/api/orders").await;
    assert_eq!(all.len(), 2);
    let member2 = s.app.login(&s.w.member2.email).await;
    let none: Vec<Value> = s.app.get_json(&member2, "/portal/api/orders").await;
    assert!(none.is_empty());
    let res = member2
        .get(s.app.url("/portal/api/orders/1"))
        .send()
        .await
        .unwrap();
    assert_problem(res, 404, "not_found").await;
    let by_device: Vec<Value> = s
        .app
        .get_json(&s.admin, &format!("/portal/api/orders?device={n2}"))
        .await;
    assert_eq!(by_device.len(), 1);
    let devices: Vec<Value> = s.app.get_json(&s.admin, "/portal/api/devices").await;
    let north = devices.iter().find(|d| d["id"] == n1).unwrap()["customer_id"]
        .as_i64()
        .unwrap();
    let by_customer: Vec<Value> = s
        .app
        .get_json(
            &s.admin,
            &format!("/portal/api/orders?customer={north}&status=open"),
        )
        .await;
    assert_eq!(by_customer.len(), 2);
    let res = s
        .admin
        .get(s.app.url("/portal/api/orders?customer=x"))
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "invalid_parameters").await;

    // Receive with the ETag as loaded; a second person with the same stale ETag gets 412 and
    // nothing is received twice.
    let res = s
        .admin
        .get(s.app.url("/portal/api/orders/1"))
        .send()
        .await
        .unwrap();
    let tag = res.headers()["etag"].to_str().unwrap().to_owned();
    let receive = |tag: &str| {
        s.admin
            .post(s.app.url("/portal/api/orders/1/receive"))
            .header("If-Match", tag)
            .json(&json!({"lines": [{"sku": s.sku(n1, 0), "quantity": 4}]}))
            .send()
    };
    let before = s.physical(n1, &s.sku(n1, 0)).await;
    let res = receive(&tag).await.unwrap();
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["lines"][0]["received"], 4);
    assert_eq!(
        v["events"][1]["actor"],
        json!({"kind": "user", "name": "Ada Admin", "email": "admin@acme.test"})
    );
    assert_problem(receive(&tag).await.unwrap(), 412, "precondition_failed").await;
    assert_eq!(s.physical(n1, &s.sku(n1, 0)).await, before + 4);
    // Cancel: not once something was received; fine on the other order.
    let res = s
        .admin
        .post(s.app.url("/portal/api/orders/1/cancel"))
        .send()
        .await
        .unwrap();
    assert_problem(res, 409, "order_partly_received").await;
    let res = s
        .admin
        .post(s.app.url("/portal/api/orders/2/cancel"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // From another site: refused like every portal write.
    let res = s
        .admin
        .post(s.app.url("/portal/api/orders/1/receive"))
        .header("Origin", "https://evil.example")
        .header("Sec-Fetch-Site", "cross-site")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 403, "cross_origin_refused").await;
}

/// `GET /api/orders` encodes its JSON by hand on SQLite: page by page (sizes 1, 2 and 100,
/// following `Link`), the bytes are serde's for `Vec<Order>` exactly and each order is the one
/// `GET /api/orders/{id}` shows, with text that needs escaping, several lines (in line order),
/// a partial receipt by a person, a cancellation and absent references.
async fn the_listing_is_serde_s_json_of_each_order(backend: Backend) {
    let s = setup(backend, "write").await;
    let (n1, n2) = (s.w.n1, s.w.n2);
    let a = s
        .order(json!({"device_id": n1, "reference": "row \"7\" \\ é 😀", "note": "say \"hi\" \\ there",
            "lines": [{"sku": s.sku(n1, 2), "quantity": 3}, {"sku": s.sku(n1, 0), "quantity": 5}, {"sku": s.sku(n1, 1), "quantity": 1}]}))
        .await;
    s.order(json!({"device_id": n2, "lines": [{"sku": s.sku(n2, 0), "quantity": 2}]}))
        .await;
    let c = s
        .order(json!({"device_id": n1, "lines": [{"sku": s.sku(n1, 1), "quantity": 4}, {"sku": s.sku(n1, 0), "quantity": 6}]}))
        .await;
    let res = s
        .app
        .client()
        .post(s.app.url(&format!("/api/orders/{}/cancel", c["id"])))
        .header("X-API-Key", &s.key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = s
        .admin
        .post(
            s.app
                .url(&format!("/portal/api/orders/{}/receive", a["id"])),
        )
        .json(&json!({"lines": [{"sku": s.sku(n1, 0), "quantity": 2}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    s.order(json!({"device_id": n1, "reference": "tail", "lines": [{"sku": s.sku(n1, 2), "quantity": 1}]}))
        .await;
    let all: Vec<partlogic_types::Order> = s
        .app
        .api_get("/api/orders", &s.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all.len(), 4);
    type Keep = Box<dyn Fn(&partlogic_types::Order) -> bool>;
    let open = partlogic_types::OrderStatus::Open;
    let cases: Vec<(String, Keep)> = vec![
        (String::new(), Box::new(|_| true)),
        ("&status=open".into(), Box::new(move |o| o.status == open)),
        (
            "&status=cancelled".into(),
            Box::new(move |o| o.status != open),
        ),
        (
            format!("&device={n1}"),
            Box::new(move |o| o.device.id == n1),
        ),
        (
            "&reference=tail".into(),
            Box::new(|o| o.reference.as_deref() == Some("tail")),
        ),
        (
            format!("&status=open&device={n1}"),
            Box::new(move |o| o.device.id == n1 && o.status == open),
        ),
    ];
    for limit in [1, 2, 100] {
        for (filter, keep) in &cases {
            let expected: Vec<i64> = all.iter().filter(|o| keep(o)).map(|o| o.id).collect();
            let mut path = format!("/api/orders?limit={limit}{filter}");
            let mut seen = Vec::new();
            loop {
                let res = s.app.api_get(&path, &s.key).await;
                assert_eq!(res.status(), 200);
                let next = res.headers().get("link").map(|l| {
                    let l = l.to_str().unwrap();
                    let url = &l[l.find('<').unwrap() + 1..l.find('>').unwrap()];
                    url[url.find("/api/").unwrap()..].to_owned()
                });
                let body = res.bytes().await.unwrap();
                let orders: Vec<partlogic_types::Order> = serde_json::from_slice(&body).unwrap();
                assert_eq!(
                    String::from_utf8_lossy(&body),
                    serde_json::to_string(&orders).unwrap(),
                    "page {path}"
                );
                for o in &orders {
                    let one: partlogic_types::Order = s
                        .app
                        .api_get(&format!("/api/orders/{}", o.id), &s.key)
                        .await
                        .json()
                        .await
                        .unwrap();
                    assert_eq!(*o, one);
                }
                seen.extend(orders.into_iter().map(|o| o.id));
                match next {
                    Some(n) => path = n,
                    None => break,
                }
            }
            assert!(!expected.is_empty());
            assert_eq!(seen, expected, "limit {limit}{filter}");
        }
    }
    let one: Value = s
        .app
        .api_get(&format!("/api/orders/{}", a["id"]), &s.key)
        .await
        .json()
        .await
        .unwrap();
    let skus: Vec<&str> = one["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["sku"].as_str().unwrap())
        .collect();
    assert_eq!(
        skus,
        [s.sku(n1, 2), s.sku(n1, 0), s.sku(n1, 1)],
        "lines in the order sent"
    );
    assert_eq!(one["lines"][1]["received"], 2);
    assert_eq!(one["events"][1]["actor"]["kind"], "user");
}

/// On PostgreSQL a create whose SKUs' stock rows this instance remembers writes in one round
/// trip, and the write checks those rows again: an item renamed or removed since (by another
/// instance, an import) is seen by the very next create, whatever the database.
async fn stock_rows_changed_since_the_last_create_are_read_again(backend: Backend) {
    use sea_orm::ConnectionTrait;
    let s = setup(backend, "write").await;
    let n1 = s.w.n1;
    let (kept, renamed, removed) = (s.sku(n1, 0), s.sku(n1, 1), s.sku(n1, 2));
    let body = |skus: &[&str]| {
        let lines: Vec<Value> = skus
            .iter()
            .map(|sku| json!({"sku": sku, "quantity": 2}))
            .collect();
        json!({"device_id": n1, "lines": lines})
    };
    let first = s.order(body(&[&kept, &renamed, &removed])).await;
    assert_ne!(first["lines"][1]["description"], "Renamed elsewhere");
    // Another writer renames one item and removes another (its order line goes with it).
    for sql in [
        format!(
            "UPDATE stock SET description = 'Renamed elsewhere' WHERE device_id = {n1} AND sku = '{renamed}'"
        ),
        format!("DELETE FROM stock WHERE device_id = {n1} AND sku = '{removed}'"),
    ] {
        s.app.db.execute_unprepared(&sql).await.unwrap();
    }

    let second = s.order(body(&[&kept, &renamed])).await;
    assert_eq!(second["lines"][1]["description"], "Renamed elsewhere");
    assert_eq!(
        second["lines"][0]["description"],
        first["lines"][0]["description"]
    );
    let read: Value = s
        .app
        .api_get(&format!("/api/orders/{}", second["id"]), &s.key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        read["lines"], second["lines"],
        "the answer is what was written"
    );

    // The removed item is refused, naming its line; nothing is written, and the refusal is the
    // key's stored answer.
    let orders = |v: Value| v.as_array().unwrap().len();
    let before = orders(
        s.app
            .api_get("/api/orders", &s.key)
            .await
            .json()
            .await
            .unwrap(),
    );
    let send = || {
        s.post("/api/orders", &body(&[&kept, &removed]))
            .header("Idempotency-Key", "removed-item")
            .send()
    };
    let p = assert_problem(send().await.unwrap(), 422, "validation_failed").await;
    assert_eq!(error_fields(&p), vec!["lines[1].sku"]);
    let again = send().await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_problem(again, 422, "validation_failed").await;
    assert_eq!(
        orders(
            s.app
                .api_get("/api/orders", &s.key)
                .await
                .json()
                .await
                .unwrap()
        ),
        before
    );

    // And the items still stocked are ordered in one round trip again, the same as ever.
    let third = s.order(body(&[&renamed, &kept])).await;
    assert_eq!(third["lines"][0]["description"], "Renamed elsewhere");
    assert_eq!(third["lines"][1]["sku"], kept.as_str());

    // A record this instance never saw, for another request and past its 24 hours (not pruned
    // yet): the one-round-trip write finds the key taken, and the key is then taken over.
    use sea_orm::ActiveValue::Set;
    use sea_orm::EntityTrait;
    partlogic_entity::idempotency_key::Entity::insert(
        partlogic_entity::idempotency_key::ActiveModel {
            account_id: Set(s.w.acme),
            api_key_id: Set(s.key_id),
            idem_key: Set("long-ago".into()),
            endpoint: Set("POST /api/orders".into()),
            request_digest: Set(hex_sha256(b"another request")),
            token: Set(None),
            locked_at: Set(chrono::Utc::now() - chrono::Duration::hours(30)),
            expires_at: Set(chrono::Utc::now() - chrono::Duration::hours(6)),
            response_status: Set(Some(201)),
            response_body: Set(Some("{}".into())),
            ..Default::default()
        },
    )
    .exec(&s.app.db)
    .await
    .unwrap();
    let res = s
        .post("/api/orders", &body(&[&kept]))
        .header("Idempotency-Key", "long-ago")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert!(res.headers().get("idempotent-replayed").is_none());
    let fourth: Value = res.json().await.unwrap();
    assert!(fourth["id"].as_i64() > third["id"].as_i64());
}
