//! `docker swarm init | join-token | update | unlock-key | unlock | leave`, `docker info`, and
//! `GET /swarm` (reference 000-017, 125, 128, 129, 148-155).

mod common;

use common::*;
use serde_json::{json, Value};

const ALREADY_IN_SWARM: &str = "This node is already part of a swarm. Use \"docker swarm leave\" to leave this swarm and join another one.";

/// The manager address the join command names: this node's `ManagerStatus.Addr`.
fn manager_addr(t: &Target) -> String {
    let node = t.get_json(&format!("/nodes/{}", t.node_id()));
    let addr = node["ManagerStatus"]["Addr"]
        .as_str()
        .unwrap_or_else(|| panic!("no ManagerStatus.Addr: {node}"))
        .to_string();
    if t.is_shoal() {
        assert_eq!(
            addr,
            t.manager_addr(),
            "ManagerStatus.Addr is the --advertise-addr"
        );
    }
    addr
}

fn join_block(role: &str, token: &str, addr: &str) -> String {
    format!(
        "To add a {role} to this swarm, run the following command:\n\n    docker swarm join --token {token} {addr}\n\n"
    )
}

fn unlock_key_block(key: &str) -> String {
    format!(
        "To unlock a swarm manager after it restarts, run the `docker swarm unlock`\ncommand and provide the following key:\n\n    {key}\n\nRemember to store this key in a password manager, since without it you\nwill not be able to restart the manager.\n"
    )
}

#[test]
fn swarm_init_makes_this_node_a_manager_and_prints_the_join_command() {
    let Some(t) = Target::no_swarm() else { return };
    let out = t.swarm_init(&[]);
    out.ok().stderr_is("");
    let re = format!(
        r"\ASwarm initialized: current node \(({SWARM_ID})\) is now a manager\.\n\nTo add a worker to this swarm, run the following command:\n\n    docker swarm join --token ({JOIN_TOKEN}) {addr}\n\nTo add a manager to this swarm, run 'docker swarm join-token manager' and follow the instructions\.\n\z",
        addr = esc(&t.manager_addr())
    );
    out.stdout_re(&re);
    let node_id = capture(&out.stdout, &format!(r"current node \(({SWARM_ID})\)"));
    let token = capture(&out.stdout, &format!("--token ({JOIN_TOKEN})"));
    assert_eq!(t.node_id(), node_id, "/info Swarm.NodeID is the new node");
    let swarm = t.get_json("/swarm");
    assert_eq!(swarm["JoinTokens"]["Worker"], token.as_str());
    let info = t.get_json("/info");
    assert_eq!(info["Swarm"]["LocalNodeState"], "active");
    assert_eq!(info["Swarm"]["ControlAvailable"], true);
    assert_eq!(info["Swarm"]["Cluster"]["ID"], swarm["ID"]);
}

#[test]
fn swarm_init_answers_with_the_node_id_as_a_json_string() {
    let Some(t) = Target::no_swarm() else { return };
    let body = json!({
        "ListenAddr": t.manager_addr(),
        "AdvertiseAddr": "127.0.0.1",
        "DataPathAddr": "",
        "DataPathPort": 0,
        "ForceNewCluster": false,
        "Spec": {"Labels": null, "Orchestration": {}, "Raft": {"ElectionTick": 0, "HeartbeatTick": 0}, "Dispatcher": {}, "CAConfig": {}, "TaskDefaults": {}, "EncryptionConfig": {"AutoLockManagers": false}},
        "AutoLockManagers": false,
        "Availability": "",
        "DefaultAddrPool": [],
        "SubnetSize": 24
    });
    let resp = t.api_json("POST", "/swarm/init", &body);
    t.assert_engine_not_in_swarm();
    resp.status(200);
    let id = resp.json();
    let id = id
        .as_str()
        .unwrap_or_else(|| resp.fail("body is not a JSON string"));
    assert_re(id, &format!("^{SWARM_ID}$"));
    assert_eq!(t.node_id(), id);
}

