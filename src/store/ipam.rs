//! Address arithmetic for swarm networks: subnets carved from the cluster's default pools,
//! gateways, and the next free address or VXLAN ID. Pure functions; `apply` uses them so every
//! manager allocates the same addresses.
//!
//! [`allocate_network`] is what `apply` runs on a new overlay network: subnets for the IPAM
//! configs that have none, gateways, and one VXLAN ID per IPv4 subnet. It picks the lowest free
//! subnet and ID (the engine picks round-robin from an in-memory cursor that restarts with the
//! leader; lowest-free is the deterministic choice).

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use crate::types::network::{IPAMConfig, Network};
use crate::types::swarm::ClusterInfo;

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
/// The largest VXLAN ID (24 bits).
pub const LAST_VXLAN_ID: u32 = (1 << 24) - 1;
/// The driver option that carries an overlay network's VXLAN IDs (`4097`, or `4097,4098`).
pub const VXLAN_ID_OPTION: &str = "com.docker.network.driver.overlay.vxlanid_list";
/// The one driver whose networks get subnets and VXLAN IDs at swarm level; the others
/// (macvlan, ipvlan, bridge, host) are node-local and allocated by each node.
pub const OVERLAY_DRIVER: &str = "overlay";

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

/// The cluster's default address pools (the engine's 10.0.0.0/8 when none were given at
/// `swarm init`) and the prefix length of the subnets carved from them.
pub fn cluster_pools(info: &ClusterInfo) -> (Vec<Subnet>, u8) {
    let pools: Vec<Subnet> = info
        .default_addr_pool
        .iter()
        .flatten()
        .filter_map(|p| Subnet::parse(p))
        .collect();
    let pools = if pools.is_empty() {
        vec![DEFAULT_POOL]
    } else {
        pools
    };
    let size = u8::try_from(info.subnet_size)
        .ok()
        .filter(|s| (1..=32).contains(s))
        .unwrap_or(DEFAULT_SUBNET_SIZE);
    (pools, size)
}

/// The VXLAN IDs in a `vxlanid_list` option value (`"4097,4098"`); unreadable parts are skipped.
pub fn parse_vxlan_ids(list: &str) -> Vec<u32> {
    list.split(',')
        .filter_map(|id| id.trim().parse().ok())
        .collect()
}

/// Whether an IPAM config is for IPv6 (its subnet, or else its gateway, has a colon).
fn is_ipv6(config: &IPAMConfig) -> bool {
    config.subnet.contains(':') || (config.subnet.is_empty() && config.gateway.contains(':'))
}

/// Why a network could not be given addresses (the text goes into an InvalidArgument error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllocationError {
    #[error("Pool overlaps with other one on this address space: subnet {subnet} overlaps with network {network} ({existing})")]
    Overlap {
        subnet: String,
        network: String,
        existing: String,
    },
    #[error("ipam configuration: invalid subnet {0}")]
    InvalidSubnet(String),
    #[error("could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network")]
    PoolsExhausted,
    #[error("could not obtain vxlan id for pool {subnet}: requested id {id} is already in use or out of range")]
    VxlanInUse { subnet: String, id: u32 },
    #[error("no free vxlan id left")]
    VxlanExhausted,
}

