//! Crash and restart (shoal only): every acknowledged write survives `kill -9`, and a restart on
//! the same data root serves exactly the same objects. Skipped against a real engine.

mod common;

use common::images::WEB;
use common::*;
use serde_json::{json, Value};

/// Creates one object of every kind, plus updates, and returns nothing: the state is read back
/// by [`snapshot`].
fn populate(t: &Target) {
    let net = t.unique("net");
    let secret = t.unique("secret");
    let config = t.unique("config");
    let svc = t.unique("svc");
    let svc2 = t.unique("svc2");
    t.docker(&["network", "create", "-d", "overlay", "--label", "k=v", &net])
        .ok();
    t.docker_stdin(
        &["secret", "create", "--label", "k=v", &secret, "-"],
        b"s3cret",
    )
    .ok();
    t.docker_stdin(&["config", "create", &config, "-"], b"conf")
        .ok();
    let port = t.port();
    let publish = format!("{port}:8000");
    t.docker(&[
        "service",
        "create",
        "--detach",
        "--no-resolve-image",
        "--replicas",
        "0",
        "--name",
        &svc,
        "--secret",
        &secret,
        "--config",
        &config,
        "--network",
        &net,
        "-p",
        &publish,
        "--label",
        "k=v",
        WEB,
    ])
    .ok();
    t.docker(&[
        "service",
        "create",
        "--detach",
        "--no-resolve-image",
        "--replicas",
        "0",
        "--name",
        &svc2,
        WEB,
    ])
    .ok();
    t.docker(&["service", "update", "--detach", "--env-add", "A=1", &svc2])
        .ok();
    let node = t.node_id();
    t.docker(&["node", "update", "--label-add", "zone=z1", &node])
        .ok();
    t.docker(&["swarm", "update", "--task-history-limit", "7"])
        .ok();
    t.docker(&["swarm", "join-token", "--rotate", "-q", "worker"])
        .ok();
}

/// Every list endpoint (and the swarm-wide objects), as JSON.
fn snapshot(t: &Target) -> Value {
    let swarm_networks = t.get_json(&format!(
        "/networks?{}",
        filters(&json!({"scope": ["swarm"]}))
    ));
    let mut networks = swarm_networks.as_array().cloned().unwrap_or_default();
    networks.sort_by_key(|n| n["Id"].as_str().unwrap_or("").to_string());
    let sorted = |path: &str| {
        let mut list = t.get_json(path).as_array().cloned().unwrap_or_default();
        list.sort_by_key(|v| v["ID"].as_str().unwrap_or("").to_string());
        Value::Array(list)
    };
    let info = t.get_json("/info");
    json!({
        "swarm": t.get_json("/swarm"),
        "unlockkey": t.get_json("/swarm/unlockkey"),
        "services": sorted("/services"),
        "services_status": sorted("/services?status=true"),
        "tasks": sorted("/tasks"),
        "secrets": sorted("/secrets"),
        "configs": sorted("/configs"),
        "networks": networks,
        "nodes": sorted("/nodes"),
        "info_swarm": {
            "NodeID": info["Swarm"]["NodeID"],
            "NodeAddr": info["Swarm"]["NodeAddr"],
            "LocalNodeState": info["Swarm"]["LocalNodeState"],
            "ControlAvailable": info["Swarm"]["ControlAvailable"],
            "Cluster": info["Swarm"]["Cluster"],
        },
    })
}

/// Nodes re-register when their agent starts: status fields may move. Compare what must not.
fn stable_node_fields(snapshot: &Value) -> Value {
    let nodes = snapshot["nodes"].as_array().cloned().unwrap_or_default();
    Value::Array(
        nodes
            .iter()
            .map(|n| {
                json!({
                    "ID": n["ID"],
                    "CreatedAt": n["CreatedAt"],
                    "Spec": n["Spec"],
                    "Hostname": n["Description"]["Hostname"],
                    "TLSInfo": n["Description"]["TLSInfo"],
                    "ManagerStatus": n["ManagerStatus"],
                })
            })
            .collect(),
    )
}