#[test]
fn swarm_init_or_join_again_is_a_503() {
    let Some(t) = Target::swarm() else { return };
    t.swarm_init(&[])
        .daemon_error(ALREADY_IN_SWARM)
        .stdout_is("");
    let join = json!({
        "ListenAddr": "0.0.0.0:2377",
        "AdvertiseAddr": "127.0.0.1",
        "RemoteAddrs": ["192.0.2.3:2377"],
        "JoinToken": "SWMTKN-1-notreal"
    });
    t.api_json("POST", "/swarm/join", &join)
        .error(503, ALREADY_IN_SWARM);
}

#[test]
fn join_token_prints_the_join_command_for_each_role() {
    let Some(t) = Target::swarm() else { return };
    let swarm = t.get_json("/swarm");
    let worker = swarm["JoinTokens"]["Worker"]
        .as_str()
        .expect("worker token");
    let manager = swarm["JoinTokens"]["Manager"]
        .as_str()
        .expect("manager token");
    assert_re(worker, &format!("^{JOIN_TOKEN}$"));
    assert_re(manager, &format!("^{JOIN_TOKEN}$"));
    assert_ne!(worker, manager);
    // Same CA digest, different secret.
    assert_eq!(worker[..59], manager[..59], "tokens share the CA digest");
    let addr = manager_addr(&t);
    t.docker(&["swarm", "join-token", "worker"])
        .ok()
        .stdout_is(&join_block("worker", worker, &addr));
    t.docker(&["swarm", "join-token", "manager"])
        .ok()
        .stdout_is(&join_block("manager", manager, &addr));
    t.docker(&["swarm", "join-token", "-q", "manager"])
        .ok()
        .stdout_is(&format!("{manager}\n"));
    t.docker(&["swarm", "join-token", "-q", "worker"])
        .ok()
        .stdout_is(&format!("{worker}\n"));
    t.docker(&["swarm", "join-token", "nobody"])
        .code(1)
        .stderr_has("unknown role nobody");
}

#[test]
fn join_token_rotate_replaces_only_that_token() {
    let Some(t) = Target::swarm_exclusive() else {
        return;
    };
    let before = t.get_json("/swarm");
    let old_worker = before["JoinTokens"]["Worker"].as_str().unwrap().to_string();
    let old_manager = before["JoinTokens"]["Manager"]
        .as_str()
        .unwrap()
        .to_string();
    let out = t.docker(&["swarm", "join-token", "--rotate", "worker"]);
    out.ok();
    let after = t.get_json("/swarm");
    let new_worker = after["JoinTokens"]["Worker"].as_str().unwrap().to_string();
    assert_ne!(new_worker, old_worker, "worker token was not rotated");
    assert_eq!(after["JoinTokens"]["Manager"], old_manager.as_str());
    assert_eq!(new_worker[..59], old_worker[..59], "same CA, same digest");
    out.stdout_is(&format!(
        "Successfully rotated worker join token.\n\n{}",
        join_block("worker", &new_worker, &manager_addr(&t))
    ));
    assert!(
        after["Version"]["Index"].as_u64() > before["Version"]["Index"].as_u64(),
        "Version.Index must move on rotation"
    );
    let q = t.docker(&["swarm", "join-token", "--rotate", "-q", "manager"]);
    q.ok().stdout_re(&format!(r"\A{JOIN_TOKEN}\n\z"));
    let new_manager = q.trimmed().to_string();
    assert_ne!(new_manager, old_manager);
    assert_eq!(
        t.get_json("/swarm")["JoinTokens"]["Manager"],
        new_manager.as_str()
    );
}

