//! Integration tests against a real local network: each test starts its own chain and anvil on
//! free ports in a temporary folder; dropping the network stops both, also when a test fails.

use arena_client::cosmrs;
use std::time::Duration;

use arena_client::{Blocks, Client, ClientError, Signer, Wake};
use cosmwasm_std::Uint128;
use cw20::{BalanceResponse, Cw20ExecuteMsg, Cw20QueryMsg};
use testnet::manifest::DeployedContract;
use testnet::network::{NetworkConfig, Ports};
use testnet::{accounts, contracts, deploy, Network, TestnetError};

struct Devnet {
    network: Network,
    client: Client,
    token: DeployedContract,
    _home: tempfile::TempDir,
}

async fn start_devnet_with_token() -> Devnet {
    let home = tempfile::tempdir().unwrap();
    let network = Network::start(&NetworkConfig::new(home.path(), Ports::free().unwrap())).unwrap();
    let artifacts = contracts::build(&["arena-token"]).unwrap();
    let client = Client::connect(network.chain_config()).await.unwrap();
    let mut deployed = deploy::deploy(&client, &artifacts, None).await.unwrap();
    let token = deployed.remove("arena-token").unwrap();
    Devnet { network, client, token, _home: home }
}

fn account(devnet: &Devnet, index: u32) -> Signer {
    accounts::cosmos(index, &devnet.client.config().bech32_prefix).unwrap()
}

async fn token_balance(devnet: &Devnet, who: &Signer) -> u128 {
    let query = Cw20QueryMsg::Balance { address: who.address().to_string() };
    let answer: BalanceResponse = devnet.client.query_contract(&devnet.token.address, &query).await.unwrap();
    answer.balance.u128()
}

#[tokio::test]
async fn cw20_transfer_over_grpc_moves_exactly_the_amount() {
    let devnet = start_devnet_with_token().await;
    let (alice, bob) = (account(&devnet, 1), account(&devnet, 2));
    let start = deploy::TOKEN_BALANCE_PER_ACCOUNT;
    assert_eq!((token_balance(&devnet, &alice).await, token_balance(&devnet, &bob).await), (start, start));

    let transfer = Cw20ExecuteMsg::Transfer { recipient: bob.address().to_string(), amount: Uint128::new(12_345) };
    let outcome = devnet.client.execute(&alice, &devnet.token.address, &transfer, vec![]).await.unwrap();

    assert!(outcome.gas_used > 0 && outcome.gas_used <= outcome.gas_wanted);
    println!("cw20 transfer: {} gas used of {} wanted", outcome.gas_used, outcome.gas_wanted);
    println!("arena-token store: {} gas, instantiate: {} gas", devnet.token.store_gas, devnet.token.instantiate_gas);
    let wasm = outcome.wasm_events().next().expect("the token emits a wasm event");
    assert_eq!((wasm.attribute("action"), wasm.attribute("amount")), (Some("transfer"), Some("12345")));
    assert_eq!(token_balance(&devnet, &alice).await, start - 12_345);
    assert_eq!(token_balance(&devnet, &bob).await, start + 12_345);
    devnet.network.stop().unwrap();
}

#[tokio::test]
async fn client_errors_say_what_went_wrong() {
    let devnet = start_devnet_with_token().await;
    let alice = account(&devnet, 1);
    let transfer = |to: &Signer, amount: u128| Cw20ExecuteMsg::Transfer {
        recipient: to.address().to_string(),
        amount: Uint128::new(amount),
    };

    // A fee far under the node's minimum gas price.
    let msg =
        devnet.client.execute_msg(&alice, &devnet.token.address, &transfer(&account(&devnet, 2), 1), vec![]).unwrap();
    let err = devnet.client.send_with_fee(&alice, vec![msg], 200_000, 1).await.unwrap_err();
    assert!(
        matches!(err, ClientError::InsufficientFee { ref raw_log } if raw_log.contains("insufficient fee")),
        "{err}"
    );
    assert!(err.to_string().contains("Raise the gas price"), "{err}");

    // An account that genesis did not fund has never existed on chain.
    let stranger = account(&devnet, 100);
    let err = devnet.client.execute(&stranger, &devnet.token.address, &transfer(&alice, 1), vec![]).await.unwrap_err();
    assert!(
        matches!(err, ClientError::AccountNotFound { ref address } if address == stranger.address().as_ref()),
        "{err}"
    );

    // A contract error surfaces the contract's own message (simulation catches it before any fee is paid).
    let err = devnet
        .client
        .execute(&alice, &devnet.token.address, &transfer(&stranger, u128::MAX / 2), vec![])
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Simulation(ref log) if log.contains("Overflow")), "{err}");
    assert_eq!(token_balance(&devnet, &alice).await, deploy::TOKEN_BALANCE_PER_ACCOUNT);
    devnet.network.stop().unwrap();
}

