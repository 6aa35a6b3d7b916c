//! PostgreSQL's autovacuum for the server's own tables, when the database has it turned off.
//!
//! The planner chooses each statement's plan from the table's statistics, and this server
//! prepares every statement once per connection with a generic plan (`plan_cache_mode`, see
//! [`super::connect`]); the foreign-key checks of an insert are planned the same way. With
//! statistics from when a table was empty, which is what a never-analysed table has, those
//! plans read the whole table: measured on a fresh database with autovacuum off, every order
//! created read the `orders` table twice (the foreign-key checks of its line and its history
//! event) and the idempotency records once, and creates fell from 880 to 207 a second within
//! 40,000 orders; one `ANALYZE` brought them back to 1,670. Autovacuum gathers statistics (and
//! removes dead rows) on its own schedule; when it is off, [`spawn`] does the same for the
//! tables of the server's schema, with autovacuum's default thresholds, so a server never
//! depends on how its database was configured to plan well. Tables autovacuum looks after are
//! left to it.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

/// How often the tables' counters are looked at unless configured otherwise (autovacuum's
/// `autovacuum_naptime` is a minute; a burst of orders or deliveries does its damage within
/// seconds).
pub const EVERY: Duration = Duration::from_secs(10);

/// What a table needs, by autovacuum's default thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Work {
    /// Fresh statistics only.
    Analyze,
    /// Dead rows removed (and the visibility map brought up to date), without statistics.
    Vacuum,
    /// Both.
    VacuumAnalyze,
}

/// What a table with `live` rows needs after `dead` rows died, `modified` changed since its
/// last analysis and `inserted` were added since its last vacuum: autovacuum's defaults
/// (`autovacuum_vacuum_threshold` 50 + `scale_factor` 0.2, the insert threshold 1,000 + 0.2,
/// `autovacuum_analyze_threshold` 50 + 0.1), or nothing.
pub(crate) fn due(live: i64, dead: i64, modified: i64, inserted: i64) -> Option<Work> {
    let live = live.max(0) as f64;
    let vacuum = dead as f64 > 50.0 + 0.2 * live || inserted as f64 > 1000.0 + 0.2 * live;
    let analyze = modified as f64 > 50.0 + 0.1 * live;
    match (vacuum, analyze) {
        (true, true) => Some(Work::VacuumAnalyze),
        (true, false) => Some(Work::Vacuum),
        (false, true) => Some(Work::Analyze),
        (false, false) => None,
    }
}

/// The tables of the server's schema that autovacuum does not look after (it is off, or off for
/// the table), with their counters. The names come quoted from the catalog (`format('%I')`),
/// ready to be written into a command.
const TABLES: &str = "\
SELECT format('%I.%I', s.schemaname, s.relname), s.n_live_tup, s.n_dead_tup,
       s.n_mod_since_analyze, s.n_ins_since_vacuum
FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
WHERE s.schemaname = current_schema()
  AND (NOT current_setting('autovacuum')::bool
       OR NOT coalesce((SELECT o.option_value::bool FROM pg_options_to_table(c.reloptions) o
                        WHERE o.option_name = 'autovacuum_enabled'), true))
ORDER BY s.relname";

/// One round: each table of the schema that needs it is vacuumed or analysed, one at a time.
/// A table someone else holds (a migration, a `VACUUM` of another instance) is skipped
/// (`SKIP_LOCKED`) until the next round; inserts, updates and reads are never held up, as
/// neither command takes a lock they wait for. Returns what was done.
pub(crate) async fn sweep(db: &DatabaseConnection) -> Result<Vec<(String, Work)>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_string(DbBackend::Postgres, TABLES))
        .await?;
    let mut done = Vec::new();
    for row in rows {
        let name: String = row.try_get_by_index(0)?;
        let counts: [i64; 4] = [
            row.try_get_by_index(1)?,
            row.try_get_by_index(2)?,
            row.try_get_by_index(3)?,
            row.try_get_by_index(4)?,
        ];
        let Some(work) = due(counts[0], counts[1], counts[2], counts[3]) else {
            continue;
        };
        let options = match work {
            Work::Analyze => "ANALYZE (SKIP_LOCKED)",
            Work::Vacuum => "VACUUM (SKIP_LOCKED)",
            Work::VacuumAnalyze => "VACUUM (SKIP_LOCKED, ANALYZE)",
        };
        // One statement by the simple protocol: VACUUM may not run in a transaction block.
        db.execute_unprepared(&format!("{options} {name}")).await?;
        tracing::debug!(table = %name, ?work, "database upkeep");
        done.push((name, work));
    }
    Ok(done)
}

/// On PostgreSQL, runs [`sweep`] `every` so often for as long as the server runs (it does
/// nothing while autovacuum is on for every table). SQLite plans without gathered statistics and needs none.
pub(crate) fn spawn(db: DatabaseConnection, every: Duration) {
    if db.get_database_backend() != DbBackend::Postgres {
        return;
    }
    tokio::spawn(async move {
        let mut said = false;
        loop {
            tokio::time::sleep(every).await;
            match sweep(&db).await {
                Ok(done) if !done.is_empty() && !said => {
                    said = true;
                    tracing::info!(
                        "autovacuum does not look after this server's tables: the server vacuums \
                         and analyses them itself, with autovacuum's default thresholds"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "database upkeep failed"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::{Work, due};

    #[test]
    fn autovacuum_thresholds() {
        // An empty table: nothing until 50 rows have changed (analysis) or died (vacuum).
        assert_eq!(due(0, 0, 50, 50), None);
        assert_eq!(due(0, 0, 51, 51), Some(Work::Analyze));
        assert_eq!(due(0, 51, 51, 0), Some(Work::VacuumAnalyze));
        // 10,000 live rows: analysis past 1,050 changes, vacuum past 2,050 dead rows or 3,000
        // inserted since the last vacuum.
        assert_eq!(due(10_000, 2_050, 1_050, 3_000), None);
        assert_eq!(due(10_000, 0, 1_051, 0), Some(Work::Analyze));
        assert_eq!(due(10_000, 2_051, 0, 0), Some(Work::Vacuum));
        assert_eq!(due(10_000, 0, 0, 3_001), Some(Work::Vacuum));
        assert_eq!(due(10_000, 0, 1_051, 3_001), Some(Work::VacuumAnalyze));
        // Counters PostgreSQL has not caught up with yet cannot make anything due.
        assert_eq!(due(-1, -1, -1, -1), None);
    }
}
