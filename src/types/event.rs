//! A message of `GET /events` (one JSON object per line).
//!
//! Swarm objects give `{"Type":"service","Action":"update","Actor":{"ID":..,"Attributes":
//! {"name":..}},"scope":"swarm","time":..,"timeNano":..}`: the last three keys are lower
//! case. The legacy `status`/`id`/`from` keys the engine adds for containers are not modelled.
//! Depends on `meta`, `enums`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::enums::string_enum;
use super::meta::{is_zero_i64, Labels, Timestamp};

string_enum! {
    /// The kind of object an event is about.
    pub enum EventType as "event type" {
        Builder = "builder",
        Config = "config",
        Container = "container",
        Daemon = "daemon",
        Image = "image",
        Network = "network",
        Node = "node",
        Plugin = "plugin",
        Secret = "secret",
        Service = "service",
        Volume = "volume",
    }
}

/// The object an event is about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct EventActor {
    #[serde(rename = "ID")]
    pub id: String,
    /// `name`, and e.g. `replicas.old`/`replicas.new` for service updates.
    pub attributes: BTreeMap<String, String>,
}

/// One event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventMessage {
    #[serde(rename = "Type")]
    pub r#type: EventType,
    /// `create`, `update`, `remove`, `connect`, ...
    #[serde(rename = "Action")]
    pub action: String,
    #[serde(rename = "Actor")]
    pub actor: EventActor,
    /// `swarm` or `local`.
    #[serde(rename = "scope", default, skip_serializing_if = "String::is_empty")]
    pub scope: String,
    /// Seconds since the Unix epoch.
    #[serde(rename = "time", default, skip_serializing_if = "is_zero_i64")]
    pub time: i64,
    /// Nanoseconds since the Unix epoch.
    #[serde(rename = "timeNano", default, skip_serializing_if = "is_zero_i64")]
    pub time_nano: i64,
}

impl EventMessage {
    /// A swarm-scoped event at `at`, with the object's `name` attribute.
    pub fn swarm(r#type: EventType, action: &str, id: &str, name: &str, at: Timestamp) -> Self {
        let mut attributes = Labels::new();
        attributes.insert("name".to_owned(), name.to_owned());
        let nanos = at.unix_nanos();
        EventMessage {
            r#type,
            action: action.to_owned(),
            actor: EventActor {
                id: id.to_owned(),
                attributes,
            },
            scope: "swarm".to_owned(),
            time: at.unix_seconds(),
            time_nano: nanos.clamp(i64::MIN as i128, i64::MAX as i128) as i64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swarm_event_shape() {
        let at = Timestamp::from_unix_nanos(1_795_316_693_342_585_412).unwrap();
        let ev = EventMessage::swarm(
            EventType::Service,
            "create",
            "jxk4v3e7whkc7m1pbgoii6jdz",
            "whoami_whoami",
            at,
        );
        assert_eq!(
            serde_json::to_string(&ev).unwrap(),
            r#"{"Type":"service","Action":"create","Actor":{"ID":"jxk4v3e7whkc7m1pbgoii6jdz","Attributes":{"name":"whoami_whoami"}},"scope":"swarm","time":1795316693,"timeNano":1795316693342585412}"#
        );
    }
}
