//! A relayer whose own Cosmos node dies, on a chain of four validators: the relayer reads another
//! node, says so in its `Status`, and keeps attesting; every batch settles exactly once. Real
//! processes throughout (four `injectived`, anvil, two `arena-relayer`); every one of them is
//! stopped when the test ends, also when it fails (the harness's guards).

mod network;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use arena_relayer::proto::relayer_client::RelayerClient;
use arena_relayer::proto::{SettlementEventKind, StatusRequest, StatusResponse, WatchSettlementsRequest};
use arena_types::settlement::msg::BatchStatus;
use network::Harness;

const MAX_LEAVES: u32 = 5;
/// Withdrawals before the kill and after it: two batches each.
const EACH_SIDE: u32 = 10;

async fn status(url: &str) -> StatusResponse {
    RelayerClient::connect(url.to_string()).await.unwrap().status(StatusRequest {}).await.unwrap().into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relayer_whose_node_is_killed_reads_another_and_keeps_attesting() {
    let mut h = Harness::start_on(MAX_LEAVES, 4).await;
    // Relayers 1 and 2 only, at the bridge's threshold of 2: every batch needs both, so a batch
    // confirmed after the kill was attested by relayer 1 from another node.
    h.start_relayer(1, true);
    h.start_relayer(2, true);
    let own = h.network.nodes[1].grpc_url();
    let before = status(&h.grpc_url(1)).await;
    assert_eq!(before.cosmos_endpoint, own, "relayer 1 reads node 1 first");
    assert_eq!(before.cosmos_endpoints, h.relayer_nodes(1));
    assert_eq!(before.cosmos_endpoints.len(), 4);
    assert_eq!(status(&h.grpc_url(2)).await.cosmos_endpoint, h.network.nodes[2].grpc_url());
    let mut events = RelayerClient::connect(h.grpc_url(1))
        .await
        .unwrap()
        .watch_settlements(WatchSettlementsRequest {})
        .await
        .unwrap()
        .into_inner();

    let mut sent = h.withdraw(EACH_SIDE, 0).await;
    let first = h.wait_all_confirmed(EACH_SIDE, Duration::from_secs(120), |_| {}).await;
    assert_eq!(first.len() as u32, EACH_SIDE / MAX_LEAVES);

    // SIGKILL relayer 1's own node; three of four validators go on making blocks.
    let killed_at = h.network.node_height(1).unwrap();
    h.network.kill_node(1);
    let killed = Instant::now();
    sent.extend(h.withdraw(EACH_SIDE, EACH_SIDE).await);
    let batches = h.wait_all_confirmed(2 * EACH_SIDE, Duration::from_secs(120), |_| {}).await;
    let settled_after_kill = killed.elapsed();
    let after_kill: Vec<u64> =
        batches.iter().map(|b| b.batch_id).filter(|id| !first.iter().any(|f| f.batch_id == *id)).collect();
    assert_eq!(after_kill.len() as u32, EACH_SIDE / MAX_LEAVES, "{batches:#?}");

    // Its status names the node it reads now, another one, and that node's height, past the kill.
    let after = status(&h.grpc_url(1)).await;
    assert_ne!(after.cosmos_endpoint, own);
    assert!(h.relayer_nodes(1)[1..].contains(&after.cosmos_endpoint), "{after:?}");
    assert!(after.cosmos_height > killed_at, "height {} at the kill, {} now", killed_at, after.cosmos_height);
    // Its loop runs its passes there (the batch counts are those of its last pass: not compared).
    assert!(after.last_pass_height > killed_at, "{after:?}");

    // Relayer 1 attested each batch sealed after the kill itself (its own event stream says so).
    let mut attested_by_it = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !after_kill.iter().all(|id| attested_by_it.contains(id)) {
        let event = tokio::time::timeout_at(deadline.into(), events.message()).await.unwrap().unwrap().unwrap();
        if event.kind == SettlementEventKind::Attested as i32 && event.by_this_relayer {
            attested_by_it.push(event.batch_id);
        }
    }

    // Exactly once: one BatchPosted per batch, the one the bridge recorded, and the batches hold
    // exactly the withdrawals.
    let events = h.batch_posted_events().await;
    let mut per_batch: BTreeMap<u64, usize> = BTreeMap::new();
    for (batch_id, _, _) in &events {
        *per_batch.entry(*batch_id).or_default() += 1;
    }
    assert_eq!(per_batch.keys().copied().collect::<Vec<_>>(), batches.iter().map(|b| b.batch_id).collect::<Vec<_>>());
    assert!(per_batch.values().all(|n| *n == 1), "a batch was posted twice: {per_batch:?}");
    for b in &batches {
        let (_, tx, _) = events.iter().find(|(id, _, _)| *id == b.batch_id).unwrap();
        assert_eq!(b.evm_tx_hash.as_deref(), Some(tx.to_string().as_str()), "batch {}", b.batch_id);
        assert_eq!((b.status, b.attestation_count), (BatchStatus::Confirmed, 2), "batch {}", b.batch_id);
    }
    assert_eq!(batches.iter().map(|b| b.count).sum::<u32>() as usize, sent.len());
    assert_eq!(batches.iter().map(|b| b.total.u128()).sum::<u128>(), sent.iter().map(|(_, a)| a).sum::<u128>());
    eprintln!("after the kill, {} batches settled in {settled_after_kill:?}", after_kill.len());
    h.stop_relayers();
}
