//! Tests of the Go-style decoder with small local types (the wire types are exercised by the
//! round-trip tests in `roundtrip_tests.rs`).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::*;

#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
struct ReplicatedService {
    #[serde(rename = "Replicas")]
    replicas: Option<u64>,
}

#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
struct ServiceMode {
    #[serde(rename = "Replicated")]
    replicated: Option<ReplicatedService>,
}

#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
struct Health {
    #[serde(rename = "Test")]
    test: Vec<String>,
    #[serde(rename = "Retries")]
    retries: i64,
}

#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
struct Spec {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Labels")]
    labels: BTreeMap<String, String>,
    #[serde(rename = "Mode")]
    mode: ServiceMode,
    #[serde(rename = "Healthcheck")]
    healthcheck: Option<Health>,
    #[serde(rename = "Env")]
    env: Vec<String>,
    #[serde(rename = "Init")]
    init: bool,
    #[serde(rename = "Ratio")]
    ratio: f32,
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "Id")]
    other_id: String,
}

#[test]
fn keys_match_case_insensitively() {
    let spec: Spec = from_str(
        r#"{"name":"web","MODE":{"replicated":{"REPLICAS":3}},"HealthCheck":{"test":["CMD"],"retries":2}}"#,
    )
    .unwrap();
    assert_eq!(spec.name, "web");
    assert_eq!(spec.mode.replicated.unwrap().replicas, Some(3));
    let health = spec.healthcheck.unwrap();
    assert_eq!(health.test, vec!["CMD"]);
    assert_eq!(health.retries, 2);
}

