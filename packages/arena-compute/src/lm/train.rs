//! Training and evaluating the language model, on the device or on the CPU reference: the
//! configuration, the learning-rate schedule, the seeded batch order, the step loop and the
//! held-out evaluation. [`crate::Engine`]'s `train_lm`, `pretrain_lm` and `evaluate_lm` call
//! these.
//!
//! Every step takes `batch` whole windows of the training text in a seeded shuffled order (a
//! new shuffle each pass over the windows), so the same seed, data and configuration give the
//! same steps; with the device's fixed-order sums that gives the same weights file.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::device::Gpu;
use crate::kernels::AdamWParams;
use crate::rng::SplitMix64;
use crate::{Error, Result};

use super::data::TokenWindows;
use super::gpu::{check_trainable, max_batch, DeviceModel};
use super::lora::LoraAdapter;
use super::reference;
use super::score::{bits_per_byte, score_ppm};
use super::weights::GptWeights;

/// Everything that decides a language-model training run besides the data and the initial
/// weights.
#[derive(Clone, Debug, PartialEq)]
pub struct LmTrainConfig {
    pub steps: usize,
    /// Sequences (windows) per step.
    pub batch: usize,
    /// Peak learning rate, reached after `warmup` steps, then cosine decay to `lr * final_lr`.
    pub lr: f32,
    pub warmup: usize,
    pub final_lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    /// AdamW's decoupled decay, on the embeddings and matrices only.
    pub weight_decay: f32,
    /// Global gradient-norm clip; 0 for none.
    pub max_grad_norm: f32,
    /// Seeds the initial weights (for `pretrain_lm`) and the batch order.
    pub seed: u64,
    /// Steps between progress reports (each reads the loss back from the device).
    pub report_every: usize,
}

impl Default for LmTrainConfig {
    /// nanoGPT's small-model settings (Adam betas 0.9 / 0.99, weight decay 0.1, clip 1.0) with a
    /// higher peak rate for the few hundred steps a CPU-only run affords.
    fn default() -> Self {
        LmTrainConfig {
            steps: 300,
            batch: 8,
            lr: 3e-3,
            warmup: 20,
            final_lr: 0.1,
            beta1: 0.9,
            beta2: 0.99,
            eps: 1e-8,
            weight_decay: 0.1,
            max_grad_norm: 1.0,
            seed: 1,
            report_every: 10,
        }
    }
}

impl LmTrainConfig {
    fn check(&self) -> Result<()> {
        let ok = self.steps > 0
            && self.batch > 0
            && self.report_every > 0
            && self.lr > 0.0
            && self.lr.is_finite()
            && (0.0..=1.0).contains(&self.final_lr)
            && (0.0..1.0).contains(&self.beta1)
            && (0.0..1.0).contains(&self.beta2)
            && self.eps > 0.0
            && self.weight_decay >= 0.0
            && self.max_grad_norm >= 0.0;
        if ok {
            Ok(())
        } else {
            Err(Error::Config(format!("language-model training settings out of range: {self:?}")))
        }
    }

    fn adamw(&self) -> AdamWParams {
        AdamWParams {
            b1: self.beta1,
            b2: self.beta2,
            eps: self.eps,
            weight_decay: self.weight_decay,
            max_norm: self.max_grad_norm,
        }
    }

    /// Step `s`'s (0-based) learning rate: linear warm-up, then cosine decay; computed in f64.
    pub fn lr_at(&self, s: usize) -> f32 {
        let peak = self.lr as f64;
        if s < self.warmup {
            return (peak * (s + 1) as f64 / self.warmup as f64) as f32;
        }
        let span = (self.steps - self.warmup).max(1) as f64;
        let progress = ((s - self.warmup) as f64 / span).min(1.0);
        let floor = peak * self.final_lr as f64;
        (floor + (peak - floor) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())) as f32
    }

    /// Adam's bias corrections for step `s` (0-based), in f64 rounded once.
    fn corrections(&self, s: usize) -> (f32, f32) {
        let t = (s + 1) as i32;
        ((1.0 / (1.0 - (self.beta1 as f64).powi(t))) as f32, (1.0 / (1.0 - (self.beta2 as f64).powi(t))) as f32)
    }
}

