//! The Stock API's hot reads, behind names: a key by its digest (with its owner and reach), a
//! page of stock, a key's alerts. One set of SQL (`sql.rs`) serves both databases: SQLite reads
//! run through rusqlite on the calling worker thread (a short read costs a few microseconds
//! there, where a hop to sqlx's SQLite worker thread and back per row cost far more than the
//! query), PostgreSQL reads through the async pool. Writes stay with sea-orm.

mod orders_json;
mod postgres;
mod sql;
mod sqlite;

pub use orders_json::DeviceJson;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{DatabaseConnection, DbErr};

use partlogic_types::{AlertKind, KeyPermissions};

/// Which stock rows to read: the query parameters of `GET /api/stock`, parsed and checked
/// (by `stock::filters`).
#[derive(Debug, Clone, Default)]
pub struct StockFilters {
    /// Only these devices (each must be within the key's reach).
    pub devices: Vec<i64>,
    /// Only this item code.
    pub sku: Option<String>,
    /// Only rows below their minimum.
    pub below_min: bool,
    /// Only rows updated at or after this instant.
    pub updated_since: Option<DateTime<Utc>>,
    /// Page size; `None` streams every row.
    pub limit: Option<u64>,
    /// Only rows with a greater id (keyset paging).
    pub after: Option<i64>,
}

/// A page encoded as JSON, and the id to page on from when more follow.
#[derive(Debug)]
pub struct JsonPage {
    /// The JSON array.
    pub body: Vec<u8>,
    /// The last id on the page, when there are more.
    pub next: Option<i64>,
}

/// Which orders to list, newest first (parsed and checked by `orders::filters`).
#[derive(Debug, Clone, Default)]
pub struct OrdersQuery {
    /// The devices whose orders may be listed (at least one).
    pub devices: Vec<i64>,
    /// Only this status (as stored: `open`, `received`, `cancelled`).
    pub status: Option<String>,
    /// Only this reference.
    pub reference: Option<String>,
    /// Only orders created at or after this.
    pub created_since: Option<DateTime<Utc>>,
    /// Only orders with a smaller id (keyset paging).
    pub before: Option<i64>,
    /// How many at most.
    pub limit: u64,
}

/// One event of an order's history: action, actor kind, actor name, actor detail, when, what.
pub type RawOrderEvent = (
    String,
    String,
    String,
    String,
    DateTime<Utc>,
    Option<String>,
);

/// An order as a listing reads it, with its lines and history.
#[derive(Debug, Clone)]
pub struct RawOrder {
    /// Its id.
    pub id: i64,
    /// Its number in the account.
    pub number: i64,
    /// Its device.
    pub device_id: i64,
    /// Its status, as stored.
    pub status: String,
    /// The creator's reference.
    pub reference: Option<String>,
    /// Its note.
    pub note: Option<String>,
    /// Whether a user (not a key) created it.
    pub created_by_user: bool,
    /// The creator's name then.
    pub created_by_name: String,
    /// The creator's key prefix or email then.
    pub created_by_detail: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Its lines: SKU, description (the stock row's now), quantity, received.
    pub lines: Vec<(String, String, i64, i64)>,
    /// Its history, oldest first.
    pub events: Vec<RawOrderEvent>,
}

/// A stored rate limit as a count: the database allows any integer, a limit is at least 1.
pub(crate) fn rate_limit(stored: i64) -> u32 {
    u32::try_from(stored.max(1)).unwrap_or(u32::MAX)
}

/// A key as the database holds it, with its owner and what it reaches now.
#[derive(Debug, Clone)]
pub struct KeyRecord {
    /// The key's id.
    pub id: i64,
    /// Its account.
    pub account_id: i64,
    /// Its owner.
    pub owner_id: i64,
    /// Its name.
    pub name: String,
    /// Its display prefix.
    pub prefix: String,
    /// The stored digest (hex) of the secret this record was found by (empty for a secret
    /// rolled past).
    pub digest: String,
    /// Which of the key's secrets that is.
    pub secret: SecretKind,
    /// The first instant the previous secret is refused.
    pub previous_until: Option<DateTime<Utc>>,
    /// Requests a minute it may make (its own limit, or its account's default).
    pub rate_limit: u32,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// The last day it works.
    pub expires_on: Option<NaiveDate>,
    /// The zone of `expires_on`.
    pub time_zone: String,
    /// The first instant it is refused.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was retired.
    pub retired_at: Option<DateTime<Utc>>,
    /// Whether it has been used before.
    pub used_before: bool,
    /// Whether the owner is an admin (sees every device of the account).
    pub owner_is_admin: bool,
    /// Whether the owner is disabled.
    pub owner_disabled: bool,
    /// The owner's account (a key whose owner moved accounts is dead).
    pub owner_account_id: i64,
    /// What it may do besides reading stock.
    pub permissions: KeyPermissions,
    /// Its ticked devices that its owner may see now, by id.
    pub reach: Vec<ReachDevice>,
    /// `reach` as `/api/devices` answers it, encoded by the first request that needs it (a
    /// change to the key or its devices makes a new record).
    pub devices_json: std::sync::OnceLock<actix_web::web::Bytes>,
}

/// Which of a key's secrets a request used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// Its current secret.
    Current,
    /// The secret it had before it was last rolled: works until `previous_until`.
    Previous,
    /// A secret it was rolled past: refused as retired.
    RolledPast,
}

