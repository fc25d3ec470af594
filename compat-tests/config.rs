//! `docker config create | ls | inspect | rm`, configs used by services, and the config API
//! (reference 058-062, 064, 069, 096, 097, 103).

mod common;

use base64::Engine as _;
use common::images::WEB;
use common::*;
use serde_json::{json, Value};

const C1: &[u8] = b"server {\n  listen 8000;\n}\n";

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

#[track_caller]
fn create_file(t: &Target, name: &str, data: &[u8], extra: &[&str]) -> String {
    let file = cli::write_file(t.scratch(), &format!("{name}.conf"), data);
    let path = file.display().to_string();
    let mut args = vec!["config", "create"];
    args.extend_from_slice(extra);
    args.push(name);
    args.push(&path);
    let out = t.docker(&args);
    out.ok()
        .stderr_is("")
        .stdout_re(&format!(r"\A{SWARM_ID}\n\z"));
    out.trimmed().to_string()
}

#[test]
fn config_create_and_inspect_returns_the_data() {
    let Some(t) = Target::swarm() else { return };
    let name = t.unique("c1");
    let id = create_file(&t, &name, C1, &[]);
    let config = t.get_json(&format!("/configs/{name}"));
    assert_eq!(config["ID"], id.as_str());
    assert_eq!(
        config["Spec"],
        json!({"Name": name.as_str(), "Labels": {}, "Data": b64(C1)})
    );
    assert_re(config["CreatedAt"].as_str().unwrap_or(""), TIMESTAMP);
    assert_eq!(config["CreatedAt"], config["UpdatedAt"]);
    let out = t.docker(&["config", "inspect", &name]);
    out.ok();
    assert_eq!(out.json(), json!([config]));
    // From stdin, with labels.
    let other = t.unique("c2");
    let out = t.docker_stdin(
        &["config", "create", "--label", "env=test", &other, "-"],
        b"k=v\n",
    );
    out.ok().stdout_re(&format!(r"\A{SWARM_ID}\n\z"));
    let c2 = t.get_json(&format!("/configs/{other}"));
    assert_eq!(c2["Spec"]["Labels"], json!({"env": "test"}));
    assert_eq!(c2["Spec"]["Data"], b64(b"k=v\n"));
    assert!(c2["Version"]["Index"].as_u64() > config["Version"]["Index"].as_u64());
}

#[test]
fn config_inspect_pretty_prints_the_data() {
    let Some(t) = Target::swarm() else { return };
    let name = t.unique("pretty");
    let id = create_file(&t, &name, C1, &[]);
    t.docker(&["config", "inspect", "--pretty", &name])
        .ok()
        .stdout_re(&format!(
            r"\AID:\t\t\t{id}\nName:\t\t\t{}\nCreated at:            \t\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 utc\nUpdated at:            \t\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 utc\nData:\nserver \{{\n  listen 8000;\n\}}\n\n\z",
            esc(&name)
        ));
}

#[test]
fn config_ls() {
    let Some(t) = Target::swarm() else { return };
    let a = t.unique("lsa");
    let b = t.unique("lsb");
    let id_b = create_file(&t, &b, b"b", &[]);
    let id_a = create_file(&t, &a, b"a", &["--label", "env=test"]);
    let (fa, fb) = (format!("name={a}"), format!("name={b}"));
    let out = t.docker(&["config", "ls", "--filter", &fa, "--filter", &fb]);
    out.ok();
    let lines = out.lines();
    assert_eq!(lines.len(), 3, "{}", out.stdout);
    assert_re(lines[0], r"^ID\s+NAME\s+CREATED\s+UPDATED$");
    assert_re(
        lines[1],
        &format!(r"^{id_a}\s+{}\s+\S.* ago\s+\S.* ago$", esc(&a)),
    );
    assert_re(
        lines[2],
        &format!(r"^{id_b}\s+{}\s+\S.* ago\s+\S.* ago$", esc(&b)),
    );
    t.docker(&[
        "config",
        "ls",
        "-q",
        "--filter",
        "label=env=test",
        "--filter",
        &fa,
    ])
    .ok()
    .stdout_is(&format!("{id_a}\n"));
    let count = |f: Value| -> usize {
        t.get_json(&format!("/configs?{}", filters(&f)))
            .as_array()
            .map(Vec::len)
            .unwrap_or(99)
    };
    assert_eq!(
        count(json!({"name": {a.as_str(): true, b.as_str(): true}})),
        2
    );
    assert_eq!(count(json!({"id": [id_b.as_str()]})), 1);
    assert_eq!(count(json!({"name": [a.as_str()], "label": ["env"]})), 1);
    assert_eq!(count(json!({"name": [b.as_str()], "label": ["env"]})), 0);
}

