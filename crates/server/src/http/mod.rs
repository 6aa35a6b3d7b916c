//! The HTTP edge: where a request comes in and gets its answer. Start-up and shared state,
//! configuration, middleware (security headers, keys in URLs, access log, request limits),
//! extractors (API key, portal session), the routes (one file per handler), the OpenAPI
//! document, the embedded SPA, served recipes and metrics.
//!
//! The top layer beside `cli`: it may use every feature and everything below them.

pub mod config;
pub mod extract;
pub(crate) mod idempotent;
pub mod json;
pub mod metrics;
pub mod middleware;
pub mod net;
pub mod openapi;
pub mod recipes;
pub mod routes;
pub mod spa;
pub mod startup;
pub mod state;
