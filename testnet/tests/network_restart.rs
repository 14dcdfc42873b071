//! The whole network stopped in the middle of a round and started again on the same homes (what
//! `testnet down` then `testnet up` do): on a chain of four validators, the round resumes where it
//! stood (the phases are counted in blocks, and none are made while the network is down) and
//! completes: consensus, rewards, claims. Real processes (four `injectived`, anvil); every one is
//! stopped when the test ends, also when it fails (`Network` stops its nodes when dropped).

use std::collections::BTreeMap;

use arena_client::{BeaconSecret, BeaconStep, Client, KeyStep, MarketClient, Signer};
use arena_types::market::commitment::{model_commitment, score_commitment};
use arena_types::market::msg::{AssignmentsResponse, ExecuteMsg, ModelMetadata, Role, SubmissionStatus};
use arena_types::market::phase::Phase;
use cosmwasm_std::HexBinary;
use futures::future::join_all;
use testnet::network::{NetworkConfig, Ports, Validators};
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
    let model = |i: usize| ([10 + i as u8; 32], [20 + i as u8; 32]);
    let mut submission_of = BTreeMap::new();
    for (i, t) in trainers.iter().enumerate() {
        let (sha, salt) = model(i);
        let commitment = model_commitment(task_id, 1, t.address().as_ref(), &sha, &salt);
        let outcome =
            market.execute(t, &ExecuteMsg::Submit { task_id, commitment: HexBinary::from(commitment) }).await.unwrap();
        let id: u64 = outcome.wasm_events().find_map(|e| e.attribute("submission_id")).unwrap().parse().unwrap();
        submission_of.insert(id, i);
    }
    market.wait_for_phase(task_id, 1, Phase::ModelReveal).await.unwrap();
    for (i, t) in trainers.iter().enumerate() {
        let (sha, salt) = model(i);
        let reveal = ExecuteMsg::RevealModel {
            task_id,
            model_sha256: HexBinary::from(sha),
            uri: format!("file://models/{i}.safetensors"),
            metadata: ModelMetadata { family: "mlp".into(), parameters: 1_000, file_bytes: 10_000, notes: None },
            salt: HexBinary::from(salt),
        };
        market.execute(t, &reveal).await.unwrap();
    }
    market.wait_for_phase(task_id, 1, Phase::Commit).await.unwrap();
    assert!(matches!(
        market.reveal_due_evaluation_key(&creator, task_id, &keys).await.unwrap(),
        KeyStep::Revealed { .. }
    ));
    assert!(matches!(market.reveal_due_beacon(&creator, task_id, &secret).await.unwrap(), BeaconStep::Revealed { .. }));
    market.assign_all(&creator, task_id, 1, 50).await.unwrap();

    // Each validator commits to its scores; the reveals wait for after the restart.
    let mut reveals: Vec<(&Signer, Vec<ExecuteMsg>)> = Vec::new();
    let mut commits = Vec::new();
    for (j, v) in validators.iter().enumerate() {
        let address = v.address().to_string();
        let assigned: AssignmentsResponse = market.validator_assignments(task_id, &address, None, 100).await.unwrap();
        let (mut commit, mut reveal) = (Vec::new(), Vec::new());
        for a in assigned.assignments {
            let score = SCORES[submission_of[&a.submission_id]];
            let salt = [j as u8 + 1; 32];
            let commitment = score_commitment(task_id, 1, a.submission_id, &address, score, BASELINE, &salt);
            commit.push(ExecuteMsg::Commit {
                task_id,
                submission_id: a.submission_id,
                commitment: HexBinary::from(commitment),
            });
            reveal.push(ExecuteMsg::Reveal {
                task_id,
                submission_id: a.submission_id,
                score,
                baseline: BASELINE,
                salt: HexBinary::from(salt),
            });
        }
        if !commit.is_empty() {
            commits.push((v, commit));
            reveals.push((v, reveal));
        }
    }
    for r in join_all(commits.iter().map(|(v, msgs)| market.execute_many(v, msgs))).await {
        r.unwrap();
    }

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

    market.wait_for_phase(task_id, 1, Phase::Reveal).await.unwrap();
    for r in join_all(reveals.iter().map(|(v, msgs)| market.execute_many(v, msgs))).await {
        r.unwrap();
    }
    market.wait_for_phase(task_id, 1, Phase::Closed).await.unwrap();
    market.finalize_round(&creator, task_id, 1, 50).await.unwrap();

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
