//! `/tasks`: list (with the engine's filters) and inspect.

use std::sync::Arc;

use super::{Control, ControlError, ControlResult, Listed};
use crate::store::{ClusterState, ServiceRecord};
use crate::types::filters::Filters;
use crate::types::node::Node;
use crate::types::task::{Task, TaskState};

const LIST_FILTERS: &[&str] = &[
    "name",
    "id",
    "label",
    "service",
    "node",
    "desired-state",
    "_up-to-date",
    "runtime",
];

impl Control {
    /// `GET /tasks`.
    pub fn list_tasks(&self, filters: &Filters) -> ControlResult<Listed<Task>> {
        filters
            .validate(LIST_FILTERS)
            .map_err(|e| ControlError::Invalid(e.to_string()))?;
        let mut desired = Vec::new();
        for value in filters.get("desired-state") {
            match value.parse::<TaskState>() {
                Ok(state) => desired.push(state),
                Err(_) if value.is_empty() => {}
                Err(_) => {
                    return Err(ControlError::Invalid(format!(
                        "Invalid desired-state filter: '{value}'"
                    )))
                }
            }
        }
        let manager = self.manager()?;
        let state = manager.store.read();
        // `service` and `node` accept names and ID prefixes; each must resolve.
        let services: Vec<String> = filters
            .get("service")
            .iter()
            .map(|s| {
                state
                    .resolve::<ServiceRecord>(s)
                    .map(|r| r.service.id.clone())
            })
            .collect::<Result<_, _>>()?;
        let nodes: Vec<String> = filters
            .get("node")
            .iter()
            .map(|n| state.resolve::<Node>(n).map(|n| n.id.clone()))
            .collect::<Result<_, _>>()?;
        let up_to_date = filters.contains("_up-to-date");
        let tasks = state
            .tasks
            .values()
            .filter(|task| {
                let service = state.services.get(&task.service_id);
                (services.is_empty() || services.contains(&task.service_id))
                    && (nodes.is_empty() || nodes.contains(&task.node_id))
                    && (desired.is_empty() || desired.contains(&task.desired_state))
                    && filters.fuzzy_match("id", &task.id)
                    && (!filters.contains("name")
                        || filters.fuzzy_match("name", &task_name(&state, task)))
                    && (!filters.contains("label")
                        || service
                            .is_some_and(|s| filters.match_labels("label", &s.service.spec.labels)))
                    && (!filters.contains("runtime") || filters.exact_match("runtime", "container"))
                    && (!up_to_date || service.is_some_and(|s| task.is_up_to_date(&s.service)))
            })
            .cloned()
            .collect();
        Ok(Listed(tasks))
    }

    /// `GET /tasks/{id}`: by ID, name or unique ID prefix.
    pub fn inspect_task(&self, input: &str) -> ControlResult<Task> {
        let manager = self.manager()?;
        let state = manager.store.read();
        if let Some(task) = state.tasks.get(input) {
            return Ok((**task).clone());
        }
        let by_name: Vec<&Arc<Task>> = state
            .tasks
            .values()
            .filter(|t| task_name(&state, t) == input)
            .collect();
        let matches: Vec<&Arc<Task>> = if by_name.is_empty() {
            state
                .tasks
                .range::<str, _>((std::ops::Bound::Included(input), std::ops::Bound::Unbounded))
                .take_while(|(id, _)| id.starts_with(input))
                .map(|(_, t)| t)
                .collect()
        } else {
            by_name
        };
        match matches.as_slice() {
            [one] if !input.is_empty() => Ok(Task::clone(one)),
            [] | [_] => Err(ControlError::NotFound(format!("task {input} not found"))),
            many => Err(ControlError::Invalid(format!(
                "task {input} is ambiguous ({} matches found)",
                many.len()
            ))),
        }
    }
}

/// A task's name as the engine builds it: `<service>.<slot or node ID>.<task ID>`.
pub fn task_name(state: &ClusterState, task: &Task) -> String {
    if !task.name.is_empty() {
        return task.name.clone();
    }
    let service = state
        .services
        .get(&task.service_id)
        .map(|s| s.service.spec.name.as_str())
        .unwrap_or("");
    let slot = if task.slot == 0 {
        task.node_id.clone()
    } else {
        task.slot.to_string()
    };
    format!("{service}.{slot}.{}", task.id)
}
