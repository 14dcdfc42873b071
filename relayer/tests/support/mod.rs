//! Shared set-up of the EVM tests and the gas benchmark: anvil from the repository's npm tools,
//! anvil's dev keys as attesters, and the reference Merkle tree from npm @openzeppelin/merkle-tree.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use alloy::node_bindings::{Anvil, AnvilInstance};
use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use alloy::signers::local::PrivateKeySigner;
use arena_evm::{BatchSource, ClaimLeaf, EvmClient, EvmConfig, SettlementParams};
use serde::Deserialize;

/// Base Sepolia's chain id, which the local anvil takes too.
pub const CHAIN_ID: u64 = 84532;

/// The workspace root (the relayer crate's parent folder).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// anvil from npm `@foundry-rs/anvil-linux-amd64`, as the setup installs it.
pub fn anvil_path() -> PathBuf {
    let path = workspace_root().join("node_modules/.bin/anvil");
    assert!(path.exists(), "anvil not found at {}: run the setup: npm ci", path.display());
    path
}

/// A fresh anvil on chain 84532, killed when the returned instance drops.
pub fn spawn_anvil() -> AnvilInstance {
    Anvil::at(anvil_path()).chain_id(CHAIN_ID).spawn()
}

/// anvil's `i`-th dev key.
pub fn dev_key(anvil: &AnvilInstance, i: usize) -> PrivateKeySigner {
    PrivateKeySigner::from(anvil.keys()[i].clone())
}

/// The client config for a local anvil: one confirmation, polling every 10 ms (anvil mines each
/// transaction as it arrives, so a receipt is a few milliseconds away).
pub fn config(anvil: &AnvilInstance) -> EvmConfig {
    EvmConfig { poll_interval: Duration::from_millis(10), ..EvmConfig::new(anvil.endpoint(), CHAIN_ID) }
}

/// The Cosmos chain and bridge the test settlement contracts settle.
pub fn source() -> BatchSource {
    BatchSource::new("arena-local-1", "inj1bridge0000000000000000000000000000000000")
}

/// The timelock of the test contracts: one hour, which the tests skip with `evm_increaseTime`.
pub const TIMELOCK: u64 = 3600;
/// The mint cap of the test contracts: far above what any test posts, except where a test sets
/// its own.
pub const MINT_CAP: u128 = 1_000_000_000_000_000;
/// The rate-limit period of the test contracts: one day.
pub const MINT_PERIOD: u64 = 86_400;

/// Deployment parameters for `owner` with `attesters` and `threshold`, the test source, timelock
/// and cap.
pub fn params(owner: Address, attesters: Vec<Address>, threshold: u32) -> SettlementParams {
    SettlementParams {
        owner,
        source: source(),
        timelock_delay: TIMELOCK,
        mint_cap_per_period: MINT_CAP,
        mint_period: MINT_PERIOD,
        attesters,
        threshold,
        token_name: "Arena".into(),
        token_symbol: "ARENA".into(),
    }
}

/// Moves anvil's clock `seconds` forward and mines a block at the new time.
pub async fn advance_time(client: &EvmClient, seconds: u64) {
    let provider = client.provider();
    let _: serde_json::Value = provider.raw_request("evm_increaseTime".into(), (seconds,)).await.unwrap();
    let _: serde_json::Value = provider.raw_request("evm_mine".into(), ()).await.unwrap();
}

/// A settlement deployed by dev key 0 (also its owner) with attesters = dev keys 1, 2, 3 and a
/// threshold of 2.
pub struct Fixture {
    pub anvil: AnvilInstance,
    pub owner: EvmClient,
    pub attesters: Vec<PrivateKeySigner>,
}

impl Fixture {
    pub async fn new() -> Self {
        Self::with_params(spawn_anvil(), |p| p).await
    }

    /// A fixture whose deployment parameters `tweak` changes.
    pub async fn with_params(anvil: AnvilInstance, tweak: impl FnOnce(SettlementParams) -> SettlementParams) -> Self {
        let deployer = dev_key(&anvil, 0);
        let attesters: Vec<PrivateKeySigner> = (1..=3).map(|i| dev_key(&anvil, i)).collect();
        let params = tweak(params(deployer.address(), attesters.iter().map(|a| a.address()).collect(), 2));
        let (owner, _) = EvmClient::deploy(config(&anvil), deployer, &params).await.unwrap();
        Self { anvil, owner, attesters }
    }

    /// A client of the same contract signing with dev key `i`.
    pub async fn client(&self, i: usize) -> EvmClient {
        EvmClient::connect(config(&self.anvil), dev_key(&self.anvil, i), self.owner.settlement_address()).await.unwrap()
    }
}

/// A tree built by the reference implementation: root and, for each leaf in input order, its proof.
#[derive(Debug, Deserialize)]
pub struct OzTree {
    pub root: B256,
    pub proofs: Vec<Vec<B256>>,
}

/// Builds the StandardMerkleTree of `leaves` with `relayer/tests/support/oz_tree.mjs`.
pub fn oz_tree(leaves: &[ClaimLeaf]) -> OzTree {
    let values: Vec<[String; 4]> = leaves
        .iter()
        .map(|l| [l.batch_id.to_string(), l.index.to_string(), l.recipient.to_string(), l.amount.to_string()])
        .collect();
    let input = serde_json::to_vec(&serde_json::json!({ "values": values })).unwrap();
    let script = workspace_root().join("relayer/tests/support/oz_tree.mjs");
    let mut child = Command::new("node")
        .arg(&script)
        .current_dir(workspace_root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node not found: install Node.js and run the setup: npm ci");
    let mut stdin = child.stdin.take().unwrap();
    // Write from a thread: a large input would otherwise deadlock against a full stdout pipe.
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        output.status.success(),
        "oz_tree.mjs failed (run the setup: npm ci): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// `count` leaves of batch `batch_id` paying distinct, fresh recipients amounts 1_000_000 + i.
pub fn leaves(batch_id: u64, count: u32) -> Vec<ClaimLeaf> {
    (0..count)
        .map(|index| ClaimLeaf {
            batch_id,
            index,
            recipient: recipient(batch_id, index),
            amount: U256::from(1_000_000u64 + u64::from(index)),
        })
        .collect()
}

/// A deterministic address no dev key owns.
pub fn recipient(batch_id: u64, index: u32) -> Address {
    let mut bytes = [0u8; 20];
    bytes[0] = 0xA7;
    bytes[4..12].copy_from_slice(&batch_id.to_be_bytes());
    bytes[16..20].copy_from_slice(&index.to_be_bytes());
    Address::from(bytes)
}

/// Sum of the leaf amounts.
pub fn total(leaves: &[ClaimLeaf]) -> U256 {
    leaves.iter().map(|l| l.amount).sum()
}
