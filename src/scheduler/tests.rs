//! Scheduling rounds over small clusters: spread, every check and its explanation, and the
//! runner's contract (placements once a node fits, no repeated explanations).

use super::testing::{constraints, placement, reserve, Cluster, CPU, GIB};
use crate::types::endpoint::{PortConfig, PortProtocol, PublishMode};
use crate::types::node::{NodeAvailability, NodeState, Platform};
use crate::types::task::TaskState;
use crate::types::task_spec::{PlacementPreference, SpreadOver};

fn counts(plan: &super::Plan) -> Vec<usize> {
    Cluster::per_node(plan).values().copied().collect()
}

fn spread_over(descriptor: &str) -> PlacementPreference {
    PlacementPreference {
        spread: Some(SpreadOver {
            spread_descriptor: descriptor.into(),
        }),
    }
}

fn host_port(port: u32) -> PortConfig {
    PortConfig {
        protocol: Some(PortProtocol::Tcp),
        target_port: 80,
        published_port: port,
        publish_mode: Some(PublishMode::Host),
        ..Default::default()
    }
}

#[test]
fn ten_tasks_on_three_nodes_spread_four_three_three() {
    let mut cluster = Cluster::with_nodes(3);
    let web = cluster.service("web", |_| {});
    cluster.pending(&web, 10);
    let plan = cluster.schedule();
    assert_eq!(plan.assignments.len(), 10);
    assert!(plan.unplaced.is_empty());
    assert_eq!(counts(&plan), vec![4, 3, 3]);
    // Slot order follows node order: deterministic.
    assert_eq!(plan.assignments[0].node_id, "n1");
    assert_eq!(plan.assignments[1].node_id, "n2");
    assert_eq!(cluster.schedule(), plan);
}

#[test]
fn fewest_tasks_of_the_service_first_then_fewest_tasks() {
    let mut cluster = Cluster::with_nodes(3);
    let web = cluster.service("web", |_| {});
    let db = cluster.service("db", |_| {});
    cluster.placed(&web, "n1", TaskState::Running);
    cluster.placed(&db, "n2", TaskState::Running);
    cluster.placed(&db, "n2", TaskState::Running);
    let pending = cluster.pending(&web, 2);
    let placements = Cluster::placements(&cluster.schedule());
    // n3 is empty; then n2 has no `web` task (n1 has one), despite its two `db` tasks.
    assert_eq!(placements[&pending[0]], "n3");
    assert_eq!(placements[&pending[1]], "n2");
}

#[test]
fn finished_and_unwanted_tasks_do_not_count() {
    let mut cluster = Cluster::with_nodes(2);
    let web = cluster.service("web", |_| {});
    cluster.placed(&web, "n1", TaskState::Failed);
    cluster.placed(&web, "n1", TaskState::Complete);
    let stopping = cluster.placed(&web, "n1", TaskState::Running);
    cluster.edit_task(&stopping, |t| t.desired_state = TaskState::Shutdown);
    cluster.placed(&web, "n2", TaskState::Running);
    let pending = cluster.pending(&web, 1);
    assert_eq!(Cluster::placements(&cluster.schedule())[&pending[0]], "n1");
}

#[test]
fn constraints_choose_the_nodes() {
    let mut cluster = Cluster::with_nodes(3);
    cluster.label("n2", "zone", "east");
    cluster.edit_node("n3", |n| {
        n.spec.role = Some(crate::types::node::NodeRole::Manager)
    });
    let east = cluster.service("east", |s| constraints(s, &["node.labels.zone==east"]));
    let managers = cluster.service("mgr", |s| constraints(s, &["node.role==manager"]));
    let by_host = cluster.service("host", |s| constraints(s, &["node.hostname!=host-n1"]));
    cluster.pending(&east, 3);
    cluster.pending(&managers, 2);
    cluster.pending(&by_host, 4);
    let plan = cluster.schedule();
    let placements = Cluster::placements(&plan);
    let nodes_of = |service: &str| {
        let mut nodes: Vec<&str> = cluster
            .state
            .tasks
            .values()
            .filter(|t| t.service_id == service)
            .map(|t| placements[&t.id].as_str())
            .collect();
        nodes.sort_unstable();
        nodes.dedup();
        nodes
    };
    assert_eq!(nodes_of(&east), ["n2"]);
    assert_eq!(nodes_of(&managers), ["n3"]);
    assert_eq!(nodes_of(&by_host), ["n2", "n3"]);
}

