//! The command line (`partlogic`): serve, migrate, the demo data, account and user admin,
//! device grants, CSV import and the OpenAPI document. Parses arguments with clap and calls
//! into the features; the binary (`src/main.rs`) only runs [`main`].
//!
//! An edge beside `http` (`serve` starts it); nothing below imports this module.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::accounts::admin;
use crate::http::{config, openapi};
use crate::stock::import;
use crate::{Application, Clock, Settings, db, demo, telemetry};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "partlogic",
    version,
    about = "PartLogic portal: device-scoped API keys and the Stock API"
)]
struct Cli {
    /// Database URL: a SQLite file (created if missing) or postgres://user@host/db.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://partlogic.db?mode=rwc",
        global = true
    )]
    database_url: String,
    /// Days low-stock alerts are kept.
    #[arg(
        long,
        env = "PARTLOGIC_ALERT_RETENTION_DAYS",
        default_value_t = crate::http::config::DEFAULT_ALERT_RETENTION_DAYS,
        global = true
    )]
    alert_retention_days: u32,
    #[command(subcommand)]
    command: Option<Command>,
    /// `serve`'s flags, for when no command is given: `partlogic` alone is `partlogic serve`,
    /// reading the same `ServeArgs` (flags, environment variables and defaults).
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default command). Pending migrations run first.
    Serve(ServeArgs),
    /// Run pending migrations and exit.
    Migrate,
    /// Seed the demo data into an empty database.
    Demo,
    /// Import stock from a CSV file in the PartLogic import template.
    Import {
        /// The CSV file.
        file: PathBuf,
        /// The account (name or id) to import into.
        #[arg(long)]
        account: String,
        /// Create unknown storerooms as devices under this customer (otherwise they are errors).
        #[arg(long)]
        customer: Option<String>,
    },
    /// Manage accounts.
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Print the Stock API's OpenAPI document (as committed in openapi/openapi.json).
    Openapi {
        /// Print the portal's document instead (openapi/portal.json).
        #[arg(long)]
        portal: bool,
    },
    /// Print a new random key for PARTLOGIC_WEBHOOK_KEY.
    WebhookKey,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "PARTLOGIC_BIND", default_value = config::DEFAULT_BIND)]
    bind: String,
    /// Seed demo data if the database has no accounts yet.
    #[arg(long, env = "PARTLOGIC_DEMO")]
    demo: bool,
    /// Mark the session cookie Secure (set this when serving over HTTPS).
    #[arg(long, env = "PARTLOGIC_SECURE_COOKIES")]
    secure_cookies: bool,
    /// Trust X-Forwarded-For / Forwarded for the client IP (only behind your own proxy).
    #[arg(long, env = "PARTLOGIC_TRUST_PROXY")]
    trust_proxy: bool,
    /// Hours a portal login lasts.
    #[arg(
        long,
        env = "PARTLOGIC_SESSION_HOURS",
        default_value_t = config::DEFAULT_SESSION_HOURS,
        value_parser = clap::value_parser!(i64).range(1..=config::MAX_SESSION_HOURS)
    )]
    session_hours: i64,
    /// Serve the portal SPA from this directory (a trunk build) instead of the one built into
    /// the binary.
    #[arg(long, env = "PARTLOGIC_STATIC_DIR")]
    static_dir: Option<PathBuf>,
    /// HTTP worker threads (0: one per core).
    #[arg(long, env = "PARTLOGIC_WORKERS", default_value_t = 0)]
    workers: usize,
    /// Database connections in the pool (on SQLite, for writes and the portal; stock reads
    /// use one read-only connection per worker thread besides).
    #[arg(
        long,
        env = "PARTLOGIC_DB_CONNECTIONS",
        default_value_t = db::MAX_CONNECTIONS,
        value_parser = clap::value_parser!(u32).range(1..=1000)
    )]
    db_connections: u32,
    /// On PostgreSQL, seconds between looks for the server's tables that autovacuum does not
    /// analyse (it is off) and that need fresh statistics; 0: never.
    #[arg(
        long,
        env = "PARTLOGIC_DB_ANALYZE_SECS",
        default_value_t = db::upkeep::EVERY.as_secs(),
        value_parser = clap::value_parser!(u64).range(0..=86_400)
    )]
    db_analyze_secs: u64,
    /// Serve Prometheus metrics at /metrics on this address (e.g. 127.0.0.1:9464); off when
    /// not given. Keep it private: it is a separate listener so the public one never has it.
    #[arg(long, env = "PARTLOGIC_METRICS_BIND")]
    metrics_bind: Option<String>,
    /// Seconds a stopping server (SIGTERM) lets running requests and exports finish.
    #[arg(
        long,
        env = "PARTLOGIC_SHUTDOWN_GRACE",
        default_value_t = config::DEFAULT_SHUTDOWN_GRACE_SECS,
        value_parser = clap::value_parser!(u64).range(1..=3600)
    )]
    shutdown_grace: u64,
    /// The base URL integrations call (recipes and guides show it); default: from --bind.
    #[arg(long, env = "PARTLOGIC_PUBLIC_URL")]
    public_url: Option<String>,
    /// A file of the public keys that sign secret-scanning reports, in the format GitHub
    /// publishes them; POST /api/secret-scanning answers 404 without it.
    #[arg(long, env = "PARTLOGIC_SECRET_SCANNING_KEYS")]
    secret_scanning_keys: Option<PathBuf>,
    /// The key webhook signing secrets are sealed with: 32 random bytes in base64 (`partlogic
    /// webhook-key` makes one). Every instance on one database needs the same. Default on
    /// SQLite: a file beside the database; on PostgreSQL, webhooks are off without it.
    #[arg(long, env = "PARTLOGIC_WEBHOOK_KEY", hide_env_values = true)]
    webhook_key: Option<String>,
    /// Let webhook URLs be http and private addresses (tests, on-premises receivers).
    #[arg(long, env = "PARTLOGIC_WEBHOOK_ALLOW_PRIVATE")]
    webhook_allow_private: bool,
}

