//! Arena's gpu-worker: the trainer, validator and creator nodes that work a task on the chain, on
//! top of [`arena_compute`], the compute core (classifiers trained and evaluated as wgpu compute
//! shaders). The core is re-exported whole, so `gpu_worker::{Engine, Dataset, …}` and
//! `gpu_worker::kernels` name the same items as `arena_compute::…`; the chain-facing part is
//! [`node`].

pub use arena_compute::*;

pub mod node;
