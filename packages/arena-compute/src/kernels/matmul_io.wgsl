// Prepended to both matmul variants (WGSL has no include): their shared shape, strides, bindings
// and store. A is m x k, B is k x n, C is m x n; element (i, j) of A is a[i * a_row_stride +
// j * a_col_stride], and likewise for B, so a transposed operand is only a swap of strides. Row i
// of C starts at c[i * c_row_stride] (n, or wider when C is a block of columns of a wider matrix).

struct Params {
    m: u32,
    n: u32,
    k: u32,
    a_row_stride: u32,
    a_col_stride: u32,
    b_row_stride: u32,
    b_col_stride: u32,
    c_row_stride: u32,
    // 1: each element's sum starts from C's value (matmul_accumulate), else from 0.0.
    accumulate: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

// One invocation's 4 starting sums of a row of C (columns col0 + MATMUL_INVOCATIONS * j): 0.0, or
// C's values when accumulating (0.0 outside the matrix, never stored).
fn initial_row(row: u32, col0: u32) -> vec4<f32> {
    var v = vec4<f32>(0.0);
    if (p.accumulate == 0u || row >= p.m) {
        return v;
    }
    for (var j = 0u; j < 4u; j++) {
        let col = col0 + MATMUL_INVOCATIONS * j;
        if (col < p.n) {
            v[j] = c[row * p.c_row_stride + col];
        }
    }
    return v;
}

// Stores one invocation's 4 outputs of a row of C (columns col0 + MATMUL_INVOCATIONS * j), those
// inside the matrix.
fn store_row(row: u32, col0: u32, v: vec4<f32>) {
    if (row >= p.m) {
        return;
    }
    for (var j = 0u; j < 4u; j++) {
        let col = col0 + MATMUL_INVOCATIONS * j;
        if (col < p.n) {
            c[row * p.c_row_stride + col] = v[j];
        }
    }
}
