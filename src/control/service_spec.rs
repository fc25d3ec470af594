//! A service spec as the engine stores it: defaults filled the way the engine's conversion to
//! swarmkit and back fills them, then swarmkit's checks, with its error texts. Pure.

use std::collections::BTreeSet;

use super::{ControlError, ControlResult};
use crate::types::constraint;
use crate::types::container_spec::Isolation;
use crate::types::endpoint::{PortProtocol, PublishMode, ResolutionMode};
use crate::types::service::{
    FailureAction, ReplicatedJob, ReplicatedService, ServiceSpec, UpdateConfig, UpdateOrder,
};
use crate::types::task_spec::{RestartPolicyCondition, RuntimeType};

/// Shortest interval the engine accepts in a health check.
const MIN_HEALTH_INTERVAL_NS: i64 = 1_000_000;

fn invalid(message: impl std::fmt::Display) -> ControlError {
    ControlError::Invalid(format!(
        "rpc error: code = InvalidArgument desc = {message}"
    ))
}

/// Fills defaults and validates. `random_name` names a service created without one.
pub fn normalize(
    spec: &mut ServiceSpec,
    random_name: impl FnOnce() -> String,
) -> ControlResult<()> {
    if spec.name.is_empty() {
        spec.name = random_name();
    }
    fill_mode(spec)?;
    fill_task_template(spec)?;
    for config in [&mut spec.update_config, &mut spec.rollback_config]
        .into_iter()
        .flatten()
    {
        fill_update_config(config);
    }
    if let Some(endpoint) = &mut spec.endpoint_spec {
        endpoint.mode.get_or_insert(ResolutionMode::Vip);
        for port in &mut endpoint.ports {
            port.protocol.get_or_insert(PortProtocol::Tcp);
            port.publish_mode.get_or_insert(PublishMode::Ingress);
        }
    }
    validate(spec)?;
    super::unsupported::check(spec)
}

fn fill_mode(spec: &mut ServiceSpec) -> ControlResult<()> {
    let mode = &mut spec.mode;
    let modes = [
        mode.replicated.is_some(),
        mode.global.is_some(),
        mode.replicated_job.is_some(),
        mode.global_job.is_some(),
    ];
    if modes.iter().filter(|m| **m).count() > 1 {
        return Err(ControlError::Invalid(
            "must specify only one service mode".into(),
        ));
    }
    if let Some(job) = &mut mode.replicated_job {
        let max = *job.max_concurrent.get_or_insert(1);
        job.total_completions.get_or_insert(max);
    } else if mode.global.is_none() && mode.global_job.is_none() {
        let replicas = mode
            .replicated
            .as_ref()
            .and_then(|r| r.replicas)
            .unwrap_or(1);
        mode.replicated = Some(ReplicatedService {
            replicas: Some(replicas),
        });
    }
    let _: Option<&ReplicatedJob> = mode.replicated_job.as_ref();
    Ok(())
}

fn fill_task_template(spec: &mut ServiceSpec) -> ControlResult<()> {
    // The deprecated top-level `Networks` move into the task template, as the engine does.
    if spec.task_template.networks.is_empty() && !spec.networks.is_empty() {
        spec.task_template.networks = std::mem::take(&mut spec.networks);
    }
    spec.networks.clear();

    let template = &mut spec.task_template;
    match template.runtime {
        None | Some(RuntimeType::Container) => {
            let Some(container) = template.container_spec.as_mut() else {
                return Err(ControlError::Invalid(
                    "mismatched Runtime and *Spec fields".into(),
                ));
            };
            template.runtime = Some(RuntimeType::Container);
            if !matches!(
                container.isolation,
                Some(Isolation::Process | Isolation::HyperV)
            ) {
                container.isolation = Some(Isolation::Default);
            }
            // A secret reference without a file target is dropped by the engine.
            container.secrets.retain(|s| s.file.is_some());
            for config in &container.configs {
                match (&config.file, &config.runtime) {
                    (None, None) => {
                        return Err(ControlError::Invalid(
                            "either File or Runtime should be set".into(),
                        ))
                    }
                    (Some(_), Some(_)) => {
                        return Err(ControlError::Invalid(
                            "cannot specify both File and Runtime".into(),
                        ))
                    }
                    _ => {}
                }
            }
        }
        Some(RuntimeType::Plugin) => {
            return Err(ControlError::Invalid(
                "runtime type \"plugin\" only supported in experimental".into(),
            ))
        }
        Some(RuntimeType::Attachment) => {
            return Err(ControlError::Invalid(
                "invalid task spec: spec type \"attachment\" not supported".into(),
            ))
        }
    }
    if let Some(resources) = &template.resources {
        let memory_limit = resources.limits.as_ref().map_or(0, |l| l.memory_bytes);
        if resources.swap_bytes.is_some() && memory_limit == 0 {
            return Err(ControlError::Invalid(
                "memory swap provided, but no memory-limit was set".into(),
            ));
        }
    }
    if let Some(restart) = &mut template.restart_policy {
        restart.condition.get_or_insert(RestartPolicyCondition::Any);
        restart.max_attempts.get_or_insert(0);
    }
    if let Some(placement) = &mut template.placement {
        placement.preferences.retain(|p| p.spread.is_some());
    }
    Ok(())
}