impl SecretKind {
    fn from_column(n: i64) -> Self {
        match n {
            0 => Self::Current,
            1 => Self::Previous,
            _ => Self::RolledPast,
        }
    }
}

/// A device a key reaches, with the names its rows are shown with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReachDevice {
    /// The device's id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its customer's name.
    pub customer: String,
}

/// A stock row as the database hands it over, borrowed (no copy per row); the device and
/// customer names come from the key's reach.
#[derive(Debug, Clone, Copy)]
pub struct RowView<'a> {
    /// The row's id.
    pub id: i64,
    /// Its device.
    pub device_id: i64,
    /// The item code.
    pub sku: &'a str,
    /// The description.
    pub description: &'a str,
    /// Reorder level.
    pub min_qty: i64,
    /// Fill-up level.
    pub max_qty: i64,
    /// Quantity on hand.
    pub physical: i64,
    /// Where in the device.
    pub location: &'a str,
    /// When it last changed, as PartLogic writes times (`2026-01-01T12:00:00.000Z`).
    pub updated_at: &'a str,
}

/// How a page of rows ended.
#[derive(Debug, Default, Clone, Copy)]
pub struct PageEnd {
    /// Rows handed over.
    pub rows: u64,
    /// The last id read: the next page starts after it.
    pub last_id: Option<i64>,
    /// Whether the page is as long as asked (more may follow).
    pub full: bool,
}

impl PageEnd {
    fn count(&mut self, id: i64) {
        self.rows += 1;
        self.last_id = Some(id);
    }

    fn finish(mut self, limit: u64) -> Self {
        self.full = self.rows == limit;
        self
    }
}

/// An alert as stored, with its row's item code and description.
#[derive(Debug, Clone)]
pub struct RawAlert {
    /// The alert's id.
    pub id: i64,
    /// Its stock row.
    pub stock_id: i64,
    /// Its device.
    pub device_id: i64,
    /// Which way it crossed.
    pub kind: AlertKind,
    /// Reorder level then.
    pub min_qty: i64,
    /// Fill-up level then.
    pub max_qty: i64,
    /// Quantity after.
    pub physical: i64,
    /// Quantity before.
    pub previous_physical: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// The row's item code.
    pub sku: String,
    /// The row's description.
    pub description: String,
}

/// Where the hot reads go.
#[derive(Clone)]
pub enum Store {
    /// A SQLite file, read through rusqlite.
    Sqlite(sqlite::SqliteReads),
    /// PostgreSQL, read through the pool.
    Postgres(postgres::PgReads),
}

impl Store {
    /// The store for the database at `url`, whose pool is `db`.
    pub fn new(url: &str, db: &DatabaseConnection) -> Self {
        match crate::db::sqlite_path(url) {
            Some(path) => Self::Sqlite(sqlite::SqliteReads::new(path)),
            None => Self::Postgres(postgres::PgReads::new(db.clone())),
        }
    }

    /// The key one of whose secrets has the digest `digest`, with its owner and reach, and
    /// which secret it is (one query, known or not).
    pub async fn key_record(&self, digest: &str) -> Result<Option<KeyRecord>, DbErr> {
        match self {
            Self::Sqlite(s) => s.key_record(digest),
            Self::Postgres(pg) => postgres::key_record(&pg.db, digest).await,
        }
    }

