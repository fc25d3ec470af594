//! Everything that is not swarm passes through to the local dockerd unchanged: containers,
//! images, exec, build, logs, pulls, and their upgraded (hijacked) connections.

mod common;

use std::time::Duration;

use common::images::{self, BUSYBOX};
use common::target::V;
use common::*;

fn setup() -> Option<Target> {
    let t = Target::plain()?;
    images::ensure(t.engine());
    Some(t)
}

#[test]
fn docker_ps_lists_the_engines_containers() {
    let Some(t) = setup() else { return };
    let name = t.unique("ps");
    let id = t
        .engine_docker(&["run", "-d", "--name", &name, BUSYBOX, "sleep", "300"])
        .ok()
        .trimmed()
        .to_string();
    assert_re(&id, "^[0-9a-f]{64}$");
    let filter = format!("name={name}");
    t.docker(&[
        "ps",
        "--filter",
        &filter,
        "--format",
        "{{.Names}}|{{.Image}}|{{.Status}}",
    ])
    .ok()
    .stdout_re(&format!(r"^{}\|{}\|Up .*\n$", esc(&name), esc(BUSYBOX)));
    t.docker(&["ps", "-q", "--no-trunc", "--filter", &filter])
        .ok()
        .stdout_is(&format!("{id}\n"));
    // The table header, as the CLI prints it.
    t.docker(&["ps", "--filter", &filter])
        .ok()
        .stdout_re(r"^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES\n");
    t.docker(&["rm", "-f", &name])
        .ok()
        .stdout_is(&format!("{name}\n"));
    t.docker(&["ps", "-a", "-q", "--filter", &filter])
        .ok()
        .stdout_is("");
}

#[test]
fn docker_run_attaches_and_returns_the_exit_code() {
    let Some(t) = setup() else { return };
    let name = t.unique("run");
    let word = format!("hello-from-{}", t.token());
    t.docker(&["run", "--rm", "--name", &name, BUSYBOX, "echo", &word])
        .ok()
        .stdout_is(&format!("{word}\n"))
        .stderr_is("");
    t.docker(&[
        "run",
        "--rm",
        BUSYBOX,
        "sh",
        "-c",
        "echo to-stderr >&2; exit 3",
    ])
    .code(3)
    .stdout_is("")
    .stderr_is("to-stderr\n");
    // stdin reaches the container (-i, attach with stdin).
    t.docker_stdin(&["run", "--rm", "-i", BUSYBOX, "cat"], b"piped-through\n")
        .ok()
        .stdout_is("piped-through\n");
}

#[test]
fn docker_run_it_gets_a_terminal() {
    let Some(t) = setup() else { return };
    let name = t.unique("tty");
    let cmd =
        format!("docker run --rm -it --name {name} {BUSYBOX} sh -c 'tty; echo tty-ok-$((40+2))'");
    let out = t.run_with_host(
        "script",
        &["-qec", &cmd, "/dev/null"],
        Duration::from_secs(60),
    );
    out.ok()
        .stdout_re(r"/dev/pts/\d+\r?\n")
        .stdout_has("tty-ok-42");
}

#[test]
fn docker_exec_it_gets_a_terminal() {
    let Some(t) = setup() else { return };
    let name = t.unique("exec");
    t.docker(&["run", "-d", "--name", &name, BUSYBOX, "sleep", "300"])
        .ok()
        .stdout_re("^[0-9a-f]{64}\n$");
    let cmd = format!("docker exec -it {name} sh -c 'tty; echo exec-ok-$((40+2))'");
    let out = t.run_with_host(
        "script",
        &["-qec", &cmd, "/dev/null"],
        Duration::from_secs(60),
    );
    out.ok()
        .stdout_re(r"/dev/pts/\d+\r?\n")
        .stdout_has("exec-ok-42");
    // Without a terminal: plain multiplexed output and the exit code.
    t.docker(&["exec", &name, "sh", "-c", "cat /etc/passwd; exit 4"])
        .code(4)
        .stdout_has("root:x:0:0:");
    t.docker(&["rm", "-f", &name]).ok();
}

#[test]
fn docker_logs_follow_streams_until_the_container_exits() {
    let Some(t) = setup() else { return };
    let name = t.unique("logs");
    t.docker(&[
        "run",
        "-d",
        "--name",
        &name,
        BUSYBOX,
        "sh",
        "-c",
        "echo one; echo err-one >&2; sleep 2; echo two",
    ])
    .ok();
    let out = t.docker(&["logs", "-f", &name]);
    out.ok().stdout_is("one\ntwo\n").stderr_is("err-one\n");
    t.docker(&["logs", "--tail", "1", &name])
        .ok()
        .stdout_is("two\n");
    t.docker(&["rm", "-f", &name]).ok();
}

