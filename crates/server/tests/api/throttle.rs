//! Login throttling that a guesser cannot turn against the owner, with bounded, keyed state.

use chrono::{Duration, Utc};
use partlogic_entity::{login_throttle, user};
use partlogic_server::Clock;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::helpers::{Backend, PASSWORD, TestApp, World, assert_problem};
use crate::on_every_database;

on_every_database!(
    a_guesser_elsewhere_cannot_lock_the_owner_out,
    a_trusted_browser_lapses_when_the_password_changes,
    ipv6_clients_are_throttled_by_slash_64,
    throttle_state_is_bounded_and_never_holds_typed_text,
    slowed_guesses_never_hold_up_other_logins,
);

/// A server behind a (pretend) proxy, so each request can come from the address it names, with
/// a short slowdown so the test does not wait seconds per attempt.
async fn app_behind_proxy(backend: Backend) -> (TestApp, World) {
    let app = TestApp::spawn_custom(backend, Clock::frozen(Utc::now()), |s| {
        s.trust_proxy = true;
        s.login_slowdown = SLOWDOWN;
    })
    .await;
    let w = World::build(&app).await;
    (app, w)
}

const SLOWDOWN: std::time::Duration = std::time::Duration::from_millis(300);

async fn attempt(
    app: &TestApp,
    client: &reqwest::Client,
    from: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(app.url("/portal/api/session"))
        .header("X-Forwarded-For", from)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

async fn a_guesser_elsewhere_cannot_lock_the_owner_out(backend: Backend) {
    let (app, w) = app_behind_proxy(backend).await;
    let t0 = app.clock.now();
    let email = w.admin.email.clone();
    // The owner logs in once: their browser is trusted for this account from now on.
    let owner = app.client();
    let res = attempt(&app, &owner, "198.51.100.7", &email, PASSWORD).await;
    assert_eq!(res.status(), 200);
    let cookies: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("pl_browser=")
            && c.contains("HttpOnly")
            && c.contains("SameSite=Strict")),
        "{cookies:?}"
    );

    // A guesser elsewhere tries 40 passwords from 8 networks. Nothing locks the email: each
    // network has its own 5, and past 10 the attempts are only slowed down.
    let mut slowed = 0;
    for net in 0..8 {
        let guesser = app.client();
        for i in 0..5 {
            let started = std::time::Instant::now();
            let res = attempt(
                &app,
                &guesser,
                &format!("203.0.113.{net}"),
                &email,
                &format!("guess {net}-{i}"),
            )
            .await;
            assert_eq!(res.status(), 401);
            if started.elapsed() >= SLOWDOWN {
                slowed += 1;
            }
        }
        // That network is now locked for this email, whatever it sends.
        let res = attempt(
            &app,
            &guesser,
            &format!("203.0.113.{net}"),
            &email,
            PASSWORD,
        )
        .await;
        assert_problem(res, 429, "too_many_attempts").await;
    }
    assert!(slowed >= 30, "attempts past the tenth are slowed: {slowed}");

    // The owner's browser logs in at once, from anywhere.
    let started = std::time::Instant::now();
    assert_eq!(
        attempt(&app, &owner, "192.0.2.99", &email, PASSWORD)
            .await
            .status(),
        200
    );
    assert!(
        started.elapsed() < SLOWDOWN,
        "a trusted browser is not slowed"
    );
    // A browser that never logged in gets in too, only more slowly.
    let fresh = app.client();
    let started = std::time::Instant::now();
    assert_eq!(
        attempt(&app, &fresh, "192.0.2.100", &email, PASSWORD)
            .await
            .status(),
        200
    );
    assert!(started.elapsed() >= SLOWDOWN);

    // Refused attempts never extend a lock: hammering the locked network until just before its
    // window ends...
    app.clock.set(t0 + Duration::minutes(14));
    for _ in 0..5 {
        let res = attempt(&app, &app.client(), "203.0.113.0", &email, "again").await;
        assert_eq!(res.status(), 429);
    }
    // ...changes nothing: it ends on time.
    app.clock
        .set(t0 + Duration::minutes(15) + Duration::seconds(1));
    assert_eq!(
        attempt(&app, &app.client(), "203.0.113.0", &email, PASSWORD)
            .await
            .status(),
        200
    );
}

async fn a_trusted_browser_lapses_when_the_password_changes(backend: Backend) {
    let (app, w) = app_behind_proxy(backend).await;
    let browser = app.client();
    assert_eq!(
        attempt(&app, &browser, "192.0.2.1", &w.member.email, PASSWORD)
            .await
            .status(),
        200
    );
    // Trusted: its own counter, so the network's lock does not touch it.
    for i in 0..5 {
        attempt(
            &app,
            &app.client(),
            "192.0.2.1",
            &w.member.email,
            &format!("x{i}"),
        )
        .await;
    }
    assert_eq!(
        attempt(&app, &browser, "192.0.2.1", &w.member.email, PASSWORD)
            .await
            .status(),
        200
    );
    // A new password distrusts it: it is an ordinary client of a locked network again.
    let hash = partlogic_server::accounts::password::hash("a brand new passphrase").unwrap();
    user::Entity::update_many()
        .col_expr(
            user::Column::PasswordHash,
            sea_orm::sea_query::Expr::value(hash),
        )
        .filter(user::Column::Id.eq(w.member.id))
        .exec(&app.db)
        .await
        .unwrap();
    for i in 0..5 {
        attempt(
            &app,
            &app.client(),
            "192.0.2.1",
            &w.member.email,
            &format!("y{i}"),
        )
        .await;
    }
    let res = attempt(
        &app,
        &browser,
        "192.0.2.1",
        &w.member.email,
        "a brand new passphrase",
    )
    .await;
    assert_problem(res, 429, "too_many_attempts").await;
}

