//! Training: configuration, the epoch schedule shared by every backend, and the driver.
//!
//! Each epoch visits the data chunks in a seeded random order and each chunk's rows in a seeded
//! random permutation, in batches of `batch_size` (the last batch of a chunk may be smaller; each
//! batch's loss is its mean). With one chunk (any dataset that fits one storage binding) this is a
//! plain shuffled epoch. The same seed gives the same schedule, the same initial weights and so,
//! on one machine, the same weights file.

use std::ops::Range;
use std::time::{Duration, Instant};

use crate::data::{Dataset, Scaling, ScalingKind};
use crate::kernels::OptimizerParams;
use crate::model::{Model, ModelSpec};
use crate::rng::SplitMix64;
use crate::{Error, Result};

/// The update rule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Optimizer {
    /// SGD with momentum (PyTorch's form: v = mu v + g, w -= lr v).
    Sgd { lr: f32, momentum: f32 },
    /// Adam with bias correction.
    Adam { lr: f32, beta1: f32, beta2: f32, eps: f32 },
}

impl Optimizer {
    pub fn sgd(lr: f32) -> Self {
        Optimizer::Sgd { lr, momentum: 0.9 }
    }

    pub fn adam(lr: f32) -> Self {
        Optimizer::Adam { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8 }
    }

    pub(crate) fn params(&self, weight_decay: f32) -> OptimizerParams {
        match *self {
            Optimizer::Sgd { lr, momentum } => OptimizerParams {
                lr,
                momentum_or_b1: momentum,
                one_minus_b1: 0.0,
                b2: 0.0,
                one_minus_b2: 0.0,
                eps: 0.0,
                weight_decay,
            },
            Optimizer::Adam { lr, beta1, beta2, eps } => OptimizerParams {
                lr,
                momentum_or_b1: beta1,
                one_minus_b1: 1.0 - beta1,
                b2: beta2,
                one_minus_b2: 1.0 - beta2,
                eps,
                weight_decay,
            },
        }
    }

    /// Adam's bias corrections (1 / (1 - b1^(t+1)), 1 / (1 - b2^(t+1))) for steps t = 0..steps,
    /// computed in f64 and rounded once; empty for SGD.
    pub(crate) fn bias_corrections(&self, steps: usize) -> Vec<[f32; 2]> {
        match *self {
            Optimizer::Sgd { .. } => Vec::new(),
            Optimizer::Adam { beta1, beta2, .. } => (1..=steps as i32)
                .map(|t| [(1.0 / (1.0 - (beta1 as f64).powi(t))) as f32, (1.0 / (1.0 - (beta2 as f64).powi(t))) as f32])
                .collect(),
        }
    }

