//! `docker network create -d overlay | ls | inspect | rm`: swarm-scoped networks, listed
//! together with the dockerd's local ones (reference 070-075, 098).

mod common;

use common::images::WEB;
use common::*;
use serde_json::{json, Value};

#[track_caller]
fn create(t: &Target, args: &[&str]) -> String {
    let mut all = vec!["network", "create", "-d", "overlay"];
    all.extend_from_slice(args);
    let out = t.docker(&all);
    out.ok()
        .stderr_is("")
        .stdout_re(&format!(r"\A{SWARM_ID}\n\z"));
    out.trimmed().to_string()
}

#[test]
fn overlay_network_create_and_inspect() {
    let Some(t) = Target::swarm() else { return };
    let name = t.unique("net1");
    let id = create(&t, &["--attachable", &name]);
    let net = t.get_json(&format!("/networks/{name}"));
    assert_eq!(net["Name"], name.as_str());
    assert_eq!(net["Id"], id.as_str());
    assert_re(net["Created"].as_str().unwrap_or(""), TIMESTAMP);
    assert_eq!(net["Scope"], "swarm");
    assert_eq!(net["Driver"], "overlay");
    assert_eq!(net["EnableIPv6"], false);
    assert_eq!(net["Internal"], false);
    assert_eq!(net["Attachable"], true);
    assert_eq!(net["Ingress"], false);
    assert_eq!(net["ConfigFrom"], json!({"Network": ""}));
    assert_eq!(net["ConfigOnly"], false);
    assert_eq!(net["Containers"], Value::Null);
    assert_eq!(net["Labels"], Value::Null);
    assert_eq!(net["IPAM"]["Driver"], "default");
    assert_eq!(net["IPAM"]["Options"], Value::Null);
    let config = net["IPAM"]["Config"].as_array().expect("IPAM.Config");
    assert_eq!(config.len(), 1);
    assert_re(
        config[0]["Subnet"].as_str().unwrap_or(""),
        r"^10\.0\.\d+\.0/24$",
    );
    assert_re(
        config[0]["Gateway"].as_str().unwrap_or(""),
        r"^10\.0\.\d+\.1$",
    );
    assert_re(
        net["Options"]["com.docker.network.driver.overlay.vxlanid_list"]
            .as_str()
            .unwrap_or(""),
        r"^\d+$",
    );
    // By ID too, and the CLI prints the same object.
    assert_eq!(
        t.get_json(&format!("/networks/{id}"))["Name"],
        name.as_str()
    );
    let out = t.docker(&["network", "inspect", &name]);
    out.ok();
    assert_eq!(out.json(), json!([net]));
    // bollard decodes it.
    let decoded = t
        .block_on(t.sdk().inspect_network(
            &id,
            None::<bollard::query_parameters::InspectNetworkOptions>,
        ))
        .expect("bollard inspect_network");
    assert_eq!(decoded.name.as_deref(), Some(name.as_str()));
    assert_eq!(decoded.scope.as_deref(), Some("swarm"));
}

#[test]
fn network_create_with_options() {
    let Some(t) = Target::swarm() else { return };
    let name = t.unique("opts");
    create(
        &t,
        &[
            "--subnet",
            "10.231.7.0/24",
            "--gateway",
            "10.231.7.254",
            "--label",
            "com.example.net=yes",
            "--internal",
            &name,
        ],
    );
    let net = t.get_json(&format!("/networks/{name}"));
    assert_eq!(
        net["IPAM"]["Config"],
        json!([{"Subnet": "10.231.7.0/24", "Gateway": "10.231.7.254"}])
    );
    assert_eq!(net["Labels"], json!({"com.example.net": "yes"}));
    assert_eq!(net["Internal"], true);
    assert_eq!(net["Attachable"], false);
    let by_label = t.get_json(&format!(
        "/networks?{}",
        filters(&json!({"label": {"com.example.net=yes": true}, "name": {name.as_str(): true}}))
    ));
    assert_eq!(by_label.as_array().map(Vec::len), Some(1), "{by_label}");
}

#[test]
fn raw_network_create_answers_201_with_id_and_warning() {
    let Some(t) = Target::swarm() else { return };
    let name = t.unique("raw");
    let body = json!({
        "Name": name, "CheckDuplicate": true, "Driver": "overlay", "Scope": "", "EnableIPv6": false,
        "IPAM": null, "Internal": false, "Attachable": false, "Ingress": false, "ConfigOnly": false,
        "ConfigFrom": null, "Options": null, "Labels": {"com.docker.stack.namespace": "x"}
    });
    let resp = t.api_json("POST", "/networks/create", &body);
    resp.status(201);
    let created = resp.json();
    assert_eq!(created.as_object().map(|o| o.len()), Some(2), "{created}");
    assert_re(
        created["Id"].as_str().unwrap_or(""),
        &format!("^{SWARM_ID}$"),
    );
    assert_eq!(created["Warning"], "");
}

