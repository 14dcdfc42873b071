//! Dispatch of batch assembly and the step counter (batch.wgsl).

use super::{grid, Kernel, Op, Slice};
use crate::device::Gpu;

/// What one gather dispatch reads.
#[derive(Clone, Copy, Debug)]
pub(crate) struct GatherShape {
    pub(crate) rows: usize,
    pub(crate) cols: usize,
    /// Rows per full batch: batch b starts at perm[b * batch_stride].
    pub(crate) batch_stride: usize,
    /// Features are u8 packed four to a u32, else f32.
    pub(crate) packed_u8: bool,
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn gather(
    gpu: &Gpu,
    s: GatherShape,
    features: Slice,
    labels: Slice,
    perm: Slice,
    scaling: Slice,
    state: Slice,
    x: Slice,
    y: Slice,
) -> Op {
    assert!(scaling.len >= 2 * s.cols && x.len >= s.rows * s.cols && y.len >= s.rows);
    let params = [s.rows as u32, s.cols as u32, s.batch_stride as u32, s.packed_u8 as u32];
    let bindings = [(1, features), (2, labels), (3, perm), (4, scaling), (5, state), (6, x), (7, y)];
    Op::new(gpu, Kernel::Gather, &params, &bindings, grid(s.rows * s.cols))
}

/// state.batch += 1, state.step += 1.
pub(crate) fn advance(gpu: &Gpu, state: Slice) -> Op {
    Op::new(gpu, Kernel::Advance, &[], &[(8, state)], [1, 1, 1])
}
