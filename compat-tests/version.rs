//! Version negotiation and `/_ping`: what every CLI run and SDK does first (reference 001,
//! 119-124, 160-165).

mod common;

use common::target::V;
use common::*;

fn minor(version: &str) -> u32 {
    version
        .strip_prefix("1.")
        .and_then(|m| m.parse().ok())
        .unwrap_or_else(|| panic!("not a 1.x API version: {version:?}"))
}

#[test]
fn head_ping_carries_the_engine_headers() {
    let Some(t) = Target::plain() else { return };
    let resp = t.request("HEAD", "/_ping", &[], None);
    resp.status(200)
        .header_is("ostype", "linux")
        .header_is("docker-experimental", "false")
        .header_is("cache-control", "no-cache, no-store, must-revalidate")
        .header_is("pragma", "no-cache")
        .header_is("content-type", "text/plain; charset=utf-8");
    assert!(resp.body.is_empty(), "HEAD /_ping has a body");
    let version = resp.header("api-version").expect("API-Version header");
    assert_re(&version, r"^1\.\d+$");
    assert!(resp.header("server").is_some(), "no Server header");
    if t.is_shoal() {
        assert_eq!(version, "1.52", "shoal advertises API 1.52");
        resp.header_is("swarm", "inactive");
    }
}

#[test]
fn get_ping_answers_ok_versioned_or_not() {
    let Some(t) = Target::plain() else { return };
    for path in ["/_ping".to_string(), format!("{V}/_ping")] {
        let resp = t.request("GET", &path, &[], None);
        resp.status(200)
            .header_is("ostype", "linux")
            .header_is("pragma", "no-cache");
        assert_eq!(resp.text(), "OK", "{path}");
        assert!(
            resp.header("api-version").is_some(),
            "{path}: no API-Version"
        );
    }
}

#[test]
fn swarm_header_follows_the_node_state() {
    let Some(t) = Target::no_swarm() else { return };
    let before = t.request("HEAD", "/_ping", &[], None);
    if !t.is_shoal() && before.header("swarm").is_none() {
        // Engines before API 1.42 (like the 20.10 reference engine) send no Swarm header.
        env::skip("this engine sends no Swarm header on /_ping (API < 1.42)");
        return;
    }
    before.status(200).header_is("swarm", "inactive");
    t.ensure_swarm();
    t.request("HEAD", "/_ping", &[], None)
        .status(200)
        .header_is("swarm", "active/manager");
    t.request("GET", "/_ping", &[], None)
        .status(200)
        .header_is("swarm", "active/manager");
}

#[test]
fn the_advertised_version_prefix_is_served() {
    let Some(t) = Target::plain() else { return };
    let max = t.api_version();
    let ping = t.request("GET", &format!("/v{max}/_ping"), &[], None);
    ping.status(200);
    assert_eq!(ping.text(), "OK");
    let info = t.request("GET", &format!("/v{max}/info"), &[], None);
    info.status(200);
    assert!(info.json()["Swarm"].is_object(), "no Swarm block in /info");
    // The oldest version the reference CLI runs used, and docker-py's, must work too.
    t.request("GET", "/v1.41/info", &[], None).status(200);
    t.request("GET", "/v1.24/version", &[], None).status(200);
}

#[test]
fn a_newer_prefix_is_a_400_json_error() {
    let Some(t) = Target::plain() else { return };
    let max = t.api_version();
    t.request("GET", "/v1.53/version", &[], None).error(
        400,
        &format!("client version 1.53 is too new. Maximum supported API version is {max}"),
    );
    let next = format!("1.{}", minor(&max) + 1);
    t.request("GET", &format!("/v{next}/services"), &[], None)
        .error(
            400,
            &format!("client version {next} is too new. Maximum supported API version is {max}"),
        )
        .header_is("api-version", &max);
}

#[test]
fn an_older_prefix_is_a_400_plain_text_error() {
    let Some(t) = Target::plain() else { return };
    let resp = t.request("GET", "/v1.11/version", &[], None);
    resp.status(400);
    let content_type = resp.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("text/plain"),
        "too-old error must be text/plain, got {content_type:?}"
    );
    assert_re(
        &resp.text(),
        r"^client version 1\.11 is too old\. Minimum supported API version is 1\.\d+, please upgrade your client to a newer version\n?$",
    );
}

#[test]
fn version_endpoint_agrees_with_ping() {
    // docker-py negotiates from unversioned GET /version; the CLI from /_ping. A real engine
    // gives the same answer to both, and the same minimum as its too-old error.
    let Some(t) = Target::plain() else { return };
    let max = t.api_version();
    let version = t.request("GET", "/version", &[], None);
    version.status(200);
    let body = version.json();
    assert_eq!(
        body["ApiVersion"],
        max.as_str(),
        "/version ApiVersion vs API-Version"
    );
    let min = body["MinAPIVersion"]
        .as_str()
        .expect("MinAPIVersion")
        .to_string();
    let too_old = t.request("GET", "/v1.11/version", &[], None).text();
    assert!(
        too_old.contains(&format!("Minimum supported API version is {min},")),
        "too-old error names another minimum than /version's {min}: {too_old}"
    );
    // A version inside the range is served.
    t.request("GET", &format!("/v{min}/version"), &[], None)
        .status(200);
}

#[test]
fn unversioned_paths_are_served() {
    let Some(t) = Target::swarm() else { return };
    t.request("GET", "/version", &[], None).status(200);
    t.request("GET", "/info", &[], None).status(200);
    let services = t.request("GET", "/services", &[], None);
    services.status(200);
    assert!(services.json().is_array(), "GET /services is a list");
}

#[test]
fn the_cli_negotiates_the_lower_of_both_versions() {
    let Some(t) = Target::plain() else { return };
    let server = t.api_version();
    let cli_max = "1.50"; // docker CLI 28.x
    let want = if minor(&server) < minor(cli_max) {
        server.clone()
    } else {
        cli_max.to_string()
    };
    let out = t.docker(&["version", "--format", "{{.Client.APIVersion}}"]);
    out.ok().stdout_is(&format!("{want}\n"));
    let full = t.docker(&["version"]);
    full.ok().stdout_has("Server:").stdout_re(&format!(
        r"(?m)^ API version:\s+{}( \(downgraded from 1\.50\))?$",
        esc(&want)
    ));
}
