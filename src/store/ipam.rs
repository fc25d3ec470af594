//! Address arithmetic for swarm networks: subnets carved from the cluster's default pools,
//! gateways, and the next free address or VXLAN ID. Pure functions; `apply` uses them so every
//! manager allocates the same addresses.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

/// An IPv4 prefix such as 10.0.1.0/24.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Subnet {
    pub network: Ipv4Addr,
    pub prefix: u8,
}

/// The engine's default address pool and subnet size.
pub const DEFAULT_POOL: Subnet = Subnet {
    network: Ipv4Addr::new(10, 0, 0, 0),
    prefix: 8,
};
pub const DEFAULT_SUBNET_SIZE: u8 = 24;
/// The first VXLAN ID swarm gives an overlay network.
pub const FIRST_VXLAN_ID: u32 = 4096;

impl Subnet {
    /// Parses `a.b.c.d/n`; the address is masked to the prefix.
    pub fn parse(cidr: &str) -> Option<Subnet> {
        let (addr, prefix) = cidr.split_once('/')?;
        let addr: Ipv4Addr = addr.parse().ok()?;
        let prefix: u8 = prefix.parse().ok()?;
        if prefix > 32 {
            return None;
        }
        Some(Subnet {
            network: Ipv4Addr::from(u32::from(addr) & mask(prefix)),
            prefix,
        })
    }

    fn first(self) -> u32 {
        u32::from(self.network)
    }

    fn last(self) -> u32 {
        self.first() | !mask(self.prefix)
    }

    pub fn contains(self, addr: Ipv4Addr) -> bool {
        (u32::from(addr) & mask(self.prefix)) == self.first()
    }

    pub fn overlaps(self, other: Subnet) -> bool {
        self.first() <= other.last() && other.first() <= self.last()
    }

    /// The conventional gateway: the first host address.
    pub fn gateway(self) -> Ipv4Addr {
        Ipv4Addr::from(self.first().saturating_add(1))
    }

    /// `addr` written with this subnet's prefix length (`10.0.0.6/24`).
    pub fn with_prefix(self, addr: Ipv4Addr) -> String {
        format!("{addr}/{}", self.prefix)
    }
}

impl std::fmt::Display for Subnet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    }
}

/// The first subnet of `size` bits inside `pools` (in order) that overlaps none of `used`.
pub fn next_subnet(pools: &[Subnet], size: u8, used: &[Subnet]) -> Option<Subnet> {
    for pool in pools {
        if size < pool.prefix || size > 32 {
            continue;
        }
        let step: u64 = 1u64 << (32 - u32::from(size));
        let mut start = u64::from(pool.first());
        while start + step - 1 <= u64::from(pool.last()) {
            let candidate = Subnet {
                network: Ipv4Addr::from(start as u32),
                prefix: size,
            };
            match used.iter().find(|u| u.overlaps(candidate)) {
                None => return Some(candidate),
                // Skip past the whole used range at once.
                Some(u) => {
                    let next = u64::from(u.last()) + 1;
                    start = next.div_ceil(step) * step;
                }
            }
        }
    }
    None
}

/// The lowest host address of `subnet` that is not the gateway, the broadcast, or in `used`.
pub fn next_address(subnet: Subnet, used: &BTreeSet<Ipv4Addr>) -> Option<Ipv4Addr> {
    let gateway = u32::from(subnet.gateway());
    let (first, last) = (subnet.first(), subnet.last());
    if last.saturating_sub(first) < 3 {
        return None;
    }
    (first + 1..last)
        .filter(|&a| a != gateway)
        .map(Ipv4Addr::from)
        .find(|a| !used.contains(a))
}

/// The lowest VXLAN ID from [`FIRST_VXLAN_ID`] not in `used`.
pub fn next_vxlan_id(used: &BTreeSet<u32>) -> u32 {
    (FIRST_VXLAN_ID..)
        .find(|id| !used.contains(id))
        .unwrap_or(FIRST_VXLAN_ID)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(cidr: &str) -> Subnet {
        Subnet::parse(cidr).unwrap()
    }

    #[test]
    fn parses_and_masks() {
        assert_eq!(s("10.0.3.7/24"), s("10.0.3.0/24"));
        assert!(Subnet::parse("10.0.0.0/33").is_none());
        assert!(Subnet::parse("nope").is_none());
        assert_eq!(s("10.0.1.0/24").gateway(), Ipv4Addr::new(10, 0, 1, 1));
        assert!(s("10.0.0.0/8").overlaps(s("10.5.0.0/16")));
        assert!(!s("10.0.0.0/24").overlaps(s("10.0.1.0/24")));
    }

    #[test]
    fn carves_subnets_in_order() {
        let pools = [DEFAULT_POOL];
        assert_eq!(next_subnet(&pools, 24, &[]), Some(s("10.0.0.0/24")));
        assert_eq!(
            next_subnet(&pools, 24, &[s("10.0.0.0/24"), s("10.0.1.0/24")]),
            Some(s("10.0.2.0/24"))
        );
        // A bigger user subnet in the way is skipped as a whole.
        assert_eq!(
            next_subnet(&pools, 24, &[s("10.0.0.0/16")]),
            Some(s("10.1.0.0/24"))
        );
        assert_eq!(
            next_subnet(&[s("10.0.0.0/24")], 24, &[s("10.0.0.0/24")]),
            None
        );
        assert_eq!(next_subnet(&pools, 4, &[]), None);
    }

    #[test]
    fn picks_free_addresses() {
        let subnet = s("10.0.0.0/24");
        let mut used = BTreeSet::new();
        assert_eq!(
            next_address(subnet, &used),
            Some(Ipv4Addr::new(10, 0, 0, 2))
        );
        used.insert(Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(
            next_address(subnet, &used),
            Some(Ipv4Addr::new(10, 0, 0, 3))
        );
        let tiny = s("10.0.0.0/30");
        used.insert(Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(next_address(tiny, &used), None);
        assert_eq!(
            subnet.with_prefix(Ipv4Addr::new(10, 0, 0, 6)),
            "10.0.0.6/24"
        );
    }

    #[test]
    fn vxlan_ids() {
        let mut used = BTreeSet::new();
        assert_eq!(next_vxlan_id(&used), 4096);
        used.insert(4096);
        used.insert(4098);
        assert_eq!(next_vxlan_id(&used), 4097);
    }
}
