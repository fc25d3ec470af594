//! `apply`: the deterministic heart of the store.
//!
//! Given the state, the Raft log index and a command, either change the state and list what
//! changed, or refuse and change nothing. It reads no clock, no random source and no disk, so
//! every manager computes the same result; `Version.Index` of each written object becomes the
//! log index.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::command::{Command, DesiredStateChange, UnixNanos};

mod tasks;
use super::endpoint;
use super::error::StoreError;
use super::ipam;
use super::object::{Kind, StoredObject};
use super::records::ServiceRecord;
use super::state::ClusterState;
use crate::types::endpoint::PublishMode;
use crate::types::network::Network;
use crate::types::service::Service;
use crate::types::task::TaskState;

/// What happened to one object: the state machine persists these objects, the change feed
/// carries them, and `/events` shows those of the kinds the engine has events for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub kind: Kind,
    pub action: Action,
    pub id: String,
    pub name: String,
    /// When it happened (from the command; nanoseconds since the epoch).
    pub at: UnixNanos,
    /// Extra event attributes (e.g. `replicas.old`/`replicas.new` on service updates).
    pub attributes: BTreeMap<String, String>,
    /// For a task: its service, so a loop can tell whom the change concerns even once the
    /// task is gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Remove,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Remove => "remove",
        }
    }
}

