//! Test images, built locally on a dockerd (no registry is reachable): a busybox image made
//! with `docker import` from the host's static busybox, and images built FROM it.
//!
//! Idempotent, and safe when several test binaries or threads ask at once (a file lock, then an
//! "exists already" check). Also installs what the tests need from the system's package
//! managers: busybox-static (apt-get) and the Python Docker SDK (pip).

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use super::cli::{self, Opts};
use super::lock::FileLock;

/// busybox (static) with applet links, `/etc/passwd`, `CMD ["/bin/sh"]`.
pub const BUSYBOX: &str = "shoal-test/busybox:1";
/// `httpd -f -p 8000` serving `/www`, like the reference's `swarmrec/web`.
pub const WEB: &str = "shoal-test/web:1";

const APPLETS: &[&str] = &[
    "sh", "ash", "echo", "cat", "sleep", "ls", "true", "false", "wget", "httpd", "env", "id",
    "hostname", "tty", "ps", "printf", "mkdir", "rm", "test", "date", "nc", "grep", "head", "tail",
    "wc", "uname", "whoami", "stty", "ln", "cp", "mv", "touch", "kill", "pwd",
];

static IN_PROCESS: Mutex<()> = Mutex::new(());

fn docker_on(engine: &str, args: &[&str], stdin: Option<Vec<u8>>) -> cli::Out {
    let opts = Opts {
        env: vec![
            ("DOCKER_HOST".into(), engine.into()),
            ("DOCKER_CLI_HINTS".into(), "false".into()),
        ],
        env_remove: vec![
            "DOCKER_CONTEXT".into(),
            "DOCKER_TLS_VERIFY".into(),
            "DOCKER_CERT_PATH".into(),
            "DOCKER_API_VERSION".into(),
        ],
        stdin,
        timeout: Some(Duration::from_secs(300)),
        ..Opts::default()
    };
    cli::run("docker", args, &opts)
}

fn exists(engine: &str, image: &str) -> bool {
    docker_on(
        engine,
        &["image", "inspect", "--format", "{{.Id}}", image],
        None,
    )
    .code
        == 0
}

/// Makes sure [`BUSYBOX`] and [`WEB`] exist on `engine` (a dockerd, not shoal).
pub fn ensure(engine: &str) {
    let _in_process = IN_PROCESS.lock().unwrap_or_else(|p| p.into_inner());
    if exists(engine, BUSYBOX) && exists(engine, WEB) {
        return;
    }
    let _lock = FileLock::exclusive(&format!("images-{engine}"));
    if !exists(engine, BUSYBOX) {
        import_busybox(engine);
    }
    if !exists(engine, WEB) {
        build_web(engine);
    }
}

/// `/bin/busybox`, installing busybox-static with apt-get when it is missing.
pub fn ensure_busybox() -> std::path::PathBuf {
    let path = Path::new("/bin/busybox");
    if path.exists() {
        return path.to_path_buf();
    }
    let _lock = FileLock::exclusive("apt");
    if !path.exists() {
        let install = || {
            cli::run(
                "apt-get",
                &["install", "-y", "-q", "busybox-static"],
                &Opts {
                    env: vec![("DEBIAN_FRONTEND".into(), "noninteractive".into())],
                    timeout: Some(Duration::from_secs(600)),
                    ..Opts::default()
                },
            )
        };
        if install().code != 0 {
            cli::run(
                "apt-get",
                &["update", "-q"],
                &Opts {
                    timeout: Some(Duration::from_secs(600)),
                    ..Opts::default()
                },
            );
            install().ok();
        }
    }
    assert!(
        path.exists(),
        "apt-get installed busybox-static but /bin/busybox is missing"
    );
    path.to_path_buf()
}

fn import_busybox(engine: &str) {
    let busybox = ensure_busybox();
    let root = tempfile::tempdir().expect("temp dir");
    let r = root.path();
    for d in ["bin", "etc", "tmp", "proc", "sys", "dev", "root", "www"] {
        std::fs::create_dir_all(r.join(d)).expect("mkdir");
    }
    std::fs::copy(&busybox, r.join("bin/busybox")).expect("copy busybox");
    for applet in APPLETS {
        std::os::unix::fs::symlink("busybox", r.join("bin").join(applet)).expect("symlink");
    }
    std::fs::write(
        r.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
    )
    .expect("passwd");
    std::fs::write(r.join("etc/group"), "root:x:0:\nnobody:x:65534:\n").expect("group");
    std::fs::write(r.join("www/index.html"), "shoal-test-web\n").expect("index");
    // The tar stream is binary: capture raw bytes, not text.
    let bytes = std::process::Command::new("tar")
        .args(["-C", &r.display().to_string(), "-c", "."])
        .output()
        .expect("run tar");
    assert!(bytes.status.success(), "tar failed: {:?}", bytes);
    docker_on(
        engine,
        &[
            "import",
            "-c",
            "ENV PATH=/bin",
            "-c",
            r#"CMD ["/bin/sh"]"#,
            "-",
            BUSYBOX,
        ],
        Some(bytes.stdout),
    )
    .ok();
}

fn build_web(engine: &str) {
    let ctx = tempfile::tempdir().expect("temp dir");
    cli::write_file(ctx.path(), "www/index.html", b"shoal-test-web\n");
    cli::write_file(
        ctx.path(),
        "Dockerfile",
        format!(
            "FROM {BUSYBOX}\nCOPY www /www\nEXPOSE 8000\nCMD [\"httpd\", \"-f\", \"-v\", \"-p\", \"8000\", \"-h\", \"/www\"]\n"
        )
        .as_bytes(),
    );
    docker_on(
        engine,
        &["build", "-t", WEB, &ctx.path().display().to_string()],
        None,
    )
    .ok();
}

/// Makes sure `python3 -c "import docker"` works, installing the SDK from PyPI with pip if not.
pub fn ensure_docker_py() {
    let check = || cli::run("python3", &["-c", "import docker"], &Opts::default()).code == 0;
    if check() {
        return;
    }
    let _lock = FileLock::exclusive("pip");
    if !check() {
        cli::run(
            "python3",
            &["-m", "pip", "install", "-q", "docker"],
            &Opts {
                timeout: Some(Duration::from_secs(600)),
                ..Opts::default()
            },
        )
        .ok();
    }
}
