//! One whole arena-market round on a real local chain, driven over gRPC through arena-client:
//! create a task with hidden evaluation shards, stake, submit sealed models and reveal them,
//! reveal the creator's beacon and evaluation key, assign, commit, reveal, finalize, claim; then consensus and rewards are checked against the formulas of arena-types and the
//! token balances on chain.

use arena_client::{BeaconSecret, BeaconStep, Client, EvaluationKeys, KeyStep, MarketClient, Signer};
use arena_types::market::median::{lower_weighted_median, Standing, WeightedScore};
use arena_types::market::msg::{AssignmentsResponse, ExecuteMsg, QueryMsg, Role, SubmissionStatus, TaskParams};
use cw20::{BalanceResponse, Cw20QueryMsg};
use futures::future::join_all;
use testnet::network::{NetworkConfig, Ports};
use testnet::script::ScriptedRound;
use testnet::task::{PhaseBlocks, TaskSpec};
use testnet::{accounts, contracts, deploy, Network};

const POOL: u128 = 10_000_000;
const STAKE: u128 = 1_000_000;
/// The baseline every validator reveals (a majority-class guess on the shard); every model beats it.
const BASELINE: u32 = 110_000;

/// The digits task with phases long enough (in ~0.2 s blocks) for each phase's transactions on a
/// 2-core machine; no worker runs here, the test plays every part itself.
fn params(secret: &BeaconSecret, shard_dir: &std::path::Path) -> (TaskParams, EvaluationKeys) {
    let phases = PhaseBlocks { submission: 60, model_reveal: 30, commit: 40, reveal: 40 };
    TaskSpec::digits(1, phases).params(secret, shard_dir).unwrap()
}

