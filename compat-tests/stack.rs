//! `docker stack deploy | ls | services | ps | rm` with the reference's stack files, adapted in
//! `compat-tests/fixtures/stacks/` (local images, no running containers, ports and external
//! names from the environment) (reference 076-088, 106, 107, 140, 141, 152, 156).

mod common;

use base64::Engine as _;
use common::images::{BUSYBOX, WEB};
use common::*;
use serde_json::{json, Value};

const DETACH_NOTICE: &str = "Since --detach=false was not specified, tasks will be created in the background.\nIn a future release, --detach=false will become the default.\n";

fn deploy(t: &Target, file: &str, stack: &str, env: &[(&str, &str)]) -> Out {
    t.docker_in(
        &t.stacks_dir(),
        env,
        &["stack", "deploy", "-c", file, stack],
    )
}

fn service(t: &Target, name: &str) -> Value {
    t.get_json(&format!("/services/{name}"))
}

/// stdout lines as a sorted list (the CLI creates services in map order).
fn sorted_lines(out: &Out) -> Vec<String> {
    let mut lines: Vec<String> = out.lines().iter().map(|s| s.to_string()).collect();
    lines.sort();
    lines
}

#[test]
fn deploy_whoami_then_ls_services_ps_rm() {
    let Some(t) = Target::swarm() else { return };
    let s = t.unique("whoami");
    let port = t.port().to_string();
    deploy(&t, "whoami.yml", &s, &[("WHOAMI_PORT", &port)])
        .ok()
        .stdout_is(&format!(
            "Creating network {s}_test-net\nCreating service {s}_whoami\n"
        ))
        .stderr_is(DETACH_NOTICE);

    let net = t.get_json(&format!("/networks/{s}_test-net"));
    assert_eq!(net["Driver"], "overlay");
    assert_eq!(net["Scope"], "swarm");
    assert_eq!(
        net["Labels"],
        json!({"com.docker.stack.namespace": s.as_str()})
    );

    let svc = service(&t, &format!("{s}_whoami"));
    let spec = &svc["Spec"];
    assert_eq!(
        spec["Labels"],
        json!({
            "com.docker.stack.image": WEB,
            "com.docker.stack.namespace": s.as_str(),
            "com.example.description": "whoami service",
            "traefik.enable": "true"
        })
    );
    let tt = &spec["TaskTemplate"];
    assert_eq!(tt["ContainerSpec"]["Image"], WEB);
    assert_eq!(
        tt["ContainerSpec"]["Labels"],
        json!({"com.docker.stack.namespace": s.as_str()})
    );
    // The network was sent by name and is stored by ID, with the service name as alias.
    assert_eq!(
        tt["Networks"],
        json!([{"Target": net["Id"], "Aliases": ["whoami"]}])
    );
    assert_eq!(spec["Mode"], json!({"Replicated": {"Replicas": 0}}));
    // Order "" is stored as stop-first and FailureAction filled; Monitor stays unset.
    assert_eq!(
        spec["UpdateConfig"],
        json!({"Parallelism": 2, "Delay": 10_000_000_000u64, "FailureAction": "pause", "MaxFailureRatio": 0, "Order": "stop-first"})
    );
    let port_n: u64 = port.parse().unwrap();
    assert_eq!(
        spec["EndpointSpec"],
        json!({"Mode": "vip", "Ports": [{"Protocol": "tcp", "TargetPort": 8000, "PublishedPort": port_n, "PublishMode": "ingress"}]})
    );

    let ls = t.docker(&["stack", "ls"]);
    ls.ok();
    assert_re(ls.lines()[0], r"^NAME\s+SERVICES$");
    assert!(
        ls.lines()
            .iter()
            .any(|l| matches(l, &format!(r"^{}\s+1$", esc(&s)))),
        "stack not listed:\n{}",
        ls.stdout
    );
    let services = t.docker(&["stack", "services", &s]);
    services.ok();
    let lines = services.lines();
    assert_eq!(lines.len(), 2, "{}", services.stdout);
    assert_re(lines[0], r"^ID\s+NAME\s+MODE\s+REPLICAS\s+IMAGE\s+PORTS$");
    assert_re(
        lines[1],
        &format!(
            r"^[0-9a-z]{{12}}\s+{}_whoami\s+replicated\s+0/0\s+{}\s+\*:{port}->8000/tcp$",
            esc(&s),
            esc(WEB)
        ),
    );
    // No tasks (replicas 0): the CLI reports an empty stack for ps.
    t.docker(&["stack", "ps", &s])
        .code(1)
        .stdout_is("")
        .stderr_is(&format!("nothing found in stack: {s}\n"));

    t.docker(&["stack", "rm", &s]).ok().stdout_is(&format!(
        "Removing service {s}_whoami\nRemoving network {s}_test-net\n"
    ));
    t.api("GET", &format!("/services/{s}_whoami"))
        .error(404, &format!("service {s}_whoami not found"));
    let nets = t.get_json(&format!(
        "/networks?{}",
        filters(&json!({"label": {format!("com.docker.stack.namespace={s}"): true}}))
    ));
    assert_eq!(nets, json!([]), "stack network removed");
    t.docker(&["stack", "rm", &s])
        .ok()
        .stdout_is("")
        .stderr_is(&format!("Nothing found in stack: {s}\n"));
}

