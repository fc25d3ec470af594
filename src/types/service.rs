//! Services: `GET /services`, `GET /services/{id}`, the `ServiceSpec` body of
//! `POST /services/create` and `POST /services/{id}/update`, and their answers.
//!
//! `UpdateConfig`, `RollbackConfig`, `PreviousSpec`, `UpdateStatus`, `ServiceStatus` and
//! `JobStatus` are omitted when unset; `Spec.Labels` and `Endpoint` are always present.
//! Depends on `meta`, `enums`, `encoding`, `task_spec`, `endpoint`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::encoding::go_f32;
use super::endpoint::{Endpoint, EndpointSpec};
use super::enums::{empty_as_none, none_as_empty, string_enum};
use super::meta::{is_zero_i64, Timestamp, Version};
use super::task_spec::{NetworkAttachmentConfig, TaskSpec};

/// A service.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct Service {
    #[serde(rename = "ID")]
    pub id: String,
    pub version: Version,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub spec: ServiceSpec,
    /// The spec before the last update; `rollback=previous` swaps back to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_spec: Option<ServiceSpec>,
    pub endpoint: Endpoint,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_status: Option<UpdateStatus>,
    /// Only with `GET /services?status=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_status: Option<ServiceStatus>,
    /// Only for job services.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_status: Option<JobStatus>,
}

/// What users create and update.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct ServiceSpec {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Always emitted, `{}` when empty.
    pub labels: BTreeMap<String, String>,
    pub task_template: TaskSpec,
    pub mode: ServiceMode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_config: Option<UpdateConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollback_config: Option<UpdateConfig>,
    /// Deprecated (API < 1.25 clients): use `TaskTemplate.Networks`. Still accepted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub networks: Vec<NetworkAttachmentConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_spec: Option<EndpointSpec>,
}

/// Exactly one of the four should be set; the engine treats none as replicated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct ServiceMode {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicated: Option<ReplicatedService>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub global: Option<GlobalService>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicated_job: Option<ReplicatedJob>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub global_job: Option<GlobalJob>,
}

impl ServiceMode {
    /// `{"Replicated":{"Replicas":n}}`.
    pub fn replicated(replicas: u64) -> Self {
        ServiceMode {
            replicated: Some(ReplicatedService {
                replicas: Some(replicas),
            }),
            ..ServiceMode::default()
        }
    }

    /// `{"Global":{}}`.
    pub fn global() -> Self {
        ServiceMode {
            global: Some(GlobalService {}),
            ..ServiceMode::default()
        }
    }

    /// True for replicated and global jobs (tasks run to completion).
    pub fn is_job(&self) -> bool {
        self.replicated_job.is_some() || self.global_job.is_some()
    }

    /// True for global services and global jobs (one task per eligible node).
    pub fn is_global(&self) -> bool {
        self.global.is_some() || self.global_job.is_some()
    }
}

/// A fixed number of tasks (`Replicas` unset = 1, filled in on create).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct ReplicatedService {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u64>,
}

/// One task per node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct GlobalService {}

/// Run tasks until `TotalCompletions` have completed, at most `MaxConcurrent` at a time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct ReplicatedJob {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_concurrent: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_completions: Option<u64>,
}

/// Run one task to completion on every node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct GlobalJob {}

string_enum! {
    /// What to do when an update (or rollback) fails.
    pub enum FailureAction as "FailureAction" {
        Pause = "pause",
        Continue = "continue",
        Rollback = "rollback",
    }
}

string_enum! {
    /// Stop the old task before starting its replacement, or the other way round.
    pub enum UpdateOrder as "Order" {
        StopFirst = "stop-first",
        StartFirst = "start-first",
    }
}

