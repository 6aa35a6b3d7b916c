//! The `partlogic` binary: user admin, CSV import, demo data and the OpenAPI printout.

use std::io::Write;
use std::process::{Command, Stdio};

use partlogic_entity::{customer, device, stock, stock_alert, user};
use partlogic_server::demo;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::helpers::{Backend, KillOnDrop, TestApp};
use crate::on_every_database;

on_every_database!(
    import_is_all_or_nothing_and_reports_lines,
    cli_manages_users_and_accounts,
    demo_data_is_as_documented,
    serve_without_a_command_reads_every_setting,
);

fn partlogic(app: &TestApp, args: &[&str], stdin: &str) -> (bool, String, String) {
    let url = database_url(app);
    let mut child = Command::new(env!("CARGO_BIN_EXE_partlogic"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn database_url(app: &TestApp) -> String {
    app.database_url().to_owned()
}

const HEADER: &str = "Item Code,Description*,Category,Sub-Category,Sales Price,Cost Price,GTIN,Manufacturer,Manufacturer Part Number,Supplier,Supplier Part Number,Quantity In Stock,Storeroom,Location,Barcode\n";

async fn import_is_all_or_nothing_and_reports_lines(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let dir = std::env::temp_dir();
    let bad = dir.join(format!("partlogic-import-bad-{}.csv", std::process::id()));
    std::fs::write(
        &bad,
        format!(
            "{HEADER}\
             NEW-1,Brand new item,Fasteners,,1.00,0.50,,,,,,12,N1,B-01,\n\
             N1-SKU0,,Fasteners,,1.00,0.50,,,,,,5,N1,B-02,\n\
             NEW-2,Another,Fasteners,,1.00,0.50,,,,,,many,N1,B-03,\n\
             NEW-3,Third,Fasteners,,1.00,0.50,,,,,,4,Nowhere,B-04,\n\
             NEW-1,Duplicate,Fasteners,,1.00,0.50,,,,,,1,N1,B-05,\n"
        ),
    )
    .unwrap();
    let before = stock::Entity::find().count(&app.db).await.unwrap();
    let (ok, _, err) = partlogic(
        &app,
        &["import", bad.to_str().unwrap(), "--account", "Acme"],
        "",
    );
    assert!(!ok);
    for expected in [
        "line 3: Description* is empty",
        "line 4: Quantity In Stock",
        "line 5: no storeroom",
        "line 6: Item Code NEW-1 appears twice",
        "4 bad rows; nothing was imported",
    ] {
        assert!(err.contains(expected), "missing `{expected}` in:\n{err}");
    }
    assert_eq!(
        stock::Entity::find().count(&app.db).await.unwrap(),
        before,
        "nothing half imported"
    );

    let good = dir.join(format!("partlogic-import-good-{}.csv", std::process::id()));
    std::fs::write(
        &good,
        format!(
            "{HEADER}\
             NEW-1,Brand new item,Fasteners,,1.00,0.50,,,,,,12,N1,B-01,\n\
             N1-SKU0,Renamed item,Fasteners,,1.00,0.50,,,,,,7,N1,B-02,\n\
             NEW-9,Goes to a new storeroom,Fasteners,,1.00,0.50,,,,,,3,East Crib,C-01,\n"
        ),
    )
    .unwrap();
    let (ok, out, err) = partlogic(
        &app,
        &[
            "import",
            good.to_str().unwrap(),
            "--account",
            "Acme",
            "--customer",
            "East",
        ],
        "",
    );
    assert!(ok, "{err}");
    assert!(
        out.contains("imported 3 rows: 2 added, 1 updated, 0 unchanged, 1 new devices"),
        "{out}"
    );
    let updated = stock::Entity::find()
        .filter(stock::Column::DeviceId.eq(w.n1))
        .filter(stock::Column::Sku.eq("N1-SKU0"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            updated.description.as_str(),
            updated.physical,
            updated.min_qty
        ),
        ("Renamed item", 7, 10),
        "levels kept"
    );
    let east = device::Entity::find()
        .filter(device::Column::Name.eq("East Crib"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let cust = customer::Entity::find_by_id(east.customer_id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((cust.name.as_str(), east.account_id), ("East", w.acme));
    let _ = std::fs::remove_file(bad);
    let _ = std::fs::remove_file(good);

    // A file that is not in the template says so.
    let wrong = dir.join(format!("partlogic-import-wrong-{}.csv", std::process::id()));
    std::fs::write(&wrong, "sku,qty\nA,1\n").unwrap();
    let (ok, _, err) = partlogic(
        &app,
        &["import", wrong.to_str().unwrap(), "--account", "Acme"],
        "",
    );
    assert!(!ok && err.contains("Item Code"), "{err}");
    let _ = std::fs::remove_file(wrong);
}

async fn cli_manages_users_and_accounts(backend: Backend) {
    let (app, w) = TestApp::with_world(backend).await;
    let (ok, out, err) = partlogic(&app, &["account", "add", "Initech"], "");
    assert!(ok && out.contains("Initech"), "{err}");
    let (ok, _, err) = partlogic(
        &app,
        &[
            "user",
            "add",
            "--account",
            "Initech",
            "--email",
            "Peter@Initech.test",
            "--name",
            "Peter",
        ],
        "short\n",
    );
    assert!(!ok && err.contains("at least 8"), "{err}");
    let (ok, out, err) = partlogic(
        &app,
        &[
            "user",
            "add",
            "--account",
            "Initech",
            "--email",
            "Peter@Initech.test",
            "--name",
            "Peter",
        ],
        "tps reports 4ever\n",
    );
    assert!(ok && out.contains("peter@initech.test"), "{err}");
    let res = app
        .client()
        .post(app.url("/portal/api/session"))
        .json(&json!({"email": "peter@initech.test", "password": "tps reports 4ever"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        200,
        "the password from stdin works (without its newline)"
    );

    let (ok, _, err) = partlogic(
        &app,
        &[
            "user",
            "grant",
            &w.member2.email,
            "--device",
            "N1",
            "--device",
            "Nope",
        ],
        "",
    );
    assert!(!ok && err.contains("Nope"), "{err}");
    // A bare device argument is refused: a name and an id must be told apart.
    let (ok, _, _) = partlogic(&app, &["user", "grant", &w.member2.email, "N1"], "");
    assert!(!ok);
    let (ok, _, err) = partlogic(
        &app,
        &[
            "user",
            "grant",
            &w.member2.email,
            "--device-id",
            &w.n1.to_string(),
        ],
        "",
    );
    assert!(ok, "{err}");
    let member2 = app.login(&w.member2.email).await;
    let devices: Vec<serde_json::Value> = app.get_json(&member2, "/portal/api/devices").await;
    assert_eq!(devices.len(), 2);
    // An email the login would refuse is refused here too.
    let (ok, _, err) = partlogic(
        &app,
        &[
            "user",
            "add",
            "--account",
            "Acme",
            "--email",
            "zero\u{200b}width@acme.test",
        ],
        "a long enough password\n",
    );
    assert!(!ok && err.contains("is not an email address"), "{err}");
    let (ok, _, err) = partlogic(&app, &["user", "disable", &w.member2.email], "");
    assert!(ok, "{err}");
    let u = user::Entity::find_by_id(w.member2.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(u.disabled_at.is_some());

    for (args, file) in [
        (&["openapi"][..], "openapi.json"),
        (&["openapi", "--portal"][..], "portal.json"),
    ] {
        let (ok, out, _) = partlogic(&app, args, "");
        assert!(ok);
        let committed = std::fs::read_to_string(format!(
            "{}/../../openapi/{file}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        assert_eq!(out, committed, "{args:?}");
    }
}

async fn demo_data_is_as_documented(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert!(demo::seed_if_empty(&app.db).await.unwrap());
    assert!(
        !demo::seed_if_empty(&app.db).await.unwrap(),
        "seeding twice does nothing"
    );
    let acme = partlogic_server::accounts::admin::find_account(&app.db, "Acme Manufacturing")
        .await
        .unwrap();
    let customers = customer::Entity::find()
        .filter(customer::Column::AccountId.eq(acme.id))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(customers, 4);
    let devices = device::Entity::find()
        .filter(device::Column::AccountId.eq(acme.id))
        .all(&app.db)
        .await
        .unwrap();
    assert!(devices.len() >= 25);
    let ids: Vec<i64> = devices.iter().map(|d| d.id).collect();
    let rows = stock::Entity::find()
        .filter(stock::Column::DeviceId.is_in(ids.clone()))
        .count(&app.db)
        .await
        .unwrap();
    assert!(rows >= 3000, "{rows}");
    let below = stock::Entity::find()
        .filter(stock::Column::DeviceId.is_in(ids))
        .filter(Expr::col(stock::Column::Physical).lt(Expr::col(stock::Column::MinQty)))
        .count(&app.db)
        .await
        .unwrap();
    assert!(below > 0 && below < rows);
    // Every device has a few days of alerts of both kinds, written through the stock writer.
    for kind in ["below_min", "restocked"] {
        let alerts = stock_alert::Entity::find()
            .filter(stock_alert::Column::Kind.eq(kind))
            .count(&app.db)
            .await
            .unwrap();
        assert!(alerts >= devices.len() as u64, "{kind}: {alerts}");
    }

    // The documented logins work and see what the README says.
    for (email, count) in [
        ("admin@acme.example", devices.len()),
        ("member@acme.example", 14),
        ("admin@globex.example", 3),
    ] {
        let client = app.client();
        let res = client
            .post(app.url("/portal/api/session"))
            .json(&json!({"email": email, "password": demo::PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{email}");
        let list: Vec<serde_json::Value> = app.get_json(&client, "/portal/api/devices").await;
        assert_eq!(list.len(), count, "{email}");
    }
}

/// `partlogic` with no command is `partlogic serve`, with every setting read from the
/// environment (once only the bind address was).
async fn serve_without_a_command_reads_every_setting(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // The global --database-url still works in front of any command.
    let out = Command::new(env!("CARGO_BIN_EXE_partlogic"))
        .args(["--database-url", &database_url(&app), "migrate"])
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A session length that would overflow is refused up front, naming the setting.
    let out = Command::new(env!("CARGO_BIN_EXE_partlogic"))
        .env("DATABASE_URL", database_url(&app))
        .env("PARTLOGIC_SESSION_HOURS", "3000000000")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("session-hours"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = std::env::temp_dir().join(format!("partlogic-static-{port}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><title>from the static dir</title>",
    )
    .unwrap();
    let mut child = KillOnDrop(Some(
        Command::new(env!("CARGO_BIN_EXE_partlogic"))
            .env("DATABASE_URL", database_url(&app))
            .env("PARTLOGIC_BIND", format!("127.0.0.1:{port}"))
            .env("PARTLOGIC_DEMO", "true")
            .env("PARTLOGIC_SECURE_COOKIES", "true")
            .env("PARTLOGIC_TRUST_PROXY", "true")
            .env("PARTLOGIC_SESSION_HOURS", "2")
            .env("PARTLOGIC_STATIC_DIR", &dir)
            .env("PARTLOGIC_WORKERS", "1")
            .env("PARTLOGIC_DB_CONNECTIONS", "4")
            .env("RUST_LOG", "warn,actix_server=info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    ));
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if client.get(format!("{base}/api/ping")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let result = async {
        assert!(up, "the server did not come up");
        // PARTLOGIC_DEMO: the demo admin exists. PARTLOGIC_SECURE_COOKIES: __Host- and HSTS.
        // PARTLOGIC_SESSION_HOURS: two hours.
        let res = client
            .post(format!("{base}/portal/api/session"))
            .header("X-Forwarded-For", "203.0.113.5")
            .json(&json!({"email": "admin@acme.example", "password": demo::PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert!(res.headers().contains_key("strict-transport-security"));
        let session = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with("__Host-pl_session="))
            .expect("a __Host- session cookie");
        assert!(session.contains("Max-Age=7200"), "{session}");
        let token = session[..session.find(';').unwrap()].to_owned();
        // PARTLOGIC_TRUST_PROXY: the audit log names the forwarded address.
        let res = client
            .post(format!("{base}/portal/api/keys"))
            .header("Cookie", &token)
            .header("X-Forwarded-For", "203.0.113.5")
            .json(&json!({"name": "k", "device_ids": [1]}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let v: serde_json::Value = res.json().await.unwrap();
        assert_eq!(v["key"]["events"][0]["ip"], "203.0.113.5");
        // PARTLOGIC_STATIC_DIR: the portal comes from there.
        let page = client
            .get(format!("{base}/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("from the static dir"), "{page}");
    }
    .await;
    let mut child = child.0.take().unwrap();
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let log = String::from_utf8_lossy(&out.stderr);
    // PARTLOGIC_WORKERS: one worker.
    assert!(log.contains("starting 1 workers"), "{log}");
    result
}
