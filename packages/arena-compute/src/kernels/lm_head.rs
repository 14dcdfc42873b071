//! The language model's head: logits = hf wteᵀ (the output layer tied to the token embedding),
//! the cross-entropy over the vocabulary (vocab_xent.wgsl), and in training the head's backward
//! (the tied table's gradient and dh = dlogits wte).
//!
//! The logits are [positions, vocab]: 200 MB for one GPT-2 sequence of 1,024 tokens over 50,257
//! tokens, past the 128 MiB one storage binding holds on lavapipe and GL. So the head runs in
//! chunks of rows, each chunk's logits in one buffer that the next chunk reuses: the logits, the
//! loss and, in training, the gradient (written over the logits in place) and its backward are
//! done before the next chunk starts. A table larger than one binding (GPT-2's wte: 154 MB) is
//! read in blocks of vocabulary rows, each block's logits written as columns of the chunk.
//! Neither split changes a sum: each logit is one dot product and each row's loss one workgroup's,
//! so the losses are bit-identical whatever the chunking; in training, the table's gradient (a sum
//! over rows) and dh (a sum over the vocabulary) continue their sums chunk by chunk and block by
//! block in place (`matmul_accumulate`), so they are too.

use std::ops::Range;

use super::{matmul, matmul_accumulate, matmul_columns, row_scale, Kernel, MatmulShape, MatmulVariant, Op, Slice};
use crate::device::Gpu;

/// Storage offsets must be multiples of 256 bytes: chunks start at multiples of 64 rows (and of 64
/// table rows), which keeps every row-slice offset (64 x 4 x width bytes) aligned.
const ALIGN_ROWS: usize = 64;

/// How the head splits a batch: rows per chunk and table rows per block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HeadPlan {
    pub(crate) rows: usize,
    pub(crate) vocab_block: usize,
}

impl HeadPlan {
    /// The largest chunks of `n` rows of `vocab` logits (and blocks of a `d`-wide table) within
    /// `max_bytes`; at least 64 rows or table rows (an alignment a binding limit of 128 MiB holds
    /// up to 524,288 tokens of vocabulary).
    pub(crate) fn new(n: usize, d: usize, vocab: usize, max_bytes: u64) -> Self {
        let within = |width: usize, count: usize| {
            let fit = (max_bytes / (width * 4) as u64) as usize;
            if fit >= count {
                count
            } else {
                (fit / ALIGN_ROWS * ALIGN_ROWS).max(ALIGN_ROWS)
            }
        };
        HeadPlan { rows: within(vocab, n), vocab_block: within(d, vocab) }
    }

    fn split(step: usize, len: usize) -> impl Iterator<Item = Range<usize>> {
        (0..len).step_by(step).map(move |start| start..(start + step).min(len))
    }

    /// The row chunks of `n` rows.
    pub(crate) fn chunks(&self, n: usize) -> impl Iterator<Item = Range<usize>> {
        Self::split(self.rows, n)
    }

    /// The table's blocks of `vocab` rows.
    pub(crate) fn blocks(&self, vocab: usize) -> impl Iterator<Item = Range<usize>> {
        Self::split(self.vocab_block, vocab)
    }
}

/// Loss of rows row0..row0 + rows, each `vocab` logits of `logits` from its start; with
/// `write_grad` the logits are replaced by the gradient of the mean loss over `total_rows`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn vocab_xent(
    gpu: &Gpu,
    rows: usize,
    vocab: usize,
    row0: usize,
    total_rows: usize,
    write_grad: bool,
    logits: Slice,
    targets: Slice,
    row_loss: Slice,
) -> Op {
    assert!(rows > 0 && logits.len >= rows * vocab && targets.len >= row0 + rows && row_loss.len >= row0 + rows);
    let params = [rows, vocab, row0, total_rows, write_grad as usize, 0, 0, 0].map(|v| v as u32);
    let groups = if rows <= 65_535 { [rows as u32, 1, 1] } else { [65_535, rows.div_ceil(65_535) as u32, 1] };
    Op::new(gpu, Kernel::VocabXent, &params, &[(1, logits), (2, targets), (3, row_loss)], groups)
}

