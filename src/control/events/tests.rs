//! In-process tests of the merged stream: a real [`Control`] on a temp data root, and a fake
//! dockerd on a unix socket that answers `/version`, `/info` and `/events` (recording what it
//! was asked).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use futures::StreamExt;
use serde_json::json;
use tokio::sync::broadcast;

use super::query::parse_time;
use super::*;
use crate::clock::{Clock, SharedClock, SystemClock};
use crate::config::{Config, Endpoint};
use crate::store::Command;
use crate::types::event::EventType;
use crate::types::swarm::InitRequest;

const V141: ApiVersion = ApiVersion::new(1, 41);

#[derive(Clone, Default)]
struct FakeState {
    /// The query strings of `/events` requests, in order.
    queries: Arc<Mutex<Vec<String>>>,
    /// Buffered events as (timeNano, line); replayed by `since`/`until` like the engine.
    buffer: Arc<Mutex<Vec<(i64, String)>>>,
    live: Option<broadcast::Sender<String>>,
}

/// A fake dockerd.
struct FakeEngine {
    _dir: tempfile::TempDir,
    socket: std::path::PathBuf,
    state: FakeState,
    server: tokio::task::JoinHandle<()>,
}

impl FakeEngine {
    async fn start() -> FakeEngine {
        let dir = tempfile::tempdir().expect("temp dir");
        let socket = dir.path().join("docker.sock");
        let (live, _) = broadcast::channel(16);
        let state = FakeState {
            live: Some(live),
            ..FakeState::default()
        };
        let router = Router::new()
            .route(
                "/version",
                get(|| async { Json(json!({"ApiVersion": "1.41"})) }),
            )
            .route(
                "/v1.41/info",
                get(|| async { Json(json!({"Name": "testhost", "NCPU": 2, "MemTotal": 1024})) }),
            )
            .route("/v1.41/events", get(fake_events))
            .with_state(state.clone());
        let listener = tokio::net::UnixListener::bind(&socket).expect("bind fake engine");
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        FakeEngine {
            _dir: dir,
            socket,
            state,
            server,
        }
    }

    fn endpoint(&self) -> Endpoint {
        Endpoint::Unix(self.socket.clone())
    }

    fn buffer(&self, time_nano: i64, line: String) {
        self.state.buffer.lock().unwrap().push((time_nano, line));
    }

    fn push_live(&self, line: String) {
        if let Some(live) = &self.state.live {
            let _ = live.send(line);
        }
    }

    fn queries(&self) -> Vec<String> {
        self.state.queries.lock().unwrap().clone()
    }

    /// Stops answering: connections are refused from now on.
    fn stop(&self) {
        self.server.abort();
        let _ = std::fs::remove_file(&self.socket);
    }
}

impl Drop for FakeEngine {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn fake_events(State(state): State<FakeState>, RawQuery(query): RawQuery) -> Body {
    let query = query.unwrap_or_default();
    state.queries.lock().unwrap().push(query.clone());
    let param = |name: &str| {
        form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| parse_time(&v).ok().flatten())
    };
    let (since, until) = (param("since"), param("until"));
    let replay: Vec<String> = state
        .buffer
        .lock()
        .unwrap()
        .iter()
        .filter(|(t, _)| {
            (since.is_some() || until.is_some())
                && since.is_none_or(|s| i128::from(*t) >= s)
                && until.is_none_or(|u| i128::from(*t) <= u)
        })
        .map(|(_, line)| format!("{line}\n"))
        .collect();
    let replay = futures::stream::iter(replay);
    let now = i128::from(SystemClock.now_nanos());
    if until.is_some_and(|u| u < now) {
        return Body::from_stream(replay.map(Ok::<_, std::convert::Infallible>));
    }
    let receiver = state.live.as_ref().map(|live| live.subscribe());
    let live = futures::stream::unfold(receiver, |receiver| async move {
        let mut receiver = receiver?;
        let line = receiver.recv().await.ok()?;
        Some((format!("{line}\n"), Some(receiver)))
    });
    Body::from_stream(replay.chain(live).map(Ok::<_, std::convert::Infallible>))
}

