//! One task's life on this node, as swarm's executor lives it: `assigned` → `accepted` →
//! `preparing` (image, networks, secret and config files, container created) → `ready` →
//! `starting` (started; healthy, if it has a healthcheck) → `running` → `complete` or
//! `failed`; `shutdown` when its desired state says so; `rejected` when it cannot be prepared.
//! Each step is reported with the engine's message; errors carry the engine's texts
//! (`task: non-zero exit (1)`).
//!
//! The runner follows its task's latest assignment through a watch channel: a new desired
//! state interrupts the wait for the container. When the agent stops, the runner ends and the
//! container keeps running (a restarted agent adopts it); when the task is removed from the
//! store, its container and files go.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::container::{self, container_spec};
use super::files;
use super::networks::Networks;
use crate::engine::{Engine, EngineError};
use crate::types::dispatch::{Assignment, StatusReport};
use crate::types::endpoint::PublishMode;
use crate::types::meta::Timestamp;
use crate::types::node::NodeDescription;
use crate::types::task::{ContainerStatus, TaskState, TaskStatus};

/// The engine's stop grace period when the spec sets none.
const DEFAULT_GRACE: Duration = Duration::from_secs(10);
/// How often a starting container's health is looked at.
const HEALTH_POLL: Duration = Duration::from_millis(100);
/// How often a running container's health is looked at.
const RUNNING_HEALTH_POLL: Duration = Duration::from_secs(1);
/// Wait before asking an unreachable engine again.
const RETRY: Duration = Duration::from_secs(1);

/// What the agent tells a runner.
#[derive(Debug, Clone)]
pub enum RunnerInput {
    Run(Arc<Assignment>),
    /// The task left the store: remove its container and files, then end.
    Remove,
}

/// What every runner of the agent shares.
pub struct Shared<E> {
    pub engine: Arc<E>,
    pub node: NodeDescription,
    pub files_root: PathBuf,
    pub networks: Networks,
    /// Images known to be on the engine: a task of a service whose image another task of
    /// this node already found does not ask again (50 replicas start with one image lookup).
    pub images: std::sync::Mutex<std::collections::HashSet<String>>,
    pub reports: mpsc::UnboundedSender<StatusReport>,
    /// Task IDs whose runner removed everything (the agent then releases networks).
    pub removed: mpsc::UnboundedSender<String>,
}

/// How waiting for the container ended.
enum Waited {
    Exited(Result<(), String>),
    /// The assignment changed (or the agent stops): look again.
    Interrupted,
}

struct Runner<E> {
    shared: Arc<Shared<E>>,
    input: watch::Receiver<RunnerInput>,
    assignment: Arc<Assignment>,
    status: TaskStatus,
    container: Option<String>,
}

/// Runs one task until it is removed or the agent stops. `adopted` is the task's container
/// found on the engine when the agent started.
pub async fn run_task<E: Engine>(
    shared: Arc<Shared<E>>,
    input: watch::Receiver<RunnerInput>,
    adopted: Option<String>,
) {
    let assignment = match &*input.borrow() {
        RunnerInput::Run(assignment) => assignment.clone(),
        RunnerInput::Remove => return,
    };
    let mut runner = Runner {
        status: assignment.task.status.clone(),
        container: adopted.or_else(|| {
            assignment
                .task
                .status
                .container_status
                .as_ref()
                .map(|c| c.container_id.clone())
                .filter(|id| !id.is_empty())
        }),
        shared,
        input,
        assignment,
    };
    runner.run().await;
}

impl<E: Engine> Runner<E> {
    fn task_id(&self) -> &str {
        &self.assignment.task.id
    }

    async fn run(&mut self) {
        loop {
            let input = self.input.borrow_and_update().clone();
            match input {
                RunnerInput::Remove => {
                    self.remove().await;
                    return;
                }
                RunnerInput::Run(assignment) => self.assignment = assignment,
            }
            if !self.step().await {
                // Nothing to do until the assignment changes.
                if self.input.changed().await.is_err() {
                    return;
                }
            }
        }
    }