/// What the step loop reports every `report_every` steps and after the last.
#[derive(Clone, Debug, PartialEq)]
pub struct LmProgress {
    /// 1-based.
    pub step: usize,
    pub steps: usize,
    /// The mean training loss (nats per token) of this step's batch.
    pub loss: f64,
    pub lr: f32,
    /// Tokens predicted so far.
    pub tokens: u64,
    pub elapsed: Duration,
}

impl LmProgress {
    pub fn tokens_per_second(&self) -> f64 {
        self.tokens as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// The seeded batch order: windows in a shuffled permutation, reshuffled after each pass.
struct Batches {
    rng: SplitMix64,
    perm: Vec<usize>,
    next: usize,
}

impl Batches {
    fn new(seed: u64, windows: usize) -> Self {
        // A stream of its own, so the order does not depend on how many weights were drawn.
        Batches { rng: SplitMix64::new(seed ^ 0x4C4D_4241_5443_4845), perm: (0..windows).collect(), next: windows }
    }

    /// The next batch as (inputs, targets, target mask), `batch` windows of `data`.
    fn next_masked(&mut self, data: &TokenWindows, batch: usize) -> (Vec<u32>, Vec<u32>, Vec<u8>) {
        let (mut tokens, mut targets, mut mask) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..batch {
            if self.next == self.perm.len() {
                self.rng.shuffle(&mut self.perm);
                self.next = 0;
            }
            let i = self.perm[self.next];
            let w = data.get(i);
            self.next += 1;
            tokens.extend_from_slice(&w[..w.len() - 1]);
            targets.extend_from_slice(&w[1..]);
            mask.extend(data.target_mask(i));
        }
        (tokens, targets, mask)
    }

    /// The next batch as (inputs, targets), `batch` windows of `data`.
    fn next(&mut self, data: &TokenWindows, batch: usize) -> (Vec<u32>, Vec<u32>) {
        let (mut tokens, mut targets) = (Vec::new(), Vec::new());
        for _ in 0..batch {
            if self.next == self.perm.len() {
                self.rng.shuffle(&mut self.perm);
                self.next = 0;
            }
            let w = data.get(self.perm[self.next]);
            self.next += 1;
            tokens.extend_from_slice(&w[..w.len() - 1]);
            targets.extend_from_slice(&w[1..]);
        }
        (tokens, targets)
    }
}

/// One step, on whichever backend.
trait Stepper {
    fn step(&mut self, tokens: &[u32], targets: &[u32], lr: f32, c1: f32, c2: f32);
    /// The last step's mean loss.
    fn loss(&mut self, positions: usize) -> Result<f64>;
    fn weights(&mut self) -> Result<GptWeights>;
}

impl Stepper for DeviceModel<'_> {
    fn step(&mut self, tokens: &[u32], targets: &[u32], lr: f32, c1: f32, c2: f32) {
        self.train_step(tokens, targets, lr, c1, c2);
    }

    fn loss(&mut self, positions: usize) -> Result<f64> {
        Ok(mean(&self.last_losses(positions)?))
    }

    fn weights(&mut self) -> Result<GptWeights> {
        DeviceModel::weights(self)
    }
}

/// The CPU reference's training state.
struct CpuStepper {
    w: GptWeights,
    m: Vec<f32>,
    v: Vec<f32>,
    p: AdamWParams,
    t: usize,
    last: f64,
}

impl Stepper for CpuStepper {
    fn step(&mut self, tokens: &[u32], targets: &[u32], lr: f32, c1: f32, c2: f32) {
        let b = tokens.len() / self.t;
        let fwd = reference::forward(&self.w, b, self.t, tokens, targets);
        self.last = mean(&fwd.row_loss);
        let grads = reference::backward(&self.w, &fwd, tokens);
        let norm_sq = reference::grad_norm_sq(&grads);
        let decay = self.w.layout.decay_len;
        reference::adamw(&self.p, lr, c1, c2, norm_sq, decay, &mut self.w.params, &grads, &mut self.m, &mut self.v);
    }

