//! Key lifecycle: rolling with an overlap, per-key rate limits, usage counters, refused uses in
//! the history, leak reports (GitHub's secret-scanning contract), a key retiring itself, and
//! live reach. Times are set with the test clock, so overlaps and windows end exactly where
//! the test says.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::{EncodePublicKey, LineEnding};
use partlogic_server::Clock;
use partlogic_server::keys::usage::{Refusal, Usage};
use partlogic_types::ProblemCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, World, assert_problem, within_a_second};
use crate::on_every_database;

on_every_database!(
    rolling_keeps_the_old_secret_for_the_overlap_only,
    rate_limits_per_key_with_fields_on_every_answer,
    rate_limits_are_counted_per_instance,
    usage_is_counted_by_hour_and_outcome,
    refused_uses_are_recorded_once_per_reason_and_hour,
    leak_reports_retire_keys_when_signed,
    a_key_retires_itself,
    live_reach_names_devices_the_owner_lost,
);

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

async fn detail(app: &TestApp, client: &reqwest::Client, id: i64) -> Value {
    app.get_json(client, &format!("/portal/api/keys/{id}"))
        .await
}

async fn roll(
    app: &TestApp,
    client: &reqwest::Client,
    id: i64,
    overlap: &str,
) -> reqwest::Response {
    client
        .post(app.url(&format!("/portal/api/keys/{id}/roll")))
        .json(&json!({ "overlap": overlap }))
        .send()
        .await
        .unwrap()
}

