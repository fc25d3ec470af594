//! The Engine API wire model: the JSON shapes shoal reads and writes.

pub mod api_version;
