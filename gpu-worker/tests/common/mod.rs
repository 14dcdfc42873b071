//! Helpers shared by the binary's integration tests (the compute core's own are in
//! `packages/arena-compute/tests/common`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use arena_client::MarketClient;

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

/// Waits until `round` of `task_id` is finalized on chain, failing the test after `timeout` with
/// where the nodes' logs are.
pub async fn wait_until_finalized(market: &MarketClient, task_id: u64, round: u32, logs: &Path, timeout: Duration) {
    let started = Instant::now();
    while !market.round(task_id, round).await.map(|r| r.finalized).unwrap_or(false) {
        assert!(
            started.elapsed() < timeout,
            "round {round} was not finalized within {timeout:?}; node logs in {}",
            logs.display()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// A small byte-level BPE tokenizer.json as GPT-2's is laid out: every byte as its printable
/// stand-in character (GPT-2's table: printable Latin-1 stands for itself, the other bytes for
/// U+0100 on), then the first `merges` (at most 10) of a few common English pairs.
pub fn byte_level_bpe_json(merges: usize) -> String {
    let printable = |b: u32| (33..=126).contains(&b) || (161..=172).contains(&b) || (174..=255).contains(&b);
    let mut next_stand_in = 256;
    let mut vocab: Vec<String> = (0..256u32)
        .map(|b| {
            let c = if printable(b) {
                b
            } else {
                next_stand_in += 1;
                next_stand_in - 1
            };
            char::from_u32(c).unwrap().to_string()
        })
        .collect();
    let pairs = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("Ġ", "a"), ("o", "u"), ("i", "n"), ("e", "r"), ("Ġ", "s")];
    let merges = &[pairs.as_slice(), &[("Ġ", "m"), ("Ġ", "w")]].concat()[..merges];
    vocab.extend(merges.iter().map(|(a, b)| format!("{a}{b}")));
    let byte_level =
        serde_json::json!({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": true});
    serde_json::json!({
        "version": "1.0",
        "added_tokens": [],
        "normalizer": null,
        "pre_tokenizer": byte_level,
        "post_processor": byte_level,
        "decoder": byte_level,
        "model": {
            "type": "BPE",
            "vocab": vocab.iter().enumerate().map(|(i, t)| (t.clone(), i.into())).collect::<serde_json::Map<_, _>>(),
            "merges": merges.iter().map(|(a, b)| format!("{a} {b}")).collect::<Vec<_>>(),
        },
    })
    .to_string()
}
