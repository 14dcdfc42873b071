//! The language model on the device: parameters, gradients and Adam moments in flat buffers (the
//! weights' layout), every activation of a batch in its own buffer, and the forward, backward and
//! optimizer ops recorded once per batch size and replayed each step. A step uploads the batch
//! (tokens, targets, the token sort for the embedding gradient, and the step's learning rate and
//! bias corrections) with `write_buffer` and submits one compute pass; nothing is read back
//! until the caller asks for the loss or the weights.
//!
//! What grows past one storage binding at GPT-2 size is split (see `kernels::lm_head` and
//! attention.wgsl): the head's logits run in chunks of rows through one reused buffer, a token
//! table past the limit is read (and its gradient written) in blocks, the attention probabilities
//! of a layer are held in chunks of (sequence, head) pairs, and AdamW and the gradient norm run
//! over the parameter vector in ranges (`kernels::clipped_adamw`). Evaluation keeps one set of those chunks for all layers
//! (only the backward pass needs each layer's). The other activations are [positions, 4d] at
//! most, which [`max_batch`] keeps within a binding.

use std::collections::HashMap;

use crate::device::Gpu;
use crate::kernels::{
    self as k, AdamWParams, AttnShape, EmbedShape, HeadGrads, HeadPlan, HeadTensors, MatmulShape, NormTensors, Op,
    Slice,
};
use crate::model::Activation;
use crate::{Error, Result};

use super::lora::{LoraAdapter, LoraTarget};
use super::reference::token_segments;
use super::spec::GptSpec;
use super::weights::GptWeights;

/// Refuses device training of `w` where its parameter vector (and so its gradient and moments)
/// would outgrow the largest buffer the device makes: nothing else a step allocates is as large, and
/// every tensor past one storage binding is bound in ranges or blocks.
pub(crate) fn check_trainable(gpu: &Gpu, w: &GptWeights) -> Result<()> {
    let bytes = (w.layout.len * 4) as u64;
    let limit = gpu.adapter().max_buffer_size;
    if bytes <= limit {
        return Ok(());
    }
    Err(Error::Config(format!(
        "training {} on {} needs its parameters ({bytes} bytes) in one buffer, past the device's largest \
         ({limit} bytes); train a smaller model, or an adapter over it (finetune_lora)",
        w.spec,
        gpu.adapter().name,
    )))
}

/// The most sequences of `t` tokens a device batch of `spec` holds with each activation
/// ([positions, 4d] the widest) within one storage binding of `gpu`; at least 1.
pub(crate) fn max_batch(gpu: &Gpu, spec: &GptSpec, t: usize) -> usize {
    let widest = (t * 4 * spec.d * 4) as u64;
    ((gpu.chunk_bytes() / widest) as usize).max(1)
}

/// One block's activations.
struct BlockBufs {
    mean1: wgpu::Buffer,
    rstd1: wgpu::Buffer,
    h1: wgpu::Buffer,
    qkv: wgpu::Buffer,
    o: wgpu::Buffer,
    x_mid: wgpu::Buffer,
    mean2: wgpu::Buffer,
    rstd2: wgpu::Buffer,
    h2: wgpu::Buffer,
    f: wgpu::Buffer,
    g: wgpu::Buffer,
}

/// What only training needs.
struct Optim {
    params: AdamWParams,
    grads: wgpu::Buffer,
    m: wgpu::Buffer,
    v: wgpu::Buffer,
    /// Two ping-pong buffers for the squared-norm levels.
    partial: [wgpu::Buffer; 2],
    /// (lr, c1, c2) of the current step.
    step: wgpu::Buffer,
    /// Backward scratch: the residual stream's gradient, a LayerNorm's output gradient, the
    /// attention output's, the MLP hidden layer's, the scores', the fused projection's.
    dx: wgpu::Buffer,
    dh: wgpu::Buffer,
    dout: wgpu::Buffer,
    dg: wgpu::Buffer,
    /// One chunk of the scores' gradient (see `attn_pairs`).
    ds: wgpu::Buffer,
    dqkv: wgpu::Buffer,
    order: wgpu::Buffer,
    starts: wgpu::Buffer,
}

