//! Stored forms of objects that carry more than their wire shape.
//!
//! A service keeps, besides what clients see, the log index at which its spec was last set by
//! a user (tasks made from that spec are "up to date") and the registry credentials sent with
//! that spec (`X-Registry-Auth`), which the agent needs to pull and clients must never see.

use serde::{Deserialize, Serialize};

use crate::types::service::Service;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceRecord {
    /// What the API shows.
    pub service: Service,
    /// `Version.Index` of the write that set `service.spec` (a user's create, update or
    /// rollback); `apply` fills it in.
    pub spec_version: u64,
    /// The same for `service.previous_spec`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_spec_version: Option<u64>,
    /// `X-Registry-Auth` (base64url JSON, as sent) for pulling the current spec's image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_auth: Option<String>,
    /// The same for the previous spec (`registryAuthFrom=previous-spec`, rollbacks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_registry_auth: Option<String>,
}

impl ServiceRecord {
    pub fn new(service: Service) -> Self {
        Self {
            service,
            spec_version: 0,
            previous_spec_version: None,
            registry_auth: None,
            previous_registry_auth: None,
        }
    }
}

impl std::ops::Deref for ServiceRecord {
    type Target = Service;

    fn deref(&self) -> &Service {
        &self.service
    }
}
