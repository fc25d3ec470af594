//! Settings, validated once at start-up.
//!
//! The flags follow dockerd's names (`-H/--host`, `--data-root`), plus `--engine` for the local
//! dockerd that shoal passes non-swarm endpoints to and runs tasks on.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

/// Command-line flags of the `shoal` daemon.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "shoal",
    version,
    about = "Docker swarm mode, rebuilt in Rust: point the docker CLI at shoal through DOCKER_HOST"
)]
pub struct Flags {
    /// Where to serve the Engine API: unix:///path/to.sock or tcp://host:port (repeatable).
    #[arg(short = 'H', long = "host", value_name = "ADDR", default_value = DEFAULT_HOST)]
    pub hosts: Vec<String>,

    /// Directory for the cluster state (Raft log, state machine, snapshots, certificates).
    #[arg(long = "data-root", value_name = "DIR", default_value = "./shoal-data")]
    pub data_root: PathBuf,

    /// The local dockerd: unix:///path/to/docker.sock or tcp://host:port.
    #[arg(long = "engine", value_name = "ADDR", default_value = DEFAULT_ENGINE)]
    pub engine: String,

    /// Where task secrets and configs are written for their containers; must be a tmpfs so
    /// that they never reach a disk in clear.
    #[arg(long = "exec-root", value_name = "DIR", default_value = DEFAULT_EXEC_ROOT)]
    pub exec_root: PathBuf,

    /// Log level: trace, debug, info, warn, error (or a tracing filter directive).
    #[arg(
        short = 'l',
        long = "log-level",
        value_name = "LEVEL",
        default_value = "info"
    )]
    pub log_level: String,
}

pub const DEFAULT_HOST: &str = "unix:///var/run/shoal.sock";
pub const DEFAULT_ENGINE: &str = "unix:///var/run/docker.sock";
pub const DEFAULT_EXEC_ROOT: &str = "/dev/shm/shoal";

/// An address to listen on or to connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Unix(PathBuf),
    Tcp(SocketAddr),
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Unix(path) => write!(f, "unix://{}", path.display()),
            Endpoint::Tcp(addr) => write!(f, "tcp://{addr}"),
        }
    }
}

impl Endpoint {
    /// Parses `unix:///path`, `tcp://host:port`, or a bare `host:port` (as dockerd does).
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let bad = || ConfigError::BadAddress(raw.to_string());
        if let Some(path) = raw.strip_prefix("unix://") {
            if path.is_empty() {
                return Err(bad());
            }
            return Ok(Endpoint::Unix(PathBuf::from(path)));
        }
        let hostport = raw.strip_prefix("tcp://").unwrap_or(raw);
        let hostport = hostport.trim_end_matches('/');
        if let Ok(addr) = hostport.parse::<SocketAddr>() {
            return Ok(Endpoint::Tcp(addr));
        }
        // `localhost:2375` and friends: resolve once, now.
        use std::net::ToSocketAddrs;
        hostport
            .to_socket_addrs()
            .ok()
            .and_then(|mut addrs| addrs.next())
            .map(Endpoint::Tcp)
            .ok_or_else(bad)
    }
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub hosts: Vec<Endpoint>,
    pub data_root: PathBuf,
    pub engine: Endpoint,
    pub exec_root: PathBuf,
    pub log_level: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid address {0:?}: expected unix:///path or tcp://host:port")]
    BadAddress(String),
    #[error("at least one --host is required")]
    NoHost,
}

impl Config {
    pub fn from_flags(flags: Flags) -> Result<Self, ConfigError> {
        let hosts = flags
            .hosts
            .iter()
            .map(|h| Endpoint::parse(h))
            .collect::<Result<Vec<_>, _>>()?;
        if hosts.is_empty() {
            return Err(ConfigError::NoHost);
        }
        Ok(Config {
            hosts,
            data_root: flags.data_root,
            engine: Endpoint::parse(&flags.engine)?,
            exec_root: flags.exec_root,
            log_level: flags.log_level,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dockerd_style_addresses() {
        assert_eq!(
            Endpoint::parse("unix:///run/shoal.sock").unwrap(),
            Endpoint::Unix("/run/shoal.sock".into())
        );
        assert_eq!(
            Endpoint::parse("tcp://127.0.0.1:2375").unwrap(),
            Endpoint::Tcp("127.0.0.1:2375".parse().unwrap())
        );
        assert_eq!(
            Endpoint::parse("127.0.0.1:2375").unwrap(),
            Endpoint::Tcp("127.0.0.1:2375".parse().unwrap())
        );
        assert!(Endpoint::parse("unix://").is_err());
        assert!(Endpoint::parse("tcp://nonsense").is_err());
    }

    #[test]
    fn defaults_are_valid() {
        let flags = Flags::parse_from(["shoal"]);
        let config = Config::from_flags(flags).unwrap();
        assert_eq!(config.hosts, vec![Endpoint::parse(DEFAULT_HOST).unwrap()]);
        assert_eq!(config.engine, Endpoint::parse(DEFAULT_ENGINE).unwrap());
    }
}
