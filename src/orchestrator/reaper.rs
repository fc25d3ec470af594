//! Task history: a slot keeps at most `TaskHistoryRetentionLimit` tasks (more when the restart
//! policy allows more attempts); the oldest finished ones go. Tasks of removed services are
//! stopped and then forgotten.

use super::{by_slot, is_finished, is_runnable, Action, Context, Plan};
use crate::types::task::TaskState;

pub(super) fn reconcile(context: &Context<'_>, plan: &mut Plan) {
    for (service_id, tasks) in &context.tasks {
        let Some(record) = context.state.services.get(*service_id) else {
            // The service is gone: stop what runs, forget what has stopped.
            for task in tasks {
                if is_finished(task) {
                    plan.actions.push(Action::Remove {
                        task_id: task.id.clone(),
                    });
                } else if task.desired_state < TaskState::Remove {
                    plan.actions.push(Action::SetDesired {
                        task_id: task.id.clone(),
                        desired: TaskState::Remove,
                    });
                }
            }
            continue;
        };
        let max_attempts = record
            .service
            .spec
            .task_template
            .restart_policy
            .as_ref()
            .and_then(|p| p.max_attempts)
            .unwrap_or(0);
        let keep = if max_attempts > 0 {
            max_attempts as usize + 1
        } else {
            context.retention
        };
        for slot_tasks in by_slot(record, tasks).values() {
            if slot_tasks.len() <= keep {
                continue;
            }
            // Oldest first; finished tasks that are no longer wanted go until the slot fits.
            let mut remaining = slot_tasks.len();
            for task in slot_tasks.iter().rev() {
                if remaining <= keep {
                    break;
                }
                if is_finished(task) && !is_runnable(task) {
                    plan.actions.push(Action::Remove {
                        task_id: task.id.clone(),
                    });
                    remaining -= 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[test]
    fn keeps_the_retention_limit_per_slot() {
        let mut world = World::new();
        let service = world.replicated("web", 1);
        world.set_restart(
            &service,
            crate::types::task_spec::RestartPolicyCondition::Any,
            0,
        );
        world.set_retention(2);
        world.apply(&world.reconcile());
        // Fail the slot's task again and again (restart without delay).
        for _ in 0..4 {
            let running = world
                .all_tasks()
                .into_iter()
                .find(|t| t.desired_state == TaskState::Running)
                .map(|t| t.id.clone())
                .unwrap();
            world.set_state(&running, TaskState::Failed);
            world.settle();
        }
        assert!(world.all_tasks().len() <= 2, "{}", world.all_tasks().len());
    }

    #[test]
    fn tasks_of_removed_services_are_stopped_then_removed() {
        let mut world = World::new();
        let service = world.replicated("web", 1);
        world.apply(&world.reconcile());
        let id = world.all_tasks()[0].id.clone();
        world.set_state(&id, TaskState::Running);
        world.remove_service(&service);
        // The removal itself makes the tasks unwanted (store::apply); the reaper waits for
        // the running one to stop.
        assert_eq!(world.all_tasks()[0].desired_state, TaskState::Remove);
        let plan = world.reconcile();
        assert!(plan.actions.is_empty(), "{:?}", plan.actions);
        world.set_state(&id, TaskState::Shutdown);
        let plan = world.reconcile();
        assert!(matches!(plan.actions.as_slice(), [Action::Remove { .. }]));
    }
}
