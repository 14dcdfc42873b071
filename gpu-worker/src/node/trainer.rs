//! The training node: joins its task; in each round's submission phase trains a model on the
//! task's training set (a classifier from scratch, or for a language-model task a LoRA adapter
//! over the task's base, fetched once with its sha256 checked, packed as one file:
//! [`crate::node::lm`]), stores it, draws a salt, journals the sealed model and only then submits
//! its sealed commitment; in the model-reveal phase opens the commitment from the journal.
//!
//! Both steps are idempotent and crash-safe: the chain says whether this node has a submission in
//! the round and whether its model is revealed, the journal holds what opens the commitment. A
//! node that crashed after journaling but before its `Submit` landed submits the journaled model
//! again without retraining; one that crashed after submitting reveals from the journal.

use std::collections::BTreeSet;

use crate::lm::{ChatData, LmTrainConfig, LoraAdapter, LoraConfig};
use crate::{Backend, Dataset, Engine, ModelSpec, Optimizer, TrainConfig};
use arena_retry::{run_steps, Next};
use arena_types::market::commitment::model_commitment;
use arena_types::market::msg::{ExecuteMsg, ModelMetadata, SubmissionResponse, TaskKind, TaskResponse};
use arena_types::market::phase::Phase;
use cosmwasm_std::HexBinary;

use crate::node::adversary::{previous_winner, steal_shards, TrainerAdversary};
use crate::node::context::Node;
use crate::node::error::NodeError;
use crate::node::journal::{SealJournal, SealedModel};
use crate::node::lm::{adapter_metadata, pack_adapter, TaskBase};
use crate::node::serve::model_url;

/// Runs the trainer until the task's last round has closed.
pub async fn run(node: Node, backend: Backend) -> Result<(), NodeError> {
    let task = node.task().await?;
    node.ensure_joined(&task).await?;
    let work = match &task.params.kind {
        TaskKind::Classification => Work::Classifier {
            data: node.load_data(&task.params.training_data)?,
            spec: ModelSpec::parse(&node.config.trainer.model)?,
        },
        TaskKind::LanguageModel(lm) => {
            if node.config.trainer.adversary.is_some() {
                return Err(NodeError::Config {
                    path: "[trainer]".into(),
                    reason: "the demonstration adversaries play classification tasks only".into(),
                });
            }
            let cfg = &node.config.trainer;
            let lora = LoraConfig::parse(&format!(
                "r={},alpha={},targets={}",
                cfg.lora_rank, cfg.lora_alpha, cfg.lora_targets
            ))
            .map_err(|e| NodeError::Config { path: "[trainer]".into(), reason: e.to_string() })?;
            let base = node.fetch_base(lm).await?;
            tracing::info!(
                task = task.id,
                base = %lm.base.sha256,
                architecture = %base.weights.spec,
                tokenizer = ?base.tokenizer,
                "fetched the base model"
            );
            Work::Adapter { data: node.load_chat(&task.params.training_data)?, base: Box::new(base), lora }
        }
    };
    let journal = SealJournal::open(node.config.state_dir.join("sealed"))?;
    let pace = node.follow_blocks().pace(node.poll());
    let mut trainer = Trainer { node, backend, work, journal, done: BTreeSet::new() };
    run_steps("trainer", pace, &mut trainer).await
}

struct Trainer {
    node: Node,
    backend: Backend,
    work: Work,
    journal: SealJournal,
    /// (round, phase) steps this node has finished (or found finished, after a restart).
    done: BTreeSet<(u32, Step)>,
}

/// What this trainer makes each round, by the task's kind.
enum Work {
    /// A classifier of `spec` trained from scratch on the task's CSV data.
    Classifier { data: Dataset, spec: ModelSpec },
    /// A LoRA adapter of `lora` fine-tuned over the task's frozen base on its chat data.
    Adapter { data: ChatData, base: Box<TaskBase>, lora: LoraConfig },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Seal,
    Open,
}

impl Trainer {
    async fn tick(&mut self) -> Result<Next, NodeError> {
        let task = self.node.task().await?;
        let now = task.now;
        if now.round == task.params.rounds && now.phase == Phase::Closed {
            tracing::info!(task = task.id, "the task's last round has closed; trainer done");
            return Ok(Next::Done);
        }
        let step = match now.phase {
            Phase::Submission => Step::Seal,
            Phase::ModelReveal => Step::Open,
            Phase::Commit | Phase::Reveal | Phase::Closed => return Ok(Next::Continue),
        };
        if self.done.contains(&(now.round, step)) {
            return Ok(Next::Continue);
        }
        let finished = match step {
            Step::Seal => self.seal(&task, now.round).await?,
            Step::Open => self.open(&task, now.round).await?,
        };
        if finished {
            self.done.insert((now.round, step));
        }
        Ok(Next::Continue)
    }

