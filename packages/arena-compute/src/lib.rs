//! Arena's compute core: classifiers trained and evaluated entirely in WGSL compute shaders through
//! wgpu (any GPU, or lavapipe where there is none), with a CPU reference of the same math. It knows
//! nothing of the chain: `gpu-worker` builds its trainer, validator and creator nodes on it.
//!
//! ```no_run
//! use arena_compute::{Backend, CsvOptions, Dataset, Engine, ModelSpec, TrainConfig};
//! # fn main() -> arena_compute::Result<()> {
//! let engine = Engine::new(&Backend::Gpu(Default::default()))?;
//! let train = Dataset::from_csv("data/digits-train.csv".as_ref(), &CsvOptions::default())?;
//! let model = engine.train(&train, &ModelSpec::parse("mlp:128,64")?, &TrainConfig::default())?;
//! let sha256 = model.save("model.safetensors".as_ref())?;
//! let eval = Dataset::from_csv("data/digits-eval.csv".as_ref(), &CsvOptions::default())?;
//! println!("{sha256}: {} ppm", engine.evaluate(&model, &eval)?.score_ppm);
//! # Ok(()) }
//! ```
//!
//! Determinism: matmuls and bias gradients sum in a fixed order, the loss and accuracy use a
//! fixed-tree reduction, and nothing uses float atomics; the same seed and data give the same
//! weights file on one machine, and evaluation is bit-identical run to run.

pub mod cpu;
pub mod data;
mod device;
mod engine;
mod error;
pub mod kernels;
pub mod lm;
pub mod model;
mod network;
pub mod reference;
mod rng;
mod tensor_file;
pub mod train;

pub use data::{CsvOptions, DataFile, Dataset, Features, LabelColumn, Scaling, ScalingKind};
pub use device::{list_adapters, AdapterReport, Gpu, GpuBackend, GpuOptions};
pub use engine::{score_ppm, Backend, Engine, Evaluation};
pub use error::{Error, Result};
pub use model::{Activation, Dense, Model, ModelSpec};
pub use train::{EpochReport, Optimizer, TrainConfig};
