//! Training and evaluation on the device: the data, the weights and every intermediate live in
//! storage buffers; a whole chunk of an epoch (every batch's gather, forward, loss, backward,
//! optimizer step and step-counter advance) is recorded into one compute pass and one submission.
//! Nothing is read back until the epoch ends.

use std::collections::HashMap;
use std::ops::Range;

use crate::cpu::EVAL_BATCH;
use crate::data::{Dataset, Features};
use crate::device::Gpu;
use crate::kernels::{self, GatherShape, MatmulShape, MatmulVariant, Op, OptimizerParams, Slice};
use crate::model::{Dense, Model};
use crate::train::{steps_per_epoch, EpochSchedule, Optimizer, TrainConfig, Trainer};
use crate::{Error, Result};

/// Tensors start at multiples of 64 floats (256 bytes), the largest storage-offset alignment an
/// adapter may require, so each can be bound on its own.
const ALIGN: usize = 64;

/// One chunk of the dataset on the device: whole rows, within one storage binding.
struct Chunk {
    rows: Range<usize>,
    features: wgpu::Buffer,
    labels: wgpu::Buffer,
    perm: wgpu::Buffer,
}

/// Splits `rows` rows of `row_bytes` bytes into chunks of at most `max_bytes` (minus the 4 bytes
/// the u8 packing may round up to).
fn chunk_ranges(rows: usize, row_bytes: usize, max_bytes: u64) -> Result<Vec<Range<usize>>> {
    let per_chunk = (max_bytes.saturating_sub(4) / row_bytes as u64) as usize;
    if per_chunk == 0 {
        return Err(Error::Gpu(format!(
            "one row of the data ({row_bytes} bytes) exceeds the device's storage binding ({max_bytes} bytes)"
        )));
    }
    Ok((0..rows).step_by(per_chunk).map(|s| s..(s + per_chunk).min(rows)).collect())
}

fn upload_chunks(gpu: &Gpu, data: &Dataset) -> Result<Vec<Chunk>> {
    let ranges = chunk_ranges(data.rows, data.cols * data.features.value_bytes(), gpu.chunk_bytes())?;
    Ok(ranges
        .into_iter()
        .map(|rows| {
            let (a, b) = (rows.start * data.cols, rows.end * data.cols);
            let features = match &data.features {
                Features::U8(v) => gpu.storage_init("features", &v[a..b]),
                Features::F32(v) => gpu.storage_init("features", bytemuck::cast_slice(&v[a..b])),
            };
            let labels = gpu.storage_init("labels", bytemuck::cast_slice(&data.labels[rows.clone()]));
            let perm = gpu.storage_zeroed("perm", (rows.len() * 4) as u64);
            Chunk { rows, features, labels, perm }
        })
        .collect())
}

/// Where each layer's weight and bias start in the flat parameter buffer.
fn layout(layers: &[Dense]) -> (Vec<(usize, usize)>, usize) {
    let mut at = 0;
    let offsets = layers
        .iter()
        .map(|l| {
            let w = at;
            let b = (w + l.weight.len()).next_multiple_of(ALIGN);
            at = (b + l.bias.len()).next_multiple_of(ALIGN);
            (w, b)
        })
        .collect();
    (offsets, at)
}

/// Buffers of one layer's batch activations.
struct LayerBuffers {
    z: wgpu::Buffer,
    a: wgpu::Buffer,
    d: wgpu::Buffer,
}

/// A model on the device with its data, ready to train or evaluate in batches of `stride` rows.
pub(crate) struct Run<'g> {
    gpu: &'g Gpu,
    variant: MatmulVariant,
    model: Model,
    rows: usize,
    stride: usize,
    packed_u8: bool,
    chunks: Vec<Chunk>,
    offsets: Vec<(usize, usize)>,
    params: wgpu::Buffer,
    grads: wgpu::Buffer,
    m: wgpu::Buffer,
    v: wgpu::Buffer,
    corrections: wgpu::Buffer,
    optimizer: Option<(OptimizerParams, bool)>,
    scaling: wgpu::Buffer,
    state: wgpu::Buffer,
    x: wgpu::Buffer,
    y: wgpu::Buffer,
    layers: Vec<LayerBuffers>,
    row_loss: wgpu::Buffer,
    row_correct: wgpu::Buffer,
    /// Ops for a batch of n rows, built on first use: everything after the gather.
    bodies: HashMap<usize, Vec<Op>>,
    gathers: HashMap<(usize, usize), Op>,
}

