//! Checking a swarm network create the engine's way, and building the network it asks for.

use super::*;

/// The engine's checks on a swarm network request, in the engine's order: the name among
/// swarm networks, predefined names, the name among the engine's own networks (when
/// `CheckDuplicate` is not turned off), libnetwork's checks, then swarmkit's spec validation
/// and the single ingress network.
pub fn validate_create(
    request: &NetworkCreateRequest,
    state: &ClusterState,
    local: &[LocalNetwork],
) -> ControlResult<()> {
    let name = request.name.as_str();
    if state.by_name::<Network>(name).is_some() {
        return Err(name_taken(name));
    }
    if is_predefined(name) {
        return Err(ControlError::Forbidden(format!(
            "operation is not permitted on predefined {name} network "
        )));
    }
    if request.check_duplicate != Some(false) && local.iter().any(|n| n.name == name) {
        return Err(name_taken(name));
    }
    if name.trim().is_empty() {
        return Err(ControlError::Invalid(format!("invalid name: {name}")));
    }
    let driver = request.driver.as_str();
    if driver == OVERLAY_DRIVER && request.scope == "local" {
        return Err(ControlError::Forbidden(
            "cannot downgrade network scope for overlay networks".into(),
        ));
    }

    // swarmkit's validateNetworkSpec.
    if request.ingress && driver != OVERLAY_DRIVER {
        return Err(ControlError::NotImplemented(
            "rpc error: code = Unimplemented desc = only overlay driver is currently supported for ingress network".into(),
        ));
    }
    if request.attachable && request.ingress {
        return Err(invalid_argument("ingress network cannot be attachable"));
    }
    validate_name(name)?;
    if request.labels.contains_key(PREDEFINED_LABEL) {
        return Err(ControlError::Forbidden(format!(
            "rpc error: code = PermissionDenied desc = label {PREDEFINED_LABEL} is for internally created predefined networks and cannot be applied by users"
        )));
    }
    if driver.is_empty() {
        return Err(invalid_argument(
            "driver name: if driver is specified name is required",
        ));
    }
    if let Some(ipam) = &request.ipam {
        let ipam_driver = if ipam.driver.is_empty() {
            "default"
        } else {
            ipam.driver.as_str()
        };
        if !ipam_driver.eq_ignore_ascii_case("default") {
            return Err(invalid_argument(format!(
                "error during lookup of plugin {ipam_driver}"
            )));
        }
        for config in &ipam.config {
            validate_ipam_config(config)?;
        }
    }
    if request.ingress {
        if let Some(ingress) = state.networks.values().find(|n| n.spec.ingress) {
            return Err(ControlError::Conflict(format!(
                "rpc error: code = AlreadyExists desc = ingress network ({}) is already present",
                ingress.id
            )));
        }
    }
    Ok(())
}

/// swarmkit's `validateAnnotations`: a DNS label (`[a-zA-Z0-9]` runs joined by `-`/`_`).
fn validate_name(name: &str) -> ControlResult<()> {
    if name.is_empty() {
        return Err(invalid_argument("meta: name must be provided"));
    }
    let bytes = name.as_bytes();
    let alnum = |b: &u8| b.is_ascii_alphanumeric();
    let valid = bytes.first().is_some_and(alnum)
        && bytes.last().is_some_and(alnum)
        && bytes.iter().all(|b| alnum(b) || *b == b'-' || *b == b'_');
    if !valid {
        return Err(invalid_argument(
            "name must be valid as a DNS name component",
        ));
    }
    if name.len() > 63 {
        return Err(invalid_argument("name must be 63 characters or fewer"));
    }
    Ok(())
}

/// An IPv4 or IPv6 prefix as Go's `net.ParseCIDR` reads it (host bits allowed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    fn parse(text: &str) -> Option<Cidr> {
        let (addr, prefix) = text.split_once('/')?;
        let addr: IpAddr = addr.parse().ok()?;
        if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let prefix: u8 = prefix.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(Cidr { addr, prefix })
    }

    fn bits(addr: IpAddr) -> (u128, u8) {
        match addr {
            IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
            IpAddr::V6(v6) => (u128::from(v6), 128),
        }
    }

    fn mask(&self) -> u128 {
        let (_, width) = Self::bits(self.addr);
        let host_bits = u32::from(width - self.prefix);
        let all = if width == 32 {
            u128::from(u32::MAX)
        } else {
            u128::MAX
        };
        if host_bits >= 128 {
            0
        } else {
            all & !((1u128 << host_bits).wrapping_sub(1))
        }
    }

    fn contains(&self, ip: IpAddr) -> bool {
        if ip.is_ipv4() != self.addr.is_ipv4() {
            return false;
        }
        let (net, _) = Self::bits(self.addr);
        let (other, _) = Self::bits(ip);
        net & self.mask() == other & self.mask()
    }

    /// The first host address (network address + 1), the engine's default gateway.
    fn first_host(&self) -> IpAddr {
        let (net, _) = Self::bits(self.addr);
        let first = (net & self.mask()).wrapping_add(1);
        match self.addr {
            IpAddr::V4(_) => {
                IpAddr::V4(std::net::Ipv4Addr::from(u32::try_from(first).unwrap_or(0)))
            }
            IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::from(first)),
        }
    }
}