#[test]
fn unsatisfiable_constraints_are_explained() {
    let mut cluster = Cluster::with_nodes(2);
    let web = cluster.service("web", |s| constraints(s, &["node.labels.gpu==yes"]));
    let tasks = cluster.pending(&web, 2);
    let plan = cluster.schedule();
    assert!(plan.assignments.is_empty());
    let errors = Cluster::errors(&plan);
    assert_eq!(
        errors[&tasks[0]],
        "no suitable node (scheduling constraints not satisfied on 2 nodes)"
    );
    assert_eq!(errors.len(), 2);
    // The task stays pending, with its message.
    let status = &plan.unplaced[0].status;
    assert_eq!(status.state, TaskState::Pending);
    assert_eq!(status.message, "pending task scheduling");
}

#[test]
fn drained_paused_and_down_nodes_take_nothing_new() {
    let mut cluster = Cluster::with_nodes(4);
    cluster.availability("n1", NodeAvailability::Drain);
    cluster.availability("n2", NodeAvailability::Pause);
    cluster.edit_node("n3", |n| n.status.state = NodeState::Down);
    let web = cluster.service("web", |_| {});
    cluster.pending(&web, 3);
    let plan = cluster.schedule();
    assert_eq!(
        Cluster::per_node(&plan).into_iter().collect::<Vec<_>>(),
        [("n4".to_string(), 3)]
    );

    cluster.availability("n4", NodeAvailability::Drain);
    let plan = cluster.schedule();
    assert!(plan.assignments.is_empty());
    assert_eq!(
        plan.unplaced[0].status.err,
        "no suitable node (4 nodes not available for new tasks)"
    );
}

#[test]
fn reservations_must_fit_what_is_left() {
    let mut cluster = Cluster::with_nodes(2);
    let big = cluster.service("big", |s| reserve(s, 3 * CPU, GIB));
    let other = cluster.service("other", |s| reserve(s, 0, 6 * GIB));
    // n1 already gives 6 GiB to a running task: 2 GiB left.
    cluster.placed(&other, "n1", TaskState::Running);
    let tasks = cluster.pending(&big, 3);
    let plan = cluster.schedule();
    // One 3-CPU task per 4-CPU node; the third fits nowhere.
    assert_eq!(counts(&plan), vec![1, 1]);
    assert_eq!(
        Cluster::errors(&plan)[&tasks[2]],
        "no suitable node (insufficient resources on 2 nodes)"
    );
    let memory = cluster.service("memory", |s| reserve(s, 0, 3 * GIB));
    let task = cluster.pending(&memory, 1);
    assert_eq!(Cluster::placements(&cluster.schedule())[&task[0]], "n2");
}

#[test]
fn finishing_tasks_free_their_reservations() {
    let mut cluster = Cluster::with_nodes(1);
    let big = cluster.service("big", |s| reserve(s, 4 * CPU, 0));
    let running = cluster.placed(&big, "n1", TaskState::Running);
    cluster.pending(&big, 1);
    assert_eq!(cluster.round().unplaced.len(), 1);
    assert!(
        cluster.round().is_empty(),
        "the same explanation is not proposed twice"
    );
    cluster.edit_task(&running, |t| t.status.state = TaskState::Failed);
    let plan = cluster.round();
    assert_eq!(counts(&plan), vec![1]);
}

#[test]
fn host_ports_hold_one_task_per_node() {
    let mut cluster = Cluster::with_nodes(2);
    let web = cluster.service("web", |_| {});
    cluster.edit_service(&web, |s| s.endpoint.ports = vec![host_port(8080)]);
    let tasks = cluster.pending(&web, 3);
    let plan = cluster.schedule();
    assert_eq!(counts(&plan), vec![1, 1]);
    assert_eq!(
        Cluster::errors(&plan)[&tasks[2]],
        "no suitable node (host-mode port already in use on 2 nodes)"
    );
    // Another service on the same port, and a port reported by a running task.
    let mut cluster = Cluster::with_nodes(2);
    let api = cluster.service("api", |_| {});
    cluster.edit_service(&api, |s| s.endpoint.ports = vec![host_port(8080)]);
    let other = cluster.service("other", |_| {});
    let running = cluster.placed(&other, "n2", TaskState::Running);
    cluster.edit_task(&running, |t| {
        t.status.port_status.ports = vec![host_port(8080)]
    });
    let ingress = cluster.service("ingress", |_| {});
    cluster.edit_service(&ingress, |s| {
        s.endpoint.ports = vec![PortConfig {
            publish_mode: Some(PublishMode::Ingress),
            ..host_port(8080)
        }]
    });
    cluster.placed(&ingress, "n1", TaskState::Running);
    let task = cluster.pending(&api, 1);
    assert_eq!(Cluster::placements(&cluster.schedule())[&task[0]], "n1");
}

