//! Placement constraints (`node.role==manager`, `node.labels.zone!=a`): parsing as the engine
//! validates them at service create, and matching against a node for the scheduler.

use std::net::IpAddr;

use super::node::Node;

/// One parsed constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    pub key: String,
    pub equal: bool,
    pub value: String,
}

/// Parses every expression; the error texts are the engine's.
pub fn parse_all(exprs: &[String]) -> Result<Vec<Constraint>, String> {
    exprs.iter().map(|e| parse(e)).collect()
}

pub fn parse(expr: &str) -> Result<Constraint, String> {
    for (op, equal) in [("==", true), ("!=", false)] {
        let Some((key, value)) = expr.split_once(op) else {
            continue;
        };
        let key = key.trim();
        if !valid_key(key) {
            return Err(format!("key '{key}' is invalid"));
        }
        let value = value.trim();
        if !valid_value(value) {
            return Err(format!("value '{value}' is invalid"));
        }
        return Ok(Constraint {
            key: key.to_string(),
            equal,
            value: value.to_string(),
        });
    }
    Err("constraint expected one operator from ==, !=".into())
}

/// A letter or `_`, then at least one of letters, digits, `-`, `_`, `.`.
fn valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let rest: Vec<char> = chars.collect();
    first_ok
        && !rest.is_empty()
        && rest
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn valid_value(value: &str) -> bool {
    !value.is_empty()
        && value.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || c.is_whitespace()
                || matches!(
                    c,
                    ':' | '-'
                        | '_'
                        | '.'
                        | '*'
                        | '('
                        | ')'
                        | '?'
                        | '+'
                        | '['
                        | ']'
                        | '\\'
                        | '^'
                        | '$'
                        | '|'
                        | '/'
                )
        })
}

impl Constraint {
    /// Whether any of `candidates` equals the value (case-insensitively), as `==` means.
    fn matches(&self, candidates: &[&str]) -> bool {
        let found = candidates
            .iter()
            .any(|c| c.eq_ignore_ascii_case(&self.value));
        found == self.equal
    }

    /// Whether `node` satisfies this constraint. Keys compare case-insensitively, label
    /// names exactly, as swarmkit's `NodeMatches` does.
    pub fn node_matches(&self, node: &Node) -> bool {
        let key = self.key.as_str();
        let description = &node.description;
        let is = |name: &str| key.eq_ignore_ascii_case(name);
        if is("node.id") {
            self.matches(&[&node.id])
        } else if is("node.hostname") {
            self.matches(&[&description.hostname])
        } else if is("node.ip") {
            self.ip_matches(&node.status.addr)
        } else if is("node.role") {
            let role = if node.is_manager() {
                "manager"
            } else {
                "worker"
            };
            self.matches(&[role])
        } else if is("node.platform.os") {
            self.matches(&[&description.platform.os])
        } else if is("node.platform.arch") {
            self.matches(&[&description.platform.architecture])
        } else if let Some(label) = label_name(key, NODE_LABELS) {
            self.label_matches(node.spec.labels.get(label))
        } else if let Some(label) = label_name(key, ENGINE_LABELS) {
            self.label_matches(description.engine.labels.get(label))
        } else {
            // Unknown keys never match, as the engine's scheduler treats them.
            false
        }
    }

    /// A missing label never equals; it always differs.
    fn label_matches(&self, value: Option<&String>) -> bool {
        match value {
            Some(v) => self.matches(&[v]),
            None => !self.equal,
        }
    }

    /// `node.ip==10.0.0.5` or `node.ip==10.0.0.0/24` against the node's address; a value
    /// that is neither an address nor a CIDR never matches, whatever the operator.
    fn ip_matches(&self, addr: &str) -> bool {
        let node_ip = addr.parse::<IpAddr>().ok();
        let within = if let Ok(ip) = self.value.parse::<IpAddr>() {
            node_ip == Some(ip)
        } else if let Some((network, prefix)) = parse_cidr(&self.value) {
            node_ip.is_some_and(|n| cidr_contains(network, prefix, n))
        } else {
            return false;
        };
        within == self.equal
    }
}

