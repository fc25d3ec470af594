//! `docker service create | ls | inspect | ps | update | scale | rollback | logs | rm`, detached
//! and with no running containers: replicas 0, or a placement constraint no node satisfies
//! (reference 028-052, 089, 090, 099-105, 110-118, 122, 131, 133, 138, 143-147).

mod common;

use common::images::{BUSYBOX, WEB};
use common::*;
use serde_json::{json, Value};

const TASKS_HEADER: &str =
    "ID        NAME      IMAGE     NODE      DESIRED STATE   CURRENT STATE   ERROR     PORTS\n";

fn no_digest_warning(image: &str) -> String {
    format!(
        "image {image} could not be accessed on a registry to record\nits digest. Each node will access {image} independently,\npossibly leading to different nodes running different\nversions of the image.\n\n"
    )
}

/// `docker service create --detach --no-resolve-image <args>`; returns the new ID.
#[track_caller]
fn create(t: &Target, args: &[&str]) -> String {
    let mut all = vec!["service", "create", "--detach", "--no-resolve-image"];
    all.extend_from_slice(args);
    let out = t.docker(&all);
    out.ok().stdout_re(&format!(r"\A{SWARM_ID}\n\z"));
    out.trimmed().to_string()
}

fn service(t: &Target, name: &str) -> Value {
    t.get_json(&format!("/services/{name}"))
}

fn index(v: &Value) -> u64 {
    v["Version"]["Index"].as_u64().expect("Version.Index")
}

#[test]
fn create_detached_prints_the_id_and_warns_about_the_digest() {
    let Some(t) = Target::swarm() else { return };
    let name = t.unique("web");
    let port = t.port().to_string();
    let publish = format!("{port}:8000");
    let out = t.docker(&[
        "service",
        "create",
        "--detach",
        "--replicas",
        "0",
        "--name",
        &name,
        "-p",
        &publish,
        WEB,
    ]);
    out.ok()
        .stdout_re(&format!(r"\A{SWARM_ID}\n\z"))
        .stderr_is(&no_digest_warning(WEB));
    let id = out.trimmed();
    let svc = service(&t, &name);
    assert_eq!(svc["ID"], id);
    assert_eq!(svc["Spec"]["Name"], name.as_str());
    // No registry: the tag is kept, no digest pinned.
    assert_eq!(svc["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"], WEB);
    assert_eq!(svc["Spec"]["Mode"], json!({"Replicated": {"Replicas": 0}}));
    assert_re(svc["CreatedAt"].as_str().unwrap_or(""), TIMESTAMP);
    assert_re(svc["UpdatedAt"].as_str().unwrap_or(""), TIMESTAMP);
}

#[test]
fn get_service_stores_the_spec_with_the_engine_normalisation() {
    let Some(t) = Target::swarm() else { return };
    let name = t.unique("norm");
    let port = t.port();
    let publish = format!("{port}:8000");
    create(
        &t,
        &["--replicas", "0", "--name", &name, "-p", &publish, WEB],
    );
    let svc = service(&t, &name);
    let spec = &svc["Spec"];
    assert_eq!(spec["Labels"], json!({}));
    let tt = &spec["TaskTemplate"];
    assert_eq!(tt["ContainerSpec"]["Image"], WEB);
    assert_eq!(tt["ContainerSpec"]["Isolation"], "default");
    assert_eq!(tt["ContainerSpec"]["Init"], false);
    assert_eq!(tt["Runtime"], "container");
    assert_eq!(tt["ForceUpdate"], 0);
    assert_eq!(tt["Resources"], json!({"Limits": {}, "Reservations": {}}));
    assert_eq!(tt["Placement"], json!({}));
    // Without insertDefaults, unset parts stay unset.
    for absent in ["UpdateConfig", "RollbackConfig"] {
        assert!(
            spec.get(absent).is_none(),
            "{absent} must be omitted: {spec}"
        );
    }
    for absent in ["PreviousSpec", "UpdateStatus", "ServiceStatus"] {
        assert!(svc.get(absent).is_none(), "{absent} must be omitted: {svc}");
    }
    let ports = json!([{"Protocol": "tcp", "TargetPort": 8000, "PublishedPort": port, "PublishMode": "ingress"}]);
    assert_eq!(spec["EndpointSpec"], json!({"Mode": "vip", "Ports": ports}));
    let endpoint = &svc["Endpoint"];
    assert_eq!(endpoint["Spec"], spec["EndpointSpec"]);
    assert_eq!(endpoint["Ports"], ports);
    // A published port puts the service on the ingress network with a virtual IP.
    let ingress = t.get_json("/networks/ingress");
    let vips = endpoint["VirtualIPs"].as_array().expect("VirtualIPs");
    assert_eq!(vips.len(), 1, "{endpoint}");
    assert_eq!(vips[0]["NetworkID"], ingress["Id"]);
    assert_re(
        vips[0]["Addr"].as_str().unwrap_or(""),
        r"^\d+\.\d+\.\d+\.\d+/\d+$",
    );
}

