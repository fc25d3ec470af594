//! The engine's event filters (moby `daemon/events/filter.go`), applied to cluster events, and
//! what they tell us about which sources to read at all.
//!
//! Pure. The keys are the engine's: `config`, `container`, `daemon`, `event`, `image`,
//! `label`, `network`, `node`, `plugin`, `scope`, `secret`, `service`, `type`, `volume`. Like
//! the engine, unknown keys are ignored rather than refused (checked against Docker 20.10 and
//! moby master: `/events?filters={"x":["y"]}` streams everything). Every object key matches
//! any event whose actor ID or `name` starts with a value, whatever the event's type, so
//! `container=web` also lets a service called `web2` through; and `label` matches the
//! actor's attributes, which for swarm events hold no labels (only `name` and the `*.old` /
//! `*.new` pairs), so a label filter hides them: all as the engine does.

use crate::types::event::{EventMessage, EventType};
use crate::types::filters::Filters;

/// The keys the engine's event filter reads (others are ignored).
pub const KEYS: &[&str] = &[
    "config",
    "container",
    "daemon",
    "event",
    "image",
    "label",
    "network",
    "node",
    "plugin",
    "scope",
    "secret",
    "service",
    "type",
    "volume",
];

/// Event types the local dockerd emits (never swarm-scoped: shoal is the swarm).
const ENGINE_TYPES: &[&str] = &[
    "builder",
    "container",
    "daemon",
    "image",
    "network",
    "plugin",
    "volume",
];

/// Event types of cluster objects.
const CLUSTER_TYPES: &[&str] = &["config", "network", "node", "secret", "service"];

/// Object keys matched by prefix against the actor's ID or name.
const NAME_KEYS: &[&str] = &[
    "daemon",
    "container",
    "plugin",
    "volume",
    "network",
    "service",
    "node",
    "secret",
    "config",
];

/// The engine's `Filter.Include`: whether `event` passes `filters`.
pub fn include(filters: &Filters, event: &EventMessage) -> bool {
    let name = event
        .actor
        .attributes
        .get("name")
        .map_or("", String::as_str);
    match_action(filters, &event.action)
        && filters.exact_match("type", event.r#type.as_str())
        && (!filters.contains("scope") || filters.exact_match("scope", &event.scope))
        && NAME_KEYS
            .iter()
            .all(|key| filters.fuzzy_match(key, &event.actor.id) || filters.fuzzy_match(key, name))
        && match_image(filters, event)
        && (!filters.contains("label") || filters.match_kv_list("label", &event.actor.attributes))
}

/// `event` is an exact match, except that the three actions with a `: detail` suffix
/// (`health_status: healthy`, `exec_start: sh`) are matched by prefix when asked for bare.
fn match_action(filters: &Filters, action: &str) -> bool {
    let bare = ["health_status", "exec_create", "exec_start"];
    if filters.get("event").iter().any(|v| bare.contains(v)) {
        filters.fuzzy_match("event", action)
    } else {
        filters.exact_match("event", action)
    }
}

/// `image` matches the actor ID, or the image name (`image` attribute of containers, `name`
/// of images), with or without its tag.
fn match_image(filters: &Filters, event: &EventMessage) -> bool {
    let attribute = if event.r#type == EventType::Image {
        "name"
    } else {
        "image"
    };
    let id = event.actor.id.as_str();
    let image = event
        .actor
        .attributes
        .get(attribute)
        .map_or("", String::as_str);
    filters.exact_match("image", id)
        || filters.exact_match("image", image)
        || filters.exact_match("image", strip_tag(id))
        || filters.exact_match("image", strip_tag(image))
}

/// A reference without its tag or digest, and without the default registry, roughly as the
/// engine's `reference.FamiliarName` gives it (`docker.io/library/web:v1` -> `web`).
fn strip_tag(image: &str) -> &str {
    let name = image.split_once('@').map_or(image, |(name, _)| name);
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    let name = match name[last_slash..].find(':') {
        Some(colon) => &name[..last_slash + colon],
        None => name,
    };
    name.strip_prefix("docker.io/library/")
        .or_else(|| name.strip_prefix("docker.io/"))
        .unwrap_or(name)
}

/// Whether any event of the local dockerd can pass: its events are all `local`, and of
/// engine types. When not, shoal does not open the engine's stream at all.
pub fn wants_engine(filters: &Filters) -> bool {
    (!filters.contains("scope") || filters.exact_match("scope", "local"))
        && ENGINE_TYPES.iter().any(|t| filters.exact_match("type", t))
}

