//! `docker node ls | inspect | ps | update | promote | demote | rm` on a single-node swarm
//! (reference 018-027, 091, 092, 126, 127, 131, 146).

mod common;

use common::*;
use serde_json::json;

/// The version of the dockerd behind the target (what nodes report as EngineVersion).
fn engine_version(t: &Target) -> String {
    let resp = t.engine_request("GET", &format!("{}/version", common::target::V));
    resp.status(200);
    resp.json()["Version"]
        .as_str()
        .expect("engine Version")
        .to_string()
}

#[test]
fn node_ls_shows_this_node_as_the_leader() {
    let Some(t) = Target::swarm() else { return };
    let id = t.node_id();
    let host = env::hostname();
    let version = engine_version(&t);
    let out = t.docker(&["node", "ls"]);
    out.ok().stderr_is("");
    let lines = out.lines();
    assert_eq!(lines.len(), 2, "header + one node:\n{}", out.stdout);
    assert_re(
        lines[0],
        r"^ID\s+HOSTNAME\s+STATUS\s+AVAILABILITY\s+MANAGER STATUS\s+ENGINE VERSION$",
    );
    assert_re(
        lines[1],
        &format!(
            r"^{} \*\s+{}\s+Ready\s+Active\s+Leader\s+{}$",
            esc(&id),
            esc(&host),
            esc(&version)
        ),
    );
    t.docker(&["node", "ls", "-q"])
        .ok()
        .stdout_is(&format!("{id}\n"));
    t.docker(&["node", "ls", "--filter", "role=manager", "-q"])
        .ok()
        .stdout_is(&format!("{id}\n"));
    t.docker(&["node", "ls", "--filter", "role=worker", "-q"])
        .ok()
        .stdout_is("");
    t.docker(&[
        "node",
        "ls",
        "--format",
        "{{.Hostname}}|{{.Self}}|{{.Status}}|{{.ManagerStatus}}|{{.TLSStatus}}",
    ])
    .ok()
    .stdout_is(&format!("{host}|true|Ready|Leader|Ready\n"));
}