fn fill_update_config(config: &mut UpdateConfig) {
    config.failure_action.get_or_insert(FailureAction::Pause);
    config.order.get_or_insert(UpdateOrder::StopFirst);
}

/// swarmkit's checks of a service spec.
fn validate(spec: &ServiceSpec) -> ControlResult<()> {
    validate_name(&spec.name)?;
    let template = &spec.task_template;
    if let Some(resources) = &template.resources {
        for (cpus, memory) in [
            resources
                .limits
                .as_ref()
                .map(|l| (l.nano_cpus, l.memory_bytes)),
            resources
                .reservations
                .as_ref()
                .map(|r| (r.nano_cpus, r.memory_bytes)),
        ]
        .into_iter()
        .flatten()
        {
            if cpus != 0 && cpus < 1_000_000 {
                return Err(invalid(format!(
                    "invalid cpu value {}: Must be at least 0.001",
                    cpus as f64 / 1e9
                )));
            }
            if memory != 0 && memory < 4 * 1024 * 1024 {
                return Err(invalid(format!(
                    "invalid memory value {memory}: Must be at least 4MiB"
                )));
            }
        }
    }
    if let Some(restart) = &template.restart_policy {
        if restart.delay.is_some_and(|d| d < 0) {
            return Err(invalid("TaskSpec: restart-delay cannot be negative"));
        }
        if restart.window.is_some_and(|w| w < 0) {
            return Err(invalid("TaskSpec: restart-window cannot be negative"));
        }
    }
    if let Some(placement) = &template.placement {
        constraint::parse_all(&placement.constraints).map_err(invalid)?;
    }
    if let Some(container) = &template.container_spec {
        validate_references(container)?;
        if container.image.is_empty() {
            return Err(invalid("ContainerSpec: image reference must be provided"));
        }
        if !valid_image_reference(&container.image) {
            return Err(invalid(format!(
                "ContainerSpec: {:?} is not a valid repository/tag",
                container.image
            )));
        }
        let mut targets = BTreeSet::new();
        for mount in &container.mounts {
            if !targets.insert(mount.target.as_str()) {
                return Err(invalid(format!(
                    "ContainerSpec: duplicate mount point: {}",
                    mount.target
                )));
            }
        }
        if let Some(health) = &container.healthcheck {
            for (value, name) in [
                (health.interval, "Interval"),
                (health.timeout, "Timeout"),
                (health.start_period, "StartPeriod"),
                (health.start_interval, "StartInterval"),
            ] {
                if value != 0 && value < MIN_HEALTH_INTERVAL_NS {
                    return Err(invalid(format!(
                        "ContainerSpec: {name} in HealthConfig cannot be less than 1ms"
                    )));
                }
            }
            if health.retries < 0 {
                return Err(invalid(
                    "ContainerSpec: Retries in HealthConfig cannot be negative",
                ));
            }
        }
    }
    if spec.mode.is_job() {
        if spec.update_config.is_some() {
            return Err(invalid("Jobs may not have an update config"));
        }
    } else if let Some(update) = &spec.update_config {
        if update.delay < 0 {
            return Err(invalid("TaskSpec: update-delay cannot be negative"));
        }
        if update.monitor < 0 {
            return Err(invalid("TaskSpec: update-monitor cannot be negative"));
        }
        if !(0.0..=1.0).contains(&update.max_failure_ratio) {
            return Err(invalid(
                "TaskSpec: update-maxfailureratio cannot be less than 0 or bigger than 1",
            ));
        }
    }
    if let Some(endpoint) = &spec.endpoint_spec {
        let mut published = BTreeSet::new();
        for port in &endpoint.ports {
            if endpoint.mode == Some(ResolutionMode::DnsRr)
                && port.publish_mode == Some(PublishMode::Ingress)
            {
                return Err(invalid(
                    "EndpointSpec: port published with ingress mode can't be used with dnsrr mode",
                ));
            }
            if port.published_port != 0 && !published.insert((port.published_port, port.protocol)) {
                return Err(invalid("EndpointSpec: duplicate published ports provided"));
            }
        }
    }
    Ok(())
}

