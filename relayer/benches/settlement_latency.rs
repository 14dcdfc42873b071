//! Settlement latency on the local network (injectived with ~0.2 s blocks, anvil with 1 s blocks):
//! from the seal transaction's inclusion to the batch being on the EVM side (attest ×2, post),
//! and from there to the bridge's confirmation (confirmation depth 2). Three `arena-relayer`
//! processes, threshold 2, batches of 10 withdrawals sealed one at a time by the bench.
//!
//! `cargo bench -p arena-relayer --bench settlement_latency`; writes
//! `target/bench/settlement-latency.json` (under the workspace root).

#[path = "../tests/network/mod.rs"]
mod network;

use std::time::{Duration, Instant};

use arena_types::settlement::msg::BatchStatus;
use serde_json::json;

const BATCHES: u32 = 8;
const LEAVES: u32 = 10;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank]
}

fn summary(mut samples: Vec<f64>) -> serde_json::Value {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    json!({
        "samples_ms": samples,
        "min_ms": samples[0],
        "median_ms": percentile(&samples, 50.0),
        "p90_ms": percentile(&samples, 90.0),
        "max_ms": samples[samples.len() - 1],
    })
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let mut h = network::Harness::start(LEAVES).await;
    for i in 0..3 {
        h.start_relayer(i, false);
    }
    let evm = h.evm(0).await;
    let mut seal_to_posted = Vec::new();
    let mut posted_to_confirmed = Vec::new();
    for b in 0..BATCHES {
        h.withdraw(LEAVES, b * LEAVES).await;
        let batch_id = u64::from(b) + 1;
        // The clock starts when the seal transaction is included.
        h.seal().await;
        let sealed = Instant::now();
        let deadline = sealed + Duration::from_secs(120);
        while !evm.is_posted(batch_id).await.unwrap() {
            assert!(Instant::now() < deadline, "batch {batch_id} not posted");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let posted = Instant::now();
        while h.batch(batch_id).await.status != BatchStatus::Confirmed {
            assert!(Instant::now() < deadline, "batch {batch_id} not confirmed");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let confirmed = Instant::now();
        seal_to_posted.push((posted - sealed).as_secs_f64() * 1e3);
        posted_to_confirmed.push((confirmed - posted).as_secs_f64() * 1e3);
        eprintln!(
            "batch {batch_id}: seal→posted {:.0} ms, posted→confirmed {:.0} ms",
            seal_to_posted.last().unwrap(),
            posted_to_confirmed.last().unwrap()
        );
    }
    h.stop_relayers();
    let report = json!({
        "bench": "settlement-latency",
        "setup": {
            "relayers": 3,
            "threshold": 2,
            "leaves_per_batch": LEAVES,
            "batches": BATCHES,
            "confirmations": 2,
            "relayer_poll_interval_ms": 300,
            "evm_receipt_poll_interval_ms": 100,
            "anvil_block_time_s": 1,
            "cosmos": "injectived, --unsafe-consensus-timeout-commit 200ms",
            "observer_poll_ms": 20,
            "relayer_build": if cfg!(debug_assertions) { "debug" } else { "release" },
        },
        "seal_to_posted": summary(seal_to_posted),
        "posted_to_confirmed": summary(posted_to_confirmed),
    });
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().join("target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("settlement-latency.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report).unwrap() + "\n").unwrap();
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
    eprintln!("wrote {}", path.display());
}
