//! The routing table: which published ports this node answers on, and where each one leads.
//!
//! A pure function of the cluster state ([`routing_table`]): every port a service publishes
//! in ingress mode, keyed by (protocol, published port), with the addresses of the service's
//! running tasks on their target port. No I/O, no clock.
//!
//! Depends on `store` (the state it reads) and `types`.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};

use crate::store::watch::Pending;
use crate::store::{ClusterState, Kind};
use crate::types::endpoint::{PortConfig, PortProtocol, PublishMode};
use crate::types::task::{Task, TaskState};

/// A published port: the protocol and the port number on every node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RouteKey {
    pub protocol: PortProtocol,
    pub port: u16,
}

impl std::fmt::Display for RouteKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.port, self.protocol.as_str())
    }
}

/// Where one published port leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub service_id: String,
    pub service_name: String,
    /// The running tasks (address on the ingress network, target port), sorted, no repeats.
    pub backends: Vec<SocketAddr>,
}

/// Every ingress-published port of the cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoutingTable {
    pub routes: BTreeMap<RouteKey, Route>,
}

impl RoutingTable {
    pub fn get(&self, key: &RouteKey) -> Option<&Route> {
        self.routes.get(key)
    }

    pub fn len(&self) -> usize {
        self.routes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }
}

/// A port goes through the mesh when it is published in ingress mode (the default).
pub fn is_ingress(port: &PortConfig) -> bool {
    port.publish_mode.unwrap_or(PublishMode::Ingress) == PublishMode::Ingress
}

/// The task serves traffic: it runs and is still wanted.
pub fn is_backend(task: &Task) -> bool {
    task.status.state == TaskState::Running && task.desired_state <= TaskState::Running
}

/// The address the host reaches a task's container at: its address on the ingress network,
/// else its first address on any network. `None` when it has none (or none that parses).
pub fn task_ip(task: &Task) -> Option<IpAddr> {
    let ingress = task
        .networks_attachments
        .iter()
        .filter(|a| a.network.spec.ingress)
        .flat_map(|a| a.addresses.first());
    let any = task
        .networks_attachments
        .iter()
        .flat_map(|a| a.addresses.first());
    ingress.chain(any).find_map(|address| parse_ip(address))
}

/// `10.0.0.5/24` (or a bare `10.0.0.5`) to its IP.
fn parse_ip(address: &str) -> Option<IpAddr> {
    let ip = address.split_once('/').map_or(address, |(ip, _)| ip);
    ip.trim().parse().ok()
}

/// Whether `pending` changes can change the routing table `table` was built from: only changes
/// to services that publish ingress ports (now, or in `table`) and to their tasks can.
pub fn concerns_routes(pending: &Pending, state: &ClusterState, table: &RoutingTable) -> bool {
    if pending.lagged {
        return true;
    }
    let routed = |service_id: &str| {
        table.routes.values().any(|r| r.service_id == service_id)
            || state
                .services
                .get(service_id)
                .is_some_and(|r| r.service.endpoint.ports.iter().any(is_ingress))
    };
    pending.changes.iter().any(|change| match change.kind {
        Kind::Service => routed(&change.id),
        Kind::Task => change.service_id.as_deref().is_some_and(routed),
        _ => false,
    })
}

