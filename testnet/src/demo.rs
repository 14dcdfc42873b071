//! `testnet demo`: a whole arena competition on a fresh local network, end to end. A digits task
//! is posted with a cw20 reward pool, the creator's bond and one hidden evaluation shard per
//! round; the creator node reveals the task's beacon and each round's evaluation key; five trainer
//! nodes train on the GPU (or lavapipe), seal their models and reveal them: one deliberately weak
//! (below the baseline), one copycat (submits the previous round's winning file), one eval thief
//! (tries to read the sealed shards before their keys are out); four validator nodes (one
//! dishonest) open each round's shard, evaluate, commit and reveal; the chain reaches consensus and
//! pays; everyone withdraws to Base Sepolia's stand-in (or claims on the Cosmos side what is below
//! the market's smallest EVM withdrawal), three relayers (threshold 2) settle the batches, and
//! every recipient's claim is paid in ERC-20.
//!
//! The chain runs four validators of equal power by default (`--validators N`). Every participant
//! reads a node of its own, participant i node i mod N, with the other nodes as fail-over
//! endpoints after it: the relayers so that the attestation threshold is also a threshold of
//! independent views of the chain, the worker nodes so that the queries of ten polling nodes are
//! shared between the chain's nodes and a node's failure moves only its share of the participants.
//!
//! Beside the digits task, the same creator posts a language-model task ([`lm`]): three trainers
//! fine-tune LoRA adapters of a tiny GPT pretrained once and cached ([`base`]), the same
//! validators score them in bits per byte, and the report adds its leaderboard and a few samples
//! from each model.

pub mod base;
pub mod cast;
pub mod lm;
pub mod report;
pub mod report_lm;
pub mod settle;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use arena_client::{BeaconSecret, Client, EvaluationKeys, MarketClient};
use arena_config::worker::{NodeRole, TrainerAdversary};
use arena_types::market::msg::{AssignmentsResponse, QueryMsg, SlashEventsResponse};
use arena_types::market::phase::Phase;
use arena_types::settlement::msg as bridge;

use self::cast::{name_of, Reads, CREATOR, TRAINERS, VALIDATORS};
use self::lm::LmOptions;
use self::report::{
    ChainNodeReport, Report, RoundReport, Stage, SubmissionReport, TheftReport, Totals, ValidatorReport,
};
pub use self::settle::evm_recipient;
use self::settle::{claim_all, wait_for_settlement, withdraw_all};
use crate::error::TestnetError;
use crate::network::{self, NetworkConfig, Ports, Validators};
use crate::process::Service;
use crate::task::{shard_dir, PhaseBlocks, TaskSpec};
use crate::{accounts, contracts, deploy, repo, Network};

/// What the demo runs.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// Holds the network, the nodes' folders and logs, and the report.
    pub home: PathBuf,
    pub rounds: u32,
    /// Block counts of the submission, model-reveal, commit and reveal phases.
    pub phases: PhaseBlocks,
    /// Validators sampled per submission (k), out of the four.
    pub validators_per_submission: u32,
    /// Leave the network (not the nodes) running at the end.
    pub keep_running: bool,
    /// Validator nodes of the chain, of equal voting power.
    pub chain_validators: usize,
    /// The language-model task beside the digits task.
    pub language_model: LmOptions,
}

impl DemoOptions {
    pub fn new(home: impl Into<PathBuf>) -> Self {
        DemoOptions {
            home: home.into(),
            rounds: 2,
            phases: PhaseBlocks { submission: 90, model_reveal: 30, commit: 70, reveal: 50 },
            validators_per_submission: 3,
            keep_running: false,
            chain_validators: 4,
            // One round, as long as a digits round: it ends with the digits task's first.
            language_model: LmOptions {
                rounds: 1,
                phases: PhaseBlocks { submission: 90, model_reveal: 30, commit: 70, reveal: 50 },
                finetune_steps: 30,
                sample_prompts: 3,
                sample_bytes: 120,
            },
        }
    }
}

/// The reward pool of each task, in micro-ARENA (100 ARENA).
const POOL: u128 = 100_000_000;

