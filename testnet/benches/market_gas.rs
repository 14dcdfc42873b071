//! arena-market gas on the real local chain (injectived): every message (sealed submissions and
//! their model reveals, the creator's evaluation key and beacon included), and finalization as the
//! round grows, for 10, 100 and 1,000 submissions x k = 3, 5 and 9 validators per submission.
//!
//! One fresh network hosts every size as a successive task, so the same message's gas in the
//! first and the last task also shows whether gas grows with past tasks and rounds; the run ends
//! with a repeat of the first size for exactly that comparison.
//!
//! Run: `cargo bench -p testnet --bench market_gas` (all sizes; ~30 min on 2 cores), or with
//! `-- --quick` / `ARENA_BENCH_QUICK=1` for the 10-submission sizes only (~2 min).
//! `ARENA_BENCH_SIZES=10,100` picks the submission counts; `ARENA_BENCH_CONCURRENCY` (default 32)
//! bounds the transactions in flight; `ARENA_BENCH_LIAR=0` makes every validator honest (no
//! outlier slashing in finalization); `ARENA_BENCH_SILENT=n` makes the first n validators of each
//! task send nothing (liveness slashing of n different validators); `ARENA_BENCH_OUT=name` writes
//! `name.json`/`name.md`. Results: `<repo>/target/bench/market-gas.json`, and the markdown table for
//! BENCHMARKS.md in `<repo>/target/bench/market-gas.md`.
//!
//! Gas figures are a transaction's `gas_used` as the chain reports it, so they include the
//! SDK's per-transaction cost (signature check, fee, tx size) besides the contract's execution.
//! Per-message figures come from transactions holding that one message; the rest of the work
//! goes in batched transactions to save time, whose gas per message is reported beside them.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use arena_client::cosmrs::bank::MsgSend;
use arena_client::cosmrs::tx::Msg;
use arena_client::cosmrs::{Any, Coin, Denom};
use arena_client::EvaluationKeys;
use arena_client::{BeaconSecret, Client, ClientError, MarketClient, Signer, TxOutcome};
use arena_types::market::commitment::{evaluation_key_hash, model_commitment, score_commitment};
use arena_types::market::msg::{
    AssignmentsResponse, DataCommitment, EvaluationShard, ExecuteMsg, Metric, ModelConstraints, ModelMetadata, Phases,
    QueryMsg, RankingResponse, ReceiveMsg, Role, TaskParams,
};
use arena_types::market::phase::{Clock, Phase};
use cosmwasm_std::{to_json_binary, Decimal, HexBinary, Uint128};
use cw20::Cw20ExecuteMsg;
use futures::future::join_all;
use futures::stream::{self, StreamExt};
use serde::Serialize;
use testnet::network::{NetworkConfig, Ports};
use testnet::{accounts, contracts, deploy, Network};

const MACHINE: &str = "2-core Debian 12 VM, injectived 1.20.1 (Cosmos SDK 0.50, wasmvm 2.1.5)";
/// Each task's pool; the creator's bond (at least the pool) comes on top, and the creator funds
/// all ten tasks from its 1,000,000-token genesis balance.
const POOL: u128 = 45_000_000_000;
const STAKE: u128 = 1_000_000;
/// Pages of assignment and finalization.
const PAGE: u32 = 50;
/// Messages per batched commit/reveal transaction.
const BATCH: usize = 50;
/// Trainers whose stake and submit are each measured alone, before and after the bulk.
const SINGLE_TRAINERS: usize = 3;
/// Mnemonic indices of the accounts this benchmark funds itself (0..19 are funded in genesis).
const DELEGATOR_INDEX: u32 = 99;
const FIRST_TRAINER_INDEX: u32 = 100;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The baseline every validator reveals; every model's true score beats it.
const BASELINE: u32 = 100_000;

/// The market's default economics, but for stakes of thousands of units and beta 1/2 (the
/// sampling weight's square roots are part of what is measured). One round, whose evaluation
/// shard is never fetched here: only its key's hash matters to the contract.
fn params(k: u32, phases: Phases, secret: &BeaconSecret, keys: &EvaluationKeys) -> TaskParams {
    let shard = EvaluationShard {
        uri: "file://shards/round-1.csv.enc".into(),
        sha256: HexBinary::from([2u8; 32]),
        key_sha256: HexBinary::from(evaluation_key_hash(keys.key(1).expect("one round"))),
    };
    TaskParams {
        validators_per_submission: k,
        min_trainer_stake: Uint128::new(1_000),
        min_validator_stake: Uint128::new(1_000),
        beta: Decimal::percent(50),
        ..TaskParams::with_defaults(
            Metric { name: "accuracy_ppm".into(), description: "top-1 accuracy in parts per million".into() },
            HexBinary::from(secret.anchor(1)),
            DataCommitment { uri: "file://data/digits-train.csv".into(), sha256: HexBinary::from([1u8; 32]) },
            vec![shard],
            ModelConstraints { family: "mlp-64-10".into(), max_parameters: 100_000, max_file_bytes: 1_000_000 },
            phases,
        )
    }
}

/// What a submission's model "truly" scores; honest validators report it within a few points.
fn true_score(submission_id: u64) -> u32 {
    300_000 + ((submission_id * 7_919) % 600_000) as u32
}

#[derive(Serialize, Clone, Debug, Default)]
struct Stats {
    samples: usize,
    min: u64,
    median: u64,
    mean: u64,
    max: u64,
}

