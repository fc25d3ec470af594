//! Tests of the networks module: routing, validation, shapes, filters, merging, resolution.

use super::*;
use crate::store::ipam;
use crate::types::network_resource::NetworkIPAM;

fn request(name: &str, driver: &str) -> NetworkCreateRequest {
    NetworkCreateRequest {
        name: name.into(),
        driver: driver.into(),
        check_duplicate: Some(true),
        ..Default::default()
    }
}

fn stored(state: &mut ClusterState, request: &NetworkCreateRequest, id: &str) -> Arc<Network> {
    let network = network_from_request(request, id.into(), Timestamp::default());
    crate::store::apply::apply(
        state,
        1,
        Command::CreateNetwork {
            network: Box::new(network),
        },
    )
    .unwrap();
    state.networks[id].clone()
}

/// The state right after `swarm init`: only the ingress network.
fn swarm() -> ClusterState {
    let mut state = ClusterState::default();
    let mut ingress = request("ingress", "overlay");
    ingress.ingress = true;
    stored(&mut state, &ingress, "ooy1txid3c4sgscoqr2rkyydx");
    state
}

fn local(id: &str, name: &str) -> LocalNetwork {
    LocalNetwork {
        id: id.into(),
        name: name.into(),
        scope: "local".into(),
        ingress: false,
    }
}

fn message(result: ControlResult<impl std::fmt::Debug>) -> String {
    result.unwrap_err().to_string()
}

#[test]
fn routes_overlay_and_swarm_scope_to_the_swarm() {
    let route = |driver: &str, scope: &str| {
        let mut r = request("n", driver);
        r.scope = scope.into();
        create_route(&r)
    };
    assert_eq!(route("overlay", ""), CreateRoute::Swarm);
    assert_eq!(route("macvlan", "swarm"), CreateRoute::Swarm);
    assert_eq!(route("", "swarm"), CreateRoute::Swarm);
    assert_eq!(route("bridge", ""), CreateRoute::Engine);
    assert_eq!(route("", ""), CreateRoute::Engine);
    assert_eq!(route("weave", "swarm"), CreateRoute::Engine);
    let mut config_only = request("n", "macvlan");
    config_only.scope = "swarm".into();
    config_only.config_only = true;
    assert_eq!(create_route(&config_only), CreateRoute::Engine);
}

#[test]
fn create_checks_in_the_engine_order_with_its_texts() {
    let mut state = swarm();
    stored(&mut state, &request("net1", "overlay"), "net1id");
    let locals = [local("aef3", "bridge"), local("5897", "mybridge")];
    let check = |r: &NetworkCreateRequest| validate_create(r, &state, &locals);

    assert!(check(&request("net2", "overlay")).is_ok());
    assert_eq!(
        message(check(&request("net1", "overlay"))),
        "network with name net1 already exists"
    );
    let forbidden = check(&request("host", "overlay")).unwrap_err();
    assert!(matches!(forbidden, ControlError::Forbidden(_)));
    assert_eq!(
        forbidden.to_string(),
        "operation is not permitted on predefined host network "
    );
    assert_eq!(
        message(check(&request("mybridge", "overlay"))),
        "network with name mybridge already exists"
    );
    let mut unchecked = request("mybridge", "overlay");
    unchecked.check_duplicate = Some(false);
    assert!(check(&unchecked).is_ok());
    assert_eq!(message(check(&request(" ", "overlay"))), "invalid name:  ");
    assert_eq!(
        message(check(&request("my.net", "overlay"))),
        "rpc error: code = InvalidArgument desc = name must be valid as a DNS name component"
    );
    assert!(check(&request("a_b-c9", "overlay")).is_ok());
    assert_eq!(
        message(check(&request(&"x".repeat(64), "overlay"))),
        "rpc error: code = InvalidArgument desc = name must be 63 characters or fewer"
    );
    assert_eq!(
        message(check(&request("n", ""))),
        "rpc error: code = InvalidArgument desc = driver name: if driver is specified name is required"
    );

    let mut local_scope = request("n", "overlay");
    local_scope.scope = "local".into();
    assert_eq!(
        message(check(&local_scope)),
        "cannot downgrade network scope for overlay networks"
    );

    let mut ingress = request("ingress2", "overlay");
    ingress.ingress = true;
    assert_eq!(
        message(check(&ingress)),
        "rpc error: code = AlreadyExists desc = ingress network (ooy1txid3c4sgscoqr2rkyydx) is already present"
    );
    ingress.attachable = true;
    assert_eq!(
        message(check(&ingress)),
        "rpc error: code = InvalidArgument desc = ingress network cannot be attachable"
    );
    ingress.driver = "macvlan".into();
    assert!(matches!(
        check(&ingress),
        Err(ControlError::NotImplemented(_))
    ));

    let mut labelled = request("n", "overlay");
    labelled
        .labels
        .insert("com.docker.swarm.predefined".into(), "true".into());
    assert!(matches!(check(&labelled), Err(ControlError::Forbidden(_))));
}

