//! The test harness: a real server on port 0, over a fresh real database per test (a temporary
//! SQLite file, or a uniquely named PostgreSQL database that is dropped afterwards).

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, Utc};
use partlogic_entity::{customer, device, stock, user};
use partlogic_server::accounts::admin;
use partlogic_server::accounts::admin::DeviceRef;
use partlogic_server::{Application, Clock, Settings};
use sea_orm::{ActiveValue::Set, ConnectionTrait, Database, DatabaseConnection, EntityTrait};
use serde_json::Value;

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The password of every fixture user.
pub const PASSWORD: &str = "correct horse battery";

/// Everything the server printed to its log in this test process.
pub fn logs() -> String {
    String::from_utf8_lossy(&log_buffer().lock().unwrap_or_else(|p| p.into_inner())).into_owned()
}

fn log_buffer() -> &'static Arc<Mutex<Vec<u8>>> {
    static BUF: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    BUF.get_or_init(Default::default)
}

#[derive(Clone)]
struct Capture;

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        log_buffer()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        // Keep the log visible when a test fails.
        std::io::stderr().write_all(buf)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn init_logging() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let filter = "info,partlogic_server=debug,actix_web=debug";
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_ansi(false)
            .with_writer(partlogic_server::telemetry::Escaping(|| Capture))
            .try_init();
    });
}

/// A running server and its database.
pub struct TestApp {
    pub address: String,
    /// Where `/metrics` is served, when the test asked for it.
    pub metrics_address: Option<String>,
    database_url: String,
    pub db: DatabaseConnection,
    pub clock: Clock,
    // Last, so the pool above is closed before the database goes.
    _cleanup: Cleanup,
}

/// What a test's database leaves behind, removed when this is dropped: a SQLite file (and its
/// WAL, shared-memory and lock files) or a PostgreSQL database.
pub enum Cleanup {
    File(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
}

fn random_suffix() -> String {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).unwrap_or_default();
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The PostgreSQL server tests use, if any. `.ci/run` sets `PARTLOGIC_REQUIRE_POSTGRES=1`, which
/// turns "no PostgreSQL configured" into a failure instead of a skip.
pub fn postgres_url() -> Option<String> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("PARTLOGIC_REQUIRE_POSTGRES").is_err(),
                "PARTLOGIC_REQUIRE_POSTGRES is set but TEST_DATABASE_URL is not"
            );
            None
        }
    }
}

pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let root = match base[authority_start..].find('/') {
        Some(i) => &base[..authority_start + i],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

impl TestApp {
    /// A server on a fresh database, on the system clock.
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, Clock::system()).await
    }

    /// A server whose clock stands at `at` until the test moves it.
    pub async fn spawn_at(backend: Backend, at: DateTime<Utc>) -> Self {
        Self::spawn_with(backend, Clock::frozen(at)).await
    }

    async fn spawn_with(backend: Backend, clock: Clock) -> Self {
        Self::spawn_custom(backend, clock, |_| {}).await
    }

    /// A server whose settings the test adjusts first.
    pub async fn spawn_custom(
        backend: Backend,
        clock: Clock,
        adjust: impl FnOnce(&mut Settings),
    ) -> Self {
        init_logging();
        let (url, cleanup) = match backend {
            Backend::Sqlite => {
                let path =
                    std::env::temp_dir().join(format!("partlogic-test-{}.db", random_suffix()));
                (
                    format!("sqlite://{}?mode=rwc", path.display()),
                    Cleanup::File(path),
                )
            }
            Backend::Postgres => {
                let admin_url = postgres_url().expect("postgres tests need TEST_DATABASE_URL");
                let name = format!("partlogic_test_{}", random_suffix());
                let admin = Database::connect(&admin_url)
                    .await
                    .expect("connect to PostgreSQL");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create test database");
                let _ = admin.close().await;
                (
                    with_database(&admin_url, &name),
                    Cleanup::Postgres { admin_url, name },
                )
            }
        };
        let mut settings = Settings::new(url.clone());
        settings.bind = "127.0.0.1:0".to_owned();
        settings.workers = 2;
        // Each server holds its pool open; several run at once against one PostgreSQL.
        settings.db_max_connections = 4;
        // Webhook receivers in tests listen on loopback; the SSRF tests turn this off.
        settings.webhook_key = Some(partlogic_server::webhooks::secrets::WebhookKey([42; 32]));
        settings.webhook_allow_private = true;
        adjust(&mut settings);
        let app = Application::build(settings, clock.clone())
            .await
            .expect("build the server");
        let address = format!("http://127.0.0.1:{}", app.port());
        let metrics_address = app.metrics_port().map(|p| format!("http://127.0.0.1:{p}"));
        let db = app.db().clone();
        tokio::spawn(app.run_until_stopped());
        TestApp {
            address,
            metrics_address,
            database_url: url,
            db,
            clock,
            _cleanup: cleanup,
        }
    }

    /// The database URL the server uses (for running the CLI against it).
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    /// A server on a fresh database holding the [`World`] fixture.
    pub async fn with_world(backend: Backend) -> (Self, World) {
        let app = Self::spawn(backend).await;
        let world = World::build(&app).await;
        (app, world)
    }

    /// `GET path` on this server with `client`, read as JSON.
    pub async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        client: &reqwest::Client,
        path: &str,
    ) -> T {
        client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json body")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A client with no credentials.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .expect("client")
    }

    /// A client logged in to the portal as `email`.
    pub async fn login(&self, email: &str) -> reqwest::Client {
        let client = self.client();
        let res = client
            .post(self.url("/portal/api/session"))
            .json(&serde_json::json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .expect("login request");
        assert_eq!(
            res.status(),
            200,
            "login as {email}: {}",
            res.text().await.unwrap_or_default()
        );
        client
    }

    /// Creates a key through the portal API; returns (key id, secret).
    pub async fn create_key(&self, client: &reqwest::Client, body: Value) -> (i64, String) {
        let res = client
            .post(self.url("/portal/api/keys"))
            .json(&body)
            .send()
            .await
            .expect("create key");
        assert_eq!(
            res.status(),
            201,
            "create key: {}",
            res.text().await.unwrap_or_default()
        );
        let v: Value = res.json().await.expect("json");
        (
            v["key"]["id"].as_i64().expect("id"),
            v["secret"].as_str().expect("secret").to_owned(),
        )
    }

    /// `GET path` on the Stock API with `key`.
    pub async fn api_get(&self, path: &str, key: &str) -> reqwest::Response {
        self.client()
            .get(self.url(path))
            .header("X-API-Key", key)
            .send()
            .await
            .expect("api request")
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        match self {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm", ".lock"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime; a fresh one on a plain thread may block.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    rt.block_on(async {
                        if let Ok(admin) = Database::connect(&admin_url).await {
                            let _ = admin
                                .execute_unprepared(&format!(
                                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                                ))
                                .await;
                            let _ = admin.close().await;
                        }
                    });
                    Ok::<(), std::io::Error>(())
                })
                .join();
            }
        }
    }
}