fn stats(v: &[u64]) -> Stats {
    if v.is_empty() {
        return Stats::default();
    }
    let mut s = v.to_vec();
    s.sort_unstable();
    Stats {
        samples: s.len(),
        min: s[0],
        median: s[s.len() / 2],
        mean: s.iter().sum::<u64>() / s.len() as u64,
        max: s[s.len() - 1],
    }
}

#[derive(Serialize, Clone, Debug)]
struct FinalizePage {
    gas: u64,
    /// Items (submissions, ranked entries or validators) this page worked through.
    processed: u64,
    /// The stage the round was in after this page.
    stage_after: String,
    /// Slashings (liveness or outlier) this page made.
    slashes: usize,
}

#[derive(Serialize, Clone, Debug)]
struct BatchGas {
    transactions: usize,
    messages: usize,
    /// gas_used of a whole batched transaction divided by its messages.
    per_message: Stats,
}

#[derive(Serialize, Clone, Debug, Default)]
struct PhaseBlocks {
    /// The phase length chosen for the task.
    length: u64,
    /// Blocks from the phase's start until its work was done.
    used: u64,
    seconds: f64,
}

#[derive(Serialize, Clone, Debug, Default)]
struct TaskReport {
    task_id: u64,
    /// Tasks created on this chain before this one.
    previous_tasks: u64,
    submissions: usize,
    k: u32,
    validators: usize,
    /// Validators that sent nothing (ARENA_BENCH_SILENT).
    silent_validators: usize,
    error: Option<String>,
    create_task: u64,
    stake_validator: Stats,
    /// Alone, before the bulk of trainers.
    stake_trainer_first: Vec<u64>,
    /// Alone, after the bulk of trainers (the task then holds `submissions - 3` trainers).
    stake_trainer_last: Vec<u64>,
    /// Sealed submissions (the commitment only).
    submit_first: Vec<u64>,
    submit_last: Vec<u64>,
    /// The same trainers' RevealModel, alone; and the bulk of trainers', concurrently.
    reveal_model_first: Vec<u64>,
    reveal_model_last: Vec<u64>,
    reveal_model_bulk: Stats,
    /// The creator's RevealEvaluationKey of the round.
    reveal_evaluation_key: u64,
    /// The creator's RevealBeacon of the round.
    reveal_beacon: u64,
    /// One trainer's stake + submit in one transaction, for the bulk of trainers, in the order
    /// the transactions were sent: all of them, the first 100 and the last 100.
    stake_and_submit_tx: Stats,
    stake_and_submit_tx_first_100: Stats,
    stake_and_submit_tx_last_100: Stats,
    delegate: u64,
    set_commission: u64,
    unbond: u64,
    assign_pages: Vec<u64>,
    /// Each validator's first commit (alone), then its last one (alone), the rest batched.
    commit_first: Stats,
    commit_last: Stats,
    commit_batched: Option<BatchGas>,
    reveal_first: Stats,
    reveal_last: Stats,
    reveal_batched: Option<BatchGas>,
    finalize_pages: Vec<FinalizePage>,
    finalize_max: u64,
    claim_trainer: u64,
    claim_validator: u64,
    withdraw_unbonded: u64,
    submission_phase: PhaseBlocks,
    model_reveal_phase: PhaseBlocks,
    commit_phase: PhaseBlocks,
    reveal_phase: PhaseBlocks,
    /// Time the whole task took (create to last withdrawal), seconds.
    seconds: f64,
}

#[derive(Serialize)]
struct Report {
    benchmark: &'static str,
    machine: &'static str,
    cpus: usize,
    date: String,
    chain: &'static str,
    gas_price: String,
    page: u32,
    notes: Vec<&'static str>,
    tasks: Vec<TaskReport>,
    goals: BTreeMap<String, String>,
}

struct Bench {
    client: Client,
    token: String,
    market: MarketClient,
    creator: Signer,
    /// Holds 2 * max k validator accounts; a task with k uses the first 2k.
    validators: Vec<Signer>,
    delegator: Signer,
    trainers: Vec<Signer>,
    concurrency: usize,
    /// Whether the last validator of each task reports far from consensus (and is slashed).
    liar: bool,
    /// How many of each task's first validators never commit (and are slashed for liveness).
    silent: usize,
    tasks_created: Cell<u64>,
    /// Blocks of work per item seen so far (submission and model reveal: per trainer;
    /// commit/reveal: per assignment).
    rate: Cell<[f64; 4]>,
}

fn now_utc() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("testnet is inside the repository").to_path_buf()
}

fn sizes_from_env() -> Vec<usize> {
    let quick = std::env::args().any(|a| a == "--quick")
        || std::env::var("ARENA_BENCH_QUICK").map(|v| v == "1").unwrap_or(false);
    if quick {
        return vec![10];
    }
    match std::env::var("ARENA_BENCH_SIZES") {
        Ok(s) => s.split(',').filter_map(|x| x.trim().parse().ok()).collect(),
        Err(_) => vec![10, 100, 1000],
    }
}

fn main() -> Result<()> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run())
}