#[tokio::test]
async fn a_whole_round_reaches_consensus_and_pays_by_formula() {
    let home = tempfile::tempdir().unwrap();
    let network = Network::start(&NetworkConfig::new(home.path(), Ports::free().unwrap())).unwrap();
    let artifacts = contracts::build(&["arena-token", "arena-market"]).unwrap();
    let client = Client::connect(network.chain_config()).await.unwrap();
    let deployed = deploy::deploy(&client, &artifacts, None).await.unwrap();
    let token = deployed["arena-token"].address.clone();
    let market = MarketClient::new(client.clone(), &deployed["arena-market"].address, &token);
    let prefix = client.config().bech32_prefix.clone();
    let account = |i| accounts::cosmos(i, &prefix).unwrap();

    let creator = account(1);
    let trainers: Vec<Signer> = (2..=4).map(account).collect();
    let validators: Vec<Signer> = (5..=9).map(account).collect();
    // What each trainer's model truly scores; one validator lies and reports 50_000 for every model.
    let true_score = [910_000u32, 850_000, 400_000];

    let secret = BeaconSecret::generate();
    let (params, keys) = params(&secret, &home.path().join("shards"));
    let (task_id, _) = market.create_task(&creator, POOL, params).await.unwrap();
    // Before its commit phase, the round's evaluation key is not due.
    assert!(matches!(
        market.reveal_due_evaluation_key(&creator, task_id, &keys).await.unwrap(),
        KeyStep::NotYet { round: 1, .. }
    ));
    // Before its stakes freeze, the round's beacon is not accepted.
    assert!(matches!(
        market.reveal_due_beacon(&creator, task_id, &secret).await.unwrap(),
        BeaconStep::NotYet { round: 1, .. }
    ));
    // Different accounts: their transactions go into blocks side by side.
    let joins = trainers
        .iter()
        .map(|t| market.stake(t, task_id, Role::Trainer, STAKE))
        .chain(validators.iter().map(|v| market.stake(v, task_id, Role::Validator, STAKE)));
    for r in join_all(joins).await {
        r.unwrap();
    }
    // Staked before round 1's stakes froze: the stake counts in round 1.
    let counted = market.stake_at(task_id, validators[0].address().as_ref(), 1).await.unwrap();
    assert_eq!((counted.own.u128(), counted.effective.u128()), (STAKE, STAKE), "{counted:?}");

    // Sealed submissions: only the commitment is public until the model-reveal phase.
    let script = ScriptedRound { market: &market, task_id, round: 1 };
    let submission_of = script.submit_sealed(&trainers).await.unwrap();
    for &id in submission_of.keys() {
        assert_eq!(market.submission(task_id, id).await.unwrap().model, None);
    }
    script.reveal_models(&trainers).await.unwrap();
    let submissions = market.submissions(task_id, 1, None, 10).await.unwrap().submissions;
    assert_eq!(submissions.iter().filter(|s| s.model.is_some()).count(), 3);

    // The creator's evaluation key opens the round's shard; sampling waits for the creator's
    // beacon. Both are then the round's, and a second call finds each on chain.
    let (key_step, beacon_step) = script.open_commit_phase(&creator, &keys, &secret).await.unwrap();
    assert!(matches!(key_step, KeyStep::Revealed { round: 1, .. }), "{key_step:?}");
    let round = market.round(task_id, 1).await.unwrap();
    assert_eq!(round.evaluation_key.as_ref().map(|k| k.to_vec()), Some(keys.key(1).unwrap().to_vec()));
    assert!(matches!(market.reveal_due_evaluation_key(&creator, task_id, &keys).await.unwrap(), KeyStep::Finished));
    assert!(matches!(beacon_step, BeaconStep::Revealed { round: 1, .. }), "{beacon_step:?}");
    let beacon = market.beacon(task_id).await.unwrap();
    assert_eq!((beacon.revealed_round, beacon.value.as_slice()), (1, &secret.value(1, 1)[..]));
    assert!(matches!(market.reveal_due_beacon(&creator, task_id, &secret).await.unwrap(), BeaconStep::Finished));

    let assigned = script.assignments(&validators).await.unwrap();
    // The liar is the first validator the sample drew: with k = 3 of 5 any one validator is left out of all three
    // submissions about one time in sixteen, and a liar nobody asked could not be slashed.
    let liar_index = assigned.iter().position(|a| !a.is_empty()).unwrap();
    let liar = validators[liar_index].address().to_string();

    // Each validator commits to all its assignments in one transaction, then reveals them in one.
    let scores = script.score_messages(&validators, assigned, BASELINE, |j, id| {
        if j == liar_index {
            50_000
        } else {
            true_score[submission_of[&id]] + j as u32 * 1_000
        }
    });
    script.commit(&scores).await.unwrap();
    let reveal_gas: Vec<u64> = script.reveal(&scores).await.unwrap().iter().map(|r| r.gas_used).collect();
    script.finalize(&creator).await.unwrap();

    // Consensus: recompute each submission's lower weighted median from the revealed scores on chain.
    let round = market.round(task_id, 1).await.unwrap();
    assert!(round.finalized);
    let mut ranked = Vec::new();
    for (&id, &i) in &submission_of {
        let s = market.submission(task_id, id).await.unwrap();
        let a: AssignmentsResponse = market
            .query(&QueryMsg::Assignments { task_id, submission_id: id, start_after: None, limit: None })
            .await
            .unwrap();
        assert_eq!(a.assignments.len(), 3, "k validators per submission");
        let revealed: Vec<WeightedScore> = a
            .assignments
            .iter()
            .map(|x| WeightedScore { validator: x.validator.to_string(), score: x.score.unwrap(), weight: x.weight })
            .collect();
        let consensus = lower_weighted_median(&revealed).unwrap();
        assert_eq!((s.status, s.consensus, s.baseline), (SubmissionStatus::Scored, Some(consensus), Some(BASELINE)));
        // The honest validators hold the majority of every submission's weight, so consensus is one of their scores.
        assert!(consensus.abs_diff(true_score[i]) <= 4_000, "submission {id}: consensus {consensus}");
        for x in &a.assignments {
            let expected = if x.validator.as_str() == liar { Standing::Outlier } else { Standing::InConsensus };
            assert_eq!(x.standing, Some(expected), "{} on submission {id}", x.validator);
        }
        ranked.push((s.rank.unwrap(), i, s.reward.u128()));
    }
    ranked.sort();
    assert_eq!(ranked.iter().map(|r| r.1).collect::<Vec<_>>(), vec![0, 1, 2], "ranked by consensus score");
    assert!(ranked[0].2 > ranked[1].2 && ranked[1].2 > ranked[2].2, "rank-geometric rewards: {ranked:?}");

    // Money: everything the round paid is claimable by exactly the participants, and claiming pays it in cw20.
    let mut claimable = 0u128;
    for who in trainers.iter().chain(&validators) {
        claimable += market.claimable(who.address().as_ref()).await.unwrap();
    }
    assert_eq!(claimable, round.paid.u128());
    assert_eq!(market.claimable(&liar).await.unwrap(), 0, "an outlier on every reveal earns nothing");
    let task = market.task(task_id).await.unwrap();
    assert!(task.accounts.slashed.u128() > 0, "the liar was slashed");
    let a = task.accounts;
    assert_eq!(a.entered, a.pool + a.bond + a.in_finalization + a.stake + a.unbonding + a.rewarded + a.withdrawn);

    let best = &trainers[0];
    let before = cw20_balance(&client, &token, best).await;
    let owed = market.claimable(best.address().as_ref()).await.unwrap();
    market.execute(best, &ExecuteMsg::Claim {}).await.unwrap();
    assert_eq!(cw20_balance(&client, &token, best).await, before + owed);
    assert_eq!(market.claimable(best.address().as_ref()).await.unwrap(), 0);
    eprintln!("reveal transactions (all of one validator's reveals each): gas {reveal_gas:?}");
    network.stop().unwrap();
}

