//! The CPU reference of the language model: every kernel of the forward and backward pass as plain
//! loops in the kernels' summation order, and the whole forward, loss and backward composed from
//! them (with the classifier's reference matmul, bias + GELU and softmax cross-entropy, which the
//! model shares). The kernel tests compare each kernel with its function here; the tests of this
//! module check the composed backward against finite differences of the composed forward.
//!
//! Shapes: a batch is `b` sequences of `t` tokens, N = b t rows; activations are row-major
//! [N, width]. The attention probabilities and their gradient are [b, heads, t, t].

use crate::kernels::{AdamWParams, MatmulShape, SUM_SQUARES_GROUPS};
use crate::model::Activation;
use crate::reference::{self as base, matmul};

use super::lora::{LoraAdapter, LoraModule, LoraTarget};
use super::weights::GptWeights;

/// x[n] = wte[tokens[n]] + wpe[n mod t].
pub fn embed(d: usize, t: usize, tokens: &[u32], wte: &[f32], wpe: &[f32], x: &mut [f32]) {
    for (n, &tok) in tokens.iter().enumerate() {
        let (e, p) = (tok as usize * d, (n % t) * d);
        for c in 0..d {
            x[n * d + c] = wte[e + c] + wpe[p + c];
        }
    }
}

/// The batch's positions grouped by token, for the embedding gradient's gather: `order` lists
/// positions by token id, each token's in increasing position; token v's are
/// `order[starts[v]..starts[v + 1]]`. A counting sort: deterministic, no atomics needed anywhere.
pub fn token_segments(tokens: &[u32], vocab: usize) -> (Vec<u32>, Vec<u32>) {
    let mut starts = vec![0u32; vocab + 1];
    for &tok in tokens {
        starts[tok as usize + 1] += 1;
    }
    for v in 0..vocab {
        starts[v + 1] += starts[v];
    }
    let mut next = starts.clone();
    let mut order = vec![0u32; tokens.len()];
    for (n, &tok) in tokens.iter().enumerate() {
        order[next[tok as usize] as usize] = n as u32;
        next[tok as usize] += 1;
    }
    (order, starts)
}

/// dwte[v] += sum of dx[n] over the positions n holding token v, in increasing n.
pub fn embed_token_grad(d: usize, order: &[u32], starts: &[u32], dx: &[f32], dwte: &mut [f32]) {
    for v in 0..starts.len() - 1 {
        for c in 0..d {
            let mut s = 0.0f32;
            for &n in &order[starts[v] as usize..starts[v + 1] as usize] {
                s += dx[n as usize * d + c];
            }
            dwte[v * d + c] += s;
        }
    }
}

/// dwpe[p] = sum over sequences s = 0, 1, ... of dx[s t + p] for p < t; 0 for the positions past t.
pub fn embed_pos_grad(d: usize, b: usize, t: usize, dx: &[f32], dwpe: &mut [f32]) {
    for (i, out) in dwpe.iter_mut().enumerate() {
        let (p, c) = (i / d, i % d);
        let mut s = 0.0f32;
        if p < t {
            for seq in 0..b {
                s += dx[(seq * t + p) * d + c];
            }
        }
        *out = s;
    }
}

/// y = (x - mean) * rstd * w + bias per row, with mean and rstd = 1 / sqrt(var + eps) kept for the
/// backward pass (two passes over the row: mean, then the centered variance).
#[allow(clippy::too_many_arguments)]
pub fn layernorm(
    d: usize,
    eps: f32,
    x: &[f32],
    w: &[f32],
    bias: &[f32],
    y: &mut [f32],
    mean: &mut [f32],
    rstd: &mut [f32],
) {
    for r in 0..mean.len() {
        let row = &x[r * d..(r + 1) * d];
        let mut s = 0.0f32;
        for &v in row {
            s += v;
        }
        let m = s / d as f32;
        let mut var = 0.0f32;
        for &v in row {
            var += (v - m) * (v - m);
        }
        let rs = 1.0 / (var / d as f32 + eps).sqrt();
        for c in 0..d {
            y[r * d + c] = (row[c] - m) * rs * w[c] + bias[c];
        }
        (mean[r], rstd[r]) = (m, rs);
    }
}