async fn run() -> Result<()> {
    let sizes = sizes_from_env();
    let ks = [3u32, 5, 9];
    let max_n = *sizes.iter().max().ok_or("no sizes to run")?;
    let concurrency = std::env::var("ARENA_BENCH_CONCURRENCY").ok().and_then(|c| c.parse().ok()).unwrap_or(32usize);
    let started = Instant::now();

    let home = tempfile::tempdir()?;
    let network = Network::start(&NetworkConfig::new(home.path(), Ports::free()?))?;
    let outcome = bench_on(&network, &sizes, &ks, max_n, concurrency).await;
    network.stop()?;
    let (tasks, date) = outcome?;

    let report = Report {
        benchmark: "arena-market gas",
        machine: MACHINE,
        cpus: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        date,
        chain: "single-validator injectived devnet, ~0.2 s blocks, block gas unlimited",
        gas_price: "160000000inj".into(),
        page: PAGE,
        notes: vec![
            "gas = the transaction's gas_used, SDK overhead (signature, fee, tx bytes) included",
            "stake/delegate/create_task are cw20 Sends to the token contract, whose hook calls the market",
            "2k validators per task; unless ARENA_BENCH_LIAR=0, the last validator reports 50_000 for every model (an outlier, slashed)",
            "the first transaction of an account pays extra to record its public key: accounts measured alone sent one before",
        ],
        goals: goals(&tasks),
        tasks,
    };
    let dir = repo_root().join("target/bench");
    std::fs::create_dir_all(&dir)?;
    let stem = std::env::var("ARENA_BENCH_OUT").unwrap_or_else(|_| "market-gas".into());
    std::fs::write(dir.join(format!("{stem}.json")), serde_json::to_string_pretty(&report)?)?;
    std::fs::write(dir.join(format!("{stem}.md")), markdown(&report))?;
    println!("{}", markdown(&report));
    println!("wrote {} in {:.0} s", dir.join(format!("{stem}.json")).display(), started.elapsed().as_secs_f64());
    Ok(())
}

async fn bench_on(
    network: &Network,
    sizes: &[usize],
    ks: &[u32],
    max_n: usize,
    concurrency: usize,
) -> Result<(Vec<TaskReport>, String)> {
    let artifacts = contracts::build(&["arena-token", "arena-market"])?;
    let mut config = network.chain_config();
    // Hundreds of transactions in flight: blocks fill up and inclusion takes longer than alone.
    config.inclusion_timeout = std::time::Duration::from_secs(180);
    let client = Client::connect(config).await?;
    let deployed = deploy::deploy(&client, &artifacts, None).await?;
    let token = deployed["arena-token"].address.clone();
    let market = MarketClient::new(client.clone(), &deployed["arena-market"].address, &token);
    let prefix = client.config().bech32_prefix.clone();
    let account = |i| accounts::cosmos(i, &prefix);
    let max_k = *ks.iter().max().unwrap_or(&3) as usize;
    let validators: Vec<Signer> = (2..2 + 2 * max_k as u32).map(&account).collect::<std::result::Result<_, _>>()?;
    if validators.len() > 18 {
        return Err("at most 18 genesis-funded validator accounts (2..19)".into());
    }
    let derive = |i| Signer::from_mnemonic(accounts::DEV_MNEMONIC, i, &prefix);
    let delegator = derive(DELEGATOR_INDEX)?;
    let trainers: Vec<Signer> =
        (0..max_n as u32).map(|i| derive(FIRST_TRAINER_INDEX + i)).collect::<std::result::Result<_, _>>()?;
    let bench = Bench {
        client,
        token: token.clone(),
        market,
        creator: account(1)?,
        validators,
        delegator,
        trainers,
        concurrency,
        liar: std::env::var("ARENA_BENCH_LIAR").map(|v| v != "0").unwrap_or(true),
        silent: match std::env::var("ARENA_BENCH_SILENT") {
            Ok(n) => n.parse().map_err(|e| format!("ARENA_BENCH_SILENT={n}: {e}"))?,
            Err(_) => 0,
        },
        tasks_created: Cell::new(0),
        rate: Cell::new([0.0; 4]),
    };
    let t = Instant::now();
    bench.fund(&token, sizes, ks.len()).await?;
    eprintln!("funded {} trainers and warmed up the measured accounts in {:.1} s", max_n, t.elapsed().as_secs_f64());

    let mut plan: Vec<(usize, u32)> = sizes.iter().flat_map(|&n| ks.iter().map(move |&k| (n, k))).collect();
    // The first size again: the same message in the first and the last task, with past tasks between.
    if plan.len() > 1 {
        plan.push(plan[0]);
    }
    let mut reports = Vec::new();
    for (n, k) in plan {
        let t = Instant::now();
        eprintln!("task: {n} submissions, k = {k}, {} validators", 2 * k);
        let mut report = TaskReport {
            previous_tasks: bench.tasks_created.get(),
            submissions: n,
            k,
            validators: 2 * k as usize,
            ..TaskReport::default()
        };
        if let Err(e) = bench.task(n, k, &mut report).await {
            eprintln!("  FAILED: {e}");
            report.error = Some(e.to_string());
        }
        report.seconds = t.elapsed().as_secs_f64();
        eprintln!(
            "  done in {:.0} s: finalize max {} over {} pages",
            report.seconds,
            report.finalize_max,
            report.finalize_pages.len()
        );
        reports.push(report);
    }
    Ok((reports, now_utc()))
}

