//! Applying the commands of the leader's loops: tasks created, placed, observed and forgotten;
//! node status and service update status.
//!
//! These commands carry no version: each kind of change has one writer (the orchestrators
//! decide desired states, the scheduler placements, agents observed states), and a change that
//! no longer fits the task (a report that would move it backwards, a placement of a task that
//! was already placed) is skipped, not refused, so a batch of them always applies.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::sync::Arc;

use super::{change, nanos, Action, Change};
use crate::store::command::{DesiredStateChange, TaskAssignment, TaskStatusUpdate, UnixNanos};
use crate::store::endpoint::subnet_of;
use crate::store::error::StoreError;
use crate::store::ipam;
use crate::store::object::{Kind, StoredObject};
use crate::store::state::ClusterState;
use crate::types::meta::Timestamp;
use crate::types::node::{Node, NodeStatus};
use crate::types::service::UpdateStatus;
use crate::types::task::{Task, TaskState, TaskStatus};

fn timestamp(at: UnixNanos) -> Timestamp {
    Timestamp::from_unix_nanos(i128::from(at)).unwrap_or_default()
}

pub(super) fn set_node_status(
    state: &mut ClusterState,
    index: u64,
    node_id: &str,
    status: &NodeStatus,
    at: UnixNanos,
) -> Result<Vec<Change>, StoreError> {
    let Some(current) = state.nodes.get(node_id) else {
        return Err(StoreError::NotFound {
            kind: Kind::Node,
            id: node_id.to_string(),
        });
    };
    if current.status == *status {
        return Ok(Vec::new());
    }
    let mut node = Node::clone(current);
    node.status = status.clone();
    node.updated_at = timestamp(at);
    node.set_version(index);
    let changes = vec![change(Kind::Node, Action::Update, &node, at)];
    state.nodes.insert(node.id.clone(), Arc::new(node));
    Ok(changes)
}

pub(super) fn set_update_status(
    state: &mut ClusterState,
    index: u64,
    service_id: &str,
    update_status: &Option<UpdateStatus>,
    at: UnixNanos,
) -> Result<Vec<Change>, StoreError> {
    let Some(current) = state.services.get(service_id) else {
        // The service was removed meanwhile: nothing to record.
        return Ok(Vec::new());
    };
    if current.service.update_status == *update_status {
        return Ok(Vec::new());
    }
    let mut record = crate::store::ServiceRecord::clone(current);
    record.service.update_status = update_status.clone();
    record.service.updated_at = timestamp(at);
    record.set_version(index);
    let changes = vec![change(Kind::Service, Action::Update, &record, at)];
    state
        .services
        .insert(service_id.to_string(), Arc::new(record));
    Ok(changes)
}

pub(super) fn rollback_service(
    state: &mut ClusterState,
    index: u64,
    service_id: &str,
    message: &str,
    at: UnixNanos,
) -> Result<Vec<Change>, StoreError> {
    let Some(current) = state.services.get(service_id).cloned() else {
        return Ok(Vec::new());
    };
    let Some(previous) = current.service.previous_spec.clone() else {
        return Ok(Vec::new());
    };
    let mut record = crate::store::ServiceRecord::clone(&current);
    let service = &mut record.service;
    service.previous_spec = Some(std::mem::replace(&mut service.spec, previous));
    service.update_status = Some(UpdateStatus {
        state: crate::types::service::UpdateState::RollbackStarted,
        started_at: Some(timestamp(at)),
        completed_at: None,
        message: message.to_string(),
    });
    service.updated_at = timestamp(at);
    record.spec_version = current.previous_spec_version.unwrap_or(0);
    record.previous_spec_version = Some(current.spec_version);
    record.registry_auth = current.previous_registry_auth.clone();
    record.previous_registry_auth = current.registry_auth.clone();
    crate::store::endpoint::allocate(state, &mut record.service, Some(&current.service))?;
    record.set_version(index);
    let changes = vec![change(Kind::Service, Action::Update, &record, at)];
    state
        .services
        .insert(service_id.to_string(), Arc::new(record));
    Ok(changes)
}

