//! The harness shared by every compat-test binary.
//!
//! Each scenario file (`compat-tests/<area>.rs`) is its own `[[test]]` binary that says
//! `mod common;`. A test opens a [`Target`]: by default a fresh `shoal` process (own socket,
//! own data root) beside the local dockerd; with `COMPAT_TARGET=unix:///run/docker-perf.sock`
//! a real engine in swarm mode instead, so the same expectations can be checked against the
//! real thing. See `compat-tests/README.md`.
//!
//! Not every binary uses every helper.
#![allow(dead_code, unused_imports)]

pub mod api;
pub mod cli;
pub mod env;
pub mod images;
pub mod lock;
pub mod shoal;
pub mod target;

pub use api::Resp;
pub use cli::Out;
pub use target::Target;

/// 25 lowercase base36 characters: node, service, task, secret, config, cluster and
/// swarm-network IDs.
pub const SWARM_ID: &str = "[0-9a-z]{25}";
/// A join token: `SWMTKN-1-<50 chars of CA digest>-<25 chars of secret>`.
pub const JOIN_TOKEN: &str = "SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}";
/// An autolock key.
pub const UNLOCK_KEY: &str = r"SWMKEY-1-[A-Za-z0-9+/]{43}";
/// The message every swarm endpoint answers with (503) on a node that is not a manager.
pub const NOT_A_MANAGER: &str = "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again.";
/// What the CLI prints on stderr when `/distribution` fails (no registry here).
pub const NO_DIGEST_WARNING: &str = "could not be accessed on a registry to record\nits digest.";

/// Asserts that `text` matches the regular expression `re` (multi-line mode: `^`/`$` match at
/// line boundaries).
#[track_caller]
pub fn assert_re(text: &str, re: &str) {
    let compiled = regex::RegexBuilder::new(re)
        .multi_line(true)
        .build()
        .unwrap_or_else(|e| panic!("bad regex {re:?}: {e}"));
    assert!(
        compiled.is_match(text),
        "text does not match /{re}/\n--- text ---\n{text}\n------------"
    );
}

/// Whether `text` matches `re` (multi-line mode).
pub fn matches(text: &str, re: &str) -> bool {
    regex::RegexBuilder::new(re)
        .multi_line(true)
        .build()
        .map(|r| r.is_match(text))
        .unwrap_or(false)
}

/// The first capture group of `re` in `text`.
#[track_caller]
pub fn capture(text: &str, re: &str) -> String {
    let compiled = regex::RegexBuilder::new(re)
        .multi_line(true)
        .build()
        .unwrap_or_else(|e| panic!("bad regex {re:?}: {e}"));
    match compiled.captures(text).and_then(|c| c.get(1)) {
        Some(m) => m.as_str().to_string(),
        None => panic!("no capture of /{re}/ in\n{text}"),
    }
}

/// Escapes `s` for use inside a regular expression.
pub fn esc(s: &str) -> String {
    regex::escape(s)
}

/// Path of a file under `compat-tests/fixtures/`.
pub fn fixture(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("compat-tests/fixtures")
        .join(rel)
}

/// Percent-encodes a query parameter value (`filters=...`).
pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `?filters=<urlencoded json>` for a filter object.
pub fn filters(json: &serde_json::Value) -> String {
    format!("filters={}", urlencode(&json.to_string()))
}

/// RFC 3339 UTC with `Z`, nanoseconds with trailing zeros trimmed.
pub const TIMESTAMP: &str = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,8}[1-9])?Z$";

/// A placement constraint no node satisfies: services with replicas > 0 get tasks that stay
/// pending, so no container ever runs.
pub const NEVER: &str = "node.labels.shoal-compat-never==true";
