//! SDK clients: bollard's models as an independent decoder of every swarm response, and the
//! reference's docker-py session (transcript 142) run against the target.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use bollard::models::{
    ConfigSpec, LocalNodeState, NetworkCreateRequest, NodeSpecRoleEnum, SecretSpec, ServiceSpec,
    ServiceSpecMode, ServiceSpecModeReplicated, TaskSpec, TaskSpecContainerSpec, TaskSpecPlacement,
};
use bollard::query_parameters::{
    InspectServiceOptions, ListConfigsOptions, ListNetworksOptions, ListNodesOptions,
    ListSecretsOptions, ListServicesOptions, ListTasksOptions, UpdateServiceOptions,
};
use common::images::{self, WEB};
use common::*;

fn one_filter(key: &str, value: &str) -> Option<HashMap<String, Vec<String>>> {
    Some(HashMap::from([(key.to_string(), vec![value.to_string()])]))
}

#[test]
fn bollard_decodes_version_info_swarm_and_nodes() {
    let Some(t) = Target::swarm() else { return };
    let docker = t.sdk();
    let version = t.block_on(docker.version()).expect("version");
    assert!(version.api_version.is_some(), "ApiVersion in /version");
    let info = t.block_on(docker.info()).expect("info");
    let swarm = info.swarm.expect("Swarm block");
    assert_eq!(swarm.local_node_state, Some(LocalNodeState::ACTIVE));
    assert_eq!(swarm.control_available, Some(true));
    assert_eq!(swarm.nodes, Some(1));
    assert_eq!(swarm.managers, Some(1));
    let node_id = swarm.node_id.clone().expect("NodeID");
    assert_re(&node_id, &format!("^{SWARM_ID}$"));
    let cluster = swarm.cluster.expect("Cluster");
    let inspected = t.block_on(docker.inspect_swarm()).expect("inspect_swarm");
    assert_eq!(cluster.id, inspected.id);
    let tokens = inspected.join_tokens.expect("JoinTokens");
    assert_re(
        tokens.worker.as_deref().unwrap_or(""),
        &format!("^{JOIN_TOKEN}$"),
    );
    assert_re(
        tokens.manager.as_deref().unwrap_or(""),
        &format!("^{JOIN_TOKEN}$"),
    );
    assert_eq!(
        inspected
            .spec
            .and_then(|s| s.orchestration)
            .and_then(|o| o.task_history_retention_limit),
        Some(5)
    );

    let nodes = t
        .block_on(docker.list_nodes(Some(ListNodesOptions {
            filters: one_filter("role", "manager"),
        })))
        .expect("list_nodes");
    assert_eq!(nodes.len(), 1);
    let node = &nodes[0];
    assert_eq!(node.id.as_deref(), Some(node_id.as_str()));
    assert_eq!(
        node.spec.as_ref().and_then(|s| s.role),
        Some(NodeSpecRoleEnum::MANAGER)
    );
    let status = node.manager_status.as_ref().expect("ManagerStatus");
    assert_eq!(status.leader, Some(true));
    assert_eq!(
        node.description
            .as_ref()
            .and_then(|d| d.hostname.clone())
            .as_deref(),
        Some(env::hostname().as_str())
    );
}

