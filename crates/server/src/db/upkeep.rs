//! Fresh planner statistics for the server's PostgreSQL tables when autovacuum does not gather
//! them.
//!
//! The planner chooses each statement's plan from the table's statistics, and this server
//! prepares every statement once per connection with a generic plan (`plan_cache_mode`, see
//! [`super::connect`]); the foreign-key checks of an insert are planned the same way. With
//! statistics from when a table was empty, which is what a never-analysed table has, those
//! plans read the whole table, and they are kept until the table is analysed (or vacuumed, or
//! altered): measured on a fresh database with autovacuum off, every order created read the
//! `orders` table twice (the foreign-key checks of its line and its history event) and the
//! idempotency records once, and creates fell from 880 to 207 a second within 40,000 orders;
//! one `ANALYZE` brought them back to 1,670.
//!
//! So when autovacuum does not look after one of the server's tables (it is off, or off for
//! that table), [`spawn`] analyses it once as many rows changed as would have made autovacuum
//! do so. Only `ANALYZE`: it reads a sample (at most 30,000 rows) and is done in a fraction of
//! a second. `VACUUM` is left to whoever turned autovacuum off: unlike autovacuum's, a manual
//! one is not throttled and not cancelled when it holds up a schema change (which would then
//! hold up every query on the table behind it).

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

/// How long after one round the next one starts unless configured otherwise (autovacuum's
/// `autovacuum_naptime` is a minute; a burst of orders or deliveries does its damage within
/// seconds).
pub const EVERY: Duration = Duration::from_secs(10);

/// Whether a table PostgreSQL estimates at `tuples` rows (`pg_class.reltuples`, negative
/// while never analysed or vacuumed) needs analysing after `modified` rows changed since its
/// last analysis: autovacuum's rule with its default settings
/// (`autovacuum_analyze_threshold` 50 + `autovacuum_analyze_scale_factor` 0.1 × rows).
pub(crate) fn due(tuples: f64, modified: i64) -> bool {
    modified as f64 > 50.0 + 0.1 * tuples.max(0.0)
}

/// The tables of the server's schema that autovacuum does not look after (it is off, or off
/// for the table) and that the server's role may analyse, with what [`due`] needs. The names
/// come quoted from the catalog (`format('%I')`), ready to be written into a command.
const TABLES: &str = "\
SELECT format('%I.%I', s.schemaname, s.relname), c.reltuples::float8, s.n_mod_since_analyze
FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
WHERE s.schemaname = current_schema() AND pg_has_role(c.relowner, 'USAGE')
  AND (NOT current_setting('autovacuum')::bool
       OR NOT coalesce((SELECT o.option_value::bool FROM pg_options_to_table(c.reloptions) o
                        WHERE o.option_name = 'autovacuum_enabled'), true))
ORDER BY s.relname";

/// One round: each table of the schema that needs it is analysed, one at a time. A table
/// another session holds (a migration, another instance's `ANALYZE`) is skipped
/// (`SKIP_LOCKED`) until a later round; one that fails (dropped meanwhile, a
/// `statement_timeout`) is logged and the round goes on. Returns the tables analysed.
pub(crate) async fn sweep(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_string(DbBackend::Postgres, TABLES))
        .await?;
    let mut done = Vec::new();
    for row in rows {
        let name: String = row.try_get_by_index(0)?;
        let (tuples, modified): (f64, i64) = (row.try_get_by_index(1)?, row.try_get_by_index(2)?);
        if !due(tuples, modified) {
            continue;
        }
        // One statement by the simple protocol, outside any transaction: the table's lock is
        // let go as soon as its sample is read.
        match db
            .execute_unprepared(&format!("ANALYZE (SKIP_LOCKED) {name}"))
            .await
        {
            Ok(_) => done.push(name),
            Err(e) => tracing::warn!(table = %name, error = %e, "analysing a table failed"),
        }
    }
    Ok(done)
}

/// On PostgreSQL, runs [`sweep`] `every` so often for as long as the server runs; `None`
/// never. SQLite plans without gathered statistics and needs none.
pub(crate) fn spawn(db: DatabaseConnection, every: Option<Duration>) {
    let Some(every) = every else {
        return;
    };
    if db.get_database_backend() != DbBackend::Postgres {
        return;
    }
    tokio::spawn(async move {
        let mut said = false;
        loop {
            tokio::time::sleep(every).await;
            match sweep(&db).await {
                Ok(done) if !done.is_empty() => {
                    if !said {
                        said = true;
                        tracing::info!(
                            "autovacuum does not analyse some of this server's tables: the \
                             server does, as often as autovacuum's defaults would \
                             (PARTLOGIC_DB_ANALYZE_SECS)"
                        );
                    }
                    tracing::debug!(tables = ?done, "analysed");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "looking for tables to analyse failed"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::due;

    #[test]
    fn autovacuum_s_analyse_threshold() {
        // Never analysed (reltuples -1): more than 50 changed rows.
        assert!(!due(-1.0, 50));
        assert!(due(-1.0, 51));
        // 10,000 rows: more than 1,050.
        assert!(!due(10_000.0, 1_050));
        assert!(due(10_000.0, 1_051));
    }
}
