//! Swarm networks as engine networks on this node.
//!
//! This kernel may lack what overlay networks need (and dockerd is not in swarm mode), so each
//! swarm network a task joins becomes a local bridge network on the engine with the swarm
//! network's subnet and gateway: the task's allocated address is its address there, and
//! containers on it reach each other by the aliases the agent gives them (the service name,
//! `tasks.<service>`, the configured aliases). The engine network is created on demand,
//! labelled with the swarm network's ID and this node's ID, and removed when no task of the
//! node uses it.

use std::collections::{HashMap, HashSet};

use crate::engine::{Engine, EngineError, LocalNetwork, NETWORK_LABEL, NETWORK_NODE_LABEL};
use crate::types::network::{Network, NetworkAttachment};

/// The engine network standing for `network`: its name and the start of its ID, so that two
/// clusters on one engine (tests, a node that left and joined another swarm) never share one.
pub fn engine_network_name(network: &Network) -> String {
    let short: String = network.id.chars().take(12).collect();
    format!("{}.{short}", network.spec.name)
}

/// The engine network for `network` as this node creates it.
pub fn local_network(network: &Network, node_id: &str) -> LocalNetwork {
    let config = network
        .ipam_options
        .as_ref()
        .and_then(|o| o.configs.iter().find(|c| !c.subnet.contains(':')));
    LocalNetwork {
        name: engine_network_name(network),
        subnet: config.map(|c| c.subnet.clone()).unwrap_or_default(),
        gateway: config.map(|c| c.gateway.clone()).unwrap_or_default(),
        internal: network.spec.internal,
        labels: HashMap::from([
            (NETWORK_LABEL.to_string(), network.id.clone()),
            (NETWORK_NODE_LABEL.to_string(), node_id.to_string()),
        ]),
    }
}

/// The engine networks this node created, serialised so that tasks starting together create
/// each network once.
pub struct Networks {
    node_id: String,
    known: tokio::sync::Mutex<HashSet<String>>,
}

impl Networks {
    pub fn new(node_id: &str) -> Self {
        Self {
            node_id: node_id.to_string(),
            known: tokio::sync::Mutex::new(HashSet::new()),
        }
    }

    /// Creates the engine networks of `attachments` that do not exist yet.
    pub async fn ensure<E: Engine>(
        &self,
        engine: &E,
        attachments: &[NetworkAttachment],
    ) -> Result<(), String> {
        if attachments.is_empty() {
            return Ok(());
        }
        let mut known = self.known.lock().await;
        if attachments
            .iter()
            .all(|a| known.contains(&engine_network_name(&a.network)))
        {
            return Ok(());
        }
        let existing = engine
            .list_networks(&format!("{NETWORK_NODE_LABEL}={}", self.node_id))
            .await
            .map_err(|e| e.to_string())?;
        known.extend(existing.into_iter().map(|n| n.name));
        for attachment in attachments {
            let wanted = local_network(&attachment.network, &self.node_id);
            if known.contains(&wanted.name) {
                continue;
            }
            match engine.create_network(&wanted).await {
                Ok(()) => {}
                // Created by someone else meanwhile.
                Err(EngineError::Status { status: 409, .. }) => {}
                Err(error) => {
                    return Err(format!(
                        "cannot create network {} on the engine: {error}",
                        attachment.network.spec.name
                    ))
                }
            }
            known.insert(wanted.name);
        }
        Ok(())
    }

    /// Removes this node's engine networks that no task uses any more (`in_use` holds engine
    /// network names). A network the engine still sees in use is kept for the next round.
    pub async fn release_unused<E: Engine>(&self, engine: &E, in_use: &HashSet<String>) {
        let mut known = self.known.lock().await;
        let existing = match engine
            .list_networks(&format!("{NETWORK_NODE_LABEL}={}", self.node_id))
            .await
        {
            Ok(existing) => existing,
            Err(error) => {
                tracing::warn!(%error, "cannot list the engine's networks");
                return;
            }
        };
        for network in existing {
            if in_use.contains(&network.name) {
                continue;
            }
            match engine.remove_network(&network.name).await {
                Ok(()) => {
                    known.remove(&network.name);
                }
                Err(error) => {
                    tracing::debug!(network = %network.name, %error, "engine network kept")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::fake::FakeEngine;
    use crate::types::network::{IPAMConfig, IPAMOptions, NetworkSpec};

    fn network(id: &str, name: &str, subnet: &str) -> Network {
        Network {
            id: id.into(),
            spec: NetworkSpec {
                name: name.into(),
                ..Default::default()
            },
            ipam_options: Some(IPAMOptions {
                configs: vec![IPAMConfig {
                    subnet: subnet.into(),
                    gateway: subnet.replace(".0/24", ".1"),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn networks_are_created_once_and_released_when_unused() {
        let engine = FakeEngine::default();
        let networks = Networks::new("node1");
        let backend = NetworkAttachment {
            network: network("abcdefabcdef99", "backend", "10.0.1.0/24"),
            addresses: vec![],
        };
        networks
            .ensure(&engine, std::slice::from_ref(&backend))
            .await
            .unwrap();
        networks
            .ensure(&engine, std::slice::from_ref(&backend))
            .await
            .unwrap();
        let created = engine.networks();
        assert_eq!(created.len(), 1);
        assert_eq!(created[0].name, "backend.abcdefabcdef");
        assert_eq!(created[0].subnet, "10.0.1.0/24");
        assert_eq!(created[0].gateway, "10.0.1.1");
        assert_eq!(created[0].labels[NETWORK_LABEL], "abcdefabcdef99");

        let in_use = HashSet::from(["backend.abcdefabcdef".to_string()]);
        networks.release_unused(&engine, &in_use).await;
        assert_eq!(engine.networks().len(), 1);
        networks.release_unused(&engine, &HashSet::new()).await;
        assert!(engine.networks().is_empty());
    }
}
