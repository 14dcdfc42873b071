//! A real local network (chain + anvil) with the bridge and the settlement contracts deployed,
//! and relayers running as real `arena-relayer` processes, for the end-to-end tests and the
//! latency benchmark. Every process started here is stopped by PID when its guard drops, also when
//! a test fails.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolEvent;
use arena_client::{Client, Signer};
use arena_config::relayer::{Config, CosmosConfig, EvmSection, GrpcConfig, RelayConfig, TelemetryConfig};
use arena_config::KeySource;
use arena_evm::bindings::ArenaSettlement::BatchPosted;
use arena_evm::{EvmClient, EvmConfig};
use arena_types::settlement::msg::{
    BatchPolicy, BatchResponse, BatchStatus, BatchesResponse, ExecuteMsg, OutboxResponse, QueryMsg, ReceiveMsg,
};
use cosmwasm_std::{to_json_binary, Uint128};
use cw20::Cw20ExecuteMsg;
use testnet::network::{NetworkConfig, Ports, Validators};
use testnet::{accounts, contracts, deploy, Network};

/// Base Sepolia's chain id, which the local anvil takes.
pub const CHAIN_ID: u64 = 84532;

/// A network with token, bridge and settlement deployed and connected.
pub struct Harness {
    pub network: Network,
    pub client: Client,
    pub token: String,
    pub bridge: String,
    pub settlement: Address,
    pub evm_token: Address,
    pub dir: tempfile::TempDir,
    /// Relayer processes by index into `accounts::RELAYERS`.
    pub relayers: BTreeMap<usize, RelayerProcess>,
    /// Each relayer's ports, kept across restarts.
    ports: BTreeMap<usize, (u16, u16)>,
    /// Relayers configured with `[telemetry] enabled = false`.
    pub metrics_off: std::collections::BTreeSet<usize>,
}

impl Harness {
    /// Starts the network and deploys everything; batches seal at `max_leaves` withdrawals.
    pub async fn start(max_leaves: u32) -> Self {
        Self::start_on(max_leaves, 1).await
    }

