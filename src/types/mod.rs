//! The Engine API wire model: the JSON shapes shoal reads and writes.
//!
//! Every type here encodes exactly as the Docker engine (swarm mode) encodes it: PascalCase
//! names, Go's `omitempty` mirrored field by field, explicit `null` where the engine emits
//! `null`, Go's struct field order. Request bodies are decoded with [`decode`], which follows
//! Go's `encoding/json` (case-insensitive keys, unknown keys ignored, `null` = unset, only the
//! first JSON value read). The authority is what a real engine emitted
//! (`reference/transcripts/`, copied in part to `testdata/`), then moby's Go types.
//!
//! Map of the module:
//! - objects: [`swarm`] (+ `/info` `Swarm` section), [`node`], [`service`] ([`endpoint`]),
//!   [`task`] (ordered [`task::TaskState`]), [`task_spec`], [`container_spec`], [`mount`],
//!   [`secret`], [`config`], [`network`] (swarm shape), [`network_resource`] (`/networks`
//!   shape), [`event`];
//! - building blocks: [`meta`] (`Version`, `Timestamp`, durations, labels, query helpers),
//!   [`ids`] (25-character base36 IDs);
//! - input: [`decode`] (Go-style body decoding), [`filters`] (the `filters` parameter);
//! - [`openapi::WireSchemas`]: every schema, for the generated OpenAPI document.
//!
//! This module is the bottom layer: it depends on no other module of the crate.

pub(crate) mod encoding;
pub(crate) mod enums;
mod json_syntax;

pub mod api_version;
pub mod config;
pub mod constraint;
pub mod container_spec;
pub mod decode;
pub mod dispatch;
pub mod endpoint;
pub mod event;
pub mod filters;
pub mod ids;
pub mod meta;
pub mod mount;
pub mod network;
pub mod network_resource;
pub mod node;
pub mod openapi;
pub mod queries;
pub mod secret;
pub mod service;
pub mod swarm;
pub mod task;
pub mod task_spec;

pub use decode::DecodeError;
pub use filters::{FilterError, Filters};
pub use ids::{is_swarm_id, new_id};
pub use meta::{DurationNs, Labels, Timestamp, Version};

#[cfg(test)]
mod roundtrip_tests;
