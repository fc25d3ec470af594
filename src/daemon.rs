//! The composition root: builds every part from the config, serves until a signal, and stops
//! the parts in reverse order.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::agent::AgentConfig;
use crate::api::serve::{self, Listener};
use crate::api::{self, AppState};
use crate::clock::{SharedClock, SystemClock};
use crate::config::Config;
use crate::control::{Control, Manager};
use crate::dispatcher::LocalDispatcher;
use crate::engine::EngineClient;

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
    #[error("{0}")]
    Start(String),
}

/// Runs shoal until SIGINT or SIGTERM.
pub async fn run(config: Config) -> Result<(), DaemonError> {
    let shutdown = CancellationToken::new();
    let signals = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        signals.cancel();
    });
    run_until(config, shutdown).await
}

/// Runs shoal until `shutdown` fires.
pub async fn run_until(config: Config, shutdown: CancellationToken) -> Result<(), DaemonError> {
    let clock: SharedClock = Arc::new(SystemClock);
    let engine = Arc::new(EngineClient::new(config.engine.clone())?);
    let control = Control::start(&config, engine.clone(), clock.clone())
        .await
        .map_err(|e| DaemonError::Start(e.to_string()))?;

    let router = api::router(AppState {
        control: control.clone(),
        engine: engine.clone(),
    });
    let mut servers = Vec::new();
    for host in &config.hosts {
        let listener = Listener::bind(host)
            .await
            .map_err(|source| DaemonError::Listen {
                addr: host.to_string(),
                source,
            })?;
        tracing::info!(addr = %host, "API listening");
        servers.push(tokio::spawn(serve::serve(
            listener,
            router.clone(),
            shutdown.clone(),
        )));
    }

    let supervisor = tokio::spawn(supervise_managers(
        control.clone(),
        clock.clone(),
        config.exec_root.clone(),
        shutdown.clone(),
    ));

    shutdown.cancelled().await;
    let _ = supervisor.await;
    // Reverse order: stop taking requests (ending event streams, which would hold their
    // connections open), then stop the swarm parts.
    control.end_streams();
    for server in servers {
        let _ = server.await;
    }
    control.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}

/// Starts the manager's loops (orchestrators, dispatcher) and this node's agent whenever a
/// manager starts (`swarm init`, a restart, an unlock); they stop with it. When the node leaves
/// the swarm, its task containers and engine networks go.
async fn supervise_managers(
    control: Arc<Control>,
    clock: SharedClock,
    exec_root: PathBuf,
    shutdown: CancellationToken,
) {
    let mut changes = control.watch_manager();
    let mut current: Option<Arc<Manager>> = None;
    loop {
        match control.manager() {
            Ok(manager) => {
                if current.as_ref().is_none_or(|c| !Arc::ptr_eq(c, &manager)) {
                    start_manager_loops(&manager, &clock, control.engine(), &exec_root).await;
                    current = Some(manager);
                }
            }
            Err(_) => {
                if let Some(left) = current.take() {
                    if control.swarm_header() == "inactive" {
                        let node_id = left.node_id().to_string();
                        let engine = control.engine().clone();
                        let files = exec_root.join(&node_id);
                        tokio::spawn(async move {
                            crate::agent::leave(&*engine, &node_id, &files).await;
                        });
                    }
                }
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            changed = changes.changed() => if changed.is_err() { return },
        }
    }
}

async fn start_manager_loops(
    manager: &Arc<Manager>,
    clock: &SharedClock,
    engine: &Arc<EngineClient>,
    exec_root: &Path,
) {
    let stopping = manager.stopping();
    let orchestrator = tokio::spawn(crate::orchestrator::run(
        manager.clone(),
        clock.clone(),
        stopping.clone(),
    ));
    manager.add_worker(orchestrator).await;
    let scheduler = tokio::spawn(crate::scheduler::run(
        manager.clone(),
        clock.clone(),
        stopping.clone(),
    ));
    manager.add_worker(scheduler).await;
    let dispatcher = LocalDispatcher::new(manager.clone(), clock.clone());
    let heartbeats = tokio::spawn(dispatcher.clone().watch_heartbeats(stopping.clone()));
    manager.add_worker(heartbeats).await;

    let node_id = manager.node_id().to_string();
    let description = manager
        .store
        .read()
        .get::<crate::types::node::Node>(&node_id)
        .map(|n| n.description.clone())
        .unwrap_or_default();
    let agent = tokio::spawn(crate::agent::run(
        dispatcher,
        engine.clone(),
        AgentConfig {
            files_root: exec_root.join(&node_id),
            node_id,
            description,
        },
        stopping,
    ));
    manager.add_worker(agent).await;
    let mesh = tokio::spawn(crate::mesh::run(manager.clone(), manager.stopping()));
    manager.add_worker(mesh).await;
    tracing::info!(node.id = %manager.node_id(), "manager loops started");
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(error) => {
            tracing::warn!(%error, "cannot watch SIGTERM");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}
