//! Portal login, logout, throttling and the same-origin rule.

use serde_json::{Value, json};

use crate::helpers::{Backend, PASSWORD, TestApp, assert_problem, error_fields};
use crate::on_every_database;

on_every_database!(
    a_burst_of_parallel_guesses_is_throttled_too,
    login_sets_a_strict_http_only_cookie_and_logout_ends_the_session,
    wrong_credentials_are_refused_alike,
    failed_logins_are_throttled_per_email,
    cross_site_writes_are_refused,
    bad_bodies_are_problems,
);

async fn login_sets_a_strict_http_only_cookie_and_logout_ends_the_session(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let res = app
        .client()
        .post(app.url("/portal/api/session"))
        .json(&json!({"email": "  Member@ACME.test ", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("pl_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/"),
        "{cookie}"
    );
    let token = cookie["pl_session=".len()..cookie.find(';').unwrap()].to_owned();
    assert!(token.len() >= 43);
    let me: Value = res.json().await.unwrap();
    assert_eq!(me["email"], "member@acme.test");
    assert_eq!(me["role"], "member");
    assert_eq!(me["account_name"], "Acme");
    assert_eq!(me["id"], w.member.id);

    // The session is stored server-side: a brand-new client with the same cookie is the user.
    let raw = |c: &str| {
        let c = c.to_owned();
        let app = &app;
        async move {
            app.client()
                .get(app.url("/portal/api/session"))
                .header("Cookie", format!("pl_session={c}"))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(raw(&token).await.status(), 200);
    let res = app
        .client()
        .delete(app.url("/portal/api/session"))
        .header("Cookie", format!("pl_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(
        res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("pl_session=;")
    );
    // Replaying the old cookie after logout does not work.
    assert_problem(raw(&token).await, 401, "not_logged_in").await;
    assert_problem(raw("made-up").await, 401, "not_logged_in").await;
}

async fn wrong_credentials_are_refused_alike(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let mut details = Vec::new();
    for (email, password) in [
        (w.member.email.as_str(), "wrong password"),
        ("nobody@acme.test", PASSWORD),
    ] {
        let res = app
            .client()
            .post(app.url("/portal/api/session"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap();
        assert!(res.headers().get("set-cookie").is_none());
        details.push(assert_problem(res, 401, "invalid_credentials").await["detail"].clone());
    }
    assert_eq!(
        details[0], details[1],
        "unknown emails and wrong passwords look the same"
    );
    partlogic_server::accounts::admin::disable_user(&app.db, &w.member2.email, chrono::Utc::now())
        .await
        .unwrap();
    let res = app
        .client()
        .post(app.url("/portal/api/session"))
        .json(&json!({"email": w.member2.email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 401, "invalid_credentials").await;
}

async fn failed_logins_are_throttled_per_email(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let attempt = |password: &'static str| {
        let app = &app;
        let email = w.member.email.clone();
        async move {
            app.client()
                .post(app.url("/portal/api/session"))
                .json(&json!({"email": email, "password": password}))
                .send()
                .await
                .unwrap()
        }
    };
    for _ in 0..5 {
        assert_problem(attempt("nope nope").await, 401, "invalid_credentials").await;
    }
    let res = attempt("nope nope").await;
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=15 * 60).contains(&retry), "{retry}");
    assert_problem(res, 429, "too_many_attempts").await;
    // Even the right password waits: otherwise throttling would only slow down wrong guesses.
    assert_problem(attempt(PASSWORD).await, 429, "too_many_attempts").await;
    // Other users are not locked out by it.
    app.login(&w.member2.email).await;
}

async fn cross_site_writes_are_refused(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let admin = app.login(&w.admin.email).await;
    let body = json!({"name": "k", "device_ids": [w.n1]});
    for (header, value) in [
        ("Sec-Fetch-Site", "cross-site"),
        ("Sec-Fetch-Site", "same-site"),
        ("Origin", "https://evil.example"),
        ("Origin", "null"),
    ] {
        let res = admin
            .post(app.url("/portal/api/keys"))
            .header(header, value)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_problem(res, 403, "cross_origin_refused").await;
    }
    let res = app
        .client()
        .post(app.url("/portal/api/session"))
        .header("Sec-Fetch-Site", "cross-site")
        .json(&json!({"email": w.admin.email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 403, "cross_origin_refused").await;
    // Same origin passes.
    let origin = app.address.clone();
    let res = admin
        .post(app.url("/portal/api/keys"))
        .header("Origin", origin)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let res = admin
        .post(app.url("/portal/api/keys"))
        .header("Sec-Fetch-Site", "same-origin")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    // Reads are not state-changing.
    let res = admin
        .get(app.url("/portal/api/keys"))
        .header("Sec-Fetch-Site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

async fn bad_bodies_are_problems(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let admin = app.login(&w.admin.email).await;
    let res = app
        .client()
        .post(app.url("/portal/api/session"))
        .body("{")
        .header("Content-Type", "application/json")
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "invalid_body").await;
    let res = app
        .client()
        .post(app.url("/portal/api/session"))
        .body("email=a")
        .send()
        .await
        .unwrap();
    assert_problem(res, 415, "unsupported_media_type").await;
    let res = app
        .client()
        .post(app.url("/portal/api/session"))
        .json(&json!({"email": ""}))
        .send()
        .await
        .unwrap();
    let v = assert_problem(res, 422, "validation_failed").await;
    let fields = error_fields(&v);
    assert_eq!(fields, ["email", "password"]);
    let res = admin
        .post(app.url("/portal/api/keys"))
        .json(&json!({"name": "k", "device_ids": [w.n1], "scopes": "all"}))
        .send()
        .await
        .unwrap();
    let v = assert_problem(res, 400, "invalid_body").await;
    assert!(v["detail"].as_str().unwrap().contains("scopes"));
    let res = admin
        .post(app.url("/portal/api/keys"))
        .json(&json!({"name": 5, "device_ids": "all"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "invalid_body").await;
    let res = admin
        .get(app.url("/portal/api/keys/abc"))
        .send()
        .await
        .unwrap();
    assert_problem(res, 404, "not_found").await;
}

async fn a_burst_of_parallel_guesses_is_throttled_too(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let guesses = (0..12).map(|i| {
        let client = app.client();
        let url = app.url("/portal/api/session");
        let email = w.member.email.clone();
        tokio::spawn(async move {
            client
                .post(url)
                .json(&json!({"email": email, "password": format!("guess number {i}")}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    });
    let mut statuses = Vec::new();
    for g in guesses {
        statuses.push(g.await.unwrap());
    }
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(checked + refused, 12, "{statuses:?}");
    assert!(
        checked <= 5,
        "at most 5 passwords may be tried, even in parallel: {statuses:?}"
    );

    // Oversized input is refused before anything else, on every database alike.
    let long_email = format!("{}@acme.test", "a".repeat(3000));
    let res = app
        .client()
        .post(app.url("/portal/api/session"))
        .json(&json!({"email": long_email, "password": "x".repeat(2000)}))
        .send()
        .await
        .unwrap();
    let v = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(error_fields(&v), ["email", "password"]);
    // A wrongly typed password is not echoed back.
    let res = app
        .client()
        .post(app.url("/portal/api/session"))
        .json(&json!({"email": "a@b.test", "password": 73_914_662}))
        .send()
        .await
        .unwrap();
    let v = assert_problem(res, 400, "invalid_body").await;
    assert!(!v.to_string().contains("73914662"), "{v}");
}