#[test]
fn docker_build_then_run_the_image() {
    let Some(t) = setup() else { return };
    let tag = format!("shoal-test/built-{}:1", t.token());
    let ctx = t.scratch().join("ctx");
    let word = format!("built-{}", t.token());
    cli::write_file(&ctx, "hello.txt", format!("{word}\n").as_bytes());
    cli::write_file(
        &ctx,
        "Dockerfile",
        format!("FROM {BUSYBOX}\nCOPY hello.txt /hello.txt\nCMD [\"cat\", \"/hello.txt\"]\n")
            .as_bytes(),
    );
    let ctx_arg = ctx.display().to_string();
    t.docker(&["build", "-t", &tag, &ctx_arg]).ok();
    t.docker(&["images", "--format", "{{.Repository}}:{{.Tag}}", &tag])
        .ok()
        .stdout_is(&format!("{tag}\n"));
    t.docker(&["run", "--rm", &tag])
        .ok()
        .stdout_is(&format!("{word}\n"));
    t.docker(&["rmi", &tag])
        .ok()
        .stdout_has(&format!("Untagged: {tag}"));
}

#[test]
fn docker_pull_error_comes_through_unchanged() {
    let Some(t) = setup() else { return };
    let image = format!("shoal-test/not-in-any-registry-{}:1", t.token());
    let direct = t.engine_docker(&["pull", &image]);
    let through = t.docker(&["pull", &image]);
    direct.code(1);
    through.code(1);
    assert!(!through.stderr.is_empty(), "no error printed");
    assert_eq!(
        through.stderr, direct.stderr,
        "stderr through the target differs from the engine's"
    );
    assert_eq!(through.stdout, direct.stdout);
}

#[test]
fn docker_images_lists_the_engines_images() {
    let Some(t) = setup() else { return };
    t.docker(&[
        "images",
        "--format",
        "{{.Repository}}:{{.Tag}}",
        "shoal-test/busybox",
    ])
    .ok()
    .stdout_is(&format!("{BUSYBOX}\n"));
    let through = t.docker(&["images", "-q", "--no-trunc", BUSYBOX]);
    let direct = t.engine_docker(&["images", "-q", "--no-trunc", BUSYBOX]);
    through.ok().stdout_re("^sha256:[0-9a-f]{64}\n$");
    assert_eq!(through.stdout, direct.ok().stdout);
    t.docker(&[
        "image",
        "inspect",
        "--format",
        "{{json .Config.Cmd}}",
        BUSYBOX,
    ])
    .ok()
    .stdout_is("[\"/bin/sh\"]\n");
}

#[test]
fn distribution_endpoint_passes_through() {
    let Some(t) = setup() else { return };
    let path = format!("{V}/distribution/{BUSYBOX}/json");
    let through = t.request("GET", &path, &[], None);
    let direct = t.engine_request("GET", &path);
    assert_eq!(through.status, direct.status, "status differs");
    // No registry here: the engine answers 500 with the DNS error in a JSON message.
    through.status(500);
    assert_eq!(through.json(), direct.json(), "body differs");
    let message = through.json()["message"].as_str().unwrap_or("").to_string();
    assert!(
        message.contains("registry-1.docker.io"),
        "unexpected message: {message}"
    );
}

#[test]
fn container_inspect_and_rm_pass_through() {
    let Some(t) = setup() else { return };
    let name = t.unique("inspect");
    t.docker(&[
        "create",
        "--name",
        &name,
        "--label",
        "compat=yes",
        BUSYBOX,
        "true",
    ])
    .ok();
    t.docker(&[
        "inspect",
        "--format",
        "{{.Name}} {{.Config.Labels.compat}} {{.State.Status}}",
        &name,
    ])
    .ok()
    .stdout_is(&format!("/{name} yes created\n"));
    t.docker(&["inspect", "nosuch-container-zz9"])
        .code(1)
        .stderr_has("No such object: nosuch-container-zz9");
    t.docker(&["rm", &name])
        .ok()
        .stdout_is(&format!("{name}\n"));
    let resp = t.api("GET", &format!("/containers/{name}/json"));
    resp.error(404, &format!("No such container: {name}"));
}
