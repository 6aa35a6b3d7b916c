//! `partlogic import`: stock from a CSV in the PartLogic import template. All or nothing: every
//! bad row is reported by line number and nothing is written unless the whole file is good.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use partlogic_entity::{device, stock};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::accounts::admin::{self, AdminError};
use crate::stock::writes;

/// The template's columns, in its order. Only some are stored; the rest are accepted and ignored.
pub const TEMPLATE: [&str; 15] = [
    "Item Code",
    "Description*",
    "Category",
    "Sub-Category",
    "Sales Price",
    "Cost Price",
    "GTIN",
    "Manufacturer",
    "Manufacturer Part Number",
    "Supplier",
    "Supplier Part Number",
    "Quantity In Stock",
    "Storeroom",
    "Location",
    "Barcode",
];

/// What an import did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Data rows read.
    pub rows: usize,
    /// Stock rows added.
    pub inserted: usize,
    /// Stock rows updated (same storeroom and item code, something changed).
    pub updated: usize,
    /// Stock rows already exactly as in the file (left alone, `UpdatedAt` kept).
    pub unchanged: usize,
    /// Storerooms created as new devices.
    pub devices_created: usize,
}

/// Why an import wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file's rows break the rules: (line, message) for each.
    #[error("{} bad rows; nothing was imported", .0.len())]
    BadRows(Vec<(u64, String)>),
    /// The file is not a CSV in the template.
    #[error("{0}")]
    BadFile(String),
    /// The account or customer could not be used.
    #[error(transparent)]
    Admin(#[from] AdminError),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
}

/// One good row of an import file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Its line in the file (1 is the header line).
    pub line: u64,
    /// `Item Code`, never empty.
    pub sku: String,
    /// `Description*`, never empty.
    pub description: String,
    /// `Quantity In Stock`, 0 or more.
    pub quantity: i64,
    /// `Storeroom` (the device's name), never empty.
    pub storeroom: String,
    /// `None` when the file has no `Location` column: the stored location is then kept.
    pub location: Option<String>,
}

/// Reads an import file in the template: every row, checked, or every bad row by line
/// (`known_storeroom` says whether a storeroom name may be used). Reads nothing else: the
/// database part of an import is [`import_csv`]'s.
pub fn parse_csv(
    data: impl std::io::Read,
    known_storeroom: impl Fn(&str) -> bool,
) -> Result<Vec<Row>, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(data);
    let headers = reader
        .headers()
        .map_err(|e| ImportError::BadFile(format!("cannot read the header line: {e}")))?
        .clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}').eq_ignore_ascii_case(name))
    };
    let missing: Vec<&str> = [
        "Item Code",
        "Description*",
        "Quantity In Stock",
        "Storeroom",
    ]
    .into_iter()
    .filter(|c| col(c).is_none())
    .collect();
    if !missing.is_empty() {
        return Err(ImportError::BadFile(format!(
            "the header line lacks {}; use the PartLogic import template: {}",
            missing.join(", "),
            TEMPLATE.join(", ")
        )));
    }
    let (c_sku, c_desc, c_qty, c_store) = (
        col("Item Code").unwrap_or_default(),
        col("Description*").unwrap_or_default(),
        col("Quantity In Stock").unwrap_or_default(),
        col("Storeroom").unwrap_or_default(),
    );
    let c_loc = col("Location");

    let mut rows = Vec::new();
    let mut bad = Vec::new();
    let mut seen = HashSet::new();
    // The csv reader counts lines by `\n` only, but a lone `\r` ends a row too (old Mac files):
    // two rows would then share a line number. Each row is at least the line after the last.
    let mut last_line = 1;
    let mut next_line = |reported: u64| {
        last_line = reported.max(last_line + 1);
        last_line
    };
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = next_line(e.position().map(|p| p.line()).unwrap_or(0));
                bad.push((line, format!("unreadable row: {e}")));
                continue;
            }
        };
        let line = next_line(record.position().map(|p| p.line()).unwrap_or(0));
        let get = |i: usize| record.get(i).unwrap_or("").to_owned();
        let (sku, description, qty, storeroom) =
            (get(c_sku), get(c_desc), get(c_qty), get(c_store));
        let mut problems = Vec::new();
        if sku.is_empty() {
            problems.push("Item Code is empty".to_owned());
        }
        if description.is_empty() {
            problems.push("Description* is empty".to_owned());
        }
        let quantity = match qty.parse::<i64>() {
            Ok(q) if q >= 0 => q,
            _ => {
                problems.push(format!(
                    "Quantity In Stock \u{201c}{qty}\u{201d} is not a whole number of 0 or more"
                ));
                0
            }
        };
        if storeroom.is_empty() {
            problems.push("Storeroom is empty".to_owned());
        } else if !known_storeroom(&storeroom) {
            problems.push(format!(
                "no storeroom (device) \u{201c}{storeroom}\u{201d} in this account"
            ));
        }
        if !sku.is_empty() && !seen.insert((storeroom.clone(), sku.clone())) {
            problems.push(format!(
                "Item Code {sku} appears twice for storeroom {storeroom}"
            ));
        }
        if problems.is_empty() {
            let location = c_loc.map(get);
            rows.push(Row {
                line,
                sku,
                description,
                quantity,
                storeroom,
                location,
            });
        } else {
            bad.push((line, problems.join("; ")));
        }
    }
    if !bad.is_empty() {
        return Err(ImportError::BadRows(bad));
    }
    Ok(rows)
}

