//! Who is calling: the client's IP address.

use actix_web::HttpRequest;

/// The client's IP: the socket peer, or the forwarded address when behind a trusted proxy.
pub fn client_ip(req: &HttpRequest, trust_proxy: bool) -> Option<String> {
    if trust_proxy && let Some(addr) = req.connection_info().realip_remote_addr() {
        return Some(strip_port(addr).to_owned());
    }
    req.peer_addr().map(|a| a.ip().to_string())
}

fn strip_port(addr: &str) -> &str {
    // "[::1]:443" → "::1"; "1.2.3.4:80" → "1.2.3.4"; "::1" stays.
    if let Some(rest) = addr.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match addr.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            host
        }
        _ => addr,
    }
}
