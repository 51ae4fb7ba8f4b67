//! Which network addresses Canopy may connect to on someone else's say-so (webhook endpoints).
//!
//! A webhook URL is chosen by whoever holds `webhooks:manage`, and the server sends it requests from
//! inside the shop's network. Unchecked, that is a way to reach what only the server can reach: cloud
//! metadata (`169.254.169.254`), the database, Redis on `localhost`, the back office on `10.x`. So an
//! outbound address must be public unless an operator lists it ([`OutboundPolicy::allow`]) for a
//! partner on a private network. The check is applied to the addresses a name resolves to at connect
//! time (a name can resolve to anything, and differently each time), not to the URL's text.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

/// Public internet addresses, plus the networks an operator allowed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    allowed: Vec<IpNet>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not an IP address or network (CIDR): {0:?}")]
pub struct InvalidNetwork(pub String);

impl OutboundPolicy {
    /// Only public addresses.
    pub fn public_only() -> Self {
        OutboundPolicy::default()
    }

    /// Public addresses and these networks (`10.1.2.3`, `192.168.0.0/24`, `::1`).
    pub fn allow(networks: Vec<IpNet>) -> Self {
        OutboundPolicy { allowed: networks }
    }

    /// Reads a comma- or space-separated list of addresses and networks (`CANOPY_WEBHOOK_ALLOW`).
    pub fn parse(list: &str) -> Result<Self, InvalidNetwork> {
        let allowed = list
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| InvalidNetwork(s.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(OutboundPolicy { allowed })
    }

    /// The networks allowed beyond the public internet.
    pub fn allowed(&self) -> &[IpNet] {
        &self.allowed
    }

    /// May Canopy connect to `ip`?
    pub fn permits(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        is_public(ip) || self.allowed.iter().any(|net| net.contains(&ip))
    }
}

/// A globally routable unicast address: not loopback, private, link-local, shared (CGNAT),
/// documentation, benchmarking, multicast, reserved or unspecified. IPv6 forms that embed an IPv4
/// address (mapped, NAT64, 6to4) are judged by the address they embed.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0 // "this network"
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 169 && b == 254) // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 192 && b == 168)
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // documentation
        || (a == 203 && b == 0 && c == 113) // documentation
        || a >= 224) // multicast, reserved, broadcast
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_public_v4(Ipv4Addr::new(
            (s[6] >> 8) as u8,
            s[6] as u8,
            (s[7] >> 8) as u8,
            s[7] as u8,
        ));
    }
    // 6to4 (2002::/16) carries one in bits 16..48.
    if s[0] == 0x2002 {
        return is_public_v4(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    let global_unicast = (s[0] & 0xe000) == 0x2000; // 2000::/3
    global_unicast
        && !(s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        && !(s[0] == 0x2001 && s[1] < 0x0200) // IETF protocol assignments, Teredo
        && !(s[0] == 0x3fff && s[1] < 0x1000) // documentation (3fff::/20)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn internal_and_special_addresses_are_not_public() {
        for s in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2002:a00:1::1",
            "2001:db8::1",
        ] {
            assert!(!is_public(ip(s)), "{s} counted as public");
            assert!(!OutboundPolicy::public_only().permits(ip(s)), "{s}");
        }
    }

    #[test]
    fn internet_addresses_are_public() {
        for s in [
            "1.1.1.1",
            "93.184.216.34",
            "172.32.0.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(ip(s)), "{s} counted as private");
        }
    }

    #[test]
    fn an_operator_can_allow_a_private_partner() {
        let policy = OutboundPolicy::parse("10.20.0.0/16, 192.168.1.7 ::1").unwrap();
        assert!(policy.permits(ip("10.20.3.4")));
        assert!(policy.permits(ip("192.168.1.7")));
        assert!(policy.permits(ip("::1")));
        assert!(policy.permits(ip("::ffff:10.20.0.9")));
        assert!(!policy.permits(ip("10.21.0.1")));
        assert!(!policy.permits(ip("127.0.0.1")));
        assert_eq!(
            OutboundPolicy::parse("10.0.0.0/33"),
            Err(InvalidNetwork("10.0.0.0/33".into()))
        );
    }
}