/// Whether any cluster event can pass: they are all `swarm`, and of cluster types.
pub fn wants_cluster(filters: &Filters) -> bool {
    (!filters.contains("scope") || filters.exact_match("scope", "swarm"))
        && CLUSTER_TYPES.iter().any(|t| filters.exact_match("type", t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::event::EventActor;

    fn filters(json: &str) -> Filters {
        Filters::parse(json).unwrap()
    }

    fn event(
        r#type: EventType,
        action: &str,
        id: &str,
        attributes: &[(&str, &str)],
    ) -> EventMessage {
        EventMessage {
            r#type,
            action: action.into(),
            actor: EventActor {
                id: id.into(),
                attributes: attributes
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            },
            scope: if matches!(
                r#type,
                EventType::Service | EventType::Node | EventType::Secret | EventType::Config
            ) {
                "swarm".into()
            } else {
                "local".into()
            },
            time: 1,
            time_nano: 1_000_000_000,
        }
    }

    fn service(action: &str) -> EventMessage {
        event(
            EventType::Service,
            action,
            "jxk4v3e7whkc7m1pbgoii6jdz",
            &[("name", "whoami_whoami")],
        )
    }

    #[test]
    fn no_filters_pass_everything() {
        assert!(include(&Filters::new(), &service("create")));
    }

    #[test]
    fn type_event_and_scope() {
        let ev = service("update");
        assert!(include(&filters(r#"{"type":["service","node"]}"#), &ev));
        assert!(!include(&filters(r#"{"type":["container"]}"#), &ev));
        assert!(include(&filters(r#"{"event":{"update":true}}"#), &ev));
        assert!(!include(&filters(r#"{"event":["create"]}"#), &ev));
        assert!(include(&filters(r#"{"scope":["swarm"]}"#), &ev));
        assert!(!include(&filters(r#"{"scope":["local"]}"#), &ev));
        // A false entry of the map form is listed but never matches.
        assert!(!include(&filters(r#"{"type":{"service":false}}"#), &ev));
    }

    #[test]
    fn objects_by_id_or_name_prefix() {
        let ev = service("create");
        assert!(include(&filters(r#"{"service":["whoami_whoami"]}"#), &ev));
        assert!(include(&filters(r#"{"service":["whoami"]}"#), &ev));
        assert!(include(&filters(r#"{"service":["jxk4v3"]}"#), &ev));
        assert!(!include(&filters(r#"{"service":["web"]}"#), &ev));
        // The engine's quirk: any object key is matched against any event's actor.
        assert!(!include(&filters(r#"{"container":["abc"]}"#), &ev));
        assert!(include(&filters(r#"{"node":["whoami"]}"#), &ev));
        let node = event(
            EventType::Node,
            "update",
            "uscrzlibaxy2egq6cbb7p9ggj",
            &[("name", "vm")],
        );
        assert!(include(&filters(r#"{"node":["vm"]}"#), &node));
        assert!(include(
            &filters(r#"{"node":["uscrzlibaxy2egq6cbb7p9ggj"]}"#),
            &node
        ));
        assert!(!include(&filters(r#"{"service":["web"]}"#), &node));
    }

    #[test]
    fn labels_match_attributes_so_swarm_events_fail_them() {
        let ev = service("create");
        assert!(!include(
            &filters(r#"{"label":["com.docker.stack.namespace=app"]}"#),
            &ev
        ));
        assert!(include(
            &filters(r#"{"label":["name=whoami_whoami"]}"#),
            &ev
        ));
        assert!(include(&filters(r#"{"label":["name"]}"#), &ev));
        let scaled = event(
            EventType::Service,
            "update",
            "jxk4v3e7whkc7m1pbgoii6jdz",
            &[
                ("name", "app_app"),
                ("replicas.new", "2"),
                ("replicas.old", "1"),
            ],
        );
        assert!(include(
            &filters(r#"{"label":["replicas.new=2"]}"#),
            &scaled
        ));
    }

    #[test]
    fn images() {
        let ev = service("create");
        assert!(!include(&filters(r#"{"image":["busybox"]}"#), &ev));
        assert!(include(
            &filters(r#"{"image":["jxk4v3e7whkc7m1pbgoii6jdz"]}"#),
            &ev
        ));
        let container = event(
            EventType::Container,
            "start",
            "15a362b178b7",
            &[("image", "shoal-test/busybox:1"), ("name", "x")],
        );
        assert!(include(
            &filters(r#"{"image":["shoal-test/busybox"]}"#),
            &container
        ));
        assert!(include(
            &filters(r#"{"image":["shoal-test/busybox:1"]}"#),
            &container
        ));
        assert!(!include(&filters(r#"{"image":["busybox"]}"#), &container));
        assert_eq!(strip_tag("docker.io/library/web:v1"), "web");
        assert_eq!(
            strip_tag("localhost:5000/web@sha256:abc"),
            "localhost:5000/web"
        );
        assert_eq!(strip_tag("localhost:5000/web:v2"), "localhost:5000/web");
    }

    #[test]
    fn bare_exec_and_health_actions_match_by_prefix() {
        let exec = event(
            EventType::Container,
            "exec_start: sh -c true",
            "c1",
            &[("name", "c")],
        );
        assert!(include(&filters(r#"{"event":["exec_start"]}"#), &exec));
        assert!(!include(&filters(r#"{"event":["start"]}"#), &exec));
    }

    #[test]
    fn unknown_keys_are_ignored_like_the_engine() {
        assert!(include(&filters(r#"{"bogus":["x"]}"#), &service("create")));
    }

    #[test]
    fn which_sources_to_read() {
        let none = Filters::new();
        assert!(wants_engine(&none) && wants_cluster(&none));
        let swarm_types = filters(r#"{"type":["service","node","secret","config"]}"#);
        assert!(!wants_engine(&swarm_types) && wants_cluster(&swarm_types));
        // Networks have events on both sides.
        let networks = filters(r#"{"type":["network"]}"#);
        assert!(wants_engine(&networks) && wants_cluster(&networks));
        let containers = filters(r#"{"type":["container"]}"#);
        assert!(wants_engine(&containers) && !wants_cluster(&containers));
        let swarm_scope = filters(r#"{"scope":["swarm"]}"#);
        assert!(!wants_engine(&swarm_scope) && wants_cluster(&swarm_scope));
        let local_scope = filters(r#"{"scope":["local"]}"#);
        assert!(wants_engine(&local_scope) && !wants_cluster(&local_scope));
    }
}