/// The fixture every test starts from:
///
/// - Acme: customers North (devices N1, N2) and South (S1, S2); three stock rows per device,
///   the second of each below its minimum. Users: admin (admin), member (N1, N2, S1),
///   member2 (S2).
/// - Globex: customer Gamma (device G1, three rows); user gadmin (admin).
pub struct World {
    pub acme: i64,
    pub n1: i64,
    pub n2: i64,
    pub s1: i64,
    pub s2: i64,
    pub g1: i64,
    pub admin: user::Model,
    pub member: user::Model,
    pub member2: user::Model,
    pub gadmin: user::Model,
}

impl World {
    pub async fn build(app: &TestApp) -> World {
        let db = &app.db;
        let now = Utc::now();
        let acme = admin::add_account(db, "Acme", now).await.expect("acme").id;
        let globex = admin::add_account(db, "Globex", now)
            .await
            .expect("globex")
            .id;
        let north = add_customer(db, acme, "North").await;
        let south = add_customer(db, acme, "South").await;
        let gamma = add_customer(db, globex, "Gamma").await;
        let n1 = add_device(db, acme, north, "N1").await;
        let n2 = add_device(db, acme, north, "N2").await;
        let s1 = add_device(db, acme, south, "S1").await;
        let s2 = add_device(db, acme, south, "S2").await;
        let g1 = add_device(db, globex, gamma, "G1").await;
        for (device, name) in [(n1, "N1"), (n2, "N2"), (s1, "S1"), (s2, "S2"), (g1, "G1")] {
            for i in 0..3 {
                add_stock(
                    db,
                    device,
                    &format!("{name}-SKU{i}"),
                    10,
                    50,
                    if i == 1 { 3 } else { 20 },
                    now,
                )
                .await;
            }
        }
        let admin_user = admin::add_user(
            db,
            acme,
            "admin@acme.test",
            "Ada Admin",
            PASSWORD,
            true,
            now,
        )
        .await
        .expect("admin");
        let member = admin::add_user(
            db,
            acme,
            "member@acme.test",
            "Mo Member",
            PASSWORD,
            false,
            now,
        )
        .await
        .expect("member");
        let member2 = admin::add_user(
            db,
            acme,
            "member2@acme.test",
            "Max Member",
            PASSWORD,
            false,
            now,
        )
        .await
        .expect("member2");
        let gadmin = admin::add_user(
            db,
            globex,
            "admin@globex.test",
            "Gil Globex",
            PASSWORD,
            true,
            now,
        )
        .await
        .expect("gadmin");
        admin::grant(
            db,
            "member@acme.test",
            &[
                DeviceRef::Name("N1".into()),
                DeviceRef::Name("N2".into()),
                DeviceRef::Name("S1".into()),
            ],
        )
        .await
        .expect("grant");
        admin::grant(db, "member2@acme.test", &[DeviceRef::Name("S2".into())])
            .await
            .expect("grant");
        World {
            acme,
            n1,
            n2,
            s1,
            s2,
            g1,
            admin: admin_user,
            member,
            member2,
            gadmin,
        }
    }
}

