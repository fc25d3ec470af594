//! `insertDefaults=true`: the spec with the engine's defaults shown where the user left them
//! out (what `docker service inspect` displays).

use crate::types::container_spec::DNSConfig;
use crate::types::service::{FailureAction, ServiceSpec, UpdateConfig, UpdateOrder};
use crate::types::task_spec::{
    Placement, ResourceRequirements, RestartPolicy, RestartPolicyCondition,
};

const SECOND: i64 = 1_000_000_000;

fn default_update_config() -> UpdateConfig {
    UpdateConfig {
        parallelism: 1,
        delay: 0,
        failure_action: Some(FailureAction::Pause),
        monitor: 5 * SECOND,
        max_failure_ratio: 0.0,
        order: Some(UpdateOrder::StopFirst),
    }
}

pub fn interpolate(spec: &mut ServiceSpec) {
    let template = &mut spec.task_template;
    if let Some(container) = &mut template.container_spec {
        container.stop_grace_period.get_or_insert(10 * SECOND);
        container.dns_config.get_or_insert_with(DNSConfig::default);
    }
    template
        .resources
        .get_or_insert_with(ResourceRequirements::default);
    match &mut template.restart_policy {
        None => {
            template.restart_policy = Some(RestartPolicy {
                condition: Some(RestartPolicyCondition::Any),
                delay: Some(5 * SECOND),
                max_attempts: Some(0),
                window: None,
            })
        }
        Some(policy) => {
            policy.delay.get_or_insert(5 * SECOND);
        }
    }
    template.placement.get_or_insert_with(Placement::default);
    for config in [&mut spec.update_config, &mut spec.rollback_config] {
        match config {
            None => *config = Some(default_update_config()),
            Some(config) if config.monitor == 0 => config.monitor = 5 * SECOND,
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::decode;

    #[test]
    fn shows_what_the_engine_shows() {
        let mut spec: ServiceSpec = decode::from_str(
            r#"{"Name":"web","Labels":{},"TaskTemplate":{"ContainerSpec":{"Image":"swarmrec/web:v1","Init":false,"DNSConfig":{},"Isolation":"default"},"Resources":{"Limits":{},"Reservations":{}},"Placement":{},"ForceUpdate":0,"Runtime":"container"},"Mode":{"Replicated":{"Replicas":2}},"EndpointSpec":{"Mode":"vip"}}"#,
        )
        .unwrap();
        interpolate(&mut spec);
        let v = serde_json::to_value(&spec).unwrap();
        assert_eq!(
            v["TaskTemplate"]["ContainerSpec"]["StopGracePeriod"],
            10_000_000_000i64
        );
        assert_eq!(
            v["TaskTemplate"]["RestartPolicy"],
            serde_json::json!({"Condition": "any", "Delay": 5000000000i64, "MaxAttempts": 0})
        );
        let update = serde_json::json!({"Parallelism": 1, "FailureAction": "pause", "Monitor": 5000000000i64, "MaxFailureRatio": 0, "Order": "stop-first"});
        assert_eq!(v["UpdateConfig"], update);
        assert_eq!(v["RollbackConfig"], update);
    }
}