#[test]
fn ipam_configs_are_validated() {
    let state = swarm();
    let with = |driver: &str, subnet: &str, range: &str, gateway: &str| {
        let mut r = request("n", "overlay");
        r.ipam = Some(NetworkIPAM {
            driver: driver.into(),
            options: None,
            config: vec![NetworkIPAMConfig {
                subnet: subnet.into(),
                ip_range: range.into(),
                gateway: gateway.into(),
                ..Default::default()
            }],
        });
        validate_create(&r, &state, &[]).map_err(|e| e.to_string())
    };
    assert!(with("", "10.9.0.0/16", "10.9.1.0/24", "10.9.0.1").is_ok());
    assert!(with("default", "fd00:1::/64", "", "fd00:1::1").is_ok());
    let desc = |m: &str| Err(format!("rpc error: code = InvalidArgument desc = {m}"));
    assert_eq!(
        with("", "10.9.0.0", "", ""),
        desc("ipam configuration: invalid subnet 10.9.0.0")
    );
    assert_eq!(
        with("", "10.9.0.0/16", "10.8.0.0/24", ""),
        desc("ipam configuration: subnet 10.9.0.0/16 does not contain range 10.8.0.0/24")
    );
    assert_eq!(
        with("", "10.9.0.0/16", "", "10.8.0.1"),
        desc("ipam configuration: subnet 10.9.0.0/16 does not contain gateway 10.8.0.1")
    );
    assert_eq!(
        with("", "10.9.0.0/16", "", "nope"),
        desc("ipam configuration: invalid gateway nope")
    );
    assert_eq!(
        with("weird", "10.9.0.0/16", "", ""),
        desc("error during lookup of plugin weird")
    );
}

/// Transcript 071: `docker network create -d overlay --attachable net1` as listed.
#[test]
fn resource_shape_matches_the_engine() {
    let mut state = swarm();
    let body = r#"{"Driver":"overlay","Scope":"","IPAM":{"Driver":"default","Options":{},"Config":[]},"Internal":false,"Attachable":true,"Ingress":false,"ConfigOnly":false,"ConfigFrom":null,"Options":{},"Labels":{},"Name":"net1","CheckDuplicate":true}"#;
    let request: NetworkCreateRequest = crate::types::decode::from_str(body).unwrap();
    let mut network = network_from_request(
        &request,
        "flmd2a8he57crrurl02e2njzg".into(),
        Timestamp::parse("2026-11-22T03:04:30.939964246Z").unwrap(),
    );
    network.updated_at = network.created_at;
    crate::store::apply::apply(
        &mut state,
        9,
        Command::CreateNetwork {
            network: Box::new(network),
        },
    )
    .unwrap();
    let net1 = &state.networks["flmd2a8he57crrurl02e2njzg"];
    let expected = serde_json::json!({"Name": "net1", "Id": "flmd2a8he57crrurl02e2njzg", "Created": "2026-11-22T03:04:30.939964246Z", "Scope": "swarm", "Driver": "overlay", "EnableIPv6": false, "IPAM": {"Driver": "default", "Options": null, "Config": [{"Subnet": "10.0.1.0/24", "Gateway": "10.0.1.1"}]}, "Internal": false, "Attachable": true, "Ingress": false, "ConfigFrom": {"Network": ""}, "ConfigOnly": false, "Containers": null, "Options": {"com.docker.network.driver.overlay.vxlanid_list": "4097"}, "Labels": null});
    assert_eq!(serde_json::to_value(to_resource(net1)).unwrap(), expected);

    // And the swarm shape inside tasks (transcript 078): Spec without IPAMOptions when the
    // request had `IPAM: null`, DriverConfiguration `{"Name":"overlay"}`, scope swarm.
    let mut stack = self::request("whoami_test-net", "overlay");
    stack
        .labels
        .insert("com.docker.stack.namespace".into(), "whoami".into());
    let stack = stored(&mut state, &stack, "stackid");
    let spec = serde_json::to_value(&stack.spec).unwrap();
    assert_eq!(
        spec,
        serde_json::json!({"Name": "whoami_test-net", "Labels": {"com.docker.stack.namespace": "whoami"}, "DriverConfiguration": {"Name": "overlay"}, "Scope": "swarm"})
    );
    let allocated = serde_json::to_value(&stack.ipam_options).unwrap();
    assert_eq!(
        allocated,
        serde_json::json!({"Driver": {"Name": "default"}, "Configs": [{"Subnet": "10.0.2.0/24", "Gateway": "10.0.2.1"}]})
    );
}

