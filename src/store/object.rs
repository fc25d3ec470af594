//! What the store keeps, seen uniformly: every replicated object has a kind, an ID, a name and
//! a `Version.Index`. Generic create/update/remove in `apply` work through [`StoredObject`].

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::records::ServiceRecord;
use super::state::ClusterState;
use crate::types::config::Config;
use crate::types::network::Network;
use crate::types::node::Node;
use crate::types::secret::Secret;
use crate::types::task::Task;

/// The kinds of replicated objects; also the event `Type` for the ones that have events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Cluster,
    Node,
    Service,
    Task,
    Secret,
    Config,
    Network,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Cluster => "cluster",
            Kind::Node => "node",
            Kind::Service => "service",
            Kind::Task => "task",
            Kind::Secret => "secret",
            Kind::Config => "config",
            Kind::Network => "network",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A replicated object kept in one of [`ClusterState`]'s maps.
pub trait StoredObject: Clone + Serialize + DeserializeOwned + Send + Sync + 'static {
    const KIND: Kind;
    /// Whether names are unique among objects of this kind (and kept in the name index):
    /// services, secrets, configs and networks; not nodes (hostnames) or tasks.
    const UNIQUE_NAMES: bool = true;
    fn id(&self) -> &str;
    /// The user-facing name (`Spec.Name`); empty for objects without one (tasks).
    fn name(&self) -> &str;
    fn version(&self) -> u64;
    fn set_version(&mut self, index: u64);
    fn map(state: &ClusterState) -> &BTreeMap<String, Arc<Self>>;
    fn map_mut(state: &mut ClusterState) -> &mut BTreeMap<String, Arc<Self>>;
}

macro_rules! stored_object {
    ($type:ty, $kind:expr, $field:ident, unique = $unique:expr, |$o:ident| $name:expr) => {
        impl StoredObject for $type {
            const KIND: Kind = $kind;
            const UNIQUE_NAMES: bool = $unique;
            fn id(&self) -> &str {
                &self.id
            }
            fn name(&self) -> &str {
                let $o = self;
                $name
            }
            fn version(&self) -> u64 {
                self.version.index
            }
            fn set_version(&mut self, index: u64) {
                self.version.index = index;
            }
            fn map(state: &ClusterState) -> &BTreeMap<String, Arc<Self>> {
                &state.$field
            }
            fn map_mut(state: &mut ClusterState) -> &mut BTreeMap<String, Arc<Self>> {
                &mut state.$field
            }
        }
    };
}

stored_object!(Node, Kind::Node, nodes, unique = false, |o| o.name());
impl StoredObject for ServiceRecord {
    const KIND: Kind = Kind::Service;
    fn id(&self) -> &str {
        &self.service.id
    }
    fn name(&self) -> &str {
        &self.service.spec.name
    }
    fn version(&self) -> u64 {
        self.service.version.index
    }
    fn set_version(&mut self, index: u64) {
        self.service.version.index = index;
    }
    fn map(state: &ClusterState) -> &BTreeMap<String, Arc<Self>> {
        &state.services
    }
    fn map_mut(state: &mut ClusterState) -> &mut BTreeMap<String, Arc<Self>> {
        &mut state.services
    }
}
stored_object!(Task, Kind::Task, tasks, unique = false, |_o| "");
stored_object!(Secret, Kind::Secret, secrets, unique = true, |o| &o
    .spec
    .name);
stored_object!(Config, Kind::Config, configs, unique = true, |o| &o
    .spec
    .name);
stored_object!(Network, Kind::Network, networks, unique = true, |o| &o
    .spec
    .name);
