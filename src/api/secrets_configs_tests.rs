//! `/secrets` and `/configs` end to end in one process: the router over a real `Control`
//! (Raft and redb on a temporary data root), a fake dockerd for `swarm init`, and a manual
//! clock. Bodies and statuses are compared with the engine's (reference transcripts).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::api::{self, AppState};
use crate::clock::ManualClock;
use crate::config::{Config, Endpoint};
use crate::control::Control;
use crate::engine::EngineClient;

/// 2026-11-22T03:03:49.502713778Z
const T0: i64 = 1_795_316_629_502_713_778;

/// Answers what `swarm init` asks dockerd: `/version` and `/info`.
async fn fake_engine() -> SocketAddr {
    let app = Router::new()
        .route(
            "/version",
            get(|| async { Json(json!({"ApiVersion": "1.41"})) }),
        )
        .route(
            "/v1.41/info",
            get(|| async { Json(json!({"Name": "vm", "NCPU": 2, "MemTotal": 1 << 30})) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

struct Harness {
    app: Router,
    clock: Arc<ManualClock>,
    control: Arc<Control>,
    _dir: tempfile::TempDir,
}

impl Harness {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let engine = Endpoint::Tcp(fake_engine().await);
        let config = Config {
            hosts: Vec::new(),
            data_root: dir.path().to_path_buf(),
            engine: engine.clone(),
            exec_root: std::env::temp_dir().join("shoal-exec"),
            log_level: "warn".into(),
        };
        let engine = Arc::new(EngineClient::new(engine).unwrap());
        let clock = Arc::new(ManualClock::new(T0));
        let control = Control::start(&config, engine.clone(), clock.clone())
            .await
            .unwrap();
        let app = api::router(AppState {
            control: control.clone(),
            engine,
        });
        Harness {
            app,
            clock,
            control,
            _dir: dir,
        }
    }

    async fn call(&self, method: Method, uri: &str, body: Option<Value>) -> (StatusCode, String) {
        let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .body(body)
            .unwrap();
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    async fn json(&self, method: Method, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
        let (status, text) = self.call(method, uri, body).await;
        let value = serde_json::from_str(&text).unwrap_or(Value::Null);
        (status, value)
    }

    /// Sends a request that must fail; returns its status and message.
    async fn error(&self, method: Method, uri: &str, body: Option<Value>) -> (StatusCode, String) {
        let (status, value) = self.json(method, uri, body).await;
        (
            status,
            value["message"].as_str().unwrap_or_default().to_string(),
        )
    }
}

fn message(status: u16, text: &str) -> (StatusCode, String) {
    (StatusCode::from_u16(status).unwrap(), text.to_string())
}

async fn swarm() -> Harness {
    let h = Harness::start().await;
    let (status, _) = h
        .call(
            Method::POST,
            "/v1.41/swarm/init",
            Some(json!({"AdvertiseAddr": "127.0.0.1"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    h
}

const NOT_A_MANAGER: &str = "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_end_to_end() {
    let h = Harness::start().await;
    // 153: not in a swarm.
    assert_eq!(
        h.error(Method::GET, "/v1.41/secrets", None).await,
        message(503, NOT_A_MANAGER)
    );
    let h = {
        drop(h);
        swarm().await
    };

    // 053: create from stdin.
    let (status, created) = h
        .json(
            Method::POST,
            "/v1.41/secrets/create",
            Some(json!({"Name": "s1", "Labels": {}, "Data": "eAo="})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let s1 = created["ID"].as_str().unwrap().to_string();
    assert_eq!(s1.len(), 25);
    assert_eq!(created, json!({"ID": s1}));
    h.clock.advance(Duration::from_millis(1325));
    let (status, created) = h
        .json(Method::POST, "/v1.41/secrets/create", Some(json!({"Name": "s2", "Labels": {"env": "test"}, "Data": "ZmlsZS1zZWNyZXQtdmFsdWUK"})))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let s2 = created["ID"].as_str().unwrap().to_string();

    // 055/056: list and inspect, never with Data; CreatedAt == UpdatedAt.
    let (status, list) = h.json(Method::GET, "/v1.41/secrets", None).await;
    assert_eq!(status, StatusCode::OK);
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    let mut ids = vec![s1.clone(), s2.clone()];
    ids.sort();
    assert_eq!(
        list.iter()
            .map(|s| s["ID"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ids
    );
    let (status, one) = h.json(Method::GET, "/v1.41/secrets/s1", None).await;
    assert_eq!(status, StatusCode::OK);
    let index = one["Version"]["Index"].as_u64().unwrap();
    assert_eq!(
        one,
        json!({"ID": s1, "Version": {"Index": index}, "CreatedAt": "2026-11-22T03:03:49.502713778Z",
               "UpdatedAt": "2026-11-22T03:03:49.502713778Z", "Spec": {"Name": "s1", "Labels": {}}})
    );
    assert!(list.contains(&one));
    // By ID, by unique ID prefix, by name in another case.
    for input in [s1.clone(), s1[..20].to_string(), "S1".to_string()] {
        let (status, found) = h
            .json(Method::GET, &format!("/v1.41/secrets/{input}"), None)
            .await;
        assert_eq!(
            (status, &found["ID"]),
            (StatusCode::OK, &json!(s1)),
            "{input}"
        );
    }

    // Errors: 094, 109/114 (also across case), invalid specs, unknown filters.
    assert_eq!(
        h.error(Method::GET, "/v1.41/secrets/doesnotexist", None)
            .await,
        message(404, "secret doesnotexist not found")
    );
    for name in ["s1", "S1"] {
        assert_eq!(
            h.error(
                Method::POST,
                "/v1.41/secrets/create",
                Some(json!({"Name": name, "Data": "eA=="}))
            )
            .await,
            message(
                409,
                &format!("rpc error: code = AlreadyExists desc = secret {name} already exists")
            )
        );
    }
    assert_eq!(
        h.error(Method::POST, "/v1.41/secrets/create", Some(json!({"Name": "empty"}))).await,
        message(400, "rpc error: code = InvalidArgument desc = secret data must be larger than 0 and less than 512000 bytes")
    );
    assert_eq!(
        h.error(Method::POST, "/v1.41/secrets/create", Some(json!({"Name": "-x", "Data": "eA=="}))).await,
        message(400, "rpc error: code = InvalidArgument desc = invalid name, only 64 [a-zA-Z0-9-_.] characters allowed, and the start and end character must be [a-zA-Z0-9]")
    );
    assert_eq!(
        h.error(
            Method::GET,
            "/v1.41/secrets?filters=%7B%22bogus%22%3A%5B%22x%22%5D%7D",
            None
        )
        .await,
        message(400, "Invalid filter 'bogus'")
    );

    // 062: the CLI's name filter.
    let (_, found) = h
        .json(
            Method::GET,
            "/v1.41/secrets?filters=%7B%22name%22%3A%7B%22s1%22%3Atrue%2C%22s2%22%3Atrue%7D%7D",
            None,
        )
        .await;
    let names: Vec<&str> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Spec"]["Name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["s1", "s2"]);
    let (_, found) = h
        .json(
            Method::GET,
            "/v1.41/secrets?filters=%7B%22label%22%3A%5B%22env%3Dtest%22%5D%7D",
            None,
        )
        .await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(found[0]["ID"], json!(s2));

    // 136/137/083: label updates.
    let update = |version: &str| format!("/v1.41/secrets/s1/update?version={version}");
    let body = json!({"Name": "s1", "Labels": {"rotated": "no"}});
    assert_eq!(
        h.error(Method::POST, &update(""), Some(body.clone())).await,
        message(400, "invalid secret version")
    );
    assert_eq!(
        h.error(
            Method::POST,
            &update(&(index - 1).to_string()),
            Some(body.clone())
        )
        .await,
        message(
            500,
            "rpc error: code = Unknown desc = update out of sequence"
        )
    );
    let only_labels = message(
        400,
        "rpc error: code = InvalidArgument desc = only updates to Labels are allowed",
    );
    let changed = json!({"Name": "s1", "Labels": {}, "Data": "Y2hhbmdlZA=="});
    assert_eq!(
        h.error(Method::POST, &update(&index.to_string()), Some(changed))
            .await,
        only_labels
    );
    let renamed = json!({"Name": "s9", "Labels": {}});
    assert_eq!(
        h.error(Method::POST, &update(&index.to_string()), Some(renamed))
            .await,
        only_labels
    );
    h.clock.advance(Duration::from_secs(1));
    let same_data = json!({"Name": "s1", "Labels": {"rotated": "no"}, "Data": "eAo="});
    assert_eq!(
        h.call(Method::POST, &update(&index.to_string()), Some(same_data))
            .await,
        (StatusCode::OK, String::new())
    );
    let (_, after) = h
        .json(Method::GET, &format!("/v1.41/secrets/{s1}"), None)
        .await;
    assert!(after["Version"]["Index"].as_u64().unwrap() > index);
    assert_eq!(
        after["Spec"],
        json!({"Name": "s1", "Labels": {"rotated": "no"}})
    );
    assert_eq!(after["CreatedAt"], json!("2026-11-22T03:03:49.502713778Z"));
    assert_eq!(after["UpdatedAt"], json!("2026-11-22T03:03:51.827713778Z"));
    // Lists reuse each secret's JSON (control/rendered.rs); the list made before the update
    // must not be what a list shows after it.
    let (_, list) = h.json(Method::GET, "/v1.41/secrets", None).await;
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["ID"] == json!(s1));
    assert_eq!(listed, Some(&after));
    let next = after["Version"]["Index"].as_u64().unwrap();
    assert_eq!(
        h.call(Method::POST, &update(&next.to_string()), Some(body))
            .await
            .0,
        StatusCode::OK
    );

    // `create` is a name like any other.
    let (status, _) = h
        .json(
            Method::POST,
            "/v1.41/secrets/create",
            Some(json!({"Name": "create", "Data": "eA=="})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, found) = h.json(Method::GET, "/v1.41/secrets/create", None).await;
    assert_eq!(
        (status, &found["Spec"]["Name"]),
        (StatusCode::OK, &json!("create"))
    );
    assert_eq!(
        h.call(Method::DELETE, "/v1.41/secrets/create", None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );

    // 068/095: remove, then it is gone.
    assert_eq!(
        h.call(Method::DELETE, "/v1.41/secrets/s1", None).await,
        (StatusCode::NO_CONTENT, String::new())
    );
    assert_eq!(
        h.error(Method::DELETE, "/v1.41/secrets/s1", None).await,
        message(404, "secret s1 not found")
    );
    assert_eq!(
        h.call(Method::DELETE, &format!("/v1.41/secrets/{s2}"), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        h.call(Method::GET, "/v1.41/secrets", None).await,
        (StatusCode::OK, "[]\n".to_string())
    );

    h.control.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configs_end_to_end() {
    let h = swarm().await;

    // 058/061/059: configs return their Data.
    let (status, created) = h
        .json(
            Method::POST,
            "/v1.41/configs/create",
            Some(
                json!({"Name": "c1", "Labels": {}, "Data": "c2VydmVyIHsKICBsaXN0ZW4gODAwMDsKfQo="}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let c1 = created["ID"].as_str().unwrap().to_string();
    let (status, one) = h.json(Method::GET, "/v1.41/configs/c1", None).await;
    assert_eq!(status, StatusCode::OK);
    let index = one["Version"]["Index"].as_u64().unwrap();
    assert_eq!(
        one,
        json!({"ID": c1, "Version": {"Index": index}, "CreatedAt": "2026-11-22T03:03:49.502713778Z",
               "UpdatedAt": "2026-11-22T03:03:49.502713778Z",
               "Spec": {"Name": "c1", "Labels": {}, "Data": "c2VydmVyIHsKICBsaXN0ZW4gODAwMDsKfQo="}})
    );
    let (_, list) = h.json(Method::GET, "/v1.41/configs", None).await;
    assert_eq!(list, json!([one]));

    // 096, the config-only filter set, templating before API 1.37.
    assert_eq!(
        h.error(Method::GET, "/v1.41/configs/doesnotexist", None)
            .await,
        message(404, "config doesnotexist not found")
    );
    assert_eq!(
        h.error(
            Method::GET,
            "/v1.41/configs?filters=%7B%22names%22%3A%5B%22c1%22%5D%7D",
            None
        )
        .await,
        message(400, "Invalid filter 'names'")
    );
    let templated = json!({"Name": "t1", "Data": "eA==", "Templating": {"Name": "golang"}});
    assert_eq!(
        h.error(
            Method::POST,
            "/v1.36/configs/create",
            Some(templated.clone())
        )
        .await,
        message(
            400,
            "config templating is not supported on the specified API version: 1.36"
        )
    );
    assert_eq!(
        h.call(Method::POST, "/v1.37/configs/create", Some(templated))
            .await
            .0,
        StatusCode::CREATED
    );
    assert_eq!(
        h.error(Method::POST, "/v1.41/configs/create", Some(json!({"Name": "big", "Data": base64_of(1000 * 1024)}))).await,
        message(400, "rpc error: code = InvalidArgument desc = config data must be larger than 0 and less than 1024000 bytes")
    );

    // 083: stack deploy resends the same Data.
    let (status, _) = h
        .call(
            Method::POST,
            &format!("/v1.41/configs/{c1}/update?version={index}"),
            Some(json!({"Name": "c1", "Labels": {"com.docker.stack.namespace": "app"}, "Data": "c2VydmVyIHsKICBsaXN0ZW4gODAwMDsKfQo="})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        h.error(
            Method::POST,
            "/v1.41/configs/c1/update?version=x",
            Some(json!({"Name": "c1"}))
        )
        .await,
        message(400, "invalid config version")
    );
    let (_, found) = h
        .json(Method::GET, "/v1.41/configs?filters=%7B%22label%22%3A%7B%22com.docker.stack.namespace%3Dapp%22%3Atrue%7D%7D", None)
        .await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(
        found[0]["Spec"]["Data"],
        json!("c2VydmVyIHsKICBsaXN0ZW4gODAwMDsKfQo=")
    );

    // 069/097.
    assert_eq!(
        h.call(Method::DELETE, "/v1.41/configs/c1", None).await,
        (StatusCode::NO_CONTENT, String::new())
    );
    assert_eq!(
        h.error(Method::DELETE, "/v1.41/configs/c1", None).await,
        message(404, "config c1 not found")
    );

    h.control.shutdown().await;
}

fn base64_of(len: usize) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(vec![b'x'; len])
}
