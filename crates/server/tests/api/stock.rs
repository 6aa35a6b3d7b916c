//! `GET /api/stock` and `GET /api/devices`: fields, filters, paging, CSV and streaming.

use serde_json::{Value, json};

use partlogic_entity::{device, stock};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::helpers::{Backend, TestApp, add_stock, assert_problem};
use crate::on_every_database;

on_every_database!(
    rows_keep_the_legacy_field_names_and_only_the_keys_devices,
    filters_narrow_the_rows,
    bad_parameters_are_400_with_field_errors,
    limit_pages_with_a_link_header,
    csv_has_a_header_line_and_the_same_rows,
    unpaged_answers_stream_every_row,
    devices_lists_the_keys_reach,
    pages_merge_devices_in_id_order,
);

async fn rows_keep_the_legacy_field_names_and_only_the_keys_devices(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let member = app.login(&w.member.email).await;
    let (_, key) = app
        .create_key(&member, json!({"name": "k", "device_ids": [w.n1, w.s1]}))
        .await;

    let res = app.api_get("/api/stock", &key).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    assert_eq!(res.headers()["cache-control"], "no-store");
    let rows: Vec<Value> = res.json().await.unwrap();
    assert_eq!(rows.len(), 6);
    let ids: Vec<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "ordered by id");
    for r in &rows {
        let obj = r.as_object().unwrap();
        let mut names: Vec<&str> = obj.keys().map(String::as_str).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "Customer",
                "Description",
                "DeviceId",
                "DeviceName",
                "Location",
                "MaxQty",
                "MinQty",
                "Physical",
                "SKU",
                "UpdatedAt",
                "id"
            ]
        );
        assert!(["N1", "S1"].contains(&r["DeviceName"].as_str().unwrap()));
        assert!(r["id"].is_i64() && r["MinQty"].is_i64() && r["Physical"].is_i64());
        let updated = r["UpdatedAt"].as_str().unwrap();
        chrono::DateTime::parse_from_rfc3339(updated).unwrap();
    }
    let first = &rows[0];
    assert_eq!(first["DeviceName"], "N1");
    assert_eq!(first["Customer"], "North");
    assert_eq!(first["SKU"], "N1-SKU0");
    assert_eq!(first["Description"], "Item N1-SKU0");
    assert_eq!(first["MinQty"], 10);
    assert_eq!(first["MaxQty"], 50);
    assert_eq!(first["Physical"], 20);
    assert_eq!(first["DeviceId"], w.n1);
}

async fn filters_narrow_the_rows(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let admin = app.login(&w.admin.email).await;
    let (_, key) = app
        .create_key(
            &admin,
            json!({"name": "k", "device_ids": [w.n1, w.n2, w.s1]}),
        )
        .await;
    let get = |path: String| {
        let app = &app;
        let key = key.clone();
        async move {
            let res = app.api_get(&path, &key).await;
            assert_eq!(res.status(), 200, "{path}");
            res.json::<Vec<Value>>().await.unwrap()
        }
    };

    let rows = get(format!("/api/stock?device={}", w.n2)).await;
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r["DeviceId"] == w.n2));

    let rows = get(format!("/api/stock?device={}&device={}", w.n2, w.s1)).await;
    assert_eq!(rows.len(), 6);

    let rows = get("/api/stock?sku=S1-SKU2".into()).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["SKU"], "S1-SKU2");

    let rows = get("/api/stock?below_min=true".into()).await;
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter()
            .all(|r| r["Physical"].as_i64() < r["MinQty"].as_i64())
    );

    let rows = get("/api/stock?below_min=false".into()).await;
    assert_eq!(rows.len(), 9);

    // updated_since: one fresh row among old ones.
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    add_stock(
        &app.db,
        w.n1,
        "FRESH",
        1,
        2,
        1,
        later + chrono::Duration::minutes(5),
    )
    .await;
    let since = later.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let rows = get(format!("/api/stock?updated_since={}", urlencode(&since))).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["SKU"], "FRESH");

    // A device of the account that the key does not have, and one of another account.
    for outside in [w.s2, w.g1, 999_999] {
        let res = app
            .api_get(
                &format!("/api/stock?device={}&device={outside}", w.n1),
                &key,
            )
            .await;
        let v = assert_problem(res, 403, "device_not_in_scope").await;
        assert!(v["detail"].as_str().unwrap().contains(&outside.to_string()));
    }

    // Cache busters are let through.
    assert_eq!(get("/api/stock?_=12345".into()).await.len(), 10);
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

