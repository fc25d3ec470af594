//! A task's container as the engine's create request: the whole `ContainerSpec` (templates
//! expanded), the task's resources, log driver, host-mode ports, networks, and the files of its
//! secrets and configs. Pure; the task runner sends the result.

use std::collections::HashMap;
use std::path::PathBuf;

use bollard::models::{
    ContainerCreateBody, EndpointIpamConfig, EndpointSettings, HealthConfig, HostConfig,
    HostConfigLogConfig, Mount, MountBindOptions, MountType, NetworkingConfig, PortBinding,
    ResourcesUlimits,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::networks::engine_network_name;
use super::template::TemplateContext;
use crate::types::container_spec::{ContainerSpec, SeccompMode};
use crate::types::dispatch::Assignment;
use crate::types::endpoint::{PortProtocol, PublishMode};
use crate::types::node::NodeDescription;
use crate::types::task::Task;

/// A file the container sees at `target`, bind-mounted read-only from `source` (a secret or
/// config written to tmpfs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMount {
    pub source: PathBuf,
    pub target: String,
}

/// A network the container joins after create (the engine's API 1.41 takes one at create).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkJoin {
    pub network: String,
    pub ipv4: Option<String>,
    pub aliases: Vec<String>,
}

/// What to send to the engine for one task.
#[derive(Debug, Clone)]
pub struct ContainerPlan {
    pub name: String,
    pub body: ContainerCreateBody,
    pub more_networks: Vec<NetworkJoin>,
}

/// The task's (and its container's) name: `<service>.<slot>.<task id>`, or
/// `<service>.<node id>.<task id>` for global tasks.
pub fn task_name(task: &Task, service_name: &str) -> String {
    if !task.name.is_empty() {
        return task.name.clone();
    }
    format!("{service_name}.{}.{}", slot_text(task), task.id)
}

fn slot_text(task: &Task) -> String {
    if task.slot != 0 {
        task.slot.to_string()
    } else {
        task.node_id.clone()
    }
}

/// What the task's templates may read.
pub fn template_context(assignment: &Assignment, node: &NodeDescription) -> TemplateContext {
    let task = &assignment.task;
    TemplateContext {
        service_id: task.service_id.clone(),
        service_name: assignment.service_name.clone(),
        service_labels: assignment.service_labels.clone(),
        node_id: task.node_id.clone(),
        node_hostname: node.hostname.clone(),
        node_os: node.platform.os.clone(),
        node_arch: node.platform.architecture.clone(),
        task_id: task.id.clone(),
        task_name: task_name(task, &assignment.service_name),
        task_slot: slot_text(task),
    }
}

/// The container spec of a task, or why the task cannot run.
pub fn container_spec(task: &Task) -> Result<&ContainerSpec, String> {
    task.spec
        .container_spec
        .as_ref()
        .ok_or_else(|| "task missing ContainerSpec to expand".to_string())
}

/// One wire type as bollard's: both are the engine's JSON.
fn convert<T: DeserializeOwned>(value: &impl Serialize) -> Result<T, String> {
    serde_json::to_value(value)
        .and_then(serde_json::from_value)
        .map_err(|e| format!("cannot translate to the engine's format: {e}"))
}

fn some_vec<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}

