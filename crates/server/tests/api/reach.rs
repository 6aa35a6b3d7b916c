//! A key's reach is its ticked devices ∩ what its owner may see now.

use partlogic_entity::device;
use partlogic_server::accounts::admin;
use partlogic_server::accounts::admin::DeviceRef;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, within_a_second};
use crate::on_every_database;

on_every_database!(
    owner_losing_a_device_takes_it_from_the_key_at_once,
    a_deleted_device_disappears_from_results,
    a_disabled_owner_s_keys_stop_working,
    nobody_can_put_a_device_they_cannot_see_on_a_key,
);

async fn device_names(app: &TestApp, key: &str) -> Vec<String> {
    let rows: Vec<Value> = app.api_get("/api/stock", key).await.json().await.unwrap();
    let mut names: Vec<String> = rows
        .iter()
        .map(|r| r["DeviceName"].as_str().unwrap().to_owned())
        .collect();
    names.dedup();
    names
}

async fn owner_losing_a_device_takes_it_from_the_key_at_once(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let member = app.login(&w.member.email).await;
    let (_, key) = app
        .create_key(&member, json!({"name": "k", "device_ids": [w.n1, w.s1]}))
        .await;
    assert_eq!(device_names(&app, &key).await, ["N1", "S1"]);

    admin::revoke(&app.db, &w.member.email, &[DeviceRef::Name("S1".into())])
        .await
        .unwrap();
    within_a_second("the revoke", || {
        let (app, key) = (&app, key.clone());
        async move { device_names(app, &key).await == ["N1"] }
    })
    .await;
    let res = app
        .api_get(&format!("/api/stock?device={}", w.s1), &key)
        .await;
    assert_problem(res, 403, "device_not_in_scope").await;
    let devices: Vec<Value> = app
        .api_get("/api/devices", &key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(devices.len(), 1);

    // Granting it back restores it: the key kept its ticks.
    admin::grant(&app.db, &w.member.email, &[DeviceRef::Name("S1".into())])
        .await
        .unwrap();
    within_a_second("the grant", || {
        let (app, key) = (&app, key.clone());
        async move { device_names(app, &key).await == ["N1", "S1"] }
    })
    .await;
}

async fn a_deleted_device_disappears_from_results(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let admin_client = app.login(&w.admin.email).await;
    let (id, key) = app
        .create_key(
            &admin_client,
            json!({"name": "k", "device_ids": [w.n1, w.n2]}),
        )
        .await;
    assert_eq!(device_names(&app, &key).await, ["N1", "N2"]);
    device::Entity::delete_by_id(w.n2)
        .exec(&app.db)
        .await
        .unwrap();
    within_a_second("the deletion", || {
        let (app, key) = (&app, key.clone());
        async move { device_names(app, &key).await == ["N1"] }
    })
    .await;
    let detail: Value = app
        .get_json(&admin_client, &format!("/portal/api/keys/{id}"))
        .await;
    assert_eq!(detail["device_count"], 1);
    assert_eq!(detail["devices"].as_array().unwrap().len(), 1);
}

async fn a_disabled_owner_s_keys_stop_working(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let member = app.login(&w.member.email).await;
    let (_, key) = app
        .create_key(&member, json!({"name": "k", "device_ids": [w.n1]}))
        .await;
    assert_eq!(app.api_get("/api/stock", &key).await.status(), 200);
    admin::disable_user(&app.db, &w.member.email, chrono::Utc::now())
        .await
        .unwrap();
    within_a_second("the disabling", || {
        let (app, key) = (&app, key.clone());
        async move { app.api_get("/api/stock", &key).await.status() == 401 }
    })
    .await;
    assert_problem(
        app.api_get("/api/stock", &key).await,
        401,
        "invalid_api_key",
    )
    .await;
    // And their session ends too.
    let res = member
        .get(app.url("/portal/api/keys"))
        .send()
        .await
        .unwrap();
    assert_problem(res, 401, "not_logged_in").await;
}

async fn nobody_can_put_a_device_they_cannot_see_on_a_key(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let member = app.login(&w.member.email).await;
    let member2 = app.login(&w.member2.email).await;
    let admin_client = app.login(&w.admin.email).await;

    // The portal's device list is exactly what each user may tick.
    let ids = |v: Value| -> Vec<i64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_i64().unwrap())
            .collect()
    };
    let mine: Value = app.get_json(&member, "/portal/api/devices").await;
    let mut mine = ids(mine);
    mine.sort();
    assert_eq!(mine, [w.n1, w.n2, w.s1]);
    let theirs: Value = app.get_json(&member2, "/portal/api/devices").await;
    assert_eq!(ids(theirs), [w.s2]);
    let all: Value = app.get_json(&admin_client, "/portal/api/devices").await;
    assert_eq!(
        all.as_array().unwrap().len(),
        4,
        "admins see the account's devices, not Globex's"
    );
    assert_eq!(all[0]["customer_name"], "North");

    // Another member's device, another account's device, a device that does not exist.
    for (client, device) in [
        (&member, w.s2),
        (&member, w.g1),
        (&admin_client, w.g1),
        (&member, 424_242),
    ] {
        let res = client
            .post(app.url("/portal/api/keys"))
            .json(&json!({"name": "k", "device_ids": [w.n1, device]}))
            .send()
            .await
            .unwrap();
        let v = assert_problem(res, 403, "device_not_in_scope").await;
        assert_eq!(v["errors"][0]["field"], "device_ids");
        assert!(
            v["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(&device.to_string())
        );
    }
}
