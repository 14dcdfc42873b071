// AdamW with global-norm gradient clipping over the flat parameter buffer, and the first level of
// the squared-norm reduction it needs.
//
// sum_squares: workgroup g's invocation l sums the squares of `per` consecutive elements starting
// at (g * 256 + l) * per, then the workgroup adds pairs at strides 128, ..., 1; `per` keeps the
// workgroup count under SUM_SQUARES_GROUPS for any model size. reduce.wgsl's sum_f32 finishes
// the tree. The norm never leaves the device.
//
// adamw (PyTorch's AdamW with clip_grad_norm_ before it):
//   g = grad * min(1, max_norm / (sqrt(norm_sq) + 1e-6))     (no clipping when max_norm <= 0)
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   w = w - lr wd w   for i < decay_len (embeddings and matrices; the layout puts them first)
//   w = w - lr (m c1) / (sqrt(v c2) + eps)
// lr, c1 = 1 / (1 - b1^step), c2 = 1 / (1 - b2^step) come from the host each step (`step`
// buffer), so the schedule and the bias corrections are computed once, in f64, for both the
// device and the CPU reference.

struct Params {
    len: u32,
    // adamw: elements to decay; sum_squares: elements per invocation.
    decay_len_or_per: u32,
    b1: f32,
    b2: f32,
    eps: f32,
    weight_decay: f32,
    max_norm: f32,
    // sum_squares: the first group's index in `partial` (a range of a vector larger than one
    // binding writes its groups after the earlier ranges'); adamw ignores it.
    group0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> w: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> m1: array<f32>;
@group(0) @binding(4) var<storage, read_write> m2: array<f32>;
@group(0) @binding(5) var<storage, read> norm_sq: array<f32>;
@group(0) @binding(6) var<storage, read> step: array<f32>;
@group(0) @binding(7) var<storage, read_write> partial: array<f32>;

var<workgroup> part: array<f32, LINEAR_WORKGROUP>;

@compute @workgroup_size(LINEAR_WORKGROUP)
fn sum_squares(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let per = p.decay_len_or_per;
    let start = (wg.x * LINEAR_WORKGROUP + l) * per;
    var s = 0.0;
    for (var e = 0u; e < per; e++) {
        let i = start + e;
        if (i < p.len) {
            let v = grad[i];
            s = s + v * v;
        }
    }
    part[l] = s;
    workgroupBarrier();
    for (var stride = LINEAR_WORKGROUP / 2u; stride > 0u; stride = stride / 2u) {
        if (l < stride) {
            part[l] = part[l] + part[l + stride];
        }
        workgroupBarrier();
    }
    if (l == 0u) {
        partial[p.group0 + wg.x] = part[0];
    }
}

@compute @workgroup_size(LINEAR_WORKGROUP)
fn adamw(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups);
    if (i >= p.len) {
        return;
    }
    var scale = 1.0;
    if (p.max_norm > 0.0) {
        scale = min(1.0, p.max_norm / (sqrt(norm_sq[0]) + 1e-6));
    }
    let lr = step[0];
    let g = grad[i] * scale;
    let m = p.b1 * m1[i] + (1.0 - p.b1) * g;
    let v = p.b2 * m2[i] + (1.0 - p.b2) * (g * g);
    m1[i] = m;
    m2[i] = v;
    var wi = w[i];
    if (i < p.decay_len_or_per) {
        wi = wi - lr * p.weight_decay * wi;
    }
    w[i] = wi - lr * (m * step[1]) / (sqrt(v * step[2]) + p.eps);
}
