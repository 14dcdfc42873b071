//! What can stop a worker node, with what to do about it.

use std::path::{Path, PathBuf};

use arena_retry::{Classify, ErrorClass};
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
}

/// A node keeps going through anything the chain may get over (a restart, a query that failed, a
/// transaction refused because the phase moved on: the next block's step looks at the chain
/// afresh), as the chain client classifies it, and through a peer's model store that is away; it
/// stops on what only a person can fix (a key, a config, funds, data that does not match the
/// task).
impl Classify for NodeError {
    fn class(&self) -> ErrorClass {
        match self {
            NodeError::Chain(e) => e.class(),
            NodeError::Store(StoreError::Unreachable { .. }) => ErrorClass::Transient,
            _ => ErrorClass::Fatal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arena_client::ClientError;

    #[test]
    fn chain_hiccups_keep_the_node_going_and_what_a_person_must_fix_stops_it() {
        let down = NodeError::Chain(ClientError::NodeUnreachable {
            url: "http://127.0.0.1:9090".into(),
            reason: "refused".into(),
        });
        let query = NodeError::Chain(ClientError::Query("Unknown error: panic".into()));
        let refused = NodeError::Chain(ClientError::Simulation("submission phase is over".into()));
        for e in [down, query, refused] {
            assert!(!e.is_fatal(), "{e}");
        }
        let unfunded = NodeError::Chain(ClientError::AccountNotFound { address: "inj1x".into() });
        let mismatch =
            NodeError::DataMismatch { task_id: 1, uri: "file://d".into(), expected: "a".into(), found: "b".into() };
        let wrong_role = NodeError::Task { task_id: 1, reason: "wrong role".into() };
        for e in [unfunded, mismatch, wrong_role] {
            assert!(e.is_fatal(), "{e}");
        }
    }
}
