// Bias gradient: out[c] = sum over r of grad[r, c], one invocation per column summing rows in order
// 0, 1, ..., rows-1 (a fixed order, no atomics; the CPU reference sums the same way).

struct Params {
    rows: u32,
    cols: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(ROW_WORKGROUP)
fn bias_grad(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    if (c >= p.cols) {
        return;
    }
    var s = 0.0;
    for (var r = 0u; r < p.rows; r++) {
        s = s + grad[r * p.cols + c];
    }
    out[c] = s;
}
