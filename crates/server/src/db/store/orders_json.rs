//! A page of orders as JSON, encoded on SQLite straight from rusqlite's buffers.
//!
//! The profile of `GET /api/orders?limit=100` (100,000 orders, SQLite) showed a page spending
//! most of its time outside SQLite: a `String` per text cell, a parsed time per timestamp, the
//! `Order` views, then serde walking them again (malloc and free alone a fifth of the CPU).
//! Here three statements are stepped side by side (the orders newest first, their lines, their
//! history, all in the same order) and each cell is written out as it is read, the way stock
//! pages are (`stock::encode`, with the same `domain::cells`). The bytes are serde's for `Vec<Order>` exactly: tests compare
//! them with serde's output and with the order's own view.

use rusqlite::{Connection, Row, params_from_iter};

use super::OrdersQuery;
use super::sql;
use super::sqlite::{SqliteReads, bind, millis_into, text};
use crate::domain::cells::{int, json_str};
use partlogic_types::{OrderAction, OrderStatus};
use sea_orm::DbErr;

/// Writes a device as `GET /api/orders` shows it (`{"id":…,"name":…,"customer":…}`).
pub type DeviceJson<'a> = &'a dyn Fn(i64, &mut Vec<u8>);

impl SqliteReads {
    /// The page `q` asks for (its `limit` is the page size plus one) as a JSON array into
    /// `out`; returns the id to page on from when there are more.
    pub(super) fn orders_json(
        &self,
        q: &OrdersQuery,
        device: DeviceJson<'_>,
        out: &mut Vec<u8>,
    ) -> Result<Option<i64>, DbErr> {
        self.with(|c| encode(c, q, device, out))
    }
}

fn opt_str(out: &mut Vec<u8>, r: &Row<'_>, i: usize) -> rusqlite::Result<()> {
    match r.get_ref(i)? {
        rusqlite::types::ValueRef::Null => out.extend_from_slice(b"null"),
        _ => json_str(out, text(r, i)?),
    }
    Ok(())
}

fn time(out: &mut Vec<u8>, r: &Row<'_>, i: usize, stamp: &mut String) -> rusqlite::Result<()> {
    json_str(out, millis_into(text(r, i)?, stamp));
    Ok(())
}

/// `{"kind":"user","name":…,"email":…}` or `{"kind":"key","name":…,"prefix":…}`.
fn actor(out: &mut Vec<u8>, user: bool, name: &str, detail: &str) {
    out.extend_from_slice(if user {
        b"{\"kind\":\"user\",\"name\":"
    } else {
        b"{\"kind\":\"key\",\"name\":"
    });
    json_str(out, name);
    out.extend_from_slice(if user {
        b",\"email\":"
    } else {
        b",\"prefix\":"
    });
    json_str(out, detail);
    out.push(b'}');
}

/// The items written to `scratch` (each starting at its mark), last first, comma-separated.
fn in_order(out: &mut Vec<u8>, scratch: &[u8], marks: &[usize]) {
    let mut end = scratch.len();
    for (k, &start) in marks.iter().enumerate().rev() {
        if k + 1 < marks.len() {
            out.push(b',');
        }
        out.extend_from_slice(&scratch[start..end]);
        end = start;
    }
}

fn encode(
    c: &Connection,
    q: &OrdersQuery,
    device: DeviceJson<'_>,
    out: &mut Vec<u8>,
) -> rusqlite::Result<Option<i64>> {
    // One read transaction: the three statements see one state of the database even when one
    // of them finishes (and so would end an implicit one) before the others.
    let read = c.unchecked_transaction()?;
    let next = encode_in(c, q, device, out)?;
    read.commit()?;
    Ok(next)
}

