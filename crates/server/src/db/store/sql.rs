//! The hot reads' SQL, written once with `?` placeholders (PostgreSQL gets `$1…` from
//! [`numbered`]), and the values bound to them, in order.

use chrono::{DateTime, SecondsFormat, Utc};

use super::StockFilters;
use partlogic_types::AlertKind;

/// A value bound to a placeholder.
#[derive(Debug, Clone)]
pub(super) enum Arg {
    /// An integer.
    Int(i64),
    /// Text.
    Text(String),
    /// An instant.
    Time(DateTime<Utc>),
}

/// An instant as sqlx writes it into SQLite (RFC 3339, `+00:00`, as many fraction digits as it
/// has), so that text comparisons in SQLite order it exactly as the stored values.
pub(super) fn sqlite_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// `sql` with its `?` placeholders numbered (`$1`, `$2`, …), for PostgreSQL.
pub(super) fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// Beyond this many devices, a page walks the rows of all of them at once (ids in order,
/// skipping other devices' rows) instead of one index range per device: SQLite allows 500
/// branches in a compound query, and keys reaching hundreds of devices are rare.
pub(super) const MAX_BRANCHES: usize = 200;

// Every LIMIT is written `+?`: SQLite lets a bare `LIMIT ?` steer the plan, and then prepares
// the statement afresh whenever the bound limit changes (measured: every call, at up to
// 0.4 ms for a page's compound query); as an expression it is just a value.

/// The columns of a stock row, in [`super::RawRow`] order.
pub(super) const ROW_COLUMNS: &str =
    "id, device_id, sku, description, min_qty, max_qty, physical, location, updated_at";

fn filter_sql(f: &StockFilters, args: &mut Vec<Arg>) -> String {
    let mut sql = String::new();
    if let Some(sku) = &f.sku {
        sql.push_str(" AND sku = ?");
        args.push(Arg::Text(sku.clone()));
    }
    if f.below_min {
        sql.push_str(" AND physical < min_qty");
    }
    if let Some(t) = f.updated_since {
        sql.push_str(" AND updated_at >= ?");
        args.push(Arg::Time(t));
    }
    sql
}

/// The first `limit` rows of `devices` after `after`, whole, by id, in one statement (how
/// PostgreSQL reads pages; SQLite reads several devices through [`device_rows`]).
///
/// One device is one index range: ordered by `device_id, id` (the same order, as the device is
/// fixed) so that only the `(device_id, id)` index can serve it; ordered by `id` alone, the
/// planner may walk the primary key and skip other devices' rows, which costs the rows after
/// the cursor. Several devices are one such range each under `ORDER BY id LIMIT n`, which
/// PostgreSQL runs as a Merge Append: each range is read only as far as the page needs, so the
/// cost grows with the page and the number of devices, never with the table. Past
/// [`MAX_BRANCHES`] devices, one walk by id over all of them.
pub(super) fn page_rows(
    devices: &[i64],
    f: &StockFilters,
    after: Option<i64>,
    limit: u64,
) -> (String, Vec<Arg>) {
    if let [device] = devices {
        return device_rows(*device, f, after, limit, 0);
    }
    let after = after.unwrap_or(0);
    let mut args = Vec::new();
    let sql = if devices.len() > MAX_BRANCHES {
        let marks = vec!["?"; devices.len()].join(", ");
        args.extend(devices.iter().map(|d| Arg::Int(*d)));
        args.push(Arg::Int(after));
        let filters = filter_sql(f, &mut args);
        format!(
            "SELECT {ROW_COLUMNS} FROM stock WHERE device_id IN ({marks}) AND id > ?{filters} ORDER BY id LIMIT +?"
        )
    } else {
        let mut branches = Vec::with_capacity(devices.len());
        for d in devices {
            args.push(Arg::Int(*d));
            args.push(Arg::Int(after));
            let filters = filter_sql(f, &mut args);
            args.push(Arg::Int(limit as i64));
            branches.push(format!(
                "(SELECT {ROW_COLUMNS} FROM stock WHERE device_id = ? AND id > ?{filters} ORDER BY device_id, id LIMIT +?)"
            ));
        }
        format!("{} ORDER BY id LIMIT +?", branches.join(" UNION ALL "))
    };
    args.push(Arg::Int(limit as i64));
    (sql, args)
}

