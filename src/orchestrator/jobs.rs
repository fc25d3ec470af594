//! Jobs: tasks that run to completion. A replicated job completes `TotalCompletions` tasks,
//! at most `MaxConcurrent` at a time; a global job runs once on every node that fits. Each
//! `service update` starts a new iteration (`JobStatus.JobIteration`); tasks of older ones are
//! stopped.

use std::collections::BTreeSet;

use super::{
    by_slot, has_ended, is_finished, new_task, node_accepts_tasks, node_matches_constraints,
    restart, Action, Context, Plan, SlotKey,
};
use crate::store::ServiceRecord;
use crate::types::meta::Version;
use crate::types::task::TaskState;

pub(super) fn reconcile(context: &Context<'_>, record: &ServiceRecord, plan: &mut Plan) {
    let service = &record.service;
    let iteration = service
        .job_status
        .as_ref()
        .map(|j| j.job_iteration.index)
        .unwrap_or(0);
    let tasks = context.tasks_of(&service.id);

    // Tasks of an earlier iteration that still run are stopped.
    for task in tasks {
        let current = task.job_iteration.map(|v| v.index) == Some(iteration);
        if !current && !is_finished(task) && task.desired_state <= TaskState::Complete {
            plan.actions.push(Action::SetDesired {
                task_id: task.id.clone(),
                desired: TaskState::Remove,
            });
        }
    }
    let current: Vec<_> = tasks
        .iter()
        .filter(|t| t.job_iteration.map(|v| v.index) == Some(iteration))
        .copied()
        .collect();

    // Failed tasks of this iteration are retried per the restart policy.
    let slots = by_slot(record, &current);
    for (key, slot_tasks) in &slots {
        for task in slot_tasks
            .iter()
            .filter(|t| t.desired_state <= TaskState::Complete)
        {
            if has_ended(task)
                && task.status.state != TaskState::Complete
                && restart::should_restart(context, key, task)
            {
                plan.actions.push(Action::SetDesired {
                    task_id: task.id.clone(),
                    desired: TaskState::Shutdown,
                });
                let (slot, node) = match key {
                    SlotKey::Replica(_, slot) => (*slot, ""),
                    SlotKey::Node(_, node) => (0, node.as_str()),
                };
                let desired = if restart::delay_of(task) > 0 {
                    TaskState::Ready
                } else {
                    TaskState::Complete
                };
                let mut replacement = new_task(context, record, slot, node, desired);
                replacement.job_iteration = Some(Version::new(iteration));
                plan.actions.push(Action::Create(Box::new(replacement)));
                plan.restarts.push((key.clone(), context.now));
            }
        }
        restart::start_ready_tasks(context, slot_tasks, TaskState::Complete, plan);
    }

    if let Some(job) = &service.spec.mode.replicated_job {
        let max_concurrent = job.max_concurrent.unwrap_or(1);
        let total = job.total_completions.unwrap_or(max_concurrent);
        let mut used_slots: BTreeSet<i64> = BTreeSet::new();
        let mut complete = 0u64;
        let mut active = 0u64;
        for task in &current {
            if task.status.state == TaskState::Complete {
                complete += 1;
                used_slots.insert(task.slot);
            } else if task.desired_state <= TaskState::Complete {
                active += 1;
                used_slots.insert(task.slot);
            }
        }
        let possible = max_concurrent.saturating_sub(active);
        let allowed = total.saturating_sub(complete + active);
        let mut slot = 0;
        for _ in 0..possible.min(allowed) {
            while used_slots.contains(&slot) {
                slot += 1;
            }
            used_slots.insert(slot);
            let mut task = new_task(context, record, slot, "", TaskState::Complete);
            task.job_iteration = Some(Version::new(iteration));
            plan.actions.push(Action::Create(Box::new(task)));
        }
    } else {
        // A global job: each fitting node runs it once per iteration.
        let done: BTreeSet<&str> = current
            .iter()
            .filter(|t| {
                t.desired_state <= TaskState::Complete || t.status.state == TaskState::Complete
            })
            .map(|t| t.node_id.as_str())
            .collect();
        for node in context.state.nodes.values() {
            if done.contains(node.id.as_str())
                || !node_accepts_tasks(node)
                || !node_matches_constraints(record, node)
            {
                continue;
            }
            let mut task = new_task(context, record, 0, &node.id, TaskState::Complete);
            task.job_iteration = Some(Version::new(iteration));
            plan.actions.push(Action::Create(Box::new(task)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[test]
    fn a_replicated_job_runs_to_its_total_at_most_max_concurrent_at_a_time() {
        let mut world = World::new();
        world.replicated_job("job", 2, 3);
        let plan = world.reconcile();
        let first = created(&plan);
        assert_eq!(first.len(), 2);
        assert!(first.iter().all(|t| t.desired_state == TaskState::Complete));
        world.apply(&plan);
        assert!(created(&world.reconcile()).is_empty());
        let done = first[0].id.clone();
        world.set_state(&done, TaskState::Complete);
        let plan = world.reconcile();
        assert_eq!(created(&plan).len(), 1);
        world.apply(&plan);
        for task in world.all_tasks() {
            world.set_state(&task.id, TaskState::Complete);
        }
        assert!(world.reconcile().actions.is_empty());
    }
}
