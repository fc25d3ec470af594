//! Round-trip fidelity against the real engine: every body in `testdata/` (observed API 1.41
//! output, one per distinct shape, see `testdata/extract.py`) is decoded with
//! [`decode::from_slice`], re-encoded, and must equal the original exactly: same keys, same
//! nulls, same numbers, and the same key order as the engine's bytes. Request bodies the CLI
//! sent must decode.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::config::{Config, ConfigSpec};
use super::decode;
use super::event::EventMessage;
use super::network_resource::{NetworkCreateRequest, NetworkCreateResponse, NetworkResource};
use super::node::{Node, NodeSpec};
use super::secret::{IdResponse, Secret, SecretSpec};
use super::service::{Service, ServiceCreateResponse, ServiceSpec, ServiceUpdateResponse};
use super::swarm::{
    InitRequest, JoinRequest, Swarm, SwarmInfo, SwarmSpec, UnlockKeyResponse, UnlockRequest,
};
use super::task::Task;

/// The first place two JSON values differ, as a path and both sides.
fn first_difference(path: &str, ours: &Value, engine: &Value) -> Option<String> {
    match (ours, engine) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, bv) in b {
                match a.get(k) {
                    None => return Some(format!("{path}.{k}: missing (engine: {bv})")),
                    Some(av) => {
                        if let Some(d) = first_difference(&format!("{path}.{k}"), av, bv) {
                            return Some(d);
                        }
                    }
                }
            }
            a.iter()
                .find(|(k, _)| !b.contains_key(*k))
                .map(|(k, av)| format!("{path}.{k}: extra (ours: {av})"))
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| first_difference(&format!("{path}[{i}]"), x, y)),
        _ if ours == engine => None,
        _ => Some(format!("{path}: ours {ours}, engine {engine}")),
    }
}

fn round_trip<T: DeserializeOwned + Serialize>(name: &str, data: &str) {
    let mut count = 0;
    for (i, line) in data.lines().enumerate() {
        let engine: Value = serde_json::from_str(line).unwrap();
        let typed: T = decode::from_str(line).unwrap_or_else(|e| panic!("{name}:{i}: {e}"));
        let ours = serde_json::to_value(&typed).unwrap();
        if let Some(diff) = first_difference("", &ours, &engine) {
            panic!("{name}:{i}: {diff}");
        }
        assert_eq!(
            serde_json::to_string(&typed).unwrap(),
            line,
            "{name}:{i}: key order"
        );
        count += 1;
    }
    assert!(count > 0, "{name}: no samples");
}

fn decodes<T: DeserializeOwned>(name: &str, data: &str) -> Vec<T> {
    let all: Vec<T> = data
        .lines()
        .enumerate()
        .map(|(i, line)| decode::from_str(line).unwrap_or_else(|e| panic!("{name}:{i}: {e}")))
        .collect();
    assert!(!all.is_empty(), "{name}: no samples");
    all
}

macro_rules! data {
    ($file:literal) => {
        include_str!(concat!("testdata/", $file, ".ndjson"))
    };
}

#[test]
fn services() {
    round_trip::<Service>("services", data!("services"));
}

#[test]
fn tasks() {
    round_trip::<Task>("tasks", data!("tasks"));
}

#[test]
fn nodes() {
    round_trip::<Node>("nodes", data!("nodes"));
}

#[test]
fn swarm() {
    round_trip::<Swarm>("swarm", data!("swarm"));
}

#[test]
fn info_swarm_sections() {
    round_trip::<SwarmInfo>("info_swarm", data!("info_swarm"));
}

#[test]
fn secrets() {
    round_trip::<Secret>("secrets", data!("secrets"));
}

#[test]
fn configs() {
    round_trip::<Config>("configs", data!("configs"));
}

#[test]
fn networks() {
    round_trip::<NetworkResource>("networks", data!("networks"));
}

#[test]
fn events() {
    round_trip::<EventMessage>("events", data!("events"));
}

#[test]
fn write_responses() {
    round_trip::<UnlockKeyResponse>("unlock_key_responses", data!("unlock_key_responses"));
    round_trip::<ServiceCreateResponse>(
        "service_create_responses",
        data!("service_create_responses"),
    );
    round_trip::<ServiceUpdateResponse>(
        "service_update_responses",
        data!("service_update_responses"),
    );
    round_trip::<IdResponse>("id_responses", data!("id_responses"));
    round_trip::<NetworkCreateResponse>(
        "network_create_responses",
        data!("network_create_responses"),
    );
}

#[test]
fn cli_request_bodies_decode() {
    let specs = decodes::<ServiceSpec>("req_service_specs", data!("req_service_specs"));
    assert!(specs.iter().all(|s| !s.name.is_empty()));
    // docker-py writes `"replicated"` and sends `null`s; curl bodies are minimal.
    let others = decodes::<ServiceSpec>(
        "req_service_specs_sdk_curl",
        data!("req_service_specs_sdk_curl"),
    );
    assert!(others.iter().all(|s| !s.name.is_empty()));
    let sdk = others
        .iter()
        .find(|s| s.labels.get("created-by").map(String::as_str) == Some("docker-py"))
        .expect("a docker-py spec");
    assert!(sdk
        .mode
        .replicated
        .as_ref()
        .and_then(|r| r.replicas)
        .is_some());
    let nets = decodes::<NetworkCreateRequest>("req_network_create", data!("req_network_create"));
    assert!(nets.iter().all(|n| n.driver == "overlay"));
    let secrets = decodes::<SecretSpec>("req_secret_specs", data!("req_secret_specs"));
    assert!(secrets.iter().all(|s| !s.name.is_empty()));
    decodes::<ConfigSpec>("req_config_specs", data!("req_config_specs"));
    let nodes = decodes::<NodeSpec>("req_node_specs", data!("req_node_specs"));
    assert!(nodes
        .iter()
        .all(|n| n.role.is_some() && n.availability.is_some()));
    let init = decodes::<InitRequest>("req_swarm_init", data!("req_swarm_init"));
    assert_eq!(init[0].listen_addr, "0.0.0.0:2377");
    decodes::<JoinRequest>("req_swarm_join", data!("req_swarm_join"));
    decodes::<UnlockRequest>("req_swarm_unlock", data!("req_swarm_unlock"));
    decodes::<SwarmSpec>("req_swarm_specs", data!("req_swarm_specs"));
}

#[test]
fn sent_service_specs_survive_a_round_trip() {
    // What the CLI sends is stored and shown back as sent (before defaults are filled in),
    // except that `Labels`, `Mode` and `TaskTemplate.ForceUpdate` are always emitted (Go
    // emits struct and map fields without `omitempty` regardless).
    for (i, line) in data!("req_service_specs").lines().enumerate() {
        let mut sent: Value = serde_json::from_str(line).unwrap();
        let spec: ServiceSpec = decode::from_str(line).unwrap();
        let ours = serde_json::to_value(&spec).unwrap();
        let mut complete = true;
        for (key, empty) in [
            ("Labels", serde_json::json!({})),
            ("Mode", serde_json::json!({})),
        ] {
            if sent.get(key).is_none() {
                sent[key] = empty;
                complete = false;
            }
        }
        if sent["TaskTemplate"].get("ForceUpdate").is_none() {
            sent["TaskTemplate"]["ForceUpdate"] = Value::from(0);
            complete = false;
        }
        if complete {
            assert_eq!(
                serde_json::to_string(&spec).unwrap(),
                line,
                "{i}: key order"
            );
        }
        if let Some(diff) = first_difference("", &ours, &sent) {
            panic!("req_service_specs:{i}: {diff}");
        }
    }
}