#[test]
fn max_replicas_per_node() {
    let mut cluster = Cluster::with_nodes(2);
    let web = cluster.service("web", |s| placement(s).max_replicas = 2);
    cluster.placed(&web, "n1", TaskState::Running);
    let tasks = cluster.pending(&web, 4);
    let plan = cluster.schedule();
    assert_eq!(counts(&plan), vec![1, 2]);
    assert_eq!(
        Cluster::errors(&plan)[&tasks[3]],
        "no suitable node (max replicas per node limit exceed)"
    );
}

#[test]
fn platforms_must_match() {
    let mut cluster = Cluster::with_nodes(3);
    cluster.edit_node("n2", |n| {
        n.description.platform = Platform {
            architecture: "aarch64".into(),
            os: "linux".into(),
        }
    });
    let amd = cluster.service("amd", |s| {
        placement(s).platforms = vec![Platform {
            architecture: "amd64".into(),
            os: "linux".into(),
        }]
    });
    let any_linux = cluster.service("linux", |s| {
        placement(s).platforms = vec![Platform {
            architecture: String::new(),
            os: "linux".into(),
        }]
    });
    let windows = cluster.service("win", |s| {
        placement(s).platforms = vec![Platform {
            architecture: "amd64".into(),
            os: "windows".into(),
        }]
    });
    cluster.pending(&amd, 4);
    cluster.pending(&any_linux, 3);
    let win = cluster.pending(&windows, 1);
    let plan = cluster.schedule();
    let placements = Cluster::placements(&plan);
    for task in cluster.state.tasks.values() {
        if task.service_id == amd {
            assert_ne!(placements[&task.id], "n2");
        }
    }
    assert_eq!(plan.assignments.len(), 7);
    assert_eq!(
        Cluster::errors(&plan)[&win[0]],
        "no suitable node (unsupported platform on 3 nodes)"
    );
}

#[test]
fn explanations_list_most_failures_first() {
    let mut cluster = Cluster::with_nodes(4);
    cluster.availability("n1", NodeAvailability::Drain);
    cluster.label("n2", "zone", "a");
    cluster.label("n3", "zone", "b");
    cluster.label("n4", "zone", "b");
    let web = cluster.service("web", |s| constraints(s, &["node.labels.zone==c"]));
    cluster.pending(&web, 1);
    assert_eq!(
        cluster.schedule().unplaced[0].status.err,
        "no suitable node (scheduling constraints not satisfied on 3 nodes; \
         1 node not available for new tasks)"
    );
    // Equal counts keep the order of the checks.
    let mut cluster = Cluster::with_nodes(2);
    cluster.availability("n1", NodeAvailability::Pause);
    let big = cluster.service("big", |s| reserve(s, 8 * CPU, 0));
    cluster.pending(&big, 1);
    assert_eq!(
        cluster.schedule().unplaced[0].status.err,
        "no suitable node (1 node not available for new tasks; insufficient resources on 1 node)"
    );
}

#[test]
fn no_nodes_at_all() {
    let mut cluster = Cluster::new();
    let web = cluster.service("web", |_| {});
    cluster.pending(&web, 1);
    assert_eq!(
        cluster.schedule().unplaced[0].status.err,
        "no suitable node"
    );
}

