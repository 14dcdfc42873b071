//! The task creator's node: it holds the task's beacon secret and evaluation keys. It reveals one
//! value of the beacon's hash chain per round, as soon as the round's stakes freeze, so that the
//! round's validator sampling (which waits for it until half-way through the commit phase) starts
//! on entropy nobody could fit stakes to; and each round's evaluation key as soon as the round's
//! commit phase opens, so that validators can score on the hidden shard. A key still missing
//! half-way through the commit phase voids the round and costs the creator its bond's share.
//!
//! It keeps no state of its own: the market's `Beacon` and `Round` queries say what is on chain,
//! and [`MarketClient::reveal_due_beacon`](arena_client::MarketClient::reveal_due_beacon) and
//! [`MarketClient::reveal_due_evaluation_key`](arena_client::MarketClient::reveal_due_evaluation_key)
//! decide from them and the task's clock what is due. A creator killed at any instant resumes by
//! asking again; a round whose sampling started without its value (`BeaconTooLate`) is done, and
//! the next round's value still follows the anchor (the chain hashes over skipped rounds).
//!
//! Runs until the task's last round has closed.

use std::collections::BTreeSet;

use arena_client::{BeaconSecret, BeaconStep, EvaluationKeys, KeyStep};
use arena_retry::{run_steps, Next};
use arena_types::market::msg::TaskResponse;
use arena_types::market::phase::Phase;

use crate::node::config;
use crate::node::context::Node;
use crate::node::error::NodeError;

/// Runs the creator until the task's last round has closed.
pub async fn run(node: Node) -> Result<(), NodeError> {
    let path = config::beacon_secret_file(&node.config);
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
    let keys_path = config::evaluation_keys_file(&node.config);
    let keys = EvaluationKeys::read(&keys_path)?;
    keys.check(task.id, &task.params.evaluation).map_err(|e| NodeError::Task {
        task_id: task.id,
        reason: format!("the evaluation keys in {}: {e}", keys_path.display()),
    })?;
    tracing::info!(
        task = task.id,
        secret = %path.display(),
        keys = %keys_path.display(),
        rounds = task.params.rounds,
        "creator: beacon secret and evaluation keys loaded"
    );
    let pace = node.follow_blocks().pace(node.poll());
    let mut creator = Creator { node, secret, keys, reported: BTreeSet::new() };
    run_steps("creator", pace, &mut creator).await
}

struct Creator {
    node: Node,
    secret: BeaconSecret,
    keys: EvaluationKeys,
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
        // The key first: it is what a late creator costs the most (a void round, its bond).
        self.reveal_key(&task).await?;
        self.reveal_beacon(&task).await?;
        Ok(Next::Continue)
    }

    async fn reveal_key(&mut self, task: &TaskResponse) -> Result<(), NodeError> {
        let task_id = task.id;
        match self.node.market.reveal_due_evaluation_key(&self.node.signer, task_id, &self.keys).await? {
            KeyStep::Revealed { round, outcome } => tracing::info!(
                task = task_id,
                round,
                height = outcome.height,
                deadline = task.schedule.key_deadline(round),
                tx = %outcome.txhash,
                "revealed the round's evaluation key"
            ),
            KeyStep::NotYet { round, opens_at } => {
                if self.reported.insert((round, "key waiting")) {
                    tracing::info!(
                        task = task_id,
                        round,
                        opens_at,
                        "next evaluation key once the round's commit phase opens"
                    );
                }
            }
            KeyStep::TooLate { round } => {
                if self.reported.insert((round, "key too late")) {
                    tracing::error!(
                        task = task_id,
                        round,
                        "the round's key deadline passed without its key: the round is void"
                    );
                }
            }
            KeyStep::Finished => {
                if self.reported.insert((0, "keys finished")) {
                    tracing::info!(task = task_id, "no evaluation key is left to reveal");
                }
            }
        }
        Ok(())
    }

    async fn reveal_beacon(&mut self, task: &TaskResponse) -> Result<(), NodeError> {
        let task_id = task.id;
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
        Ok(())
    }
}

/// One step per block (or per `poll_ms` when none is heard of).
impl arena_retry::Step for Creator {
    type Error = NodeError;

    async fn step(&mut self) -> Result<Next, NodeError> {
        self.tick().await
    }
}
