//! What the tests need from the machine, and how they skip (or, in CI, fail) without it.

use std::io::{Read, Write};
use std::time::Duration;

/// The dockerd that shoal passes non-swarm endpoints to (and that builds the test images).
pub fn engine() -> String {
    std::env::var("COMPAT_ENGINE").unwrap_or_else(|_| "unix:///var/run/docker.sock".to_string())
}

/// `COMPAT_TARGET`: run the scenarios against this real engine instead of starting shoal.
pub fn compat_target() -> Option<String> {
    std::env::var("COMPAT_TARGET")
        .ok()
        .filter(|v| !v.trim().is_empty())
}

/// CI sets `CI=true`: then a missing prerequisite is a failure, never a skip.
pub fn ci() -> bool {
    std::env::var("CI").map(|v| v == "true").unwrap_or(false)
}

/// The name libtest gave the current test's thread.
pub fn test_name() -> String {
    std::thread::current()
        .name()
        .unwrap_or("<unnamed test>")
        .to_string()
}

/// Prints a line that libtest's output capture does not swallow.
pub fn announce(line: &str) {
    let mut err = std::io::stderr();
    let _ = writeln!(err, "{line}");
    let _ = err.flush();
}

/// Skips the current test with a visible message, or fails it when `CI=true`.
#[track_caller]
pub fn skip_or_fail(reason: &str) {
    if ci() {
        panic!(
            "{}: {reason} (CI=true, so this is a failure, not a skip)",
            test_name()
        );
    }
    announce(&format!("SKIPPED {}: {reason}", test_name()));
}

/// Skips the current test (also in CI): for tests that cannot run against this kind of target.
pub fn skip(reason: &str) {
    announce(&format!("SKIPPED {}: {reason}", test_name()));
}

/// `GET /_ping` over a unix socket or TCP, synchronously; the status code, or `None`.
pub fn ping(host: &str) -> Option<u16> {
    let request = b"GET /_ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    let timeout = Some(Duration::from_secs(3));
    let mut response = Vec::new();
    if let Some(path) = host.strip_prefix("unix://") {
        let mut s = std::os::unix::net::UnixStream::connect(path).ok()?;
        s.set_read_timeout(timeout).ok()?;
        s.set_write_timeout(timeout).ok()?;
        s.write_all(request).ok()?;
        let _ = s.read_to_end(&mut response);
    } else {
        let addr = host.strip_prefix("tcp://").unwrap_or(host);
        let addr: std::net::SocketAddr = std::net::ToSocketAddrs::to_socket_addrs(addr)
            .ok()?
            .next()?;
        let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(3)).ok()?;
        s.set_read_timeout(timeout).ok()?;
        s.set_write_timeout(timeout).ok()?;
        s.write_all(request).ok()?;
        let _ = s.read_to_end(&mut response);
    }
    let text = String::from_utf8_lossy(&response);
    let status_line = text.lines().next()?;
    status_line.split_whitespace().nth(1)?.parse().ok()
}

/// Whether the `docker` CLI is on PATH.
pub fn docker_cli_present() -> bool {
    std::process::Command::new("docker")
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// This machine's hostname (what dockerd reports as `Name`, and so the node's hostname).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(4000 + (std::process::id() % 20000) as u16)
}

/// A random lowercase token: makes names unique per test on a shared engine.
pub fn token(len: usize) -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    let mut s = String::with_capacity(len);
    // Start with a letter: some names must not start with a digit.
    s.push(CHARS[rng.gen_range(0..26)] as char);
    for _ in 1..len {
        s.push(CHARS[rng.gen_range(0..CHARS.len())] as char);
    }
    s
}
