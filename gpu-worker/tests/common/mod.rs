//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use gpu_worker::{CsvOptions, Dataset, Error, Gpu, GpuOptions};

/// The repository's data folder.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data")
}

pub fn digits_train() -> Dataset {
    Dataset::from_csv(&data_dir().join("digits-train.csv"), &CsvOptions::default())
        .expect("data/digits-train.csv loads")
}

pub fn digits_eval() -> Dataset {
    Dataset::from_csv(&data_dir().join("digits-eval.csv"), &CsvOptions::default()).expect("data/digits-eval.csv loads")
}

/// Opens a GPU with `options`, or returns None (printing why) when the machine has no adapter at
/// all. Any other failure is a test failure.
pub fn gpu_with(options: GpuOptions) -> Option<Gpu> {
    std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir());
    match Gpu::new(&options) {
        Ok(gpu) => Some(gpu),
        Err(e @ Error::NoAdapter { .. }) => {
            eprintln!("SKIPPED: {e}");
            None
        }
        Err(e) => panic!("opening the GPU failed: {e}"),
    }
}

pub fn gpu() -> Option<Gpu> {
    gpu_with(GpuOptions::default())
}

/// Deterministic pseudo-random values in [-scale, scale).
pub fn values(n: usize, seed: u64, scale: f32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
        })
        .collect()
}
