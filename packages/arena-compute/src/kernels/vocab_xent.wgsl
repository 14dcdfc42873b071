// Cross-entropy of a language model's logits over its vocabulary: one workgroup per row
// (position), LINEAR_WORKGROUP invocations striding over the row, then fixed-tree reductions in
// workgroup memory for the row's max and sum of exponentials. No atomics: the order of every sum
// depends only on the vocabulary size, so a row gives the same bits on every run (and on every
// device that rounds exp alike). Rows of 50,257 logits would leave one invocation per row looping
// over the whole vocabulary three times; here each invocation reads ~200 of them.
//
// Numerically stable, with m = max_j z_j and s = sum_j exp(z_j - m):
//   loss = log(s) - (z_y - m)
//   with write_grad: z_j is replaced, in place, by (exp(z_j - m) / s - [j == y]) / total_rows, the
//   gradient of the mean loss over all total_rows positions of the batch (a chunk of rows is
//   scaled by the whole batch's count, as the unchunked run).
// Row r of this dispatch is position row0 + r of the batch: its target and loss live there.

struct Params {
    rows: u32,
    vocab: u32,
    row0: u32,
    total_rows: u32,
    write_grad: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<u32>;
@group(0) @binding(3) var<storage, read_write> row_loss: array<f32>;

var<workgroup> part: array<f32, LINEAR_WORKGROUP>;

// Leaves part[0] = the max (combine 0) or the sum (combine 1) of part[0..LINEAR_WORKGROUP], pairs at
// strides 128, 64, ..., 1, and returns it to every invocation.
fn tree(l: u32, combine: u32) -> f32 {
    workgroupBarrier();
    for (var stride = LINEAR_WORKGROUP / 2u; stride > 0u; stride = stride / 2u) {
        if (l < stride) {
            if (combine == 0u) {
                part[l] = max(part[l], part[l + stride]);
            } else {
                part[l] = part[l] + part[l + stride];
            }
        }
        workgroupBarrier();
    }
    let total = part[0];
    // Nobody writes part again before everyone has read the total.
    workgroupBarrier();
    return total;
}

@compute @workgroup_size(LINEAR_WORKGROUP)
fn vocab_xent(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) l: u32,
) {
    // Rows past 65,535 spill into y (see `row_grid`); the row is uniform across the workgroup.
    let r = wg.x + wg.y * groups.x;
    if (r >= p.rows) {
        return;
    }
    let base = r * p.vocab;
    var m = -3.4028235e38;
    for (var j = l; j < p.vocab; j += LINEAR_WORKGROUP) {
        m = max(m, logits[base + j]);
    }
    part[l] = m;
    m = tree(l, 0u);
    var s = 0.0;
    for (var j = l; j < p.vocab; j += LINEAR_WORKGROUP) {
        s = s + exp(logits[base + j] - m);
    }
    part[l] = s;
    s = tree(l, 1u);
    let y = targets[p.row0 + r];
    let zy = logits[base + y];
    if (l == 0u) {
        row_loss[p.row0 + r] = log(s) - (zy - m);
    }
    if (p.write_grad == 0u) {
        return;
    }
    // Every invocation has read z_y before any overwrites it.
    storageBarrier();
    let n = f32(p.total_rows);
    for (var j = l; j < p.vocab; j += LINEAR_WORKGROUP) {
        let prob = exp(logits[base + j] - m) / s;
        logits[base + j] = (prob - select(0.0, 1.0, j == y)) / n;
    }
}
