//! The task page against a real chain: a fresh single-validator devnet, a task whose one round
//! gets `ARENA_BENCH_SUBMISSIONS` submissions (default 200; bulk stake+submit transactions, as
//! testnet's market_gas bench sends them) from as many trainers, 6 validators scoring 3 each,
//! played to finalization; then the explorer's router, in this process, on the real
//! [`ChainSource`] (gRPC to the node), timed over HTTP: first byte and full page, median of
//! `RUNS`, the contract queries a page costs, and each query's latency in the same runs (every
//! query the pages sent, timed by a wrapping source), plus sequential `Task` and `Submissions`
//! queries alone. A task of fewer than 1,000 submissions ends with an extrapolation to 1,000 (see
//! [`extrapolate`]); `ARENA_BENCH_SUBMISSIONS=1000` measures it (about 3 minutes of seeding).
//! Writes `target/bench/explorer_task_page_chain-<submissions>.json`.
//!
//! `cargo bench -p arena-explorer --bench task_page_chain` (a few minutes on 2 cores).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arena_client::cosmrs::bank::MsgSend;
use arena_client::cosmrs::tx::Msg;
use arena_client::cosmrs::{Any, Coin, Denom};
use arena_client::{BeaconSecret, BeaconStep, Client, ClientError, KeyStep, MarketClient, Signer};
use arena_explorer::server::router;
use arena_explorer::source::{ChainSource, Contract, Deployment, Head, RelayerState, Source, SourceError, TxPage};
use arena_types::market::commitment::{model_commitment, score_commitment};
use arena_types::market::msg::{
    AssignmentsResponse, ExecuteMsg, ModelMetadata, QueryMsg, ReceiveMsg, Role, RoundResponse, SubmissionsResponse,
};
use arena_types::market::phase::Phase;
use cosmwasm_std::{to_json_binary, HexBinary, Uint128};
use cw20::Cw20ExecuteMsg;
use futures::stream::{self, StreamExt};
use serde_json::{json, Value};
use testnet::network::{NetworkConfig, Ports};
use testnet::task::{PhaseBlocks, TaskSpec};
use testnet::{accounts, contracts, deploy, Network};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MACHINE: &str = "2-core Debian 12 VM, no GPU; injectived 1.20.1 (Cosmos SDK 0.50, wasmvm 2.1), ~0.2 s blocks";
const VALIDATORS: u32 = 6;
const PER_SUBMISSION: u32 = 3;
const STAKE: u128 = 1_000_000;
const POOL: u128 = 10_000_000;
const BASELINE: u32 = 100_000;
const RUNS: usize = 10;
/// Trainers are the development mnemonic's accounts from here on (genesis funds 0..20).
const FIRST_TRAINER: u32 = 100;
/// Transactions in flight at once while seeding.
const CONCURRENCY: usize = 16;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// A source that times every query it passes on, by the query's name.
struct Timed<S> {
    inner: S,
    log: Arc<Mutex<Vec<(String, Duration)>>>,
}

impl<S: Source> Timed<S> {
    async fn timed<T>(&self, name: String, f: impl Future<Output = T>) -> T {
        let started = Instant::now();
        let out = f.await;
        if let Ok(mut log) = self.log.lock() {
            log.push((name, started.elapsed()));
        }
        out
    }
}

impl<S: Source> Source for Timed<S> {
    fn deployment(&self) -> &Deployment {
        self.inner.deployment()
    }

    fn head(&self) -> Head {
        self.inner.head()
    }

    fn relayers(&self) -> Vec<RelayerState> {
        self.inner.relayers()
    }

    async fn smart(&self, contract: Contract, msg: Value) -> std::result::Result<Value, SourceError> {
        let name = msg.as_object().and_then(|m| m.keys().next().cloned()).unwrap_or_default();
        self.timed(name, self.inner.smart(contract, msg)).await
    }

    async fn search_txs(&self, query: String, page: u32, per_page: u32) -> std::result::Result<TxPage, SourceError> {
        self.timed("tx_search".into(), self.inner.search_txs(query, page, per_page)).await
    }
}

