//! The replicated state, in memory: one map per kind of object, plus the cluster record.
//!
//! Objects sit behind `Arc` so readers copy pointers, not objects, and release the lock at
//! once. Only `apply` mutates a `ClusterState`.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::object::{Kind, StoredObject};
use super::records::ServiceRecord;
use crate::types::config::Config;
use crate::types::network::Network;
use crate::types::node::Node;
use crate::types::secret::Secret;
use crate::types::swarm::{ClusterInfo, JoinTokens};
use crate::types::task::Task;

/// The cluster object and the secrets that travel with it. Only `ClusterInfo` and the join
/// tokens are ever shown to clients (and the unlock key through its own endpoint).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterRecord {
    pub info: ClusterInfo,
    pub join_tokens: JoinTokens,
    /// The root CA (PEM certificate and key) that signs node certificates.
    pub root_ca: RootCa,
    /// `SWMKEY-1-...` while autolock is on, empty otherwise.
    pub unlock_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootCa {
    pub cert_pem: String,
    pub key_pem: String,
}

/// Everything Raft replicates.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ClusterState {
    pub cluster: Option<Arc<ClusterRecord>>,
    pub nodes: BTreeMap<String, Arc<Node>>,
    pub services: BTreeMap<String, Arc<ServiceRecord>>,
    pub tasks: BTreeMap<String, Arc<Task>>,
    pub secrets: BTreeMap<String, Arc<Secret>>,
    pub configs: BTreeMap<String, Arc<Config>>,
    pub networks: BTreeMap<String, Arc<Network>>,
    /// (kind, lower-cased name) -> ID for the kinds whose names are unique; derived from the
    /// maps above, so not serialized ([`ClusterState::rebuild_names`] after loading).
    #[serde(skip)]
    names: std::collections::HashMap<(Kind, String), String>,
}

/// The name index key: swarmkit compares names lower-cased.
fn name_key(kind: Kind, name: &str) -> (Kind, String) {
    (kind, name.to_lowercase())
}

/// Why a user's reference (ID, name or ID prefix) did not resolve to one object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    #[error("{kind} {input} not found")]
    NotFound { kind: Kind, input: String },
    #[error("{kind} {input} is ambiguous ({matches} matches found)")]
    Ambiguous {
        kind: Kind,
        input: String,
        matches: usize,
    },
}

