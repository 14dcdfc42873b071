//! The task creator's node: it holds the task's beacon secret and reveals one value of its hash
//! chain per round, as soon as the round's stakes freeze, so that the round's validator sampling
//! (which waits for it until half-way through the commit phase) starts on entropy nobody could
//! fit stakes to.
//!
//! It keeps no state of its own: the market's `Beacon` query says what is on chain, and
//! [`MarketClient::reveal_due_beacon`](arena_client::MarketClient::reveal_due_beacon) decides
//! from it and the task's clock what is due. A creator killed at any instant resumes by asking
//! again; a round whose sampling started without its value (`BeaconTooLate`) is done, and the
//! next round's value still follows the anchor (the chain hashes over skipped rounds).
//!
//! Runs until the task's last round has closed.

use std::collections::BTreeSet;

use arena_client::{BeaconSecret, BeaconStep};
use arena_types::market::phase::Phase;

use crate::node::context::Node;
use crate::node::error::NodeError;
use crate::node::tick::{settle, Next};

/// Runs the creator until the task's last round has closed.
pub async fn run(node: Node) -> Result<(), NodeError> {
    let path = node.config.beacon_secret_file();
    let secret = BeaconSecret::read(&path)?;
    let task = node.task().await?;
    if task.params.beacon.as_slice() != secret.anchor(task.params.rounds) {
        return Err(NodeError::Task {
            task_id: task.id,
            reason: format!(
                "the beacon secret in {} does not hash to the task's anchor {}: it belongs to another task",
                path.display(),
                task.params.beacon
            ),
        });
    }
    tracing::info!(task = task.id, secret = %path.display(), rounds = task.params.rounds, "creator: beacon secret loaded");
    let mut blocks = node.follow_blocks();
    let mut creator = Creator { node, secret, reported: BTreeSet::new() };
    while !settle("creator", creator.tick().await)? {
        blocks.next(creator.node.poll()).await;
    }
    Ok(())
}

struct Creator {
    node: Node,
    secret: BeaconSecret,
    /// What has been logged (round, what), so that a state seen on every block is said once.
    reported: BTreeSet<(u32, &'static str)>,
}

impl Creator {
    async fn tick(&mut self) -> Result<Next, NodeError> {
        let task = self.node.task().await?;
        let task_id = task.id;
        if task.now.round == task.params.rounds && task.now.phase == Phase::Closed {
            tracing::info!(task = task_id, "the task's last round has closed; creator done");
            return Ok(Next::Done);
        }
        match self.node.market.reveal_due_beacon(&self.node.signer, task_id, &self.secret).await? {
            BeaconStep::Revealed { round, outcome } => {
                tracing::info!(
                    task = task_id,
                    round,
                    height = outcome.height,
                    sampling_waits_until = task.schedule.beacon_deadline(round),
                    value = %hex::encode(self.secret.value(task.params.rounds, round)),
                    tx = %outcome.txhash,
                    "revealed the beacon"
                );
            }
            BeaconStep::NotYet { round, opens_at } => {
                if self.reported.insert((round, "waiting")) {
                    tracing::info!(
                        task = task_id,
                        round,
                        opens_at,
                        "next beacon reveal once the round's stakes freeze"
                    );
                }
            }
            BeaconStep::TooLate { round } => {
                if self.reported.insert((round, "too late")) {
                    tracing::warn!(task = task_id, round, "the round's sampling started without its beacon; skipped");
                }
            }
            BeaconStep::Finished => {
                if self.reported.insert((0, "finished")) {
                    tracing::info!(task = task_id, "no beacon is left to reveal");
                }
            }
        }
        Ok(Next::Continue)
    }
}
