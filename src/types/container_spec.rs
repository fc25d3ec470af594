//! The container a task runs: `TaskTemplate.ContainerSpec`, complete as of API 1.52.
//!
//! Field order is the engine's (moby's struct order). Note the engine's own spelling
//! `Healthcheck` (the swagger says `HealthCheck`; both decode, keys being case-insensitive).
//! Depends on `meta`, `enums`, `mount`, `secret`, `config`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::config::ConfigReference;
use super::encoding::{base64_bytes, is_empty_bytes};
use super::enums::{empty_as_none, string_enum};
use super::meta::{is_false, is_zero_i64};
use super::mount::Mount;
use super::secret::SecretReference;

/// The container of a service's tasks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerSpec {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub image: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Replaces the image's entrypoint.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// Replaces the image's command (compose `command:` lands here).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub hostname: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub dir: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub user: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub privileges: Option<Privileges>,
    /// Run an init inside the container; `false` is kept and emitted when sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init: Option<bool>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub stop_signal: String,
    #[serde(rename = "TTY", skip_serializing_if = "is_false")]
    pub tty: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub open_stdin: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub read_only: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mounts: Vec<Mount>,
    /// Time to wait after the stop signal before killing (engine default 10 s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_grace_period: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<HealthConfig>,
    /// Extra `/etc/hosts` lines, `IP host...` (or `host:IP` from old clients).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
    #[serde(rename = "DNSConfig", skip_serializing_if = "Option::is_none")]
    pub dns_config: Option<DNSConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<SecretReference>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub configs: Vec<ConfigReference>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "empty_as_none"
    )]
    pub isolation: Option<Isolation>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub sysctls: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub capability_add: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub capability_drop: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ulimits: Vec<Ulimit>,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub oom_score_adj: i64,
}

string_enum! {
    /// Container isolation technology (Windows); the engine stores `default` on Linux.
    pub enum Isolation as "isolation mode" {
        Default = "default",
        Process = "process",
        HyperV = "hyperv",
    }
}

/// Security options of the container.
///
/// `CredentialSpec` and `SELinuxContext` are always emitted (`null` when unset).
/// `NoNewPrivileges` appeared after API 1.41 without `omitempty`; it is optional here so
/// that 1.41-era specs (which lack it) round-trip, and emitted whenever it was set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct Privileges {
    pub credential_spec: Option<CredentialSpec>,
    #[serde(rename = "SELinuxContext")]
    pub selinux_context: Option<SELinuxContext>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seccomp: Option<SeccompOpts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_armor: Option<AppArmorOpts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_new_privileges: Option<bool>,
}

/// A Windows credential spec (one of the three).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct CredentialSpec {
    pub config: String,
    pub file: String,
    pub registry: String,
}

/// SELinux labels of the container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct SELinuxContext {
    pub disable: bool,
    pub user: String,
    pub role: String,
    pub r#type: String,
    pub level: String,
}

string_enum! {
    /// Seccomp mode.
    pub enum SeccompMode as "seccomp mode" {
        Default = "default",
        Unconfined = "unconfined",
        Custom = "custom",
    }
}

/// Seccomp options; `Profile` is the JSON profile, base64 on the wire, for `custom`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct SeccompOpts {
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "empty_as_none"
    )]
    pub mode: Option<SeccompMode>,
    #[serde(with = "base64_bytes", skip_serializing_if = "is_empty_bytes")]
    #[schema(value_type = String, format = Byte)]
    pub profile: Vec<u8>,
}

string_enum! {
    /// AppArmor mode.
    pub enum AppArmorMode as "apparmor mode" {
        Default = "default",
        Disabled = "disabled",
    }
}

/// AppArmor options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct AppArmorOpts {
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "empty_as_none"
    )]
    pub mode: Option<AppArmorMode>,
}

/// A health check. Durations in nanoseconds; zero means "inherit from the image".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct HealthConfig {
    /// `[]` inherit, `["NONE"]` disable, `["CMD", ...]`, `["CMD-SHELL", "..."]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub test: Vec<String>,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub interval: i64,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub timeout: i64,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub start_period: i64,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub start_interval: i64,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub retries: i64,
}

/// Resolver configuration of the container (`{}` is what the CLI sends by default).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct DNSConfig {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nameservers: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub search: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

/// A resource limit (`nofile=1024:2048`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct Ulimit {
    pub name: String,
    pub hard: i64,
    pub soft: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::decode;

    #[test]
    fn swarmpit_spelling_of_healthcheck_decodes() {
        let spec: ContainerSpec = decode::from_str(
            r#"{"Image":"x","HealthCheck":{"Test":["CMD","true"],"Interval":1000000000}}"#,
        )
        .unwrap();
        let hc = spec.healthcheck.clone().unwrap();
        assert_eq!(hc.interval, 1_000_000_000);
        let out = serde_json::to_value(&spec).unwrap();
        assert!(out.get("Healthcheck").is_some());
    }

    #[test]
    fn stack_privileges_keep_nulls() {
        let text = r#"{"CredentialSpec":null,"SELinuxContext":null,"NoNewPrivileges":false}"#;
        let p: Privileges = decode::from_str(text).unwrap();
        assert_eq!(p.no_new_privileges, Some(false));
        assert_eq!(serde_json::to_string(&p).unwrap(), text);
        let old: Privileges =
            decode::from_str(r#"{"CredentialSpec":null,"SELinuxContext":null}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&old).unwrap(),
            r#"{"CredentialSpec":null,"SELinuxContext":null}"#
        );
    }

    #[test]
    fn full_container_spec_round_trips() {
        let text = r#"{"Image":"img","Labels":{"a":"b"},"Command":["sh"],"Args":["-c","x"],"Hostname":"h","Env":["A=1"],"Dir":"/w","User":"1000","Groups":["g"],"Privileges":{"CredentialSpec":{"Config":"","File":"f","Registry":""},"SELinuxContext":{"Disable":false,"User":"u","Role":"r","Type":"t","Level":"l"},"Seccomp":{"Mode":"custom","Profile":"e30="},"AppArmor":{"Mode":"disabled"},"NoNewPrivileges":true},"Init":true,"StopSignal":"SIGTERM","TTY":true,"OpenStdin":true,"ReadOnly":true,"Mounts":[{"Type":"bind","Source":"/s","Target":"/t","ReadOnly":true}],"StopGracePeriod":2000000000,"Healthcheck":{"Test":["CMD"],"Interval":1,"Timeout":2,"StartPeriod":3,"StartInterval":4,"Retries":5},"Hosts":["1.2.3.4 h"],"DNSConfig":{"Nameservers":["8.8.8.8"],"Search":["s"],"Options":["ndots:1"]},"Secrets":[{"File":{"Name":"n","UID":"0","GID":"0","Mode":292},"SecretID":"i","SecretName":"s"}],"Configs":[{"Runtime":{},"ConfigID":"c","ConfigName":"cn"}],"Isolation":"default","Sysctls":{"net.core.somaxconn":"1024"},"CapabilityAdd":["CAP_NET_ADMIN"],"CapabilityDrop":["CAP_MKNOD"],"Ulimits":[{"Name":"nofile","Hard":2048,"Soft":1024}],"OomScoreAdj":-500}"#;
        let spec: ContainerSpec = decode::from_str(text).unwrap();
        assert_eq!(serde_json::to_string(&spec).unwrap(), text);
    }
}