    /// Like [`Harness::start`], on a chain of `validators` equal validators; relayer i then reads
    /// node i mod `validators` first and fails over to the nodes after it.
    pub async fn start_on(max_leaves: u32, validators: usize) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = NetworkConfig {
            validators: Validators::equal(validators).unwrap(),
            ..NetworkConfig::new(dir.path().join("net"), Ports::free().unwrap())
        };
        let network = Network::start(&config).unwrap();
        let artifacts = contracts::build(&["arena-token", "arena-bridge"]).unwrap();
        let client = Client::connect(network.chain_config()).await.unwrap();
        let deployed = deploy::deploy(&client, &artifacts, None).await.unwrap();
        let (token, bridge) = (deployed["arena-token"].address.clone(), deployed["arena-bridge"].address.clone());
        let evm = deploy::deploy_evm(&network.evm_rpc_url(), &client.config().chain_id, &bridge, None).await.unwrap();
        let settlement: Address = evm[deploy::SETTLEMENT].parse().unwrap();
        let evm_token: Address = evm[deploy::EVM_TOKEN].parse().unwrap();
        deploy::connect_bridge_to_evm(&client, &bridge, &settlement.to_checksum(None)).await.unwrap();
        let admin = accounts::cosmos(accounts::DEPLOYER, &client.config().bech32_prefix).unwrap();
        let policy = BatchPolicy { max_leaves, max_age_blocks: 100_000 };
        client.execute(&admin, &bridge, &ExecuteMsg::UpdateBatchPolicy { batch_policy: policy }, vec![]).await.unwrap();
        Harness {
            network,
            client,
            token,
            bridge,
            settlement,
            evm_token,
            dir,
            relayers: BTreeMap::new(),
            ports: BTreeMap::new(),
            metrics_off: Default::default(),
        }
    }

    pub fn prefix(&self) -> String {
        self.client.config().bech32_prefix.clone()
    }

    pub fn account(&self, index: u32) -> Signer {
        accounts::cosmos(index, &self.prefix()).unwrap()
    }

    /// An EVM client of the settlement signing with anvil dev key `i`.
    pub async fn evm(&self, i: usize) -> EvmClient {
        let key: PrivateKeySigner = accounts::EVM_KEYS[i].parse().unwrap();
        let config = EvmConfig {
            poll_interval: Duration::from_millis(50),
            ..EvmConfig::new(self.network.evm_rpc_url(), CHAIN_ID)
        };
        EvmClient::connect(config, key, self.settlement).await.unwrap()
    }

    /// Writes relayer `index`'s key files and config (once) and returns the config path.
    pub fn relayer_config(&mut self, index: usize, seal: bool) -> PathBuf {
        let (operator_index, evm_index) = accounts::RELAYERS[index];
        let dir = self.dir.path().join(format!("relayer-{index}"));
        std::fs::create_dir_all(&dir).unwrap();
        let operator_key = write_private(
            &dir.join("operator.key"),
            &hex::encode(arena_client::derive_secret_key(accounts::DEV_MNEMONIC, operator_index).unwrap()),
        );
        let attester_key = write_private(&dir.join("attester.key"), accounts::EVM_KEYS[evm_index]);
        let (grpc, metrics) = *self.ports.entry(index).or_insert_with(|| {
            let p = testnet::process::free_ports(2).unwrap();
            (p[0], p[1])
        });
        let chain = self.network.chain_config();
        let nodes = self.relayer_nodes(index);
        let config = Config {
            cosmos: CosmosConfig {
                chain_id: Some(chain.chain_id),
                grpc_url: Some(nodes[0].clone()),
                grpc_urls: nodes[1..].to_vec(),
                bech32_prefix: Some(chain.bech32_prefix),
                gas_price: Some(chain.gas_price.to_string()),
                bridge: Some(self.bridge.clone()),
                ..CosmosConfig::new(KeySource::File(operator_key))
            },
            evm: EvmSection {
                rpc_url: Some(self.network.evm_rpc_url()),
                chain_id: CHAIN_ID,
                settlement: Some(self.settlement.to_checksum(None)),
                confirmations: 2,
                poll_interval_ms: 100,
                ..EvmSection::new(KeySource::File(attester_key))
            },
            relay: RelayConfig { poll_interval_ms: 300, seal, ..RelayConfig::default() },
            grpc: GrpcConfig { listen: ([127, 0, 0, 1], grpc).into() },
            telemetry: TelemetryConfig {
                enabled: !self.metrics_off.contains(&index),
                listen: ([127, 0, 0, 1], metrics).into(),
            },
        };
        let path = dir.join("relayer.toml");
        arena_config::save(&path, &config).unwrap();
        path
    }

    /// The Cosmos gRPC endpoints relayer `index` reads: its own node (`index` mod the number of
    /// validators) first, then the nodes after it.
    pub fn relayer_nodes(&self, index: usize) -> Vec<String> {
        let nodes = &self.network.nodes;
        (0..nodes.len()).map(|k| nodes[(index + k) % nodes.len()].grpc_url()).collect()
    }

    /// Starts relayer `index` as a process and waits until its gRPC port answers.
    pub fn start_relayer(&mut self, index: usize, seal: bool) {
        let config = self.relayer_config(index, seal);
        let log = self.dir.path().join(format!("relayer-{index}/relayer.log"));
        let grpc = self.ports[&index].0;
        let process = RelayerProcess::spawn(&config, &log, grpc);
        self.relayers.insert(index, process);
    }

    pub fn grpc_url(&self, index: usize) -> String {
        format!("http://127.0.0.1:{}", self.ports[&index].0)
    }

    pub fn metrics_url(&self, index: usize) -> (u16, &'static str) {
        (self.ports[&index].1, "/metrics")
    }

    /// SIGKILLs relayer `index`, as a crash would.
    pub fn kill_relayer(&mut self, index: usize) {
        if let Some(mut p) = self.relayers.remove(&index) {
            p.kill();
        }
    }

    /// Stops every relayer with SIGTERM and checks they exit cleanly.
    pub fn stop_relayers(&mut self) {
        for (index, mut p) in std::mem::take(&mut self.relayers) {
            let status = p.terminate();
            assert!(status.success(), "relayer {index} exited with {status}; log:\n{}", p.log_tail());
        }
    }

    /// Sends `count` withdrawals numbered `first..` (see [`withdraw`]).
    pub async fn withdraw(&self, count: u32, first: u32) -> Vec<(Address, u128)> {
        withdraw(self.client.clone(), self.token.clone(), self.bridge.clone(), count, first).await
    }

    pub async fn outbox(&self) -> OutboxResponse {
        self.client.query_contract(&self.bridge, &QueryMsg::Outbox {}).await.unwrap()
    }

    pub async fn batch(&self, batch_id: u64) -> BatchResponse {
        self.client.query_contract(&self.bridge, &QueryMsg::Batch { batch_id }).await.unwrap()
    }

    /// Every batch, in id order.
    pub async fn batches(&self) -> Vec<BatchResponse> {
        let mut all: Vec<BatchResponse> = Vec::new();
        loop {
            let start_after = all.last().map(|b| b.batch_id);
            let page: BatchesResponse = self
                .client
                .query_contract(&self.bridge, &QueryMsg::Batches { status: None, start_after, limit: Some(100) })
                .await
                .unwrap();
            let done = page.batches.len() < 100;
            all.extend(page.batches);
            if done {
                return all;
            }
        }
    }

    /// Seals one batch from a non-relayer account.
    pub async fn seal(&self) {
        self.client.execute(&self.account(6), &self.bridge, &ExecuteMsg::SealBatch {}, vec![]).await.unwrap();
    }

    /// Waits until the queue is empty and every batch is confirmed; returns the batches. While
    /// waiting, `tick` runs every 200 ms (to kill and restart relayers).
    pub async fn wait_all_confirmed(
        &mut self,
        leaves: u32,
        timeout: Duration,
        mut tick: impl FnMut(&mut Self),
    ) -> Vec<BatchResponse> {
        let deadline = Instant::now() + timeout;
        loop {
            let outbox = self.outbox().await;
            let batches = self.batches().await;
            if outbox.queued_count == 0
                && batches.iter().map(|b| b.count).sum::<u32>() == leaves
                && batches.iter().all(|b| b.status == BatchStatus::Confirmed)
            {
                return batches;
            }
            if Instant::now() > deadline {
                let logs: Vec<String> =
                    self.relayers.iter().map(|(i, p)| format!("relayer {i}:\n{}", p.log_tail())).collect();
                panic!("not all confirmed in {timeout:?}: queue {outbox:?}, batches {batches:#?}\n{}", logs.join("\n"));
            }
            tick(self);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// `BatchPosted` events on the settlement contract: (batch id, tx hash, root), in log order.
    pub async fn batch_posted_events(&self) -> Vec<(u64, B256, B256)> {
        let evm = self.evm(0).await;
        let filter =
            Filter::new().address(self.settlement).event_signature(BatchPosted::SIGNATURE_HASH).from_block(0u64);
        let logs = evm.provider().get_logs(&filter).await.unwrap();
        logs.iter()
            .map(|log| {
                let event = BatchPosted::decode_log_data(log.data()).unwrap();
                (event.batchId, log.transaction_hash.unwrap(), event.root)
            })
            .collect()
    }

    /// The token balances of the 10 EVM dev addresses.
    pub async fn evm_balances(&self) -> BTreeMap<Address, U256> {
        let evm = self.evm(0).await;
        let mut balances = BTreeMap::new();
        for address in accounts::EVM_ADDRESSES {
            let address: Address = address.parse().unwrap();
            balances.insert(address, evm.balance_of(address).await.unwrap());
        }
        balances
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        for (_, mut p) in std::mem::take(&mut self.relayers) {
            p.kill();
        }
    }
}

/// Sends withdrawals `first..first + count`: withdrawal `k` goes from token holder `k % 10 + 1`
/// to EVM dev address `k % 10`, each sender's in order, the senders concurrently. Returns
/// (recipient, amount) of each.
pub async fn withdraw(client: Client, token: String, bridge: String, count: u32, first: u32) -> Vec<(Address, u128)> {
    let prefix = client.config().bech32_prefix.clone();
    let mut jobs = Vec::new();
    for sender in 1..=10u32 {
        let ks: Vec<u32> = (first..first + count).filter(|k| k % 10 == sender - 1).collect();
        let client = client.clone();
        let signer = accounts::cosmos(sender, &prefix).unwrap();
        let (token, bridge) = (token.clone(), bridge.clone());
        jobs.push(async move {
            let mut sent = Vec::new();
            for k in ks {
                let recipient = accounts::EVM_ADDRESSES[(k % 10) as usize];
                let amount = withdrawal_amount(k);
                let hook = ReceiveMsg::Withdraw { evm_recipient: recipient.into() };
                let send = Cw20ExecuteMsg::Send {
                    contract: bridge.clone(),
                    amount: Uint128::new(amount),
                    msg: to_json_binary(&hook).unwrap(),
                };
                client.execute(&signer, &token, &send, vec![]).await.unwrap();
                sent.push((recipient.parse::<Address>().unwrap(), amount));
            }
            sent
        });
    }
    futures::future::join_all(jobs).await.into_iter().flatten().collect()
}

/// Withdrawal `k`'s amount: distinct, so a leaf paid to the wrong place shows.
pub fn withdrawal_amount(k: u32) -> u128 {
    1_000_000 + 7_919 * u128::from(k)
}

/// A relayer process; SIGKILLed by PID when dropped.
pub struct RelayerProcess {
    child: Option<Child>,
    log: PathBuf,
}

impl RelayerProcess {
    pub fn spawn(config: &Path, log: &Path, grpc_port: u16) -> Self {
        let log_file = File::options().create(true).append(true).open(log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_arena-relayer"))
            .args(["start", "--config"])
            .arg(config)
            .env("RUST_LOG", "info,h2=warn,hyper=warn,tower=warn")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .spawn()
            .unwrap();
        let mut process = RelayerProcess { child: Some(child), log: log.to_path_buf() };
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", grpc_port)).is_err() {
            if let Some(status) = process.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("relayer exited with {status} at start; log:\n{}", process.log_tail());
            }
            assert!(Instant::now() < deadline, "relayer gRPC did not open; log:\n{}", process.log_tail());
            std::thread::sleep(Duration::from_millis(50));
        }
        process
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// SIGKILL, then reap.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM and wait (SIGKILL after 10 s).
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        unsafe {
            libc::kill(child.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return child.wait().unwrap();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for RelayerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

fn write_private(path: &Path, text: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path.to_path_buf()
}

// What the settlement tests (settlement_e2e.rs, settlement_faults.rs) share.

/// One network at a time in a test binary: the machine has two cores (and the test runner runs
/// binaries side by side).
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub const WITHDRAWALS: u32 = 30;
pub const MAX_LEAVES: u32 = 10;

/// What was withdrawn to each EVM address.
pub fn expected_balances(sent: &[(Address, u128)]) -> BTreeMap<Address, U256> {
    let mut expected: BTreeMap<Address, U256> =
        accounts::EVM_ADDRESSES.iter().map(|a| (a.parse().unwrap(), U256::ZERO)).collect();
    for (recipient, amount) in sent {
        *expected.get_mut(recipient).unwrap() += U256::from(*amount);
    }
    expected
}

/// Every batch is posted exactly once with the bridge's root, and the bridge records the posting
/// transaction; the batches hold exactly the withdrawals.
pub async fn assert_posted_exactly_once(h: &Harness, batches: &[BatchResponse], sent: &[(Address, u128)]) {
    let events = h.batch_posted_events().await;
    let mut per_batch: BTreeMap<u64, usize> = BTreeMap::new();
    for (batch_id, _, _) in &events {
        *per_batch.entry(*batch_id).or_default() += 1;
    }
    let ids: Vec<u64> = batches.iter().map(|b| b.batch_id).collect();
    assert_eq!(per_batch.keys().copied().collect::<Vec<_>>(), ids, "BatchPosted events {events:?}");
    assert!(per_batch.values().all(|n| *n == 1), "a batch was posted twice: {per_batch:?}");
    for batch in batches {
        let (_, tx, root) = events.iter().find(|(id, _, _)| *id == batch.batch_id).unwrap();
        assert_eq!(root.to_string(), batch.root.to_lowercase(), "batch {}", batch.batch_id);
        assert_eq!(batch.evm_tx_hash.as_deref(), Some(tx.to_string().as_str()), "batch {}", batch.batch_id);
    }
    let leaves: u32 = batches.iter().map(|b| b.count).sum();
    let total: u128 = batches.iter().map(|b| b.total.u128()).sum();
    assert_eq!(leaves as usize, sent.len());
    assert_eq!(total, sent.iter().map(|(_, a)| a).sum::<u128>());
}

/// Claims every leaf of every recipient with the library (proofs over gRPC from `relayer`); each
/// claim must raise the balance by exactly the leaf's amount.
pub async fn claim_all_with_library(h: &Harness, batches: &[BatchResponse], relayer: &str) {
    for i in 0..10usize {
        let evm = h.evm(i).await;
        let recipient: Address = accounts::EVM_ADDRESSES[i].parse().unwrap();
        for batch in batches {
            let proof = arena_relayer::claim::fetch_proof(relayer, batch.batch_id, recipient).await.unwrap();
            if proof.leaves.is_empty() {
                continue;
            }
            let before = evm.balance_of(recipient).await.unwrap();
            let report = arena_relayer::claim::claim(relayer, batch.batch_id, recipient, &evm).await.unwrap();
            let claimed: U256 = report.claimed.iter().map(|(_, amount, _)| *amount).sum();
            let leaves: U256 = proof.leaves.iter().map(|l| l.amount.parse::<U256>().unwrap()).sum();
            assert_eq!(claimed, leaves);
            assert_eq!(report.balance, before + claimed, "recipient {recipient} batch {}", batch.batch_id);
        }
    }
}
