//! End to end on the real local chain and a real anvil: three relayers as real `arena-relayer`
//! processes settle withdrawals from the bridge to the settlement contract exactly once; users
//! claim with the `claim` command; the EVM balances equal the withdrawals; the gRPC API pages and
//! streams. The relayers' faults (killed, late, lied to, rotated) are in settlement_faults.rs.

mod network;

use std::time::{Duration, Instant};

use alloy::primitives::{Address, U256};
use arena_relayer::proto::relayer_client::RelayerClient;
use arena_relayer::proto::{BatchStatus as ProtoStatus, ListBatchesRequest, StatusRequest, WatchSettlementsRequest};
use arena_types::settlement::msg::BatchStatus;
use network::{assert_posted_exactly_once, expected_balances, Harness, MAX_LEAVES, SERIAL, WITHDRAWALS};
use testnet::accounts;

/// The services a server lists through gRPC reflection (v1), sorted.
async fn list_services(channel: tonic::transport::Channel) -> Vec<String> {
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = ServerReflectionClient::new(channel)
        .server_reflection_info(futures::stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("not a list of services: {response:?}");
    };
    let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    names.sort();
    names
}

#[tokio::test]
async fn three_relayers_settle_every_batch_exactly_once_and_claims_pay_exactly() {
    let _serial = SERIAL.lock().await;
    let mut h = Harness::start(MAX_LEAVES).await;
    for i in 0..3 {
        h.start_relayer(i, true);
    }
    // A watcher of relayer 0's events, from before the first withdrawal.
    let mut watch = RelayerClient::connect(h.grpc_url(0)).await.unwrap();
    let mut events = watch.watch_settlements(WatchSettlementsRequest {}).await.unwrap().into_inner();

    let sent = h.withdraw(WITHDRAWALS, 0).await;
    let batches = h.wait_all_confirmed(WITHDRAWALS, Duration::from_secs(180), |_| {}).await;
    assert_eq!(batches.len() as u32, WITHDRAWALS / MAX_LEAVES);
    assert_posted_exactly_once(&h, &batches, &sent).await;

    // The stream showed every batch reach confirmed.
    let mut confirmed = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while confirmed.len() < batches.len() {
        let event = tokio::time::timeout_at(deadline.into(), events.message()).await.unwrap().unwrap().unwrap();
        if event.kind == arena_relayer::proto::SettlementEventKind::Confirmed as i32 {
            confirmed.push(event.batch_id);
        }
    }
    confirmed.sort();
    assert_eq!(confirmed, batches.iter().map(|b| b.batch_id).collect::<Vec<_>>());

    // Status and metrics agree with the chains once a pass ran after the last confirmation:
    // waited for (30 s at most), not slept on.
    let (port, path) = h.metrics_url(0);
    let confirmed_gauge = format!("arena_relayer_batches{{stage=\"confirmed\"}} {}", batches.len());
    let deadline = Instant::now() + Duration::from_secs(30);
    let (status, metrics) = loop {
        let status = watch.status(StatusRequest {}).await.unwrap().into_inner();
        let metrics = testnet::probe::http(port, path, None).expect("metrics answer");
        let settled = status.confirmed == batches.len() as u64 && metrics.contains(&confirmed_gauge);
        if settled || Instant::now() > deadline {
            break (status, metrics);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!((status.pending, status.attested, status.posted, status.confirmed), (0, 0, 0, batches.len() as u64));
    assert_eq!((status.threshold, status.attesters.len()), (2, 3));
    assert_eq!(status.attester, accounts::EVM_ADDRESSES[accounts::RELAYERS[0].1]);
    assert!(metrics.contains(&format!("arena_relayer_batches_seen_total {}", batches.len())), "{metrics}");
    assert!(metrics.contains("arena_relayer_batches{stage=\"confirmed\"} 3"), "{metrics}");

    // `arena-relayer status` prints the same, as a user reads it.
    let cli = std::process::Command::new(env!("CARGO_BIN_EXE_arena-relayer"))
        .args(["status", "--relayer", &h.grpc_url(0)])
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&cli.stdout);
    assert!(cli.status.success(), "{printed}{}", String::from_utf8_lossy(&cli.stderr));
    let (operator, _) = accounts::RELAYERS[0];
    for line in [
        format!("cosmos      {} at height ", h.client.config().chain_id),
        format!("evm         chain {} at height ", network::CHAIN_ID),
        format!("bridge      {}\n", h.bridge),
        format!("settlement  {}\n", h.settlement.to_checksum(None)),
        format!("attester    {} (operator {})\n", status.attester, h.account(operator).address()),
        "attesters   2 of:\n".to_string(),
        format!("batches     pending 0  attested 0  posted 0  confirmed {}  (as of height ", batches.len()),
    ] {
        assert!(printed.contains(&line), "{line:?} not in:\n{printed}");
    }
    for (index, evm_key) in accounts::RELAYERS.map(|(account, key)| (account, key)) {
        let attester =
            format!("            {} (operator {})\n", accounts::EVM_ADDRESSES[evm_key], h.account(index).address());
        assert!(printed.contains(&attester), "{attester:?} not in:\n{printed}");
    }

    // ListBatches pages through the confirmed batches.
    let first = watch
        .list_batches(ListBatchesRequest { status: ProtoStatus::Confirmed as i32, start_after: 0, limit: 2 })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.batches.iter().map(|b| b.batch_id).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(first.next_start_after, 2);
    let rest = watch
        .list_batches(ListBatchesRequest { status: ProtoStatus::Confirmed as i32, start_after: 2, limit: 2 })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rest.batches.iter().map(|b| b.batch_id).collect::<Vec<_>>(), [3]);
    assert_eq!(rest.next_start_after, 0);
    assert_eq!(rest.batches[0].evm_tx_hash, batches[2].evm_tx_hash.clone().unwrap());
    let sealed = watch
        .list_batches(ListBatchesRequest { status: ProtoStatus::Sealed as i32, start_after: 0, limit: 0 })
        .await
        .unwrap()
        .into_inner();
    assert!(sealed.batches.is_empty());

    // gRPC health says SERVING for the service, and reflection lists it (what grpcurl uses).
    let channel = tonic::transport::Endpoint::from_shared(h.grpc_url(0)).unwrap().connect().await.unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    let served = health
        .check(tonic_health::pb::HealthCheckRequest { service: "arena.relayer.v1.Relayer".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(served.status, tonic_health::pb::health_check_response::ServingStatus::Serving as i32);
    assert_eq!(
        list_services(channel).await,
        ["arena.relayer.v1.Relayer", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"]
    );

    // Claim through the CLI: every leaf pays exactly, and the CLI prints the new balance. Which
    // batch holds which withdrawal depends on the order the concurrent sends landed in.
    let expected = expected_balances(&sent);
    let evm = h.evm(0).await;
    let claim_cli = |relayer: String, batch_id: u64, key_file: std::path::PathBuf| {
        std::process::Command::new(env!("CARGO_BIN_EXE_arena-relayer"))
            .args(["claim", "--relayer", &relayer, "--batch", &batch_id.to_string()])
            .arg("--key-file")
            .arg(key_file)
            .args(["--evm-rpc", &h.network.evm_rpc_url(), "--settlement", &h.settlement.to_string()])
            .output()
            .unwrap()
    };
    for i in 0..10usize {
        let address: Address = accounts::EVM_ADDRESSES[i].parse().unwrap();
        let key_file = h.dir.path().join(format!("claimer-{i}.key"));
        std::fs::write(&key_file, accounts::EVM_KEYS[i]).unwrap();
        std::fs::set_permissions(
            &key_file,
            <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o600),
        )
        .unwrap();
        let mut claimed_in = Vec::new();
        for batch in &batches {
            let proof = arena_relayer::claim::fetch_proof(&h.grpc_url(1), batch.batch_id, address).await.unwrap();
            let before = evm.balance_of(address).await.unwrap();
            let output = claim_cli(h.grpc_url(1), batch.batch_id, key_file.clone());
            let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
            if proof.leaves.is_empty() {
                assert!(!output.status.success() && stderr.contains("holds nothing"), "{stdout}{stderr}");
                continue;
            }
            assert!(output.status.success(), "claim {i} batch {}: {stdout}{stderr}", batch.batch_id);
            assert_eq!(stdout.matches("claimed batch").count(), proof.leaves.len(), "{stdout}");
            let leaves: U256 = proof.leaves.iter().map(|l| l.amount.parse::<U256>().unwrap()).sum();
            assert_eq!(evm.balance_of(address).await.unwrap(), before + leaves, "{stdout}");
            claimed_in.push(batch.batch_id);
        }
        // Claiming again pays nothing more; the CLI reports the final balance.
        let again = claim_cli(h.grpc_url(2), claimed_in[0], key_file.clone());
        let stdout = String::from_utf8_lossy(&again.stdout);
        assert!(again.status.success() && stdout.contains("already claimed"), "{stdout}");
        assert!(!stdout.contains("claimed batch"), "{stdout}");
        assert!(stdout.contains(&format!("balance of {address}: {}", expected[&address])), "{stdout}");
    }
    assert_eq!(h.evm_balances().await, expected);
    for batch in &batches {
        let posted = evm.batch(batch.batch_id).await.unwrap();
        assert_eq!(posted.claimed, U256::from(batch.total.u128()));
    }
    h.stop_relayers();
}

/// Pages of ListBatches from start_after 0 until next_start_after is 0: the batch ids and page sizes.
async fn list_all(
    client: &mut RelayerClient<tonic::transport::Channel>,
    status: ProtoStatus,
    limit: u32,
) -> (Vec<u64>, Vec<usize>) {
    let (mut ids, mut sizes, mut start_after) = (Vec::new(), Vec::new(), 0);
    loop {
        let page = client
            .list_batches(ListBatchesRequest { status: status as i32, start_after, limit })
            .await
            .unwrap()
            .into_inner();
        sizes.push(page.batches.len());
        ids.extend(page.batches.iter().map(|b| b.batch_id));
        if page.next_start_after == 0 {
            return (ids, sizes);
        }
        start_after = page.next_start_after;
    }
}

#[tokio::test]
async fn list_batches_pages_past_a_hundred_batches() {
    let _serial = SERIAL.lock().await;
    // One-leaf batches: 101 withdrawals, each followed by a SealBatch, in two transactions.
    const BATCHES: u64 = 101;
    let mut h = Harness::start(1).await;
    let sender = h.account(6);
    let mut msgs = Vec::new();
    for k in 0..BATCHES as u32 {
        let hook = arena_types::settlement::msg::ReceiveMsg::Withdraw {
            evm_recipient: accounts::EVM_ADDRESSES[(k % 10) as usize].into(),
        };
        let send = cw20::Cw20ExecuteMsg::Send {
            contract: h.bridge.clone(),
            amount: network::withdrawal_amount(k).into(),
            msg: cosmwasm_std::to_json_binary(&hook).unwrap(),
        };
        msgs.push(h.client.execute_msg(&sender, &h.token, &send, vec![]).unwrap());
        let seal = arena_types::settlement::msg::ExecuteMsg::SealBatch {};
        msgs.push(h.client.execute_msg(&sender, &h.bridge, &seal, vec![]).unwrap());
    }
    // The node takes at most 30M gas per transaction: about 60 pairs.
    for chunk in msgs.chunks(2 * 51) {
        h.client.send(&sender, chunk.to_vec()).await.unwrap();
    }
    let all: Vec<u64> = (1..=BATCHES).collect();
    assert_eq!(h.batches().await.iter().map(|b| b.batch_id).collect::<Vec<_>>(), all);

    // The relayer's pass reads the open batches through Bridge::all_batches, a page at a time.
    let bridge = arena_relayer::bridge::Bridge::new(h.client.clone(), h.bridge.clone());
    for page_size in [30, 100, 1_000] {
        let sealed = bridge.all_batches(BatchStatus::Sealed, page_size).await.unwrap();
        assert_eq!(sealed.iter().map(|b| b.batch_id).collect::<Vec<_>>(), all, "pages of {page_size}");
    }

    // One relayer serves the pages; alone it cannot reach the threshold of 2, so every batch stays sealed.
    h.start_relayer(0, false);
    let mut client = RelayerClient::connect(h.grpc_url(0)).await.unwrap();
    // A limit above the bridge's MAX_LIMIT (100) is clamped to it; 0 takes DEFAULT_LIMIT (30).
    assert_eq!(list_all(&mut client, ProtoStatus::Unspecified, 1_000).await, (all.clone(), vec![100, 1]));
    assert_eq!(list_all(&mut client, ProtoStatus::Unspecified, 0).await, (all.clone(), vec![30, 30, 30, 11]));
    assert_eq!(list_all(&mut client, ProtoStatus::Sealed, 100).await, (all.clone(), vec![100, 1]));
    // The relayer is busy attesting 101 batches one transaction at a time (a minute): SIGKILLed
    // when the harness drops, not waited for.
}

/// One batch of 110 leaves: the bridge answers leaf queries 100 at a time, so the relayers' check
/// of the root, the post to the EVM side and the proofs of the leaves past the 100th need a second
/// page. Every recipient gets a proof of each of its leaves; two recipients claim theirs (each
/// claim waits for an anvil block, a second: all 110 would take two minutes), including leaves
/// past the 100th, and are paid exactly.
#[tokio::test]
async fn a_batch_of_more_than_a_hundred_leaves_settles_and_every_leaf_is_claimed() {
    let _serial = SERIAL.lock().await;
    const LEAVES: u32 = 110;
    let mut h = Harness::start(LEAVES).await;
    // The withdrawals in two transactions of one sender (one per leaf would take a minute here).
    let sender = h.account(6);
    let mut msgs = Vec::new();
    let mut sent = Vec::new();
    for k in 0..LEAVES {
        let recipient = accounts::EVM_ADDRESSES[(k % 10) as usize];
        let hook = arena_types::settlement::msg::ReceiveMsg::Withdraw { evm_recipient: recipient.into() };
        let send = cw20::Cw20ExecuteMsg::Send {
            contract: h.bridge.clone(),
            amount: network::withdrawal_amount(k).into(),
            msg: cosmwasm_std::to_json_binary(&hook).unwrap(),
        };
        msgs.push(h.client.execute_msg(&sender, &h.token, &send, vec![]).unwrap());
        sent.push((recipient.parse::<Address>().unwrap(), network::withdrawal_amount(k)));
    }
    for chunk in msgs.chunks(55) {
        h.client.send(&sender, chunk.to_vec()).await.unwrap();
    }
    h.seal().await;
    let sealed = h.batches().await;
    assert_eq!(sealed.iter().map(|b| (b.count, b.status)).collect::<Vec<_>>(), vec![(LEAVES, BatchStatus::Sealed)]);
    h.start_relayer(0, false);
    h.start_relayer(1, false);
    let batches = h.wait_all_confirmed(LEAVES, Duration::from_secs(180), |_| {}).await;
    assert_posted_exactly_once(&h, &batches, &sent).await;
    let batch_id = batches[0].batch_id;
    let mut indexes = Vec::new();
    for recipient in accounts::EVM_ADDRESSES {
        let proof =
            arena_relayer::claim::fetch_proof(&h.grpc_url(1), batch_id, recipient.parse().unwrap()).await.unwrap();
        assert!(proof.posted && proof.leaves.len() == 11, "{proof:?}");
        indexes.extend(proof.leaves.iter().map(|l| l.index));
    }
    indexes.sort();
    assert_eq!(indexes, (0..LEAVES).collect::<Vec<_>>());
    let claimers = [0usize, 9];
    for i in claimers {
        let recipient: Address = accounts::EVM_ADDRESSES[i].parse().unwrap();
        let report = arena_relayer::claim::claim(&h.grpc_url(1), batch_id, recipient, &h.evm(i).await).await.unwrap();
        assert!(report.claimed.iter().any(|(index, _, _)| *index >= 100), "{:?}", report.claimed);
    }
    let expected = expected_balances(&sent);
    let balances = h.evm_balances().await;
    for (i, recipient) in accounts::EVM_ADDRESSES.iter().enumerate() {
        let recipient: Address = recipient.parse().unwrap();
        let paid = if claimers.contains(&i) { expected[&recipient] } else { U256::ZERO };
        assert_eq!(balances[&recipient], paid, "recipient {recipient}");
    }
    h.stop_relayers();
}