/// The routing table of `state`. SCTP ports are left out (the mesh proxies TCP and UDP only),
/// as are ports outside `1..=65535`. When two services claim one published port (the
/// allocator refuses it, so only a corrupt state could), the service with the smaller ID wins.
pub fn routing_table(state: &ClusterState) -> RoutingTable {
    let mut ips: HashMap<&str, Vec<IpAddr>> = HashMap::new();
    for task in state.tasks.values().filter(|t| is_backend(t)) {
        if let Some(ip) = task_ip(task) {
            ips.entry(task.service_id.as_str()).or_default().push(ip);
        }
    }
    let mut routes = BTreeMap::new();
    for record in state.services.values() {
        let service = &record.service;
        for port in service.endpoint.ports.iter().filter(|p| is_ingress(p)) {
            let protocol = port.protocol.unwrap_or(PortProtocol::Tcp);
            if protocol == PortProtocol::Sctp {
                continue;
            }
            let (Some(published), Some(target)) = (
                valid_port(port.published_port),
                valid_port(port.target_port),
            ) else {
                continue;
            };
            let key = RouteKey {
                protocol,
                port: published,
            };
            if routes.contains_key(&key) {
                continue;
            }
            let mut backends: Vec<SocketAddr> = ips
                .get(service.id.as_str())
                .map(|ips| ips.iter().map(|ip| SocketAddr::new(*ip, target)).collect())
                .unwrap_or_default();
            backends.sort_unstable();
            backends.dedup();
            routes.insert(
                key,
                Route {
                    service_id: service.id.clone(),
                    service_name: service.spec.name.clone(),
                    backends,
                },
            );
        }
    }
    RoutingTable { routes }
}

