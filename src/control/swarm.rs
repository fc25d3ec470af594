//! `/swarm`: init, join, leave, update (with token and key rotation), unlock, and the `Swarm`
//! section of `/info`.

use sha2::{Digest, Sha256};

use super::addr;
use super::{Control, ControlError, ControlResult, Manager, Slot};
use crate::ca::{self, RootCa as CaRoot};
use crate::store::local::{self, LocalNode};
use crate::store::{ClusterRecord, Command, RootCa};
use crate::types::ids::new_id;
use crate::types::meta::TLSInfo;
use crate::types::meta::Version;
use crate::types::node::{
    ManagerStatus, Node, NodeAvailability, NodeRole, NodeSpec, NodeState, NodeStatus, Reachability,
};
use crate::types::swarm::{
    ClusterInfo, InitRequest, JoinRequest, JoinTokens, LocalNodeState, Peer, Swarm, SwarmInfo,
    SwarmSpec, UnlockKeyResponse,
};

use super::defaults;
use super::node_description;

/// The engine's default VXLAN data port.
const DEFAULT_DATA_PATH_PORT: u32 = 4789;
const DEFAULT_SUBNET_SIZE: u32 = 24;

/// Which secrets `swarm update` should replace.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rotate {
    pub worker_token: bool,
    pub manager_token: bool,
    pub manager_unlock_key: bool,
}

impl Control {
    /// `POST /swarm/init`: a new single-manager cluster with this node as its leader.
    pub async fn init_swarm(&self, request: InitRequest) -> ControlResult<String> {
        let _guard = self.lifecycle.lock().await;
        if !matches!(self.slot(), Slot::Inactive) {
            return Err(ControlError::AlreadyInSwarm);
        }
        let (listen_ip, listen_port) = addr::resolve_listen_addr(&request.listen_addr)?;
        let (advertise_ip, advertise_port) =
            addr::resolve_advertise_addr(&request.advertise_addr, listen_ip, listen_port)?;
        let data_path_port = match request.data_path_port {
            0 => DEFAULT_DATA_PATH_PORT,
            port if (1024..=49151).contains(&port) => port,
            port => {
                return Err(ControlError::Invalid(format!(
                    "data path port must be within range 1024 to 49151, got {port}"
                )))
            }
        };
        let subnet_size = match request.subnet_size {
            0 => DEFAULT_SUBNET_SIZE,
            size if (1..=29).contains(&size) => size,
            size => {
                return Err(ControlError::Invalid(format!(
                    "invalid subnet size {size}: it must be between 1 and 29"
                )))
            }
        };
        let pools = defaults::address_pools(&request.default_addr_pool, subnet_size)?;
        let mut spec = request.spec.clone();
        defaults::fill_swarm_spec(&mut spec);
        if request.auto_lock_managers {
            spec.encryption_config.auto_lock_managers = true;
        }
        defaults::validate_swarm_spec(&spec)?;
        let availability = match request.availability {
            Some(availability) => availability,
            None => NodeAvailability::Active,
        };

        let description = node_description::from_engine(self.engine()).await?;
        let now = self.timestamp()?;
        let node_id = new_id();
        let cluster_id = new_id();
        let root = CaRoot::generate().map_err(|e| ControlError::Internal(e.to_string()))?;
        let trust = root
            .trust_info()
            .map_err(|e| ControlError::Internal(e.to_string()))?;
        let digest = root
            .digest()
            .map_err(|e| ControlError::Internal(e.to_string()))?;
        let node_cert = root
            .issue(
                &node_id,
                ca::NodeRole::Manager,
                &cluster_id,
                std::time::Duration::from_nanos(
                    u64::try_from(spec.ca_config.node_cert_expiry).unwrap_or(0),
                ),
            )
            .map_err(|e| ControlError::Internal(e.to_string()))?;
        let tls_info = TLSInfo {
            trust_root: trust.trust_root,
            cert_issuer_subject: trust.cert_issuer_subject.into(),
            cert_issuer_public_key: trust.cert_issuer_public_key.into(),
        };
        let unlock_key = if spec.encryption_config.auto_lock_managers {
            ca::unlock_key()
        } else {
            String::new()
        };

        let cluster = ClusterRecord {
            info: ClusterInfo {
                id: cluster_id.clone(),
                version: Version::default(),
                created_at: now,
                updated_at: now,
                spec,
                tls_info: tls_info.clone(),
                root_rotation_in_progress: false,
                default_addr_pool: (!pools.is_empty()).then_some(pools),
                subnet_size,
                data_path_port,
            },
            join_tokens: JoinTokens {
                worker: ca::join_token(&digest),
                manager: ca::join_token(&digest),
            },
            root_ca: RootCa {
                cert_pem: root.cert_pem.clone(),
                key_pem: root.key_pem.clone(),
            },
            unlock_key: unlock_key.clone(),
        };
        let local = LocalNode {
            node_id: node_id.clone(),
            raft_id: new_raft_id(),
            advertise_addr: advertise_ip.to_string(),
            listen_addr: format!("{listen_ip}:{listen_port}"),
            advertise_port,
            data_path_addr: request.data_path_addr.clone(),
            cert_pem: node_cert.cert_pem,
            key_pem: node_cert.key_pem,
            unlock_key_digest: None,
        };
        let mut description = description;
        description.tls_info = tls_info;
        let node = Node {
            id: node_id.clone(),
            version: Version::default(),
            created_at: now,
            updated_at: now,
            spec: NodeSpec {
                name: String::new(),
                labels: Default::default(),
                role: Some(NodeRole::Manager),
                availability: Some(availability),
            },
            description,
            status: NodeStatus {
                state: NodeState::Ready,
                message: String::new(),
                addr: local.advertise_addr.clone(),
            },
            manager_status: Some(ManagerStatus {
                leader: true,
                reachability: Reachability::Reachable,
                addr: local.manager_addr(),
            }),
        };
        let networks = vec![defaults::ingress_network(now, &cluster.info)?];

        let db = self.open_new_database()?;
        let started = async {
            local::save(&db, &local).map_err(|e| ControlError::Internal(e.to_string()))?;
            let manager = self.start_manager(db, local.clone(), true).await?;
            let created = async {
                manager.wait_for_leadership().await?;
                manager
                    .propose(Command::CreateCluster {
                        cluster: Box::new(cluster),
                        node: Box::new(node),
                        networks,
                    })
                    .await
            }
            .await;
            match created {
                Ok(()) => Ok(manager),
                Err(error) => {
                    manager.stop().await;
                    Err(error)
                }
            }
        }
        .await;
        match started {
            Ok(manager) => {
                self.set_slot(Slot::Active(manager));
                tracing::info!(node.id = %node_id, cluster.id = %cluster_id, "swarm initialized");
                Ok(node_id)
            }
            Err(error) => {
                let _ = self.erase_state();
                Err(error)
            }
        }
    }

