// C = A * B with workgroup-memory tiling: the variant for real GPUs, where a tile loaded once into
// workgroup memory serves 64 rows or columns and global-memory bandwidth is what limits.
//
// Same parameters, strides and 64 x 64 output tile (16 x 16 invocations, 4 x 4 each) as
// matmul_blocked.wgsl. The k dimension is walked in slices of 16: each invocation loads 4 elements of
// A and 4 of B into workgroup memory (zero beyond the matrix edges, and 0 * 0 adds exactly nothing),
// then accumulates over the slice. Every element is still summed over k in increasing order from 0.0 (or from C's value, see
// initial_row).

// Each of the MATMUL_INVOCATIONS^2 invocations loads 4 elements of each matrix per slice.
const TK: u32 = 4u * MATMUL_INVOCATIONS * MATMUL_INVOCATIONS / MATMUL_TILE;
// a_tile[kk][r]: the slice of A transposed, so the inner loop reads it along r like b_tile.
var<workgroup> a_tile: array<array<f32, MATMUL_TILE>, TK>;
var<workgroup> b_tile: array<array<f32, MATMUL_TILE>, TK>;

@compute @workgroup_size(MATMUL_INVOCATIONS, MATMUL_INVOCATIONS)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let tile_row = wg.y * MATMUL_TILE;
    let tile_col = wg.x * MATMUL_TILE;
    let flat = lid.y * MATMUL_INVOCATIONS + lid.x;
    let row0 = tile_row + lid.y;
    let col0 = tile_col + lid.x;
    var acc0 = initial_row(row0, col0);
    var acc1 = initial_row(row0 + MATMUL_INVOCATIONS, col0);
    var acc2 = initial_row(row0 + 2u * MATMUL_INVOCATIONS, col0);
    var acc3 = initial_row(row0 + 3u * MATMUL_INVOCATIONS, col0);
    let slices = (p.k + TK - 1u) / TK;
    for (var s = 0u; s < slices; s++) {
        let k0 = s * TK;
        // 64 x 16 elements of each matrix, 4 per invocation.
        for (var e = 0u; e < 4u; e++) {
            let idx = flat + MATMUL_INVOCATIONS * MATMUL_INVOCATIONS * e;
            let r = idx / TK;
            let kk = idx % TK;
            let ar = tile_row + r;
            let ak = k0 + kk;
            var av = 0.0;
            if (ar < p.m && ak < p.k) {
                av = a[ar * p.a_row_stride + ak * p.a_col_stride];
            }
            a_tile[kk][r] = av;
            let bkk = idx / MATMUL_TILE;
            let bc = idx % MATMUL_TILE;
            let bk = k0 + bkk;
            let bcol = tile_col + bc;
            var bv = 0.0;
            if (bk < p.k && bcol < p.n) {
                bv = b[bk * p.b_row_stride + bcol * p.b_col_stride];
            }
            b_tile[bkk][bc] = bv;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < TK; kk++) {
            let bv = vec4<f32>(b_tile[kk][lid.x], b_tile[kk][lid.x + MATMUL_INVOCATIONS], b_tile[kk][lid.x + 2u * MATMUL_INVOCATIONS],
                b_tile[kk][lid.x + 3u * MATMUL_INVOCATIONS]);
            acc0 = acc0 + a_tile[kk][lid.y] * bv;
            acc1 = acc1 + a_tile[kk][lid.y + MATMUL_INVOCATIONS] * bv;
            acc2 = acc2 + a_tile[kk][lid.y + 2u * MATMUL_INVOCATIONS] * bv;
            acc3 = acc3 + a_tile[kk][lid.y + 3u * MATMUL_INVOCATIONS] * bv;
        }
        workgroupBarrier();
    }
    store_row(row0, col0, acc0);
    store_row(row0 + MATMUL_INVOCATIONS, col0, acc1);
    store_row(row0 + 2u * MATMUL_INVOCATIONS, col0, acc2);
    store_row(row0 + 3u * MATMUL_INVOCATIONS, col0, acc3);
}
