//! The restart policy: when a task ends on its own, whether and when its slot gets a new one.
//!
//! As the engine's: `Condition` any (default) restarts whatever the exit, on-failure all but a
//! clean exit, none never; `MaxAttempts` restarts within `Window` (0 = unlimited / forever);
//! the replacement starts after `Delay` (default 5 s): it is created with desired state
//! `ready` and moved to `running` once the delay has passed.

use std::sync::Arc;

use super::{Context, Nanos, Plan, SlotKey};
use crate::types::task::{Task, TaskState};
use crate::types::task_spec::RestartPolicyCondition;

/// The engine's default restart delay.
pub const DEFAULT_DELAY: Nanos = 5_000_000_000;

/// Whether a task that ended on its own should be replaced.
pub fn should_restart(context: &Context<'_>, slot: &SlotKey, task: &Task) -> bool {
    let policy = task.spec.restart_policy.as_ref();
    let condition = policy
        .and_then(|p| p.condition)
        .unwrap_or(RestartPolicyCondition::Any);
    let wanted = match condition {
        RestartPolicyCondition::Any => true,
        RestartPolicyCondition::OnFailure => task.status.state != TaskState::Complete,
        RestartPolicyCondition::None => false,
    };
    if !wanted {
        return false;
    }
    let max_attempts = policy.and_then(|p| p.max_attempts).unwrap_or(0);
    if max_attempts == 0 {
        return true;
    }
    let window = policy.and_then(|p| p.window).unwrap_or(0);
    let restarts = context
        .memory
        .restarts
        .get(slot)
        .map(|history| {
            history
                .iter()
                .filter(|at| window <= 0 || **at >= context.now - window)
                .count()
        })
        .unwrap_or(0);
    (restarts as u64) < max_attempts
}

/// The delay before a replacement of `ended` may start.
pub fn delay_of(ended: &Task) -> Nanos {
    ended
        .spec
        .restart_policy
        .as_ref()
        .and_then(|p| p.delay)
        .unwrap_or(DEFAULT_DELAY)
        .max(0)
}

/// Whether a task ended by itself (rather than being stopped because it was asked to):
/// only such an end delays its successor.
fn ended_by_itself(task: &Task) -> bool {
    matches!(
        task.status.state,
        TaskState::Complete | TaskState::Failed | TaskState::Rejected | TaskState::Orphaned
    )
}

/// Moves the slot's `ready` tasks to `running` when nothing stands in their way: no other
/// task of the slot still running (stop-first updates), and the restart delay of the task
/// they replace has passed.
pub fn start_ready_tasks(
    context: &Context<'_>,
    tasks: &[&Arc<Task>],
    running_state: TaskState,
    plan: &mut Plan,
) {
    for task in tasks.iter().filter(|t| t.desired_state == TaskState::Ready) {
        let blocked = tasks
            .iter()
            .any(|other| other.id != task.id && !super::is_finished(other));
        if blocked {
            continue;
        }
        // The newest task before this one sets the delay, if it ended by itself.
        let predecessor = tasks
            .iter()
            .filter(|other| other.id != task.id && other.created_at <= task.created_at)
            .find(|other| super::is_finished(other));
        let delay = match predecessor {
            Some(previous) if ended_by_itself(previous) => delay_of(previous),
            _ => 0,
        };
        let created = super::update::nanos(&task.created_at);
        if created + delay <= context.now {
            plan.actions.push(super::Action::SetDesired {
                task_id: task.id.clone(),
                desired: running_state,
            });
        } else {
            plan.wake(created + delay);
        }
    }
}
