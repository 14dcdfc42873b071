//! The validator: joins its task; in each commit phase opens the round's hidden evaluation shard
//! once its creator reveals the key, checks and evaluates the models it is assigned, writes score,
//! baseline and salt to its journal, then commits; in the reveal phase reveals from the journal;
//! and cranks assignment and finalization when they are due.
//!
//! The shard is the round's alone (`task.params.evaluation[round - 1]`): its ciphertext is fetched
//! and cached as soon as the commit phase opens, and decrypted with the key the chain shows, so a
//! validator started after the key was revealed scores like the others. A shard that does not
//! open, whose plaintext is not the one the task committed to, or that is no data set means the
//! creator cheated: the validator logs it and commits score 0 with the baseline marker
//! [`UNUSABLE_SHARD`] for each of its assignments, rather than score on unknown data or stay
//! silent (and be slashed for liveness); the market then voids the submissions and pays their
//! trainers from the creator's bond.
//!
//! A language-model task's shard is ShareGPT chat (JSONL); its baseline is the task's base
//! model's own score on it (bits per byte of the assistant's text, as `score_ppm`), so a
//! submission earns only by improving on the base. Each adapter is checked before it is scored
//! ([`crate::node::lm::examine_adapter`]: the task's base, rank and parameter limits, finite
//! weights, truthful metadata); a failure scores 0 with the reason journaled. The shard's chat
//! goes through the task's tokenizer (its committed `tokenizer.json`, or bytes). A base (or
//! tokenizer) that cannot be fetched or parsed as the task names it makes the round unusable, as a
//! bad shard does.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::lm::{ChatData, TokenWindows};
use crate::{Backend, CsvOptions, Dataset, Engine, Model};
use arena_client::shard::decrypt_shard;
use arena_retry::{run_steps, Next};
use arena_types::market::commitment::{score_commitment, MAX_SCORE, UNUSABLE_SHARD};
use arena_types::market::msg::{
    AssignmentResponse, ExecuteMsg, LanguageModelTask, RevealedModel, RoundResponse, SubmissionResponse, TaskKind,
    TaskResponse,
};
use arena_types::market::phase::Phase;
use cosmwasm_std::HexBinary;
use sha2::{Digest, Sha256};

use crate::node::check::check_model;
use crate::node::context::Node;
use crate::node::error::NodeError;
use crate::node::journal::{Journal, PendingReveal};
use crate::node::lm::{examine_adapter, TaskBase};
use crate::node::store::StoreError;

/// Assignment and finalization are cranked this many items per transaction.
const CRANK_PAGE: u32 = 50;

/// Runs the validator until every round of its task is finalized.
pub async fn run(node: Node, backend: Backend) -> Result<(), NodeError> {
    let task = node.task().await?;
    node.ensure_joined(&task).await?;
    let journal = Journal::open(node.config.state_dir.join("journal"))?;
    let pace = node.follow_blocks().pace(node.poll());
    let mut validator = Validator { node, backend, journal, shards: BTreeMap::new(), base: None };
    run_steps("validator", pace, &mut validator).await
}

struct Validator {
    node: Node,
    backend: Backend,
    journal: Journal,
    /// Each round's evaluation shard once opened (or refused), by round.
    shards: BTreeMap<u32, Shard>,
    /// A language-model task's base once fetched and parsed, or why it cannot be (the task's
    /// fault: every round's shard is then unusable).
    base: Option<Result<Arc<TaskBase>, String>>,
}

/// A round's evaluation shard as this validator found it.
#[derive(Clone)]
enum Shard {
    /// Opened and checked: the data, and its baseline (ppm).
    Open { data: EvalData, baseline: u32 },
    /// Not what the task committed to (logged once when found): why.
    Unusable { reason: String },
}

/// An opened shard, by the task's kind.
#[derive(Clone)]
enum EvalData {
    /// A classification task's CSV; the baseline is the majority class's accuracy.
    Table(Dataset),
    /// A language-model task's ShareGPT chat, tokenized and windowed for the base with its
    /// assistant-only mask, and the base; the baseline is the base's own score (no adapter).
    Chat { windows: Arc<TokenWindows>, base: Arc<TaskBase> },
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
            Phase::Submission | Phase::ModelReveal | Phase::Closed => {}
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