#[test]
fn inspect_inserts_the_engine_defaults() {
    let Some(t) = Target::swarm() else { return };
    let name = t.unique("defaults");
    let id = create(&t, &["--replicas", "0", "--name", &name, WEB]);
    let out = t.docker(&["service", "inspect", &name]);
    out.ok();
    let list = out.json();
    let svc = &list[0];
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(svc["ID"], id.as_str());
    let spec = &svc["Spec"];
    let defaults = json!({
        "Parallelism": 1,
        "FailureAction": "pause",
        "Monitor": 5_000_000_000u64,
        "MaxFailureRatio": 0,
        "Order": "stop-first"
    });
    assert_eq!(spec["UpdateConfig"], defaults);
    assert_eq!(spec["RollbackConfig"], defaults);
    let cs = &spec["TaskTemplate"]["ContainerSpec"];
    assert_eq!(cs["StopGracePeriod"], 10_000_000_000u64);
    assert_eq!(cs["Isolation"], "default");
    assert_eq!(
        spec["TaskTemplate"]["RestartPolicy"],
        json!({"Condition": "any", "Delay": 5_000_000_000u64, "MaxAttempts": 0})
    );
    assert_eq!(spec["EndpointSpec"]["Mode"], "vip");
    // The same with insertDefaults=true on the API, and docker-py's spelling `True`.
    for flag in ["true", "True", "1"] {
        let raw = t.get_json(&format!("/services/{id}?insertDefaults={flag}"));
        assert_eq!(
            raw["Spec"]["UpdateConfig"], defaults,
            "insertDefaults={flag}"
        );
    }
    let plain = t.get_json(&format!("/services/{id}?insertDefaults=false"));
    assert!(plain["Spec"].get("UpdateConfig").is_none());
    // The CLI's format templates see the same object.
    t.docker(&[
        "service",
        "inspect",
        "--format",
        "{{.Spec.Name}} {{.Spec.Mode.Replicated.Replicas}}",
        &id,
    ])
    .ok()
    .stdout_is(&format!("{name} 0\n"));
}

#[test]
fn inspect_pretty() {
    let Some(t) = Target::swarm() else { return };
    let name = t.unique("pretty");
    let port = t.port();
    let publish = format!("{port}:8000");
    let id = create(
        &t,
        &["--replicas", "0", "--name", &name, "-p", &publish, WEB],
    );
    let expected = format!(
        "\nID:\t\t{id}\nName:\t\t{name}\nService Mode:\tReplicated\n Replicas:\t0\nPlacement:\nUpdateConfig:\n Parallelism:\t1\n On failure:\tpause\n Monitoring Period: 5s\n Max failure ratio: 0\n Update order:      stop-first\nRollbackConfig:\n Parallelism:\t1\n On failure:\tpause\n Monitoring Period: 5s\n Max failure ratio: 0\n Rollback order:    stop-first\nContainerSpec:\n Image:\t\t{WEB}\n Init:\t\tfalse\nResources:\nEndpoint Mode:\tvip\nPorts:\n PublishedPort = {port}\n  Protocol = tcp\n  TargetPort = 8000\n  PublishMode = ingress \n\n"
    );
    t.docker(&["service", "inspect", "--pretty", &name])
        .ok()
        .stdout_is(&expected);
}

