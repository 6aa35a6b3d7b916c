//! Building and running the HTTP server.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpServer, web};
use sea_orm::DatabaseConnection;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::accounts::throttle::Throttle;
use crate::clock::Clock;
use crate::error;
use crate::http::config::Settings;
use crate::http::middleware::SecurityHeaders;
use crate::http::state::AppState;
use crate::keys::last_used::LastUsedThrottle;
use crate::stock::slots::StreamSlots;

/// A bound, ready-to-run server.
pub struct Application {
    port: u16,
    metrics_port: Option<u16>,
    db: DatabaseConnection,
    server: Server,
    metrics: Option<Server>,
    uses: crate::keys::last_used::UseFlusher,
    usage: crate::keys::usage::UsageFlusher,
}

impl Application {
    /// Connects to the database, runs migrations (and the demo seed when asked), and binds the
    /// listener. Binding `…:0` picks a free port; [`Application::port`] tells which.
    pub async fn build(settings: Settings, clock: Clock) -> std::io::Result<Self> {
        crate::db::prepare(
            &settings.database_url,
            settings.demo.then_some(crate::demo::seed_empty),
        )
        .await
        .map_err(std::io::Error::other)?;
        let db = crate::db::connect(&settings.database_url, settings.db_max_connections)
            .await
            .map_err(std::io::Error::other)?;
        let throttle = Throttle::load(&db).await.map_err(std::io::Error::other)?;
        let listener = TcpListener::bind(&settings.bind)?;
        let bound = listener.local_addr()?;
        let port = bound.port();
        let public_url = crate::http::recipes::public_url(settings.public_url.as_deref(), bound)
            .map_err(std::io::Error::other)?;
        let link_prefix = if settings.public_url.is_some() {
            crate::http::recipes::path_prefix(&public_url)
        } else {
            String::new()
        };
        spawn_alert_pruning(db.clone(), clock.clone(), settings.alert_retention);
        crate::db::upkeep::spawn(db.clone(), settings.db_analyze_every);
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let store = crate::db::store::Store::new(&settings.database_url, &db);
        let keys = crate::keys::cache::KeyCache::new();
        keys.watch(store.clone(), &db);
        let (uses, flusher) = crate::keys::last_used::spawn(db.clone());
        let (usage, usage_flusher) =
            crate::keys::usage::spawn(db.clone(), clock.clone(), settings.usage_flush);
        let scanning_keys = match &settings.secret_scanning_keys {
            Some(path) => Some(Arc::new(
                crate::keys::leaks::ScanningKeys::load(path).map_err(std::io::Error::other)?,
            )),
            None => None,
        };
        let metrics_listener = match &settings.metrics_bind {
            Some(addr) => Some(TcpListener::bind(addr)?),
            None => None,
        };
        let metrics_port = match &metrics_listener {
            Some(l) => Some(l.local_addr()?.port()),
            None => None,
        };
        let limits = crate::keys::rate_limit::RateLimiter::for_database(
            &settings.database_url,
            clock.clone(),
        )
        .await
        .map_err(std::io::Error::other)?;
        let webhook_vault = webhook_key(&settings)
            .map_err(std::io::Error::other)?
            .map(|k| Arc::new(crate::webhooks::secrets::Vault::new(&k)));
        if settings.webhook_worker {
            crate::webhooks::deliver::spawn(
                db.clone(),
                clock.clone(),
                webhook_vault.clone(),
                crate::webhooks::deliver::WorkerSettings {
                    allow_private: settings.webhook_allow_private,
                    portal_url: public_url.clone(),
                },
            )
            .map_err(std::io::Error::other)?;
        }
        let order_numbers: Arc<crate::orders::numbers::Numbers> = Default::default();
        let state = AppState {
            webhook_vault,
            db: db.clone(),
            clock,
            last_used: LastUsedThrottle::default(),
            streams: StreamSlots::new(settings.streams.total, settings.streams.per_key),
            hash_permits: Arc::new(tokio::sync::Semaphore::new(cores)),
            trusted_permits: Arc::new(tokio::sync::Semaphore::new(1)),
            throttle,
            public_url,
            link_prefix,
            keys,
            store,
            uses,
            limits,
            usage,
            scanning_keys,
            metrics: metrics_listener
                .is_some()
                .then(|| Arc::new(crate::http::metrics::Metrics::default())),
            settings: Arc::new(settings),
            order_numbers: order_numbers.clone(),
            order_memo: Default::default(),
            // Batches are written on this runtime, which outlives the HTTP workers: a worker
            // stopping first takes no batch down with it.
            order_batches: Arc::new(crate::orders::create::Batches::new(
                Some(tokio::runtime::Handle::current()),
                order_numbers,
            )),
            replays: Default::default(),
        };
        let state = web::Data::new(state);
        let metrics = match metrics_listener {
            Some(l) => Some(crate::http::metrics::serve(l, state.clone())?),
            None => None,
        };
        let server = run(listener, state)?;
        Ok(Self {
            port,
            metrics_port,
            db,
            server,
            metrics,
            uses: flusher,
            usage: usage_flusher,
        })
    }

    /// The port `/metrics` is served on, if it is.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_port
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's database pool (tests use it to arrange data).
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Serves until the process is told to stop. On SIGTERM the server stops accepting
    /// connections, lets running requests and exports finish for up to the shutdown grace
    /// period, and then writes the key uses still queued before it returns (SIGINT stops at
    /// once, but still writes them).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let metrics = self.metrics.map(|m| {
            let handle = m.handle();
            tokio::spawn(m);
            handle
        });
        let served = self.server.await;
        tracing::info!("stopped serving; finishing up");
        if let Some(m) = metrics {
            m.stop(true).await;
        }
        self.uses.flush(std::time::Duration::from_secs(10)).await;
        self.usage.flush(std::time::Duration::from_secs(10)).await;
        served
    }
}

