//! Secrets: `GET /secrets`, `GET /secrets/{id}`, the `SecretSpec` body of `POST /secrets/create`
//! and `POST /secrets/{id}/update`, and the `SecretReference` of a container spec.
//!
//! A secret's `Data` is stored (the type carries it) but the engine never returns it: answer
//! inspect and list with [`Secret::redacted`]. Depends on `meta`, `encoding`.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize, Serializer};
use utoipa::ToSchema;

use super::encoding::base64_bytes_opt;
use super::meta::{Driver, Timestamp, Version};

/// A secret as stored, and (redacted) as `GET /secrets` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct Secret {
    #[serde(rename = "ID")]
    pub id: String,
    pub version: Version,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub spec: SecretSpec,
}

impl Secret {
    /// The secret without its payload: what inspect and list return.
    pub fn redacted(&self) -> Secret {
        Secret {
            spec: self.spec.redacted(),
            ..self.clone()
        }
    }
}

/// What users create: name, labels, payload (base64 on the wire), optional secret driver and
/// templating driver.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct SecretSpec {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// The payload; `None` (and empty) is not emitted, as Go omits an empty `[]byte`.
    #[serde(with = "base64_bytes_opt", skip_serializing_if = "is_none_or_empty")]
    #[schema(value_type = Option<String>, format = Byte)]
    pub data: Option<Vec<u8>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<Driver>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub templating: Option<Driver>,
}

impl SecretSpec {
    /// The spec without its payload.
    pub fn redacted(&self) -> SecretSpec {
        SecretSpec {
            data: None,
            ..self.clone()
        }
    }
}

/// A stored secret as inspect and list show it: serialized like [`Secret::redacted`], but
/// straight from the shared object, without copying it (or its payload).
#[derive(Debug, Clone)]
pub struct RedactedSecret(pub Arc<Secret>);

impl Serialize for RedactedSecret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let secret = &*self.0;
        SecretView {
            id: &secret.id,
            version: &secret.version,
            created_at: &secret.created_at,
            updated_at: &secret.updated_at,
            spec: SpecView {
                name: &secret.spec.name,
                labels: &secret.spec.labels,
                driver: secret.spec.driver.as_ref(),
                templating: secret.spec.templating.as_ref(),
            },
        }
        .serialize(serializer)
    }
}

/// [`Secret`]'s wire shape, borrowed; a test keeps the two in step.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SecretView<'a> {
    #[serde(rename = "ID")]
    id: &'a str,
    version: &'a Version,
    created_at: &'a Timestamp,
    updated_at: &'a Timestamp,
    spec: SpecView<'a>,
}

/// [`SecretSpec`]'s wire shape without `Data`, borrowed.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SpecView<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    name: &'a str,
    labels: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    driver: Option<&'a Driver>,
    #[serde(skip_serializing_if = "Option::is_none")]
    templating: Option<&'a Driver>,
}

fn is_none_or_empty(data: &Option<Vec<u8>>) -> bool {
    data.as_ref().is_none_or(|d| d.is_empty())
}

/// The answer of `POST /secrets/create` (and `/configs/create`): `{"ID":"..."}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct IdResponse {
    #[serde(rename = "ID")]
    pub id: String,
}

/// A secret given to a container, by ID and name, and where it appears.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct SecretReference {
    /// Always emitted (`null` when unset).
    pub file: Option<SecretReferenceFileTarget>,
    #[serde(rename = "SecretID")]
    pub secret_id: String,
    pub secret_name: String,
}

/// A file under `/run/secrets` (or an absolute path). `Mode` is a decimal file mode
/// (0o444 = 292); `UID`/`GID` are strings (`"0"`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase", default)]
pub struct SecretReferenceFileTarget {
    pub name: String,
    #[serde(rename = "UID")]
    pub uid: String,
    #[serde(rename = "GID")]
    pub gid: String,
    pub mode: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::decode;

    #[test]
    fn create_body_decodes_payload() {
        let spec: SecretSpec =
            decode::from_str(r#"{"Name":"s1","Labels":{},"Data":"eAo="}"#).unwrap();
        assert_eq!(spec.data.as_deref(), Some(&b"x\n"[..]));
        assert_eq!(
            serde_json::to_string(&spec).unwrap(),
            r#"{"Name":"s1","Labels":{},"Data":"eAo="}"#
        );
    }

    #[test]
    fn redacted_secret_has_no_data() {
        let secret = Secret {
            id: "x".into(),
            spec: SecretSpec {
                name: "s".into(),
                data: Some(b"hush".to_vec()),
                ..SecretSpec::default()
            },
            ..Secret::default()
        };
        let out = serde_json::to_value(secret.redacted()).unwrap();
        assert_eq!(out["Spec"], serde_json::json!({"Name": "s", "Labels": {}}));
        assert_eq!(secret.spec.data.as_deref(), Some(&b"hush"[..]));
    }

    #[test]
    fn redacted_view_matches_redacted_copy() {
        let driver = |name: &str| Driver {
            name: name.into(),
            options: [("k".to_string(), "v".to_string())].into(),
        };
        let full = Secret {
            id: "i4gm87kqk1rbi4spwfg1l9zv4".into(),
            version: Version { index: 163 },
            created_at: Timestamp::parse("2026-11-22T03:03:49.502713778Z").unwrap(),
            updated_at: Timestamp::parse("2026-11-22T03:05:00Z").unwrap(),
            spec: SecretSpec {
                name: "s1".into(),
                labels: [("env".to_string(), "test".to_string())].into(),
                data: Some(b"hush".to_vec()),
                driver: Some(driver("vault")),
                templating: Some(driver("golang")),
            },
        };
        for secret in [full, Secret::default()] {
            let view = serde_json::to_string(&RedactedSecret(Arc::new(secret.clone()))).unwrap();
            assert_eq!(view, serde_json::to_string(&secret.redacted()).unwrap());
            assert!(!view.contains("Data"), "{view}");
        }
    }

    #[test]
    fn bad_base64_is_reported() {
        let err = decode::from_str::<SecretSpec>(r#"{"Data":"!!"}"#).unwrap_err();
        assert_eq!(err.to_string(), "illegal base64 data at input byte 0");
    }
}
