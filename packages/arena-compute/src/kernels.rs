//! The compute kernels: one WGSL file per family under `kernels/`, one pipeline per entry point, and
//! next to each file the Rust that checks shapes and builds its dispatches ([`Op`]s). Ops are
//! recorded many to a compute pass and many passes to a submission; wgpu orders the dispatches that
//! share buffers.

mod adamw;
mod attention;
mod batch;
mod embedding;
mod host;
mod layernorm;
mod layers;
mod lm_head;
mod lm_host;
mod lora;
mod matmul;
mod optimizer;
mod reduce;
mod residual;

use std::num::NonZeroU64;

pub(crate) use adamw::{clipped_adamw, sum_squares_split, AdamWTensors};
pub use adamw::{AdamWParams, SUM_SQUARES_GROUPS};
pub(crate) use attention::{attn_apply, attn_grad_qkv, attn_grad_scores, attn_softmax, AttnShape};
pub(crate) use batch::{advance, gather, GatherShape};
pub(crate) use embedding::{embed, embed_pos_grad, embed_token_grad, EmbedShape};
pub(crate) use layernorm::{layernorm, layernorm_backward, layernorm_param_grad, NormTensors};
pub(crate) use layers::{act_backward, bias_act, bias_grad, softmax_xent};
pub(crate) use lm_head::{lm_head, vocab_xent, HeadGrads, HeadPlan, HeadTensors};
pub use lm_host::AdamWRun;
pub(crate) use lora::{row_scale, scale_add};
pub(crate) use matmul::{matmul, matmul_accumulate, matmul_columns};
pub use matmul::{MatmulShape, MatmulVariant};
pub use optimizer::OptimizerParams;
pub(crate) use optimizer::{adam, sgd};
pub(crate) use reduce::{sum_f32, sum_u32};
pub(crate) use residual::{bias_add, bias_residual};

use crate::device::Gpu;

/// Every pipeline the worker compiles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Kernel {
    MatmulBlocked,
    MatmulTiled,
    BiasAct,
    ActBackward,
    BiasGrad,
    SoftmaxXent,
    Sgd,
    Adam,
    SumF32,
    SumU32,
    Gather,
    Advance,
    // The language model's (lm::): embedding.wgsl, layernorm.wgsl, attention.wgsl, residual.wgsl,
    // adamw.wgsl, lora.wgsl, vocab_xent.wgsl.
    Embed,
    EmbedTokenGrad,
    EmbedPosGrad,
    LayerNorm,
    LayerNormBackward,
    LayerNormParamGrad,
    AttnSoftmax,
    AttnApply,
    AttnGradScores,
    AttnGradQkv,
    BiasAdd,
    BiasResidual,
    SumSquares,
    AdamW,
    ScaleAdd,
    RowScale,
    VocabXent,
}

/// Invocations per workgroup of the element-wise kernels and of one level of a reduction.
pub(crate) const LINEAR_WORKGROUP: u32 = 256;
/// Invocations per workgroup of the kernels that give one invocation a row or a column
/// (the classifier's softmax-xent over a few classes, the bias gradient; a language model's rows
/// of a whole vocabulary get a workgroup each instead: vocab_xent.wgsl).
pub(crate) const ROW_WORKGROUP: u32 = 64;
/// Matmul: MATMUL_INVOCATIONS x MATMUL_INVOCATIONS invocations per workgroup, each computing a 4 x 4
/// block of C, so a workgroup computes a MATMUL_TILE x MATMUL_TILE tile.
pub(crate) const MATMUL_INVOCATIONS: u32 = 16;
pub(crate) const MATMUL_TILE: u32 = 4 * MATMUL_INVOCATIONS;

/// The sizes above as WGSL constants, prepended to every shader: the one definition the shaders'
/// `@workgroup_size`s and the host's dispatch counts share.
fn wgsl_sizes() -> String {
    format!(
        "const LINEAR_WORKGROUP: u32 = {LINEAR_WORKGROUP}u;\nconst ROW_WORKGROUP: u32 = {ROW_WORKGROUP}u;\n\
         const MATMUL_INVOCATIONS: u32 = {MATMUL_INVOCATIONS}u;\nconst MATMUL_TILE: u32 = {MATMUL_TILE}u;\n"
    )
}