impl<'g> Run<'g> {
    /// For training, `train` holds the configuration (optimizer, epochs); `None` evaluates.
    pub(crate) fn new(
        gpu: &'g Gpu,
        model: Model,
        data: &Dataset,
        stride: usize,
        train: Option<&TrainConfig>,
    ) -> Result<Self> {
        let chunks = upload_chunks(gpu, data)?;
        let (optimizer, corrections) = match train {
            Some(cfg) => {
                let steps =
                    cfg.epochs * steps_per_epoch(&chunks.iter().map(|c| c.rows.clone()).collect::<Vec<_>>(), stride);
                let is_adam = matches!(cfg.optimizer, Optimizer::Adam { .. });
                (Some((cfg.optimizer.params(cfg.weight_decay), is_adam)), cfg.optimizer.bias_corrections(steps))
            }
            None => (None, Vec::new()),
        };
        let (offsets, total) = layout(&model.layers);
        let mut flat = vec![0.0f32; total];
        for (l, &(w, b)) in model.layers.iter().zip(&offsets) {
            flat[w..w + l.weight.len()].copy_from_slice(&l.weight);
            flat[b..b + l.bias.len()].copy_from_slice(&l.bias);
        }
        let capacity = stride.min(data.rows);
        let floats = |n: usize| (n * 4) as u64;
        let mut scaling = model.scaling.offset.clone();
        scaling.extend(&model.scaling.scale);
        Ok(Run {
            gpu,
            variant: gpu.matmul_variant(),
            rows: data.rows,
            stride,
            packed_u8: matches!(data.features, Features::U8(_)),
            chunks,
            params: gpu.storage_init("params", bytemuck::cast_slice(&flat)),
            grads: gpu.storage_zeroed("grads", floats(total)),
            m: gpu.storage_zeroed("moment1", floats(total)),
            v: gpu.storage_zeroed("moment2", floats(total)),
            corrections: gpu.storage_init("bias corrections", bytemuck::cast_slice(&corrections)),
            optimizer,
            scaling: gpu.storage_init("scaling", bytemuck::cast_slice(&scaling)),
            state: gpu.storage_zeroed("step state", 16),
            x: gpu.storage_zeroed("x", floats(capacity * model.input_size)),
            y: gpu.storage_zeroed("y", floats(capacity)),
            layers: model
                .layers
                .iter()
                .map(|l| LayerBuffers {
                    z: gpu.storage_zeroed("z", floats(capacity * l.outputs)),
                    a: gpu.storage_zeroed("a", floats(capacity * l.outputs)),
                    d: gpu.storage_zeroed("d", floats(capacity * l.outputs)),
                })
                .collect(),
            row_loss: gpu.storage_zeroed("row loss", floats(data.rows)),
            row_correct: gpu.storage_zeroed("row correct", floats(data.rows)),
            offsets,
            model,
            bodies: HashMap::new(),
            gathers: HashMap::new(),
        })
    }

