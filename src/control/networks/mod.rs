//! Swarm-scoped networks and how they mix with the engine's local ones under `/networks`.
//!
//! A `POST /networks/create` for the `overlay` driver (or `Scope: "swarm"`) becomes a swarm
//! network here: checked the engine's way (its router, its daemon, then swarmkit's control
//! API, in that order and with their texts), built as swarmkit's `NetworkSpec`, and proposed;
//! `apply` gives it its subnets and VXLAN IDs. Anything else belongs to the local dockerd.
//!
//! Lists, inspects and removals see both kinds of network: [`resolve`] picks one the way the
//! engine's router does (full ID, then full name, then ID prefix, local first on an exact ID),
//! [`matches_filters`] applies the `/networks` filters to swarm networks, [`to_resource`]
//! turns a swarm network into the `/networks` shape. These are pure; the `Control` methods
//! add the store, the proposer and the engine's list of its own networks.
//!
//! Depends on `store`, `types` and the engine client. `validate.rs` checks and builds a new
//! swarm network; `view.rs` shows, filters, merges and resolves networks.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use serde_json::Value;

use super::{Control, ControlError, ControlResult};
use crate::store::ipam::{OVERLAY_DRIVER, VXLAN_ID_OPTION};
use crate::store::{ClusterState, Command, Kind, StoreError};
use crate::types::filters::{FilterError, Filters};
use crate::types::ids::new_id;
use crate::types::meta::{Driver, Timestamp, Version};
use crate::types::network::{IPAMConfig, IPAMOptions, Network, NetworkSpec};
use crate::types::network_resource::{
    NetworkConfigReference, NetworkCreateRequest, NetworkCreateResponse, NetworkIPAM,
    NetworkIPAMConfig, NetworkResource,
};

mod validate;
mod view;

pub use validate::*;
pub use view::*;

/// The scope of every swarm network.
pub const SWARM_SCOPE: &str = "swarm";

/// The network drivers swarm allocates for itself (swarmkit's built-in ones); a swarm-scoped
/// request for another driver is left to the engine, which looks the plugin up.
const SWARM_DRIVERS: [&str; 5] = ["overlay", "macvlan", "ipvlan", "bridge", "host"];

/// Names only the engine may use (`IsPreDefinedNetwork`).
const PREDEFINED_NAMES: [&str; 4] = ["bridge", "host", "none", "default"];

/// The label swarm reserves for its own predefined networks.
const PREDEFINED_LABEL: &str = "com.docker.swarm.predefined";

/// The keys `GET /networks` accepts in `filters`.
pub const LIST_FILTERS: [&str; 7] = ["dangling", "driver", "id", "label", "name", "scope", "type"];

/// Who answers a `POST /networks/create`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateRoute {
    /// The swarm (the engine's `ManagerRedirectError` path).
    Swarm,
    /// The local dockerd, untouched.
    Engine,
}

/// Swarm for the overlay driver or an explicit swarm scope with a driver swarm knows;
/// config-only networks are always local.
pub fn create_route(request: &NetworkCreateRequest) -> CreateRoute {
    if request.config_only {
        return CreateRoute::Engine;
    }
    let driver = request.driver.to_ascii_lowercase();
    let swarm_scoped = driver == OVERLAY_DRIVER || request.scope == SWARM_SCOPE;
    let known = driver.is_empty() || SWARM_DRIVERS.contains(&driver.as_str());
    if swarm_scoped && known {
        CreateRoute::Swarm
    } else {
        CreateRoute::Engine
    }
}

/// What shoal needs to know of one of the engine's own networks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LocalNetwork {
    pub id: String,
    pub name: String,
    pub scope: String,
    pub ingress: bool,
}

