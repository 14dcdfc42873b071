//! Dispatch of causal multi-head attention forward and backward (attention.wgsl).

use super::{grid, Kernel, Op, Slice, ROW_WORKGROUP};
use crate::device::Gpu;

/// b sequences of t positions, `heads` heads of `hd` columns.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AttnShape {
    pub(crate) b: usize,
    pub(crate) t: usize,
    pub(crate) heads: usize,
    pub(crate) hd: usize,
}

impl AttnShape {
    fn params(&self) -> [u32; 8] {
        let scale = 1.0 / (self.hd as f32).sqrt();
        [self.b as u32, self.t as u32, self.heads as u32, self.hd as u32, scale.to_bits(), 0, 0, 0]
    }

    fn rows(&self) -> usize {
        self.b * self.heads * self.t
    }

    /// Elements of the activations (b t x heads hd) and of P ([b, heads, t, t]).
    fn check(&self, qkv: &Slice, probs: &Slice) {
        let n = self.b * self.t * self.heads * self.hd;
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

/// o = P v per head.
pub(crate) fn attn_apply(gpu: &Gpu, s: AttnShape, qkv: Slice, probs: Slice, o: Slice) -> Op {
    s.check(&qkv, &probs);
    let n = s.b * s.t * s.heads * s.hd;
    assert!(o.len >= n);
    Op::new(gpu, Kernel::AttnApply, &s.params(), &[(1, qkv), (4, probs), (3, o)], grid(n))
}

/// dS, the gradient with respect to the scaled scores.
pub(crate) fn attn_grad_scores(gpu: &Gpu, s: AttnShape, qkv: Slice, probs: Slice, dout: Slice, ds: Slice) -> Op {
    s.check(&qkv, &probs);
    assert!(dout.len >= s.b * s.t * s.heads * s.hd && ds.len >= s.rows() * s.t);
    let bindings = [(1, qkv), (4, probs), (5, dout), (6, ds)];
    Op::new(gpu, Kernel::AttnGradScores, &s.params(), &bindings, s.row_groups())
}

/// dqkv from dS, P and dout.
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
    Op::new(gpu, Kernel::AttnGradQkv, &s.params(), &bindings, grid(3 * n))
}
