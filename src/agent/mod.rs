//! This node's worker: it keeps a session with a dispatcher, runs the tasks assigned to the
//! node as containers on the local dockerd (one [`task_runner`] per task) and reports their
//! states back in batches.
//!
//! It runs on every node, managers included, and talks to the managers only through the
//! [`Dispatcher`] trait (in-process today, over the cluster port for other nodes), so it
//! depends on `types`, `clock` and `engine`, never on the store. When the agent stops, task
//! containers keep running; a restarted agent adopts them by their labels. When the node
//! leaves the swarm, [`leave`] removes them.

pub mod container;
pub mod files;
pub mod networks;
pub mod task_runner;
pub mod template;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::engine::{Engine, NETWORK_NODE_LABEL};
use crate::types::dispatch::{
    AssignmentChange, Assignments, DispatchError, Dispatcher, DispatcherSession, StatusReport,
};
use crate::types::node::NodeDescription;
use networks::{engine_network_name, Networks};
use task_runner::{RunnerInput, Shared};

/// Wait before opening a new session after one failed.
const RECONNECT: Duration = Duration::from_millis(500);
/// The most reports sent in one call.
const MAX_BATCH: usize = 1024;

/// What an agent needs to know about its node.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    pub node_id: String,
    pub description: NodeDescription,
    /// A tmpfs directory for this node's secret and config files.
    pub files_root: PathBuf,
}

struct RunnerHandle {
    input: watch::Sender<RunnerInput>,
    /// Engine networks the task's container joins.
    networks: Vec<String>,
}

/// Runs the agent until `cancel` fires.
pub async fn run<D: Dispatcher, E: Engine>(
    dispatcher: D,
    engine: Arc<E>,
    config: AgentConfig,
    cancel: CancellationToken,
) {
    let (reports_tx, reports_rx) = mpsc::unbounded_channel();
    let (removed_tx, mut removed_rx) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        engine: engine.clone(),
        node: config.description.clone(),
        files_root: config.files_root.clone(),
        networks: Networks::new(&config.node_id),
        images: Default::default(),
        reports: reports_tx,
        removed: removed_tx,
    });
    let (session_tx, session_rx) = watch::channel::<Option<Arc<D::Session>>>(None);
    let reporter = tokio::spawn(send_reports(session_rx, reports_rx, cancel.clone()));

    let mut runners: HashMap<String, RunnerHandle> = HashMap::new();
    let mut adopted = adopt(&*engine, &config.node_id).await;
    'sessions: while !cancel.is_cancelled() {
        let session = match dispatcher
            .open_session(&config.node_id, config.description.clone())
            .await
        {
            Ok(session) => Arc::new(session),
            Err(error) => {
                tracing::debug!(%error, "cannot open a dispatcher session");
                tokio::select! {
                    _ = cancel.cancelled() => break,
                    _ = tokio::time::sleep(RECONNECT) => continue,
                }
            }
        };
        tracing::info!(node.id = %config.node_id, "agent session open");
        let _ = session_tx.send(Some(session.clone()));
        let heartbeats = tokio::spawn(heartbeat(session.clone(), cancel.child_token()));
        loop {
            tokio::select! {
                _ = cancel.cancelled() => {
                    heartbeats.abort();
                    break 'sessions;
                }
                Some(task_id) = removed_rx.recv() => {
                    runners.remove(&task_id);
                    release_networks(&shared, &runners).await;
                }
                message = session.next_assignments() => match message {
                    Ok(message) => {
                        apply(&shared, &mut runners, &mut adopted, message).await;
                    }
                    Err(error) => {
                        tracing::info!(%error, "agent session ended");
                        heartbeats.abort();
                        let _ = session_tx.send(None);
                        break;
                    }
                },
            }
        }
    }
    // Runners end when their inputs close; their containers keep running.
    drop(runners);
    let _ = session_tx.send(None);
    let _ = reporter.await;
}

/// Task containers of this node already on the engine, by task ID.
async fn adopt<E: Engine>(engine: &E, node_id: &str) -> HashMap<String, String> {
    match engine.list_task_containers(node_id).await {
        Ok(found) => found
            .into_iter()
            .filter_map(|c| {
                let task_id = c.labels.get("com.docker.swarm.task.id")?.clone();
                Some((task_id, c.id))
            })
            .collect(),
        Err(error) => {
            tracing::warn!(%error, "cannot list this node's task containers");
            HashMap::new()
        }
    }
}