/// Applies one command at log `index`, taking its objects into the state (no copy). On error
/// the state is unchanged.
pub fn apply(
    state: &mut ClusterState,
    index: u64,
    command: Command,
) -> Result<Vec<Change>, StoreError> {
    match command {
        Command::CreateCluster {
            cluster,
            node,
            networks,
        } => {
            if state.cluster.is_some() {
                return Err(StoreError::ClusterExists);
            }
            let mut cluster = *cluster;
            cluster.info.version.index = index;
            let at = nanos(&cluster.info.updated_at);
            let mut changes = vec![cluster_change(Action::Create, &cluster.info.id, at)];
            let mut node = *node;
            node.set_version(index);
            changes.push(change(Kind::Node, Action::Create, &node, at));
            state.nodes.insert(node.id.clone(), Arc::new(node));
            for mut network in networks {
                network.set_version(index);
                changes.push(change(Kind::Network, Action::Create, &network, at));
                state.index_name::<Network>(None, &network.spec.name, &network.id);
                state.networks.insert(network.id.clone(), Arc::new(network));
            }
            state.cluster = Some(Arc::new(cluster));
            Ok(changes)
        }

        Command::UpdateCluster {
            expected_version,
            cluster,
        } => {
            let current = state.cluster.as_ref().ok_or(StoreError::NoCluster)?;
            if current.info.version.index != expected_version {
                return Err(StoreError::OutOfSequence);
            }
            let mut cluster = *cluster;
            cluster.info.version.index = index;
            let at = nanos(&cluster.info.updated_at);
            let changes = vec![cluster_change(Action::Update, &cluster.info.id, at)];
            state.cluster = Some(Arc::new(cluster));
            Ok(changes)
        }

        Command::UpdateNode {
            expected_version,
            node,
        } => {
            let at = nanos(&node.updated_at);
            update(state, index, expected_version, *node, at)
        }
        Command::RemoveNode { id, at } => {
            let node = existing::<crate::types::node::Node>(state, &id)?;
            if node.is_manager() {
                return Err(StoreError::FailedPrecondition(format!(
                    "node {id} is a cluster manager and is a member of the raft cluster. \
                     It must be demoted to worker before removal"
                )));
            }
            remove::<crate::types::node::Node>(state, &id, at)
        }

        Command::CreateService { service } => {
            let mut record = *service;
            check_references(state, &record.service)?;
            endpoint::allocate(state, &mut record.service, None)?;
            record.spec_version = index;
            let at = nanos(&record.service.created_at);
            create(state, index, record, at)
        }
        Command::UpdateService {
            expected_version,
            service,
            new_spec,
        } => {
            let mut record = *service;
            check_references(state, &record.service)?;
            let current = state.services.get(&record.service.id).cloned();
            endpoint::allocate(
                state,
                &mut record.service,
                current.as_deref().map(|c| &c.service),
            )?;
            if new_spec {
                record.spec_version = index;
            }
            let at = nanos(&record.service.updated_at);
            let old_replicas = current.as_ref().and_then(|s| s.service.spec.replicas());
            let new_replicas = record.service.spec.replicas();
            let mut changes = update(state, index, expected_version, record, at)?;
            if let (Some(old), Some(new), Some(change)) =
                (old_replicas, new_replicas, changes.first_mut())
            {
                if old != new {
                    change
                        .attributes
                        .insert("replicas.old".into(), old.to_string());
                    change
                        .attributes
                        .insert("replicas.new".into(), new.to_string());
                }
            }
            Ok(changes)
        }
        Command::RemoveService { id, at } => {
            let mut changes = remove::<ServiceRecord>(state, &id, at)?;
            // Its tasks are not wanted any more, from this entry on (as the orchestrator would
            // decide a moment later): a `stack rm` that removes the stack's networks right
            // after its services must not find them held by those tasks.
            let unwanted: Vec<DesiredStateChange> = state
                .tasks
                .values()
                .filter(|t| t.service_id == id && t.desired_state < TaskState::Remove)
                .map(|t| DesiredStateChange {
                    task_id: t.id.clone(),
                    desired: TaskState::Remove,
                })
                .collect();
            changes.extend(tasks::set_desired_state(state, index, &unwanted, at)?);
            Ok(changes)
        }

        Command::SetNodeStatus {
            node_id,
            status,
            at,
        } => tasks::set_node_status(state, index, &node_id, &status, at),
        Command::SetUpdateStatus {
            service_id,
            update_status,
            at,
        } => tasks::set_update_status(state, index, &service_id, &update_status, at),
        Command::RollbackService {
            service_id,
            message,
            at,
        } => tasks::rollback_service(state, index, &service_id, &message, at),
        Command::CreateTasks { tasks } => tasks::create_tasks(state, index, tasks),
        Command::SetDesiredState { changes, at } => {
            tasks::set_desired_state(state, index, &changes, at)
        }
        Command::AssignTasks { assignments, at } => {
            tasks::assign_tasks(state, index, &assignments, at)
        }
        Command::UpdateTaskStatus { reports } => tasks::update_task_status(state, index, &reports),
        Command::RemoveTasks { ids, at } => tasks::remove_tasks(state, &ids, at),

        Command::CreateSecret { secret } => {
            let at = nanos(&secret.created_at);
            create(state, index, *secret, at)
        }
        Command::UpdateSecret {
            expected_version,
            secret,
        } => {
            let at = nanos(&secret.updated_at);
            update(state, index, expected_version, *secret, at)
        }
        Command::RemoveSecret { id, at } => {
            let secret = existing::<crate::types::secret::Secret>(state, &id)?;
            let users = services_using(state, |s| s.uses_secret(&id));
            if !users.is_empty() {
                return Err(StoreError::InUse {
                    kind: Kind::Secret,
                    name: secret.spec.name.clone(),
                    services: users,
                });
            }
            remove::<crate::types::secret::Secret>(state, &id, at)
        }

        Command::CreateConfig { config } => {
            let at = nanos(&config.created_at);
            create(state, index, *config, at)
        }
        Command::UpdateConfig {
            expected_version,
            config,
        } => {
            let at = nanos(&config.updated_at);
            update(state, index, expected_version, *config, at)
        }
        Command::RemoveConfig { id, at } => {
            let config = existing::<crate::types::config::Config>(state, &id)?;
            let users = services_using(state, |s| s.uses_config(&id));
            if !users.is_empty() {
                return Err(StoreError::InUse {
                    kind: Kind::Config,
                    name: config.spec.name.clone(),
                    services: users,
                });
            }
            remove::<crate::types::config::Config>(state, &id, at)
        }

        Command::CreateNetwork { network } => {
            let at = nanos(&network.created_at);
            let mut network = *network;
            if state.by_name::<Network>(&network.spec.name).is_some() {
                return Err(StoreError::NameConflict {
                    kind: Kind::Network,
                    name: network.spec.name,
                });
            }
            allocate_addresses(state, &mut network)?;
            create(state, index, network, at)
        }
        Command::RemoveNetwork { id, at } => {
            let network = existing::<Network>(state, &id)?;
            check_network_unused(state, &network)?;
            remove::<Network>(state, &id, at)
        }
    }
}

