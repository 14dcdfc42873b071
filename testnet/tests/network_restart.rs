//! The whole network stopped in the middle of a round and started again on the same homes (what
//! `testnet down` then `testnet up` do): on a chain of four validators, the round resumes where it
//! stood (the phases are counted in blocks, and none are made while the network is down) and
//! completes: consensus, rewards, claims. Real processes (four `injectived`, anvil); every one is
//! stopped when the test ends, also when it fails (`Network` stops its nodes when dropped).

use arena_client::{BeaconSecret, BeaconStep, Client, KeyStep, MarketClient, Signer};
use arena_types::market::msg::{ExecuteMsg, Role, SubmissionStatus};
use futures::future::join_all;
use testnet::network::{NetworkConfig, Ports, Validators};
use testnet::script::ScriptedRound;
use testnet::task::{PhaseBlocks, TaskSpec};
use testnet::{accounts, contracts, deploy, Network};

const POOL: u128 = 10_000_000;
const STAKE: u128 = 1_000_000;
const BASELINE: u32 = 110_000;
/// What each trainer's model scores; every validator reveals exactly this, so consensus is it.
const SCORES: [u32; 2] = [900_000, 700_000];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_network_stopped_mid_round_and_started_on_its_homes_completes_the_round() {
    let home = tempfile::tempdir().unwrap();
    let config = NetworkConfig {
        validators: Validators::equal(4).unwrap(),
        ..NetworkConfig::new(home.path().join("net"), Ports::free().unwrap())
    };
    let network = Network::start(&config).unwrap();
    let artifacts = contracts::build(&["arena-token", "arena-market"]).unwrap();
    let client = Client::connect(network.chain_config()).await.unwrap();
    let deployed = deploy::deploy(&client, &artifacts, None).await.unwrap();
    let (market_address, token) = (deployed["arena-market"].address.clone(), deployed["arena-token"].address.clone());
    let market = MarketClient::new(client.clone(), &market_address, &token);
    let prefix = client.config().bech32_prefix.clone();
    let account = |i| accounts::cosmos(i, &prefix).unwrap();
    let creator = account(1);
    let trainers: Vec<Signer> = (2..=3).map(account).collect();
    let validators: Vec<Signer> = (5..=7).map(account).collect();

    let secret = BeaconSecret::generate();
    let phases = PhaseBlocks { submission: 40, model_reveal: 25, commit: 40, reveal: 40 };
    let (params, keys) = TaskSpec::digits(1, phases).params(&secret, &home.path().join("shards")).unwrap();
    let (task_id, _) = market.create_task(&creator, POOL, params).await.unwrap();
    let stakes = trainers
        .iter()
        .map(|t| market.stake(t, task_id, Role::Trainer, STAKE))
        .chain(validators.iter().map(|v| market.stake(v, task_id, Role::Validator, STAKE)));
    for r in join_all(stakes).await {
        r.unwrap();
    }
    let script = ScriptedRound { market: &market, task_id, round: 1 };
    let submission_of = script.submit_sealed(&trainers).await.unwrap();
    script.reveal_models(&trainers).await.unwrap();
    let (key, beacon) = script.open_commit_phase(&creator, &keys, &secret).await.unwrap();
    assert!(matches!(key, KeyStep::Revealed { .. }));
    assert!(matches!(beacon, BeaconStep::Revealed { .. }));

    // Each validator commits to its scores; the reveals wait for after the restart.
    let scores = script.validator_messages(&validators, BASELINE, |_, id| SCORES[submission_of[&id]]).await.unwrap();
    script.commit(&scores).await.unwrap();

    // Down, in the commit phase with every commitment on chain; then up on the same homes.
    let stopped_at = client.latest_height().await.unwrap();
    let down = std::time::Instant::now();
    network.stop().unwrap();
    drop((market, client));
    let mut network = Network::start(&config).unwrap();
    let restart = down.elapsed();
    // A fresh client, as a node started after the restart would have.
    let client = Client::connect(network.chain_config()).await.unwrap();
    let market = MarketClient::new(client.clone(), &market_address, &token);
    let resumed_at = client.latest_height().await.unwrap();
    assert!(resumed_at >= stopped_at, "the chain resumes from its state: {stopped_at} before, {resumed_at} after");
    let task = market.task(task_id).await.unwrap();
    assert_eq!((task.now.round, task.rounds_finalized), (1, 0), "{:?}", task.now);
    for i in 0..network.nodes.len() {
        assert!(network.node_running(i), "validator {i} runs again");
    }

    let script = ScriptedRound { market: &market, task_id, round: 1 };
    script.reveal(&scores).await.unwrap();
    script.finalize(&creator).await.unwrap();

    let round = market.round(task_id, 1).await.unwrap();
    assert!(round.finalized);
    for (&id, &i) in &submission_of {
        let s = market.submission(task_id, id).await.unwrap();
        assert_eq!((s.status, s.consensus, s.baseline), (SubmissionStatus::Scored, Some(SCORES[i]), Some(BASELINE)));
        assert!(s.reward.u128() > 0, "submission {id}: {s:?}");
    }
    let mut claimable = 0;
    for who in trainers.iter().chain(&validators) {
        claimable += market.claimable(who.address().as_ref()).await.unwrap();
    }
    assert_eq!(claimable, round.paid.u128(), "everything the round paid is claimable by its participants");
    assert!(round.paid.u128() > 0);
    let best = &trainers[0];
    let owed = market.claimable(best.address().as_ref()).await.unwrap();
    market.execute(best, &ExecuteMsg::Claim {}).await.unwrap();
    assert_eq!(market.claimable(best.address().as_ref()).await.unwrap(), 0, "claimed {owed}");
    eprintln!("down and up in {restart:?}; the chain stopped at {stopped_at}, resumed at {resumed_at}");
    network.stop().unwrap();
}
