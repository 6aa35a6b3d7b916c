//! PostgreSQL reads through the async pool, with the same SQL as SQLite.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, QueryResult, Statement};

use super::sql::{self, Arg};
use super::{KeyRecord, PageEnd, RawAlert, ReachDevice, RowView};
use crate::stock::StockFilters;
use partlogic_types::AlertKind;

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

/// Hands a row to `each`.
fn row_to(r: &QueryResult, each: &mut dyn FnMut(&RowView<'_>)) -> Result<i64, DbErr> {
    let at: DateTime<Utc> = r.try_get_by_index(8)?;
    let (sku, description, location): (String, String, String) = (
        r.try_get_by_index(2)?,
        r.try_get_by_index(3)?,
        r.try_get_by_index(7)?,
    );
    let id: i64 = r.try_get_by_index(0)?;
    each(&RowView {
        id,
        device_id: r.try_get_by_index(1)?,
        sku: &sku,
        description: &description,
        min_qty: r.try_get_by_index(4)?,
        max_qty: r.try_get_by_index(5)?,
        physical: r.try_get_by_index(6)?,
        location: &location,
        updated_at: &super::millis(&at),
    });
    Ok(id)
}

pub(super) async fn key_record(
    db: &DatabaseConnection,
    digest: &str,
) -> Result<Option<KeyRecord>, DbErr> {
    let Some(r) = db
        .query_one_raw(statement(
            sql::KEY_BY_DIGEST,
            vec![Arg::Text(digest.to_owned())],
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
        reach: Vec::new(),
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

pub(super) async fn stock_page(
    db: &DatabaseConnection,
    devices: &[i64],
    f: &StockFilters,
    after: Option<i64>,
    limit: u64,
    each: &mut dyn FnMut(&RowView<'_>),
) -> Result<PageEnd, DbErr> {
    let (text, args) = sql::page_rows(devices, f, after, limit);
    let rows = db.query_all_raw(statement(&text, args)).await?;
    let mut end = PageEnd::default();
    for r in &rows {
        let id = row_to(r, each)?;
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