/// Gives a new overlay `network` what swarm allocates for it, given the `others` that exist:
/// each IPv4 IPAM config without a subnet gets the lowest free one of `size` bits from
/// `pools` (none given = one config); a given subnet must not overlap another network's;
/// gateways default to the first host address (of the range, when one is given); and the
/// `vxlanid_list` driver option gets one free ID per IPv4 subnet (IDs the client asked for
/// in that option are kept when free). IPv6 configs are kept as the control layer checked
/// them. Networks of other drivers are left alone.
pub fn allocate_network<'a>(
    network: &mut Network,
    others: impl IntoIterator<Item = &'a Network>,
    pools: &[Subnet],
    size: u8,
) -> Result<(), AllocationError> {
    if network.driver_state.name != OVERLAY_DRIVER {
        return Ok(());
    }
    // What the other networks hold: (subnet, owner name), and their VXLAN IDs.
    let mut used: Vec<(Subnet, String)> = Vec::new();
    let mut used_vxlan: BTreeSet<u32> = BTreeSet::new();
    for other in others {
        if other.id == network.id {
            continue;
        }
        for config in other.ipam_options.iter().flat_map(|i| i.configs.iter()) {
            if let Some(subnet) = Subnet::parse(&config.subnet) {
                used.push((subnet, other.spec.name.clone()));
            }
        }
        if let Some(list) = other.driver_state.options.get(VXLAN_ID_OPTION) {
            used_vxlan.extend(parse_vxlan_ids(list));
        }
    }

    let ipam = network.ipam_options.get_or_insert_with(Default::default);
    if ipam.driver.name.is_empty() {
        ipam.driver.name = "default".into();
    }
    if !ipam.configs.iter().any(|c| !is_ipv6(c)) {
        ipam.configs.insert(0, IPAMConfig::default());
    }
    let mut v4_subnets = Vec::new();
    for config in ipam.configs.iter_mut().filter(|c| !is_ipv6(c)) {
        let subnet = if config.subnet.is_empty() {
            let taken: Vec<Subnet> = used.iter().map(|(s, _)| *s).collect();
            next_subnet(pools, size, &taken).ok_or(AllocationError::PoolsExhausted)?
        } else {
            let subnet = Subnet::parse(&config.subnet)
                .ok_or_else(|| AllocationError::InvalidSubnet(config.subnet.clone()))?;
            if let Some((existing, owner)) = used.iter().find(|(u, _)| u.overlaps(subnet)) {
                return Err(AllocationError::Overlap {
                    subnet: subnet.to_string(),
                    network: owner.clone(),
                    existing: existing.to_string(),
                });
            }
            subnet
        };
        config.subnet = subnet.to_string();
        if config.gateway.is_empty() {
            let first_host = match Subnet::parse(&config.range) {
                Some(range) if range.network != subnet.network => range.network,
                _ => subnet.gateway(),
            };
            config.gateway = first_host.to_string();
        }
        used.push((subnet, network.spec.name.clone()));
        v4_subnets.push(subnet);
    }

    let requested = network
        .driver_state
        .options
        .get(VXLAN_ID_OPTION)
        .map(|list| parse_vxlan_ids(list))
        .unwrap_or_default();
    let mut ids = Vec::with_capacity(v4_subnets.len());
    for (i, subnet) in v4_subnets.iter().enumerate() {
        let id = match requested.get(i) {
            Some(&id) => {
                if !(FIRST_VXLAN_ID..=LAST_VXLAN_ID).contains(&id) || used_vxlan.contains(&id) {
                    return Err(AllocationError::VxlanInUse {
                        subnet: subnet.to_string(),
                        id,
                    });
                }
                id
            }
            None => {
                let id = next_vxlan_id(&used_vxlan);
                if used_vxlan.contains(&id) || id > LAST_VXLAN_ID {
                    return Err(AllocationError::VxlanExhausted);
                }
                id
            }
        };
        used_vxlan.insert(id);
        ids.push(id.to_string());
    }
    network
        .driver_state
        .options
        .insert(VXLAN_ID_OPTION.to_string(), ids.join(","));
    Ok(())
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

    fn overlay(name: &str, subnets: &[&str], vxlan: Option<&str>) -> Network {
        let mut n = Network {
            id: format!("id-{name}"),
            ..Default::default()
        };
        n.spec.name = name.into();
        n.driver_state.name = OVERLAY_DRIVER.into();
        if let Some(v) = vxlan {
            n.driver_state
                .options
                .insert(VXLAN_ID_OPTION.into(), v.into());
        }
        if !subnets.is_empty() {
            n.ipam_options = Some(crate::types::network::IPAMOptions {
                configs: subnets
                    .iter()
                    .map(|s| IPAMConfig {
                        subnet: s.to_string(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            });
        }
        n
    }

    fn configs(n: &Network) -> Vec<(String, String)> {
        n.ipam_options
            .iter()
            .flat_map(|i| i.configs.iter())
            .map(|c| (c.subnet.clone(), c.gateway.clone()))
            .collect()
    }

    #[test]
    fn first_user_network_follows_ingress() {
        let ingress = overlay("ingress", &["10.0.0.0/24"], Some("4096"));
        let mut net1 = overlay("net1", &[], None);
        allocate_network(&mut net1, [&ingress], &[DEFAULT_POOL], 24).unwrap();
        assert_eq!(
            configs(&net1),
            vec![("10.0.1.0/24".into(), "10.0.1.1".into())]
        );
        assert_eq!(net1.driver_state.options[VXLAN_ID_OPTION], "4097");
        assert_eq!(net1.ipam_options.unwrap().driver.name, "default");

        // Freed subnets and IDs are reused, lowest first.
        let net2 = overlay("net2", &["10.0.2.0/24"], Some("4098"));
        let mut net3 = overlay("net3", &[], None);
        allocate_network(&mut net3, [&ingress, &net2], &[DEFAULT_POOL], 24).unwrap();
        assert_eq!(configs(&net3)[0].0, "10.0.1.0/24");
        assert_eq!(net3.driver_state.options[VXLAN_ID_OPTION], "4097");
    }

    #[test]
    fn given_subnets_are_checked_and_completed() {
        let ingress = overlay("ingress", &["10.0.0.0/24"], Some("4096"));
        let mut clash = overlay("clash", &["10.0.0.128/25"], None);
        let error = allocate_network(&mut clash, [&ingress], &[DEFAULT_POOL], 24).unwrap_err();
        assert!(matches!(error, AllocationError::Overlap { .. }), "{error}");
        assert!(error.to_string().contains("network ingress (10.0.0.0/24)"));

        let mut mine = overlay("mine", &["192.168.7.0/24", "192.168.8.0/24"], None);
        if let Some(ipam) = mine.ipam_options.as_mut() {
            ipam.configs[1].range = "192.168.8.128/25".into();
        }
        allocate_network(&mut mine, [&ingress], &[DEFAULT_POOL], 24).unwrap();
        assert_eq!(
            configs(&mine),
            vec![
                ("192.168.7.0/24".into(), "192.168.7.1".into()),
                ("192.168.8.0/24".into(), "192.168.8.128".into())
            ]
        );
        assert_eq!(mine.driver_state.options[VXLAN_ID_OPTION], "4097,4098");

        // Two configs of one network may not overlap each other either.
        let mut twice = overlay("twice", &["172.30.0.0/16", "172.30.1.0/24"], None);
        assert!(allocate_network(&mut twice, [], &[DEFAULT_POOL], 24).is_err());
    }

    #[test]
    fn requested_vxlan_ids_and_other_drivers() {
        let ingress = overlay("ingress", &["10.0.0.0/24"], Some("4096"));
        let mut asks = overlay("asks", &[], Some("5000"));
        allocate_network(&mut asks, [&ingress], &[DEFAULT_POOL], 24).unwrap();
        assert_eq!(asks.driver_state.options[VXLAN_ID_OPTION], "5000");
        let mut taken = overlay("taken", &[], Some("4096"));
        assert!(matches!(
            allocate_network(&mut taken, [&ingress], &[DEFAULT_POOL], 24),
            Err(AllocationError::VxlanInUse { id: 4096, .. })
        ));

        let mut macvlan = overlay("mac", &[], None);
        macvlan.driver_state.name = "macvlan".into();
        allocate_network(&mut macvlan, [&ingress], &[DEFAULT_POOL], 24).unwrap();
        assert!(macvlan.ipam_options.is_none());
        assert!(macvlan.driver_state.options.is_empty());
    }

    #[test]
    fn full_pools_and_custom_pools() {
        let pool = s("10.10.0.0/23");
        let a = overlay("a", &[], None);
        let mut a = a;
        allocate_network(&mut a, [], &[pool], 24).unwrap();
        let mut b = overlay("b", &[], None);
        allocate_network(&mut b, [&a], &[pool], 24).unwrap();
        assert_eq!(configs(&b)[0].0, "10.10.1.0/24");
        let mut c = overlay("c", &[], None);
        assert_eq!(
            allocate_network(&mut c, [&a, &b], &[pool], 24),
            Err(AllocationError::PoolsExhausted)
        );

        let mut info = ClusterInfo::default();
        assert_eq!(cluster_pools(&info), (vec![DEFAULT_POOL], 24));
        info.default_addr_pool = Some(vec!["172.16.0.0/12".into()]);
        info.subnet_size = 26;
        assert_eq!(cluster_pools(&info), (vec![s("172.16.0.0/12")], 26));
    }
}
