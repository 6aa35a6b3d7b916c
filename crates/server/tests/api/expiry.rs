//! "Expires On": the key works through the whole of that day in its time zone and is refused
//! from the first instant after it.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, World, assert_problem};
use crate::on_every_database;

on_every_database!(
    expiry_boundary_in_auckland_and_los_angeles,
    statuses_follow_the_clock
);

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

async fn expiry_boundary_in_auckland_and_los_angeles(backend: Backend) {
    let app = TestApp::spawn_at(backend, t("2026-12-30T00:00:00Z")).await;
    let w = World::build(&app).await;
    let member = app.login(&w.member.email).await;
    // End of 31 Dec 2026: in Auckland (UTC+13 in summer) that is 2026-12-31T11:00Z;
    // in Los Angeles (UTC−8) it is 2027-01-01T08:00Z.
    for (zone, end) in [
        ("Pacific/Auckland", "2026-12-31T11:00:00Z"),
        ("America/Los_Angeles", "2027-01-01T08:00:00Z"),
    ] {
        app.clock.set(t("2026-12-30T00:00:00Z"));
        let res = member
            .post(app.url("/portal/api/keys"))
            .json(&json!({"name": zone, "device_ids": [w.n1], "expires_on": "2026-12-31", "time_zone": zone}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let v: Value = res.json().await.unwrap();
        let key = v["secret"].as_str().unwrap().to_owned();
        assert_eq!(v["key"]["expires_on"], "2026-12-31");
        assert_eq!(v["key"]["time_zone"], zone);
        assert_eq!(v["key"]["expires_at"], format!("{}.000Z", &end[..19]));
        assert_eq!(v["key"]["status"], "expiring_soon");

        let end = t(end);
        app.clock.set(end - Duration::milliseconds(1));
        assert_eq!(
            app.api_get("/api/stock", &key).await.status(),
            200,
            "{zone}: last millisecond of the day"
        );
        app.clock.set(end);
        let p = assert_problem(
            app.api_get("/api/stock", &key).await,
            401,
            "api_key_expired",
        )
        .await;
        assert!(
            p["detail"]
                .as_str()
                .unwrap()
                .contains(&end.format("%Y-%m-%dT%H:%M").to_string())
        );
        app.clock.set(end + Duration::days(30));
        assert_problem(
            app.api_get("/api/stock", &key).await,
            401,
            "api_key_expired",
        )
        .await;
    }

    // A date that has already ended in the chosen zone is refused, one that has not is fine:
    // at 2027-01-01T09:00Z it is still 31 Dec in Honolulu (UTC−10), but 1 Jan in London.
    app.clock.set(t("2027-01-01T09:00:00Z"));
    // Portal sessions last 12 hours, so log in again at the new "now".
    let member = app.login(&w.member.email).await;
    let make = |zone: &'static str| {
        let member = member.clone();
        let url = app.url("/portal/api/keys");
        async move {
            member
                .post(url)
                .json(&json!({"name": "k", "device_ids": [w.n1], "expires_on": "2026-12-31", "time_zone": zone}))
                .send()
                .await
                .unwrap()
        }
    };
    // A well-formed date already over in that zone: allowed by the schema, refused by the clock.
    let res = make("Europe/London").await;
    let v = assert_problem(res, 409, "expiry_out_of_range").await;
    assert_eq!(v["errors"][0]["field"], "expires_on");
    assert_eq!(make("Pacific/Honolulu").await.status(), 201);
}

async fn statuses_follow_the_clock(backend: Backend) {
    let app = TestApp::spawn_at(backend, t("2026-06-01T12:00:00Z")).await;
    let w = World::build(&app).await;
    let member = app.login(&w.member.email).await;
    app.create_key(&member, json!({"name": "never", "device_ids": [w.n1]}))
        .await;
    app.create_key(
        &member,
        json!({"name": "soon", "device_ids": [w.n1], "expires_on": "2026-06-07"}),
    )
    .await;
    app.create_key(
        &member,
        json!({"name": "later", "device_ids": [w.n1], "expires_on": "2026-06-30"}),
    )
    .await;
    let statuses = || {
        let app = &app;
        let email = w.member.email.clone();
        async move {
            // Portal sessions last 12 hours; the clock jumps days, so log in at each "now".
            let member = app.login(&email).await;
            let url = app.url("/portal/api/keys");
            let list: Vec<Value> = member.get(url).send().await.unwrap().json().await.unwrap();
            list.iter()
                .map(|k| {
                    (
                        k["name"].as_str().unwrap().to_owned(),
                        k["status"].as_str().unwrap().to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let s = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        statuses().await,
        s(&[
            ("later", "active"),
            ("soon", "expiring_soon"),
            ("never", "active")
        ])
    );
    app.clock.set(t("2026-06-08T00:00:00Z"));
    assert_eq!(
        statuses().await,
        s(&[
            ("later", "active"),
            ("soon", "expired"),
            ("never", "active")
        ])
    );
    app.clock.set(t("2026-06-24T00:00:00Z"));
    assert_eq!(
        statuses().await,
        s(&[
            ("later", "expiring_soon"),
            ("soon", "expired"),
            ("never", "active")
        ])
    );
}
