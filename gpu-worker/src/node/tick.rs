//! The step contract both roles follow: each tick does one step; a transient error (the chain
//! restarting, a peer away) is logged and the next tick tries again; any other error stops the node.

use crate::node::error::NodeError;

/// What a step asks of the loop.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    Continue,
    Done,
}

/// Applies the contract to one step's result: `Ok(true)` once the node's work is done.
pub fn settle(role: &str, step: Result<Next, NodeError>) -> Result<bool, NodeError> {
    match step {
        Ok(next) => Ok(next == Next::Done),
        Err(e) if e.is_transient() => {
            tracing::warn!(%e, "{role}: will try again");
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_errors_keep_the_node_going_and_others_stop_it() {
        let down = arena_client::ClientError::NodeUnreachable {
            url: "http://127.0.0.1:9090".into(),
            reason: "refused".into(),
        };
        assert!(!settle("t", Err(down.into())).unwrap());
        let fatal = NodeError::Task { task_id: 1, reason: "wrong role".into() };
        assert!(settle("t", Err(fatal)).is_err());
        assert!(settle("t", Ok(Next::Done)).unwrap());
        assert!(!settle("t", Ok(Next::Continue)).unwrap());
    }
}