fn encode_in(
    c: &Connection,
    q: &OrdersQuery,
    device: DeviceJson<'_>,
    out: &mut Vec<u8>,
) -> rusqlite::Result<Option<i64>> {
    use std::io::Write as _;
    let ([orders, lines, events], args) = sql::orders_side_by_side(q);
    let args = bind(&args);
    let (mut s1, mut s2, mut s3) = (
        c.prepare_cached(&orders)?,
        c.prepare_cached(&lines)?,
        c.prepare_cached(&events)?,
    );
    let mut orders = s1.query(params_from_iter(args.iter()))?;
    let mut lines = s2.query(params_from_iter(args.iter()))?;
    let mut events = s3.query(params_from_iter(args.iter()))?;
    let page = q.limit.saturating_sub(1);
    let mut stamp = String::with_capacity(32);
    let (mut scratch, mut marks) = (Vec::with_capacity(1024), Vec::with_capacity(8));
    let (mut written, mut last) = (0u64, None);
    let mut line = lines.next()?;
    let mut event = events.next()?;
    out.push(b'[');
    while let Some(o) = orders.next()? {
        if written == page {
            // The one past the page: there are more.
            out.push(b']');
            return Ok(last);
        }
        let id: i64 = o.get(0)?;
        if written > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"id\":");
        int(out, id);
        let _ = write!(
            out,
            ",\"number\":\"{}\",\"status\":\"",
            partlogic_types::order_number(o.get(1)?)
        );
        let status = OrderStatus::parse(text(o, 3)?).unwrap_or(OrderStatus::Open);
        out.extend_from_slice(status.as_str().as_bytes());
        out.extend_from_slice(b"\",\"device\":");
        device(o.get(2)?, out);
        out.extend_from_slice(b",\"lines\":[");
        // Last line first from the database: each is written to `scratch`, then in order.
        scratch.clear();
        marks.clear();
        while let Some(l) = line {
            let of: i64 = l.get(0)?;
            if of < id {
                break;
            }
            if of == id {
                marks.push(scratch.len());
                let (quantity, received): (i64, i64) = (l.get(3)?, l.get(4)?);
                scratch.extend_from_slice(b"{\"sku\":");
                json_str(&mut scratch, text(l, 1)?);
                scratch.extend_from_slice(b",\"description\":");
                json_str(&mut scratch, text(l, 2)?);
                scratch.extend_from_slice(b",\"quantity\":");
                int(&mut scratch, quantity);
                scratch.extend_from_slice(b",\"received\":");
                int(&mut scratch, received);
                scratch.extend_from_slice(b",\"outstanding\":");
                int(&mut scratch, quantity - received);
                scratch.push(b'}');
            }
            line = lines.next()?;
        }
        in_order(out, &scratch, &marks);
        out.extend_from_slice(b"],\"reference\":");
        opt_str(out, o, 4)?;
        out.extend_from_slice(b",\"note\":");
        opt_str(out, o, 5)?;
        out.extend_from_slice(b",\"created_by\":");
        actor(out, o.get(6)?, text(o, 7)?, text(o, 8)?);
        out.extend_from_slice(b",\"created_at\":");
        time(out, o, 9, &mut stamp)?;
        out.extend_from_slice(b",\"updated_at\":");
        time(out, o, 10, &mut stamp)?;
        out.extend_from_slice(b",\"events\":[");
        scratch.clear();
        marks.clear();
        while let Some(e) = event {
            let of: i64 = e.get(0)?;
            if of < id {
                break;
            }
            if of == id {
                marks.push(scratch.len());
                let action = OrderAction::parse(text(e, 1)?).unwrap_or(OrderAction::Created);
                scratch.extend_from_slice(b"{\"action\":\"");
                scratch.extend_from_slice(action.as_str().as_bytes());
                scratch.extend_from_slice(b"\",\"actor\":");
                actor(
                    &mut scratch,
                    text(e, 2)? == "user",
                    text(e, 3)?,
                    text(e, 4)?,
                );
                scratch.extend_from_slice(b",\"at\":");
                time(&mut scratch, e, 5, &mut stamp)?;
                scratch.extend_from_slice(b",\"detail\":");
                opt_str(&mut scratch, e, 6)?;
                scratch.push(b'}');
            }
            event = events.next()?;
        }
        in_order(out, &scratch, &marks);
        out.extend_from_slice(b"]}");
        written += 1;
        last = Some(id);
    }
    out.push(b']');
    Ok(None)
}