#[test]
fn config_rm_and_404s() {
    let Some(t) = Target::swarm() else { return };
    let a = t.unique("rma");
    let b = t.unique("rmb");
    create_file(&t, &a, b"a", &[]);
    let id_b = create_file(&t, &b, b"b", &[]);
    t.docker(&["config", "rm", &a])
        .ok()
        .stdout_is(&format!("{a}\n"));
    t.api("GET", &format!("/configs/{a}"))
        .error(404, &format!("config {a} not found"));
    let resp = t.api("DELETE", &format!("/configs/{id_b}"));
    resp.status(204);
    assert!(resp.body.is_empty());
    t.docker(&["config", "rm", &b])
        .daemon_error(&format!("config {b} not found"));
    t.docker(&["config", "inspect", &b])
        .code(1)
        .stdout_is("[]\n")
        .stderr_is(&format!(
            "Error response from daemon: config {b} not found\n"
        ));
}

#[test]
fn configs_in_use_by_a_service_cannot_be_removed() {
    let Some(t) = Target::swarm() else { return };
    let name = t.unique("c1");
    let svc = t.unique("withconfig");
    let id = create_file(&t, &name, C1, &[]);
    let mount = format!("source={name},target=/etc/app/app.conf,mode=0444");
    t.docker(&[
        "service",
        "create",
        "--detach",
        "--no-resolve-image",
        "--replicas",
        "0",
        "--name",
        &svc,
        "--config",
        &mount,
        WEB,
    ])
    .ok();
    let spec = t.get_json(&format!("/services/{svc}"))["Spec"].clone();
    assert_eq!(
        spec["TaskTemplate"]["ContainerSpec"]["Configs"],
        json!([{"File": {"Name": "/etc/app/app.conf", "UID": "0", "GID": "0", "Mode": 292}, "ConfigID": id.as_str(), "ConfigName": name.as_str()}])
    );
    t.docker(&["config", "rm", &name]).daemon_error(&format!(
        "rpc error: code = InvalidArgument desc = config '{name}' is in use by the following service: {svc}"
    ));
    t.docker(&["service", "rm", &svc]).ok();
    t.docker(&["config", "rm", &name])
        .ok()
        .stdout_is(&format!("{name}\n"));
}

#[test]
fn config_update_accepts_labels_and_unchanged_data_only() {
    let Some(t) = Target::swarm() else { return };
    let name = t.unique("upd");
    let id = create_file(&t, &name, C1, &[]);
    let before = t.get_json(&format!("/configs/{id}"));
    let v = before["Version"]["Index"].as_u64().unwrap();
    // Same data, new labels: what `docker stack deploy` sends for an existing config.
    let resp = t.api_json(
        "POST",
        &format!("/configs/{id}/update?version={v}"),
        &json!({"Name": name, "Labels": {"k": "v"}, "Data": b64(C1)}),
    );
    resp.status(200);
    assert!(resp.body.is_empty());
    let after = t.get_json(&format!("/configs/{id}"));
    assert_eq!(after["Spec"]["Labels"], json!({"k": "v"}));
    assert_eq!(after["Spec"]["Data"], b64(C1));
    let v2 = after["Version"]["Index"].as_u64().unwrap();
    assert!(v2 > v);
    t.api_json(
        "POST",
        &format!("/configs/{id}/update?version={v2}"),
        &json!({"Name": name, "Labels": {"k": "v"}, "Data": b64(b"changed")}),
    )
    .error(
        400,
        "rpc error: code = InvalidArgument desc = only updates to Labels are allowed",
    );
    // Duplicate names: 409.
    let resp = t.api_json(
        "POST",
        "/configs/create",
        &json!({"Name": name, "Data": "eA=="}),
    );
    resp.error(
        409,
        &format!("rpc error: code = AlreadyExists desc = config {name} already exists"),
    );
}
