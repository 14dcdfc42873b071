//! Dispatch of the optimizer steps (optimizer.wgsl).

use super::{grid, Kernel, Op, Slice};
use crate::device::Gpu;

/// The uniform of optimizer.wgsl: the f32 constants both the device and the CPU reference use.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OptimizerParams {
    pub lr: f32,
    /// SGD's momentum, or Adam's beta1.
    pub momentum_or_b1: f32,
    pub one_minus_b1: f32,
    pub b2: f32,
    pub one_minus_b2: f32,
    pub eps: f32,
    pub weight_decay: f32,
}

impl OptimizerParams {
    fn words(&self, len: usize) -> [u32; 8] {
        [
            len as u32,
            self.lr.to_bits(),
            self.momentum_or_b1.to_bits(),
            self.one_minus_b1.to_bits(),
            self.b2.to_bits(),
            self.one_minus_b2.to_bits(),
            self.eps.to_bits(),
            self.weight_decay.to_bits(),
        ]
    }
}

pub(crate) fn sgd(gpu: &Gpu, p: &OptimizerParams, w: Slice, grad: Slice, velocity: Slice) -> Op {
    let len = w.len;
    assert!(grad.len >= len && velocity.len >= len);
    Op::new(gpu, Kernel::Sgd, &p.words(len), &[(1, w), (2, grad), (3, velocity)], grid(len))
}

/// `bias_correction` holds (1 / (1 - b1^(t+1)), 1 / (1 - b2^(t+1))) for every step t of the run.
#[allow(clippy::too_many_arguments)]
pub(crate) fn adam(
    gpu: &Gpu,
    p: &OptimizerParams,
    w: Slice,
    grad: Slice,
    m: Slice,
    v: Slice,
    bias_correction: Slice,
    state: Slice,
) -> Op {
    let len = w.len;
    assert!(grad.len >= len && m.len >= len && v.len >= len);
    let bindings = [(1, w), (2, grad), (3, m), (4, v), (5, bias_correction), (6, state)];
    Op::new(gpu, Kernel::Adam, &p.words(len), &bindings, grid(len))
}
