//! Mounts of a container spec (`--mount type=volume,source=...,target=...`): bind mounts,
//! volumes, tmpfs, named pipes, cluster (CSI) volumes and image mounts, with their options.
//!
//! Depends on `meta` and `enums`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::enums::{empty_as_none, string_enum};
use super::meta::{is_false, is_zero_i64, Driver};

string_enum! {
    /// The kind of a mount.
    pub enum MountType as "mount type" {
        Bind = "bind",
        Volume = "volume",
        Tmpfs = "tmpfs",
        NamedPipe = "npipe",
        Cluster = "cluster",
        Image = "image",
    }
}

string_enum! {
    /// Mount consistency (meaningful on Docker Desktop only).
    pub enum Consistency as "consistency" {
        Consistent = "consistent",
        Cached = "cached",
        Delegated = "delegated",
        Default = "default",
    }
}

string_enum! {
    /// Bind propagation.
    pub enum Propagation as "propagation" {
        RPrivate = "rprivate",
        Private = "private",
        RShared = "rshared",
        Shared = "shared",
        RSlave = "rslave",
        Slave = "slave",
    }
}

/// One mount of a container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct Mount {
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "empty_as_none"
    )]
    pub r#type: Option<MountType>,
    /// Host path, volume name, or empty for tmpfs.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub source: String,
    /// Path inside the container.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub target: String,
    #[serde(skip_serializing_if = "is_false")]
    pub read_only: bool,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "empty_as_none"
    )]
    pub consistency: Option<Consistency>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind_options: Option<BindOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_options: Option<VolumeOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_options: Option<ImageOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tmpfs_options: Option<TmpfsOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_options: Option<ClusterOptions>,
}

/// Options of a bind mount.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct BindOptions {
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "empty_as_none"
    )]
    pub propagation: Option<Propagation>,
    #[serde(skip_serializing_if = "is_false")]
    pub non_recursive: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub create_mountpoint: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub read_only_non_recursive: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub read_only_force_recursive: bool,
}

/// Options of a volume mount. Stacks put `com.docker.stack.namespace` in `Labels`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumeOptions {
    #[serde(skip_serializing_if = "is_false")]
    pub no_copy: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub subpath: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver_config: Option<Driver>,
}

/// Options of an image mount.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImageOptions {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub subpath: String,
}

/// Options of a tmpfs mount.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct TmpfsOptions {
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub size_bytes: i64,
    /// File mode as a decimal integer (0o1777 = 1023).
    #[serde(skip_serializing_if = "super::meta::is_zero_u32")]
    pub mode: u32,
    /// Extra mount options, each `[name]` or `[name, value]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<Vec<String>>,
}

/// Options of a cluster (CSI) volume mount; none yet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ClusterOptions {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::decode;

    #[test]
    fn stack_volume_mount_round_trips() {
        let text = r#"{"Type":"volume","Source":"app_data","Target":"/data","VolumeOptions":{"Labels":{"com.docker.stack.namespace":"app"}}}"#;
        let mount: Mount = decode::from_str(text).unwrap();
        assert_eq!(mount.r#type, Some(MountType::Volume));
        assert_eq!(serde_json::to_string(&mount).unwrap(), text);
    }

    #[test]
    fn tmpfs_and_bind_options_decode() {
        let mount: Mount = decode::from_str(
            r#"{"type":"tmpfs","target":"/t","tmpfsoptions":{"SizeBytes":1024,"Mode":1023,"Options":[["exec"]]}}"#,
        )
        .unwrap();
        let tmpfs = mount.tmpfs_options.unwrap();
        assert_eq!((tmpfs.size_bytes, tmpfs.mode), (1024, 1023));
        let mount: Mount =
            decode::from_str(r#"{"Type":"bind","BindOptions":{"Propagation":"rshared"}}"#).unwrap();
        assert_eq!(
            mount.bind_options.unwrap().propagation,
            Some(Propagation::RShared)
        );
        assert!(decode::from_str::<Mount>(r#"{"Type":"nfs"}"#).is_err());
    }
}
