//! Who is on the other end of a request: the connection's address, or, when the connection
//! comes from a configured trusted proxy, the address that proxy names in `X-Forwarded-For`.
//! Rate limits per client address use it; nothing else trusts it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use ipnet::IpNet;

/// The reverse proxies whose `X-Forwarded-For` is believed (`trusted_proxies` in the config).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(pub Vec<IpNet>);

impl TrustedProxies {
    /// Parses addresses and networks (`127.0.0.1`, `10.0.0.0/8`, `::1`).
    pub fn parse(items: &[String]) -> Result<TrustedProxies, String> {
        items
            .iter()
            .map(|item| {
                item.parse::<IpNet>()
                    .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{item:?} is not an IP address or network"))
            })
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }
}

/// The client's address for a request. Without a connection address (a router called
/// directly, not through the server) it is the unspecified address.
pub fn address(parts: &Parts, trusted: &TrustedProxies) -> IpAddr {
    forwarded_for(peer(parts), &parts.headers, trusted)
}

/// The address the request's connection came from (a proxy, or the client itself).
pub fn peer(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| canonical(c.0.ip()))
}

/// Walks `X-Forwarded-For` from the nearest hop back while the hops are trusted proxies:
/// the first address that is not one is the client. Anything unreadable ends the walk.
fn forwarded_for(
    peer: IpAddr,
    headers: &axum::http::HeaderMap,
    trusted: &TrustedProxies,
) -> IpAddr {
    let mut client = peer;
    if !trusted.contains(client) {
        return client;
    }
    let values: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .map(|v| v.to_str().unwrap_or(""))
        .collect();
    for hop in values.iter().rev().flat_map(|v| v.rsplit(',')) {
        let Ok(ip) = hop.trim().parse::<IpAddr>() else {
            return client;
        };
        client = canonical(ip);
        if !trusted.contains(client) {
            return client;
        }
    }
    client
}

/// An IPv4 address written as IPv6 (`::ffff:192.0.2.1`) is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let trusted = TrustedProxies::parse(&["127.0.0.1".into(), "10.0.0.0/8".into()]).unwrap();
        let h = headers(&["203.0.113.9"]);
        assert_eq!(
            forwarded_for(ip("127.0.0.1"), &h, &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(
            forwarded_for(ip("198.51.100.4"), &h, &trusted),
            ip("198.51.100.4"),
            "a client cannot name itself someone else"
        );
        assert_eq!(
            forwarded_for(ip("127.0.0.1"), &h, &TrustedProxies::default()),
            ip("127.0.0.1"),
            "no proxy trusted by default"
        );
    }

    #[test]
    fn the_client_is_the_last_hop_that_is_not_a_trusted_proxy() {
        let trusted = TrustedProxies::parse(&["127.0.0.1".into(), "10.0.0.0/8".into()]).unwrap();
        // The client made up the first entry; the load balancer (10.1.2.3) and nginx added theirs.
        let h = headers(&["6.6.6.6, 203.0.113.9", "10.1.2.3"]);
        assert_eq!(
            forwarded_for(ip("127.0.0.1"), &h, &trusted),
            ip("203.0.113.9")
        );
        let h = headers(&["nonsense, 10.1.2.3"]);
        assert_eq!(forwarded_for(ip("127.0.0.1"), &h, &trusted), ip("10.1.2.3"));
        assert_eq!(
            forwarded_for(ip("127.0.0.1"), &HeaderMap::new(), &trusted),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn trusted_proxies_must_be_addresses() {
        assert!(TrustedProxies::parse(&["::1".into(), "fd00::/8".into()]).is_ok());
        let e = TrustedProxies::parse(&["localhost".into()]).unwrap_err();
        assert!(e.contains("\"localhost\""), "{e}");
    }
}
