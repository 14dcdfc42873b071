//! Dispatch of the per-layer kernels: bias + activation, its backward pass, the bias gradient
//! (activation.wgsl, bias_grad.wgsl) and softmax cross-entropy (softmax_xent.wgsl).

use super::{grid, Kernel, Op, Slice, ROW_WORKGROUP};
use crate::device::Gpu;
use crate::model::Activation;

/// z += bias (per column), out = activation(z); z and out are rows x cols. `None` is the identity.
pub(crate) fn bias_act(
    gpu: &Gpu,
    rows: usize,
    cols: usize,
    act: Option<Activation>,
    bias: Slice,
    z: Slice,
    out: Slice,
) -> Op {
    assert!(bias.len >= cols && z.len >= rows * cols && out.len >= rows * cols);
    let params = [rows as u32, cols as u32, act.map_or(0, Activation::code), 0];
    Op::new(gpu, Kernel::BiasAct, &params, &[(1, bias), (2, z), (3, out)], grid(rows * cols))
}

/// grad *= activation'(z), in place; `out` is the forward output activation(z).
pub(crate) fn act_backward(
    gpu: &Gpu,
    rows: usize,
    cols: usize,
    act: Option<Activation>,
    z: Slice,
    out: Slice,
    grad: Slice,
) -> Op {
    assert!(z.len >= rows * cols && out.len >= rows * cols && grad.len >= rows * cols);
    let params = [rows as u32, cols as u32, act.map_or(0, Activation::code), 0];
    Op::new(gpu, Kernel::ActBackward, &params, &[(4, z), (5, out), (6, grad)], grid(rows * cols))
}

/// out[c] = sum over rows of grad[r, c].
pub(crate) fn bias_grad(gpu: &Gpu, rows: usize, cols: usize, grad: Slice, out: Slice) -> Op {
    assert!(grad.len >= rows * cols && out.len >= cols);
    let params = [rows as u32, cols as u32, 0, 0];
    Op::new(
        gpu,
        Kernel::BiasGrad,
        &params,
        &[(1, grad), (2, out)],
        [cols.div_ceil(ROW_WORKGROUP as usize) as u32, 1, 1],
    )
}

/// Loss, correctness and the gradient of the mean loss for `rows` rows of `classes` logits.
/// Per-row results land at state.row_base + state.batch * batch_stride + r.
#[allow(clippy::too_many_arguments)]
pub(crate) fn softmax_xent(
    gpu: &Gpu,
    rows: usize,
    classes: usize,
    batch_stride: usize,
    logits: Slice,
    labels: Slice,
    grad: Slice,
    row_loss: Slice,
    row_correct: Slice,
    state: Slice,
) -> Op {
    assert!(logits.len >= rows * classes && labels.len >= rows && grad.len >= rows * classes);
    let params = [rows as u32, classes as u32, batch_stride as u32, 0];
    let bindings = [(1, logits), (2, labels), (3, grad), (4, row_loss), (5, row_correct), (6, state)];
    Op::new(gpu, Kernel::SoftmaxXent, &params, &bindings, [rows.div_ceil(ROW_WORKGROUP as usize) as u32, 1, 1])
}