#[derive(Subcommand)]
enum AccountCommand {
    /// Create an account.
    Add {
        /// Its name.
        name: String,
    },
    /// Set the requests a minute each key of an account may make, unless an admin gave the
    /// key a limit of its own (new accounts: 600).
    RateLimit {
        /// The account (name or id).
        account: String,
        /// Requests a minute.
        #[arg(value_parser = clap::value_parser!(i32).range(1..))]
        per_minute: i32,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; the password is read from standard input.
    Add {
        /// The account (name or id).
        #[arg(long)]
        account: String,
        /// Email address (the login).
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long, default_value = "")]
        name: String,
        /// Admin (sees every device) rather than member.
        #[arg(long)]
        admin: bool,
    },
    /// Disable a user: no logins, and their keys stop working.
    Disable {
        /// Email address.
        email: String,
    },
    /// Let a member see devices, named with --device NAME or --device-id ID (repeatable).
    Grant {
        /// Email address.
        email: String,
        #[command(flatten)]
        devices: DeviceArgs,
    },
    /// Take devices away from a member (--device NAME or --device-id ID, repeatable).
    Revoke {
        /// Email address.
        email: String,
        #[command(flatten)]
        devices: DeviceArgs,
    },
}

/// Devices named explicitly, so that a device called "3" is never taken for device id 3.
#[derive(clap::Args)]
#[group(required = true, multiple = true)]
struct DeviceArgs {
    /// A device's exact name (repeat for several).
    #[arg(long = "device", value_name = "NAME")]
    names: Vec<String>,
    /// A device's id (repeat for several).
    #[arg(long = "device-id", value_name = "ID")]
    ids: Vec<i64>,
}

impl DeviceArgs {
    fn refs(self) -> Vec<admin::DeviceRef> {
        self.names
            .into_iter()
            .map(admin::DeviceRef::Name)
            .chain(self.ids.into_iter().map(admin::DeviceRef::Id))
            .collect()
    }
}

