//! Fault tests on a real four-validator chain: validators killed with SIGKILL and started again,
//! a client that fails over between their gRPC endpoints, and transactions that land exactly
//! once. Each test starts its own network on free ports in a temporary folder; dropping the
//! `Network` stops every process, also when a test fails.
//!
//! Times on the 2-core build machine: a four-validator network starts in ~14 s; the three tests
//! take 20–50 s each, ~60 s together (two at a time).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arena_client::cosmrs::bank::MsgSend;
use arena_client::cosmrs::tx::Msg;
use arena_client::cosmrs::Coin;
use arena_client::{Backoff, Client, ClientError, Signer};
use testnet::network::{NetworkConfig, Ports, Validators};
use testnet::{accounts, Network};

/// How long a halted chain is watched for a new block.
const HALT_WATCH: Duration = Duration::from_secs(5);
const AMOUNT: u128 = 1_234_567;

fn start_four_validators(home: &std::path::Path) -> Network {
    let config =
        NetworkConfig { validators: Validators::equal(4).unwrap(), ..NetworkConfig::new(home, Ports::free().unwrap()) };
    Network::start(&config).unwrap()
}

fn transfer(from: &Signer, to: &Signer, denom: &str) -> arena_client::cosmrs::Any {
    let amount = Coin { denom: denom.parse().unwrap(), amount: AMOUNT };
    MsgSend { from_address: from.address().clone(), to_address: to.address().clone(), amount: vec![amount] }
        .to_any()
        .unwrap()
}

/// The greatest height any of `nodes` reports.
fn top_height(network: &Network, nodes: &[usize]) -> u64 {
    nodes.iter().filter_map(|&i| network.node_height(i)).max().unwrap_or(0)
}