#[test]
fn service_ls_shows_mode_replicas_image_and_ports() {
    let Some(t) = Target::swarm() else { return };
    let web = t.unique("lsweb");
    let global = t.unique("lsglobal");
    let job = t.unique("lsjob");
    let port = t.port();
    let publish = format!("{port}:8000");
    let web_id = create(
        &t,
        &["--replicas", "0", "--name", &web, "-p", &publish, WEB],
    );
    let global_id = create(
        &t,
        &[
            "--mode",
            "global",
            "--constraint",
            NEVER,
            "--name",
            &global,
            BUSYBOX,
        ],
    );
    let job_id = create(
        &t,
        &[
            "--mode",
            "replicated-job",
            "--replicas",
            "2",
            "--max-concurrent",
            "1",
            "--constraint",
            NEVER,
            "--name",
            &job,
            BUSYBOX,
        ],
    );
    // `name` filters match a prefix of the name; several are OR'ed.
    let (f1, f2, f3) = (
        format!("name={web}"),
        format!("name={global}"),
        format!("name={job}"),
    );
    let out = t.docker(&[
        "service", "ls", "--filter", &f1, "--filter", &f2, "--filter", &f3,
    ]);
    out.ok();
    let lines = out.lines();
    assert_eq!(lines.len(), 4, "header + 3 services:\n{}", out.stdout);
    assert_re(lines[0], r"^ID\s+NAME\s+MODE\s+REPLICAS\s+IMAGE\s+PORTS$");
    // Rows are sorted by name: lsglobal, lsjob, lsweb.
    assert_re(
        lines[1],
        &format!(
            r"^{}\s+{}\s+global\s+0/0\s+{}$",
            &global_id[..12],
            esc(&global),
            esc(BUSYBOX)
        ),
    );
    assert_re(
        lines[2],
        &format!(
            r"^{}\s+{}\s+replicated job\s+0/1 \(0/2 completed\)\s+{}$",
            &job_id[..12],
            esc(&job),
            esc(BUSYBOX)
        ),
    );
    assert_re(
        lines[3],
        &format!(
            r"^{}\s+{}\s+replicated\s+0/0\s+{}\s+\*:{port}->8000/tcp$",
            &web_id[..12],
            esc(&web),
            esc(WEB)
        ),
    );
    t.docker(&["service", "ls", "-q", "--filter", &format!("name={web}")])
        .ok()
        .stdout_is(&format!("{}\n", &web_id[..12]));
    // status=true adds ServiceStatus; without it the field is absent.
    let with = t.get_json(&format!(
        "/services?status=true&{}",
        filters(&json!({"name": {web.as_str(): true}}))
    ));
    assert_eq!(
        with[0]["ServiceStatus"],
        json!({"RunningTasks": 0, "DesiredTasks": 0, "CompletedTasks": 0})
    );
    let without = t.get_json(&format!(
        "/services?{}",
        filters(&json!({"name": [web.as_str()]}))
    ));
    assert!(without[0].get("ServiceStatus").is_none());
    let spec = service(&t, &job)["Spec"]["Mode"].clone();
    assert_eq!(
        spec,
        json!({"ReplicatedJob": {"MaxConcurrent": 1, "TotalCompletions": 2}})
    );
    assert_eq!(service(&t, &global)["Spec"]["Mode"], json!({"Global": {}}));
}

#[test]
fn service_filters_and_lookups() {
    let Some(t) = Target::swarm() else { return };
    let name = t.unique("filt");
    let id = create(
        &t,
        &[
            "--replicas",
            "0",
            "--label",
            "com.example.tier=front",
            "--name",
            &name,
            WEB,
        ],
    );
    let count = |f: Value| -> usize {
        t.get_json(&format!("/services?{}", filters(&f)))
            .as_array()
            .map(Vec::len)
            .unwrap_or(99)
    };
    assert_eq!(count(json!({"id": {id.as_str(): true}})), 1);
    assert_eq!(
        count(json!({"id": [&id[..10]]})),
        1,
        "id filter takes a prefix"
    );
    assert_eq!(count(json!({"name": {name.as_str(): true}})), 1);
    assert_eq!(
        count(json!({"name": [name.as_str()], "label": ["com.example.tier=front"]})),
        1
    );
    assert_eq!(
        count(json!({"name": [name.as_str()], "label": ["com.example.tier"]})),
        1
    );
    assert_eq!(
        count(json!({"name": [name.as_str()], "label": ["com.example.tier=back"]})),
        0
    );
    assert_eq!(
        count(json!({"name": [name.as_str()], "mode": ["replicated"]})),
        1
    );
    assert_eq!(
        count(json!({"name": [name.as_str()], "mode": ["global"]})),
        0
    );
    // /services/{x}: full ID, name, unique ID prefix.
    for key in [id.clone(), name.clone(), id[..12].to_string()] {
        assert_eq!(service(&t, &key)["ID"], id.as_str(), "lookup by {key}");
    }
}

