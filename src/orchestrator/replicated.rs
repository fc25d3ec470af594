//! Replicated services: exactly `Replicas` slots, numbered from 1, each with one task wanted
//! running.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::{
    by_slot, has_ended, is_runnable, new_task, node_evicts_tasks, node_matches_constraints,
    restart, update, Action, Context, Plan, SlotKey,
};
use crate::store::ServiceRecord;
use crate::types::task::{Task, TaskState};

pub(super) fn reconcile(context: &Context<'_>, record: &ServiceRecord, plan: &mut Plan) {
    let service = &record.service;
    let replicas = service.spec.replicas().unwrap_or(0) as i64;
    let slots = by_slot(record, context.tasks_of(&service.id));
    let mut occupied: BTreeSet<i64> = BTreeSet::new();
    let mut live: Vec<(SlotKey, Vec<&Arc<Task>>)> = Vec::new();

    for (key, tasks) in &slots {
        let SlotKey::Replica(_, slot) = key else {
            continue;
        };
        if !tasks.iter().any(|t| is_runnable(t)) {
            continue;
        }
        occupied.insert(*slot);
        handle_slot(context, record, key, *slot, tasks, TaskState::Running, plan);
        live.push((key.clone(), tasks.clone()));
    }

    // Scale down: the highest slots go.
    let excess = occupied.len() as i64 - replicas;
    let mut removed: BTreeSet<i64> = BTreeSet::new();
    if excess > 0 {
        for slot in occupied.iter().rev().take(excess as usize) {
            removed.insert(*slot);
        }
        for (key, tasks) in &live {
            if let SlotKey::Replica(_, slot) = key {
                if removed.contains(slot) {
                    for task in tasks.iter().filter(|t| is_runnable(t)) {
                        plan.actions.push(Action::SetDesired {
                            task_id: task.id.clone(),
                            desired: TaskState::Shutdown,
                        });
                    }
                }
            }
        }
    }
    // Scale up: the lowest free slots.
    let mut missing = replicas - occupied.len() as i64;
    let mut slot = 1;
    while missing > 0 {
        if !occupied.contains(&slot) {
            let task = new_task(context, record, slot, "", TaskState::Running);
            plan.actions.push(Action::Create(Box::new(task)));
            missing -= 1;
        }
        slot += 1;
    }

    live.retain(|(key, _)| match key {
        SlotKey::Replica(_, slot) => !removed.contains(slot),
        SlotKey::Node(..) => true,
    });
    update::reconcile(context, record, &live, TaskState::Running, plan);
}