/// One device's first `limit` rows after `after`, by id: one range of the `(device_id, id)`
/// index (see [`page_rows`]). `slot` only makes the text distinct, so that SQLite can hold one
/// prepared statement per device of a page at once (its cache keeps one statement per text).
pub(super) fn device_rows(
    device: i64,
    f: &StockFilters,
    after: Option<i64>,
    limit: u64,
    slot: usize,
) -> (String, Vec<Arg>) {
    let mut args = vec![Arg::Int(device), Arg::Int(after.unwrap_or(0))];
    let filters = filter_sql(f, &mut args);
    args.push(Arg::Int(limit as i64));
    let tag = if slot == 0 {
        String::new()
    } else {
        format!(" /* {slot} */")
    };
    (
        format!(
            "SELECT {ROW_COLUMNS} FROM stock WHERE device_id = ? AND id > ?{filters} ORDER BY device_id, id LIMIT +?{tag}"
        ),
        args,
    )
}

/// A key by the digest of one of its secrets, with its owner, its effective rate limit and its
/// previous secret's end: its current secret, the one it had before it was last rolled, or one
/// it was rolled past (`retired_digests`). Column 5 is the matched digest (empty for a secret
/// rolled past), column 17 which secret matched: 0 current, 1 previous, 2 rolled past; column 18 its
/// permissions' scope words. Every
/// `?` is the same digest. Each branch of the `OR` is an index lookup (the subquery, on a
/// primary key, yields at most one id and runs once: PostgreSQL makes the `OR` a bitmap of
/// three index scans, SQLite three index lookups).
pub(super) const KEY_BY_DIGEST: &str = "SELECT k.id, k.account_id, k.user_id, k.name, k.prefix, \
     CASE WHEN k.digest = ? THEN k.digest WHEN k.previous_digest = ? THEN k.previous_digest ELSE '' END, \
     k.created_at, k.expires_on, k.time_zone, k.expires_at, k.retired_at, \
     k.last_used_at IS NOT NULL, u.role, u.disabled_at IS NOT NULL, u.account_id, \
     COALESCE(k.rate_limit_per_minute, a.rate_limit_per_minute), k.previous_until, \
     CASE WHEN k.digest = ? THEN 0 WHEN k.previous_digest = ? THEN 1 ELSE 2 END, k.permissions \
     FROM api_keys k JOIN users u ON u.id = k.user_id JOIN accounts a ON a.id = k.account_id \
     WHERE k.digest = ? OR k.previous_digest = ? \
     OR k.id = (SELECT key_id FROM retired_digests WHERE digest = ?)";

/// How many times [`KEY_BY_DIGEST`] takes the digest.
pub(super) const KEY_BY_DIGEST_ARGS: usize = 7;

/// A key's reach: its ticked devices of its account that its owner may see, by id, with
/// their names. The owner's grants count only for members (`?` = 1 for admins).
pub(super) const KEY_REACH: &str = "SELECT d.id, d.name, c.name FROM api_key_devices kd \
     JOIN devices d ON d.id = kd.device_id JOIN customers c ON c.id = d.customer_id \
     WHERE kd.key_id = ? AND d.account_id = ? \
     AND (? = 1 OR d.id IN (SELECT device_id FROM user_devices WHERE user_id = ?)) \
     ORDER BY d.id";

/// The newest `limit` alerts of `devices` since `since`.
pub(super) fn alerts(
    devices: &[i64],
    kind: Option<AlertKind>,
    since: Arg,
    limit: u64,
) -> (String, Vec<Arg>) {
    let marks = vec!["?"; devices.len()].join(", ");
    let mut args: Vec<Arg> = devices.iter().map(|d| Arg::Int(*d)).collect();
    args.push(since);
    let mut sql = format!(
        "SELECT a.id, a.stock_id, a.device_id, a.kind, a.min_qty, a.max_qty, a.physical, \
         a.previous_physical, a.at, s.sku, s.description FROM stock_alerts a \
         JOIN stock s ON s.id = a.stock_id WHERE a.device_id IN ({marks}) AND a.at >= ?"
    );
    if let Some(k) = kind {
        sql.push_str(" AND a.kind = ?");
        args.push(Arg::Text(k.as_str().to_owned()));
    }
    sql.push_str(" ORDER BY a.id DESC LIMIT +?");
    args.push(Arg::Int(limit as i64));
    (sql, args)
}

