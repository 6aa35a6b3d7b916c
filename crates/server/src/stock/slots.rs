//! Export slots and limits: how many unpaged exports may run (per key, per account, per
//! instance), and how slowly a client may read one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How many unpaged exports may run, and how slowly a client may read one.
#[derive(Clone, Debug)]
pub struct StreamLimits {
    /// Exports running at once on this instance.
    pub total: usize,
    /// Exports running at once per key on this instance.
    pub per_key: usize,
    /// The slowest average a client may read at once `grace` has passed (bytes per second).
    pub min_bytes_per_sec: u64,
    /// How long a client may read at any pace before the minimum applies.
    pub grace: Duration,
    /// The longest any one export may take.
    pub deadline: Duration,
}

impl Default for StreamLimits {
    fn default() -> Self {
        Self {
            total: 32,
            per_key: 2,
            min_bytes_per_sec: 16 * 1024,
            grace: Duration::from_secs(30),
            deadline: Duration::from_secs(30 * 60),
        }
    }
}

/// Counts running exports so that no key (and no account, however many keys it makes) can hold
/// more than its share, and the instance never runs more than it can feed.
#[derive(Clone)]
pub struct StreamSlots {
    total: usize,
    per_key: usize,
    per_account: usize,
    running: Arc<Mutex<Running>>,
}

#[derive(Default)]
struct Running {
    all: usize,
    keys: HashMap<i64, usize>,
    accounts: HashMap<i64, usize>,
}

/// Why no export slot was given.
#[derive(Debug, PartialEq, Eq)]
pub enum NoSlot {
    /// The key already runs `per_key` exports.
    KeyFull(usize),
    /// The key's account already runs `per_account` exports.
    AccountFull(usize),
    /// The instance runs `total` exports.
    ServerFull,
}

/// A running export; dropping it frees its slot.
pub struct StreamSlot {
    key_id: i64,
    account_id: i64,
    running: Arc<Mutex<Running>>,
}

impl StreamSlots {
    /// Room for `total` exports, at most `per_key` of them for one key and a quarter of the
    /// total (at least `per_key`) for one account.
    pub fn new(total: usize, per_key: usize) -> Self {
        let (total, per_key) = (total.max(1), per_key.max(1));
        Self {
            total,
            per_key,
            per_account: (total / 4).max(per_key),
            running: Arc::default(),
        }
    }

    /// Exports running now.
    pub fn running(&self) -> usize {
        self.running.lock().unwrap_or_else(|p| p.into_inner()).all
    }

    /// A slot for `key_id` of `account_id`, if the key, its account and the instance have room.
    pub fn try_take(&self, key_id: i64, account_id: i64) -> Result<StreamSlot, NoSlot> {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let mine = running.keys.get(&key_id).copied().unwrap_or(0);
        if mine >= self.per_key {
            return Err(NoSlot::KeyFull(self.per_key));
        }
        let ours = running.accounts.get(&account_id).copied().unwrap_or(0);
        if ours >= self.per_account {
            return Err(NoSlot::AccountFull(self.per_account));
        }
        if running.all >= self.total {
            return Err(NoSlot::ServerFull);
        }
        running.all += 1;
        running.keys.insert(key_id, mine + 1);
        running.accounts.insert(account_id, ours + 1);
        Ok(StreamSlot {
            key_id,
            account_id,
            running: self.running.clone(),
        })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut guard = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let running = &mut *guard;
        running.all = running.all.saturating_sub(1);
        for (map, id) in [
            (&mut running.keys, self.key_id),
            (&mut running.accounts, self.account_id),
        ] {
            if let Some(n) = map.get_mut(&id) {
                *n -= 1;
                if *n == 0 {
                    map.remove(&id);
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_capped_per_key_per_account_and_in_all() {
        let slots = StreamSlots::new(12, 2);
        let a1 = slots.try_take(1, 10).unwrap();
        let _a2 = slots.try_take(1, 10).unwrap();
        assert_eq!(slots.try_take(1, 10).err(), Some(NoSlot::KeyFull(2)));
        let _b1 = slots.try_take(2, 10).unwrap();
        // Account 10 has 3 = 12 / 4: another of its keys waits, another account does not.
        assert_eq!(slots.try_take(3, 10).err(), Some(NoSlot::AccountFull(3)));
        let others: Vec<StreamSlot> = (0..9)
            .map(|k| slots.try_take(100 + k, k).unwrap())
            .collect();
        assert_eq!(slots.try_take(200, 99).err(), Some(NoSlot::ServerFull));
        drop(a1);
        assert!(slots.try_take(3, 10).is_ok());
        drop(others);
    }
}
