// Token + position embedding (forward) and both embedding gradients (backward). The token
// gradient is a scatter (every position adds into its token's row); doing it with atomics would
// make the f32 sums depend on thread timing, so the host sorts the batch's positions by token
// (a counting sort, `lm::reference::token_segments`) and each invocation here gathers one (token,
// column) sum over its segment, positions in increasing order: fixed order, no atomics.

struct Params {
    rows: u32,
    d: u32,
    t: u32,
    vocab: u32,
    ctx: u32,
    b: u32,
    // The rows of the token table embed reads and embed_token_grad writes: tokens
    // block0..block0 + block_len, wte's and dwte's rows 0..block_len (the whole table, or one
    // block of a table larger than one storage binding).
    block0: u32,
    block_len: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> tokens: array<u32>;
@group(0) @binding(2) var<storage, read> wte: array<f32>;
@group(0) @binding(3) var<storage, read> wpe: array<f32>;
@group(0) @binding(4) var<storage, read_write> x: array<f32>;
@group(0) @binding(5) var<storage, read> order: array<u32>;
@group(0) @binding(6) var<storage, read> starts: array<u32>;
@group(0) @binding(7) var<storage, read> dx: array<f32>;
@group(0) @binding(8) var<storage, read_write> dwte: array<f32>;
@group(0) @binding(9) var<storage, read_write> dwpe: array<f32>;

// x[n, c] = wte[tokens[n], c] + wpe[n mod t, c] for the positions whose token is in this block
// (the blocks' dispatches write disjoint positions). The host checks tokens against the
// vocabulary; the clamp only keeps a bad id inside the table.
@compute @workgroup_size(LINEAR_WORKGROUP)
fn embed(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups);
    if (i >= p.rows * p.d) {
        return;
    }
    let n = i / p.d;
    let c = i % p.d;
    let tok = min(tokens[n], p.vocab - 1u);
    if (tok < p.block0 || tok - p.block0 >= p.block_len) {
        return;
    }
    x[i] = wte[(tok - p.block0) * p.d + c] + wpe[(n % p.t) * p.d + c];
}

// dwte[v, c] += sum of dx[n, c] over the positions n of token v (order[starts[v]..starts[v+1]]),
// for the block's tokens v. Adds: the tied output layer's gradient is already there.
@compute @workgroup_size(LINEAR_WORKGROUP)
fn embed_token_grad(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups);
    if (i >= p.block_len * p.d) {
        return;
    }
    let v = p.block0 + i / p.d;
    let c = i % p.d;
    var s = 0.0;
    for (var k = starts[v]; k < starts[v + 1u]; k++) {
        s = s + dx[order[k] * p.d + c];
    }
    dwte[i] = dwte[i] + s;
}

// dwpe[q, c] = sum over sequences of dx[s t + q, c] for q < t, sequences in order; 0 past t.
@compute @workgroup_size(LINEAR_WORKGROUP)
fn embed_pos_grad(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups);
    if (i >= p.ctx * p.d) {
        return;
    }
    let q = i / p.d;
    let c = i % p.d;
    var s = 0.0;
    if (q < p.t) {
        for (var seq = 0u; seq < p.b; seq++) {
            s = s + dx[(seq * p.t + q) * p.d + c];
        }
    }
    dwpe[i] = s;
}