    /// `POST /swarm/join`: joining another cluster needs the cluster port, which comes with
    /// multi-node support.
    pub async fn join_swarm(&self, _request: JoinRequest) -> ControlResult<()> {
        let _guard = self.lifecycle.lock().await;
        if !matches!(self.slot(), Slot::Inactive) {
            return Err(ControlError::AlreadyInSwarm);
        }
        Err(ControlError::NotImplemented(
            "joining an existing swarm is not supported by this shoal yet: it runs single-manager clusters (use \"docker swarm init\")".into(),
        ))
    }

    /// `POST /swarm/leave`: stops the manager and erases the cluster state.
    pub async fn leave_swarm(&self, force: bool) -> ControlResult<()> {
        let _guard = self.lifecycle.lock().await;
        match self.slot() {
            Slot::Inactive => return Err(ControlError::NotInSwarm),
            Slot::Locked(_) if !force => {
                return Err(ControlError::Unavailable(
                    "Swarm is encrypted and locked. Please unlock it first or use `--force` to ignore this message.".into(),
                ))
            }
            Slot::Locked(_) => {}
            Slot::Active(manager) => {
                if !force {
                    return Err(ControlError::Unavailable(
                        "You are attempting to leave the swarm on a node that is participating as a manager. Removing the last manager erases all current state of the swarm. Use `--force` to ignore this message. ".into(),
                    ));
                }
                manager.stop().await;
            }
        }
        self.set_slot(Slot::Inactive);
        // The database closes once Raft's tasks have dropped it; unlinking is safe meanwhile.
        self.erase_state()?;
        tracing::info!("left the swarm");
        Ok(())
    }

    /// `GET /swarm`.
    pub fn inspect_swarm(&self) -> ControlResult<Swarm> {
        let manager = self.manager()?;
        let state = manager.store.read();
        let cluster = state.cluster.as_ref().ok_or(ControlError::NotManager)?;
        Ok(Swarm::new(
            cluster.info.clone(),
            cluster.join_tokens.clone(),
        ))
    }

