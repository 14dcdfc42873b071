// A linear layer's bias, alone or with the residual connection around it: the matmul kernels
// write x W, these finish y = x W + b (c_attn) and x + (x W + b) (the two projections back into
// the residual stream, one pass instead of two).

struct Params {
    rows: u32,
    cols: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(2) var<storage, read_write> z: array<f32>;
@group(0) @binding(3) var<storage, read> res: array<f32>;
@group(0) @binding(4) var<storage, read> proj: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

// z[r, c] += bias[c], in place.
@compute @workgroup_size(LINEAR_WORKGROUP)
fn bias_add(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups);
    if (i >= p.rows * p.cols) {
        return;
    }
    z[i] = z[i] + bias[i % p.cols];
}

// out = res + (proj + bias).
@compute @workgroup_size(LINEAR_WORKGROUP)
fn bias_residual(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups);
    if (i >= p.rows * p.cols) {
        return;
    }
    out[i] = res[i] + (proj[i] + bias[i % p.cols]);
}
