//! One market round driven by hand on a real chain, with the test playing every part (creator,
//! trainers, validators) and no worker running: the steps the real-chain tests share, written once
//! so that each test keeps only what it checks.

use std::collections::BTreeMap;

use arena_client::{BeaconSecret, BeaconStep, ClientError, EvaluationKeys, KeyStep, MarketClient, Signer, TxOutcome};
use arena_types::market::commitment::{model_commitment, score_commitment};
use arena_types::market::msg::{AssignmentResponse, ExecuteMsg, ModelMetadata};
use arena_types::market::phase::Phase;
use cosmwasm_std::HexBinary;
use futures::future::join_all;

/// Pages of assignment and finalization: enough for a test's few submissions in one transaction.
const PAGE: u32 = 50;

/// The model trainer `i` seals and reveals, as (sha256, salt): made up, distinct per trainer and
/// known to the test (no file is fetched, no worker scores it).
pub fn model(i: usize) -> ([u8; 32], [u8; 32]) {
    ([10 + i as u8; 32], [20 + i as u8; 32])
}

/// One validator's messages: a `Commit` per assigned submission and the `Reveal` that opens it.
pub struct Scores<'a> {
    pub validator: &'a Signer,
    pub commits: Vec<ExecuteMsg>,
    pub reveals: Vec<ExecuteMsg>,
}

/// A round of one task on a [`MarketClient`]; each step waits for its phase first, so a test goes
/// from one step to the next and checks what it wants in between.
pub struct ScriptedRound<'a> {
    pub market: &'a MarketClient,
    pub task_id: u64,
    pub round: u32,
}

impl ScriptedRound<'_> {
    /// Each trainer submits its sealed [`model`] (only the commitment is public until the
    /// model-reveal phase); returns the trainer index of each submission id.
    pub async fn submit_sealed(&self, trainers: &[Signer]) -> Result<BTreeMap<u64, usize>, ClientError> {
        let mut submission_of = BTreeMap::new();
        for (i, t) in trainers.iter().enumerate() {
            let (sha, salt) = model(i);
            let commitment = model_commitment(self.task_id, self.round, t.address().as_ref(), &sha, &salt);
            let submit = ExecuteMsg::Submit { task_id: self.task_id, commitment: HexBinary::from(commitment) };
            let outcome = self.market.execute(t, &submit).await?;
            let id = outcome.wasm_events().find_map(|e| e.attribute("submission_id"));
            let id = id
                .and_then(|id| id.parse().ok())
                .ok_or_else(|| ClientError::Decode("the submission has no submission_id event".into()))?;
            submission_of.insert(id, i);
        }
        Ok(submission_of)
    }

    /// In the model-reveal phase, each trainer opens its commitment: its [`model`]'s sha256 and salt.
    pub async fn reveal_models(&self, trainers: &[Signer]) -> Result<(), ClientError> {
        self.wait_for(Phase::ModelReveal).await?;
        for (i, t) in trainers.iter().enumerate() {
            let (sha, salt) = model(i);
            let reveal = ExecuteMsg::RevealModel {
                task_id: self.task_id,
                model_sha256: HexBinary::from(sha),
                uri: format!("file://models/{i}.safetensors"),
                metadata: ModelMetadata { family: "mlp".into(), parameters: 1_000, file_bytes: 10_000, notes: None },
                salt: HexBinary::from(salt),
            };
            self.market.execute(t, &reveal).await?;
        }
        Ok(())
    }

    /// In the commit phase, the creator reveals the round's evaluation key and beacon (sampling
    /// waits for the beacon) and assigns every submission its validators; returns what the two
    /// reveals did, for the test to check.
    pub async fn open_commit_phase(
        &self,
        creator: &Signer,
        keys: &EvaluationKeys,
        secret: &BeaconSecret,
    ) -> Result<(KeyStep, BeaconStep), ClientError> {
        self.wait_for(Phase::Commit).await?;
        let key = self.market.reveal_due_evaluation_key(creator, self.task_id, keys).await?;
        let beacon = self.market.reveal_due_beacon(creator, self.task_id, secret).await?;
        self.market.assign_all(creator, self.task_id, self.round, PAGE).await?;
        Ok((key, beacon))
    }

    /// Each validator's assignments (one page of up to 100), in the validators' order.
    pub async fn assignments(&self, validators: &[Signer]) -> Result<Vec<Vec<AssignmentResponse>>, ClientError> {
        let mut assigned = Vec::new();
        for v in validators {
            let page = self.market.validator_assignments(self.task_id, v.address().as_ref(), None, 100).await?;
            assigned.push(page.assignments);
        }
        Ok(assigned)
    }

    /// The commits and reveals of the validators that have assignments, each scoring
    /// `score(j, submission_id)` (j: the validator's index) against `baseline`, with a salt of its own.
    pub fn score_messages<'a>(
        &self,
        validators: &'a [Signer],
        assigned: Vec<Vec<AssignmentResponse>>,
        baseline: u32,
        score: impl Fn(usize, u64) -> u32,
    ) -> Vec<Scores<'a>> {
        let mut all = Vec::new();
        for (j, (v, assignments)) in validators.iter().zip(assigned).enumerate() {
            let address = v.address().to_string();
            let salt = [j as u8 + 1; 32];
            let (mut commits, mut reveals) = (Vec::new(), Vec::new());
            for a in assignments {
                let (task_id, submission_id, score) = (self.task_id, a.submission_id, score(j, a.submission_id));
                let c = score_commitment(task_id, self.round, submission_id, &address, score, baseline, &salt);
                commits.push(ExecuteMsg::Commit { task_id, submission_id, commitment: HexBinary::from(c) });
                reveals.push(ExecuteMsg::Reveal {
                    task_id,
                    submission_id,
                    score,
                    baseline,
                    salt: HexBinary::from(salt),
                });
            }
            if !commits.is_empty() {
                all.push(Scores { validator: v, commits, reveals });
            }
        }
        all
    }

    /// [`Self::assignments`] then [`Self::score_messages`], for a test that needs nothing in between.
    pub async fn validator_messages<'a>(
        &self,
        validators: &'a [Signer],
        baseline: u32,
        score: impl Fn(usize, u64) -> u32,
    ) -> Result<Vec<Scores<'a>>, ClientError> {
        let assigned = self.assignments(validators).await?;
        Ok(self.score_messages(validators, assigned, baseline, score))
    }

    /// Each validator commits all its scores in one transaction; different accounts, so the
    /// transactions go into blocks side by side.
    pub async fn commit(&self, scores: &[Scores<'_>]) -> Result<Vec<TxOutcome>, ClientError> {
        join_all(scores.iter().map(|s| self.market.execute_many(s.validator, &s.commits))).await.into_iter().collect()
    }

    /// In the reveal phase, each validator reveals all its scores in one transaction.
    pub async fn reveal(&self, scores: &[Scores<'_>]) -> Result<Vec<TxOutcome>, ClientError> {
        self.wait_for(Phase::Reveal).await?;
        join_all(scores.iter().map(|s| self.market.execute_many(s.validator, &s.reveals))).await.into_iter().collect()
    }

    /// Once the round is closed, cranks its finalization to the end.
    pub async fn finalize(&self, creator: &Signer) -> Result<(), ClientError> {
        self.wait_for(Phase::Closed).await?;
        self.market.finalize_round(creator, self.task_id, self.round, PAGE).await?;
        Ok(())
    }

    async fn wait_for(&self, phase: Phase) -> Result<(), ClientError> {
        self.market.wait_for_phase(self.task_id, self.round, phase).await.map(|_| ())
    }
}
