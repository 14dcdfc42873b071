//! Relayers' faults end to end on the real local chain and a real anvil: a relayer SIGKILLed over
//! and over loses nothing and posts nothing twice; one started after batches were sealed catches
//! up; relayers refuse to confirm a batch the EVM side holds differently; a batch attested by a
//! rotated-out relayer is attested again and settled.

mod network;

use std::time::{Duration, Instant};

use alloy::primitives::U256;
use arena_types::settlement::msg::{BatchResponse, BatchStatus};
use network::{
    assert_posted_exactly_once, claim_all_with_library, expected_balances, Harness, MAX_LEAVES, SERIAL, WITHDRAWALS,
};
use testnet::accounts;

#[tokio::test]
async fn a_relayer_killed_repeatedly_loses_nothing_and_posts_nothing_twice() {
    let _serial = SERIAL.lock().await;
    let mut h = Harness::start(MAX_LEAVES).await;
    // Relayers 0 and 1 only: with a threshold of 2 every batch needs relayer 0, which is
    // SIGKILLed every 0.5 to 1.6 s and restarted 0.1 to 0.7 s later for the whole run.
    h.start_relayer(0, true);
    h.start_relayer(1, true);
    let mut kills = 0u32;
    let mut step = 0u64;
    let mut next = Instant::now() + Duration::from_millis(500);
    let mut down_until: Option<Instant> = None;
    let mut chaos = |h: &mut Harness| {
        let now = Instant::now();
        match down_until {
            Some(until) if now >= until => {
                h.start_relayer(0, true);
                down_until = None;
                next = Instant::now() + Duration::from_millis(500 + (step * 397) % 1100);
            }
            None if now >= next => {
                h.kill_relayer(0);
                kills += 1;
                step += 1;
                down_until = Some(now + Duration::from_millis(100 + (step * 211) % 600));
            }
            _ => {}
        }
    };
    // Half the withdrawals at once, the other half 4 s later, while relayer 0 keeps dying.
    let (client, token, bridge) = (h.client.clone(), h.token.clone(), h.bridge.clone());
    let withdrawals = tokio::spawn(async move {
        let mut sent = network::withdraw(client.clone(), token.clone(), bridge.clone(), WITHDRAWALS / 2, 0).await;
        tokio::time::sleep(Duration::from_secs(4)).await;
        sent.extend(network::withdraw(client, token, bridge, WITHDRAWALS / 2, WITHDRAWALS / 2).await);
        sent
    });
    let batches = h.wait_all_confirmed(WITHDRAWALS, Duration::from_secs(300), &mut chaos).await;
    if !h.relayers.contains_key(&0) {
        h.start_relayer(0, true);
    }
    assert!(kills >= 3, "relayer 0 was killed only {kills} times");
    let sent = withdrawals.await.unwrap();
    assert_posted_exactly_once(&h, &batches, &sent).await;
    claim_all_with_library(&h, &batches, &h.grpc_url(0)).await;
    assert_eq!(h.evm_balances().await, expected_balances(&sent));
    eprintln!("relayer 0 was SIGKILLed {kills} times; {} batches settled exactly once", batches.len());
    h.stop_relayers();
}

