//! Worker nodes as people run them: `gpu-worker run` processes (the creator, trainers and
//! validators) working a task on a real local chain, on lavapipe where there is no GPU: sealed
//! submissions opened in the model-reveal phase, and each round scored on its hidden evaluation
//! shard once the creator node reveals the round's key. Each test owns its network and its
//! processes; both are stopped when the test ends, pass or fail.
//!
//! Budgets (2-core VM, lavapipe): the phases are 150, 40, 120 and 80 blocks of ~0.2 s (30, 8, 24
//! and 16 s). With two tests running at once, a 5-epoch `mlp:32` trains in ~0.5 s (the 60 epochs of
//! the killed trainer in ~2 s), each evaluation takes ~0.3 s, commits and reveals land within a
//! block or two: every node's work fits its phase more than 4 times over. So the tests run two at a
//! time (the harness runs as many as there are cores); the test whose shard does not open has no
//! evaluation to wait for and runs on phases of 40, 15, 40 and 30 blocks. A passing run with
//! --nocapture prints each node's milestones to check this.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use arena_client::{BeaconSecret, Client, EvaluationKeys, MarketClient};
use arena_config::worker::{NodeConfig, NodeRole, TrainerConfig};
use arena_config::KeySource;
use arena_types::market::commitment::{model_commitment, UNUSABLE_SHARD};
use arena_types::market::msg::{
    AssignmentsResponse, ExecuteMsg, ModelMetadata, QueryMsg, Role, SlashEventsResponse, SubmissionStatus, TaskParams,
};
use arena_types::market::phase::Phase;
use cosmwasm_std::{HexBinary, Uint128};
use testnet::network::{NetworkConfig, Ports};
use testnet::process::Service;
use testnet::task::{shard_dir, PhaseBlocks, TaskSpec};
use testnet::{accounts, contracts, deploy, repo, Network};

const STAKE: u64 = 1_000_000;
/// Phases for tasks whose nodes train and evaluate (see the budgets above).
const PHASES: PhaseBlocks = PhaseBlocks { submission: 150, model_reveal: 40, commit: 120, reveal: 80 };
/// Phases for a task whose validators never evaluate: still over 10 times the work of each phase
/// (a stake, a 5-epoch logistic regression, a transaction or two).
const SHORT_PHASES: PhaseBlocks = PhaseBlocks { submission: 40, model_reveal: 15, commit: 40, reveal: 30 };
/// The devnet account that creates the tasks and runs their creator node.
const CREATOR: u32 = 1;

struct Arena {
    network: Network,
    home: tempfile::TempDir,
    market: MarketClient,
    manifest: PathBuf,
    task_id: u64,
    bridge: String,
    keys: EvaluationKeys,
}

/// The digits task (train on the first 1,438 rows, score accuracy on the last 359, one hidden
/// shard of them per round), with phases long enough for lavapipe on 2 cores to train and
/// evaluate small models; its shards sealed under `home`.
fn digits_task(
    rounds: u32,
    min_score: u32,
    phases: PhaseBlocks,
    secret: &BeaconSecret,
    home: &Path,
) -> (TaskParams, EvaluationKeys) {
    let (mut params, keys) =
        TaskSpec::digits(rounds, phases).params(secret, &shard_dir(home, &secret.anchor(rounds))).unwrap();
    params.min_score = min_score;
    (params, keys)
}