/// Whether two object names are one name to the engine: swarmkit indexes names lower-cased,
/// so `Web` finds `web`, and creating `WEB` beside `web` is a name conflict.
pub fn same_name(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

impl ClusterState {
    /// Rebuilds the name index from the maps (after loading or installing a snapshot).
    pub fn rebuild_names(&mut self) {
        let mut names = std::collections::HashMap::new();
        fn add<T: StoredObject>(
            names: &mut std::collections::HashMap<(Kind, String), String>,
            map: &BTreeMap<String, Arc<T>>,
        ) {
            for object in map.values() {
                names.insert(name_key(T::KIND, object.name()), object.id().to_string());
            }
        }
        add(&mut names, &self.services);
        add(&mut names, &self.secrets);
        add(&mut names, &self.configs);
        add(&mut names, &self.networks);
        self.names = names;
    }

    /// The ID of the object of kind `T` named `name`, for kinds with unique names.
    pub fn id_by_name<T: StoredObject>(&self, name: &str) -> Option<&str> {
        if !T::UNIQUE_NAMES {
            return None;
        }
        self.names.get(&name_key(T::KIND, name)).map(String::as_str)
    }

    /// Whether `name` is taken by an object of kind `T` other than `except_id`.
    pub fn name_taken<T: StoredObject>(&self, name: &str, except_id: &str) -> bool {
        if T::UNIQUE_NAMES {
            return self.id_by_name::<T>(name).is_some_and(|id| id != except_id);
        }
        T::map(self)
            .values()
            .any(|o| o.id() != except_id && same_name(o.name(), name))
    }

    /// Records that `id` now carries `name` (and no longer `old_name`).
    pub fn index_name<T: StoredObject>(&mut self, old_name: Option<&str>, name: &str, id: &str) {
        if !T::UNIQUE_NAMES {
            return;
        }
        if let Some(old) = old_name {
            self.names.remove(&name_key(T::KIND, old));
        }
        self.names.insert(name_key(T::KIND, name), id.to_string());
    }

    /// Forgets the name of a removed object.
    pub fn unindex_name<T: StoredObject>(&mut self, name: &str) {
        if T::UNIQUE_NAMES {
            self.names.remove(&name_key(T::KIND, name));
        }
    }

    /// Resolves `input` the engine's way: exact ID, then name (see [`same_name`]), then unique
    /// ID prefix.
    pub fn resolve<T: StoredObject>(&self, input: &str) -> Result<Arc<T>, LookupError> {
        let map = T::map(self);
        if let Some(object) = map.get(input) {
            return Ok(object.clone());
        }
        let not_found = || LookupError::NotFound {
            kind: T::KIND,
            input: input.to_string(),
        };
        if input.is_empty() {
            return Err(not_found());
        }
        if T::UNIQUE_NAMES {
            if let Some(object) = self.id_by_name::<T>(input).and_then(|id| map.get(id)) {
                return Ok(object.clone());
            }
        }
        let mut by_name = map
            .values()
            .filter(|o| !T::UNIQUE_NAMES && same_name(o.name(), input));
        if let Some(first) = by_name.next() {
            // Names are unique for services, secrets, configs and networks; nodes may share
            // a hostname, and then the engine reports the ambiguity.
            let others = by_name.count();
            if others > 0 {
                return Err(LookupError::Ambiguous {
                    kind: T::KIND,
                    input: input.to_string(),
                    matches: others + 1,
                });
            }
            return Ok(first.clone());
        }
        let mut by_prefix = map
            .range::<str, _>((std::ops::Bound::Included(input), std::ops::Bound::Unbounded))
            .take_while(|(id, _)| id.starts_with(input))
            .map(|(_, o)| o);
        match (by_prefix.next(), by_prefix.count()) {
            (Some(only), 0) => Ok(only.clone()),
            (Some(_), more) => Err(LookupError::Ambiguous {
                kind: T::KIND,
                input: input.to_string(),
                matches: more + 1,
            }),
            (None, _) => Err(not_found()),
        }
    }

    /// The object with exactly this ID.
    pub fn get<T: StoredObject>(&self, id: &str) -> Option<Arc<T>> {
        T::map(self).get(id).cloned()
    }

    /// The object of this kind named `name` (compared as [`same_name`] does).
    pub fn by_name<T: StoredObject>(&self, name: &str) -> Option<Arc<T>> {
        if T::UNIQUE_NAMES {
            return self
                .id_by_name::<T>(name)
                .and_then(|id| T::map(self).get(id))
                .cloned();
        }
        T::map(self)
            .values()
            .find(|o| same_name(o.name(), name))
            .cloned()
    }

    /// Number of replicated objects of every kind (for start-up logs and metrics).
    pub fn object_count(&self) -> usize {
        self.nodes.len()
            + self.services.len()
            + self.tasks.len()
            + self.secrets.len()
            + self.configs.len()
            + self.networks.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::secret::{Secret, SecretSpec};

    fn secret(id: &str, name: &str) -> Arc<Secret> {
        Arc::new(Secret {
            id: id.into(),
            spec: SecretSpec {
                name: name.into(),
                ..SecretSpec::default()
            },
            ..Secret::default()
        })
    }

    #[test]
    fn names_compare_lower_cased() {
        assert!(same_name("Web", "web"));
        assert!(same_name("APP_x.1", "app_X.1"));
        assert!(!same_name("web", "web2"));
        assert!(same_name("Ärger", "ärger"));
        assert!(!same_name("", "x"));
    }

    #[test]
    fn resolve_by_id_name_then_prefix() {
        let mut state = ClusterState::default();
        for (id, name) in [("abc1", "s1"), ("abd2", "S2"), ("xyz3", "abd")] {
            state.secrets.insert(id.into(), secret(id, name));
        }
        state.rebuild_names();
        assert_eq!(state.resolve::<Secret>("abc1").unwrap().id, "abc1");
        assert_eq!(state.resolve::<Secret>("S1").unwrap().id, "abc1");
        assert_eq!(state.resolve::<Secret>("s2").unwrap().id, "abd2");
        // A name wins over an ID prefix.
        assert_eq!(state.resolve::<Secret>("abd").unwrap().id, "xyz3");
        assert_eq!(
            state.resolve::<Secret>("ab").unwrap_err().to_string(),
            "secret ab is ambiguous (2 matches found)"
        );
        assert_eq!(
            state.resolve::<Secret>("nosuch").unwrap_err().to_string(),
            "secret nosuch not found"
        );
        assert_eq!(state.by_name::<Secret>("s2").unwrap().id, "abd2");
    }
}