pub const NODE_LABELS: &str = "node.labels.";
pub const ENGINE_LABELS: &str = "engine.labels.";

/// The label name after `prefix` (compared case-insensitively), if `key` has one.
pub fn label_name<'k>(key: &'k str, prefix: &str) -> Option<&'k str> {
    if key.len() > prefix.len()
        && key.is_char_boundary(prefix.len())
        && key[..prefix.len()].eq_ignore_ascii_case(prefix)
    {
        Some(&key[prefix.len()..])
    } else {
        None
    }
}

fn parse_cidr(text: &str) -> Option<(IpAddr, u32)> {
    let (address, prefix) = text.split_once('/')?;
    let address: IpAddr = address.parse().ok()?;
    let prefix: u32 = prefix.parse().ok()?;
    let bits = if address.is_ipv4() { 32 } else { 128 };
    (prefix <= bits).then_some((address, prefix))
}

fn cidr_contains(network: IpAddr, prefix: u32, ip: IpAddr) -> bool {
    fn masked(value: u128, bits: u32, prefix: u32) -> u128 {
        let host_bits = bits - prefix;
        if host_bits >= 128 {
            0
        } else {
            value >> host_bits
        }
    }
    match (network, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => {
            masked(u32::from(n).into(), 32, prefix) == masked(u32::from(i).into(), 32, prefix)
        }
        (IpAddr::V6(n), IpAddr::V6(i)) => {
            masked(u128::from(n), 128, prefix) == masked(u128::from(i), 128, prefix)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_the_engines_errors() {
        let c = parse("node.role == manager").unwrap();
        assert_eq!(
            (c.key.as_str(), c.equal, c.value.as_str()),
            ("node.role", true, "manager")
        );
        assert!(!parse("node.labels.zone!=a").unwrap().equal);
        assert_eq!(
            parse("node.role=manager").unwrap_err(),
            "constraint expected one operator from ==, !="
        );
        assert_eq!(parse("9x==a").unwrap_err(), "key '9x' is invalid");
        assert_eq!(
            parse("node.role==a%b").unwrap_err(),
            "value 'a%b' is invalid"
        );
    }

    #[test]
    fn matches_nodes() {
        let mut node = Node {
            id: "abc".into(),
            ..Default::default()
        };
        node.spec.role = Some(crate::types::node::NodeRole::Manager);
        node.spec.labels.insert("zone".into(), "z1".into());
        assert!(parse("node.role==manager").unwrap().node_matches(&node));
        assert!(parse("node.role!=worker").unwrap().node_matches(&node));
        assert!(parse("node.labels.zone==Z1").unwrap().node_matches(&node));
        assert!(!parse("node.labels.rack==r1").unwrap().node_matches(&node));
        assert!(parse("node.labels.rack!=r1").unwrap().node_matches(&node));
        assert!(parse("node.id==abc").unwrap().node_matches(&node));
        assert!(parse("Node.Labels.zone==z1").unwrap().node_matches(&node));
        assert!(!parse("node.labels.Zone==z1").unwrap().node_matches(&node));
        assert!(parse("NODE.ROLE==manager").unwrap().node_matches(&node));
        assert!(!parse("node.unknown==x").unwrap().node_matches(&node));
    }

    #[test]
    fn matches_node_addresses_and_subnets() {
        let mut node = Node::default();
        node.status.addr = "10.0.1.7".into();
        let check = |expr: &str| parse(expr).unwrap().node_matches(&node);
        assert!(check("node.ip==10.0.1.7"));
        assert!(!check("node.ip!=10.0.1.7"));
        assert!(check("node.ip==10.0.1.0/24"));
        assert!(check("node.ip==0.0.0.0/0"));
        assert!(!check("node.ip==10.0.2.0/24"));
        assert!(check("node.ip!=10.0.2.0/24"));
        assert!(!check("node.ip==fd00::/8"));
        // Neither an address nor a subnet: no match either way.
        assert!(!check("node.ip==host"));
        assert!(!check("node.ip!=host"));
        node.status.addr = "fd00::5".into();
        assert!(parse("node.ip==fd00::/8").unwrap().node_matches(&node));
    }
}
