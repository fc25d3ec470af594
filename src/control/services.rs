//! `/services`: create, list (with status), inspect (with defaults), update (and rollback),
//! remove.

use std::collections::HashMap;
use std::sync::Arc;

use super::names;
use super::rendered::{encode_error, RenderedList};
use super::service_spec;
use super::{Control, ControlError, ControlResult, Manager};
use crate::store::{ClusterState, Command, ServiceRecord};
use crate::types::filters::Filters;
use crate::types::ids::new_id;
use crate::types::meta::Version;
use crate::types::service::{
    JobStatus, RegistryAuthSource, Service, ServiceCreateResponse, ServiceSpec, ServiceStatus,
    ServiceUpdateResponse, UpdateState, UpdateStatus,
};
use crate::types::task::TaskState;

/// The filters `GET /services` accepts.
const LIST_FILTERS: &[&str] = &["id", "label", "mode", "name", "runtime"];

/// What `POST /services/{id}/update` carries besides the path.
#[derive(Debug, Clone)]
pub struct ServiceUpdate {
    pub version: u64,
    pub spec: ServiceSpec,
    /// The `X-Registry-Auth` header, if sent.
    pub registry_auth: Option<String>,
    pub registry_auth_from: Option<RegistryAuthSource>,
    /// `rollback=previous` swaps in the previous spec.
    pub rollback: Option<String>,
}

/// Services as listed: the stored records, shown as their wire form.
pub enum ServiceList {
    /// Without `status=true`: each record's JSON, made once per record.
    Plain(RenderedList),
    /// With `status=true`: copies carrying `ServiceStatus`.
    WithStatus(Vec<Service>),
}

impl serde::Serialize for ServiceList {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ServiceList::Plain(rendered) => rendered.serialize(serializer),
            ServiceList::WithStatus(services) => services.serialize(serializer),
        }
    }
}

impl Control {
    /// `POST /services/create`.
    pub async fn create_service(
        &self,
        mut spec: ServiceSpec,
        registry_auth: Option<String>,
    ) -> ControlResult<ServiceCreateResponse> {
        let manager = self.manager()?;
        service_spec::normalize(&mut spec, names::random_name)?;
        self.resolve_references(&manager, &mut spec).await?;
        let now = self.timestamp()?;
        let job_status = spec.mode.is_job().then(|| JobStatus {
            job_iteration: Version::default(),
            last_execution: now,
        });
        let id = new_id();
        let service = Service {
            id: id.clone(),
            version: Version::default(),
            created_at: now,
            updated_at: now,
            spec,
            previous_spec: None,
            endpoint: Default::default(),
            update_status: None,
            service_status: None,
            job_status,
        };
        let mut record = ServiceRecord::new(service);
        record.registry_auth = registry_auth.filter(|a| !a.is_empty());
        manager
            .propose(Command::CreateService {
                service: Box::new(record),
            })
            .await?;
        Ok(ServiceCreateResponse {
            id,
            warnings: Vec::new(),
        })
    }

    /// `GET /services`.
    pub fn list_services(&self, filters: &Filters, status: bool) -> ControlResult<ServiceList> {
        filters
            .validate(LIST_FILTERS)
            .map_err(|e| ControlError::Invalid(e.to_string()))?;
        let manager = self.manager()?;
        let state = manager.store.read();
        let records: Vec<Arc<ServiceRecord>> = state
            .services
            .values()
            .filter(|r| service_matches(&r.service, filters))
            .cloned()
            .collect();
        if !status {
            drop(state);
            let rendered = manager.rendered.services.render(&records, |record| {
                serde_json::value::to_raw_value(&record.service)
            });
            return rendered.map(ServiceList::Plain).map_err(encode_error);
        }
        let statuses = service_statuses(&state, &records);
        drop(state);
        let services = records
            .iter()
            .map(|r| {
                let mut service = r.service.clone();
                service.service_status = Some(
                    statuses
                        .get(service.id.as_str())
                        .cloned()
                        .unwrap_or_default(),
                );
                service
            })
            .collect();
        Ok(ServiceList::WithStatus(services))
    }

    /// `GET /services/{id}`: by ID, name or unique ID prefix; `insert_defaults` shows the
    /// engine's defaults in the spec.
    pub fn inspect_service(&self, input: &str, insert_defaults: bool) -> ControlResult<Service> {
        let manager = self.manager()?;
        let record = manager.store.read().resolve::<ServiceRecord>(input)?;
        let mut service = record.service.clone();
        if insert_defaults {
            super::service_defaults::interpolate(&mut service.spec);
        }
        Ok(service)
    }

