//! The routing mesh: every port a service publishes in ingress mode answers on this node and
//! spreads connections over the service's running tasks.
//!
//! [`routes::routing_table`] turns the cluster state into a [`RoutingTable`] (pure).
//!
//! Depends on `store` and `types`.

pub mod proxy;
pub mod routes;

pub use proxy::Mesh;
pub use routes::{routing_table, Route, RouteKey, RoutingTable};
