//! `/nodes`: list, inspect, update, remove; and keeping this node's own description current.

use super::{Control, ControlError, ControlResult, Listed, Manager};
use crate::store::{Command, StoreError};
use crate::types::filters::Filters;
use crate::types::node::{Node, NodeRole, NodeSpec, NodeState};

const LIST_FILTERS: &[&str] = &["id", "label", "membership", "name", "node.label", "role"];

impl Control {
    /// `GET /nodes`.
    pub fn list_nodes(&self, filters: &Filters) -> ControlResult<Listed<Node>> {
        filters
            .validate(LIST_FILTERS)
            .map_err(|e| ControlError::Invalid(e.to_string()))?;
        for role in filters.get("role") {
            if !role.is_empty()
                && !matches!(role.to_ascii_lowercase().as_str(), "worker" | "manager")
            {
                return Err(ControlError::Invalid(format!(
                    "Invalid role filter: '{role}'"
                )));
            }
        }
        for membership in filters.get("membership") {
            if !membership.is_empty()
                && !matches!(
                    membership.to_ascii_lowercase().as_str(),
                    "pending" | "accepted"
                )
            {
                return Err(ControlError::Invalid(format!(
                    "Invalid membership filter: '{membership}'"
                )));
            }
        }
        let manager = self.manager()?;
        let state = manager.store.read();
        let roles: Vec<String> = filters
            .get("role")
            .iter()
            .filter(|r| !r.is_empty())
            .map(|r| r.to_ascii_lowercase())
            .collect();
        let memberships: Vec<String> = filters
            .get("membership")
            .iter()
            .filter(|m| !m.is_empty())
            .map(|m| m.to_ascii_lowercase())
            .collect();
        let nodes = state
            .nodes
            .values()
            .filter(|node| {
                let role = if node.is_manager() {
                    "manager"
                } else {
                    "worker"
                };
                filters.fuzzy_match("id", &node.id)
                    && (!filters.contains("name") || filters.fuzzy_match("name", node.name()))
                    && filters.match_labels("label", &node.description.engine.labels)
                    && filters.match_labels("node.label", &node.spec.labels)
                    && (roles.is_empty() || roles.iter().any(|r| r == role))
                    // Every node that is in the store has been accepted.
                    && (memberships.is_empty() || memberships.iter().any(|m| m == "accepted"))
            })
            .cloned()
            .collect();
        Ok(Listed(nodes))
    }

    /// `GET /nodes/{id}`: by ID, name (hostname) or unique ID prefix.
    pub fn inspect_node(&self, input: &str) -> ControlResult<Node> {
        let manager = self.manager()?;
        let node = manager.store.read().resolve::<Node>(input)?;
        Ok((*node).clone())
    }

    /// `POST /nodes/{id}/update?version=N`.
    pub async fn update_node(
        &self,
        input: &str,
        version: u64,
        spec: NodeSpec,
    ) -> ControlResult<()> {
        let manager = self.manager()?;
        let (current, managers) = {
            let state = manager.store.read();
            let node = state.resolve::<Node>(input)?;
            let managers = state.nodes.values().filter(|n| n.is_manager()).count();
            (node, managers)
        };
        let role = spec
            .role
            .ok_or_else(|| ControlError::Invalid("invalid Role: \"\"".into()))?;
        if spec.availability.is_none() {
            return Err(ControlError::Invalid("invalid Availability: \"\"".into()));
        }
        if current.is_manager() && role == NodeRole::Worker {
            if managers <= 1 {
                return Err(StoreError::FailedPrecondition(
                    "attempting to demote the last manager of the swarm".into(),
                )
                .into());
            }
            return Err(ControlError::NotImplemented(
                "demoting a manager needs a second manager, and this shoal runs single-manager clusters".into(),
            ));
        }
        if !current.is_manager() && role == NodeRole::Manager {
            return Err(ControlError::NotImplemented(
                "promoting a worker needs multi-manager support, which this shoal does not have yet".into(),
            ));
        }
        let mut node = (*current).clone();
        node.spec = spec;
        node.updated_at = self.timestamp()?;
        manager
            .propose(Command::UpdateNode {
                expected_version: version,
                node: Box::new(node),
            })
            .await
    }

    /// `DELETE /nodes/{id}?force=1`.
    pub async fn remove_node(&self, input: &str, force: bool) -> ControlResult<()> {
        let manager = self.manager()?;
        let node = manager.store.read().resolve::<Node>(input)?;
        // A manager is refused by `apply` (first, as the engine checks it first).
        if !node.is_manager() && !force && node.status.state == NodeState::Ready {
            return Err(StoreError::FailedPrecondition(format!(
                "node {} is not down and can't be removed",
                node.id
            ))
            .into());
        }
        manager
            .propose(Command::RemoveNode {
                id: node.id.clone(),
                at: self.now(),
            })
            .await
    }

    /// Brings this node's `Description` up to date with its engine (hostname, resources,
    /// engine version and plugins may change between restarts).
    pub(super) async fn refresh_local_node(&self, manager: &Manager) -> ControlResult<()> {
        let description = super::node_description::from_engine(self.engine()).await?;
        manager.wait_for_leadership().await?;
        let current = manager
            .store
            .read()
            .get::<Node>(manager.node_id())
            .ok_or_else(|| ControlError::Internal("this node is missing from the store".into()))?;
        let mut updated = (*current).clone();
        let tls_info = updated.description.tls_info.clone();
        updated.description = description;
        updated.description.tls_info = tls_info;
        updated.status.state = NodeState::Ready;
        updated.status.addr = manager.local.advertise_addr.clone();
        if let Some(status) = &mut updated.manager_status {
            status.leader = manager.is_leader();
            status.addr = manager.local.manager_addr();
        }
        if updated.description == current.description
            && updated.status == current.status
            && updated.manager_status == current.manager_status
        {
            return Ok(());
        }
        updated.updated_at = self.timestamp()?;
        match manager
            .propose(Command::UpdateNode {
                expected_version: current.version.index,
                node: Box::new(updated),
            })
            .await
        {
            // Someone else updated the node meanwhile; the next start refreshes again.
            Err(ControlError::Store(StoreError::OutOfSequence)) => Ok(()),
            other => other,
        }
    }
}
