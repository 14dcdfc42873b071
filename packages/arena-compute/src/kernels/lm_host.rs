//! One-shot runs of the language model's kernels from host slices (upload, dispatch, read back),
//! for the tests that compare them with `lm::reference`.

use super::{AdamWParams, AttnShape, EmbedShape, NormTensors, Op, Slice};
use crate::device::Gpu;
use crate::lm::reference::token_segments;
use crate::lm::GptWeights;
use crate::Result;

fn buf(gpu: &Gpu, data: &[f32]) -> wgpu::Buffer {
    gpu.storage_init("test input", bytemuck::cast_slice(data))
}

fn ubuf(gpu: &Gpu, data: &[u32]) -> wgpu::Buffer {
    gpu.storage_init("test input", bytemuck::cast_slice(data))
}

fn zeros(gpu: &Gpu, n: usize) -> wgpu::Buffer {
    gpu.storage_zeroed("test output", (n * 4) as u64)
}

fn all(buffer: &wgpu::Buffer) -> Slice<'_> {
    Slice::new(buffer, 0, (buffer.size() / 4) as usize)
}

/// What [`Gpu::run_adamw`] leaves: the squared gradient norm and the updated state.
#[derive(Clone, Debug, PartialEq)]
pub struct AdamWRun {
    pub norm_sq: f32,
    pub w: Vec<f32>,
    pub m: Vec<f32>,
    pub v: Vec<f32>,
}

impl Gpu {
    fn run_lm_ops(&self, ops: &[Op]) {
        let mut encoder = self.encoder();
        super::record(&mut encoder, &ops.iter().collect::<Vec<_>>());
        self.submit(encoder);
    }

    /// Token + position embedding of `b` sequences of `t` tokens.
    #[allow(clippy::too_many_arguments)]
    pub fn run_embed(
        &self,
        b: usize,
        t: usize,
        d: usize,
        ctx: usize,
        tokens: &[u32],
        wte: &[f32],
        wpe: &[f32],
    ) -> Result<Vec<f32>> {
        let s = EmbedShape { b, t, d, vocab: wte.len() / d, ctx };
        let (tb, eb, pb, xb) = (ubuf(self, tokens), buf(self, wte), buf(self, wpe), zeros(self, b * t * d));
        self.run_lm_ops(&[super::embed(self, s, 0..s.vocab, all(&tb), all(&eb), all(&pb), all(&xb))]);
        self.read(&xb, 0, b * t * d)
    }

    /// (dwte_in + the token gradient, the position gradient) of dx.
    #[allow(clippy::too_many_arguments)]
    pub fn run_embed_grads(
        &self,
        b: usize,
        t: usize,
        d: usize,
        ctx: usize,
        tokens: &[u32],
        dx: &[f32],
        dwte_in: &[f32],
    ) -> Result<(Vec<f32>, Vec<f32>)> {
        let vocab = dwte_in.len() / d;
        let s = EmbedShape { b, t, d, vocab, ctx };
        let (order, starts) = token_segments(tokens, vocab);
        let (ob, sb, xb) = (ubuf(self, &order), ubuf(self, &starts), buf(self, dx));
        let (wb, pb) = (buf(self, dwte_in), zeros(self, ctx * d));
        self.run_lm_ops(&[
            super::embed_token_grad(self, s, 0..vocab, all(&ob), all(&sb), all(&xb), all(&wb)),
            super::embed_pos_grad(self, s, all(&xb), all(&pb)),
        ]);
        Ok((self.read(&wb, 0, dwte_in.len())?, self.read(&pb, 0, ctx * d)?))
    }

