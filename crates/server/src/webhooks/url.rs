//! Which URLs a webhook may call. Server-side request forgery is refused twice: when an
//! endpoint is saved (its host, and every address the host resolves to then), and when a
//! delivery connects (the resolver reqwest uses refuses a host with any such address, and the
//! connection goes to an address it checked, so a name that resolves differently the second
//! time, DNS rebinding, gains nothing). Redirects are never followed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use partlogic_types::FieldError;

use crate::domain::field_error;

/// The longest URL an endpoint may have.
pub const MAX_URL_CHARS: usize = 2000;

/// Whether `ip` is one PartLogic never calls: loopback, private, link-local (cloud metadata
/// at 169.254.169.254 among them), unique local, carrier-grade NAT, multicast, documentation,
/// benchmarking, reserved or unspecified addresses, and IPv6 forms that embed one.
pub fn forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        // Carrier-grade NAT (100.64.0.0/10), where some clouds keep metadata services.
        || (a == 100 && (64..128).contains(&b))
        // IETF protocol assignments (192.0.0.0/24) and benchmarking (198.18.0.0/15).
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        // The 6to4 relay anycast (192.88.99.0/24), Azure's host service (168.63.129.16).
        || (a == 192 && b == 88 && c == 99)
        || ip == Ipv4Addr::new(168, 63, 129, 16)
        // Reserved (240.0.0.0/4).
        || a >= 240
}

fn forbidden_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return forbidden_v4(v4);
    }
    let s = ip.segments();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        // Unique local (fc00::/7), link-local (fe80::/10), site-local (fec0::/10).
        || (s[0] & 0xfe00) == 0xfc00
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] & 0xffc0) == 0xfec0
        // Documentation (2001:db8::/32), Teredo (2001::/32), local-use NAT64 (64:ff9b:1::/48).
        || (s[0] == 0x2001 && (s[1] == 0x0db8 || s[1] == 0))
        || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1)
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`),
/// NAT64 (`64:ff9b::a.b.c.d`) or 6to4 (`2002:aabb:ccdd::`) IPv6 address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if s[..6] == [0, 0, 0, 0, 0, 0] && !ip.is_loopback() && !ip.is_unspecified() {
        return Some(tail);
    }
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return Some(tail);
    }
    None
}

fn refused(message: impl Into<String>) -> FieldError {
    field_error("url", message)
}

/// `raw` as an endpoint URL: `https` (or, with `allow_private`, `http`), a host, no user name
/// or password, no fragment; and, unless `allow_private`, a host that is not, and does not
/// resolve to, an address [`forbidden`] names. A host that does not resolve now is accepted
/// (deliveries will retry); one that resolves to any forbidden address is not.
pub async fn check(raw: &str, allow_private: bool) -> Result<url::Url, FieldError> {
    if raw.chars().count() > MAX_URL_CHARS {
        return Err(refused(format!(
            "must be at most {MAX_URL_CHARS} characters"
        )));
    }
    let url = url::Url::parse(raw.trim())
        .map_err(|e| refused(format!("is not a URL ({e}); write it as https://host/path")))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        _ => return Err(refused("must start with https://")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refused(
            "must not hold a user name or password; put a secret in the path if the receiver needs one",
        ));
    }
    if url.fragment().is_some() {
        return Err(refused("must not have a #fragment"));
    }
    let Some(host) = url.host() else {
        return Err(refused("must name a host"));
    };
    if allow_private {
        return Ok(url);
    }
    let port = url.port_or_known_default().unwrap_or(443);
    match host {
        url::Host::Ipv4(ip) => check_ip(IpAddr::V4(ip))?,
        url::Host::Ipv6(ip) => check_ip(IpAddr::V6(ip))?,
        url::Host::Domain(name) => {
            let lower = name.to_ascii_lowercase();
            if lower == "localhost" || lower.ends_with(".localhost") || lower.ends_with(".local") {
                return Err(refused(format!("{name} is a local name")));
            }
            let lookup = tokio::time::timeout(
                std::time::Duration::from_secs(3),
                tokio::net::lookup_host((lower.as_str(), port)),
            )
            .await;
            if let Ok(Ok(addrs)) = lookup {
                for a in addrs {
                    // The address itself is not said: it would map someone's inside network.
                    if forbidden(a.ip()) {
                        return Err(refused(format!(
                            "{name} resolves to an address that is not public"
                        )));
                    }
                }
            }
        }
    }
    Ok(url)
}

fn check_ip(ip: IpAddr) -> Result<(), FieldError> {
    if forbidden(ip) {
        Err(refused(format!("{ip} is not a public address")))
    } else {
        Ok(())
    }
}

/// The resolver deliveries use: a host with any address [`forbidden`] names is refused, so the
/// connection can only go to addresses checked here.
#[derive(Debug, Clone, Copy)]
pub struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.is_empty() {
                return Err(format!("{host} has no address").into());
            }
            if addrs.iter().any(|a| forbidden(a.ip())) {
                return Err(format!("{host} resolves to an address that is not public").into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// Whether a URL names a forbidden address literally (the resolver never sees those).
pub fn literal_forbidden(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => forbidden(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => forbidden(IpAddr::V6(ip)),
        Some(url::Host::Domain(_)) => false,
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> bool {
        forbidden(s.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)))
    }

    #[test]
    fn private_and_special_addresses_are_forbidden() {
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.100.100.200",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00:ec2::254",
            "fc00::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2001:db8::1",
            "2002:a9fe:a9fe::1",
            "2001:0:4136:e378::1",
            "64:ff9b:1::a00:1",
            "168.63.129.16",
            "192.88.99.1",
        ] {
            assert!(f(bad), "{bad} should be forbidden");
        }
        for good in [
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
            "2002:0808:0808::1",
        ] {
            assert!(!f(good), "{good} should be allowed");
        }
    }

    #[tokio::test]
    async fn urls_are_checked_before_saving() {
        for (bad, why) in [
            ("http://example.com/hook", "https"),
            ("https://user:pw@example.com/", "user name"),
            ("https://127.0.0.1/hook", "not a public"),
            ("https://[::1]/hook", "not a public"),
            ("https://[::ffff:10.0.0.1]/", "not a public"),
            ("https://2130706433/", "not a public"),
            ("https://0x7f.1/", "not a public"),
            ("https://localhost:8080/", "local name"),
            ("https://example.com/#x", "fragment"),
            ("ftp://example.com/", "https"),
            ("not a url", "not a URL"),
        ] {
            let e = check(bad, false).await.err();
            assert!(
                e.as_ref().is_some_and(|e| e.message.contains(why)),
                "{bad}: {e:?}"
            );
        }
        assert!(check("https://203.0.114.9/hook?a=1", false).await.is_ok());
        assert!(check("http://127.0.0.1:9/hook", true).await.is_ok());
        assert!(check("https://u@127.0.0.1/", true).await.is_err());
    }
}
