// Bias + activation (forward) and the activation's backward pass: two entry points sharing the
// activation code, so the derivative always matches the function.
// Activation codes (see model::Activation::code): 0 identity, 1 ReLU, 2 tanh, 3 GELU (tanh form).
// Elementwise entry points run 256 invocations per workgroup over a 2-D grid of workgroups (the
// x dimension alone is capped at 65,535), flattened back to one index.

struct Params {
    rows: u32,
    cols: u32,
    activation: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;

const GELU_C: f32 = 0.7978845608028654; // sqrt(2 / pi)
const GELU_A: f32 = 0.044715;

// GELU's multiply-adds are written as fma(): left as a * b + c, Mesa fused some of them into one
// rounding on one of Vulkan and GL and not on the other, and the same model scored other bits on
// GL (tests/lm_training.rs compares the two bit for bit). An explicit fma leaves the compiler no
// choice.

// tanh(sqrt(2 / pi) (z + 0.044715 z^3)), GPT-2's gelu_new.
fn gelu_tanh(z: f32) -> f32 {
    return tanh(GELU_C * fma(GELU_A * z * z, z, z));
}

fn activate(z: f32) -> f32 {
    switch p.activation {
        case 1u: { return select(0.0, z, z > 0.0); }
        case 2u: { return tanh(z); }
        case 3u: {
            return 0.5 * z * (1.0 + gelu_tanh(z));
        }
        default: { return z; }
    }
}

// d/dz of activate, times the incoming gradient g; `a` is activate(z).
fn backward(g: f32, z: f32, a: f32) -> f32 {
    switch p.activation {
        case 1u: { return select(0.0, g, z > 0.0); }
        case 2u: { return g * fma(-a, a, 1.0); }
        case 3u: {
            let t = gelu_tanh(z);
            let dt = GELU_C * fma(3.0 * GELU_A * z, z, 1.0);
            return g * fma(0.5 * z * fma(-t, t, 1.0), dt, 0.5 * (1.0 + t));
        }
        default: { return g; }
    }
}

// bias_act: z[r, c] += bias[c]; out[r, c] = activate(z[r, c]). z keeps the pre-activation for the
// backward pass.
@group(0) @binding(1) var<storage, read> fwd_bias: array<f32>;
@group(0) @binding(2) var<storage, read_write> fwd_z: array<f32>;
@group(0) @binding(3) var<storage, read_write> fwd_out: array<f32>;

@compute @workgroup_size(LINEAR_WORKGROUP)
fn bias_act(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups);
    if (i >= p.rows * p.cols) {
        return;
    }
    let z = fwd_z[i] + fwd_bias[i % p.cols];
    fwd_z[i] = z;
    fwd_out[i] = activate(z);
}

// act_backward: grad[r, c] = grad[r, c] * activate'(z[r, c]), in place.
@group(0) @binding(4) var<storage, read> bwd_z: array<f32>;
@group(0) @binding(5) var<storage, read> bwd_out: array<f32>;
@group(0) @binding(6) var<storage, read_write> bwd_grad: array<f32>;

@compute @workgroup_size(LINEAR_WORKGROUP)
fn act_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups);
    if (i >= p.rows * p.cols) {
        return;
    }
    bwd_grad[i] = backward(bwd_grad[i], bwd_z[i], bwd_out[i]);
}