/// Time to the first byte of the answer and to its end, and the body.
async fn get(address: &str, path: &str) -> (Duration, Duration, String) {
    let started = Instant::now();
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut first = [0u8; 1];
    stream.read_exact(&mut first).await.unwrap();
    let ttfb = started.elapsed();
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).await.unwrap();
    (ttfb, started.elapsed(), String::from_utf8_lossy(&rest).to_string())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    ms(v[v.len() / 2])
}

/// Median and 90th percentile in ms, and the count.
fn spread(mut v: Vec<Duration>) -> Value {
    v.sort();
    let at = |q: f64| ms(v[((v.len() - 1) as f64 * q).round() as usize]);
    json!({ "n": v.len(), "median_ms": at(0.5), "p90_ms": at(0.9) })
}

/// Pages of 100 a paginated read sends for `items` (it stops at a short page, so a multiple of
/// 100 costs one empty page more).
fn pages(items: u64) -> u64 {
    items / 100 + 1
}

/// The task page at 1,000 submissions from the page measured at `n`, the validator count fixed:
/// what grows is the round's `Submissions` pages, read one after another, and each validator's
/// `ValidatorAssignments` pages (one after another per validator, the validators at once), so
/// the time grows by those extra pages times their latency measured here; `Participants` pages
/// grow too but run beside the submissions' and end sooner. Assumes a query's latency does not
/// grow with the task (each answers a page of at most 100 items).
fn extrapolate(n: u64, full_ms: f64, queries: u64, submissions_ms: f64, assignments_ms: f64) -> Value {
    let target = 1_000u64;
    let per_validator = |n: u64| n * u64::from(PER_SUBMISSION) / u64::from(VALIDATORS);
    let extra_submission_pages = pages(target) - pages(n);
    let extra_assignment_pages = pages(per_validator(target)) - pages(per_validator(n));
    let extra_participant_pages = pages(target + u64::from(VALIDATORS)) - pages(n + u64::from(VALIDATORS));
    json!({
        "submissions": target,
        "validators": VALIDATORS,
        "queries": queries
            + extra_submission_pages
            + u64::from(VALIDATORS) * extra_assignment_pages
            + extra_participant_pages,
        "full_ms": full_ms
            + extra_submission_pages as f64 * submissions_ms
            + extra_assignment_pages as f64 * assignments_ms,
        "how": "an extrapolation, not a measurement: the measured full page plus the extra Submissions pages (sequential) and the extra ValidatorAssignments pages per validator (sequential, validators in parallel), each at its median latency measured in this run",
    })
}

fn true_score(submission_id: u64) -> u32 {
    500_000 + ((submission_id * 7_919) % 400_000) as u32
}

fn model_of(i: usize) -> ([u8; 32], [u8; 32]) {
    let mut sha = [0u8; 32];
    sha[..8].copy_from_slice(&(i as u64).to_be_bytes());
    let mut salt = sha;
    salt[31] = 0x5a;
    (sha, salt)
}

/// Sends `work` with at most [`CONCURRENCY`] in flight; the number that succeeded, failures reported.
async fn bulk<F: Future<Output = std::result::Result<(), ClientError>>>(what: &str, work: Vec<F>) -> usize {
    let total = work.len();
    let outcomes: Vec<_> = stream::iter(work).buffer_unordered(CONCURRENCY).collect().await;
    let failed: Vec<String> = outcomes.iter().filter_map(|o| o.as_ref().err().map(|e| e.to_string())).collect();
    if let Some(first) = failed.first() {
        eprintln!("  {what}: {} of {total} failed, the first: {first}", failed.len());
    }
    total - failed.len()
}

fn main() -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run())
}

