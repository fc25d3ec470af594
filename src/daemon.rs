//! The composition root: builds every part from the config, serves until a signal, and stops
//! the parts in reverse order.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::api::serve::{self, Listener};
use crate::api::{self, AppState};
use crate::clock::{SharedClock, SystemClock};
use crate::config::Config;
use crate::control::Control;
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
    let control = Control::start(&config, engine.clone(), clock)
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

    shutdown.cancelled().await;
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