/// What the head reads and writes. `hf` is the final LayerNorm's output [n, d]; `logits` holds
/// one chunk.
pub(crate) struct HeadTensors<'a> {
    pub(crate) hf: &'a wgpu::Buffer,
    pub(crate) wte: Slice<'a>,
    pub(crate) targets: Slice<'a>,
    pub(crate) row_loss: Slice<'a>,
    pub(crate) logits: &'a wgpu::Buffer,
}

/// The head's backward: dh [n, d]; the table's gradient (`None` when frozen under an adapter); the
/// adapter's per-row loss scales.
pub(crate) struct HeadGrads<'a> {
    pub(crate) dh: &'a wgpu::Buffer,
    pub(crate) dwte: Option<Slice<'a>>,
    pub(crate) row_scale: Option<&'a wgpu::Buffer>,
}

/// The head's ops for `n` rows (forward and loss; with `grads` the backward too), chunk by chunk.
#[allow(clippy::too_many_arguments)]
pub(crate) fn lm_head(
    gpu: &Gpu,
    variant: MatmulVariant,
    plan: HeadPlan,
    n: usize,
    d: usize,
    vocab: usize,
    x: HeadTensors,
    grads: Option<HeadGrads>,
) -> Vec<Op> {
    let rows_of =
        |buffer, rows: &Range<usize>, width: usize| Slice::new(buffer, rows.start * width, rows.len() * width);
    // A block of a [vocab, d] table's rows.
    fn block_of<'a>(table: Slice<'a>, block: &Range<usize>, d: usize) -> Slice<'a> {
        Slice::new(table.buffer, table.offset + block.start * d, block.len() * d)
    }
    // C = A B, or C += A B continuing C's sums where an earlier chunk or block started them.
    let product = |first: bool, shape, a, b, c| {
        if first {
            matmul(gpu, variant, shape, a, b, c)
        } else {
            matmul_accumulate(gpu, variant, shape, a, b, c)
        }
    };
    let mut ops = Vec::new();
    for (c, rows) in plan.chunks(n).enumerate() {
        let m = rows.len();
        let logits = Slice::new(x.logits, 0, m * vocab);
        // A block's columns of the chunk's logits (or their gradient): [m, block] from the block's
        // first column, rows `vocab` apart.
        let columns = |block: &Range<usize>| Slice::new(x.logits, block.start, m * vocab - block.start);
        for block in plan.blocks(vocab) {
            let shape = MatmulShape::nt(m, d, block.len());
            let table = block_of(x.wte, &block, d);
            ops.push(matmul_columns(gpu, variant, shape, rows_of(x.hf, &rows, d), table, columns(&block), vocab));
        }
        ops.push(vocab_xent(gpu, m, vocab, rows.start, n, grads.is_some(), logits, x.targets, x.row_loss));
        let Some(g) = &grads else { continue };
        if let Some(scales) = g.row_scale {
            ops.push(row_scale(gpu, m, vocab, rows_of(scales, &rows, 1), logits));
        }
        // Both products split a sum: dwte's over the rows (chunks), dh's over the vocabulary
        // (blocks). Each continues its sum in place, so they are bit-identical however split.
        for block in plan.blocks(vocab) {
            if let Some(dwte) = g.dwte {
                // dwte[block] (+)= dlogits[:, block]ᵀ hf[rows].
                let shape = MatmulShape { a_row_stride: 1, a_col_stride: vocab, ..MatmulShape::nn(block.len(), m, d) };
                ops.push(product(c == 0, shape, columns(&block), rows_of(x.hf, &rows, d), block_of(dwte, &block, d)));
            }
            // dh[rows] (+)= dlogits[:, block] wte[block].
            let shape = MatmulShape { a_row_stride: vocab, ..MatmulShape::nn(m, block.len(), d) };
            let dh = rows_of(g.dh, &rows, d);
            ops.push(product(block.start == 0, shape, columns(&block), block_of(x.wte, &block, d), dh));
        }
    }
    ops
}
