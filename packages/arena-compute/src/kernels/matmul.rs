//! Matrix multiply dispatch: C = A * B through strides (see matmul_blocked.wgsl).

use super::{Kernel, Op, Slice, MATMUL_TILE};
use crate::device::Gpu;

/// Which matmul kernel to run. Chosen by adapter type: register blocking on CPU adapters
/// (lavapipe), workgroup tiling on real GPUs. Both sum in the same order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatmulVariant {
    RegisterBlocked,
    Tiled,
}

impl MatmulVariant {
    pub(crate) fn for_adapter(is_cpu: bool) -> Self {
        if is_cpu {
            MatmulVariant::RegisterBlocked
        } else {
            MatmulVariant::Tiled
        }
    }
}

/// The shape of C = A * B: A is m x k and B is k x n, each read through a row and a column stride
/// (element (i, j) of A is a[i * a_row_stride + j * a_col_stride]); C is m x n row-major.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatmulShape {
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub a_row_stride: usize,
    pub a_col_stride: usize,
    pub b_row_stride: usize,
    pub b_col_stride: usize,
}

impl MatmulShape {
    /// A (m x k) and B (k x n) both stored row-major: forward, X * W.
    pub fn nn(m: usize, k: usize, n: usize) -> Self {
        MatmulShape { m, n, k, a_row_stride: k, a_col_stride: 1, b_row_stride: n, b_col_stride: 1 }
    }

    /// A stored as its transpose (k x m row-major): the weight gradient, X^T * dY.
    pub fn tn(m: usize, k: usize, n: usize) -> Self {
        MatmulShape { m, n, k, a_row_stride: 1, a_col_stride: m, b_row_stride: n, b_col_stride: 1 }
    }

    /// B stored as its transpose (n x k row-major): the input gradient, dY * W^T.
    pub fn nt(m: usize, k: usize, n: usize) -> Self {
        MatmulShape { m, n, k, a_row_stride: k, a_col_stride: 1, b_row_stride: 1, b_col_stride: k }
    }

    /// Elements A must hold (the last one read, plus one).
    pub fn a_len(&self) -> usize {
        (self.m - 1) * self.a_row_stride + (self.k - 1) * self.a_col_stride + 1
    }

    pub fn b_len(&self) -> usize {
        (self.k - 1) * self.b_row_stride + (self.n - 1) * self.b_col_stride + 1
    }

    pub fn flops(&self) -> f64 {
        2.0 * self.m as f64 * self.n as f64 * self.k as f64
    }

    /// Panics unless A, B and C hold every element the shape reaches (callers derive shapes from
    /// a checked model, so a failure here is a bug).
    pub fn check(&self, a: usize, b: usize, c: usize) {
        assert!(self.m > 0 && self.n > 0 && self.k > 0, "empty matmul {self:?}");
        assert!(a >= self.a_len(), "matmul {self:?}: A has {a} elements");
        assert!(b >= self.b_len(), "matmul {self:?}: B has {b} elements");
        assert!(c >= self.m * self.n, "matmul {self:?}: C has {c} elements");
    }
}

pub(crate) fn matmul(gpu: &Gpu, variant: MatmulVariant, s: MatmulShape, a: Slice, b: Slice, c: Slice) -> Op {
    matmul_columns(gpu, variant, s, a, b, c, s.n)
}

/// [`matmul`] writing C as columns of a wider row-major matrix: row i of C starts at element
/// i * c_row_stride of `c` (the language-model head writes a block of vocabulary columns so).
pub(crate) fn matmul_columns(
    gpu: &Gpu,
    variant: MatmulVariant,
    s: MatmulShape,
    a: Slice,
    b: Slice,
    c: Slice,
    c_row_stride: usize,
) -> Op {
    dispatch(gpu, variant, s, [a, b, c], c_row_stride, false)
}

/// C += A * B, each element's sum continuing from C's value over k = 0, 1, ...: a product whose k
/// is split in blocks (a token table read in blocks, rows in chunks) then sums in exactly the
/// order of the unsplit one, so the result is bit-identical however it is split.
pub(crate) fn matmul_accumulate(gpu: &Gpu, variant: MatmulVariant, s: MatmulShape, a: Slice, b: Slice, c: Slice) -> Op {
    dispatch(gpu, variant, s, [a, b, c], s.n, true)
}

fn dispatch(
    gpu: &Gpu,
    variant: MatmulVariant,
    s: MatmulShape,
    [a, b, c]: [Slice; 3],
    c_row_stride: usize,
    accumulate: bool,
) -> Op {
    s.check(a.len, b.len, c.len);
    assert!(c_row_stride >= s.n && c.len >= (s.m - 1) * c_row_stride + s.n, "matmul {s:?}: C's rows");
    let kernel = match variant {
        MatmulVariant::RegisterBlocked => Kernel::MatmulBlocked,
        MatmulVariant::Tiled => Kernel::MatmulTiled,
    };
    let params = [
        s.m,
        s.n,
        s.k,
        s.a_row_stride,
        s.a_col_stride,
        s.b_row_stride,
        s.b_col_stride,
        c_row_stride,
        accumulate as usize,
    ]
    .map(|v| v as u32);
    let tile = MATMUL_TILE as usize;
    let groups = [s.n.div_ceil(tile) as u32, s.m.div_ceil(tile) as u32, 1];
    Op::new(gpu, kernel, &params, &[(1, a), (2, b), (3, c)], groups)
}