    fn loss(&mut self, _: usize) -> Result<f64> {
        Ok(self.last)
    }

    fn weights(&mut self) -> Result<GptWeights> {
        Ok(self.w.clone())
    }
}

/// Mean of f32 losses, summed in f64 in order.
fn mean(losses: &[f32]) -> f64 {
    losses.iter().map(|&l| l as f64).sum::<f64>() / losses.len() as f64
}

/// Checks that `data` fits the model: windows no longer than its context plus one, tokens in
/// its vocabulary.
fn check_fit(w: &GptWeights, data: &TokenWindows) -> Result<()> {
    if data.window < 2 || data.window - 1 > w.spec.ctx {
        return Err(Error::Config(format!(
            "{}: windows of {} tokens do not fit {} (at most ctx + 1 = {})",
            data.name,
            data.window,
            w.spec,
            w.spec.ctx + 1
        )));
    }
    data.check_vocab(w.spec.vocab)
}

/// Trains `init` on `data`; on the device when `gpu` is given, else on the CPU reference.
pub(crate) fn train(
    gpu: Option<&Gpu>,
    init: GptWeights,
    data: &TokenWindows,
    cfg: &LmTrainConfig,
    progress: &mut dyn FnMut(&LmProgress),
) -> Result<GptWeights> {
    cfg.check()?;
    check_fit(&init, data)?;
    if data.mask.is_some() {
        return Err(Error::Config(format!(
            "{}: chat data (a loss on the assistant's text only) trains adapters (finetune_lora), not whole models",
            data.name
        )));
    }
    if let Some(gpu) = gpu {
        check_trainable(gpu, &init)?;
    }
    let t = data.window - 1;
    let mut stepper: Box<dyn Stepper + '_> = match gpu {
        Some(gpu) => Box::new(DeviceModel::new(gpu, init, cfg.batch, t, Some(cfg.adamw()))),
        None => {
            let len = init.layout.len;
            Box::new(CpuStepper { w: init, m: vec![0.0; len], v: vec![0.0; len], p: cfg.adamw(), t, last: 0.0 })
        }
    };
    let mut batches = Batches::new(cfg.seed, data.len());
    let start = Instant::now();
    for s in 0..cfg.steps {
        let (tokens, targets) = batches.next(data, cfg.batch);
        let (c1, c2) = cfg.corrections(s);
        let lr = cfg.lr_at(s);
        stepper.step(&tokens, &targets, lr, c1, c2);
        if (s + 1) % cfg.report_every == 0 || s + 1 == cfg.steps {
            let loss = stepper.loss(tokens.len())?;
            if !loss.is_finite() {
                return Err(Error::Diverged { epoch: s + 1, loss });
            }
            progress(&LmProgress {
                step: s + 1,
                steps: cfg.steps,
                loss,
                lr,
                tokens: ((s + 1) * tokens.len()) as u64,
                elapsed: start.elapsed(),
            });
        }
    }
    stepper.weights()
}