#[test]
fn deploy_webdb_with_volume_constraints_and_default_replicas() {
    let Some(t) = Target::swarm() else { return };
    let s = t.unique("webdb");
    let port = t.port().to_string();
    let out = deploy(&t, "webdb.yml", &s, &[("WEB_PORT", &port)]);
    out.ok().stderr_is(DETACH_NOTICE);
    assert_eq!(
        sorted_lines(&out),
        vec![
            format!("Creating network {s}_backend"),
            format!("Creating service {s}_db"),
            format!("Creating service {s}_web"),
        ]
    );
    assert!(out
        .stdout
        .starts_with(&format!("Creating network {s}_backend\n")));
    let net_id = t.get_json(&format!("/networks/{s}_backend"))["Id"].clone();

    let db = service(&t, &format!("{s}_db"));
    let spec = &db["Spec"];
    // `Mode: {"Replicated": {}}` is stored with one replica.
    assert_eq!(spec["Mode"], json!({"Replicated": {"Replicas": 1}}));
    let cs = &spec["TaskTemplate"]["ContainerSpec"];
    assert_eq!(cs["Image"], BUSYBOX);
    assert_eq!(
        cs["Mounts"],
        json!([{"Type": "volume", "Source": format!("{s}_db-data"), "Target": "/data", "VolumeOptions": {"Labels": {"com.docker.stack.namespace": s.as_str()}}}])
    );
    assert_eq!(
        spec["TaskTemplate"]["Placement"]["Constraints"],
        json!([
            "node.role == manager",
            "node.labels.shoal-compat-never == true"
        ])
    );
    assert_eq!(
        spec["TaskTemplate"]["Networks"],
        json!([{"Target": net_id, "Aliases": ["db"]}])
    );

    let web = service(&t, &format!("{s}_web"));
    let spec = &web["Spec"];
    assert_eq!(
        spec["TaskTemplate"]["ContainerSpec"]["Env"],
        json!(["DB_HOST=db"])
    );
    assert_eq!(
        spec["TaskTemplate"]["Resources"],
        json!({"Limits": {"MemoryBytes": 67_108_864u64}})
    );
    assert_eq!(
        spec["TaskTemplate"]["RestartPolicy"]["Condition"],
        "on-failure"
    );

    let services = t.docker(&["stack", "services", &s]);
    services.ok();
    let lines = services.lines();
    assert_eq!(lines.len(), 3, "{}", services.stdout);
    assert_re(
        lines[1],
        &format!(
            r"^[0-9a-z]{{12}}\s+{}_db\s+replicated\s+0/1\s+{}\s*$",
            esc(&s),
            esc(BUSYBOX)
        ),
    );
    assert_re(
        lines[2],
        &format!(
            r"^[0-9a-z]{{12}}\s+{}_web\s+replicated\s+0/0\s+{}\s+\*:{port}->8000/tcp$",
            esc(&s),
            esc(WEB)
        ),
    );

    // Removing two stacks at once.
    let other = t.unique("whoami2");
    let port2 = t.port().to_string();
    deploy(&t, "whoami.yml", &other, &[("WHOAMI_PORT", &port2)]).ok();
    let rm = t.docker(&["stack", "rm", &other, &s]);
    rm.ok();
    let text = &rm.stdout;
    assert!(
        text.starts_with(&format!(
            "Removing service {other}_whoami\nRemoving network {other}_test-net\n"
        )),
        "{text}"
    );
    let mut rest: Vec<&str> = text.lines().skip(2).collect();
    let last = rest.pop();
    rest.sort();
    assert_eq!(
        rest,
        vec![
            format!("Removing service {s}_db").as_str(),
            format!("Removing service {s}_web").as_str()
        ]
    );
    assert_eq!(last, Some(format!("Removing network {s}_backend").as_str()));
}

