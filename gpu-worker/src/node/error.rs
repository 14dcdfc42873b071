//! What can stop a worker node, with what to do about it.

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::node::store::StoreError;

#[derive(Debug, Error)]
pub enum NodeError {
    #[error(transparent)]
    Chain(#[from] arena_client::ClientError),

    #[error(transparent)]
    Store(#[from] StoreError),

    #[error(transparent)]
    Compute(#[from] crate::Error),

    #[error("config {path}: {reason}")]
    Config { path: PathBuf, reason: String },

    #[error("data set {uri}: its sha256 is {found}, but task {task_id} commits to {expected}; refusing to use it")]
    DataMismatch { task_id: u64, uri: String, expected: String, found: String },

    #[error("data set {uri}: {reason}")]
    Data { uri: String, reason: String },

    #[error("journal {path}: {reason}")]
    Journal { path: PathBuf, reason: String },

    #[error("task {task_id}: {reason}")]
    Task { task_id: u64, reason: String },
}

impl NodeError {
    pub(crate) fn journal(path: &Path, e: impl std::fmt::Display) -> Self {
        NodeError::Journal { path: path.to_path_buf(), reason: e.to_string() }
    }

    /// Worth another try on the next tick. A node keeps going through anything the chain may get
    /// over (a restart, a query that failed, a transaction refused because the phase moved on:
    /// the next tick looks at the chain afresh); it stops on what only a person can fix.
    pub fn is_transient(&self) -> bool {
        use arena_client::ClientError as C;
        match self {
            NodeError::Chain(C::AccountNotFound { .. } | C::InsufficientFunds { .. } | C::InsufficientFee { .. }) => {
                false
            }
            NodeError::Chain(C::Key(_) | C::Config(_) | C::Manifest { .. }) => false,
            NodeError::Chain(_) => true,
            NodeError::Store(StoreError::Unreachable { .. }) => true,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arena_client::ClientError;

    #[test]
    fn chain_hiccups_are_transient_and_what_a_person_must_fix_is_not() {
        let query = NodeError::Chain(ClientError::Query("Unknown error: panic".into()));
        let refused = NodeError::Chain(ClientError::Simulation("submission phase is over".into()));
        assert!(query.is_transient() && refused.is_transient());
        let unfunded = NodeError::Chain(ClientError::AccountNotFound { address: "inj1x".into() });
        let mismatch =
            NodeError::DataMismatch { task_id: 1, uri: "file://d".into(), expected: "a".into(), found: "b".into() };
        assert!(!unfunded.is_transient() && !mismatch.is_transient());
    }
}
