//! The orchestrators: from services (desired) and tasks (observed) to the task changes that
//! make them agree.
//!
//! Every reconciler is a pure function of the state and the time ([`reconcile`]); it returns
//! [`Action`]s and when it wants to look again. One runner ([`run`]) feeds it from the change
//! feed, level-triggered (it never asks *why* it woke), and proposes the actions as commands.
//! Only the leader runs it. Reconcilers:
//! - `replicated`: one task per slot `1..=replicas`; restarts per the restart policy;
//!   scale up and down; tasks on nodes that went down, were drained or no longer fit.
//! - `global`: one task per eligible node.
//! - `jobs`: replicated and global jobs, to completion.
//! - `update`: rolling updates and rollbacks of tasks whose spec is out of date.
//! - `reaper`: task history beyond the retention limit; tasks of removed services.
//!
//! Depends on `store` and `types`; the runner on `control` to read and propose.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::clock::SharedClock;
use crate::control::Manager;
use crate::store::{ClusterState, Command, DesiredStateChange, ServiceRecord};
use crate::types::meta::Timestamp;
use crate::types::network::NetworkAttachment;
use crate::types::node::{Node, NodeAvailability, NodeState};
use crate::types::service::UpdateStatus;
use crate::types::task::{Task, TaskState, TaskStatus};

mod global;
mod jobs;
mod reaper;
mod replicated;
pub mod restart;
mod update;

/// Nanoseconds since the epoch.
pub type Nanos = i64;

/// One change an orchestrator wants.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Create(Box<Task>),
    SetDesired {
        task_id: String,
        desired: TaskState,
    },
    Remove {
        task_id: String,
    },
    SetUpdateStatus {
        service_id: String,
        status: Option<UpdateStatus>,
    },
    Rollback {
        service_id: String,
        message: String,
    },
}

/// What a reconciliation decided.
#[derive(Debug, Default)]
pub struct Plan {
    pub actions: Vec<Action>,
    /// When to look again even if nothing changes (restart delays, update delays, monitors).
    pub wake_at: Option<Nanos>,
    /// Restarts made now, for the restart history.
    pub restarts: Vec<(SlotKey, Nanos)>,
}

impl Plan {
    fn wake(&mut self, at: Nanos) {
        self.wake_at = Some(self.wake_at.map_or(at, |w| w.min(at)));
    }
}

/// A slot of a replicated service, or a node of a global one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SlotKey {
    Replica(String, i64),
    Node(String, String),
}

/// What the runner remembers between reconciliations (not replicated: it is rebuilt, empty,
/// by a new leader, as swarm's restart supervisor is).
#[derive(Debug, Default)]
pub struct Memory {
    /// Restart times per slot, for `MaxAttempts` within `Window`.
    pub restarts: HashMap<SlotKey, VecDeque<Nanos>>,
}

/// The inputs every reconciler shares.
pub struct Context<'a> {
    pub state: &'a ClusterState,
    pub now: Nanos,
    pub memory: &'a Memory,
    /// Tasks per service ID.
    pub tasks: HashMap<&'a str, Vec<&'a Arc<Task>>>,
    /// How many finished tasks to keep per slot.
    pub retention: usize,
}

impl<'a> Context<'a> {
    pub fn new(state: &'a ClusterState, now: Nanos, memory: &'a Memory) -> Self {
        let mut tasks: HashMap<&str, Vec<&Arc<Task>>> = HashMap::new();
        for task in state.tasks.values() {
            tasks
                .entry(task.service_id.as_str())
                .or_default()
                .push(task);
        }
        let retention = state
            .cluster
            .as_ref()
            .and_then(|c| c.info.spec.orchestration.task_history_retention_limit)
            .unwrap_or(5)
            .max(0) as usize;
        Context {
            state,
            now,
            memory,
            tasks,
            retention,
        }
    }

