// Prepended to batch.wgsl, softmax_xent.wgsl and optimizer.wgsl (WGSL has no include): the
// training step's state, which lives on the device so that a whole epoch of steps can be recorded
// with the same bind groups. `advance` (batch.wgsl) moves it on after each batch.
//
// batch: the batch within the current data chunk; row_base: the chunk's first row, where per-row
// results land; step: the optimizer step, counted from 0 across chunks and epochs (Adam's bias
// correction table is indexed by it).

struct Step {
    batch: u32,
    row_base: u32,
    step: u32,
    _pad: u32,
}

