//! Training and evaluation on the CPU with the reference math ([`crate::reference`]), step for
//! step what the GPU path records: gather, forward, softmax cross-entropy, backward, optimizer.
//! The matrix multiply is a parameter: the reference loops for `--backend cpu-reference` and the
//! tests, an optimized GEMM for the benchmark's CPU baseline.

use std::ops::Range;

use crate::data::Dataset;
use crate::kernels::{MatmulShape, OptimizerParams};
use crate::model::{Activation, Model};
use crate::reference::{self, Gemm};
use crate::train::{EpochSchedule, Trainer};
use crate::Result;

/// Per-layer activations of one batch.
struct Layer {
    /// Pre-activation, rows x outputs.
    z: Vec<f32>,
    /// Activation output (hidden layers).
    a: Vec<f32>,
    /// Gradient with respect to the output, then (in place) to z.
    d: Vec<f32>,
}

/// A forward (and backward) pass over batches of up to `capacity` rows.
struct Pass {
    x: Vec<f32>,
    y: Vec<u32>,
    layers: Vec<Layer>,
    loss: Vec<f32>,
    correct: Vec<u32>,
}

impl Pass {
    fn new(model: &Model, capacity: usize) -> Self {
        Pass {
            x: vec![0.0; capacity * model.input_size],
            y: vec![0; capacity],
            layers: model
                .layers
                .iter()
                .map(|l| Layer {
                    z: vec![0.0; capacity * l.outputs],
                    a: vec![0.0; capacity * l.outputs],
                    d: vec![0.0; capacity * l.outputs],
                })
                .collect(),
            loss: vec![0.0; capacity],
            correct: vec![0; capacity],
        }
    }

    /// Loads rows `src` of `data`, scaled, into x and y (the gather kernel).
    fn gather(&mut self, model: &Model, data: &Dataset, src: impl Iterator<Item = usize>) -> usize {
        let cols = data.cols;
        let mut rows = 0;
        for (r, s) in src.enumerate() {
            for f in 0..cols {
                self.x[r * cols + f] = model.scaling.apply(f, data.features.get(s * cols + f));
            }
            self.y[r] = data.labels[s];
            rows += 1;
        }
        rows
    }

    /// Forward through every layer, then the loss and its gradient on the logits.
    fn forward(&mut self, model: &Model, gemm: Gemm, rows: usize) {
        let act = model.spec.activation();
        let last = model.layers.len() - 1;
        for (l, dense) in model.layers.iter().enumerate() {
            let (done, rest) = self.layers.split_at_mut(l);
            let layer = &mut rest[0];
            let input: &[f32] = if l == 0 { &self.x } else { &done[l - 1].a };
            let n = rows * dense.outputs;
            gemm(&MatmulShape::nn(rows, dense.inputs, dense.outputs), input, &dense.weight, &mut layer.z[..n]);
            let f = if l == last { None } else { Some(act) };
            reference::bias_act(dense.outputs, f, &dense.bias, &mut layer.z[..n], &mut layer.a[..n]);
        }
        let out = &mut self.layers[last];
        let n = rows * model.classes;
        reference::softmax_xent(
            model.classes,
            &out.z[..n],
            &self.y[..rows],
            &mut out.d[..n],
            &mut self.loss[..rows],
            &mut self.correct[..rows],
        );
    }

    /// Backward from the logits' gradient; writes each tensor's gradient into `grads`
    /// (weight, bias, weight, bias, ...).
    fn backward(&mut self, model: &Model, gemm: Gemm, rows: usize, act: Activation, grads: &mut [Vec<f32>]) {
        let last = model.layers.len() - 1;
        for l in (0..=last).rev() {
            let dense = &model.layers[l];
            let n = rows * dense.outputs;
            let (done, rest) = self.layers.split_at_mut(l);
            let layer = &mut rest[0];
            if l < last {
                reference::act_backward(Some(act), &layer.z[..n], &layer.a[..n], &mut layer.d[..n]);
            }
            let input: &[f32] = if l == 0 { &self.x } else { &done[l - 1].a };
            let (gw, gb) = grads[2 * l..2 * l + 2].split_at_mut(1);
            gemm(&MatmulShape::tn(dense.inputs, rows, dense.outputs), input, &layer.d[..n], &mut gw[0]);
            reference::bias_grad(rows, dense.outputs, &layer.d, &mut gb[0]);
            if l > 0 {
                let prev = &mut done[l - 1];
                gemm(
                    &MatmulShape::nt(rows, dense.outputs, dense.inputs),
                    &layer.d[..n],
                    &dense.weight,
                    &mut prev.d[..rows * dense.inputs],
                );
            }
        }
    }
}