    /// The submission phase: trains and submits a sealed model unless this node already has a
    /// submission in the round. True once there is nothing more to do in this phase (false: look
    /// again next block).
    async fn seal(&self, task: &TaskResponse, round: u32) -> Result<bool, NodeError> {
        if self.my_submission(task, round).await?.is_some() {
            return Ok(true);
        }
        // Only the stake frozen for the round counts: a node that joined after the freeze sits
        // the round out instead of training for a submission the market would refuse.
        let counted = self.node.market.stake_at(task.id, &self.node.address(), round).await?;
        if counted.own < task.params.min_trainer_stake {
            tracing::warn!(
                task = task.id,
                round,
                "this node's stake does not count in this round (staked after its stakes froze); sitting it out"
            );
            return Ok(true);
        }
        let sealed = match self.journal.load(task.id, round)? {
            // Journaled before a crash, never submitted: the same model, the same salt.
            Some(sealed) => sealed,
            None => {
                let Some(sealed) = self.make_model(task, round).await? else {
                    return Ok(false);
                };
                self.journal.record(task.id, &sealed)?;
                sealed
            }
        };
        let commitment =
            model_commitment(task.id, round, &self.node.address(), &sealed.sha256_bytes(), &sealed.salt_bytes());
        let submit = ExecuteMsg::Submit { task_id: task.id, commitment: HexBinary::from(commitment) };
        let outcome = self.node.market.execute(&self.node.signer, &submit).await?;
        tracing::info!(
            task = task.id,
            round,
            sha256 = %sealed.model_sha256,
            commitment = %hex::encode(commitment),
            height = outcome.height,
            "submitted the sealed model"
        );
        Ok(true)
    }

    /// The model-reveal phase: opens this node's commitment from the journal, unless the chain
    /// already shows the model. True once there is nothing more to do in this phase.
    async fn open(&self, task: &TaskResponse, round: u32) -> Result<bool, NodeError> {
        let Some(submission) = self.my_submission(task, round).await? else {
            return Ok(true);
        };
        if submission.model.is_some() {
            return Ok(true);
        }
        let Some(sealed) = self.journal.load(task.id, round)? else {
            tracing::error!(
                task = task.id,
                round,
                submission = submission.id,
                "submitted but the sealed model is not in the journal: cannot reveal; the round is forfeit"
            );
            return Ok(true);
        };
        let reveal = ExecuteMsg::RevealModel {
            task_id: task.id,
            model_sha256: HexBinary::from(sealed.sha256_bytes()),
            uri: sealed.uri.clone(),
            metadata: sealed.metadata.clone(),
            salt: HexBinary::from(sealed.salt_bytes()),
        };
        let outcome = self.node.market.execute(&self.node.signer, &reveal).await?;
        tracing::info!(
            task = task.id,
            round,
            submission = submission.id,
            sha256 = %sealed.model_sha256,
            uri = %sealed.uri,
            height = outcome.height,
            "revealed the model"
        );
        Ok(true)
    }

    /// This node's submission in `round`, if it has one (it may have restarted).
    async fn my_submission(&self, task: &TaskResponse, round: u32) -> Result<Option<SubmissionResponse>, NodeError> {
        let me = self.node.address();
        let mut start_after = None;
        loop {
            let page = self.node.market.submissions(task.id, round, start_after, 100).await?;
            let last = page.submissions.last().map(|s| s.id);
            if let Some(mine) = page.submissions.into_iter().find(|s| s.trainer.as_str() == me) {
                return Ok(Some(mine));
            }
            match last {
                Some(id) => start_after = Some(id),
                None => return Ok(None),
            }
        }
    }

    /// The round's model, stored and sealed: trained on the task's training set, or as the
    /// demonstration adversary configured does it. None: not yet (the copycat waits for the
    /// previous round's winner).
    async fn make_model(&self, task: &TaskResponse, round: u32) -> Result<Option<SealedModel>, NodeError> {
        let data = match &self.work {
            Work::Classifier { data, .. } => data,
            Work::Adapter { data, base, lora } => {
                return Ok(Some(self.finetune_and_store(task, round, data, base, lora).await?))
            }
        };
        match self.node.config.trainer.adversary {
            Some(TrainerAdversary::Copycat) if round > 1 => match previous_winner(&self.node, task, round).await? {
                Some((bytes, metadata)) => Ok(Some(self.store_sealed(round, &bytes, metadata)?)),
                None => Ok(None),
            },
            Some(TrainerAdversary::EvalThief) => {
                let mut data = data.clone();
                for shard in steal_shards(&self.node, task, round).await? {
                    data = data.concat(&shard)?;
                }
                Ok(Some(self.train_and_store(task, round, data).await?))
            }
            _ => Ok(Some(self.train_and_store(task, round, data.clone()).await?)),
        }
    }