    /// `POST /swarm/update`.
    pub async fn update_swarm(
        &self,
        version: u64,
        mut spec: SwarmSpec,
        rotate: Rotate,
    ) -> ControlResult<()> {
        let manager = self.manager()?;
        defaults::fill_swarm_spec(&mut spec);
        defaults::validate_swarm_spec(&spec)?;
        let current = {
            let state = manager.store.read();
            state.cluster.clone().ok_or(ControlError::NotManager)?
        };
        let mut next = (*current).clone();
        let digest = CaRoot {
            cert_pem: current.root_ca.cert_pem.clone(),
            key_pem: current.root_ca.key_pem.clone(),
        }
        .digest()
        .map_err(|e| ControlError::Internal(e.to_string()))?;
        if rotate.worker_token {
            next.join_tokens.worker = ca::join_token(&digest);
        }
        if rotate.manager_token {
            next.join_tokens.manager = ca::join_token(&digest);
        }
        let autolock = spec.encryption_config.auto_lock_managers;
        if !autolock {
            next.unlock_key.clear();
        } else if next.unlock_key.is_empty() || rotate.manager_unlock_key {
            next.unlock_key = ca::unlock_key();
        }
        next.info.spec = spec;
        next.info.updated_at = self.timestamp()?;
        let unlock_key = next.unlock_key.clone();
        manager
            .propose(Command::UpdateCluster {
                expected_version: version,
                cluster: Box::new(next),
            })
            .await?;
        self.remember_unlock_key(&manager, &unlock_key)
    }

    /// Records locally whether the next start is locked, and with which key.
    fn remember_unlock_key(&self, manager: &Manager, key: &str) -> ControlResult<()> {
        let digest = (!key.is_empty()).then(|| key_digest(key));
        let mut local = manager.local.clone();
        if local.unlock_key_digest == digest {
            return Ok(());
        }
        local.unlock_key_digest = digest;
        manager
            .save_local(&local)
            .map_err(|e| ControlError::Internal(e.to_string()))
    }

    /// `GET /swarm/unlockkey`.
    pub fn unlock_key(&self) -> ControlResult<UnlockKeyResponse> {
        let manager = self.manager()?;
        let state = manager.store.read();
        let cluster = state.cluster.as_ref().ok_or(ControlError::NotManager)?;
        Ok(UnlockKeyResponse {
            unlock_key: cluster.unlock_key.clone(),
        })
    }

    /// `POST /swarm/unlock`: starts a locked manager when given its key.
    pub async fn unlock_swarm(&self, key: &str) -> ControlResult<()> {
        let _guard = self.lifecycle.lock().await;
        let local = match self.slot() {
            Slot::Locked(local) => local,
            Slot::Active(_) => return Err(ControlError::Conflict("swarm is not locked".into())),
            Slot::Inactive => return Err(ControlError::NotManager),
        };
        let expected = local.unlock_key_digest.clone().unwrap_or_default();
        if !ca::is_unlock_key(key.trim()) || key_digest(key.trim()) != expected {
            return Err(ControlError::Unauthorized(
                "swarm could not be unlocked: invalid key provided".into(),
            ));
        }
        let db = super::lifecycle::open_existing(&self.database_path())?;
        let manager = self.start_manager(db, (*local).clone(), false).await?;
        self.set_slot(Slot::Active(manager));
        tracing::info!("swarm unlocked");
        Ok(())
    }

    /// The `Swarm` section of `/info`.
    pub fn swarm_info(&self) -> SwarmInfo {
        match self.slot() {
            Slot::Inactive => SwarmInfo::inactive(),
            Slot::Locked(local) => SwarmInfo {
                node_id: local.node_id.clone(),
                node_addr: local.advertise_addr.clone(),
                local_node_state: LocalNodeState::Locked,
                ..SwarmInfo::inactive()
            },
            Slot::Active(manager) => {
                let state = manager.store.read();
                let managers: Vec<Peer> = state
                    .nodes
                    .values()
                    .filter_map(|n| {
                        n.manager_status.as_ref().map(|m| Peer {
                            node_id: n.id.clone(),
                            addr: m.addr.clone(),
                        })
                    })
                    .collect();
                SwarmInfo {
                    node_id: manager.local.node_id.clone(),
                    node_addr: manager.local.advertise_addr.clone(),
                    local_node_state: LocalNodeState::Active,
                    control_available: true,
                    error: String::new(),
                    managers: managers.len() as i64,
                    remote_managers: Some(managers),
                    nodes: state.nodes.len() as i64,
                    warnings: Vec::new(),
                    cluster: state.cluster.as_ref().map(|c| c.info.clone()),
                }
            }
        }
    }
}

impl Manager {
    pub(super) fn save_local(
        &self,
        local: &LocalNode,
    ) -> Result<(), crate::store::tables::TableError> {
        self.store.save_local(local)
    }
}

fn key_digest(key: &str) -> String {
    let hash = Sha256::digest(key.as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

fn new_raft_id() -> u64 {
    loop {
        let id = rand::random::<u64>();
        if id != 0 {
            return id;
        }
    }
}
