//! The public Stock API, for integrations holding an API key.

pub mod alerts;
pub mod devices;
pub mod health;
pub mod key;
pub mod key_retire;
pub mod orders_cancel;
pub mod orders_create;
pub mod orders_get;
pub mod orders_list;
pub mod orders_receive;
pub mod ping;
pub mod secret_scanning;
pub mod stock;
pub mod webhooks_create;
pub mod webhooks_delete;
pub mod webhooks_deliveries;
pub mod webhooks_get;
pub mod webhooks_list;
pub mod webhooks_replay;
pub mod webhooks_rotate;
pub mod webhooks_test;
pub mod webhooks_update;

use actix_web::HttpRequest;

/// The next page's link: this request's own path (behind the public URL's path, if it has
/// one) and parameters with the cursor `cursor` moved to `last_id`, as a relative reference.
/// Never a host from the request (a client could send any), so it cannot point elsewhere.
pub(crate) fn next_link(req: &HttpRequest, prefix: &str, cursor: &str, last_id: i64) -> String {
    let mut qs = form_urlencoded::Serializer::new(String::new());
    for (name, value) in form_urlencoded::parse(req.query_string().as_bytes()) {
        if name != cursor {
            qs.append_pair(&name, &value);
        }
    }
    qs.append_pair(cursor, &last_id.to_string());
    format!("<{prefix}{}?{}>; rel=\"next\"", req.path(), qs.finish())
}