#[test]
fn network_ls_mixes_local_and_swarm_networks() {
    let Some(t) = Target::swarm() else { return };
    let name = t.unique("lsnet");
    let id = create(&t, &[&name]);
    let out = t.docker(&["network", "ls"]);
    out.ok();
    let lines = out.lines();
    assert_re(lines[0], r"^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE$");
    for row in [
        r"^[0-9a-f]{12}\s+bridge\s+bridge\s+local$".to_string(),
        r"^[0-9a-f]{12}\s+host\s+host\s+local$".to_string(),
        r"^[0-9a-f]{12}\s+none\s+null\s+local$".to_string(),
        r"^[0-9a-z]{12}\s+ingress\s+overlay\s+swarm$".to_string(),
        format!(r"^{}\s+{}\s+overlay\s+swarm$", &id[..12], esc(&name)),
    ] {
        assert!(
            lines.iter().any(|l| matches(l, &row)),
            "no row like /{row}/ in\n{}",
            out.stdout
        );
    }
    let swarm = t.docker(&[
        "network",
        "ls",
        "--filter",
        "scope=swarm",
        "--filter",
        "driver=overlay",
    ]);
    swarm.ok();
    let rows = swarm.lines();
    assert!(rows.len() >= 3, "{}", swarm.stdout);
    for row in &rows[1..] {
        assert_re(row, r"^[0-9a-z]{12}\s+\S+\s+overlay\s+swarm$");
    }
    assert!(rows.iter().any(|r| r.contains(&name)));
    assert!(rows.iter().any(|r| matches(r, r"\singress\s")));
    t.docker(&[
        "network",
        "ls",
        "-q",
        "--no-trunc",
        "--filter",
        &format!("name={name}"),
    ])
    .ok()
    .stdout_is(&format!("{id}\n"));
    // The list endpoint: swarm networks with 25-char IDs, local ones with 64-hex IDs.
    let all = t.get_json("/networks");
    let all = all.as_array().expect("list");
    let bridge = all
        .iter()
        .find(|n| n["Name"] == "bridge")
        .expect("bridge listed");
    assert_re(bridge["Id"].as_str().unwrap_or(""), "^[0-9a-f]{64}$");
    assert_eq!(bridge["Scope"], "local");
    let ingress = all
        .iter()
        .find(|n| n["Name"] == "ingress")
        .expect("ingress listed");
    assert_re(
        ingress["Id"].as_str().unwrap_or(""),
        &format!("^{SWARM_ID}$"),
    );
    assert_eq!(ingress["Ingress"], true);
    assert_eq!(ingress["Scope"], "swarm");
}

#[test]
fn network_rm_and_duplicates() {
    let Some(t) = Target::swarm() else { return };
    let name = t.unique("dupnet");
    create(&t, &[&name]);
    t.docker(&["network", "create", "-d", "overlay", &name])
        .daemon_error(&format!("network with name {name} already exists"));
    let resp = t.api_json(
        "POST",
        "/networks/create",
        &json!({"Name": name, "Driver": "overlay", "CheckDuplicate": true}),
    );
    resp.error(409, &format!("network with name {name} already exists"));
    t.docker(&["network", "rm", &name])
        .ok()
        .stdout_is(&format!("{name}\n"));
    t.api("GET", &format!("/networks/{name}"))
        .error(404, &format!("network {name} not found"));
    t.docker(&["network", "inspect", &name])
        .code(1)
        .stdout_is("[]\n")
        .stderr_has(&format!("network {name} not found"));
    // DELETE by ID: 204, empty.
    let other = t.unique("rmraw");
    let id = create(&t, &[&other]);
    let resp = t.api("DELETE", &format!("/networks/{id}"));
    resp.status(204);
    assert!(resp.body.is_empty());
    t.api("GET", "/networks/doesnotexist")
        .error(404, "network doesnotexist not found");
}

#[test]
fn services_attach_to_overlay_networks_by_name() {
    let Some(t) = Target::swarm() else { return };
    let net = t.unique("svcnet");
    let svc = t.unique("onnet");
    let net_id = create(&t, &[&net]);
    let out = t.docker(&[
        "service",
        "create",
        "--detach",
        "--no-resolve-image",
        "--replicas",
        "0",
        "--network",
        &net,
        "--name",
        &svc,
        WEB,
    ]);
    out.ok();
    let svc_id = out.trimmed().to_string();
    let service = t.get_json(&format!("/services/{svc}"));
    // The name the CLI sent is stored as the network's ID.
    assert_eq!(
        service["Spec"]["TaskTemplate"]["Networks"],
        json!([{"Target": net_id.as_str()}])
    );
    let vips = service["Endpoint"]["VirtualIPs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        vips.iter().any(|v| v["NetworkID"] == net_id.as_str()),
        "a VIP on {net_id}: {}",
        service["Endpoint"]
    );
    let message = format!(
        "rpc error: code = FailedPrecondition desc = network {net_id} is in use by service {svc_id}"
    );
    t.api("DELETE", &format!("/networks/{net}"))
        .error(400, &message);
    t.docker(&["network", "rm", &net])
        .code(1)
        .stderr_has(&format!("Error response from daemon: {message}"));
    t.docker(&["service", "rm", &svc]).ok();
    t.docker(&["network", "rm", &net])
        .ok()
        .stdout_is(&format!("{net}\n"));
}
