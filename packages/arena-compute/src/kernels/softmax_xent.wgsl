// Softmax cross-entropy over a batch of logits, one invocation per row (class counts are small; a
// row's sums run over its classes in order, so the result is fixed).
//
// Numerically stable: with m = max_j z_j and s = sum_j exp(z_j - m),
//   loss = log(s) - (z_y - m)          (never exp of a large number)
//   grad[r, j] = (exp(z_j - m) / s - [j == y]) / rows   (the gradient of the batch's mean loss)
// Per row it also records the loss and whether argmax (the first maximum) equals the label, at the
// row's place in the epoch or evaluation order: row_base + batch * batch_stride + r, where batch and
// row_base come from the step state that the advance kernel moves on.

struct Params {
    rows: u32,
    classes: u32,
    batch_stride: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read_write> grad: array<f32>;
@group(0) @binding(4) var<storage, read_write> row_loss: array<f32>;
@group(0) @binding(5) var<storage, read_write> row_correct: array<u32>;
@group(0) @binding(6) var<storage, read> state: Step;

@compute @workgroup_size(ROW_WORKGROUP)
fn softmax_xent(@builtin(global_invocation_id) gid: vec3<u32>) {
    let r = gid.x;
    if (r >= p.rows) {
        return;
    }
    let base = r * p.classes;
    var m = logits[base];
    var arg = 0u;
    for (var j = 1u; j < p.classes; j++) {
        let z = logits[base + j];
        if (z > m) {
            m = z;
            arg = j;
        }
    }
    var s = 0.0;
    for (var j = 0u; j < p.classes; j++) {
        s = s + exp(logits[base + j] - m);
    }
    let y = labels[r];
    let n = f32(p.rows);
    for (var j = 0u; j < p.classes; j++) {
        let prob = exp(logits[base + j] - m) / s;
        grad[base + j] = (prob - select(0.0, 1.0, j == y)) / n;
    }
    let out = state.row_base + state.batch * p.batch_stride + r;
    row_loss[out] = log(s) - (logits[base + y] - m);
    row_correct[out] = select(0u, 1u, arg == y);
}
