//! Choosing the addresses a manager listens on and advertises (`swarm init`).
//!
//! Rules as the engine's: the listen address defaults to `0.0.0.0:2377`; the advertise address
//! may be an IP, an interface name, either with a port, or empty, in which case the address of
//! the default route's interface is used.

use std::net::{IpAddr, SocketAddr, UdpSocket};

use super::ControlError;

pub const DEFAULT_LISTEN_ADDR: &str = "0.0.0.0:2377";
pub const DEFAULT_PORT: u16 = 2377;

const BAD_LISTEN: &str =
    "listen address must be an IP address or network interface (with optional port number)";
const BAD_ADVERTISE: &str =
    "advertise address must be a non-zero IP address or network interface (with optional port number)";

/// Splits `host[:port]` (IPv6 in brackets) into host and optional port.
fn split_host_port(addr: &str) -> Option<(String, Option<u16>)> {
    if let Ok(sock) = addr.parse::<SocketAddr>() {
        return Some((sock.ip().to_string(), Some(sock.port())));
    }
    if let Ok(ip) = addr.parse::<IpAddr>() {
        return Some((ip.to_string(), None));
    }
    match addr.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => {
            let port = port.parse::<u16>().ok()?;
            Some((host.to_string(), Some(port)))
        }
        Some(_) => None,
        None => Some((addr.to_string(), None)),
    }
}

/// The IPv4 (preferred) or IPv6 address of interface `name`, if it exists.
fn interface_addr(name: &str) -> Option<IpAddr> {
    let addrs = if_addrs::get_if_addrs().ok()?;
    let mut matching: Vec<IpAddr> = addrs
        .into_iter()
        .filter(|a| a.name == name)
        .map(|a| a.ip())
        .collect();
    matching.sort_by_key(|ip| !ip.is_ipv4());
    matching.into_iter().next()
}

/// `host` as an IP: a literal, or an interface's address.
fn host_ip(host: &str) -> Option<IpAddr> {
    host.parse::<IpAddr>().ok().or_else(|| interface_addr(host))
}

/// The listen address: (host, port).
pub fn resolve_listen_addr(listen: &str) -> Result<(IpAddr, u16), ControlError> {
    let listen = if listen.is_empty() {
        DEFAULT_LISTEN_ADDR
    } else {
        listen
    };
    let (host, port) =
        split_host_port(listen).ok_or_else(|| ControlError::Invalid(BAD_LISTEN.into()))?;
    let host = if host.is_empty() { "0.0.0.0" } else { &host };
    let ip = host_ip(host).ok_or_else(|| ControlError::Invalid(BAD_LISTEN.into()))?;
    Ok((ip, port.unwrap_or(DEFAULT_PORT)))
}

/// The advertise address: (ip, port). Empty means the default route's address (or the listen
/// address when it is a specific IP).
pub fn resolve_advertise_addr(
    advertise: &str,
    listen_ip: IpAddr,
    listen_port: u16,
) -> Result<(IpAddr, u16), ControlError> {
    if advertise.is_empty() {
        if !listen_ip.is_unspecified() {
            return Ok((listen_ip, listen_port));
        }
        return Ok((system_addr()?, listen_port));
    }
    let (host, port) =
        split_host_port(advertise).ok_or_else(|| ControlError::Invalid(BAD_ADVERTISE.into()))?;
    let ip = host_ip(&host).ok_or_else(|| ControlError::Invalid(BAD_ADVERTISE.into()))?;
    if ip.is_unspecified() {
        return Err(ControlError::Invalid(BAD_ADVERTISE.into()));
    }
    Ok((ip, port.unwrap_or(listen_port)))
}

/// The address of the interface that carries the default route (no packet is sent).
fn system_addr() -> Result<IpAddr, ControlError> {
    let routed = UdpSocket::bind("0.0.0.0:0")
        .and_then(|socket| {
            socket.connect("8.8.8.8:53")?;
            socket.local_addr()
        })
        .map(|addr| addr.ip())
        .ok()
        .filter(|ip| !ip.is_unspecified() && !ip.is_loopback());
    if let Some(ip) = routed {
        return Ok(ip);
    }
    // No default route: accept a single global address that is not a container bridge's.
    let candidates: Vec<IpAddr> = if_addrs::get_if_addrs()
        .unwrap_or_default()
        .into_iter()
        .filter(|a| !a.is_loopback() && a.ip().is_ipv4())
        .filter(|a| {
            !(a.name.starts_with("docker")
                || a.name.starts_with("br-")
                || a.name.starts_with("veth"))
        })
        .map(|a| a.ip())
        .collect();
    match candidates.as_slice() {
        [only] => Ok(*only),
        [] => Err(ControlError::Invalid(
            "could not find the system's IP address - specify one with --advertise-addr".into(),
        )),
        many => Err(ControlError::Invalid(format!(
            "could not choose an IP address to advertise since this system has multiple addresses ({}) - specify one with --advertise-addr",
            many.iter().map(|ip| ip.to_string()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses() {
        let any: IpAddr = "0.0.0.0".parse().unwrap();
        assert_eq!(resolve_listen_addr("").unwrap(), (any, 2377));
        assert_eq!(resolve_listen_addr("0.0.0.0:2377").unwrap(), (any, 2377));
        assert_eq!(
            resolve_listen_addr("127.0.0.1:4000").unwrap(),
            ("127.0.0.1".parse().unwrap(), 4000)
        );
        assert_eq!(resolve_listen_addr(":4000").unwrap(), (any, 4000));
        assert_eq!(
            resolve_listen_addr("lo").unwrap().0,
            "127.0.0.1".parse::<IpAddr>().unwrap()
        );
        assert!(resolve_listen_addr("no-such-interface0").is_err());
    }

    #[test]
    fn advertise_addresses() {
        let any: IpAddr = "0.0.0.0".parse().unwrap();
        assert_eq!(
            resolve_advertise_addr("192.0.2.9", any, 2377).unwrap(),
            ("192.0.2.9".parse().unwrap(), 2377)
        );
        assert_eq!(
            resolve_advertise_addr("192.0.2.9:4000", any, 2377).unwrap(),
            ("192.0.2.9".parse().unwrap(), 4000)
        );
        assert_eq!(
            resolve_advertise_addr("", "10.1.2.3".parse().unwrap(), 2377).unwrap(),
            ("10.1.2.3".parse().unwrap(), 2377)
        );
        assert!(resolve_advertise_addr("0.0.0.0", any, 2377).is_err());
        assert!(resolve_advertise_addr("bogus!!", any, 2377).is_err());
    }
}