/// dx (+)= the gradient through LayerNorm of dy, per row: with xhat = (x - mean) rstd and
/// g = dy w, dx = rstd (g - mean(g) - xhat mean(g xhat)). `accumulate` adds to dx (the residual
/// stream's gradient) instead of overwriting it.
#[allow(clippy::too_many_arguments)]
pub fn layernorm_backward(
    d: usize,
    x: &[f32],
    mean: &[f32],
    rstd: &[f32],
    w: &[f32],
    dy: &[f32],
    dx: &mut [f32],
    accumulate: bool,
) {
    for r in 0..mean.len() {
        let (m, rs) = (mean[r], rstd[r]);
        let (mut sg, mut sgx) = (0.0f32, 0.0f32);
        for (c, &wc) in w.iter().enumerate().take(d) {
            let g = dy[r * d + c] * wc;
            sg += g;
            sgx += g * ((x[r * d + c] - m) * rs);
        }
        let (a, bx) = (sg / d as f32, sgx / d as f32);
        for (c, &wc) in w.iter().enumerate().take(d) {
            let i = r * d + c;
            let v = rs * (dy[i] * wc - a - (x[i] - m) * rs * bx);
            dx[i] = if accumulate { dx[i] + v } else { v };
        }
    }
}

/// dw[c] = sum over rows of dy xhat, db[c] = sum over rows of dy, rows in order.
pub fn layernorm_param_grad(
    d: usize,
    x: &[f32],
    mean: &[f32],
    rstd: &[f32],
    dy: &[f32],
    dw: &mut [f32],
    db: &mut [f32],
) {
    for c in 0..d {
        let (mut sw, mut sb) = (0.0f32, 0.0f32);
        for r in 0..mean.len() {
            let i = r * d + c;
            sw += dy[i] * ((x[i] - mean[r]) * rstd[r]);
            sb += dy[i];
        }
        (dw[c], db[c]) = (sw, sb);
    }
}

/// Causal multi-head attention from the fused projection qkv ([N, 3d]: q, then k, then v, each
/// split into heads of `hd` columns, as GPT-2's `split`): p[s, h, i, j] = softmax over j <= i of
/// (q_i . k_j) * scale, 0 for j > i; o[s, i, h hd + c] = sum over j <= i of p v_j.
#[allow(clippy::too_many_arguments)]
pub fn attention(b: usize, t: usize, heads: usize, hd: usize, scale: f32, qkv: &[f32], p: &mut [f32], o: &mut [f32]) {
    let d = heads * hd;
    let at = |s: usize, i: usize, part: usize, h: usize| (s * t + i) * 3 * d + part * d + h * hd;
    for s in 0..b {
        for h in 0..heads {
            for i in 0..t {
                let row = &mut p[((s * heads + h) * t + i) * t..][..t];
                let q = at(s, i, 0, h);
                let mut m = f32::NEG_INFINITY;
                for (j, pj) in row.iter_mut().enumerate().take(i + 1) {
                    let k = at(s, j, 1, h);
                    let mut dot = 0.0f32;
                    for c in 0..hd {
                        dot += qkv[q + c] * qkv[k + c];
                    }
                    *pj = dot * scale;
                    m = m.max(*pj);
                }
                let mut sum = 0.0f32;
                for &v in &row[..=i] {
                    sum += (v - m).exp();
                }
                for (j, pj) in row.iter_mut().enumerate() {
                    *pj = if j <= i { (*pj - m).exp() / sum } else { 0.0 };
                }
                for c in 0..hd {
                    let mut acc = 0.0f32;
                    for (j, &pj) in row.iter().enumerate().take(i + 1) {
                        acc += pj * qkv[at(s, j, 2, h) + c];
                    }
                    o[(s * t + i) * d + h * hd + c] = acc;
                }
            }
        }
    }
}

