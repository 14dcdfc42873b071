// Sums with a fixed tree: each workgroup of LINEAR_WORKGROUP (256) loads its slice (zero past the end) and adds pairs
// at strides 128, 64, ..., 1; out[workgroup] is the slice's sum. The host repeats this until one
// value is left. No atomics, so the order (and for f32 the rounding) is the same every run; the CPU
// reference (reference::tree_sum) adds in exactly this order.

struct Params {
    len: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> in_f32: array<f32>;
@group(0) @binding(2) var<storage, read_write> out_f32: array<f32>;
@group(0) @binding(3) var<storage, read> in_u32: array<u32>;
@group(0) @binding(4) var<storage, read_write> out_u32: array<u32>;

var<workgroup> part_f32: array<f32, LINEAR_WORKGROUP>;
var<workgroup> part_u32: array<u32, LINEAR_WORKGROUP>;

@compute @workgroup_size(LINEAR_WORKGROUP)
fn sum_f32(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = wg.x * LINEAR_WORKGROUP + l;
    part_f32[l] = select(0.0, in_f32[min(i, p.len - 1u)], i < p.len);
    workgroupBarrier();
    for (var stride = LINEAR_WORKGROUP / 2u; stride > 0u; stride = stride / 2u) {
        if (l < stride) {
            part_f32[l] = part_f32[l] + part_f32[l + stride];
        }
        workgroupBarrier();
    }
    if (l == 0u) {
        out_f32[wg.x] = part_f32[0];
    }
}

@compute @workgroup_size(LINEAR_WORKGROUP)
fn sum_u32(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = wg.x * LINEAR_WORKGROUP + l;
    part_u32[l] = select(0u, in_u32[min(i, p.len - 1u)], i < p.len);
    workgroupBarrier();
    for (var stride = LINEAR_WORKGROUP / 2u; stride > 0u; stride = stride / 2u) {
        if (l < stride) {
            part_u32[l] = part_u32[l] + part_u32[l + stride];
        }
        workgroupBarrier();
    }
    if (l == 0u) {
        out_u32[wg.x] = part_u32[0];
    }
}