    /// Fine-tunes the round's adapter over the task's base (a fresh one from seed + round), packs
    /// it as the one file its commitment covers ([`pack_adapter`]), stores it, and draws the salt.
    async fn finetune_and_store(
        &self,
        task: &TaskResponse,
        round: u32,
        data: &ChatData,
        base: &TaskBase,
        lora: &LoraConfig,
    ) -> Result<SealedModel, NodeError> {
        let cfg = &self.node.config.trainer;
        let seed = cfg.seed.wrapping_add(u64::from(round));
        let train = LmTrainConfig {
            steps: cfg.lm_steps,
            lr: cfg.lm_learning_rate,
            warmup: (cfg.lm_steps / 10).max(1),
            seed,
            ..LmTrainConfig::default()
        };
        let windows = data.windows_with(&base.tokenizer, base.weights.spec.ctx)?;
        let init = LoraAdapter::init(&base.weights.spec, lora, &task_base_sha256(task), seed);
        tracing::info!(task = task.id, round, r = lora.r, alpha = lora.alpha, steps = train.steps, "fine-tuning");
        let started = std::time::Instant::now();
        let (backend, base) = (self.backend.clone(), base.weights.clone());
        let adapter = tokio::task::spawn_blocking(move || {
            Engine::new(&backend)?.finetune_lora(&base, init, &windows, &train, &mut |_| {})
        })
        .await
        .map_err(|e| NodeError::Task { task_id: task.id, reason: format!("fine-tuning thread: {e}") })??;
        let bytes = pack_adapter(&adapter);
        let notes = format!(
            "lora r={} alpha={} {} steps lr {} seed {}",
            lora.r, lora.alpha, cfg.lm_steps, cfg.lm_learning_rate, cfg.seed
        );
        let sealed = self.store_sealed(round, &bytes, adapter_metadata(&adapter, bytes.len(), notes))?;
        tracing::info!(task = task.id, round, sha256 = %sealed.model_sha256, secs = started.elapsed().as_secs_f64(), "fine-tuned");
        Ok(sealed)
    }

    /// Trains the round's model on `data`, stores it, and draws the salt that seals it.
    async fn train_and_store(&self, task: &TaskResponse, round: u32, data: Dataset) -> Result<SealedModel, NodeError> {
        let Work::Classifier { spec, .. } = &self.work else {
            unreachable!("classifiers are trained for classification tasks only")
        };
        let cfg = &self.node.config.trainer;
        let optimizer = match cfg.optimizer.as_str() {
            "adam" => Optimizer::adam(cfg.learning_rate),
            "sgd" => Optimizer::sgd(cfg.learning_rate),
            other => {
                return Err(NodeError::Config {
                    path: "[trainer]".into(),
                    reason: format!("optimizer {other:?}: adam or sgd"),
                })
            }
        };
        let train = TrainConfig {
            epochs: cfg.epochs,
            batch_size: cfg.batch_size,
            optimizer,
            seed: cfg.seed.wrapping_add(u64::from(round)),
            ..TrainConfig::default()
        };
        tracing::info!(task = task.id, round, model = %spec, epochs = train.epochs, "training");
        let started = std::time::Instant::now();
        let (backend, spec_) = (self.backend.clone(), spec.clone());
        // GPU work blocks: it runs on a blocking thread with its own engine.
        let model = tokio::task::spawn_blocking(move || Engine::new(&backend)?.train(&data, &spec_, &train))
            .await
            .map_err(|e| NodeError::Task { task_id: task.id, reason: format!("training thread: {e}") })??;
        let bytes = model.to_safetensors();
        let metadata = ModelMetadata {
            family: model.spec.family().into(),
            parameters: model.parameters() as u64,
            file_bytes: bytes.len() as u64,
            notes: Some(format!("{} {} epochs, {}, seed {}", spec, cfg.epochs, cfg.optimizer, cfg.seed)),
        };
        let sealed = self.store_sealed(round, &bytes, metadata)?;
        tracing::info!(task = task.id, round, sha256 = %sealed.model_sha256, secs = started.elapsed().as_secs_f64(), "trained");
        Ok(sealed)
    }

    /// Stores a model file under its hash and seals it with a fresh salt.
    fn store_sealed(&self, round: u32, bytes: &[u8], metadata: ModelMetadata) -> Result<SealedModel, NodeError> {
        let sha256 = self.node.store.put(bytes)?;
        let uri = match &self.node.config.trainer.public_url {
            Some(base) => model_url(base, &sha256),
            None => self.node.store.file_uri(&sha256),
        };
        let mut salt = [0u8; 32];
        getrandom::getrandom(&mut salt).expect("the OS has randomness");
        Ok(SealedModel { round, model_sha256: sha256, uri, metadata, salt: hex::encode(salt) })
    }
}

/// The task's base sha256 (hex), which adapters name as their base; empty for a classification
/// task.
fn task_base_sha256(task: &TaskResponse) -> String {
    match &task.params.kind {
        TaskKind::LanguageModel(lm) => lm.base.sha256.to_hex(),
        TaskKind::Classification => String::new(),
    }
}

/// One step per block (or per `poll_ms` when none is heard of).
impl arena_retry::Step for Trainer {
    type Error = NodeError;

    async fn step(&mut self) -> Result<Next, NodeError> {
        self.tick().await
    }
}
