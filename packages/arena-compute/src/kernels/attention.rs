//! Dispatch of causal multi-head attention forward and backward (attention.wgsl), over a chunk of
//! (sequence, head) pairs at a time so that P and dS stay within one storage binding. Scores +
//! masked softmax, then P V, not one fused (flash) kernel: the backward pass reads P, and every
//! sum runs in lm::reference's order (attention.wgsl's header says more).

use super::{grid, Kernel, Op, Slice, ROW_WORKGROUP};
use crate::device::Gpu;

/// b sequences of t positions, `heads` heads of `hd` columns; a dispatch covers the (sequence,
/// head) pairs `pair0..pair0 + pairs` (pair = s * heads + h), whose P and dS rows it reads and
/// writes from the start of the bound slice.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AttnShape {
    pub(crate) b: usize,
    pub(crate) t: usize,
    pub(crate) heads: usize,
    pub(crate) hd: usize,
    pub(crate) pair0: usize,
    pub(crate) pairs: usize,
}

impl AttnShape {
    /// Every pair of the batch in one dispatch.
    pub(crate) fn new(b: usize, t: usize, heads: usize, hd: usize) -> Self {
        AttnShape { b, t, heads, hd, pair0: 0, pairs: b * heads }
    }

    /// The batch split into chunks of `per_chunk` pairs (the last may have fewer).
    pub(crate) fn chunks(&self, per_chunk: usize) -> Vec<AttnShape> {
        let all = self.b * self.heads;
        (0..all)
            .step_by(per_chunk)
            .map(|pair0| AttnShape { pair0, pairs: per_chunk.min(all - pair0), ..*self })
            .collect()
    }

    /// Pairs whose P (t^2 floats each) fits `max_bytes`: at least one, at most the batch's.
    pub(crate) fn pairs_within(&self, max_bytes: u64) -> usize {
        ((max_bytes / (self.t * self.t * 4) as u64) as usize).clamp(1, self.b * self.heads)
    }

    fn params(&self) -> [u32; 8] {
        let scale = 1.0 / (self.hd as f32).sqrt();
        [
            self.b as u32,
            self.t as u32,
            self.heads as u32,
            self.hd as u32,
            scale.to_bits(),
            self.pair0 as u32,
            self.pairs as u32,
            0,
        ]
    }

    /// Rows of this chunk's P.
    fn rows(&self) -> usize {
        self.pairs * self.t
    }

    /// Elements of the activations (b t x heads hd) and of the chunk's P ([pairs, t, t]).
    fn check(&self, qkv: &Slice, probs: &Slice) {
        let n = self.b * self.t * self.heads * self.hd;
        assert!(self.pair0 + self.pairs <= self.b * self.heads);
        assert!(qkv.len >= 3 * n && probs.len >= self.rows() * self.t);
    }

    fn row_groups(&self) -> [u32; 3] {
        [self.rows().div_ceil(ROW_WORKGROUP as usize) as u32, 1, 1]
    }
}

/// P = causal softmax of the scaled scores.
pub(crate) fn attn_softmax(gpu: &Gpu, s: AttnShape, qkv: Slice, probs: Slice) -> Op {
    s.check(&qkv, &probs);
    Op::new(gpu, Kernel::AttnSoftmax, &s.params(), &[(1, qkv), (2, probs)], s.row_groups())
}

/// o = P v per head, for the chunk's pairs.
pub(crate) fn attn_apply(gpu: &Gpu, s: AttnShape, qkv: Slice, probs: Slice, o: Slice) -> Op {
    s.check(&qkv, &probs);
    assert!(o.len >= s.b * s.t * s.heads * s.hd);
    Op::new(gpu, Kernel::AttnApply, &s.params(), &[(1, qkv), (4, probs), (3, o)], grid(s.rows() * s.hd))
}

/// dS, the gradient with respect to the scaled scores.
pub(crate) fn attn_grad_scores(gpu: &Gpu, s: AttnShape, qkv: Slice, probs: Slice, dout: Slice, ds: Slice) -> Op {
    s.check(&qkv, &probs);
    assert!(dout.len >= s.b * s.t * s.heads * s.hd && ds.len >= s.rows() * s.t);
    let bindings = [(1, qkv), (4, probs), (5, dout), (6, ds)];
    Op::new(gpu, Kernel::AttnGradScores, &s.params(), &bindings, s.row_groups())
}

/// dqkv of the chunk's pairs from dS, P and dout.
pub(crate) fn attn_grad_qkv(
    gpu: &Gpu,
    s: AttnShape,
    qkv: Slice,
    probs: Slice,
    dout: Slice,
    ds: Slice,
    dqkv: Slice,
) -> Op {
    s.check(&qkv, &probs);
    let n = s.b * s.t * s.heads * s.hd;
    assert!(dout.len >= n && ds.len >= s.rows() * s.t && dqkv.len >= 3 * n);
    let bindings = [(1, qkv), (4, probs), (5, dout), (7, ds), (8, dqkv)];
    Op::new(gpu, Kernel::AttnGradQkv, &s.params(), &bindings, grid(3 * s.rows() * s.hd))
}