/// Runs the demo; everything it started is stopped when it returns (or when its future is
/// dropped, e.g. on Ctrl-C), unless `keep_running` leaves the network up.
pub async fn run(opts: &DemoOptions) -> Result<Report, TestnetError> {
    let mut clock = StageClock::new();
    let net_home = opts.home.join("network");
    for service in network::running_services(&net_home) {
        service.stop(Duration::from_secs(15))?;
    }
    if opts.home.exists() {
        std::fs::remove_dir_all(&opts.home).map_err(TestnetError::io(format!("clearing {}", opts.home.display())))?;
    }
    std::fs::create_dir_all(&opts.home).map_err(TestnetError::io(format!("creating {}", opts.home.display())))?;

    // Built before the network starts, so the chain does not idle through a cold build.
    say("building the contracts (cargo's progress below)");
    let artifacts = contracts::build_with(&[], contracts::BuildOptions { progress: true, ..Default::default() })?;
    clock.done("contracts built");

    say("the language-model task's base: from the cache, or pretrained once on the GPU and cached");
    let base = tokio::task::spawn_blocking(|| {
        let recipe = base::BaseRecipe::demo();
        let backend = gpu_worker::Backend::Gpu(Default::default());
        base::cached_base(&recipe, &base::cache_root()?, &backend).map(|base| (recipe, base))
    })
    .await
    .expect("the base's thread does not panic")?;
    say(&format!(
        "base {}: {} ({})",
        base.0.architecture,
        base.1.dir.display(),
        if base.1.reused { "reused" } else { "pretrained now" }
    ));
    clock.done("language-model base");

    say(&format!("starting a local chain of {} validator(s) and anvil", opts.chain_validators));
    let network = Network::start(&NetworkConfig {
        validators: Validators::equal(opts.chain_validators)?,
        ..NetworkConfig::new(&net_home, Ports::free()?)
    })?;
    for node in &network.nodes {
        say(&format!(
            "validator node {}: voting power {}, gRPC {}, RPC {}, height {}",
            node.name,
            node.power,
            node.grpc_url(),
            node.rpc_url(),
            network.node_height(node.index).map_or("-".into(), |h| h.to_string())
        ));
    }
    clock.done("network up");

    say("deploying the contracts (CosmWasm and Solidity)");
    let client = Client::connect(network.chain_config()).await?;
    let deployed = deploy::deploy(&client, &artifacts, None).await?;
    let bridge = &deployed["arena-bridge"].address;
    let evm = deploy::deploy_evm(&network.evm_rpc_url(), &client.config().chain_id, bridge, None).await?;
    deploy::connect_bridge_to_evm(&client, &deployed["arena-bridge"].address, &evm[deploy::SETTLEMENT]).await?;
    let manifest = network.manifest(deployed.clone(), evm.clone());
    let manifest_path = opts.home.join("manifest.json");
    manifest.write(&manifest_path)?;
    // Seal as soon as the withdrawals have had a few blocks to arrive.
    let admin = accounts::cosmos(accounts::DEPLOYER, "inj")?;
    let policy = bridge::BatchPolicy { max_leaves: 100, max_age_blocks: 15 };
    client
        .execute(
            &admin,
            &deployed["arena-bridge"].address,
            &bridge::ExecuteMsg::UpdateBatchPolicy { batch_policy: policy },
            vec![],
        )
        .await?;
    clock.done("deploy");

    let market = MarketClient::new(client.clone(), &deployed["arena-market"].address, &deployed["arena-token"].address);
    let creator = accounts::cosmos(CREATOR, "inj")?;
    let secret = BeaconSecret::generate();
    let (params, keys) = demo_task(opts, &secret)?;
    let (task_id, _) = market.create_task(&creator, POOL, params).await?;
    // Where the creator node looks by default: beside the manifest.
    secret.write_new(&BeaconSecret::path_in(&opts.home, task_id))?;
    keys.write_new(&EvaluationKeys::path_in(&opts.home, task_id))?;
    say(&format!(
        "task {task_id} posted: digits classification, {} rounds, pool {} ARENA",
        opts.rounds,
        POOL / 1_000_000
    ));
    let lm_opts = &opts.language_model;
    let lm_task =
        lm::post_task(&market, &creator, &opts.home, lm_opts, opts.validators_per_submission, POOL, base).await?;
    say(&format!(
        "task {} posted: language-model fine-tuning (LoRA rank <= {}), {} round(s), pool {} ARENA",
        lm_task.task_id,
        lm::MAX_LORA_RANK,
        lm_opts.rounds,
        POOL / 1_000_000
    ));

    // Who reads which node: the worker nodes in order (creator, trainers, validators), then the
    // relayers again from node 0, so that relayer i reads node i mod N.
    let mut readers: Vec<(String, Reads)> = Vec::new();
    let mut worker_reads = (0..).map(|i| Reads::spread(&network.nodes, i));
    let mut reads_for = |name: &str| {
        let reads = worker_reads.next().expect("endless");
        readers.push((name.to_string(), reads.clone()));
        reads
    };
    let mut services = vec![cast::start_node(
        &opts.home,
        &manifest_path,
        task_id,
        "creator",
        CREATOR,
        NodeRole::Creator,
        &reads_for("creator"),
        |_| {},
    )?];
    for t in &TRAINERS {
        services.push(cast::start_node(
            &opts.home,
            &manifest_path,
            task_id,
            t.name,
            t.account,
            NodeRole::Trainer,
            &reads_for(t.name),
            |node| node.trainer = cast::trainer_config(t),
        )?);
    }
    for v in &VALIDATORS {
        services.push(cast::start_node(
            &opts.home,
            &manifest_path,
            task_id,
            v.name,
            v.account,
            NodeRole::Validator,
            &reads_for(v.name),
            |node| node.validator = cast::validator_config(v),
        )?);
    }
    let mut lm_services = lm::start_nodes(&opts.home, &manifest_path, &lm_task, lm_opts, &mut reads_for)?;
    let mut relayer_ports = Vec::new();
    for i in 0..accounts::RELAYERS.len() {
        let reads = Reads::spread(&network.nodes, i);
        let (service, ports) = cast::start_relayer(&opts.home, &manifest_path, &reads, i)?;
        let fail_over = if reads.grpc.len() > 1 { ", failing over to the other nodes" } else { "" };
        say(&format!("relayer-{} reads {} ({}){fail_over}", i + 1, reads.node, reads.grpc[0]));
        readers.push((format!("relayer-{}", i + 1), reads));
        services.push(service);
        relayer_ports.push(ports);
    }
    say(&format!(
        "started the creators, {} + {} trainers, {} validators (a node per task each), {} relayers (logs in {})",
        TRAINERS.len(),
        cast::LM_TRAINERS.len(),
        VALIDATORS.len(),
        relayer_ports.len(),
        opts.home.display()
    ));
    let relayer_urls: Vec<String> = relayer_ports.iter().map(|p| format!("http://127.0.0.1:{}", p.grpc)).collect();
    let (explorer, explorer_url) = cast::start_explorer(&net_home, &manifest_path, &relayer_urls)?;
    say(&format!("explorer: {explorer_url} (follow the round in a browser)"));
    clock.done("task and nodes");

    // The language-model task's samples are generated (on the CPU) as soon as its rounds are
    // over, while the digits task's may still run and the settlement mostly waits for blocks.
    let lm_rounds_then_sampling = async {
        let seen = watch_rounds(&market, "language model", lm_task.task_id, lm_opts.rounds, &mut lm_services).await?;
        let scratch = opts.home.join("lm-adapters");
        let adapters = lm::revealed_adapters(&market, &lm_task, lm_opts.rounds, &scratch).await?;
        let (base, eval, lm_opts) = (lm_task.base.weights.clone(), lm_task.chat.eval.clone(), lm_opts.clone());
        let sampling = tokio::task::spawn_blocking(move || lm::samples(&base, &adapters, &eval, &lm_opts));
        Ok::<_, TestnetError>((seen, sampling))
    };
    let (seen, (lm_seen, sampling)) = tokio::try_join!(
        watch_rounds(&market, "digits", task_id, opts.rounds, &mut services),
        lm_rounds_then_sampling,
    )?;
    clock.done("rounds");

    let mut stats = ValidatorStats::new();
    let mut report =
        Report { task_id, rounds: collect_rounds(&market, task_id, &seen, &mut stats).await?, ..Default::default() };
    let lm_rounds = collect_rounds(&market, lm_task.task_id, &lm_seen, &mut stats).await?;
    report.validators = collect_validators(&market, &[task_id, lm_task.task_id], &stats).await?;
    report.totals = totals(&market, &[task_id, lm_task.task_id], report.rounds.iter().chain(&lm_rounds)).await?;
    report.shard_thefts = read_thefts(&opts.home)?;
    say(&format!(
        "{} + {} rounds finalized: {} paid of {} emitted",
        report.rounds.len(),
        lm_rounds.len(),
        report.totals.paid,
        report.totals.emitted
    ));
    let (recipients, claimed_on_cosmos) = withdraw_all(&market).await?;
    let bridge_address = &deployed["arena-bridge"].address;
    let batches = wait_for_settlement(&client, bridge_address, recipients.values().map(|r| r.1).sum()).await?;
    clock.done("withdraw and settle");

    report.settlement.claims =
        claim_all(&client, bridge_address, &network.evm_rpc_url(), &evm, &batches, &recipients).await?;
    report.settlement.batches = batches;
    clock.done("claims on EVM");
    let samples = sampling.await.expect("the sampling thread does not panic")?;
    report.language_model = Some(lm::report(&lm_task, lm_rounds, samples));
    clock.done("language-model samples (beyond the settlement)");

    report.totals.withdrawn_to_evm = recipients.values().map(|r| r.1).sum();
    report.totals.claimed_on_cosmos = claimed_on_cosmos;
    report.totals.claimed_on_evm = report.settlement.claims.iter().map(|c| c.evm_balance).sum();
    report.stages = clock.stages;
    report.chain = network
        .nodes
        .iter()
        .map(|node| ChainNodeReport {
            name: node.name.to_string(),
            power: node.power,
            grpc: node.grpc_url(),
            height: network.node_height(node.index),
            readers: readers.iter().filter(|(_, r)| r.node == node.name).map(|(who, _)| who.clone()).collect(),
        })
        .collect();
    let report_json = opts.home.join("report.json");
    std::fs::write(&report_json, serde_json::to_string_pretty(&report).expect("serializes"))
        .map_err(TestnetError::io("writing report.json"))?;
    std::fs::write(opts.home.join("report.html"), report.to_html()).map_err(TestnetError::io("writing report.html"))?;

    report.explorer_url = explorer_url;
    drop(services);
    drop(lm_services);
    if opts.keep_running {
        explorer.detach();
        network.detach();
    } else {
        network.stop()?;
    }
    Ok(report)
}