impl Bench {
    /// Gives every trainer and the delegator inj for fees and cw20 for stakes, and has each
    /// account that is measured alone send one transaction first (an account's first transaction
    /// also stores its public key, which costs gas no later one pays).
    async fn fund(&self, token: &str, sizes: &[usize], ks: usize) -> Result<()> {
        let prefix = &self.client.config().bech32_prefix;
        let deployer = accounts::cosmos(accounts::DEPLOYER, prefix)?;
        let tasks_per_trainer = (sizes.len() * ks + 1) as u128;
        let mut receivers: Vec<&Signer> = self.trainers.iter().collect();
        receivers.push(&self.delegator);
        let denom: Denom = self.client.config().gas_price.denom().parse().map_err(|e| format!("fee denom: {e}"))?;
        for chunk in receivers.chunks(100) {
            let mut msgs: Vec<Any> = Vec::new();
            for r in chunk {
                let send = MsgSend {
                    from_address: deployer.address().clone(),
                    to_address: r.address().clone(),
                    amount: vec![Coin { denom: Clone::clone(&denom), amount: 10u128.pow(19) }],
                };
                msgs.push(send.to_any().map_err(|e| format!("bank send: {e}"))?);
                let mint = Cw20ExecuteMsg::Mint {
                    recipient: r.address().to_string(),
                    amount: Uint128::new(STAKE * (tasks_per_trainer + 1) * 2),
                };
                msgs.push(self.client.execute_msg(&deployer, token, &mint, vec![])?);
            }
            self.client.send(&deployer, msgs).await?;
        }
        // Warm-up: a bank send to itself from each account measured alone.
        let mut warm: Vec<&Signer> = vec![&self.creator, &self.delegator];
        warm.extend(self.validators.iter());
        let mut idx: Vec<usize> = Vec::new();
        for &n in sizes {
            idx.extend(0..SINGLE_TRAINERS.min(n));
            idx.extend(n.saturating_sub(SINGLE_TRAINERS)..n);
        }
        idx.sort_unstable();
        idx.dedup();
        warm.extend(idx.iter().map(|&i| &self.trainers[i]));
        let sends = warm.iter().map(|s| {
            let msg = MsgSend {
                from_address: s.address().clone(),
                to_address: s.address().clone(),
                amount: vec![Coin { denom: Clone::clone(&denom), amount: 1 }],
            };
            async move {
                let any = msg.to_any().map_err(|e| ClientError::Config(format!("bank send: {e}")))?;
                self.client.send(s, vec![any]).await
            }
        });
        for r in join_all(sends).await {
            r?;
        }
        Ok(())
    }

    /// Phase lengths in blocks: fixed for small rounds, else scaled from the work rate seen so far.
    fn phases(&self, n: usize, k: u32) -> Phases {
        let rate = self.rate.get();
        let items = [n as f64, n as f64, (n * k as usize) as f64, (n * k as usize) as f64];
        let floor: [u64; 4] = if n <= 10 {
            [50, 30, 40, 40]
        } else if n <= 100 {
            [120, 100, 100, 100]
        } else {
            [(n as u64) * 3 / 5, (n as u64) * 3 / 5, (n as u64) * k as u64 / 10, (n as u64) * k as u64 / 10]
        };
        let mut len = [0u64; 4];
        for i in 0..4 {
            let scaled = (rate[i] * items[i] * 1.6).ceil() as u64 + 40;
            len[i] = if n <= 100 { floor[i].max(scaled) } else { scaled.max(floor[i] / 2).max(60) };
            if rate[i] == 0.0 {
                len[i] = floor[i];
            }
        }
        let round = len.iter().sum();
        Phases {
            clock: Clock::Height,
            submission: len[0],
            model_reveal: len[1],
            commit: len[2],
            reveal: len[3],
            unbonding: round,
        }
    }

    fn note_rate(&self, i: usize, blocks: u64, items: usize) {
        // Ten items are too few to tell the rate from the fixed latency.
        if items >= 100 {
            let mut rate = self.rate.get();
            rate[i] = rate[i].max(blocks as f64 / items as f64);
            self.rate.set(rate);
        }
    }

