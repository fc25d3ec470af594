//! Placement constraints (`node.role==manager`, `node.labels.zone!=a`): parsing as the engine
//! validates them at service create, and matching against a node for the scheduler.

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

    /// Whether `node` satisfies this constraint.
    pub fn node_matches(&self, node: &Node) -> bool {
        let key = self.key.to_ascii_lowercase();
        let description = &node.description;
        match key.as_str() {
            "node.id" => self.matches(&[&node.id]),
            "node.hostname" => self.matches(&[&description.hostname]),
            "node.ip" => self.matches(&[&node.status.addr]),
            "node.role" => {
                let role = if node.is_manager() {
                    "manager"
                } else {
                    "worker"
                };
                self.matches(&[role])
            }
            "node.platform.os" => self.matches(&[&description.platform.os]),
            "node.platform.arch" => self.matches(&[&description.platform.architecture]),
            _ => {
                if let Some(label) = self.key.strip_prefix("node.labels.") {
                    let value = node.spec.labels.get(label).map(String::as_str);
                    // A missing label never equals; it always differs.
                    return match value {
                        Some(v) => self.matches(&[v]),
                        None => !self.equal,
                    };
                }
                if let Some(label) = self.key.strip_prefix("engine.labels.") {
                    let value = description.engine.labels.get(label).map(String::as_str);
                    return match value {
                        Some(v) => self.matches(&[v]),
                        None => !self.equal,
                    };
                }
                // Unknown keys never match, as the engine's scheduler treats them.
                false
            }
        }
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
    }
}