/// A network with the market, and a digits task whose beacon secret and evaluation keys lie where
/// the creator node looks for them (beside the manifest).
async fn start_arena(rounds: u32, min_score: u32, phases: PhaseBlocks) -> Arena {
    let home = tempfile::tempdir().unwrap();
    let network = Network::start(&NetworkConfig::new(home.path().join("net"), Ports::free().unwrap())).unwrap();
    // The bridge before the market, which pays `gpu-worker withdraw` into it.
    let artifacts = contracts::build(&["arena-token", "arena-bridge", "arena-market"]).unwrap();
    let client = Client::connect(network.chain_config()).await.unwrap();
    let deployed = deploy::deploy(&client, &artifacts, None).await.unwrap();
    let manifest = home.path().join("manifest.json");
    network.manifest(deployed.clone(), Default::default()).write(&manifest).unwrap();
    let market = MarketClient::new(client, &deployed["arena-market"].address, &deployed["arena-token"].address);
    let creator = accounts::cosmos(CREATOR, "inj").unwrap();
    let secret = BeaconSecret::generate();
    // The shards inside the repository, the nodes' data root, as `testnet create-task` does.
    let shards = repo::root().join("target/daemon-shards");
    let (params, keys) = digits_task(rounds, min_score, phases, &secret, &shards);
    // 100 ARENA: the best trainer of a round earns more than the smallest EVM withdrawal (1 ARENA).
    let (task_id, _) = market.create_task(&creator, 100_000_000, params).await.unwrap();
    secret.write_new(&BeaconSecret::path_in(home.path(), task_id)).unwrap();
    keys.write_new(&EvaluationKeys::path_in(home.path(), task_id)).unwrap();
    let bridge = deployed["arena-bridge"].address.clone();
    Arena { network, home, market, manifest, task_id, bridge, keys }
}

impl Arena {
    fn state_dir(&self, account: u32) -> PathBuf {
        self.home.path().join(format!("node-{account}"))
    }

    /// Writes the config of the node of devnet account `account`, returns its path.
    fn node_config(&self, account: u32, role: NodeRole, model: &str) -> PathBuf {
        let path = self.home.path().join(format!("node-{account}.toml"));
        let key = KeySource::DevnetAccount(account);
        let config = NodeConfig {
            stake: Some(STAKE),
            data_root: repo::root(),
            poll_ms: 300,
            trainer: TrainerConfig {
                model: model.into(),
                epochs: 5,
                batch_size: 64,
                learning_rate: 0.003,
                optimizer: "adam".into(),
                seed: account.into(),
                public_url: None,
                adversary: None,
                ..TrainerConfig::default()
            },
            ..NodeConfig::new(self.manifest.clone(), self.task_id, role, self.state_dir(account), key)
        };
        arena_config::save(&path, &config).unwrap();
        path
    }

    /// Starts `gpu-worker run` for a node; its log is `node-<account>.log`.
    fn spawn_node(&self, account: u32, config: &Path) -> Service {
        let mut command = Command::new(env!("CARGO_BIN_EXE_gpu-worker"));
        command.args(["run", "--config"]).arg(config).env("RUST_LOG", "info,wgpu_core=warn,wgpu_hal=warn,naga=warn");
        let log = self.home.path().join(format!("node-{account}.log"));
        Service::spawn("gpu-worker", command, log, self.home.path().join(format!("node-{account}.pid"))).unwrap()
    }

    /// Starts the task's creator node (it reveals the beacon and the evaluation key each round).
    fn spawn_creator(&self) -> Service {
        self.spawn_node(CREATOR, &self.node_config(CREATOR, NodeRole::Creator, ""))
    }

