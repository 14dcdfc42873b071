//! GPT-2-layout language models: the architecture ([`GptSpec`]), the parameters in Hugging Face's
//! layout ([`GptWeights`]), text as tokens ([`Tokenizer`]: bytes, or a Hugging Face
//! `tokenizer.json`; [`TextCorpus`], [`TokenWindows`]), the CPU reference
//! of the forward and backward pass ([`reference`]), training and evaluation on the device or the
//! reference ([`crate::Engine::train_lm`], [`crate::Engine::evaluate_lm`]) and the bits-per-byte
//! score ([`score`]).
//!
//! ```no_run
//! use arena_compute::lm::{GptSpec, LmTrainConfig, TextCorpus};
//! use arena_compute::{Backend, Engine};
//! # fn main() -> arena_compute::Result<()> {
//! let engine = Engine::new(&Backend::Gpu(Default::default()))?;
//! let spec = GptSpec::parse("gpt:layers=2,d=64,heads=4,ctx=128")?;
//! let (train, held_out) = TextCorpus::from_file("data/shakespeare.txt".as_ref())?.split(0.1);
//! let model = engine.pretrain_lm(&spec, &train.windows(spec.ctx)?, &LmTrainConfig::default(), &mut |_| {})?;
//! model.save("model-dir".as_ref())?;
//! println!("{} bits per byte", engine.evaluate_lm(&model, &held_out.windows(spec.ctx)?)?.bits_per_byte);
//! # Ok(()) }
//! ```

mod chat;
mod data;
mod generate;
mod gpu;
pub mod lora;
pub mod reference;
pub mod score;
mod spec;
mod tokens;
mod train;
mod weights;

pub use chat::{ChatData, Conversation, Role};
pub use data::{decode_bytes, encode_bytes, TextCorpus, TokenWindows};
pub use generate::{generate, generate_text, SampleConfig};
pub(crate) use gpu::DeviceModel;
pub use lora::{
    check_max_rank, LoraAdapter, LoraConfig, LoraModule, LoraTarget, ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE,
};
pub use spec::{GptSpec, BYTE_VOCAB, GPT2_EPS};
pub use tokens::{Encoded, TextStream, Tokenizer, TOKENIZER_FILE};
pub use train::{LmEvaluation, LmProgress, LmTrainConfig};
pub use weights::{BlockLayout, GptWeights, Layout, CONFIG_FILE, WEIGHTS_FILE};

use crate::{Engine, Result};

impl Engine {
    /// Trains a new model of shape `spec`, initialized from `cfg.seed`, on `data`.
    pub fn pretrain_lm(
        &self,
        spec: &GptSpec,
        data: &TokenWindows,
        cfg: &LmTrainConfig,
        progress: &mut dyn FnMut(&LmProgress),
    ) -> Result<GptWeights> {
        self.train_lm(GptWeights::init(spec, cfg.seed), data, cfg, progress)
    }

    /// Trains `init` on `data` (on the device, or the CPU reference for `Backend::CpuReference`).
    pub fn train_lm(
        &self,
        init: GptWeights,
        data: &TokenWindows,
        cfg: &LmTrainConfig,
        progress: &mut dyn FnMut(&LmProgress),
    ) -> Result<GptWeights> {
        train::train(self.gpu(), init, data, cfg, progress)
    }

    /// Fine-tunes the adapter `init` on `data` over the frozen `base`, on the device or the CPU
    /// reference. With chat data the loss counts the assistant's text only.
    pub fn finetune_lora(
        &self,
        base: &GptWeights,
        init: LoraAdapter,
        data: &TokenWindows,
        cfg: &LmTrainConfig,
        progress: &mut dyn FnMut(&LmProgress),
    ) -> Result<LoraAdapter> {
        train::train_lora(self.gpu(), base, init, data, cfg, progress)
    }

    /// [`Self::evaluate_lm`] of `base` with `adapter` merged in (merging gives the adapter's
    /// outputs: `tests/lm_lora.rs` checks it), on the device or the reference.
    pub fn evaluate_lm_adapter(
        &self,
        base: &GptWeights,
        adapter: Option<&LoraAdapter>,
        data: &TokenWindows,
    ) -> Result<LmEvaluation> {
        match adapter {
            Some(a) => self.evaluate_lm(&a.merge(base)?, data),
            None => self.evaluate_lm(base, data),
        }
    }

    /// Mean loss, bits per byte and score of `model` on every window of `data`.
    pub fn evaluate_lm(&self, model: &GptWeights, data: &TokenWindows) -> Result<LmEvaluation> {
        train::evaluate(self.gpu(), model, data, data.sha256.clone(), (self.adapter(), self.backend()))
    }
}
