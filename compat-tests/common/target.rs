//! The thing under test: a fresh shoal per test (default), or a shared real engine in swarm
//! mode (`COMPAT_TARGET=unix:///run/docker-perf.sock`), so the same scenario validates its own
//! expectations against the real engine.
//!
//! Against a real engine the swarm is shared by every test, so:
//! - every name a test creates carries its [`Target::token`] and is removed when the test ends;
//! - tests that only create and remove their own objects hold a shared lock
//!   ([`Target::swarm`]); tests that change cluster-wide state (swarm settings, tokens, node
//!   spec, leave/init) hold it exclusively ([`Target::swarm_exclusive`], [`Target::no_swarm`])
//!   and, when they end, reset the engine with `swarm leave --force` + `swarm init`;
//! - tests that need shoal itself (kill -9, restart) skip.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use super::api::{self, Resp};
use super::cli::{self, Opts, Out};
use super::env;
use super::lock::FileLock;
use super::shoal::Shoal;

/// The API version raw requests use: what the reference recorded, and served by both shoal
/// and the 1.41 engine.
pub const V: &str = "/v1.41";

static OWN_POOLS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Every shoal swarm this test binary starts gets an address pool of its own (for tests that
/// run tasks on networks at the same time).
pub fn use_own_address_pools() {
    OWN_POOLS.store(true, std::sync::atomic::Ordering::Relaxed);
}

enum Backend {
    Shoal(Box<Shoal>),
    Real(String),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    /// Whatever state the target is in; changes nothing cluster-wide (shared).
    Any,
    /// Manager of an active swarm; changes only its own objects (shared).
    Swarm,
    /// Manager of an active swarm; changes cluster-wide state (exclusive, reset afterwards).
    SwarmExclusive,
    /// Not in a swarm (exclusive, reset afterwards).
    NoSwarm,
}

pub struct Target {
    backend: Backend,
    rt: tokio::runtime::Runtime,
    token: String,
    scratch: tempfile::TempDir,
    engine: String,
    swarm_port: u16,
    want: Want,
    // Dropped last: the lock outlives the cleanup.
    _lock: Option<FileLock>,
}

impl Target {
    /// A manager of an active single-node swarm.
    pub fn swarm() -> Option<Target> {
        Self::open(Want::Swarm, false)
    }

    /// A manager of an active swarm, for tests that change cluster-wide state (swarm update,
    /// token rotation, node update, leave). Exclusive on a shared real engine.
    pub fn swarm_exclusive() -> Option<Target> {
        Self::open(Want::SwarmExclusive, false)
    }

    /// A node that is not part of a swarm.
    pub fn no_swarm() -> Option<Target> {
        Self::open(Want::NoSwarm, false)
    }

    /// Any state, nothing cluster-wide is changed (passthrough, version checks). A fresh
    /// shoal is not in a swarm.
    pub fn plain() -> Option<Target> {
        Self::open(Want::Any, false)
    }

    /// shoal only (kill -9, restart, shoal-specific behaviour): skipped against a real engine.
    pub fn shoal_swarm() -> Option<Target> {
        Self::open(Want::Swarm, true)
    }

    /// shoal only, not in a swarm.
    pub fn shoal_plain() -> Option<Target> {
        Self::open(Want::Any, true)
    }

    fn open(want: Want, shoal_only: bool) -> Option<Target> {
        if !env::docker_cli_present() {
            env::skip_or_fail("the docker CLI is not on PATH");
            return None;
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let scratch = tempfile::Builder::new()
            .prefix("shoal-compat-t-")
            .tempdir()
            .expect("temp dir");
        std::fs::create_dir_all(scratch.path().join("docker-config")).expect("config dir");
        let token = env::token(6);
        let target = match env::compat_target() {
            Some(host) => {
                if shoal_only {
                    env::skip(&format!(
                        "needs shoal itself; COMPAT_TARGET={host} is a real engine"
                    ));
                    return None;
                }
                let lock = match want {
                    Want::Any | Want::Swarm => FileLock::shared(&format!("target-{host}")),
                    Want::SwarmExclusive | Want::NoSwarm => {
                        FileLock::exclusive(&format!("target-{host}"))
                    }
                };
                if env::ping(&host) != Some(200) {
                    env::skip_or_fail(&format!("COMPAT_TARGET {host} does not answer /_ping"));
                    return None;
                }
                Target {
                    backend: Backend::Real(host.clone()),
                    rt,
                    token,
                    scratch,
                    engine: host,
                    swarm_port: 2377,
                    want,
                    _lock: Some(lock),
                }
            }
            None => {
                let engine = env::engine();
                if env::ping(&engine) != Some(200) {
                    env::skip_or_fail(&format!("dockerd at {engine} does not answer /_ping"));
                    return None;
                }
                // shoal is the swarm; the dockerd beside it must not be one.
                if engine_swarm_state(&engine) == "active" {
                    panic!(
                        "the dockerd at {engine} is in swarm mode; shoal's tests need it out of \
                         swarm mode (DOCKER_HOST={engine} docker swarm leave --force)"
                    );
                }
                Target {
                    backend: Backend::Shoal(Box::new(Shoal::start(&engine))),
                    rt,
                    token,
                    scratch,
                    engine,
                    swarm_port: env::free_port(),
                    want,
                    _lock: None,
                }
            }
        };
        match want {
            Want::Any => {}
            Want::Swarm | Want::SwarmExclusive => target.ensure_swarm(),
            Want::NoSwarm => target.ensure_no_swarm(),
        }
        Some(target)
    }

    /// The arguments every test uses for `docker swarm init`.
    pub fn init_args(&self) -> Vec<String> {
        vec![
            "--advertise-addr".into(),
            "127.0.0.1".into(),
            "--listen-addr".into(),
            format!("127.0.0.1:{}", self.swarm_port),
        ]
    }

    /// `127.0.0.1:<port>`: the manager address `swarm init` was given.
    pub fn manager_addr(&self) -> String {
        format!("127.0.0.1:{}", self.swarm_port)
    }

    /// `Swarm.LocalNodeState` from `/info`.
    pub fn local_node_state(&self) -> String {
        let info = self.get_json("/info");
        info["Swarm"]["LocalNodeState"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Setup: make this node a manager. Uses the API call the CLI makes (`POST /swarm/init`
    /// with the CLI's body), not the CLI itself, so that a test of secrets does not depend on
    /// everything `docker swarm init` reads afterwards; swarm.rs tests the CLI command.
    pub fn ensure_swarm(&self) {
        if self.local_node_state() == "active" {
            return;
        }
        let body = serde_json::json!({
            "ListenAddr": self.manager_addr(),
            "AdvertiseAddr": "127.0.0.1",
            "DataPathAddr": "",
            "DataPathPort": 0,
            "ForceNewCluster": false,
            "Spec": {
                "Labels": null, "Orchestration": {}, "Raft": {"ElectionTick": 0, "HeartbeatTick": 0},
                "Dispatcher": {}, "CAConfig": {}, "TaskDefaults": {},
                "EncryptionConfig": {"AutoLockManagers": false}
            },
            "AutoLockManagers": false,
            "Availability": "",
            "DefaultAddrPool": self.address_pool(),
            "SubnetSize": 24
        });
        let resp = self.api_json("POST", "/swarm/init", &body);
        self.assert_engine_not_in_swarm();
        // Another test may have initialised a shared engine meanwhile.
        if resp.status != 200 && !resp.text().contains("already part of a swarm") {
            resp.fail("setup: POST /swarm/init failed");
        }
    }

    /// With [`use_own_address_pools`], a default address pool of its own for each shoal swarm:
    /// the shoals of tests running at once create their swarm networks (ingress included) as
    /// bridges on the one local dockerd, whose subnets must not overlap. A real engine, and
    /// tests that check the engine's defaults, keep the default pool.
    fn address_pool(&self) -> Vec<String> {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        if !self.is_shoal() || !OWN_POOLS.load(Ordering::Relaxed) {
            return Vec::new();
        }
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let octet = 20 + (std::process::id() * 17 + n) % 230;
        vec![format!("10.{octet}.0.0/16")]
    }

    /// `docker swarm init <init_args> <extra>`.
    pub fn swarm_init(&self, extra: &[&str]) -> Out {
        let init = self.init_args();
        let mut args = vec!["swarm", "init"];
        args.extend(init.iter().map(String::as_str));
        args.extend_from_slice(extra);
        let out = self.docker(&args);
        self.assert_engine_not_in_swarm();
        out
    }

    /// For shoal: a swarm request must never reach the dockerd behind it. If one did (the
    /// dockerd is now in swarm mode), undo it and fail.
    #[track_caller]
    pub fn assert_engine_not_in_swarm(&self) {
        if !self.is_shoal() || engine_swarm_state(&self.engine) != "active" {
            return;
        }
        let _ = self.engine_docker(&["swarm", "leave", "--force"]);
        let _ = self.engine_docker(&["network", "rm", "docker_gwbridge"]);
        panic!(
            "a swarm request went through shoal to the dockerd at {} (it was in swarm mode; \
             made it leave again)",
            self.engine
        );
    }

    fn ensure_no_swarm(&self) {
        if self.local_node_state() != "inactive" {
            self.docker(&["swarm", "leave", "--force"]).ok();
        }
    }

    /// Whether this target is shoal (not a real engine).
    pub fn is_shoal(&self) -> bool {
        matches!(self.backend, Backend::Shoal(_))
    }

    /// The shoal process (kill -9, restart). Panics against a real engine.
    pub fn shoal(&mut self) -> &mut Shoal {
        match &mut self.backend {
            Backend::Shoal(s) => s,
            Backend::Real(_) => panic!("not a shoal target"),
        }
    }

    /// `DOCKER_HOST` for the target.
    pub fn host(&self) -> String {
        match &self.backend {
            Backend::Shoal(s) => s.host(),
            Backend::Real(h) => h.clone(),
        }
    }

    /// The dockerd behind the target (the target itself when it is a real engine).
    pub fn engine(&self) -> &str {
        &self.engine
    }

    /// Random per-test token carried by every name the test creates.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// `<base>-<token>`: a name nobody else uses.
    pub fn unique(&self, base: &str) -> String {
        format!("{base}-{}", self.token)
    }

    /// A published port unlikely to collide with other tests on a shared engine.
    pub fn port(&self) -> u16 {
        use rand::Rng;
        rand::thread_rng().gen_range(20000..29999)
    }

    /// A per-test scratch directory.
    pub fn scratch(&self) -> &Path {
        self.scratch.path()
    }

    fn docker_opts(&self, host: &str) -> Opts {
        Opts {
            env: vec![
                ("DOCKER_HOST".into(), host.into()),
                (
                    "DOCKER_CONFIG".into(),
                    self.scratch
                        .path()
                        .join("docker-config")
                        .display()
                        .to_string(),
                ),
                ("DOCKER_CLI_HINTS".into(), "false".into()),
            ],
            env_remove: vec![
                "DOCKER_CONTEXT".into(),
                "DOCKER_TLS_VERIFY".into(),
                "DOCKER_CERT_PATH".into(),
                "DOCKER_API_VERSION".into(),
                "DOCKER_DEFAULT_PLATFORM".into(),
            ],
            ..Opts::default()
        }
    }

    /// Runs the docker CLI against the target.
    pub fn docker(&self, args: &[&str]) -> Out {
        cli::run("docker", args, &self.docker_opts(&self.host()))
    }

    /// Runs the docker CLI against the target with stdin.
    pub fn docker_stdin(&self, args: &[&str], stdin: &[u8]) -> Out {
        let mut opts = self.docker_opts(&self.host());
        opts.stdin = Some(stdin.to_vec());
        cli::run("docker", args, &opts)
    }

    /// Runs the docker CLI against the target in `cwd`, with extra environment.
    pub fn docker_in(&self, cwd: &Path, env: &[(&str, &str)], args: &[&str]) -> Out {
        let mut opts = self.docker_opts(&self.host());
        opts.cwd = Some(cwd.to_path_buf());
        opts.env
            .extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        cli::run("docker", args, &opts)
    }

    /// Runs the docker CLI against the dockerd behind the target, not through it.
    pub fn engine_docker(&self, args: &[&str]) -> Out {
        cli::run("docker", args, &self.docker_opts(&self.engine))
    }

    /// Runs any program with `DOCKER_HOST` (and the CLI config) set for the target.
    pub fn run_with_host(&self, program: &str, args: &[&str], timeout: Duration) -> Out {
        let mut opts = self.docker_opts(&self.host());
        opts.timeout = Some(timeout);
        cli::run(program, args, &opts)
    }

    /// Runs a future on this test's runtime.
    pub fn block_on<F: Future>(&self, fut: F) -> F::Output {
        self.rt.block_on(fut)
    }

    /// A raw request to the target. `path` is sent as is (add [`V`] for a versioned path).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Resp {
        let host = self.host();
        self.rt.block_on(api::send(
            &host,
            method,
            path,
            headers,
            body.map(|b| b.to_vec()),
        ))
    }

    /// A raw request to the dockerd behind the target.
    pub fn engine_request(&self, method: &str, path: &str) -> Resp {
        let host = self.engine.clone();
        self.rt.block_on(api::send(&host, method, path, &[], None))
    }

    /// `METHOD /v1.41<path>` without a body.
    pub fn api(&self, method: &str, path: &str) -> Resp {
        self.request(method, &format!("{V}{path}"), &[], None)
    }

    /// `METHOD /v1.41<path>` with a JSON body.
    pub fn api_json(&self, method: &str, path: &str, body: &Value) -> Resp {
        let bytes = serde_json::to_vec(body).expect("encode");
        self.request(
            method,
            &format!("{V}{path}"),
            &[("Content-Type", "application/json")],
            Some(&bytes),
        )
    }

    /// `GET /v1.41<path>`, asserting 200, as JSON.
    #[track_caller]
    pub fn get_json(&self, path: &str) -> Value {
        let resp = self.api("GET", path);
        resp.status(200);
        resp.json()
    }

    /// A bollard client for the target, version negotiated.
    pub fn sdk(&self) -> bollard::Docker {
        let host = self.host();
        self.rt.block_on(async move {
            let docker = if let Some(path) = host.strip_prefix("unix://") {
                bollard::Docker::connect_with_unix(path, 60, bollard::API_DEFAULT_VERSION)
            } else {
                bollard::Docker::connect_with_http(&host, 60, bollard::API_DEFAULT_VERSION)
            }
            .expect("bollard client");
            docker.negotiate_version().await.expect("negotiate version")
        })
    }

    /// This node's ID (from `/info`).
    pub fn node_id(&self) -> String {
        let info = self.get_json("/info");
        let id = info["Swarm"]["NodeID"].as_str().unwrap_or_default();
        assert!(!id.is_empty(), "no Swarm.NodeID in /info: {info}");
        id.to_string()
    }

    /// The version the target announces in `API-Version`.
    pub fn api_version(&self) -> String {
        let resp = self.request("GET", "/_ping", &[], None);
        resp.header("api-version")
            .unwrap_or_else(|| resp.fail("no API-Version header on /_ping"))
    }

    /// Path of a stack fixture directory (`compat-tests/fixtures/stacks`).
    pub fn stacks_dir(&self) -> PathBuf {
        super::fixture("stacks")
    }

    /// Removes every object whose name carries this test's token: swarm services, secrets,
    /// configs and networks (real engines: they are shared), and containers and images on
    /// the dockerd behind the target. Never panics.
    fn cleanup(&self) {
        let token = self.token.clone();
        let host = self.host();
        let engine = self.engine.clone();
        let swarm_shared = !self.is_shoal();
        let work = async move {
            let named = |v: &Value, key: &str| -> Option<(String, String)> {
                let name = v
                    .pointer(key)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let id = v
                    .get("ID")
                    .or_else(|| v.get("Id"))
                    .and_then(Value::as_str)?
                    .to_string();
                name.contains(&token).then_some((id, name))
            };
            let list = |host: String, path: String| async move {
                let r = api::try_send(&host, "GET", &path).await;
                r.and_then(|r| serde_json::from_slice::<Vec<Value>>(&r.body).ok())
                    .unwrap_or_default()
            };
            if swarm_shared {
                for (kind, key) in [
                    ("services", "/Spec/Name"),
                    ("secrets", "/Spec/Name"),
                    ("configs", "/Spec/Name"),
                    ("networks", "/Name"),
                ] {
                    for item in list(host.clone(), format!("{V}/{kind}")).await {
                        if let Some((id, _)) = named(&item, key) {
                            let _ =
                                api::try_send(&host, "DELETE", &format!("{V}/{kind}/{id}")).await;
                        }
                    }
                }
            }
            for c in list(engine.clone(), format!("{V}/containers/json?all=1")).await {
                let hit = c.to_string().contains(&token);
                if let (true, Some(id)) = (hit, c.get("Id").and_then(Value::as_str)) {
                    let _ = api::try_send(
                        &engine,
                        "DELETE",
                        &format!("{V}/containers/{id}?force=1&v=1"),
                    )
                    .await;
                }
            }
            for img in list(engine.clone(), format!("{V}/images/json")).await {
                let tags: Vec<String> = img
                    .get("RepoTags")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|t| t.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                for tag in tags.iter().filter(|t| t.contains(&token)) {
                    let _ = api::try_send(&engine, "DELETE", &format!("{V}/images/{tag}?force=1"))
                        .await;
                }
            }
        };
        let _ = self
            .rt
            .block_on(async { tokio::time::timeout(Duration::from_secs(30), work).await });
    }

    /// This node's ID if it is in a swarm.
    fn current_node_id(&self) -> Option<String> {
        let info = self.block_on(api::try_send(&self.host(), "GET", &format!("{V}/info")))?;
        let info: Value = serde_json::from_slice(&info.body).ok()?;
        info["Swarm"]["NodeID"]
            .as_str()
            .filter(|id| !id.is_empty())
            .map(String::from)
    }

    /// The task containers and engine networks a killed shoal left on the engine.
    fn remove_task_leftovers(&self, node: &str) {
        let engine = self.engine.clone();
        let node_id = node.to_string();
        let work = async move {
            let query = |label: String| {
                let filters = serde_json::json!({ "label": [label] }).to_string();
                form_urlencoded::byte_serialize(filters.as_bytes()).collect::<String>()
            };
            let list = |path: String| {
                let engine = engine.clone();
                async move {
                    api::try_send(&engine, "GET", &path)
                        .await
                        .and_then(|r| serde_json::from_slice::<Vec<Value>>(&r.body).ok())
                        .unwrap_or_default()
                }
            };
            let containers = format!(
                "{V}/containers/json?all=1&filters={}",
                query(format!("com.docker.swarm.node.id={node_id}"))
            );
            // Twice: a create shoal sent just before it was killed may finish meanwhile.
            for pass in 0..2 {
                if pass == 1 {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                for c in list(containers.clone()).await {
                    if let Some(id) = c["Id"].as_str() {
                        let path = format!("{V}/containers/{id}?force=1&v=1");
                        let _ = api::try_send(&engine, "DELETE", &path).await;
                    }
                }
            }
            let networks = format!(
                "{V}/networks?filters={}",
                query(format!("io.shoal.node.id={node_id}"))
            );
            for n in list(networks).await {
                if let Some(id) = n["Id"].as_str() {
                    let _ = api::try_send(&engine, "DELETE", &format!("{V}/networks/{id}")).await;
                }
            }
        };
        let _ = self
            .rt
            .block_on(async { tokio::time::timeout(Duration::from_secs(60), work).await });
        let _ = std::fs::remove_dir_all(format!("/dev/shm/shoal/{node}"));
    }

    /// After an exclusive test on a shared real engine: leave and init again, so the next test
    /// starts from default settings.
    fn reset_real_engine(&self) {
        let _ = self.docker(&["swarm", "leave", "--force"]);
        let mut args = vec!["swarm".to_string(), "init".to_string()];
        args.extend(self.init_args());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = self.docker(&args);
        if out.code != 0 {
            env::announce(&format!(
                "WARNING: could not re-init the swarm on {}:\n{}\n{}",
                self.host(),
                out.stdout,
                out.stderr
            ));
        }
    }
}

/// `Swarm.LocalNodeState` of a dockerd, or "" when it cannot be read.
fn engine_swarm_state(engine: &str) -> String {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(_) => return String::new(),
    };
    rt.block_on(api::try_send(engine, "GET", &format!("{V}/info")))
        .and_then(|r| serde_json::from_slice::<Value>(&r.body).ok())
        .and_then(|v| v["Swarm"]["LocalNodeState"].as_str().map(String::from))
        .unwrap_or_default()
}

impl Drop for Target {
    fn drop(&mut self) {
        // Stop shoal first, so that nothing restarts the tasks being removed.
        let node = self.is_shoal().then(|| self.current_node_id()).flatten();
        if let Backend::Shoal(shoal) = &mut self.backend {
            shoal.kill9();
        }
        if let Some(node) = node {
            self.remove_task_leftovers(&node);
        }
        self.cleanup();
        if !self.is_shoal() && matches!(self.want, Want::SwarmExclusive | Want::NoSwarm) {
            self.reset_real_engine();
        }
    }
}