    async fn task(&self, n: usize, k: u32, r: &mut TaskReport) -> Result<()> {
        let market = self.market.clone();
        let validators = &self.validators[..2 * k as usize];
        let trainers = &self.trainers[..n];
        let phases = self.phases(n, k);
        let secret = BeaconSecret::generate();
        let keys = EvaluationKeys::generate(1);
        let (task_id, created) =
            market.create_task(&self.creator, POOL, params(k, phases.clone(), &secret, &keys)).await?;
        self.tasks_created.set(self.tasks_created.get() + 1);
        r.task_id = task_id;
        r.silent_validators = self.silent.min(validators.len());
        r.create_task = created.gas_used;
        let start = created.height;
        r.submission_phase.length = phases.submission;
        r.model_reveal_phase.length = phases.model_reveal;
        r.commit_phase.length = phases.commit;
        r.reveal_phase.length = phases.reveal;
        eprintln!(
            "  task {task_id}: phases {}/{}/{}/{} blocks from height {start}",
            phases.submission, phases.model_reveal, phases.commit, phases.reveal
        );

        // Submission phase. Validators stake (each alone, all at once); validator 0 then sets a
        // commission and receives a delegation; the first trainers stake and submit alone.
        let t = Instant::now();
        let staked = join_all(
            validators
                .iter()
                .enumerate()
                .map(|(j, v)| market.stake(v, task_id, Role::Validator, STAKE * (1 + j as u128 % 3))),
        )
        .await;
        r.stake_validator = stats(&gas(staked)?);
        let v0 = &validators[0];
        let v0_address = v0.address().to_string();
        let ops = async {
            let c = market.execute(v0, &ExecuteMsg::SetCommission { task_id, commission: Decimal::percent(5) }).await?;
            Ok::<_, ClientError>(c.gas_used)
        };
        let delegation = market.delegate(&self.delegator, task_id, &v0_address, STAKE);
        let first = SINGLE_TRAINERS.min(n);
        let singles = join_all(trainers[..first].iter().enumerate().map(|(i, t)| self.trainer_alone(task_id, i, t)));
        let (c, d, s) = futures::join!(ops, delegation, singles);
        r.set_commission = c?;
        r.delegate = d?.gas_used;
        for s in s {
            let (stake, submit) = s?;
            r.stake_trainer_first.push(stake);
            r.submit_first.push(submit);
        }
        let last = n.saturating_sub(SINGLE_TRAINERS).max(first);
        let m = &market;
        let bulk: Vec<(usize, u64)> = stream::iter((first..last).map(|i| {
            let t = &trainers[i];
            async move {
                let market = m;
                let stake = self.stake_msg(t, task_id)?;
                let submit = self.client.execute_msg(t, market.address(), &submit_msg(task_id, i, t), vec![])?;
                let o = self.client.send(t, vec![stake, submit]).await?;
                Ok::<_, ClientError>((i, o.gas_used))
            }
        }))
        .buffer_unordered(self.concurrency)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<std::result::Result<_, _>>()?;
        let mut bulk = bulk;
        bulk.sort_unstable();
        let bulk: Vec<u64> = bulk.into_iter().map(|(_, g)| g).collect();
        r.stake_and_submit_tx = stats(&bulk);
        r.stake_and_submit_tx_first_100 = stats(&bulk[..bulk.len().min(100)]);
        r.stake_and_submit_tx_last_100 = stats(&bulk[bulk.len().saturating_sub(100)..]);
        for s in
            join_all(trainers[last..].iter().enumerate().map(|(i, t)| self.trainer_alone(task_id, last + i, t))).await
        {
            let (stake, submit) = s?;
            r.stake_trainer_last.push(stake);
            r.submit_last.push(submit);
        }
        let height = self.client.latest_height().await?;
        r.submission_phase.used = height - start;
        r.submission_phase.seconds = t.elapsed().as_secs_f64();
        self.note_rate(0, r.submission_phase.used, n);
        eprintln!("  submissions done: {} blocks, {:.1} s", r.submission_phase.used, r.submission_phase.seconds);

        // Model-reveal phase: the trainers measured alone reveal alone, the bulk concurrently.
        market.wait_for_phase(task_id, 1, Phase::ModelReveal).await?;
        let t = Instant::now();
        let model_reveal_start = start + phases.submission;
        // Training node 0 unbonds half its stake, withdrawable one unbonding period later: now,
        // since a trainer that submitted in round 1 keeps its stake until the round's stakes
        // freeze (the end of the submission phase).
        r.unbond = market
            .execute(&trainers[0], &ExecuteMsg::Unbond { task_id, amount: Uint128::new(STAKE / 2) })
            .await?
            .gas_used;
        let alone = |range: std::ops::Range<usize>| {
            join_all(range.map(|i| async move {
                Ok::<_, ClientError>(self.market.execute(&trainers[i], &reveal_model_msg(task_id, i)).await?.gas_used)
            }))
        };
        r.reveal_model_first = gas_of(alone(0..first).await)?;
        let bulk: Vec<u64> = stream::iter((first..last).map(|i| async move {
            Ok::<_, ClientError>(self.market.execute(&trainers[i], &reveal_model_msg(task_id, i)).await?.gas_used)
        }))
        .buffer_unordered(self.concurrency)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<std::result::Result<_, _>>()?;
        r.reveal_model_bulk = stats(&bulk);
        r.reveal_model_last = gas_of(alone(last..n).await)?;
        r.model_reveal_phase.used = self.client.latest_height().await? - model_reveal_start;
        r.model_reveal_phase.seconds = t.elapsed().as_secs_f64();
        self.note_rate(1, r.model_reveal_phase.used, n);
        eprintln!("  model reveals done: {} blocks, {:.1} s", r.model_reveal_phase.used, r.model_reveal_phase.seconds);

        // Commit phase: the creator reveals the round's evaluation key and beacon (sampling waits
        // for the beacon), then assignment page by page, then every validator commits.
        market.wait_for_phase(task_id, 1, Phase::Commit).await?;
        let t = Instant::now();
        let commit_start = model_reveal_start + phases.model_reveal;
        let key = keys.key(1).expect("one round");
        r.reveal_evaluation_key = market.reveal_evaluation_key(&self.creator, task_id, 1, key).await?.gas_used;
        r.reveal_beacon = match market.reveal_due_beacon(&self.creator, task_id, &secret).await? {
            arena_client::BeaconStep::Revealed { outcome, .. } => outcome.gas_used,
            other => return Err(format!("the beacon was not revealed: {other:?}").into()),
        };
        r.assign_pages = market.assign_all(&self.creator, task_id, 1, PAGE).await?.iter().map(|o| o.gas_used).collect();
        let mut plans = Vec::new();
        for (j, v) in validators.iter().enumerate() {
            plans.push(if j < self.silent {
                Default::default()
            } else {
                self.validator_plan(task_id, j, v, validators.len()).await?
            });
        }
        let (first, last, batched) = self.send_all(validators, plans.iter().map(|p| &p.0).collect()).await?;
        r.commit_first = stats(&first);
        r.commit_last = stats(&last);
        r.commit_batched = batched;
        r.commit_phase.used = self.client.latest_height().await? - commit_start;
        r.commit_phase.seconds = t.elapsed().as_secs_f64();
        self.note_rate(2, r.commit_phase.used, n * k as usize);
        eprintln!("  commits done: {} blocks, {:.1} s", r.commit_phase.used, r.commit_phase.seconds);

        market.wait_for_phase(task_id, 1, Phase::Reveal).await?;
        let t = Instant::now();
        let reveal_start = commit_start + phases.commit;
        let (first, last, batched) = self.send_all(validators, plans.iter().map(|p| &p.1).collect()).await?;
        r.reveal_first = stats(&first);
        r.reveal_last = stats(&last);
        r.reveal_batched = batched;
        r.reveal_phase.used = self.client.latest_height().await? - reveal_start;
        r.reveal_phase.seconds = t.elapsed().as_secs_f64();
        self.note_rate(3, r.reveal_phase.used, n * k as usize);
        eprintln!("  reveals done: {} blocks, {:.1} s", r.reveal_phase.used, r.reveal_phase.seconds);

        market.wait_for_phase(task_id, 1, Phase::Closed).await?;
        let pages = market.finalize_round(&self.creator, task_id, 1, PAGE).await?;
        r.finalize_pages = pages
            .iter()
            .map(|o| {
                let attr = |key| o.wasm_events().find_map(|e| e.attribute(key)).unwrap_or_default().to_string();
                FinalizePage {
                    gas: o.gas_used,
                    processed: attr("processed").parse().unwrap_or(0),
                    stage_after: attr("stage"),
                    slashes: o.wasm_events().flat_map(|e| &e.attributes).filter(|(k, _)| k == "slash").count(),
                }
            })
            .collect();
        r.finalize_max = r.finalize_pages.iter().map(|p| p.gas).max().unwrap_or(0);

        // Claims: the best training node, and the first validator with something to claim.
        let best: RankingResponse =
            market.query(&QueryMsg::Ranking { task_id, round: 1, start_after: None, limit: Some(1) }).await?;
        let best = best.ranking.first().ok_or("nobody was ranked")?.trainer.to_string();
        let best = trainers.iter().find(|t| t.address().to_string() == best).ok_or("ranked trainer unknown")?;
        r.claim_trainer = market.execute(best, &ExecuteMsg::Claim {}).await?.gas_used;
        let mut paid_validator = None;
        for v in validators {
            if market.claimable(v.address().as_ref()).await? > 0 {
                paid_validator = Some(v);
                break;
            }
        }
        let paid_validator = paid_validator.ok_or("no validator has anything to claim")?;
        r.claim_validator = market.execute(paid_validator, &ExecuteMsg::Claim {}).await?.gas_used;

        // Training node 0's unbonded half, once its delay has passed.
        let p: arena_types::market::msg::ParticipantResponse =
            market.query(&QueryMsg::Participant { task_id, address: trainers[0].address().to_string() }).await?;
        while self.client.latest_height().await? < p.unbonding_release {
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
        r.withdraw_unbonded =
            market.execute(&trainers[0], &ExecuteMsg::WithdrawUnbonded { task_id, operator: None }).await?.gas_used;
        Ok(())
    }

    fn stake_msg(&self, t: &Signer, task_id: u64) -> std::result::Result<Any, ClientError> {
        let hook = ReceiveMsg::Stake { task_id, role: Role::Trainer };
        let send = Cw20ExecuteMsg::Send {
            contract: self.market.address().to_string(),
            amount: Uint128::new(STAKE),
            msg: to_json_binary(&hook).map_err(|e| ClientError::Config(e.to_string()))?,
        };
        self.client.execute_msg(t, &self.token, &send, vec![])
    }

    /// A trainer that stakes, then submits, each in a transaction of its own.
    async fn trainer_alone(&self, task_id: u64, i: usize, t: &Signer) -> std::result::Result<(u64, u64), ClientError> {
        let stake = self.market.stake(t, task_id, Role::Trainer, STAKE).await?.gas_used;
        let submit = self.market.execute(t, &submit_msg(task_id, i, t)).await?.gas_used;
        Ok((stake, submit))
    }

    /// A validator's commits and the matching reveals, for all its assignments.
    async fn validator_plan(
        &self,
        task_id: u64,
        j: usize,
        v: &Signer,
        validators: usize,
    ) -> Result<(Vec<ExecuteMsg>, Vec<ExecuteMsg>)> {
        let address = v.address().to_string();
        let mut commits = Vec::new();
        let mut reveals = Vec::new();
        let mut after = None;
        loop {
            let page: AssignmentsResponse = self.market.validator_assignments(task_id, &address, after, 100).await?;
            let Some(last) = page.assignments.last() else { break };
            after = Some(last.submission_id);
            for a in &page.assignments {
                // The last validator lies: far from everyone, an outlier to be slashed.
                let score = if self.liar && j + 1 == validators {
                    50_000
                } else {
                    true_score(a.submission_id) + j as u32 * 100
                };
                let salt = [j as u8 + 1; 32];
                let c = score_commitment(task_id, 1, a.submission_id, &address, score, BASELINE, &salt);
                commits.push(ExecuteMsg::Commit {
                    task_id,
                    submission_id: a.submission_id,
                    commitment: HexBinary::from(c),
                });
                reveals.push(ExecuteMsg::Reveal {
                    task_id,
                    submission_id: a.submission_id,
                    score,
                    baseline: BASELINE,
                    salt: HexBinary::from(salt),
                });
            }
        }
        Ok((commits, reveals))
    }

    /// Sends every validator's messages: the first and the last alone, the rest in batches; all
    /// validators at once. Returns the gas of the first ones, of the last ones, and per batched message.
    async fn send_all(
        &self,
        validators: &[Signer],
        msgs: Vec<&Vec<ExecuteMsg>>,
    ) -> Result<(Vec<u64>, Vec<u64>, Option<BatchGas>)> {
        let work = validators.iter().zip(msgs).map(|(v, msgs)| async move {
            let mut first = None;
            let mut last = None;
            let mut batched = Vec::new();
            if msgs.is_empty() {
                return Ok::<_, ClientError>((first, last, batched));
            }
            first = Some(self.market.execute(v, &msgs[0]).await?.gas_used);
            if msgs.len() > 1 {
                for chunk in msgs[1..msgs.len() - 1].chunks(BATCH) {
                    let o: TxOutcome = self.market.execute_many(v, chunk).await?;
                    batched.push((o.gas_used, chunk.len()));
                }
                last = Some(self.market.execute(v, &msgs[msgs.len() - 1]).await?.gas_used);
            }
            Ok((first, last, batched))
        });
        let mut first = Vec::new();
        let mut last = Vec::new();
        let mut per_message = Vec::new();
        let (mut txs, mut count) = (0, 0);
        for r in join_all(work).await {
            let (f, l, b) = r?;
            first.extend(f);
            last.extend(l);
            for (g, len) in b {
                txs += 1;
                count += len;
                per_message.push(g / len as u64);
            }
        }
        let batched =
            (txs > 0).then(|| BatchGas { transactions: txs, messages: count, per_message: stats(&per_message) });
        Ok((first, last, batched))
    }
}

/// Trainer `i`'s model hash and salt in task `task_id`: distinct across trainers and tasks, so no
/// model is a duplicate.
fn model_of(task_id: u64, i: usize) -> ([u8; 32], [u8; 32]) {
    let mut sha = [0u8; 32];
    sha[..8].copy_from_slice(&(i as u64).to_be_bytes());
    sha[8..16].copy_from_slice(&task_id.to_be_bytes());
    let mut salt = sha;
    salt[31] = 0x5a;
    (sha, salt)
}

/// Trainer `i`'s sealed submission.
fn submit_msg(task_id: u64, i: usize, trainer: &Signer) -> ExecuteMsg {
    let (sha, salt) = model_of(task_id, i);
    let commitment = model_commitment(task_id, 1, trainer.address().as_ref(), &sha, &salt);
    ExecuteMsg::Submit { task_id, commitment: HexBinary::from(commitment) }
}

/// What opens trainer `i`'s sealed submission.
fn reveal_model_msg(task_id: u64, i: usize) -> ExecuteMsg {
    let (sha, salt) = model_of(task_id, i);
    ExecuteMsg::RevealModel {
        task_id,
        model_sha256: HexBinary::from(sha),
        uri: format!("file://models/{task_id}/{i}.safetensors"),
        metadata: ModelMetadata { family: "mlp-64-10".into(), parameters: 50_890, file_bytes: 203_560, notes: None },
        salt: HexBinary::from(salt),
    }
}

fn gas(outcomes: Vec<std::result::Result<TxOutcome, ClientError>>) -> std::result::Result<Vec<u64>, ClientError> {
    outcomes.into_iter().map(|o| o.map(|o| o.gas_used)).collect()
}

fn gas_of(gas: Vec<std::result::Result<u64, ClientError>>) -> std::result::Result<Vec<u64>, ClientError> {
    gas.into_iter().collect()
}

fn goals(tasks: &[TaskReport]) -> BTreeMap<String, String> {
    let ok: Vec<&TaskReport> = tasks.iter().filter(|t| t.error.is_none()).collect();
    let mut g = BTreeMap::new();
    let reveal_max = ok.iter().flat_map(|t| [t.reveal_first.max, t.reveal_last.max]).max().unwrap_or(0);
    g.insert(
        "reveal <= 150k gas".into(),
        format!("{} (max single-reveal tx {reveal_max})", if reveal_max <= 150_000 { "met" } else { "MISSED" }),
    );
    let fin_max = ok.iter().map(|t| t.finalize_max).max().unwrap_or(0);
    g.insert(
        "finalization page of 50 <= 3M gas".into(),
        format!("{} (max page {fin_max})", if fin_max <= 3_000_000 { "met" } else { "MISSED" }),
    );
    g
}

fn kgas(x: u64) -> String {
    if x == 0 {
        "–".to_string()
    } else {
        format!("{:.0}k", x as f64 / 1000.0)
    }
}

fn range(x: &Stats) -> String {
    if x.samples == 0 {
        "–".into()
    } else if kgas(x.min) == kgas(x.max) {
        kgas(x.max)
    } else {
        format!("{}–{}", kgas(x.min), kgas(x.max))
    }
}

type Row = (&'static str, fn(&TaskReport) -> String);

fn rows() -> Vec<Row> {
    vec![
        ("create_task (cw20 Send + hook)", |t| kgas(t.create_task)),
        ("stake, validator (cw20 Send + hook)", |t| range(&t.stake_validator)),
        ("stake, trainer, first 3 / last 3", |t| {
            format!("{} / {}", range(&stats(&t.stake_trainer_first)), range(&stats(&t.stake_trainer_last)))
        }),
        ("delegate (cw20 Send + hook)", |t| kgas(t.delegate)),
        ("set_commission", |t| kgas(t.set_commission)),
        ("submit (sealed), first 3 / last 3", |t| {
            format!("{} / {}", range(&stats(&t.submit_first)), range(&stats(&t.submit_last)))
        }),
        ("stake + submit in one tx (bulk), median; first 100 / last 100 mean", |t| {
            format!(
                "{}; {} / {}",
                kgas(t.stake_and_submit_tx.median),
                kgas(t.stake_and_submit_tx_first_100.mean),
                kgas(t.stake_and_submit_tx_last_100.mean)
            )
        }),
        ("reveal_model, first 3 / last 3 alone; bulk median", |t| {
            format!(
                "{} / {}; {}",
                range(&stats(&t.reveal_model_first)),
                range(&stats(&t.reveal_model_last)),
                kgas(t.reveal_model_bulk.median)
            )
        }),
        ("reveal_evaluation_key (creator)", |t| kgas(t.reveal_evaluation_key)),
        ("reveal_beacon (creator)", |t| kgas(t.reveal_beacon)),
        ("unbond", |t| kgas(t.unbond)),
        ("assign, per page of 50 (pages)", |t| {
            format!("{} ({})", range(&stats(&t.assign_pages)), t.assign_pages.len())
        }),
        ("commit, alone: first / last of each validator", |t| {
            format!("{} / {}", range(&t.commit_first), range(&t.commit_last))
        }),
        ("commit, batched, gas per message (median)", |t| {
            t.commit_batched.as_ref().map(|b| kgas(b.per_message.median)).unwrap_or_else(|| "–".into())
        }),
        ("**reveal**, alone: first / last of each validator", |t| {
            format!("{} / {}", range(&t.reveal_first), range(&t.reveal_last))
        }),
        ("reveal, batched, gas per message (median)", |t| {
            t.reveal_batched.as_ref().map(|b| kgas(b.per_message.median)).unwrap_or_else(|| "–".into())
        }),
        ("finalize: pages", |t| t.finalize_pages.len().to_string()),
        ("**finalize: max page**", |t| kgas(t.finalize_max)),
        ("claim: best trainer / a validator", |t| format!("{} / {}", kgas(t.claim_trainer), kgas(t.claim_validator))),
        ("withdraw_unbonded", |t| kgas(t.withdraw_unbonded)),
    ]
}

fn markdown(r: &Report) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "Measured {} on {}, one fresh single-validator devnet for all tasks, in this order; \
         gas = the transaction's `gas_used` (SDK overhead included); pages of {} items.\n\n",
        r.date, r.machine, r.page
    ));
    if let Some(t) = r.tasks.iter().find(|t| t.silent_validators > 0) {
        s.push_str(&format!(
            "The first {} validators of each task sent nothing (liveness slashing).\n\n",
            t.silent_validators
        ));
    }
    let tasks: Vec<&TaskReport> = r.tasks.iter().collect();
    s.push_str("| message |");
    for t in &tasks {
        s.push_str(&format!(" #{}: {} × k={} |", t.task_id, t.submissions, t.k));
    }
    s.push_str("\n|---|");
    for _ in &tasks {
        s.push_str("---|");
    }
    s.push('\n');
    for (name, f) in rows() {
        s.push_str(&format!("| {name} |"));
        for t in &tasks {
            let cell = if t.error.is_some() && t.finalize_pages.is_empty() { "not measured".into() } else { f(t) };
            s.push_str(&format!(" {cell} |"));
        }
        s.push('\n');
    }
    for t in tasks.iter().filter(|t| t.error.is_some()) {
        s.push_str(&format!("\nTask #{} failed: {}\n", t.task_id, t.error.as_deref().unwrap_or_default()));
    }
    s.push_str(
        "\nFinalization pages (gas of each page in order, items processed, stage after the page, slashings made):\n\n",
    );
    for t in tasks.iter().filter(|t| !t.finalize_pages.is_empty()) {
        let pages: Vec<String> = t
            .finalize_pages
            .iter()
            .map(|p| {
                if p.slashes > 0 {
                    format!("{} ({} {}, {} slashed)", kgas(p.gas), p.processed, p.stage_after, p.slashes)
                } else {
                    format!("{} ({} {})", kgas(p.gas), p.processed, p.stage_after)
                }
            })
            .collect();
        s.push_str(&format!("- #{} ({} × k={}): {}\n", t.task_id, t.submissions, t.k, pages.join(", ")));
    }
    s.push_str("\nGoals:\n\n");
    for (goal, verdict) in &r.goals {
        s.push_str(&format!("- {goal}: {verdict}\n"));
    }
    s
}