/// The attention's backward pass. ds[s, h, i, j] = p (dp - sum_j p dp) * scale for j <= i, with
/// dp_j = dout_i . v_j; then dq_i = sum over j <= i of ds k_j, dk_j = sum over i >= j of ds q_i,
/// dv_j = sum over i >= j of p dout_i, each sum in increasing index.
#[allow(clippy::too_many_arguments)]
pub fn attention_backward(
    b: usize,
    t: usize,
    heads: usize,
    hd: usize,
    scale: f32,
    qkv: &[f32],
    p: &[f32],
    dout: &[f32],
    ds: &mut [f32],
    dqkv: &mut [f32],
) {
    let d = heads * hd;
    let at = |s: usize, i: usize, part: usize, h: usize| (s * t + i) * 3 * d + part * d + h * hd;
    let pi = |s: usize, h: usize, i: usize| ((s * heads + h) * t + i) * t;
    for s in 0..b {
        for h in 0..heads {
            for i in 0..t {
                let row = pi(s, h, i);
                let g = (s * t + i) * d + h * hd;
                let mut dot = 0.0f32;
                for j in 0..=i {
                    let v = at(s, j, 2, h);
                    let mut dp = 0.0f32;
                    for c in 0..hd {
                        dp += dout[g + c] * qkv[v + c];
                    }
                    ds[row + j] = dp;
                    dot += p[row + j] * dp;
                }
                for j in 0..t {
                    ds[row + j] = if j <= i { p[row + j] * (ds[row + j] - dot) * scale } else { 0.0 };
                }
            }
        }
    }
    for n in 0..b * t {
        let (s, i) = (n / t, n % t);
        for col in 0..3 * d {
            let (part, h, c) = (col / d, (col % d) / hd, col % hd);
            let mut acc = 0.0f32;
            match part {
                0 => {
                    for j in 0..=i {
                        acc += ds[pi(s, h, i) + j] * qkv[at(s, j, 1, h) + c];
                    }
                }
                1 => {
                    for r in i..t {
                        acc += ds[pi(s, h, r) + i] * qkv[at(s, r, 0, h) + c];
                    }
                }
                _ => {
                    for r in i..t {
                        acc += p[pi(s, h, r) + i] * dout[(s * t + r) * d + h * hd + c];
                    }
                }
            }
            dqkv[n * 3 * d + col] = acc;
        }
    }
}

/// x[r, c] += bias[c].
pub fn bias_add(cols: usize, bias: &[f32], x: &mut [f32]) {
    for (i, v) in x.iter_mut().enumerate() {
        *v += bias[i % cols];
    }
}

/// out = res + (z + bias): a projection's bias and the residual connection in one pass.
pub fn bias_residual(cols: usize, res: &[f32], z: &[f32], bias: &[f32], out: &mut [f32]) {
    for (i, o) in out.iter_mut().enumerate() {
        *o = res[i] + (z[i] + bias[i % cols]);
    }
}

/// The squared gradient norm in the kernels' order: SUM_SQUARES_GROUPS-bounded workgroups of 256
/// invocations, each summing `per` consecutive squares, a tree within each workgroup, then
/// [`base::tree_sum`] over the workgroups' partial sums.
pub fn grad_norm_sq(g: &[f32]) -> f32 {
    let per = g.len().div_ceil(256 * SUM_SQUARES_GROUPS).max(1);
    let groups = g.len().div_ceil(256 * per);
    let partials: Vec<f32> = (0..groups)
        .map(|wg| {
            let mut part = [0.0f32; 256];
            for (l, slot) in part.iter_mut().enumerate() {
                let start = (wg * 256 + l) * per;
                for &v in g.iter().skip(start).take(per) {
                    *slot += v * v;
                }
            }
            let mut stride = 128;
            while stride > 0 {
                for l in 0..stride {
                    part[l] += part[l + stride];
                }
                stride /= 2;
            }
            part[0]
        })
        .collect();
    base::tree_sum(&partials)
}

/// The global-norm clipping factor: min(1, max_norm / (norm + 1e-6)) as PyTorch's
/// `clip_grad_norm_`; 1 when clipping is off (max_norm <= 0).
pub fn clip_scale(max_norm: f32, norm_sq: f32) -> f32 {
    if max_norm > 0.0 {
        (max_norm / (norm_sq.sqrt() + 1e-6)).min(1.0)
    } else {
        1.0
    }
}

/// One AdamW step over the flat buffer, as adamw.wgsl: g = grad * clip; moments; decoupled
/// weight decay w *= 1 - lr wd on the first `decay_len` elements; then the Adam update with this
/// step's bias corrections c1, c2.
#[allow(clippy::too_many_arguments)]
pub fn adamw(
    p: &AdamWParams,
    lr: f32,
    c1: f32,
    c2: f32,
    norm_sq: f32,
    decay_len: usize,
    w: &mut [f32],
    grad: &[f32],
    m: &mut [f32],
    v: &mut [f32],
) {
    let scale = clip_scale(p.max_norm, norm_sq);
    for i in 0..w.len() {
        let g = grad[i] * scale;
        m[i] = p.b1 * m[i] + (1.0 - p.b1) * g;
        v[i] = p.b2 * v[i] + (1.0 - p.b2) * (g * g);
        let decayed = if i < decay_len { w[i] - lr * p.weight_decay * w[i] } else { w[i] };
        w[i] = decayed - lr * (m[i] * c1) / ((v[i] * c2).sqrt() + p.eps);
    }
}

