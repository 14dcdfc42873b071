//! Issue 15's fault tests with a market round running: validators SIGKILLed in the middle of a
//! scripted round ([`ScriptedRound`]) on a real four-validator chain. The participants' clients
//! know every node's gRPC endpoint, node 0 first, so killing node 0 forces them to fail over.
//!
//! - Liveness: one of four killed after the commits; the round finalizes with the same results
//!   (consensus, ranks, rewards of trainers and validators) as an undisturbed round of a task with
//!   identical parameters, seeds and scripted scores on the same network; the killed node,
//!   started again, catches up.
//! - Safety: two of four killed at the start of the reveal phase; the chain halts; the validators'
//!   reveals, sent meanwhile with `arena_client::retry`, neither fail for good nor land twice; one
//!   node back, blocks resume and the round finalizes; every participant's sequence, cw20 balance
//!   and claimable reward match the test's books.
//!
//! Real processes (four `injectived`, anvil) per test; dropping the `Network` stops them all, also
//! when a test fails. Times on the 2-core build machine, the two tests side by side: liveness
//! 100-112 s (two rounds of 145 blocks, overlapped), safety 85-95 s (18 s of it halted); ~105 s
//! in all.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arena_client::{Backoff, BeaconSecret, BeaconStep, Client, ClientError, KeyStep, MarketClient, Signer};
use arena_types::market::median::Standing;
use arena_types::market::msg::{AssignmentsResponse, ExecuteMsg, QueryMsg, Role, SubmissionStatus, TaskParams};
use arena_types::market::phase::Phase;
use cw20::{BalanceResponse, Cw20QueryMsg};
use futures::future::join_all;
use testnet::network::{NetworkConfig, Ports, Validators};
use testnet::script::ScriptedRound;
use testnet::task::{PhaseBlocks, TaskSpec};
use testnet::{accounts, contracts, deploy, Network};

const POOL: u128 = 10_000_000;
const STAKE: u128 = 1_000_000;
const BASELINE: u32 = 110_000;
/// The scripted scores (the "seeds" of a round with no worker): validator j reveals
/// `SCORES[i] + 1_000 * j` for trainer i's model, so consensus is a median of distinct scores.
const SCORES: [u32; 2] = [900_000, 700_000];
const PHASES: PhaseBlocks = PhaseBlocks { submission: 40, model_reveal: 25, commit: 40, reveal: 40 };
/// How long a halted chain is watched for a new block.
const HALT_WATCH: Duration = Duration::from_secs(5);
/// Assignment and finalization pages: the rounds here have two submissions.
const PAGE: u32 = 50;

fn score(j: usize, trainer: usize) -> u32 {
    SCORES[trainer] + 1_000 * j as u32
}

/// A network of four equal validators with the token and market deployed.
struct Chain {
    network: Network,
    client: Client,
    market: MarketClient,
    token: String,
}

async fn start_chain(home: &Path) -> Chain {
    let config =
        NetworkConfig { validators: Validators::equal(4).unwrap(), ..NetworkConfig::new(home, Ports::free().unwrap()) };
    let network = Network::start(&config).unwrap();
    let artifacts = contracts::build(&["arena-token", "arena-market"]).unwrap();
    let client = Client::connect(network.chain_config()).await.unwrap();
    assert_eq!(client.current_endpoint(), network.nodes[0].grpc_url(), "clients start on node 0");
    let deployed = deploy::deploy(&client, &artifacts, None).await.unwrap();
    let token = deployed["arena-token"].address.clone();
    let market = MarketClient::new(client.clone(), &deployed["arena-market"].address, &token);
    Chain { network, client, market, token }
}

/// A task's participants: test accounts `first` (creator), `first + 1..=first + 2` (trainers)
/// and `first + 3..=first + 5` (validators; three, so that each is assigned every submission).
struct Party {
    creator: Signer,
    trainers: Vec<Signer>,
    validators: Vec<Signer>,
}