/// A LoRA adapter being trained over the frozen base: its matrices, each module's saved
/// s x Aᵀ, scratch, and the loss mask's row scales. The optimizer state ([`Optim`]'s grads, m, v)
/// is then the adapter's.
struct LoraBufs {
    adapter: LoraAdapter,
    params: wgpu::Buffer,
    /// Per module (in `adapter.modules` order), s x Aᵀ [N, r].
    us: Vec<wgpu::Buffer>,
    /// x Aᵀ, dy B and s dy B, [N, r] each.
    u: wgpu::Buffer,
    dv: wgpu::Buffer,
    dvs: wgpu::Buffer,
    /// (s x Aᵀ) Bᵀ or (s dy B) A: [N, 4d] at most.
    z: wgpu::Buffer,
    row_scale: wgpu::Buffer,
}

pub(crate) struct DeviceModel<'g> {
    gpu: &'g Gpu,
    weights: GptWeights,
    /// Sequences per batch at most, and tokens per sequence.
    capacity: usize,
    t: usize,
    params: wgpu::Buffer,
    tokens: wgpu::Buffer,
    targets: wgpu::Buffer,
    /// resid[0] is the embedding, resid[l + 1] block l's output.
    resid: Vec<wgpu::Buffer>,
    blocks: Vec<BlockBufs>,
    /// Per layer (one set shared by all layers when evaluating), the attention probabilities in
    /// chunks of `attn_pairs` (sequence, head) pairs.
    probs: Vec<Vec<wgpu::Buffer>>,
    attn_pairs: usize,
    head: HeadPlan,
    z: wgpu::Buffer,
    mean_f: wgpu::Buffer,
    rstd_f: wgpu::Buffer,
    hf: wgpu::Buffer,
    /// One row chunk of logits (the gradient in place when training).
    logits: wgpu::Buffer,
    row_loss: wgpu::Buffer,
    optim: Option<Optim>,
    lora: Option<LoraBufs>,
    /// Ops per batch size: forward + loss, then (training) backward + optimizer.
    ops: HashMap<usize, Vec<Op>>,
}

fn whole(buffer: &wgpu::Buffer) -> Slice<'_> {
    Slice::new(buffer, 0, (buffer.size() / 4) as usize)
}

impl<'g> DeviceModel<'g> {
    /// Buffers for batches of up to `capacity` sequences of `t` tokens; `train` adds gradients,
    /// moments and the backward scratch.
    pub(crate) fn new(
        gpu: &'g Gpu,
        weights: GptWeights,
        capacity: usize,
        t: usize,
        train: Option<AdamWParams>,
    ) -> Self {
        Self::with_lora(gpu, weights, None, capacity, t, train)
    }

