// C = A * B, register-blocked, no workgroup memory: the variant for CPU adapters (lavapipe), where
// barriers are expensive and a shared-memory tile is slower than a naive kernel.
//
// A is m x k, B is k x n, C is m x n row-major. A and B are read through strides, so the same kernel
// computes X*W (forward), X^T*dY (weight gradient) and dY*W^T (input gradient) without transposes.
//
// Each of the 16 x 16 invocations accumulates a 4 x 4 block of C in registers: a 64 x 64 tile per
// workgroup. An invocation owns rows lid.y + 16*i and columns lid.x + 16*j, so neighbouring
// invocations (the SIMD lanes of llvmpipe) read neighbouring elements of B.
//
// Every element is summed over k = 0, 1, ..., k-1 starting from 0.0 (or C's value: initial_row),
// one multiply and one add per step: the same order as the tiled variant and the CPU reference, so on a device that does not
// contract to FMA (lavapipe) all three are bit-identical.

@compute @workgroup_size(MATMUL_INVOCATIONS, MATMUL_INVOCATIONS)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let row0 = wg.y * MATMUL_TILE + lid.y;
    let col0 = wg.x * MATMUL_TILE + lid.x;
    // Out-of-range rows and columns read a valid clamped element and are never stored: no branch in
    // the inner loop.
    var a_base: array<u32, 4>;
    var b_base: array<u32, 4>;
    for (var i = 0u; i < 4u; i++) {
        a_base[i] = min(row0 + MATMUL_INVOCATIONS * i, p.m - 1u) * p.a_row_stride;
        b_base[i] = min(col0 + MATMUL_INVOCATIONS * i, p.n - 1u) * p.b_col_stride;
    }
    var acc0 = initial_row(row0, col0);
    var acc1 = initial_row(row0 + MATMUL_INVOCATIONS, col0);
    var acc2 = initial_row(row0 + 2u * MATMUL_INVOCATIONS, col0);
    var acc3 = initial_row(row0 + 3u * MATMUL_INVOCATIONS, col0);
    for (var kk = 0u; kk < p.k; kk++) {
        let ak = kk * p.a_col_stride;
        let bk = kk * p.b_row_stride;
        let bv = vec4<f32>(b[bk + b_base[0]], b[bk + b_base[1]], b[bk + b_base[2]], b[bk + b_base[3]]);
        acc0 = acc0 + a[a_base[0] + ak] * bv;
        acc1 = acc1 + a[a_base[1] + ak] * bv;
        acc2 = acc2 + a[a_base[2] + ak] * bv;
        acc3 = acc3 + a[a_base[3] + ak] * bv;
    }
    store_row(row0, col0, acc0);
    store_row(row0 + MATMUL_INVOCATIONS, col0, acc1);
    store_row(row0 + 2u * MATMUL_INVOCATIONS, col0, acc2);
    store_row(row0 + 3u * MATMUL_INVOCATIONS, col0, acc3);
}