    fn check(&self) -> Result<()> {
        let bad = |what: String| Err(Error::Config(what));
        match *self {
            Optimizer::Sgd { lr, momentum } => {
                let lr_ok = lr > 0.0 && lr.is_finite();
                if !(lr_ok && (0.0..1.0).contains(&momentum)) {
                    return bad(format!("sgd needs lr > 0 and momentum in [0, 1), got lr {lr}, momentum {momentum}"));
                }
            }
            Optimizer::Adam { lr, beta1, beta2, eps } => {
                let ok = lr > 0.0
                    && lr.is_finite()
                    && (0.0..1.0).contains(&beta1)
                    && (0.0..1.0).contains(&beta2)
                    && eps > 0.0;
                if !ok {
                    return bad(format!(
                        "adam needs lr > 0, betas in [0, 1), eps > 0; got {lr}, {beta1}, {beta2}, {eps}"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Everything that decides a training run besides the data and the architecture.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub optimizer: Optimizer,
    /// L2 penalty added to the gradient (0 for none).
    pub weight_decay: f32,
    pub seed: u64,
    pub scaling: ScalingKind,
    /// Number of classes; `None` takes the largest label plus one.
    pub classes: Option<usize>,
}

impl Default for TrainConfig {
    /// The settings that reach >= 92% on the digits split: Adam 1e-3, batch 64, 60 epochs.
    fn default() -> Self {
        TrainConfig {
            epochs: 60,
            batch_size: 64,
            optimizer: Optimizer::adam(1e-3),
            weight_decay: 0.0,
            seed: 1,
            scaling: ScalingKind::Standard,
            classes: None,
        }
    }
}

/// What the driver reports after each epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochReport {
    /// 1-based.
    pub epoch: usize,
    pub epochs: usize,
    /// Mean training loss over the epoch's rows (computed while the weights moved).
    pub mean_loss: f64,
    pub accuracy: f64,
    pub elapsed: Duration,
}

/// One epoch's order: for each chunk visited, its index and the permutation of its rows.
pub(crate) struct EpochSchedule {
    pub(crate) chunks: Vec<(usize, Vec<u32>)>,
}

impl EpochSchedule {
    fn new(rng: &mut SplitMix64, chunks: &[Range<usize>]) -> Self {
        let mut order: Vec<usize> = (0..chunks.len()).collect();
        rng.shuffle(&mut order);
        let chunks = order
            .into_iter()
            .map(|c| {
                let mut perm: Vec<u32> = (0..chunks[c].len() as u32).collect();
                rng.shuffle(&mut perm);
                (c, perm)
            })
            .collect();
        EpochSchedule { chunks }
    }
}

/// Batches in an epoch over chunks of these sizes.
pub(crate) fn steps_per_epoch(chunks: &[Range<usize>], batch: usize) -> usize {
    chunks.iter().map(|c| c.len().div_ceil(batch)).sum()
}

/// A backend's training state.
pub(crate) trait Trainer {
    /// The row ranges the backend stores as separate chunks.
    fn chunks(&self) -> Vec<Range<usize>>;
    /// Runs one epoch; returns the sum of the rows' losses and the number classified correctly.
    fn run_epoch(&mut self, schedule: &EpochSchedule) -> Result<(f64, u64)>;
    /// The trained weights.
    fn weights(&mut self) -> Result<Model>;
}

/// Checks the configuration against the data and builds the initial model.
pub(crate) fn initial_model(data: &Dataset, spec: &ModelSpec, cfg: &TrainConfig) -> Result<Model> {
    if cfg.epochs == 0 || cfg.batch_size == 0 {
        return Err(Error::Config(format!(
            "epochs and batch size must be positive, got {} and {}",
            cfg.epochs, cfg.batch_size
        )));
    }
    if !(cfg.weight_decay >= 0.0 && cfg.weight_decay.is_finite()) {
        return Err(Error::Config(format!("weight decay must be >= 0, got {}", cfg.weight_decay)));
    }
    cfg.optimizer.check()?;
    let classes = match cfg.classes {
        Some(c) => {
            data.check_labels(c)?;
            c
        }
        None => data.classes(),
    };
    let scaling = Scaling::fit(cfg.scaling, data);
    Model::init(spec, data.cols, classes, scaling, cfg.seed)
}

/// Runs every epoch through `trainer`, reporting each; fails if the loss stops being finite.
pub(crate) fn drive(
    trainer: &mut dyn Trainer,
    data: &Dataset,
    cfg: &TrainConfig,
    progress: &mut dyn FnMut(&EpochReport),
) -> Result<Model> {
    let start = Instant::now();
    let chunks = trainer.chunks();
    // A stream of its own, so that the shuffles do not depend on how many weights were drawn.
    let mut rng = SplitMix64::new(cfg.seed ^ 0x5348_5546_464C_4531);
    for epoch in 1..=cfg.epochs {
        let schedule = EpochSchedule::new(&mut rng, &chunks);
        let (loss, correct) = trainer.run_epoch(&schedule)?;
        let mean_loss = loss / data.rows as f64;
        if !mean_loss.is_finite() {
            return Err(Error::Diverged { epoch, loss: mean_loss });
        }
        progress(&EpochReport {
            epoch,
            epochs: cfg.epochs,
            mean_loss,
            accuracy: correct as f64 / data.rows as f64,
            elapsed: start.elapsed(),
        });
    }
    trainer.weights()
}
