//! Tasks: `GET /tasks`, `GET /tasks/{id}`, and the ordered [`TaskState`] every part of the
//! swarm agrees on.
//!
//! A task is one slot of a service placed on one node. Its observed state only moves forward,
//! in swarmkit's order (`new` < `allocated` < `pending` < `assigned` < `accepted` < `preparing`
//! < `ready` < `starting` < `running` < `complete` < `shutdown` < `failed` < `rejected` <
//! `remove` < `orphaned`). Depends on `meta`, `task_spec`, `network`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::endpoint::PortConfig;
use super::enums::string_enum;
use super::meta::{Timestamp, Version};
use super::network::NetworkAttachment;
use super::task_spec::{GenericResource, TaskSpec};

string_enum! {
    /// The life-cycle state of a task, ordered as swarmkit orders it.
    #[derive(Default)]
    pub enum TaskState as "TaskState" {
        /// Created by the orchestrator.
        #[default]
        New = "new",
        /// Resources (addresses) allocated.
        Allocated = "allocated",
        /// Waiting for the scheduler.
        Pending = "pending",
        /// Placed on a node.
        Assigned = "assigned",
        /// The node's agent took it.
        Accepted = "accepted",
        /// Pulling the image, creating the container.
        Preparing = "preparing",
        /// Created, waiting to start.
        Ready = "ready",
        Starting = "starting",
        Running = "running",
        /// Exited with code 0.
        Complete = "complete",
        /// Stopped on request.
        Shutdown = "shutdown",
        /// Exited non-zero or could not be run.
        Failed = "failed",
        /// The node refused it.
        Rejected = "rejected",
        /// Marked for deletion (a desired state).
        Remove = "remove",
        /// Its node has been gone too long.
        Orphaned = "orphaned",
    }
}

impl TaskState {
    /// True once the task has stopped for good (`complete` and every later state).
    pub fn is_terminal(self) -> bool {
        self > TaskState::Running
    }

    /// Whether the observed state may move from `self` to `next`.
    ///
    /// States only move forward. Once terminal (`complete`, `shutdown`, `failed`,
    /// `rejected`), a task's outcome is settled: it may only still be marked `remove` or
    /// `orphaned`.
    pub fn can_transition_to(self, next: TaskState) -> bool {
        if next <= self {
            return false;
        }
        !self.is_terminal() || matches!(next, TaskState::Remove | TaskState::Orphaned)
    }
}

/// A task.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct Task {
    #[serde(rename = "ID")]
    pub id: String,
    pub version: Version,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Empty: the CLI builds task names itself (`web.1`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Always emitted, `{}` when empty.
    pub labels: BTreeMap<String, String>,
    /// A copy of the service's `TaskTemplate` (network targets as IDs).
    pub spec: TaskSpec,
    #[serde(rename = "ServiceID", skip_serializing_if = "String::is_empty")]
    pub service_id: String,
    /// Replica slot; omitted (0) for global tasks.
    #[serde(skip_serializing_if = "super::meta::is_zero_i64")]
    pub slot: i64,
    /// Omitted until the task is assigned.
    #[serde(rename = "NodeID", skip_serializing_if = "String::is_empty")]
    pub node_id: String,
    pub status: TaskStatus,
    pub desired_state: TaskState,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub networks_attachments: Vec<NetworkAttachment>,
    /// Generic resources assigned to the task (the swagger calls this
    /// `AssignedGenericResources`; the engine emits `GenericResources`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub generic_resources: Vec<GenericResource>,
    /// For job tasks: the job run this task belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_iteration: Option<Version>,
    /// Cluster volumes (API 1.42+; newer engines emit `null` when none, API 1.41 omits it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volumes: Option<Vec<VolumeAttachment>>,
}

/// The observed state of a task.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct TaskStatus {
    pub timestamp: Timestamp,
    pub state: TaskState,
    /// `"pending task scheduling"`, `"started"`, ...
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub err: String,
    /// Omitted until a container exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_status: Option<ContainerStatus>,
    /// Always emitted (`{}`).
    pub port_status: PortStatus,
}

/// The task's container on its node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerStatus {
    #[serde(rename = "ContainerID")]
    pub container_id: String,
    #[serde(rename = "PID")]
    pub pid: i64,
    pub exit_code: i64,
}

/// Host-mode ports published by the task.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct PortStatus {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<PortConfig>,
}

/// A cluster volume used by a task.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumeAttachment {
    #[serde(rename = "ID", skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub source: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub target: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The swarmkit order, written out independently of the enum.
    const ORDER: [&str; 15] = [
        "new",
        "allocated",
        "pending",
        "assigned",
        "accepted",
        "preparing",
        "ready",
        "starting",
        "running",
        "complete",
        "shutdown",
        "failed",
        "rejected",
        "remove",
        "orphaned",
    ];

    #[test]
    fn order_matches_swarmkit() {
        let names: Vec<&str> = TaskState::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names, ORDER);
        for (i, a) in TaskState::ALL.iter().enumerate() {
            for (j, b) in TaskState::ALL.iter().enumerate() {
                assert_eq!(a.cmp(b), i.cmp(&j), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn transitions_over_all_pairs() {
        let terminal_from = ORDER.iter().position(|s| *s == "complete").unwrap();
        for (i, from) in TaskState::ALL.iter().enumerate() {
            for (j, to) in TaskState::ALL.iter().enumerate() {
                let expected =
                    j > i && (i < terminal_from || ORDER[j] == "remove" || ORDER[j] == "orphaned");
                assert_eq!(from.can_transition_to(*to), expected, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn terminal_states() {
        assert!(!TaskState::Running.is_terminal());
        assert!(TaskState::Complete.is_terminal());
        assert!(TaskState::Failed.is_terminal());
        assert!(TaskState::Running.can_transition_to(TaskState::Failed));
        assert!(!TaskState::Failed.can_transition_to(TaskState::Running));
        assert!(!TaskState::Complete.can_transition_to(TaskState::Failed));
        assert!(TaskState::Complete.can_transition_to(TaskState::Orphaned));
    }

    #[test]
    fn states_encode_lowercase() {
        assert_eq!(
            serde_json::to_string(&TaskState::Running).unwrap(),
            "\"running\""
        );
        let err = serde_json::from_str::<TaskState>("\"rollback\"").unwrap_err();
        assert_eq!(err.to_string(), "invalid TaskState: \"rollback\"");
    }

    #[test]
    fn fresh_task_shape() {
        let out = serde_json::to_value(Task::default()).unwrap();
        let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "CreatedAt",
                "DesiredState",
                "ID",
                "Labels",
                "Spec",
                "Status",
                "UpdatedAt",
                "Version"
            ]
        );
        assert_eq!(out["Status"]["PortStatus"], serde_json::json!({}));
    }
}
