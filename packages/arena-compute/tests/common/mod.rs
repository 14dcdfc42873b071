//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use arena_compute::{CsvOptions, Dataset, Error, Gpu, GpuOptions};

/// The repository's data folder.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data")
}

pub fn digits_train() -> Dataset {
    Dataset::from_csv(&data_dir().join("digits-train.csv"), &CsvOptions::default())
        .expect("data/digits-train.csv loads")
}

pub fn digits_eval() -> Dataset {
    Dataset::from_csv(&data_dir().join("digits-eval.csv"), &CsvOptions::default()).expect("data/digits-eval.csv loads")
}

/// Set to `1` to let the GPU tests pass without running on a machine with no GPU adapter. CI and
/// the README's test command never set it: there, a missing Vulkan driver fails the suite.
pub const SKIP_GPU_VAR: &str = "ARENA_SKIP_GPU_TESTS";

/// Fails the test because the GPU (or backend) it needs is missing, unless [`SKIP_GPU_VAR`] says
/// to skip it knowingly; returns only in that case.
pub fn missing_gpu(reason: &dyn std::fmt::Display) {
    if std::env::var(SKIP_GPU_VAR).as_deref() == Ok("1") {
        eprintln!("SKIPPED ({SKIP_GPU_VAR}=1): {reason}");
        return;
    }
    panic!(
        "{reason}\nThis test needs a GPU adapter: scripts/setup.sh installs lavapipe (mesa-vulkan-drivers, \
         libegl1, libgl1-mesa-dri) where the machine has none. Set {SKIP_GPU_VAR}=1 to skip GPU tests knowingly."
    );
}

/// Opens a GPU with `options`; with no adapter at all the test fails (see [`missing_gpu`]). Any
/// other failure is a test failure too.
pub fn gpu_with(options: GpuOptions) -> Option<Gpu> {
    match Gpu::new(&options) {
        Ok(gpu) => Some(gpu),
        Err(e @ Error::NoAdapter { .. }) => {
            missing_gpu(&e);
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

/// Asserts `got` is `want` element by element within `abs + rel |want|`.
pub fn close(got: &[f32], want: &[f32], rel: f32, abs: f32, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= abs + rel * w.abs(), "{what}[{i}]: gpu {g} vs reference {w}");
    }
}