/// Waits until the live `nodes` pass `height + blocks`; panics after `within`.
fn wait_for_blocks(network: &Network, nodes: &[usize], blocks: u64, within: Duration) -> u64 {
    let from = top_height(network, nodes);
    let deadline = Instant::now() + within;
    loop {
        let now = top_height(network, nodes);
        if now >= from + blocks {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "nodes {nodes:?} went from {from} to {now} in {within:?}; wanted {blocks} blocks"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One of four equal validators (a quarter of the power) is killed: blocks go on, a client whose
/// node was the killed one fails over and its transaction goes through exactly once; the killed
/// node, started again, catches up.
#[tokio::test]
async fn one_of_four_validators_killed_blocks_go_on_and_a_client_fails_over() {
    let home = tempfile::tempdir().unwrap();
    let mut network = start_four_validators(home.path());
    let denom = network.profile.denom.clone();
    let client = Client::connect(network.chain_config()).await.unwrap();
    assert_eq!(client.current_endpoint(), network.nodes[0].grpc_url());
    let (alice, bob) = (accounts::cosmos(1, "inj").unwrap(), accounts::cosmos(2, "inj").unwrap());
    let (_, sequence) = client.account_numbers(alice.address()).await.unwrap();
    let balance = client.balance(bob.address().as_ref(), &denom).await.unwrap();

    network.kill_node(0);
    wait_for_blocks(&network, &[1, 2, 3], 5, Duration::from_secs(20));

    let started = Instant::now();
    let outcome = client.send(&alice, vec![transfer(&alice, &bob, &denom)]).await.unwrap();
    println!("transfer through a fail-over included at height {} after {:?}", outcome.height, started.elapsed());
    assert_ne!(client.current_endpoint(), network.nodes[0].grpc_url(), "the client left the killed node");
    assert_eq!(client.account_numbers(alice.address()).await.unwrap().1, sequence + 1, "one transaction signed");
    assert_eq!(client.balance(bob.address().as_ref(), &denom).await.unwrap(), balance + AMOUNT, "paid once");

    let top = top_height(&network, &[1, 2, 3]);
    network.start_node(0).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while network.node_height(0).unwrap_or(0) < top {
        assert!(Instant::now() < deadline, "node 0 did not catch up to {top}");
        std::thread::sleep(Duration::from_millis(100));
    }
    wait_for_blocks(&network, &[0], 3, Duration::from_secs(20));
    network.stop().unwrap();
}

/// Two of four equal validators (half the power, under the two thirds needed) are killed: the
/// chain halts. A transaction sent meanwhile through a client whose node is dead, retried the
/// way Arena's loops retry (`arena_retry::retry` on transient errors) with a short inclusion
/// timeout, neither fails for good nor lands twice; when one validator comes back, blocks resume
/// and it lands once.
#[tokio::test]
async fn two_of_four_validators_killed_the_chain_halts_and_a_transaction_lands_once_after() {
    let home = tempfile::tempdir().unwrap();
    let mut network = start_four_validators(home.path());
    let denom = network.profile.denom.clone();
    let mut config = network.chain_config();
    config.inclusion_timeout = Duration::from_secs(4);
    let client = Client::connect(config).await.unwrap();
    let (alice, bob) = (accounts::cosmos(3, "inj").unwrap(), accounts::cosmos(4, "inj").unwrap());
    let (_, sequence) = client.account_numbers(alice.address()).await.unwrap();
    let balance = client.balance(bob.address().as_ref(), &denom).await.unwrap();

    network.kill_node(0);
    network.kill_node(1);
    // Blocks in flight settle, then none comes.
    std::thread::sleep(Duration::from_secs(1));
    let halted_at = top_height(&network, &[2, 3]);
    std::thread::sleep(HALT_WATCH);
    assert_eq!(top_height(&network, &[2, 3]), halted_at, "no block for {HALT_WATCH:?} with half the power down");

    let timeouts = Arc::new(AtomicUsize::new(0));
    let send = {
        let msg = transfer(&alice, &bob, &denom);
        let (client, alice) = (client.clone(), Arc::new(accounts::cosmos(3, "inj").unwrap()));
        let timeouts = timeouts.clone();
        tokio::spawn(async move {
            arena_client::retry("transfer", Backoff::REQUEST, || {
                let (client, alice, msg, timeouts) = (client.clone(), alice.clone(), msg.clone(), timeouts.clone());
                async move {
                    let result = client.send(&alice, vec![msg]).await;
                    if matches!(result, Err(ClientError::InclusionTimeout { .. })) {
                        timeouts.fetch_add(1, Ordering::SeqCst);
                    }
                    result
                }
            })
            .await
        })
    };
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert!(!send.is_finished(), "the transaction neither landed nor failed for good while the chain halted");
    assert!(timeouts.load(Ordering::SeqCst) >= 1, "the send timed out at least once and was sent again");
    assert_eq!(top_height(&network, &[2, 3]), halted_at, "still halted");
    assert_eq!(client.account_numbers(alice.address()).await.unwrap().1, sequence, "nothing committed");

    let restarted = Instant::now();
    network.start_node(1).unwrap();
    println!("blocks resumed {:?} after node 1 was started again", restarted.elapsed());
    let outcome: Result<_, ClientError> = tokio::time::timeout(Duration::from_secs(60), send).await.unwrap().unwrap();
    let outcome = outcome.unwrap();
    println!("the transfer landed at height {} (halted at {halted_at})", outcome.height);
    assert!(outcome.height > halted_at);
    wait_for_blocks(&network, &[1, 2, 3], 3, Duration::from_secs(20));
    assert_eq!(client.account_numbers(alice.address()).await.unwrap().1, sequence + 1, "one transaction signed");
    assert_eq!(client.balance(bob.address().as_ref(), &denom).await.unwrap(), balance + AMOUNT, "paid once");
    network.stop().unwrap();
}

/// A transaction is in a node's mempool when that node dies, and the chain is halted so it cannot
/// have landed: the client moves to the one live node, looks the hash up there, broadcasts the
/// same bytes (never a new signature), and once two validators return it lands exactly once.
#[tokio::test]
async fn a_transaction_whose_node_dies_before_its_block_lands_once_through_another() {
    let home = tempfile::tempdir().unwrap();
    let mut network = start_four_validators(home.path());
    let denom = network.profile.denom.clone();
    let mut config = network.chain_config();
    config.inclusion_timeout = Duration::from_secs(120);
    let client = Client::connect(config).await.unwrap();
    let (alice, bob) = (accounts::cosmos(9, "inj").unwrap(), accounts::cosmos(10, "inj").unwrap());
    let (_, sequence) = client.account_numbers(alice.address()).await.unwrap();
    let balance = client.balance(bob.address().as_ref(), &denom).await.unwrap();

    // Halt the chain with node 0 (the client's) and node 3 alive.
    network.kill_node(1);
    network.kill_node(2);
    std::thread::sleep(Duration::from_secs(1));
    let halted_at = top_height(&network, &[0, 3]);

    let send = {
        let msg = transfer(&alice, &bob, &denom);
        let (client, alice) = (client.clone(), Arc::new(accounts::cosmos(9, "inj").unwrap()));
        tokio::spawn(async move { client.send(&alice, vec![msg]).await })
    };
    // Wait until node 0 holds it in its mempool, then kill node 0.
    let rpc = network.nodes[0].ports.rpc;
    let deadline = Instant::now() + Duration::from_secs(20);
    while mempool_size(rpc) == 0 {
        assert!(Instant::now() < deadline, "the transfer never reached node 0's mempool");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    network.kill_node(0);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(!send.is_finished(), "nothing can land on a halted chain");
    assert_eq!(client.current_endpoint(), network.nodes[3].grpc_url(), "the client moved to the live node");
    assert_eq!(mempool_size(network.nodes[3].ports.rpc), 1, "node 3 holds the one transaction");

    // Two validators return: three of four, blocks resume.
    network.spawn_node(1).unwrap();
    network.spawn_node(2).unwrap();
    network.wait_node(1).unwrap();
    network.wait_node(2).unwrap();
    let outcome = tokio::time::timeout(Duration::from_secs(60), send).await.unwrap().unwrap().unwrap();
    println!("the transfer landed at height {} (halted at {halted_at})", outcome.height);
    wait_for_blocks(&network, &[1, 2, 3], 3, Duration::from_secs(20));
    assert_eq!(client.account_numbers(alice.address()).await.unwrap().1, sequence + 1, "one transaction signed");
    assert_eq!(client.balance(bob.address().as_ref(), &denom).await.unwrap(), balance + AMOUNT, "paid once");
    network.stop().unwrap();
}

/// Transactions in a node's mempool (CometBFT's `/num_unconfirmed_txs`); 0 if it does not answer.
fn mempool_size(rpc_port: u16) -> u64 {
    let Some(body) = testnet::probe::http(rpc_port, "/num_unconfirmed_txs", None) else { return 0 };
    let start = body.find('{').unwrap_or(0);
    let json: serde_json::Value =
        serde_json::from_str(&body[start..body.rfind('}').map_or(body.len(), |e| e + 1)]).unwrap_or_default();
    json["result"]["n_txs"].as_str().and_then(|n| n.parse().ok()).unwrap_or(0)
}
