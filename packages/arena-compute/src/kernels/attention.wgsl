// Causal multi-head attention, forward and backward, over the fused projection qkv ([N, 3d]: q,
// then k, then v; head h owns columns h*hd..(h+1)*hd of each, as GPT-2's `split`).
//
// Not fused (no flash attention): scores and masked softmax are one kernel writing the
// probabilities P [b, heads, t, t], and P times V another. Why: the backward pass needs P, and
// storing it (t^2 floats per head and sequence, 64 KiB at t = 128) is cheaper than recomputing it;
// a fused kernel's online softmax would also rescale partial sums in an order no plain reference
// shares, where here every sum runs over j = 0, 1, ... like lm::reference. The shared matmul
// kernels have no batch dimension, so the b * heads small products are these dedicated loops.
// Entries above the diagonal are never read: rows are written with zeros there.
//
// P grows as t^2 (4 MiB per head and sequence at t = 1024: 48 MiB for GPT-2 small's 12 heads), so
// a dispatch covers the (sequence, head) pairs pair0..pair0 + pairs, pair = s * heads + h, and
// P and dS hold only those pairs' rows: the host splits a batch into such chunks, each within one
// storage binding. Which pairs share a dispatch changes no sum.
struct Params {
    b: u32,
    t: u32,
    heads: u32,
    hd: u32,
    // 1 / sqrt(hd), computed on the host.
    scale: f32,
    pair0: u32,
    pairs: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read_write> probs: array<f32>;
@group(0) @binding(3) var<storage, read_write> o: array<f32>;
@group(0) @binding(4) var<storage, read> probs_in: array<f32>;
@group(0) @binding(5) var<storage, read> dout: array<f32>;
@group(0) @binding(6) var<storage, read_write> ds: array<f32>;
@group(0) @binding(7) var<storage, read> ds_in: array<f32>;
@group(0) @binding(8) var<storage, read_write> dqkv: array<f32>;

// Index of element c of part (0 q, 1 k, 2 v) of head h at position i of sequence s.
fn at(s: u32, i: u32, part: u32, h: u32) -> u32 {
    let d = p.heads * p.hd;
    return (s * p.t + i) * 3u * d + part * d + h * p.hd;
}

// (sequence, head, position) of row `local` of this dispatch's P (row = local pair * t + i).
fn row_at(local: u32) -> vec3<u32> {
    let pair = p.pair0 + local / p.t;
    return vec3<u32>(pair / p.heads, pair % p.heads, local % p.t);
}

// One invocation per row (s, h, i) of the chunk: scores q_i . k_j * scale for j <= i, their max,
// then probs = exp(score - max) / sum.
@compute @workgroup_size(ROW_WORKGROUP)
fn attn_softmax(@builtin(global_invocation_id) gid: vec3<u32>) {
    let row = gid.x;
    if (row >= p.pairs * p.t) {
        return;
    }
    let at_row = row_at(row);
    let s = at_row.x;
    let h = at_row.y;
    let i = at_row.z;
    let base = row * p.t;
    let q = at(s, i, 0u, h);
    var m = -3.4028235e38;
    for (var j = 0u; j <= i; j++) {
        let k = at(s, j, 1u, h);
        var dot = 0.0;
        for (var c = 0u; c < p.hd; c++) {
            dot = dot + qkv[q + c] * qkv[k + c];
        }
        let score = dot * p.scale;
        probs[base + j] = score;
        m = max(m, score);
    }
    var sum = 0.0;
    for (var j = 0u; j <= i; j++) {
        sum = sum + exp(probs[base + j] - m);
    }
    for (var j = 0u; j < p.t; j++) {
        if (j <= i) {
            probs[base + j] = exp(probs[base + j] - m) / sum;
        } else {
            probs[base + j] = 0.0;
        }
    }
}

// o[s, i, h hd + c] = sum over j <= i of P[s, h, i, j] v_j[c]; one invocation per element of
// the chunk's pairs (local row * hd + c).
@compute @workgroup_size(LINEAR_WORKGROUP)
fn attn_apply(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let idx = flat_index(gid, groups);
    if (idx >= p.pairs * p.t * p.hd) {
        return;
    }
    let row = idx / p.hd;
    let c = idx % p.hd;
    let at_row = row_at(row);
    let s = at_row.x;
    let h = at_row.y;
    let i = at_row.z;
    let base = row * p.t;
    var acc = 0.0;
    for (var j = 0u; j <= i; j++) {
        acc = acc + probs_in[base + j] * qkv[at(s, j, 2u, h) + c];
    }
    o[(s * p.t + i) * p.heads * p.hd + h * p.hd + c] = acc;
}

// One invocation per row: dP_j = dout_i . v_j, then dS_j = P_j (dP_j - sum_j P_j dP_j) * scale
// (the softmax's backward with the score scale folded in); 0 above the diagonal.
@compute @workgroup_size(ROW_WORKGROUP)
fn attn_grad_scores(@builtin(global_invocation_id) gid: vec3<u32>) {
    let row = gid.x;
    if (row >= p.pairs * p.t) {
        return;
    }
    let at_row = row_at(row);
    let s = at_row.x;
    let h = at_row.y;
    let i = at_row.z;
    let base = row * p.t;
    let g = (s * p.t + i) * p.heads * p.hd + h * p.hd;
    var dot = 0.0;
    for (var j = 0u; j <= i; j++) {
        let v = at(s, j, 2u, h);
        var dp = 0.0;
        for (var c = 0u; c < p.hd; c++) {
            dp = dp + dout[g + c] * qkv[v + c];
        }
        ds[base + j] = dp;
        dot = dot + probs_in[base + j] * dp;
    }
    for (var j = 0u; j < p.t; j++) {
        if (j <= i) {
            ds[base + j] = probs_in[base + j] * (ds[base + j] - dot) * p.scale;
        } else {
            ds[base + j] = 0.0;
        }
    }
}

// dqkv, one invocation per element of the chunk's pairs (part, local row, c): dq_i = sum over
// j <= i of dS[i, j] k_j; dk_j = sum over i >= j of dS[i, j] q_i; dv_j = sum over i >= j of
// P[i, j] dout_i. Gathers, not scatters: each output element is one invocation's ordered sum.
@compute @workgroup_size(LINEAR_WORKGROUP)
fn attn_grad_qkv(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let idx = flat_index(gid, groups);
    let per_part = p.pairs * p.t * p.hd;
    if (idx >= 3u * per_part) {
        return;
    }
    let part = idx / per_part;
    let row = (idx % per_part) / p.hd;
    let c = idx % p.hd;
    let at_row = row_at(row);
    let s = at_row.x;
    let h = at_row.y;
    let i = at_row.z;
    let d = p.heads * p.hd;
    // The first row of this (sequence, head) in the chunk's P and dS.
    let head = row - i;
    var acc = 0.0;
    if (part == 0u) {
        for (var j = 0u; j <= i; j++) {
            acc = acc + ds_in[(head + i) * p.t + j] * qkv[at(s, j, 1u, h) + c];
        }
    } else if (part == 1u) {
        for (var r = i; r < p.t; r++) {
            acc = acc + ds_in[(head + r) * p.t + i] * qkv[at(s, r, 0u, h) + c];
        }
    } else {
        for (var r = i; r < p.t; r++) {
            acc = acc + probs_in[(head + r) * p.t + i] * dout[(s * p.t + r) * d + h * p.hd + c];
        }
    }
    dqkv[at(s, i, part, h) + c] = acc;
}