/// Service names are DNS labels: letters and digits, `-`/`_` inside, at most 63 characters.
fn validate_name(name: &str) -> ControlResult<()> {
    if name.is_empty() {
        return Err(invalid("meta: name must be provided"));
    }
    let bytes = name.as_bytes();
    let alnum = |b: &u8| b.is_ascii_alphanumeric();
    let valid = alnum(&bytes[0])
        && alnum(&bytes[bytes.len() - 1])
        && bytes.iter().all(|b| alnum(b) || *b == b'-' || *b == b'_');
    if !valid {
        return Err(invalid("name must be valid as a DNS name component"));
    }
    if name.len() > 63 {
        return Err(invalid("name must be 63 characters or fewer"));
    }
    Ok(())
}

/// Secret and config references: a file target with a name, and no two on one target.
fn validate_references(
    container: &crate::types::container_spec::ContainerSpec,
) -> ControlResult<()> {
    let mut targets: std::collections::BTreeMap<&str, &str> = Default::default();
    for secret in &container.secrets {
        let Some(file) = &secret.file else {
            return Err(invalid("malformed secret reference, no target provided"));
        };
        if file.name.is_empty() {
            return Err(invalid(
                "malformed file secret reference, invalid target file name provided",
            ));
        }
        if let Some(previous) = targets.insert(&file.name, &secret.secret_name) {
            return Err(invalid(format!(
                "secret references '{previous}' and '{}' have a conflicting target: '{}'",
                secret.secret_name, file.name
            )));
        }
    }
    let mut targets: std::collections::BTreeMap<&str, &str> = Default::default();
    for config in &container.configs {
        let Some(file) = &config.file else {
            continue;
        };
        if file.name.is_empty() {
            return Err(invalid(
                "malformed file config reference, invalid target file name provided",
            ));
        }
        if let Some(previous) = targets.insert(&file.name, &config.config_name) {
            return Err(invalid(format!(
                "config references '{previous}' and '{}' have a conflicting target: '{}'",
                config.config_name, file.name
            )));
        }
    }
    Ok(())
}

