//! `/secrets` and `/configs`: named payloads that services receive as files.
//!
//! The engine treats both alike (swarmkit's controlapi `secret.go`/`config.go` behind moby's
//! `daemon/cluster/{secrets,configs}.go`), so each operation is written once over
//! [`Payload`]:
//! - create validates the spec, picks the ID and `CreatedAt == UpdatedAt`, and proposes;
//!   `apply` refuses a taken name;
//! - update changes `Labels` only: a different `Name`, or a `Data` that is present and
//!   differs, is refused; an unchanged `Data` is accepted (`docker stack deploy` resends it);
//! - remove resolves the name, ID or prefix, and `apply` refuses an object a service uses;
//! - list filters the way swarmkit does (see [`select`]), reads resolve like the engine.
//!
//! A secret's payload never leaves through here: its reads return [`RedactedSecret`].
//!
//! Depends on `store` (reads, commands) and `types`.

use std::collections::{BTreeMap, HashSet};
use std::ops::Bound;
use std::sync::Arc;

use serde_json::value::RawValue;

use super::rendered::{encode_error, RenderCache, RenderedList};
use super::{Control, ControlError, ControlResult, Rendered};
use crate::store::command::UnixNanos;
use crate::store::state::same_name;
use crate::store::{Command, StoredObject};
use crate::types::api_version::ApiVersion;
use crate::types::config::{Config, ConfigSpec};
use crate::types::filters::{match_labels, Filters};
use crate::types::ids::new_id;
use crate::types::meta::{Labels, Timestamp, Version};
use crate::types::secret::{RedactedSecret, Secret, SecretSpec};

/// Secret payloads must be shorter than this (swarmkit's `MaxSecretSize`, 500 KiB).
pub const MAX_SECRET_SIZE: usize = 500 * 1024;
/// Config payloads must be shorter than this (swarmkit's `MaxConfigSize`, 1000 KiB).
pub const MAX_CONFIG_SIZE: usize = 1000 * 1024;
/// Names are at most this long.
const MAX_NAME_LEN: usize = 64;
/// The first API version that accepts `Templating` on create.
const TEMPLATING_SINCE: ApiVersion = ApiVersion::new(1, 37);

impl Control {
    /// `POST /secrets/create`: the new secret's ID.
    pub async fn create_secret(&self, spec: SecretSpec, api: ApiVersion) -> ControlResult<String> {
        self.create_payload::<Secret>(spec, api).await
    }

    /// `GET /secrets`, ordered as the engine orders it, without payloads.
    pub fn list_secrets(&self, filters: &Filters) -> ControlResult<RenderedList> {
        self.list_payloads::<Secret>(filters)
    }

    /// `GET /secrets/{id}` by ID, name or unique ID prefix, without its payload.
    pub fn inspect_secret(&self, input: &str) -> ControlResult<RedactedSecret> {
        self.inspect_payload::<Secret>(input).map(RedactedSecret)
    }

    /// `POST /secrets/{id}/update?version=N`: new labels.
    pub async fn update_secret(
        &self,
        input: &str,
        version: u64,
        spec: SecretSpec,
    ) -> ControlResult<()> {
        self.update_payload::<Secret>(input, version, spec).await
    }

    /// `DELETE /secrets/{id}`.
    pub async fn remove_secret(&self, input: &str) -> ControlResult<()> {
        self.remove_payload::<Secret>(input).await
    }

    /// `POST /configs/create`: the new config's ID.
    pub async fn create_config(&self, spec: ConfigSpec, api: ApiVersion) -> ControlResult<String> {
        self.create_payload::<Config>(spec, api).await
    }

    /// `GET /configs`, ordered as the engine orders it (payloads included, as the engine does).
    pub fn list_configs(&self, filters: &Filters) -> ControlResult<RenderedList> {
        self.list_payloads::<Config>(filters)
    }

