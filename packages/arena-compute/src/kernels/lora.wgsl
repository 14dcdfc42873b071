// LoRA's element-wise steps; its four matmuls per module and pass are the shared matmul kernels.
// scale_add: dst = s * src, or dst + s * src (accumulate): the adapter's scaled down-projection
// s x Aᵀ, the adapter's output added into the module's (y += (s x Aᵀ) Bᵀ, s = 1 there), and the
// input gradient added into the module input's. row_scale: the assistant-only loss mask on the
// logits' gradient, grad[r, c] *= scale[r] with scale = mask * rows / counted rows (the host
// computes it, so the mean runs over the counted rows only).

struct Params {
    n: u32,
    cols: u32,
    accumulate: u32,
    // The factor s as f32 bits (the uniform is u32s).
    scale_bits: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<storage, read> row_scales: array<f32>;

@compute @workgroup_size(LINEAR_WORKGROUP)
fn scale_add(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups);
    if (i >= p.n) {
        return;
    }
    let v = bitcast<f32>(p.scale_bits) * src[i];
    if (p.accumulate != 0u) {
        dst[i] = dst[i] + v;
    } else {
        dst[i] = v;
    }
}

@compute @workgroup_size(LINEAR_WORKGROUP)
fn row_scale(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups);
    if (i >= p.n) {
        return;
    }
    dst[i] = dst[i] * row_scales[i / p.cols];
}