#[test]
fn swarm_update_changes_the_cluster_spec() {
    let Some(t) = Target::swarm_exclusive() else {
        return;
    };
    let before = t.get_json("/swarm");
    t.docker(&["swarm", "update", "--task-history-limit", "10"])
        .ok()
        .stdout_is("Swarm updated.\n")
        .stderr_is("");
    let after = t.get_json("/swarm");
    assert_eq!(
        after["Spec"]["Orchestration"]["TaskHistoryRetentionLimit"],
        10
    );
    assert!(after["Version"]["Index"].as_u64() > before["Version"]["Index"].as_u64());
    assert_eq!(after["CreatedAt"], before["CreatedAt"]);
    assert_ne!(after["UpdatedAt"], before["UpdatedAt"]);
    // Everything else in the spec is kept.
    let mut expected = before["Spec"].clone();
    expected["Orchestration"]["TaskHistoryRetentionLimit"] = json!(10);
    assert_eq!(after["Spec"], expected);
    t.docker(&["info"])
        .ok()
        .stdout_has("   Task History Retention Limit: 10\n");

    t.docker(&[
        "swarm",
        "update",
        "--cert-expiry",
        "48h",
        "--dispatcher-heartbeat",
        "10s",
    ])
    .ok()
    .stdout_is("Swarm updated.\n");
    let spec = t.get_json("/swarm")["Spec"].clone();
    assert_eq!(spec["CAConfig"]["NodeCertExpiry"], 172_800_000_000_000u64);
    assert_eq!(spec["Dispatcher"]["HeartbeatPeriod"], 10_000_000_000u64);
    assert_eq!(spec["Orchestration"]["TaskHistoryRetentionLimit"], 10);
}

#[test]
fn autolock_unlock_key_rotate_and_turn_off() {
    let Some(t) = Target::swarm_exclusive() else {
        return;
    };
    let on = t.docker(&["swarm", "update", "--autolock=true"]);
    on.ok().stdout_re(&format!(
        r"\ASwarm updated\.\nTo unlock a swarm manager after it restarts, run the `docker swarm unlock`\ncommand and provide the following key:\n\n    {UNLOCK_KEY}\n\nRemember"
    ));
    let key = capture(&on.stdout, &format!("    ({UNLOCK_KEY})\n"));
    on.stdout_is(&format!("Swarm updated.\n{}", unlock_key_block(&key)));
    assert_eq!(
        t.get_json("/swarm")["Spec"]["EncryptionConfig"]["AutoLockManagers"],
        true
    );
    t.docker(&["info"])
        .ok()
        .stdout_has("  Autolock Managers: true\n");
    t.docker(&["swarm", "unlock-key"])
        .ok()
        .stdout_is(&unlock_key_block(&key));
    t.docker(&["swarm", "unlock-key", "-q"])
        .ok()
        .stdout_is(&format!("{key}\n"));
    assert_eq!(
        t.get_json("/swarm/unlockkey"),
        json!({ "UnlockKey": key.as_str() })
    );

    let rotated = t.docker(&["swarm", "unlock-key", "--rotate", "-q"]);
    rotated.ok().stdout_re(&format!(r"\A{UNLOCK_KEY}\n\z"));
    let new_key = rotated.trimmed().to_string();
    assert_ne!(new_key, key, "unlock key was not rotated");
    t.docker(&["swarm", "unlock-key", "-q"])
        .ok()
        .stdout_is(&format!("{new_key}\n"));

    // Not locked (the manager runs): unlock is refused client-side from /info.
    t.docker_stdin(&["swarm", "unlock"], format!("{new_key}\n").as_bytes())
        .code(1)
        .stderr_is("Error: swarm is not locked\n");

    t.docker(&["swarm", "update", "--autolock=false"])
        .ok()
        .stdout_is("Swarm updated.\n");
    assert_eq!(
        t.get_json("/swarm")["Spec"]["EncryptionConfig"]["AutoLockManagers"],
        false
    );
    t.docker(&["swarm", "unlock-key"])
        .code(1)
        .stdout_is("")
        .stderr_is("no unlock key is set\n");
    assert_eq!(t.get_json("/swarm/unlockkey"), json!({ "UnlockKey": "" }));
}

#[test]
fn swarm_unlock_when_not_locked() {
    let Some(t) = Target::swarm() else { return };
    t.docker_stdin(&["swarm", "unlock"], b"SWMKEY-1-notreal\n")
        .code(1)
        .stdout_is("")
        .stderr_is("Error: swarm is not locked\n");
    t.api_json(
        "POST",
        "/swarm/unlock",
        &json!({"UnlockKey": "SWMKEY-1-notreal"}),
    )
    .error(409, "swarm is not locked");
}

