//! The validator: joins its task; in each commit phase evaluates the models it is assigned, writes
//! score and salt to its journal, then commits; in the reveal phase reveals from the journal; and
//! cranks assignment and finalization when they are due.

use std::path::PathBuf;

use crate::{Backend, Dataset, Engine};
use arena_types::market::commitment::{score_commitment, MAX_SCORE};
use arena_types::market::msg::{AssignmentResponse, ExecuteMsg, RoundResponse, SubmissionResponse, TaskResponse};
use arena_types::market::phase::Phase;
use cosmwasm_std::HexBinary;

use crate::node::context::Node;
use crate::node::error::NodeError;
use crate::node::journal::{Journal, PendingReveal};
use crate::node::tick::{settle, Next};

/// Assignment and finalization are cranked this many items per transaction.
const CRANK_PAGE: u32 = 50;

/// Runs the validator until every round of its task is finalized.
pub async fn run(node: Node, backend: Backend) -> Result<(), NodeError> {
    let task = node.task().await?;
    node.ensure_joined(&task).await?;
    let eval = node.load_data(&task.params.evaluation_data)?;
    let journal = Journal::open(node.config.state_dir.join("journal"))?;
    let mut blocks = node.follow_blocks();
    let mut validator = Validator { node, backend, eval, journal };
    while !settle("validator", validator.tick().await)? {
        blocks.next(validator.node.poll()).await;
    }
    Ok(())
}

struct Validator {
    node: Node,
    backend: Backend,
    eval: Dataset,
    journal: Journal,
}

impl Validator {
    async fn tick(&mut self) -> Result<Next, NodeError> {
        let task = self.node.task().await?;
        if task.rounds_finalized >= task.params.rounds {
            tracing::info!(task = task.id, "every round is finalized; validator done");
            return Ok(Next::Done);
        }
        if self.node.config.validator.crank && self.crank_finalization(&task).await? {
            return Ok(Next::Continue);
        }
        let round = self.node.market.round(task.id, task.now.round).await?;
        match task.now.phase {
            Phase::Commit => self.commit(&task, &round).await?,
            Phase::Reveal => self.reveal(&task, &round).await?,
            Phase::Submission | Phase::Closed => {}
        }
        Ok(Next::Continue)
    }

    /// Finalizes one page of the oldest closed, unfinalized round; true if it sent one.
    async fn crank_finalization(&self, task: &TaskResponse) -> Result<bool, NodeError> {
        let next = task.rounds_finalized + 1;
        let closed = next < task.now.round || (next == task.now.round && task.now.phase == Phase::Closed);
        if !closed {
            return Ok(false);
        }
        let msg = ExecuteMsg::Finalize { task_id: task.id, round: next, limit: Some(CRANK_PAGE) };
        match self.node.market.execute(&self.node.signer, &msg).await {
            Ok(outcome) => tracing::info!(round = next, gas = outcome.gas_used, "finalization page"),
            // Another crank may have finished the round between our look and our transaction.
            Err(e) => tracing::debug!(%e, round = next, "finalization page not needed"),
        }
        Ok(true)
    }

    async fn commit(&self, task: &TaskResponse, round: &RoundResponse) -> Result<(), NodeError> {
        if round.assigned < round.submissions {
            if self.node.config.validator.crank {
                let msg = ExecuteMsg::Assign { task_id: task.id, limit: Some(CRANK_PAGE) };
                if let Err(e) = self.node.market.execute(&self.node.signer, &msg).await {
                    tracing::debug!(%e, "assignment page not needed");
                }
            }
            return Ok(());
        }
        let open: Vec<AssignmentResponse> =
            self.my_assignments(task, round).await?.into_iter().filter(|a| a.commitment.is_none()).collect();
        if open.is_empty() {
            return Ok(());
        }
        // Scores already journaled (a restart after writing, before the commit landed) are reused:
        // the salt must be the one the journal holds.
        let journaled = self.journal.load(task.id, round.round)?;
        let mut fresh = Vec::new();
        for a in open.iter().filter(|a| !journaled.contains_key(&a.submission_id)) {
            let submission = self.node.market.submission(task.id, a.submission_id).await?;
            fresh.push(self.score(task, &submission).await);
        }
        self.journal.record(task.id, round.round, &fresh)?;
        let journaled = self.journal.load(task.id, round.round)?;
        let me = self.node.address();
        let commits: Vec<ExecuteMsg> = open
            .iter()
            .map(|a| {
                let entry = &journaled[&a.submission_id];
                let commitment =
                    score_commitment(task.id, round.round, a.submission_id, &me, entry.score, &salt_bytes(entry));
                ExecuteMsg::Commit {
                    task_id: task.id,
                    submission_id: a.submission_id,
                    commitment: HexBinary::from(commitment),
                }
            })
            .collect();
        let outcome = self.node.market.execute_many(&self.node.signer, &commits).await?;
        tracing::info!(round = round.round, commits = commits.len(), gas = outcome.gas_used, "committed");
        Ok(())
    }