/// Applies one assignments message: new runners, new desired states, removals.
async fn apply<E: Engine>(
    shared: &Arc<Shared<E>>,
    runners: &mut HashMap<String, RunnerHandle>,
    adopted: &mut HashMap<String, String>,
    message: Assignments,
) {
    let mut seen: HashSet<String> = HashSet::new();
    for change in message.changes {
        match change {
            AssignmentChange::Update(assignment) => {
                let task_id = assignment.task.id.clone();
                seen.insert(task_id.clone());
                let assignment = Arc::new(*assignment);
                if let Some(runner) = runners.get(&task_id) {
                    let _ = runner.input.send(RunnerInput::Run(assignment));
                    continue;
                }
                let networks = assignment
                    .task
                    .networks_attachments
                    .iter()
                    .map(|a| engine_network_name(&a.network))
                    .collect();
                let (input, receiver) = watch::channel(RunnerInput::Run(assignment));
                tokio::spawn(task_runner::run_task(
                    shared.clone(),
                    receiver,
                    adopted.remove(&task_id),
                ));
                runners.insert(task_id, RunnerHandle { input, networks });
            }
            AssignmentChange::Remove { task_id } => {
                if let Some(runner) = runners.get(&task_id) {
                    let _ = runner.input.send(RunnerInput::Remove);
                } else if let Some(container) = adopted.remove(&task_id) {
                    remove_orphan(shared, &container).await;
                }
            }
        }
    }
    if message.complete {
        for (task_id, runner) in runners.iter() {
            if !seen.contains(task_id) {
                let _ = runner.input.send(RunnerInput::Remove);
            }
        }
        // Containers of tasks the cluster no longer knows.
        for (_, container) in adopted.drain() {
            remove_orphan(shared, &container).await;
        }
    }
}

async fn remove_orphan<E: Engine>(shared: &Shared<E>, container: &str) {
    tracing::info!(
        container,
        "removing a container of a task the swarm no longer has"
    );
    if let Err(error) = shared.engine.remove_container(container).await {
        tracing::warn!(container, %error, "cannot remove an orphaned task container");
    }
}

/// Removes engine networks no runner needs (after removals settle).
async fn release_networks<E: Engine>(shared: &Shared<E>, runners: &HashMap<String, RunnerHandle>) {
    let in_use: HashSet<String> = runners
        .values()
        .flat_map(|r| r.networks.iter().cloned())
        .collect();
    shared
        .networks
        .release_unused(&*shared.engine, &in_use)
        .await;
}

/// Sends the runners' reports in batches: whatever queued while the previous call ran, the
/// latest state of each task only.
async fn send_reports<S: DispatcherSession>(
    mut session: watch::Receiver<Option<Arc<S>>>,
    mut reports: mpsc::UnboundedReceiver<StatusReport>,
    cancel: CancellationToken,
) {
    let mut pending: Vec<StatusReport> = Vec::new();
    loop {
        if pending.is_empty() {
            tokio::select! {
                _ = cancel.cancelled() => return,
                report = reports.recv() => match report {
                    Some(report) => pending.push(report),
                    None => return,
                },
            }
        }
        while pending.len() < MAX_BATCH {
            match reports.try_recv() {
                Ok(report) => pending.push(report),
                Err(_) => break,
            }
        }
        let current = session.borrow_and_update().clone();
        let Some(current) = current else {
            tokio::select! {
                _ = cancel.cancelled() => return,
                changed = session.changed() => if changed.is_err() { return },
            }
            continue;
        };
        let batch = latest_per_task(std::mem::take(&mut pending));
        match current.report(batch.clone()).await {
            Ok(()) => {}
            Err(error) => {
                tracing::debug!(%error, "reports not delivered; retrying");
                pending = batch;
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(RECONNECT) => {}
                }
            }
        }
    }
}

/// Keeps each task's last report, in the order tasks first appeared.
fn latest_per_task(reports: Vec<StatusReport>) -> Vec<StatusReport> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<StatusReport> = Vec::with_capacity(reports.len());
    for report in reports {
        match index.get(&report.task_id) {
            Some(&i) => out[i] = report,
            None => {
                index.insert(report.task_id.clone(), out.len());
                out.push(report);
            }
        }
    }
    out
}

async fn heartbeat<S: DispatcherSession>(session: Arc<S>, cancel: CancellationToken) {
    loop {
        let wait = match session.heartbeat().await {
            Ok(period) => period / 2,
            Err(DispatchError::SessionEnded) => return,
            Err(error) => {
                tracing::debug!(%error, "heartbeat failed");
                RECONNECT
            }
        };
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// The node left the swarm: its task containers, engine networks and files go.
pub async fn leave<E: Engine>(engine: &E, node_id: &str, files_root: &std::path::Path) {
    if let Ok(containers) = engine.list_task_containers(node_id).await {
        for container in containers {
            if let Err(error) = engine.remove_container(&container.id).await {
                tracing::warn!(container = %container.name, %error, "cannot remove a task container");
            }
        }
    }
    if let Ok(networks) = engine
        .list_networks(&format!("{NETWORK_NODE_LABEL}={node_id}"))
        .await
    {
        for network in networks {
            if let Err(error) = engine.remove_network(&network.name).await {
                tracing::warn!(network = %network.name, %error, "cannot remove an engine network");
            }
        }
    }
    let _ = std::fs::remove_dir_all(files_root);
}

#[cfg(test)]
mod tests;