#[test]
fn exact_match_wins_over_folded_match() {
    // `ID` and `Id` are distinct fields; each key goes to its exact twin.
    let spec: Spec = from_str(r#"{"ID":"a","Id":"b"}"#).unwrap();
    assert_eq!(spec.id, "a");
    assert_eq!(spec.other_id, "b");
    // With only a folded spelling, the first field that matches takes it.
    let spec: Spec = from_str(r#"{"id":"c"}"#).unwrap();
    assert_eq!(spec.id, "c");
    // An exact key beats a folded duplicate of the same field.
    let spec: Spec = from_str(r#"{"name":"folded","Name":"exact"}"#).unwrap();
    assert_eq!(spec.name, "exact");
}

#[test]
fn unknown_keys_are_ignored() {
    let spec: Spec = from_str(r#"{"Name":"x","Bogus":{"deep":[1,2]},"Other":null}"#).unwrap();
    assert_eq!(spec.name, "x");
}

#[test]
fn null_leaves_any_field_at_its_default() {
    let spec: Spec = from_str(
        r#"{"Name":null,"Labels":null,"Mode":null,"Healthcheck":null,"Env":null,"Init":null,"Ratio":null}"#,
    )
    .unwrap();
    assert_eq!(spec, Spec::default());
    // Nested too, and inside lists and maps (zero values, like Go).
    let spec: Spec = from_str(
        r#"{"Mode":{"Replicated":{"Replicas":null}},"Env":[null,"A=1"],"Labels":{"k":null}}"#,
    )
    .unwrap();
    assert_eq!(
        spec.mode.replicated,
        Some(ReplicatedService { replicas: None })
    );
    assert_eq!(spec.env, vec!["", "A=1"]);
    assert_eq!(spec.labels.get("k").map(String::as_str), Some(""));
}

#[test]
fn map_keys_stay_exact() {
    let spec: Spec = from_str(r#"{"labels":{"Com.Example":"A","com.example":"b"}}"#).unwrap();
    assert_eq!(spec.labels.len(), 2);
    assert_eq!(spec.labels["Com.Example"], "A");
    assert_eq!(spec.labels["com.example"], "b");
}

#[test]
fn integers_decode_into_floats() {
    let spec: Spec = from_str(r#"{"Ratio":0}"#).unwrap();
    assert_eq!(spec.ratio, 0.0);
    let spec: Spec = from_str(r#"{"Ratio":0.25}"#).unwrap();
    assert_eq!(spec.ratio, 0.25);
}

#[test]
fn only_the_first_value_is_read() {
    let spec: Spec = from_str(r#"{"Name":"x"} {"Name":"y"} garbage"#).unwrap();
    assert_eq!(spec.name, "x");
}

#[test]
fn type_mismatch_names_the_struct_and_path() {
    let err = from_str::<Spec>(r#"{"Mode":{"Replicated":{"Replicas":"two"}}}"#).unwrap_err();
    assert_eq!(
        err.to_string(),
        "json: cannot unmarshal string into Go struct field ReplicatedService.Mode.Replicated.Replicas of type uint64"
    );
    let err = from_str::<Spec>(r#"{"Mode":{"Replicated":{"Replicas":-1}}}"#).unwrap_err();
    assert_eq!(
        err.to_string(),
        "json: cannot unmarshal number -1 into Go struct field ReplicatedService.Mode.Replicated.Replicas of type uint64"
    );
    let err = from_str::<Spec>(r#"{"healthcheck":{"Test":"CMD"}}"#).unwrap_err();
    assert_eq!(
        err.to_string(),
        "json: cannot unmarshal string into Go struct field Health.Healthcheck.Test of type slice"
    );
    let err = from_str::<Spec>(r#"{"Init":"yes"}"#).unwrap_err();
    assert_eq!(
        err.to_string(),
        "json: cannot unmarshal string into Go struct field Spec.Init of type bool"
    );
    let err = from_str::<Spec>(r#"{"Name":5}"#).unwrap_err();
    assert_eq!(
        err.to_string(),
        "json: cannot unmarshal number into Go struct field Spec.Name of type string"
    );
    let err = from_str::<Spec>(r#"[1]"#).unwrap_err();
    assert_eq!(
        err.to_string(),
        "json: cannot unmarshal array into Go value of type Spec"
    );
}

#[test]
fn malformed_bodies_use_go_wording() {
    let err = from_str::<Spec>(r#"{"Name": "bad", "#).unwrap_err();
    assert_eq!(err, DecodeError::Syntax("unexpected EOF".to_owned()));
    assert_eq!(err.to_string(), "unexpected EOF");
    let err = from_str::<Spec>("notjson").unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid character 'o' in literal null (expecting 'u')"
    );
    assert_eq!(from_str::<Spec>("").unwrap_err(), DecodeError::EmptyBody);
    assert_eq!(from_str::<Spec>(" \n").unwrap_err(), DecodeError::EmptyBody);
}

#[test]
fn optional_bodies_default_when_empty() {
    let spec: Spec = from_slice_or_default(b"").unwrap();
    assert_eq!(spec, Spec::default());
    let spec: Spec = from_slice_or_default(b"{\"Name\":\"n\"}").unwrap();
    assert_eq!(spec.name, "n");
    assert!(from_slice_or_default::<Spec>(b"{").is_err());
}

#[test]
fn from_value_applies_the_same_rules() {
    let value = serde_json::json!({"NAME": "v", "labels": {"A": "1"}, "x": null});
    let spec: Spec = from_value(value).unwrap();
    assert_eq!(spec.name, "v");
    assert_eq!(spec.labels["A"], "1");
}

#[test]
fn values_and_maps_of_structs_decode() {
    let v: serde_json::Value = from_str(r#"{"a":[1,-2,1.5,"s",true,null]}"#).unwrap();
    assert_eq!(v, serde_json::json!({"a":[1,-2,1.5,"s",true,null]}));
    let m: BTreeMap<String, ReplicatedService> =
        from_str(r#"{"one":{"replicas":1},"Two":{"REPLICAS":2}}"#).unwrap();
    assert_eq!(m["one"].replicas, Some(1));
    assert_eq!(m["Two"].replicas, Some(2));
}