#[test]
fn service_ps_of_a_service_without_tasks() {
    let Some(t) = Target::swarm() else { return };
    let name = t.unique("ps");
    let id = create(&t, &["--replicas", "0", "--name", &name, WEB]);
    t.docker(&["service", "ps", &name])
        .ok()
        .stdout_is(TASKS_HEADER);
    t.docker(&["service", "ps", &id])
        .ok()
        .stdout_is(TASKS_HEADER);
    let tasks = t.api(
        "GET",
        &format!(
            "/tasks?{}",
            filters(&json!({"service": {id.as_str(): true}}))
        ),
    );
    tasks.status(200);
    assert_eq!(tasks.text(), "[]\n");
    // No tasks, no logs: nothing printed, exit 0.
    t.docker(&["service", "logs", &name])
        .ok()
        .stdout_is("")
        .stderr_is("");
}

#[test]
fn service_update_keeps_the_previous_spec() {
    let Some(t) = Target::swarm() else { return };
    let name = t.unique("upd");
    let id = create(&t, &["--replicas", "0", "--name", &name, WEB]);
    let before = service(&t, &name);
    let out = t.docker(&[
        "service",
        "update",
        "--detach",
        "--no-resolve-image",
        "--image",
        BUSYBOX,
        "--env-add",
        "A=1",
        "--stop-grace-period",
        "2s",
        &name,
    ]);
    out.ok().stdout_is(&format!("{name}\n")).stderr_is("");
    let after = service(&t, &name);
    assert_eq!(after["ID"], id.as_str());
    assert!(index(&after) > index(&before), "Version.Index moves");
    assert_eq!(after["CreatedAt"], before["CreatedAt"]);
    let cs = &after["Spec"]["TaskTemplate"]["ContainerSpec"];
    assert_eq!(cs["Image"], BUSYBOX);
    assert_eq!(cs["Env"], json!(["A=1"]));
    assert_eq!(cs["StopGracePeriod"], 2_000_000_000u64);
    assert_eq!(
        after["PreviousSpec"]["TaskTemplate"]["ContainerSpec"]["Image"],
        WEB
    );
    assert_eq!(after["PreviousSpec"]["Name"], name.as_str());

    // --force bumps ForceUpdate; --with-registry-auth is accepted.
    t.docker(&[
        "service",
        "update",
        "--detach",
        "--with-registry-auth",
        "--force",
        &name,
    ])
    .ok()
    .stdout_is(&format!("{name}\n"));
    assert_eq!(service(&t, &name)["Spec"]["TaskTemplate"]["ForceUpdate"], 1);

    // The raw answer to an update.
    let current = service(&t, &name);
    let resp = t.api_json(
        "POST",
        &format!("/services/{id}/update?version={}", index(&current)),
        &current["Spec"],
    );
    resp.status(200);
    assert_eq!(resp.json(), json!({"Warnings": null}));
}

#[test]
fn service_scale_and_replicas() {
    let Some(t) = Target::swarm() else { return };
    let name = t.unique("scale");
    create(
        &t,
        &[
            "--replicas",
            "0",
            "--constraint",
            NEVER,
            "--name",
            &name,
            WEB,
        ],
    );
    let arg = format!("{name}=3");
    t.docker(&["service", "scale", "--detach", &arg])
        .ok()
        .stdout_is(&format!("{name} scaled to 3\n"));
    assert_eq!(
        service(&t, &name)["Spec"]["Mode"],
        json!({"Replicated": {"Replicas": 3}})
    );
    // A list without `status=true` (what SDKs send by default) is made from each service's
    // kept JSON, which must follow the update below.
    let name_filter = format!("name={name}");
    let listed_replicas = || {
        let query = format!("%7B%22name%22%3A%5B%22{name}%22%5D%7D");
        let list = t.get_json(&format!("/services?filters={query}"));
        list[0]["Spec"]["Mode"]["Replicated"]["Replicas"].clone()
    };
    assert_eq!(listed_replicas(), json!(3));
    t.docker(&["service", "update", "--detach", "--replicas", "1", &name])
        .ok();
    assert_eq!(
        service(&t, &name)["Spec"]["Mode"]["Replicated"]["Replicas"],
        1
    );
    t.docker(&[
        "service",
        "ls",
        "--filter",
        &name_filter,
        "--format",
        "{{.Replicas}}",
    ])
    .ok()
    .stdout_is("0/1\n");
    assert_eq!(listed_replicas(), json!(1));
    // Global services cannot be scaled.
    let global = t.unique("scaleg");
    create(
        &t,
        &[
            "--mode",
            "global",
            "--constraint",
            NEVER,
            "--name",
            &global,
            WEB,
        ],
    );
    t.docker(&["service", "scale", "--detach", &format!("{global}=2")])
        .code(1)
        .stderr_has(&format!(
            "{global}: scale can only be used with replicated or replicated-job mode"
        ));
}

