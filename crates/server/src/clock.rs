//! The server's notion of "now". Expiry is all about instants, so tests need to stand exactly on
//! the boundary; the server asks this clock rather than `Utc::now()` directly.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

/// Either the system clock or a clock that stands still where a test puts it.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    frozen: Option<Arc<Mutex<DateTime<Utc>>>>,
}

impl Clock {
    /// The real clock.
    pub fn system() -> Self {
        Self { frozen: None }
    }

    /// A clock that reads `at` until [`Clock::set`] moves it.
    pub fn frozen(at: DateTime<Utc>) -> Self {
        Self {
            frozen: Some(Arc::new(Mutex::new(at))),
        }
    }

    /// Moves a frozen clock (no effect on the system clock).
    pub fn set(&self, at: DateTime<Utc>) {
        if let Some(f) = &self.frozen {
            *f.lock().unwrap_or_else(|p| p.into_inner()) = at;
        }
    }

    /// The current instant.
    pub fn now(&self) -> DateTime<Utc> {
        match &self.frozen {
            Some(f) => *f.lock().unwrap_or_else(|p| p.into_inner()),
            None => Utc::now(),
        }
    }
}