#[tokio::test]
async fn a_relayer_started_after_batches_were_sealed_catches_up() {
    let _serial = SERIAL.lock().await;
    let mut h = Harness::start(MAX_LEAVES).await;
    let sent = h.withdraw(WITHDRAWALS, 0).await;
    for _ in 0..WITHDRAWALS / MAX_LEAVES {
        h.seal().await;
    }
    let sealed = h.batches().await;
    assert_eq!(sealed.len() as u32, WITHDRAWALS / MAX_LEAVES);
    assert!(sealed.iter().all(|b| b.status == BatchStatus::Sealed));

    // Relayer 0 alone attests everything it finds, but cannot reach the threshold.
    h.start_relayer(0, false);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let batches = h.batches().await;
        if batches.iter().all(|b| b.attestation_count == 1) {
            break;
        }
        assert!(Instant::now() < deadline, "relayer 0 did not attest every sealed batch: {batches:#?}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // A second relayer started late catches up: every batch is attested, posted and confirmed.
    // It runs with metrics turned off, which changes nothing else it does.
    h.metrics_off.insert(2);
    h.start_relayer(2, false);
    let batches = h.wait_all_confirmed(WITHDRAWALS, Duration::from_secs(120), |_| {}).await;
    let (port, path) = h.metrics_url(2);
    assert_eq!(testnet::probe::http(port, path, None), None, "relayer 2 serves /metrics though disabled");
    let (port, path) = h.metrics_url(0);
    assert!(testnet::probe::http(port, path, None).is_some_and(|m| m.contains("arena_relayer_batches")));
    assert_posted_exactly_once(&h, &batches, &sent).await;
    claim_all_with_library(&h, &batches, &h.grpc_url(2)).await;
    assert_eq!(h.evm_balances().await, expected_balances(&sent));
    h.stop_relayers();
}

/// The bridge's batch `batch_id` as the EVM side signs it.
fn signed_header(h: &Harness, batch: &BatchResponse) -> arena_evm::Batch {
    let source = arena_evm::BatchSource::new(&h.client.config().chain_id, &h.bridge);
    arena_evm::Batch {
        sourceChain: source.chain,
        sourceBridge: source.bridge,
        batchId: batch.batch_id,
        root: batch.root.parse().unwrap(),
        total: U256::from(batch.total.u128()),
        count: batch.count,
    }
}

/// The EVM key of relayer `index`.
fn relayer_key(index: usize) -> alloy::signers::local::PrivateKeySigner {
    accounts::EVM_KEYS[accounts::RELAYERS[index].1].parse().unwrap()
}

/// Waits until relayer `index`'s log contains `needle`.
async fn wait_for_log(h: &Harness, index: usize, needle: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while !h.relayers[&index].log_tail().contains(needle) {
        assert!(
            Instant::now() < deadline,
            "relayer {index} never logged {needle:?}:\n{}",
            h.relayers[&index].log_tail()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

// Scenario 8 of issue 11: a relayer confirmed a batch once `isPosted(batchId)` said yes, whatever
// the settlement contract held under that id. Here two attester keys post a different batch 1
// first; the relayers must not confirm the bridge's batch 1 with that transaction.
#[tokio::test]
async fn relayers_do_not_confirm_a_batch_the_evm_side_holds_differently() {
    let _serial = SERIAL.lock().await;
    let mut h = Harness::start(MAX_LEAVES).await;
    h.withdraw(MAX_LEAVES, 0).await;
    h.seal().await;
    let batch = h.batch(1).await;
    let forged = arena_evm::Batch { root: alloy::primitives::B256::repeat_byte(0x99), ..signed_header(&h, &batch) };
    let evm = h.evm(0).await;
    let signatures: Vec<_> = (0..2).map(|i| evm.sign_batch(&relayer_key(i), &forged).unwrap()).collect();
    let signatures = arena_evm::attest::order_by_signer(evm.batch_digest(&forged), &signatures).unwrap();
    assert!(matches!(evm.post_batch(&forged, &signatures).await.unwrap(), arena_evm::PostOutcome::Posted(_)));

    h.start_relayer(0, false);
    h.start_relayer(1, false);
    wait_for_log(&h, 0, "refusing to confirm", Duration::from_secs(90)).await;
    wait_for_log(&h, 1, "refusing to confirm", Duration::from_secs(30)).await;
    let batch = h.batch(1).await;
    assert_eq!(batch.status, BatchStatus::Attested);
    assert!(batch.confirmations.is_empty(), "{batch:?}");
    h.stop_relayers();
}

// Scenario 10 of issue 11: after an attester rotation the relayers kept posting the attestations
// of the removed key (the post reverts forever) and never attested an `attested` batch again.
#[tokio::test]
async fn an_attested_batch_is_re_attested_and_settled_after_a_rotation() {
    let _serial = SERIAL.lock().await;
    let mut h = Harness::start(MAX_LEAVES).await;
    let sent = h.withdraw(MAX_LEAVES, 0).await;
    h.seal().await;
    // Relayers 0 and 1 attest (signed here, relayed by anyone).
    let batch = h.batch(1).await;
    let evm = h.evm(0).await;
    for i in 0..2 {
        let signature = evm.sign_batch(&relayer_key(i), &signed_header(&h, &batch)).unwrap();
        let msg = arena_types::settlement::msg::ExecuteMsg::Attest {
            batch_id: 1,
            signature: format!("0x{}", hex::encode(signature.as_bytes())),
        };
        h.client.execute(&h.account(6), &h.bridge, &msg, vec![]).await.unwrap();
    }
    assert_eq!(h.batch(1).await.status, BatchStatus::Attested);

    // Relayer 0's key leaves both sides: through the timelock on the EVM side, by the admin on the bridge.
    let removed = [relayer_key(0).address()];
    evm.propose_attester_update(&[], &removed, 2).await.unwrap();
    {
        use alloy::providers::Provider;
        let delay = (testnet::deploy::EVM_TIMELOCK_SECONDS,);
        let _: serde_json::Value = evm.provider().raw_request("evm_increaseTime".into(), delay).await.unwrap();
        let _: serde_json::Value = evm.provider().raw_request("evm_mine".into(), ()).await.unwrap();
    }
    evm.execute_attester_update(&[], &removed, 2).await.unwrap();
    let prefix = h.prefix();
    let attesters = accounts::RELAYERS[1..]
        .iter()
        .map(|&(operator, key)| arena_types::settlement::msg::Attester {
            evm_address: accounts::EVM_ADDRESSES[key].to_string(),
            operator: accounts::cosmos(operator, &prefix).unwrap().address().to_string(),
        })
        .collect();
    let admin = h.account(accounts::DEPLOYER);
    let update = arena_types::settlement::msg::ExecuteMsg::UpdateAttesters { attesters, threshold: 2 };
    h.client.execute(&admin, &h.bridge, &update, vec![]).await.unwrap();

    // The remaining relayers see too few current signatures, relayer 2 attests, and the batch settles.
    h.start_relayer(1, false);
    h.start_relayer(2, false);
    let batches = h.wait_all_confirmed(MAX_LEAVES, Duration::from_secs(120), |_| {}).await;
    assert_posted_exactly_once(&h, &batches, &sent).await;
    claim_all_with_library(&h, &batches, &h.grpc_url(1)).await;
    assert_eq!(h.evm_balances().await, expected_balances(&sent));
    h.stop_relayers();
}