/// Imports `data` into `account_id`. Unknown storerooms are bad rows unless `new_devices_under`
/// names a customer to create them under. Rows that cross their minimum record alerts (see
/// [`writes`]); alerts older than `retention` are forgotten afterwards.
pub async fn import_csv(
    db: &DatabaseConnection,
    account_id: i64,
    data: impl std::io::Read,
    new_devices_under: Option<&str>,
    now: DateTime<Utc>,
    retention: chrono::Duration,
) -> Result<ImportReport, ImportError> {
    let devices: HashMap<String, i64> = device::Entity::find()
        .filter(device::Column::AccountId.eq(account_id))
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.name, d.id))
        .collect();

    let rows = parse_csv(data, |name| {
        devices.contains_key(name) || new_devices_under.is_some()
    })?;

    let mut report = ImportReport {
        rows: rows.len(),
        ..Default::default()
    };
    let txn = crate::db::begin_write(db).await?;
    let mut devices = devices;
    for row in &rows {
        if !devices.contains_key(&row.storeroom) {
            let customer_name = new_devices_under.unwrap_or_default();
            let customer = admin::ensure_customer(&txn, account_id, customer_name).await?;
            let d = admin::add_device(&txn, account_id, customer.id, &row.storeroom).await?;
            devices.insert(d.name.clone(), d.id);
            report.devices_created += 1;
        }
    }
    let device_ids: Vec<i64> = rows
        .iter()
        .filter_map(|r| devices.get(&r.storeroom).copied())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut existing: HashMap<(i64, String), stock::Model> = HashMap::new();
    for chunk in device_ids.chunks(500) {
        // Locked until commit: two imports of the same rows take turns (PostgreSQL; SQLite's
        // write transaction already does), so each sees the other's quantities and a crossing
        // is recorded exactly once.
        // In id order, as a batch of order creates takes its key-share locks on stock rows
        // (`orders::create::batched`): two writers locking in one order cannot deadlock.
        for s in stock::Entity::find()
            .filter(stock::Column::DeviceId.is_in(chunk.iter().copied()))
            .order_by_asc(stock::Column::Id)
            .lock_exclusive()
            .all(&txn)
            .await?
        {
            existing.insert((s.device_id, s.sku.clone()), s);
        }
    }
    let mut inserts = Vec::new();
    for row in rows {
        let Some(device_id) = devices.get(&row.storeroom).copied() else {
            continue;
        };
        match existing.remove(&(device_id, row.sku.clone())) {
            Some(current) => {
                // Only the columns the file has, and only rows that change: an unchanged row
                // keeps its UpdatedAt, so `updated_since` syncs do not fetch it again.
                let change = writes::RowChange {
                    description: Some(row.description),
                    physical: Some(row.quantity),
                    location: row.location,
                    ..Default::default()
                };
                if writes::update(&txn, current, change, now).await? {
                    report.updated += 1;
                } else {
                    report.unchanged += 1;
                }
            }
            None => {
                inserts.push(stock::ActiveModel {
                    device_id: Set(device_id),
                    sku: Set(row.sku),
                    description: Set(row.description),
                    // The template has no reorder levels: new rows start at 0 and are set in
                    // PartLogic itself.
                    min_qty: Set(0),
                    max_qty: Set(0),
                    physical: Set(row.quantity),
                    location: Set(row.location.unwrap_or_default()),
                    updated_at: Set(now),
                    ..Default::default()
                });
                let _ = row.line;
            }
        }
    }
    report.inserted = inserts.len();
    writes::insert(&txn, inserts).await?;
    txn.commit().await?;
    // Housekeeping after the fact: the import itself has landed whatever happens here.
    if let Err(e) = writes::prune_alerts(db, now, retention).await {
        tracing::warn!(error = %e, "could not forget old alerts after an import");
    }
    Ok(report)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    /// A file whose rows end in a lone CR (old Mac line endings) still reports each bad row by
    /// its own line (the csv reader counts `\n` only). Found by fuzzing (`import_csv`).
    #[test]
    fn lone_carriage_returns_still_number_lines() {
        let file =
            b"Item Code,Description*,Quantity In Stock,Storeroom\rA,B,1,S\rC,D,x,S\rE,F,-2,S\r";
        match parse_csv(&file[..], |_| true) {
            Err(ImportError::BadRows(bad)) => {
                let lines: Vec<u64> = bad.iter().map(|(l, _)| *l).collect();
                assert_eq!(lines, vec![3, 4], "{bad:?}");
            }
            other => panic!("{:?}", other.map(|rows| rows.len())),
        }
        let rows = parse_csv(
            &b"Item Code,Description*,Quantity In Stock,Storeroom\rA,B,1,S\rC,D,2,S"[..],
            |_| true,
        )
        .unwrap();
        assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), vec![2, 3]);
    }
}