    /// LayerNorm of `rows` rows: (y, mean, rstd).
    pub fn run_layernorm(
        &self,
        d: usize,
        eps: f32,
        x: &[f32],
        w: &[f32],
        bias: &[f32],
    ) -> Result<(Vec<f32>, Vec<f32>, Vec<f32>)> {
        let rows = x.len() / d;
        let (xb, wb, bb) = (buf(self, x), buf(self, w), buf(self, bias));
        let (yb, mb, rb) = (zeros(self, x.len()), zeros(self, rows), zeros(self, rows));
        let n = NormTensors { x: all(&xb), w: all(&wb), mean: all(&mb), rstd: all(&rb) };
        self.run_lm_ops(&[super::layernorm(self, rows, d, eps, n, all(&bb), all(&yb))]);
        Ok((self.read(&yb, 0, x.len())?, self.read(&mb, 0, rows)?, self.read(&rb, 0, rows)?))
    }

    /// LayerNorm's backward: (dx_in (+)= input gradient, dw, db).
    #[allow(clippy::too_many_arguments)]
    pub fn run_layernorm_backward(
        &self,
        d: usize,
        x: &[f32],
        mean: &[f32],
        rstd: &[f32],
        w: &[f32],
        dy: &[f32],
        dx_in: &[f32],
        accumulate: bool,
    ) -> Result<(Vec<f32>, Vec<f32>, Vec<f32>)> {
        let rows = mean.len();
        let (xb, mb, rb, wb) = (buf(self, x), buf(self, mean), buf(self, rstd), buf(self, w));
        let (yb, dxb, dwb, dbb) = (buf(self, dy), buf(self, dx_in), zeros(self, d), zeros(self, d));
        let n = NormTensors { x: all(&xb), w: all(&wb), mean: all(&mb), rstd: all(&rb) };
        self.run_lm_ops(&[
            super::layernorm_backward(self, rows, d, n, all(&yb), all(&dxb), accumulate),
            super::layernorm_param_grad(self, rows, d, n, all(&yb), all(&dwb), all(&dbb)),
        ]);
        Ok((self.read(&dxb, 0, x.len())?, self.read(&dwb, 0, d)?, self.read(&dbb, 0, d)?))
    }

    /// Causal attention: (P, o).
    pub fn run_attention(
        &self,
        b: usize,
        t: usize,
        heads: usize,
        hd: usize,
        qkv: &[f32],
    ) -> Result<(Vec<f32>, Vec<f32>)> {
        let s = AttnShape::new(b, t, heads, hd);
        let (np, no) = (b * heads * t * t, b * t * heads * hd);
        let (qb, pb, ob) = (buf(self, qkv), zeros(self, np), zeros(self, no));
        self.run_lm_ops(&[
            super::attn_softmax(self, s, all(&qb), all(&pb)),
            super::attn_apply(self, s, all(&qb), all(&pb), all(&ob)),
        ]);
        Ok((self.read(&pb, 0, np)?, self.read(&ob, 0, no)?))
    }

    /// The attention's backward pass: (dS, dqkv).
    #[allow(clippy::too_many_arguments)]
    pub fn run_attention_backward(
        &self,
        b: usize,
        t: usize,
        heads: usize,
        hd: usize,
        qkv: &[f32],
        p: &[f32],
        dout: &[f32],
    ) -> Result<(Vec<f32>, Vec<f32>)> {
        let s = AttnShape::new(b, t, heads, hd);
        let (qb, pb, db) = (buf(self, qkv), buf(self, p), buf(self, dout));
        let (sb, gb) = (zeros(self, p.len()), zeros(self, qkv.len()));
        self.run_lm_ops(&[
            super::attn_grad_scores(self, s, all(&qb), all(&pb), all(&db), all(&sb)),
            super::attn_grad_qkv(self, s, all(&qb), all(&pb), all(&db), all(&sb), all(&gb)),
        ]);
        Ok((self.read(&sb, 0, p.len())?, self.read(&gb, 0, qkv.len())?))
    }