#[test]
fn placed_as_soon_as_a_node_fits() {
    let mut cluster = Cluster::with_nodes(1);
    let web = cluster.service("web", |s| constraints(s, &["node.labels.ssd==true"]));
    let task = cluster.pending(&web, 1);
    let proposed_at = cluster.timestamp();
    let plan = cluster.round();
    assert_eq!(plan.unplaced.len(), 1);
    let stored = &cluster.state.tasks[&task[0]];
    assert_eq!(stored.status.state, TaskState::Pending);
    assert_eq!(stored.status.message, "pending task scheduling");
    assert_eq!(
        stored.status.err,
        "no suitable node (scheduling constraints not satisfied on 1 node)"
    );
    assert_eq!(stored.status.timestamp, proposed_at);
    assert!(cluster.round().is_empty());
    // A second node with a different failure changes the explanation once.
    cluster.add_node("n2");
    cluster.availability("n2", NodeAvailability::Pause);
    assert_eq!(
        cluster.round().unplaced[0].status.err,
        "no suitable node (1 node not available for new tasks; \
         scheduling constraints not satisfied on 1 node)"
    );
    assert!(cluster.round().is_empty());
    cluster.label("n1", "ssd", "true");
    let plan = cluster.round();
    assert_eq!(Cluster::placements(&plan)[&task[0]], "n1");
    let stored = &cluster.state.tasks[&task[0]];
    assert_eq!(stored.status.state, TaskState::Assigned);
    assert_eq!(stored.status.message, "scheduler assigned task to node");
    assert!(stored.status.err.is_empty());
}

#[test]
fn preassigned_tasks_are_confirmed_on_their_node() {
    let mut cluster = Cluster::with_nodes(3);
    let agent = cluster.service("agent", |s| reserve(s, 3 * CPU, 0));
    let hog = cluster.service("hog", |s| reserve(s, 2 * CPU, 0));
    cluster.placed(&hog, "n2", TaskState::Running);
    let on1 = cluster.preassigned(&agent, "n1");
    let on2 = cluster.preassigned(&agent, "n2");
    cluster.availability("n3", NodeAvailability::Drain);
    let on3 = cluster.preassigned(&agent, "n3");
    let gone = cluster.preassigned(&agent, "n9");
    let plan = cluster.round();
    assert_eq!(
        Cluster::placements(&plan),
        [(on1.clone(), "n1".to_string())].into()
    );
    let errors = Cluster::errors(&plan);
    // Swarm explains a preassigned task's failure without "no suitable node".
    assert_eq!(errors[&on2], "insufficient resources on 1 node");
    assert_eq!(errors[&on3], "1 node not available for new tasks");
    assert!(!errors.contains_key(&gone));
    let confirmed = &cluster.state.tasks[&on1];
    assert_eq!(confirmed.status.state, TaskState::Assigned);
    assert_eq!(
        confirmed.status.message,
        "scheduler confirmed task can run on preassigned node"
    );
}

#[test]
fn preassigned_tasks_go_first() {
    let mut cluster = Cluster::with_nodes(1);
    let web = cluster.service("web", |s| reserve(s, 2 * CPU, 0));
    let agent = cluster.service("agent", |s| reserve(s, 2 * CPU, 0));
    let tasks = cluster.pending(&web, 2);
    let global = cluster.preassigned(&agent, "n1");
    let plan = cluster.schedule();
    assert_eq!(plan.assignments[0].task_id, global);
    assert_eq!(plan.assignments.len(), 2);
    assert!(Cluster::errors(&plan).contains_key(&tasks[1]));
}

#[test]
fn preferences_spread_over_label_values() {
    let mut cluster = Cluster::with_nodes(5);
    for (node, zone) in [("n1", "a"), ("n2", "a"), ("n3", "a"), ("n4", "b")] {
        cluster.label(node, "zone", zone);
    }
    let web = cluster.service("web", |s| {
        placement(s).preferences = vec![spread_over("node.labels.zone")];
    });
    cluster.pending(&web, 9);
    let plan = cluster.schedule();
    // Three values (a, b, and none for n5): three tasks each.
    assert_eq!(counts(&plan), vec![1, 1, 1, 3, 3]);
}

#[test]
fn preferences_count_tasks_already_running() {
    let mut cluster = Cluster::with_nodes(3);
    cluster.label("n1", "rack", "r1");
    cluster.label("n2", "rack", "r2");
    cluster.label("n3", "rack", "r2");
    let web = cluster.service("web", |s| {
        placement(s).preferences = vec![spread_over("node.labels.rack")];
    });
    cluster.placed(&web, "n2", TaskState::Running);
    cluster.placed(&web, "n3", TaskState::Running);
    cluster.pending(&web, 4);
    // r1 catches up to two, then the racks alternate: r1 3, r2 3.
    assert_eq!(counts(&cluster.schedule()), vec![3, 1]);
}