    fn whole(buffer: &wgpu::Buffer) -> Slice<'_> {
        Slice::new(buffer, 0, (buffer.size() / 4) as usize)
    }

    /// Forward, loss, and (when training) backward, optimizer step; then the step advance.
    fn body(&self, rows: usize) -> Vec<Op> {
        let gpu = self.gpu;
        let w = |l: usize| Slice::new(&self.params, self.offsets[l].0, self.model.layers[l].weight.len());
        let b = |l: usize| Slice::new(&self.params, self.offsets[l].1, self.model.layers[l].bias.len());
        let gw = |l: usize| Slice::new(&self.grads, self.offsets[l].0, self.model.layers[l].weight.len());
        let gb = |l: usize| Slice::new(&self.grads, self.offsets[l].1, self.model.layers[l].bias.len());
        let whole = Self::whole;
        let act = self.model.spec.activation();
        let last = self.model.layers.len() - 1;
        let input = |l: usize| if l == 0 { whole(&self.x) } else { whole(&self.layers[l - 1].a) };
        let mut ops = Vec::new();
        for (l, dense) in self.model.layers.iter().enumerate() {
            let buf = &self.layers[l];
            let shape = MatmulShape::nn(rows, dense.inputs, dense.outputs);
            ops.push(kernels::matmul(gpu, self.variant, shape, input(l), w(l), whole(&buf.z)));
            let f = (l < last).then_some(act);
            ops.push(kernels::bias_act(gpu, rows, dense.outputs, f, b(l), whole(&buf.z), whole(&buf.a)));
        }
        let out = &self.layers[last];
        ops.push(kernels::softmax_xent(
            gpu,
            rows,
            self.model.classes,
            self.stride,
            whole(&out.z),
            whole(&self.y),
            whole(&out.d),
            whole(&self.row_loss),
            whole(&self.row_correct),
            whole(&self.state),
        ));
        if let Some((p, is_adam)) = &self.optimizer {
            for l in (0..=last).rev() {
                let dense = &self.model.layers[l];
                let buf = &self.layers[l];
                if l < last {
                    ops.push(kernels::act_backward(
                        gpu,
                        rows,
                        dense.outputs,
                        Some(act),
                        whole(&buf.z),
                        whole(&buf.a),
                        whole(&buf.d),
                    ));
                }
                let shape = MatmulShape::tn(dense.inputs, rows, dense.outputs);
                ops.push(kernels::matmul(gpu, self.variant, shape, input(l), whole(&buf.d), gw(l)));
                ops.push(kernels::bias_grad(gpu, rows, dense.outputs, whole(&buf.d), gb(l)));
                if l > 0 {
                    let shape = MatmulShape::nt(rows, dense.outputs, dense.inputs);
                    ops.push(kernels::matmul(
                        gpu,
                        self.variant,
                        shape,
                        whole(&buf.d),
                        w(l),
                        whole(&self.layers[l - 1].d),
                    ));
                }
            }
            let all = |b| Self::whole(b);
            ops.push(if *is_adam {
                kernels::adam(
                    gpu,
                    p,
                    all(&self.params),
                    all(&self.grads),
                    all(&self.m),
                    all(&self.v),
                    all(&self.corrections),
                    all(&self.state),
                )
            } else {
                kernels::sgd(gpu, p, all(&self.params), all(&self.grads), all(&self.m))
            });
        }
        ops.push(kernels::advance(gpu, whole(&self.state)));
        ops
    }

    fn gather(&self, chunk: usize, rows: usize) -> Op {
        let c = &self.chunks[chunk];
        let shape =
            GatherShape { rows, cols: self.model.input_size, batch_stride: self.stride, packed_u8: self.packed_u8 };
        let whole = Self::whole;
        kernels::gather(
            self.gpu,
            shape,
            whole(&c.features),
            whole(&c.labels),
            whole(&c.perm),
            whole(&self.scaling),
            whole(&self.state),
            whole(&self.x),
            whole(&self.y),
        )
    }

    /// Runs every batch of each chunk in `order` (with that chunk's row permutation) and leaves
    /// per-row losses and correctness in row_loss / row_correct.
    fn run(&mut self, order: &[(usize, Vec<u32>)]) {
        for (c, perm) in order {
            let len = self.chunks[*c].rows.len();
            let sizes: Vec<usize> = (0..len).step_by(self.stride).map(|s| self.stride.min(len - s)).collect();
            for &rows in &sizes {
                if !self.bodies.contains_key(&rows) {
                    let ops = self.body(rows);
                    self.bodies.insert(rows, ops);
                }
                if !self.gathers.contains_key(&(*c, rows)) {
                    let op = self.gather(*c, rows);
                    self.gathers.insert((*c, rows), op);
                }
            }
            let chunk = &self.chunks[*c];
            self.gpu.queue.write_buffer(&chunk.perm, 0, bytemuck::cast_slice(perm));
            // batch = 0, row_base = the chunk's first row; the step counter carries on.
            self.gpu.queue.write_buffer(&self.state, 0, bytemuck::cast_slice(&[0u32, chunk.rows.start as u32]));
            let mut encoder = self.gpu.encoder();
            {
                let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("batches"),
                    timestamp_writes: None,
                });
                for rows in sizes {
                    self.gathers[&(*c, rows)].record(&mut pass);
                    for op in &self.bodies[&rows] {
                        op.record(&mut pass);
                    }
                }
            }
            self.gpu.submit(encoder);
        }
    }

    /// Loss sum and correct count over all rows, with the fixed-tree kernels.
    fn reduce(&self) -> Result<(f32, u64)> {
        let gpu = self.gpu;
        let n = self.rows;
        let groups = n.div_ceil(256);
        let scratch =
            |label| [gpu.storage_zeroed(label, (groups * 4) as u64), gpu.storage_zeroed(label, (groups * 4) as u64)];
        let (f, u) = (scratch("loss partials"), scratch("correct partials"));
        let mut ops = Vec::new();
        let (mut len, mut from_f, mut from_u, mut level) =
            (n, Self::whole(&self.row_loss), Self::whole(&self.row_correct), 0);
        loop {
            let out_len = len.div_ceil(256);
            let (to_f, to_u) = (Slice::new(&f[level % 2], 0, out_len), Slice::new(&u[level % 2], 0, out_len));
            ops.push(kernels::sum_f32(gpu, Slice::new(from_f.buffer, 0, len), to_f));
            ops.push(kernels::sum_u32(gpu, Slice::new(from_u.buffer, 0, len), to_u));
            (len, from_f, from_u, level) = (out_len, to_f, to_u, level + 1);
            if len == 1 {
                break;
            }
        }
        let mut encoder = gpu.encoder();
        kernels::record(&mut encoder, &ops.iter().collect::<Vec<_>>());
        gpu.submit(encoder);
        let loss = gpu.read::<f32>(from_f.buffer, 0, 1)?[0];
        let correct = gpu.read::<u32>(from_u.buffer, 0, 1)?[0];
        Ok((loss, correct as u64))
    }

    /// Evaluation: every row once, in order.
    pub(crate) fn evaluate(&mut self) -> Result<(f32, u64)> {
        let order: Vec<(usize, Vec<u32>)> =
            self.chunks.iter().enumerate().map(|(i, c)| (i, (0..c.rows.len() as u32).collect())).collect();
        self.run(&order);
        self.reduce()
    }
}