    /// `GET /configs/{id}` by ID, name or unique ID prefix.
    pub fn inspect_config(&self, input: &str) -> ControlResult<Arc<Config>> {
        self.inspect_payload::<Config>(input)
    }

    /// `POST /configs/{id}/update?version=N`: new labels.
    pub async fn update_config(
        &self,
        input: &str,
        version: u64,
        spec: ConfigSpec,
    ) -> ControlResult<()> {
        self.update_payload::<Config>(input, version, spec).await
    }

    /// `DELETE /configs/{id}`.
    pub async fn remove_config(&self, input: &str) -> ControlResult<()> {
        self.remove_payload::<Config>(input).await
    }

    async fn create_payload<T: Payload>(
        &self,
        spec: T::Spec,
        api: ApiVersion,
    ) -> ControlResult<String> {
        // The engine's order: its router checks templating, then the node must be a manager,
        // then swarmkit validates.
        if T::has_templating(&spec) && api < TEMPLATING_SINCE {
            return Err(ControlError::Invalid(format!(
                "{} templating is not supported on the specified API version: {api}",
                T::KIND
            )));
        }
        let manager = self.manager()?;
        T::validate(&spec)?;
        let id = new_id();
        let object = T::build(id.clone(), self.timestamp()?, spec);
        manager.propose(T::create_command(object)).await?;
        tracing::debug!(kind = %T::KIND, id = %id, "created");
        Ok(id)
    }

    fn list_payloads<T: Payload>(&self, filters: &Filters) -> ControlResult<RenderedList> {
        filters
            .validate(T::FILTERS)
            .map_err(|e| ControlError::Invalid(e.to_string()))?;
        let manager = self.manager()?;
        // Only pointers are copied under the lock; the JSON is made (or reused) after it.
        let objects = select(T::map(&manager.store.read()), filters);
        T::render_cache(&manager.rendered)
            .render(&objects, T::list_json)
            .map_err(encode_error)
    }

    fn inspect_payload<T: Payload>(&self, input: &str) -> ControlResult<Arc<T>> {
        let manager = self.manager()?;
        let found = manager.store.read().resolve::<T>(input)?;
        Ok(found)
    }

    async fn update_payload<T: Payload>(
        &self,
        input: &str,
        version: u64,
        spec: T::Spec,
    ) -> ControlResult<()> {
        let manager = self.manager()?;
        let current = manager.store.read().resolve::<T>(input)?;
        let updated = current.relabel(spec, self.timestamp()?)?;
        // Name and payload never change, so `apply`'s version check is all that can fail now.
        manager.propose(T::update_command(version, updated)).await?;
        tracing::debug!(kind = %T::KIND, id = %current.id(), "labels updated");
        Ok(())
    }

    async fn remove_payload<T: Payload>(&self, input: &str) -> ControlResult<()> {
        let manager = self.manager()?;
        let current = manager.store.read().resolve::<T>(input)?;
        let id = current.id().to_string();
        manager
            .propose(T::remove_command(id.clone(), self.now()))
            .await?;
        tracing::debug!(kind = %T::KIND, id = %id, "removed");
        Ok(())
    }
}

/// What secrets and configs have in common, so that each operation is written once.
trait Payload: StoredObject {
    type Spec;
    /// The filter keys moby accepts for the list (`names` exists for secrets only).
    const FILTERS: &'static [&'static str];

    fn labels(&self) -> &Labels;
    fn has_templating(spec: &Self::Spec) -> bool;
    /// swarmkit's checks on a create request.
    fn validate(spec: &Self::Spec) -> ControlResult<()>;
    fn build(id: String, now: Timestamp, spec: Self::Spec) -> Self;
    /// This object with `spec`'s labels and `UpdatedAt = now`; any other change is refused.
    fn relabel(&self, spec: Self::Spec, now: Timestamp) -> ControlResult<Self>;
    fn create_command(object: Self) -> Command;
    fn update_command(expected_version: u64, object: Self) -> Command;
    fn remove_command(id: String, at: UnixNanos) -> Command;
    /// Where lists keep this kind's JSON.
    fn render_cache(rendered: &Rendered) -> &RenderCache<Self>;
    /// What a list shows of one object.
    fn list_json(object: &Arc<Self>) -> serde_json::Result<Box<RawValue>>;
}