/// One block's saved activations.
#[derive(Clone, Debug, Default)]
pub struct BlockActs {
    /// The block's input (the residual stream).
    pub x_in: Vec<f32>,
    pub mean1: Vec<f32>,
    pub rstd1: Vec<f32>,
    pub h1: Vec<f32>,
    pub qkv: Vec<f32>,
    pub p: Vec<f32>,
    pub o: Vec<f32>,
    pub x_mid: Vec<f32>,
    pub mean2: Vec<f32>,
    pub rstd2: Vec<f32>,
    pub h2: Vec<f32>,
    /// The MLP's pre-activation and its GELU.
    pub f: Vec<f32>,
    pub g: Vec<f32>,
    /// Per [`LoraTarget::ALL`] entry, the adapter's scaled down-projection s x Aᵀ [N, r] (empty
    /// where the module has no adapter).
    pub lora_us: [Vec<f32>; 4],
}

/// Everything the forward pass computes for one batch.
#[derive(Clone, Debug)]
pub struct Forward {
    pub b: usize,
    pub t: usize,
    pub blocks: Vec<BlockActs>,
    pub x_out: Vec<f32>,
    pub mean_f: Vec<f32>,
    pub rstd_f: Vec<f32>,
    pub hf: Vec<f32>,
    pub logits: Vec<f32>,
    /// The gradient of the batch's mean loss with respect to the logits.
    pub dlogits: Vec<f32>,
    /// Each position's cross-entropy (natural log) of its target.
    pub row_loss: Vec<f32>,
}

impl Forward {
    /// The batch's mean loss, summed in f64 in position order.
    pub fn mean_loss(&self) -> f64 {
        self.row_loss.iter().map(|&l| l as f64).sum::<f64>() / self.row_loss.len() as f64
    }
}

/// The forward pass and the loss of `b` sequences of `t` tokens predicting `targets`. Tokens and
/// targets must be below the vocabulary and t at most ctx (callers check).
pub fn forward(w: &GptWeights, b: usize, t: usize, tokens: &[u32], targets: &[u32]) -> Forward {
    forward_lora(w, None, b, t, tokens, targets)
}

/// y += s (x Aᵀ) Bᵀ for one adapted module of N rows; returns s x Aᵀ [N, r] for the backward
/// pass. The order of the device's ops: x Aᵀ, the scale, (s x Aᵀ) Bᵀ, the add.
pub fn lora_forward(lora: &LoraAdapter, m: &LoraModule, n: usize, x: &[f32], y: &mut [f32]) -> Vec<f32> {
    let r = lora.config.r;
    let mut us = vec![0.0; n * r];
    matmul(&MatmulShape::nt(n, m.fan_in, r), x, lora.get(&m.a), &mut us);
    let s = lora.config.scale();
    us.iter_mut().for_each(|u| *u *= s);
    let mut z = vec![0.0; n * m.fan_out];
    matmul(&MatmulShape::nt(n, r, m.fan_out), &us, lora.get(&m.b), &mut z);
    for (yi, zi) in y.iter_mut().zip(&z) {
        *yi += zi;
    }
    us
}

/// One adapted module's backward pass, from dy [N, out]: dB = dyᵀ (s x Aᵀ), dA = (s dy B)ᵀ x into
/// `grads` (the adapter's layout), and dx += (s dy B) A.
#[allow(clippy::too_many_arguments)]
pub fn lora_backward(
    lora: &LoraAdapter,
    m: &LoraModule,
    n: usize,
    x: &[f32],
    us: &[f32],
    dy: &[f32],
    dx: &mut [f32],
    grads: &mut [f32],
) {
    let r = lora.config.r;
    matmul(&MatmulShape::tn(m.fan_out, n, r), dy, us, &mut grads[m.b.clone()]);
    let mut dv = vec![0.0; n * r];
    matmul(&MatmulShape::nn(n, m.fan_out, r), dy, lora.get(&m.b), &mut dv);
    let s = lora.config.scale();
    dv.iter_mut().for_each(|v| *v *= s);
    matmul(&MatmulShape::tn(r, n, m.fan_in), &dv, x, &mut grads[m.a.clone()]);
    let mut z = vec![0.0; n * m.fan_in];
    matmul(&MatmulShape::nn(n, r, m.fan_in), &dv, lora.get(&m.a), &mut z);
    for (d, zi) in dx.iter_mut().zip(&z) {
        *d += zi;
    }
}

