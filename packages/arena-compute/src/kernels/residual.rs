//! Dispatch of a linear layer's bias, alone or with the residual connection (residual.wgsl).

use super::{grid, Kernel, Op, Slice};
use crate::device::Gpu;

/// z[r, c] += bias[c], in place.
pub(crate) fn bias_add(gpu: &Gpu, rows: usize, cols: usize, bias: Slice, z: Slice) -> Op {
    assert!(bias.len >= cols && z.len >= rows * cols);
    Op::new(gpu, Kernel::BiasAdd, &[rows as u32, cols as u32, 0, 0], &[(1, bias), (2, z)], grid(rows * cols))
}

/// out = res + (proj + bias).
pub(crate) fn bias_residual(
    gpu: &Gpu,
    rows: usize,
    cols: usize,
    res: Slice,
    proj: Slice,
    bias: Slice,
    out: Slice,
) -> Op {
    let n = rows * cols;
    assert!(bias.len >= cols && res.len >= n && proj.len >= n && out.len >= n);
    let bindings = [(1, bias), (3, res), (4, proj), (5, out)];
    Op::new(gpu, Kernel::BiasResidual, &[rows as u32, cols as u32, 0, 0], &bindings, grid(n))
}
