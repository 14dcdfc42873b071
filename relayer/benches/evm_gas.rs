//! EVM gas and latency of settlement against anvil: `postBatch` with 2-of-3 attester signatures and
//! `claim` for batches of 1, 100 and 10,000 leaves, the timelocked attester rotation (propose and
//! execute), against the baseline of paying the same
//! recipients directly from one account (ERC-20 mints, and transfers from a funded account), all
//! measured in the same run on the same anvil.
//!
//! Run: `cargo bench -p arena-relayer --bench evm_gas`. Writes `target/bench/settlement-evm.json`
//! (relative to the workspace root) and prints the table of BENCHMARKS.md.
//!
//! Gas is each receipt's `gasUsed` (intrinsic 21,000 and calldata included). Latency is the wall
//! time from sending a transaction to holding its receipt through alloy's HTTP provider (receipt
//! polled every 10 ms), with anvil mining each transaction as it arrives.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use alloy::network::ReceiptResponse;
use alloy::primitives::U256;
use alloy::providers::DynProvider;
use alloy::signers::local::PrivateKeySigner;
use arena_evm::attest::order_by_signer;
use arena_evm::bindings::ArenaToken;
use arena_evm::{Batch, ClaimLeaf, EvmClient, PostOutcome};
use serde_json::{json, Value};
use support::{config, dev_key, leaves, oz_tree, spawn_anvil, total, workspace_root};

/// Batch sizes measured.
const SIZES: [u32; 3] = [1, 100, 10_000];
/// Claims measured per batch: every leaf up to this many. For 10,000 leaves: leaves 0..512, two
/// whole words of the claimed-bitmap, so first-in-word claims occur at the rate a full batch has.
const MAX_CLAIMS: u32 = 512;

#[derive(Default)]
struct Series {
    gas: Vec<u64>,
    latency: Vec<Duration>,
}

impl Series {
    fn push(&mut self, gas: u64, latency: Duration) {
        self.gas.push(gas);
        self.latency.push(latency);
    }

    fn median_gas(&self) -> u64 {
        let mut g = self.gas.clone();
        g.sort_unstable();
        g[(g.len() - 1) / 2]
    }

    fn summary(&self) -> Value {
        let mut gas = self.gas.clone();
        gas.sort_unstable();
        let mut ms: Vec<f64> = self.latency.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
        json!({
            "samples": gas.len(),
            "gas": {
                "min": gas[0],
                "median": gas[(gas.len() - 1) / 2],
                "max": gas[gas.len() - 1],
                "mean": gas.iter().sum::<u64>() as f64 / gas.len() as f64,
                "above_90k": gas.iter().filter(|&&g| g > 90_000).count(),
            },
            "latency_ms": {
                "median": ms[(ms.len() - 1) / 2],
                "p95": ms[((ms.len() as f64 * 0.95).ceil() as usize).clamp(1, ms.len()) - 1],
                "max": ms[ms.len() - 1],
            },
        })
    }
}

/// Deploys an ArenaToken straight from `provider`'s account, which thereby becomes its minter: the
/// baseline token, the same ERC-20 code without the settlement in front.
async fn deploy_baseline_token(provider: &DynProvider) -> ArenaToken::ArenaTokenInstance<DynProvider> {
    let receipt = ArenaToken::deploy_builder(provider.clone(), "Baseline".into(), "BASE".into())
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    ArenaToken::new(receipt.contract_address().unwrap(), provider.clone())
}

/// Sends a prepared call and returns (gas used, send-to-receipt latency).
macro_rules! measure {
    ($call:expr) => {{
        let start = Instant::now();
        let receipt = $call.send().await.unwrap().get_receipt().await.unwrap();
        assert!(receipt.status(), "baseline transaction reverted");
        (receipt.gas_used(), start.elapsed())
    }};
}