#[test]
fn service_rollback_swaps_to_the_previous_spec() {
    let Some(t) = Target::swarm() else { return };
    let name = t.unique("rb");
    let id = create(&t, &["--replicas", "0", "--name", &name, WEB]);
    t.docker(&["service", "rollback", "--detach", &name])
        .daemon_error(&format!(
        "rpc error: code = FailedPrecondition desc = service {id} does not have a previous spec"
    ));
    t.docker(&[
        "service",
        "update",
        "--detach",
        "--no-resolve-image",
        "--image",
        BUSYBOX,
        &name,
    ])
    .ok();
    t.docker(&["service", "rollback", "--detach", &name])
        .ok()
        .stdout_is(&format!("{name}\n"));
    let svc = service(&t, &name);
    assert_eq!(svc["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"], WEB);
    assert_eq!(
        svc["PreviousSpec"]["TaskTemplate"]["ContainerSpec"]["Image"],
        BUSYBOX
    );
    // The raw rollback without a previous spec: 400.
    let other = t.unique("rb2");
    let other_id = create(&t, &["--replicas", "0", "--name", &other, WEB]);
    let current = service(&t, &other);
    t.api_json(
        "POST",
        &format!("/services/{other_id}/update?version={}&rollback=previous", index(&current)),
        &current["Spec"],
    )
    .error(
        400,
        &format!(
            "rpc error: code = FailedPrecondition desc = service {other_id} does not have a previous spec"
        ),
    );
}

#[test]
fn service_rm_removes_one_or_many() {
    let Some(t) = Target::swarm() else { return };
    let a = t.unique("rma");
    let b = t.unique("rmb");
    let c = t.unique("rmc");
    for n in [&a, &b, &c] {
        create(&t, &["--replicas", "0", "--name", n, WEB]);
    }
    t.docker(&["service", "rm", &a, &b])
        .ok()
        .stdout_is(&format!("{a}\n{b}\n"));
    t.api("GET", &format!("/services/{a}"))
        .error(404, &format!("service {a} not found"));
    // DELETE answers 200 with an empty body (not 204).
    let resp = t.api("DELETE", &format!("/services/{c}"));
    resp.status(200);
    assert!(resp.body.is_empty());
    t.docker(&["service", "inspect", &c])
        .code(1)
        .stderr_is(&format!("Error: no such service: {c}\n"));
}