    /// One move of the task towards its desired state; `false` when there is none to make.
    async fn step(&mut self) -> bool {
        let desired = self.assignment.task.desired_state;
        let state = self.status.state;
        if desired >= TaskState::Shutdown {
            if state >= TaskState::Complete {
                // Wanted gone (its service was removed, or scaled down): nothing will read its
                // logs, so the container goes now rather than when the task leaves the store.
                if desired >= TaskState::Remove && self.container.is_some() {
                    self.discard().await;
                    return true;
                }
                return false;
            }
            self.stop().await;
            self.transition(TaskState::Shutdown, "shutdown");
            return true;
        }
        if state > desired {
            return false;
        }
        match state {
            TaskState::Preparing => {
                match self.prepare().await {
                    Ok(()) => self.transition(TaskState::Ready, "prepared"),
                    Err(error) => self.fatal(error),
                }
                return true;
            }
            TaskState::Starting => {
                match self.start().await {
                    Waited::Exited(Ok(())) => self.transition(TaskState::Running, "started"),
                    Waited::Exited(Err(error)) => self.fatal(error),
                    Waited::Interrupted => {}
                }
                return true;
            }
            TaskState::Running => {
                match self.wait().await {
                    Waited::Exited(Ok(())) => self.transition(TaskState::Complete, "finished"),
                    Waited::Exited(Err(error)) => self.fatal(error),
                    Waited::Interrupted => {}
                }
                return true;
            }
            _ => {}
        }
        if state >= desired {
            return false;
        }
        match state {
            TaskState::New | TaskState::Pending | TaskState::Assigned => {
                self.transition(TaskState::Accepted, "accepted")
            }
            TaskState::Accepted => self.transition(TaskState::Preparing, "preparing"),
            TaskState::Ready => self.transition(TaskState::Starting, "starting"),
            _ => return false,
        }
        true
    }

    fn transition(&mut self, state: TaskState, message: &str) {
        self.status.state = state;
        self.status.message = message.to_string();
        self.status.err.clear();
        self.send_status();
    }

    /// An error ends the task: `rejected` before it started, `failed` after.
    fn fatal(&mut self, error: String) {
        tracing::warn!(task.id = %self.task_id(), %error, "task failed");
        self.status.state = if self.status.state < TaskState::Starting {
            TaskState::Rejected
        } else {
            TaskState::Failed
        };
        self.status.err = error;
        self.send_status();
    }

    fn send_status(&mut self) {
        self.status.timestamp = Timestamp::now();
        if self.status.state >= TaskState::Starting {
            let status = self
                .status
                .container_status
                .get_or_insert_with(ContainerStatus::default);
            if let Some(id) = &self.container {
                status.container_id = id.clone();
            }
        }
        if self.status.state == TaskState::Running {
            self.status.port_status.ports = self
                .assignment
                .endpoint_ports
                .iter()
                .filter(|p| p.publish_mode == Some(PublishMode::Host))
                .cloned()
                .collect();
        }
        let _ = self.shared.reports.send(StatusReport {
            task_id: self.task_id().to_string(),
            status: self.status.clone(),
        });
    }

    fn engine(&self) -> &E {
        &self.shared.engine
    }