pub async fn add_customer(db: &DatabaseConnection, account: i64, name: &str) -> i64 {
    customer::Entity::insert(customer::ActiveModel {
        account_id: Set(account),
        name: Set(name.into()),
        ..Default::default()
    })
    .exec(db)
    .await
    .expect("customer")
    .last_insert_id
}

pub async fn add_device(db: &DatabaseConnection, account: i64, customer: i64, name: &str) -> i64 {
    device::Entity::insert(device::ActiveModel {
        account_id: Set(account),
        customer_id: Set(customer),
        name: Set(name.into()),
        ..Default::default()
    })
    .exec(db)
    .await
    .expect("device")
    .last_insert_id
}

pub async fn add_stock(
    db: &DatabaseConnection,
    device: i64,
    sku: &str,
    min: i64,
    max: i64,
    physical: i64,
    at: DateTime<Utc>,
) -> i64 {
    stock::Entity::insert(stock::ActiveModel {
        device_id: Set(device),
        sku: Set(sku.into()),
        description: Set(format!("Item {sku}")),
        min_qty: Set(min),
        max_qty: Set(max),
        physical: Set(physical),
        location: Set("A-01".into()),
        updated_at: Set(at),
        ..Default::default()
    })
    .exec(db)
    .await
    .expect("stock")
    .last_insert_id
}

/// Retries `check` until it holds, for at most a second: what another writer changes (the CLI,
/// another instance, a test writing to the database directly) reaches a server's key cache
/// within a second, by PostgreSQL notification or SQLite polling.
pub async fn within_a_second<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = std::time::Instant::now();
    loop {
        if check().await {
            return;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_millis(1000),
            "{what}: not seen within a second"
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

/// The `field` of each entry of a problem's `errors`.
/// A PostgreSQL advisory lock held on a connection of its own, as a create with an
/// `Idempotency-Key` in progress on another instance holds the key's lock.
pub struct HeldLock {
    conn: sea_orm::sqlx::pool::PoolConnection<sea_orm::sqlx::Postgres>,
    lock: (i32, i32),
}

impl HeldLock {
    /// Takes `lock` (class and id) on a connection of `db`'s pool.
    pub async fn take(db: &DatabaseConnection, lock: (i32, i32)) -> HeldLock {
        let mut conn = db.get_postgres_connection_pool().acquire().await.unwrap();
        sea_orm::sqlx::query("SELECT pg_advisory_lock($1, $2)")
            .bind(lock.0)
            .bind(lock.1)
            .execute(&mut *conn)
            .await
            .unwrap();
        HeldLock { conn, lock }
    }

    /// Lets it go (the connection goes back to the pool, which keeps session locks).
    pub async fn release(mut self) {
        sea_orm::sqlx::query("SELECT pg_advisory_unlock($1, $2)")
            .bind(self.lock.0)
            .bind(self.lock.1)
            .execute(&mut *self.conn)
            .await
            .unwrap();
    }
}

pub fn error_fields(problem: &Value) -> Vec<&str> {
    problem["errors"]
        .as_array()
        .map(|es| es.iter().filter_map(|e| e["field"].as_str()).collect())
        .unwrap_or_default()
}

/// Asserts a problem document: status, content type and code.
pub async fn assert_problem(res: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(res.status().as_u16(), status, "expected {status} {code}");
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(ct, "application/problem+json");
    let v: Value = res.json().await.expect("problem json");
    assert_eq!(v["code"], code, "problem: {v}");
    assert_eq!(v["status"], status);
    assert_eq!(v["type"], format!("urn:partlogic:problem:{code}"));
    assert!(v["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(v["detail"].as_str().is_some_and(|t| !t.is_empty()));
    v
}

/// Runs each named `async fn(Backend)` on SQLite, and on PostgreSQL when `TEST_DATABASE_URL`
/// is set: `on_every_database!(a, b)` makes tests `a::sqlite`, `a::postgres`, …
#[macro_export]
macro_rules! on_every_database {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::helpers::Backend::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if $crate::helpers::postgres_url().is_none() {
                        eprintln!("skipped: set TEST_DATABASE_URL to run on PostgreSQL");
                        return;
                    }
                    super::$name($crate::helpers::Backend::Postgres).await;
                }
            }
        )*
    };
}

/// A child process that is killed (and reaped) when the test ends, however it ends.
pub struct KillOnDrop(pub Option<std::process::Child>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
