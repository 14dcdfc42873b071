//! Dispatch of LoRA's element-wise kernels (lora.wgsl).

use super::{grid, Kernel, Op, Slice};
use crate::device::Gpu;

/// dst = s * src over `n` elements, or dst += s * src with `accumulate`.
pub(crate) fn scale_add(gpu: &Gpu, n: usize, s: f32, accumulate: bool, src: Slice, dst: Slice) -> Op {
    assert!(src.len >= n && dst.len >= n);
    let params = [n as u32, 0, accumulate as u32, s.to_bits()];
    Op::new(gpu, Kernel::ScaleAdd, &params, &[(1, src), (2, dst)], grid(n))
}

/// grad[r, c] *= scale[r] for `rows` rows of `cols`.
pub(crate) fn row_scale(gpu: &Gpu, rows: usize, cols: usize, scale: Slice, grad: Slice) -> Op {
    assert!(scale.len >= rows && grad.len >= rows * cols);
    let n = rows * cols;
    Op::new(gpu, Kernel::RowScale, &[n as u32, cols as u32, 0, 0], &[(2, grad), (3, scale)], grid(n))
}

impl Gpu {
    /// One training step of `adapter` over the frozen `base` on the device (forward with the
    /// adapter, the loss masked by `mask`, backward to the adapter, clipping, AdamW without decay):
    /// (per-position losses, the adapter's gradient, the adapter after the step). For the tests
    /// that compare it with `lm::reference`.
    #[allow(clippy::too_many_arguments)]
    pub fn run_lora_step(
        &self,
        base: &crate::lm::GptWeights,
        adapter: &crate::lm::LoraAdapter,
        t: usize,
        tokens: &[u32],
        targets: &[u32],
        mask: &[u8],
        p: &super::AdamWParams,
        step: [f32; 3],
    ) -> crate::Result<(Vec<f32>, Vec<f32>, crate::lm::LoraAdapter)> {
        let b = tokens.len() / t;
        let mut model = crate::lm::DeviceModel::with_lora(self, base.clone(), Some(adapter.clone()), b, t, Some(*p));
        model.lora_step(tokens, targets, mask, step[0], step[1], step[2]);
        Ok((model.last_losses(tokens.len())?, model.gradients()?, model.adapter()?))
    }
}