    /// Image, networks, files, container: everything but starting it.
    async fn prepare(&mut self) -> Result<(), String> {
        let assignment = self.assignment.clone();
        let spec = container_spec(&assignment.task)?;
        if spec.image.is_empty() {
            return Err("dockerexec: image required".into());
        }
        self.shared
            .networks
            .ensure(self.engine(), &assignment.task.networks_attachments)
            .await?;
        let known = self
            .shared
            .images
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&spec.image);
        let present = known
            || self
                .engine()
                .image_present(&spec.image)
                .await
                .map_err(|e| e.to_string())?;
        if !present {
            if let Err(error) = self
                .engine()
                .pull_image(&spec.image, assignment.registry_auth.as_deref())
                .await
            {
                // The engine falls back to a local image when a pull fails.
                if !self
                    .engine()
                    .image_present(&spec.image)
                    .await
                    .unwrap_or(false)
                {
                    return Err(message_of(error));
                }
            }
        }
        self.shared
            .images
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(spec.image.clone());
        let context = container::template_context(&assignment, &self.shared.node);
        let files = files::write_task_files(&self.shared.files_root, &assignment, &context)?;
        let plan = container::plan(&assignment, &context, &files)?;
        let id = match self.engine().create_container(&plan.name, plan.body).await {
            Ok(id) => id,
            // Created before (the agent restarted while preparing): use it.
            Err(EngineError::Status { status: 409, .. }) => self
                .engine()
                .inspect_container(&plan.name)
                .await
                .map_err(message_of)?
                .map(|c| c.id)
                .ok_or_else(|| "dockerexec: container destroyed".to_string())?,
            Err(error) => {
                if matches!(&error, EngineError::Status { status: 404, .. }) {
                    // The image went away meanwhile: look again next time.
                    self.shared
                        .images
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .remove(&spec.image);
                }
                return Err(message_of(error));
            }
        };
        self.container = Some(id.clone());
        for join in plan.more_networks {
            if let Err(error) = self
                .engine()
                .connect_network(&join.network, &id, join.ipv4, join.aliases)
                .await
            {
                // Joined before (a re-prepare) is fine.
                if !matches!(
                    error,
                    EngineError::Status {
                        status: 403 | 409,
                        ..
                    }
                ) {
                    return Err(message_of(error));
                }
            }
        }
        Ok(())
    }

    /// Starts the container and, if it has a healthcheck, waits until it is healthy.
    async fn start(&mut self) -> Waited {
        let Some(id) = self.container.clone() else {
            return Waited::Exited(Err("dockerexec: container destroyed".into()));
        };
        if let Err(error) = self.engine().start_container(&id).await {
            match self.engine().inspect_container(&id).await {
                Ok(Some(state)) if state.status != "created" => {}
                _ => {
                    return Waited::Exited(Err(format!(
                        "starting container failed: {}",
                        message_of(error)
                    )))
                }
            }
        }
        loop {
            let state = match self.engine().inspect_container(&id).await {
                Ok(Some(state)) => state,
                Ok(None) => return Waited::Exited(Err("dockerexec: container destroyed".into())),
                Err(error) => {
                    tracing::warn!(task.id = %self.task_id(), %error, "cannot inspect the container");
                    return Waited::Exited(Ok(()));
                }
            };
            if let Some(status) = self.status.container_status.as_mut() {
                status.pid = state.pid;
            } else {
                self.status.container_status = Some(ContainerStatus {
                    container_id: id.clone(),
                    pid: state.pid,
                    exit_code: 0,
                });
            }
            if !state.is_running() {
                // Exited at once: the wait reports how.
                return Waited::Exited(Ok(()));
            }
            match state.health.as_deref() {
                None | Some("healthy") => return Waited::Exited(Ok(())),
                Some("unhealthy") => return Waited::Exited(Err(self.stop_unhealthy(&id).await)),
                Some(_) => {}
            }
            tokio::select! {
                changed = self.input.changed() => {
                    if changed.is_err() {
                        return Waited::Interrupted;
                    }
                    if self.wants_stop() {
                        return Waited::Interrupted;
                    }
                }
                _ = tokio::time::sleep(HEALTH_POLL) => {}
            }
        }
    }

    /// Whether the latest assignment wants the task gone or stopped.
    fn wants_stop(&self) -> bool {
        match &*self.input.borrow() {
            RunnerInput::Remove => true,
            RunnerInput::Run(a) => a.task.desired_state >= TaskState::Shutdown,
        }
    }

    /// Waits for the container to exit (watching its health when it has a healthcheck).
    async fn wait(&mut self) -> Waited {
        let Some(id) = self.container.clone() else {
            return Waited::Exited(Err("dockerexec: container destroyed".into()));
        };
        let engine = self.shared.engine.clone();
        let waiting = {
            let id = id.clone();
            async move { engine.wait_container(&id).await }
        };
        tokio::pin!(waiting);
        let mut health = tokio::time::interval(RUNNING_HEALTH_POLL);
        health.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        health.tick().await;
        loop {
            tokio::select! {
                exited = &mut waiting => {
                    return match exited {
                        Ok(code) => Waited::Exited(self.exited(&id, code, None).await),
                        Err(EngineError::Status { status: 404, .. }) => {
                            Waited::Exited(Err("dockerexec: container destroyed".into()))
                        }
                        Err(error) => {
                            tracing::warn!(task.id = %self.task_id(), %error, "cannot wait for the container");
                            tokio::time::sleep(RETRY).await;
                            Waited::Interrupted
                        }
                    };
                }
                changed = self.input.changed() => {
                    if changed.is_err() || self.wants_stop() {
                        return Waited::Interrupted;
                    }
                }
                _ = health.tick() => {
                    if let Ok(Some(state)) = self.engine().inspect_container(&id).await {
                        if state.health.as_deref() == Some("unhealthy") {
                            return Waited::Exited(Err(self.stop_unhealthy(&id).await));
                        }
                    }
                }
            }
        }
    }

    /// The outcome of an exit with `code`, recorded in the container status.
    async fn exited(&mut self, id: &str, code: i64, cause: Option<&str>) -> Result<(), String> {
        let container = self
            .status
            .container_status
            .get_or_insert_with(ContainerStatus::default);
        container.container_id = id.to_string();
        container.exit_code = code;
        container.pid = 0;
        match (code, cause) {
            (0, None) => Ok(()),
            (code, Some(cause)) => Err(format!("task: non-zero exit ({code}): {cause}")),
            (code, None) => Err(format!("task: non-zero exit ({code})")),
        }
    }

    /// Stops an unhealthy container; the error the task fails with.
    async fn stop_unhealthy(&mut self, id: &str) -> String {
        let grace = self.grace_secs();
        if let Err(error) = self.engine().stop_container(id, grace).await {
            return format!("unhealthy container shutdown failed: {}", message_of(error));
        }
        let code = self
            .engine()
            .inspect_container(id)
            .await
            .ok()
            .flatten()
            .map_or(137, |s| s.exit_code);
        match self
            .exited(id, code, Some("dockerexec: unhealthy container"))
            .await
        {
            Err(error) => error,
            Ok(()) => "dockerexec: unhealthy container".into(),
        }
    }

    fn grace_secs(&self) -> i64 {
        let grace = container_spec(&self.assignment.task)
            .ok()
            .and_then(|s| s.stop_grace_period)
            .filter(|g| *g >= 0)
            .map(|g| Duration::from_nanos(g as u64))
            .unwrap_or(DEFAULT_GRACE);
        // The engine takes whole seconds: round up, so a grace period is never cut short.
        grace.as_secs() as i64 + i64::from(grace.subsec_nanos() > 0)
    }

    /// Stops the container (stop signal, then kill after the grace period).
    async fn stop(&mut self) {
        let Some(id) = self.container.clone() else {
            return;
        };
        let grace = self.grace_secs();
        if let Err(error) = self.engine().stop_container(&id, grace).await {
            tracing::warn!(task.id = %self.task_id(), %error, "cannot stop the container");
        }
        if let Ok(Some(state)) = self.engine().inspect_container(&id).await {
            let container = self
                .status
                .container_status
                .get_or_insert_with(ContainerStatus::default);
            container.container_id = id;
            container.exit_code = state.exit_code;
            container.pid = 0;
        }
    }

    /// Removes the container and files of an ended task that is wanted gone.
    async fn discard(&mut self) {
        if let Some(id) = self.container.take() {
            if let Err(error) = self.engine().remove_container(&id).await {
                tracing::warn!(task.id = %self.task_id(), %error, "cannot remove the container");
            }
        }
        files::remove_task_files(&self.shared.files_root, self.task_id());
    }

    /// The task left the store: its container and files go.
    async fn remove(&mut self) {
        let name = container::task_name(&self.assignment.task, &self.assignment.service_name);
        let target = self.container.clone().unwrap_or(name);
        if self.status.state <= TaskState::Running {
            self.stop().await;
        }
        if let Err(error) = self.engine().remove_container(&target).await {
            tracing::warn!(task.id = %self.task_id(), %error, "cannot remove the container");
        }
        files::remove_task_files(&self.shared.files_root, self.task_id());
        let _ = self.shared.removed.send(self.task_id().to_string());
    }
}

/// The engine's message alone (what swarm puts in a task's error).
fn message_of(error: EngineError) -> String {
    match error {
        EngineError::Status { message, .. } => message,
        other => other.to_string(),
    }
}
