//! Edges an attacker or an unlucky client finds: crafted URLs, forged headers, control
//! characters, stale edits, formula cells, imports that must not damage data, HTTP hygiene.

use partlogic_entity::stock;
use partlogic_server::Clock;
use partlogic_server::stock::import;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Statement};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{Backend, TestApp, add_stock, assert_problem, logs};
use crate::on_every_database;

on_every_database!(
    crafted_paths_get_answers_and_never_reach_the_log,
    the_link_header_never_trusts_request_headers,
    control_characters_are_refused_before_any_query,
    stale_edits_are_refused_with_412,
    every_answer_carries_the_security_headers,
    known_paths_answer_405_with_allow,
    csv_cells_that_look_like_formulas_are_neutralised,
    csv_formulas_after_semicolons_and_tabs_become_text,
    health_reports_the_database_and_ping_needs_none,
    sqlite_commits_are_durable,
    import_touches_only_columns_present_and_rows_that_changed,
);

/// Sends `raw_path` exactly as written (no client-side normalisation) and returns the status
/// line and the whole answer.
async fn raw_get(app: &TestApp, raw_path: &str) -> String {
    let addr = app.address.trim_start_matches("http://").to_owned();
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    s.write_all(
        format!("GET {raw_path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

async fn crafted_paths_get_answers_and_never_reach_the_log(backend: Backend) {
    // No portal, so that a path outside /api is a 404 whatever this binary was built with.
    let app = TestApp::spawn_custom(backend, Clock::system(), |s| s.embedded_spa = &[]).await;
    // Overlapping key lookalikes once panicked the access log's scanner (an empty reply).
    let crafted = "/pl_aaaaaaaaaaaaaaaaaaaapl_bbbbbbbbbbbbbbbbbbbb";
    let answer = raw_get(&app, crafted).await;
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    let answer = raw_get(&app, &format!("/api{crafted}")).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("api_key_in_query"));

    // A key percent-encoded in a path is refused and redacted all the same.
    let body = "Zq7CkP1vN2mB8xR4tY6uW0sE3dF5gH9jK2lA7qZ1cV8bN4mT0";
    for encoded in [
        format!("/api/pl%5F{body}"),
        format!("/api/pl%255F{body}"),
        format!("/api/pl%2525255F{body}"),
        format!("/api/pl_{}", body.replace('Z', "%5A")),
        // The docs and the OpenAPI document are under /api too.
        format!("/api/openapi.json?api_key=pl_{body}"),
        format!("/api/docs/?token=pl_{body}"),
    ] {
        let answer = raw_get(&app, &encoded).await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{encoded}: {answer}");
        assert!(answer.contains("api_key_in_query"), "{answer}");
    }
    let log = logs();
    assert!(
        !log.contains(&body[10..40]),
        "a key-shaped path reached the log"
    );
    assert!(!log.contains("aaaaaaaaaaaaaaaaaaaapl_bbbb"));
    assert!(log.contains("pl_[redacted]"));
}

async fn the_link_header_never_trusts_request_headers(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let admin = app.login(&w.admin.email).await;
    let (_, key) = app
        .create_key(&admin, json!({"name": "k", "device_ids": [w.n1, w.n2]}))
        .await;
    let res = app
        .client()
        .get(app.url("/api/stock?limit=1"))
        .header("X-API-Key", &key)
        .header("X-Forwarded-Host", "evil.example")
        .header("X-Forwarded-Proto", "https")
        .header("Forwarded", "host=evil.example;proto=https")
        .send()
        .await
        .unwrap();
    let link = res.headers()["link"].to_str().unwrap().to_owned();
    assert!(!link.contains("evil"), "{link}");
    assert!(link.starts_with("</api/stock?limit=1&after="), "{link}");
}

async fn control_characters_are_refused_before_any_query(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let admin = app.login(&w.admin.email).await;
    let (_, key) = app
        .create_key(&admin, json!({"name": "k", "device_ids": [w.n1]}))
        .await;
    for q in ["sku=%00", "sku=a%01b", "_cb=%00", "limit=1%00"] {
        let res = app.api_get(&format!("/api/stock?{q}"), &key).await;
        assert_problem(res, 400, "invalid_parameters").await;
    }
    let res = admin
        .get(app.url("/portal/api/keys?mine=%00"))
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "invalid_parameters").await;
    for email in ["a\u{0}", "admin@acme.test\u{0}", "a\u{7}b@c.test"] {
        let res = app
            .client()
            .post(app.url("/portal/api/session"))
            .json(&json!({"email": email, "password": "whatever"}))
            .send()
            .await
            .unwrap();
        let v = assert_problem(res, 422, "validation_failed").await;
        assert_eq!(v["errors"][0]["field"], "email");
    }
    let res = admin
        .post(app.url("/portal/api/keys"))
        .json(&json!({"name": "nul\u{0}", "device_ids": [w.n1], "time_zone": "UTC\u{0}"}))
        .send()
        .await
        .unwrap();
    let v = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(v["errors"].as_array().unwrap().len(), 2, "{v}");
}

async fn stale_edits_are_refused_with_412(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let admin = app.login(&w.admin.email).await;
    let member = app.login(&w.member.email).await;
    let (id, _) = app
        .create_key(&member, json!({"name": "shared", "device_ids": [w.n1]}))
        .await;
    let path = app.url(&format!("/portal/api/keys/{id}"));
    let etag_of = |res: &reqwest::Response| res.headers()["etag"].to_str().unwrap().to_owned();
    // Both open the key.
    let seen_by_member = etag_of(&member.get(&path).send().await.unwrap());
    let seen_by_admin = etag_of(&admin.get(&path).send().await.unwrap());
    assert_eq!(seen_by_member, seen_by_admin);
    // The member saves first.
    let res = member
        .patch(&path)
        .header("If-Match", &seen_by_member)
        .json(&json!({"name": "member's name"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let after_member = etag_of(&res);
    assert_ne!(after_member, seen_by_member);
    // The admin's save, based on what they saw, would overwrite it: refused.
    let res = admin
        .patch(&path)
        .header("If-Match", &seen_by_admin)
        .json(&json!({"name": "admin's name"}))
        .send()
        .await
        .unwrap();
    let v = assert_problem(res, 412, "precondition_failed").await;
    assert!(v["detail"].as_str().unwrap().contains("reload"));
    let res = admin
        .delete(&path)
        .header("If-Match", &seen_by_admin)
        .send()
        .await
        .unwrap();
    assert_problem(res, 412, "precondition_failed").await;
    let now: Value = app
        .get_json(&member, &format!("/portal/api/keys/{id}"))
        .await;
    assert_eq!(now["name"], "member's name");
    // A value that is not text names no version.
    let res = admin
        .patch(&path)
        .header(
            "If-Match",
            reqwest::header::HeaderValue::from_bytes(b"\"\xff\"").unwrap(),
        )
        .json(&json!({"name": "bytes"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 412, "precondition_failed").await;
    // A tag a proxy weakened still names the version.
    let res = member.get(&path).send().await.unwrap();
    let weak = format!("W/{}", etag_of(&res));
    let res = member
        .patch(&path)
        .header("If-Match", &weak)
        .json(&json!({"name": "member's name"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // With the current version (or `*`, or none at all) the change goes through.
    let res = admin
        .patch(&path)
        .header("If-Match", &after_member)
        .json(&json!({"name": "admin's name"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = admin
        .delete(&path)
        .header("If-Match", "*")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // A save that changes nothing keeps the version.
    let (id2, _) = app
        .create_key(&member, json!({"name": "same", "device_ids": [w.n1]}))
        .await;
    let path2 = app.url(&format!("/portal/api/keys/{id2}"));
    let before = etag_of(&member.get(&path2).send().await.unwrap());
    let res = member
        .patch(&path2)
        .header("If-Match", &before)
        .json(&json!({"name": "same", "device_ids": [w.n1]}))
        .send()
        .await
        .unwrap();
    assert_eq!(etag_of(&res), before);
}

fn assert_security_headers(res: &reqwest::Response, what: &str) {
    let h = res.headers();
    let csp = h
        .get("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no CSP"))
        .to_str()
        .unwrap();
    assert!(csp.contains("default-src 'self'"), "{what}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(h["referrer-policy"], "no-referrer", "{what}");
    assert_eq!(h["x-frame-options"], "DENY", "{what}");
}

async fn every_answer_carries_the_security_headers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let c = app.client();
    let cases = [
        ("/api/ping", 200),
        ("/api/stock", 401),
        ("/api/nope", 404),
        // Refused by a middleware before any handler runs.
        ("/api/stock?api_key=x", 400),
        ("/portal/api/session", 401),
        ("/api/openapi.json", 200),
    ];
    for (path, status) in cases {
        let res = c.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), status, "{path}");
        assert_security_headers(&res, path);
        assert!(!res.headers().contains_key("strict-transport-security"));
    }
    let res = c
        .post(app.url("/portal/api/keys"))
        .header("Origin", "https://evil.example")
        .header("Sec-Fetch-Site", "cross-site")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_security_headers(&res, "cross-site refusal");
    assert_problem(res, 403, "cross_origin_refused").await;

    // Behind HTTPS: HSTS, and cookies under the __Host- prefix.
    let (secure, w) = {
        let app =
            TestApp::spawn_custom(backend, Clock::system(), |s| s.secure_cookies = true).await;
        let w = crate::helpers::World::build(&app).await;
        (app, w)
    };
    let res = secure
        .client()
        .post(secure.url("/portal/api/session"))
        .json(&json!({"email": w.admin.email, "password": crate::helpers::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .starts_with("max-age=")
    );
    let cookies: Vec<&str> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("__Host-pl_session=")
            && c.contains("Secure")
            && c.contains("Path=/")
            && !c.contains("Domain")),
        "{cookies:?}"
    );
    assert!(cookies.iter().any(|c| c.starts_with("__Host-pl_browser=")));
    let res = secure
        .client()
        .get(secure.url("/api/nope"))
        .send()
        .await
        .unwrap();
    assert!(res.headers().contains_key("strict-transport-security"));
}

async fn known_paths_answer_405_with_allow(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let c = app.client();
    let trace = reqwest::Method::from_bytes(b"TRACE").unwrap();
    for (method, path, allow) in [
        (trace.clone(), "/api/stock", "GET, HEAD"),
        (reqwest::Method::POST, "/api/stock", "GET, HEAD"),
        (
            reqwest::Method::PUT,
            "/portal/api/keys/7",
            "GET, HEAD, PATCH, DELETE",
        ),
        (
            reqwest::Method::PATCH,
            "/portal/api/keys",
            "GET, HEAD, POST",
        ),
        (
            reqwest::Method::PUT,
            "/portal/api/session",
            "GET, HEAD, POST, DELETE",
        ),
        (reqwest::Method::DELETE, "/api/openapi.json", "GET, HEAD"),
    ] {
        let res = c
            .request(method.clone(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["allow"], allow, "{method} {path}");
        assert_security_headers(&res, path);
        assert_problem(res, 405, "method_not_allowed").await;
    }
    // HEAD is GET without a body.
    let res = c.head(app.url("/api/ping")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "");
    // A path no handler takes is simply not there, whatever the method (a trailing slash too).
    let res = c.get(app.url("/api/stock/")).send().await.unwrap();
    assert_problem(res, 404, "not_found").await;
    let res = c
        .request(reqwest::Method::OPTIONS, app.url("/portal/api/keys/3"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(res.headers()["allow"], "GET, HEAD, PATCH, DELETE, OPTIONS");
    // Unknown paths stay 404 whatever the method.
    let res = c
        .request(trace, app.url("/api/nothing"))
        .send()
        .await
        .unwrap();
    assert_problem(res, 404, "not_found").await;
}

async fn csv_cells_that_look_like_formulas_are_neutralised(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let id = add_stock(
        &app.db,
        w.n1,
        "=HYPERLINK(\"http://x\")",
        1,
        2,
        3,
        chrono::Utc::now(),
    )
    .await;
    let admin = app.login(&w.admin.email).await;
    let (_, key) = app
        .create_key(&admin, json!({"name": "k", "device_ids": [w.n1]}))
        .await;
    let csv = app
        .client()
        .get(app.url("/api/stock"))
        .header("X-API-Key", &key)
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = csv
        .lines()
        .find(|l| l.starts_with(&format!("{id},")))
        .unwrap();
    assert!(line.contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "{line}");
    // Numbers stay numbers; JSON is untouched.
    assert!(line.contains(",1,2,3,"), "{line}");
    let rows: Vec<Value> = app.api_get("/api/stock", &key).await.json().await.unwrap();
    assert!(rows.iter().any(|r| r["SKU"] == "=HYPERLINK(\"http://x\")"));
}

/// A formula hidden after a `;` (what Excel splits on in many locales) or a TAB (what a paste
/// splits on) is neutralised too, in the stock CSV and in the alerts CSV; JSON keeps the text.
async fn csv_formulas_after_semicolons_and_tabs_become_text(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let now = chrono::Utc::now();
    let semicolon = "x;=HYPERLINK(\"http://evil.example\")";
    let tab = "tab\t=1+1";
    let a = add_stock(&app.db, w.n1, semicolon, 5, 10, 7, now).await;
    let b = add_stock(&app.db, w.n1, tab, 5, 10, 7, now).await;
    // Both fall below their minimum through the stock writer, which records an alert each.
    for id in [a, b] {
        let row = partlogic_entity::stock::Entity::find_by_id(id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        let change = partlogic_server::stock::writes::RowChange {
            physical: Some(1),
            ..Default::default()
        };
        assert!(
            partlogic_server::stock::writes::update(&app.db, row, change, now)
                .await
                .unwrap()
        );
    }
    let admin = app.login(&w.admin.email).await;
    let (_, key) = app
        .create_key(&admin, json!({"name": "k", "device_ids": [w.n1]}))
        .await;
    for path in ["/api/stock", "/api/stock/alerts"] {
        let csv = app
            .client()
            .get(app.url(path))
            .header("X-API-Key", &key)
            .header("Accept", "text/csv")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            csv.contains("x;'=HYPERLINK(\"\"http://evil.example\"\")"),
            "{path}: {csv}"
        );
        assert!(csv.contains("tab\t'=1+1"), "{path}: {csv}");
        // No field a `;` or TAB splitter sees starts a formula.
        for line in csv.lines() {
            for field in line.split([';', '\t', ',']) {
                let field = field.trim_start_matches([' ', '"']);
                assert!(!field.starts_with(['=', '+', '@']), "{path}: {line}");
            }
        }
        let rows: Vec<Value> = app.api_get(path, &key).await.json().await.unwrap();
        assert!(rows.iter().any(|r| r["SKU"] == semicolon), "{path}");
        assert!(rows.iter().any(|r| r["SKU"] == tab), "{path}");
    }
}

async fn health_reports_the_database_and_ping_needs_none(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let res = app
        .client()
        .get(app.url("/api/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["database"], "up");
    assert!(v["database_ms"].is_u64());
}

async fn sqlite_commits_are_durable(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    if backend != Backend::Sqlite {
        return;
    }
    let q = |sql: &str| Statement::from_string(app.db.get_database_backend(), sql.to_owned());
    for _ in 0..4 {
        // Every pooled connection: 2 is FULL (fsync of the WAL at every commit).
        let row = app
            .db
            .query_one_raw(q("PRAGMA synchronous"))
            .await
            .unwrap()
            .unwrap();
        let level: i32 = row.try_get_by_index(0).unwrap();
        assert_eq!(level, 2);
    }
    let row = app
        .db
        .query_one_raw(q("PRAGMA journal_mode"))
        .await
        .unwrap()
        .unwrap();
    let mode: String = row.try_get_by_index(0).unwrap();
    assert_eq!(mode, "wal");
}

async fn import_touches_only_columns_present_and_rows_that_changed(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    use chrono::Timelike;
    let t1 = (chrono::Utc::now() + chrono::Duration::hours(1))
        .with_nanosecond(0)
        .unwrap();
    let row = |sku: &str| {
        stock::Entity::find()
            .filter(stock::Column::DeviceId.eq(w.n1))
            .filter(stock::Column::Sku.eq(sku))
            .one(&app.db)
    };
    let before0 = row("N1-SKU0").await.unwrap().unwrap();
    let before1 = row("N1-SKU1").await.unwrap().unwrap();
    // No Location column: locations stay. N1-SKU0 unchanged, N1-SKU1 has a new quantity.
    let csv = format!(
        "Item Code,Description*,Quantity In Stock,Storeroom\n\
         N1-SKU0,{},{},N1\n\
         N1-SKU1,{},99,N1\n",
        before0.description, before0.physical, before1.description
    );
    let report = import::import_csv(
        &app.db,
        w.acme,
        csv.as_bytes(),
        None,
        t1,
        chrono::Duration::days(90),
    )
    .await
    .unwrap();
    assert_eq!((report.updated, report.unchanged), (1, 1));
    let after0 = row("N1-SKU0").await.unwrap().unwrap();
    let after1 = row("N1-SKU1").await.unwrap().unwrap();
    assert_eq!(after0, before0, "an unchanged row keeps its UpdatedAt");
    assert_eq!(after1.physical, 99);
    assert_eq!(
        after1.location, before1.location,
        "no Location column, no new location"
    );
    assert_eq!(after1.updated_at, t1);
    // With the column, the location is updated.
    let csv = "Item Code,Description*,Quantity In Stock,Storeroom,Location\n\
               N1-SKU1,Item N1-SKU1,99,N1,Q-42\n";
    let report = import::import_csv(
        &app.db,
        w.acme,
        csv.as_bytes(),
        None,
        t1,
        chrono::Duration::days(90),
    )
    .await
    .unwrap();
    assert_eq!(report.updated, 1);
    assert_eq!(row("N1-SKU1").await.unwrap().unwrap().location, "Q-42");
}