/// [`forward`] with an optional adapter on the frozen base.
pub fn forward_lora(
    w: &GptWeights,
    lora: Option<&LoraAdapter>,
    b: usize,
    t: usize,
    tokens: &[u32],
    targets: &[u32],
) -> Forward {
    let s = &w.spec;
    let (d, n, hd, vocab) = (s.d, b * t, s.head_dim(), s.vocab);
    let scale = 1.0 / (hd as f32).sqrt();
    let l = &w.layout;
    let mut x = vec![0.0; n * d];
    embed(d, t, tokens, w.get(&l.wte), w.get(&l.wpe), &mut x);
    let mut blocks = Vec::with_capacity(s.layers);
    for bl in &l.blocks {
        let mut a = BlockActs {
            mean1: vec![0.0; n],
            rstd1: vec![0.0; n],
            h1: vec![0.0; n * d],
            qkv: vec![0.0; n * 3 * d],
            p: vec![0.0; b * s.heads * t * t],
            o: vec![0.0; n * d],
            x_mid: vec![0.0; n * d],
            mean2: vec![0.0; n],
            rstd2: vec![0.0; n],
            h2: vec![0.0; n * d],
            f: vec![0.0; n * 4 * d],
            g: vec![0.0; n * 4 * d],
            lora_us: Default::default(),
            x_in: x,
        };
        let layer = blocks.len();
        let module = |target| lora.and_then(|a| a.module(layer, target).map(|m| (a, m)));
        layernorm(d, s.eps, &a.x_in, w.get(&bl.ln_1_w), w.get(&bl.ln_1_b), &mut a.h1, &mut a.mean1, &mut a.rstd1);
        matmul(&MatmulShape::nn(n, d, 3 * d), &a.h1, w.get(&bl.attn_w), &mut a.qkv);
        if let Some((ad, m)) = module(LoraTarget::AttnQkv) {
            a.lora_us[0] = lora_forward(ad, m, n, &a.h1, &mut a.qkv);
        }
        bias_add(3 * d, w.get(&bl.attn_b), &mut a.qkv);
        attention(b, t, s.heads, hd, scale, &a.qkv, &mut a.p, &mut a.o);
        let mut z = vec![0.0; n * d];
        matmul(&MatmulShape::nn(n, d, d), &a.o, w.get(&bl.proj_w), &mut z);
        if let Some((ad, m)) = module(LoraTarget::AttnProj) {
            a.lora_us[1] = lora_forward(ad, m, n, &a.o, &mut z);
        }
        bias_residual(d, &a.x_in, &z, w.get(&bl.proj_b), &mut a.x_mid);
        layernorm(d, s.eps, &a.x_mid, w.get(&bl.ln_2_w), w.get(&bl.ln_2_b), &mut a.h2, &mut a.mean2, &mut a.rstd2);
        matmul(&MatmulShape::nn(n, d, 4 * d), &a.h2, w.get(&bl.fc_w), &mut a.f);
        if let Some((ad, m)) = module(LoraTarget::MlpFc) {
            a.lora_us[2] = lora_forward(ad, m, n, &a.h2, &mut a.f);
        }
        base::bias_act(4 * d, Some(Activation::Gelu), w.get(&bl.fc_b), &mut a.f, &mut a.g);
        matmul(&MatmulShape::nn(n, 4 * d, d), &a.g, w.get(&bl.mlp_proj_w), &mut z);
        if let Some((ad, m)) = module(LoraTarget::MlpProj) {
            a.lora_us[3] = lora_forward(ad, m, n, &a.g, &mut z);
        }
        x = vec![0.0; n * d];
        bias_residual(d, &a.x_mid, &z, w.get(&bl.mlp_proj_b), &mut x);
        blocks.push(a);
    }
    let (mut mean_f, mut rstd_f, mut hf) = (vec![0.0; n], vec![0.0; n], vec![0.0; n * d]);
    layernorm(d, s.eps, &x, w.get(&l.ln_f_w), w.get(&l.ln_f_b), &mut hf, &mut mean_f, &mut rstd_f);
    let mut logits = vec![0.0; n * vocab];
    matmul(&MatmulShape::nt(n, d, vocab), &hf, w.get(&l.wte), &mut logits);
    let (mut dlogits, mut row_loss, mut correct) = (vec![0.0; n * vocab], vec![0.0; n], vec![0u32; n]);
    base::softmax_xent(vocab, &logits, targets, &mut dlogits, &mut row_loss, &mut correct);
    Forward { b, t, blocks, x_out: x, mean_f, rstd_f, hf, logits, dlogits, row_loss }
}

