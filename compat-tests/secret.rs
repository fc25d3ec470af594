//! `docker secret create | ls | inspect | rm`, secrets used by services, and the secret API
//! (reference 053-057, 062, 063, 068, 094, 095, 102, 109, 114, 136, 137).

mod common;

use base64::Engine as _;
use common::images::WEB;
use common::*;
use serde_json::{json, Value};

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

#[track_caller]
fn create_stdin(t: &Target, name: &str, data: &[u8]) -> String {
    let out = t.docker_stdin(&["secret", "create", name, "-"], data);
    out.ok()
        .stderr_is("")
        .stdout_re(&format!(r"\A{SWARM_ID}\n\z"));
    out.trimmed().to_string()
}

#[test]
fn secret_create_from_stdin_and_file() {
    let Some(t) = Target::swarm() else { return };
    let s1 = t.unique("s1");
    let s2 = t.unique("s2");
    let id1 = create_stdin(&t, &s1, b"x\n");
    let file = cli::write_file(t.scratch(), "secret2.txt", b"file-secret-value\n");
    let out = t.docker(&[
        "secret",
        "create",
        "--label",
        "env=test",
        &s2,
        &file.display().to_string(),
    ]);
    out.ok().stdout_re(&format!(r"\A{SWARM_ID}\n\z"));
    let id2 = out.trimmed().to_string();
    assert_ne!(id1, id2);

    let secret = t.get_json(&format!("/secrets/{s1}"));
    assert_eq!(secret["ID"], id1.as_str());
    // Secrets never return their data.
    assert_eq!(secret["Spec"], json!({"Name": s1.as_str(), "Labels": {}}));
    assert_re(secret["CreatedAt"].as_str().unwrap_or(""), TIMESTAMP);
    assert_eq!(secret["CreatedAt"], secret["UpdatedAt"]);
    let v1 = secret["Version"]["Index"].as_u64().unwrap_or(0);
    let second = t.get_json(&format!("/secrets/{id2}"));
    assert_eq!(
        second["Spec"],
        json!({"Name": s2.as_str(), "Labels": {"env": "test"}})
    );
    assert!(
        second["Version"]["Index"].as_u64().unwrap_or(0) > v1,
        "one index counter for all objects, increasing"
    );

    let out = t.docker(&["secret", "inspect", &s1]);
    out.ok();
    assert_eq!(out.json(), json!([secret]));
}

#[test]
fn secret_ls_lists_without_data() {
    let Some(t) = Target::swarm() else { return };
    let a = t.unique("lsa");
    let b = t.unique("lsb");
    let id_b = create_stdin(&t, &b, b"b");
    let id_a = create_stdin(&t, &a, b"a");
    let (fa, fb) = (format!("name={a}"), format!("name={b}"));
    let out = t.docker(&["secret", "ls", "--filter", &fa, "--filter", &fb]);
    out.ok();
    let lines = out.lines();
    assert_eq!(lines.len(), 3, "{}", out.stdout);
    assert_re(lines[0], r"^ID\s+NAME\s+DRIVER\s+CREATED\s+UPDATED$");
    // Sorted by name by the CLI; the DRIVER column is empty.
    assert_re(
        lines[1],
        &format!(r"^{id_a}\s+{}\s+\S.* ago\s+\S.* ago$", esc(&a)),
    );
    assert_re(
        lines[2],
        &format!(r"^{id_b}\s+{}\s+\S.* ago\s+\S.* ago$", esc(&b)),
    );
    t.docker(&["secret", "ls", "-q", "--filter", &fa])
        .ok()
        .stdout_is(&format!("{id_a}\n"));
    t.docker(&["secret", "ls", "--filter", &fa, "--format", "{{.Name}}"])
        .ok()
        .stdout_is(&format!("{a}\n"));
    let list = t.get_json(&format!(
        "/secrets?{}",
        filters(&json!({"name": [a.as_str(), b.as_str()]}))
    ));
    let list = list.as_array().expect("list");
    assert_eq!(list.len(), 2);
    for s in list {
        assert!(
            s["Spec"].get("Data").is_none(),
            "list must not show Data: {s}"
        );
    }
}