/// Inserts new tasks, giving each an address on every network it is attached to.
pub(super) fn create_tasks(
    state: &mut ClusterState,
    index: u64,
    tasks: Vec<Task>,
) -> Result<Vec<Change>, StoreError> {
    let mut changes = Vec::with_capacity(tasks.len());
    // Addresses taken per network, computed once per network for the whole batch.
    let mut used: std::collections::HashMap<String, BTreeSet<Ipv4Addr>> = Default::default();
    for mut task in tasks {
        if state.tasks.contains_key(&task.id) {
            continue;
        }
        for attachment in &mut task.networks_attachments {
            if !attachment.addresses.is_empty() {
                continue;
            }
            let Some(network) = state.networks.get(&attachment.network.id) else {
                continue;
            };
            let Some(subnet) = subnet_of(network) else {
                continue;
            };
            let taken = used
                .entry(network.id.clone())
                .or_insert_with(|| addresses_on(state, &network.id));
            match ipam::next_address(subnet, taken) {
                Some(address) => {
                    taken.insert(address);
                    attachment.addresses = vec![subnet.with_prefix(address)];
                }
                None => {
                    return Err(StoreError::InvalidArgument(format!(
                        "could not allocate an address on network {}: no free address",
                        network.spec.name
                    )))
                }
            }
            attachment.network = (**network).clone();
        }
        task.set_version(index);
        changes.push(task_change(Action::Create, &task, nanos(&task.created_at)));
        state.tasks.insert(task.id.clone(), Arc::new(task));
    }
    Ok(changes)
}

/// Addresses on a network held by service VIPs and by tasks.
fn addresses_on(state: &ClusterState, network_id: &str) -> BTreeSet<Ipv4Addr> {
    let parse = |cidr: &str| {
        cidr.split('/')
            .next()
            .and_then(|a| a.parse::<Ipv4Addr>().ok())
    };
    let vips = state
        .services
        .values()
        .flat_map(|s| s.service.endpoint.virtual_ips.iter())
        .filter(|v| v.network_id == network_id)
        .filter_map(|v| parse(&v.addr));
    let tasks = state
        .tasks
        .values()
        .flat_map(|t| t.networks_attachments.iter())
        .filter(|a| a.network.id == network_id)
        .flat_map(|a| a.addresses.iter())
        .filter_map(|a| parse(a));
    vips.chain(tasks).collect()
}

pub(super) fn set_desired_state(
    state: &mut ClusterState,
    index: u64,
    changes: &[DesiredStateChange],
    at: UnixNanos,
) -> Result<Vec<Change>, StoreError> {
    let mut applied = Vec::new();
    for desired in changes {
        let Some(current) = state.tasks.get(&desired.task_id) else {
            continue;
        };
        if desired.desired <= current.desired_state {
            continue;
        }
        let mut task = Task::clone(current);
        task.desired_state = desired.desired;
        task.updated_at = timestamp(at);
        applied.push(store_updated_task(state, index, task, at));
    }
    Ok(applied)
}

pub(super) fn assign_tasks(
    state: &mut ClusterState,
    index: u64,
    assignments: &[TaskAssignment],
    at: UnixNanos,
) -> Result<Vec<Change>, StoreError> {
    let mut applied = Vec::new();
    for assignment in assignments {
        let Some(current) = state.tasks.get(&assignment.task_id) else {
            continue;
        };
        // Global tasks are created for their node; the scheduler still confirms the node fits.
        let node_ok = current.node_id.is_empty() || current.node_id == assignment.node_id;
        let waiting = node_ok && current.status.state <= TaskState::Pending;
        if !waiting || !state.nodes.contains_key(&assignment.node_id) {
            continue;
        }
        let message = if current.node_id.is_empty() {
            "scheduler assigned task to node"
        } else {
            "scheduler confirmed task can run on preassigned node"
        };
        let mut task = Task::clone(current);
        task.node_id = assignment.node_id.clone();
        task.status = TaskStatus {
            timestamp: timestamp(at),
            state: TaskState::Assigned,
            message: message.into(),
            ..Default::default()
        };
        task.updated_at = timestamp(at);
        applied.push(store_updated_task(state, index, task, at));
    }
    Ok(applied)
}

pub(super) fn update_task_status(
    state: &mut ClusterState,
    index: u64,
    reports: &[TaskStatusUpdate],
) -> Result<Vec<Change>, StoreError> {
    let mut applied = Vec::new();
    for report in reports {
        let Some(current) = state.tasks.get(&report.task_id) else {
            continue;
        };
        let from = current.status.state;
        let to = report.status.state;
        let moves = if to == from {
            report.status != current.status
        } else {
            from.can_transition_to(to)
        };
        if !moves {
            continue;
        }
        let mut task = Task::clone(current);
        task.status = report.status.clone();
        task.updated_at = report.status.timestamp;
        let at = nanos(&task.updated_at);
        applied.push(store_updated_task(state, index, task, at));
    }
    Ok(applied)
}