#[test]
fn deploy_app_with_secrets_and_configs_then_update_then_rm() {
    let Some(t) = Target::swarm() else { return };
    let s = t.unique("app");
    let ext = t.unique("ext_secret");
    let ext_file = cli::write_file(t.scratch(), "ext.txt", b"external-secret-value\n");
    let out = t.docker(&["secret", "create", &ext, &ext_file.display().to_string()]);
    out.ok();
    let ext_id = out.trimmed().to_string();

    deploy(&t, "app.yml", &s, &[("EXT_SECRET", &ext)])
        .ok()
        .stdout_is(&format!(
            "Creating network {s}_default\nCreating secret {s}_file_secret\nCreating config {s}_app_config\nCreating service {s}_app\n"
        ))
        .stderr_is(DETACH_NOTICE);

    let secret = t.get_json(&format!("/secrets/{s}_file_secret"));
    assert_eq!(
        secret["Spec"],
        json!({"Name": format!("{s}_file_secret"), "Labels": {"com.docker.stack.namespace": s.as_str()}})
    );
    let config = t.get_json(&format!("/configs/{s}_app_config"));
    let app_conf = std::fs::read(fixture("stacks/app.conf")).expect("app.conf");
    assert_eq!(
        config["Spec"],
        json!({
            "Name": format!("{s}_app_config"),
            "Labels": {"com.docker.stack.namespace": s.as_str()},
            "Data": base64::engine::general_purpose::STANDARD.encode(&app_conf)
        })
    );
    let net = t.get_json(&format!("/networks/{s}_default"));
    assert_eq!(
        net["Labels"],
        json!({"com.docker.stack.namespace": s.as_str()})
    );

    let svc = service(&t, &format!("{s}_app"));
    let id = svc["ID"].as_str().unwrap().to_string();
    let v1 = svc["Version"]["Index"].as_u64().unwrap();
    let cs = &svc["Spec"]["TaskTemplate"]["ContainerSpec"];
    assert_eq!(
        cs["Args"],
        json!([
            "sh",
            "-c",
            "cat /run/secrets/ext_secret /run/secrets/file_secret /etc/app.conf; sleep 3600"
        ])
    );
    let mut secrets = cs["Secrets"].as_array().cloned().unwrap_or_default();
    secrets.sort_by_key(|x| x["File"]["Name"].as_str().unwrap_or("").to_string());
    assert_eq!(
        Value::Array(secrets),
        json!([
            {"File": {"Name": "ext_secret", "UID": "0", "GID": "0", "Mode": 292}, "SecretID": ext_id.as_str(), "SecretName": ext.as_str()},
            {"File": {"Name": "file_secret", "UID": "0", "GID": "0", "Mode": 256}, "SecretID": secret["ID"], "SecretName": format!("{s}_file_secret")}
        ])
    );
    assert_eq!(
        cs["Configs"],
        json!([{"File": {"Name": "/etc/app.conf", "UID": "0", "GID": "0", "Mode": 292}, "ConfigID": config["ID"], "ConfigName": format!("{s}_app_config")}])
    );
    assert_eq!(svc["Spec"]["Mode"], json!({"Replicated": {"Replicas": 2}}));
    t.docker(&["stack", "ls"])
        .ok()
        .stdout_re(&format!(r"(?m)^{}\s+1$", esc(&s)));

    // Deploy again with v2: secrets and configs are updated with the same data, the service
    // is updated in place.
    let out = deploy(&t, "app-v2.yml", &s, &[("EXT_SECRET", &ext)]);
    out.ok()
        .stdout_is(&format!("Updating service {s}_app (id: {id})\n"))
        .stderr_has(DETACH_NOTICE);
    let svc = service(&t, &format!("{s}_app"));
    assert_eq!(svc["Spec"]["Mode"], json!({"Replicated": {"Replicas": 1}}));
    assert!(svc["Version"]["Index"].as_u64().unwrap() > v1);
    assert_eq!(
        svc["PreviousSpec"]["Mode"],
        json!({"Replicated": {"Replicas": 2}})
    );
    let secret2 = t.get_json(&format!("/secrets/{s}_file_secret"));
    assert_eq!(secret2["ID"], secret["ID"]);
    assert!(
        secret2["Version"]["Index"].as_u64() > secret["Version"]["Index"].as_u64(),
        "stack deploy updates existing secrets"
    );

    t.docker(&["stack", "rm", &s])
        .ok()
        .stdout_is(&format!(
            "Removing service {s}_app\nRemoving secret {s}_file_secret\nRemoving config {s}_app_config\nRemoving network {s}_default\n"
        ));
    // The external secret stays.
    assert_eq!(
        t.get_json(&format!("/secrets/{ext}"))["ID"],
        ext_id.as_str()
    );
    t.api("GET", &format!("/configs/{s}_app_config"))
        .error(404, &format!("config {s}_app_config not found"));
}