fn valid_port(port: u32) -> Option<u16> {
    u16::try_from(port).ok().filter(|p| *p != 0)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::store::ServiceRecord;
    use crate::types::network::{Network, NetworkAttachment, NetworkSpec};
    use crate::types::service::{Service, ServiceSpec};

    fn network(id: &str, ingress: bool) -> Network {
        Network {
            id: id.into(),
            spec: NetworkSpec {
                name: id.into(),
                ingress,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn port(protocol: Option<PortProtocol>, published: u32, target: u32) -> PortConfig {
        PortConfig {
            protocol,
            target_port: target,
            published_port: published,
            ..Default::default()
        }
    }

    fn add_service(state: &mut ClusterState, id: &str, ports: Vec<PortConfig>) {
        let mut service = Service {
            id: id.into(),
            spec: ServiceSpec {
                name: format!("name-{id}"),
                ..Default::default()
            },
            ..Default::default()
        };
        service.endpoint.ports = ports;
        state
            .services
            .insert(id.into(), Arc::new(ServiceRecord::new(service)));
    }

    fn add_task(
        state: &mut ClusterState,
        id: &str,
        service: &str,
        state_now: TaskState,
        desired: TaskState,
        attachments: &[(&str, bool, &str)],
    ) {
        let mut task = Task {
            id: id.into(),
            service_id: service.into(),
            desired_state: desired,
            ..Default::default()
        };
        task.status.state = state_now;
        task.networks_attachments = attachments
            .iter()
            .map(|(net, ingress, address)| NetworkAttachment {
                network: network(net, *ingress),
                addresses: if address.is_empty() {
                    Vec::new()
                } else {
                    vec![address.to_string()]
                },
            })
            .collect();
        state.tasks.insert(id.into(), Arc::new(task));
    }

    fn running(state: &mut ClusterState, id: &str, service: &str, ingress_ip: &str) {
        add_task(
            state,
            id,
            service,
            TaskState::Running,
            TaskState::Running,
            &[
                ("ingress", true, ingress_ip),
                ("overlay", false, "10.1.0.9/24"),
            ],
        );
    }

    fn key(protocol: PortProtocol, port: u16) -> RouteKey {
        RouteKey { protocol, port }
    }

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ingress_ports_lead_to_running_tasks_sorted() {
        let mut state = ClusterState::default();
        add_service(&mut state, "web", vec![port(None, 8080, 80)]);
        running(&mut state, "t2", "web", "10.0.0.7/24");
        running(&mut state, "t1", "web", "10.0.0.5/24");
        let table = routing_table(&state);
        assert_eq!(table.len(), 1);
        let route = table.get(&key(PortProtocol::Tcp, 8080)).unwrap();
        assert_eq!(route.service_id, "web");
        assert_eq!(route.service_name, "name-web");
        assert_eq!(
            route.backends,
            vec![addr("10.0.0.5:80"), addr("10.0.0.7:80")]
        );
    }

    #[test]
    fn only_running_wanted_tasks_are_backends() {
        let mut state = ClusterState::default();
        add_service(&mut state, "web", vec![port(None, 8080, 80)]);
        let ingress = [("ingress", true, "10.0.0.2/24")];
        add_task(
            &mut state,
            "starting",
            "web",
            TaskState::Starting,
            TaskState::Running,
            &ingress,
        );
        let ingress = [("ingress", true, "10.0.0.3/24")];
        add_task(
            &mut state,
            "stopping",
            "web",
            TaskState::Running,
            TaskState::Shutdown,
            &ingress,
        );
        let ingress = [("ingress", true, "10.0.0.4/24")];
        add_task(
            &mut state,
            "failed",
            "web",
            TaskState::Failed,
            TaskState::Running,
            &ingress,
        );
        let ingress = [("ingress", true, "10.0.0.5/24")];
        add_task(
            &mut state,
            "ready",
            "web",
            TaskState::Running,
            TaskState::Ready,
            &ingress,
        );
        let table = routing_table(&state);
        let route = table.get(&key(PortProtocol::Tcp, 8080)).unwrap();
        assert_eq!(route.backends, vec![addr("10.0.0.5:80")]);
    }

    #[test]
    fn a_port_without_running_tasks_is_still_published() {
        let mut state = ClusterState::default();
        add_service(&mut state, "web", vec![port(None, 8080, 80)]);
        let table = routing_table(&state);
        assert!(table
            .get(&key(PortProtocol::Tcp, 8080))
            .unwrap()
            .backends
            .is_empty());
    }

    #[test]
    fn host_mode_sctp_and_unallocated_ports_are_left_out() {
        let mut state = ClusterState::default();
        let mut host = port(None, 9000, 80);
        host.publish_mode = Some(PublishMode::Host);
        let mut ingress = port(Some(PortProtocol::Udp), 53, 5353);
        ingress.publish_mode = Some(PublishMode::Ingress);
        add_service(
            &mut state,
            "svc",
            vec![
                host,
                ingress,
                port(Some(PortProtocol::Sctp), 7000, 7000),
                port(None, 0, 80),
                port(None, 70000, 80),
                port(None, 8081, 0),
            ],
        );
        running(&mut state, "t1", "svc", "10.0.0.5/24");
        let table = routing_table(&state);
        let keys: Vec<RouteKey> = table.routes.keys().copied().collect();
        assert_eq!(keys, vec![key(PortProtocol::Udp, 53)]);
        assert_eq!(
            table.get(&key(PortProtocol::Udp, 53)).unwrap().backends,
            vec![addr("10.0.0.5:5353")]
        );
    }

    #[test]
    fn same_port_number_over_tcp_and_udp_are_two_routes() {
        let mut state = ClusterState::default();
        add_service(
            &mut state,
            "dns",
            vec![port(None, 53, 53), port(Some(PortProtocol::Udp), 53, 53)],
        );
        let table = routing_table(&state);
        assert!(table.get(&key(PortProtocol::Tcp, 53)).is_some());
        assert!(table.get(&key(PortProtocol::Udp, 53)).is_some());
    }

    #[test]
    fn each_service_leads_to_its_own_tasks() {
        let mut state = ClusterState::default();
        add_service(&mut state, "a", vec![port(None, 8001, 80)]);
        add_service(&mut state, "b", vec![port(None, 8002, 8080)]);
        running(&mut state, "ta", "a", "10.0.0.5/24");
        running(&mut state, "tb", "b", "10.0.0.6/24");
        let table = routing_table(&state);
        assert_eq!(
            table.get(&key(PortProtocol::Tcp, 8001)).unwrap().backends,
            vec![addr("10.0.0.5:80")]
        );
        assert_eq!(
            table.get(&key(PortProtocol::Tcp, 8002)).unwrap().backends,
            vec![addr("10.0.0.6:8080")]
        );
    }

    #[test]
    fn a_conflicting_port_goes_to_the_smaller_service_id() {
        let mut state = ClusterState::default();
        add_service(&mut state, "b", vec![port(None, 8000, 80)]);
        add_service(&mut state, "a", vec![port(None, 8000, 81)]);
        let table = routing_table(&state);
        assert_eq!(
            table.get(&key(PortProtocol::Tcp, 8000)).unwrap().service_id,
            "a"
        );
    }

    #[test]
    fn the_ingress_address_is_preferred_then_any_address() {
        let mut task = Task {
            networks_attachments: vec![
                NetworkAttachment {
                    network: network("overlay", false),
                    addresses: vec!["10.1.0.9/24".into()],
                },
                NetworkAttachment {
                    network: network("ingress", true),
                    addresses: vec!["10.0.0.5/24".into()],
                },
            ],
            ..Default::default()
        };
        assert_eq!(task_ip(&task), "10.0.0.5".parse().ok());
        task.networks_attachments[1].addresses.clear();
        assert_eq!(task_ip(&task), "10.1.0.9".parse().ok());
        task.networks_attachments[0].addresses = vec!["garbage".into()];
        assert_eq!(task_ip(&task), None);
        task.networks_attachments[0].addresses = vec!["fd00::5/64".into()];
        assert_eq!(task_ip(&task), "fd00::5".parse().ok());
        task.networks_attachments.clear();
        assert_eq!(task_ip(&task), None);
    }

    #[test]
    fn tasks_without_an_address_are_skipped() {
        let mut state = ClusterState::default();
        add_service(&mut state, "web", vec![port(None, 8080, 80)]);
        add_task(
            &mut state,
            "t1",
            "web",
            TaskState::Running,
            TaskState::Running,
            &[("ingress", true, "")],
        );
        running(&mut state, "t2", "web", "10.0.0.5/24");
        let table = routing_table(&state);
        assert_eq!(
            table.get(&key(PortProtocol::Tcp, 8080)).unwrap().backends,
            vec![addr("10.0.0.5:80")]
        );
    }

    #[test]
    fn only_changes_to_published_services_and_their_tasks_concern_the_routes() {
        use crate::store::watch::Pending;
        use crate::store::{Action, Change};
        let change = |kind, id: &str, service_id: Option<&str>| {
            Arc::new(Change {
                kind,
                action: Action::Update,
                id: id.into(),
                name: String::new(),
                at: 0,
                attributes: Default::default(),
                service_id: service_id.map(str::to_string),
            })
        };
        let pending = |changes| Pending {
            changes,
            lagged: false,
        };
        let mut state = ClusterState::default();
        add_service(&mut state, "web", vec![port(None, 8080, 80)]);
        add_service(&mut state, "quiet", Vec::new());
        let empty = RoutingTable::default();
        let concerns = |p: &Pending, table: &RoutingTable| concerns_routes(p, &state, table);

        assert!(concerns(
            &pending(vec![change(Kind::Service, "web", None)]),
            &empty
        ));
        assert!(concerns(
            &pending(vec![change(Kind::Task, "t1", Some("web"))]),
            &empty
        ));
        assert!(!concerns(
            &pending(vec![change(Kind::Service, "quiet", None)]),
            &empty
        ));
        assert!(!concerns(
            &pending(vec![change(Kind::Task, "t2", Some("quiet"))]),
            &empty
        ));
        assert!(!concerns(
            &pending(vec![change(Kind::Node, "n", None)]),
            &empty
        ));
        // A service that published before (in the table) concerns it even once gone.
        let table = routing_table(&state);
        assert!(!concerns(
            &pending(vec![change(Kind::Service, "gone", None)]),
            &table
        ));
        let mut without_web = state.clone();
        without_web.services.remove("web");
        assert!(concerns_routes(
            &pending(vec![change(Kind::Service, "web", None)]),
            &without_web,
            &table
        ));
        let lagged = Pending {
            changes: Vec::new(),
            lagged: true,
        };
        assert!(concerns(&lagged, &empty));
    }
}