    async fn reveal(&self, task: &TaskResponse, round: &RoundResponse) -> Result<(), NodeError> {
        let journaled = self.journal.load(task.id, round.round)?;
        let mut reveals = Vec::new();
        for a in self.my_assignments(task, round).await? {
            if a.commitment.is_none() || a.score.is_some() {
                continue;
            }
            match journaled.get(&a.submission_id) {
                Some(entry) => reveals.push(ExecuteMsg::Reveal {
                    task_id: task.id,
                    submission_id: a.submission_id,
                    score: entry.score,
                    salt: HexBinary::from(salt_bytes(entry)),
                }),
                None => {
                    tracing::error!(submission = a.submission_id, "committed but not in the journal: cannot reveal")
                }
            }
        }
        if reveals.is_empty() {
            return Ok(());
        }
        let outcome = self.node.market.execute_many(&self.node.signer, &reveals).await?;
        tracing::info!(round = round.round, reveals = reveals.len(), gas = outcome.gas_used, "revealed");
        Ok(())
    }

    /// This validator's assignments among the round's submissions.
    async fn my_assignments(
        &self,
        task: &TaskResponse,
        round: &RoundResponse,
    ) -> Result<Vec<AssignmentResponse>, NodeError> {
        let me = self.node.address();
        let in_round = round.first_submission..round.first_submission + round.submissions;
        let mut out = Vec::new();
        let mut start_after = in_round.start.checked_sub(1);
        loop {
            let page = self.node.market.validator_assignments(task.id, &me, start_after, 100).await?;
            let last = page.assignments.last().map(|a| a.submission_id);
            out.extend(page.assignments.into_iter().filter(|a| in_round.contains(&a.submission_id)));
            match last {
                Some(id) if id + 1 < in_round.end => start_after = Some(id),
                _ => return Ok(out),
            }
        }
    }

    /// The score this validator stands behind for one submission, with a fresh salt. A model that
    /// cannot be fetched, does not match its hash, or is broken scores 0, with the reason logged.
    async fn score(&self, task: &TaskResponse, s: &SubmissionResponse) -> PendingReveal {
        let mut salt = [0u8; 32];
        getrandom::getrandom(&mut salt).expect("the OS has randomness");
        let (measured, rejected) = match self.evaluate(task, s).await {
            Ok((score, rejected)) => (score, rejected),
            Err(reason) => (0, Some(reason)),
        };
        let score = if self.node.config.validator.adversary.is_some() {
            let draw = u32::from_le_bytes(salt[..4].try_into().expect("4 bytes"));
            let lie = random_lie(measured, task.params.outlier_bound, draw);
            tracing::warn!(
                submission = s.id,
                measured,
                lie,
                "adversary: revealing a random score instead of the measured one"
            );
            lie
        } else {
            measured
        };
        match &rejected {
            Some(reason) => tracing::warn!(submission = s.id, %reason, "model scores 0"),
            None => tracing::info!(submission = s.id, score, "evaluated"),
        }
        PendingReveal { submission_id: s.id, score, salt: hex::encode(salt), rejected }
    }

    async fn evaluate(&self, task: &TaskResponse, s: &SubmissionResponse) -> Result<(u32, Option<String>), String> {
        let path: PathBuf = self
            .node
            .store
            .fetch(&s.uri, &s.model_sha256.to_hex(), task.params.model.max_file_bytes)
            .await
            .map_err(|e| e.to_string())?;
        let (backend, eval) = (self.backend.clone(), self.eval.clone());
        let evaluation = tokio::task::spawn_blocking(move || Engine::new(&backend)?.evaluate_file(&path, &eval))
            .await
            .map_err(|e| format!("evaluation thread: {e}"))?
            .map_err(|e| e.to_string())?;
        Ok((evaluation.score_ppm, evaluation.rejected))
    }
}

/// The demonstration adversary's score: uniform over every score further than `outlier_bound`
/// from the one it measured, so it is always an outlier (a random score could land near the truth
/// by chance, and then it would not be lying).
fn random_lie(measured: u32, outlier_bound: u32, draw: u32) -> u32 {
    let below = measured.saturating_sub(outlier_bound); // scores 0..below are far enough below
    let above_start = measured.saturating_add(outlier_bound).saturating_add(1).min(MAX_SCORE + 1);
    let above = MAX_SCORE + 1 - above_start; // scores above_start..=MAX_SCORE
    match below + above {
        0 => 0,
        total => {
            let x = draw % total;
            if x < below {
                x
            } else {
                above_start + (x - below)
            }
        }
    }
}

fn salt_bytes(entry: &PendingReveal) -> [u8; 32] {
    let mut salt = [0u8; 32];
    hex::decode_to_slice(&entry.salt, &mut salt).expect("the journal holds 32-byte hex salts");
    salt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_adversary_always_lies_by_more_than_the_outlier_bound() {
        for measured in [0, 1, 99_999, 100_000, 500_000, 900_000, 999_999, MAX_SCORE] {
            for draw in [0, 1, 7, 12_345, 999_999, u32::MAX / 3, u32::MAX] {
                let lie = random_lie(measured, 100_000, draw);
                assert!(
                    lie <= MAX_SCORE && lie.abs_diff(measured) > 100_000,
                    "measured {measured}, draw {draw}: {lie}"
                );
            }
        }
    }
}