#[test]
fn swarm_leave_needs_force_on_the_last_manager_then_swarm_endpoints_are_503() {
    let Some(t) = Target::swarm_exclusive() else {
        return;
    };
    let old_node = t.node_id();
    // The engine's message ends with a space; the CLI trims it.
    let message = "You are attempting to leave the swarm on a node that is participating as a manager. Removing the last manager erases all current state of the swarm. Use `--force` to ignore this message. ";
    t.api("POST", "/swarm/leave").error(503, message);
    t.docker(&["swarm", "leave"])
        .daemon_error(message.trim_end());
    assert_eq!(
        t.local_node_state(),
        "active",
        "leave without --force changed nothing"
    );
    t.docker(&["swarm", "leave", "--force"])
        .ok()
        .stdout_is("Node left the swarm.\n")
        .stderr_is("");
    assert_eq!(t.local_node_state(), "inactive");
    t.docker(&["service", "ls"]).daemon_error(NOT_A_MANAGER);
    t.docker(&["swarm", "join-token", "worker"])
        .daemon_error(NOT_A_MANAGER);
    t.docker(&["swarm", "leave", "--force"])
        .daemon_error("This node is not part of a swarm");
    // A node can start a new swarm after leaving: a new cluster, a new node ID.
    t.swarm_init(&[]).ok();
    assert_ne!(t.node_id(), old_node);
}

#[test]
fn info_shows_the_swarm_block_of_a_manager() {
    let Some(t) = Target::swarm() else { return };
    let info = t.get_json("/info");
    let swarm = t.get_json("/swarm");
    let node_id = t.node_id();
    let s = &info["Swarm"];
    assert_eq!(s["NodeID"], node_id.as_str());
    assert_eq!(s["LocalNodeState"], "active");
    assert_eq!(s["ControlAvailable"], true);
    assert_eq!(s["Error"], "");
    assert_eq!(s["Nodes"], 1);
    assert_eq!(s["Managers"], 1);
    let addr = manager_addr(&t);
    let ip = addr.rsplit_once(':').map(|(ip, _)| ip).unwrap_or(&addr);
    assert_eq!(s["NodeAddr"], ip);
    assert_eq!(
        s["RemoteManagers"],
        json!([{ "NodeID": node_id.as_str(), "Addr": addr.as_str() }])
    );
    let c = &s["Cluster"];
    assert_eq!(c["ID"], swarm["ID"]);
    assert_eq!(c["Spec"], swarm["Spec"]);
    assert_eq!(c["Version"], swarm["Version"]);
    assert_eq!(c["CreatedAt"], swarm["CreatedAt"]);
    assert_eq!(c["TLSInfo"], swarm["TLSInfo"]);
    assert_eq!(c["RootRotationInProgress"], false);
    assert_eq!(c["SubnetSize"], 24);
    assert_eq!(c["DataPathPort"], 4789);
    assert!(
        c.get("JoinTokens").is_none(),
        "/info never shows join tokens"
    );

    let out = t.docker(&["info"]);
    out.ok();
    for line in [
        " Swarm: active\n".to_string(),
        format!("  NodeID: {node_id}\n"),
        "  Is Manager: true\n".to_string(),
        format!("  ClusterID: {}\n", swarm["ID"].as_str().unwrap_or("?")),
        "  Managers: 1\n".to_string(),
        "  Nodes: 1\n".to_string(),
        "  Data Path Port: 4789\n".to_string(),
        "   Task History Retention Limit: 5\n".to_string(),
        "   Snapshot Interval: 10000\n".to_string(),
        "   Number of Old Snapshots to Retain: 0\n".to_string(),
        "   Heartbeat Tick: 1\n".to_string(),
        "   Election Tick: 10\n".to_string(),
        "   Heartbeat Period: 5 seconds\n".to_string(),
        "   Expiry Duration: 3 months\n".to_string(),
        "   Force Rotate: 0\n".to_string(),
        "  Autolock Managers: false\n".to_string(),
        "  Root Rotation In Progress: false\n".to_string(),
        format!("  Node Address: {ip}\n"),
        format!("  Manager Addresses:\n   {addr}\n"),
    ] {
        out.stdout_has(&line);
    }
    t.docker(&[
        "info",
        "--format",
        "{{.Swarm.ControlAvailable}} {{.Swarm.LocalNodeState}}",
    ])
    .ok()
    .stdout_is("true active\n");
}

