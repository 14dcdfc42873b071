//! Dispatch of the token + position embedding and its gradients (embedding.wgsl).

use std::ops::Range;

use super::{grid, Kernel, Op, Slice};
use crate::device::Gpu;

/// The batch and model sizes the embedding kernels index with.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EmbedShape {
    /// Sequences and tokens per sequence: b * t rows.
    pub(crate) b: usize,
    pub(crate) t: usize,
    pub(crate) d: usize,
    pub(crate) vocab: usize,
    /// Rows of the position table.
    pub(crate) ctx: usize,
}

impl EmbedShape {
    /// With the block of token rows `embed` reads or `embed_token_grad` writes.
    fn params(&self, block: Range<usize>) -> [u32; 8] {
        [self.b * self.t, self.d, self.t, self.vocab, self.ctx, self.b, block.start, block.len()].map(|v| v as u32)
    }
}

/// x[n] = wte[tokens[n]] + wpe[n mod t] for the positions whose token is in `block`; `wte` holds
/// the block's rows. One dispatch per block covers a table larger than one storage binding.
pub(crate) fn embed(
    gpu: &Gpu,
    s: EmbedShape,
    block: Range<usize>,
    tokens: Slice,
    wte: Slice,
    wpe: Slice,
    x: Slice,
) -> Op {
    let rows = s.b * s.t;
    assert!(s.t <= s.ctx && tokens.len >= rows && wpe.len >= s.t * s.d && x.len >= rows * s.d);
    assert!(block.end <= s.vocab && wte.len >= block.len() * s.d);
    let bindings = [(1, tokens), (2, wte), (3, wpe), (4, x)];
    Op::new(gpu, Kernel::Embed, &s.params(block), &bindings, grid(rows * s.d))
}

/// dwte[v] += the sum of dx over token v's positions for the tokens v in `block`, `dwte` holding
/// the block's rows; `order` and `starts` from `lm::reference::token_segments`. One dispatch per
/// block covers a table larger than one storage binding (each row's sum is one invocation's).
#[allow(clippy::too_many_arguments)]
pub(crate) fn embed_token_grad(
    gpu: &Gpu,
    s: EmbedShape,
    block: Range<usize>,
    order: Slice,
    starts: Slice,
    dx: Slice,
    dwte: Slice,
) -> Op {
    let rows = s.b * s.t;
    assert!(order.len >= rows && starts.len > s.vocab && dx.len >= rows * s.d);
    assert!(block.end <= s.vocab && dwte.len >= block.len() * s.d);
    let bindings = [(5, order), (6, starts), (7, dx), (8, dwte)];
    let n = block.len() * s.d;
    Op::new(gpu, Kernel::EmbedTokenGrad, &s.params(block), &bindings, grid(n))
}

/// dwpe = the sum of dx over sequences for positions below t, 0 for the rest of the table.
pub(crate) fn embed_pos_grad(gpu: &Gpu, s: EmbedShape, dx: Slice, dwpe: Slice) -> Op {
    assert!(dx.len >= s.b * s.t * s.d && dwpe.len >= s.ctx * s.d);
    Op::new(gpu, Kernel::EmbedPosGrad, &s.params(0..s.vocab), &[(7, dx), (9, dwpe)], grid(s.ctx * s.d))
}