/// Rolling update (or rollback) settings. Engine defaults on create: parallelism 1,
/// `pause`, monitor 5 s, ratio 0, `stop-first`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct UpdateConfig {
    /// Tasks updated at once; 0 means all at once.
    pub parallelism: u64,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub delay: i64,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "empty_as_none"
    )]
    pub failure_action: Option<FailureAction>,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub monitor: i64,
    /// Encoded as Go prints a float32 (`0`, `0.2`).
    #[serde(serialize_with = "go_f32")]
    pub max_failure_ratio: f32,
    /// Always emitted; `""` (stacks send it) decodes as `None`.
    #[serde(serialize_with = "none_as_empty", deserialize_with = "empty_as_none")]
    #[schema(value_type = Option<UpdateOrder>)]
    pub order: Option<UpdateOrder>,
}

string_enum! {
    /// Progress of an update or rollback.
    #[derive(Default)]
    pub enum UpdateState as "UpdateState" {
        #[default]
        Updating = "updating",
        Paused = "paused",
        Completed = "completed",
        RollbackStarted = "rollback_started",
        RollbackPaused = "rollback_paused",
        RollbackCompleted = "rollback_completed",
    }
}

/// Where the last update stands (`"update in progress"`, `"update completed"`,
/// `"manually requested rollback"`, `"rollback completed"`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct UpdateStatus {
    pub state: UpdateState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// Task counts for `status=true` (for a replicated job `DesiredTasks` is `MaxConcurrent`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct ServiceStatus {
    pub running_tasks: u64,
    pub desired_tasks: u64,
    pub completed_tasks: u64,
}

/// The current run of a job (`JobIteration` index 0 encodes as `{}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct JobStatus {
    pub job_iteration: Version,
    pub last_execution: Timestamp,
}

/// The answer of `POST /services/create` (201).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct ServiceCreateResponse {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The answer of `POST /services/{id}/update`: `{"Warnings":null}` when there are none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct ServiceUpdateResponse {
    pub warnings: Option<Vec<String>>,
}

string_enum! {
    /// `registryAuthFrom` of a service update: whose registry credentials to keep.
    pub enum RegistryAuthSource as "registryAuthFrom" {
        Spec = "spec",
        PreviousSpec = "previous-spec",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::decode;

    #[test]
    fn stack_update_config_with_empty_order() {
        let cfg: UpdateConfig = decode::from_str(
            r#"{"Parallelism":2,"Delay":10000000000,"MaxFailureRatio":0,"Order":""}"#,
        )
        .unwrap();
        assert_eq!(cfg.order, None);
        assert_eq!(
            serde_json::to_string(&cfg).unwrap(),
            r#"{"Parallelism":2,"Delay":10000000000,"MaxFailureRatio":0,"Order":""}"#
        );
    }

    #[test]
    fn engine_error_for_wrong_replicas_type() {
        let err = decode::from_str::<ServiceSpec>(
            r#"{"Name":"badtype","TaskTemplate":{"ContainerSpec":{"Image":"swarmrec/web:v1"}},"Mode":{"Replicated":{"Replicas":"two"}}}"#,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "json: cannot unmarshal string into Go struct field ReplicatedService.Mode.Replicated.Replicas of type uint64"
        );
    }

    #[test]
    fn modes() {
        assert_eq!(
            serde_json::to_string(&ServiceMode::replicated(2)).unwrap(),
            r#"{"Replicated":{"Replicas":2}}"#
        );
        assert_eq!(
            serde_json::to_string(&ServiceMode::global()).unwrap(),
            r#"{"Global":{}}"#
        );
        let job: ServiceMode =
            decode::from_str(r#"{"ReplicatedJob":{"MaxConcurrent":2,"TotalCompletions":3}}"#)
                .unwrap();
        assert!(job.is_job() && !job.is_global());
    }

    #[test]
    fn responses() {
        assert_eq!(
            serde_json::to_string(&ServiceUpdateResponse::default()).unwrap(),
            r#"{"Warnings":null}"#
        );
        let created = ServiceCreateResponse {
            id: "x".into(),
            warnings: vec![],
        };
        assert_eq!(serde_json::to_string(&created).unwrap(), r#"{"ID":"x"}"#);
    }
}
