//! What integrations connect with: the key as HTTP Basic or Bearer, the key self-check, the
//! expiry header, low-stock alerts and the served recipes.

use base64::Engine;
use chrono::{Duration, TimeZone, Utc};
use partlogic_server::Clock;
use partlogic_server::accounts::admin::DeviceRef;
use partlogic_server::stock::import;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, World, assert_problem, logs, within_a_second};
use crate::on_every_database;

on_every_database!(
    basic_and_bearer_work_wherever_the_header_does,
    the_key_describes_itself_and_announces_its_expiry,
    alerts_fire_once_per_crossing_within_the_keys_reach,
    old_alerts_are_forgotten_without_any_write,
    concurrent_imports_record_a_crossing_once,
    recipes_carry_the_configured_base_url_never_the_request_s,
);

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

async fn get_with(app: &TestApp, path: &str, name: &str, value: &str) -> reqwest::Response {
    app.client()
        .get(app.url(path))
        .header(name, value)
        .send()
        .await
        .unwrap()
}

async fn basic_and_bearer_work_wherever_the_header_does(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let admin = app.login(&w.admin.email).await;
    let (id, key) = app
        .create_key(&admin, json!({"name": "tools", "device_ids": [w.n1, w.s1]}))
        .await;
    let (_, other) = app
        .create_key(&admin, json!({"name": "other", "device_ids": [w.n1]}))
        .await;
    let expected: Vec<Value> = app.api_get("/api/stock", &key).await.json().await.unwrap();
    assert_eq!(expected.len(), 6);
    for (name, value) in [
        ("Authorization", basic(&key, "")),
        ("Authorization", basic(&key, "anything at all")),
        // A tool that only has a password box.
        ("Authorization", basic("", &key)),
        ("Authorization", format!("Bearer {key}")),
        ("Authorization", format!("bearer {key}")),
    ] {
        let res = get_with(&app, "/api/stock", name, &value).await;
        assert_eq!(res.status(), 200, "{value}");
        let rows: Vec<Value> = res.json().await.unwrap();
        assert_eq!(rows, expected);
    }
    // The same key twice is fine; two different keys are refused.
    let res = app
        .client()
        .get(app.url("/api/devices"))
        .header("X-API-Key", &key)
        .header("Authorization", format!("Bearer {key}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .client()
        .get(app.url("/api/devices"))
        .header("X-API-Key", &key)
        .header("Authorization", basic(&other, ""))
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "conflicting_api_keys").await;
    // The same refusals whichever way the key came.
    let res = get_with(&app, "/api/stock", "Authorization", "Bearer pl_nope").await;
    assert_problem(res, 401, "malformed_api_key").await;
    let res = get_with(&app, "/api/stock", "Authorization", &basic("pl_short", "")).await;
    assert_problem(res, 401, "malformed_api_key").await;
    let fake = format!("pl_{}", "A".repeat(49));
    let res = get_with(
        &app,
        "/api/stock",
        "Authorization",
        &format!("Bearer {fake}"),
    )
    .await;
    assert_problem(res, 401, "malformed_api_key").await;
    // Well-formed but unknown (a real key's shape and checksum from another server, say).
    let unknown = partlogic_server::keys::generate().unwrap();
    let res = get_with(
        &app,
        "/api/stock",
        "Authorization",
        &basic(unknown.expose(), ""),
    )
    .await;
    assert_problem(res, 401, "invalid_api_key").await;
    // Someone else's credentials (a proxy's Basic login, an SSO token) are not keys: beside a
    // key they change nothing, alone they are no key at all.
    let res = app
        .client()
        .get(app.url("/api/devices"))
        .header("X-API-Key", &key)
        .header("Authorization", basic("proxy-user", "proxy-password"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    for value in ["Digest x", "Basic !!!", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"] {
        let res = get_with(&app, "/api/stock", "Authorization", value).await;
        assert_problem(res, 401, "missing_api_key").await;
    }
    let res = app
        .client()
        .get(app.url(&format!("/api/stock?api_key={key}")))
        .header("Authorization", basic(&key, ""))
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "api_key_in_query").await;
    admin
        .delete(app.url(&format!("/portal/api/keys/{id}")))
        .send()
        .await
        .unwrap();
    let res = get_with(&app, "/api/stock", "Authorization", &basic(&key, "")).await;
    // Tools get a Basic challenge, so they know to send credentials...
    let challenges: Vec<&str> = res
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        challenges.iter().any(|c| c.starts_with("Basic realm=")),
        "{challenges:?}"
    );
    assert!(challenges.iter().any(|c| c.starts_with("Bearer")));
    assert_problem(res, 401, "api_key_retired").await;
    // ...but a browser page (the docs' Try it out) never does: it would pop up a dialog.
    let res = app
        .client()
        .get(app.url("/api/stock"))
        .header("Sec-Fetch-Mode", "cors")
        .header("Sec-Fetch-Site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(
        res.headers()
            .get_all("www-authenticate")
            .iter()
            .all(|v| !v.to_str().unwrap().starts_with("Basic")),
        "{:?}",
        res.headers()
    );
    // Nothing of the key reaches the log, however it was sent.
    let log = logs();
    assert!(!log.contains(&key[3..]));
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{key}:"));
    assert!(!log.contains(&encoded[4..40]));
}

async fn the_key_describes_itself_and_announces_its_expiry(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let member = app.login(&w.member.email).await;
    let (_, dated) = app
        .create_key(
            &member,
            json!({"name": "dated", "device_ids": [w.n1, w.s1], "expires_on": (Utc::now() + Duration::days(30)).format("%Y-%m-%d").to_string(), "time_zone": "Europe/Paris"}),
        )
        .await;
    let (_, open) = app
        .create_key(&member, json!({"name": "open", "device_ids": [w.n1]}))
        .await;
    let res = app.api_get("/api/key", &dated).await;
    assert_eq!(res.status(), 200);
    let expires = res.headers()["partlogic-key-expires"]
        .to_str()
        .unwrap()
        .to_owned();
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["name"], "dated");
    assert_eq!(v["prefix"], &dated[..7]);
    assert_eq!(v["time_zone"], "Europe/Paris");
    assert_eq!(v["expires_at"], expires.as_str());
    assert_eq!(v["status"], "active");
    let devices: Vec<&str> = v["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["Name"].as_str().unwrap())
        .collect();
    assert_eq!(devices, ["N1", "S1"]);
    assert!(v.get("secret").is_none() && !v.to_string().contains(&dated[7..]));
    // Every authenticated answer of a dated key says when it ends, refusals included.
    for path in ["/api/stock?limit=1", "/api/devices", "/api/stock/alerts"] {
        let res = app.api_get(path, &dated).await;
        assert_eq!(res.headers()["partlogic-key-expires"], expires.as_str());
    }
    let res = app
        .api_get(&format!("/api/stock?device={}", w.s2), &dated)
        .await;
    assert_eq!(res.headers()["partlogic-key-expires"], expires.as_str());
    assert_problem(res, 403, "device_not_in_scope").await;
    // A key without an expiry says nothing of one.
    let res = app.api_get("/api/key", &open).await;
    assert!(!res.headers().contains_key("partlogic-key-expires"));
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["expires_at"], Value::Null);
    // The devices are the key's reach *now*.
    partlogic_server::accounts::admin::revoke(
        &app.db,
        &w.member.email,
        &[DeviceRef::Name("S1".into())],
    )
    .await
    .unwrap();
    within_a_second("the revoke", || {
        let (app, dated) = (&app, dated.clone());
        async move {
            let v: Value = app.api_get("/api/key", &dated).await.json().await.unwrap();
            v["devices"].as_array().unwrap().len() == 1
        }
    })
    .await;
}

