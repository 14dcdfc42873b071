//! Dispatch of LayerNorm forward, input gradient and parameter gradients (layernorm.wgsl).

use super::{Kernel, Op, Slice, ROW_WORKGROUP};
use crate::device::Gpu;

fn groups(n: usize) -> [u32; 3] {
    [n.div_ceil(ROW_WORKGROUP as usize) as u32, 1, 1]
}

/// The forward pass's saved statistics and the tensors of one LayerNorm.
#[derive(Clone, Copy)]
pub(crate) struct NormTensors<'a> {
    pub(crate) x: Slice<'a>,
    pub(crate) w: Slice<'a>,
    pub(crate) mean: Slice<'a>,
    pub(crate) rstd: Slice<'a>,
}

/// y = LayerNorm(x) * w + bias over rows of d; writes mean and rstd for the backward pass.
pub(crate) fn layernorm(gpu: &Gpu, rows: usize, d: usize, eps: f32, n: NormTensors, bias: Slice, y: Slice) -> Op {
    assert!(n.x.len >= rows * d && n.w.len >= d && bias.len >= d && y.len >= rows * d);
    assert!(n.mean.len >= rows && n.rstd.len >= rows);
    let params = [rows as u32, d as u32, eps.to_bits(), 0];
    let bindings = [(1, n.x), (2, n.w), (3, bias), (4, y), (5, n.mean), (6, n.rstd)];
    Op::new(gpu, Kernel::LayerNorm, &params, &bindings, groups(rows))
}

/// dx (+)= the input gradient of dy; `accumulate` adds into dx.
pub(crate) fn layernorm_backward(
    gpu: &Gpu,
    rows: usize,
    d: usize,
    n: NormTensors,
    dy: Slice,
    dx: Slice,
    accumulate: bool,
) -> Op {
    assert!(dy.len >= rows * d && dx.len >= rows * d);
    let params = [rows as u32, d as u32, 0, accumulate as u32];
    let bindings = [(1, n.x), (2, n.w), (7, n.mean), (8, n.rstd), (9, dy), (10, dx)];
    Op::new(gpu, Kernel::LayerNormBackward, &params, &bindings, groups(rows))
}

/// dw = column sums of dy * xhat, db = column sums of dy.
pub(crate) fn layernorm_param_grad(
    gpu: &Gpu,
    rows: usize,
    d: usize,
    n: NormTensors,
    dy: Slice,
    dw: Slice,
    db: Slice,
) -> Op {
    assert!(dy.len >= rows * d && dw.len >= d && db.len >= d);
    let params = [rows as u32, d as u32, 0, 0];
    let bindings = [(1, n.x), (7, n.mean), (8, n.rstd), (9, dy), (11, dw), (12, db)];
    Op::new(gpu, Kernel::LayerNormParamGrad, &params, &bindings, groups(d))
}