impl Payload for Secret {
    type Spec = SecretSpec;
    const FILTERS: &'static [&'static str] = &["names", "name", "id", "label"];

    fn render_cache(rendered: &Rendered) -> &RenderCache<Self> {
        &rendered.secrets
    }

    /// Never the payload.
    fn list_json(secret: &Arc<Self>) -> serde_json::Result<Box<RawValue>> {
        serde_json::value::to_raw_value(&RedactedSecret(secret.clone()))
    }

    fn labels(&self) -> &Labels {
        &self.spec.labels
    }

    fn has_templating(spec: &SecretSpec) -> bool {
        spec.templating.is_some()
    }

    fn validate(spec: &SecretSpec) -> ControlResult<()> {
        validate_secret_spec(spec)
    }

    fn build(id: String, now: Timestamp, spec: SecretSpec) -> Self {
        Secret {
            id,
            version: Version::default(),
            created_at: now,
            updated_at: now,
            spec,
        }
    }

    fn relabel(&self, spec: SecretSpec, now: Timestamp) -> ControlResult<Self> {
        let stored = self.spec.data.as_deref().unwrap_or_default();
        let data_changed = spec
            .data
            .as_deref()
            .is_some_and(|sent| !constant_time_eq(sent, stored));
        if spec.name != self.spec.name || data_changed {
            return Err(only_labels());
        }
        let mut secret = self.clone();
        secret.spec.labels = spec.labels;
        secret.updated_at = now;
        Ok(secret)
    }

    fn create_command(secret: Self) -> Command {
        Command::CreateSecret {
            secret: Box::new(secret),
        }
    }

    fn update_command(expected_version: u64, secret: Self) -> Command {
        Command::UpdateSecret {
            expected_version,
            secret: Box::new(secret),
        }
    }

    fn remove_command(id: String, at: UnixNanos) -> Command {
        Command::RemoveSecret { id, at }
    }
}

impl Payload for Config {
    type Spec = ConfigSpec;
    const FILTERS: &'static [&'static str] = &["name", "id", "label"];

    fn render_cache(rendered: &Rendered) -> &RenderCache<Self> {
        &rendered.configs
    }

    /// With the payload, as the engine lists configs.
    fn list_json(config: &Arc<Self>) -> serde_json::Result<Box<RawValue>> {
        serde_json::value::to_raw_value(&**config)
    }

    fn labels(&self) -> &Labels {
        &self.spec.labels
    }

    fn has_templating(spec: &ConfigSpec) -> bool {
        spec.templating.is_some()
    }

    fn validate(spec: &ConfigSpec) -> ControlResult<()> {
        validate_config_spec(spec)
    }

    fn build(id: String, now: Timestamp, spec: ConfigSpec) -> Self {
        Config {
            id,
            version: Version::default(),
            created_at: now,
            updated_at: now,
            spec,
        }
    }

    fn relabel(&self, spec: ConfigSpec, now: Timestamp) -> ControlResult<Self> {
        // `ConfigSpec.Data` cannot tell an absent payload from an empty one; both count as
        // absent (the engine refuses `"Data":""`, a case no client sends).
        let data_changed = !spec.data.is_empty() && spec.data != self.spec.data;
        if spec.name != self.spec.name || data_changed {
            return Err(only_labels());
        }
        let mut config = self.clone();
        config.spec.labels = spec.labels;
        config.updated_at = now;
        Ok(config)
    }

    fn create_command(config: Self) -> Command {
        Command::CreateConfig {
            config: Box::new(config),
        }
    }

    fn update_command(expected_version: u64, config: Self) -> Command {
        Command::UpdateConfig {
            expected_version,
            config: Box::new(config),
        }
    }

    fn remove_command(id: String, at: UnixNanos) -> Command {
        Command::RemoveConfig { id, at }
    }
}

