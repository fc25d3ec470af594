//! Fields of a service spec shoal cannot honour on this engine. The rule: a field that
//! cannot be honoured is refused at create and update with a clear 400, never dropped.

use super::error::{ControlError, ControlResult};
use crate::types::container_spec::Isolation;
use crate::types::endpoint::{PortProtocol, PublishMode};
use crate::types::mount::MountType;
use crate::types::service::ServiceSpec;
use crate::types::task_spec::RuntimeType;

fn refuse(what: &str) -> ControlError {
    ControlError::Invalid(format!("shoal does not support {what}"))
}

/// Refuses what no shoal node could run as asked.
pub fn check(spec: &ServiceSpec) -> ControlResult<()> {
    let template = &spec.task_template;
    if template.plugin_spec.is_some() || template.runtime == Some(RuntimeType::Plugin) {
        return Err(refuse("plugin services (TaskTemplate.PluginSpec)"));
    }
    if template.network_attachment_spec.is_some()
        || template.runtime == Some(RuntimeType::Attachment)
    {
        return Err(refuse("network attachment tasks"));
    }
    if let Some(container) = &template.container_spec {
        if matches!(
            container.isolation,
            Some(Isolation::Process | Isolation::HyperV)
        ) {
            return Err(refuse(
                "Windows isolation modes (ContainerSpec.Isolation): tasks run on Linux engines",
            ));
        }
        let credential_spec = container
            .privileges
            .as_ref()
            .and_then(|p| p.credential_spec.as_ref());
        if credential_spec
            .is_some_and(|c| !c.config.is_empty() || !c.file.is_empty() || !c.registry.is_empty())
        {
            return Err(refuse(
                "credential specs (Privileges.CredentialSpec): they are for Windows containers",
            ));
        }
        for mount in &container.mounts {
            match mount.r#type {
                Some(MountType::NamedPipe) => {
                    return Err(refuse("named pipe mounts: tasks run on Linux engines"))
                }
                Some(MountType::Cluster) => return Err(refuse("cluster (CSI) volume mounts yet")),
                _ => {}
            }
        }
    }
    if let Some(endpoint) = &spec.endpoint_spec {
        for port in &endpoint.ports {
            if port.protocol == Some(PortProtocol::Sctp)
                && port.publish_mode.unwrap_or(PublishMode::Ingress) == PublishMode::Ingress
            {
                return Err(refuse(
                    "SCTP ports in ingress mode (its routing mesh carries TCP and UDP); publish with mode=host",
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::container_spec::ContainerSpec;
    use crate::types::endpoint::{EndpointSpec, PortConfig};
    use crate::types::mount::Mount;
    use crate::types::task_spec::RuntimeSpec;

    fn spec(container: ContainerSpec) -> ServiceSpec {
        let mut spec = ServiceSpec::default();
        spec.task_template.container_spec = Some(container);
        spec
    }

    #[test]
    fn ordinary_specs_pass() {
        let s = spec(ContainerSpec {
            image: "img".into(),
            isolation: Some(Isolation::Default),
            ..Default::default()
        });
        check(&s).unwrap();
    }

    #[test]
    fn unhonourable_fields_are_refused() {
        let mut plugin = ServiceSpec::default();
        plugin.task_template.plugin_spec = Some(RuntimeSpec::default());
        assert!(check(&plugin).unwrap_err().to_string().contains("plugin"));

        let npipe = spec(ContainerSpec {
            image: "img".into(),
            mounts: vec![Mount {
                r#type: Some(MountType::NamedPipe),
                ..Default::default()
            }],
            ..Default::default()
        });
        assert!(check(&npipe).is_err());

        let mut sctp = spec(ContainerSpec::default());
        sctp.endpoint_spec = Some(EndpointSpec {
            ports: vec![PortConfig {
                protocol: Some(PortProtocol::Sctp),
                target_port: 80,
                ..Default::default()
            }],
            ..Default::default()
        });
        assert!(check(&sctp).unwrap_err().to_string().contains("SCTP"));
    }
}