    async fn commit(&mut self, task: &TaskResponse, round: &RoundResponse) -> Result<(), NodeError> {
        if round.void {
            return Ok(());
        }
        if round.assigned < round.submissions {
            if self.node.config.validator.crank {
                let msg = ExecuteMsg::Assign { task_id: task.id, limit: Some(CRANK_PAGE) };
                if let Err(e) = self.node.market.execute(&self.node.signer, &msg).await {
                    tracing::debug!(%e, "assignment page not needed");
                }
            }
            // Fetched while sampling waits, so that scoring starts as soon as the key is out.
            let shard = &task.params.evaluation[round.round as usize - 1];
            self.node.fetch_shard(task.id, round.round, shard).await?;
            // So is a language-model task's base; one that is unusable is reported with the shard.
            if let TaskKind::LanguageModel(lm) = &task.params.kind {
                let _ = self.base(lm).await?;
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
        let unscored: Vec<u64> =
            open.iter().map(|a| a.submission_id).filter(|id| !journaled.contains_key(id)).collect();
        if !unscored.is_empty() {
            let Some(shard) = self.shard(task, round).await? else {
                return Ok(());
            };
            let mut fresh = Vec::new();
            for id in unscored {
                fresh.push(match &shard {
                    Shard::Open { data, baseline } => {
                        let submission = self.node.market.submission(task.id, id).await?;
                        self.score(task, &submission, data, *baseline).await
                    }
                    Shard::Unusable { reason } => unusable(id, reason),
                });
            }
            self.journal.record(task.id, round.round, &fresh)?;
        }
        let journaled = self.journal.load(task.id, round.round)?;
        let me = self.node.address();
        let commits: Vec<ExecuteMsg> = open
            .iter()
            .map(|a| {
                let entry = &journaled[&a.submission_id];
                let commitment = score_commitment(
                    task.id,
                    round.round,
                    a.submission_id,
                    &me,
                    entry.score,
                    entry.baseline,
                    &entry.salt_bytes(),
                );
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
                    baseline: entry.baseline,
                    salt: HexBinary::from(entry.salt_bytes()),
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

    /// The round's evaluation shard, once the key is on chain: decrypted with it, checked against
    /// the task's sha256, parsed, its baseline measured; or unusable (logged once: the creator
    /// cheated). None while the key is hidden.
    async fn shard(&mut self, task: &TaskResponse, round: &RoundResponse) -> Result<Option<Shard>, NodeError> {
        if let Some(known) = self.shards.get(&round.round) {
            return Ok(Some(known.clone()));
        }
        let Some(key) = &round.evaluation_key else {
            tracing::debug!(round = round.round, "waiting for the round's evaluation key");
            return Ok(None);
        };
        let commitment = &task.params.evaluation[round.round as usize - 1];
        let sealed = self.node.fetch_shard(task.id, round.round, commitment).await?;
        let path = self.node.opened_shard_path(task.id, round.round);
        let opened = match &task.params.kind {
            TaskKind::Classification => open_shard(key, round.round, &commitment.sha256.to_hex(), &sealed, &path)
                .map(|data| (data.majority_class_ppm(), EvalData::Table(data))),
            TaskKind::LanguageModel(lm) => {
                self.open_chat_shard(lm, key, round.round, &commitment.sha256.to_hex(), &sealed).await?
            }
        };
        let shard = match opened {
            Ok((baseline, data)) => {
                tracing::info!(round = round.round, baseline, "evaluation shard opened");
                Shard::Open { data, baseline }
            }
            Err(reason) => {
                tracing::error!(
                    task = task.id,
                    round = round.round,
                    %reason,
                    "the round's evaluation shard is not what the task committed to: the creator cheated; \
                     revealing score 0 with the unusable-shard baseline, which voids the round's submissions"
                );
                self.node.forget_shard(task.id, round.round);
                Shard::Unusable { reason }
            }
        };
        self.shards.insert(round.round, shard.clone());
        Ok(Some(shard))
    }

    /// A language-model task's base, fetched and parsed once (a base that is only unreachable is
    /// a transient error: the next block's step tries again).
    async fn base(&mut self, lm: &LanguageModelTask) -> Result<Result<Arc<TaskBase>, String>, NodeError> {
        if self.base.is_none() {
            self.base = Some(match self.node.fetch_base(lm).await {
                Ok(base) => {
                    tracing::info!(
                        base = %lm.base.sha256,
                        architecture = %base.weights.spec,
                        tokenizer = ?base.tokenizer,
                        "fetched the task's base model"
                    );
                    Ok(Arc::new(base))
                }
                Err(e @ NodeError::Store(StoreError::Unreachable { .. })) => return Err(e),
                Err(e) => Err(format!("the task's base model: {e}")),
            });
        }
        Ok(self.base.clone().expect("set above"))
    }

    /// A language-model round's shard: the base (fetched once; a base that cannot be fetched or
    /// is not the named architecture is the task's fault, like a bad shard), the shard decrypted
    /// and checked, parsed as ShareGPT chat and windowed for the base, and the base's own score
    /// on it, the round's baseline. The inner error says why the shard is unusable.
    async fn open_chat_shard(
        &mut self,
        lm: &LanguageModelTask,
        key: &HexBinary,
        round: u32,
        expected_sha256: &str,
        sealed: &[u8],
    ) -> Result<Result<(u32, EvalData), String>, NodeError> {
        let base = match self.base(lm).await? {
            Ok(base) => base,
            Err(reason) => return Ok(Err(reason)),
        };
        let plain = match decrypt_checked(key, round, expected_sha256, sealed) {
            Ok(plain) => plain,
            Err(reason) => return Ok(Err(reason)),
        };
        let windows = match String::from_utf8(plain)
            .map_err(|e| format!("not UTF-8 text: {e}"))
            .and_then(|text| ChatData::from_jsonl(&format!("round {round}'s shard"), &text).map_err(|e| e.to_string()))
            .and_then(|chat| chat.windows_with(&base.tokenizer, base.weights.spec.ctx).map_err(|e| e.to_string()))
        {
            Ok(windows) => Arc::new(windows),
            Err(reason) => return Ok(Err(format!("not the task's data: {reason}"))),
        };
        let (backend, b, w) = (self.backend.clone(), base.clone(), windows.clone());
        let baseline =
            tokio::task::spawn_blocking(move || Engine::new(&backend)?.evaluate_lm_adapter(&b.weights, None, &w))
                .await
                .map_err(|e| NodeError::Task {
                    task_id: self.node.task_id(),
                    reason: format!("evaluation thread: {e}"),
                })??
                .score_ppm;
        Ok(Ok((baseline, EvalData::Chat { windows, base })))
    }

    /// The score this validator stands behind for one submission, with the round's baseline and a
    /// fresh salt. A model that cannot be fetched, does not match its hash, is not what its
    /// metadata says, or is broken scores 0, with the reason logged and journaled.
    async fn score(
        &self,
        task: &TaskResponse,
        s: &SubmissionResponse,
        eval: &EvalData,
        baseline: u32,
    ) -> PendingReveal {
        let salt = fresh_salt();
        let (measured, rejected) = match self.evaluate(task, s, eval).await {
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
            None => tracing::info!(submission = s.id, score, baseline, "evaluated"),
        }
        PendingReveal { submission_id: s.id, score, baseline, salt: hex::encode(salt), rejected }
    }

    async fn evaluate(
        &self,
        task: &TaskResponse,
        s: &SubmissionResponse,
        eval: &EvalData,
    ) -> Result<(u32, Option<String>), String> {
        let model = s.model.as_ref().ok_or("no model was revealed")?;
        let path: PathBuf = self
            .node
            .store
            .fetch(&model.uri, &model.sha256.to_hex(), task.params.model.max_file_bytes)
            .await
            .map_err(|e| e.to_string())?;
        let eval = match (eval, &task.params.kind) {
            (EvalData::Table(data), _) => data.clone(),
            (EvalData::Chat { windows, base }, TaskKind::LanguageModel(lm)) => {
                return self.evaluate_adapter(task, lm, model, &path, windows.clone(), base.clone()).await
            }
            (EvalData::Chat { .. }, TaskKind::Classification) => unreachable!("chat shards are opened for LM tasks"),
        };
        let backend = self.backend.clone();
        let (claimed, constraints) = (model.metadata.clone(), task.params.model.clone());
        tokio::task::spawn_blocking(move || -> crate::Result<(u32, Option<String>)> {
            // The file must be what its trainer said it is; an unreadable one is left to
            // `evaluate_file`, which names what is wrong with it.
            let bytes = std::fs::read(&path).map_err(|e| crate::Error::io(&path, &e))?;
            if let Ok(parsed) = Model::from_safetensors(&bytes, &path) {
                if let Err(e) = check_model(&parsed, bytes.len() as u64, &claimed, &constraints) {
                    return Ok((0, Some(e.to_string())));
                }
            }
            let evaluation = Engine::new(&backend)?.evaluate_file(&path, &eval)?;
            Ok((evaluation.score_ppm, evaluation.rejected))
        })
        .await
        .map_err(|e| format!("evaluation thread: {e}"))?
        .map_err(|e| e.to_string())
    }
}

impl Validator {
    /// A language-model submission: the artifact checked against the task's base and limits
    /// ([`examine_adapter`]; a failure scores 0 with the reason), then the assistant's text of
    /// the round's shard scored under the base with the adapter applied.
    async fn evaluate_adapter(
        &self,
        task: &TaskResponse,
        lm: &LanguageModelTask,
        model: &RevealedModel,
        path: &std::path::Path,
        windows: Arc<TokenWindows>,
        base: Arc<TaskBase>,
    ) -> Result<(u32, Option<String>), String> {
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let scratch = self.node.config.state_dir.join("adapters").join(model.sha256.to_hex());
        let (lm, constraints, claimed) = (lm.clone(), task.params.model.clone(), model.metadata.clone());
        let backend = self.backend.clone();
        tokio::task::spawn_blocking(move || -> crate::Result<(u32, Option<String>)> {
            let checked = examine_adapter(&bytes, &base.weights.spec, &lm, &constraints, &claimed, &scratch);
            std::fs::remove_dir_all(&scratch).ok();
            let adapter = match checked {
                Ok(adapter) => adapter,
                Err(reason) => return Ok((0, Some(reason))),
            };
            let e = Engine::new(&backend)?.evaluate_lm_adapter(&base.weights, Some(&adapter), &windows)?;
            Ok((e.score_ppm, None))
        })
        .await
        .map_err(|e| format!("evaluation thread: {e}"))?
        .map_err(|e| e.to_string())
    }
}

/// A commitment's salt: 32 bytes from the operating system's random source.
fn fresh_salt() -> [u8; 32] {
    let mut salt = [0u8; 32];
    getrandom::getrandom(&mut salt).expect("the OS has randomness");
    salt
}

/// What a validator stands behind when the round's shard cannot be used: score 0 with the
/// [`UNUSABLE_SHARD`] baseline, a fresh salt, and the reason.
fn unusable(submission_id: u64, reason: &str) -> PendingReveal {
    PendingReveal {
        submission_id,
        score: 0,
        baseline: UNUSABLE_SHARD,
        salt: hex::encode(fresh_salt()),
        rejected: Some(format!("the round's evaluation shard is unusable: {reason}")),
    }
}

/// Decrypts round `round`'s sealed shard with the key on chain, checks the plaintext's sha256
/// against the task's, and parses it (through `path`) as the task's data. The error says which
/// check failed.
fn open_shard(
    key: &HexBinary,
    round: u32,
    expected_sha256: &str,
    sealed: &[u8],
    path: &std::path::Path,
) -> Result<Dataset, String> {
    let plain = decrypt_checked(key, round, expected_sha256, sealed)?;
    std::fs::write(path, &plain).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Dataset::from_csv(path, &CsvOptions::default()).map_err(|e| format!("not the task's data: {e}"))
}

/// Round `round`'s shard decrypted with the key on chain, its sha256 checked against the task's.
fn decrypt_checked(key: &HexBinary, round: u32, expected_sha256: &str, sealed: &[u8]) -> Result<Vec<u8>, String> {
    let key: [u8; 32] = key.as_slice().try_into().map_err(|_| format!("the key on chain is {} bytes", key.len()))?;
    let plain = decrypt_shard(&key, round, sealed).map_err(|e| e.to_string())?;
    let found = hex::encode(Sha256::digest(&plain));
    if found != expected_sha256 {
        return Err(format!("the decrypted shard's sha256 is {found}, the task committed to {expected_sha256}"));
    }
    Ok(plain)
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

/// One step per block (or per `poll_ms` when none is heard of).
impl arena_retry::Step for Validator {
    type Error = NodeError;

    async fn step(&mut self) -> Result<Next, NodeError> {
        self.tick().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A shard sealed under `key` for round 2, with its plaintext's sha256.
    fn sealed(plain: &[u8], key: [u8; 32]) -> (Vec<u8>, String) {
        (arena_client::shard::encrypt_shard(&key, 2, plain), hex::encode(Sha256::digest(plain)))
    }

    #[test]
    fn a_shard_opens_with_its_key_to_the_committed_data() {
        let dir = tempfile::tempdir().unwrap();
        let (ciphertext, sha) = sealed(b"1,2,3\n4,5,3\n6,7,1\n", [4u8; 32]);
        let data = open_shard(&HexBinary::from([4u8; 32]), 2, &sha, &ciphertext, &dir.path().join("s.csv")).unwrap();
        assert_eq!((data.rows, data.cols, data.majority_class_ppm()), (3, 2, 666_666));
    }

    #[test]
    fn a_shard_that_is_not_what_the_task_committed_to_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.csv");
        let key = HexBinary::from([4u8; 32]);
        // The creator sealed other data than it committed to.
        let (ciphertext, _) = sealed(b"1,2,3\n", [4u8; 32]);
        let (_, committed) = sealed(b"1,2,4\n", [4u8; 32]);
        let err = open_shard(&key, 2, &committed, &ciphertext, &path).unwrap_err();
        assert!(err.contains("the task committed to"), "{err}");
        // The key on chain does not open the file.
        let (ciphertext, sha) = sealed(b"1,2,3\n", [5u8; 32]);
        let err = open_shard(&key, 2, &sha, &ciphertext, &path).unwrap_err();
        assert!(err.contains("does not open"), "{err}");
        // The committed plaintext is no data set.
        let (ciphertext, sha) = sealed(b"not, a, csv\n", [4u8; 32]);
        let err = open_shard(&key, 2, &sha, &ciphertext, &path).unwrap_err();
        assert!(err.contains("not the task's data"), "{err}");
    }

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