    /// [`Self::new`] with an adapter: training then steps the adapter only (the base is frozen:
    /// no weight gradients are computed for it) on a loss masked by the step's row scales.
    pub(crate) fn with_lora(
        gpu: &'g Gpu,
        weights: GptWeights,
        adapter: Option<LoraAdapter>,
        capacity: usize,
        t: usize,
        train: Option<AdamWParams>,
    ) -> Self {
        let s = weights.spec;
        let (d, n) = (s.d, capacity * t);
        let f = |label: &str, floats: usize| gpu.storage_zeroed(label, (floats * 4) as u64);
        let attn_pairs = AttnShape::new(capacity, t, s.heads, s.head_dim()).pairs_within(gpu.chunk_bytes());
        let scores = attn_pairs * t * t;
        let head = HeadPlan::new(n, d, s.vocab, gpu.chunk_bytes());
        let attn_chunks = (capacity * s.heads).div_ceil(attn_pairs);
        let layer_probs = |_: usize| (0..attn_chunks).map(|_| f("attention", scores)).collect();
        let probs = if train.is_some() { (0..s.layers).map(layer_probs).collect() } else { vec![layer_probs(0)] };
        let len = adapter.as_ref().map_or(weights.layout.len, LoraAdapter::len);
        let lora = adapter.map(|adapter| {
            let r = adapter.config.r;
            LoraBufs {
                params: gpu.storage_init("lora params", bytemuck::cast_slice(&adapter.params)),
                us: adapter.modules.iter().map(|_| f("lora us", n * r)).collect(),
                u: f("lora u", n * r),
                dv: f("lora dv", n * r),
                dvs: f("lora dvs", n * r),
                z: f("lora z", n * 4 * d),
                row_scale: f("row scale", n),
                adapter,
            }
        });
        let optim = train.map(|params| Optim {
            params,
            grads: f("grads", len),
            m: f("moment1", len),
            v: f("moment2", len),
            partial: [f("norm partials", k::sum_squares_split(len).0), f("norm partials", k::sum_squares_split(len).0)],
            step: f("step", 4),
            dx: f("dx", n * d),
            dh: f("dh", n * d),
            dout: f("dout", n * d),
            dg: f("dg", n * 4 * d),
            ds: f("ds", scores),
            dqkv: f("dqkv", n * 3 * d),
            order: f("order", n),
            starts: f("starts", s.vocab + 1),
        });
        DeviceModel {
            gpu,
            capacity,
            t,
            params: gpu.storage_init("params", bytemuck::cast_slice(&weights.params)),
            tokens: f("tokens", n),
            targets: f("targets", n),
            resid: (0..=s.layers).map(|_| f("residual", n * d)).collect(),
            blocks: (0..s.layers)
                .map(|_| BlockBufs {
                    mean1: f("mean1", n),
                    rstd1: f("rstd1", n),
                    h1: f("h1", n * d),
                    qkv: f("qkv", n * 3 * d),
                    o: f("attention out", n * d),
                    x_mid: f("x mid", n * d),
                    mean2: f("mean2", n),
                    rstd2: f("rstd2", n),
                    h2: f("h2", n * d),
                    f: f("mlp pre", n * 4 * d),
                    g: f("mlp gelu", n * 4 * d),
                })
                .collect(),
            probs,
            attn_pairs,
            head,
            z: f("projection", n * d),
            mean_f: f("mean f", n),
            rstd_f: f("rstd f", n),
            hf: f("hf", n * d),
            logits: f("logits", head.rows.min(n) * s.vocab),
            row_loss: f("row loss", n),
            optim,
            lora,
            ops: HashMap::new(),
            weights,
        }
    }