async fn bad_parameters_are_400_with_field_errors(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let admin = app.login(&w.admin.email).await;
    let (_, key) = app
        .create_key(&admin, json!({"name": "k", "device_ids": [w.n1]}))
        .await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("after=x", "after"),
        ("device=abc", "device"),
        ("below_min=maybe", "below_min"),
        ("updated_since=yesterday", "updated_since"),
        ("belowmin=true", "belowmin"),
        ("below_min=1", "below_min"),
        ("after=-1", "after"),
        ("device=0", "device"),
        ("sku=", "sku"),
        ("sku=%00", "sku"),
        ("sku=a%0Ab", "sku"),
    ] {
        let res = app.api_get(&format!("/api/stock?{query}"), &key).await;
        let v = assert_problem(res, 400, "invalid_parameters").await;
        assert_eq!(v["errors"][0]["field"], field, "{query}: {v}");
        assert!(
            v["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    let res = app.api_get("/api/stock?limit=0&after=x", &key).await;
    let v = assert_problem(res, 400, "invalid_parameters").await;
    assert_eq!(v["errors"].as_array().unwrap().len(), 2);
}

async fn limit_pages_with_a_link_header(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let admin = app.login(&w.admin.email).await;
    let (_, key) = app
        .create_key(
            &admin,
            json!({"name": "k", "device_ids": [w.n1, w.n2, w.s1, w.s2]}),
        )
        .await;
    let all: Vec<Value> = app.api_get("/api/stock", &key).await.json().await.unwrap();
    assert_eq!(all.len(), 12);

    let mut next = Some("/api/stock?limit=5".to_owned());
    let mut seen = Vec::new();
    let mut pages = 0;
    while let Some(url) = next.take() {
        let res = app
            .client()
            .get(app.url(&url))
            .header("X-API-Key", &key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        next = res.headers().get("link").map(|l| {
            let l = l.to_str().unwrap();
            assert!(l.ends_with("; rel=\"next\""), "{l}");
            assert!(!l.contains(&key));
            // Relative: never a host taken from the request.
            assert!(l.starts_with("</api/stock?"), "{l}");
            l[1..l.find('>').unwrap()].to_owned()
        });
        let rows: Vec<Value> = res.json().await.unwrap();
        assert!(rows.len() <= 5);
        seen.extend(rows);
        pages += 1;
        assert!(pages < 10);
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, all, "paging returns every row once, in order");

    // Filters survive into the next link.
    let res = app.api_get("/api/stock?limit=1&below_min=true", &key).await;
    let link = res.headers()["link"].to_str().unwrap().to_owned();
    assert!(
        link.contains("below_min=true") && link.contains("after="),
        "{link}"
    );

    // An exact last page has no next link.
    let res = app.api_get("/api/stock?limit=12", &key).await;
    assert!(res.headers().get("link").is_none());
}

async fn csv_has_a_header_line_and_the_same_rows(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let admin = app.login(&w.admin.email).await;
    let (_, key) = app
        .create_key(&admin, json!({"name": "k", "device_ids": [w.n1, w.n2]}))
        .await;
    // A description a naive CSV writer would break.
    add_stock(&app.db, w.n1, "QUOTE", 1, 2, 3, chrono::Utc::now()).await;
    sea_orm::ConnectionTrait::execute_unprepared(
        &app.db,
        "UPDATE stock SET description = 'Bolt, \"hex\" M8' WHERE sku = 'QUOTE'",
    )
    .await
    .unwrap();

    let json_rows: Vec<Value> = app.api_get("/api/stock", &key).await.json().await.unwrap();
    for path in ["/api/stock", "/api/stock?limit=100"] {
        let res = app
            .client()
            .get(app.url(path))
            .header("X-API-Key", &key)
            .header("Accept", "text/csv")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
        let text = res.text().await.unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let headers: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(
            headers,
            [
                "id",
                "DeviceName",
                "SKU",
                "Description",
                "MinQty",
                "MaxQty",
                "Physical",
                "DeviceId",
                "Customer",
                "Location",
                "UpdatedAt"
            ]
        );
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(records.len(), json_rows.len());
        for (rec, row) in records.iter().zip(&json_rows) {
            assert_eq!(rec[0], row["id"].to_string());
            assert_eq!(&rec[2], row["SKU"].as_str().unwrap());
            assert_eq!(&rec[3], row["Description"].as_str().unwrap());
            assert_eq!(&rec[10], row["UpdatedAt"].as_str().unwrap());
        }
        assert!(records.iter().any(|r| &r[3] == "Bolt, \"hex\" M8"));
    }
    // JSON wins when preferred.
    let res = app
        .client()
        .get(app.url("/api/stock"))
        .header("X-API-Key", &key)
        .header("Accept", "application/json, text/csv;q=0.5")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "application/json");
}

async fn unpaged_answers_stream_every_row(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    // More rows than one streaming chunk (500), across devices.
    let now = chrono::Utc::now();
    let txn_rows: Vec<partlogic_entity::stock::ActiveModel> = (0..1234)
        .map(|i| partlogic_entity::stock::ActiveModel {
            device_id: sea_orm::ActiveValue::Set(if i % 2 == 0 { w.n1 } else { w.n2 }),
            sku: sea_orm::ActiveValue::Set(format!("BULK-{i:05}")),
            description: sea_orm::ActiveValue::Set("bulk".into()),
            min_qty: sea_orm::ActiveValue::Set(1),
            max_qty: sea_orm::ActiveValue::Set(9),
            physical: sea_orm::ActiveValue::Set(5),
            location: sea_orm::ActiveValue::Set(String::new()),
            updated_at: sea_orm::ActiveValue::Set(now),
            ..Default::default()
        })
        .collect();
    for chunk in txn_rows.chunks(200) {
        sea_orm::EntityTrait::insert_many::<partlogic_entity::stock::ActiveModel, _>(
            chunk.to_vec(),
        )
        .exec(&app.db)
        .await
        .unwrap();
    }
    let admin = app.login(&w.admin.email).await;
    let (_, key) = app
        .create_key(&admin, json!({"name": "k", "device_ids": [w.n1, w.n2]}))
        .await;
    let res = app.api_get("/api/stock", &key).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers().get("content-length").is_none(),
        "streamed, not buffered"
    );
    let rows: Vec<Value> = res.json().await.unwrap();
    assert_eq!(rows.len(), 1234 + 6);
    let ids: Vec<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert!(
        ids.windows(2).all(|p| p[0] < p[1]),
        "strictly ascending ids, no duplicates"
    );

    let res = app
        .client()
        .get(app.url("/api/stock"))
        .header("X-API-Key", &key)
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap();
    let text = res.text().await.unwrap();
    assert_eq!(text.lines().count(), 1 + 1234 + 6);

    // `after` without `limit` streams the rest.
    let res = app
        .api_get(&format!("/api/stock?after={}", ids[1000]), &key)
        .await;
    let rest: Vec<Value> = res.json().await.unwrap();
    assert_eq!(rest.len(), ids.len() - 1001);
}

async fn devices_lists_the_keys_reach(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let member = app.login(&w.member.email).await;
    let (_, key) = app
        .create_key(&member, json!({"name": "k", "device_ids": [w.s1, w.n1]}))
        .await;
    let res = app.api_get("/api/devices", &key).await;
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(
        v,
        json!([
            {"id": w.n1, "Name": "N1", "Customer": "North"},
            {"id": w.s1, "Name": "S1", "Customer": "South"},
        ])
    );
}

/// Every id after `start`, walked in pages of `limit` through the Link header.
async fn walk(app: &TestApp, key: &str, start: &str) -> Vec<i64> {
    let mut next = Some(start.to_owned());
    let mut ids = Vec::new();
    while let Some(url) = next.take() {
        let res = app.api_get(&url, key).await;
        assert_eq!(res.status(), 200, "{url}");
        next = res.headers().get("link").map(|l| {
            let l = l.to_str().unwrap();
            l[1..l.find('>').unwrap()].to_owned()
        });
        let rows: Vec<Value> = res.json().await.unwrap();
        ids.extend(rows.iter().map(|r| r["id"].as_i64().unwrap()));
        assert!(ids.len() < 2000, "paging never ends");
    }
    ids
}

/// Pages over several devices whose rows interleave by id come out in id order, each row
/// once, filters applied, whether the devices are merged one range each or (past a couple of
/// hundred devices) walked together; what the database holds is the reference.
async fn pages_merge_devices_in_id_order(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let admin = app.login(&w.admin.email).await;
    let now = chrono::Utc::now();
    // Rows that interleave across three devices, some below their minimum, one device left
    // out of the key.
    let devices = [w.n1, w.n2, w.s1, w.s2];
    for i in 0..40i64 {
        let d = devices[(i % 4) as usize];
        add_stock(&app.db, d, &format!("M-{i}"), 3, 9, i % 7, now).await;
    }
    let reach = [w.n1, w.n2, w.s1];
    let (_, key) = app
        .create_key(&admin, json!({"name": "three", "device_ids": reach}))
        .await;
    let expected = |rows: Vec<stock::Model>, keep: &dyn Fn(&stock::Model) -> bool| {
        rows.into_iter()
            .filter(|r| keep(r))
            .map(|r| r.id)
            .collect::<Vec<_>>()
    };
    let in_reach = stock::Entity::find()
        .filter(stock::Column::DeviceId.is_in(reach))
        .order_by_asc(stock::Column::Id)
        .all(&app.db)
        .await
        .unwrap();
    let all = expected(in_reach.clone(), &|_| true);
    assert_eq!(all.len(), 9 + 30);
    for limit in [1, 4, 7, 100] {
        assert_eq!(
            walk(&app, &key, &format!("/api/stock?limit={limit}")).await,
            all
        );
    }
    let below = expected(in_reach.clone(), &|r| r.physical < r.min_qty);
    assert!(!below.is_empty() && below.len() < all.len());
    assert_eq!(
        walk(&app, &key, "/api/stock?limit=3&below_min=true").await,
        below
    );
    let from = all[10];
    assert_eq!(
        walk(&app, &key, &format!("/api/stock?limit=5&after={from}")).await,
        all[11..].to_vec()
    );
    assert_eq!(
        walk(&app, &key, "/api/stock?sku=M-5").await,
        expected(in_reach.clone(), &|r| r.sku == "M-5")
    );

    // A key of more devices than one statement merges: 240 devices, rows on a few of them.
    let north = device::Entity::find_by_id(w.n1)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .customer_id;
    device::Entity::insert_many((0..240).map(|i| device::ActiveModel {
        account_id: Set(w.acme),
        customer_id: Set(north),
        name: Set(format!("Bulk {i:03}")),
        ..Default::default()
    }))
    .exec(&app.db)
    .await
    .unwrap();
    let bulk: Vec<i64> = device::Entity::find()
        .filter(device::Column::Name.starts_with("Bulk "))
        .order_by_asc(device::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect();
    for (i, d) in bulk.iter().step_by(40).enumerate() {
        add_stock(&app.db, *d, &format!("B-{i}"), 0, 9, 1, now).await;
        add_stock(&app.db, w.n1, &format!("N-{i}"), 0, 9, 1, now).await;
    }
    let mut wide: Vec<i64> = bulk.clone();
    wide.push(w.n1);
    let (_, key) = app
        .create_key(&admin, json!({"name": "wide", "device_ids": wide}))
        .await;
    let rows = stock::Entity::find()
        .filter(stock::Column::DeviceId.is_in(wide))
        .order_by_asc(stock::Column::Id)
        .all(&app.db)
        .await
        .unwrap();
    let all = expected(rows, &|_| true);
    assert_eq!(all.len(), 3 + 10 + 6 + 6);
    assert_eq!(walk(&app, &key, "/api/stock?limit=2").await, all);
}