/// Trains the adapter `init` on `data` over the frozen `base`, on the device when `gpu` is given,
/// else on the CPU reference. The loss is the mean over the counted targets (the assistant's text
/// of chat data); AdamW with `cfg`'s settings except weight decay, which adapters skip.
pub(crate) fn train_lora(
    gpu: Option<&Gpu>,
    base: &GptWeights,
    init: LoraAdapter,
    data: &TokenWindows,
    cfg: &LmTrainConfig,
    progress: &mut dyn FnMut(&LmProgress),
) -> Result<LoraAdapter> {
    cfg.check()?;
    check_fit(base, data)?;
    if init.spec != base.spec {
        return Err(Error::Config(format!("an adapter for {} cannot train on {}", init.spec, base.spec)));
    }
    let t = data.window - 1;
    let p = cfg.adamw();
    // The device's model, or the reference's state: (adapter, m, v, the last batch's losses).
    let mut device =
        gpu.map(|gpu| DeviceModel::with_lora(gpu, base.clone(), Some(init.clone()), cfg.batch, t, Some(p)));
    let (mut adapter, mut m, mut v) = (init, Vec::new(), Vec::new());
    if device.is_none() {
        (m, v) = (vec![0.0; adapter.len()], vec![0.0; adapter.len()]);
    }
    let mut batches = Batches::new(cfg.seed, data.len());
    let start = Instant::now();
    let mut counted_so_far = 0u64;
    let mut cpu_losses = Vec::new();
    for s in 0..cfg.steps {
        let (tokens, targets, mask) = batches.next_masked(data, cfg.batch);
        counted_so_far += mask.iter().filter(|&&k| k != 0).count() as u64;
        let (c1, c2) = cfg.corrections(s);
        let lr = cfg.lr_at(s);
        match &mut device {
            Some(device) => device.lora_step(&tokens, &targets, &mask, lr, c1, c2),
            None => {
                let mut fwd = reference::forward_lora(base, Some(&adapter), tokens.len() / t, t, &tokens, &targets);
                reference::mask_dlogits(base.spec.vocab, &mask, &mut fwd.dlogits);
                let (_, grads) = reference::backward_lora(base, Some(&adapter), &fwd, &tokens);
                let norm_sq = reference::grad_norm_sq(&grads);
                reference::adamw(&p, lr, c1, c2, norm_sq, 0, &mut adapter.params, &grads, &mut m, &mut v);
                cpu_losses = fwd.row_loss;
            }
        }
        if (s + 1) % cfg.report_every == 0 || s + 1 == cfg.steps {
            let losses = match &device {
                Some(device) => device.last_losses(tokens.len())?,
                None => cpu_losses.clone(),
            };
            let counted: Vec<f64> = losses.iter().zip(&mask).filter(|(_, &k)| k != 0).map(|(&l, _)| l as f64).collect();
            let loss = counted.iter().sum::<f64>() / counted.len().max(1) as f64;
            if !loss.is_finite() {
                return Err(Error::Diverged { epoch: s + 1, loss });
            }
            progress(&LmProgress {
                step: s + 1,
                steps: cfg.steps,
                loss,
                lr,
                tokens: counted_so_far,
                elapsed: start.elapsed(),
            });
        }
    }
    match device {
        Some(device) => device.adapter(),
        None => Ok(adapter),
    }
}

/// Windows per evaluation batch.
pub(crate) const EVAL_BATCH: usize = 16;

/// A language model's score on held-out text.
#[derive(Clone, Debug, PartialEq)]
pub struct LmEvaluation {
    /// Predicted tokens.
    pub tokens: u64,
    /// UTF-8 bytes those tokens encode.
    pub bytes: u64,
    /// Mean cross-entropy, nats per token.
    pub mean_loss: f64,
    pub bits_per_byte: f64,
    /// round(1e6 * 2^-bits_per_byte).
    pub score_ppm: u32,
    pub data_sha256: String,
    pub adapter: String,
    pub backend: String,
}

impl LmEvaluation {
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "score_ppm": self.score_ppm,
            "bits_per_byte": self.bits_per_byte,
            "mean_loss": self.mean_loss,
            "tokens": self.tokens,
            "bytes": self.bytes,
            "data_sha256": self.data_sha256,
            "adapter": self.adapter,
            "backend": self.backend,
        })
    }
}

