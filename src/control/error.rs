//! What `control` operations can fail with. The API layer maps each to the engine's status.

use crate::store::{LookupError, StoreError};

use super::proposer::ProposeError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ControlError {
    /// Swarm endpoints on a node that is not a manager (or not in a swarm).
    #[error("This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again.")]
    NotManager,
    /// The manager is locked (autolock) until `swarm unlock`.
    #[error("Swarm is encrypted and needs to be unlocked before it can be used. Please use \"docker swarm unlock\" to unlock it.")]
    Locked,
    #[error("This node is already part of a swarm. Use \"docker swarm leave\" to leave this swarm and join another one.")]
    AlreadyInSwarm,
    #[error("This node is not part of a swarm")]
    NotInSwarm,
    /// Bad input (400).
    #[error("{0}")]
    Invalid(String),
    /// 404 with the engine's text.
    #[error("{0}")]
    NotFound(String),
    /// 409 with the engine's text.
    #[error("{0}")]
    Conflict(String),
    /// 501.
    #[error("{0}")]
    NotImplemented(String),
    /// 503: the cluster cannot take writes now, or a precondition of the node's state.
    #[error("{0}")]
    Unavailable(String),
    /// 403 (a local network given to a service).
    #[error("{0}")]
    Forbidden(String),
    /// 401 (a wrong unlock key).
    #[error("{0}")]
    Unauthorized(String),
    /// 500.
    #[error("{0}")]
    Internal(String),
    /// `apply` refused the command.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A name, ID or prefix did not resolve.
    #[error(transparent)]
    Lookup(#[from] LookupError),
}

impl From<ProposeError> for ControlError {
    fn from(error: ProposeError) -> Self {
        match error {
            ProposeError::Rejected(store) => ControlError::Store(store),
            ProposeError::Unavailable(message) => ControlError::Unavailable(message),
        }
    }
}

pub type ControlResult<T> = Result<T, ControlError>;
