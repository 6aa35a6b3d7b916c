//! SQLite reads through rusqlite, on the calling thread. Each worker thread keeps one read-only
//! connection per database file with its prepared statements, so a read is a few microseconds
//! of SQLite and nothing else: no thread hop, no per-row channel. In WAL mode readers never wait
//! for the writer and see every transaction committed before their statement began.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::fallible_streaming_iterator::FallibleStreamingIterator;
use rusqlite::{Connection, OpenFlags, Row, params_from_iter, types::Value};
use sea_orm::{DbErr, RuntimeErr};

use super::StockFilters;
use super::sql::{self, Arg};
use super::{KeyRecord, PageEnd, RawAlert, RawOrder, ReachDevice, RowView, SecretKind, rate_limit};
use partlogic_types::{AlertKind, KeyPermissions};

/// Reads from one SQLite file.
#[derive(Clone, Debug)]
pub struct SqliteReads {
    path: Arc<str>,
}

thread_local! {
    static CONNECTIONS: RefCell<HashMap<Arc<str>, Connection>> = RefCell::new(HashMap::new());
}

fn err(e: rusqlite::Error) -> DbErr {
    DbErr::Query(RuntimeErr::Internal(format!("sqlite: {e}")))
}

pub(super) fn bind(args: &[Arg]) -> Vec<Value> {
    args.iter()
        .map(|a| match a {
            Arg::Int(i) => Value::Integer(*i),
            Arg::Text(s) => Value::Text(s.clone()),
            Arg::Time(t) => Value::Text(sql::sqlite_time(t)),
        })
        .collect()
}

/// A stored time (`2026-10-30T03:23:58.483302172+00:00`) as PartLogic writes times
/// (`2026-10-30T03:23:58.483Z`), written into `buf` (reused from row to row). Times are stored
/// in UTC, so this is a matter of cutting and padding; anything else is parsed properly.
pub(crate) fn millis_into<'b>(stored: &str, buf: &'b mut String) -> &'b str {
    buf.clear();
    let b = stored.as_bytes();
    if b.len() >= 25 && stored.ends_with("+00:00") && b[10] == b'T' {
        let body = &stored[..stored.len() - 6];
        let (seconds, fraction) = body.split_at(19.min(body.len()));
        let digits = fraction.strip_prefix('.').unwrap_or("");
        if digits.bytes().all(|c| c.is_ascii_digit()) {
            buf.push_str(seconds);
            buf.push('.');
            for i in 0..3 {
                buf.push(char::from(*digits.as_bytes().get(i).unwrap_or(&b'0')));
            }
            buf.push('Z');
            return buf;
        }
    }
    match parse_time(stored) {
        Some(t) => buf.push_str(&super::millis(&t)),
        None => buf.push_str(stored),
    }
    buf
}

fn parse_time(stored: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(stored)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn time(row: &Row<'_>, i: usize) -> rusqlite::Result<DateTime<Utc>> {
    let text: String = row.get(i)?;
    parse_time(&text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            format!("not a time: {text}").into(),
        )
    })
}

fn opt_time(row: &Row<'_>, i: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    match row.get::<_, Option<String>>(i)? {
        None => Ok(None),
        Some(_) => time(row, i).map(Some),
    }
}

/// The stock row `r` is on, borrowing its text (`stamp` holds its time).
fn view<'r>(r: &'r Row<'_>, stamp: &'r mut String) -> rusqlite::Result<RowView<'r>> {
    Ok(RowView {
        id: r.get(0)?,
        device_id: r.get(1)?,
        sku: text(r, 2)?,
        description: text(r, 3)?,
        min_qty: r.get(4)?,
        max_qty: r.get(5)?,
        physical: r.get(6)?,
        location: text(r, 7)?,
        updated_at: millis_into(text(r, 8)?, stamp),
    })
}

pub(super) fn text<'r>(row: &'r Row<'_>, i: usize) -> rusqlite::Result<&'r str> {
    row.get_ref(i)?.as_str().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })
}

impl SqliteReads {
    /// Reads from the SQLite file at `path`.
    pub fn new(path: String) -> Self {
        Self {
            path: Arc::from(path),
        }
    }