/// Runs the command line: parses the arguments, runs the command, and says how it ended.
pub async fn main() -> ExitCode {
    telemetry::init(std::io::stderr);
    telemetry::install_panic_hook();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let now = chrono::Utc::now();
    let command = cli.command.unwrap_or(Command::Serve(cli.serve));
    let retention = chrono::Duration::days(i64::from(cli.alert_retention_days.max(1)));
    if let Command::WebhookKey = command {
        println!(
            "{}",
            crate::webhooks::secrets::Vault::new_key_text().map_err(|e| e.to_string())?
        );
        return Ok(());
    }
    if let Command::Openapi { portal } = command {
        let which = if portal {
            openapi::Document::Portal
        } else {
            openapi::Document::Stock
        };
        print!("{}", openapi::spec_json(which));
        return Ok(());
    }
    if let Command::Serve(args) = command {
        let settings = Settings {
            bind: args.bind,
            secure_cookies: args.secure_cookies,
            trust_proxy: args.trust_proxy,
            session_ttl: chrono::Duration::hours(args.session_hours),
            // A binary built before the SPA still finds it next to a checkout.
            static_dir: args.static_dir.or_else(|| {
                let dist = PathBuf::from("frontend/dist");
                (crate::http::spa::EMBEDDED.is_empty() && dist.join("index.html").is_file())
                    .then_some(dist)
            }),
            workers: args.workers,
            db_max_connections: args.db_connections,
            db_analyze_every: (args.db_analyze_secs > 0)
                .then(|| std::time::Duration::from_secs(args.db_analyze_secs)),
            metrics_bind: args.metrics_bind,
            shutdown_grace: std::time::Duration::from_secs(args.shutdown_grace),
            demo: args.demo,
            public_url: args.public_url,
            secret_scanning_keys: args.secret_scanning_keys,
            webhook_key: match args.webhook_key.as_deref() {
                Some(text) => Some(crate::webhooks::secrets::Vault::parse_key(text).map(crate::webhooks::secrets::WebhookKey).ok_or(
                    "PARTLOGIC_WEBHOOK_KEY must be 32 bytes in base64 (partlogic webhook-key makes one)",
                )?),
                None => None,
            },
            webhook_allow_private: args.webhook_allow_private,
            alert_retention: retention,
            ..Settings::new(cli.database_url)
        };
        let app = Application::build(settings, Clock::system())
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(
            port = app.port(),
            metrics_port = app.metrics_port(),
            "PartLogic listening"
        );
        return app.run_until_stopped().await.map_err(|e| e.to_string());
    }

    // Migrations (and demo seeding) take the start-up lock, as the server does.
    let seeded = db::prepare(
        &cli.database_url,
        matches!(command, Command::Demo).then_some(demo::seed_empty),
    )
    .await
    .map_err(|e| e.to_string())?;
    let conn = db::connect(&cli.database_url, 2)
        .await
        .map_err(|e| e.to_string())?;
    match command {
        // Both returned above, before a database was opened.
        Command::Serve(_) | Command::Openapi { .. } | Command::WebhookKey => {}
        Command::Migrate => println!("migrations are up to date"),
        Command::Demo => {
            if seeded {
                println!(
                    "demo data seeded; log in as admin@acme.example / {}",
                    demo::PASSWORD
                );
            } else {
                return Err(
                    "the database has accounts already; demo data goes into an empty database"
                        .into(),
                );
            }
        }
        Command::Import {
            file,
            account,
            customer,
        } => {
            let acct = admin::find_account(&conn, &account)
                .await
                .map_err(|e| e.to_string())?;
            let f = std::fs::File::open(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            match import::import_csv(&conn, acct.id, f, customer.as_deref(), now, retention).await {
                Ok(r) => println!(
                    "imported {} rows: {} added, {} updated, {} unchanged, {} new devices",
                    r.rows, r.inserted, r.updated, r.unchanged, r.devices_created
                ),
                Err(import::ImportError::BadRows(rows)) => {
                    for (line, msg) in &rows {
                        eprintln!("line {line}: {msg}");
                    }
                    return Err(format!("{} bad rows; nothing was imported", rows.len()));
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        Command::Account {
            command: AccountCommand::Add { name },
        } => {
            let a = admin::add_account(&conn, &name, now)
                .await
                .map_err(|e| e.to_string())?;
            println!("account {} created (id {})", a.name, a.id);
        }
        Command::Account {
            command:
                AccountCommand::RateLimit {
                    account,
                    per_minute,
                },
        } => {
            let a = admin::find_account(&conn, &account)
                .await
                .map_err(|e| e.to_string())?;
            admin::set_account_rate_limit(&conn, a.id, per_minute)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "account {}: keys may make {per_minute} requests a minute unless they have their own limit",
                a.name
            );
        }
        Command::User { command } => match command {
            UserCommand::Add {
                account,
                email,
                name,
                admin: is_admin,
            } => {
                let acct = admin::find_account(&conn, &account)
                    .await
                    .map_err(|e| e.to_string())?;
                let mut password = String::new();
                std::io::stdin()
                    .read_to_string(&mut password)
                    .map_err(|e| e.to_string())?;
                let password = password.trim_end_matches(['\r', '\n']);
                let u = admin::add_user(&conn, acct.id, &email, &name, password, is_admin, now)
                    .await
                    .map_err(|e| e.to_string())?;
                println!("user {} created (id {}, {})", u.email, u.id, u.role);
            }
            UserCommand::Disable { email } => {
                let u = admin::disable_user(&conn, &email, now)
                    .await
                    .map_err(|e| e.to_string())?;
                println!("user {} disabled", u.email);
            }
            UserCommand::Grant { email, devices } => {
                let n = admin::grant(&conn, &email, &devices.refs())
                    .await
                    .map_err(|e| e.to_string())?;
                println!("{email} may now see {n} more devices");
            }
            UserCommand::Revoke { email, devices } => {
                let n = admin::revoke(&conn, &email, &devices.refs())
                    .await
                    .map_err(|e| e.to_string())?;
                println!("{n} devices taken from {email}");
            }
        },
    }
    Ok(())
}
