//! Configs: `GET /configs`, `GET /configs/{id}`, the `ConfigSpec` body of
//! `POST /configs/create` and `POST /configs/{id}/update`, and the `ConfigReference` of a
//! container spec. Unlike secrets, configs return their `Data` (base64).
//!
//! Depends on `meta`, `encoding`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::encoding::{base64_bytes, is_empty_bytes};
use super::meta::{Driver, Timestamp, Version};

/// A config.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct Config {
    #[serde(rename = "ID")]
    pub id: String,
    pub version: Version,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub spec: ConfigSpec,
}

/// What users create: name, labels, payload (base64 on the wire), optional templating driver.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct ConfigSpec {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    pub labels: BTreeMap<String, String>,
    #[serde(with = "base64_bytes", skip_serializing_if = "is_empty_bytes")]
    #[schema(value_type = String, format = Byte)]
    pub data: Vec<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub templating: Option<Driver>,
}

/// A config given to a container: as a file, or (for plugins) to the runtime.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct ConfigReference {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<ConfigReferenceFileTarget>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<ConfigReferenceRuntimeTarget>,
    #[serde(rename = "ConfigID")]
    pub config_id: String,
    pub config_name: String,
}

/// Where a config file appears; `Mode` decimal, `UID`/`GID` strings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct ConfigReferenceFileTarget {
    pub name: String,
    #[serde(rename = "UID")]
    pub uid: String,
    #[serde(rename = "GID")]
    pub gid: String,
    pub mode: u32,
}

/// A config consumed by the runtime rather than mounted (credential specs); no fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ConfigReferenceRuntimeTarget {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::decode;

    #[test]
    fn config_returns_its_data() {
        let text = r#"{"Name":"c1","Labels":{},"Data":"bGlzdGVuIDgwCg=="}"#;
        let spec: ConfigSpec = decode::from_str(text).unwrap();
        assert_eq!(spec.data, b"listen 80\n");
        assert_eq!(serde_json::to_string(&spec).unwrap(), text);
    }
}
