//! Fixed-tree sums (reduce.wgsl): each level turns n values into ceil(n / 256) partial sums.

use super::{Kernel, Op, Slice, LINEAR_WORKGROUP};
use crate::device::Gpu;

/// One level of the f32 sum: out[g] = sum of input[256 g .. 256 g + 256] in the kernel's tree order.
pub(crate) fn sum_f32(gpu: &Gpu, input: Slice, out: Slice) -> Op {
    level(gpu, Kernel::SumF32, input, out, (1, 2))
}

/// The same for u32 counts (exact in any order; summed the same way for symmetry).
pub(crate) fn sum_u32(gpu: &Gpu, input: Slice, out: Slice) -> Op {
    level(gpu, Kernel::SumU32, input, out, (3, 4))
}

fn level(gpu: &Gpu, kernel: Kernel, input: Slice, out: Slice, bindings: (u32, u32)) -> Op {
    let groups = input.len.div_ceil(LINEAR_WORKGROUP as usize);
    assert!(input.len > 0 && out.len >= groups && groups <= 65_535);
    Op::new(gpu, kernel, &[input.len as u32, 0, 0, 0], &[(bindings.0, input), (bindings.1, out)], [groups as u32, 1, 1])
}
