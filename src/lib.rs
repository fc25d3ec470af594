//! shoal: Docker's swarm mode, rebuilt in Rust.
//!
//! shoal serves the swarm endpoints of the Docker Engine API (`/swarm`, `/nodes`, `/services`,
//! `/tasks`, `/secrets`, `/configs`, swarm-scoped `/networks`) from a Raft-replicated store and
//! passes every other endpoint through to the local dockerd.
//!
//! # Layering
//!
//! Lower modules never depend on higher ones:
//!
//! ```text
//! types, clock, config, engine, ca       (bottom: wire model, time, settings, dockerd, crypto)
//!   <- store                              (Command, deterministic apply, redb, change feed)
//!   <- raft                               (openraft glue only)
//!   <- control                            (validation + proposing; the swarm lifecycle)
//!   <- orchestrator, scheduler,           (leader loops: pure planners + one runner each;
//!      dispatcher, mesh                    mesh: published ports to running tasks)
//!   <- api                                (axum routers, one per resource; proxy)
//!   <- daemon                             (composition root)
//! ```
//!
//! The `agent` depends on `types`, `clock`, `ca` and `engine` only, never on `store`: it talks
//! to the managers through `types::dispatch`.

pub mod agent;
pub mod api;
pub mod ca;
pub mod clock;
pub mod config;
pub mod control;
pub mod daemon;
pub mod dispatcher;
pub mod engine;
pub mod mesh;
pub mod orchestrator;
pub mod raft;
pub mod scheduler;
pub mod store;
pub mod telemetry;
pub mod types;

#[cfg(test)]
mod dockerfile_tests;
