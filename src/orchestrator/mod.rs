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

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::clock::SharedClock;
use crate::control::Manager;
use crate::store::watch::Pending;
use crate::store::{ClusterState, Command, DesiredStateChange, Kind, ServiceRecord};
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
        Self::scoped(state, now, memory, &Scope::All)
    }

    /// A context holding only the tasks of the services in `scope`.
    pub fn scoped(state: &'a ClusterState, now: Nanos, memory: &'a Memory, scope: &Scope) -> Self {
        let mut tasks: HashMap<&str, Vec<&Arc<Task>>> = HashMap::new();
        for task in state.tasks.values() {
            if scope.covers(&task.service_id) {
                tasks
                    .entry(task.service_id.as_str())
                    .or_default()
                    .push(task);
            }
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

/// Which services a round looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    /// These services (present or removed) and their tasks.
    Services(BTreeSet<String>),
}

impl Scope {
    pub fn covers(&self, service_id: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Services(ids) => ids.contains(service_id),
        }
    }

    /// The services that `pending` changes concern. A change to a node, the cluster or a
    /// network can concern every service (global services, evictions, task history limits,
    /// attachments), and so can missed changes; secrets and configs concern none (tasks hold
    /// their references).
    pub fn of(pending: &Pending) -> Scope {
        if pending.lagged {
            return Scope::All;
        }
        let mut ids = BTreeSet::new();
        for change in &pending.changes {
            match change.kind {
                Kind::Service => {
                    ids.insert(change.id.clone());
                }
                Kind::Task => {
                    if let Some(service_id) = &change.service_id {
                        ids.insert(service_id.clone());
                    }
                }
                Kind::Node | Kind::Cluster | Kind::Network => return Scope::All,
                Kind::Secret | Kind::Config => {}
            }
        }
        Scope::Services(ids)
    }

    fn is_empty(&self) -> bool {
        matches!(self, Scope::Services(ids) if ids.is_empty())
    }
}

/// Runs every reconciler over the state.
pub fn reconcile(state: &ClusterState, now: Nanos, memory: &Memory) -> Plan {
    reconcile_scope(state, now, memory, &Scope::All)
}