async fn run() -> Value {
    let anvil = spawn_anvil();
    let deployer = dev_key(&anvil, 0);
    let attesters: Vec<PrivateKeySigner> = (1..=3).map(|i| dev_key(&anvil, i)).collect();
    let params = support::params(deployer.address(), attesters.iter().map(|a| a.address()).collect(), 2);
    let (client, deployment) = EvmClient::deploy(config(&anvil), deployer, &params).await.unwrap();
    let provider = client.provider().clone();

    let mut batches = Vec::new();
    for (i, &size) in SIZES.iter().enumerate() {
        let batch_id = i as u64 + 1;
        let leaves = leaves(batch_id, size);
        let tree = oz_tree(&leaves);
        let batch = Batch {
            sourceChain: support::source().chain,
            sourceBridge: support::source().bridge,
            batchId: batch_id,
            root: tree.root,
            total: total(&leaves),
            count: size,
        };

        // Post with attesters 1 and 3 (2 of 3), ordered by signer.
        let signatures: Vec<_> =
            [&attesters[0], &attesters[2]].iter().map(|a| client.sign_batch(a, &batch).unwrap()).collect();
        let signatures = order_by_signer(client.batch_digest(&batch), &signatures).unwrap();
        let start = Instant::now();
        let PostOutcome::Posted(post) = client.post_batch(&batch, &signatures).await.unwrap() else {
            panic!("batch {batch_id} was already posted");
        };
        let post_latency = start.elapsed();

        // Claim the first MAX_CLAIMS leaves, each to a recipient that held no token before.
        let claimed: Vec<&ClaimLeaf> = leaves.iter().take(MAX_CLAIMS as usize).collect();
        let mut claims = Series::default();
        let mut proof_lengths = Vec::new();
        for leaf in &claimed {
            let proof = &tree.proofs[leaf.index as usize];
            proof_lengths.push(proof.len());
            let start = Instant::now();
            let tx = client.claim(leaf, proof).await.unwrap();
            claims.push(tx.gas_used, start.elapsed());
        }
        assert_eq!(client.balance_of(claimed[0].recipient).await.unwrap(), claimed[0].amount);

        // Baseline 1: the same recipients and amounts minted directly by one account.
        let minted = deploy_baseline_token(&provider).await;
        let mut mints = Series::default();
        for leaf in &claimed {
            let (gas, latency) = measure!(minted.mint(leaf.recipient, leaf.amount));
            mints.push(gas, latency);
        }
        // Baseline 2: one account holding the sum transfers to each recipient.
        let funded = deploy_baseline_token(&provider).await;
        let sum: U256 = claimed.iter().map(|l| l.amount).sum();
        measure!(funded.mint(client.signer_address(), sum));
        let mut transfers = Series::default();
        for leaf in &claimed {
            let (gas, latency) = measure!(funded.transfer(leaf.recipient, leaf.amount));
            transfers.push(gas, latency);
        }

        let ratio = claims.median_gas() as f64 / mints.median_gas() as f64;
        proof_lengths.sort_unstable();
        eprintln!(
            "batch of {size}: post {} gas, claim median {} gas ({} claims), mint median {}, transfer median {}",
            post.gas_used,
            claims.median_gas(),
            claimed.len(),
            mints.median_gas(),
            transfers.median_gas()
        );
        batches.push(json!({
            "leaves": size,
            "claims_measured": claimed.len(),
            "proof_length": { "min": proof_lengths[0], "max": proof_lengths[proof_lengths.len() - 1] },
            "post_batch": {
                "signatures": 2,
                "gas": post.gas_used,
                "latency_ms": post_latency.as_secs_f64() * 1e3,
            },
            "claim": claims.summary(),
            "baseline_mint": mints.summary(),
            "baseline_transfer": transfers.summary(),
            "claim_over_mint_median_gas": ratio,
        }));
    }

    // The owner's attester rotation through the timelock: propose, wait, execute (swap attester 3
    // for dev key 7, threshold unchanged).
    let (add, remove) = ([dev_key(&anvil, 7).address()], [attesters[2].address()]);
    let propose = client.propose_attester_update(&add, &remove, 2).await.unwrap();
    support::advance_time(&client, support::TIMELOCK).await;
    let execute = client.execute_attester_update(&add, &remove, 2).await.unwrap();
    eprintln!("attester rotation: propose {} gas, execute {} gas", propose.gas_used, execute.gas_used);

    json!({
        "benchmark": "settlement-evm",
        "attester_rotation": { "propose_gas": propose.gas_used, "execute_gas": execute.gas_used },
        "machine": machine(),
        "anvil": anvil_version(),
        "anvil_args": "--chain-id 84532 (automine, no --optimism)",
        "chain_id": anvil.chain_id(),
        "settlement": deployment.settlement.to_string(),
        "deploy_gas": deployment.tx.gas_used,
        "batches": batches,
        "note": "gas = receipt gasUsed incl. 21,000 intrinsic and calldata; latency = send to receipt over HTTP (receipt polled every 10 ms), anvil automining",
    })
}

fn anvil_version() -> String {
    let out = std::process::Command::new(support::anvil_path()).arg("--version").output().unwrap();
    String::from_utf8_lossy(&out.stdout).lines().next().unwrap_or_default().trim().to_string()
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("PRETTY_NAME=").map(|v| v.trim_matches('"').to_string())))
        .unwrap_or_else(|| std::env::consts::OS.to_string());
    format!("{cpus}-core {os}")
}

fn main() {
    // `cargo bench` passes `--bench`; this harness has no options of its own.
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let report = runtime.block_on(run());
    let dir = workspace_root().join("target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("settlement-evm.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report).unwrap() + "\n").unwrap();
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
    eprintln!("wrote {}", path.display());
}
