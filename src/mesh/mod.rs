//! The routing mesh: every port a service publishes in ingress mode answers on this node and
//! spreads connections over the service's running tasks.
//!
//! This kernel has no IPVS, so the mesh works in userspace: [`routes::routing_table`] turns the
//! cluster state into a [`RoutingTable`] (pure), and a [`Mesh`] ([`proxy`]) listens on each
//! published port and proxies to the tasks' addresses, which the host reaches directly (the
//! agent runs each container on an engine bridge network with the subnet and address the store
//! allocated for the task's ingress attachment).
//!
//! The table is computed apart from the store on purpose: [`run`] feeds it from this manager's
//! store, and a worker node, which has no store, can later be fed the same table by the
//! dispatcher and drive a [`Mesh`] the same way.
//!
//! Depends on `store` and `types` (routes), `control` (the runner reads the manager's store).

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::control::Manager;

pub mod proxy;
pub mod routes;

pub use proxy::Mesh;
pub use routes::{concerns_routes, routing_table, Route, RouteKey, RoutingTable};

/// Debounce, as the orchestrator does (see its SETTLE).
const SETTLE: Duration = Duration::from_millis(10);
/// How often ports that could not be bound are tried again.
const RETRY: Duration = Duration::from_secs(2);

/// Keeps this node's published ports in line with the manager's store until `cancel`.
pub async fn run(manager: Arc<Manager>, cancel: CancellationToken) {
    let mut changes = manager.store.feed().cursor();
    let mut mesh = Mesh::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let mut applied_table = RoutingTable::default();
    let mut unbound = 0;
    let mut first = true;
    loop {
        let table = {
            let pending = changes.take();
            let state = manager.store.read();
            (first || unbound > 0 || concerns_routes(&pending, &state, &applied_table))
                .then(|| routing_table(&state))
        };
        if let Some(table) = table {
            if first || unbound > 0 || table != applied_table {
                unbound = mesh.apply(&table);
                applied_table = table;
            }
            first = false;
        }
        let retry = async {
            if unbound > 0 {
                tokio::time::sleep(RETRY).await
            } else {
                std::future::pending().await
            }
        };
        tokio::select! {
            _ = cancel.cancelled() => break,
            arrived = changes.wait() => {
                if !arrived {
                    break;
                }
                tokio::time::sleep(SETTLE).await;
            }
            _ = retry => {}
        }
    }
    mesh.shutdown().await;
    tracing::debug!("mesh stopped");
}
