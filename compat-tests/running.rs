//! Services that run: real containers on the local dockerd, driven by the real CLI — create
//! with and without `--detach`, scale, a killed container replaced, drain and activate, a
//! rolling update and a rollback, a global service, a job to completion, secrets and configs
//! inside containers, `service logs` (and `--follow`), a published port answering from every
//! replica, and a stack whose web service reaches its db by name.

mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use common::images::{BUSYBOX, WEB};
use common::*;
use serde_json::Value;

/// The target, with the test images built on its engine.
fn with_images(target: impl FnOnce() -> Option<Target>) -> Option<Target> {
    common::target::use_own_address_pools();
    let target = target()?;
    common::images::ensure(target.engine());
    Some(target)
}

/// Polls `check` until it holds, failing with `what` and the last observation after `limit`.
#[track_caller]
fn wait_for(what: &str, limit: Duration, mut check: impl FnMut() -> Result<(), String>) {
    let deadline = Instant::now() + limit;
    loop {
        match check() {
            Ok(()) => return,
            Err(last) if Instant::now() > deadline => {
                panic!("timed out waiting for {what}; last seen: {last}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// The service's tasks as the API lists them.
fn tasks(t: &Target, service: &str) -> Vec<Value> {
    let filter = filters(&serde_json::json!({ "service": [service] }));
    t.get_json(&format!("/tasks?{filter}"))
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn state(task: &Value) -> &str {
    task["Status"]["State"].as_str().unwrap_or_default()
}

fn desired(task: &Value) -> &str {
    task["DesiredState"].as_str().unwrap_or_default()
}

/// Running tasks wanted running.
fn running(t: &Target, service: &str) -> Vec<Value> {
    tasks(t, service)
        .into_iter()
        .filter(|task| state(task) == "running" && desired(task) == "running")
        .collect()
}

fn wait_running(t: &Target, service: &str, n: usize) {
    wait_for(
        &format!("{n} running tasks of {service}"),
        Duration::from_secs(60),
        || {
            let tasks = tasks(t, service);
            let up = tasks
                .iter()
                .filter(|task| state(task) == "running" && desired(task) == "running")
                .count();
            let wanted = tasks
                .iter()
                .filter(|task| desired(task) == "running")
                .count();
            if up == n && wanted == n {
                Ok(())
            } else {
                Err(format!("{tasks:?}"))
            }
        },
    );
}

/// Names of the engine's running containers of `service` (straight from dockerd).
fn containers(t: &Target, service: &str) -> Vec<String> {
    let label = format!("label=com.docker.swarm.service.name={service}");
    let out = t.engine_docker(&["ps", "--filter", &label, "--format", "{{.Names}}"]);
    out.ok();
    let mut names: Vec<String> = out.lines().iter().map(|s| s.to_string()).collect();
    names.sort();
    names
}

#[track_caller]
fn create(t: &Target, args: &[&str]) {
    let mut all = vec!["service", "create", "--detach", "--no-resolve-image"];
    all.extend_from_slice(args);
    t.docker(&all).ok();
}

/// One HTTP GET to 127.0.0.1:`port`; the body, or "" when nothing answered.
fn http_get(port: u16) -> String {
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(3)));
    let _ = stream.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.trim().to_string())
        .unwrap_or_default()
}

#[test]
fn create_without_detach_converges_with_real_containers() {
    let Some(t) = with_images(Target::swarm) else {
        return;
    };
    let name = t.unique("run");
    let out = t.docker(&[
        "service",
        "create",
        "--no-resolve-image",
        "--name",
        &name,
        "--replicas",
        "2",
        BUSYBOX,
        "sleep",
        "1000",
    ]);
    out.ok().stdout_has("overall progress: 2 out of 2 tasks");
    out.stdout_has("verify: Service");
    out.stdout_has("converged");

    let ls = t.docker(&["service", "ls", "--filter", &format!("name={name}")]);
    ls.ok()
        .stdout_re(&format!(r"{name}\s+replicated\s+2/2\s+{}", esc(BUSYBOX)));
    let names = containers(&t, &name);
    assert_eq!(names.len(), 2, "{names:?}");
    for (slot, container) in names.iter().enumerate() {
        assert_re(
            container,
            &format!(r"^{name}\.{}\.[0-9a-z]{{25}}$", slot + 1),
        );
    }
    let labels = t.engine_docker(&["inspect", "--format", "{{json .Config.Labels}}", &names[0]]);
    let labels: Value = serde_json::from_str(labels.ok().trimmed()).unwrap();
    assert_eq!(labels["com.docker.swarm.service.name"], name.as_str());
    assert_eq!(labels["com.docker.swarm.node.id"], t.node_id().as_str());
    assert!(labels["com.docker.swarm.task.id"].as_str().unwrap().len() == 25);
    assert_eq!(
        labels["com.docker.swarm.task.name"].as_str(),
        Some(names[0].as_str())
    );

    let ps = t.docker(&["service", "ps", &name]);
    ps.ok().stdout_re(&format!(
        r"{name}\.1\s+{}\s+\S+\s+Running\s+Running ",
        esc(BUSYBOX)
    ));
}

#[test]
fn scale_up_and_down_starts_and_stops_containers() {
    let Some(t) = with_images(Target::swarm) else {
        return;
    };
    let name = t.unique("scale");
    create(
        &t,
        &[
            "--name",
            &name,
            "--stop-grace-period",
            "1s",
            BUSYBOX,
            "sleep",
            "1000",
        ],
    );
    wait_running(&t, &name, 1);
    t.docker(&["service", "scale", &format!("{name}=3")])
        .ok()
        .stdout_has("converged");
    wait_running(&t, &name, 3);
    assert_eq!(containers(&t, &name).len(), 3);

    t.docker(&["service", "scale", &format!("{name}=1")])
        .ok()
        .stdout_has("converged");
    wait_for("two containers to stop", Duration::from_secs(30), || {
        let names = containers(&t, &name);
        (names.len() == 1).then_some(()).ok_or(format!("{names:?}"))
    });
    wait_running(&t, &name, 1);
}

#[test]
fn a_killed_container_is_replaced_and_kept_in_the_history() {
    let Some(t) = with_images(Target::swarm) else {
        return;
    };
    let name = t.unique("heal");
    create(
        &t,
        &[
            "--name",
            &name,
            "--restart-delay",
            "0s",
            BUSYBOX,
            "sleep",
            "1000",
        ],
    );
    wait_running(&t, &name, 1);
    let first = containers(&t, &name);
    t.engine_docker(&["kill", &first[0]]).ok();
    wait_for("a replacement", Duration::from_secs(30), || {
        let up = running(&t, &name);
        let names = containers(&t, &name);
        (up.len() == 1 && names.len() == 1 && names != first)
            .then_some(())
            .ok_or(format!("{names:?}"))
    });
    let ps = t.docker(&["service", "ps", "--no-trunc", &name]);
    ps.ok().stdout_re(&format!(
        r"\\_ {name}\.1\s+{}\s+\S+\s+Shutdown\s+Failed .*task: non-zero exit \(137\)",
        esc(BUSYBOX)
    ));
}

#[test]
fn drained_node_empties_then_takes_tasks_again() {
    let Some(t) = with_images(Target::swarm_exclusive) else {
        return;
    };
    let name = t.unique("drain");
    create(
        &t,
        &[
            "--name",
            &name,
            "--stop-grace-period",
            "1s",
            BUSYBOX,
            "sleep",
            "1000",
        ],
    );
    wait_running(&t, &name, 1);
    let node = t.node_id();
    t.docker(&["node", "update", "--availability", "drain", &node])
        .ok();
    wait_for(
        "the task to move off and wait",
        Duration::from_secs(30),
        || {
            let tasks = tasks(&t, &name);
            let pending = tasks.iter().find(|task| {
                state(task) == "pending"
                    && task["Status"]["Err"].as_str().is_some_and(|e| {
                        e == "no suitable node (1 node not available for new tasks)"
                    })
            });
            (pending.is_some() && containers(&t, &name).is_empty())
                .then_some(())
                .ok_or(format!("{tasks:?}"))
        },
    );
    t.docker(&["node", "update", "--availability", "active", &node])
        .ok();
    wait_running(&t, &name, 1);
}

#[test]
fn rolling_update_and_rollback_in_batches() {
    let Some(t) = with_images(Target::swarm) else {
        return;
    };
    let name = t.unique("roll");
    let second = format!("shoal-test/busybox:{}", t.token());
    t.engine_docker(&["tag", BUSYBOX, &second]).ok();
    create(
        &t,
        &[
            "--name",
            &name,
            "--replicas",
            "4",
            "--stop-grace-period",
            "1s",
            "--update-parallelism",
            "2",
            "--update-delay",
            "1s",
            BUSYBOX,
            "sleep",
            "1000",
        ],
    );
    wait_running(&t, &name, 4);
    let out = t.docker(&["service", "update", "--image", &second, &name]);
    out.ok().stdout_has("converged");
    wait_running(&t, &name, 4);
    for task in running(&t, &name) {
        assert_eq!(
            task["Spec"]["ContainerSpec"]["Image"].as_str(),
            Some(second.as_str())
        );
    }
    let svc = t.get_json(&format!("/services/{name}"));
    assert_eq!(svc["UpdateStatus"]["State"], "completed", "{svc:#}");

    let out = t.docker(&["service", "rollback", &name]);
    out.ok().stdout_has("converged");
    wait_running(&t, &name, 4);
    for task in running(&t, &name) {
        assert_eq!(
            task["Spec"]["ContainerSpec"]["Image"].as_str(),
            Some(BUSYBOX)
        );
    }
    let svc = t.get_json(&format!("/services/{name}"));
    assert_eq!(
        svc["UpdateStatus"]["State"], "rollback_completed",
        "{svc:#}"
    );
    assert_eq!(containers(&t, &name).len(), 4);
}

#[test]
fn global_service_runs_one_task_on_the_node() {
    let Some(t) = with_images(Target::swarm) else {
        return;
    };
    let name = t.unique("global");
    t.docker(&[
        "service",
        "create",
        "--no-resolve-image",
        "--name",
        &name,
        "--mode",
        "global",
        BUSYBOX,
        "sleep",
        "1000",
    ])
    .ok()
    .stdout_has("converged");
    let names = containers(&t, &name);
    assert_eq!(names.len(), 1, "{names:?}");
    assert_re(
        &names[0],
        &format!(r"^{name}\.{}\.[0-9a-z]{{25}}$", t.node_id()),
    );
    t.docker(&["service", "ls", "--filter", &format!("name={name}")])
        .ok()
        .stdout_re(&format!(r"{name}\s+global\s+1/1"));
}

#[test]
fn replicated_job_runs_to_completion() {
    let Some(t) = with_images(Target::swarm) else {
        return;
    };
    let name = t.unique("job");
    t.docker(&[
        "service",
        "create",
        "--no-resolve-image",
        "--name",
        &name,
        "--mode",
        "replicated-job",
        "--replicas",
        "2",
        BUSYBOX,
        "echo",
        "done",
    ])
    .ok();
    wait_for(
        "both job tasks to complete",
        Duration::from_secs(60),
        || {
            let tasks = tasks(&t, &name);
            let complete = tasks
                .iter()
                .filter(|task| state(task) == "complete")
                .count();
            (complete == 2).then_some(()).ok_or(format!("{tasks:?}"))
        },
    );
    t.docker(&["service", "ls", "--filter", &format!("name={name}")])
        .ok()
        .stdout_re(&format!(r"{name}\s+replicated job\s+0/2 \(2/2 completed\)"));
}

#[test]
fn secrets_and_configs_are_files_inside_the_container() {
    let Some(t) = with_images(Target::swarm) else {
        return;
    };
    let secret = t.unique("pw");
    let config = t.unique("conf");
    let name = t.unique("files");
    t.docker_stdin(&["secret", "create", &secret, "-"], b"hunter2")
        .ok();
    let template = t.scratch().join("app.conf");
    std::fs::write(&template, "svc={{.Service.Name}} slot={{.Task.Slot}}\n").unwrap();
    t.docker(&[
        "config",
        "create",
        "--template-driver",
        "golang",
        &config,
        &template.display().to_string(),
    ])
    .ok();
    create(
        &t,
        &[
            "--name",
            &name,
            "--secret",
            &format!("source={secret},target=db_pw,mode=0400"),
            "--config",
            &format!("source={config},target=/etc/app.conf"),
            BUSYBOX,
            "sleep",
            "1000",
        ],
    );
    wait_running(&t, &name, 1);
    let container = containers(&t, &name).remove(0);
    // `docker exec` passes through shoal to dockerd.
    t.docker(&["exec", &container, "cat", "/run/secrets/db_pw"])
        .ok()
        .stdout_is("hunter2");
    t.docker(&["exec", &container, "cat", "/etc/app.conf"])
        .ok()
        .stdout_is(&format!("svc={name} slot=1\n"));
    t.docker(&["exec", &container, "ls", "-l", "/run/secrets/db_pw"])
        .ok()
        .stdout_re(r"^-r-------- ");
    // Nothing of the secret on a disk: its file is on a tmpfs.
    let mounts = t.engine_docker(&["inspect", "--format", "{{json .Mounts}}", &container]);
    let mounts: Value = serde_json::from_str(mounts.ok().trimmed()).unwrap();
    let source = mounts
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["Destination"] == "/run/secrets/db_pw")
        .and_then(|m| m["Source"].as_str())
        .unwrap()
        .to_string();
    assert!(source.starts_with("/dev/shm/"), "{source}");
}

#[test]
fn service_logs_with_and_without_follow() {
    let Some(t) = with_images(Target::swarm) else {
        return;
    };
    let name = t.unique("logs");
    create(
        &t,
        &[
            "--name",
            &name,
            BUSYBOX,
            "sh",
            "-c",
            "echo hello; echo world; sleep 1000",
        ],
    );
    wait_running(&t, &name, 1);
    let task_id = running(&t, &name)[0]["ID"].as_str().unwrap().to_string();
    let prefix = format!(
        r"{name}\.1\.{}@{}\s+\| ",
        &task_id[..12],
        esc(&env::hostname())
    );
    wait_for("the logs", Duration::from_secs(20), || {
        let out = t.docker(&["service", "logs", &name]);
        matches(&out.stdout, &format!("(?m)^{prefix}hello\n{prefix}world$"))
            .then_some(())
            .ok_or(out.stdout.clone())
    });
    let followed = t.run_with_host(
        "docker",
        &["service", "logs", "--follow", "--raw", &name],
        Duration::from_secs(3),
    );
    assert!(followed.timed_out, "--follow ended by itself: {followed:?}");
    assert_eq!(followed.stdout, "hello\nworld\n");
}

#[test]
fn a_published_port_answers_from_every_replica() {
    let Some(t) = with_images(Target::swarm) else {
        return;
    };
    let name = t.unique("pub");
    let port = t.port();
    create(
        &t,
        &[
            "--name",
            &name,
            "--replicas",
            "3",
            "-p",
            &format!("{port}:8000"),
            WEB,
            "sh",
            "-c",
            "hostname > /www/index.html; exec httpd -f -p 8000 -h /www",
        ],
    );
    wait_running(&t, &name, 3);
    let mut seen = std::collections::BTreeSet::new();
    wait_for(
        "answers from three replicas",
        Duration::from_secs(30),
        || {
            for _ in 0..6 {
                let body = http_get(port);
                if !body.is_empty() {
                    seen.insert(body);
                }
            }
            (seen.len() == 3).then_some(()).ok_or(format!("{seen:?}"))
        },
    );
}

#[test]
fn stack_web_reaches_db_by_name_and_rm_leaves_nothing() {
    let Some(t) = with_images(Target::swarm) else {
        return;
    };
    let stack = t.unique("st");
    let file = t.scratch().join("stack.yml");
    std::fs::write(
        &file,
        format!(
            r#"version: "3.8"
services:
  db:
    image: {WEB}
    networks: [backend]
  web:
    image: {BUSYBOX}
    command: ["sh", "-c", "until wget -qO- http://db:8000/; do sleep 0.5; done; sleep 1000"]
    networks: [backend]
networks:
  backend:
    driver: overlay
"#
        ),
    )
    .unwrap();
    t.docker(&["stack", "deploy", "-c", &file.display().to_string(), &stack])
        .ok();
    let web = format!("{stack}_web");
    wait_running(&t, &web, 1);
    wait_for("web to read db's page", Duration::from_secs(40), || {
        let out = t.docker(&["service", "logs", "--raw", &web]);
        out.stdout
            .contains("shoal-test-web")
            .then_some(())
            .ok_or(out.stdout.clone())
    });
    t.docker(&["stack", "rm", &stack]).ok();
    wait_for(
        "no container or network left",
        Duration::from_secs(60),
        || {
            let label = format!("label=com.docker.stack.namespace={stack}");
            let left = t.engine_docker(&["ps", "-a", "--filter", &label, "-q"]);
            let networks = t.engine_docker(&["network", "ls", "--format", "{{.Name}}"]);
            let stray: Vec<&str> = networks
                .lines()
                .into_iter()
                .filter(|n| n.starts_with(&format!("{stack}_")))
                .collect();
            (left.trimmed().is_empty() && stray.is_empty())
                .then_some(())
                .ok_or(format!("containers: {} networks: {stray:?}", left.stdout))
        },
    );
}

#[test]
fn a_spec_shoal_cannot_honour_is_refused_and_nothing_is_stored() {
    let Some(t) = Target::shoal_swarm() else {
        return;
    };
    let name = t.unique("sctp");
    let port = t.port().to_string();
    let out = t.docker(&[
        "service",
        "create",
        "--detach",
        "--no-resolve-image",
        "--name",
        &name,
        "--publish",
        &format!("published={port},target=80,protocol=sctp"),
        BUSYBOX,
    ]);
    out.code(1).stderr_has(
        "shoal does not support SCTP ports in ingress mode (its routing mesh carries TCP and UDP); publish with mode=host",
    );
    t.api("GET", &format!("/services/{name}")).status(404);
    let body = serde_json::json!({
        "Name": name,
        "TaskTemplate": {"ContainerSpec": {"Image": BUSYBOX, "Isolation": "hyperv"}},
    });
    t.api_json("POST", "/services/create", &body).error(
        400,
        "shoal does not support Windows isolation modes (ContainerSpec.Isolation): tasks run on Linux engines",
    );
    assert!(t.get_json("/services").as_array().unwrap().is_empty());
}