    /// `POST /services/{id}/update`.
    pub async fn update_service(
        &self,
        input: &str,
        update: ServiceUpdate,
    ) -> ControlResult<ServiceUpdateResponse> {
        let manager = self.manager()?;
        let mut spec = update.spec;
        service_spec::normalize(&mut spec, names::random_name)?;
        let current = manager.store.read().resolve::<ServiceRecord>(input)?;
        self.resolve_references(&manager, &mut spec).await?;
        if spec.name != current.service.spec.name {
            return Err(ControlError::NotImplemented(
                "rpc error: code = Unimplemented desc = renaming services is not supported".into(),
            ));
        }
        if mode_kind(&spec) != mode_kind(&current.service.spec) {
            return Err(ControlError::NotImplemented(
                "rpc error: code = Unimplemented desc = service mode change is not allowed".into(),
            ));
        }
        let registry_auth = match update.registry_auth.filter(|a| !a.is_empty()) {
            Some(auth) => Some(auth),
            None => match update.registry_auth_from {
                None | Some(RegistryAuthSource::Spec) => current.registry_auth.clone(),
                Some(RegistryAuthSource::PreviousSpec) => {
                    if current.service.previous_spec.is_none() {
                        return Err(ControlError::Internal(
                            "service does not have a previous spec".into(),
                        ));
                    }
                    current.previous_registry_auth.clone()
                }
            },
        };
        let now = self.timestamp()?;
        let mut record = (*current).clone();
        let service = &mut record.service;
        service.updated_at = now;
        if let Some(job) = &mut service.job_status {
            job.job_iteration.index += 1;
            job.last_execution = now;
        }
        let new_spec = match update.rollback.as_deref() {
            None | Some("") | Some("none") => {
                service.previous_spec = Some(std::mem::replace(&mut service.spec, spec));
                service.update_status = None;
                record.previous_spec_version = Some(current.spec_version);
                record.previous_registry_auth = current.registry_auth.clone();
                record.registry_auth = registry_auth;
                true
            }
            Some("previous") => {
                let Some(previous) = service.previous_spec.take() else {
                    return Err(ControlError::Store(
                        crate::store::StoreError::FailedPrecondition(format!(
                            "service {} does not have a previous spec",
                            current.service.id
                        )),
                    ));
                };
                service.previous_spec = Some(std::mem::replace(&mut service.spec, previous));
                service.update_status = Some(UpdateStatus {
                    state: UpdateState::RollbackStarted,
                    started_at: Some(now),
                    completed_at: None,
                    message: "manually requested rollback".into(),
                });
                record.spec_version = current.previous_spec_version.unwrap_or(0);
                record.previous_spec_version = Some(current.spec_version);
                record.registry_auth = current.previous_registry_auth.clone();
                record.previous_registry_auth = current.registry_auth.clone();
                false
            }
            Some(other) => {
                return Err(ControlError::Internal(format!(
                    "unrecognized rollback option {other}"
                )))
            }
        };
        manager
            .propose(Command::UpdateService {
                expected_version: update.version,
                service: Box::new(record),
                new_spec,
            })
            .await?;
        Ok(ServiceUpdateResponse { warnings: None })
    }

    /// `DELETE /services/{id}`.
    pub async fn remove_service(&self, input: &str) -> ControlResult<()> {
        let manager = self.manager()?;
        let record = manager.store.read().resolve::<ServiceRecord>(input)?;
        manager
            .propose(Command::RemoveService {
                id: record.service.id.clone(),
                at: self.now(),
            })
            .await
    }

    /// Network names to IDs; secrets and configs must exist under the names given.
    async fn resolve_references(
        &self,
        manager: &Manager,
        spec: &mut ServiceSpec,
    ) -> ControlResult<()> {
        let mut unresolved = Vec::new();
        {
            let state = manager.store.read();
            for attachment in &mut spec.task_template.networks {
                match state.resolve::<crate::types::network::Network>(&attachment.target) {
                    Ok(network) => {
                        if network.spec.ingress {
                            return Err(ControlError::Invalid(format!(
                                "rpc error: code = InvalidArgument desc = Service cannot be explicitly attached to the ingress network {:?}",
                                network.spec.name
                            )));
                        }
                        attachment.target = network.id.clone();
                    }
                    Err(_) => unresolved.push(attachment.target.clone()),
                }
            }
            check_secrets_and_configs(&state, spec)?;
            let needs_ingress = spec
                .endpoint_spec
                .iter()
                .flat_map(|e| e.ports.iter())
                .any(|p| p.publish_mode == Some(crate::types::endpoint::PublishMode::Ingress));
            if needs_ingress && !state.networks.values().any(|n| n.spec.ingress) {
                return Err(ControlError::Store(
                    crate::store::StoreError::FailedPrecondition(
                        "service needs ingress network, but no ingress network is present".into(),
                    ),
                ));
            }
        }
        // A name the swarm does not know may be a local network, which services cannot use.
        if let Some(target) = unresolved.into_iter().next() {
            let local = self
                .engine()
                .get_json(&format!("/networks/{}", urlencode(&target)))
                .await
                .ok();
            if let Some(name) = local
                .as_ref()
                .and_then(|n| n.get("Name"))
                .and_then(|n| n.as_str())
            {
                return Err(ControlError::Forbidden(format!(
                    "The network {name} cannot be used with services. Only networks scoped to the swarm can be used, such as those created with the overlay driver."
                )));
            }
            return Err(ControlError::NotFound(format!(
                "network {target} not found"
            )));
        }
        Ok(())
    }
}

