//! PostgreSQL reads through the async pool, with the same SQL as SQLite.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

use super::StockFilters;
use super::sql::{self, Arg};
use super::{KeyRecord, PageEnd, RawAlert, ReachDevice, RowView, SecretKind};
use partlogic_types::{AlertKind, KeyPermissions};

fn statement(text: &str, args: Vec<Arg>) -> Statement {
    let values: Vec<sea_orm::Value> = args
        .into_iter()
        .map(|a| match a {
            Arg::Int(i) => i.into(),
            Arg::Text(s) => s.into(),
            Arg::Time(t) => t.into(),
        })
        .collect();
    Statement::from_sql_and_values(DbBackend::Postgres, sql::numbered(text), values)
}

pub(super) async fn key_record(
    db: &DatabaseConnection,
    digest: &str,
) -> Result<Option<KeyRecord>, DbErr> {
    let Some(r) = db
        .query_one_raw(statement(
            sql::KEY_BY_DIGEST,
            vec![Arg::Text(digest.to_owned()); sql::KEY_BY_DIGEST_ARGS],
        ))
        .await?
    else {
        return Ok(None);
    };
    let role: String = r.try_get_by_index(12)?;
    let expires_on: Option<NaiveDate> = r.try_get_by_index(7)?;
    let mut key = KeyRecord {
        id: r.try_get_by_index(0)?,
        account_id: r.try_get_by_index(1)?,
        owner_id: r.try_get_by_index(2)?,
        name: r.try_get_by_index(3)?,
        prefix: r.try_get_by_index(4)?,
        digest: r.try_get_by_index(5)?,
        created_at: r.try_get_by_index(6)?,
        expires_on,
        time_zone: r.try_get_by_index(8)?,
        expires_at: r.try_get_by_index(9)?,
        retired_at: r.try_get_by_index(10)?,
        used_before: r.try_get_by_index(11)?,
        owner_is_admin: role == partlogic_entity::roles::ADMIN,
        owner_disabled: r.try_get_by_index(13)?,
        owner_account_id: r.try_get_by_index(14)?,
        rate_limit: super::rate_limit(r.try_get_by_index::<i32>(15)?.into()),
        previous_until: r.try_get_by_index(16)?,
        secret: SecretKind::from_column(r.try_get_by_index::<i32>(17)?.into()),
        permissions: KeyPermissions::from_scopes(&r.try_get_by_index::<String>(18)?),
        reach: Vec::new(),
        devices_json: Default::default(),
    };
    let rows = db
        .query_all_raw(statement(
            sql::KEY_REACH,
            vec![
                Arg::Int(key.id),
                Arg::Int(key.account_id),
                Arg::Int(i64::from(key.owner_is_admin)),
                Arg::Int(key.owner_id),
            ],
        ))
        .await?;
    key.reach = rows
        .iter()
        .map(|r| {
            Ok(ReachDevice {
                id: r.try_get_by_index(0)?,
                name: r.try_get_by_index(1)?,
                customer: r.try_get_by_index(2)?,
            })
        })
        .collect::<Result<_, DbErr>>()?;
    Ok(Some(key))
}

/// PostgreSQL's hot reads: the pool, and how many reads wait for one of its connections.
#[derive(Clone)]
pub struct PgReads {
    pub(super) db: DatabaseConnection,
    pub(super) waiting: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl PgReads {
    pub(super) fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            waiting: Default::default(),
        }
    }

    /// A page through sqlx itself rather than sea-orm's rows: each row is encoded straight
    /// from the wire buffer (text borrowed, nothing copied into `String`s).
    pub(super) async fn stock_page(
        &self,
        devices: &[i64],
        f: &StockFilters,
        after: Option<i64>,
        limit: u64,
        each: &mut dyn FnMut(&RowView<'_>),
    ) -> Result<PageEnd, DbErr> {
        use std::sync::atomic::Ordering;
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let conn = self.db.get_postgres_connection_pool().acquire().await;
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        let mut conn = conn.map_err(failed)?;
        stock_page(&mut conn, devices, f, after, limit, each).await
    }
}

use crate::db::sqlx_failed as failed;

async fn stock_page(
    conn: &mut sea_orm::sqlx::PgConnection,
    devices: &[i64],
    f: &StockFilters,
    after: Option<i64>,
    limit: u64,
    each: &mut dyn FnMut(&RowView<'_>),
) -> Result<PageEnd, DbErr> {
    use futures_util::TryStreamExt;
    use sea_orm::sqlx::{self, Row as _};

    let (text, args) = sql::page_rows(devices, f, after, limit);
    let text = sql::numbered(&text);
    // Only constants and `$n` placeholders make up the text; every value is bound.
    let mut query = sqlx::query(sqlx::AssertSqlSafe(text.as_str()));
    for a in args {
        query = match a {
            Arg::Int(i) => query.bind(i),
            Arg::Text(t) => query.bind(t),
            Arg::Time(t) => query.bind(t),
        };
    }
    let mut rows = query.fetch(&mut *conn);
    let mut end = PageEnd::default();
    let mut stamp = String::with_capacity(32);
    while let Some(r) = rows.try_next().await.map_err(failed)? {
        let at: DateTime<Utc> = r.try_get(8).map_err(failed)?;
        super::millis_into(&at, &mut stamp);
        let id: i64 = r.try_get(0).map_err(failed)?;
        each(&RowView {
            id,
            device_id: r.try_get(1).map_err(failed)?,
            sku: r.try_get(2).map_err(failed)?,
            description: r.try_get(3).map_err(failed)?,
            min_qty: r.try_get(4).map_err(failed)?,
            max_qty: r.try_get(5).map_err(failed)?,
            physical: r.try_get(6).map_err(failed)?,
            location: r.try_get(7).map_err(failed)?,
            updated_at: &stamp,
        });
        end.count(id);
    }
    Ok(end.finish(limit))
}

pub(super) async fn alerts(
    db: &DatabaseConnection,
    devices: &[i64],
    kind: Option<AlertKind>,
    since: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<RawAlert>, DbErr> {
    let (text, args) = sql::alerts(devices, kind, Arg::Time(since), limit);
    let rows = db.query_all_raw(statement(&text, args)).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let kind: String = r.try_get_by_index(3)?;
        let Some(kind) = AlertKind::parse(&kind) else {
            continue;
        };
        out.push(RawAlert {
            id: r.try_get_by_index(0)?,
            stock_id: r.try_get_by_index(1)?,
            device_id: r.try_get_by_index(2)?,
            kind,
            min_qty: r.try_get_by_index(4)?,
            max_qty: r.try_get_by_index(5)?,
            physical: r.try_get_by_index(6)?,
            previous_physical: r.try_get_by_index(7)?,
            at: r.try_get_by_index(8)?,
            sku: r.try_get_by_index(9)?,
            description: r.try_get_by_index(10)?,
        });
    }
    Ok(out)
}

pub(super) async fn cache_generation(db: &DatabaseConnection) -> Result<i64, DbErr> {
    let r = db
        .query_one_raw(statement(sql::CACHE_GENERATION, Vec::new()))
        .await?
        .ok_or_else(|| DbErr::Custom("no key cache generation row".to_owned()))?;
    r.try_get_by_index(0)
}
