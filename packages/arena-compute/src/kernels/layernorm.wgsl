// LayerNorm over rows of d values: forward, the input gradient and the parameter gradients. One
// invocation per row (or per column for the parameter sums), every sum in index order, so the
// results are fixed and the CPU reference (lm::reference) sums the same way. A workgroup-wide
// reduction per row would be faster for GPT-2's d = 768, but rows are many (batch x context), so
// one invocation each already fills the device.

struct Params {
    rows: u32,
    d: u32,
    eps: f32,
    // layernorm_backward: add into dx (the residual stream's gradient) instead of overwriting it.
    accumulate: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read_write> mean_out: array<f32>;
@group(0) @binding(6) var<storage, read_write> rstd_out: array<f32>;
@group(0) @binding(7) var<storage, read> mean: array<f32>;
@group(0) @binding(8) var<storage, read> rstd: array<f32>;
@group(0) @binding(9) var<storage, read> dy: array<f32>;
@group(0) @binding(10) var<storage, read_write> dx: array<f32>;
@group(0) @binding(11) var<storage, read_write> dw: array<f32>;
@group(0) @binding(12) var<storage, read_write> db: array<f32>;

// y = (x - mean) * rstd * w + bias, rstd = 1 / sqrt(var + eps); the variance is taken around the
// mean in a second pass (no E[x^2] - E[x]^2 cancellation).
@compute @workgroup_size(ROW_WORKGROUP)
fn layernorm(@builtin(global_invocation_id) gid: vec3<u32>) {
    let r = gid.x;
    if (r >= p.rows) {
        return;
    }
    let base = r * p.d;
    var s = 0.0;
    for (var c = 0u; c < p.d; c++) {
        s = s + x[base + c];
    }
    let m = s / f32(p.d);
    var var_sum = 0.0;
    for (var c = 0u; c < p.d; c++) {
        let e = x[base + c] - m;
        var_sum = var_sum + e * e;
    }
    let rs = 1.0 / sqrt(var_sum / f32(p.d) + p.eps);
    for (var c = 0u; c < p.d; c++) {
        y[base + c] = (x[base + c] - m) * rs * w[c] + bias[c];
    }
    mean_out[r] = m;
    rstd_out[r] = rs;
}

// dx (+)= rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * w, xhat = (x - mean) * rstd.
@compute @workgroup_size(ROW_WORKGROUP)
fn layernorm_backward(@builtin(global_invocation_id) gid: vec3<u32>) {
    let r = gid.x;
    if (r >= p.rows) {
        return;
    }
    let base = r * p.d;
    let m = mean[r];
    let rs = rstd[r];
    var sg = 0.0;
    var sgx = 0.0;
    for (var c = 0u; c < p.d; c++) {
        let g = dy[base + c] * w[c];
        sg = sg + g;
        sgx = sgx + g * ((x[base + c] - m) * rs);
    }
    let a = sg / f32(p.d);
    let bx = sgx / f32(p.d);
    for (var c = 0u; c < p.d; c++) {
        let i = base + c;
        let v = rs * (dy[i] * w[c] - a - (x[i] - m) * rs * bx);
        if (p.accumulate != 0u) {
            dx[i] = dx[i] + v;
        } else {
            dx[i] = v;
        }
    }
}

// dw[c] = sum over rows of dy * xhat, db[c] = sum over rows of dy, rows in order.
@compute @workgroup_size(ROW_WORKGROUP)
fn layernorm_param_grad(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    if (c >= p.d) {
        return;
    }
    var sw = 0.0;
    var sb = 0.0;
    for (var r = 0u; r < p.rows; r++) {
        let i = r * p.d + c;
        sw = sw + dy[i] * ((x[i] - mean[r]) * rstd[r]);
        sb = sb + dy[i];
    }
    dw[c] = sw;
    db[c] = sb;
}