#[test]
fn secret_filters() {
    let Some(t) = Target::swarm() else { return };
    let name = t.unique("filt");
    let out = t.docker_stdin(
        &[
            "secret", "create", "--label", "env=test", "--label", "tier", &name, "-",
        ],
        b"d",
    );
    out.ok();
    let id = out.trimmed().to_string();
    let count = |f: Value| -> usize {
        t.get_json(&format!("/secrets?{}", filters(&f)))
            .as_array()
            .map(Vec::len)
            .unwrap_or(99)
    };
    assert_eq!(count(json!({"name": {name.as_str(): true}})), 1);
    assert_eq!(count(json!({"id": [id.as_str()]})), 1);
    assert_eq!(
        count(json!({"name": [name.as_str()], "label": ["env=test"]})),
        1
    );
    assert_eq!(count(json!({"name": [name.as_str()], "label": ["env"]})), 1);
    assert_eq!(
        count(json!({"name": [name.as_str()], "label": ["env=prod"]})),
        0
    );
    t.docker(&[
        "secret",
        "ls",
        "-q",
        "--filter",
        "label=env=test",
        "--filter",
        &format!("name={name}"),
    ])
    .ok()
    .stdout_is(&format!("{id}\n"));
}

#[test]
fn secret_inspect_pretty() {
    let Some(t) = Target::swarm() else { return };
    let name = t.unique("pretty");
    let out = t.docker_stdin(
        &["secret", "create", "--label", "env=test", &name, "-"],
        b"data",
    );
    out.ok();
    let id = out.trimmed().to_string();
    let pretty = t.docker(&["secret", "inspect", "--pretty", &name]);
    pretty.ok().stdout_re(&format!(
        r"\AID:              {id}\nName:              {}\nLabels:\n - env=test\nDriver:            \nCreated at:        \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 utc\nUpdated at:        \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 utc\n\z",
        esc(&name)
    ));
}

#[test]
fn secret_rm_and_404s() {
    let Some(t) = Target::swarm() else { return };
    let a = t.unique("rma");
    let b = t.unique("rmb");
    create_stdin(&t, &a, b"a");
    let id_b = create_stdin(&t, &b, b"b");
    t.docker(&["secret", "rm", &a])
        .ok()
        .stdout_is(&format!("{a}\n"));
    t.api("GET", &format!("/secrets/{a}"))
        .error(404, &format!("secret {a} not found"));
    let resp = t.api("DELETE", &format!("/secrets/{id_b}"));
    resp.status(204);
    assert!(resp.body.is_empty());
    t.api("DELETE", &format!("/secrets/{b}"))
        .error(404, &format!("secret {b} not found"));
    t.docker(&["secret", "inspect", &b])
        .code(1)
        .stdout_is("[]\n")
        .stderr_is(&format!(
            "Error response from daemon: secret {b} not found\n"
        ));
}

#[test]
fn secrets_in_use_by_a_service_cannot_be_removed() {
    let Some(t) = Target::swarm() else { return };
    let s1 = t.unique("s1");
    let s2 = t.unique("s2");
    let svc = t.unique("withsecrets");
    let id1 = create_stdin(&t, &s1, b"x\n");
    let id2 = create_stdin(&t, &s2, b"y\n");
    let mount2 = format!("source={s2},target=app_secret,mode=0400");
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
        &s1,
        "--secret",
        &mount2,
        WEB,
    ])
    .ok();
    let spec = t.get_json(&format!("/services/{svc}"))["Spec"].clone();
    // The CLI sends them in no particular order: compare sorted by name.
    let mut secrets = spec["TaskTemplate"]["ContainerSpec"]["Secrets"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    secrets.sort_by_key(|s| s["SecretName"].as_str().unwrap_or("").to_string());
    assert_eq!(
        Value::Array(secrets),
        json!([
            {"File": {"Name": s1.as_str(), "UID": "0", "GID": "0", "Mode": 292}, "SecretID": id1.as_str(), "SecretName": s1.as_str()},
            {"File": {"Name": "app_secret", "UID": "0", "GID": "0", "Mode": 256}, "SecretID": id2.as_str(), "SecretName": s2.as_str()}
        ])
    );
    t.docker(&["secret", "rm", &s1]).daemon_error(&format!(
        "rpc error: code = InvalidArgument desc = secret '{s1}' is in use by the following service: {svc}"
    ));
    t.api("DELETE", &format!("/secrets/{id2}")).error(
        400,
        &format!("rpc error: code = InvalidArgument desc = secret '{s2}' is in use by the following service: {svc}"),
    );
    t.docker(&["service", "rm", &svc]).ok();
    t.docker(&["secret", "rm", &s1, &s2])
        .ok()
        .stdout_is(&format!("{s1}\n{s2}\n"));
    // A service naming a secret that does not exist is refused.
    let missing = t.unique("missing");
    t.docker(&[
        "service",
        "create",
        "--detach",
        "--no-resolve-image",
        "--replicas",
        "0",
        "--name",
        &t.unique("nosecret"),
        "--secret",
        &missing,
        WEB,
    ])
    .code(1)
    .stderr_has(&format!("secret not found: {missing}"));
}