fn container_event(id: &str, time_nano: i64) -> String {
    json!({
        "status": "start", "id": id, "from": "busybox",
        "Type": "container", "Action": "start",
        "Actor": {"ID": id, "Attributes": {"image": "busybox", "name": id}},
        "scope": "local", "time": time_nano / 1_000_000_000, "timeNano": time_nano,
    })
    .to_string()
}

struct Harness {
    _data: tempfile::TempDir,
    engine: FakeEngine,
    control: Arc<Control>,
}

async fn harness() -> Harness {
    let engine = FakeEngine::start().await;
    let data = tempfile::tempdir().expect("temp dir");
    let config = Config {
        hosts: Vec::new(),
        data_root: data.path().to_path_buf(),
        engine: engine.endpoint(),
        exec_root: std::env::temp_dir().join("shoal-exec"),
        log_level: "info".into(),
    };
    let client = Arc::new(EngineClient::new(engine.endpoint()).expect("engine client"));
    let clock: SharedClock = Arc::new(SystemClock);
    let control = Control::start(&config, client, clock)
        .await
        .expect("control starts");
    Harness {
        _data: data,
        engine,
        control,
    }
}

async fn init(control: &Control) -> String {
    let request = InitRequest {
        advertise_addr: "127.0.0.1".into(),
        ..InitRequest::default()
    };
    control.init_swarm(request).await.expect("swarm init")
}

/// Updates this node's labels (a `node update` event).
async fn touch_node(control: &Control) {
    let manager = control.manager().expect("manager");
    let node = manager.store.read().nodes.values().next().cloned();
    let mut node = node.expect("a node").as_ref().clone();
    let version = node.version.index;
    node.spec.labels.insert("a".into(), "b".into());
    node.updated_at = control.timestamp().expect("timestamp");
    manager
        .propose(Command::UpdateNode {
            expected_version: version,
            node: Box::new(node),
        })
        .await
        .expect("node update");
}

fn request(since: Option<&str>, until: Option<&str>, filters: &str) -> EventsRequest {
    EventsRequest::parse(since, until, Filters::parse(filters).expect("filters")).expect("request")
}

async fn next(stream: &mut EventStream) -> Option<EventLine> {
    tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("an event within 10 s")
}