    pub fn tasks_of(&self, service_id: &str) -> &[&'a Arc<Task>] {
        self.tasks.get(service_id).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn timestamp(&self) -> Timestamp {
        Timestamp::from_unix_nanos(i128::from(self.now)).unwrap_or_default()
    }
}

/// Runs every reconciler over the state.
pub fn reconcile(state: &ClusterState, now: Nanos, memory: &Memory) -> Plan {
    let context = Context::new(state, now, memory);
    let mut plan = Plan::default();
    for record in state.services.values() {
        let mode = &record.service.spec.mode;
        if mode.global.is_some() {
            global::reconcile(&context, record, &mut plan);
        } else if mode.replicated_job.is_some() || mode.global_job.is_some() {
            jobs::reconcile(&context, record, &mut plan);
        } else {
            replicated::reconcile(&context, record, &mut plan);
        }
    }
    reaper::reconcile(&context, &mut plan);
    plan
}

/// A task may still run: its desired state is at most `running` (`ready` counts).
pub fn is_runnable(task: &Task) -> bool {
    task.desired_state <= TaskState::Running
}

/// The observed state is past `running`.
pub fn has_ended(task: &Task) -> bool {
    task.status.state > TaskState::Running
}

/// The task will not run any more: it ended, or it was never placed and is not wanted.
pub fn is_finished(task: &Task) -> bool {
    has_ended(task)
        || (task.status.state < TaskState::Assigned && task.desired_state > TaskState::Running)
}

/// Nodes new tasks may go to (ready, active). Paused nodes keep their tasks.
pub fn node_accepts_tasks(node: &Node) -> bool {
    node.status.state == NodeState::Ready
        && node.spec.availability.unwrap_or(NodeAvailability::Active) == NodeAvailability::Active
}

/// Nodes whose tasks must go (down or drained), as swarm's `InvalidNode`.
pub fn node_evicts_tasks(node: Option<&Node>) -> bool {
    match node {
        None => true,
        Some(node) => {
            node.status.state == NodeState::Down
                || node.spec.availability == Some(NodeAvailability::Drain)
        }
    }
}

/// Whether `node` satisfies the task template's placement constraints.
pub fn node_matches_constraints(record: &ServiceRecord, node: &Node) -> bool {
    let constraints = record
        .service
        .spec
        .task_template
        .placement
        .as_ref()
        .map(|p| p.constraints.as_slice())
        .unwrap_or(&[]);
    match crate::types::constraint::parse_all(constraints) {
        Ok(parsed) => parsed.iter().all(|c| c.node_matches(node)),
        Err(_) => false,
    }
}

/// Whether a task runs the service's current template. A change of placement constraints
/// alone does not make a task on a node that still fits out of date (as swarm decides).
pub fn is_up_to_date(record: &ServiceRecord, task: &Task, node: Option<&Node>) -> bool {
    if task.is_up_to_date(&record.service) {
        return true;
    }
    let mut template = record.service.spec.task_template.clone();
    template.placement = task.spec.placement.clone();
    let mut spec = task.spec.clone();
    template.runtime = None;
    spec.runtime = None;
    template.networks.clear();
    spec.networks.clear();
    template == spec && node.is_some_and(|n| node_matches_constraints(record, n))
}

/// A new task of `record` for `slot` (0 for global tasks) and, for global tasks, `node_id`.
pub fn new_task(
    context: &Context<'_>,
    record: &ServiceRecord,
    slot: i64,
    node_id: &str,
    desired: TaskState,
) -> Task {
    let now = context.timestamp();
    let spec = record.service.spec.task_template.clone();
    let mut attachments: Vec<NetworkAttachment> = Vec::new();
    let publishes_ingress = record.service.endpoint.ports.iter().any(|p| {
        p.publish_mode
            .unwrap_or(crate::types::endpoint::PublishMode::Ingress)
            == crate::types::endpoint::PublishMode::Ingress
    });
    if publishes_ingress {
        if let Some(ingress) = context.state.networks.values().find(|n| n.spec.ingress) {
            attachments.push(NetworkAttachment {
                network: (**ingress).clone(),
                addresses: Vec::new(),
            });
        }
    }
    for target in record.service.spec.network_targets() {
        if let Some(network) = context.state.networks.get(target) {
            if !attachments.iter().any(|a| a.network.id == network.id) {
                attachments.push(NetworkAttachment {
                    network: (**network).clone(),
                    addresses: Vec::new(),
                });
            }
        }
    }
    Task {
        id: crate::types::new_id(),
        created_at: now,
        updated_at: now,
        spec,
        service_id: record.service.id.clone(),
        slot,
        node_id: node_id.to_string(),
        status: TaskStatus {
            timestamp: now,
            state: TaskState::Pending,
            message: "pending task scheduling".into(),
            ..Default::default()
        },
        desired_state: desired,
        networks_attachments: attachments,
        ..Default::default()
    }
}

/// The proposals for a plan: one command per kind of change.
pub fn commands(plan: &Plan, now: Nanos) -> Vec<Command> {
    let mut creates = Vec::new();
    let mut desired = Vec::new();
    let mut removes = Vec::new();
    let mut others = Vec::new();
    for action in &plan.actions {
        match action {
            Action::Create(task) => creates.push((**task).clone()),
            Action::SetDesired {
                task_id,
                desired: d,
            } => desired.push(DesiredStateChange {
                task_id: task_id.clone(),
                desired: *d,
            }),
            Action::Remove { task_id } => removes.push(task_id.clone()),
            Action::SetUpdateStatus { service_id, status } => {
                others.push(Command::SetUpdateStatus {
                    service_id: service_id.clone(),
                    update_status: status.clone(),
                    at: now,
                })
            }
            Action::Rollback {
                service_id,
                message,
            } => others.push(Command::RollbackService {
                service_id: service_id.clone(),
                message: message.clone(),
                at: now,
            }),
        }
    }
    let mut commands = others;
    if !desired.is_empty() {
        commands.push(Command::SetDesiredState {
            changes: desired,
            at: now,
        });
    }
    if !creates.is_empty() {
        commands.push(Command::CreateTasks { tasks: creates });
    }
    if !removes.is_empty() {
        commands.push(Command::RemoveTasks {
            ids: removes,
            at: now,
        });
    }
    commands
}

/// Debounce: let a burst of changes (a stack deploy, a batch of reports) settle. Also bounds
/// how often the loop reads the whole state while clients write: at 2 ms, the manager loops'
/// rounds cost sequential service creates a quarter of their rate (w1.create_seq 1.62× the
/// engine's vs 2.02× at 10 ms), while 10 ms is lost in a container's start.
const SETTLE: Duration = Duration::from_millis(10);
/// Look again at least this often, whatever happens.
const SAFETY_NET: Duration = Duration::from_secs(10);

/// The leader's orchestrator loop: reconcile, propose, wait for a change or a deadline.
pub async fn run(manager: Arc<Manager>, clock: SharedClock, cancel: CancellationToken) {
    let mut applied = manager.store.feed().applied();
    let mut memory = Memory::default();
    loop {
        if cancel.is_cancelled() {
            return;
        }
        let now = clock.now_nanos();
        let plan = if manager.is_leader() {
            let state = manager.store.read();
            reconcile(&state, now, &memory)
        } else {
            Plan::default()
        };
        for (slot, at) in &plan.restarts {
            let history = memory.restarts.entry(slot.clone()).or_default();
            history.push_back(*at);
            while history.len() > 64 {
                history.pop_front();
            }
        }
        let mut wrote = false;
        for command in commands(&plan, now) {
            wrote = true;
            if let Err(error) = manager.propose(command).await {
                tracing::warn!(%error, "orchestrator write failed");
            }
        }
        if wrote {
            // Our own writes changed the state: look at the result before sleeping.
            applied.borrow_and_update();
            continue;
        }
        let sleep = plan
            .wake_at
            .map(|at| Duration::from_nanos(u64::try_from(at - now).unwrap_or(0)))
            .unwrap_or(SAFETY_NET)
            .min(SAFETY_NET);
        tokio::select! {
            _ = cancel.cancelled() => return,
            changed = applied.changed() => {
                if changed.is_err() {
                    return;
                }
                tokio::time::sleep(SETTLE).await;
                applied.borrow_and_update();
            }
            _ = tokio::time::sleep(sleep) => {}
        }
    }
}

/// Tasks of one service grouped by slot key.
pub fn by_slot<'a>(
    record: &ServiceRecord,
    tasks: &[&'a Arc<Task>],
) -> BTreeMap<SlotKey, Vec<&'a Arc<Task>>> {
    let global =
        record.service.spec.mode.global.is_some() || record.service.spec.mode.global_job.is_some();
    let mut slots: BTreeMap<SlotKey, Vec<&Arc<Task>>> = BTreeMap::new();
    for task in tasks {
        let key = if global {
            SlotKey::Node(record.service.id.clone(), task.node_id.clone())
        } else {
            SlotKey::Replica(record.service.id.clone(), task.slot)
        };
        slots.entry(key).or_default().push(task);
    }
    for tasks in slots.values_mut() {
        // Newest first.
        tasks.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    }
    slots
}

#[cfg(test)]
pub(crate) mod testing;
