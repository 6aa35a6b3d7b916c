//! Creating, listing, viewing, editing and retiring keys through the portal API.

use partlogic_entity::api_key;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, error_fields};
use crate::on_every_database;

on_every_database!(
    create_shows_the_secret_once_and_stores_only_its_digest,
    create_validates_every_field,
    listing_follows_roles_and_never_shows_secrets,
    other_people_s_keys_are_not_found,
    admins_edit_members_keys_within_the_member_s_devices,
    a_zone_without_a_date_does_not_matter,
    editing_changes_reach_without_a_new_secret,
    retiring_takes_effect_on_the_next_request_and_is_idempotent,
    use_is_recorded_with_a_first_use_event,
);

async fn create_shows_the_secret_once_and_stores_only_its_digest(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let member = app.login(&w.member.email).await;
    let res = member
        .post(app.url("/portal/api/keys"))
        .json(&json!({"name": "  Zapier stock sync  ", "device_ids": [w.n1, w.n2, w.n1]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let v: Value = res.json().await.unwrap();
    let secret = v["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("pl_") && secret.len() == 52, "{secret}");
    assert!(
        secret[3..].chars().all(|c| c.is_ascii_alphanumeric()),
        "double-click selects it whole"
    );
    let key = &v["key"];
    assert_eq!(key["name"], "Zapier stock sync");
    assert_eq!(key["prefix"], &secret[..7]);
    assert_eq!(key["device_count"], 2);
    assert_eq!(key["status"], "active");
    assert_eq!(key["expires_on"], Value::Null);
    assert_eq!(key["time_zone"], "UTC");
    assert_eq!(key["owner"]["email"], w.member.email);
    assert_eq!(key["events"][0]["action"], "created");
    assert_eq!(key["events"][0]["actor"]["id"], w.member.id);

    let row = api_key::Entity::find_by_id(key["id"].as_i64().unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.digest,
        partlogic_server::domain::digest::digest(&secret)
    );
    let dump = format!("{row:?}");
    assert!(!dump.contains(&secret[3..]), "the secret is not stored");

    // Two keys never share a secret.
    let (_, other) = app
        .create_key(&member, json!({"name": "two", "device_ids": [w.n1]}))
        .await;
    assert_ne!(other, secret);
}

async fn create_validates_every_field(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let member = app.login(&w.member.email).await;
    let cases = [
        (json!({"name": "", "device_ids": [w.n1]}), "name"),
        (json!({"name": "   ", "device_ids": [w.n1]}), "name"),
        (
            json!({"name": "x".repeat(101), "device_ids": [w.n1]}),
            "name",
        ),
        (json!({"name": "tab\there", "device_ids": [w.n1]}), "name"),
        (json!({"name": "k", "device_ids": []}), "device_ids"),
        (json!({"name": "k"}), "device_ids"),
        (
            json!({"name": "k", "device_ids": [w.n1], "expires_on": "31/12/2026"}),
            "expires_on",
        ),
        (
            json!({"name": "k", "device_ids": [w.n1], "expires_on": "+10000-01-01"}),
            "expires_on",
        ),
        (
            json!({"name": "k", "device_ids": [w.n1], "expires_on": "20261-01-01"}),
            "expires_on",
        ),
        (
            json!({"name": "k", "device_ids": [w.n1], "expires_on": "2099-01-01", "time_zone": "Mars/Olympus"}),
            "time_zone",
        ),
        (
            json!({"name": "k", "device_ids": [w.n1], "time_zone": "Mars/Olympus"}),
            "time_zone",
        ),
        (
            json!({"name": "Zapier\u{202e}kcats", "device_ids": [w.n1]}),
            "name",
        ),
        (
            json!({"name": "Zap\u{200b}ier", "device_ids": [w.n1]}),
            "name",
        ),
        // Tag characters, the combining grapheme joiner and variation selectors are invisible.
        (
            json!({"name": "Zapier\u{e0041}\u{e0042}", "device_ids": [w.n1]}),
            "name",
        ),
        (
            json!({"name": "Zap\u{34f}ier\u{fe0f}", "device_ids": [w.n1]}),
            "name",
        ),
        (json!({"name": "k", "device_ids": [0]}), "device_ids"),
    ];
    for (body, field) in cases {
        let res = member
            .post(app.url("/portal/api/keys"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let v = assert_problem(res, 422, "validation_failed").await;
        let fields = error_fields(&v);
        assert_eq!(fields, [field], "{body}");
    }
    // Well-formed dates outside what is allowed today: already over, or past five years ahead.
    for date in ["2020-01-01", "9999-12-31"] {
        let res = member
            .post(app.url("/portal/api/keys"))
            .json(&json!({"name": "k", "device_ids": [w.n1], "expires_on": date}))
            .send()
            .await
            .unwrap();
        let v = assert_problem(res, 409, "expiry_out_of_range").await;
        assert_eq!(error_fields(&v), ["expires_on"], "{date}");
    }
    // JSON Schema calls 250.0 an integer, and so does the server.
    let res = member
        .post(app.url("/portal/api/keys"))
        .header("content-type", "application/json")
        .body(format!(
            r#"{{"name": "floats", "device_ids": [{}.0]}}"#,
            w.n1
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    // Large ones too, read exactly (a float parsed one ULP off would have a fraction): the
    // body is understood, and refused for what it asks (a member may not set a limit).
    let res = member
        .post(app.url("/portal/api/keys"))
        .header("content-type", "application/json")
        .body(r#"{"name": "big", "device_ids": [2006055741808935.0], "rate_limit_per_minute": 33358.0}"#)
        .send()
        .await
        .unwrap();
    assert_problem(res, 403, "admin_only").await;
    // Every error at once, so a form can mark every field.
    let res = member
        .post(app.url("/portal/api/keys"))
        .json(&json!({"name": "", "device_ids": [], "expires_on": "2020-1-1"}))
        .send()
        .await
        .unwrap();
    let v = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(v["errors"].as_array().unwrap().len(), 3);
    // 100 characters is fine; nothing was created by the failures.
    app.create_key(
        &member,
        json!({"name": "é".repeat(100), "device_ids": [w.n1]}),
    )
    .await;
    let list: Vec<Value> = app.get_json(&member, "/portal/api/keys").await;
    assert_eq!(list.len(), 2);
}

async fn listing_follows_roles_and_never_shows_secrets(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let member = app.login(&w.member.email).await;
    let member2 = app.login(&w.member2.email).await;
    let admin = app.login(&w.admin.email).await;
    let gadmin = app.login(&w.gadmin.email).await;
    let (_, s1) = app
        .create_key(&member, json!({"name": "m-first", "device_ids": [w.n1]}))
        .await;
    let (_, s2) = app
        .create_key(
            &member,
            json!({"name": "m-second", "device_ids": [w.n1, w.s1]}),
        )
        .await;
    let (_, s3) = app
        .create_key(&member2, json!({"name": "m2", "device_ids": [w.s2]}))
        .await;
    let (_, s4) = app
        .create_key(&admin, json!({"name": "a", "device_ids": [w.s2]}))
        .await;

    let list = |c: &reqwest::Client, path: &'static str| {
        let c = c.clone();
        let url = app.url(path);
        async move {
            let res = c.get(url).send().await.unwrap();
            assert_eq!(res.status(), 200);
            res.text().await.unwrap()
        }
    };
    let names = |text: &str| -> Vec<String> {
        serde_json::from_str::<Vec<Value>>(text)
            .unwrap()
            .iter()
            .map(|k| k["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let m = list(&member, "/portal/api/keys").await;
    assert_eq!(
        names(&m),
        ["m-second", "m-first"],
        "newest first, own keys only"
    );
    let a = list(&admin, "/portal/api/keys").await;
    assert_eq!(names(&a), ["a", "m2", "m-second", "m-first"]);
    let all: Vec<Value> = serde_json::from_str(&a).unwrap();
    assert_eq!(all[1]["owner"]["email"], w.member2.email);
    assert_eq!(all[2]["device_count"], 2);
    let a_mine = list(&admin, "/portal/api/keys?mine=true").await;
    assert_eq!(names(&a_mine), ["a"]);
    let g = list(&gadmin, "/portal/api/keys").await;
    assert!(names(&g).is_empty());
    for text in [&m, &a, &a_mine, &g] {
        for s in [&s1, &s2, &s3, &s4] {
            assert!(!text.contains(&s[7..]), "a listing leaked a secret");
        }
    }
    let res = app
        .client()
        .get(app.url("/portal/api/keys"))
        .send()
        .await
        .unwrap();
    assert_problem(res, 401, "not_logged_in").await;
}

async fn other_people_s_keys_are_not_found(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let member = app.login(&w.member.email).await;
    let member2 = app.login(&w.member2.email).await;
    let admin = app.login(&w.admin.email).await;
    let gadmin = app.login(&w.gadmin.email).await;
    let (id, key) = app
        .create_key(&member, json!({"name": "mine", "device_ids": [w.n1]}))
        .await;
    let path = format!("/portal/api/keys/{id}");
    for outsider in [&member2, &gadmin] {
        assert_problem(
            outsider.get(app.url(&path)).send().await.unwrap(),
            404,
            "not_found",
        )
        .await;
        let res = outsider
            .patch(app.url(&path))
            .json(&json!({"name": "x"}))
            .send()
            .await
            .unwrap();
        assert_problem(res, 404, "not_found").await;
        assert_problem(
            outsider.delete(app.url(&path)).send().await.unwrap(),
            404,
            "not_found",
        )
        .await;
    }
    assert_problem(
        member
            .get(app.url("/portal/api/keys/999999"))
            .send()
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;
    // The key still works: nothing the outsiders did touched it.
    assert_eq!(app.api_get("/api/stock", &key).await.status(), 200);
    // The account's admin may see and manage it.
    let v: Value = app.get_json(&admin, &path).await;
    assert_eq!(v["name"], "mine");
    assert!(!v.to_string().contains(&key[7..]));
}

async fn editing_changes_reach_without_a_new_secret(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let member = app.login(&w.member.email).await;
    let (id, key) = app
        .create_key(&member, json!({"name": "sync", "device_ids": [w.n1]}))
        .await;
    let path = format!("/portal/api/keys/{id}");
    let rows: Vec<Value> = app.api_get("/api/stock", &key).await.json().await.unwrap();
    assert_eq!(rows.len(), 3);

    let res = member
        .patch(app.url(&path))
        .json(&json!({"name": "sync v2", "device_ids": [w.n2, w.s1]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["name"], "sync v2");
    assert_eq!(v["device_count"], 2);
    assert!(v.get("secret").is_none());
    assert_eq!(v["events"][0]["action"], "edited");
    let detail = v["events"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("renamed") && detail.contains("2 added, 1 removed"),
        "{detail}"
    );

    let rows: Vec<Value> = app.api_get("/api/stock", &key).await.json().await.unwrap();
    let devices: std::collections::BTreeSet<&str> = rows
        .iter()
        .map(|r| r["DeviceName"].as_str().unwrap())
        .collect();
    assert_eq!(devices.into_iter().collect::<Vec<_>>(), ["N2", "S1"]);

    // A no-op edit records nothing.
    let edits = |v: &Value| {
        v["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "edited")
            .count()
    };
    let v: Value = member
        .patch(app.url(&path))
        .json(&json!({"name": "sync v2"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(edits(&v), 1);

    for (body, field) in [
        (json!({"name": ""}), "name"),
        (json!({"name": "a\u{2066}b"}), "name"),
        (json!({"device_ids": []}), "device_ids"),
    ] {
        let res = member
            .patch(app.url(&path))
            .json(&body)
            .send()
            .await
            .unwrap();
        let v = assert_problem(res, 422, "validation_failed").await;
        assert_eq!(v["errors"][0]["field"], field);
    }
    // A device the member may not use is a permission, not a typo.
    let res = member
        .patch(app.url(&path))
        .json(&json!({"device_ids": [w.s2]}))
        .send()
        .await
        .unwrap();
    let v = assert_problem(res, 403, "device_not_in_scope").await;
    assert_eq!(v["errors"][0]["field"], "device_ids");
}

async fn retiring_takes_effect_on_the_next_request_and_is_idempotent(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let member = app.login(&w.member.email).await;
    let admin = app.login(&w.admin.email).await;
    let (id, key) = app
        .create_key(&member, json!({"name": "old", "device_ids": [w.n1]}))
        .await;
    let path = format!("/portal/api/keys/{id}");
    assert_eq!(app.api_get("/api/stock", &key).await.status(), 200);

    // The account admin retires the member's key.
    let res = admin.delete(app.url(&path)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["status"], "retired");
    assert_eq!(v["retired_by"]["email"], w.admin.email);
    assert!(v["retired_at"].is_string());
    let retired_at = v["retired_at"].clone();

    assert_problem(
        app.api_get("/api/stock", &key).await,
        401,
        "api_key_retired",
    )
    .await;
    assert_problem(
        app.api_get("/api/devices", &key).await,
        401,
        "api_key_retired",
    )
    .await;

    // Again: same answer, no second event.
    let v: Value = member
        .delete(app.url(&path))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["retired_at"], retired_at);
    let actions: Vec<&str> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions.iter().filter(|a| **a == "retired").count(), 1);

    // Still listed, as retired; no longer editable.
    let list: Vec<Value> = app.get_json(&member, "/portal/api/keys").await;
    assert_eq!(list[0]["status"], "retired");
    let res = member
        .patch(app.url(&path))
        .json(&json!({"name": "revived"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 409, "key_retired").await;
}

async fn use_is_recorded_with_a_first_use_event(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let member = app.login(&w.member.email).await;
    let (id, key) = app
        .create_key(&member, json!({"name": "k", "device_ids": [w.n1]}))
        .await;
    for _ in 0..5 {
        assert_eq!(app.api_get("/api/stock", &key).await.status(), 200);
    }
    // Recording happens off the request path; give it a moment.
    let mut v = Value::Null;
    for _ in 0..50 {
        v = app
            .get_json(&member, &format!("/portal/api/keys/{id}"))
            .await;
        if v["last_used_at"].is_string() && v["events"].as_array().unwrap().len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(v["last_used_at"].is_string(), "{v}");
    assert_eq!(v["last_used_ip"], "127.0.0.1");
    let actions: Vec<&str> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["first_used", "created"],
        "one first_used event for five requests"
    );
    assert_eq!(v["events"][0]["actor"], Value::Null);
}

async fn admins_edit_members_keys_within_the_member_s_devices(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let member = app.login(&w.member.email).await;
    let admin = app.login(&w.admin.email).await;
    let (id, key) = app
        .create_key(&member, json!({"name": "m", "device_ids": [w.n1]}))
        .await;
    let path = format!("/portal/api/keys/{id}");
    // S2 is an Acme device the admin sees but the member does not.
    let res = admin
        .patch(app.url(&path))
        .json(&json!({"device_ids": [w.n1, w.s2]}))
        .send()
        .await
        .unwrap();
    let v = assert_problem(res, 403, "device_not_in_scope").await;
    let message = v["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("the key's owner") && message.contains(&w.s2.to_string()),
        "{message}"
    );
    let res = admin
        .patch(app.url(&path))
        .json(&json!({"device_ids": [w.n1, w.n2]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let rows: Vec<Value> = app.api_get("/api/stock", &key).await.json().await.unwrap();
    assert_eq!(rows.len(), 6);
}

async fn a_zone_without_a_date_does_not_matter(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let member = app.login(&w.member.email).await;
    // A known zone without a date is kept for display; the key never expires.
    let res = member
        .post(app.url("/portal/api/keys"))
        .json(&json!({"name": "k", "device_ids": [w.n1], "time_zone": "Europe/Paris"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["key"]["time_zone"], "Europe/Paris");
    assert_eq!(v["key"]["expires_at"], Value::Null);
    // No zone at all is UTC.
    let (id, _) = app
        .create_key(
            &member,
            json!({"name": "k2", "device_ids": [w.n1], "time_zone": null}),
        )
        .await;
    let v: Value = app
        .get_json(&member, &format!("/portal/api/keys/{id}"))
        .await;
    assert_eq!(v["time_zone"], "UTC");
}