fn describe(line: &EventLine) -> String {
    match line {
        EventLine::Cluster(e) => format!("{} {}", e.r#type.as_str(), e.action),
        EventLine::Engine(l) => {
            let v: serde_json::Value = serde_json::from_slice(&l.json).unwrap_or_default();
            format!("engine {}", v["id"].as_str().unwrap_or("?"))
        }
    }
}

#[tokio::test]
async fn follows_the_manager_across_init_and_leave() {
    let h = harness().await;
    let mut stream = h
        .control
        .events(request(None, None, r#"{"scope":["swarm"]}"#), V141);
    let first = init(&h.control).await;
    let node = next(&mut stream).await.expect("node create");
    let EventLine::Cluster(node) = node else {
        panic!("a cluster event")
    };
    assert_eq!(
        (node.r#type, node.action.as_str()),
        (EventType::Node, "create")
    );
    assert_eq!(node.actor.id, first);
    assert_eq!(node.actor.attributes["name"], "testhost");
    let ingress = next(&mut stream).await.expect("network create");
    assert_eq!(describe(&ingress), "network create");

    touch_node(&h.control).await;
    assert_eq!(describe(&next(&mut stream).await.unwrap()), "node update");

    h.control.leave_swarm(true).await.expect("leave");
    let second = init(&h.control).await;
    assert_ne!(first, second);
    let EventLine::Cluster(node) = next(&mut stream).await.expect("new node") else {
        panic!("a cluster event")
    };
    assert_eq!(node.actor.id, second);
    assert_eq!(
        describe(&next(&mut stream).await.unwrap()),
        "network create"
    );

    // Only swarm events were asked for: dockerd was never bothered.
    assert!(h.engine.queries().is_empty());

    h.control.end_streams();
    assert!(next(&mut stream).await.is_none());
}

#[tokio::test]
async fn bounded_replay_merges_by_time_and_ends() {
    let h = harness().await;
    init(&h.control).await;
    let created = {
        let manager = h.control.manager().unwrap();
        let state = manager.store.read();
        let node = state.nodes.values().next().unwrap();
        i64::try_from(node.created_at.unix_nanos()).unwrap()
    };
    h.engine
        .buffer(created - 1_000, container_event("before", created - 1_000));
    h.engine
        .buffer(created + 1_000, container_event("after", created + 1_000));
    tokio::time::sleep(Duration::from_millis(5)).await;
    touch_node(&h.control).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let until = query::format_time(i128::from(h.control.now()));
    h.engine.buffer(
        h.control.now() + 1,
        container_event("too-late", h.control.now() + 1),
    );
    let since = query::format_time(i128::from(created - 10_000));
    tokio::time::sleep(Duration::from_millis(5)).await;

    let mut stream = h
        .control
        .events(request(Some(&since), Some(&until), "{}"), V141);
    let mut seen = Vec::new();
    while let Some(line) = next(&mut stream).await {
        seen.push(describe(&line));
    }
    assert_eq!(
        seen,
        [
            "engine before",
            "node create",
            "network create",
            "engine after",
            "node update"
        ]
    );
    // One bounded request with the same window; no live request after it.
    let queries = h.engine.queries();
    assert_eq!(queries.len(), 1, "{queries:?}");
    assert_eq!(queries[0], format!("since={since}&until={until}"));
}

#[tokio::test]
async fn live_engine_events_interleave_with_cluster_events() {
    let h = harness().await;
    init(&h.control).await;
    let mut stream = h.control.events(
        request(None, None, r#"{"type":["container","node"]}"#),
        V141,
    );
    // The first poll opens the engine's live stream; give it a moment to connect.
    let waited = tokio::time::timeout(Duration::from_millis(300), stream.next()).await;
    assert!(waited.is_err(), "nothing happened yet");
    h.engine.push_live(container_event("c1", h.control.now()));
    assert_eq!(describe(&next(&mut stream).await.unwrap()), "engine c1");
    touch_node(&h.control).await;
    assert_eq!(describe(&next(&mut stream).await.unwrap()), "node update");
    h.engine.push_live(container_event("c2", h.control.now()));
    assert_eq!(describe(&next(&mut stream).await.unwrap()), "engine c2");

    let queries = h.engine.queries();
    assert_eq!(queries.len(), 1, "{queries:?}");
    assert!(queries[0].starts_with("since="), "{}", queries[0]);
    assert!(queries[0].contains("filters="), "{}", queries[0]);
    assert!(!queries[0].contains("until="), "{}", queries[0]);
}

#[tokio::test]
async fn cluster_events_flow_while_the_engine_is_down() {
    let h = harness().await;
    init(&h.control).await;
    h.engine.stop();
    let mut stream = h.control.events(request(None, None, "{}"), V141);
    let waited = tokio::time::timeout(Duration::from_millis(100), stream.next()).await;
    assert!(waited.is_err(), "nothing happened yet");
    touch_node(&h.control).await;
    assert_eq!(describe(&next(&mut stream).await.unwrap()), "node update");
}

#[tokio::test]
async fn until_ends_a_live_stream() {
    let h = harness().await;
    let until = query::format_time(i128::from(h.control.now()) + 300_000_000);
    let mut stream = h
        .control
        .events(request(None, Some(&until), r#"{"scope":["swarm"]}"#), V141);
    let started = std::time::Instant::now();
    assert!(next(&mut stream).await.is_none());
    assert!(started.elapsed() >= Duration::from_millis(250));
}