#[test]
fn bollard_service_lifecycle() {
    let Some(t) = Target::swarm() else { return };
    let docker = t.sdk();
    let name = t.unique("bollard");
    let spec = ServiceSpec {
        name: Some(name.clone()),
        labels: Some(HashMap::from([("created-by".into(), "bollard".into())])),
        mode: Some(ServiceSpecMode {
            replicated: Some(ServiceSpecModeReplicated { replicas: Some(0) }),
            ..Default::default()
        }),
        task_template: Some(TaskSpec {
            container_spec: Some(TaskSpecContainerSpec {
                image: Some(WEB.into()),
                ..Default::default()
            }),
            placement: Some(TaskSpecPlacement {
                constraints: Some(vec![NEVER.into()]),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let created = t
        .block_on(docker.create_service(spec, None))
        .expect("create_service");
    let id = created.id.expect("ID");
    assert_re(&id, &format!("^{SWARM_ID}$"));

    let service = t
        .block_on(docker.inspect_service(
            &name,
            Some(InspectServiceOptions {
                insert_defaults: true,
            }),
        ))
        .expect("inspect_service");
    assert_eq!(service.id.as_deref(), Some(id.as_str()));
    let spec = service.spec.clone().expect("Spec");
    let update = spec
        .update_config
        .clone()
        .expect("UpdateConfig with insertDefaults");
    assert_eq!(update.parallelism, Some(1));
    assert_eq!(update.monitor, Some(5_000_000_000));
    assert_eq!(
        spec.mode
            .as_ref()
            .and_then(|m| m.replicated.as_ref())
            .and_then(|r| r.replicas),
        Some(0)
    );

    let listed = t
        .block_on(docker.list_services(Some(ListServicesOptions {
            filters: one_filter("label", "created-by=bollard"),
            status: Some(true),
        })))
        .expect("list_services");
    let mine: Vec<_> = listed
        .iter()
        .filter(|s| s.id.as_deref() == Some(id.as_str()))
        .collect();
    assert_eq!(mine.len(), 1);
    let status = mine[0]
        .service_status
        .clone()
        .expect("ServiceStatus with status=true");
    assert_eq!(status.desired_tasks, Some(0));

    let tasks = t
        .block_on(docker.list_tasks(Some(ListTasksOptions {
            filters: one_filter("service", &id),
        })))
        .expect("list_tasks");
    assert!(tasks.is_empty(), "replicas 0: no tasks");

    // Scale to 2 (the tasks stay pending: no node satisfies the constraint).
    let current = t
        .block_on(docker.inspect_service(&id, None))
        .expect("inspect_service");
    let version = current
        .version
        .and_then(|v| v.index)
        .expect("Version.Index");
    let mut new_spec = current.spec.expect("Spec");
    new_spec.mode = Some(ServiceSpecMode {
        replicated: Some(ServiceSpecModeReplicated { replicas: Some(2) }),
        ..Default::default()
    });
    t.block_on(docker.update_service(
        &id,
        new_spec,
        UpdateServiceOptions {
            version: version as i32,
            ..Default::default()
        },
        None,
    ))
    .expect("update_service");
    let after = t
        .block_on(docker.inspect_service(&id, None))
        .expect("inspect_service");
    assert_eq!(
        after
            .spec
            .and_then(|s| s.mode)
            .and_then(|m| m.replicated)
            .and_then(|r| r.replicas),
        Some(2)
    );
    t.block_on(docker.delete_service(&id))
        .expect("delete_service");
    let gone = t.block_on(docker.inspect_service(&id, None));
    match gone {
        Err(bollard::errors::Error::DockerResponseServerError { status_code, .. }) => {
            assert_eq!(status_code, 404)
        }
        other => panic!("expected a 404 after delete, got {other:?}"),
    }
}

#[test]
fn bollard_secrets_configs_and_networks() {
    let Some(t) = Target::swarm() else { return };
    let docker = t.sdk();
    let secret_name = t.unique("bsecret");
    let secret = t
        .block_on(docker.create_secret(SecretSpec {
            name: Some(secret_name.clone()),
            data: Some("c2RrLWRhdGE=".into()),
            labels: Some(HashMap::from([("k".into(), "v".into())])),
            ..Default::default()
        }))
        .expect("create_secret");
    let listed = t
        .block_on(docker.list_secrets(Some(ListSecretsOptions {
            filters: one_filter("name", &secret_name),
        })))
        .expect("list_secrets");
    assert_eq!(listed.len(), 1);
    let inspected = t
        .block_on(docker.inspect_secret(&secret.id))
        .expect("inspect_secret");
    let spec = inspected.spec.expect("Spec");
    assert_eq!(spec.name.as_deref(), Some(secret_name.as_str()));
    assert_eq!(spec.data, None, "secret data is never returned");
    t.block_on(docker.delete_secret(&secret.id))
        .expect("delete_secret");

    let config_name = t.unique("bconfig");
    let config = t
        .block_on(docker.create_config(ConfigSpec {
            name: Some(config_name.clone()),
            data: Some("a2V5PXZhbHVl".into()),
            ..Default::default()
        }))
        .expect("create_config");
    let listed = t
        .block_on(docker.list_configs(Some(ListConfigsOptions {
            filters: one_filter("name", &config_name),
        })))
        .expect("list_configs");
    assert_eq!(listed.len(), 1);
    let inspected = t
        .block_on(docker.inspect_config(&config.id))
        .expect("inspect_config");
    assert_eq!(
        inspected.spec.and_then(|s| s.data).as_deref(),
        Some("a2V5PXZhbHVl")
    );
    t.block_on(docker.delete_config(&config.id))
        .expect("delete_config");

    let net_name = t.unique("bnet");
    let created = t
        .block_on(docker.create_network(NetworkCreateRequest {
            name: net_name.clone(),
            driver: Some("overlay".into()),
            attachable: Some(true),
            ..Default::default()
        }))
        .expect("create_network");
    assert_re(&created.id, &format!("^{SWARM_ID}$"));
    let listed = t
        .block_on(docker.list_networks(Some(ListNetworksOptions {
            filters: one_filter("scope", "swarm"),
        })))
        .expect("list_networks");
    assert!(listed
        .iter()
        .any(|n| n.name.as_deref() == Some(net_name.as_str())));
    assert!(listed.iter().all(|n| n.scope.as_deref() == Some("swarm")));
    t.block_on(docker.remove_network(&net_name))
        .expect("remove_network");
}

#[test]
fn docker_py_session() {
    let Some(t) = Target::swarm() else { return };
    images::ensure_docker_py();
    let svc = t.unique("sdkweb");
    let secret = t.unique("sdksecret");
    let created_by = format!("docker-py-{}", t.token());
    let script = fixture("sdk/sdk_session.py").display().to_string();
    let opts = cli::Opts {
        env: vec![
            ("DOCKER_HOST".into(), t.host()),
            ("SVC_NAME".into(), svc.clone()),
            ("SECRET_NAME".into(), secret.clone()),
            ("CREATED_BY".into(), created_by),
        ],
        env_remove: vec!["DOCKER_TLS_VERIFY".into(), "DOCKER_CERT_PATH".into()],
        timeout: Some(Duration::from_secs(120)),
        ..cli::Opts::default()
    };
    let out = cli::run("python3", &[&script], &opts);
    out.ok();
    let api = t.request("GET", "/version", &[], None).json()["ApiVersion"]
        .as_str()
        .unwrap_or("?")
        .to_string();
    let swarm_id = t.get_json("/swarm")["ID"]
        .as_str()
        .unwrap_or("?")
        .to_string();
    let lines = out.lines();
    assert_eq!(lines.len(), 9, "{}", out.stdout);
    assert_eq!(lines[0], format!("api version in use: {api}"));
    assert_eq!(lines[1], format!("swarm attrs ID: {swarm_id}"));
    assert_eq!(lines[2], format!("nodes: ['{}']", env::hostname()));
    assert_re(lines[3], &format!("^service id: {SWARM_ID}$"));
    assert_eq!(lines[4], "tasks: []");
    assert_eq!(lines[5], "replicas: 2");
    assert_eq!(lines[6], format!("services: ['{svc}']"));
    assert_re(lines[7], &format!("^secret: {SWARM_ID} {}$", esc(&secret)));
    assert_eq!(lines[8], "done");
    t.api("GET", &format!("/services/{svc}"))
        .error(404, &format!("service {svc} not found"));
    t.api("GET", &format!("/secrets/{secret}"))
        .error(404, &format!("secret {secret} not found"));
}
