//! A service's observed `Endpoint`, computed when the service is written: published ports as
//! allocated and one virtual IP per network it needs one on. Deterministic (it reads only the
//! state), so it runs inside `apply` and every manager allocates the same addresses.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use super::error::StoreError;
use super::ipam::{self, Subnet};
use super::state::ClusterState;
use crate::types::endpoint::{
    Endpoint, EndpointVirtualIP, PortConfig, PortProtocol, PublishMode, ResolutionMode,
};
use crate::types::network::Network;
use crate::types::service::Service;

/// The range ingress ports are picked from when a spec leaves `PublishedPort` at 0.
pub const DYNAMIC_PORTS: std::ops::RangeInclusive<u32> = 30000..=32767;

fn protocol(port: &PortConfig) -> PortProtocol {
    port.protocol.unwrap_or(PortProtocol::Tcp)
}

fn mode(port: &PortConfig) -> PublishMode {
    port.publish_mode.unwrap_or(PublishMode::Ingress)
}

/// Fills `service.endpoint` from its spec; `previous` keeps earlier allocations stable.
pub fn allocate(
    state: &ClusterState,
    service: &mut Service,
    previous: Option<&Service>,
) -> Result<(), StoreError> {
    let spec = service.spec.endpoint_spec.clone().unwrap_or_default();
    check_port_conflicts(state, service)?;

    // Ports other services hold; only needed to pick dynamic ones, which is rare.
    let needs_dynamic = spec
        .ports
        .iter()
        .any(|p| p.published_port == 0 && mode(p) == PublishMode::Ingress);
    let mut taken: BTreeSet<(u32, PortProtocol)> = if needs_dynamic {
        state
            .services
            .values()
            .filter(|s| s.service.id != service.id)
            .flat_map(|s| s.service.endpoint.ports.iter())
            .filter(|p| p.published_port != 0)
            .map(|p| (p.published_port, protocol(p)))
            .collect()
    } else {
        BTreeSet::new()
    };
    let mut ports = Vec::with_capacity(spec.ports.len());
    for port in &spec.ports {
        let mut resolved = port.clone();
        resolved.protocol = Some(protocol(port));
        resolved.publish_mode = Some(mode(port));
        if resolved.published_port == 0 && mode(port) == PublishMode::Ingress {
            let kept = previous
                .into_iter()
                .flat_map(|p| p.endpoint.ports.iter())
                .find(|p| {
                    p.target_port == port.target_port
                        && protocol(p) == protocol(port)
                        && mode(p) == PublishMode::Ingress
                        && p.published_port != 0
                        && !taken.contains(&(p.published_port, protocol(p)))
                })
                .map(|p| p.published_port);
            let chosen = kept.or_else(|| {
                DYNAMIC_PORTS.clone().find(|candidate| {
                    !taken.contains(&(*candidate, protocol(port)))
                        && !spec.ports.iter().any(|p| {
                            p.published_port == *candidate && protocol(p) == protocol(port)
                        })
                })
            });
            resolved.published_port = chosen.ok_or_else(|| {
                StoreError::InvalidArgument("no free port left in the dynamic range".into())
            })?;
        }
        if resolved.published_port != 0 {
            taken.insert((resolved.published_port, protocol(&resolved)));
        }
        ports.push(resolved);
    }

    let mut networks: Vec<&Network> = Vec::new();
    let wants_vips = spec.mode.unwrap_or(ResolutionMode::Vip) == ResolutionMode::Vip;
    if ports.iter().any(|p| mode(p) == PublishMode::Ingress) {
        if let Some(ingress) = state.networks.values().find(|n| n.spec.ingress) {
            networks.push(ingress);
        }
    }
    if wants_vips {
        for target in service.spec.network_targets() {
            if let Some(network) = state.networks.get(target) {
                if !networks.iter().any(|n| n.id == network.id) {
                    networks.push(network);
                }
            }
        }
    }

    let mut virtual_ips = Vec::with_capacity(networks.len());
    for network in networks {
        let kept = previous
            .into_iter()
            .flat_map(|p| p.endpoint.virtual_ips.iter())
            .find(|v| v.network_id == network.id)
            .cloned();
        let vip = match kept {
            Some(vip) => vip,
            None => {
                let Some(subnet) = subnet_of(network) else {
                    continue;
                };
                let used = used_addresses(state, &network.id, &service.id);
                let addr = ipam::next_address(subnet, &used).ok_or_else(|| {
                    StoreError::InvalidArgument(format!(
                        "could not allocate a virtual IP on network {}: no free address",
                        network.spec.name
                    ))
                })?;
                EndpointVirtualIP {
                    network_id: network.id.clone(),
                    addr: subnet.with_prefix(addr),
                }
            }
        };
        virtual_ips.push(vip);
    }

    service.endpoint = Endpoint {
        spec,
        ports,
        virtual_ips,
    };
    Ok(())
}