/// Restarts, evictions and delayed starts within one slot (shared with global services).
pub(super) fn handle_slot(
    context: &Context<'_>,
    record: &ServiceRecord,
    key: &SlotKey,
    slot: i64,
    tasks: &[&Arc<Task>],
    running_state: TaskState,
    plan: &mut Plan,
) {
    let node_of = |task: &Task| context.state.nodes.get(&task.node_id).map(|n| n.as_ref());
    let global_node = match key {
        SlotKey::Node(_, node) => node.as_str(),
        SlotKey::Replica(..) => "",
    };
    for task in tasks.iter().filter(|t| is_runnable(t)) {
        if has_ended(task) {
            // It stopped on its own while wanted: the restart policy decides.
            if restart::should_restart(context, key, task) {
                plan.actions.push(Action::SetDesired {
                    task_id: task.id.clone(),
                    desired: TaskState::Shutdown,
                });
                let desired = if restart::delay_of(task) > 0 {
                    TaskState::Ready
                } else {
                    running_state
                };
                let mut replacement = new_task(context, record, slot, global_node, desired);
                replacement.job_iteration = task.job_iteration;
                plan.actions.push(Action::Create(Box::new(replacement)));
                plan.restarts.push((key.clone(), context.now));
            }
            // Without a restart it keeps its slot, as the engine's does (no new task).
            continue;
        }
        if task.node_id.is_empty() || !global_node.is_empty() {
            continue;
        }
        let node = node_of(task);
        let evicted =
            node_evicts_tasks(node) || node.is_some_and(|n| !node_matches_constraints(record, n));
        if evicted {
            plan.actions.push(Action::SetDesired {
                task_id: task.id.clone(),
                desired: TaskState::Shutdown,
            });
            let mut replacement = new_task(context, record, slot, "", running_state);
            replacement.job_iteration = task.job_iteration;
            plan.actions.push(Action::Create(Box::new(replacement)));
        }
    }
    restart::start_ready_tasks(context, tasks, running_state, plan);
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[test]
    fn creates_missing_slots_and_shuts_down_extra_ones() {
        let mut world = World::new();
        let service = world.replicated("web", 3);
        let plan = world.reconcile();
        let created: Vec<i64> = plan
            .actions
            .iter()
            .filter_map(|a| match a {
                Action::Create(t) => Some(t.slot),
                _ => None,
            })
            .collect();
        assert_eq!(created, vec![1, 2, 3]);

        world.apply(&plan);
        world.scale(&service, 1);
        let plan = world.reconcile();
        let shut: Vec<String> = desired_changes(&plan, TaskState::Shutdown);
        assert_eq!(shut.len(), 2);
        for id in shut {
            assert!(world.task(&id).slot > 1);
        }
    }

    #[test]
    fn a_failed_task_is_replaced_after_the_restart_delay() {
        let mut world = World::new();
        world.replicated("web", 1);
        world.apply(&world.reconcile());
        let first = world.tasks_of_slot(1)[0].id.clone();
        world.set_state(&first, TaskState::Failed);
        let plan = world.reconcile();
        assert_eq!(
            desired_changes(&plan, TaskState::Shutdown),
            vec![first.clone()]
        );
        let replacement = created(&plan);
        assert_eq!(replacement.len(), 1);
        assert_eq!(replacement[0].desired_state, TaskState::Ready);
        world.apply(&plan);
        // Before the delay nothing more happens; after it, the replacement may run.
        let plan = world.reconcile();
        assert!(desired_changes(&plan, TaskState::Running).is_empty());
        assert!(plan.wake_at.is_some());
        world.advance(restart::DEFAULT_DELAY);
        let plan = world.reconcile();
        assert_eq!(desired_changes(&plan, TaskState::Running).len(), 1);
    }

    #[test]
    fn restart_condition_none_leaves_the_slot_alone() {
        let mut world = World::new();
        let service = world.replicated("web", 1);
        world.set_restart(
            &service,
            crate::types::task_spec::RestartPolicyCondition::None,
            0,
        );
        world.apply(&world.reconcile());
        let first = world.tasks_of_slot(1)[0].id.clone();
        world.set_state(&first, TaskState::Failed);
        let plan = world.reconcile();
        assert!(plan.actions.is_empty(), "{:?}", plan.actions);
    }

    #[test]
    fn zero_delay_restarts_at_once_and_counts_attempts() {
        let mut world = World::new();
        let service = world.replicated("web", 1);
        world.set_restart(
            &service,
            crate::types::task_spec::RestartPolicyCondition::Any,
            0,
        );
        world.set_max_attempts(&service, 1);
        world.apply(&world.reconcile());
        let first = world.tasks_of_slot(1)[0].id.clone();
        world.set_state(&first, TaskState::Failed);
        let plan = world.reconcile();
        assert_eq!(created(&plan)[0].desired_state, TaskState::Running);
        world.apply(&plan);
        let second = world
            .tasks_of_slot(1)
            .into_iter()
            .find(|t| t.desired_state == TaskState::Running)
            .map(|t| t.id.clone())
            .unwrap();
        world.set_state(&second, TaskState::Failed);
        // One attempt allowed, one used: no more restarts.
        assert!(created(&world.reconcile()).is_empty());
    }

    #[test]
    fn drained_nodes_lose_their_tasks() {
        let mut world = World::new();
        world.replicated("web", 2);
        world.apply(&world.reconcile());
        world.place_all_on("node1");
        world.drain("node1");
        let plan = world.reconcile();
        assert_eq!(desired_changes(&plan, TaskState::Shutdown).len(), 2);
        assert_eq!(created(&plan).len(), 2);
    }
}