async fn cw20_balance(client: &Client, token: &str, who: &Signer) -> u128 {
    let r: BalanceResponse =
        client.query_contract(token, &Cw20QueryMsg::Balance { address: who.address().to_string() }).await.unwrap();
    r.balance.u128()
}

/// A creator that misses its key's deadline: the client says so (`TooLate`) instead of sending a
/// key the market would refuse, and the round is void.
#[tokio::test]
async fn a_key_past_its_deadline_is_too_late() {
    let home = tempfile::tempdir().unwrap();
    let network = Network::start(&NetworkConfig::new(home.path(), Ports::free().unwrap())).unwrap();
    let artifacts = contracts::build(&["arena-token", "arena-market"]).unwrap();
    let client = Client::connect(network.chain_config()).await.unwrap();
    let deployed = deploy::deploy(&client, &artifacts, None).await.unwrap();
    let market = MarketClient::new(client.clone(), &deployed["arena-market"].address, &deployed["arena-token"].address);
    let creator = accounts::cosmos(1, &client.config().bech32_prefix).unwrap();
    let secret = BeaconSecret::generate();
    let phases = PhaseBlocks { submission: 10, model_reveal: 4, commit: 10, reveal: 4 };
    let (params, keys) = TaskSpec::digits(1, phases).params(&secret, &home.path().join("shards")).unwrap();
    let (task_id, _) = market.create_task(&creator, POOL, params).await.unwrap();
    let deadline = market.task(task_id).await.unwrap().schedule.key_deadline(1);
    while client.latest_height().await.unwrap() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let step = market.reveal_due_evaluation_key(&creator, task_id, &keys).await.unwrap();
    assert!(matches!(step, KeyStep::TooLate { round: 1 }), "{step:?}");
    assert_eq!(market.round(task_id, 1).await.unwrap().evaluation_key, None);
    // Another task's keys are refused before anything is sent.
    let err = market.reveal_due_evaluation_key(&creator, task_id, &EvaluationKeys::generate(1)).await.unwrap_err();
    assert!(err.to_string().contains("another task's keys"), "{err}");
    network.stop().unwrap();
}