/// A loose check of a Docker image reference: `[registry/]path[:tag][@digest]`, lower-case
/// path components. Rejects what the engine's reference parser rejects most often.
fn valid_image_reference(image: &str) -> bool {
    let (name, digest) = match image.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (image, None),
    };
    if let Some(digest) = digest {
        let Some((algorithm, hex)) = digest.split_once(':') else {
            return false;
        };
        if algorithm.is_empty() || hex.len() < 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return false;
        }
    }
    // A tag is after the last ':' that follows the last '/'.
    let (path, tag) = match name.rfind(':') {
        Some(colon) if !name[colon..].contains('/') => (&name[..colon], Some(&name[colon + 1..])),
        _ => (name, None),
    };
    if let Some(tag) = tag {
        let ok = !tag.is_empty()
            && tag.len() <= 128
            && tag
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            && tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !ok {
            return false;
        }
    }
    if path.is_empty() {
        return false;
    }
    let mut components = path.split('/').peekable();
    let first = components.peek().copied().unwrap_or("");
    let has_registry =
        path.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    if has_registry {
        components.next();
    }
    let mut any = false;
    for component in components {
        any = true;
        let ok = !component.is_empty()
            && component.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
            })
            && component
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric())
            && component
                .chars()
                .last()
                .is_some_and(|c| c.is_ascii_alphanumeric());
        if !ok {
            return false;
        }
    }
    any
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::decode;

    fn spec(json: &str) -> ServiceSpec {
        decode::from_str(json).unwrap()
    }

    fn normalized(json: &str) -> ServiceSpec {
        let mut s = spec(json);
        normalize(&mut s, || "random_name".into()).unwrap();
        s
    }

    fn error(json: &str) -> String {
        let mut s = spec(json);
        normalize(&mut s, || "x".into()).unwrap_err().to_string()
    }

    #[test]
    fn fills_the_engines_defaults() {
        let s = normalized(
            r#"{"Name":"db","TaskTemplate":{"ContainerSpec":{"Image":"swarmrec/db:latest"},
                "RestartPolicy":{"Condition":"on-failure"}},
                "Mode":{"Replicated":{}},"EndpointSpec":{},
                "UpdateConfig":{"Parallelism":2,"Order":""}}"#,
        );
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(
            v["Mode"],
            serde_json::json!({"Replicated": {"Replicas": 1}})
        );
        assert_eq!(v["EndpointSpec"], serde_json::json!({"Mode": "vip"}));
        assert_eq!(v["TaskTemplate"]["Runtime"], "container");
        assert_eq!(v["TaskTemplate"]["ContainerSpec"]["Isolation"], "default");
        assert_eq!(
            v["TaskTemplate"]["RestartPolicy"],
            serde_json::json!({"Condition": "on-failure", "MaxAttempts": 0})
        );
        assert_eq!(v["UpdateConfig"]["Order"], "stop-first");
        assert_eq!(v["UpdateConfig"]["FailureAction"], "pause");
    }

    #[test]
    fn names_and_modes() {
        assert_eq!(
            normalized(r#"{"TaskTemplate":{"ContainerSpec":{"Image":"a"}}}"#).name,
            "random_name"
        );
        let job = normalized(
            r#"{"Name":"j","TaskTemplate":{"ContainerSpec":{"Image":"a"}},"Mode":{"ReplicatedJob":{"MaxConcurrent":2}}}"#,
        );
        let job = job.mode.replicated_job.unwrap();
        assert_eq!(
            (job.max_concurrent, job.total_completions),
            (Some(2), Some(2))
        );
        assert_eq!(
            error(
                r#"{"Name":"x","TaskTemplate":{"ContainerSpec":{"Image":"a"}},"Mode":{"Global":{},"Replicated":{}}}"#
            ),
            "must specify only one service mode"
        );
    }

    #[test]
    fn refuses_with_swarmkits_texts() {
        assert_eq!(
            error(r#"{"Name":"x","TaskTemplate":{"ContainerSpec":{}}}"#),
            "rpc error: code = InvalidArgument desc = ContainerSpec: image reference must be provided"
        );
        assert_eq!(
            error(r#"{"Name":"x","TaskTemplate":{}}"#),
            "mismatched Runtime and *Spec fields"
        );
        assert_eq!(
            error(r#"{"Name":"bad name","TaskTemplate":{"ContainerSpec":{"Image":"a"}}}"#),
            "rpc error: code = InvalidArgument desc = name must be valid as a DNS name component"
        );
        assert_eq!(
            error(r#"{"Name":"x","TaskTemplate":{"ContainerSpec":{"Image":"UPPER/Case"}}}"#),
            "rpc error: code = InvalidArgument desc = ContainerSpec: \"UPPER/Case\" is not a valid repository/tag"
        );
        assert!(error(r#"{"Name":"x","TaskTemplate":{"ContainerSpec":{"Image":"a"},"Placement":{"Constraints":["node.role=manager"]}}}"#)
            .ends_with("constraint expected one operator from ==, !="));
        assert!(error(r#"{"Name":"x","TaskTemplate":{"ContainerSpec":{"Image":"a"}},"EndpointSpec":{"Ports":[{"TargetPort":1,"PublishedPort":80},{"TargetPort":2,"PublishedPort":80}]}}"#)
            .ends_with("EndpointSpec: duplicate published ports provided"));
        assert!(error(r#"{"Name":"x","TaskTemplate":{"ContainerSpec":{"Image":"a"}},"UpdateConfig":{"MaxFailureRatio":2}}"#)
            .ends_with("cannot be less than 0 or bigger than 1"));
        assert!(error(r#"{"Name":"x","TaskTemplate":{"ContainerSpec":{"Image":"a"}},"Mode":{"ReplicatedJob":{}},"UpdateConfig":{}}"#)
            .ends_with("Jobs may not have an update config"));
    }

    #[test]
    fn image_references() {
        for ok in [
            "busybox",
            "swarmrec/web:v1",
            "localhost:5000/a/b:tag",
            "registry.example.com/x",
            "a@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert!(valid_image_reference(ok), "{ok}");
        }
        for bad in ["", "UPPER", "a:", "a::b", "-a", "a/", "a@sha256:xyz"] {
            assert!(!valid_image_reference(bad), "{bad}");
        }
    }
}