/// swarmkit's gRPC `InvalidArgument`, as the engine words it.
fn invalid_argument(message: impl std::fmt::Display) -> ControlError {
    ControlError::Invalid(format!(
        "rpc error: code = InvalidArgument desc = {message}"
    ))
}

fn only_labels() -> ControlError {
    invalid_argument("only updates to Labels are allowed")
}

/// swarmkit's `validateSecretSpec`: a valid name, and a payload of 1 byte to just under
/// 500 KiB unless an external secret driver provides it.
pub fn validate_secret_spec(spec: &SecretSpec) -> ControlResult<()> {
    validate_name(&spec.name)?;
    if let Some(driver) = &spec.driver {
        if driver.name.is_empty() {
            return Err(invalid_argument("secret driver must have a name"));
        }
        // swarmkit then asks the plugin store for the driver; shoal has no secret plugins,
        // so it answers as the engine does for a plugin that is not installed.
        return Err(ControlError::Internal(format!(
            "rpc error: code = Unknown desc = plugin \"{}\" not found",
            driver.name
        )));
    }
    let size = spec.data.as_deref().map_or(0, <[u8]>::len);
    if size == 0 || size >= MAX_SECRET_SIZE {
        return Err(invalid_argument(format_args!(
            "secret data must be larger than 0 and less than {MAX_SECRET_SIZE} bytes"
        )));
    }
    Ok(())
}

/// swarmkit's `validateConfigSpec`: a valid name and a payload of 1 byte to just under
/// 1000 KiB.
pub fn validate_config_spec(spec: &ConfigSpec) -> ControlResult<()> {
    validate_name(&spec.name)?;
    let size = spec.data.len();
    if size == 0 || size >= MAX_CONFIG_SIZE {
        return Err(invalid_argument(format_args!(
            "config data must be larger than 0 and less than {MAX_CONFIG_SIZE} bytes"
        )));
    }
    Ok(())
}

/// swarmkit's rule for secret and config names (`^[a-zA-Z0-9]+(?:[a-zA-Z0-9-_.]*[a-zA-Z0-9])?$`,
/// at most 64 bytes): letters, digits, `-`, `_` and `.`, starting and ending with a letter or
/// digit.
fn validate_name(name: &str) -> ControlResult<()> {
    let bytes = name.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return Err(invalid_argument("name must be provided"));
    };
    let inner = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
    let valid = bytes.len() <= MAX_NAME_LEN
        && first.is_ascii_alphanumeric()
        && last.is_ascii_alphanumeric()
        && bytes.iter().all(inner);
    if !valid {
        return Err(invalid_argument(
            "invalid name, only 64 [a-zA-Z0-9-_.] characters allowed, and the start and end character must be [a-zA-Z0-9]",
        ));
    }
    Ok(())
}

/// Compares payloads without stopping at the first difference, as swarmkit does for secrets.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether `name` starts with `prefix`, lower-cased as swarmkit's name index is.
fn name_has_prefix(name: &str, prefix: &str) -> bool {
    if name.is_ascii() && prefix.is_ascii() {
        return name
            .as_bytes()
            .get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()));
    }
    let mut name = name.chars().flat_map(char::to_lowercase);
    prefix
        .chars()
        .flat_map(char::to_lowercase)
        .all(|p| name.next() == Some(p))
}