#[test]
fn get_nodes_and_filters() {
    let Some(t) = Target::swarm() else { return };
    let id = t.node_id();
    let nodes = t.get_json("/nodes");
    let nodes = nodes.as_array().expect("list");
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0]["ID"], id.as_str());
    // Map form (the CLI) and list form (docker-py) of the same filter.
    for filters in [r#"{"role":{"manager":true}}"#, r#"{"role":["manager"]}"#] {
        let path = format!("/nodes?filters={}", urlencode(filters));
        let list = t.get_json(&path);
        assert_eq!(list.as_array().map(Vec::len), Some(1), "{filters}");
    }
    let workers = t.api(
        "GET",
        &format!("/nodes?filters={}", urlencode(r#"{"role":["worker"]}"#)),
    );
    workers.status(200);
    assert_eq!(workers.text(), "[]\n", "an empty list is [] and a newline");
    let by_id = t.get_json(&format!(
        "/nodes?filters={}",
        urlencode(&format!(r#"{{"id":["{id}"]}}"#))
    ));
    assert_eq!(by_id.as_array().map(Vec::len), Some(1));
    let by_name = t.get_json(&format!(
        "/nodes?filters={}",
        urlencode(&format!(r#"{{"name":["{}"]}}"#, env::hostname()))
    ));
    assert_eq!(by_name.as_array().map(Vec::len), Some(1));
}

#[test]
fn node_inspect_self_is_the_full_node_object() {
    let Some(t) = Target::swarm() else { return };
    let id = t.node_id();
    let out = t.docker(&["node", "inspect", "self"]);
    out.ok();
    let list = out.json();
    let list = list.as_array().expect("inspect prints a JSON array");
    assert_eq!(list.len(), 1);
    let node = &list[0];
    assert_eq!(node["ID"], id.as_str());
    assert!(node["Version"]["Index"].as_u64().unwrap_or(0) > 0);
    assert_re(node["CreatedAt"].as_str().unwrap_or(""), TIMESTAMP);
    assert_re(node["UpdatedAt"].as_str().unwrap_or(""), TIMESTAMP);
    assert_eq!(
        node["Spec"],
        json!({"Labels": {}, "Role": "manager", "Availability": "active"})
    );
    let d = &node["Description"];
    assert_eq!(d["Hostname"], env::hostname().as_str());
    assert_eq!(d["Platform"]["OS"], "linux");
    let arch = cli::run("uname", &["-m"], &cli::Opts::default());
    assert_eq!(d["Platform"]["Architecture"], arch.trimmed());
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1) as u64;
    assert_eq!(d["Resources"]["NanoCPUs"], cpus * 1_000_000_000);
    assert!(d["Resources"]["MemoryBytes"].as_u64().unwrap_or(0) > 0);
    assert_eq!(d["Engine"]["EngineVersion"], engine_version(&t).as_str());
    let plugins = d["Engine"]["Plugins"]
        .as_array()
        .expect("Plugins is an array");
    for want in [
        json!({"Type": "Volume", "Name": "local"}),
        json!({"Type": "Network", "Name": "overlay"}),
        json!({"Type": "Log", "Name": "json-file"}),
    ] {
        assert!(plugins.contains(&want), "{want} missing from {plugins:?}");
    }
    let swarm = t.get_json("/swarm");
    assert_eq!(d["TLSInfo"], swarm["TLSInfo"]);
    assert_eq!(node["Status"]["State"], "ready");
    let addr = node["ManagerStatus"]["Addr"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let ip = addr.rsplit_once(':').map(|(ip, _)| ip).unwrap_or("");
    assert_eq!(node["Status"]["Addr"], ip);
    assert_eq!(node["ManagerStatus"]["Leader"], true);
    assert_eq!(node["ManagerStatus"]["Reachability"], "reachable");
    if t.is_shoal() {
        assert_eq!(addr, t.manager_addr());
    }
    // inspect by ID and by hostname: the same node.
    let by_id = t.get_json(&format!("/nodes/{id}"));
    assert_eq!(by_id["ID"], node["ID"]);
    assert_eq!(by_id["Spec"], node["Spec"]);
    let by_host = t.get_json(&format!("/nodes/{}", env::hostname()));
    assert_eq!(by_host["ID"], node["ID"]);
    t.docker(&[
        "node",
        "inspect",
        &id,
        "--format",
        "{{ .ManagerStatus.Reachability }}",
    ])
    .ok()
    .stdout_is("reachable\n");
    // bollard decodes it.
    let decoded = t
        .block_on(t.sdk().inspect_node(&id))
        .expect("bollard inspect_node");
    assert_eq!(decoded.id.as_deref(), Some(id.as_str()));
    let spec = decoded.spec.expect("spec");
    assert_eq!(spec.role, Some(bollard::models::NodeSpecRoleEnum::MANAGER));
}

#[test]
fn node_inspect_pretty() {
    let Some(t) = Target::swarm() else { return };
    let id = t.node_id();
    let node = t.get_json(&format!("/nodes/{id}"));
    let addr = node["ManagerStatus"]["Addr"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let ip = node["Status"]["Addr"].as_str().unwrap_or("").to_string();
    let out = t.docker(&["node", "inspect", "--pretty", "self"]);
    out.ok();
    let host = env::hostname();
    let version = engine_version(&t);
    let expected_start =
        format!("ID:\t\t\t{id}\nHostname:              \t{host}\nJoined at:             \t");
    assert!(
        out.stdout.starts_with(&expected_start),
        "pretty output starts differently:\n{}",
        out.stdout
    );
    for block in [
        format!(
            "Status:\n State:\t\t\tReady\n Availability:         \tActive\n Address:\t\t{ip}\n"
        ),
        format!(
            "Manager Status:\n Address:\t\t{addr}\n Raft Status:\t\tReachable\n Leader:\t\tYes\n"
        ),
        "Platform:\n Operating System:\tlinux\n".to_string(),
        " Volume:\t\tlocal\n".to_string(),
        format!("Engine Version:\t\t{version}\n"),
        "TLS Info:\n TrustRoot:\n-----BEGIN CERTIFICATE-----\n".to_string(),
        " Issuer Subject:\t".to_string(),
        " Issuer Public Key:\t".to_string(),
    ] {
        out.stdout_has(&block);
    }
    out.stdout_re(r"(?m)^Joined at:\s+\t\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 utc$");
}

#[test]
fn node_ps_of_a_node_without_tasks() {
    let Some(t) = Target::swarm() else { return };
    let header =
        "ID        NAME      IMAGE     NODE      DESIRED STATE   CURRENT STATE   ERROR     PORTS\n";
    t.docker(&["node", "ps", "self"]).ok().stdout_is(header);
    t.docker(&["node", "ps", &t.node_id()])
        .ok()
        .stdout_is(header);
    let filters = urlencode(&format!(r#"{{"node":{{"{}":true}}}}"#, t.node_id()));
    let tasks = t.api("GET", &format!("/tasks?filters={filters}"));
    tasks.status(200);
    assert_eq!(tasks.text(), "[]\n");
}

#[test]
fn node_update_availability_and_labels() {
    let Some(t) = Target::swarm_exclusive() else {
        return;
    };
    let id = t.node_id();
    let index = |t: &Target| t.get_json(&format!("/nodes/{id}"))["Version"]["Index"].as_u64();
    let spec = |t: &Target| t.get_json(&format!("/nodes/{id}"))["Spec"].clone();

    let v0 = index(&t);
    t.docker(&["node", "update", "--availability", "drain", &id])
        .ok()
        .stdout_is(&format!("{id}\n"));
    assert_eq!(spec(&t)["Availability"], "drain");
    assert!(index(&t) > v0, "Version.Index moves on update");
    t.docker(&["node", "ls", "--format", "{{.Availability}}"])
        .ok()
        .stdout_is("Drain\n");
    t.docker(&["node", "update", "--availability", "active", &id])
        .ok()
        .stdout_is(&format!("{id}\n"));
    assert_eq!(spec(&t)["Availability"], "active");

    t.docker(&["node", "update", "--label-add", "foo=bar", &id])
        .ok()
        .stdout_is(&format!("{id}\n"));
    // By hostname, as users type it.
    let host = env::hostname();
    t.docker(&["node", "update", "--label-add", "zone=z1", &host])
        .ok()
        .stdout_is(&format!("{host}\n"));
    assert_eq!(
        spec(&t),
        json!({"Labels": {"foo": "bar", "zone": "z1"}, "Role": "manager", "Availability": "active"})
    );
    t.docker(&["node", "update", "--label-rm", "foo", &id]).ok();
    assert_eq!(spec(&t)["Labels"], json!({"zone": "z1"}));
    t.docker(&[
        "node",
        "inspect",
        "--format",
        "{{json .Spec.Labels}}",
        "self",
    ])
    .ok()
    .stdout_is("{\"zone\":\"z1\"}\n");
}

#[test]
fn node_update_with_a_stale_version_is_a_500() {
    let Some(t) = Target::swarm_exclusive() else {
        return;
    };
    let id = t.node_id();
    let node = t.get_json(&format!("/nodes/{id}"));
    let current = node["Version"]["Index"].as_u64().expect("index");
    let spec = json!({"Role": "manager", "Availability": "active", "Labels": {"foo": "bar"}});
    t.api_json("POST", &format!("/nodes/{id}/update?version=1"), &spec)
        .error(
            500,
            "rpc error: code = Unknown desc = update out of sequence",
        );
    t.api_json(
        "POST",
        &format!("/nodes/{id}/update?version={}", current + 1000),
        &spec,
    )
    .error(
        500,
        "rpc error: code = Unknown desc = update out of sequence",
    );
    // Nothing changed.
    assert_eq!(t.get_json(&format!("/nodes/{id}"))["Spec"], node["Spec"]);
    // The right version: 200 with an empty body.
    let ok = t.api_json(
        "POST",
        &format!("/nodes/{id}/update?version={current}"),
        &spec,
    );
    ok.status(200);
    assert!(ok.body.is_empty(), "node update answers an empty body");
    assert_eq!(
        t.get_json(&format!("/nodes/{id}"))["Spec"]["Labels"],
        json!({"foo": "bar"})
    );
}

#[test]
fn the_last_manager_cannot_be_demoted_or_removed() {
    let Some(t) = Target::swarm_exclusive() else {
        return;
    };
    let id = t.node_id();
    // `self` is resolved by the CLI only for inspect/ps; demote sends it as is.
    t.docker(&["node", "demote", "self"])
        .daemon_error("node self not found");
    t.docker(&["node", "demote", &id]).daemon_error(
        "rpc error: code = FailedPrecondition desc = attempting to demote the last manager of the swarm",
    );
    t.docker(&["node", "promote", &id])
        .ok()
        .stdout_is(&format!("Node {id} is already a manager.\n"));
    let message = format!(
        "rpc error: code = FailedPrecondition desc = node {id} is a cluster manager and is a member of the raft cluster. It must be demoted to worker before removal"
    );
    t.api("DELETE", &format!("/nodes/{id}"))
        .error(400, &message);
    t.api("DELETE", &format!("/nodes/{id}?force=1"))
        .error(400, &message);
    t.docker(&["node", "rm", &id]).code(1).stderr_has(&message);
    assert_eq!(
        t.get_json(&format!("/nodes/{id}"))["Spec"]["Role"],
        "manager",
        "still a manager"
    );
}

#[test]
fn missing_nodes_are_404() {
    let Some(t) = Target::swarm() else { return };
    t.api("GET", "/nodes/doesnotexist")
        .error(404, "node doesnotexist not found");
    t.api("DELETE", "/nodes/doesnotexist")
        .error(404, "node doesnotexist not found");
    let out = t.docker(&["node", "inspect", "nosuch"]);
    out.code(1)
        .stdout_is("[]\n")
        .stderr_is("Error response from daemon: node nosuch not found\n");
    t.docker(&["node", "ps", "nosuch"])
        .code(1)
        .stderr_has("node nosuch not found");
}