    /// Runs `f` on this thread's connection to the file, opening it the first time.
    pub(super) fn with<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, DbErr> {
        CONNECTIONS.with(|cell| {
            let mut conns = cell.borrow_mut();
            if !conns.contains_key(&self.path) {
                let conn = Connection::open_with_flags(
                    &*self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(err)?;
                conn.busy_timeout(std::time::Duration::from_secs(5))
                    .map_err(err)?;
                // A page of many devices holds one statement per device (see `merged_page`).
                conn.set_prepared_statement_cache_capacity(sql::MAX_BRANCHES + 32);
                conns.insert(self.path.clone(), conn);
            }
            let conn = conns
                .get(&self.path)
                .ok_or_else(|| DbErr::Custom("sqlite connection vanished".to_owned()))?;
            f(conn).map_err(err)
        })
    }

    pub(super) fn key_record(&self, digest: &str) -> Result<Option<KeyRecord>, DbErr> {
        self.with(|c| {
            let mut stmt = c.prepare_cached(sql::KEY_BY_DIGEST)?;
            let mut rows = stmt.query([digest; sql::KEY_BY_DIGEST_ARGS])?;
            let Some(row) = rows.next()? else {
                return Ok(None);
            };
            let expires_on: Option<String> = row.get(7)?;
            let role: String = row.get(12)?;
            let mut key = KeyRecord {
                id: row.get(0)?,
                account_id: row.get(1)?,
                owner_id: row.get(2)?,
                name: row.get(3)?,
                prefix: row.get(4)?,
                digest: row.get(5)?,
                created_at: time(row, 6)?,
                expires_on: expires_on.and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()),
                time_zone: row.get(8)?,
                expires_at: opt_time(row, 9)?,
                retired_at: opt_time(row, 10)?,
                used_before: row.get(11)?,
                owner_is_admin: role == partlogic_entity::roles::ADMIN,
                owner_disabled: row.get(13)?,
                owner_account_id: row.get(14)?,
                rate_limit: rate_limit(row.get(15)?),
                previous_until: opt_time(row, 16)?,
                secret: SecretKind::from_column(row.get(17)?),
                permissions: KeyPermissions::from_scopes(&row.get::<_, String>(18)?),
                reach: Vec::new(),
                devices_json: Default::default(),
            };
            drop(rows);
            let mut stmt = c.prepare_cached(sql::KEY_REACH)?;
            let reach = stmt
                .query_map(
                    rusqlite::params![
                        key.id,
                        key.account_id,
                        i64::from(key.owner_is_admin),
                        key.owner_id
                    ],
                    |r| {
                        Ok(ReachDevice {
                            id: r.get(0)?,
                            name: r.get(1)?,
                            customer: r.get(2)?,
                        })
                    },
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            key.reach = reach;
            Ok(Some(key))
        })
    }

    pub(crate) fn stock_page(
        &self,
        devices: &[i64],
        f: &StockFilters,
        after: Option<i64>,
        limit: u64,
        each: &mut dyn FnMut(&RowView<'_>),
    ) -> Result<PageEnd, DbErr> {
        if (2..=sql::MAX_BRANCHES).contains(&devices.len()) {
            return self.merged_page(devices, f, after, limit, each);
        }
        let (text_sql, args) = sql::page_rows(devices, f, after, limit);
        self.with(|c| {
            let mut stmt = c.prepare_cached(&text_sql)?;
            let mut rows = stmt.query(params_from_iter(bind(&args)))?;
            let mut end = PageEnd::default();
            let mut stamp = String::with_capacity(32);
            while let Some(r) = rows.next()? {
                let view = view(r, &mut stamp)?;
                each(&view);
                end.count(view.id);
            }
            Ok(end.finish(limit))
        })
    }

    /// A page of several devices: one cursor per device's index range, merged by id here. The
    /// compound statement PostgreSQL merges well makes SQLite pass each row through one nested
    /// merge per branch (measured: a page from the first of 29 devices took 1.4× one from the
    /// last); a heap of cursors costs one seek per device and one step per row, wherever the rows
    /// come from.
    fn merged_page(
        &self,
        devices: &[i64],
        f: &StockFilters,
        after: Option<i64>,
        limit: u64,
        each: &mut dyn FnMut(&RowView<'_>),
    ) -> Result<PageEnd, DbErr> {
        self.with(|c| {
            let mut statements = Vec::with_capacity(devices.len());
            for (slot, d) in devices.iter().enumerate() {
                let (text_sql, args) = sql::device_rows(*d, f, after, limit, slot);
                statements.push((c.prepare_cached(&text_sql)?, args));
            }
            let mut cursors = Vec::with_capacity(devices.len());
            for (stmt, args) in &mut statements {
                cursors.push(stmt.query(params_from_iter(bind(args)))?);
            }
            let mut heads = BinaryHeap::with_capacity(cursors.len());
            for (i, rows) in cursors.iter_mut().enumerate() {
                if let Some(r) = rows.next()? {
                    heads.push(Reverse((r.get::<_, i64>(0)?, i)));
                }
            }
            let mut end = PageEnd::default();
            let mut stamp = String::with_capacity(32);
            let mut left = limit;
            while left > 0
                && let Some(Reverse((id, i))) = heads.pop()
            {
                let rows = &mut cursors[i];
                if let Some(r) = rows.get() {
                    each(&view(r, &mut stamp)?);
                    end.count(id);
                    left -= 1;
                }
                if let Some(r) = rows.next()? {
                    heads.push(Reverse((r.get::<_, i64>(0)?, i)));
                }
            }
            Ok(end.finish(limit))
        })
    }

    pub(super) fn alerts(
        &self,
        devices: &[i64],
        kind: Option<AlertKind>,
        since: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<RawAlert>, DbErr> {
        let (text, args) = sql::alerts(devices, kind, Arg::Time(since), limit);
        self.with(|c| {
            let mut stmt = c.prepare_cached(&text)?;
            let rows = stmt
                .query_map(params_from_iter(bind(&args)), |r| {
                    let kind: String = r.get(3)?;
                    Ok((
                        kind,
                        RawAlert {
                            id: r.get(0)?,
                            stock_id: r.get(1)?,
                            device_id: r.get(2)?,
                            kind: AlertKind::BelowMin,
                            min_qty: r.get(4)?,
                            max_qty: r.get(5)?,
                            physical: r.get(6)?,
                            previous_physical: r.get(7)?,
                            at: time(r, 8)?,
                            sku: r.get(9)?,
                            description: r.get(10)?,
                        },
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows
                .into_iter()
                .filter_map(|(kind, mut a)| {
                    a.kind = AlertKind::parse(&kind)?;
                    Some(a)
                })
                .collect())
        })
    }

    pub(super) fn orders(&self, q: &super::OrdersQuery) -> Result<Vec<RawOrder>, DbErr> {
        let (text, args) = sql::orders(q);
        self.with(|c| {
            let mut stmt = c.prepare_cached(&text)?;
            let mut orders = stmt
                .query_map(params_from_iter(bind(&args)), |r| {
                    Ok(RawOrder {
                        id: r.get(0)?,
                        number: r.get(1)?,
                        device_id: r.get(2)?,
                        status: r.get(3)?,
                        reference: r.get(4)?,
                        note: r.get(5)?,
                        created_by_user: r.get(6)?,
                        created_by_name: r.get(7)?,
                        created_by_detail: r.get(8)?,
                        created_at: time(r, 9)?,
                        updated_at: time(r, 10)?,
                        lines: Vec::new(),
                        events: Vec::new(),
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            if orders.is_empty() {
                return Ok(orders);
            }
            let ids: Vec<Value> = orders.iter().map(|o| Value::Integer(o.id)).collect();
            let at: HashMap<i64, usize> =
                orders.iter().enumerate().map(|(i, o)| (o.id, i)).collect();
            let mut stmt = c.prepare_cached(&sql::order_lines(ids.len()))?;
            let mut rows = stmt.query(params_from_iter(ids.iter()))?;
            while let Some(r) = rows.next()? {
                if let Some(&i) = at.get(&r.get::<_, i64>(0)?) {
                    orders[i]
                        .lines
                        .push((r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?));
                }
            }
            drop(rows);
            let mut stmt = c.prepare_cached(&sql::order_events(ids.len()))?;
            let mut rows = stmt.query(params_from_iter(ids.iter()))?;
            while let Some(r) = rows.next()? {
                if let Some(&i) = at.get(&r.get::<_, i64>(0)?) {
                    orders[i].events.push((
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        time(r, 5)?,
                        r.get(6)?,
                    ));
                }
            }
            Ok(orders)
        })
    }

    pub(super) fn cache_generation(&self) -> Result<i64, DbErr> {
        self.with(|c| c.query_row(sql::CACHE_GENERATION, [], |r| r.get(0)))
    }
}

#[cfg(test)]
mod tests {
    fn millis_text(stored: &str) -> String {
        super::millis_into(stored, &mut String::new()).to_owned()
    }

    #[test]
    fn stored_times_become_millis() {
        assert_eq!(
            millis_text("2026-10-30T03:23:58.483302172+00:00"),
            "2026-10-30T03:23:58.483Z"
        );
        assert_eq!(
            millis_text("2026-10-30T03:23:58+00:00"),
            "2026-10-30T03:23:58.000Z"
        );
        assert_eq!(
            millis_text("2026-10-30T03:23:58.5+00:00"),
            "2026-10-30T03:23:58.500Z"
        );
        assert_eq!(
            millis_text("2026-10-30T05:23:58.5+02:00"),
            "2026-10-30T03:23:58.500Z"
        );
    }
}
