//! The agent against a scripted dispatcher and the recording engine.

use std::sync::Mutex;
use std::time::Duration;

use super::*;
use crate::engine::fake::FakeEngine;
use crate::engine::EngineError;
use crate::types::container_spec::{ContainerSpec, HealthConfig};
use crate::types::dispatch::Assignment;
use crate::types::task::{Task, TaskState, TaskStatus};
use crate::types::task_spec::TaskSpec;

/// A dispatcher whose assignments the test sends and whose reports the test reads.
#[derive(Clone)]
struct Script {
    inner: Arc<ScriptInner>,
}

struct ScriptInner {
    assignments: tokio::sync::Mutex<mpsc::UnboundedReceiver<Assignments>>,
    reports: mpsc::UnboundedSender<StatusReport>,
    opened: Mutex<u32>,
}

struct ScriptSession(Arc<ScriptInner>);

impl Dispatcher for Script {
    type Session = ScriptSession;

    async fn open_session(
        &self,
        _node_id: &str,
        _description: NodeDescription,
    ) -> Result<ScriptSession, DispatchError> {
        *self.inner.opened.lock().unwrap() += 1;
        Ok(ScriptSession(self.inner.clone()))
    }
}

impl DispatcherSession for ScriptSession {
    async fn next_assignments(&self) -> Result<Assignments, DispatchError> {
        self.0
            .assignments
            .lock()
            .await
            .recv()
            .await
            .ok_or(DispatchError::SessionEnded)
    }

    async fn report(&self, reports: Vec<StatusReport>) -> Result<(), DispatchError> {
        for report in reports {
            let _ = self.0.reports.send(report);
        }
        Ok(())
    }

    async fn heartbeat(&self) -> Result<Duration, DispatchError> {
        Ok(Duration::from_secs(5))
    }
}

struct Harness {
    engine: Arc<FakeEngine>,
    send: mpsc::UnboundedSender<Assignments>,
    reports: mpsc::UnboundedReceiver<StatusReport>,
    cancel: CancellationToken,
    agent: tokio::task::JoinHandle<()>,
    _files: tempfile::TempDir,
}

fn start(engine: impl Into<Arc<FakeEngine>>) -> Harness {
    let engine = engine.into();
    let (send, assignments) = mpsc::unbounded_channel();
    let (reports_tx, reports) = mpsc::unbounded_channel();
    let script = Script {
        inner: Arc::new(ScriptInner {
            assignments: tokio::sync::Mutex::new(assignments),
            reports: reports_tx,
            opened: Mutex::new(0),
        }),
    };
    let files = tempfile::tempdir().unwrap();
    let cancel = CancellationToken::new();
    let config = AgentConfig {
        node_id: "node1".into(),
        description: NodeDescription {
            hostname: "host-a".into(),
            ..Default::default()
        },
        files_root: files.path().to_path_buf(),
    };
    let agent = tokio::spawn(run(script, engine.clone(), config, cancel.clone()));
    Harness {
        engine,
        send,
        reports,
        cancel,
        agent,
        _files: files,
    }
}

impl Harness {
    fn assign(&self, task: Task, complete: bool) {
        let assignment = Assignment {
            task,
            service_name: "web".into(),
            service_labels: Default::default(),
            registry_auth: None,
            secrets: vec![],
            configs: vec![],
            endpoint_ports: vec![],
        };
        self.send
            .send(Assignments {
                complete,
                changes: vec![AssignmentChange::Update(Box::new(assignment))],
            })
            .unwrap();
    }

    fn remove(&self, task_id: &str) {
        self.send
            .send(Assignments {
                complete: false,
                changes: vec![AssignmentChange::Remove {
                    task_id: task_id.into(),
                }],
            })
            .unwrap();
    }

    /// Reports until one reaches `state`; answers that one.
    async fn until(&mut self, state: TaskState) -> TaskStatus {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let report = tokio::time::timeout_at(deadline, self.reports.recv())
                .await
                .unwrap_or_else(|_| panic!("no report reached {state:?}"))
                .expect("reports closed");
            if report.status.state == state {
                return report.status;
            }
            assert!(
                report.status.state < state,
                "went past {state:?}: {:?}",
                report.status
            );
        }
    }

    async fn stop(self) {
        self.cancel.cancel();
        let _ = self.agent.await;
    }
}

fn task(id: &str, spec: ContainerSpec) -> Task {
    Task {
        id: id.into(),
        service_id: "svc1".into(),
        slot: 1,
        node_id: "node1".into(),
        spec: TaskSpec {
            container_spec: Some(spec),
            ..Default::default()
        },
        status: TaskStatus {
            state: TaskState::Assigned,
            message: "scheduler assigned task to node".into(),
            ..Default::default()
        },
        desired_state: TaskState::Running,
        ..Default::default()
    }
}

