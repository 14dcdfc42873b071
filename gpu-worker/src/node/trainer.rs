//! The training node: joins its task, and in each round's submission phase trains a model on the
//! task's training set, stores it, and submits its commitment (sha256, URI, metadata).

use std::collections::BTreeSet;

use crate::{Backend, Dataset, Engine, ModelSpec, Optimizer, TrainConfig};
use arena_types::market::msg::{ExecuteMsg, ModelMetadata, TaskResponse};
use arena_types::market::phase::Phase;
use cosmwasm_std::HexBinary;

use crate::node::context::Node;
use crate::node::error::NodeError;
use crate::node::serve::model_url;
use crate::node::tick::{settle, Next};

/// Runs the trainer until the task's last round has closed.
pub async fn run(node: Node, backend: Backend) -> Result<(), NodeError> {
    let task = node.task().await?;
    node.ensure_joined(&task).await?;
    let data = node.load_data(&task.params.training_data)?;
    let spec = ModelSpec::parse(&node.config.trainer.model)?;
    let mut blocks = node.follow_blocks();
    let mut trainer = Trainer { node, backend, data, spec, done: BTreeSet::new() };
    while !settle("trainer", trainer.tick().await)? {
        blocks.next(trainer.node.poll()).await;
    }
    Ok(())
}

struct Trainer {
    node: Node,
    backend: Backend,
    data: Dataset,
    spec: ModelSpec,
    /// Rounds this node has submitted to (or found it had, after a restart).
    done: BTreeSet<u32>,
}

impl Trainer {
    async fn tick(&mut self) -> Result<Next, NodeError> {
        let task = self.node.task().await?;
        let now = task.now;
        if now.round == task.params.rounds && now.phase == Phase::Closed {
            tracing::info!(task = task.id, "the task's last round has closed; trainer done");
            return Ok(Next::Done);
        }
        if now.phase != Phase::Submission || self.done.contains(&now.round) {
            return Ok(Next::Continue);
        }
        if self.submitted_on_chain(&task, now.round).await? {
            self.done.insert(now.round);
            return Ok(Next::Continue);
        }
        // Only the stake frozen for the round counts: a node that joined after the freeze sits
        // the round out instead of training for a submission the market would refuse.
        let counted = self.node.market.stake_at(task.id, &self.node.address(), now.round).await?;
        if counted.own < task.params.min_trainer_stake {
            tracing::warn!(
                task = task.id,
                round = now.round,
                "this node's stake does not count in this round (staked after its stakes froze); sitting it out"
            );
            self.done.insert(now.round);
            return Ok(Next::Continue);
        }
        self.train_and_submit(&task, now.round).await?;
        self.done.insert(now.round);
        Ok(Next::Continue)
    }

    /// Whether this node already has a submission in `round` (it may have restarted).
    async fn submitted_on_chain(&self, task: &TaskResponse, round: u32) -> Result<bool, NodeError> {
        let me = self.node.address();
        let mut start_after = None;
        loop {
            let page = self.node.market.submissions(task.id, round, start_after, 100).await?;
            if page.submissions.iter().any(|s| s.trainer.as_str() == me) {
                return Ok(true);
            }
            match page.submissions.last() {
                Some(last) => start_after = Some(last.id),
                None => return Ok(false),
            }
        }
    }

    async fn train_and_submit(&self, task: &TaskResponse, round: u32) -> Result<(), NodeError> {
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
        tracing::info!(task = task.id, round, model = %self.spec, epochs = train.epochs, "training");
        let started = std::time::Instant::now();
        let (backend, data, spec) = (self.backend.clone(), self.data.clone(), self.spec.clone());
        // GPU work blocks: it runs on a blocking thread with its own engine.
        let model = tokio::task::spawn_blocking(move || Engine::new(&backend)?.train(&data, &spec, &train))
            .await
            .map_err(|e| NodeError::Task { task_id: task.id, reason: format!("training thread: {e}") })??;
        let bytes = model.to_safetensors();
        let sha256 = self.node.store.put(&bytes)?;
        let uri = match &cfg.public_url {
            Some(base) => model_url(base, &sha256),
            None => self.node.store.file_uri(&sha256),
        };
        let metadata = ModelMetadata {
            family: "mlp".into(),
            parameters: model.parameters() as u64,
            file_bytes: bytes.len() as u64,
            notes: Some(format!("{} {} epochs, {}, seed {}", self.spec, cfg.epochs, cfg.optimizer, cfg.seed)),
        };
        let submit = ExecuteMsg::Submit {
            task_id: task.id,
            model_sha256: HexBinary::from_hex(&sha256).expect("sha256 is hex"),
            uri: uri.clone(),
            metadata,
        };
        self.node.market.execute(&self.node.signer, &submit).await?;
        tracing::info!(task = task.id, round, %sha256, %uri, secs = started.elapsed().as_secs_f64(), "submitted");
        Ok(())
    }
}