    /// Up to `limit` rows of `devices` after `after` (by id) that pass `f`, handed to `each`
    /// in id order as they are read.
    pub async fn stock_page(
        &self,
        devices: &[i64],
        f: &StockFilters,
        after: Option<i64>,
        limit: u64,
        each: &mut dyn FnMut(&RowView<'_>),
    ) -> Result<PageEnd, DbErr> {
        if devices.is_empty() {
            return Ok(PageEnd::default());
        }
        match self {
            Self::Sqlite(s) => s.stock_page(devices, f, after, limit, each),
            Self::Postgres(pg) => pg.stock_page(devices, f, after, limit, each).await,
        }
    }

    /// A page of orders, read through rusqlite on SQLite (where sqlx's worker-thread hop per
    /// row dominated a 100-order page: half the CPU in the profile); `None` on PostgreSQL, whose
    /// pool reads them as well as anything (the caller uses its own query there).
    pub fn orders(&self, q: &OrdersQuery) -> Result<Option<Vec<RawOrder>>, DbErr> {
        match self {
            Self::Sqlite(s) if !q.devices.is_empty() => s.orders(q).map(Some),
            Self::Sqlite(_) => Ok(Some(Vec::new())),
            Self::Postgres(_) => Ok(None),
        }
    }

    /// A page of orders as `GET /api/orders` answers it in JSON, encoded as it is read, with
    /// the id to page on from if there are more (`q.limit` is the page size plus one); `None`
    /// on PostgreSQL (the caller encodes [`Store::orders`]' views there).
    pub fn orders_json(
        &self,
        q: &OrdersQuery,
        device: DeviceJson<'_>,
    ) -> Result<Option<JsonPage>, DbErr> {
        match self {
            Self::Sqlite(s) if !q.devices.is_empty() => {
                let mut body = Vec::with_capacity(64 * 1024);
                let next = s.orders_json(q, device, &mut body)?;
                Ok(Some(JsonPage { body, next }))
            }
            Self::Sqlite(_) => Ok(Some(JsonPage {
                body: b"[]".to_vec(),
                next: None,
            })),
            Self::Postgres(_) => Ok(None),
        }
    }

    /// The newest `limit` alerts of `devices` since `since` (of `kind`, if given).
    pub async fn alerts(
        &self,
        devices: &[i64],
        kind: Option<AlertKind>,
        since: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<RawAlert>, DbErr> {
        if devices.is_empty() {
            return Ok(Vec::new());
        }
        match self {
            Self::Sqlite(s) => s.alerts(devices, kind, since, limit),
            Self::Postgres(pg) => postgres::alerts(&pg.db, devices, kind, since, limit).await,
        }
    }

    /// The SQLite reads, whose calls block: for callers that run them on a blocking thread.
    pub fn sqlite(&self) -> Option<&sqlite::SqliteReads> {
        match self {
            Self::Sqlite(s) => Some(s),
            Self::Postgres(_) => None,
        }
    }

    /// Stock reads waiting for a pooled connection now (PostgreSQL; SQLite reads need none).
    pub fn waiting(&self) -> usize {
        match self {
            Self::Sqlite(_) => 0,
            Self::Postgres(pg) => pg.waiting.load(std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// The key cache's generation (bumped by the database whenever a key, its owner or its
    /// devices change).
    pub async fn cache_generation(&self) -> Result<i64, DbErr> {
        match self {
            Self::Sqlite(s) => s.cache_generation(),
            Self::Postgres(pg) => postgres::cache_generation(&pg.db).await,
        }
    }
}

/// `2026-01-01T12:00:00.000Z`, the one way PartLogic writes times.
pub(crate) fn millis(t: &DateTime<Utc>) -> String {
    partlogic_types::rfc3339_millis::format(t)
}

/// [`millis`] into `out` (cleared first), without allocating for years 0 to 9999: pages write
/// one per row.
pub(crate) fn millis_into(t: &DateTime<Utc>, out: &mut String) {
    use chrono::{Datelike, Timelike};
    out.clear();
    let ms = t.timestamp_subsec_millis();
    let year = t.year();
    if !(0..=9999).contains(&year) || ms > 999 {
        out.push_str(&millis(t));
        return;
    }
    let digits = |out: &mut String, n: u32, width: u32| {
        for p in (0..width).rev() {
            out.push(char::from(b'0' + ((n / 10u32.pow(p)) % 10) as u8));
        }
    };
    digits(out, year as u32, 4);
    out.push('-');
    digits(out, t.month(), 2);
    out.push('-');
    digits(out, t.day(), 2);
    out.push('T');
    digits(out, t.hour(), 2);
    out.push(':');
    digits(out, t.minute(), 2);
    out.push(':');
    digits(out, t.second(), 2);
    out.push('.');
    digits(out, ms, 3);
    out.push('Z');
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};

    proptest::proptest! {
        /// The allocation-free writer agrees with the one way times are written.
        #[test]
        fn millis_into_is_millis(secs in -62_000_000_000i64..300_000_000_000, nanos in 0u32..2_000_000_000) {
            let Some(t) = Utc.timestamp_opt(secs, nanos).single() else { return Ok(()); };
            let t: DateTime<Utc> = t;
            let mut out = String::from("leftover");
            super::millis_into(&t, &mut out);
            proptest::prop_assert_eq!(out, super::millis(&t));
        }
    }
}