/// The first IPv4 subnet of a network's IPAM configuration.
pub fn subnet_of(network: &Network) -> Option<Subnet> {
    network
        .ipam_options
        .as_ref()?
        .configs
        .iter()
        .find_map(|c| Subnet::parse(&c.subnet))
}

/// Addresses on `network_id` held by other services' VIPs and by tasks.
fn used_addresses(
    state: &ClusterState,
    network_id: &str,
    except_service: &str,
) -> BTreeSet<Ipv4Addr> {
    let parse = |cidr: &str| {
        cidr.split('/')
            .next()
            .and_then(|a| a.parse::<Ipv4Addr>().ok())
    };
    let vips = state
        .services
        .values()
        .filter(|s| s.service.id != except_service)
        .flat_map(|s| s.service.endpoint.virtual_ips.iter())
        .filter(|v| v.network_id == network_id)
        .filter_map(|v| parse(&v.addr));
    let tasks = state
        .tasks
        .values()
        .flat_map(|t| t.networks_attachments.iter())
        .filter(|a| a.network.id == network_id)
        .flat_map(|a| a.addresses.iter())
        .filter_map(|a| parse(a));
    vips.chain(tasks).collect()
}

/// The engine's check: a published port may not be taken by another service (ingress ports
/// conflict with everything; host-mode ports only with ingress ones).
fn check_port_conflicts(state: &ClusterState, service: &Service) -> Result<(), StoreError> {
    let Some(spec) = &service.spec.endpoint_spec else {
        return Ok(());
    };
    let wanted: Vec<(u32, PortProtocol, PublishMode)> = spec
        .ports
        .iter()
        .filter(|p| p.published_port != 0)
        .map(|p| (p.published_port, protocol(p), mode(p)))
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    for other in state.services.values().map(|s| &s.service) {
        if other.id == service.id {
            continue;
        }
        let their_ports = other
            .spec
            .endpoint_spec
            .iter()
            .flat_map(|e| e.ports.iter())
            .chain(other.endpoint.ports.iter())
            .filter(|p| p.published_port != 0);
        for theirs in their_ports {
            let key = (theirs.published_port, protocol(theirs));
            let clash = |m: PublishMode| wanted.iter().any(|w| (w.0, w.1) == key && w.2 == m);
            match mode(theirs) {
                PublishMode::Host if clash(PublishMode::Ingress) => {
                    return Err(StoreError::InvalidArgument(format!(
                        "port '{}' is already in use by service '{}' ({}) as a host-published port",
                        theirs.published_port, other.spec.name, other.id
                    )))
                }
                PublishMode::Ingress if clash(PublishMode::Ingress) || clash(PublishMode::Host) => {
                    return Err(StoreError::InvalidArgument(format!(
                        "port '{}' is already in use by service '{}' ({}) as an ingress port",
                        theirs.published_port, other.spec.name, other.id
                    )))
                }
                _ => {}
            }
        }
    }
    Ok(())
}