#[test]
fn node_local_drivers_get_no_addresses() {
    let mut state = swarm();
    let mut macvlan = request("mv", "macvlan");
    macvlan.scope = "swarm".into();
    macvlan.options.insert("parent".into(), "eth0".into());
    let mv = stored(&mut state, &macvlan, "mvid");
    let resource = serde_json::to_value(to_resource(&mv)).unwrap();
    assert_eq!(resource["Driver"], "macvlan");
    assert_eq!(
        resource["IPAM"],
        serde_json::json!({"Driver": "", "Options": null, "Config": []})
    );
    assert_eq!(resource["Options"], Value::Null);
    assert_eq!(
        mv.spec.driver_configuration.as_ref().unwrap().options["parent"],
        "eth0"
    );
    assert!(!mv.driver_state.options.contains_key(ipam::VXLAN_ID_OPTION));
}

fn filters(json: &str) -> Filters {
    Filters::parse(json).unwrap()
}

#[test]
fn list_filters_for_swarm_networks() {
    let mut state = swarm();
    let mut labelled = request("webdb_backend", "overlay");
    labelled
        .labels
        .insert("com.docker.stack.namespace".into(), "webdb".into());
    let n = stored(&mut state, &labelled, "pe8ec5ay3sygryngav86qkx9z");
    let yes = |f: &str| matches_filters(&filters(f), &n);
    assert!(yes("{}"));
    assert!(yes(r#"{"driver":{"overlay":true},"scope":{"swarm":true}}"#));
    assert!(!yes(r#"{"scope":{"local":true}}"#));
    assert!(!yes(r#"{"driver":{"bridge":true}}"#));
    assert!(yes(
        r#"{"label":{"com.docker.stack.namespace=webdb":true}}"#
    ));
    assert!(yes(r#"{"label":{"com.docker.stack.namespace":true}}"#));
    assert!(!yes(r#"{"label":{"com.docker.stack.namespace=app":true}}"#));
    assert!(yes(r#"{"name":{"backend":true}}"#));
    assert!(yes(r#"{"name":["^webdb_"]}"#));
    assert!(yes(r#"{"name":["web.*end$"]}"#));
    assert!(!yes(r#"{"name":["^backend"]}"#));
    assert!(yes(r#"{"id":{"pe8ec":true}}"#));
    assert!(!yes(r#"{"id":{"zz":true}}"#));
    assert!(yes(r#"{"type":{"custom":true}}"#));
    assert!(!yes(r#"{"type":{"builtin":true}}"#));
    assert!(yes(r#"{"dangling":{"true":true}}"#));
    assert!(!yes(r#"{"dangling":["0"]}"#));

    let check = |f: &str| validate_list_filters(&filters(f)).map_err(|e| e.to_string());
    assert_eq!(
        check(r#"{"bogus":{"x":true}}"#),
        Err("Invalid filter 'bogus'".into())
    );
    assert_eq!(
        check(r#"{"type":["x"]}"#),
        Err("invalid filter: 'type'='x'".into())
    );
    assert_eq!(
        check(r#"{"dangling":["true","false"]}"#),
        Err("got more than one value for filter key \"dangling\"".into())
    );
    assert!(check(r#"{"dangling":["maybe"]}"#).is_err());
    assert!(check(r#"{"label":["a"],"name":["b"]}"#).is_ok());
}

#[test]
fn small_regular_expressions() {
    assert!(simple_regex_match("net", "my-net-1"));
    assert!(simple_regex_match("^my", "my-net"));
    assert!(!simple_regex_match("^net", "my-net"));
    assert!(simple_regex_match("net$", "my-net"));
    assert!(!simple_regex_match("my$", "my-net"));
    assert!(simple_regex_match("m.-n", "my-net"));
    assert!(simple_regex_match("^m.*t$", "my-net"));
    assert!(simple_regex_match("", "anything"));
}

#[test]
fn merged_list_puts_swarm_first_and_drops_duplicates() {
    let state = swarm();
    let swarm: Vec<NetworkResource> = state.networks.values().map(|n| to_resource(n)).collect();
    let local = vec![
        serde_json::json!({"Name": "bridge", "Id": "aef3", "Scope": "local", "Extra": 1}),
        serde_json::json!({"Name": "ingress", "Id": "ooy1txid3c4sgscoqr2rkyydx", "Scope": "swarm"}),
        serde_json::json!({"Name": "ingress.ooy1txid3c4s", "Id": "b1", "Scope": "local",
            "Labels": {"io.shoal.network.id": "ooy1txid3c4sgscoqr2rkyydx"}}),
    ];
    let merged = merge_lists(swarm, local).unwrap();
    assert_eq!(
        merged.len(),
        2,
        "the agent's bridge for ingress is not listed: {merged:?}"
    );
    assert_eq!(merged[0]["Name"], "ingress");
    assert_eq!(merged[0]["Containers"], Value::Null);
    assert_eq!(merged[1]["Extra"], 1);
}

#[test]
fn resolution_follows_the_engine() {
    let mut state = swarm();
    stored(
        &mut state,
        &request("same", "overlay"),
        "dppzxd9kzx1cvv4tipab5r386",
    );
    stored(
        &mut state,
        &request("net1", "overlay"),
        "flmd2a8he57crrurl02e2njzg",
    );
    let locals = [
        local("dc6f1220fc52aaaa", "bridge"),
        local("bd64f74208857ecd", "same"),
        LocalNetwork {
            ingress: true,
            ..local("a1b2", "lingress")
        },
    ];
    let inspect = ResolveMode::Inspect { scope: None };
    let pick = |term: &str, mode| resolve(term, &locals, &state, mode);
    let swarm_id = |r: ControlResult<Resolved>| match r {
        Ok(Resolved::Swarm(n)) => n.id.clone(),
        other => panic!("{other:?}"),
    };

    assert_eq!(swarm_id(pick("net1", inspect)), "flmd2a8he57crrurl02e2njzg");
    assert_eq!(swarm_id(pick("flmd", inspect)), "flmd2a8he57crrurl02e2njzg");
    assert_eq!(
        swarm_id(pick("flmd2a8he57crrurl02e2njzg", ResolveMode::Remove)),
        "flmd2a8he57crrurl02e2njzg"
    );
    assert_eq!(
        pick("bd64f74208857ecd", inspect).unwrap(),
        Resolved::Local("bd64f74208857ecd".into())
    );
    assert_eq!(
        message(pick("same", inspect)),
        "2 matches found based on name: network same is ambiguous"
    );
    assert_eq!(
        message(pick("same", ResolveMode::Remove)),
        "network same is ambiguous (2 matches found based on name)"
    );
    assert_eq!(
        swarm_id(pick(
            "same",
            ResolveMode::Inspect {
                scope: Some("swarm")
            }
        )),
        "dppzxd9kzx1cvv4tipab5r386"
    );
    assert_eq!(
        pick(
            "same",
            ResolveMode::Inspect {
                scope: Some("local")
            }
        )
        .unwrap(),
        Resolved::Local("bd64f74208857ecd".into())
    );
    // "d" is a prefix of a local and a swarm ID.
    assert_eq!(
        message(pick("d", ResolveMode::Remove)),
        "network d is ambiguous (2 matches found based on ID prefix)"
    );
    // Local ingress networks are never removed by name.
    assert!(matches!(
        pick("lingress", ResolveMode::Remove),
        Err(ControlError::NotFound(_))
    ));
    assert_eq!(message(pick("nosuch", inspect)), "network nosuch not found");
}