    /// Cross-entropy of rows of `vocab` logits against `targets`, one dispatch: (each row's loss,
    /// the gradient of the mean loss).
    pub fn run_vocab_xent(&self, vocab: usize, logits: &[f32], targets: &[u32]) -> Result<(Vec<f32>, Vec<f32>)> {
        let rows = targets.len();
        let (lb, tb, rb) = (buf(self, logits), ubuf(self, targets), zeros(self, rows));
        self.run_lm_ops(&[super::vocab_xent(self, rows, vocab, 0, rows, true, all(&lb), all(&tb), all(&rb))]);
        Ok((self.read(&rb, 0, rows)?, self.read(&lb, 0, logits.len())?))
    }

    /// (z + bias, res + (z + bias)) for rows x cols.
    pub fn run_bias_residual(&self, cols: usize, res: &[f32], z: &[f32], bias: &[f32]) -> Result<(Vec<f32>, Vec<f32>)> {
        let rows = z.len() / cols;
        let (rb, zb, bb, ob) = (buf(self, res), buf(self, z), buf(self, bias), zeros(self, z.len()));
        let (zb2, n) = (buf(self, z), z.len());
        self.run_lm_ops(&[
            super::bias_residual(self, rows, cols, all(&rb), all(&zb), all(&bb), all(&ob)),
            super::bias_add(self, rows, cols, all(&bb), all(&zb2)),
        ]);
        Ok((self.read(&zb2, 0, n)?, self.read(&ob, 0, n)?))
    }

    /// The squared norm of `grad` as training computes it, then one AdamW step with it.
    #[allow(clippy::too_many_arguments)]
    pub fn run_adamw(
        &self,
        p: &AdamWParams,
        step: [f32; 3],
        decay_len: usize,
        w: &[f32],
        grad: &[f32],
        m: &[f32],
        v: &[f32],
    ) -> Result<AdamWRun> {
        let n = w.len();
        let (wb, gb, mb, vb, sb) = (buf(self, w), buf(self, grad), buf(self, m), buf(self, v), buf(self, &step));
        let groups = super::sum_squares_split(n).0;
        let partial = [zeros(self, groups), zeros(self, groups)];
        let x = super::AdamWTensors {
            w: all(&wb),
            grad: all(&gb),
            m: all(&mb),
            v: all(&vb),
            partial: [&partial[0], &partial[1]],
            step: all(&sb),
        };
        let (ops, norm) = super::clipped_adamw(self, p, decay_len, self.chunk_bytes(), x);
        self.run_lm_ops(&ops);
        let norm_sq = self.read::<f32>(norm.buffer, norm.offset, 1)?[0];
        Ok(AdamWRun { norm_sq, w: self.read(&wb, 0, n)?, m: self.read(&mb, 0, n)?, v: self.read(&vb, 0, n)? })
    }

    /// The forward pass and each position's loss of `tokens.len() / t` sequences on the device
    /// (an evaluation model: logits in row chunks, attention in pair chunks, as `evaluate_lm`).
    pub fn run_lm_losses(&self, w: &GptWeights, t: usize, tokens: &[u32], targets: &[u32]) -> Result<Vec<f32>> {
        crate::lm::DeviceModel::new(self, w.clone(), tokens.len() / t, t, None).row_losses(tokens, targets)
    }

    /// One whole training step of a language model on the device (forward, loss, backward,
    /// clipping, AdamW): (per-position losses, gradients, updated weights).
    #[allow(clippy::too_many_arguments)]
    pub fn run_lm_step(
        &self,
        w: &GptWeights,
        t: usize,
        tokens: &[u32],
        targets: &[u32],
        p: &AdamWParams,
        step: [f32; 3],
    ) -> Result<(Vec<f32>, Vec<f32>, GptWeights)> {
        let mut model = crate::lm::DeviceModel::new(self, w.clone(), tokens.len() / t, t, Some(*p));
        model.train_step(tokens, targets, step[0], step[1], step[2]);
        Ok((model.last_losses(tokens.len())?, model.gradients()?, model.weights()?))
    }
}