async fn ipv6_clients_are_throttled_by_slash_64(backend: Backend) {
    let (app, w) = app_behind_proxy(backend).await;
    let email = w.member.email.clone();
    for i in 1..=5 {
        let res = attempt(
            &app,
            &app.client(),
            &format!("2001:db8:1:2::{i}"),
            &email,
            "wrong",
        )
        .await;
        assert_eq!(res.status(), 401);
    }
    // Another address in the same /64 is the same client.
    let res = attempt(&app, &app.client(), "2001:db8:1:2:ffff::9", &email, "wrong").await;
    assert_problem(res, 429, "too_many_attempts").await;
    // Another /64 is not.
    let res = attempt(&app, &app.client(), "2001:db8:1:3::1", &email, "wrong").await;
    assert_problem(res, 401, "invalid_credentials").await;
}

async fn throttle_state_is_bounded_and_never_holds_typed_text(backend: Backend) {
    let (app, w) = app_behind_proxy(backend).await;
    let typed = "Hunter2-Secret-Typed-Into-Email";
    for _ in 0..4 {
        attempt(&app, &app.client(), "192.0.2.1", typed, "x").await;
        attempt(&app, &app.client(), "192.0.2.1", &w.member.email, "x").await;
    }
    // One row per subject however many attempts: the pair and the email for each of the two
    // addresses typed, and the network.
    let rows = login_throttle::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(rows.len(), 5, "{rows:?}");
    for r in &rows {
        let lower = r.subject.to_lowercase();
        assert!(
            !lower.contains("hunter2") && !lower.contains("acme"),
            "{r:?}"
        );
        assert_eq!(r.subject.len(), 43, "an HMAC-SHA256, base64url");
    }
    assert!(
        rows.iter().any(|r| r.attempts == 8),
        "the network counted every attempt"
    );
    // Rows whose window has ended go as new attempts come in.
    app.clock.set(app.clock.now() + Duration::minutes(16));
    attempt(&app, &app.client(), "192.0.2.2", &w.member2.email, "x").await;
    assert_eq!(
        login_throttle::Entity::find().count(&app.db).await.unwrap(),
        3
    );
}

/// Finding 2 of the trust review: the slowdown used to sleep while holding one of the few
/// password-check turns, so a handful of addresses guessing at a made-up email kept every turn
/// asleep and every other login (the owner's trusted browser included) waited 10 s for a 503.
async fn slowed_guesses_never_hold_up_other_logins(backend: Backend) {
    let app = TestApp::spawn_custom(backend, Clock::frozen(Utc::now()), |s| {
        s.trust_proxy = true;
        s.login_slowdown = std::time::Duration::from_secs(3);
    })
    .await;
    let w = World::build(&app).await;
    let email = w.admin.email.clone();
    let owner = app.client();
    assert_eq!(
        attempt(&app, &owner, "198.51.100.7", &email, PASSWORD)
            .await
            .status(),
        200
    );

    // Eight networks guess at a made-up email, all at once: 40 attempts are counted, and the
    // 30 past the tenth are each slowed by 3 s.
    let mut flood = Vec::new();
    for net in 0..8 {
        for i in 0..6 {
            let (app_url, from) = (app.url("/portal/api/session"), format!("203.0.113.{net}"));
            let client = app.client();
            flood.push(tokio::spawn(async move {
                client
                    .post(app_url)
                    .header("X-Forwarded-For", from)
                    .json(&json!({"email": "nobody@made-up.example", "password": format!("g{i}")}))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            }));
        }
    }
    // Let the flood take hold: the slowed attempts are asleep now.
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;

    let started = std::time::Instant::now();
    let res = attempt(&app, &owner, "192.0.2.99", &email, PASSWORD).await;
    assert_eq!(res.status(), 200);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(1),
        "a trusted browser logs in fast under the flood: {:?}",
        started.elapsed()
    );
    let started = std::time::Instant::now();
    let res = attempt(&app, &app.client(), "192.0.2.100", &email, PASSWORD).await;
    assert_eq!(
        res.status(),
        200,
        "an untrusted owner login is not turned away"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "nor kept waiting: {:?}",
        started.elapsed()
    );

    let mut statuses = Vec::new();
    for f in flood {
        statuses.push(f.await.unwrap().unwrap());
    }
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "the guesses were checked or refused, never left waiting for a 503: {statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 40);
}
