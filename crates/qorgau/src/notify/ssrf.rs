//! Where outgoing requests may go. Webhook URLs are typed by facility administrators and push
//! endpoints come from browsers, so without a guard either could make the server post to its
//! own database port, a cloud metadata address or the hospital's internal network. Only public
//! addresses are reached, plus the networks an operator lists (`QORGAU_WEBHOOK_ALLOW`, for an
//! SMS gateway inside the hospital). The check runs on the addresses a name resolves to at
//! connection time (a DNS answer cannot swap in a private address after a check), and on IP
//! literals before sending.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// A network in CIDR form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Net {
    addr: IpAddr,
    prefix: u8,
}

impl Net {
    /// `10.20.0.0/16`, `fd00::/8`, or one address.
    pub fn parse(s: &str) -> Option<Net> {
        let s = s.trim();
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p.parse().ok().filter(|n| *n <= max)?,
            None => max,
        };
        Some(Net { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(n), IpAddr::V4(i)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(i) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(i)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(i) & mask
            }
            _ => false,
        }
    }
}

/// An IPv4-mapped IPv6 address is the IPv4 address it maps.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// Whether an address is on the public internet: not loopback, private, link-local (cloud
/// metadata), shared (CGNAT), documentation, benchmarking, multicast, broadcast, reserved or
/// unspecified; for IPv6 also not unique-local or link-local.
pub fn is_public(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => public_v6(v6),
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] == 0x2001 && s[1] == 0x0db8)
        || (s[0] == 0x0064 && s[1] == 0xff9b))
}

/// The operator's exceptions on top of the public internet.
#[derive(Clone, Debug, Default)]
pub struct Allow {
    nets: Vec<Net>,
}

impl Allow {
    /// From `QORGAU_WEBHOOK_ALLOW`; an entry that does not parse is an error at start.
    pub fn parse(list: &[String]) -> Result<Allow, String> {
        let nets = list
            .iter()
            .filter(|s| !s.trim().is_empty())
            .map(|s| Net::parse(s).ok_or_else(|| format!("not a network: {s}")))
            .collect::<Result<_, _>>()?;
        Ok(Allow { nets })
    }

    pub fn permits(&self, ip: IpAddr) -> bool {
        is_public(ip) || self.nets.iter().any(|n| n.contains(ip))
    }

    /// Checks a URL whose host is an address (names are checked when they resolve).
    pub fn check_url(&self, url: &str) -> Result<(), String> {
        let u = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
        let host = u.host_str().unwrap_or("");
        let Ok(ip) = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        else {
            return Ok(());
        };
        if self.permits(ip) {
            Ok(())
        } else {
            Err(refusal(ip))
        }
    }
}

fn refusal(ip: IpAddr) -> String {
    format!("refused: {ip} is not a public address (allow its network with QORGAU_WEBHOOK_ALLOW)")
}

/// A resolver for reqwest that drops every address the policy does not permit.
pub struct Guarded(pub Allow);

impl reqwest::dns::Resolve for Guarded {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| allow.permits(a.ip()))
                .collect();
            if kept.is_empty() {
                let why = match found.first() {
                    Some(a) => refusal(a.ip()),
                    None => format!("{host} has no address"),
                };
                return Err(why.into());
            }
            Ok(Box::new(kept.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// A client that reaches only what `allow` permits.
pub fn client(allow: &Allow, build: reqwest::ClientBuilder) -> reqwest::Client {
    build
        .dns_resolver(Arc::new(Guarded(allow.clone())))
        .build()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.10",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
        ] {
            assert!(!is_public(ip(private)), "{private}");
        }
        for public in [
            "8.8.8.8",
            "95.56.1.1",
            "212.42.96.1",
            "2a00:1450:4001::1",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(ip(public)), "{public}");
        }
    }

    #[test]
    fn operators_allow_their_networks() {
        let a = Allow::parse(&[
            "10.20.0.0/16".into(),
            "fd12::/16".into(),
            "192.168.5.7".into(),
        ])
        .expect("parse");
        assert!(a.permits(ip("10.20.3.4")) && !a.permits(ip("10.21.0.1")));
        assert!(a.permits(ip("fd12::5")) && !a.permits(ip("fd13::5")));
        assert!(a.permits(ip("192.168.5.7")) && !a.permits(ip("192.168.5.8")));
        assert!(
            a.permits(ip("::ffff:10.20.0.9")),
            "mapped addresses count as IPv4"
        );
        assert!(a.permits(ip("8.8.8.8")));
        assert!(Allow::parse(&["10.0.0.0/33".into()]).is_err());
        assert!(Allow::parse(&["nonsense".into()]).is_err());
        assert!(Allow::parse(&["".into()]).expect("empty").nets.is_empty());
        let all = Allow::parse(&["0.0.0.0/0".into()]).expect("all v4");
        assert!(all.permits(ip("127.0.0.1")));
    }

    #[test]
    fn address_urls_are_checked_before_sending() {
        let a = Allow::default();
        assert!(
            a.check_url("http://169.254.169.254/latest/meta-data")
                .is_err()
        );
        assert!(a.check_url("http://[::1]:5432/").is_err());
        assert!(a.check_url("https://8.8.8.8/hook").is_ok());
        assert!(
            a.check_url("https://sms.example.kz/hook").is_ok(),
            "names are checked on resolving"
        );
    }
}