/// Training on the CPU.
pub(crate) struct CpuTrainer<'a> {
    model: Model,
    data: &'a Dataset,
    gemm: Gemm,
    batch: usize,
    params: OptimizerParams,
    is_adam: bool,
    corrections: Vec<[f32; 2]>,
    step: usize,
    grads: Vec<Vec<f32>>,
    m: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    pass: Pass,
}

impl<'a> CpuTrainer<'a> {
    pub(crate) fn new(model: Model, data: &'a Dataset, cfg: &crate::TrainConfig, gemm: Gemm) -> Self {
        let zeros = || -> Vec<Vec<f32>> {
            model.layers.iter().flat_map(|l| [vec![0.0; l.weight.len()], vec![0.0; l.bias.len()]]).collect()
        };
        let steps = cfg.epochs * data.rows.div_ceil(cfg.batch_size);
        CpuTrainer {
            grads: zeros(),
            m: zeros(),
            v: zeros(),
            pass: Pass::new(&model, cfg.batch_size.min(data.rows)),
            data,
            gemm,
            batch: cfg.batch_size,
            params: cfg.optimizer.params(cfg.weight_decay),
            is_adam: matches!(cfg.optimizer, crate::Optimizer::Adam { .. }),
            corrections: cfg.optimizer.bias_corrections(steps),
            step: 0,
            model,
        }
    }

    fn update(&mut self) {
        let tensors = self.model.layers.iter_mut().flat_map(|l| [&mut l.weight, &mut l.bias]);
        for (i, w) in tensors.enumerate() {
            if self.is_adam {
                let [c1, c2] = self.corrections[self.step];
                reference::adam(&self.params, c1, c2, w, &self.grads[i], &mut self.m[i], &mut self.v[i]);
            } else {
                reference::sgd(&self.params, w, &self.grads[i], &mut self.m[i]);
            }
        }
        self.step += 1;
    }
}

impl Trainer for CpuTrainer<'_> {
    fn chunks(&self) -> Vec<Range<usize>> {
        std::iter::once(0..self.data.rows).collect()
    }

    fn run_epoch(&mut self, schedule: &EpochSchedule) -> Result<(f64, u64)> {
        let (mut loss, mut correct) = (0.0f64, 0u64);
        let act = self.model.spec.activation();
        for (_, perm) in &schedule.chunks {
            for batch in perm.chunks(self.batch) {
                let rows = self.pass.gather(&self.model, self.data, batch.iter().map(|&i| i as usize));
                self.pass.forward(&self.model, self.gemm, rows);
                loss += self.pass.loss[..rows].iter().map(|&l| l as f64).sum::<f64>();
                correct += self.pass.correct[..rows].iter().map(|&c| c as u64).sum::<u64>();
                self.pass.backward(&self.model, self.gemm, rows, act, &mut self.grads);
                self.update();
            }
        }
        Ok((loss, correct))
    }

    fn weights(&mut self) -> Result<Model> {
        Ok(self.model.clone())
    }
}

/// Trains on the CPU with `gemm` as the matrix multiply (the engine's CPU reference uses
/// [`reference::matmul`]; the benchmark's baseline an optimized GEMM).
pub fn train(
    data: &Dataset,
    spec: &crate::ModelSpec,
    cfg: &crate::TrainConfig,
    gemm: Gemm,
    progress: &mut dyn FnMut(&crate::EpochReport),
) -> Result<Model> {
    let model = crate::train::initial_model(data, spec, cfg)?;
    let mut trainer = CpuTrainer::new(model, data, cfg, gemm);
    crate::train::drive(&mut trainer, data, cfg, progress)
}

/// Rows per evaluation batch (on both backends; the per-row results do not depend on it).
pub(crate) const EVAL_BATCH: usize = 1024;

/// Evaluates on the CPU (the caller checks that the model fits the data): per-row losses summed with the device's tree order, and the number of
/// rows whose argmax is the label.
pub fn evaluate(model: &Model, data: &Dataset, gemm: Gemm) -> (f32, u64) {
    let capacity = EVAL_BATCH.min(data.rows);
    let mut pass = Pass::new(model, capacity);
    let mut losses = Vec::with_capacity(data.rows);
    let mut correct = 0u64;
    for start in (0..data.rows).step_by(capacity) {
        let rows = pass.gather(model, data, start..(start + capacity).min(data.rows));
        pass.forward(model, gemm, rows);
        losses.extend_from_slice(&pass.loss[..rows]);
        correct += pass.correct[..rows].iter().map(|&c| c as u64).sum::<u64>();
    }
    (reference::tree_sum(&losses), correct)
}