/// Runs every reconciler over the services in `scope`.
pub fn reconcile_scope(state: &ClusterState, now: Nanos, memory: &Memory, scope: &Scope) -> Plan {
    let context = Context::scoped(state, now, memory, scope);
    let mut plan = Plan::default();
    let services: Box<dyn Iterator<Item = &Arc<ServiceRecord>>> = match scope {
        Scope::All => Box::new(state.services.values()),
        Scope::Services(ids) => Box::new(ids.iter().filter_map(|id| state.services.get(id))),
    };
    for record in services {
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

/// Debounce: let a burst of changes (a stack deploy, a batch of reports) settle, so that one
/// round covers them; 10 ms is lost in a container's start.
const SETTLE: Duration = Duration::from_millis(10);
/// Look at everything at least this often, whatever happens.
const SAFETY_NET: Duration = Duration::from_secs(10);

/// The leader's orchestrator loop: reconcile, propose, wait for a change or a deadline.
///
/// A round looks only at the services the changes since the last round concern ([`Scope::of`]),
/// so that a client's write costs the loop a lookup and not a pass over every service; a
/// deadline (restart delay, update delay, the safety net) or missed changes bring a round over
/// everything.
pub async fn run(manager: Arc<Manager>, clock: SharedClock, cancel: CancellationToken) {
    let mut changes = manager.store.feed().cursor();
    let mut memory = Memory::default();
    let mut scope = Scope::All;
    // The earliest deadline any round asked for.
    let mut wake_at: Option<Nanos> = None;
    loop {
        if cancel.is_cancelled() {
            return;
        }
        let now = clock.now_nanos();
        let leader = manager.is_leader();
        let plan = if leader {
            let state = manager.store.read();
            reconcile_scope(&state, now, &memory, &scope)
        } else {
            Plan::default()
        };
        wake_at = match scope {
            Scope::All => plan.wake_at,
            Scope::Services(_) => match (wake_at, plan.wake_at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
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
            // Our own writes changed the state: look at what they touched before sleeping.
            scope = Scope::of(&changes.take());
            continue;
        }
        // Wait for changes that concern some service, or for the deadline.
        loop {
            let sleep = wake_at
                .map(|at| Duration::from_nanos(u64::try_from(at - now).unwrap_or(0)))
                .unwrap_or(SAFETY_NET)
                .min(SAFETY_NET)
                .saturating_sub(Duration::from_nanos(
                    u64::try_from(clock.now_nanos() - now).unwrap_or(0),
                ));
            tokio::select! {
                _ = cancel.cancelled() => return,
                arrived = changes.wait() => {
                    if !arrived {
                        return;
                    }
                    tokio::time::sleep(SETTLE).await;
                    scope = Scope::of(&changes.take());
                    if !leader || scope.is_empty() {
                        continue;
                    }
                }
                _ = manager.leadership_changed() => {
                    changes.take();
                    scope = Scope::All;
                }
                _ = tokio::time::sleep(sleep) => {
                    changes.take();
                    scope = Scope::All;
                }
            }
            break;
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

#[cfg(test)]
mod scope_tests {
    use std::collections::BTreeSet;
    use std::sync::Arc;

    use super::testing::*;
    use super::*;
    use crate::store::{Action as ChangeAction, Change};

    fn change(kind: Kind, id: &str, service_id: Option<&str>) -> Arc<Change> {
        Arc::new(Change {
            kind,
            action: ChangeAction::Update,
            id: id.into(),
            name: String::new(),
            at: 0,
            attributes: Default::default(),
            service_id: service_id.map(str::to_string),
        })
    }

    fn services(ids: &[&str]) -> Scope {
        Scope::Services(ids.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>())
    }

    #[test]
    fn changes_concern_their_service_or_everything() {
        let pending = |changes| Pending {
            changes,
            lagged: false,
        };
        let of = |changes| Scope::of(&pending(changes));
        assert_eq!(
            of(vec![
                change(Kind::Service, "a", None),
                change(Kind::Task, "t", Some("b")),
                change(Kind::Secret, "s", None),
                change(Kind::Config, "c", None),
            ]),
            services(&["a", "b"])
        );
        assert!(of(vec![change(Kind::Secret, "s", None)]).is_empty());
        for kind in [Kind::Node, Kind::Cluster, Kind::Network] {
            assert_eq!(of(vec![change(kind, "x", None)]), Scope::All);
        }
        let lagged = Pending {
            changes: Vec::new(),
            lagged: true,
        };
        assert_eq!(Scope::of(&lagged), Scope::All);
    }

    #[test]
    fn a_scoped_round_plans_for_its_services_only() {
        let mut world = World::new();
        let web = world.replicated("web", 2);
        let db = world.replicated("db", 1);
        let plan = reconcile_scope(&world.state, world.now, &world.memory, &services(&[&web]));
        let planned: BTreeSet<String> = created(&plan).into_iter().map(|t| t.service_id).collect();
        assert_eq!(planned, BTreeSet::from([web.clone()]));
        assert_eq!(created(&plan).len(), 2);

        // The whole round still sees both.
        let planned: BTreeSet<String> = created(&world.reconcile())
            .into_iter()
            .map(|t| t.service_id)
            .collect();
        assert_eq!(planned, BTreeSet::from([web, db]));
    }

    #[test]
    fn a_scoped_round_forgets_the_stopped_tasks_of_a_removed_service() {
        let mut world = World::new();
        let web = world.replicated("web", 2);
        world.settle();
        // Removing the service wants its tasks removed in the same entry; once they stop, the
        // round that looks at the service forgets them.
        world.remove_service(&web);
        world.stop_shut_down_tasks();
        let plan = reconcile_scope(&world.state, world.now, &world.memory, &services(&[&web]));
        let forgotten = plan
            .actions
            .iter()
            .filter(|a| matches!(a, Action::Remove { .. }))
            .count();
        assert_eq!(forgotten, 2, "{:?}", plan.actions);
        let other = reconcile_scope(&world.state, world.now, &world.memory, &services(&["x"]));
        assert!(other.actions.is_empty());
    }
}