    fn build(&self, b: usize) -> Vec<Op> {
        let (gpu, variant) = (self.gpu, self.gpu.matmul_variant());
        let s = self.weights.spec;
        let l = &self.weights.layout;
        let (d, t, v) = (s.d, self.t, s.vocab);
        let n = b * self.t;
        let w = |r: &std::ops::Range<usize>| Slice::new(&self.params, r.start, r.len());
        let mm = |shape: MatmulShape, a: Slice, bm: Slice, c: Slice| k::matmul(gpu, variant, shape, a, bm, c);
        let attn = AttnShape::new(b, t, s.heads, s.head_dim()).chunks(self.attn_pairs);
        let probs = |layer: usize| &self.probs[layer.min(self.probs.len() - 1)];
        let emb = EmbedShape { b, t, d, vocab: v, ctx: s.ctx };
        let mut ops: Vec<Op> = self
            .head
            .blocks(v)
            .map(|block| {
                let table = Slice::new(&self.params, l.wte.start + block.start * d, block.len() * d);
                k::embed(gpu, emb, block, whole(&self.tokens), table, w(&l.wpe), whole(&self.resid[0]))
            })
            .collect();
        // The adapter's module for (layer, target): its index, A and B.
        let lora_module = |layer: usize, target: LoraTarget| {
            let lb = self.lora.as_ref()?;
            let i = lb.adapter.modules.iter().position(|m| m.layer == layer && m.target == target)?;
            Some((lb, i))
        };
        // y += (s x Aᵀ) Bᵀ, keeping s x Aᵀ: reference::lora_forward's steps.
        let lora_forward = |ops: &mut Vec<Op>, layer: usize, target: LoraTarget, x: Slice, y: Slice| {
            let Some((lb, i)) = lora_module(layer, target) else { return };
            let m = &lb.adapter.modules[i];
            let r = lb.adapter.config.r;
            let p = |range: &std::ops::Range<usize>| Slice::new(&lb.params, range.start, range.len());
            let z = Slice::new(&lb.z, 0, n * m.fan_out);
            ops.extend([
                mm(MatmulShape::nt(n, m.fan_in, r), x, p(&m.a), whole(&lb.u)),
                k::scale_add(gpu, n * r, lb.adapter.config.scale(), false, whole(&lb.u), whole(&lb.us[i])),
                mm(MatmulShape::nt(n, r, m.fan_out), whole(&lb.us[i]), p(&m.b), z),
                k::scale_add(gpu, n * m.fan_out, 1.0, true, z, y),
            ]);
        };
        for (i, (bl, a)) in l.blocks.iter().zip(&self.blocks).enumerate() {
            let norm1 = NormTensors {
                x: whole(&self.resid[i]),
                w: w(&bl.ln_1_w),
                mean: whole(&a.mean1),
                rstd: whole(&a.rstd1),
            };
            let norm2 =
                NormTensors { x: whole(&a.x_mid), w: w(&bl.ln_2_w), mean: whole(&a.mean2), rstd: whole(&a.rstd2) };
            ops.extend([
                k::layernorm(gpu, n, d, s.eps, norm1, w(&bl.ln_1_b), whole(&a.h1)),
                mm(MatmulShape::nn(n, d, 3 * d), whole(&a.h1), w(&bl.attn_w), whole(&a.qkv)),
            ]);
            lora_forward(&mut ops, i, LoraTarget::AttnQkv, whole(&a.h1), whole(&a.qkv));
            ops.push(k::bias_add(gpu, n, 3 * d, w(&bl.attn_b), whole(&a.qkv)));
            for (chunk, p) in attn.iter().zip(probs(i)) {
                ops.push(k::attn_softmax(gpu, *chunk, whole(&a.qkv), whole(p)));
                ops.push(k::attn_apply(gpu, *chunk, whole(&a.qkv), whole(p), whole(&a.o)));
            }
            ops.push(mm(MatmulShape::nn(n, d, d), whole(&a.o), w(&bl.proj_w), whole(&self.z)));
            lora_forward(&mut ops, i, LoraTarget::AttnProj, whole(&a.o), whole(&self.z));
            ops.extend([
                k::bias_residual(gpu, n, d, whole(&self.resid[i]), whole(&self.z), w(&bl.proj_b), whole(&a.x_mid)),
                k::layernorm(gpu, n, d, s.eps, norm2, w(&bl.ln_2_b), whole(&a.h2)),
                mm(MatmulShape::nn(n, d, 4 * d), whole(&a.h2), w(&bl.fc_w), whole(&a.f)),
            ]);
            lora_forward(&mut ops, i, LoraTarget::MlpFc, whole(&a.h2), whole(&a.f));
            ops.extend([
                k::bias_act(gpu, n, 4 * d, Some(Activation::Gelu), w(&bl.fc_b), whole(&a.f), whole(&a.g)),
                mm(MatmulShape::nn(n, 4 * d, d), whole(&a.g), w(&bl.mlp_proj_w), whole(&self.z)),
            ]);
            lora_forward(&mut ops, i, LoraTarget::MlpProj, whole(&a.g), whole(&self.z));
            ops.push(k::bias_residual(
                gpu,
                n,
                d,
                whole(&a.x_mid),
                whole(&self.z),
                w(&bl.mlp_proj_b),
                whole(&self.resid[i + 1]),
            ));
        }
        let x_out = whole(&self.resid[s.layers]);
        let norm_f = NormTensors { x: x_out, w: w(&l.ln_f_w), mean: whole(&self.mean_f), rstd: whole(&self.rstd_f) };
        ops.push(k::layernorm(gpu, n, d, s.eps, norm_f, w(&l.ln_f_b), whole(&self.hf)));
        // With an adapter the base is frozen: no base weight gradients, the adapter's instead.
        let frozen = self.lora.is_some();
        let head_grads = self.optim.as_ref().map(|o| HeadGrads {
            dh: &o.dh,
            dwte: (!frozen).then(|| Slice::new(&o.grads, l.wte.start, l.wte.len())),
            row_scale: self.lora.as_ref().map(|lb| &lb.row_scale),
        });
        let head = HeadTensors {
            hf: &self.hf,
            wte: w(&l.wte),
            targets: whole(&self.targets),
            row_loss: whole(&self.row_loss),
            logits: &self.logits,
        };
        ops.extend(k::lm_head(gpu, variant, self.head, n, d, v, head, head_grads));
        let Some(o) = &self.optim else { return ops };
        let g = |r: &std::ops::Range<usize>| Slice::new(&o.grads, r.start, r.len());
        // The adapter's gradients and dx += (s dy B) A: reference::lora_backward's steps.
        let lora_backward = |ops: &mut Vec<Op>, layer: usize, target: LoraTarget, x: Slice, dy: Slice, dx: Slice| {
            let Some((lb, i)) = lora_module(layer, target) else { return };
            let m = &lb.adapter.modules[i];
            let r = lb.adapter.config.r;
            let p = |range: &std::ops::Range<usize>| Slice::new(&lb.params, range.start, range.len());
            let z = Slice::new(&lb.z, 0, n * m.fan_in);
            ops.extend([
                mm(MatmulShape::tn(m.fan_out, n, r), dy, whole(&lb.us[i]), g(&m.b)),
                mm(MatmulShape::nn(n, m.fan_out, r), dy, p(&m.b), whole(&lb.dv)),
                k::scale_add(gpu, n * r, lb.adapter.config.scale(), false, whole(&lb.dv), whole(&lb.dvs)),
                mm(MatmulShape::tn(r, n, m.fan_in), whole(&lb.dvs), x, g(&m.a)),
                mm(MatmulShape::nn(n, r, m.fan_in), whole(&lb.dvs), p(&m.a), z),
                k::scale_add(gpu, n * m.fan_in, 1.0, true, z, dx),
            ]);
        };
        ops.push(k::layernorm_backward(gpu, n, d, norm_f, whole(&o.dh), whole(&o.dx), false));
        if !frozen {
            ops.push(k::layernorm_param_grad(gpu, n, d, norm_f, whole(&o.dh), g(&l.ln_f_w), g(&l.ln_f_b)));
        }
        for (i, (bl, a)) in l.blocks.iter().zip(&self.blocks).enumerate().rev() {
            let norm1 = NormTensors {
                x: whole(&self.resid[i]),
                w: w(&bl.ln_1_w),
                mean: whole(&a.mean1),
                rstd: whole(&a.rstd1),
            };
            let norm2 =
                NormTensors { x: whole(&a.x_mid), w: w(&bl.ln_2_w), mean: whole(&a.mean2), rstd: whole(&a.rstd2) };
            let (dx, dh, dg, dqkv) = (whole(&o.dx), whole(&o.dh), whole(&o.dg), whole(&o.dqkv));
            if !frozen {
                ops.extend([
                    mm(MatmulShape::tn(4 * d, n, d), whole(&a.g), dx, g(&bl.mlp_proj_w)),
                    k::bias_grad(gpu, n, d, dx, g(&bl.mlp_proj_b)),
                ]);
            }
            ops.push(mm(MatmulShape::nt(n, d, 4 * d), dx, w(&bl.mlp_proj_w), dg));
            lora_backward(&mut ops, i, LoraTarget::MlpProj, whole(&a.g), dx, dg);
            ops.push(k::act_backward(gpu, n, 4 * d, Some(Activation::Gelu), whole(&a.f), whole(&a.g), dg));
            if !frozen {
                ops.extend([
                    mm(MatmulShape::tn(d, n, 4 * d), whole(&a.h2), dg, g(&bl.fc_w)),
                    k::bias_grad(gpu, n, 4 * d, dg, g(&bl.fc_b)),
                ]);
            }
            ops.push(mm(MatmulShape::nt(n, 4 * d, d), dg, w(&bl.fc_w), dh));
            lora_backward(&mut ops, i, LoraTarget::MlpFc, whole(&a.h2), dg, dh);
            ops.push(k::layernorm_backward(gpu, n, d, norm2, dh, dx, true));
            if !frozen {
                ops.extend([
                    k::layernorm_param_grad(gpu, n, d, norm2, dh, g(&bl.ln_2_w), g(&bl.ln_2_b)),
                    mm(MatmulShape::tn(d, n, d), whole(&a.o), dx, g(&bl.proj_w)),
                    k::bias_grad(gpu, n, d, dx, g(&bl.proj_b)),
                ]);
            }
            ops.push(mm(MatmulShape::nt(n, d, d), dx, w(&bl.proj_w), whole(&o.dout)));
            lora_backward(&mut ops, i, LoraTarget::AttnProj, whole(&a.o), dx, whole(&o.dout));
            for (chunk, p) in attn.iter().zip(probs(i)) {
                let (qkv, p, dout, ds) = (whole(&a.qkv), whole(p), whole(&o.dout), whole(&o.ds));
                ops.push(k::attn_grad_scores(gpu, *chunk, qkv, p, dout, ds));
                ops.push(k::attn_grad_qkv(gpu, *chunk, qkv, p, dout, ds, dqkv));
            }
            if !frozen {
                ops.extend([
                    mm(MatmulShape::tn(d, n, 3 * d), whole(&a.h1), dqkv, g(&bl.attn_w)),
                    k::bias_grad(gpu, n, 3 * d, dqkv, g(&bl.attn_b)),
                ]);
            }
            ops.push(mm(MatmulShape::nt(n, 3 * d, d), dqkv, w(&bl.attn_w), dh));
            lora_backward(&mut ops, i, LoraTarget::AttnQkv, whole(&a.h1), dqkv, dh);
            ops.push(k::layernorm_backward(gpu, n, d, norm1, dh, dx, true));
            if !frozen {
                ops.push(k::layernorm_param_grad(gpu, n, d, norm1, dh, g(&bl.ln_1_w), g(&bl.ln_1_b)));
            }
        }
        if !frozen {
            ops.push(k::embed_pos_grad(gpu, emb, whole(&o.dx), g(&l.wpe)));
            for block in self.head.blocks(v) {
                let rows = l.wte.start + block.start * d..l.wte.start + block.end * d;
                ops.push(k::embed_token_grad(
                    gpu,
                    emb,
                    block,
                    whole(&o.order),
                    whole(&o.starts),
                    whole(&o.dx),
                    g(&rows),
                ));
            }
        }
        // Adapters take no weight decay.
        let (decay_len, params) = match &self.lora {
            Some(lb) => (0, whole(&lb.params)),
            None => (l.decay_len, whole(&self.params)),
        };
        let optimizer = k::AdamWTensors {
            w: params,
            grad: Slice::new(&o.grads, 0, params.len),
            m: whole(&o.m),
            v: whole(&o.v),
            partial: [&o.partial[0], &o.partial[1]],
            step: whole(&o.step),
        };
        ops.extend(k::clipped_adamw(gpu, &o.params, decay_len, gpu.chunk_bytes(), optimizer).0);
        ops
    }