fn urlencode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Secrets and configs are referenced by ID and name; both must still match (swarmkit).
fn check_secrets_and_configs(state: &ClusterState, spec: &ServiceSpec) -> ControlResult<()> {
    let Some(container) = &spec.task_template.container_spec else {
        return Ok(());
    };
    let secrets = container.secrets.iter().map(|r| {
        let found = state
            .secrets
            .get(&r.secret_id)
            .map(|s| s.spec.name.as_str());
        (r.secret_name.as_str(), found)
    });
    missing_references("secret", secrets)?;
    let configs = container.configs.iter().map(|r| {
        let found = state
            .configs
            .get(&r.config_id)
            .map(|c| c.spec.name.as_str());
        (r.config_name.as_str(), found)
    });
    missing_references("config", configs)
}

/// Fails with swarmkit's text when a reference's (name, name found under its ID) differ.
fn missing_references<'a>(
    noun: &str,
    references: impl Iterator<Item = (&'a str, Option<&'a str>)>,
) -> ControlResult<()> {
    let missing: Vec<&str> = references
        .filter(|(name, found)| *found != Some(*name))
        .map(|(name, _)| name)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let plural = if missing.len() == 1 { "" } else { "s" };
    Err(ControlError::Invalid(format!(
        "rpc error: code = InvalidArgument desc = {noun}{plural} not found: {}",
        missing.join(", ")
    )))
}

/// The mode's kind, for the engine's "mode change is not allowed".
fn mode_kind(spec: &ServiceSpec) -> &'static str {
    let mode = &spec.mode;
    if mode.global.is_some() {
        "global"
    } else if mode.replicated_job.is_some() {
        "replicated-job"
    } else if mode.global_job.is_some() {
        "global-job"
    } else {
        "replicated"
    }
}

fn service_matches(service: &Service, filters: &Filters) -> bool {
    filters.fuzzy_match("name", &service.spec.name)
        && filters.fuzzy_match("id", &service.id)
        && filters.match_labels("label", &service.spec.labels)
        && (!filters.contains("mode") || filters.exact_match("mode", mode_kind(&service.spec)))
        && (!filters.contains("runtime") || filters.exact_match("runtime", "container"))
}

/// Running, desired and completed task counts, as swarmkit computes them.
fn service_statuses<'a>(
    state: &ClusterState,
    records: &'a [Arc<ServiceRecord>],
) -> HashMap<&'a str, ServiceStatus> {
    let mut statuses: HashMap<&str, (ServiceStatus, bool, Option<u64>)> = records
        .iter()
        .map(|r| {
            let spec = &r.service.spec;
            let (desired, global) = if let Some(replicas) = spec.replicas() {
                (replicas, false)
            } else if let Some(job) = &spec.mode.replicated_job {
                (job.max_concurrent.unwrap_or(1), false)
            } else {
                (0, true)
            };
            let iteration = r.service.job_status.as_ref().map(|j| j.job_iteration.index);
            let status = ServiceStatus {
                running_tasks: 0,
                desired_tasks: desired,
                completed_tasks: 0,
            };
            (r.service.id.as_str(), (status, global, iteration))
        })
        .collect();
    for task in state.tasks.values() {
        let Some((status, global, iteration)) = statuses.get_mut(task.service_id.as_str()) else {
            continue;
        };
        if let Some(iteration) = iteration {
            if task.job_iteration.map(|v| v.index) != Some(*iteration) {
                continue;
            }
            if task.status.state == TaskState::Complete {
                status.completed_tasks += 1;
            }
        }
        if task.status.state == TaskState::Running {
            status.running_tasks += 1;
        }
        if *global
            && (task.desired_state == TaskState::Running
                || (task.status.state != TaskState::Complete
                    && task.desired_state == TaskState::Complete))
        {
            status.desired_tasks += 1;
        }
    }
    statuses
        .into_iter()
        .map(|(id, (status, _, _))| (id, status))
        .collect()
}