pub(super) fn change<T: StoredObject>(
    kind: Kind,
    action: Action,
    object: &T,
    at: UnixNanos,
) -> Change {
    Change {
        kind,
        action,
        id: object.id().to_string(),
        name: object.name().to_string(),
        at,
        attributes: BTreeMap::new(),
        service_id: None,
    }
}

/// A timestamp as nanoseconds since the epoch (saturating; timestamps here are recent).
pub(super) fn nanos(t: &crate::types::meta::Timestamp) -> UnixNanos {
    UnixNanos::try_from(t.unix_nanos()).unwrap_or(UnixNanos::MAX)
}

fn cluster_change(action: Action, id: &str, at: UnixNanos) -> Change {
    Change {
        kind: Kind::Cluster,
        action,
        id: id.to_string(),
        name: String::new(),
        at,
        attributes: BTreeMap::new(),
        service_id: None,
    }
}

fn existing<T: StoredObject>(state: &ClusterState, id: &str) -> Result<Arc<T>, StoreError> {
    T::map(state).get(id).cloned().ok_or(StoreError::NotFound {
        kind: T::KIND,
        id: id.to_string(),
    })
}

/// Inserts a new object; its name must be free among objects of its kind.
fn create<T: StoredObject>(
    state: &mut ClusterState,
    index: u64,
    mut object: T,
    at: UnixNanos,
) -> Result<Vec<Change>, StoreError> {
    if T::map(state).contains_key(object.id()) || state.name_taken::<T>(object.name(), "") {
        return Err(StoreError::NameConflict {
            kind: T::KIND,
            name: object.name().to_string(),
        });
    }
    object.set_version(index);
    let changes = vec![change(T::KIND, Action::Create, &object, at)];
    state.index_name::<T>(None, object.name(), object.id());
    T::map_mut(state).insert(object.id().to_string(), Arc::new(object));
    Ok(changes)
}

/// Replaces an object the client saw at `expected_version`.
fn update<T: StoredObject>(
    state: &mut ClusterState,
    index: u64,
    expected_version: u64,
    mut object: T,
    at: UnixNanos,
) -> Result<Vec<Change>, StoreError> {
    let current = T::map(state)
        .get(object.id())
        .cloned()
        .ok_or_else(|| StoreError::NotFound {
            kind: T::KIND,
            id: object.id().to_string(),
        })?;
    if current.version() != expected_version {
        return Err(StoreError::OutOfSequence);
    }
    let renamed = current.name() != object.name();
    if renamed && state.name_taken::<T>(object.name(), object.id()) {
        return Err(StoreError::NameConflict {
            kind: T::KIND,
            name: object.name().to_string(),
        });
    }
    object.set_version(index);
    let changes = vec![change(T::KIND, Action::Update, &object, at)];
    if renamed {
        state.index_name::<T>(Some(current.name()), object.name(), object.id());
    }
    T::map_mut(state).insert(object.id().to_string(), Arc::new(object));
    Ok(changes)
}

fn remove<T: StoredObject>(
    state: &mut ClusterState,
    id: &str,
    at: UnixNanos,
) -> Result<Vec<Change>, StoreError> {
    let object = T::map_mut(state)
        .remove(id)
        .ok_or_else(|| StoreError::NotFound {
            kind: T::KIND,
            id: id.to_string(),
        })?;
    state.unindex_name::<T>(object.name());
    Ok(vec![change(T::KIND, Action::Remove, object.as_ref(), at)])
}

/// Names of the services matching `uses`, sorted (the engine lists them in its message).
fn services_using(state: &ClusterState, uses: impl Fn(&Service) -> bool) -> Vec<String> {
    let mut names: Vec<String> = state
        .services
        .values()
        .filter(|s| uses(&s.service))
        .map(|s| s.service.spec.name.clone())
        .collect();
    names.sort();
    names
}