impl Party {
    fn new(first: u32, prefix: &str) -> Self {
        let account = |i| accounts::cosmos(i, prefix).unwrap();
        Party {
            creator: account(first),
            trainers: (first + 1..=first + 2).map(account).collect(),
            validators: (first + 3..=first + 5).map(account).collect(),
        }
    }

    fn everyone(&self) -> impl Iterator<Item = &Signer> {
        std::iter::once(&self.creator).chain(&self.trainers).chain(&self.validators)
    }
}

/// Creates the task and stakes every trainer and validator in it.
async fn create_and_stake(market: &MarketClient, party: &Party, params: TaskParams) -> u64 {
    let (task_id, _) = market.create_task(&party.creator, POOL, params).await.unwrap();
    let stakes = party
        .trainers
        .iter()
        .map(|t| market.stake(t, task_id, Role::Trainer, STAKE))
        .chain(party.validators.iter().map(|v| market.stake(v, task_id, Role::Validator, STAKE)));
    for r in join_all(stakes).await {
        r.unwrap();
    }
    task_id
}

/// What a finalized round decided, by trainer and validator index (not address), so that rounds
/// of two parties compare.
#[derive(Debug, PartialEq)]
struct Results {
    /// Per trainer, its submission.
    submissions: Vec<Decided>,
    trainers_claimable: Vec<u128>,
    validators_claimable: Vec<u128>,
    /// emission, validator budget, trainer budget, paid.
    round: (u128, u128, u128, u128),
}

#[derive(Debug, PartialEq)]
struct Decided {
    status: SubmissionStatus,
    consensus: Option<u32>,
    baseline: Option<u32>,
    rank: Option<u32>,
    weight: u128,
    reward: u128,
    /// Per validator index: (index, score, standing, slashed).
    assessed: Vec<Assessed>,
}

type Assessed = (usize, Option<u32>, Option<Standing>, u128);

async fn results(market: &MarketClient, party: &Party, task_id: u64, submission_of: &BTreeMap<u64, usize>) -> Results {
    let round = market.round(task_id, 1).await.unwrap();
    assert!(round.finalized, "{round:?}");
    let index_of: BTreeMap<String, usize> =
        party.validators.iter().enumerate().map(|(j, v)| (v.address().to_string(), j)).collect();
    let mut by_trainer = BTreeMap::new();
    for (&id, &i) in submission_of {
        let s = market.submission(task_id, id).await.unwrap();
        let a: AssignmentsResponse = market
            .query(&QueryMsg::Assignments { task_id, submission_id: id, start_after: None, limit: None })
            .await
            .unwrap();
        let mut assessed: Vec<Assessed> = a
            .assignments
            .iter()
            .map(|x| (index_of[x.validator.as_str()], x.score, x.standing, x.slashed.u128()))
            .collect();
        assessed.sort_by_key(|a| a.0);
        let decided = Decided {
            status: s.status,
            consensus: s.consensus,
            baseline: s.baseline,
            rank: s.rank,
            weight: s.weight.u128(),
            reward: s.reward.u128(),
            assessed,
        };
        by_trainer.insert(i, decided);
    }
    let mut trainers_claimable = Vec::new();
    for t in &party.trainers {
        trainers_claimable.push(market.claimable(t.address().as_ref()).await.unwrap());
    }
    let mut validators_claimable = Vec::new();
    for v in &party.validators {
        validators_claimable.push(market.claimable(v.address().as_ref()).await.unwrap());
    }
    Results {
        submissions: by_trainer.into_values().collect(),
        trainers_claimable,
        validators_claimable,
        round: (round.emission.u128(), round.validator_budget.u128(), round.trainer_budget.u128(), round.paid.u128()),
    }
}

/// Every node of `nodes` that answers, at its greatest height.
fn top_height(network: &Network, nodes: &[usize]) -> u64 {
    nodes.iter().filter_map(|&i| network.node_height(i)).max().unwrap_or(0)
}

