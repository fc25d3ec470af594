//! The `filters` query parameter of list endpoints (`GET /services?filters=...`).
//!
//! Clients send two forms, both accepted: the CLI's map form `{"name":{"web":true}}` and
//! docker-py's list form `{"name":["web"]}`; an empty parameter or `{}` means no filter.
//! Errors keep the engine's (API 1.41) wording: the JSON error of the map form
//! (`invalid character 'o' in literal null (expecting 'u')`) and `Invalid filter 'bogus'`.
//!
//! Matching helpers follow the engine: [`Filters::fuzzy_match`] is the prefix match swarmkit
//! applies to `name` and `id`, [`Filters::match_labels`] its label semantics (`key` needs the
//! label, `key=value` its value; all must hold). Depends on `decode` and `meta`.

use std::collections::BTreeMap;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use super::decode::{self, DecodeError};
use super::meta::Labels;

/// Why a `filters` parameter was refused (all 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// Not JSON, or JSON of the wrong shape; the text is Go's.
    #[error("{0}")]
    Json(String),
    /// A key the endpoint does not know.
    #[error("Invalid filter '{0}'")]
    UnknownKey(String),
    /// A value the key does not accept (`Invalid filter 'dangling=[maybe]'`).
    #[error("Invalid filter '{key}={values:?}'", values = GoList(.values))]
    InvalidValue { key: String, values: Vec<String> },
}

/// Formats a list the way Go's `%s` prints a `[]string`: `[a b]`.
struct GoList<'a>(&'a [String]);

impl std::fmt::Debug for GoList<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}]", self.0.join(" "))
    }
}

/// Parsed filters: for each key, its values (with the map form's booleans kept, as the
/// engine keeps them: `get` lists every value, exact matching only the `true` ones).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    fields: BTreeMap<String, BTreeMap<String, bool>>,
}

impl Filters {
    /// No filters.
    pub fn new() -> Self {
        Filters::default()
    }

    /// Parses the raw (URL-decoded) `filters` parameter.
    pub fn parse(raw: &str) -> Result<Filters, FilterError> {
        if raw.is_empty() {
            return Ok(Filters::new());
        }
        let value = decode::parse_whole(raw.as_bytes()).map_err(|e| match e {
            DecodeError::Syntax(msg) => FilterError::Json(msg),
            other => FilterError::Json(other.to_string()),
        })?;
        match map_form(&value) {
            Ok(fields) => Ok(Filters { fields }),
            Err(map_error) => list_form(&value)
                .map(|fields| Filters { fields })
                .ok_or(map_error),
        }
    }

    /// Adds a value under a key.
    pub fn add(&mut self, key: &str, value: &str) {
        self.fields
            .entry(key.to_owned())
            .or_default()
            .insert(value.to_owned(), true);
    }

