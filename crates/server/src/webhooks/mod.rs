//! Webhooks: PartLogic pushes what happens (low stock, restocks, orders, a key about to expire)
//! to endpoints a key registers, signed the Standard Webhooks way.
//!
//! - `outbox.rs`: an event is written in the transaction of the change it reports, with one
//!   delivery per endpoint that wants it; nothing is sent from inside a request.
//! - `deliver/`: the worker that claims due deliveries (PostgreSQL `FOR UPDATE SKIP
//!   LOCKED`), checks the key still may see the event, posts it, and records the outcome with
//!   the retry schedule.
//! - `secrets.rs`: signing secrets (`whsec_…`), kept encrypted; the signature header.
//! - `url.rs`: which URLs may be called (no server-side request forgery), at creation and at
//!   connection time.
//! - `parse.rs`, `store.rs`: an endpoint's fields, parsed, and what the API reads and writes.
//! - `slack.rs`: the sentence a `slack` endpoint gets.
//! - `expiring.rs`: `key.expiring`, seven days before a key's expiry, once.

pub mod deliver;
pub mod expiring;
pub mod outbox;
pub mod parse;
pub mod secrets;
pub mod slack;
pub mod store;
pub mod url;

/// The most endpoints one key may have.
pub const MAX_ENDPOINTS_PER_KEY: usize = 10;