#[tokio::test]
async fn unreachable_node_is_reported_with_the_url() {
    // Reserved for this process and not bound: nothing listens there.
    let port = testnet::process::free_ports(1).unwrap()[0];
    let mut config = testnet::network::chain_config(
        &testnet::profile::ChainProfile::load(None, "injectived").unwrap(),
        Ports::free().unwrap(),
    );
    config.grpc_url = format!("http://127.0.0.1:{port}");
    let err = Client::connect(config).await.unwrap_err();
    assert!(matches!(err, ClientError::NodeUnreachable { ref url, .. } if url.ends_with(&port.to_string())), "{err}");
    assert!(arena_client::Classify::is_transient(&err));
}

#[test]
fn a_port_in_use_is_reported_before_anything_starts() {
    let home = tempfile::tempdir().unwrap();
    let mut ports = Ports::free().unwrap();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    ports.evm = busy.local_addr().unwrap().port();
    let err = Network::start(&NetworkConfig::new(home.path(), ports)).unwrap_err();
    assert!(matches!(err, TestnetError::PortInUse { port, what: "EVM JSON-RPC" } if port == ports.evm), "{err}");
}

#[test]
fn every_artifact_passes_cosmwasm_check_with_the_chain_capabilities() {
    for artifact in contracts::build(&[]).unwrap() {
        let output = std::process::Command::new(testnet::repo::cargo_tool("cosmwasm-check"))
            .args(["--available-capabilities", contracts::CHAIN_CAPABILITIES])
            .arg(&artifact.path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success() && text.contains("pass"), "{}: {text}", artifact.package);
        // MVP wasm only: the chain's wasmvm 2.1 rejects bulk-memory and friends.
        let wasm = std::fs::read(&artifact.path).unwrap();
        assert!(
            !contains(&wasm, b"bulk-memory") && !contains(&wasm, b"target_features"),
            "{} still declares post-MVP features",
            artifact.package
        );
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn client_reconnects_after_the_node_is_killed_and_restarted() {
    let home = tempfile::tempdir().unwrap();
    let mut network = Network::start(&NetworkConfig::new(home.path(), Ports::free().unwrap())).unwrap();
    let client = Client::connect(network.chain_config()).await.unwrap();
    let mut blocks = Blocks::follow(&network.rpc_url());
    // Blocks come over the websocket, well before the 20 s fallback would wake the wait.
    let Wake::Block(first) = blocks.next(Duration::from_secs(20)).await else { panic!("no block in 20 s") };
    let Wake::Block(second) = blocks.next(Duration::from_secs(20)).await else { panic!("no block in 20 s") };
    assert!(second > first, "heights {first} then {second}");
    let before = client.latest_height().await.unwrap();

    network.restart_chain().unwrap();

    // The same client (and its HTTP/2 channel) carries on once the node is back.
    let after = arena_client::retry("height", arena_client::Backoff::REQUEST, || client.latest_height()).await.unwrap();
    assert!(after >= before, "the chain resumed at {after}, before the kill it was at {before}");
    let (alice, bob) = (accounts::cosmos(1, "inj").unwrap(), accounts::cosmos(2, "inj").unwrap());
    let denom = client.config().gas_price.denom().to_string();
    let bob_before = client.balance(bob.address().as_ref(), &denom).await.unwrap();
    let send = cosmrs::bank::MsgSend {
        from_address: alice.address().clone(),
        to_address: bob.address().clone(),
        amount: vec![cosmrs::Coin { denom: denom.parse().unwrap(), amount: 7 }],
    };
    client.send(&alice, vec![cosmrs::tx::Msg::to_any(&send).unwrap()]).await.unwrap();
    assert_eq!(client.balance(bob.address().as_ref(), &denom).await.unwrap(), bob_before + 7);
    // The block follower subscribed again by itself once the node was back.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match blocks.next(Duration::from_secs(1)).await {
            Wake::Block(height) if height > before => break,
            _ => assert!(tokio::time::Instant::now() < deadline, "no block over the websocket after the restart"),
        }
    }
    network.stop().unwrap();
}