    /// True when no key is present.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The keys present, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.fields.keys().map(String::as_str)
    }

    /// True when `key` is present (even with no values).
    pub fn contains(&self, key: &str) -> bool {
        self.fields.contains_key(key)
    }

    /// The values of `key`, sorted; empty when absent.
    pub fn get(&self, key: &str) -> Vec<&str> {
        self.fields
            .get(key)
            .map(|values| values.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// Fails with `Invalid filter '<key>'` on the first (sorted) key not in `allowed`.
    pub fn validate(&self, allowed: &[&str]) -> Result<(), FilterError> {
        match self.keys().find(|k| !allowed.contains(k)) {
            Some(key) => Err(FilterError::UnknownKey(key.to_owned())),
            None => Ok(()),
        }
    }

    /// True when `key` has no values, or `source` is one of them.
    pub fn exact_match(&self, key: &str, source: &str) -> bool {
        match self.fields.get(key) {
            None => true,
            Some(values) if values.is_empty() => true,
            Some(values) => values.get(source).copied().unwrap_or(false),
        }
    }

    /// Like [`exact_match`](Self::exact_match), but several values never match.
    pub fn unique_exact_match(&self, key: &str, source: &str) -> bool {
        match self.fields.get(key) {
            None => true,
            Some(values) if values.is_empty() => true,
            Some(values) if values.len() != 1 => false,
            Some(values) => values.get(source).copied().unwrap_or(false),
        }
    }

    /// True when `key` has no values, or one of them equals `source` or is a prefix of it:
    /// how swarmkit matches `name` and `id` filters of services, tasks, nodes, secrets, configs.
    pub fn fuzzy_match(&self, key: &str, source: &str) -> bool {
        if self.exact_match(key, source) {
            return true;
        }
        self.fields.get(key).is_some_and(|values| {
            values
                .keys()
                .any(|prefix| source.starts_with(prefix.as_str()))
        })
    }

    /// swarmkit's label matching for the values of `key` (usually `label`); see
    /// [`match_labels`].
    pub fn match_labels(&self, key: &str, labels: &Labels) -> bool {
        match_labels(labels, &self.get(key))
    }

    /// The engine's `MatchKVList` (used for local objects such as `/networks`): every value of
    /// `key` must be a label key present in `sources`, and for `k=v` have that value.
    /// Unlike [`match_labels`], `k=` requires an empty value.
    pub fn match_kv_list(&self, key: &str, sources: &Labels) -> bool {
        let values = self.get(key);
        if values.is_empty() {
            return true;
        }
        if sources.is_empty() {
            return false;
        }
        values.iter().all(|value| match value.split_once('=') {
            Some((k, v)) => sources.get(k).is_some_and(|s| s == v),
            None => sources.contains_key(*value),
        })
    }

    /// A boolean filter (`dangling=true`): `default` when absent; `1`/`true` or `0`/`false`
    /// otherwise; both or neither is `Invalid filter 'key=[values]'`.
    pub fn get_bool_or_default(&self, key: &str, default: bool) -> Result<bool, FilterError> {
        let Some(values) = self.fields.get(key) else {
            return Ok(default);
        };
        let has = |v: &str| values.get(v).copied().unwrap_or(false);
        let is_true = has("1") || has("true");
        let is_false = has("0") || has("false");
        if is_true == is_false {
            return Err(FilterError::InvalidValue {
                key: key.to_owned(),
                values: self.get(key).into_iter().map(str::to_owned).collect(),
            });
        }
        Ok(is_true)
    }
}

/// swarmkit's label semantics: each filter value is `key` (the label must exist) or
/// `key=value` (it must have that value; `key=` is the same as `key`). All must hold; no
/// values match everything.
pub fn match_labels(labels: &Labels, filter_values: &[&str]) -> bool {
    let mut wanted: BTreeMap<&str, &str> = BTreeMap::new();
    for value in filter_values {
        let (k, v) = value.split_once('=').unwrap_or((value, ""));
        wanted.insert(k, v);
    }
    wanted.iter().all(|(k, v)| match labels.get(*k) {
        None => false,
        Some(actual) => v.is_empty() || actual == v,
    })
}

type Fields = BTreeMap<String, BTreeMap<String, bool>>;

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn cannot(value: &Value, go_type: &str) -> FilterError {
    FilterError::Json(format!(
        "json: cannot unmarshal {} into Go value of type {go_type}",
        kind(value)
    ))
}

/// `{"key":{"value":true}}`, with Go's error for the first misfit.
fn map_form(value: &Value) -> Result<Fields, FilterError> {
    let object = match value {
        Value::Null => return Ok(Fields::new()),
        Value::Object(object) => object,
        other => return Err(cannot(other, "map[string]map[string]bool")),
    };
    let mut fields = Fields::new();
    for (key, inner) in object {
        let values = fields.entry(key.clone()).or_default();
        match inner {
            Value::Null => {}
            Value::Object(inner) => {
                for (v, flag) in inner {
                    match flag {
                        Value::Bool(b) => {
                            values.insert(v.clone(), *b);
                        }
                        Value::Null => {
                            values.insert(v.clone(), false);
                        }
                        other => return Err(cannot(other, "bool")),
                    }
                }
            }
            other => return Err(cannot(other, "map[string]bool")),
        }
    }
    Ok(fields)
}

/// `{"key":["value"]}` (docker-py, old clients).
fn list_form(value: &Value) -> Option<Fields> {
    let mut fields = Fields::new();
    for (key, inner) in value.as_object()? {
        let values = fields.entry(key.clone()).or_default();
        match inner {
            Value::Null => {}
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::String(s) => {
                            values.insert(s.clone(), true);
                        }
                        Value::Null => {
                            values.insert(String::new(), true);
                        }
                        _ => return None,
                    }
                }
            }
            _ => return None,
        }
    }
    Some(fields)
}

