//! Order numbers (`PO-000123`): unique within an account and increasing.
//!
//! On SQLite the next number is taken inside the order's own transaction: SQLite has one writer
//! at a time anyway, so numbers are contiguous. On PostgreSQL that would make every order of an
//! account queue on the counter row until the previous order commits (measured: creating orders
//! topped out below the single-threaded Python peer). Instead each instance reserves numbers in
//! blocks of [`BLOCK`], in a statement of its own, and hands them out from memory: concurrent
//! orders never wait on one another, numbers stay unique per account and increase within an
//! instance. The price: a restart, or an order that fails on the server's side after taking its
//! number, leaves a gap (an order refused for its content takes none: the rules are checked
//! first).

use std::collections::HashMap;
use std::sync::Mutex;

use partlogic_entity::order_counter;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait};

use crate::error::ApiError;

/// How many numbers a PostgreSQL instance reserves at once.
pub const BLOCK: i64 = 50;

/// The numbers this instance has reserved and not yet given out, per account.
#[derive(Debug, Default)]
pub struct Numbers {
    free: Mutex<HashMap<i64, Vec<(i64, i64)>>>,
    /// One refill at a time: requests that find the block empty together wait for one
    /// reservation instead of each reserving a block of their own.
    refill: tokio::sync::Mutex<()>,
    /// Always take the next number in the order's transaction (on PostgreSQL too): for writers
    /// whose account is not committed yet (the demo seed), and whose orders come one at a time.
    contiguous: bool,
}

/// Adds `by` to the account's counter (creating it at `by`) and returns the new value.
async fn advance(db: &impl ConnectionTrait, account_id: i64, by: i64) -> Result<i64, ApiError> {
    let row = order_counter::Entity::insert(order_counter::ActiveModel {
        account_id: Set(account_id),
        last: Set(by),
    })
    .on_conflict(
        OnConflict::column(order_counter::Column::AccountId)
            .value(
                order_counter::Column::Last,
                Expr::col((order_counter::Entity, order_counter::Column::Last)).add(by),
            )
            .to_owned(),
    )
    .exec_with_returning(db)
    .await?;
    Ok(row.last)
}

impl Numbers {
    /// Numbers taken one by one in each order's transaction, whatever the database.
    pub fn contiguous() -> Numbers {
        Numbers {
            contiguous: true,
            ..Default::default()
        }
    }

    fn take(&self, account_id: i64) -> Option<i64> {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        let ranges = free.get_mut(&account_id)?;
        while let Some((next, end)) = ranges.first_mut() {
            if *next <= *end {
                let n = *next;
                *next += 1;
                return Some(n);
            }
            ranges.remove(0);
        }
        None
    }

    fn has_free(&self, account_id: i64) -> bool {
        let free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        free.get(&account_id)
            .is_some_and(|rs| rs.iter().any(|(next, end)| next <= end))
    }

    /// Before an order's transaction opens: on PostgreSQL, reserves a block for `account_id`
    /// if this instance has no number left, through `pool` (a request holding its transaction's
    /// connection must not wait for another one: 64 of them would hold the whole pool).
    pub async fn prepare(
        &self,
        pool: &DatabaseConnection,
        account_id: i64,
    ) -> Result<(), ApiError> {
        if self.contiguous
            || pool.get_database_backend() != DbBackend::Postgres
            || self.has_free(account_id)
        {
            return Ok(());
        }
        let _one = self.refill.lock().await;
        if self.has_free(account_id) {
            return Ok(());
        }
        let end = advance(pool, account_id, BLOCK).await?;
        self.free
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(account_id)
            .or_default()
            .push((end - BLOCK + 1, end));
        Ok(())
    }

    /// Whether numbers come from per-instance blocks on `backend` (PostgreSQL, unless
    /// [`Numbers::contiguous`]): then an order needs no counter in its own transaction.
    pub fn in_blocks(&self, backend: DbBackend) -> bool {
        !self.contiguous && backend == DbBackend::Postgres
    }

    /// The next number of `account_id` from this instance's blocks, reserving one through
    /// `pool` when they are used up (see [`Numbers::in_blocks`]).
    pub async fn reserve(
        &self,
        pool: &DatabaseConnection,
        account_id: i64,
    ) -> Result<i64, ApiError> {
        if !self.in_blocks(pool.get_database_backend()) {
            return advance(pool, account_id, 1).await;
        }
        loop {
            if let Some(n) = self.take(account_id) {
                return Ok(n);
            }
            self.prepare(pool, account_id).await?;
        }
    }

    /// Gives back `number` of `account_id`, taken by [`Numbers::reserve`] for an order that was
    /// not written after all (its `Idempotency-Key` turned out to be in use or answered): the
    /// next order takes it, so a retry leaves no gap.
    pub fn put_back(&self, account_id: i64, number: i64) {
        self.free
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(account_id)
            .or_default()
            .insert(0, (number, number));
    }

    /// The next number of `account_id`, in the order's transaction `txn`: from this instance's
    /// block on PostgreSQL (see [`Numbers::prepare`]); otherwise, or when concurrent orders used
    /// up the block meanwhile, the counter's next, taken in `txn`.
    pub async fn next(&self, txn: &impl ConnectionTrait, account_id: i64) -> Result<i64, ApiError> {
        if !self.contiguous
            && txn.get_database_backend() == DbBackend::Postgres
            && let Some(n) = self.take(account_id)
        {
            return Ok(n);
        }
        advance(txn, account_id, 1).await
    }
}
