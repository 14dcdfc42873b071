//! Dispatch of AdamW with global-norm clipping and of the squared-norm reduction (adamw.wgsl),
//! over a parameter vector in ranges of at most one storage binding.

use std::ops::Range;

use super::{grid, sum_f32, Kernel, Op, Slice, LINEAR_WORKGROUP};
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

/// The buffers of one clipped AdamW step: the parameters, their gradient and moments (equal
/// lengths), two ping-pong buffers of [`sum_squares_split`]'s group count for the norm's levels, and
/// (lr, c1, c2).
pub(crate) struct AdamWTensors<'a> {
    pub(crate) w: Slice<'a>,
    pub(crate) grad: Slice<'a>,
    pub(crate) m: Slice<'a>,
    pub(crate) v: Slice<'a>,
    pub(crate) partial: [&'a wgpu::Buffer; 2],
    pub(crate) step: Slice<'a>,
}

/// Element ranges of a `len`-element vector, each at most `max_bytes` (at least one first-level
/// group of the squared norm): whole groups, so the ranges' dispatches add the same elements in the
/// same order as one dispatch over the vector would, and start at 256-byte aligned offsets.
fn ranges(len: usize, max_bytes: u64) -> impl Iterator<Item = Range<usize>> {
    let group = LINEAR_WORKGROUP as usize * sum_squares_split(len).1;
    let step = ((max_bytes / 4) as usize / group).max(1) * group;
    (0..len).step_by(step).map(move |start| start..(start + step).min(len))
}

/// One clipped AdamW step over `x.w` (the first `decay_len` elements decayed): the squared gradient
/// norm (its first level in ranges of at most `max_bytes`, one storage binding, then reduce.wgsl's
/// fixed-tree levels) and AdamW in the same ranges. Splitting changes no bit: each first-level
/// group and each element is computed by one invocation whatever the ranges. Returns the ops and
/// the slice that holds the squared norm after them.
pub(crate) fn clipped_adamw<'a>(
    gpu: &Gpu,
    p: &AdamWParams,
    decay_len: usize,
    max_bytes: u64,
    x: AdamWTensors<'a>,
) -> (Vec<Op>, Slice<'a>) {
    let len = x.w.len;
    assert!(len > 0 && x.grad.len >= len && x.m.len >= len && x.v.len >= len && x.step.len >= 3);
    let (mut groups, per) = sum_squares_split(len);
    assert!(x.partial.iter().all(|b| b.size() >= (groups * 4) as u64), "norm partials hold every group");
    let part = |s: &Slice<'a>, r: &Range<usize>| Slice::new(s.buffer, s.offset + r.start, r.len());
    let group = LINEAR_WORKGROUP as usize * per;
    let mut ops: Vec<Op> = ranges(len, max_bytes)
        .map(|r| {
            // partial[r.start / group + g] = group g of the range's sum of squares.
            let params = [r.len(), per, 0, 0, 0, 0, 0, r.start / group].map(|v| v as u32);
            let bindings = [(2, part(&x.grad, &r)), (7, Slice::new(x.partial[0], 0, groups))];
            Op::new(gpu, Kernel::SumSquares, &params, &bindings, [r.len().div_ceil(group) as u32, 1, 1])
        })
        .collect();
    let mut level = 0;
    while groups > 1 {
        let next = groups.div_ceil(LINEAR_WORKGROUP as usize);
        let (from, to) = (x.partial[level % 2], x.partial[(level + 1) % 2]);
        ops.push(sum_f32(gpu, Slice::new(from, 0, groups), Slice::new(to, 0, next)));
        (groups, level) = (next, level + 1);
    }
    let norm_sq = Slice::new(x.partial[level % 2], 0, 1);
    for r in ranges(len, max_bytes) {
        let decay = decay_len.saturating_sub(r.start).min(r.len());
        let bindings = [
            (1, part(&x.w, &r)),
            (2, part(&x.grad, &r)),
            (3, part(&x.m, &r)),
            (4, part(&x.v, &r)),
            (5, norm_sq),
            (6, x.step),
        ];
        ops.push(Op::new(gpu, Kernel::AdamW, &p.words(r.len(), decay), &bindings, grid(r.len())));
    }
    (ops, norm_sq)
}
