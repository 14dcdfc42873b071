//! Dispatch of AdamW with global-norm clipping and of the squared-norm reduction (adamw.wgsl).

use super::{grid, Kernel, Op, Slice, LINEAR_WORKGROUP};
use crate::device::Gpu;

/// The most workgroups the first level of the squared-norm sum uses; past it each invocation sums
/// more elements (so the second level, reduce.wgsl's sum_f32, fits one dispatch).
pub const SUM_SQUARES_GROUPS: usize = 4096;

/// AdamW's constants (the step's learning rate and bias corrections travel in a buffer).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamWParams {
    pub b1: f32,
    pub b2: f32,
    pub eps: f32,
    pub weight_decay: f32,
    /// Global gradient-norm limit; 0 turns clipping off.
    pub max_norm: f32,
}

impl AdamWParams {
    fn words(&self, len: usize, decay_len: usize) -> [u32; 8] {
        [
            len as u32,
            decay_len as u32,
            self.b1.to_bits(),
            self.b2.to_bits(),
            self.eps.to_bits(),
            self.weight_decay.to_bits(),
            self.max_norm.to_bits(),
            0,
        ]
    }
}

/// Workgroups and elements per invocation of the first level for `len` elements.
pub(crate) fn sum_squares_split(len: usize) -> (usize, usize) {
    let per = len.div_ceil(LINEAR_WORKGROUP as usize * SUM_SQUARES_GROUPS).max(1);
    (len.div_ceil(LINEAR_WORKGROUP as usize * per), per)
}

/// partial[g] = workgroup g's sum of squares of `grad`.
pub(crate) fn sum_squares(gpu: &Gpu, grad: Slice, partial: Slice) -> Op {
    let (groups, per) = sum_squares_split(grad.len);
    assert!(grad.len > 0 && partial.len >= groups);
    let params = [grad.len as u32, per as u32, 0, 0, 0, 0, 0, 0];
    Op::new(gpu, Kernel::SumSquares, &params, &[(2, grad), (7, partial)], [groups as u32, 1, 1])
}

/// One AdamW step over `w`; `norm_sq` holds the squared gradient norm, `step` (lr, c1, c2).
#[allow(clippy::too_many_arguments)]
pub(crate) fn adamw(
    gpu: &Gpu,
    p: &AdamWParams,
    decay_len: usize,
    w: Slice,
    grad: Slice,
    m: Slice,
    v: Slice,
    norm_sq: Slice,
    step: Slice,
) -> Op {
    let len = w.len;
    assert!(grad.len >= len && m.len >= len && v.len >= len && norm_sq.len >= 1 && step.len >= 3);
    let bindings = [(1, w), (2, grad), (3, m), (4, v), (5, norm_sq), (6, step)];
    Op::new(gpu, Kernel::AdamW, &p.words(len, decay_len), &bindings, grid(len))
}