impl Kernel {
    /// The WGSL source and entry point. WGSL has no include, so what several files share (the
    /// sizes, `linear.wgsl`, `matmul_io.wgsl`, `step.wgsl`) is prepended to them here.
    pub(crate) fn source(self) -> (String, &'static str) {
        const MATMUL_BLOCKED: &str =
            concat!(include_str!("kernels/matmul_io.wgsl"), include_str!("kernels/matmul_blocked.wgsl"));
        const MATMUL_TILED: &str =
            concat!(include_str!("kernels/matmul_io.wgsl"), include_str!("kernels/matmul_tiled.wgsl"));
        const ACTIVATION: &str = concat!(include_str!("kernels/linear.wgsl"), include_str!("kernels/activation.wgsl"));
        const BIAS_GRAD: &str = include_str!("kernels/bias_grad.wgsl");
        const SOFTMAX_XENT: &str =
            concat!(include_str!("kernels/step.wgsl"), include_str!("kernels/softmax_xent.wgsl"));
        const OPTIMIZER: &str = concat!(
            include_str!("kernels/step.wgsl"),
            include_str!("kernels/linear.wgsl"),
            include_str!("kernels/optimizer.wgsl")
        );
        const REDUCE: &str = include_str!("kernels/reduce.wgsl");
        const BATCH: &str = concat!(
            include_str!("kernels/step.wgsl"),
            include_str!("kernels/linear.wgsl"),
            include_str!("kernels/batch.wgsl")
        );
        const EMBEDDING: &str = concat!(include_str!("kernels/linear.wgsl"), include_str!("kernels/embedding.wgsl"));
        const LAYERNORM: &str = include_str!("kernels/layernorm.wgsl");
        const ATTENTION: &str = concat!(include_str!("kernels/linear.wgsl"), include_str!("kernels/attention.wgsl"));
        const RESIDUAL: &str = concat!(include_str!("kernels/linear.wgsl"), include_str!("kernels/residual.wgsl"));
        const ADAMW: &str = concat!(include_str!("kernels/linear.wgsl"), include_str!("kernels/adamw.wgsl"));
        const LORA: &str = concat!(include_str!("kernels/linear.wgsl"), include_str!("kernels/lora.wgsl"));
        const VOCAB_XENT: &str = include_str!("kernels/vocab_xent.wgsl");
        let source = match self {
            Kernel::MatmulBlocked => MATMUL_BLOCKED,
            Kernel::MatmulTiled => MATMUL_TILED,
            Kernel::BiasAct | Kernel::ActBackward => ACTIVATION,
            Kernel::BiasGrad => BIAS_GRAD,
            Kernel::SoftmaxXent => SOFTMAX_XENT,
            Kernel::Sgd | Kernel::Adam => OPTIMIZER,
            Kernel::SumF32 | Kernel::SumU32 => REDUCE,
            Kernel::Gather | Kernel::Advance => BATCH,
            Kernel::Embed | Kernel::EmbedTokenGrad | Kernel::EmbedPosGrad => EMBEDDING,
            Kernel::LayerNorm | Kernel::LayerNormBackward | Kernel::LayerNormParamGrad => LAYERNORM,
            Kernel::AttnSoftmax | Kernel::AttnApply | Kernel::AttnGradScores | Kernel::AttnGradQkv => ATTENTION,
            Kernel::BiasAdd | Kernel::BiasResidual => RESIDUAL,
            Kernel::SumSquares | Kernel::AdamW => ADAMW,
            Kernel::ScaleAdd | Kernel::RowScale => LORA,
            Kernel::VocabXent => VOCAB_XENT,
        };
        (wgsl_sizes() + source, self.entry())
    }