    /// Uploads a batch of `tokens.len() / t` sequences and records its ops; `step` is (lr, c1,
    /// c2) when training. Submits without waiting.
    fn submit(&mut self, tokens: &[u32], targets: &[u32], step: Option<[f32; 3]>) {
        let b = tokens.len() / self.t;
        assert!(b >= 1 && b <= self.capacity && b * self.t == tokens.len() && targets.len() == tokens.len());
        if !self.ops.contains_key(&b) {
            let ops = self.build(b);
            self.ops.insert(b, ops);
        }
        let q = &self.gpu.queue;
        q.write_buffer(&self.tokens, 0, bytemuck::cast_slice(tokens));
        q.write_buffer(&self.targets, 0, bytemuck::cast_slice(targets));
        if let (Some(o), Some(step)) = (&self.optim, step) {
            let (order, starts) = token_segments(tokens, self.weights.spec.vocab);
            q.write_buffer(&o.order, 0, bytemuck::cast_slice(&order));
            q.write_buffer(&o.starts, 0, bytemuck::cast_slice(&starts));
            q.write_buffer(&o.step, 0, bytemuck::cast_slice(&step));
        }
        let mut encoder = self.gpu.encoder();
        k::record(&mut encoder, &self.ops[&b].iter().collect::<Vec<_>>());
        self.gpu.submit(encoder);
    }