#[test]
fn preferences_skip_values_where_nothing_fits() {
    let mut cluster = Cluster::with_nodes(3);
    cluster.label("n1", "zone", "a");
    cluster.label("n2", "zone", "b");
    cluster.label("n3", "zone", "b");
    let web = cluster.service("web", |s| {
        placement(s).preferences = vec![spread_over("node.labels.zone")];
        placement(s).max_replicas = 1;
    });
    cluster.availability("n1", NodeAvailability::Drain);
    let tasks = cluster.pending(&web, 3);
    let plan = cluster.schedule();
    assert_eq!(counts(&plan), vec![1, 1]);
    assert_eq!(
        Cluster::errors(&plan)[&tasks[2]],
        "no suitable node (max replicas per node limit exceed; \
         1 node not available for new tasks)"
    );
    // Engine labels spread too.
    let mut cluster = Cluster::with_nodes(3);
    cluster.engine_label("n1", "disk", "ssd");
    let db = cluster.service("db", |s| {
        placement(s).preferences = vec![spread_over("engine.labels.disk")];
    });
    cluster.pending(&db, 4);
    assert_eq!(counts(&cluster.schedule()), vec![2, 1, 1]);
}

#[test]
fn nested_preferences() {
    let mut cluster = Cluster::with_nodes(4);
    for (node, dc, rack) in [
        ("n1", "x", "1"),
        ("n2", "x", "2"),
        ("n3", "y", "1"),
        ("n4", "y", "1"),
    ] {
        cluster.label(node, "dc", dc);
        cluster.label(node, "rack", rack);
    }
    let web = cluster.service("web", |s| {
        placement(s).preferences = vec![
            spread_over("node.labels.dc"),
            spread_over("node.labels.rack"),
        ];
    });
    cluster.pending(&web, 8);
    // dc x: 4 over two racks (2, 2); dc y: 4 on its one rack over two nodes (2, 2).
    assert_eq!(counts(&cluster.schedule()), vec![2, 2, 2, 2]);
}

#[test]
fn job_tasks_are_scheduled_and_unwanted_tasks_are_not() {
    let mut cluster = Cluster::with_nodes(1);
    let job = cluster.service("job", |_| {});
    let run = cluster.pending(&job, 2);
    cluster.edit_task(&run[0], |t| t.desired_state = TaskState::Complete);
    cluster.edit_task(&run[1], |t| t.desired_state = TaskState::Shutdown);
    let orphan = cluster.service("gone", |_| {});
    cluster.pending(&orphan, 1);
    cluster.state.services.remove(&orphan);
    let plan = cluster.schedule();
    assert_eq!(
        Cluster::placements(&plan),
        [(run[0].clone(), "n1".to_string())].into()
    );
    assert!(plan.unplaced.is_empty());
}

#[test]
fn groups_follow_each_tasks_spec() {
    // During a rolling update a service has tasks of two specs: each keeps its own.
    let mut cluster = Cluster::with_nodes(2);
    cluster.label("n2", "new", "yes");
    let web = cluster.service("web", |_| {});
    let old = cluster.pending(&web, 1);
    cluster.edit_service(&web, |s| {
        constraints(&mut s.spec.task_template, &["node.labels.new==yes"])
    });
    let new = cluster.pending(&web, 2);
    let placements = Cluster::placements(&cluster.schedule());
    assert_eq!(placements[&old[0]], "n1");
    assert_eq!(placements[&new[0]], "n2");
    assert_eq!(placements[&new[1]], "n2");
}

#[test]
fn orchestrated_tasks_end_up_assigned() {
    // The orchestrator's tasks, as it makes them, through the real apply.
    let mut world = crate::orchestrator::testing::World::new();
    world.add_node("node2");
    let web = world.replicated("web", 4);
    let plan = world.reconcile();
    world.apply(&plan);
    let mut index = 1_000;
    for command in super::commands(super::schedule(&world.state), world.now) {
        index += 1;
        crate::store::apply::apply(&mut world.state, index, command).expect("apply");
    }
    let tasks: Vec<_> = world
        .all_tasks()
        .into_iter()
        .filter(|t| t.service_id == web)
        .collect();
    assert_eq!(tasks.len(), 4);
    assert!(tasks.iter().all(|t| t.status.state == TaskState::Assigned));
    assert_eq!(tasks.iter().filter(|t| t.node_id == "node2").count(), 2);
}