/// The summed loss over every window of `data`, in batches of [`EVAL_BATCH`] (fewer where a
/// device batch of this model would outgrow a storage binding; a position's loss does not depend
/// on its batch). The sum is in f64, position order: the same on every run.
pub(crate) fn loss_sum(gpu: Option<&Gpu>, w: &GptWeights, data: &TokenWindows) -> Result<f64> {
    check_fit(w, data)?;
    let t = data.window - 1;
    let batch = gpu.map_or(EVAL_BATCH, |gpu| EVAL_BATCH.min(max_batch(gpu, &w.spec, t)));
    let mut device = gpu.map(|gpu| DeviceModel::new(gpu, w.clone(), batch.min(data.len()), t, None));
    let mut total = 0.0f64;
    for first in (0..data.len()).step_by(batch) {
        let (mut tokens, mut targets, mut mask) = (Vec::new(), Vec::new(), Vec::new());
        for i in first..(first + batch).min(data.len()) {
            let win = data.get(i);
            tokens.extend_from_slice(&win[..t]);
            targets.extend_from_slice(&win[1..]);
            mask.extend(data.target_mask(i));
        }
        let losses = match &mut device {
            Some(device) => device.row_losses(&tokens, &targets)?,
            None => reference::forward(w, tokens.len() / t, t, &tokens, &targets).row_loss,
        };
        // Only the counted targets (all of them for plain text; the assistant's for chat).
        total += losses.iter().zip(&mask).filter(|(_, &m)| m != 0).map(|(&l, _)| l as f64).sum::<f64>();
    }
    Ok(total)
}

/// Scores `w` on `data`.
pub(crate) fn evaluate(
    gpu: Option<&Gpu>,
    w: &GptWeights,
    data: &TokenWindows,
    data_sha256: String,
    (adapter, backend): (String, String),
) -> Result<LmEvaluation> {
    let total = loss_sum(gpu, w, data)?;
    let tokens = data.counted_targets();
    let mean_loss = total / tokens as f64;
    let bpb = bits_per_byte(mean_loss, tokens, data.target_bytes);
    Ok(LmEvaluation {
        tokens,
        bytes: data.target_bytes,
        mean_loss,
        bits_per_byte: bpb,
        score_ppm: score_ppm(bpb),
        data_sha256,
        adapter,
        backend,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_warms_up_then_decays_to_the_floor() {
        let cfg = LmTrainConfig { steps: 100, warmup: 10, lr: 1e-3, final_lr: 0.1, ..Default::default() };
        assert!((cfg.lr_at(0) - 1e-4).abs() < 1e-9);
        assert!((cfg.lr_at(9) - 1e-3).abs() < 1e-9);
        assert!((cfg.lr_at(10) - 1e-3).abs() < 1e-9);
        assert!((cfg.lr_at(55) - 5.5e-4).abs() < 1e-8);
        assert!((cfg.lr_at(99) - 1e-4).abs() < 1e-6);
        let lrs: Vec<f32> = (10..100).map(|s| cfg.lr_at(s)).collect();
        assert!(lrs.windows(2).all(|w| w[0] >= w[1]));
        let (c1, c2) = cfg.corrections(0);
        assert!((c1 - 10.0).abs() < 1e-5 && (c2 - 100.0).abs() < 1e-3);
    }

    #[test]
    fn batches_visit_every_window_once_per_pass_in_a_seeded_order() {
        let text: Vec<u8> = (0..200u32).map(|i| (i % 251) as u8).collect();
        let data = super::super::TextCorpus::from_bytes("t", text).windows(9).unwrap();
        let n = data.len();
        let firsts = |seed| {
            let mut b = Batches::new(seed, n);
            (0..n).map(|_| b.next(&data, 1).0[0]).collect::<Vec<_>>()
        };
        let mut seen = firsts(1);
        assert_eq!(seen, firsts(1));
        assert_ne!(seen, firsts(2));
        seen.sort();
        let mut all: Vec<u32> = (0..n).map(|i| data.get(i)[0]).collect();
        all.sort();
        assert_eq!(seen, all);
    }
}