impl Serialize for Filters {
    /// The map form, as the CLI sends it (for passing filters on to dockerd).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.fields.len()))?;
        for (key, values) in &self.fields {
            map.serialize_entry(key, values)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn map_form() {
        let f = Filters::parse(
            r#"{"_up-to-date":{"true":true},"service":{"tbb2zhg9hnmlsx4w3vzqtnc1j":true}}"#,
        )
        .unwrap();
        assert_eq!(f.get("service"), vec!["tbb2zhg9hnmlsx4w3vzqtnc1j"]);
        assert!(f.contains("_up-to-date"));
        assert!(f.get_bool_or_default("_up-to-date", false).unwrap());
        assert!(f.validate(&["service", "_up-to-date", "node"]).is_ok());
    }

    #[test]
    fn list_form() {
        let f = Filters::parse(r#"{"role":["manager"],"label":["a=b","c"]}"#).unwrap();
        assert_eq!(f.get("role"), vec!["manager"]);
        assert_eq!(f.get("label"), vec!["a=b", "c"]);
        assert!(f.exact_match("role", "manager"));
        assert!(!f.exact_match("role", "worker"));
    }

    #[test]
    fn empty_means_no_filters() {
        assert!(Filters::parse("").unwrap().is_empty());
        assert!(Filters::parse("{}").unwrap().is_empty());
        assert!(Filters::parse("null").unwrap().is_empty());
        let f = Filters::new();
        assert!(f.exact_match("name", "x"));
        assert!(f.fuzzy_match("name", "x"));
        assert!(f.match_labels("label", &Labels::new()));
    }

    #[test]
    fn invalid_json_uses_go_wording() {
        assert_eq!(
            Filters::parse("notjson").unwrap_err().to_string(),
            "invalid character 'o' in literal null (expecting 'u')"
        );
        assert_eq!(
            Filters::parse("{\"a\":").unwrap_err().to_string(),
            "unexpected end of JSON input"
        );
        assert_eq!(
            Filters::parse(r#"{"a":"b"}"#).unwrap_err().to_string(),
            "json: cannot unmarshal string into Go value of type map[string]bool"
        );
        assert_eq!(
            Filters::parse(r#"["a"]"#).unwrap_err().to_string(),
            "json: cannot unmarshal array into Go value of type map[string]map[string]bool"
        );
    }

    #[test]
    fn unknown_key() {
        let f = Filters::parse(r#"{"bogus":["x"]}"#).unwrap();
        assert_eq!(
            f.validate(&["name", "id"]).unwrap_err().to_string(),
            "Invalid filter 'bogus'"
        );
    }

    #[test]
    fn name_and_id_are_prefix_matches() {
        let f = Filters::parse(r#"{"name":{"we":true}}"#).unwrap();
        assert!(f.fuzzy_match("name", "web"));
        assert!(f.fuzzy_match("name", "we"));
        assert!(!f.fuzzy_match("name", "app_web"));
        assert!(!f.exact_match("name", "web"));
    }

    #[test]
    fn label_matching() {
        let l = labels(&[("com.docker.stack.namespace", "app"), ("env", "")]);
        assert!(match_labels(&l, &["com.docker.stack.namespace"]));
        assert!(match_labels(&l, &["com.docker.stack.namespace=app"]));
        assert!(!match_labels(&l, &["com.docker.stack.namespace=web"]));
        assert!(match_labels(&l, &["env", "com.docker.stack.namespace=app"]));
        assert!(!match_labels(&l, &["missing"]));
        assert!(match_labels(&l, &["com.docker.stack.namespace="]));
        assert!(match_labels(&l, &[]));
        let f = Filters::parse(r#"{"label":{"env=":true}}"#).unwrap();
        assert!(f.match_labels("label", &l));
        assert!(f.match_kv_list("label", &l));
        let f = Filters::parse(r#"{"label":{"com.docker.stack.namespace=":true}}"#).unwrap();
        assert!(!f.match_kv_list("label", &l));
    }

    #[test]
    fn booleans() {
        let f = Filters::parse(r#"{"dangling":["maybe"]}"#).unwrap();
        assert_eq!(
            f.get_bool_or_default("dangling", false)
                .unwrap_err()
                .to_string(),
            "Invalid filter 'dangling=[maybe]'"
        );
        let f = Filters::parse(r#"{"dangling":["0"]}"#).unwrap();
        assert!(!f.get_bool_or_default("dangling", true).unwrap());
        assert!(f.get_bool_or_default("other", true).unwrap());
        let f = Filters::parse(r#"{"dangling":["1","false"]}"#).unwrap();
        assert!(f.get_bool_or_default("dangling", true).is_err());
    }

    #[test]
    fn false_entries_are_listed_but_do_not_match() {
        let f = Filters::parse(r#"{"name":{"web":false}}"#).unwrap();
        assert_eq!(f.get("name"), vec!["web"]);
        assert!(!f.exact_match("name", "web"));
    }

    #[test]
    fn serializes_in_map_form() {
        let mut f = Filters::new();
        f.add("label", "a=b");
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            r#"{"label":{"a=b":true}}"#
        );
    }
}