    /// One training step of the adapter on a batch, counting the targets where `mask` is 1 (the
    /// model must have been built with an adapter and `train`).
    pub(crate) fn lora_step(&mut self, tokens: &[u32], targets: &[u32], mask: &[u8], lr: f32, c1: f32, c2: f32) {
        let lb = self.lora.as_ref().expect("an adapter step on a model without one");
        let counted = mask.iter().filter(|&&m| m != 0).count();
        // As reference::mask_dlogits: rows / counted on the counted rows, 0 elsewhere.
        let factor = if counted == 0 { 0.0 } else { mask.len() as f32 / counted as f32 };
        let scales: Vec<f32> = mask.iter().map(|&m| if m != 0 { factor } else { 0.0 }).collect();
        self.gpu.queue.write_buffer(&lb.row_scale, 0, bytemuck::cast_slice(&scales));
        self.submit(tokens, targets, Some([lr, c1, c2]));
    }

    /// The adapter's current matrices.
    pub(crate) fn adapter(&self) -> Result<LoraAdapter> {
        let lb = self.lora.as_ref().expect("an adapter model");
        let mut a = lb.adapter.clone();
        a.params = self.gpu.read(&lb.params, 0, a.len())?;
        Ok(a)
    }

    /// One training step on a batch; the model must have been built with `train`.
    pub(crate) fn train_step(&mut self, tokens: &[u32], targets: &[u32], lr: f32, c1: f32, c2: f32) {
        assert!(self.optim.is_some(), "a training step on a model built for evaluation");
        self.submit(tokens, targets, Some([lr, c1, c2]));
    }

    /// The forward pass and each position's loss, on a model built without `train` (a training
    /// model's ops would also step the weights).
    pub(crate) fn row_losses(&mut self, tokens: &[u32], targets: &[u32]) -> Result<Vec<f32>> {
        assert!(self.optim.is_none(), "evaluation on a training model would also step it");
        self.submit(tokens, targets, None);
        self.gpu.read(&self.row_loss, 0, tokens.len())
    }

    /// The last batch's per-position losses (waits for the device).
    pub(crate) fn last_losses(&self, positions: usize) -> Result<Vec<f32>> {
        self.gpu.read(&self.row_loss, 0, positions)
    }

    /// The last step's gradient (tests compare it with the CPU reference).
    pub(crate) fn gradients(&self) -> Result<Vec<f32>> {
        let o = self.optim.as_ref().expect("gradients of a training model");
        let len = self.lora.as_ref().map_or(self.weights.layout.len, |lb| lb.adapter.len());
        self.gpu.read(&o.grads, 0, len)
    }

    /// The current parameters.
    pub(crate) fn weights(&self) -> Result<GptWeights> {
        let mut w = self.weights.clone();
        w.params = self.gpu.read(&self.params, 0, w.layout.len)?;
        Ok(w)
    }
}
