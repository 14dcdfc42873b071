// Prepended to both matmul variants (WGSL has no include): their shared shape, strides and
// bindings. A is m x k, B is k x n, C is m x n; element (i, j) of A is a[i * a_row_stride +
// j * a_col_stride], and likewise for B, so a transposed operand is only a swap of strides.

struct Params {
    m: u32,
    n: u32,
    k: u32,
    a_row_stride: u32,
    a_col_stride: u32,
    b_row_stride: u32,
    b_col_stride: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