fn say(message: &str) {
    println!("[arena] {message}");
}

struct StageClock {
    last: Instant,
    stages: Vec<Stage>,
}

impl StageClock {
    fn new() -> Self {
        StageClock { last: Instant::now(), stages: Vec::new() }
    }

    fn done(&mut self, name: &str) {
        let seconds = self.last.elapsed().as_secs_f64();
        say(&format!("{name}: {seconds:.1} s"));
        self.stages.push(Stage { name: name.to_string(), seconds });
        self.last = Instant::now();
    }
}

/// The demo's digits task, its evaluation shards sealed under the demo's folder (inside the
/// repository, the nodes' data root).
fn demo_task(
    opts: &DemoOptions,
    secret: &BeaconSecret,
) -> Result<(arena_types::market::msg::TaskParams, EvaluationKeys), TestnetError> {
    let spec = TaskSpec {
        validators_per_submission: opts.validators_per_submission,
        ..TaskSpec::digits(opts.rounds, opts.phases)
    };
    spec.params(secret, &shard_dir(&opts.home, &secret.anchor(opts.rounds)))
}

/// What [`watch_rounds`] saw of the creator: by which height each round's beacon and each
/// round's evaluation key were on chain.
#[derive(Debug, Default)]
struct CreatorSeen {
    beacons: BTreeMap<u32, u64>,
    keys: BTreeMap<u32, u64>,
}