impl LocalNetwork {
    /// Reads one entry of the engine's `GET /networks` answer.
    pub fn from_json(value: &Value) -> Option<Self> {
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_string);
        Some(LocalNetwork {
            id: text("Id")?,
            name: text("Name").unwrap_or_default(),
            scope: text("Scope").unwrap_or_default(),
            ingress: value
                .get("Ingress")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }
}

/// The engine's `IsPreDefinedNetwork`.
pub fn is_predefined(name: &str) -> bool {
    PREDEFINED_NAMES.contains(&name)
}

fn invalid_argument(message: impl std::fmt::Display) -> ControlError {
    ControlError::Invalid(format!(
        "rpc error: code = InvalidArgument desc = {message}"
    ))
}

fn name_taken(name: &str) -> ControlError {
    ControlError::Store(StoreError::NameConflict {
        kind: Kind::Network,
        name: name.to_string(),
    })
}

impl Control {
    /// Whether `term` may name a swarm network (an ID, an ID prefix, or a name of one); when
    /// it cannot, `/networks/{term}` is the engine's alone. False on a node that is not an
    /// active manager.
    pub fn may_be_swarm_network(&self, term: &str) -> bool {
        let Ok(manager) = self.manager() else {
            return false;
        };
        let state = manager.store.read();
        state
            .networks
            .values()
            .any(|n| n.id.starts_with(term) || n.spec.name == term)
    }

    /// The engine's first check on any `POST /networks/create` in swarm mode: the name must
    /// not be a swarm network's (`network with name X already exists`).
    pub fn check_network_name_free(&self, name: &str) -> ControlResult<()> {
        let manager = self.manager()?;
        let taken = manager.store.read().by_name::<Network>(name).is_some();
        if taken {
            return Err(name_taken(name));
        }
        Ok(())
    }

    /// The swarm networks passing `filters`, in the `/networks` shape, ordered by ID.
    pub fn list_networks(&self, filters: &Filters) -> ControlResult<Vec<NetworkResource>> {
        let manager = self.manager()?;
        let state = manager.store.read();
        Ok(state
            .networks
            .values()
            .filter(|n| matches_filters(filters, n))
            .map(|n| to_resource(n))
            .collect())
    }

    /// Resolves a network reference among the engine's networks and the swarm's.
    pub async fn resolve_network(
        &self,
        term: &str,
        mode: ResolveMode<'_>,
    ) -> ControlResult<Resolved> {
        let manager = self.manager()?;
        let local = self.local_networks().await;
        let state = manager.store.read();
        resolve(term, &local, &state, mode)
    }

    /// `POST /networks/create` of a swarm network.
    pub async fn create_network(
        &self,
        request: NetworkCreateRequest,
    ) -> ControlResult<NetworkCreateResponse> {
        let manager = self.manager()?;
        let local = self.local_networks().await;
        validate_create(&request, &manager.store.read(), &local)?;
        let id = new_id();
        let network = network_from_request(&request, id.clone(), self.timestamp()?);
        manager
            .propose(Command::CreateNetwork {
                network: Box::new(network),
            })
            .await?;
        tracing::info!(network.id = %id, network.name = %request.name, "network created");
        Ok(NetworkCreateResponse {
            id,
            warning: String::new(),
        })
    }

    /// `DELETE /networks/{id}` of a swarm network, by its full ID.
    pub async fn remove_network(&self, id: &str) -> ControlResult<()> {
        let manager = self.manager()?;
        manager
            .propose(Command::RemoveNetwork {
                id: id.to_string(),
                at: self.now(),
            })
            .await?;
        tracing::info!(network.id = %id, "network removed");
        Ok(())
    }

    /// The engine's own networks; none when it cannot be asked (its checks are then skipped).
    async fn local_networks(&self) -> Vec<LocalNetwork> {
        match self.engine().get_json("/networks").await {
            Ok(Value::Array(list)) => list.iter().filter_map(LocalNetwork::from_json).collect(),
            Ok(_) => Vec::new(),
            Err(error) => {
                tracing::warn!(%error, "cannot list the engine's networks");
                Vec::new()
            }
        }
    }
}

#[cfg(test)]
mod tests;