/// A service may only reference secrets, configs and networks that exist now: the proposer
/// checked, but a concurrent removal may have been committed first.
fn check_references(state: &ClusterState, service: &Service) -> Result<(), StoreError> {
    for id in service.secret_ids() {
        if !state.secrets.contains_key(id) {
            return Err(StoreError::InvalidArgument(format!(
                "secret {id} not found"
            )));
        }
    }
    for id in service.config_ids() {
        if !state.configs.contains_key(id) {
            return Err(StoreError::InvalidArgument(format!(
                "config {id} not found"
            )));
        }
    }
    for id in service.network_ids() {
        if !state.networks.contains_key(id) {
            return Err(StoreError::InvalidArgument(format!(
                "network {id} not found"
            )));
        }
    }
    Ok(())
}

/// Subnets, gateways and VXLAN IDs of a new overlay network, from the cluster's address pools
/// and what the other networks hold (see [`ipam::allocate_network`]).
fn allocate_addresses(state: &ClusterState, network: &mut Network) -> Result<(), StoreError> {
    let (pools, size) = match &state.cluster {
        Some(cluster) => ipam::cluster_pools(&cluster.info),
        None => (vec![ipam::DEFAULT_POOL], ipam::DEFAULT_SUBNET_SIZE),
    };
    ipam::allocate_network(
        network,
        state.networks.values().map(|n| n.as_ref()),
        &pools,
        size,
    )
    .map_err(|e| StoreError::InvalidArgument(e.to_string()))
}

/// swarmkit's checks before a network goes: the ingress network while a service publishes
/// ports through the routing mesh; any other while a service, or a task that is not yet past
/// running, is attached to it.
fn check_network_unused(state: &ClusterState, network: &Network) -> Result<(), StoreError> {
    let id = network.id.as_str();
    if network.spec.ingress {
        let needs_ingress = |s: &&Arc<ServiceRecord>| {
            s.spec.endpoint_spec.as_ref().is_some_and(|e| {
                e.ports
                    .iter()
                    .any(|p| p.publish_mode.unwrap_or(PublishMode::Ingress) == PublishMode::Ingress)
            })
        };
        if let Some(user) = state.services.values().find(needs_ingress) {
            return Err(StoreError::FailedPrecondition(format!(
                "ingress network cannot be removed because service {} depends on it",
                user.id
            )));
        }
        return Ok(());
    }
    if let Some(user) = state.services.values().find(|s| s.uses_network(id)) {
        return Err(StoreError::FailedPrecondition(format!(
            "network {id} is in use by service {}",
            user.id
        )));
    }
    let active = |t: &&Arc<crate::types::task::Task>| {
        t.desired_state <= TaskState::Running
            && t.status.state <= TaskState::Running
            && t.spec.networks.iter().any(|n| n.target == id)
    };
    if let Some(task) = state.tasks.values().find(active) {
        return Err(StoreError::FailedPrecondition(format!(
            "network {id} is in use by task {}",
            task.id
        )));
    }
    Ok(())
}

#[cfg(test)]
mod network_tests {
    use super::*;
    use crate::types::endpoint::{EndpointSpec, PortConfig};
    use crate::types::network::{IPAMConfig, IPAMOptions};
    use crate::types::task::Task;
    use crate::types::task_spec::NetworkAttachmentConfig;

    fn network(id: &str, name: &str, subnet: Option<&str>) -> Network {
        let mut n = Network {
            id: id.into(),
            ..Default::default()
        };
        n.spec.name = name.into();
        n.driver_state.name = "overlay".into();
        if let Some(subnet) = subnet {
            n.ipam_options = Some(IPAMOptions {
                configs: vec![IPAMConfig {
                    subnet: subnet.into(),
                    ..Default::default()
                }],
                ..Default::default()
            });
        }
        n
    }

    fn create(state: &mut ClusterState, index: u64, n: Network) -> Result<Vec<Change>, StoreError> {
        apply(
            state,
            index,
            Command::CreateNetwork {
                network: Box::new(n),
            },
        )
    }

