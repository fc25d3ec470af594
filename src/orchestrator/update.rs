//! Rolling updates and rollbacks: slots whose task runs an out-of-date spec get a new task,
//! `Parallelism` slots at a time, `Delay` apart, stop-first or start-first; failures within
//! `Monitor` of a new task's start count towards `MaxFailureRatio`, past which the update
//! pauses, rolls back or goes on (`FailureAction`). `UpdateStatus` tells clients where it is:
//! `updating` -> `completed`, `rollback_started` -> `rollback_completed`, or `paused`.
//!
//! Everything is derived from the tasks and the time, so the update resumes where it was
//! after a restart or a change of leader.

use std::sync::Arc;

use super::{
    has_ended, is_runnable, is_up_to_date, new_task, Action, Context, Nanos, Plan, SlotKey,
};
use crate::store::ServiceRecord;
use crate::types::meta::Timestamp;
use crate::types::service::{FailureAction, UpdateConfig, UpdateOrder, UpdateState, UpdateStatus};
use crate::types::task::{Task, TaskState};

const SECOND: Nanos = 1_000_000_000;
/// The engine's default monitoring period.
const DEFAULT_MONITOR: Nanos = 5 * SECOND;

pub(super) fn nanos(t: &Timestamp) -> Nanos {
    Nanos::try_from(t.unix_nanos()).unwrap_or(Nanos::MAX)
}

fn config(record: &ServiceRecord, rolling_back: bool) -> UpdateConfig {
    let spec = &record.service.spec;
    let configured = if rolling_back {
        spec.rollback_config.clone()
    } else {
        spec.update_config.clone()
    };
    configured.unwrap_or(UpdateConfig {
        parallelism: 1,
        delay: 0,
        failure_action: Some(FailureAction::Pause),
        monitor: DEFAULT_MONITOR,
        max_failure_ratio: 0.0,
        order: Some(UpdateOrder::StopFirst),
    })
}

/// One live slot as the updater sees it.
struct SlotView<'a> {
    key: &'a SlotKey,
    /// The newest up-to-date task still wanted, if any.
    fresh: Option<&'a Arc<Task>>,
    /// Out-of-date tasks still wanted.
    stale: Vec<&'a Arc<Task>>,
}

