//! The Engine API wire model: the JSON shapes shoal reads and writes.
//!
//! Every type here encodes exactly as the Docker engine (swarm mode) encodes it: PascalCase
//! names, Go's `omitempty` mirrored field by field, explicit `null` where the engine emits
//! `null`, Go's struct field order. Request bodies are decoded with [`decode`], which follows Go's
//! `encoding/json` (case-insensitive keys, unknown keys ignored, `null` = unset). The authority
//! is what a real engine emitted (`reference/transcripts/`), then moby's Go types.
//!
//! This module is the bottom layer: it depends on no other module of the crate.

pub(crate) mod encoding;
pub(crate) mod enums;
mod json_syntax;

pub mod decode;
pub mod ids;
pub mod meta;

pub use decode::DecodeError;
pub use ids::{is_swarm_id, new_id};
pub use meta::{DurationNs, Labels, Timestamp, Version};

pub mod config;
pub mod container_spec;
pub mod endpoint;
pub mod event;
pub mod filters;
pub mod mount;
pub mod network;
pub mod network_resource;
pub mod node;
pub mod openapi;
pub mod secret;
pub mod service;
pub mod swarm;
pub mod task;
pub mod task_spec;

#[cfg(test)]
mod roundtrip_tests;
