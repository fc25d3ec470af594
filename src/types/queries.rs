//! Questions about wire objects that several layers ask: which secrets, configs and networks a
//! service references, how many replicas it wants, whether a node is a manager.

use super::node::{Node, NodeRole};
use super::service::{Service, ServiceSpec};

impl ServiceSpec {
    /// The replica count of a replicated service (`None` for other modes).
    pub fn replicas(&self) -> Option<u64> {
        self.mode
            .replicated
            .as_ref()
            .map(|r| r.replicas.unwrap_or(1))
    }

    /// IDs of the secrets the task template references.
    pub fn secret_ids(&self) -> impl Iterator<Item = &str> {
        self.task_template
            .container_spec
            .iter()
            .flat_map(|c| c.secrets.iter())
            .map(|s| s.secret_id.as_str())
    }

    /// IDs of the configs the task template references.
    pub fn config_ids(&self) -> impl Iterator<Item = &str> {
        self.task_template
            .container_spec
            .iter()
            .flat_map(|c| c.configs.iter())
            .map(|c| c.config_id.as_str())
    }

    /// Targets (IDs once stored) of the networks the service attaches to, including the
    /// deprecated top-level `Networks`.
    pub fn network_targets(&self) -> impl Iterator<Item = &str> {
        self.task_template
            .networks
            .iter()
            .chain(self.networks.iter())
            .map(|n| n.target.as_str())
    }
}

impl Service {
    pub fn secret_ids(&self) -> impl Iterator<Item = &str> {
        self.spec.secret_ids()
    }

    pub fn config_ids(&self) -> impl Iterator<Item = &str> {
        self.spec.config_ids()
    }

    pub fn network_ids(&self) -> impl Iterator<Item = &str> {
        self.spec.network_targets()
    }

    pub fn uses_secret(&self, id: &str) -> bool {
        self.secret_ids().any(|s| s == id)
    }

    pub fn uses_config(&self, id: &str) -> bool {
        self.config_ids().any(|c| c == id)
    }

    /// Whether the service is attached to network `id`, or publishes ingress ports and `id`
    /// is the ingress network's.
    pub fn uses_network(&self, id: &str) -> bool {
        self.network_ids().any(|n| n == id)
            || self.endpoint.virtual_ips.iter().any(|v| v.network_id == id)
    }
}

impl Node {
    pub fn is_manager(&self) -> bool {
        self.spec.role == Some(NodeRole::Manager)
    }

    /// The name the engine resolves nodes by: `Spec.Name`, else the hostname.
    pub fn name(&self) -> &str {
        if self.spec.name.is_empty() {
            &self.description.hostname
        } else {
            &self.spec.name
        }
    }
}

impl crate::types::task::Task {
    /// Whether the task runs the service's current task template (what the CLI's
    /// `_up-to-date` filter asks during a rollout).
    pub fn is_up_to_date(&self, service: &Service) -> bool {
        let mut template = service.spec.task_template.clone();
        let mut spec = self.spec.clone();
        // Networks are compared by what the task was given; the runtime marker is not copied.
        template.runtime = None;
        spec.runtime = None;
        template.networks.clear();
        spec.networks.clear();
        template == spec
    }
}