pub(super) fn reconcile(
    context: &Context<'_>,
    record: &ServiceRecord,
    slots: &[(SlotKey, Vec<&Arc<Task>>)],
    running_state: TaskState,
    plan: &mut Plan,
) {
    let service = &record.service;
    let status = service.update_status.as_ref();
    let state = status.map(|s| s.state);
    if matches!(
        state,
        Some(UpdateState::Paused | UpdateState::RollbackPaused)
    ) {
        return;
    }
    let rolling_back = state == Some(UpdateState::RollbackStarted);
    let config = config(record, rolling_back);
    let monitor = if config.monitor > 0 {
        config.monitor
    } else {
        DEFAULT_MONITOR
    };

    let views: Vec<SlotView<'_>> = slots
        .iter()
        .map(|(key, tasks)| {
            let node_id = match key {
                SlotKey::Node(_, node) => Some(node.as_str()),
                SlotKey::Replica(..) => None,
            };
            let mut fresh = None;
            let mut stale = Vec::new();
            for task in tasks.iter().filter(|t| is_runnable(t)) {
                let node = context
                    .state
                    .nodes
                    .get(node_id.unwrap_or(&task.node_id))
                    .map(|n| n.as_ref());
                if is_up_to_date(record, task, node) {
                    fresh.get_or_insert(*task);
                } else {
                    stale.push(*task);
                }
            }
            SlotView { key, fresh, stale }
        })
        .collect();

    let started_at = status
        .and_then(|s| s.started_at)
        .map(|t| nanos(&t))
        .unwrap_or(context.now);
    let running_since = |task: &Task| {
        (task.status.state == TaskState::Running).then(|| nanos(&task.status.timestamp))
    };

    // Slots waiting for an update, and slots mid-way.
    let dirty: Vec<&SlotView<'_>> = views
        .iter()
        .filter(|v| v.fresh.is_none() && !v.stale.is_empty())
        .collect();
    if status.is_none() && dirty.is_empty() {
        // No update: new tasks on their way up are not an update's business.
        return;
    }
    let in_flight = views
        .iter()
        .filter(|v| match v.fresh {
            Some(fresh) => {
                (fresh.status.state < TaskState::Running && nanos(&fresh.created_at) >= started_at)
                    || !v.stale.is_empty()
            }
            None => false,
        })
        .count();

    // start-first: the new task runs, the old one can go.
    for view in &views {
        if let Some(fresh) = view.fresh {
            if fresh.status.state == TaskState::Running {
                for old in &view.stale {
                    plan.actions.push(Action::SetDesired {
                        task_id: old.id.clone(),
                        desired: TaskState::Shutdown,
                    });
                }
            }
        }
    }

    if dirty.is_empty() && in_flight == 0 {
        if matches!(
            state,
            Some(UpdateState::Updating | UpdateState::RollbackStarted)
        ) {
            // Done once the last new task has run for the monitoring period.
            let updated: Vec<&Arc<Task>> = views
                .iter()
                .filter_map(|v| v.fresh)
                .filter(|t| nanos(&t.created_at) >= started_at)
                .collect();
            let last_start = updated.iter().filter_map(|t| running_since(t)).max();
            let wait = if config.delay >= monitor {
                config.delay + SECOND
            } else {
                monitor
            };
            let due = match last_start {
                Some(start) if !updated.is_empty() => start + wait,
                _ => context.now,
            };
            if due <= context.now {
                let (state, message) = if rolling_back {
                    (UpdateState::RollbackCompleted, "rollback completed")
                } else {
                    (UpdateState::Completed, "update completed")
                };
                plan.actions.push(Action::SetUpdateStatus {
                    service_id: service.id.clone(),
                    status: Some(UpdateStatus {
                        state,
                        started_at: status.and_then(|s| s.started_at),
                        completed_at: Some(context.timestamp()),
                        message: message.into(),
                    }),
                });
            } else {
                plan.wake(due);
            }
        }
        return;
    }

    if status.is_none() {
        plan.actions.push(Action::SetUpdateStatus {
            service_id: service.id.clone(),
            status: Some(UpdateStatus {
                state: UpdateState::Updating,
                started_at: Some(context.timestamp()),
                completed_at: None,
                message: "update in progress".into(),
            }),
        });
    }

    // Failures of new tasks soon after they started count against the update.
    let failure_action = config.failure_action.unwrap_or(FailureAction::Pause);
    if failure_action != FailureAction::Continue {
        let failed: Vec<&Task> = context
            .tasks_of(&service.id)
            .iter()
            .filter(|t| nanos(&t.created_at) >= started_at)
            .filter(|t| {
                is_up_to_date(
                    record,
                    t,
                    context.state.nodes.get(&t.node_id).map(|n| n.as_ref()),
                )
            })
            .filter(|t| {
                has_ended(t)
                    && matches!(
                        t.status.state,
                        TaskState::Failed | TaskState::Rejected | TaskState::Complete
                    )
                    && nanos(&t.status.timestamp) - nanos(&t.created_at) <= monitor + 60 * SECOND
            })
            .map(|t| t.as_ref())
            .collect();
        let total = views.len().max(1) as f32;
        if let Some(first) = failed.first() {
            if failed.len() as f32 / total > config.max_failure_ratio {
                let paused = |state, message: String| Action::SetUpdateStatus {
                    service_id: service.id.clone(),
                    status: Some(UpdateStatus {
                        state,
                        started_at: status.and_then(|s| s.started_at),
                        completed_at: None,
                        message,
                    }),
                };
                match (failure_action, rolling_back) {
                    (_, true) => plan.actions.push(paused(
                        UpdateState::RollbackPaused,
                        format!(
                            "rollback paused due to failure or early termination of task {}",
                            first.id
                        ),
                    )),
                    (FailureAction::Rollback, false) => plan.actions.push(Action::Rollback {
                        service_id: service.id.clone(),
                        message: format!(
                            "update rolled back due to failure or early termination of task {}",
                            first.id
                        ),
                    }),
                    _ => plan.actions.push(paused(
                        UpdateState::Paused,
                        format!(
                            "update paused due to failure or early termination of task {}",
                            first.id
                        ),
                    )),
                }
                return;
            }
        }
    }

    // How many slots may start now: `Parallelism` workers, each busy until its new task runs
    // and then for `Delay`.
    let cooling: Vec<Nanos> = views
        .iter()
        .filter_map(|v| v.fresh)
        .filter(|t| nanos(&t.created_at) >= started_at)
        .filter_map(|t| running_since(t))
        .filter(|since| config.delay > 0 && since + config.delay > context.now)
        .map(|since| since + config.delay)
        .collect();
    for until in &cooling {
        plan.wake(*until);
    }
    let busy = in_flight + cooling.len();
    let free = if config.parallelism == 0 {
        usize::MAX
    } else {
        (config.parallelism as usize).saturating_sub(busy)
    };
    let start_first = config.order == Some(UpdateOrder::StartFirst);
    for view in dirty.into_iter().take(free) {
        let (slot, node) = match view.key {
            SlotKey::Replica(_, slot) => (*slot, ""),
            SlotKey::Node(_, node) => (0, node.as_str()),
        };
        if start_first {
            let task = new_task(context, record, slot, node, running_state);
            plan.actions.push(Action::Create(Box::new(task)));
        } else {
            for old in &view.stale {
                plan.actions.push(Action::SetDesired {
                    task_id: old.id.clone(),
                    desired: TaskState::Shutdown,
                });
            }
            let task = new_task(context, record, slot, node, TaskState::Ready);
            plan.actions.push(Action::Create(Box::new(task)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[test]
    fn rolls_one_slot_at_a_time_stop_first_then_completes_after_the_monitor() {
        let mut world = World::new();
        let service = world.replicated("web", 2);
        world.apply(&world.reconcile());
        world.run_all();
        world.change_image(&service, "web:v2");

        let plan = world.reconcile();
        assert!(plan.actions.iter().any(|a| matches!(a,
            Action::SetUpdateStatus { status: Some(s), .. } if s.state == UpdateState::Updating)));
        assert_eq!(created(&plan).len(), 1, "parallelism 1");
        assert_eq!(desired_changes(&plan, TaskState::Shutdown).len(), 1);
        world.apply(&plan);
        // Nothing else starts while the first slot is in flight.
        world.stop_shut_down_tasks();
        let plan = world.reconcile();
        assert_eq!(created(&plan).len(), 0);
        assert_eq!(desired_changes(&plan, TaskState::Running).len(), 1);
        world.apply(&plan);
        world.run_all();
        // The second slot now.
        let plan = world.reconcile();
        assert_eq!(created(&plan).len(), 1);
        world.apply(&plan);
        world.stop_shut_down_tasks();
        world.apply(&world.reconcile());
        world.run_all();
        // All up to date; completed only after the monitoring period.
        let plan = world.reconcile();
        assert!(!plan
            .actions
            .iter()
            .any(|a| matches!(a, Action::SetUpdateStatus { .. })));
        world.advance(DEFAULT_MONITOR);
        let plan = world.reconcile();
        assert!(plan.actions.iter().any(|a| matches!(a,
            Action::SetUpdateStatus { status: Some(s), .. } if s.state == UpdateState::Completed)));
    }

    #[test]
    fn a_failure_pauses_the_update() {
        let mut world = World::new();
        let service = world.replicated("web", 2);
        world.apply(&world.reconcile());
        world.run_all();
        world.change_image(&service, "web:v2");
        world.apply(&world.reconcile());
        world.stop_shut_down_tasks();
        world.apply(&world.reconcile());
        let fresh = world
            .all_tasks()
            .into_iter()
            .find(|t| t.desired_state == TaskState::Running && t.status.state < TaskState::Running)
            .map(|t| t.id.clone())
            .unwrap();
        world.set_state(&fresh, TaskState::Failed);
        let plan = world.reconcile();
        assert!(
            plan.actions.iter().any(|a| matches!(a,
            Action::SetUpdateStatus { status: Some(s), .. } if s.state == UpdateState::Paused)),
            "{:?}",
            plan.actions
        );
    }
}