#[test]
fn info_of_a_node_outside_a_swarm() {
    let Some(t) = Target::no_swarm() else { return };
    let info = t.get_json("/info");
    assert_eq!(
        info["Swarm"],
        json!({
            "NodeID": "",
            "NodeAddr": "",
            "LocalNodeState": "inactive",
            "ControlAvailable": false,
            "Error": "",
            "RemoteManagers": null
        })
    );
    t.docker(&["info"]).ok().stdout_has(" Swarm: inactive\n");
    t.docker(&["swarm", "unlock-key"])
        .code(1)
        .stderr_is(&format!(
            "could not fetch unlock key: Error response from daemon: {NOT_A_MANAGER}\n"
        ));
    t.api("GET", "/swarm").error(503, NOT_A_MANAGER);
    t.api("GET", "/swarm/unlockkey").error(503, NOT_A_MANAGER);
}

#[test]
fn get_swarm_has_the_engine_defaults() {
    let Some(t) = Target::swarm() else { return };
    let swarm = t.get_json("/swarm");
    assert_re(swarm["ID"].as_str().unwrap_or(""), &format!("^{SWARM_ID}$"));
    assert!(swarm["Version"]["Index"].as_u64().unwrap_or(0) > 0);
    for key in ["CreatedAt", "UpdatedAt"] {
        assert_re(swarm[key].as_str().unwrap_or(""), TIMESTAMP);
    }
    assert_eq!(
        swarm["Spec"],
        json!({
            "Name": "default",
            "Labels": {},
            "Orchestration": {"TaskHistoryRetentionLimit": 5},
            "Raft": {"SnapshotInterval": 10000, "KeepOldSnapshots": 0, "LogEntriesForSlowFollowers": 500, "ElectionTick": 10, "HeartbeatTick": 1},
            "Dispatcher": {"HeartbeatPeriod": 5_000_000_000u64},
            "CAConfig": {"NodeCertExpiry": 7_776_000_000_000_000u64},
            "TaskDefaults": {},
            "EncryptionConfig": {"AutoLockManagers": false}
        })
    );
    let tls = &swarm["TLSInfo"];
    let root = tls["TrustRoot"].as_str().unwrap_or("");
    assert!(
        root.starts_with("-----BEGIN CERTIFICATE-----\n")
            && root.ends_with("-----END CERTIFICATE-----\n"),
        "TrustRoot is not one PEM certificate: {root}"
    );
    assert_re(
        tls["CertIssuerSubject"].as_str().unwrap_or(""),
        "^[A-Za-z0-9+/]+=*$",
    );
    assert_re(
        tls["CertIssuerPublicKey"].as_str().unwrap_or(""),
        "^[A-Za-z0-9+/]+=*$",
    );
    assert_eq!(swarm["RootRotationInProgress"], false);
    assert_eq!(swarm["DefaultAddrPool"], Value::Null);
    assert_eq!(swarm["SubnetSize"], 24);
    assert_eq!(swarm["DataPathPort"], 4789);
    // The same object decodes with bollard's models.
    let decoded = t
        .block_on(t.sdk().inspect_swarm())
        .expect("bollard inspect_swarm");
    assert_eq!(decoded.id.as_deref(), swarm["ID"].as_str());
    assert_eq!(
        decoded.join_tokens.and_then(|j| j.worker).as_deref(),
        swarm["JoinTokens"]["Worker"].as_str()
    );
}