/// The list answer for `filters`, as swarmkit computes it.
///
/// Without `names`, `name` or `id`, every object in ID order. With them, the union of the
/// objects named exactly one of `names`, those whose name starts with one of `name`, and
/// those whose ID starts with one of `id` (names compared lower-cased), listed in that order,
/// each group in its index's order (lower-cased name, or ID), each object once. The engine
/// takes the values of a key in random order; here they are taken sorted. Then `label`
/// (`key` or `key=value`, all must hold) narrows the result.
fn select<T: Payload>(objects: &BTreeMap<String, Arc<T>>, filters: &Filters) -> Vec<Arc<T>> {
    let labels = filters.get("label");
    let keep = |object: &T| match_labels(object.labels(), &labels);
    let names = filters.get("names");
    let prefixes = filters.get("name");
    let ids = filters.get("id");
    if names.is_empty() && prefixes.is_empty() && ids.is_empty() {
        return objects.values().filter(|o| keep(o)).cloned().collect();
    }

    let mut by_name: Vec<(String, &Arc<T>)> = Vec::new();
    if !names.is_empty() || !prefixes.is_empty() {
        by_name = objects
            .values()
            .map(|o| (o.name().to_lowercase(), o))
            .collect();
        by_name.sort_by(|a, b| a.0.cmp(&b.0));
    }
    let mut seen: HashSet<*const T> = HashSet::new();
    let mut found: Vec<Arc<T>> = Vec::new();
    let mut take = |object: &Arc<T>| {
        if seen.insert(Arc::as_ptr(object)) && keep(object) {
            found.push(object.clone());
        }
    };
    for name in &names {
        by_name
            .iter()
            .filter(|(_, o)| same_name(o.name(), name))
            .for_each(|(_, o)| take(o));
    }
    for prefix in &prefixes {
        by_name
            .iter()
            .filter(|(_, o)| name_has_prefix(o.name(), prefix))
            .for_each(|(_, o)| take(o));
    }
    for prefix in &ids {
        objects
            .range::<str, _>((Bound::Included(*prefix), Bound::Unbounded))
            .take_while(|(id, _)| id.starts_with(*prefix))
            .for_each(|(_, o)| take(o));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::meta::Driver;

    fn secret_spec(name: &str, data: Option<&[u8]>) -> SecretSpec {
        SecretSpec {
            name: name.into(),
            data: data.map(<[u8]>::to_vec),
            ..SecretSpec::default()
        }
    }

    fn message(result: ControlResult<()>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn names_follow_swarmkit() {
        for good in [
            "s1",
            "a",
            "app_file_secret",
            "A.b-c_D",
            "1",
            &"x".repeat(64),
        ] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        let bad = "rpc error: code = InvalidArgument desc = invalid name, only 64 [a-zA-Z0-9-_.] characters allowed, and the start and end character must be [a-zA-Z0-9]";
        for name in ["-a", "a-", "_a", "a.", "a b", "a/b", "é", &"x".repeat(65)] {
            assert_eq!(message(validate_name(name)), bad, "{name}");
        }
        assert_eq!(
            message(validate_name("")),
            "rpc error: code = InvalidArgument desc = name must be provided"
        );
    }

    #[test]
    fn secret_payload_sizes() {
        assert!(validate_secret_spec(&secret_spec("s", Some(b"x"))).is_ok());
        let too_big = vec![b'x'; MAX_SECRET_SIZE];
        assert!(validate_secret_spec(&secret_spec("s", Some(&too_big[1..]))).is_ok());
        let text = "rpc error: code = InvalidArgument desc = secret data must be larger than 0 and less than 512000 bytes";
        assert_eq!(
            message(validate_secret_spec(&secret_spec("s", Some(&too_big)))),
            text
        );
        assert_eq!(
            message(validate_secret_spec(&secret_spec("s", Some(b"")))),
            text
        );
        assert_eq!(message(validate_secret_spec(&secret_spec("s", None))), text);
        // The name is checked first.
        assert!(message(validate_secret_spec(&secret_spec("", None)))
            .ends_with("name must be provided"));
    }

    #[test]
    fn secret_drivers() {
        let mut spec = secret_spec("s", None);
        spec.driver = Some(Driver::default());
        assert_eq!(
            message(validate_secret_spec(&spec)),
            "rpc error: code = InvalidArgument desc = secret driver must have a name"
        );
        spec.driver = Some(Driver {
            name: "vault".into(),
            ..Driver::default()
        });
        assert!(
            matches!(validate_secret_spec(&spec), Err(ControlError::Internal(m)) if m.contains("plugin \"vault\" not found"))
        );
    }

    #[test]
    fn config_payload_sizes() {
        let spec = |len: usize| ConfigSpec {
            name: "c1".into(),
            data: vec![b'x'; len],
            ..ConfigSpec::default()
        };
        assert!(validate_config_spec(&spec(1)).is_ok());
        assert!(validate_config_spec(&spec(MAX_CONFIG_SIZE - 1)).is_ok());
        let text = "rpc error: code = InvalidArgument desc = config data must be larger than 0 and less than 1024000 bytes";
        assert_eq!(message(validate_config_spec(&spec(MAX_CONFIG_SIZE))), text);
        assert_eq!(message(validate_config_spec(&spec(0))), text);
    }

    fn stored_secret() -> Secret {
        let mut spec = secret_spec("app_file_secret", Some(b"hush"));
        spec.labels
            .insert("com.docker.stack.namespace".into(), "app".into());
        Secret::build("rsvrvuf2spc6ily28upk9l3xs".into(), Timestamp::ZERO, spec)
    }

    #[test]
    fn secret_updates_change_labels_only() {
        let now = Timestamp::parse("2026-11-22T03:08:03.768569318Z").unwrap();
        let current = stored_secret();
        let mut spec = current.spec.clone();
        spec.labels = [("rotated".to_string(), "no".to_string())].into();
        // Unchanged payload (stack deploy) and no payload (curl) are both fine.
        for data in [Some(b"hush".to_vec()), None] {
            spec.data = data;
            let updated = current.relabel(spec.clone(), now).unwrap();
            assert_eq!(updated.spec.labels, spec.labels);
            assert_eq!(updated.spec.data.as_deref(), Some(&b"hush"[..]));
            assert_eq!(updated.created_at, Timestamp::ZERO);
            assert_eq!(updated.updated_at, now);
        }
        let only = "rpc error: code = InvalidArgument desc = only updates to Labels are allowed";
        for data in [&b"changed"[..], b""] {
            spec.data = Some(data.to_vec());
            assert_eq!(
                current.relabel(spec.clone(), now).unwrap_err().to_string(),
                only
            );
        }
        spec.data = None;
        spec.name = "renamed".into();
        assert_eq!(
            current.relabel(spec.clone(), now).unwrap_err().to_string(),
            only
        );
        // The engine compares names exactly here, unlike lookups.
        spec.name = "APP_file_secret".into();
        assert_eq!(current.relabel(spec, now).unwrap_err().to_string(), only);
    }

    #[test]
    fn config_updates_change_labels_only() {
        let current = Config::build(
            "u2ojzsul74cnspcx7jabjomyl".into(),
            Timestamp::ZERO,
            ConfigSpec {
                name: "c1".into(),
                data: b"listen 80\n".to_vec(),
                ..ConfigSpec::default()
            },
        );
        let mut spec = current.spec.clone();
        spec.labels.insert("a".into(), "b".into());
        assert_eq!(
            current.relabel(spec.clone(), Timestamp::ZERO).unwrap().spec,
            spec
        );
        spec.data = Vec::new();
        let updated = current.relabel(spec.clone(), Timestamp::ZERO).unwrap();
        assert_eq!(updated.spec.data, b"listen 80\n");
        spec.data = b"other".to_vec();
        assert!(current.relabel(spec, Timestamp::ZERO).is_err());
    }

    /// (ID, name, labels) of a test secret.
    type Entry<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);

    fn secrets(entries: &[Entry]) -> BTreeMap<String, Arc<Secret>> {
        entries
            .iter()
            .map(|(id, name, labels)| {
                let mut spec = secret_spec(name, Some(b"x"));
                spec.labels = labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                (
                    id.to_string(),
                    Arc::new(Secret::build(id.to_string(), Timestamp::ZERO, spec)),
                )
            })
            .collect()
    }

    fn ids(found: &[Arc<Secret>]) -> Vec<&str> {
        found.iter().map(|s| s.id.as_str()).collect()
    }

    fn filters(json: &str) -> Filters {
        Filters::parse(json).unwrap()
    }

    #[test]
    fn list_order_and_filters() {
        let ns = [("com.docker.stack.namespace", "app")];
        let all = secrets(&[
            ("i4gm", "s1", &[]),
            ("4cnk", "s2", &[("env", "test")]),
            ("rsvr", "app_file_secret", &ns),
            ("dj5b", "ext_secret", &[]),
            ("rsaa", "S10", &[("env", "prod")]),
        ]);
        // Everything, by ID.
        assert_eq!(
            ids(&select(&all, &Filters::new())),
            ["4cnk", "dj5b", "i4gm", "rsaa", "rsvr"]
        );
        // The CLI's name filter (service create, stack deploy) is a prefix match on names, in
        // name order (transcripts 062 and 082).
        assert_eq!(
            ids(&select(&all, &filters(r#"{"name":{"s1":true,"s2":true}}"#))),
            ["i4gm", "rsaa", "4cnk"]
        );
        assert_eq!(
            ids(&select(
                &all,
                &filters(r#"{"name":{"app_file_secret":true,"ext_secret":true}}"#)
            )),
            ["rsvr", "dj5b"]
        );
        // `names` is exact, names compare lower-cased.
        assert_eq!(
            ids(&select(&all, &filters(r#"{"names":["s1"]}"#))),
            ["i4gm"]
        );
        assert_eq!(
            ids(&select(&all, &filters(r#"{"names":["s10"]}"#))),
            ["rsaa"]
        );
        assert_eq!(
            ids(&select(&all, &filters(r#"{"name":["APP"]}"#))),
            ["rsvr"]
        );
        // IDs by prefix.
        assert_eq!(
            ids(&select(&all, &filters(r#"{"id":["rs"]}"#))),
            ["rsaa", "rsvr"]
        );
        // name, names and id add up (swarmkit ORs them), each object once.
        assert_eq!(
            ids(&select(
                &all,
                &filters(r#"{"names":["s2"],"name":["s"],"id":["dj","4c"]}"#)
            )),
            ["4cnk", "i4gm", "rsaa", "dj5b"]
        );
        // Labels narrow: key, or key=value.
        assert_eq!(
            ids(&select(&all, &filters(r#"{"label":["env"]}"#))),
            ["4cnk", "rsaa"]
        );
        assert_eq!(
            ids(&select(&all, &filters(r#"{"label":["env=prod"]}"#))),
            ["rsaa"]
        );
        assert_eq!(
            ids(&select(
                &all,
                &filters(r#"{"label":{"com.docker.stack.namespace=app":true}}"#)
            )),
            ["rsvr"]
        );
        assert_eq!(
            ids(&select(
                &all,
                &filters(r#"{"name":["s"],"label":["env=test"]}"#)
            )),
            ["4cnk"]
        );
        assert!(select(&all, &filters(r#"{"label":["nosuch"]}"#)).is_empty());
        assert!(select(&all, &filters(r#"{"names":["s"]}"#)).is_empty());
    }

    #[test]
    fn name_prefixes() {
        assert!(name_has_prefix("app_web", "APP_"));
        assert!(name_has_prefix("app", ""));
        assert!(!name_has_prefix("ap", "app"));
        assert!(name_has_prefix("Ärger", "är"));
        assert!(!name_has_prefix("web", "app"));
    }

    #[test]
    fn filter_keys_per_kind() {
        let names = filters(r#"{"names":["x"]}"#);
        assert!(names.validate(Secret::FILTERS).is_ok());
        assert_eq!(
            names.validate(Config::FILTERS).unwrap_err().to_string(),
            "Invalid filter 'names'"
        );
    }

    #[test]
    fn payloads_compare_fully() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }
}
