//! The CPU reference: the same forward, backward and optimizer math as the kernels, written as
//! plain loops in the same summation order. Tests compare every kernel with it; `--backend
//! cpu-reference` trains and evaluates with it; the benchmark runs it with an optimized GEMM in
//! place of [`matmul`] as the CPU baseline.
//!
//! On a device that neither contracts a * b + c to an FMA nor approximates division (lavapipe),
//! matmul, bias, ReLU, the bias gradient, the optimizers and the sums are bit-identical to the
//! kernels; exp, log and tanh differ by a few ulp between libm and the device.

use crate::kernels::{MatmulShape, OptimizerParams};
use crate::model::Activation;

/// A matrix multiply C = A * B with the given shape, overwriting C.
pub type Gemm = fn(&MatmulShape, &[f32], &[f32], &mut [f32]);

/// The reference matmul: each C element summed over k = 0..k-1 in order, from 0.0, one rounding
/// per multiply and per add (the kernels' order).
pub fn matmul(s: &MatmulShape, a: &[f32], b: &[f32], c: &mut [f32]) {
    s.check(a.len(), b.len(), c.len());
    c[..s.m * s.n].fill(0.0);
    for i in 0..s.m {
        let row = &mut c[i * s.n..(i + 1) * s.n];
        for k in 0..s.k {
            let aik = a[i * s.a_row_stride + k * s.a_col_stride];
            let bk = k * s.b_row_stride;
            for (j, cij) in row.iter_mut().enumerate() {
                *cij += aik * b[bk + j * s.b_col_stride];
            }
        }
    }
}

const GELU_C: f32 = 0.797_884_6; // sqrt(2 / pi), as in activation.wgsl
const GELU_A: f32 = 0.044715;

/// The activation; `None` is the identity (the output layer).
pub fn activate(act: Option<Activation>, z: f32) -> f32 {
    match act {
        None => z,
        Some(Activation::Relu) => {
            if z > 0.0 {
                z
            } else {
                0.0
            }
        }
        Some(Activation::Tanh) => z.tanh(),
        Some(Activation::Gelu) => {
            let t = (GELU_C * (z + GELU_A * z * z * z)).tanh();
            0.5 * z * (1.0 + t)
        }
    }
}

/// g times the activation's derivative at z; `a` is activate(z).
pub fn activate_backward(act: Option<Activation>, g: f32, z: f32, a: f32) -> f32 {
    match act {
        None => g,
        Some(Activation::Relu) => {
            if z > 0.0 {
                g
            } else {
                0.0
            }
        }
        Some(Activation::Tanh) => g * (1.0 - a * a),
        Some(Activation::Gelu) => {
            let t = (GELU_C * (z + GELU_A * z * z * z)).tanh();
            let dt = GELU_C * (1.0 + 3.0 * GELU_A * z * z);
            g * (0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * dt)
        }
    }
}

/// z += bias per column; out = activate(z).
pub fn bias_act(cols: usize, act: Option<Activation>, bias: &[f32], z: &mut [f32], out: &mut [f32]) {
    for (i, (zi, oi)) in z.iter_mut().zip(out.iter_mut()).enumerate() {
        *zi += bias[i % cols];
        *oi = activate(act, *zi);
    }
}

/// grad *= activate'(z), in place.
pub fn act_backward(act: Option<Activation>, z: &[f32], out: &[f32], grad: &mut [f32]) {
    for ((g, &zi), &ai) in grad.iter_mut().zip(z).zip(out) {
        *g = activate_backward(act, *g, zi, ai);
    }
}

/// out[c] = sum over rows r = 0, 1, ... of grad[r, c].
pub fn bias_grad(rows: usize, cols: usize, grad: &[f32], out: &mut [f32]) {
    for (c, o) in out[..cols].iter_mut().enumerate() {
        let mut s = 0.0f32;
        for r in 0..rows {
            s += grad[r * cols + c];
        }
        *o = s;
    }
}

/// Softmax cross-entropy of `rows` rows: writes the gradient of the mean loss, each row's loss and
/// whether its argmax (first maximum) is the label. As softmax_xent.wgsl.
pub fn softmax_xent(
    classes: usize,
    logits: &[f32],
    labels: &[u32],
    grad: &mut [f32],
    loss: &mut [f32],
    correct: &mut [u32],
) {
    let rows = labels.len();
    let n = rows as f32;
    for r in 0..rows {
        let z = &logits[r * classes..(r + 1) * classes];
        let (mut m, mut arg) = (z[0], 0);
        for (j, &v) in z.iter().enumerate().skip(1) {
            if v > m {
                m = v;
                arg = j;
            }
        }
        let mut s = 0.0f32;
        for &v in z {
            s += (v - m).exp();
        }
        let y = labels[r] as usize;
        for (j, g) in grad[r * classes..(r + 1) * classes].iter_mut().enumerate() {
            let p = (z[j] - m).exp() / s;
            *g = (p - if j == y { 1.0 } else { 0.0 }) / n;
        }
        loss[r] = s.ln() - (z[y] - m);
        correct[r] = (arg == y) as u32;
    }
}

/// SGD with momentum and L2 weight decay, as optimizer.wgsl.
pub fn sgd(p: &OptimizerParams, w: &mut [f32], grad: &[f32], velocity: &mut [f32]) {
    for ((wi, &gi), vi) in w.iter_mut().zip(grad).zip(velocity.iter_mut()) {
        let g = gi + p.weight_decay * *wi;
        *vi = p.momentum_or_b1 * *vi + g;
        *wi -= p.lr * *vi;
    }
}

/// Adam with L2 weight decay; `c1`, `c2` are the bias corrections of this step.
pub fn adam(p: &OptimizerParams, c1: f32, c2: f32, w: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32]) {
    for i in 0..w.len() {
        let g = grad[i] + p.weight_decay * w[i];
        m[i] = p.momentum_or_b1 * m[i] + p.one_minus_b1 * g;
        v[i] = p.b2 * v[i] + p.one_minus_b2 * (g * g);
        w[i] -= p.lr * (m[i] * c1) / ((v[i] * c2).sqrt() + p.eps);
    }
}

/// The f32 sum in reduce.wgsl's tree order: groups of 256 (zero-padded), pairs at strides 128, 64,
/// ..., 1, repeated over the partial sums until one is left.
pub fn tree_sum(values: &[f32]) -> f32 {
    let mut level = values.to_vec();
    if level.is_empty() {
        return 0.0;
    }
    loop {
        let next: Vec<f32> = level
            .chunks(256)
            .map(|chunk| {
                let mut part = [0.0f32; 256];
                part[..chunk.len()].copy_from_slice(chunk);
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
        if next.len() == 1 {
            return next[0];
        }
        level = next;
    }
}