#[test]
fn service_create_stores_what_the_flags_say() {
    let Some(t) = Target::swarm() else { return };
    let name = t.unique("flags");
    create(
        &t,
        &[
            "--name",
            &name,
            "--replicas",
            "0",
            "--constraint",
            "node.role==manager",
            "--placement-pref",
            "spread=node.labels.zone",
            "--limit-memory",
            "64M",
            "--reserve-cpu",
            "0.1",
            "--restart-condition",
            "on-failure",
            "--restart-max-attempts",
            "3",
            "--health-cmd",
            "wget -q -O- http://127.0.0.1:8000/ || exit 1",
            "--health-interval",
            "2s",
            "--env",
            "MODE=test",
            "--label",
            "com.example.svc=yes",
            "--container-label",
            "com.example.ctr=yes",
            "--hostname",
            "web-host",
            "--user",
            "nobody",
            "--workdir",
            "/www",
            "--update-parallelism",
            "2",
            "--update-delay",
            "10s",
            "--update-order",
            "start-first",
            "--stop-signal",
            "SIGINT",
            WEB,
            "httpd",
            "-f",
            "-p",
            "8000",
        ],
    );
    let spec = service(&t, &name)["Spec"].clone();
    assert_eq!(spec["Labels"], json!({"com.example.svc": "yes"}));
    let tt = &spec["TaskTemplate"];
    let cs = &tt["ContainerSpec"];
    assert_eq!(cs["Args"], json!(["httpd", "-f", "-p", "8000"]));
    assert_eq!(cs["Env"], json!(["MODE=test"]));
    assert_eq!(cs["Labels"], json!({"com.example.ctr": "yes"}));
    assert_eq!(cs["Hostname"], "web-host");
    assert_eq!(cs["User"], "nobody");
    assert_eq!(cs["Dir"], "/www");
    assert_eq!(cs["StopSignal"], "SIGINT");
    assert_eq!(
        cs["Healthcheck"],
        json!({"Test": ["CMD-SHELL", "wget -q -O- http://127.0.0.1:8000/ || exit 1"], "Interval": 2_000_000_000u64})
    );
    assert_eq!(tt["Resources"]["Limits"]["MemoryBytes"], 67_108_864u64);
    assert_eq!(tt["Resources"]["Reservations"]["NanoCPUs"], 100_000_000u64);
    assert_eq!(
        tt["RestartPolicy"],
        json!({"Condition": "on-failure", "Delay": 5_000_000_000u64, "MaxAttempts": 3})
    );
    assert_eq!(
        tt["Placement"],
        json!({"Constraints": ["node.role==manager"], "Preferences": [{"Spread": {"SpreadDescriptor": "node.labels.zone"}}]})
    );
    assert_eq!(spec["UpdateConfig"]["Parallelism"], 2);
    assert_eq!(spec["UpdateConfig"]["Delay"], 10_000_000_000u64);
    assert_eq!(spec["UpdateConfig"]["Order"], "start-first");
}

#[test]
fn service_create_no_resolve_image_and_registry_auth() {
    let Some(t) = Target::swarm() else { return };
    let a = t.unique("noresolve");
    let b = t.unique("regauth");
    t.docker(&[
        "service",
        "create",
        "--detach",
        "--no-resolve-image",
        "--replicas",
        "0",
        "--name",
        &a,
        WEB,
    ])
    .ok()
    .stderr_is("");
    t.docker(&[
        "service",
        "create",
        "--detach",
        "--with-registry-auth",
        "--replicas",
        "0",
        "--name",
        &b,
        WEB,
    ])
    .ok()
    .stderr_is(&no_digest_warning(WEB));
    t.docker(&["service", "rm", &a, &b])
        .ok()
        .stdout_is(&format!("{a}\n{b}\n"));
}

#[test]
fn raw_service_create_answers_201_with_the_id() {
    let Some(t) = Target::swarm() else { return };
    let name = t.unique("raw");
    let body = json!({
        "Name": name,
        "TaskTemplate": {"ContainerSpec": {"Image": WEB}, "Placement": {"Constraints": [NEVER]}},
        "Mode": {"Replicated": {}}
    });
    let resp = t.api_json("POST", "/services/create", &body);
    resp.status(201);
    let created = resp.json();
    let id = created["ID"].as_str().unwrap_or_else(|| resp.fail("no ID"));
    assert_re(id, &format!("^{SWARM_ID}$"));
    let svc = service(&t, id);
    // `{"Replicated":{}}` is stored as one replica; Runtime and Isolation are filled in.
    assert_eq!(svc["Spec"]["Mode"], json!({"Replicated": {"Replicas": 1}}));
    assert_eq!(svc["Spec"]["TaskTemplate"]["Runtime"], "container");
    assert_eq!(
        svc["Spec"]["TaskTemplate"]["ContainerSpec"]["Isolation"],
        "default"
    );
    assert_eq!(svc["Spec"]["EndpointSpec"], Value::Null);
    assert_eq!(svc["Endpoint"], json!({"Spec": {}}));
    // Go's decoder: keys match case-insensitively, unknown keys are ignored.
    let loose = t.unique("loose");
    let body = json!({
        "name": loose,
        "taskTemplate": {"containerSpec": {"image": WEB}},
        "mode": {"replicated": {"replicas": 0}},
        "NotAField": true
    });
    t.api_json("POST", "/services/create", &body).status(201);
    let svc = service(&t, &loose);
    assert_eq!(svc["Spec"]["Name"], loose.as_str());
    assert_eq!(svc["Spec"]["Mode"]["Replicated"]["Replicas"], 0);
}