fn assert_same_state(before: &Value, after: &Value) {
    for key in [
        "swarm",
        "unlockkey",
        "services",
        "services_status",
        "tasks",
        "secrets",
        "configs",
        "networks",
        "info_swarm",
    ] {
        assert_eq!(
            after[key], before[key],
            "{key} differs after the restart\n--- before ---\n{:#}\n--- after ---\n{:#}",
            before[key], after[key]
        );
    }
    assert_eq!(stable_node_fields(after), stable_node_fields(before));
    for node in after["nodes"].as_array().into_iter().flatten() {
        assert_eq!(
            node["Status"]["State"], "ready",
            "node back to ready: {node}"
        );
    }
}

fn max_index(snapshot: &Value) -> u64 {
    let mut max = 0;
    let mut visit = |v: &Value| {
        if let Some(i) = v["Version"]["Index"].as_u64() {
            max = max.max(i);
        }
    };
    visit(&snapshot["swarm"]);
    for key in ["services", "secrets", "configs", "nodes"] {
        for item in snapshot[key].as_array().into_iter().flatten() {
            visit(item);
        }
    }
    max
}

#[test]
fn kill_9_and_restart_keeps_every_object() {
    let Some(mut t) = Target::shoal_swarm() else {
        return;
    };
    populate(&t);
    let before = snapshot(&t);
    assert!(before["services"].as_array().map(Vec::len) >= Some(2));
    t.shoal().kill9();
    t.shoal().restart();
    let after = snapshot(&t);
    assert_same_state(&before, &after);

    // The cluster keeps working: new writes get higher indexes, updates need the current one.
    let out = t.docker_stdin(&["secret", "create", &t.unique("after"), "-"], b"x");
    out.ok();
    let created = t.get_json(&format!("/secrets/{}", out.trimmed()));
    assert!(
        created["Version"]["Index"].as_u64().unwrap_or(0) > max_index(&before),
        "Version.Index went backwards after the restart"
    );
    let svc2 = t.unique("svc2");
    t.docker(&["service", "rollback", "--detach", &svc2])
        .ok()
        .stdout_is(&format!("{svc2}\n"));
    assert_eq!(
        t.get_json(&format!("/services/{svc2}"))["Spec"]["TaskTemplate"]["ContainerSpec"]
            .get("Env"),
        None,
        "rolled back to the spec before --env-add"
    );
}

#[test]
fn sigterm_and_restart_keeps_every_object() {
    let Some(mut t) = Target::shoal_swarm() else {
        return;
    };
    populate(&t);
    let before = snapshot(&t);
    let status = t.shoal().stop();
    assert!(status.success(), "shoal exited with {status} on SIGTERM");
    t.shoal().restart();
    assert_same_state(&before, &snapshot(&t));
}

#[test]
fn acknowledged_writes_survive_an_immediate_kill_9() {
    let Some(mut t) = Target::shoal_swarm() else {
        return;
    };
    let mut ids = Vec::new();
    for i in 0..20 {
        let resp = t.api_json(
            "POST",
            "/secrets/create",
            &json!({"Name": t.unique(&format!("burst{i}")), "Data": "eA=="}),
        );
        resp.status(201);
        ids.push(resp.json()["ID"].as_str().unwrap_or("").to_string());
    }
    // No pause: the 201 must mean the write is on disk.
    t.shoal().kill9();
    t.shoal().restart();
    for id in &ids {
        t.api("GET", &format!("/secrets/{id}")).status(200);
    }
    // And a restart of a node that never joined a swarm stays outside one.
    let Some(mut fresh) = Target::shoal_plain() else {
        return;
    };
    fresh.shoal().kill9();
    fresh.shoal().restart();
    assert_eq!(fresh.local_node_state(), "inactive");
}