/// swarmkit's `validateIPAMConfiguration`.
fn validate_ipam_config(config: &NetworkIPAMConfig) -> ControlResult<()> {
    let subnet = Cidr::parse(&config.subnet).ok_or_else(|| {
        invalid_argument(format!(
            "ipam configuration: invalid subnet {}",
            config.subnet
        ))
    })?;
    if !config.ip_range.is_empty() {
        let range = Cidr::parse(&config.ip_range).ok_or_else(|| {
            invalid_argument(format!(
                "ipam configuration: invalid range {}",
                config.ip_range
            ))
        })?;
        if !subnet.contains(range.addr) {
            return Err(invalid_argument(format!(
                "ipam configuration: subnet {} does not contain range {}",
                config.subnet, config.ip_range
            )));
        }
    }
    if !config.gateway.is_empty() {
        let gateway: IpAddr = config.gateway.parse().map_err(|_| {
            invalid_argument(format!(
                "ipam configuration: invalid gateway {}",
                config.gateway
            ))
        })?;
        if !subnet.contains(gateway) {
            return Err(invalid_argument(format!(
                "ipam configuration: subnet {} does not contain gateway {}",
                config.subnet, config.gateway
            )));
        }
    }
    Ok(())
}

/// The swarm network a (validated) request asks for, as the engine converts it
/// (`BasicNetworkCreateToGRPC`), before `apply` allocates its addresses. Overlay networks get
/// their subnets and VXLAN IDs at apply; networks of node-local drivers (macvlan, ipvlan,
/// bridge, host) get only the driver's name, as swarmkit leaves them to each node.
pub fn network_from_request(request: &NetworkCreateRequest, id: String, now: Timestamp) -> Network {
    let ipam_options = request.ipam.as_ref().map(|ipam| IPAMOptions {
        driver: Driver {
            name: if ipam.driver.is_empty() {
                "default".into()
            } else {
                ipam.driver.clone()
            },
            options: ipam.options.clone().unwrap_or_default(),
        },
        configs: ipam
            .config
            .iter()
            .map(|c| IPAMConfig {
                subnet: c.subnet.clone(),
                range: c.ip_range.clone(),
                gateway: c.gateway.clone(),
            })
            .collect(),
    });
    let spec = NetworkSpec {
        name: request.name.clone(),
        labels: request.labels.clone(),
        driver_configuration: Some(Driver {
            name: request.driver.clone(),
            options: request.options.clone(),
        }),
        ipv6_enabled: request.enable_ipv6.unwrap_or(false),
        internal: request.internal,
        attachable: request.attachable,
        ingress: request.ingress,
        ipam_options: ipam_options.clone(),
        config_from: request
            .config_from
            .clone()
            .filter(|c| !c.network.is_empty()),
        scope: SWARM_SCOPE.into(),
    };
    let (driver_state, ipam_options) = if request.driver == OVERLAY_DRIVER {
        let mut options = request.options.clone();
        // Only IDs asked for in the request survive to apply; it adds the rest.
        options.retain(|k, v| k != VXLAN_ID_OPTION || !v.trim().is_empty());
        let mut ipam = ipam_options.unwrap_or_else(|| IPAMOptions {
            driver: Driver {
                name: "default".into(),
                options: BTreeMap::new(),
            },
            configs: Vec::new(),
        });
        for config in &mut ipam.configs {
            // IPv6 subnets are not carved by apply; their gateway is fixed here.
            if config.gateway.is_empty() && config.subnet.contains(':') {
                if let Some(subnet) = Cidr::parse(&config.subnet) {
                    config.gateway = subnet.first_host().to_string();
                }
            }
        }
        (
            Driver {
                name: OVERLAY_DRIVER.into(),
                options,
            },
            Some(ipam),
        )
    } else {
        (
            Driver {
                name: request.driver.clone(),
                options: BTreeMap::new(),
            },
            Some(IPAMOptions::default()),
        )
    };
    Network {
        id,
        version: Version::default(),
        created_at: now,
        updated_at: now,
        spec,
        driver_state,
        ipam_options,
    }
}