impl Trainer for Run<'_> {
    fn chunks(&self) -> Vec<Range<usize>> {
        self.chunks.iter().map(|c| c.rows.clone()).collect()
    }

    fn run_epoch(&mut self, schedule: &EpochSchedule) -> Result<(f64, u64)> {
        self.run(&schedule.chunks);
        let loss: Vec<f32> = self.gpu.read(&self.row_loss, 0, self.rows)?;
        let correct: Vec<u32> = self.gpu.read(&self.row_correct, 0, self.rows)?;
        Ok((loss.iter().map(|&l| l as f64).sum(), correct.iter().map(|&c| c as u64).sum()))
    }

    fn weights(&mut self) -> Result<Model> {
        let flat: Vec<f32> = self.gpu.read(&self.params, 0, (self.params.size() / 4) as usize)?;
        let mut model = self.model.clone();
        for (l, &(w, b)) in model.layers.iter_mut().zip(&self.offsets) {
            let (nw, nb) = (l.weight.len(), l.bias.len());
            l.weight.copy_from_slice(&flat[w..w + nw]);
            l.bias.copy_from_slice(&flat[b..b + nb]);
        }
        Ok(model)
    }
}

/// Evaluates `model` on `data` on the device, in batches of [`EVAL_BATCH`] rows.
pub(crate) fn evaluate(gpu: &Gpu, model: &Model, data: &Dataset) -> Result<(f32, u64)> {
    Run::new(gpu, model.clone(), data, EVAL_BATCH, None)?.evaluate()
}