/// Forgets alerts past their retention and `Idempotency-Key` records past their 24 hours, at
/// start and then hourly. Every instance may do it; the deletes are idempotent.
/// The key webhook secrets are sealed with: the configured one, or on SQLite the one in the
/// file beside the database (made on first start, readable by its owner only).
fn webhook_key(settings: &Settings) -> Result<Option<[u8; 32]>, String> {
    if let Some(k) = settings.webhook_key {
        return Ok(Some(k.0));
    }
    let Some(db) = crate::db::sqlite_path(&settings.database_url) else {
        tracing::warn!(
            "webhooks are off: set PARTLOGIC_WEBHOOK_KEY (the same on every instance) to take endpoints"
        );
        return Ok(None);
    };
    let path = format!("{db}.webhook-key");
    match std::fs::read_to_string(&path) {
        Ok(text) => crate::webhooks::secrets::Vault::parse_key(&text)
            .map(Some)
            .ok_or_else(|| format!("{path} does not hold a webhook key")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            use std::io::Write as _;
            use std::os::unix::fs::OpenOptionsExt as _;
            let text =
                crate::webhooks::secrets::Vault::new_key_text().map_err(|e| e.to_string())?;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .map_err(|e| format!("{path}: {e}"))?;
            f.write_all(text.as_bytes())
                .map_err(|e| format!("{path}: {e}"))?;
            tracing::info!(path, "made a webhook key beside the database");
            crate::webhooks::secrets::Vault::parse_key(&text)
                .map(Some)
                .ok_or_else(|| "a new webhook key did not read back".to_owned())
        }
        Err(e) => Err(format!("{path}: {e}")),
    }
}

fn spawn_alert_pruning(db: DatabaseConnection, clock: Clock, retention: chrono::Duration) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            every.tick().await;
            if let Err(e) = crate::stock::writes::prune_alerts(&db, clock.now(), retention).await {
                tracing::warn!(error = %e, "could not prune old alerts");
            }
            if let Err(e) = crate::orders::idempotency::prune(&db, clock.now()).await {
                tracing::warn!(error = %e, "could not prune idempotency records");
            }
        }
    });
}

/// How long a client has to send a whole request head, from connecting (or from its previous
/// answer): slow-header clients are cut off after this.
pub const CLIENT_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

fn run(listener: TcpListener, data: web::Data<AppState>) -> std::io::Result<Server> {
    let state = data.get_ref();
    let docs: Vec<_> = crate::http::openapi::specs(&state.public_url)
        .into_iter()
        .map(|(doc, spec)| (utoipa_swagger_ui::Url::new(doc.label(), doc.path()), spec))
        .collect();
    let workers = state.settings.workers;
    let grace = state.settings.shutdown_grace;
    let portal = crate::http::spa::Portal::choose(
        state.settings.static_dir.clone(),
        state.settings.embedded_spa,
    );
    match &portal {
        crate::http::spa::Portal::Dir(dir) => {
            tracing::info!(dir = %dir.display(), "portal served from a directory")
        }
        crate::http::spa::Portal::Embedded(_) => tracing::info!("portal served from the binary"),
        crate::http::spa::Portal::Missing => tracing::warn!(
            "no portal: this binary was built before the SPA (scripts/build-frontend) and no --static-dir was given"
        ),
    }
    let portal = web::Data::new(portal);
    let security = web::Data::new(SecurityHeaders::new(&[], state.settings.secure_cookies));
    let mut server = HttpServer::new(move || {
        App::new()
            .into_utoipa_app()
            .openapi(crate::http::openapi::ApiDoc::openapi())
            .app_data(data.clone())
            .app_data(portal.clone())
            .app_data(security.clone())
            .app_data(
                web::JsonConfig::default()
                    .limit(1 << 20)
                    .error_handler(error::json_error),
            )
            .app_data(web::PathConfig::default().error_handler(error::path_error))
            // The docs must be registered before the `/api` scope, which would otherwise claim
            // `/api/docs` for its own 404.
            .map(|app| {
                app.wrap(Compress::default())
                    .wrap(from_fn(crate::http::middleware::refuse_key_in_query))
                    .wrap(from_fn(crate::http::middleware::head_as_get))
                    .wrap(from_fn(crate::http::middleware::bound_request_heads))
                    .wrap(from_fn(crate::http::middleware::secure_responses))
                    .wrap(from_fn(crate::http::middleware::access_log))
                    // Both documents, the Stock API first; the UI's switcher opens the other.
                    .service(SwaggerUi::new("/api/docs/{_:.*}").urls(docs.clone()))
                    .route(
                        "/api/docs",
                        web::get().to(crate::http::routes::docs_redirect),
                    )
                    .route(
                        "/recipes/{file}",
                        web::get().to(crate::http::recipes::serve),
                    )
            })
            .configure(crate::http::routes::configure)
            .into_app()
            .default_service(web::to(crate::http::spa::serve))
    })
    .shutdown_timeout(grace.as_secs().max(1))
    // Connections that send nothing, or a request head a byte at a time, hold a socket and a
    // little memory but no worker: each worker multiplexes thousands. They are dropped once
    // these run out (408 for a head not complete in time), so they cannot pile up either.
    .client_request_timeout(CLIENT_REQUEST_TIMEOUT)
    .client_disconnect_timeout(std::time::Duration::from_secs(1))
    .keep_alive(std::time::Duration::from_secs(5))
    .listen(listener)?;
    if workers > 0 {
        server = server.workers(workers);
    }
    Ok(server.run())
}

use utoipa::OpenApi as _;
