// Moving data into a batch, and moving the step state on.
//
// gather: x[r, f] = (feature(perm[batch * batch_stride + r], f) - offset[f]) * scale[f] and
// y[r] = labels[same row], for the rows of one data chunk. Features are stored either as u8 packed
// four to a u32 (IDX images, integer CSVs: a quarter of the memory, so a 60,000 x 784 set fits one
// binding) or as f32 bits. offset and scale are the model's feature scaling, stored as one array:
// offset in [0, cols), scale in [cols, 2 cols).
//
// advance: one invocation; batch += 1 and step += 1 after each batch, so every step of an epoch can
// be recorded into one submission with the same bind groups.

struct Params {
    rows: u32,
    cols: u32,
    batch_stride: u32,
    packed_u8: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> features: array<u32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read> perm: array<u32>;
@group(0) @binding(4) var<storage, read> scaling: array<f32>;
@group(0) @binding(5) var<storage, read> state: Step;
@group(0) @binding(6) var<storage, read_write> x: array<f32>;
@group(0) @binding(7) var<storage, read_write> y: array<u32>;

@group(0) @binding(8) var<storage, read_write> advance_state: Step;

@compute @workgroup_size(LINEAR_WORKGROUP)
fn gather(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = flat_index(gid, groups);
    if (i >= p.rows * p.cols) {
        return;
    }
    let r = i / p.cols;
    let f = i % p.cols;
    let src = perm[state.batch * p.batch_stride + r];
    let e = src * p.cols + f;
    var raw: f32;
    if (p.packed_u8 != 0u) {
        raw = f32((features[e / 4u] >> (8u * (e % 4u))) & 0xffu);
    } else {
        raw = bitcast<f32>(features[e]);
    }
    x[i] = (raw - scaling[f]) * scaling[p.cols + f];
    if (f == 0u) {
        y[r] = labels[src];
    }
}

@compute @workgroup_size(1)
fn advance() {
    advance_state.batch = advance_state.batch + 1u;
    advance_state.step = advance_state.step + 1u;
}