/// The engine's create request for `assignment` on this node.
pub fn plan(
    assignment: &Assignment,
    context: &TemplateContext,
    files: &[FileMount],
) -> Result<ContainerPlan, String> {
    let task = &assignment.task;
    let spec = container_spec(task)?;
    let name = task_name(task, &assignment.service_name);

    let env = spec
        .env
        .iter()
        .map(|entry| match entry.split_once('=') {
            Some((key, value)) => context
                .expand(value)
                .map(|v| format!("{key}={v}"))
                .map_err(|e| format!("expanding env {entry:?}: {e}")),
            None => Ok(entry.clone()),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let hostname = context
        .expand(&spec.hostname)
        .map_err(|e| format!("expanding hostname: {e}"))?;

    let mut labels: HashMap<String, String> = spec.labels.clone().into_iter().collect();
    labels.extend(task.labels.clone());
    for (key, value) in [
        ("task", String::new()),
        ("task.id", task.id.clone()),
        ("task.name", name.clone()),
        ("node.id", task.node_id.clone()),
        ("service.id", task.service_id.clone()),
        ("service.name", assignment.service_name.clone()),
    ] {
        labels.insert(format!("com.docker.swarm.{key}"), value);
    }

    let (entrypoint, cmd) = if !spec.command.is_empty() {
        (Some(spec.command.clone()), Some(spec.args.clone()))
    } else {
        (None, some_vec(spec.args.clone()))
    };

    let healthcheck: Option<HealthConfig> = spec.healthcheck.as_ref().map(convert).transpose()?;

    let mut mounts = Vec::with_capacity(spec.mounts.len() + files.len());
    for mount in &spec.mounts {
        let mut mount = mount.clone();
        mount.source = context
            .expand(&mount.source)
            .map_err(|e| format!("expanding mount source {:?}: {e}", mount.source))?;
        mount.target = context
            .expand(&mount.target)
            .map_err(|e| format!("expanding mount target {:?}: {e}", mount.target))?;
        mounts.push(convert::<Mount>(&mount)?);
    }
    for file in files {
        mounts.push(Mount {
            target: Some(file.target.clone()),
            source: Some(file.source.to_string_lossy().into_owned()),
            typ: Some(MountType::BIND),
            read_only: Some(true),
            bind_options: Some(MountBindOptions::default()),
            ..Default::default()
        });
    }

    let (port_bindings, exposed_ports) = host_ports(assignment);

    let resources = task.spec.resources.as_ref();
    let limits = resources.and_then(|r| r.limits.as_ref());
    let memory = limits.map(|l| l.memory_bytes).filter(|m| *m > 0);
    let memory_swap = match (memory, resources.and_then(|r| r.swap_bytes)) {
        (Some(_), Some(-1)) => Some(-1),
        (Some(memory), Some(swap)) if swap >= 0 => Some(memory + swap),
        _ => None,
    };

    let mut host_config = HostConfig {
        memory,
        memory_swap,
        memory_swappiness: resources.and_then(|r| r.memory_swappiness),
        nano_cpus: limits.map(|l| l.nano_cpus).filter(|c| *c > 0),
        pids_limit: limits.map(|l| l.pids).filter(|p| *p > 0),
        ulimits: some_vec(
            spec.ulimits
                .iter()
                .map(|u| ResourcesUlimits {
                    name: Some(u.name.clone()),
                    soft: Some(u.soft),
                    hard: Some(u.hard),
                })
                .collect(),
        ),
        group_add: some_vec(spec.groups.clone()),
        port_bindings,
        mounts: some_vec(mounts),
        readonly_rootfs: spec.read_only.then_some(true),
        init: spec.init,
        sysctls: (!spec.sysctls.is_empty()).then(|| spec.sysctls.clone().into_iter().collect()),
        cap_add: some_vec(spec.capability_add.clone()),
        cap_drop: some_vec(spec.capability_drop.clone()),
        oom_score_adj: (spec.oom_score_adj != 0).then_some(spec.oom_score_adj),
        extra_hosts: some_vec(spec.hosts.iter().filter_map(|h| extra_host(h)).collect()),
        security_opt: some_vec(security_options(spec)?),
        ..Default::default()
    };
    if let Some(dns) = &spec.dns_config {
        host_config.dns = some_vec(dns.nameservers.clone());
        host_config.dns_search = some_vec(dns.search.clone());
        host_config.dns_options = some_vec(dns.options.clone());
    }
    if let Some(driver) = &task.spec.log_driver {
        if !driver.name.is_empty() {
            host_config.log_config = Some(HostConfigLogConfig {
                typ: Some(driver.name.clone()),
                config: Some(driver.options.clone().into_iter().collect()),
            });
        }
    }

    let mut joins: Vec<NetworkJoin> = task
        .networks_attachments
        .iter()
        .map(|attachment| {
            let network = &attachment.network;
            let ipv4 = attachment
                .addresses
                .iter()
                .filter_map(|a| a.split('/').next())
                .find(|ip| ip.contains('.'))
                .map(str::to_string);
            let mut aliases = Vec::new();
            if !network.spec.ingress {
                aliases.push(assignment.service_name.clone());
                aliases.push(format!("tasks.{}", assignment.service_name));
                if let Some(config) = task
                    .spec
                    .networks
                    .iter()
                    .find(|n| n.target == network.id || n.target == network.spec.name)
                {
                    aliases.extend(config.aliases.iter().cloned());
                }
            }
            NetworkJoin {
                network: engine_network_name(network),
                ipv4,
                aliases,
            }
        })
        .collect();
    // The first network is the container's gateway: prefer a user network over ingress, as
    // the engine's does for swarm tasks.
    if let Some(position) = task
        .networks_attachments
        .iter()
        .position(|a| !a.network.spec.ingress)
    {
        let first = joins.remove(position);
        joins.insert(0, first);
    }
    let networking_config = joins.first().map(|first| {
        host_config.network_mode = Some(first.network.clone());
        NetworkingConfig {
            endpoints_config: Some(HashMap::from([(
                first.network.clone(),
                EndpointSettings {
                    ipam_config: first.ipv4.clone().map(|ip| EndpointIpamConfig {
                        ipv4_address: Some(ip),
                        ..Default::default()
                    }),
                    aliases: some_vec(first.aliases.clone()),
                    ..Default::default()
                },
            )])),
        }
    });
    let more_networks = joins.into_iter().skip(1).collect();

    let body = ContainerCreateBody {
        hostname: (!hostname.is_empty()).then_some(hostname),
        user: (!spec.user.is_empty()).then(|| spec.user.clone()),
        exposed_ports,
        tty: spec.tty.then_some(true),
        open_stdin: spec.open_stdin.then_some(true),
        env: some_vec(env),
        cmd,
        entrypoint,
        healthcheck,
        image: Some(spec.image.clone()),
        working_dir: (!spec.dir.is_empty()).then(|| spec.dir.clone()),
        labels: Some(labels),
        stop_signal: (!spec.stop_signal.is_empty()).then(|| spec.stop_signal.clone()),
        host_config: Some(host_config),
        networking_config,
        ..Default::default()
    };
    Ok(ContainerPlan {
        name,
        body,
        more_networks,
    })
}

/// `IP host [host...]` (or `host:IP` from old clients) as the engine's `host:IP`.
fn extra_host(entry: &str) -> Option<String> {
    let parts: Vec<&str> = entry.split_whitespace().collect();
    match parts.as_slice() {
        [ip, host, ..] => Some(format!("{host}:{ip}")),
        [single] if single.contains(':') => Some(single.to_string()),
        _ => None,
    }
}

/// The privileges as the engine's security options.
fn security_options(spec: &ContainerSpec) -> Result<Vec<String>, String> {
    let mut options = Vec::new();
    let Some(privileges) = &spec.privileges else {
        return Ok(options);
    };
    if let Some(selinux) = &privileges.selinux_context {
        if selinux.disable {
            options.push("label=disable".into());
        }
        for (key, value) in [
            ("user", &selinux.user),
            ("role", &selinux.role),
            ("type", &selinux.r#type),
            ("level", &selinux.level),
        ] {
            if !value.is_empty() {
                options.push(format!("label={key}:{value}"));
            }
        }
    }
    if let Some(seccomp) = &privileges.seccomp {
        match seccomp.mode {
            Some(SeccompMode::Unconfined) => options.push("seccomp=unconfined".into()),
            Some(SeccompMode::Custom) => {
                let profile = String::from_utf8(seccomp.profile.clone())
                    .map_err(|_| "the seccomp profile is not UTF-8".to_string())?;
                options.push(format!("seccomp={profile}"));
            }
            _ => {}
        }
    }
    if let Some(apparmor) = &privileges.app_armor {
        if apparmor.mode == Some(crate::types::container_spec::AppArmorMode::Disabled) {
            options.push("apparmor=unconfined".into());
        }
    }
    if privileges.no_new_privileges == Some(true) {
        options.push("no-new-privileges=true".into());
    }
    Ok(options)
}

type PortMap = HashMap<String, Option<Vec<PortBinding>>>;

/// Host-mode published ports bind on this node; ingress ones go through the mesh.
fn host_ports(assignment: &Assignment) -> (Option<PortMap>, Option<Vec<String>>) {
    let mut bindings: PortMap = HashMap::new();
    for port in &assignment.endpoint_ports {
        if port.publish_mode != Some(PublishMode::Host) {
            continue;
        }
        let protocol = match port.protocol.unwrap_or(PortProtocol::Tcp) {
            PortProtocol::Tcp => "tcp",
            PortProtocol::Udp => "udp",
            PortProtocol::Sctp => "sctp",
        };
        let key = format!("{}/{protocol}", port.target_port);
        let host_port = if port.published_port == 0 {
            String::new()
        } else {
            port.published_port.to_string()
        };
        bindings
            .entry(key)
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(PortBinding {
                host_ip: None,
                host_port: Some(host_port),
            });
    }
    if bindings.is_empty() {
        return (None, None);
    }
    let mut exposed: Vec<String> = bindings.keys().cloned().collect();
    exposed.sort();
    (Some(bindings), Some(exposed))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::types::container_spec::{HealthConfig as SpecHealth, Ulimit};
    use crate::types::endpoint::PortConfig;
    use crate::types::mount::{Mount as SpecMount, MountType as SpecMountType};
    use crate::types::network::{Network, NetworkAttachment, NetworkSpec};
    use crate::types::task_spec::{Limit, NetworkAttachmentConfig, ResourceRequirements, TaskSpec};

    pub(crate) fn assignment(spec: ContainerSpec) -> Assignment {
        Assignment {
            task: Task {
                id: "t1".into(),
                service_id: "s1".into(),
                slot: 2,
                node_id: "n1".into(),
                spec: TaskSpec {
                    container_spec: Some(spec),
                    ..Default::default()
                },
                ..Default::default()
            },
            service_name: "web".into(),
            service_labels: Default::default(),
            registry_auth: None,
            secrets: vec![],
            configs: vec![],
            endpoint_ports: vec![],
        }
    }

    fn node() -> NodeDescription {
        NodeDescription {
            hostname: "host-a".into(),
            ..Default::default()
        }
    }

    fn plan_of(a: &Assignment) -> ContainerPlan {
        plan(a, &template_context(a, &node()), &[]).unwrap()
    }

    #[test]
    fn names_and_labels_are_swarms() {
        let mut spec = ContainerSpec {
            image: "busybox:1".into(),
            ..Default::default()
        };
        spec.labels.insert("mine".into(), "yes".into());
        let mut a = assignment(spec);
        let p = plan_of(&a);
        assert_eq!(p.name, "web.2.t1");
        let labels = p.body.labels.unwrap();
        assert_eq!(labels["com.docker.swarm.task.name"], "web.2.t1");
        assert_eq!(labels["com.docker.swarm.task.id"], "t1");
        assert_eq!(labels["com.docker.swarm.node.id"], "n1");
        assert_eq!(labels["com.docker.swarm.service.id"], "s1");
        assert_eq!(labels["com.docker.swarm.service.name"], "web");
        assert_eq!(labels["com.docker.swarm.task"], "");
        assert_eq!(labels["mine"], "yes");
        a.task.slot = 0;
        assert_eq!(plan_of(&a).name, "web.n1.t1");
    }

    #[test]
    fn command_args_and_templates() {
        let a = assignment(ContainerSpec {
            image: "img".into(),
            command: vec!["sh".into()],
            args: vec!["-c".into(), "x".into()],
            env: vec!["SLOT={{.Task.Slot}}".into(), "BARE".into()],
            hostname: "{{.Service.Name}}-{{.Node.Hostname}}".into(),
            ..Default::default()
        });
        let p = plan_of(&a);
        assert_eq!(p.body.entrypoint.unwrap(), vec!["sh"]);
        assert_eq!(p.body.cmd.unwrap(), vec!["-c", "x"]);
        assert_eq!(p.body.env.unwrap(), vec!["SLOT=2", "BARE"]);
        assert_eq!(p.body.hostname.unwrap(), "web-host-a");

        let only_args = assignment(ContainerSpec {
            image: "img".into(),
            args: vec!["echo".into()],
            ..Default::default()
        });
        let p = plan_of(&only_args);
        assert!(p.body.entrypoint.is_none());
        assert_eq!(p.body.cmd.unwrap(), vec!["echo"]);

        let broken = assignment(ContainerSpec {
            image: "img".into(),
            hostname: "{{.Nope}}".into(),
            ..Default::default()
        });
        let error = plan(&broken, &template_context(&broken, &node()), &[]).unwrap_err();
        assert!(error.starts_with("expanding hostname"), "{error}");
    }

    #[test]
    fn host_config_carries_the_spec() {
        let mut a = assignment(ContainerSpec {
            image: "img".into(),
            read_only: true,
            init: Some(true),
            groups: vec!["audio".into()],
            hosts: vec!["10.1.2.3 db".into()],
            ulimits: vec![Ulimit {
                name: "nofile".into(),
                soft: 1024,
                hard: 2048,
            }],
            capability_add: vec!["CAP_NET_ADMIN".into()],
            oom_score_adj: -10,
            healthcheck: Some(SpecHealth {
                test: vec!["CMD".into(), "true".into()],
                interval: 1_000_000_000,
                ..Default::default()
            }),
            mounts: vec![SpecMount {
                r#type: Some(SpecMountType::Volume),
                source: "data-{{.Task.Slot}}".into(),
                target: "/data".into(),
                ..Default::default()
            }],
            ..Default::default()
        });
        a.task.spec.resources = Some(ResourceRequirements {
            limits: Some(Limit {
                nano_cpus: 500_000_000,
                memory_bytes: 64 << 20,
                pids: 100,
            }),
            ..Default::default()
        });
        let files = [FileMount {
            source: "/dev/shm/x/secret".into(),
            target: "/run/secrets/pw".into(),
        }];
        let p = plan(&a, &template_context(&a, &node()), &files).unwrap();
        let hc = p.body.host_config.unwrap();
        assert_eq!(hc.readonly_rootfs, Some(true));
        assert_eq!(hc.init, Some(true));
        assert_eq!(hc.memory, Some(64 << 20));
        assert_eq!(hc.nano_cpus, Some(500_000_000));
        assert_eq!(hc.pids_limit, Some(100));
        assert_eq!(hc.extra_hosts.unwrap(), vec!["db:10.1.2.3"]);
        assert_eq!(hc.oom_score_adj, Some(-10));
        assert_eq!(hc.group_add.unwrap(), vec!["audio"]);
        let mounts = hc.mounts.unwrap();
        assert_eq!(mounts[0].source.as_deref(), Some("data-2"));
        assert_eq!(mounts[0].typ, Some(MountType::VOLUME));
        assert_eq!(mounts[1].target.as_deref(), Some("/run/secrets/pw"));
        assert_eq!(mounts[1].read_only, Some(true));
        assert_eq!(p.body.healthcheck.unwrap().interval, Some(1_000_000_000));
    }

    #[test]
    fn networks_and_host_ports() {
        let mut a = assignment(ContainerSpec {
            image: "img".into(),
            ..Default::default()
        });
        let net = |id: &str, name: &str, ingress: bool| Network {
            id: id.into(),
            spec: NetworkSpec {
                name: name.into(),
                ingress,
                ..Default::default()
            },
            ..Default::default()
        };
        a.task.networks_attachments = vec![
            NetworkAttachment {
                network: net("ingressid0000", "ingress", true),
                addresses: vec!["10.0.0.5/24".into()],
            },
            NetworkAttachment {
                network: net("backendid0000", "backend", false),
                addresses: vec!["10.0.1.7/24".into()],
            },
        ];
        a.task.spec.networks = vec![NetworkAttachmentConfig {
            target: "backendid0000".into(),
            aliases: vec!["api".into()],
            ..Default::default()
        }];
        a.endpoint_ports = vec![
            PortConfig {
                target_port: 80,
                published_port: 8080,
                publish_mode: Some(PublishMode::Host),
                ..Default::default()
            },
            PortConfig {
                target_port: 81,
                published_port: 30001,
                ..Default::default()
            },
        ];
        let p = plan_of(&a);
        let endpoints = p.body.networking_config.unwrap().endpoints_config.unwrap();
        let (name, first) = endpoints.iter().next().unwrap();
        assert!(name.starts_with("backend"), "{name}");
        assert_eq!(
            first.aliases.clone().unwrap(),
            vec!["web", "tasks.web", "api"]
        );
        assert_eq!(
            first.ipam_config.as_ref().unwrap().ipv4_address.as_deref(),
            Some("10.0.1.7")
        );
        assert_eq!(p.more_networks.len(), 1);
        assert!(p.more_networks[0].network.starts_with("ingress"));
        assert!(p.more_networks[0].aliases.is_empty());
        let hc = p.body.host_config.unwrap();
        let bindings = hc.port_bindings.unwrap();
        assert_eq!(bindings.len(), 1);
        assert_eq!(
            bindings["80/tcp"].as_ref().unwrap()[0].host_port.as_deref(),
            Some("8080")
        );
    }
}