/// The key cache's generation.
pub(super) const CACHE_GENERATION: &str =
    "SELECT generation FROM key_cache_generation WHERE id = 1";

/// The columns of an order a page shows, in [`orders`]'s order.
const ORDER_COLUMNS: &str = "id, number, device_id, status, reference, note, \
     created_by_user_id IS NOT NULL, created_by_name, created_by_detail, created_at, updated_at";

/// A page of orders of `q.devices`, newest first (`q.limit` of them).
pub(super) fn orders(q: &super::OrdersQuery) -> (String, Vec<Arg>) {
    let (tail, args) = orders_tail(q);
    (format!("SELECT {ORDER_COLUMNS} {tail}"), args)
}

/// `FROM orders WHERE … ORDER BY id DESC LIMIT` for `q`, with its arguments.
fn orders_tail(q: &super::OrdersQuery) -> (String, Vec<Arg>) {
    let marks = vec!["?"; q.devices.len()].join(", ");
    let mut args: Vec<Arg> = q.devices.iter().map(|d| Arg::Int(*d)).collect();
    let mut sql = format!("FROM orders WHERE device_id IN ({marks})");
    if let Some(s) = &q.status {
        sql.push_str(" AND status = ?");
        args.push(Arg::Text(s.clone()));
    }
    if let Some(r) = &q.reference {
        sql.push_str(" AND reference = ?");
        args.push(Arg::Text(r.clone()));
    }
    if let Some(t) = q.created_since {
        sql.push_str(" AND created_at >= ?");
        args.push(Arg::Time(t));
    }
    if let Some(b) = q.before {
        sql.push_str(" AND id < ?");
        args.push(Arg::Int(b));
    }
    sql.push_str(" ORDER BY id DESC LIMIT +?");
    args.push(Arg::Int(q.limit as i64));
    (sql, args)
}

/// A page of orders as three queries read side by side, each newest order first and each
/// bound to the same arguments: the orders, their lines and their history, the last two over
/// the ids of the first. Lines and history come last first within an order: that way each is
/// one backward walk of its index, where the natural order made SQLite sort every page.
pub(super) fn orders_side_by_side(q: &super::OrdersQuery) -> ([String; 3], Vec<Arg>) {
    let (tail, args) = orders_tail(q);
    (
        [
            format!("SELECT {ORDER_COLUMNS} {tail}"),
            format!(
                "SELECT l.order_id, l.sku, COALESCE(s.description, ''), l.quantity, l.received \
                 FROM order_lines l LEFT JOIN stock s ON s.id = l.stock_id \
                 WHERE l.order_id IN (SELECT id {tail}) ORDER BY l.order_id DESC, l.line_no DESC"
            ),
            format!(
                "SELECT order_id, action, actor_kind, actor_name, actor_detail, at, detail \
                 FROM order_events WHERE order_id IN (SELECT id {tail}) \
                 ORDER BY order_id DESC, id DESC"
            ),
        ],
        args,
    )
}

/// The lines of `n` orders (their ids bound), with the stock rows' descriptions.
pub(super) fn order_lines(n: usize) -> String {
    let marks = vec!["?"; n].join(", ");
    format!(
        "SELECT l.order_id, l.sku, COALESCE(s.description, ''), l.quantity, l.received \
         FROM order_lines l LEFT JOIN stock s ON s.id = l.stock_id \
         WHERE l.order_id IN ({marks}) ORDER BY l.order_id, l.line_no"
    )
}

/// The history of `n` orders (their ids bound), oldest first.
pub(super) fn order_events(n: usize) -> String {
    let marks = vec!["?"; n].join(", ");
    format!(
        "SELECT order_id, action, actor_kind, actor_name, actor_detail, at, detail \
         FROM order_events WHERE order_id IN ({marks}) ORDER BY order_id, id"
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_are_numbered_for_postgres() {
        assert_eq!(
            super::numbered("a = ? AND b IN (?, ?)"),
            "a = $1 AND b IN ($2, $3)"
        );
    }
}