async fn alerts_fire_once_per_crossing_within_the_keys_reach(backend: Backend) {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap();
    let app = TestApp::spawn_custom(backend, Clock::frozen(t0), |_| {}).await;
    let w = World::build(&app).await;
    let admin = app.login(&w.admin.email).await;
    let (_, key) = app
        .create_key(
            &admin,
            json!({"name": "alerts", "device_ids": [w.n1, w.n2]}),
        )
        .await;
    let (_, n2_only) = app
        .create_key(&admin, json!({"name": "n2", "device_ids": [w.n2]}))
        .await;
    let retention = Duration::days(90);
    // N1-SKU0 has MinQty 10, Physical 20; N1-SKU1 is below (3).
    let import = |at, qty0: i64, qty1: i64| {
        let csv = format!(
            "Item Code,Description*,Quantity In Stock,Storeroom\n\
             N1-SKU0,Item N1-SKU0,{qty0},N1\n\
             N1-SKU1,Item N1-SKU1,{qty1},N1\n"
        );
        let db = app.db.clone();
        let acme = w.acme;
        async move {
            import::import_csv(&db, acme, csv.as_bytes(), None, at, retention)
                .await
                .unwrap()
        }
    };
    let alerts = |path: &'static str| {
        let app = &app;
        let key = key.clone();
        async move {
            let v: Vec<Value> = app.api_get(path, &key).await.json().await.unwrap();
            v
        }
    };
    assert_eq!(alerts("/api/stock/alerts").await, Vec::<Value>::new());

    // SKU0 falls below (20 → 5); SKU1 recovers (3 → 12).
    import(t0 + Duration::hours(1), 5, 12).await;
    let a = alerts("/api/stock/alerts").await;
    assert_eq!(a.len(), 2, "{a:?}");
    let kinds: Vec<&str> = a.iter().map(|x| x["Kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["restocked", "below_min"], "newest first");
    let below = &a[1];
    assert_eq!(below["SKU"], "N1-SKU0");
    assert_eq!(below["DeviceName"], "N1");
    assert_eq!(below["Customer"], "North");
    assert_eq!(below["Physical"], 5);
    assert_eq!(below["PreviousPhysical"], 20);
    assert_eq!(below["MinQty"], 10);
    assert_eq!(below["MaxQty"], 50);
    assert_eq!(below["At"], "2026-11-26T10:00:00.000Z");
    for field in ["id", "StockId", "DeviceId", "Description"] {
        assert!(below.get(field).is_some(), "{field}");
    }
    // The same data again records nothing; moving within "below" records nothing either.
    import(t0 + Duration::hours(2), 5, 12).await;
    import(t0 + Duration::hours(3), 4, 15).await;
    assert_eq!(alerts("/api/stock/alerts").await.len(), 2);
    // Recovering and falling again: two more crossings, with new ids.
    import(t0 + Duration::hours(4), 30, 15).await;
    import(t0 + Duration::hours(5), 1, 15).await;
    let a = alerts("/api/stock/alerts").await;
    assert_eq!(a.len(), 4);
    let ids: Vec<i64> = a.iter().map(|x| x["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|p| p[0] > p[1]), "newest first: {ids:?}");
    assert_eq!(a[0]["Kind"], "below_min");
    assert_eq!(a[0]["PreviousPhysical"], 30);
    // Filters and limits.
    assert_eq!(alerts("/api/stock/alerts?kind=restocked").await.len(), 2);
    let one = alerts("/api/stock/alerts?limit=1").await;
    assert_eq!(one.len(), 1);
    assert_eq!(one[0]["id"], ids[0]);
    for q in ["limit=0", "limit=1001", "kind=low", "since=1"] {
        let res = app.api_get(&format!("/api/stock/alerts?{q}"), &key).await;
        assert_problem(res, 400, "invalid_parameters").await;
    }
    // Only the key's reach.
    let v: Vec<Value> = app
        .api_get("/api/stock/alerts", &n2_only)
        .await
        .json()
        .await
        .unwrap();
    assert!(v.is_empty());
    // CSV, like stock.
    let csv = app
        .client()
        .get(app.url("/api/stock/alerts"))
        .header("X-API-Key", &key)
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "id,StockId,DeviceId,DeviceName,Customer,SKU,Description,MinQty,MaxQty,Physical,PreviousPhysical,Kind,At"
        )
    );
    assert_eq!(lines.count(), 4);
    // Kept 90 days: past that they are no longer listed, and the next write forgets them.
    let last_id = ids[0];
    app.clock.set(t0 + Duration::days(91));
    assert!(alerts("/api/stock/alerts").await.is_empty());
    import(t0 + Duration::days(91), 1, 15).await;
    let left = <partlogic_entity::stock_alert::Entity as sea_orm::EntityTrait>::find()
        .all(&app.db)
        .await
        .unwrap()
        .len();
    assert_eq!(left, 0);
    // With every alert gone, the next crossing still gets a new id: ids are never reused, or a
    // polling tool that saw the old one would stay silent.
    import(t0 + Duration::days(91) + Duration::hours(1), 30, 15).await;
    let a = alerts("/api/stock/alerts").await;
    assert_eq!(a.len(), 1);
    assert!(
        a[0]["id"].as_i64().unwrap() > last_id,
        "{a:?} after {last_id}"
    );
    // A dated key is refused the same way whichever way it comes, once it has expired.
    let admin = app.login(&w.admin.email).await;
    let (_, dated) = app
        .create_key(
            &admin,
            json!({"name": "dated", "device_ids": [w.n1], "expires_on": "2027-03-01"}),
        )
        .await;
    app.clock
        .set(Utc.with_ymd_and_hms(2027, 3, 2, 0, 0, 0).unwrap());
    for value in [basic(&dated, ""), format!("Bearer {dated}")] {
        let res = get_with(&app, "/api/key", "Authorization", &value).await;
        assert_problem(res, 401, "api_key_expired").await;
    }
}

/// Old alerts also go without any import: each instance forgets them at start and hourly.
async fn old_alerts_are_forgotten_without_any_write(backend: Backend) {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap();
    let app = TestApp::spawn_custom(backend, Clock::frozen(t0), |_| {}).await;
    let w = World::build(&app).await;
    let csv = "Item Code,Description*,Quantity In Stock,Storeroom\nN1-SKU0,Item N1-SKU0,1,N1\n";
    import::import_csv(
        &app.db,
        w.acme,
        csv.as_bytes(),
        None,
        t0,
        Duration::days(90),
    )
    .await
    .unwrap();
    let count = || async {
        <partlogic_entity::stock_alert::Entity as sea_orm::EntityTrait>::find()
            .all(&app.db)
            .await
            .unwrap()
            .len()
    };
    assert_eq!(count().await, 1);
    // A second instance starting 91 days later on the same database prunes at once.
    let url = app.database_url().to_owned();
    let mut settings = partlogic_server::Settings::new(url);
    settings.bind = "127.0.0.1:0".to_owned();
    settings.workers = 1;
    let later =
        partlogic_server::Application::build(settings, Clock::frozen(t0 + Duration::days(91)))
            .await
            .unwrap();
    tokio::spawn(later.run_until_stopped());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while count().await != 0 {
        assert!(std::time::Instant::now() < deadline, "not pruned");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Two imports of the same crossing at once record it once (PostgreSQL locks the rows; SQLite
/// runs writers one at a time).
async fn concurrent_imports_record_a_crossing_once(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let csv = "Item Code,Description*,Quantity In Stock,Storeroom\nN1-SKU0,Item N1-SKU0,8,N1\n";
    let run = || {
        let db = app.db.clone();
        let acme = w.acme;
        tokio::spawn(async move {
            import::import_csv(
                &db,
                acme,
                csv.as_bytes(),
                None,
                Utc::now(),
                Duration::days(90),
            )
            .await
            .unwrap()
        })
    };
    let (a, b, c) = tokio::join!(run(), run(), run());
    let updated: usize = [a, b, c].into_iter().map(|r| r.unwrap().updated).sum();
    assert_eq!(
        updated, 1,
        "one import changed the row; the others found it changed"
    );
    let alerts = <partlogic_entity::stock_alert::Entity as sea_orm::EntityTrait>::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
}

async fn recipes_carry_the_configured_base_url_never_the_request_s(backend: Backend) {
    let app = TestApp::spawn_custom(backend, Clock::system(), |s| {
        s.public_url = Some("https://stock.partlogic.example/".to_owned());
    })
    .await;
    let res = app
        .client()
        .get(app.url("/recipes/curl.sh"))
        .header("X-Forwarded-Host", "evil.example")
        .header("Host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(text.contains("https://stock.partlogic.example}"), "{text}");
    // The OpenAPI documents name it as their server (the request's Host never).
    for doc in ["/api/openapi.json", "/portal/api/openapi.json"] {
        let v: serde_json::Value = app
            .client()
            .get(app.url(doc))
            .header("X-Forwarded-Host", "evil.example")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            v["servers"][0]["url"], "https://stock.partlogic.example",
            "{doc}"
        );
    }
    // Behind a proxy that adds a path, the next-page link keeps it.
    let prefixed = TestApp::spawn_custom(backend, Clock::system(), |s| {
        s.public_url = Some("https://partlogic.example/stock".to_owned());
    })
    .await;
    let pw = World::build(&prefixed).await;
    let padmin = prefixed.login(&pw.admin.email).await;
    let (_, pkey) = prefixed
        .create_key(&padmin, json!({"name": "k", "device_ids": [pw.n1, pw.n2]}))
        .await;
    let res = prefixed.api_get("/api/stock?limit=1", &pkey).await;
    assert!(
        res.headers()["link"]
            .to_str()
            .unwrap()
            .starts_with("</stock/api/stock?limit=1&after="),
        "{:?}",
        res.headers()["link"]
    );
    // A URL that would break the recipes it is pasted into is refused at start.
    let mut bad = partlogic_server::Settings::new(prefixed.database_url());
    bad.bind = "127.0.0.1:0".to_owned();
    bad.public_url = Some("https://x.example/\"; alert(1); //".to_owned());
    assert!(
        partlogic_server::Application::build(bad, Clock::system())
            .await
            .is_err()
    );
    assert!(!text.contains("evil"));
    let res = app
        .client()
        .get(app.url("/recipes/postman_collection.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "application/json");
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["variable"][0]["value"], "https://stock.partlogic.example");
    let res = app
        .client()
        .get(app.url("/recipes/nope.gs"))
        .send()
        .await
        .unwrap();
    assert_problem(res, 404, "not_found").await;
    // Without a configured URL: the address the server listens on.
    let plain = TestApp::spawn(backend).await;
    let text = plain
        .client()
        .get(plain.url("/recipes/python.py"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains(&plain.address), "{text}");
    // The portal tells its guides the same.
    let w = World::build(&plain).await;
    let admin = plain.login(&w.admin.email).await;
    let v: Value = plain.get_json(&admin, "/portal/api/connect").await;
    assert_eq!(v["base_url"], plain.address.as_str());
    assert!(
        v["recipes"]
            .as_array()
            .unwrap()
            .contains(&json!("google-sheets.gs"))
    );
}