/// The gradient of the batch's mean loss with respect to every parameter, in the weights' flat
/// layout (padding 0).
pub fn backward(w: &GptWeights, fwd: &Forward, tokens: &[u32]) -> Vec<f32> {
    backward_lora(w, None, fwd, tokens).0
}

/// [`backward`] through an adapter: (the base's gradient, the adapter's in its layout; empty
/// without one). `fwd` must come from [`forward_lora`] with the same adapter.
pub fn backward_lora(
    w: &GptWeights,
    lora: Option<&LoraAdapter>,
    fwd: &Forward,
    tokens: &[u32],
) -> (Vec<f32>, Vec<f32>) {
    let s = &w.spec;
    let mut lgrads = vec![0.0f32; lora.map_or(0, LoraAdapter::len)];
    let (b, t) = (fwd.b, fwd.t);
    let (d, n, hd, vocab) = (s.d, b * t, s.head_dim(), s.vocab);
    let scale = 1.0 / (hd as f32).sqrt();
    let l = &w.layout;
    let mut grads = vec![0.0f32; l.len];
    matmul(&MatmulShape::tn(vocab, n, d), &fwd.dlogits, &fwd.hf, &mut grads[l.wte.clone()]);
    let mut dh = vec![0.0; n * d];
    matmul(&MatmulShape::nn(n, vocab, d), &fwd.dlogits, w.get(&l.wte), &mut dh);
    let mut dx = vec![0.0; n * d];
    layernorm_backward(d, &fwd.x_out, &fwd.mean_f, &fwd.rstd_f, w.get(&l.ln_f_w), &dh, &mut dx, false);
    let (mut dw, mut db) = (vec![0.0; d], vec![0.0; d]);
    layernorm_param_grad(d, &fwd.x_out, &fwd.mean_f, &fwd.rstd_f, &dh, &mut dw, &mut db);
    grads[l.ln_f_w.clone()].copy_from_slice(&dw);
    grads[l.ln_f_b.clone()].copy_from_slice(&db);
    let mut dg = vec![0.0; n * 4 * d];
    let mut dout = vec![0.0; n * d];
    let mut ds = vec![0.0; b * s.heads * t * t];
    let mut dqkv = vec![0.0; n * 3 * d];
    for (layer, (bl, a)) in l.blocks.iter().zip(&fwd.blocks).enumerate().rev() {
        let module = |target| lora.and_then(|ad| ad.module(layer, target).map(|m| (ad, m)));
        // MLP: x_out = x_mid + gelu(h2 Wfc + bfc) Wmp + bmp.
        matmul(&MatmulShape::tn(4 * d, n, d), &a.g, &dx, &mut grads[bl.mlp_proj_w.clone()]);
        base::bias_grad(n, d, &dx, &mut grads[bl.mlp_proj_b.clone()]);
        matmul(&MatmulShape::nt(n, d, 4 * d), &dx, w.get(&bl.mlp_proj_w), &mut dg);
        if let Some((ad, m)) = module(LoraTarget::MlpProj) {
            lora_backward(ad, m, n, &a.g, &a.lora_us[3], &dx, &mut dg, &mut lgrads);
        }
        base::act_backward(Some(Activation::Gelu), &a.f, &a.g, &mut dg);
        matmul(&MatmulShape::tn(d, n, 4 * d), &a.h2, &dg, &mut grads[bl.fc_w.clone()]);
        base::bias_grad(n, 4 * d, &dg, &mut grads[bl.fc_b.clone()]);
        matmul(&MatmulShape::nt(n, 4 * d, d), &dg, w.get(&bl.fc_w), &mut dh);
        if let Some((ad, m)) = module(LoraTarget::MlpFc) {
            lora_backward(ad, m, n, &a.h2, &a.lora_us[2], &dg, &mut dh, &mut lgrads);
        }
        layernorm_backward(d, &a.x_mid, &a.mean2, &a.rstd2, w.get(&bl.ln_2_w), &dh, &mut dx, true);
        layernorm_param_grad(d, &a.x_mid, &a.mean2, &a.rstd2, &dh, &mut dw, &mut db);
        grads[bl.ln_2_w.clone()].copy_from_slice(&dw);
        grads[bl.ln_2_b.clone()].copy_from_slice(&db);
        // Attention: x_mid = x_in + attn(ln_1(x_in)) Wproj + bproj.
        matmul(&MatmulShape::tn(d, n, d), &a.o, &dx, &mut grads[bl.proj_w.clone()]);
        base::bias_grad(n, d, &dx, &mut grads[bl.proj_b.clone()]);
        matmul(&MatmulShape::nt(n, d, d), &dx, w.get(&bl.proj_w), &mut dout);
        if let Some((ad, m)) = module(LoraTarget::AttnProj) {
            lora_backward(ad, m, n, &a.o, &a.lora_us[1], &dx, &mut dout, &mut lgrads);
        }
        attention_backward(b, t, s.heads, hd, scale, &a.qkv, &a.p, &dout, &mut ds, &mut dqkv);
        matmul(&MatmulShape::tn(d, n, 3 * d), &a.h1, &dqkv, &mut grads[bl.attn_w.clone()]);
        base::bias_grad(n, 3 * d, &dqkv, &mut grads[bl.attn_b.clone()]);
        matmul(&MatmulShape::nt(n, 3 * d, d), &dqkv, w.get(&bl.attn_w), &mut dh);
        if let Some((ad, m)) = module(LoraTarget::AttnQkv) {
            lora_backward(ad, m, n, &a.h1, &a.lora_us[0], &dqkv, &mut dh, &mut lgrads);
        }
        layernorm_backward(d, &a.x_in, &a.mean1, &a.rstd1, w.get(&bl.ln_1_w), &dh, &mut dx, true);
        layernorm_param_grad(d, &a.x_in, &a.mean1, &a.rstd1, &dh, &mut dw, &mut db);
        grads[bl.ln_1_w.clone()].copy_from_slice(&dw);
        grads[bl.ln_1_b.clone()].copy_from_slice(&db);
    }
    embed_pos_grad(d, b, t, &dx, &mut grads[l.wpe.clone()]);
    let (order, starts) = token_segments(tokens, vocab);
    embed_token_grad(d, &order, &starts, &dx, &mut grads[l.wte.clone()]);
    (grads, lgrads)
}

