//! The explorer on a real devnet running a real round, checked over HTTP against the contracts'
//! own queries and in headless Chromium: the overview lists the task, the task page updates by
//! itself when the phase changes and then shows the leaderboard with the contract's scores, the
//! trainer's page its reward and its withdrawal (found by the node's transaction index) with the
//! batch and proof the bridge gives, the recipient's page the Merkle proof, and every
//! page answers 503 once the chain is gone. Screenshots go to `target/explorer-screenshots/`.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use arena_client::{BeaconSecret, BeaconStep, Client, KeyStep, MarketClient, Signer};
use arena_explorer::server::router;
use arena_explorer::source::ChainSource;
use arena_types::market::msg::{ExecuteMsg, QueryMsg, RankingResponse, Role};
use arena_types::market::phase::Phase;
use arena_types::settlement::msg::{
    BatchPolicy, BatchResponse, ExecuteMsg as BridgeExecute, ProofResponse, QueryMsg as BridgeQuery,
};
use common::browser::{find_chromium, Browser};
use serde_json::Value;
use testnet::network::{NetworkConfig, Ports};
use testnet::script::ScriptedRound;
use testnet::task::{PhaseBlocks, TaskSpec};
use testnet::{accounts, contracts, deploy, Network};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const POOL: u128 = 10_000_000;
const STAKE: u128 = 1_000_000;
const BASELINE: u32 = 110_000;
const RECIPIENT: &str = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";

/// GET over plain HTTP/1.1: status and body.
async fn get(base: &str, path: &str) -> (u16, String) {
    let host = base.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    // Bodies come chunked; the JSON checks read the one chunk axum sends for a small answer.
    let body = if text.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(&body) } else { body };
    (status, body)
}

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else { break };
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

async fn api(base: &str, path: &str) -> Value {
    let (status, body) = get(base, path).await;
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
}

fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("explorer-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_explorer_follows_a_real_round_in_a_browser() {
    let home = tempfile::tempdir().unwrap();
    let network = Network::start(&NetworkConfig::new(home.path(), Ports::free().unwrap())).unwrap();
    // The bridge before the market, which sends withdrawals to it.
    let artifacts = contracts::build(&["arena-token", "arena-bridge", "arena-market"]).unwrap();
    let client = Client::connect(network.chain_config()).await.unwrap();
    let deployed = deploy::deploy(&client, &artifacts, None).await.unwrap();
    let token = deployed["arena-token"].address.clone();
    let bridge = deployed["arena-bridge"].address.clone();
    let market = MarketClient::new(client.clone(), &deployed["arena-market"].address, &token);
    let manifest = network.manifest(deployed.clone(), BTreeMap::new());
    let prefix = client.config().bech32_prefix.clone();
    let account = |i| accounts::cosmos(i, &prefix).unwrap();

    // The explorer, in this process, on a free port.
    let source = ChainSource::start(&manifest, &[]).unwrap();
    assert!(source.first_head(Duration::from_secs(10)).await.reachable);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, router(source)).await });

    let creator = account(1);
    let trainers: Vec<Signer> = (2..=4).map(account).collect();
    let validators: Vec<Signer> = (5..=7).map(account).collect();
    let true_score = [910_000u32, 850_000, 400_000];
    let secret = BeaconSecret::generate();
    let phases = PhaseBlocks { submission: 60, model_reveal: 30, commit: 40, reveal: 40 };
    let (params, keys) = TaskSpec::digits(1, phases).params(&secret, &home.path().join("shards")).unwrap();
    let (task_id, _) = market.create_task(&creator, POOL, params).await.unwrap();
    for r in futures::future::join_all(
        trainers
            .iter()
            .map(|t| market.stake(t, task_id, Role::Trainer, STAKE))
            .chain(validators.iter().map(|v| market.stake(v, task_id, Role::Validator, STAKE))),
    )
    .await
    {
        r.unwrap();
    }

    // The overview lists the task in its submission phase.
    let overview = api(&base, "/api/overview").await;
    assert_eq!(overview["tasks"][0]["id"], task_id);
    assert_eq!(overview["tasks"][0]["phase"], "submission");

    let shots = screenshot_dir();
    let mut browser = match find_chromium() {
        Some(binary) => Some(Browser::launch(&binary).await.unwrap()),
        None => {
            eprintln!("SKIPPED the browser checks: no Chromium on this machine (scripts/setup.sh installs Debian's chromium; set CHROMIUM to another binary)");
            None
        }
    };
    let task_url = format!("{base}/task/{task_id}");
    if let Some(b) = browser.as_mut() {
        b.goto(&format!("{base}/")).await.unwrap();
        let listed = b.eval(&format!("!!document.querySelector('#tasks a[href=\"/task/{task_id}\"]')")).await.unwrap();
        assert_eq!(listed, Value::Bool(true), "the overview lists the task");
        b.screenshot(&shots.join("overview.png")).await.unwrap();
        // The task page is opened now and never reloaded: it must follow the phases by itself.
        b.goto(&task_url).await.unwrap();
        assert_eq!(b.eval("document.getElementById('phase').textContent").await.unwrap(), "submission");
    }

    let script = ScriptedRound { market: &market, task_id, round: 1 };
    let submission_of = script.submit_sealed(&trainers).await.unwrap();
    market.wait_for_phase(task_id, 1, Phase::ModelReveal).await.unwrap();
    if let Some(b) = browser.as_mut() {
        b.wait_for("document.getElementById('phase').textContent === 'model reveal'", Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(b.eval("document.querySelectorAll('#leaderboard tbody tr').length").await.unwrap(), 3);
    }
    script.reveal_models(&trainers).await.unwrap();
    let (key, beacon) = script.open_commit_phase(&creator, &keys, &secret).await.unwrap();
    assert!(matches!(key, KeyStep::Revealed { .. }));
    assert!(matches!(beacon, BeaconStep::Revealed { .. }));
    let scores = script
        .validator_messages(&validators, BASELINE, |j, id| true_score[submission_of[&id]] + j as u32 * 1_000)
        .await
        .unwrap();
    script.commit(&scores).await.unwrap();
    script.reveal(&scores).await.unwrap();
    script.finalize(&creator).await.unwrap();

    // The task page's leaderboard has the contract's scores, ranks and rewards.
    let contract = market.submissions(task_id, 1, None, 100).await.unwrap().submissions;
    let page = api(&base, &format!("/api/task/{task_id}?round=1")).await;
    let rows = page["leaderboard"].as_array().unwrap();
    assert_eq!(rows.len(), contract.len());
    assert_eq!(page["ranked"], true, "the finalized round is ranked: the leaderboard follows the Ranking query");
    let ranking_query = QueryMsg::Ranking { task_id, round: 1, start_after: None, limit: Some(50) };
    let ranking = market.query::<RankingResponse>(&ranking_query).await.unwrap().ranking;
    let ranked_ids: Vec<u64> = ranking.iter().map(|e| e.submission_id).collect();
    let shown_ids: Vec<u64> = rows.iter().take(ranked_ids.len()).map(|r| r["id"].as_u64().unwrap()).collect();
    assert_eq!(shown_ids, ranked_ids);
    for s in &contract {
        let row = rows.iter().find(|r| r["id"] == s.id).unwrap();
        assert_eq!(row["consensus"].as_u64(), s.consensus.map(u64::from), "submission {}", s.id);
        assert_eq!(row["rank"].as_u64(), s.rank.map(u64::from));
        assert_eq!(row["reward"].as_str(), Some(s.reward.to_string().as_str()));
        assert_eq!(row["status"], "Scored");
    }
    assert_eq!(page["validators"].as_array().unwrap().len(), 3);
    // One task, nothing claimed yet: what the round paid each validator (from the finalization
    // transactions) is all it can claim.
    let mut paid_validators = 0u128;
    for v in page["validators"].as_array().unwrap() {
        let address = v["address"].as_str().unwrap();
        let claimable = market.claimable(address).await.unwrap();
        assert_eq!(v["reward_in_round"].as_str(), Some(claimable.to_string().as_str()), "validator {address}");
        paid_validators += claimable;
    }
    assert!(paid_validators > 0, "the round paid its validators");
    eprintln!("task page: {} contract queries", page["queries"]);

    let best = &trainers[0];
    let reward = market.claimable(best.address().as_ref()).await.unwrap();
    assert!(reward > 1_000_000, "the best trainer earned more than the smallest EVM withdrawal: {reward}");
    let trainer_page = api(&base, &format!("/api/address/{}", best.address())).await;
    assert_eq!(trainer_page["claimable"].as_str(), Some(reward.to_string().as_str()));
    assert_eq!(trainer_page["tasks"][0]["role"], "trainer");

    if let Some(b) = browser.as_mut() {
        // Still the page opened in the submission phase: it followed the round to its end.
        b.wait_for("document.getElementById('phase').textContent === 'closed'", Duration::from_secs(10)).await.unwrap();
        b.goto(&format!("{task_url}?round=1")).await.unwrap();
        let shown = b
            .eval("Array.from(document.querySelectorAll('#leaderboard tbody tr')).map(r => r.dataset.submission + '=' + r.querySelector('.consensus').textContent).join(',')")
            .await
            .unwrap();
        let mut expected: Vec<_> = contract.iter().map(|s| (s.rank, s.id, s.consensus.unwrap())).collect();
        expected.sort();
        let expected: Vec<String> =
            expected.iter().map(|(_, id, c)| format!("{id}={:.2}%", f64::from(*c) / 10_000.0)).collect();
        assert_eq!(shown.as_str(), Some(expected.join(",").as_str()));
        b.screenshot(&shots.join("task.png")).await.unwrap();
        b.emulate(390, 844, true, true).await.unwrap();
        b.screenshot(&shots.join("task-phone-dark.png")).await.unwrap();
        b.emulate(1280, 900, false, false).await.unwrap();
        let first = contract.iter().find(|s| s.rank == Some(0)).unwrap().id;
        b.goto(&format!("{base}/task/{task_id}/submission/{first}")).await.unwrap();
        assert_eq!(b.eval("document.querySelectorAll('#scores tbody tr').length").await.unwrap(), 3);
        b.screenshot(&shots.join("submission.png")).await.unwrap();
        b.goto(&format!("{base}/address/{}", best.address())).await.unwrap();
        let claimable = b.eval("document.querySelector('#claimable b').textContent").await.unwrap();
        assert_eq!(claimable.as_str(), Some(format!("{}.{:06}", reward / 1_000_000, reward % 1_000_000).as_str()));
        b.screenshot(&shots.join("participant.png")).await.unwrap();
    }

    // A withdrawal to the EVM side, sealed into a batch: the recipient's page has its proof.
    let admin = account(accounts::DEPLOYER);
    let policy = BridgeExecute::UpdateBatchPolicy { batch_policy: BatchPolicy { max_leaves: 1, max_age_blocks: 50 } };
    client.execute(&admin, &bridge, &policy, vec![]).await.unwrap();
    let withdrawal =
        market.execute(best, &ExecuteMsg::WithdrawToEvm { evm_recipient: RECIPIENT.into() }).await.unwrap();
    // Before the seal the trainer's own page has it, queued.
    let queued = api(&base, &format!("/api/address/{}", best.address())).await;
    assert_eq!(queued["withdrawals_error"], Value::Null, "the devnet's node indexes transactions: {queued}");
    assert_eq!(queued["withdrawals"]["rows"][0]["status"], "not sealed yet", "{queued}");
    client.execute(&account(8), &bridge, &BridgeExecute::SealBatch {}, vec![]).await.unwrap();
    let proof: ProofResponse =
        client.query_contract(&bridge, &BridgeQuery::Proof { batch_id: 1, index: 0 }).await.unwrap();
    let batch: BatchResponse = client.query_contract(&bridge, &BridgeQuery::Batch { batch_id: 1 }).await.unwrap();
    // The trainer's page: the withdrawal found by the node's transaction index, in the batch, leaf
    // and proof the bridge's own queries give.
    let own = api(&base, &format!("/api/address/{}", best.address())).await;
    let w = &own["withdrawals"];
    assert_eq!((w["total"].as_u64(), w["rows"].as_array().map(Vec::len)), (Some(1), Some(1)), "{own}");
    let row = &w["rows"][0];
    assert_eq!(row["tx_hash"].as_str(), Some(withdrawal.txhash.as_str()));
    assert_eq!(row["height"].as_u64(), Some(withdrawal.height));
    assert_eq!(
        (row["amount"].as_str(), row["evm_recipient"].as_str()),
        (Some(reward.to_string().as_str()), Some(RECIPIENT))
    );
    assert_eq!(row["withdrawal_id"].as_u64(), Some(proof.leaf.withdrawal_id));
    assert_eq!((row["claim"]["batch_id"].as_u64(), row["claim"]["index"].as_u64()), (Some(1), Some(0)));
    assert_eq!(row["claim"]["root"].as_str(), Some(batch.root.as_str()));
    assert_eq!(row["claim"]["proof"], serde_json::to_value(&proof.proof).unwrap());
    assert_eq!(row["claim"]["proof_verified"], true);
    assert_eq!(row["status"], "sealed, 0 attestations");
    let withdrawals = api(&base, &format!("/api/address/{RECIPIENT}")).await;
    let claim = &withdrawals["claims"][0];
    assert_eq!((claim["batch_id"].as_u64(), claim["amount"].as_str()), (Some(1), Some(reward.to_string().as_str())));
    assert_eq!(claim["proof"], serde_json::to_value(&proof.proof).unwrap());
    assert_eq!(claim["proof_verified"], true);
    assert!(claim["claim_command"].as_str().unwrap().starts_with("arena-relayer claim --batch 1"));
    let settlement = api(&base, "/api/settlement").await;
    assert_eq!(settlement["batches"][0]["status"], "sealed, attested 0 of 2");
    assert_eq!(row["claim"]["claim_command"], claim["claim_command"]);
    if let Some(b) = browser.as_mut() {
        b.goto(&format!("{base}/address/{}", best.address())).await.unwrap();
        let shown = b.eval("document.querySelector('#withdrawals tbody tr td.batch').textContent").await.unwrap();
        assert_eq!(shown.as_str(), Some("1, leaf 0"));
        let command = b.eval("document.querySelector('.claim-command').textContent").await.unwrap();
        assert_eq!(command, claim["claim_command"]);
        b.screenshot(&shots.join("participant-withdrawals.png")).await.unwrap();
        b.goto(&format!("{base}/address/{RECIPIENT}")).await.unwrap();
        let command = b.eval("document.querySelector('.claim-command').textContent").await.unwrap();
        assert_eq!(command, claim["claim_command"]);
        b.screenshot(&shots.join("recipient.png")).await.unwrap();
        b.goto(&format!("{base}/settlement")).await.unwrap();
        b.screenshot(&shots.join("settlement.png")).await.unwrap();
        b.goto(&task_url).await.unwrap();
    }

    // Bad input on the real chain.
    assert_eq!(get(&base, "/task/424242").await.0, 404);
    assert_eq!(get(&base, "/address/inj1notanaddress").await.0, 400);
    assert_eq!(get(&base, &format!("/address/{}", account(15).address())).await.0, 404);

    // The chain goes away mid-session: pages answer 503 and the open page says so.
    network.stop().unwrap();
    let mut down = false;
    for _ in 0..50 {
        if api(&base, "/api/head").await["reachable"] == false {
            down = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(down, "the head follower noticed the chain is gone");
    let (status, body) = get(&base, &format!("/task/{task_id}")).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("Chain unreachable"));
    if let Some(b) = browser.as_mut() {
        b.wait_for("document.getElementById('status').textContent.includes('unreachable')", Duration::from_secs(10))
            .await
            .unwrap();
        b.screenshot(&shots.join("chain-down.png")).await.unwrap();
        eprintln!("screenshots in {}", shots.display());
    }
    server.abort();
}