    /// The kernel's entry point in its WGSL source.
    pub(crate) fn entry(self) -> &'static str {
        match self {
            Kernel::MatmulBlocked | Kernel::MatmulTiled => "main",
            Kernel::BiasAct => "bias_act",
            Kernel::ActBackward => "act_backward",
            Kernel::BiasGrad => "bias_grad",
            Kernel::SoftmaxXent => "softmax_xent",
            Kernel::Sgd => "sgd",
            Kernel::Adam => "adam",
            Kernel::SumF32 => "sum_f32",
            Kernel::SumU32 => "sum_u32",
            Kernel::Gather => "gather",
            Kernel::Advance => "advance",
            Kernel::Embed => "embed",
            Kernel::EmbedTokenGrad => "embed_token_grad",
            Kernel::EmbedPosGrad => "embed_pos_grad",
            Kernel::LayerNorm => "layernorm",
            Kernel::LayerNormBackward => "layernorm_backward",
            Kernel::LayerNormParamGrad => "layernorm_param_grad",
            Kernel::AttnSoftmax => "attn_softmax",
            Kernel::AttnApply => "attn_apply",
            Kernel::AttnGradScores => "attn_grad_scores",
            Kernel::AttnGradQkv => "attn_grad_qkv",
            Kernel::BiasAdd => "bias_add",
            Kernel::BiasResidual => "bias_residual",
            Kernel::SumSquares => "sum_squares",
            Kernel::AdamW => "adamw",
            Kernel::ScaleAdd => "scale_add",
            Kernel::RowScale => "row_scale",
            Kernel::VocabXent => "vocab_xent",
        }
    }
}

/// A range of 4-byte elements (f32 or u32) inside a buffer.
#[derive(Clone, Copy)]
pub(crate) struct Slice<'a> {
    pub(crate) buffer: &'a wgpu::Buffer,
    /// In elements; times 4 it must be a multiple of the storage offset alignment (256 bytes covers
    /// every adapter).
    pub(crate) offset: usize,
    pub(crate) len: usize,
}

impl<'a> Slice<'a> {
    pub(crate) fn new(buffer: &'a wgpu::Buffer, offset: usize, len: usize) -> Self {
        Slice { buffer, offset, len }
    }

    fn binding(&self) -> wgpu::BindingResource<'a> {
        wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer: self.buffer,
            offset: (self.offset * 4) as u64,
            size: NonZeroU64::new((self.len.max(1) * 4) as u64),
        })
    }
}

/// One dispatch: a pipeline, its bound buffers, and the workgroup counts.
pub(crate) struct Op {
    pipeline: wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    groups: [u32; 3],
}

impl Op {
    /// Builds a dispatch. `params` go to a uniform at binding 0 (none when empty); `bindings` are
    /// (binding number, storage range).
    fn new(gpu: &Gpu, kernel: Kernel, params: &[u32], bindings: &[(u32, Slice)], groups: [u32; 3]) -> Op {
        let pipeline = gpu.pipeline(kernel);
        let uniform = (!params.is_empty()).then(|| gpu.uniform(params));
        let mut entries: Vec<wgpu::BindGroupEntry> = bindings
            .iter()
            .map(|(binding, slice)| wgpu::BindGroupEntry { binding: *binding, resource: slice.binding() })
            .collect();
        if let Some(uniform) = &uniform {
            entries.push(wgpu::BindGroupEntry { binding: 0, resource: uniform.as_entire_binding() });
        }
        let bind_group = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(kernel.entry()),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        });
        Op { pipeline, bind_group, groups }
    }

    pub(crate) fn record(&self, pass: &mut wgpu::ComputePass<'_>) {
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.bind_group, &[]);
        pass.dispatch_workgroups(self.groups[0], self.groups[1], self.groups[2]);
    }
}

/// Records `ops` in order into one compute pass.
pub(crate) fn record(encoder: &mut wgpu::CommandEncoder, ops: &[&Op]) {
    let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: None, timestamp_writes: None });
    for op in ops {
        op.record(&mut pass);
    }
}

/// Workgroup counts covering `n` elements at [`LINEAR_WORKGROUP`] per workgroup, spilling into y
/// past the 65,535 limit of one dimension (`flat_index` in linear.wgsl undoes it).
fn grid(n: usize) -> [u32; 3] {
    let groups = n.div_ceil(LINEAR_WORKGROUP as usize).max(1);
    if groups <= 65_535 {
        [groups as u32, 1, 1]
    } else {
        [65_535, groups.div_ceil(65_535) as u32, 1]
    }
}
