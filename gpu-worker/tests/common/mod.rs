//! Helpers shared by the binary's integration tests (the compute core's own are in
//! `packages/arena-compute/tests/common`).
#![allow(dead_code)]

use std::path::PathBuf;

/// The repository's data folder.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data")
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
