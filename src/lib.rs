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
//! types, clock, engine                      (bottom: wire model, time, the dockerd client)
//!   <- store                                (Command, deterministic apply, redb, change feed)
//!   <- raft                                 (openraft glue only)
//!   <- control, orchestrator, scheduler,    (validation + proposing; pure planners)
//!      allocator, dispatcher
//!   <- api                                  (axum routers, one per resource; proxy)
//!   <- daemon                               (composition root)
//! ```
//!
//! The `agent` depends on `types`, `ca` and `engine` only, never on `store`.

pub mod api;
pub mod clock;
pub mod config;
pub mod control;
pub mod daemon;
pub mod engine;
pub mod telemetry;
pub mod types;