/// A task's change, naming its service.
fn task_change(action: Action, task: &Task, at: UnixNanos) -> Change {
    Change {
        service_id: Some(task.service_id.clone()),
        ..change(Kind::Task, action, task, at)
    }
}

/// Stamps a changed task with this entry's index, stores it, and answers its change event.
fn store_updated_task(
    state: &mut ClusterState,
    index: u64,
    mut task: Task,
    at: UnixNanos,
) -> Change {
    task.set_version(index);
    let event = task_change(Action::Update, &task, at);
    state.tasks.insert(task.id.clone(), Arc::new(task));
    event
}

pub(super) fn remove_tasks(
    state: &mut ClusterState,
    ids: &[String],
    at: UnixNanos,
) -> Result<Vec<Change>, StoreError> {
    let mut changes = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(task) = state.tasks.remove(id) {
            changes.push(task_change(Action::Remove, &task, at));
        }
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::apply::apply;
    use crate::store::command::Command;

    fn task(id: &str, state: TaskState, desired: TaskState) -> Task {
        Task {
            id: id.into(),
            service_id: "svc".into(),
            status: TaskStatus {
                state,
                ..Default::default()
            },
            desired_state: desired,
            ..Default::default()
        }
    }

    fn with_node(state: &mut ClusterState) {
        state.nodes.insert(
            "n1".into(),
            Arc::new(Node {
                id: "n1".into(),
                ..Default::default()
            }),
        );
    }

    #[test]
    fn placements_only_touch_waiting_tasks() {
        let mut state = ClusterState::default();
        with_node(&mut state);
        let create = Command::CreateTasks {
            tasks: vec![
                task("a", TaskState::Pending, TaskState::Running),
                task("b", TaskState::Running, TaskState::Running),
            ],
        };
        apply(&mut state, 1, create).unwrap();
        let assign = Command::AssignTasks {
            assignments: ["a", "b", "missing"]
                .iter()
                .map(|t| TaskAssignment {
                    task_id: t.to_string(),
                    node_id: "n1".into(),
                })
                .collect(),
            at: 5,
        };
        let changes = apply(&mut state, 2, assign).unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(state.tasks["a"].node_id, "n1");
        assert_eq!(state.tasks["a"].status.state, TaskState::Assigned);
        assert_eq!(state.tasks["a"].version.index, 2);
        assert!(state.tasks["b"].node_id.is_empty());
    }

    #[test]
    fn reports_only_move_forward() {
        let mut state = ClusterState::default();
        let create = Command::CreateTasks {
            tasks: vec![task("a", TaskState::Assigned, TaskState::Running)],
        };
        apply(&mut state, 1, create).unwrap();
        let report = |state: TaskState| Command::UpdateTaskStatus {
            reports: vec![TaskStatusUpdate {
                task_id: "a".into(),
                status: TaskStatus {
                    state,
                    ..Default::default()
                },
            }],
        };
        apply(&mut state, 2, report(TaskState::Running)).unwrap();
        assert_eq!(state.tasks["a"].status.state, TaskState::Running);
        let changes = apply(&mut state, 3, report(TaskState::Preparing)).unwrap();
        assert!(changes.is_empty());
        assert_eq!(state.tasks["a"].status.state, TaskState::Running);
        apply(&mut state, 4, report(TaskState::Failed)).unwrap();
        assert_eq!(state.tasks["a"].status.state, TaskState::Failed);
    }

    #[test]
    fn desired_states_only_move_forward() {
        let mut state = ClusterState::default();
        let create = Command::CreateTasks {
            tasks: vec![task("a", TaskState::New, TaskState::Ready)],
        };
        apply(&mut state, 1, create).unwrap();
        let set = |desired: TaskState| Command::SetDesiredState {
            changes: vec![DesiredStateChange {
                task_id: "a".into(),
                desired,
            }],
            at: 1,
        };
        apply(&mut state, 2, set(TaskState::Running)).unwrap();
        assert_eq!(state.tasks["a"].desired_state, TaskState::Running);
        assert!(apply(&mut state, 3, set(TaskState::Ready))
            .unwrap()
            .is_empty());
        apply(&mut state, 4, set(TaskState::Shutdown)).unwrap();
        assert_eq!(state.tasks["a"].desired_state, TaskState::Shutdown);
    }
}
