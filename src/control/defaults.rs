//! The engine's defaults and checks for the swarm spec, address pools and the networks every
//! swarm starts with.

use std::collections::BTreeMap;

use super::{ControlError, ControlResult};
use crate::store::ipam::{self, Subnet};
use crate::types::ids::new_id;
use crate::types::meta::{Driver, Timestamp, Version};
use crate::types::network::{IPAMConfig, IPAMOptions, Network, NetworkSpec};
use crate::types::swarm::{ClusterInfo, SwarmSpec};

/// 90 days, the engine's node certificate lifetime.
pub const NODE_CERT_EXPIRY_NS: i64 = 90 * 24 * 3600 * 1_000_000_000;
const ONE_HOUR_NS: i64 = 3600 * 1_000_000_000;

/// Fills what a client left at zero with the engine's defaults (`swarm init` sends zeros).
pub fn fill_swarm_spec(spec: &mut SwarmSpec) {
    if spec.name.is_empty() {
        spec.name = "default".into();
    }
    if spec.orchestration.task_history_retention_limit.is_none() {
        spec.orchestration.task_history_retention_limit = Some(5);
    }
    if spec.raft.snapshot_interval == 0 {
        spec.raft.snapshot_interval = 10_000;
    }
    if spec.raft.keep_old_snapshots.is_none() {
        spec.raft.keep_old_snapshots = Some(0);
    }
    if spec.raft.log_entries_for_slow_followers == 0 {
        spec.raft.log_entries_for_slow_followers = 500;
    }
    if spec.raft.election_tick == 0 {
        spec.raft.election_tick = 10;
    }
    if spec.raft.heartbeat_tick == 0 {
        spec.raft.heartbeat_tick = 1;
    }
    if spec.dispatcher.heartbeat_period == 0 {
        spec.dispatcher.heartbeat_period = 5_000_000_000;
    }
    if spec.ca_config.node_cert_expiry == 0 {
        spec.ca_config.node_cert_expiry = NODE_CERT_EXPIRY_NS;
    }
}

/// The engine's checks on a swarm spec.
pub fn validate_swarm_spec(spec: &SwarmSpec) -> ControlResult<()> {
    let invalid = |m: &str| {
        Err(ControlError::Invalid(format!(
            "rpc error: code = InvalidArgument desc = {m}"
        )))
    };
    if spec.raft.election_tick <= spec.raft.heartbeat_tick {
        return invalid("ElectionTick must be greater than HeartbeatTick");
    }
    if spec.dispatcher.heartbeat_period < 0 {
        return invalid("heartbeat period cannot be negative");
    }
    if spec.ca_config.node_cert_expiry < ONE_HOUR_NS {
        return invalid("minimum certificate expiry time is: 1h0m0s");
    }
    if spec
        .orchestration
        .task_history_retention_limit
        .is_some_and(|l| l < 0)
    {
        return invalid("task history retention limit cannot be negative");
    }
    Ok(())
}

/// The `DefaultAddrPool` of `swarm init`: empty means the engine's 10.0.0.0/8 (shown as
/// `null`); each pool must hold subnets of `subnet_size`.
pub fn address_pools(pools: &[String], subnet_size: u32) -> ControlResult<Vec<String>> {
    let mut parsed = Vec::with_capacity(pools.len());
    for pool in pools {
        let subnet = Subnet::parse(pool).ok_or_else(|| {
            ControlError::Invalid(format!("invalid default address pool {pool:?}: not a CIDR"))
        })?;
        if u32::from(subnet.prefix) > subnet_size {
            return Err(ControlError::Invalid(format!(
                "invalid default address pool {pool}: subnet size {subnet_size} is bigger than the pool"
            )));
        }
        parsed.push(subnet.to_string());
    }
    Ok(parsed)
}

/// The pools as subnets, defaulting to the engine's.
pub fn pools_of(info: &ClusterInfo) -> Vec<Subnet> {
    ipam::cluster_pools(info).0
}

/// The `ingress` network a new swarm starts with: the first subnet of the pools, VXLAN 4096.
pub fn ingress_network(now: Timestamp, cluster: &ClusterInfo) -> ControlResult<Network> {
    let size = u8::try_from(cluster.subnet_size).unwrap_or(ipam::DEFAULT_SUBNET_SIZE);
    let subnet = ipam::next_subnet(&pools_of(cluster), size, &[]).ok_or_else(|| {
        ControlError::Invalid(
            "the default address pools have no room for the ingress network".into(),
        )
    })?;
    Ok(Network {
        id: new_id(),
        version: Version::default(),
        created_at: now,
        updated_at: now,
        spec: NetworkSpec {
            name: "ingress".into(),
            labels: BTreeMap::new(),
            driver_configuration: Some(Driver::default()),
            ingress: true,
            ipam_options: Some(IPAMOptions {
                driver: Driver::default(),
                configs: Vec::new(),
            }),
            scope: "swarm".into(),
            ..Default::default()
        },
        driver_state: Driver {
            name: "overlay".into(),
            options: BTreeMap::from([(
                "com.docker.network.driver.overlay.vxlanid_list".to_string(),
                ipam::FIRST_VXLAN_ID.to_string(),
            )]),
        },
        ipam_options: Some(IPAMOptions {
            driver: Driver {
                name: "default".into(),
                options: BTreeMap::new(),
            },
            configs: vec![IPAMConfig {
                subnet: subnet.to_string(),
                range: String::new(),
                gateway: subnet.gateway().to_string(),
            }],
        }),
    })
}
