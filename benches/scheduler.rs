//! Times one scheduling round: 10,000 pending tasks (100 services x 100 replicas) on 1,000
//! nodes, some services with constraints, reservations, host ports, `MaxReplicas` or a spread
//! preference, on a cluster that already runs 5,000 tasks. Prints min and median over the runs.
//!
//! `cargo bench --bench scheduler` (add `-- <runs>` to change the number of runs).

use std::sync::Arc;
use std::time::{Duration, Instant};

use shoal::scheduler::schedule;
use shoal::store::{ClusterState, ServiceRecord};
use shoal::types::endpoint::{PortConfig, PortProtocol, PublishMode};
use shoal::types::node::{
    Node, NodeAvailability, NodeRole, NodeSpec, NodeState, NodeStatus, Platform, Resources,
};
use shoal::types::service::{Service, ServiceMode, ServiceSpec};
use shoal::types::task::{Task, TaskState, TaskStatus};
use shoal::types::task_spec::{
    Placement, PlacementPreference, ResourceRequirements, SpreadOver, TaskSpec,
};

const NODES: usize = 1_000;
const SERVICES: usize = 100;
const REPLICAS: usize = 100;
const RUNNING_SERVICES: usize = 50;

fn id(prefix: &str, n: usize) -> String {
    // 25 characters, like swarm IDs.
    format!("{prefix}{n:0>24}")
}

fn node(n: usize) -> Node {
    let mut node = Node {
        id: id("n", n),
        spec: NodeSpec {
            role: Some(if n < 5 {
                NodeRole::Manager
            } else {
                NodeRole::Worker
            }),
            availability: Some(if n % 97 == 0 {
                NodeAvailability::Drain
            } else {
                NodeAvailability::Active
            }),
            ..Default::default()
        },
        status: NodeStatus {
            state: if n % 101 == 0 {
                NodeState::Down
            } else {
                NodeState::Ready
            },
            addr: format!("10.{}.{}.{}", n / 65536, (n / 256) % 256, n % 256),
            ..Default::default()
        },
        ..Default::default()
    };
    node.spec
        .labels
        .insert("zone".into(), format!("z{}", n % 3));
    if n % 2 == 0 {
        node.spec.labels.insert("disk".into(), "ssd".into());
    }
    node.description.hostname = format!("host-{n}");
    node.description.platform = Platform {
        architecture: "x86_64".into(),
        os: "linux".into(),
    };
    node.description.resources = Resources {
        nano_cpus: 16_000_000_000,
        memory_bytes: 64 << 30,
        generic_resources: Vec::new(),
    };
    node
}

/// Service `s`: every fifth has a constraint, every seventh reservations, every eleventh a
/// host port, every thirteenth `MaxReplicas`, every seventeenth a spread preference.
fn service(s: usize) -> ServiceRecord {
    let mut template = TaskSpec::default();
    let mut placement = Placement::default();
    if s % 5 == 0 {
        placement.constraints = vec!["node.labels.disk==ssd".into(), "node.role!=manager".into()];
    }
    if s % 13 == 0 {
        placement.max_replicas = 1;
    }
    if s % 17 == 0 {
        placement.preferences = vec![PlacementPreference {
            spread: Some(SpreadOver {
                spread_descriptor: "node.labels.zone".into(),
            }),
        }];
    }
    template.placement = Some(placement);
    if s % 7 == 0 {
        template.resources = Some(ResourceRequirements {
            reservations: Some(Resources {
                nano_cpus: 250_000_000,
                memory_bytes: 256 << 20,
                generic_resources: Vec::new(),
            }),
            ..Default::default()
        });
    }
    let mut service = Service {
        id: id("s", s),
        spec: ServiceSpec {
            name: format!("service-{s}"),
            task_template: template,
            mode: ServiceMode::replicated(REPLICAS as u64),
            ..Default::default()
        },
        ..Default::default()
    };
    if s % 11 == 0 {
        service.endpoint.ports = vec![PortConfig {
            protocol: Some(PortProtocol::Tcp),
            target_port: 80,
            published_port: 8000 + s as u32,
            publish_mode: Some(PublishMode::Host),
            ..Default::default()
        }];
    }
    ServiceRecord::new(service)
}

fn task(record: &ServiceRecord, slot: usize, node: Option<usize>) -> Task {
    let s: usize = record.service.id[1..].parse().unwrap_or(0);
    let (state, node_id) = match node {
        Some(n) => (TaskState::Running, id("n", n)),
        None => (TaskState::Pending, String::new()),
    };
    Task {
        id: id(if node.is_some() { "r" } else { "t" }, s * 1_000 + slot),
        service_id: record.service.id.clone(),
        slot: slot as i64,
        node_id,
        spec: record.service.spec.task_template.clone(),
        status: TaskStatus {
            state,
            message: "pending task scheduling".into(),
            ..Default::default()
        },
        desired_state: TaskState::Running,
        ..Default::default()
    }
}

fn cluster() -> ClusterState {
    let mut state = ClusterState::default();
    for n in 0..NODES {
        let node = node(n);
        state.nodes.insert(node.id.clone(), Arc::new(node));
    }
    // Running services: 100 tasks each, already placed round-robin.
    for s in SERVICES..SERVICES + RUNNING_SERVICES {
        let record = service(s);
        for slot in 1..=REPLICAS {
            let task = task(&record, slot, Some((s * 7 + slot * 13) % NODES));
            state.tasks.insert(task.id.clone(), Arc::new(task));
        }
        state
            .services
            .insert(record.service.id.clone(), Arc::new(record));
    }
    // Services whose tasks all wait.
    for s in 0..SERVICES {
        let record = service(s);
        for slot in 1..=REPLICAS {
            let task = task(&record, slot, None);
            state.tasks.insert(task.id.clone(), Arc::new(task));
        }
        state
            .services
            .insert(record.service.id.clone(), Arc::new(record));
    }
    state
}

fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(15);
    let state = cluster();
    let pending = state
        .tasks
        .values()
        .filter(|t| t.status.state == TaskState::Pending)
        .count();
    let mut times: Vec<Duration> = Vec::with_capacity(runs);
    let mut placed = 0;
    let mut unplaced = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let plan = schedule(&state);
        times.push(start.elapsed());
        placed = plan.assignments.len();
        unplaced = plan.unplaced.len();
        std::hint::black_box(plan);
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1_000.0;
    println!(
        "scheduler: {pending} pending tasks ({SERVICES} services), {} running, {NODES} nodes: \
         {placed} placed, {unplaced} explained",
        state.tasks.len() - pending
    );
    println!(
        "scheduler: {runs} runs, min {:.2} ms, median {:.2} ms, max {:.2} ms",
        ms(times[0]),
        ms(times[times.len() / 2]),
        ms(times[times.len() - 1])
    );
}
