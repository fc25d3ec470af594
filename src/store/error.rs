//! Why a command was refused by `apply`. Deterministic: the same state and command always give
//! the same answer, so every manager agrees. The texts are the engine's (its gRPC errors).

use serde::{Deserialize, Serialize};

use super::object::Kind;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum StoreError {
    /// No object with this ID (the caller resolved names before proposing).
    #[error("{kind} {id} not found")]
    NotFound { kind: Kind, id: String },

    /// The name is taken by another object of the same kind.
    #[error("{}", name_conflict_text(*kind, name))]
    NameConflict { kind: Kind, name: String },

    /// The `version` sent with an update is not the object's current one.
    #[error("rpc error: code = Unknown desc = update out of sequence")]
    OutOfSequence,

    /// A secret, config or network still referenced by services.
    #[error("rpc error: code = InvalidArgument desc = {kind} '{name}' is in use by the following {}: {}", plural_service(services.len()), services.join(", "))]
    InUse {
        kind: Kind,
        name: String,
        services: Vec<String>,
    },

    /// A deterministic check on the whole state failed (e.g. a referenced secret is gone).
    #[error("rpc error: code = InvalidArgument desc = {0}")]
    InvalidArgument(String),

    /// The operation needs a state the cluster is not in (demoting the last manager).
    #[error("rpc error: code = FailedPrecondition desc = {0}")]
    FailedPrecondition(String),

    /// A cluster already exists (init twice).
    #[error("This node is already part of a swarm. Use \"docker swarm leave\" to leave this swarm and join another one.")]
    ClusterExists,

    /// There is no cluster yet.
    #[error("This node is not part of a swarm")]
    NoCluster,
}

fn name_conflict_text(kind: Kind, name: &str) -> String {
    match kind {
        Kind::Service => format!(
            "rpc error: code = AlreadyExists desc = name conflicts with an existing object: service {name} already exists"
        ),
        Kind::Network => format!("network with name {name} already exists"),
        other => format!("rpc error: code = AlreadyExists desc = {other} {name} already exists"),
    }
}

fn plural_service(count: usize) -> &'static str {
    if count == 1 {
        "service"
    } else {
        "services"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_match_the_engine() {
        assert_eq!(
            StoreError::NameConflict {
                kind: Kind::Service,
                name: "webdb_web".into()
            }
            .to_string(),
            "rpc error: code = AlreadyExists desc = name conflicts with an existing object: service webdb_web already exists"
        );
        assert_eq!(
            StoreError::NameConflict {
                kind: Kind::Secret,
                name: "ext_secret".into()
            }
            .to_string(),
            "rpc error: code = AlreadyExists desc = secret ext_secret already exists"
        );
        assert_eq!(
            StoreError::NameConflict {
                kind: Kind::Network,
                name: "dupnet".into()
            }
            .to_string(),
            "network with name dupnet already exists"
        );
        assert_eq!(
            StoreError::InUse {
                kind: Kind::Secret,
                name: "s1".into(),
                services: vec!["withsecrets".into()]
            }
            .to_string(),
            "rpc error: code = InvalidArgument desc = secret 's1' is in use by the following service: withsecrets"
        );
        assert_eq!(
            StoreError::NotFound {
                kind: Kind::Service,
                id: "x".into()
            }
            .to_string(),
            "service x not found"
        );
    }
}