#[test]
fn deploy_attached_waits_for_convergence() {
    let Some(t) = Target::swarm() else { return };
    let s = t.unique("attached");
    let port = t.port().to_string();
    let out = t.docker_in(
        &t.stacks_dir(),
        &[("WHOAMI_PORT", &port)],
        &["stack", "deploy", "--detach=false", "-c", "whoami.yml", &s],
    );
    out.ok()
        .stdout_has(&format!(
            "Creating network {s}_test-net\nCreating service {s}_whoami\n"
        ))
        .stdout_has("overall progress: 0 out of 0 tasks\n")
        .stdout_has("verify: Waiting 5 seconds to verify that tasks are stable...\n");
    let id = service(&t, &format!("{s}_whoami"))["ID"]
        .as_str()
        .unwrap()
        .to_string();
    out.stdout_has(&format!("verify: Service {id} converged\n"));
    assert!(
        !out.stderr.contains("Since --detach=false"),
        "{}",
        out.stderr
    );
}

#[test]
fn stack_commands_on_missing_stacks() {
    let Some(t) = Target::swarm() else { return };
    let s = t.unique("nosuch");
    t.docker(&["stack", "ps", &s])
        .code(1)
        .stderr_is(&format!("nothing found in stack: {s}\n"));
    t.docker(&["stack", "rm", &s])
        .ok()
        .stderr_is(&format!("Nothing found in stack: {s}\n"));
    t.docker(&["stack", "services", &s])
        .ok()
        .stdout_is("")
        .stderr_is(&format!("Nothing found in stack: {s}\n"));
}

#[test]
fn stack_commands_outside_a_swarm() {
    let Some(t) = Target::no_swarm() else { return };
    let s = t.unique("whoami");
    deploy(&t, "whoami.yml", &s, &[]).code(1).stdout_is("").stderr_is(&format!(
        "{DETACH_NOTICE}this node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again\n"
    ));
    t.docker(&["stack", "ls"]).daemon_error(NOT_A_MANAGER);
}