    /// Waits until the beacon of `round` (or a later one) is on chain.
    async fn wait_for_beacon(&self, round: u32, timeout: Duration) {
        let started = Instant::now();
        while self.market.beacon(self.task_id).await.map(|b| b.revealed_round).unwrap_or(0) < round {
            assert!(started.elapsed() < timeout, "round {round}'s beacon was not revealed within {timeout:?}");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// Waits until `round`'s evaluation key is on chain; returns the height it was seen at.
    async fn wait_for_key(&self, round: u32, timeout: Duration) -> u64 {
        let started = Instant::now();
        loop {
            if let Ok(r) = self.market.round(self.task_id, round).await {
                assert!(!r.void, "round {round} went void: its key was not revealed in time");
                if r.evaluation_key.is_some() {
                    return self.market.client().latest_height().await.unwrap();
                }
            }
            assert!(started.elapsed() < timeout, "round {round}'s evaluation key was not revealed within {timeout:?}");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// The decrypted shard of `round` as validator `account` opened it.
    fn opened_shard(&self, account: u32, round: u32) -> PathBuf {
        self.state_dir(account).join(format!("shards/task-{}-round-{round}.csv", self.task_id))
    }

    async fn wait_until_finalized(&self, timeout: Duration) {
        common::wait_until_finalized(&self.market, self.task_id, 1, self.home.path(), timeout).await
    }
}

impl Drop for Arena {
    /// A failing test shows what the nodes said; a passing one (with --nocapture) when each node
    /// trained, evaluated, committed and revealed, to compare with the phases.
    fn drop(&mut self) {
        if !std::thread::panicking() {
            for entry in std::fs::read_dir(self.home.path()).into_iter().flatten().flatten() {
                let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
                let milestones = ["training", "submitted", "revealed", "shard opened", "evaluated", "committed"];
                for line in text.lines().filter(|l| milestones.iter().any(|m| l.contains(m))) {
                    println!("{}: {line}", entry.file_name().to_string_lossy());
                }
            }
            return;
        }
        for entry in std::fs::read_dir(self.home.path()).into_iter().flatten().flatten() {
            if entry.path().extension().is_some_and(|e| e == "log") {
                eprintln!("--- {} ---\n{}", entry.path().display(), testnet::process::log_tail(&entry.path(), 30));
            }
        }
    }
}

/// The task, asked until the restarted node answers (its first answers may be errors).
async fn arena_task_after_restart(arena: &Arena) -> arena_types::market::msg::TaskResponse {
    let started = Instant::now();
    loop {
        match arena.market.task(arena.task_id).await {
            Ok(task) => return task,
            Err(e) => {
                assert!(started.elapsed() < Duration::from_secs(30), "the restarted chain does not answer: {e}");
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    }
}

/// Runs a one-shot `gpu-worker` command that must succeed; returns its stdout.
fn worker_cli(args: &[&str], config: &Path) -> String {
    let output =
        Command::new(env!("CARGO_BIN_EXE_gpu-worker")).args(args).arg("--config").arg(config).output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "gpu-worker {args:?} failed:\n{stdout}\n{stderr}");
    stdout.into_owned()
}

/// `gpu-worker serve --listen 127.0.0.1:0` on `store`, and the address its log says it bound.
fn spawn_server(store: &Path, log: PathBuf) -> (Service, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gpu-worker"));
    command.args(["serve", "--listen", "127.0.0.1:0", "--store"]).arg(store).env("NO_COLOR", "1");
    let server = Service::spawn("gpu-worker serve", command, log.clone(), log.with_extension("pid")).unwrap();
    let started = Instant::now();
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(at) = text.find("listen=") {
            let addr: String = text[at + "listen=".len()..].chars().take_while(|c| !c.is_whitespace()).collect();
            return (server, addr);
        }
        assert!(started.elapsed() < Duration::from_secs(20), "gpu-worker serve did not start: {text}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A plain HTTP/1.1 GET: the status code and the body.
fn http_get(addr: &str, path: &str) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").expect("an HTTP response");
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or_else(|| panic!("{head}"));
    assert!(!head.to_ascii_lowercase().contains("transfer-encoding: chunked"), "{head}");
    (status, response[split + 4..].to_vec())
}

/// `gpu-worker eval --json`'s score of a model file on a data set, run as a user would.
fn eval_score(model: &Path, data: &Path) -> u32 {
    let output = Command::new(env!("CARGO_BIN_EXE_gpu-worker"))
        .args(["eval", "--json", "--data"])
        .arg(data)
        .arg("--model")
        .arg(model)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    json["score_ppm"].as_u64().unwrap() as u32
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_trainers_and_three_validators_finish_a_round() {
    let arena = start_arena(1, 0, PHASES).await;
    let mut nodes = vec![arena.spawn_creator()];
    for (account, model) in [(2, "mlp:32"), (3, "mlp")] {
        nodes.push(arena.spawn_node(account, &arena.node_config(account, NodeRole::Trainer, model)));
    }
    // Validator 7 stakes now (so it counts in round 1) but its node starts only once the round's
    // key is on chain: it reads the key from the chain and scores like the others.
    let late = accounts::cosmos(7, "inj").unwrap();
    arena.market.stake(&late, arena.task_id, Role::Validator, STAKE.into()).await.unwrap();
    for account in [5, 6] {
        nodes.push(arena.spawn_node(account, &arena.node_config(account, NodeRole::Validator, "")));
    }
    // Sealed: in the submission phase the chain holds commitments, no model (the trainers submit
    // within seconds of a 30 s phase, and reveal in the first block of the next).
    let started = Instant::now();
    loop {
        let sealed = arena.market.submissions(arena.task_id, 1, None, 10).await.unwrap().submissions;
        assert!(sealed.iter().all(|s| s.model.is_none() && s.commitment.len() == 32), "{sealed:?}");
        if sealed.len() == 2 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(25), "the trainers did not submit: {sealed:?}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(arena.market.task(arena.task_id).await.unwrap().now.phase, Phase::Submission);
    let key_height = arena.wait_for_key(1, Duration::from_secs(240)).await;
    let task = arena.market.task(arena.task_id).await.unwrap();
    assert!(key_height <= task.schedule.key_deadline(1) + 1, "key seen at {key_height}");
    nodes.push(arena.spawn_node(7, &arena.node_config(7, NodeRole::Validator, "")));
    arena.wait_until_finalized(Duration::from_secs(300)).await;

    let round = arena.market.round(arena.task_id, 1).await.unwrap();
    // The creator revealed the round's beacon before its sampling (later it would be refused),
    // and the round's key, which opens the shard to exactly what the task committed to.
    assert_eq!(arena.market.beacon(arena.task_id).await.unwrap().revealed_round, 1);
    assert_eq!(round.evaluation_key.as_ref().map(|k| k.to_vec()), Some(arena.keys.key(1).unwrap().to_vec()));
    assert!(!round.void);
    let shard = arena.opened_shard(5, 1);
    let plain = std::fs::read(&shard).unwrap();
    assert_eq!(
        <sha2::Sha256 as sha2::Digest>::digest(&plain)[..],
        task.params.evaluation[0].sha256[..],
        "the validator scored on the committed shard"
    );
    let baseline = gpu_worker::Dataset::from_csv(&shard, &Default::default()).unwrap().majority_class_ppm();
    let submissions = arena.market.submissions(arena.task_id, 1, None, 10).await.unwrap().submissions;
    assert_eq!(submissions.len(), 2, "one submission per trainer");
    for s in &submissions {
        // Revealed, and it opens the commitment of its trainer.
        let model = s.model.as_ref().expect("the trainer revealed its model");
        assert_eq!(model.metadata.family, "mlp");
        // The consensus of three honest validators is exactly what `gpu-worker eval` says on the
        // round's shard; their baseline is the shard's majority-class accuracy.
        let file = arena.state_dir(5).join(format!("models/{}.safetensors", model.sha256.to_hex()));
        assert_eq!(s.consensus, Some(eval_score(&file, &shard)), "submission {}", s.id);
        assert_eq!(s.baseline, Some(baseline), "submission {}", s.id);
        assert!(s.consensus > s.baseline);
        assert_eq!(s.status, SubmissionStatus::Scored);
    }
    // The validator that started after the key's reveal scored every model it was assigned.
    let late_work: AssignmentsResponse =
        arena.market.validator_assignments(arena.task_id, late.address().as_ref(), None, 10).await.unwrap();
    assert_eq!(late_work.assignments.len(), 2, "k = 3 of 3 validators: all are assigned");
    assert!(late_work.assignments.iter().all(|a| a.score.is_some() && a.baseline == Some(baseline)), "{late_work:?}");
    // Rewards: the better model ranks first and earns more; all that was paid is claimable.
    let (best, worst) = if submissions[0].consensus > submissions[1].consensus {
        (&submissions[0], &submissions[1])
    } else {
        (&submissions[1], &submissions[0])
    };
    assert_eq!((best.rank, worst.rank), (Some(0), Some(1)));
    assert!(best.reward > worst.reward && worst.reward > Uint128::zero());
    let mut claimable = 0;
    for account in [2, 3, 5, 6, 7] {
        claimable +=
            arena.market.claimable(accounts::cosmos(account, "inj").unwrap().address().as_ref()).await.unwrap();
    }
    assert_eq!(claimable, round.paid.u128());

    // `gpu-worker claim` pays a trainer's rewards out in cw20.
    let trainer = accounts::cosmos(2, "inj").unwrap();
    let owed = arena.market.claimable(trainer.address().as_ref()).await.unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_gpu-worker"))
        .args(["claim", "--config"])
        .arg(arena.node_config(2, NodeRole::Trainer, "mlp:32"))
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(arena.market.claimable(trainer.address().as_ref()).await.unwrap(), 0);
    assert!(owed > 0);

    one_shot_commands_and_serve(&arena, &submissions).await;
    drop(nodes);
    drop(arena); // stops the chain and anvil
}

/// `status`, `rewards`, `withdraw` and `serve` as a user runs them, after a finished round.
async fn one_shot_commands_and_serve(arena: &Arena, submissions: &[arena_types::market::msg::SubmissionResponse]) {
    let address = |account: u32| accounts::cosmos(account, "inj").unwrap().address().to_string();
    let trainer_config = arena.node_config(3, NodeRole::Trainer, "mlp");
    let owed = arena.market.claimable(&address(3)).await.unwrap();

    let status = worker_cli(&["status"], &trainer_config);
    assert!(status.contains(&format!("account   {}", address(3))), "{status}");
    assert!(status.contains(&format!("task      {} (accuracy_ppm): round ", arena.task_id)), "{status}");
    assert!(status.contains("1 rounds finalized"), "{status}");
    assert!(status.contains(&format!("stake     Trainer: own {STAKE}, delegated 0")), "{status}");
    assert!(status.contains(&format!("rewards   {owed} claimable")), "{status}");
    assert!(status.contains("sealed    round 1: model "), "{status}");
    let validator = worker_cli(&["status"], &arena.node_config(5, NodeRole::Validator, ""));
    assert!(validator.contains(&format!("stake     Validator: own {STAKE}")), "{validator}");
    assert!(validator.contains("journal   ") && validator.contains(" scores recorded for round "), "{validator}");
    let creator = worker_cli(&["status"], &arena.node_config(CREATOR, NodeRole::Creator, ""));
    assert!(creator.contains("beacon    revealed through round 1"), "{creator}");
    assert_eq!(worker_cli(&["rewards"], &trainer_config).trim(), format!("{}: {owed} claimable", address(3)));

    // withdraw queues everything claimable on the bridge for the EVM recipient, once.
    let (best, best_owed) = {
        let mut owed = Vec::new();
        for account in [3, 5, 6, 7] {
            owed.push((account, arena.market.claimable(&address(account)).await.unwrap()));
        }
        owed.into_iter().max_by_key(|(_, amount)| *amount).unwrap()
    };
    assert!(best_owed >= 1_000_000, "no one earned the smallest EVM withdrawal: {best_owed}");
    let config = arena.node_config(best, if best == 3 { NodeRole::Trainer } else { NodeRole::Validator }, "mlp");
    let to = accounts::EVM_ADDRESSES[4];
    let out = worker_cli(&["withdraw", "--to", to], &config);
    assert!(out.contains(&format!("{}: {best_owed} queued on the bridge for {to} (tx ", address(best))), "{out}");
    assert_eq!(arena.market.claimable(&address(best)).await.unwrap(), 0);
    let queued: arena_types::settlement::msg::WithdrawalsResponse = arena
        .market
        .client()
        .query_contract(
            &arena.bridge,
            &arena_types::settlement::msg::QueryMsg::PendingWithdrawals { start_after: None, limit: None },
        )
        .await
        .unwrap();
    let amounts: Vec<(String, u128)> =
        queued.withdrawals.iter().map(|w| (w.evm_recipient.to_ascii_lowercase(), w.amount.u128())).collect();
    assert_eq!(amounts, [(to.to_ascii_lowercase(), best_owed)]);
    assert!(worker_cli(&["withdraw", "--to", to], &config).contains("nothing to withdraw"));
    assert_eq!(worker_cli(&["rewards"], &config).trim(), format!("{}: 0 claimable", address(best)));

    // serve offers the trainer's store over HTTP: its model byte for byte, 404 for others.
    let store = arena.state_dir(3).join("models");
    let (_server, addr) = spawn_server(&store, arena.home.path().join("serve.log"));
    let own = submissions
        .iter()
        .map(|s| s.model.as_ref().unwrap().sha256.to_hex())
        .find(|sha| store.join(format!("{sha}.safetensors")).is_file())
        .expect("trainer 3's model is in its store");
    let (code, body) = http_get(&addr, &format!("/models/{own}.safetensors"));
    assert_eq!((code, body), (200, std::fs::read(store.join(format!("{own}.safetensors"))).unwrap()));
    assert_eq!(http_get(&addr, "/health"), (200, b"ok".to_vec()));
    assert_eq!(http_get(&addr, &format!("/models/{}.safetensors", "0".repeat(64))).0, 404);
    assert_eq!(http_get(&addr, "/models/..%2Fjournal").0, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_validator_a_restarted_chain_and_a_corrupted_model() {
    // min_score 1: a model that scores 0 gets nothing. Two rounds, so that the creator killed after
    // round 1's beacon must still reveal round 2's (due when round 1's commit phase ends).
    let mut arena = start_arena(2, 1, PHASES).await;
    let mut creator = Some(arena.spawn_creator());
    let mut nodes = Vec::new();
    // 60 epochs (about 2 s on lavapipe, where 5 take 0.5 s): long enough to be killed half-way.
    let trainer_config = arena.node_config(2, NodeRole::Trainer, "mlp:32");
    let text = std::fs::read_to_string(&trainer_config).unwrap().replace("epochs = 5", "epochs = 60");
    std::fs::write(&trainer_config, text).unwrap();
    let trainer = arena.spawn_node(2, &trainer_config);
    let validator_config = arena.node_config(5, NodeRole::Validator, "");
    let mut victim = Some(arena.spawn_node(5, &validator_config));
    for account in [6, 7] {
        nodes.push(arena.spawn_node(account, &arena.node_config(account, NodeRole::Validator, "")));
    }

    // A cheating trainer seals a hash its file does not have (and opens it below).
    let cheater = accounts::cosmos(3, "inj").unwrap();
    arena.market.stake(&cheater, arena.task_id, Role::Trainer, STAKE.into()).await.unwrap();
    let file = arena.home.path().join("corrupted.safetensors");
    std::fs::write(&file, b"not the committed model").unwrap();
    let (cheat_sha, cheat_salt) = ([7u8; 32], [8u8; 32]);
    let commitment = model_commitment(arena.task_id, 1, cheater.address().as_ref(), &cheat_sha, &cheat_salt);
    let submit = ExecuteMsg::Submit { task_id: arena.task_id, commitment: HexBinary::from(commitment) };
    let outcome = arena.market.execute(&cheater, &submit).await.unwrap();
    let cheat_id: u64 = outcome.wasm_events().find_map(|e| e.attribute("submission_id")).unwrap().parse().unwrap();

    // SIGKILL the trainer half-way through training and start it again: it trains again in the
    // same submission phase and submits once.
    let trainer_log = arena.home.path().join("node-2.log");
    let started = Instant::now();
    while !std::fs::read_to_string(&trainer_log).unwrap_or_default().contains("training") {
        assert!(started.elapsed() < Duration::from_secs(120), "trainer 2 never started training");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    trainer.kill();
    let before_kill = std::fs::read_to_string(&trainer_log).unwrap();
    assert!(!before_kill.contains("submitted"), "trainer 2 finished before it was killed:\n{before_kill}");
    let trainer = arena.spawn_node(2, &trainer_config);
    // SIGKILL it again once its sealed submission is on chain, before the model-reveal phase, and
    // start it a third time: the journal still opens the commitment.
    let trainer_address = accounts::cosmos(2, "inj").unwrap().address().to_string();
    let started = Instant::now();
    loop {
        let page = arena.market.submissions(arena.task_id, 1, None, 10).await.unwrap();
        if page.submissions.iter().any(|s| s.trainer.as_str() == trainer_address) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the restarted trainer 2 never submitted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    trainer.kill();
    assert_eq!(arena.market.task(arena.task_id).await.unwrap().now.phase, Phase::Submission);
    nodes.push(arena.spawn_node(2, &trainer_config));

    // SIGKILL the creator once it has revealed round 1's beacon (at the start of the model-reveal
    // phase), before round 1's key is due, and start it again: it keeps no state, the chain tells
    // it what is due, and it reveals the key on time.
    arena.wait_for_beacon(1, Duration::from_secs(240)).await;
    assert_eq!(arena.market.round(arena.task_id, 1).await.unwrap().evaluation_key, None);
    creator.take().unwrap().kill();
    nodes.push(arena.spawn_creator());
    arena.market.wait_for_phase(arena.task_id, 1, Phase::ModelReveal).await.unwrap();
    let reveal = ExecuteMsg::RevealModel {
        task_id: arena.task_id,
        model_sha256: HexBinary::from(cheat_sha),
        uri: format!("file://{}", file.display()),
        metadata: ModelMetadata { family: "mlp".into(), parameters: 650, file_bytes: 23, notes: None },
        salt: HexBinary::from(cheat_salt),
    };
    arena.market.execute(&cheater, &reveal).await.unwrap();
    let key_height = arena.wait_for_key(1, Duration::from_secs(120)).await;
    let schedule = arena.market.task(arena.task_id).await.unwrap().schedule;
    assert!(key_height <= schedule.key_deadline(1) + 1, "round 1's key seen at {key_height}: {schedule:?}");

    // Once every validator has committed, SIGKILL validator 5, restart the chain node, then restart
    // the validator. All of them, not only 5: a commit still in the killed node's mempool is lost,
    // and its sender waits out a 30 s inclusion timeout, past the end of the commit phase (a
    // liveness slash that failed one of three runs here).
    let victim_address = accounts::cosmos(5, "inj").unwrap().address().to_string();
    let started = Instant::now();
    for validator in [5, 6, 7] {
        let address = accounts::cosmos(validator, "inj").unwrap().address().to_string();
        loop {
            let mine: AssignmentsResponse =
                arena.market.validator_assignments(arena.task_id, &address, None, 10).await.unwrap();
            if !mine.assignments.is_empty() && mine.assignments.iter().all(|a| a.commitment.is_some()) {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(240), "validator {validator} never committed");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
    victim.take().unwrap().kill();
    arena.network.restart_chain().unwrap();
    let now = arena_task_after_restart(&arena).await.now;
    assert!(
        now.phase == Phase::Commit || now.phase == Phase::Reveal,
        "restarted before the reveal phase ended: {now:?}"
    );
    nodes.push(arena.spawn_node(5, &validator_config));
    arena.wait_until_finalized(Duration::from_secs(300)).await;
    // The restarted creator revealed round 2's beacon (due since round 1's commit phase ended).
    arena.wait_for_beacon(2, Duration::from_secs(30)).await;

    // The killed validator revealed after its restart: no liveness slash, every reveal counted.
    let mine: AssignmentsResponse =
        arena.market.validator_assignments(arena.task_id, &victim_address, None, 10).await.unwrap();
    assert!(mine.assignments.iter().all(|a| a.score.is_some()), "{mine:?}");
    let slashes: SlashEventsResponse = arena
        .market
        .query(&QueryMsg::SlashEvents { task_id: arena.task_id, start_after: None, limit: None })
        .await
        .unwrap();
    assert!(slashes.events.is_empty(), "{slashes:?}");
    // The corrupted model scored 0 with every validator, and earns nothing.
    let cheat = arena.market.submission(arena.task_id, cheat_id).await.unwrap();
    assert_eq!((cheat.consensus, cheat.reward), (Some(0), Uint128::zero()));
    assert!(matches!(cheat.status, SubmissionStatus::BelowMinScore | SubmissionStatus::BelowBaseline), "{cheat:?}");
    assert_eq!(arena.market.claimable(cheater.address().as_ref()).await.unwrap(), 0);
    // The restarted trainer submitted once, revealed from its journal after the second kill, and
    // its model was scored.
    let trainer = accounts::cosmos(2, "inj").unwrap().address().to_string();
    let submissions = arena.market.submissions(arena.task_id, 1, None, 10).await.unwrap().submissions;
    let mine: Vec<_> = submissions.iter().filter(|s| s.trainer.as_str() == trainer).collect();
    assert_eq!(mine.len(), 1, "{submissions:?}");
    assert!(mine[0].status == SubmissionStatus::Scored && mine[0].consensus > Some(0), "{:?}", mine[0]);
    drop(nodes);
    drop(arena); // stops the chain and anvil
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shard_that_does_not_open_voids_the_round_and_slashes_nobody() {
    let arena = start_arena(1, 0, SHORT_PHASES).await;
    // The creator's published shard is not what it committed to: one byte of the ciphertext
    // flipped, so the key it reveals does not open it.
    let task = arena.market.task(arena.task_id).await.unwrap();
    let shard = repo::root().join(task.params.evaluation[0].uri.strip_prefix("file://").unwrap());
    let mut bytes = std::fs::read(&shard).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&shard, bytes).unwrap();
    let mut nodes = vec![arena.spawn_creator()];
    nodes.push(arena.spawn_node(2, &arena.node_config(2, NodeRole::Trainer, "mlp")));
    for account in [5, 6, 7] {
        nodes.push(arena.spawn_node(account, &arena.node_config(account, NodeRole::Validator, "")));
    }
    arena.wait_until_finalized(Duration::from_secs(300)).await;

    // Every validator revealed score 0 with the unusable-shard marker: the submission is void,
    // nobody is slashed for not measuring, and the trainer is paid from the creator's bond.
    let submissions = arena.market.submissions(arena.task_id, 1, None, 10).await.unwrap().submissions;
    assert_eq!(submissions.len(), 1);
    let s = &submissions[0];
    assert_eq!((s.status, s.baseline), (SubmissionStatus::Void, Some(UNUSABLE_SHARD)), "{s:?}");
    let round = arena.market.round(arena.task_id, 1).await.unwrap();
    assert!(round.bond_forfeit > Uint128::zero(), "{round:?}");
    let slashes: SlashEventsResponse = arena
        .market
        .query(&QueryMsg::SlashEvents { task_id: arena.task_id, start_after: None, limit: None })
        .await
        .unwrap();
    assert!(slashes.events.is_empty(), "{slashes:?}");
    let trainer = accounts::cosmos(2, "inj").unwrap().address().to_string();
    assert!(arena.market.claimable(&trainer).await.unwrap() > 0);
    let status = worker_cli(&["status"], &arena.node_config(5, NodeRole::Validator, ""));
    assert!(status.contains("rejected: the round's evaluation shard is unusable"), "{status}");
    drop(nodes);
}
