//! Who is calling: the client's IP address.

use std::net::IpAddr;

use actix_web::HttpRequest;

/// The client's address: the socket peer, or, behind a trusted proxy, the address that proxy
/// appended to `X-Forwarded-For`. Only the right-most entry is the proxy's own word; everything
/// to its left came from the client and could be anything (a fresh one per guess, to dodge
/// throttling).
pub fn client_addr(req: &HttpRequest, trust_proxy: bool) -> Option<IpAddr> {
    if trust_proxy {
        let forwarded = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .last()
            .and_then(|v| v.parse::<IpAddr>().ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    req.peer_addr().map(|a| a.ip())
}

/// [`client_addr`] as text, for the audit log.
pub fn client_ip(req: &HttpRequest, trust_proxy: bool) -> Option<String> {
    client_addr(req, trust_proxy).map(|ip| ip.to_string())
}