/// Restricts the loss to the positions where `mask` is 1 (the assistant's text of a chat): the
/// gradient becomes that of the mean loss over those positions (rows outside the mask get 0);
/// returns how many positions count. `dlogits` holds the mean-over-all-rows gradient
/// [`forward`] computes.
pub fn mask_dlogits(vocab: usize, mask: &[u8], dlogits: &mut [f32]) -> usize {
    let rows = mask.len();
    let counted = mask.iter().filter(|&&m| m != 0).count();
    let factor = if counted == 0 { 0.0 } else { rows as f32 / counted as f32 };
    for (row, &m) in dlogits.chunks_mut(vocab).zip(mask) {
        let f = if m != 0 { factor } else { 0.0 };
        row.iter_mut().for_each(|g| *g *= f);
    }
    counted
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lm::GptSpec;

    /// A model small enough for finite differences on every tensor, with nonzero biases and
    /// LayerNorm parameters away from their initial values so every path carries gradient.
    fn tiny() -> (GptWeights, usize, usize, Vec<u32>, Vec<u32>) {
        let spec = GptSpec::parse("gpt:layers=2,d=8,heads=2,ctx=7,vocab=11").unwrap();
        let mut w = GptWeights::init(&spec, 3);
        let mut rng = crate::rng::SplitMix64::new(5);
        let l = w.layout.clone();
        let small: Vec<_> =
            l.blocks.iter().flat_map(|b| [&b.attn_b, &b.proj_b, &b.fc_b, &b.mlp_proj_b]).chain([&l.ln_f_b]).collect();
        for r in small {
            w.params[r.clone()].iter_mut().for_each(|p| *p = 0.1 * (2.0 * rng.unit_f32() - 1.0));
        }
        for r in l.blocks.iter().flat_map(|b| [&b.ln_1_w, &b.ln_2_w]).chain([&l.ln_f_w]) {
            w.params[r.clone()].iter_mut().for_each(|p| *p = 1.0 + 0.2 * (2.0 * rng.unit_f32() - 1.0));
        }
        // Larger attention weights so the softmax is far from uniform.
        for r in l.blocks.iter().map(|b| &b.attn_w) {
            w.params[r.clone()].iter_mut().for_each(|p| *p *= 20.0);
        }
        let (b, t) = (2, 5);
        let tokens: Vec<u32> = (0..b * t).map(|i| ((i * 7 + 3) % 11) as u32).collect();
        let targets: Vec<u32> = (0..b * t).map(|i| ((i * 5 + 1) % 11) as u32).collect();
        (w, b, t, tokens, targets)
    }

    #[test]
    fn backward_matches_finite_differences_in_every_tensor() {
        let (w, b, t, tokens, targets) = tiny();
        let fwd = forward(&w, b, t, &tokens, &targets);
        let grads = backward(&w, &fwd, &tokens);
        // Central differences of the f64-summed mean loss; f32 forward rounding is ~1e-7 of the
        // loss (~2.4), so h = 1e-2 keeps its error near 1e-5 while truncation stays O(h^2).
        let h = 1e-2f32;
        let loss = |p: &[f32]| {
            let mut w2 = w.clone();
            w2.params.copy_from_slice(p);
            forward(&w2, b, t, &tokens, &targets).mean_loss()
        };
        let mut checked = 0;
        let mut worst = 0.0f32;
        for (name, _, r) in w.layout.tensors(&w.spec) {
            // Three elements of each tensor: first, middle, last.
            for i in [r.start, r.start + r.len() / 2, r.end - 1] {
                let (mut up, mut down) = (w.params.clone(), w.params.clone());
                up[i] += h;
                down[i] -= h;
                let fd = ((loss(&up) - loss(&down)) / (2.0 * h as f64)) as f32;
                let err = (grads[i] - fd).abs();
                worst = worst.max(err);
                assert!(
                    err <= 2e-3 + 2e-2 * fd.abs(),
                    "{name}[{}]: backward {} vs finite difference {fd}",
                    i - r.start,
                    grads[i]
                );
                checked += 1;
            }
        }
        assert_eq!(checked, 3 * (2 + 2 * 12 + 2));
        eprintln!("largest |backward - finite difference|: {worst:e}");
        // Padding between tensors has no gradient.
        let covered: usize = w.layout.tensors(&w.spec).iter().map(|(_, _, r)| r.len()).sum();
        assert!(grads.iter().filter(|g| **g != 0.0).count() <= covered);
    }

    #[test]
    fn token_segments_group_positions_by_token_in_order() {
        let (order, starts) = token_segments(&[2, 0, 2, 1, 2, 0], 4);
        assert_eq!(starts, [0, 2, 3, 6, 6]);
        assert_eq!(order, [1, 5, 3, 0, 2, 4]);
    }

    #[test]
    fn attention_is_causal_and_rows_sum_to_one() {
        let (w, b, t, tokens, targets) = tiny();
        let fwd = forward(&w, b, t, &tokens, &targets);
        let heads = w.spec.heads;
        for row in fwd.blocks[0].p.chunks(t).enumerate() {
            let (r, p) = row;
            let i = r % t;
            assert!(p[i + 1..].iter().all(|&v| v == 0.0), "row {r}: no weight on later positions");
            assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        }
        assert_eq!(fwd.blocks[0].p.len(), b * heads * t * t);
        // Changing a later token leaves earlier positions' outputs unchanged.
        let mut later = tokens.clone();
        later[t - 1] = (later[t - 1] + 1) % 11;
        let fwd2 = forward(&w, b, t, &later, &targets);
        let v = w.spec.vocab;
        assert_eq!(fwd.logits[..(t - 1) * v], fwd2.logits[..(t - 1) * v]);
        assert_ne!(fwd.logits[(t - 1) * v..t * v], fwd2.logits[(t - 1) * v..t * v]);
    }
}