/// Prints each phase as the task (called `label`) enters it, and each beacon and evaluation key
/// the creator reveals, until every round is finalized. A node of `services` (the task's) that
/// dies is an error (its log says why).
async fn watch_rounds(
    market: &MarketClient,
    label: &str,
    task_id: u64,
    rounds: u32,
    services: &mut [Service],
) -> Result<CreatorSeen, TestnetError> {
    let started = Instant::now();
    let mut last = None;
    let mut seen = CreatorSeen::default();
    loop {
        let beacon = market.beacon(task_id).await?;
        if beacon.revealed_round > 0 && !seen.beacons.contains_key(&beacon.revealed_round) {
            let height = market.client().latest_height().await?;
            println!(
                "[{:>6.1}s] {label}: round {}'s beacon revealed by height {height}",
                started.elapsed().as_secs_f64(),
                beacon.revealed_round
            );
            seen.beacons.insert(beacon.revealed_round, height);
        }
        let task = market.task(task_id).await?;
        let current = task.now.round;
        if !seen.keys.contains_key(&current) && market.round(task_id, current).await?.evaluation_key.is_some() {
            let height = market.client().latest_height().await?;
            println!(
                "[{:>6.1}s] {label}: round {current}'s evaluation key revealed by height {height} (deadline {}): its shard opens",
                started.elapsed().as_secs_f64(),
                task.schedule.key_deadline(current)
            );
            seen.keys.insert(current, height);
        }
        let now = (task.now.round, task.now.phase, task.rounds_finalized);
        if last != Some(now) {
            let round = market.round(task_id, task.now.round).await?;
            println!(
                "[{:>6.1}s] {label}: round {}/{}: {:?} phase until height {} ({} submitted, {} assigned); {} finalized",
                started.elapsed().as_secs_f64(),
                task.now.round,
                rounds,
                task.now.phase,
                task.now.ends_at,
                round.submissions,
                round.assigned,
                task.rounds_finalized
            );
            last = Some(now);
        }
        if task.rounds_finalized >= rounds {
            return Ok(seen);
        }
        let exited = services
            .iter_mut()
            .filter(|s| s.name == "gpu-worker")
            .find_map(|s| (!s.is_running()).then(|| s.log.clone()));
        if let Some(log) = exited {
            // Early only if the task is still open now: the creator leaves as soon as it sees the
            // last round close, which can happen after `task` above was read.
            if market.task(task_id).await?.now.phase != Phase::Closed {
                let secs = started.elapsed().as_secs();
                return Err(TestnetError::NotReady { what: "a worker node (it exited early)", secs, log });
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Per validator address, over the tasks collected: reveals, reveals in consensus, and the sum of
/// |score - consensus| in ppm.
type ValidatorStats = BTreeMap<String, (u32, u32, u64)>;

/// The leaderboard of every round of a task, from chain state, adding its validators' reveals to
/// `stats`; `seen` is what [`watch_rounds`] saw of the creator.
async fn collect_rounds(
    market: &MarketClient,
    task_id: u64,
    seen: &CreatorSeen,
    stats: &mut ValidatorStats,
) -> Result<Vec<RoundReport>, TestnetError> {
    let task = market.task(task_id).await?;
    let mut rounds = Vec::new();
    for round in 1..=task.params.rounds {
        let r = market.round(task_id, round).await?;
        let mut submissions = Vec::new();
        for s in market.submissions(task_id, round, None, 100).await?.submissions {
            let a: AssignmentsResponse = market
                .query(&QueryMsg::Assignments { task_id, submission_id: s.id, start_after: None, limit: None })
                .await?;
            for x in &a.assignments {
                let e = stats.entry(x.validator.to_string()).or_default();
                if let (Some(score), Some(c)) = (x.score, s.consensus) {
                    e.0 += 1;
                    e.1 += u32::from(x.standing == Some(arena_types::market::median::Standing::InConsensus));
                    e.2 += u64::from(score.abs_diff(c));
                }
            }
            submissions.push(SubmissionReport {
                submission_id: s.id,
                trainer: name_of(s.trainer.as_str(), "inj"),
                model: s
                    .model
                    .as_ref()
                    .and_then(|m| m.metadata.notes.as_deref())
                    .and_then(|n| n.split_whitespace().next())
                    .unwrap_or("?")
                    .to_string(),
                consensus: s.consensus,
                baseline: s.baseline,
                rank: s.rank,
                reward: s.reward.u128(),
                status: format!("{:?}", s.status),
            });
        }
        submissions.sort_by_key(|s| (s.rank.unwrap_or(u32::MAX), s.submission_id));
        rounds.push(RoundReport {
            round,
            emission: r.emission.u128(),
            paid: r.paid.u128(),
            beacon_revealed_by: seen.beacons.get(&round).copied(),
            key_revealed_by: seen.keys.get(&round).copied(),
            key_deadline: task.schedule.key_deadline(round),
            void: r.void,
            submissions,
        });
    }
    Ok(rounds)
}

/// Each validator's record over `task_ids` (`stats` from [`collect_rounds`] of each), what it can
/// claim (all tasks), and what it was slashed in them.
async fn collect_validators(
    market: &MarketClient,
    task_ids: &[u64],
    stats: &ValidatorStats,
) -> Result<Vec<ValidatorReport>, TestnetError> {
    let mut slashes = Vec::new();
    for &task_id in task_ids {
        let page: SlashEventsResponse =
            market.query(&QueryMsg::SlashEvents { task_id, start_after: None, limit: Some(100) }).await?;
        slashes.extend(page.events);
    }
    let mut validators = Vec::new();
    for v in &VALIDATORS {
        let address = accounts::cosmos(v.account, "inj")?.address().to_string();
        let (reveals, in_consensus, deviation) = stats.get(&address).copied().unwrap_or_default();
        let slashed = slashes.iter().filter(|e| e.validator.as_str() == address).map(|e| e.amount.u128()).sum();
        validators.push(ValidatorReport {
            name: v.name.to_string(),
            reward: market.claimable(&address).await?,
            address,
            reveals,
            in_consensus,
            mean_deviation: if reveals == 0 { 0 } else { deviation / u64::from(reveals) },
            slashed,
        });
    }
    Ok(validators)
}

/// The pools, emissions, payments and slashes of `task_ids`, whose rounds are `rounds`.
async fn totals(
    market: &MarketClient,
    task_ids: &[u64],
    rounds: impl Iterator<Item = &RoundReport> + Clone,
) -> Result<Totals, TestnetError> {
    let mut slashed = 0;
    for &task_id in task_ids {
        slashed += market.task(task_id).await?.accounts.slashed.u128();
    }
    Ok(Totals {
        pool: POOL * task_ids.len() as u128,
        emitted: rounds.clone().map(|r| r.emission).sum(),
        paid: rounds.map(|r| r.paid).sum(),
        slashed,
        ..Default::default()
    })
}

/// What the eval thief recorded of its attempts on the sealed shards (`theft.json` in its state
/// folder, written by its node).
fn read_thefts(home: &Path) -> Result<Vec<TheftReport>, TestnetError> {
    let thief =
        TRAINERS.iter().find(|t| t.adversary == Some(TrainerAdversary::EvalThief)).expect("the cast has an eval thief");
    let path = home.join(thief.name).join("theft.json");
    let text = std::fs::read_to_string(&path).map_err(TestnetError::io(format!("reading {}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| TestnetError::Data { path, reason: e.to_string() })
}

/// The demo's folder by default: `.arena/demo` in the repository.
pub fn default_home() -> PathBuf {
    repo::root().join(".arena/demo")
}

/// Where a finished demo's report is.
pub fn report_paths(home: &Path) -> (PathBuf, PathBuf) {
    (home.join("report.json"), home.join("report.html"))
}