    fn remove(state: &mut ClusterState, id: &str) -> Result<Vec<Change>, StoreError> {
        apply(
            state,
            99,
            Command::RemoveNetwork {
                id: id.into(),
                at: 0,
            },
        )
    }

    fn with_ingress() -> ClusterState {
        let mut state = ClusterState::default();
        let mut ingress = network("ingress-id", "ingress", Some("10.0.0.0/24"));
        ingress.spec.ingress = true;
        ingress
            .driver_state
            .options
            .insert(ipam::VXLAN_ID_OPTION.into(), "4096".into());
        state.networks.insert(ingress.id.clone(), Arc::new(ingress));
        state
    }

    #[test]
    fn create_allocates_like_the_engine() {
        let mut state = with_ingress();
        let changes = create(&mut state, 7, network("n1", "net1", None)).unwrap();
        assert_eq!(changes[0].action, Action::Create);
        assert_eq!(changes[0].name, "net1");
        let net1 = &state.networks["n1"];
        assert_eq!(net1.version.index, 7);
        let config = &net1.ipam_options.as_ref().unwrap().configs[0];
        assert_eq!(
            (config.subnet.as_str(), config.gateway.as_str()),
            ("10.0.1.0/24", "10.0.1.1")
        );
        assert_eq!(net1.driver_state.options[ipam::VXLAN_ID_OPTION], "4097");

        create(&mut state, 8, network("n2", "dupnet", None)).unwrap();
        assert_eq!(
            state.networks["n2"].ipam_options.as_ref().unwrap().configs[0].subnet,
            "10.0.2.0/24"
        );
    }

    #[test]
    fn create_refuses_names_and_overlaps_without_change() {
        let mut state = with_ingress();
        create(&mut state, 7, network("n1", "net1", None)).unwrap();
        let error = create(&mut state, 8, network("n2", "net1", None)).unwrap_err();
        assert_eq!(error.to_string(), "network with name net1 already exists");
        let error = create(&mut state, 9, network("n3", "mine", Some("10.0.1.0/25"))).unwrap_err();
        assert!(matches!(error, StoreError::InvalidArgument(_)), "{error}");
        assert_eq!(state.networks.len(), 2);
    }

    #[test]
    fn removal_waits_for_services_tasks_and_ingress_users() {
        let mut state = with_ingress();
        create(&mut state, 7, network("n1", "net1", None)).unwrap();

        let mut service = Service {
            id: "svc".into(),
            ..Default::default()
        };
        service
            .spec
            .task_template
            .networks
            .push(NetworkAttachmentConfig {
                target: "n1".into(),
                ..Default::default()
            });
        service.spec.endpoint_spec = Some(EndpointSpec {
            ports: vec![PortConfig {
                target_port: 80,
                published_port: 8080,
                ..Default::default()
            }],
            ..Default::default()
        });
        state
            .services
            .insert("svc".into(), Arc::new(ServiceRecord::new(service)));
        assert_eq!(
            remove(&mut state, "n1").unwrap_err().to_string(),
            "rpc error: code = FailedPrecondition desc = network n1 is in use by service svc"
        );
        assert_eq!(
            remove(&mut state, "ingress-id").unwrap_err().to_string(),
            "rpc error: code = FailedPrecondition desc = ingress network cannot be removed because service svc depends on it"
        );

        state.services.clear();
        let mut task = Task {
            id: "task1".into(),
            desired_state: TaskState::Running,
            ..Default::default()
        };
        task.spec.networks.push(NetworkAttachmentConfig {
            target: "n1".into(),
            ..Default::default()
        });
        state.tasks.insert("task1".into(), Arc::new(task.clone()));
        assert_eq!(
            remove(&mut state, "n1").unwrap_err().to_string(),
            "rpc error: code = FailedPrecondition desc = network n1 is in use by task task1"
        );
        task.desired_state = TaskState::Shutdown;
        state.tasks.insert("task1".into(), Arc::new(task));

        let changes = remove(&mut state, "n1").unwrap();
        assert_eq!(changes[0].action, Action::Remove);
        remove(&mut state, "ingress-id").unwrap();
        assert!(state.networks.is_empty());
    }
}
