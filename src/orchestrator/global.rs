//! Global services: one task on every node that can take it.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::replicated::handle_slot;
use super::{
    by_slot, is_runnable, new_task, node_accepts_tasks, node_evicts_tasks,
    node_matches_constraints, update, Action, Context, Plan, SlotKey,
};
use crate::store::ServiceRecord;
use crate::types::task::{Task, TaskState};

pub(super) fn reconcile(context: &Context<'_>, record: &ServiceRecord, plan: &mut Plan) {
    let service = &record.service;
    let slots = by_slot(record, context.tasks_of(&service.id));
    let mut covered: BTreeSet<&str> = BTreeSet::new();
    let mut live: Vec<(SlotKey, Vec<&Arc<Task>>)> = Vec::new();

    for (key, tasks) in &slots {
        let SlotKey::Node(_, node_id) = key else {
            continue;
        };
        if !tasks.iter().any(|t| is_runnable(t)) {
            continue;
        }
        let node = context.state.nodes.get(node_id).map(|n| n.as_ref());
        let unwanted =
            node_evicts_tasks(node) || node.is_some_and(|n| !node_matches_constraints(record, n));
        if unwanted {
            for task in tasks.iter().filter(|t| is_runnable(t)) {
                plan.actions.push(Action::SetDesired {
                    task_id: task.id.clone(),
                    desired: TaskState::Shutdown,
                });
            }
            continue;
        }
        covered.insert(node_id.as_str());
        handle_slot(context, record, key, 0, tasks, TaskState::Running, plan);
        live.push((key.clone(), tasks.clone()));
    }

    for node in context.state.nodes.values() {
        if covered.contains(node.id.as_str())
            || !node_accepts_tasks(node)
            || !node_matches_constraints(record, node)
        {
            continue;
        }
        let task = new_task(context, record, 0, &node.id, TaskState::Running);
        plan.actions.push(Action::Create(Box::new(task)));
    }

    update::reconcile(context, record, &live, TaskState::Running, plan);
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[test]
    fn one_task_per_node_that_fits() {
        let mut world = World::new();
        world.add_node("node2");
        world.global("agent");
        let plan = world.reconcile();
        let nodes: BTreeSet<String> = created(&plan).iter().map(|t| t.node_id.clone()).collect();
        assert_eq!(
            nodes,
            ["node1", "node2"].iter().map(|s| s.to_string()).collect()
        );
        world.apply(&plan);
        let again = world.reconcile();
        assert!(again.actions.is_empty(), "{:?}", again.actions);
        world.drain("node2");
        let plan = world.reconcile();
        assert_eq!(desired_changes(&plan, TaskState::Shutdown).len(), 1);
        assert!(created(&plan).is_empty());
    }
}