async fn rolling_keeps_the_old_secret_for_the_overlap_only(backend: Backend) {
    let start = t("2026-11-27T10:00:00Z");
    let app = TestApp::spawn_at(backend, start).await;
    let w = World::build(&app).await;
    let member = app.login(&w.member.email).await;
    let (id, old) = app
        .create_key(&member, json!({"name": "Sheets", "device_ids": [w.n1]}))
        .await;
    let before = detail(&app, &member, id).await;

    let res = roll(&app, &member, id, "PT1H").await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["cache-control"].to_str().unwrap(), "no-store");
    let rolled: Value = res.json().await.unwrap();
    let new = rolled["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    let k = &rolled["key"];
    // Same key: id, name, devices, owner; a new prefix, the old one shown with its end.
    assert_eq!(k["id"], id);
    assert_eq!(k["name"], "Sheets");
    assert_eq!(k["devices"], before["devices"]);
    assert_eq!(k["prefix"], &new[..7]);
    assert_eq!(k["previous_prefix"], &old[..7]);
    assert_eq!(k["previous_until"], "2026-11-27T11:00:00.000Z");
    assert_eq!(k["events"][0]["action"], "rolled");

    // Both work during the overlap, to its last millisecond; then the old one is retired.
    assert_eq!(app.api_get("/api/key", &new).await.status(), 200);
    assert_eq!(app.api_get("/api/key", &old).await.status(), 200);
    app.clock.set(t("2026-11-27T10:59:59.999Z"));
    assert_eq!(app.api_get("/api/stock", &old).await.status(), 200);
    app.clock.set(t("2026-11-27T11:00:00Z"));
    assert_problem(
        app.api_get("/api/stock", &old).await,
        401,
        "api_key_retired",
    )
    .await;
    assert_eq!(app.api_get("/api/stock", &new).await.status(), 200);

    // Rolling again with no overlap: the secret just replaced stops at once, and the one
    // before it stays refused as retired (a key has at most two working secrets).
    let res = roll(&app, &member, id, "PT0S").await;
    assert_eq!(res.status(), 201);
    let newest = res.json::<Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_problem(
        app.api_get("/api/stock", &new).await,
        401,
        "api_key_retired",
    )
    .await;
    assert_problem(
        app.api_get("/api/stock", &old).await,
        401,
        "api_key_retired",
    )
    .await;
    assert_eq!(app.api_get("/api/stock", &newest).await.status(), 200);
    // Retiring the key during an overlap stops both secrets, and the page says so.
    let res = roll(&app, &member, id, "P7D").await;
    let latest = res.json::<Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.api_get("/api/stock", &newest).await.status(), 200);
    let retired: Value = member
        .delete(app.url(&format!("/portal/api/keys/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(retired["previous_until"], "2026-11-27T11:00:00.000Z");
    for secret in [&newest, &latest] {
        assert_problem(
            app.api_get("/api/stock", secret).await,
            401,
            "api_key_retired",
        )
        .await;
    }
    // An expired key is not rolled: its new secret would be dead too.
    let (expiring, _) = app
        .create_key(
            &member,
            json!({"name": "short", "device_ids": [w.n1], "expires_on": "2026-11-27", "time_zone": "UTC"}),
        )
        .await;
    app.clock.set(t("2026-11-28T00:00:00Z"));
    let member = app.login(&w.member.email).await;
    let p = assert_problem(
        roll(&app, &member, expiring, "PT1H").await,
        409,
        "expiry_out_of_range",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "expires_on");

    // Bodies of the wrong shape or type, and unknown fields, are refused as such.
    for (body, ct, status, code) in [
        (
            r#"{"overlap": 3600}"#,
            "application/json",
            400,
            "invalid_body",
        ),
        (
            r#"{"overlap": "PT1H", "secret": "x"}"#,
            "application/json",
            400,
            "invalid_body",
        ),
        (r#"["PT1H"]"#, "application/json", 400, "invalid_body"),
        (
            "overlap=PT1H",
            "application/x-www-form-urlencoded",
            415,
            "unsupported_media_type",
        ),
    ] {
        let res = member
            .post(app.url(&format!("/portal/api/keys/{id}/roll")))
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_problem(res, status, code).await;
    }
    // Bad overlaps are refused by field; a stale If-Match and a retired key are refused too.
    let p = assert_problem(
        roll(&app, &member, id, "PT2H").await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "overlap");
    let res = member
        .post(app.url(&format!("/portal/api/keys/{id}/roll")))
        .header("If-Match", "\"1-1\"")
        .json(&json!({"overlap": "P7D"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 412, "precondition_failed").await;
    let other = app.login(&w.member2.email).await;
    assert_problem(roll(&app, &other, id, "P7D").await, 404, "not_found").await;
    member
        .delete(app.url(&format!("/portal/api/keys/{id}")))
        .send()
        .await
        .unwrap();
    assert_problem(roll(&app, &member, id, "P7D").await, 409, "key_retired").await;
}

async fn rate_limits_per_key_with_fields_on_every_answer(backend: Backend) {
    let app = TestApp::spawn_at(backend, t("2026-11-27T10:00:15Z")).await;
    let w = World::build(&app).await;
    let admin = app.login(&w.admin.email).await;
    let member = app.login(&w.member.email).await;
    // Only admins set limits.
    let res = member
        .post(app.url("/portal/api/keys"))
        .json(&json!({"name": "x", "device_ids": [w.n1], "rate_limit_per_minute": 5}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 403, "admin_only").await;
    let res = admin
        .post(app.url("/portal/api/keys"))
        .json(&json!({"name": "x", "device_ids": [w.n1], "rate_limit_per_minute": 0}))
        .send()
        .await
        .unwrap();
    let p = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "rate_limit_per_minute");

    let (id, key) = app
        .create_key(
            &admin,
            json!({"name": "limited", "device_ids": [w.n1], "rate_limit_per_minute": 3}),
        )
        .await;
    for left in [2, 1, 0] {
        let res = app.api_get("/api/stock?limit=1", &key).await;
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.headers()["ratelimit-policy"].to_str().unwrap(),
            "\"per-key\";q=3;w=60"
        );
        assert_eq!(
            res.headers()["ratelimit"].to_str().unwrap(),
            format!("\"per-key\";r={left};t=45")
        );
    }
    let res = app.api_get("/api/key", &key).await;
    assert_eq!(res.headers()["retry-after"].to_str().unwrap(), "45");
    assert!(res.headers().get("www-authenticate").is_none());
    assert_eq!(
        res.headers()["ratelimit"].to_str().unwrap(),
        "\"per-key\";r=0;t=45"
    );
    assert_problem(res, 429, "rate_limited").await;
    // Its holder may still retire it with itself: that is never rate limited. (Checked on a
    // twin key, so this one lives on.)
    let (twin_id, twin) = app
        .create_key(
            &admin,
            json!({"name": "twin", "device_ids": [w.n1], "rate_limit_per_minute": 1.0}),
        )
        .await;
    assert_eq!(app.api_get("/api/key", &twin).await.status(), 200);
    assert_problem(app.api_get("/api/key", &twin).await, 429, "rate_limited").await;
    let res = app
        .client()
        .delete(app.url("/api/key"))
        .header("X-API-Key", &twin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    // A refused known key still hears where its window stands.
    let res = app.api_get("/api/key", &twin).await;
    assert_eq!(
        res.headers()["ratelimit"].to_str().unwrap(),
        "\"per-key\";r=0;t=45"
    );
    assert_problem(res, 401, "api_key_retired").await;
    let twin_detail = detail(&app, &admin, twin_id).await;
    assert_eq!(twin_detail["rate_limit_per_minute"], 1);
    // A new window, a new allowance.
    app.clock.set(t("2026-11-27T10:01:00Z"));
    let res = app.api_get("/api/devices", &key).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["ratelimit"].to_str().unwrap(),
        "\"per-key\";r=2;t=60"
    );

    // null: the account's default (600), which the operator may change.
    let res = admin
        .patch(app.url(&format!("/portal/api/keys/{id}")))
        .json(&json!({"rate_limit_per_minute": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let k: Value = res.json().await.unwrap();
    assert_eq!(k["rate_limit_per_minute"], Value::Null);
    assert_eq!(k["effective_rate_limit_per_minute"], 600);
    assert!(
        k["events"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("rate limit")
    );
    let res = app.api_get("/api/devices", &key).await;
    assert_eq!(
        res.headers()["ratelimit-policy"].to_str().unwrap(),
        "\"per-key\";q=600;w=60"
    );
    partlogic_server::accounts::admin::set_account_rate_limit(&app.db, w.acme, 2)
        .await
        .unwrap();
    within_a_second("the account's new default", || async {
        app.api_get("/api/devices", &key).await.headers()["ratelimit-policy"]
            == "\"per-key\";q=2;w=60"
    })
    .await;
    // Members may not change it, even on their own keys and even to the default.
    let (mine, _) = app
        .create_key(&member, json!({"name": "mine", "device_ids": [w.n1]}))
        .await;
    let res = member
        .patch(app.url(&format!("/portal/api/keys/{mine}")))
        .json(&json!({"rate_limit_per_minute": null}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 403, "admin_only").await;
}

/// A server on a test clock at `at` that writes usage every 100 ms, its world, and the member
/// logged in.
async fn counting_app(backend: Backend, at: &str) -> (TestApp, World, reqwest::Client) {
    let app = TestApp::spawn_custom(backend, Clock::frozen(t(at)), |s| {
        s.usage_flush = Duration::from_millis(100)
    })
    .await;
    let w = World::build(&app).await;
    let member = app.login(&w.member.email).await;
    (app, w, member)
}

/// On SQLite (one instance by design) each instance counts its own window; on PostgreSQL the
/// instances share their counts, so a key's limit holds across them, and every answer reports
/// the key's global window.
async fn rate_limits_are_counted_per_instance(backend: Backend) {
    let app = TestApp::spawn_at(backend, t("2026-11-27T10:00:30Z")).await;
    let w = World::build(&app).await;
    let admin = app.login(&w.admin.email).await;
    let (_, key) = app
        .create_key(
            &admin,
            json!({"name": "shared", "device_ids": [w.n1], "rate_limit_per_minute": 2}),
        )
        .await;
    let mut settings = partlogic_server::Settings::new(app.database_url());
    settings.bind = "127.0.0.1:0".to_owned();
    settings.workers = 1;
    let b = partlogic_server::Application::build(settings, app.clock.clone())
        .await
        .unwrap();
    let b_url = format!("http://127.0.0.1:{}/api/key", b.port());
    tokio::spawn(b.run_until_stopped());
    let on_b = || async {
        reqwest::Client::new()
            .get(&b_url)
            .header("X-API-Key", &key)
            .send()
            .await
            .unwrap()
    };
    for _ in 0..2 {
        assert_eq!(app.api_get("/api/key", &key).await.status(), 200);
    }
    assert_problem(app.api_get("/api/key", &key).await, 429, "rate_limited").await;
    if backend == Backend::Postgres {
        // B asks the database on the key's first request of the window: it is full.
        let res = on_b().await;
        assert_eq!(
            res.headers()["ratelimit"].to_str().unwrap(),
            "\"per-key\";r=0;t=30"
        );
        assert_problem(res, 429, "rate_limited").await;
        return;
    }
    for left in [1, 0] {
        let res = on_b().await;
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.headers()["ratelimit"].to_str().unwrap(),
            format!("\"per-key\";r={left};t=30")
        );
    }
    assert_problem(on_b().await, 429, "rate_limited").await;
}

async fn usage_is_counted_by_hour_and_outcome(backend: Backend) {
    let (app, w, member) = counting_app(backend, "2026-11-27T10:30:00Z").await;
    let (id, key) = app
        .create_key(
            &member,
            json!({"name": "counted", "device_ids": [w.n1, w.n2], "expires_on": "2026-11-28", "time_zone": "UTC"}),
        )
        .await;
    // 10:30: two pages of 2 rows, one whole export (6 rows), one refusal.
    for _ in 0..2 {
        assert_eq!(app.api_get("/api/stock?limit=2", &key).await.status(), 200);
    }
    assert_eq!(app.api_get("/api/stock", &key).await.status(), 200);
    assert_problem(
        app.api_get(&format!("/api/stock?device={}", w.s2), &key)
            .await,
        403,
        "device_not_in_scope",
    )
    .await;
    // The next day, after expiry: refused.
    app.clock.set(t("2026-11-29T09:10:00Z"));
    for _ in 0..2 {
        assert_problem(
            app.api_get("/api/stock", &key).await,
            401,
            "api_key_expired",
        )
        .await;
    }
    // Unknown keys count for nobody.
    assert_eq!(
        app.api_get(
            "/api/stock",
            "pl_0000000000000000000000000000000000000000000000000"
        )
        .await
        .status(),
        401
    );
    // Written within a flush period, readable by the hour and by the day.
    let written = || async {
        partlogic_entity::key_usage::Entity::find()
            .filter(partlogic_entity::key_usage::Column::KeyId.eq(id))
            .count(&app.db)
            .await
            .unwrap()
            == 3
    };
    within_a_second("usage written", written).await;
    // Two days on, the portal session has ended: log in again.
    let member = app.login(&w.member.email).await;
    let u: Value = app
        .get_json(
            &member,
            &format!("/portal/api/keys/{id}/usage?time_zone=UTC"),
        )
        .await;
    let hours = u["hours"].as_array().unwrap();
    let days = u["days"].as_array().unwrap();
    assert_eq!((hours.len(), days.len()), (24, 30));
    assert_eq!(hours[23]["start"], "2026-11-29T09:00:00.000Z");
    assert_eq!(hours[23]["ok"], 0);
    assert_eq!(hours[23]["refused"], json!({"api_key_expired": 2}));
    assert_eq!(days[29]["start"], "2026-11-29T00:00:00.000Z");
    assert_eq!(days[27]["start"], "2026-11-27T00:00:00.000Z");
    assert_eq!(days[27]["ok"], 3);
    assert_eq!(days[27]["rows"], 10);
    assert_eq!(days[27]["refused"], json!({"device_not_in_scope": 1}));
    // 10:30 on the 27th is more than 24 hours back: not in the hours.
    assert!(
        hours
            .iter()
            .all(|h| h["ok"] == 0 || h["start"] == "2026-11-29T09:00:00.000Z")
    );
    // Days in another zone start at its midnight.
    let u: Value = app
        .get_json(
            &member,
            &format!("/portal/api/keys/{id}/usage?time_zone=America/New_York"),
        )
        .await;
    assert_eq!(u["days"][29]["start"], "2026-11-29T05:00:00.000Z");
    // Another member's key, or no key at all, is not found; so is an id that is not a number.
    let other = app.login(&w.member2.email).await;
    for path in [
        format!("/portal/api/keys/{id}/usage"),
        "/portal/api/keys/999999/usage".to_owned(),
        "/portal/api/keys/abc/usage".to_owned(),
    ] {
        let res = other.get(app.url(&path)).send().await.unwrap();
        assert_problem(res, 404, "not_found").await;
    }
    let res = app
        .client()
        .get(app.url(&format!("/portal/api/keys/{id}/usage")))
        .send()
        .await
        .unwrap();
    assert_problem(res, 401, "not_logged_in").await;
    let res = member
        .get(app.url(&format!(
            "/portal/api/keys/{id}/usage?time_zone=Mars/Olympus"
        )))
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "invalid_parameters").await;
    let list: Value = app.get_json(&member, "/portal/api/keys").await;
    assert_eq!(list[0]["requests_7d"], 6);
}

async fn refused_uses_are_recorded_once_per_reason_and_hour(backend: Backend) {
    let (app, w, member) = counting_app(backend, "2026-11-27T10:00:00Z").await;
    let (id, key) = app
        .create_key(
            &member,
            json!({"name": "nightly", "device_ids": [w.n1], "expires_on": "2026-11-27", "time_zone": "UTC"}),
        )
        .await;
    app.clock.set(t("2026-11-28T03:05:00Z"));
    for _ in 0..5 {
        assert_problem(
            app.api_get("/api/stock", &key).await,
            401,
            "api_key_expired",
        )
        .await;
    }
    app.clock.set(t("2026-11-28T03:55:00Z"));
    assert_problem(app.api_get("/api/key", &key).await, 401, "api_key_expired").await;
    app.clock.set(t("2026-11-28T04:01:00Z"));
    assert_problem(app.api_get("/api/key", &key).await, 401, "api_key_expired").await;
    // A day on, the portal session has ended: log in again.
    let member = app.login(&w.member.email).await;
    let refused = || async {
        let d = detail(&app, &member, id).await;
        d["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "refused")
            .cloned()
            .collect::<Vec<_>>()
    };
    within_a_second("two refused events", || async {
        refused().await.len() == 2
    })
    .await;
    let events = refused().await;
    assert_eq!(events[0]["detail"], "used after expiry from 127.0.0.1");
    assert_eq!(events[0]["actor"], Value::Null);
    // Another instance reporting the same refusal in the same hour adds nothing: the database
    // keeps one event per key, reason and hour.
    let other = Usage::default();
    other.refused(Refusal {
        key_id: id,
        account_id: w.acme,
        code: ProblemCode::ApiKeyExpired,
        ip: Some("203.0.113.7".into()),
        at: t("2026-11-28T04:30:00Z"),
    });
    other.flush(&app.db, t("2026-11-28T04:30:00Z")).await;
    assert_eq!(refused().await.len(), 2);
}

/// A GitHub-like signer: its key pair, and the keys file this server reads.
struct GitHubSigner {
    key: SigningKey,
    file: tempfile_path::Path,
}

mod tempfile_path {
    /// A file removed when dropped.
    pub struct Path(pub std::path::PathBuf);
    impl Drop for Path {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

fn signer() -> GitHubSigner {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).unwrap();
    seed[0] |= 1;
    let key = SigningKey::from_bytes(&seed.into()).unwrap();
    let pem = key
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    let path = std::env::temp_dir().join(format!("partlogic-scanning-{}.json", hex(&seed[..8])));
    std::fs::write(
        &path,
        json!({"public_keys": [{"key_identifier": "gh-1", "key": pem, "is_current": true}]})
            .to_string(),
    )
    .unwrap();
    GitHubSigner {
        key,
        file: tempfile_path::Path(path),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

async fn report(app: &TestApp, s: &SigningKey, body: &str) -> reqwest::Response {
    let sig: Signature = s.sign(body.as_bytes());
    app.client()
        .post(app.url("/api/secret-scanning"))
        .header("Content-Type", "application/json")
        .header("GITHUB-PUBLIC-KEY-IDENTIFIER", "gh-1")
        .header(
            "GITHUB-PUBLIC-KEY-SIGNATURE",
            STANDARD.encode(sig.to_der().as_bytes()),
        )
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

async fn leak_reports_retire_keys_when_signed(backend: Backend) {
    let gh = signer();
    let path = gh.file.0.clone();
    let app = TestApp::spawn_custom(backend, Clock::system(), |s| {
        s.secret_scanning_keys = Some(path);
    })
    .await;
    let w = World::build(&app).await;
    let member = app.login(&w.member.email).await;
    let (id, key) = app
        .create_key(&member, json!({"name": "leaky", "device_ids": [w.n1]}))
        .await;
    let (rolled_id, old) = app
        .create_key(&member, json!({"name": "rolled", "device_ids": [w.n1]}))
        .await;
    let res = roll(&app, &member, rolled_id, "P7D").await;
    let new = res.json::<Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.api_get("/api/key", &key).await.status(), 200);

    let body = json!([
        {"token": key, "type": "partlogic_api_key", "url": "https://github.com/o/r/blob/main/.env", "source": "content"},
        {"token": "pl_not_a_real_key", "type": "partlogic_api_key", "url": "https://example.com", "source": "content"},
        {"token": old, "type": "partlogic_api_key", "url": "https://gist.github.com/x", "source": "gist"},
    ])
    .to_string();
    // Unsigned, wrongly signed, or signed over another body: refused, nothing retired.
    let res = app
        .client()
        .post(app.url("/api/secret-scanning"))
        .header("Content-Type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_problem(res, 401, "invalid_signature").await;
    let sig: Signature = gh.key.sign(b"[]");
    let res = app
        .client()
        .post(app.url("/api/secret-scanning"))
        .header("GITHUB-PUBLIC-KEY-IDENTIFIER", "gh-1")
        .header(
            "GITHUB-PUBLIC-KEY-SIGNATURE",
            STANDARD.encode(sig.to_der().as_bytes()),
        )
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_problem(res, 401, "invalid_signature").await;
    assert_eq!(app.api_get("/api/key", &key).await.status(), 200);

    let res = report(&app, &gh.key, &body).await;
    assert_eq!(res.status(), 200);
    let verdicts: Value = res.json().await.unwrap();
    assert_eq!(
        verdicts,
        json!([
            {"token_raw": key, "token_type": "partlogic_api_key", "label": "true_positive"},
            {"token_raw": "pl_not_a_real_key", "token_type": "partlogic_api_key", "label": "false_positive"},
            {"token_raw": old, "token_type": "partlogic_api_key", "label": "true_positive"},
        ])
    );
    // The live key is retired at once, with why and where; the rolled key's old secret stops,
    // its new one keeps working.
    assert_problem(app.api_get("/api/key", &key).await, 401, "api_key_retired").await;
    let d = detail(&app, &member, id).await;
    assert_eq!(d["retired_reason"], "leaked");
    assert_eq!(d["retired_detail"], "https://github.com/o/r/blob/main/.env");
    assert!(
        d["events"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("reported leaked at https://github.com/o/r/blob/main/.env")
    );
    assert_problem(app.api_get("/api/key", &old).await, 401, "api_key_retired").await;
    assert_eq!(app.api_get("/api/key", &new).await.status(), 200);
    // The rolled key still works, and says its previous secret leaked.
    let d = detail(&app, &member, rolled_id).await;
    assert_eq!(d["status"], "active");
    assert_eq!(d["leaked_url"], "https://gist.github.com/x");
    assert!(d["leaked_at"].is_string());
    // A signature failure is no invitation to send Basic credentials.
    let res = app
        .client()
        .post(app.url("/api/secret-scanning"))
        .header("User-Agent", "GitHub-Hookshot/1")
        .body("[]")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("www-authenticate").is_none());
    assert_problem(res, 401, "invalid_signature").await;
    // Bigger than any report: refused as a problem document.
    let huge = format!("[{}]", "\"x\",".repeat(300_000));
    assert_problem(report(&app, &gh.key, &huge).await, 400, "invalid_body").await;
    // Reported again: still ours; the dead key's history says where it turned up this time.
    let res = report(&app, &gh.key, &body).await;
    assert_eq!(res.status(), 200);
    let d = detail(&app, &member, id).await;
    assert_eq!(d["retired_reason"], "leaked");
    assert!(
        d["events"][0]["detail"]
            .as_str()
            .unwrap()
            .ends_with("it was already retired")
    );
    // Not JSON of the contract's shape.
    assert_problem(
        report(&app, &gh.key, "{\"token\": 1}").await,
        400,
        "invalid_body",
    )
    .await;

    // A server without the keys file takes no reports.
    let plain = TestApp::spawn(backend).await;
    assert_problem(report(&plain, &gh.key, &body).await, 404, "not_found").await;
}

async fn a_key_retires_itself(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::build(&app).await;
    let member = app.login(&w.member.email).await;
    let (id, key) = app
        .create_key(&member, json!({"name": "found", "device_ids": [w.n1]}))
        .await;
    let res = app
        .client()
        .delete(app.url("/api/key"))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_problem(
        app.api_get("/api/stock", &key).await,
        401,
        "api_key_retired",
    )
    .await;
    let d = detail(&app, &member, id).await;
    assert_eq!(d["status"], "retired");
    assert_eq!(d["retired_reason"], "self_retired");
    assert_eq!(d["events"][0]["action"], "retired");
    assert_eq!(
        d["events"][0]["detail"],
        "retired with the key itself from 127.0.0.1"
    );
    // Without a key: refused like any other key endpoint.
    let res = app
        .client()
        .delete(app.url("/api/key"))
        .send()
        .await
        .unwrap();
    assert_problem(res, 401, "missing_api_key").await;
}

async fn live_reach_names_devices_the_owner_lost(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let w = World::build(&app).await;
    let member = app.login(&w.member.email).await;
    let (id, key) = app
        .create_key(
            &member,
            json!({"name": "reach", "device_ids": [w.n1, w.n2]}),
        )
        .await;
    let d = detail(&app, &member, id).await;
    assert_eq!(d["reachable_device_count"], 2);
    assert_eq!(d["unreachable_device_ids"], json!([]));
    partlogic_entity::user_device::Entity::delete_many()
        .filter(partlogic_entity::user_device::Column::UserId.eq(w.member.id))
        .filter(partlogic_entity::user_device::Column::DeviceId.eq(w.n2))
        .exec(&app.db)
        .await
        .unwrap();
    let d = detail(&app, &member, id).await;
    assert_eq!(d["reachable_device_count"], 1);
    assert_eq!(d["unreachable_device_ids"], json!([w.n2]));
    // Still ticked: the key shows both, and reaches one.
    assert_eq!(d["devices"].as_array().unwrap().len(), 2);
    within_a_second("the key's reach", || async {
        let v: Value = app.api_get("/api/key", &key).await.json().await.unwrap();
        v["devices"].as_array().unwrap().len() == 1
    })
    .await;
}