async fn run() -> Result<()> {
    let n: usize = std::env::var("ARENA_BENCH_SUBMISSIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let started = Instant::now();
    let home = tempfile::tempdir()?;
    let network = Network::start(&NetworkConfig::new(home.path(), Ports::free()?))?;
    let outcome = bench(&network, home.path(), n).await;
    network.stop()?;
    let report = outcome?;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("explorer_task_page_chain-{n}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    eprintln!("wrote {} in {:.0} s", path.display(), started.elapsed().as_secs_f64());
    Ok(())
}

async fn bench(network: &Network, home: &std::path::Path, n: usize) -> Result<Value> {
    let t = Instant::now();
    let artifacts = contracts::build(&["arena-token", "arena-market"])?;
    let mut config = network.chain_config();
    // Hundreds of transactions in flight: inclusion takes longer than alone.
    config.inclusion_timeout = Duration::from_secs(180);
    let client = Client::connect(config).await?;
    let deployed = deploy::deploy(&client, &artifacts, None).await?;
    let token = deployed["arena-token"].address.clone();
    let market = MarketClient::new(client.clone(), &deployed["arena-market"].address, &token);
    let manifest = network.manifest(deployed.clone(), BTreeMap::new());
    let prefix = client.config().bech32_prefix.clone();
    let deployer = accounts::cosmos(accounts::DEPLOYER, &prefix)?;
    let creator = accounts::cosmos(1, &prefix)?;
    let validators: Vec<Signer> =
        (2..2 + VALIDATORS).map(|i| accounts::cosmos(i, &prefix)).collect::<std::result::Result<_, _>>()?;
    let trainers: Vec<Signer> =
        (0..n as u32).map(|i| accounts::cosmos(FIRST_TRAINER + i, &prefix)).collect::<std::result::Result<_, _>>()?;
    eprintln!("devnet up and contracts deployed in {:.0} s", t.elapsed().as_secs_f64());

    // Fees and stake for every trainer: a bank send and a cw20 mint each, 100 messages a transaction.
    let denom: Denom = client.config().gas_price.denom().parse().map_err(|e| format!("fee denom: {e}"))?;
    for chunk in trainers.chunks(50) {
        let mut msgs: Vec<Any> = Vec::new();
        for tr in chunk {
            let send = MsgSend {
                from_address: deployer.address().clone(),
                to_address: tr.address().clone(),
                amount: vec![Coin { denom: denom.clone(), amount: 10u128.pow(19) }],
            };
            msgs.push(send.to_any().map_err(|e| format!("bank send: {e}"))?);
            let mint = Cw20ExecuteMsg::Mint { recipient: tr.address().to_string(), amount: Uint128::new(STAKE) };
            msgs.push(client.execute_msg(&deployer, &token, &mint, vec![])?);
        }
        client.send(&deployer, msgs).await?;
    }

    // Phases sized for n bulk transactions: on 2 cores about 70 a second go in (200 stake+submit
    // transactions in 3 s), some 14 a block; five blocks per hundred leaves room.
    let n64 = n as u64;
    let phases = PhaseBlocks {
        submission: 60 + n64 / 5,
        model_reveal: 40 + n64 / 5,
        commit: 60 + n64 / 20,
        reveal: 60 + n64 / 20,
    };
    let secret = BeaconSecret::generate();
    let spec = TaskSpec { validators_per_submission: PER_SUBMISSION, ..TaskSpec::digits(1, phases) };
    let (params, keys) = spec.params(&secret, &home.join("shards"))?;
    let (task_id, _) = market.create_task(&creator, POOL, params).await?;
    for r in
        futures::future::join_all(validators.iter().map(|v| market.stake(v, task_id, Role::Validator, STAKE))).await
    {
        r?;
    }
    let seeding = Instant::now();
    let submit = trainers.iter().enumerate().map(|(i, tr)| {
        let (client, market, token) = (&client, &market, &token);
        async move {
            let hook = ReceiveMsg::Stake { task_id, role: Role::Trainer };
            let send = Cw20ExecuteMsg::Send {
                contract: market.address().to_string(),
                amount: Uint128::new(STAKE),
                msg: to_json_binary(&hook).map_err(|e| ClientError::Config(e.to_string()))?,
            };
            let stake = client.execute_msg(tr, token, &send, vec![])?;
            let (sha, salt) = model_of(i);
            let commitment = model_commitment(task_id, 1, tr.address().as_ref(), &sha, &salt);
            let submit = ExecuteMsg::Submit { task_id, commitment: HexBinary::from(commitment) };
            let submit = client.execute_msg(tr, market.address(), &submit, vec![])?;
            client.send(tr, vec![stake, submit]).await.map(|_| ())
        }
    });
    let submitted = bulk("stake+submit", submit.collect()).await;
    eprintln!("{submitted} of {n} trainers staked and submitted in {:.0} s", seeding.elapsed().as_secs_f64());

    market.wait_for_phase(task_id, 1, Phase::ModelReveal).await?;
    let revealing = Instant::now();
    let reveal = trainers.iter().enumerate().map(|(i, tr)| {
        let market = &market;
        async move {
            let (sha, salt) = model_of(i);
            let msg = ExecuteMsg::RevealModel {
                task_id,
                model_sha256: HexBinary::from(sha),
                uri: format!("file://models/{i}.safetensors"),
                metadata: ModelMetadata { family: "mlp".into(), parameters: 1_000, file_bytes: 10_000, notes: None },
                salt: HexBinary::from(salt),
            };
            market.execute(tr, &msg).await.map(|_| ())
        }
    });
    let revealed = bulk("model reveal", reveal.collect()).await;
    eprintln!("{revealed} models revealed in {:.0} s", revealing.elapsed().as_secs_f64());

    market.wait_for_phase(task_id, 1, Phase::Commit).await?;
    if !matches!(market.reveal_due_evaluation_key(&creator, task_id, &keys).await?, KeyStep::Revealed { .. }) {
        return Err("the evaluation key was not revealed".into());
    }
    if !matches!(market.reveal_due_beacon(&creator, task_id, &secret).await?, BeaconStep::Revealed { .. }) {
        return Err("the beacon was not revealed".into());
    }
    market.assign_all(&creator, task_id, 1, 100).await?;
    let mut opens = Vec::new();
    for (j, v) in validators.iter().enumerate() {
        let address = v.address().to_string();
        let (mut commits, mut reveals, mut after) = (Vec::new(), Vec::new(), None);
        loop {
            let page: AssignmentsResponse = market.validator_assignments(task_id, &address, after, 100).await?;
            let Some(last) = page.assignments.last() else { break };
            after = Some(last.submission_id);
            for a in &page.assignments {
                let score = true_score(a.submission_id) + j as u32 * 100;
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
        opens.push((v, commits, reveals));
    }
    // Every validator at once, its messages 50 a transaction: the commits, then the reveals.
    let send_all = |reveal: bool| {
        let (market, opens) = (&market, &opens);
        futures::future::join_all(opens.iter().map(move |(v, commits, reveals)| async move {
            for chunk in (if reveal { reveals } else { commits }).chunks(50) {
                market.execute_many(v, chunk).await?;
            }
            Ok::<_, ClientError>(())
        }))
    };
    for r in send_all(false).await {
        r?;
    }
    market.wait_for_phase(task_id, 1, Phase::Reveal).await?;
    for r in send_all(true).await {
        r?;
    }
    market.wait_for_phase(task_id, 1, Phase::Closed).await?;
    let finalize = market.finalize_round(&creator, task_id, 1, 100).await?;
    let round: RoundResponse = market.round(task_id, 1).await?;
    eprintln!(
        "round 1 finalized in {} pages: {} submissions, {} scored; seeding took {:.0} s",
        finalize.len(),
        round.submissions,
        round.scored,
        t.elapsed().as_secs_f64()
    );

    // The explorer in this process, on the real source, every query timed.
    let log = Arc::new(Mutex::new(Vec::new()));
    let source = ChainSource::start(&manifest, &[])?;
    if !source.first_head(Duration::from_secs(10)).await.reachable {
        return Err("the explorer cannot reach the devnet".into());
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?.to_string();
    let app = router(Timed { inner: source, log: log.clone() });
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let last_rank = round.scored.saturating_sub(1);
    let last_page_start = last_rank / 50 * 50;
    let mut pages_measured = Vec::new();
    for (label, path) in [
        ("finalized round, first page", format!("/task/{task_id}?round=1")),
        (
            "finalized round, last ranked page",
            format!("/task/{task_id}?round=1&after_rank={}", last_page_start.saturating_sub(1)),
        ),
    ] {
        get(&address, &path).await; // warm: the gRPC connection, the node's caches
        log.lock().map(|mut l| l.clear()).ok();
        let (mut ttfb, mut full) = (Vec::new(), Vec::new());
        let mut body = String::new();
        for _ in 0..RUNS {
            let (a, b, text) = get(&address, &path).await;
            ttfb.push(a);
            full.push(b);
            body = text;
        }
        if !body.contains("id=\"leaderboard\"") {
            return Err(format!("{path} did not render the leaderboard: {body}").into());
        }
        let per_query: BTreeMap<String, Vec<Duration>> =
            log.lock().map(|l| l.clone()).unwrap_or_default().into_iter().fold(BTreeMap::new(), |mut m, (name, d)| {
                m.entry(name).or_default().push(d);
                m
            });
        let api = get(&address, &format!("/api{path}")).await.2;
        let json_body = api.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
        let queries = serde_json::from_str::<Value>(json_body).ok().and_then(|v| v["queries"].as_u64()).unwrap_or(0);
        let all: Vec<Duration> = per_query.values().flatten().copied().collect();
        let (ttfb, full) = (median(ttfb), median(full));
        eprintln!(
            "task page, {label} ({} submissions, {VALIDATORS} validators): first byte {ttfb:.1} ms, full page {full:.1} ms, {queries} contract queries, {} kB",
            round.submissions,
            body.len() / 1024
        );
        pages_measured.push(json!({
            "page": label, "path": path, "runs": RUNS, "ttfb_ms": ttfb, "full_ms": full, "queries": queries,
            "bytes": body.len(),
            "query_latency_in_page": spread(all),
            "query_latency_in_page_by_kind": per_query.into_iter().map(|(k, v)| (k, spread(v))).collect::<BTreeMap<_, _>>(),
        }));
    }
    server.abort();

    // Each query alone, one after another: the node's answer time without the page's concurrency.
    let alone = |msg: QueryMsg| {
        let market = &market;
        async move {
            let mut times = Vec::new();
            for _ in 0..20 {
                let t = Instant::now();
                market.query::<Value>(&msg).await?;
                times.push(t.elapsed());
            }
            Ok::<_, ClientError>(spread(times))
        }
    };
    let task_alone = alone(QueryMsg::Task { task_id }).await?;
    let submissions_alone =
        alone(QueryMsg::Submissions { task_id, round: Some(1), start_after: None, limit: Some(100) }).await?;
    let check: SubmissionsResponse = market.submissions(task_id, 1, None, 100).await?;
    if check.submissions.is_empty() {
        return Err("no submissions to page".into());
    }
    let first = &pages_measured[0];
    let kind_ms = |kind: &str| first["query_latency_in_page_by_kind"][kind]["median_ms"].as_f64().unwrap_or(0.0);
    // From a smaller task only: at 1,000 or more the page above is the measurement.
    let extrapolated = (round.submissions < 1_000).then(|| {
        extrapolate(
            round.submissions,
            first["full_ms"].as_f64().unwrap_or(0.0),
            first["queries"].as_u64().unwrap_or(0),
            kind_ms("submissions"),
            kind_ms("validator_assignments"),
        )
    });
    Ok(json!({
        "benchmark": "explorer task page on a real chain",
        "machine": MACHINE,
        "submissions": round.submissions,
        "scored": round.scored,
        "validators": VALIDATORS,
        "validators_per_submission": PER_SUBMISSION,
        "finalize_transactions": finalize.len(),
        "pages": pages_measured,
        "query_latency_alone": { "task": task_alone, "submissions_page_of_100": submissions_alone },
        "at_1000_submissions": extrapolated,
        "seconds": t.elapsed().as_secs_f64(),
    }))
}