#[test]
fn secret_update_accepts_labels_and_unchanged_data_only() {
    let Some(t) = Target::swarm() else { return };
    let name = t.unique("upd");
    let id = create_stdin(&t, &name, b"external-secret-value\n");
    let before = t.get_json(&format!("/secrets/{id}"));
    let v = before["Version"]["Index"].as_u64().unwrap();
    let resp = t.api_json(
        "POST",
        &format!("/secrets/{id}/update?version={v}"),
        &json!({"Name": name, "Labels": {"rotated": "no"}}),
    );
    resp.status(200);
    assert!(resp.body.is_empty(), "update answers an empty body");
    let after = t.get_json(&format!("/secrets/{id}"));
    assert_eq!(after["Spec"]["Labels"], json!({"rotated": "no"}));
    let v2 = after["Version"]["Index"].as_u64().unwrap();
    assert!(v2 > v);
    assert_eq!(after["CreatedAt"], before["CreatedAt"]);
    assert_ne!(after["UpdatedAt"], before["UpdatedAt"]);
    // Changing the data: 400, nothing changes.
    t.api_json(
        "POST",
        &format!("/secrets/{id}/update?version={v2}"),
        &json!({"Name": name, "Labels": {"rotated": "yes"}, "Data": b64(b"changed")}),
    )
    .error(
        400,
        "rpc error: code = InvalidArgument desc = only updates to Labels are allowed",
    );
    assert_eq!(t.get_json(&format!("/secrets/{id}")), after);
    // The same data again (what `docker stack deploy` sends on every deploy): accepted.
    t.api_json(
        "POST",
        &format!("/secrets/{id}/update?version={v2}"),
        &json!({"Name": name, "Labels": {"rotated": "again"}, "Data": b64(b"external-secret-value\n")}),
    )
    .status(200);
    assert_eq!(
        t.get_json(&format!("/secrets/{id}"))["Spec"]["Labels"],
        json!({"rotated": "again"})
    );
    // A stale version.
    t.api_json(
        "POST",
        &format!("/secrets/{id}/update?version={v}"),
        &json!({"Name": name, "Labels": {}}),
    )
    .error(
        500,
        "rpc error: code = Unknown desc = update out of sequence",
    );
}

#[test]
fn duplicate_secret_names_are_409() {
    let Some(t) = Target::swarm() else { return };
    let name = t.unique("dup");
    create_stdin(&t, &name, b"x");
    t.docker_stdin(&["secret", "create", &name, "-"], b"y")
        .daemon_error(&format!(
            "rpc error: code = AlreadyExists desc = secret {name} already exists"
        ));
    let resp = t.api_json(
        "POST",
        "/secrets/create",
        &json!({"Name": name, "Data": "eA=="}),
    );
    resp.error(
        409,
        &format!("rpc error: code = AlreadyExists desc = secret {name} already exists"),
    );
    // The raw create: 201 {"ID"}.
    let other = t.unique("raw");
    let resp = t.api_json(
        "POST",
        "/secrets/create",
        &json!({"Name": other, "Labels": {}, "Data": "eA=="}),
    );
    resp.status(201);
    let body = resp.json();
    assert_eq!(body.as_object().map(|o| o.len()), Some(1), "{body}");
    assert_re(body["ID"].as_str().unwrap_or(""), &format!("^{SWARM_ID}$"));
}
