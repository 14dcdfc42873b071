// Optimizer steps over the flat parameter buffer (every layer's weights and biases, one dispatch per
// step). Padding between tensors has zero gradient and stays zero under both rules.
//
// Both rules add L2 weight decay to the gradient first: g = grad + weight_decay * w.
//   sgd:  v = momentum * v + g;  w = w - lr * v                     (PyTorch's SGD with momentum)
//   adam: m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
//         w = w - lr * (m * c1[t]) / (sqrt(v * c2[t]) + eps)
// where c1[t] = 1 / (1 - b1^(t+1)), c2[t] = 1 / (1 - b2^(t+1)) come from a table computed on the
// host (no pow on the device: the CPU reference uses the same f32 values) and t = state.step.

struct Params {
    len: u32,
    lr: f32,
    momentum_or_b1: f32,
    one_minus_b1: f32,
    b2: f32,
    one_minus_b2: f32,
    eps: f32,
    weight_decay: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> w: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> m1: array<f32>;
@group(0) @binding(4) var<storage, read_write> m2: array<f32>;
@group(0) @binding(5) var<storage, read> bias_correction: array<vec2<f32>>;
@group(0) @binding(6) var<storage, read> state: Step;

@compute @workgroup_size(LINEAR_WORKGROUP)
fn sgd(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups);
    if (i >= p.len) {
        return;
    }
    let g = grad[i] + p.weight_decay * w[i];
    let v = p.momentum_or_b1 * m1[i] + g;
    m1[i] = v;
    w[i] = w[i] - p.lr * v;
}

@compute @workgroup_size(LINEAR_WORKGROUP)
fn adam(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups);
    if (i >= p.len) {
        return;
    }
    let c = bias_correction[state.step];
    let g = grad[i] + p.weight_decay * w[i];
    let m = p.momentum_or_b1 * m1[i] + p.one_minus_b1 * g;
    let v = p.b2 * m2[i] + p.one_minus_b2 * (g * g);
    m1[i] = m;
    m2[i] = v;
    w[i] = w[i] - p.lr * (m * c.x) / (sqrt(v * c.y) + p.eps);
}