async fn sequence(client: &Client, who: &Signer) -> u64 {
    client.account_numbers(who.address()).await.unwrap().1
}

async fn cw20_balance(client: &Client, token: &str, who: &Signer) -> u128 {
    let r: BalanceResponse =
        client.query_contract(token, &Cw20QueryMsg::Balance { address: who.address().to_string() }).await.unwrap();
    r.balance.u128()
}

/// Liveness: two tasks with identical parameters, beacon secret, evaluation keys, models and
/// scripted scores, each with its own participants. Task U runs undisturbed; task D's round has
/// node 0 (every participant's first endpoint) SIGKILLed after its commits: blocks go on, the
/// reveals fail over, D finalizes with U's results; node 0, started again, catches up.
/// D is created once U is in its reveal phase, so U is closed and finalized before the kill.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_of_four_killed_mid_round_the_round_finalizes_as_an_undisturbed_one() {
    let started = Instant::now();
    let home = tempfile::tempdir().unwrap();
    let Chain { mut network, client, market, .. } = start_chain(home.path()).await;
    let prefix = client.config().bech32_prefix.clone();
    let (u, d) = (Party::new(1, &prefix), Party::new(7, &prefix));
    let secret = BeaconSecret::generate();
    let (params, keys) = TaskSpec::digits(1, PHASES).params(&secret, &home.path().join("shards")).unwrap();
    let setup = started.elapsed();

    // U, undisturbed, up to its reveals.
    let u_task = create_and_stake(&market, &u, params.clone()).await;
    let u_script = ScriptedRound { market: &market, task_id: u_task, round: 1 };
    let u_submissions = u_script.submit_sealed(&u.trainers).await.unwrap();
    u_script.reveal_models(&u.trainers).await.unwrap();
    let (key, beacon) = u_script.open_commit_phase(&u.creator, &keys, &secret).await.unwrap();
    assert!(matches!((key, beacon), (KeyStep::Revealed { .. }, BeaconStep::Revealed { .. })));
    let u_scores = u_script.validator_messages(&u.validators, BASELINE, |j, id| score(j, u_submissions[&id])).await;
    let u_scores = u_scores.unwrap();
    assert_eq!(u_scores.len(), 3, "every validator is assigned");
    u_script.commit(&u_scores).await.unwrap();
    u_script.reveal(&u_scores).await.unwrap();

    // D, the same task again, while U's reveal phase runs out; U is finalized before D's commit
    // phase, with all four validators up.
    let d_task = create_and_stake(&market, &d, params).await;
    let d_script = ScriptedRound { market: &market, task_id: d_task, round: 1 };
    let d_submissions = d_script.submit_sealed(&d.trainers).await.unwrap();
    u_script.finalize(&u.creator).await.unwrap();
    let undisturbed = results(&market, &u, u_task, &u_submissions).await;
    d_script.reveal_models(&d.trainers).await.unwrap();
    let (key, beacon) = d_script.open_commit_phase(&d.creator, &keys, &secret).await.unwrap();
    assert!(matches!((key, beacon), (KeyStep::Revealed { .. }, BeaconStep::Revealed { .. })));
    let d_scores = d_script.validator_messages(&d.validators, BASELINE, |j, id| score(j, d_submissions[&id])).await;
    let d_scores = d_scores.unwrap();
    d_script.commit(&d_scores).await.unwrap();

    // Node 0 crashes after the commits, before the reveals.
    assert_eq!(client.current_endpoint(), network.nodes[0].grpc_url());
    let killed_at = top_height(&network, &[0, 1, 2, 3]);
    network.kill_node(0);
    let kill = Instant::now();
    d_script.reveal(&d_scores).await.unwrap();
    assert_ne!(client.current_endpoint(), network.nodes[0].grpc_url(), "the participants' client failed over");
    d_script.finalize(&d.creator).await.unwrap();
    let disturbed = results(&market, &d, d_task, &d_submissions).await;
    let without_node_0 = kill.elapsed();
    let top = top_height(&network, &[1, 2, 3]);
    assert!(top > killed_at + 40, "blocks went on without node 0: {killed_at} to {top}");

    // The same round, disturbed or not.
    assert_eq!(disturbed, undisturbed);
    for (i, s) in undisturbed.submissions.iter().enumerate() {
        assert_eq!(s.status, SubmissionStatus::Scored, "{s:?}");
        let decided = (s.consensus, s.baseline, s.rank);
        assert_eq!(decided, (Some(score(1, i)), Some(BASELINE), Some(i as u32)), "trainer {i}: {s:?}");
        assert_eq!(s.assessed.len(), 3, "{s:?}");
        assert!(s.assessed.iter().all(|a| a.2 == Some(Standing::InConsensus)), "{s:?}");
    }
    assert!(undisturbed.submissions[0].reward > undisturbed.submissions[1].reward, "{undisturbed:?}");
    assert!(undisturbed.validators_claimable.iter().all(|&c| c > 0), "{undisturbed:?}");
    let claimable: u128 = undisturbed.trainers_claimable.iter().chain(&undisturbed.validators_claimable).sum();
    assert_eq!(claimable, undisturbed.round.3, "everything paid is claimable");

    // Node 0 again: it catches up with the others.
    let restart = Instant::now();
    network.start_node(0).unwrap();
    let top = top_height(&network, &[1, 2, 3]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while network.node_height(0).unwrap_or(0) < top {
        assert!(Instant::now() < deadline, "node 0 did not catch up to {top}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "liveness: setup {setup:?}; node 0 down {without_node_0:?} (blocks {killed_at} to {top}), caught up {:?} \
         after its start; whole test {:?}",
        restart.elapsed(),
        started.elapsed()
    );
    network.stop().unwrap();
}

/// Safety: two of four killed (nodes 0 and 1) when the reveal phase starts, after the commits:
/// no block for [`HALT_WATCH`]; the validators' reveals, sent meanwhile through a client with a
/// short inclusion timeout and `arena_client::retry`, neither land nor fail for good, and nothing
/// is spent; node 1 back, blocks resume, the reveals land once, the round finalizes, and every
/// account's sequence, cw20 balance and claimable reward match the books.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_of_four_killed_mid_round_the_chain_halts_and_the_round_completes_once() {
    let started = Instant::now();
    let home = tempfile::tempdir().unwrap();
    let Chain { mut network, client, market, token } = start_chain(home.path()).await;
    let prefix = client.config().bech32_prefix.clone();
    let party = Party::new(11, &prefix);
    let mut sequences = Vec::new();
    let mut balances = Vec::new();
    for who in party.everyone() {
        sequences.push(sequence(&client, who).await);
        balances.push(cw20_balance(&client, &token, who).await);
    }

    let secret = BeaconSecret::generate();
    let (params, keys) = TaskSpec::digits(1, PHASES).params(&secret, &home.path().join("shards")).unwrap();
    let bond = params.creator_bond.u128().max(POOL);
    let task_id = create_and_stake(&market, &party, params).await;
    let script = ScriptedRound { market: &market, task_id, round: 1 };
    let submission_of = script.submit_sealed(&party.trainers).await.unwrap();
    script.reveal_models(&party.trainers).await.unwrap();
    let (key, beacon) = script.open_commit_phase(&party.creator, &keys, &secret).await.unwrap();
    assert!(matches!((key, beacon), (KeyStep::Revealed { .. }, BeaconStep::Revealed { .. })));
    let scores = script.validator_messages(&party.validators, BASELINE, |j, id| score(j, submission_of[&id])).await;
    let scores = scores.unwrap();
    assert_eq!(scores.len(), 3, "every validator is assigned");
    script.commit(&scores).await.unwrap();

    // Half the power down as the reveal phase starts.
    market.wait_for_phase(task_id, 1, Phase::Reveal).await.unwrap();
    network.kill_node(0);
    network.kill_node(1);
    let killed = Instant::now();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let halted_at = top_height(&network, &[2, 3]);
    tokio::time::sleep(HALT_WATCH).await;
    assert_eq!(top_height(&network, &[2, 3]), halted_at, "no block for {HALT_WATCH:?} with half the power down");

    // The validators reveal meanwhile, as a worker's step would: retried on transient errors.
    let mut config = network.chain_config();
    config.inclusion_timeout = Duration::from_secs(4);
    let reveal_client = MarketClient::new(Client::connect(config).await.unwrap(), market.address(), &token);
    let timeouts = Arc::new(AtomicUsize::new(0));
    let reveals: Vec<_> = scores
        .iter()
        .enumerate()
        .map(|(j, s)| {
            let (market, msgs, timeouts) = (reveal_client.clone(), s.reveals.clone(), timeouts.clone());
            let validator = Arc::new(accounts::cosmos(14 + j as u32, &prefix).unwrap());
            assert_eq!(validator.address(), s.validator.address());
            tokio::spawn(async move {
                arena_client::retry("reveal", Backoff::REQUEST, || {
                    let (market, validator, msgs, timeouts) =
                        (market.clone(), validator.clone(), msgs.clone(), timeouts.clone());
                    async move {
                        let result = market.execute_many(&validator, &msgs).await;
                        if matches!(result, Err(ClientError::InclusionTimeout { .. })) {
                            timeouts.fetch_add(1, Ordering::SeqCst);
                        }
                        result
                    }
                })
                .await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert!(reveals.iter().all(|r| !r.is_finished()), "no reveal landed or failed for good while halted");
    assert!(timeouts.load(Ordering::SeqCst) >= 3, "the reveals timed out and were sent again");
    let live = [network.nodes[2].grpc_url(), network.nodes[3].grpc_url()];
    assert!(live.contains(&reveal_client.client().current_endpoint()), "the reveals went to a live node");
    assert_eq!(top_height(&network, &[2, 3]), halted_at, "still halted");
    // Nothing spent meanwhile: the validators' sequences count their stake and commit only, and
    // every cw20 balance is what the round has taken so far (stakes, the creator's pool and bond).
    for (j, v) in party.validators.iter().enumerate() {
        assert_eq!(sequence(&client, v).await, sequences[3 + j] + 2, "validator {j}: nothing sent while halted");
    }
    for (k, who) in party.everyone().enumerate() {
        let expected = if k == 0 { balances[0] - POOL - bond } else { balances[k] - STAKE };
        assert_eq!(cw20_balance(&client, &token, who).await, expected, "participant {k} while halted");
    }
    let unrevealed = market.validator_assignments(task_id, party.validators[0].address().as_ref(), None, 100).await;
    assert!(unrevealed.unwrap().assignments.iter().all(|a| a.score.is_none()), "nothing revealed while halted");

    // One node back: three of four, blocks resume; the reveals land once.
    let restart = Instant::now();
    network.start_node(1).unwrap();
    let (resumed, halt) = (restart.elapsed(), killed.elapsed());
    for r in join_all(reveals).await {
        let outcome = r.unwrap().unwrap();
        assert!(outcome.height > halted_at);
    }
    market.wait_for_phase(task_id, 1, Phase::Closed).await.unwrap();
    let finalize_pages = market.finalize_round(&party.creator, task_id, 1, PAGE).await.unwrap().len() as u64;
    assert!(finalize_pages >= 1);
    let round = market.round(task_id, 1).await.unwrap();
    assert!(round.finalized);

    // Every validator's assignments revealed exactly once, with the scripted scores.
    for (j, v) in party.validators.iter().enumerate() {
        let page = market.validator_assignments(task_id, v.address().as_ref(), None, 100).await.unwrap();
        assert_eq!(page.assignments.len(), 2);
        for a in &page.assignments {
            let i = submission_of[&a.submission_id];
            assert_eq!((a.score, a.standing, a.slashed.u128()), (Some(score(j, i)), Some(Standing::InConsensus), 0));
        }
    }

    // The books. Sequences: the creator sent create, key, beacon, one assign page and the finalize
    // pages; each trainer stake, submit, reveal; each validator stake, commit, reveal.
    let creator_sent = 4 + finalize_pages;
    let mut paid_to_trainers = 0;
    let mut claimable_total = 0;
    for (i, t) in party.trainers.iter().enumerate() {
        let s = market.submission(task_id, *submission_of.iter().find(|(_, &x)| x == i).unwrap().0).await.unwrap();
        assert_eq!((s.status, s.consensus, s.rank), (SubmissionStatus::Scored, Some(score(1, i)), Some(i as u32)));
        let claimable = market.claimable(t.address().as_ref()).await.unwrap();
        assert_eq!(claimable, s.reward.u128(), "trainer {i} is owed its submission's reward");
        assert!(claimable > 0);
        paid_to_trainers += claimable;
        claimable_total += claimable;
        assert_eq!(sequence(&client, t).await, sequences[1 + i] + 3, "trainer {i}: three transactions");
        assert_eq!(cw20_balance(&client, &token, t).await, balances[1 + i] - STAKE, "trainer {i}: its stake only");
    }
    let mut validator_rewards = Vec::new();
    for (j, v) in party.validators.iter().enumerate() {
        let claimable = market.claimable(v.address().as_ref()).await.unwrap();
        validator_rewards.push(claimable);
        claimable_total += claimable;
        assert_eq!(sequence(&client, v).await, sequences[3 + j] + 3, "validator {j}: three transactions");
        assert_eq!(cw20_balance(&client, &token, v).await, balances[3 + j] - STAKE, "validator {j}: its stake only");
    }
    assert_eq!(sequence(&client, &party.creator).await, sequences[0] + creator_sent, "the creator's transactions");
    assert_eq!(cw20_balance(&client, &token, &party.creator).await, balances[0] - POOL - bond, "pool and bond once");
    // Equal stakes, all in consensus: validator 1 revealed the consensus itself, 0 and 2 are a
    // thousand either side of it (graded alike).
    let v = &validator_rewards;
    assert!(v[0] > 0 && v[0] == v[2] && v[1] > v[0], "validators' rewards {v:?}");
    assert_eq!(claimable_total, round.paid.u128(), "everything paid is claimable, once");
    assert!(paid_to_trainers <= round.trainer_budget.u128());
    let a = market.task(task_id).await.unwrap().accounts;
    assert_eq!(a.entered, a.pool + a.bond + a.in_finalization + a.stake + a.unbonding + a.rewarded + a.withdrawn);
    assert_eq!(a.rewarded.u128(), round.paid.u128());
    assert_eq!(a.stake.u128(), 5 * STAKE, "every stake, once");

    // Claiming pays once.
    let best = &party.trainers[0];
    let owed = market.claimable(best.address().as_ref()).await.unwrap();
    market.execute(best, &ExecuteMsg::Claim {}).await.unwrap();
    assert_eq!(cw20_balance(&client, &token, best).await, balances[1] - STAKE + owed);
    assert_eq!(market.claimable(best.address().as_ref()).await.unwrap(), 0);
    assert_eq!(sequence(&client, best).await, sequences[1] + 4);
    eprintln!(
        "safety: halted at {halted_at} for {halt:?} (node 1 followed the chain {resumed:?} after its start), {} reveal \
         timeouts; whole test {:?}",
        timeouts.load(Ordering::SeqCst),
        started.elapsed()
    );
    network.stop().unwrap();
}