fn busybox() -> ContainerSpec {
    ContainerSpec {
        image: "busybox:1".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_task_runs_exits_and_fails_with_the_engines_texts() {
    let mut h = start(FakeEngine::with_images(&["busybox:1"]));
    h.assign(task("t1", busybox()), true);
    let running = h.until(TaskState::Running).await;
    assert_eq!(running.message, "started");
    let container = running.container_status.clone().unwrap();
    assert!(!container.container_id.is_empty());
    assert_eq!(container.pid, 4242);
    assert_eq!(h.engine.containers()[0].name, "web.1.t1");

    h.engine.exit("web.1.t1", 3);
    let failed = h.until(TaskState::Failed).await;
    assert_eq!(failed.err, "task: non-zero exit (3)");
    assert_eq!(failed.message, "started");
    assert_eq!(failed.container_status.unwrap().exit_code, 3);
    h.stop().await;
}

#[tokio::test]
async fn a_clean_exit_completes_and_shutdown_stops() {
    let mut h = start(FakeEngine::with_images(&["busybox:1"]));
    h.assign(task("t1", busybox()), true);
    h.until(TaskState::Running).await;
    h.engine.exit("web.1.t1", 0);
    let done = h.until(TaskState::Complete).await;
    assert_eq!(done.message, "finished");

    let mut second = task("t2", busybox());
    h.assign(second.clone(), false);
    h.until(TaskState::Running).await;
    second.desired_state = TaskState::Shutdown;
    h.assign(second, false);
    let shut = h.until(TaskState::Shutdown).await;
    assert_eq!(shut.message, "shutdown");
    assert!(h.engine.calls().iter().any(|c| c.starts_with("stop ")));
    // The container stays (for its logs) until the task leaves the store.
    assert_eq!(h.engine.containers().len(), 2);
    h.remove("t2");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while h.engine.containers().len() != 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "container not removed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    h.stop().await;
}

#[tokio::test]
async fn a_missing_image_that_cannot_be_pulled_rejects_the_task() {
    let mut h = start(FakeEngine::default());
    h.engine.fail_next(
        "pull",
        EngineError::Status {
            status: 404,
            message: "pull access denied for nope".into(),
        },
    );
    h.assign(
        task(
            "t1",
            ContainerSpec {
                image: "nope:1".into(),
                ..Default::default()
            },
        ),
        true,
    );
    let rejected = h.until(TaskState::Rejected).await;
    assert_eq!(rejected.err, "pull access denied for nope");
    assert_eq!(rejected.message, "preparing");
    assert!(h.engine.containers().is_empty());
    h.stop().await;
}

#[tokio::test]
async fn a_healthcheck_holds_the_task_in_starting_until_healthy() {
    let mut h = start(FakeEngine::with_images(&["busybox:1"]));
    let mut spec = busybox();
    spec.healthcheck = Some(HealthConfig {
        test: vec!["CMD".into(), "true".into()],
        interval: 1_000_000_000,
        ..Default::default()
    });
    h.assign(task("t1", spec), true);
    h.until(TaskState::Starting).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(h.reports.try_recv().is_err(), "running before healthy");
    h.engine.set_health("web.1.t1", "healthy");
    h.until(TaskState::Running).await;
    h.stop().await;
}

#[tokio::test]
async fn a_restarted_agent_adopts_its_containers_and_removes_orphans() {
    let engine = FakeEngine::with_images(&["busybox:1"]);
    let mut h = start(engine);
    h.assign(task("t1", busybox()), true);
    h.assign(task("t2", busybox()), false);
    h.until(TaskState::Running).await;
    h.until(TaskState::Running).await;
    let engine = h.engine.clone();
    h.stop().await;
    assert_eq!(engine.containers().len(), 2, "containers outlive the agent");

    // A new agent on the same engine: t1 is still assigned (running), t2 is gone.
    let mut h = start(engine);
    let mut t1 = task("t1", busybox());
    t1.status.state = TaskState::Running;
    t1.status.message = "started".into();
    h.assign(t1, true);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while h.engine.containers().len() != 1 {
        assert!(tokio::time::Instant::now() < deadline, "orphan not removed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(h.engine.containers()[0].name, "web.1.t1");
    let creates = h
        .engine
        .calls()
        .iter()
        .filter(|c| c.starts_with("create "))
        .count();
    assert_eq!(creates, 2, "the adopted container is not created again");
    h.engine.exit("web.1.t1", 1);
    let failed = h.until(TaskState::Failed).await;
    assert_eq!(failed.err, "task: non-zero exit (1)");
    h.stop().await;
}

#[test]
fn reports_keep_the_latest_state_per_task() {
    let report = |id: &str, state| StatusReport {
        task_id: id.into(),
        status: TaskStatus {
            state,
            ..Default::default()
        },
    };
    let merged = latest_per_task(vec![
        report("a", TaskState::Accepted),
        report("b", TaskState::Accepted),
        report("a", TaskState::Running),
    ]);
    assert_eq!(merged.len(), 2);
    assert_eq!(merged[0].task_id, "a");
    assert_eq!(merged[0].status.state, TaskState::Running);
}

#[tokio::test]
async fn a_task_wanted_removed_loses_its_container_once_stopped() {
    let mut h = start(FakeEngine::with_images(&["busybox:1"]));
    let mut t1 = task("t1", busybox());
    h.assign(t1.clone(), true);
    h.until(TaskState::Running).await;
    t1.desired_state = TaskState::Remove;
    h.assign(t1, false);
    h.until(TaskState::Shutdown).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !h.engine.containers().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "container kept");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    h.stop().await;
}
