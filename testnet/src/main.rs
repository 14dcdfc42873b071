//! `testnet`: Arena's local network. Run `testnet --help`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use testnet::chain::ChainPorts;
use testnet::manifest::Manifest;
use testnet::network::{self, NetworkConfig, Ports, Validators};
use testnet::profile::{ChainProfile, DEFAULT_PROFILE};
use testnet::{accounts, contracts, deploy, evm, repo, Network};

/// Arena's local network: a CosmWasm chain (one validator, or several with `up --validators N`)
/// and an anvil node standing in for Base Sepolia, the contract builds, and their deployment.
///
/// Typical use: `testnet up`, `testnet deploy`, ..., `testnet down`. Everything lives in the home
/// folder (default: .testnet/ in the repository), which `testnet down --wipe` removes.
#[derive(Parser)]
#[command(version, about, long_about)]
struct Cli {
    /// Folder for the nodes' state, logs, PID files and the deployment manifest.
    #[arg(long, global = true, env = "ARENA_TESTNET_HOME")]
    home: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the chain and the EVM node (restarting on existing state if the home has one).
    Up(UpArgs),
    /// Stop every node (each validator, the EVM node, the explorer) by PID and wait for their
    /// clean exit.
    Down {
        /// Also delete the home folder (chain state, manifest): the next `up` starts from genesis.
        #[arg(long)]
        wipe: bool,
    },
    /// Show what runs: each validator's height, peers and voting power, and what is deployed.
    Status,
    /// Stop validator I cleanly (SIGTERM); `start-node I` starts it again on its state.
    StopNode {
        /// The validator's index (0 = the first, `chain/`).
        index: usize,
    },
    /// Kill validator I with SIGKILL, as a crash would.
    KillNode { index: usize },
    /// Start validator I again on its state and wait until it follows the chain.
    StartNode { index: usize },
    /// Build every CosmWasm contract into artifacts/ (MVP wasm, checked with cosmwasm-check when
    /// it is installed: scripts/test.sh installs it).
    Build {
        /// Fail unless every artifact passes cosmwasm-check (the test command's mode).
        #[arg(long)]
        require_check: bool,
    },
    /// Build, then store and instantiate the contracts, and write the manifest.
    Deploy,
    /// Print the deterministic test accounts and their well-known keys (local use only).
    Accounts,
    /// Run a whole arena competition on a fresh network of its own (a chain of 4 validators by
    /// default): a digits task, 5 trainer nodes (one weak, one copycat, one eval thief), 4
    /// validator nodes (one dishonest), 3 relayers, and beside it a language-model task (3 LoRA
    /// trainers over a tiny cached base, the same validators); then print the chain's nodes, the
    /// leaderboards, samples of the language models, the validators' record and the settlement,
    /// and write report.json/.html.
    Demo {
        /// The demo's folder (network, node logs, report) [default: .arena/demo].
        #[arg(long)]
        dir: Option<PathBuf>,
        #[command(flatten)]
        rounds: RoundArgs,
        /// Leave the network running at the end, to explore it.
        #[arg(long)]
        keep_running: bool,
        /// Validator nodes of the chain, of equal voting power; every worker node and relayer
        /// reads one of its own and fails over to the others.
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=testnet::chain::MAX_VALIDATORS as i64))]
        validators: u16,
    },
    /// Post a classification task on the deployed market, funded from a test account's tokens.
    CreateTask {
        /// Training CSV (features then the label in the last column), relative to the repository root.
        #[arg(long, default_value = "data/digits-train.csv")]
        train: PathBuf,
        /// Evaluation CSV the validators score on: split into one hidden shard per round, each
        /// sealed with its own key; only the sealed shards are written (under the network's home).
        #[arg(long, default_value = "data/digits-eval.csv")]
        eval: PathBuf,
        #[command(flatten)]
        rounds: RoundArgs,
        /// Reward pool in micro-ARENA.
        #[arg(long, default_value_t = 100_000_000)]
        pool: u128,
        /// The test account that creates (and funds) the task.
        #[arg(long, default_value_t = 1)]
        creator: u32,
        /// All parameters from a JSON file instead (the market's `TaskParams`, see
        /// schema/arena-market.json). Its `beacon` and `evaluation` may be left out: they are
        /// always replaced by the anchor of a fresh secret and by `--eval` sealed into the file's
        /// `rounds` shards, whose secret and keys this command saves for the creator node.
        #[arg(long, conflicts_with_all = ["train", "rounds", "phases", "k"])]
        params: Option<PathBuf>,
    },
    /// Query a cw20 balance of the deployed Arena token.
    Balance {
        /// A bech32 address, or a test account index (0..19).
        account: String,
    },
}

#[derive(Args)]
struct UpArgs {
    /// Chain profile from profiles.toml (`injectived`, or `wasmd` if you have wasmd on PATH).
    #[arg(long, default_value = DEFAULT_PROFILE)]
    profile: String,
    /// A profiles file instead of the shipped testnet/profiles.toml.
    #[arg(long)]
    profiles_file: Option<PathBuf>,
    #[arg(long, default_value_t = 26657)]
    rpc_port: u16,
    #[arg(long, default_value_t = 9090)]
    grpc_port: u16,
    #[arg(long, default_value_t = 1317)]
    rest_port: u16,
    #[arg(long, default_value_t = 26656)]
    p2p_port: u16,
    /// anvil's JSON-RPC port.
    #[arg(long, default_value_t = 8545)]
    evm_port: u16,
    /// Validator nodes sharing one genesis, each with its own home, ports and log. Node i > 0
    /// listens on the ports above plus 100 * i (RPC 26757, gRPC 9190, ... for node 1).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=testnet::chain::MAX_VALIDATORS as i64))]
    validators: u16,
    /// Voting power of each validator, e.g. `3,1,1,1` (default: equal).
    #[arg(long, value_delimiter = ',')]
    powers: Vec<u64>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_target(false)
        .init();
    let cli = Cli::parse();
    let home = cli.home.unwrap_or_else(repo::default_home);
    match cli.command {
        Command::Up(args) => up(home, args),
        Command::Down { wipe } => down(home, wipe),
        Command::Status => status(home).await,
        Command::StopNode { index } => node_command(&home, index, NodeAction::Stop),
        Command::KillNode { index } => node_command(&home, index, NodeAction::Kill),
        Command::StartNode { index } => node_command(&home, index, NodeAction::Start),
        Command::Build { require_check } => build(contracts::BuildOptions { require_check, progress: true }).map(drop),
        Command::Deploy => deploy(home).await,
        Command::Accounts => accounts_list(&home),
        Command::Balance { account } => balance(home, &account).await,
        Command::CreateTask { train, eval, rounds, pool, creator, params } => {
            let secret = arena_client::BeaconSecret::generate();
            let shard_dir = |rounds: u32| testnet::task::shard_dir(&home, &secret.anchor(rounds));
            let (params, keys) = match params {
                Some(file) => {
                    let mut params = params_file(&file)?;
                    let sealed = testnet::task::seal_evaluation(&eval, params.rounds, &shard_dir(params.rounds))?;
                    params.beacon = secret.anchor(params.rounds).into();
                    params.evaluation = sealed.shards;
                    (params, sealed.keys)
                }
                None => {
                    let spec = testnet::task::TaskSpec {
                        train,
                        eval,
                        rounds: rounds.rounds,
                        phases: rounds.phases(),
                        validators_per_submission: rounds.k,
                    };
                    spec.params(&secret, &shard_dir(spec.rounds))?
                }
            };
            create_task(home, params, &secret, &keys, pool, creator).await
        }
        Command::Demo { dir, rounds, keep_running, validators } => {
            let opts = testnet::demo::DemoOptions {
                rounds: rounds.rounds,
                phases: rounds.phases(),
                validators_per_submission: rounds.k,
                keep_running,
                chain_validators: usize::from(validators),
                ..testnet::demo::DemoOptions::new(dir.unwrap_or_else(testnet::demo::default_home))
            };
            demo(opts).await
        }
    }
}

/// How a task's rounds are shaped, for `create-task` and `demo`.
#[derive(Args)]
struct RoundArgs {
    /// Rounds of the task.
    #[arg(long, default_value_t = 2)]
    rounds: u32,
    /// Blocks of the submission, model-reveal, commit and reveal phases (~0.2 s each).
    #[arg(long, num_args = 4, value_names = ["SUBMISSION", "MODEL_REVEAL", "COMMIT", "REVEAL"], default_values_t = [90, 30, 70, 50])]
    phases: Vec<u64>,
    /// Validators sampled per submission (k; the demo runs 4 validators).
    #[arg(long, default_value_t = 3)]
    k: u32,
}

impl RoundArgs {
    fn phases(&self) -> testnet::task::PhaseBlocks {
        let p = &self.phases;
        testnet::task::PhaseBlocks { submission: p[0], model_reveal: p[1], commit: p[2], reveal: p[3] }
    }
}

fn up(home: PathBuf, a: UpArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let ports = Ports {
        chain: ChainPorts { rpc: a.rpc_port, grpc: a.grpc_port, rest: a.rest_port, p2p: a.p2p_port },
        evm: a.evm_port,
    };
    let n = usize::from(a.validators);
    let powers = if a.powers.is_empty() { vec![1; n] } else { a.powers };
    if powers.len() != n || powers.contains(&0) {
        bail!("--powers gives {} powers ({powers:?}) for {n} validators; give one positive power each", powers.len());
    }
    let offset = |port: u16, i: usize| -> anyhow::Result<u16> {
        port.checked_add(100 * i as u16).with_context(|| format!("port {port} + {} is past 65535", 100 * i))
    };
    let mut more_ports = Vec::new();
    for i in 1..n {
        let c = ports.chain;
        more_ports.push(ChainPorts {
            rpc: offset(c.rpc, i)?,
            grpc: offset(c.grpc, i)?,
            rest: offset(c.rest, i)?,
            p2p: offset(c.p2p, i)?,
        });
    }
    let config = NetworkConfig {
        home: home.clone(),
        profile_name: a.profile,
        profiles_file: a.profiles_file,
        ports,
        validators: Validators { powers, more_ports },
    };
    let network = Network::start(&config)?;
    println!("network up in {:.1} s (home {})", started.elapsed().as_secs_f64(), home.display());
    for node in &network.nodes {
        println!(
            "  chain {} node {} (power {}): RPC {}  gRPC {}  REST {}",
            network.profile.chain_id,
            node.index,
            node.power,
            node.rpc_url(),
            node.grpc_url(),
            node.rest_url()
        );
    }
    println!("  EVM   chain id {} at {}", evm::BASE_SEPOLIA_CHAIN_ID, network.evm_rpc_url());
    println!(
        "next: `testnet deploy`; then `cargo run -p arena-explorer -- --manifest {}` serves the explorer",
        Manifest::path(&home).display()
    );
    println!("stop with `testnet down`");
    network.detach();
    Ok(())
}

enum NodeAction {
    Stop,
    Kill,
    Start,
}

fn node_command(home: &std::path::Path, index: usize, action: NodeAction) -> anyhow::Result<()> {
    let Some(info) = network::read_info(home) else {
        bail!("no network in {}: run `testnet up` first", home.display())
    };
    let nodes = info.nodes(home);
    let Some(node) = nodes.get(index) else {
        bail!("the network has validators 0..{}; there is no validator {index}", nodes.len() - 1)
    };
    let running = network::running_node(home, index);
    match (action, running) {
        (NodeAction::Stop, Some(service)) => {
            let pid = service.pid;
            service.stop(std::time::Duration::from_secs(15))?;
            println!("stopped validator {index} (pid {pid})");
        }
        (NodeAction::Kill, Some(service)) => {
            let pid = service.pid;
            service.kill();
            println!("killed validator {index} (pid {pid}) with SIGKILL");
        }
        (NodeAction::Stop | NodeAction::Kill, None) => println!("validator {index} is not running"),
        (NodeAction::Start, Some(service)) => println!("validator {index} already runs (pid {})", service.pid),
        (NodeAction::Start, None) => {
            let started = Instant::now();
            let profile = ChainProfile::load(info.profiles_file.as_deref(), &info.profile_name)?;
            let mut service = network::spawn_node(&profile, &nodes, index)?;
            testnet::chain::wait_ready(&mut service, node.ports)?;
            println!(
                "validator {index} runs again (pid {}), following the chain after {:.1} s",
                service.pid,
                started.elapsed().as_secs_f64()
            );
            service.detach();
        }
    }
    Ok(())
}

fn down(home: PathBuf, wipe: bool) -> anyhow::Result<()> {
    let services = network::running_services(&home);
    if services.is_empty() {
        println!("no network running from {}", home.display());
    }
    for service in services {
        let (name, pid) = (service.name, service.pid);
        service.stop(std::time::Duration::from_secs(15))?;
        println!("stopped {name} (pid {pid})");
    }
    if wipe && home.exists() {
        std::fs::remove_dir_all(&home).with_context(|| format!("removing {}", home.display()))?;
        println!("removed {}", home.display());
    }
    Ok(())
}

async fn status(home: PathBuf) -> anyhow::Result<()> {
    let Some(info) = network::read_info(&home) else {
        println!("no network has been started from {} (`testnet up` starts one)", home.display());
        return Ok(());
    };
    let running = network::running_services(&home);
    let pid_of = |name| running.iter().find(|s| s.name == name).map(|s| s.pid);
    for node in info.nodes(&home) {
        match pid_of(node.name) {
            Some(pid) => {
                let status = testnet::probe::comet_node_status(node.ports.rpc);
                let show = |v: Option<u64>| v.map_or("?".to_string(), |v| v.to_string());
                println!(
                    "{}: running (pid {pid}), height {}, peers {}, voting power {}, RPC port {}, gRPC port {}",
                    node.name,
                    show(status.as_ref().map(|s| s.height)),
                    show(testnet::probe::comet_peers(node.ports.rpc)),
                    show(status.as_ref().map(|s| s.voting_power)),
                    node.ports.rpc,
                    node.ports.grpc
                );
            }
            None => println!("{}: stopped", node.name),
        }
    }
    match pid_of("evm") {
        Some(pid) => {
            let chain_id = testnet::probe::evm_chain_id(info.ports.evm).map_or("?".into(), |c| c.to_string());
            println!("evm:   running (pid {pid}), chain id {chain_id}, port {}", info.ports.evm)
        }
        None => println!("evm:   stopped"),
    }
    match Manifest::read(&Manifest::path(&home)) {
        Ok(m) => m.contracts.iter().for_each(|(name, c)| println!("{name}: code {} at {}", c.code_id, c.address)),
        Err(_) => println!("nothing deployed yet (`testnet deploy`)"),
    }
    Ok(())
}

fn build(options: contracts::BuildOptions) -> anyhow::Result<Vec<contracts::Artifact>> {
    let started = Instant::now();
    let artifacts = contracts::build_with(&[], options)?;
    for a in &artifacts {
        let state = if a.rebuilt { "built" } else { "up to date" };
        println!("{:<14} {:>8} bytes  sha256 {}  ({state})", a.package, a.size, a.checksum);
    }
    println!("artifacts in {} ({:.1} s)", contracts::artifacts_dir().display(), started.elapsed().as_secs_f64());
    Ok(artifacts)
}

async fn deploy(home: PathBuf) -> anyhow::Result<()> {
    let Some(info) = network::read_info(&home) else {
        bail!("no network in {}: run `testnet up` first", home.display())
    };
    let nodes = info.nodes(&home);
    if network::running_services(&home).iter().all(|s| nodes.iter().all(|n| n.name != s.name)) {
        bail!("the chain from {} is not running: run `testnet up` first", home.display());
    }
    let artifacts = build(contracts::BuildOptions { progress: true, ..Default::default() })?;
    let profile = ChainProfile::load(info.profiles_file.as_deref(), &info.profile_name)?;
    let chain = network::chain_config_of(&profile, &nodes);
    let client = arena_client::Client::connect(chain.clone()).await?;
    let path = Manifest::path(&home);
    let previous = Manifest::read(&path).ok();
    let contracts = deploy::deploy(&client, &artifacts, previous.as_ref()).await?;
    let p = info.ports;
    let evm_rpc = format!("http://127.0.0.1:{}", p.evm);
    let Some(bridge) = contracts.get("arena-bridge") else {
        bail!("the EVM settlement contract settles arena-bridge, which was not deployed");
    };
    let chain_id = &client.config().chain_id;
    let evm_contracts = deploy::deploy_evm(&evm_rpc, chain_id, &bridge.address, previous.as_ref()).await?;
    deploy::connect_bridge_to_evm(&client, &bridge.address, &evm_contracts[deploy::SETTLEMENT]).await?;
    let manifest = network::manifest_of(&info.profile_name, &profile, info.ports, &nodes, contracts, evm_contracts);
    manifest.write(&path)?;
    print!("{}", manifest.to_json());
    println!("manifest written to {}", path.display());
    Ok(())
}

fn accounts_list(home: &std::path::Path) -> anyhow::Result<()> {
    let prefix = network::read_info(home)
        .and_then(|i| ChainProfile::load(i.profiles_file.as_deref(), &i.profile_name).ok())
        .map_or_else(|| "inj".to_string(), |p| p.bech32_prefix);
    println!("mnemonic: {}", accounts::DEV_MNEMONIC);
    println!("Cosmos (m/44'/118'/0'/0/i, secp256k1):");
    for i in 0..accounts::COSMOS_ACCOUNTS {
        let role = if i == accounts::DEPLOYER { "  deployer, token minter" } else { "" };
        println!("  {i:>2} {}{role}", accounts::cosmos(i, &prefix)?.address());
    }
    println!("EVM (anvil's development accounts):");
    for (i, (addr, key)) in accounts::EVM_ADDRESSES.iter().zip(accounts::EVM_KEYS).enumerate() {
        println!("  {i:>2} {addr} {key}");
    }
    Ok(())
}

async fn balance(home: PathBuf, account: &str) -> anyhow::Result<()> {
    let manifest = Manifest::read(&Manifest::path(&home))?;
    let address = match account.parse::<u32>() {
        Ok(i) => accounts::cosmos(i, &manifest.chain.bech32_prefix)?.address().to_string(),
        Err(_) => account.to_string(),
    };
    let client = arena_client::Client::connect(manifest.chain.clone()).await?;
    let token = &manifest.contract("arena-token")?.address;
    let answer: cw20::BalanceResponse =
        client.query_contract(token, &cw20::Cw20QueryMsg::Balance { address: address.clone() }).await?;
    println!("{address}: {} ARENA-micro", answer.balance);
    Ok(())
}

async fn demo(opts: testnet::demo::DemoOptions) -> anyhow::Result<()> {
    let started = Instant::now();
    // Ctrl-C drops the demo's future, and with it every process it started.
    let report = tokio::select! {
        report = testnet::demo::run(&opts) => report?,
        _ = tokio::signal::ctrl_c() => bail!("interrupted: every process the demo started has been stopped"),
    };
    print!("{}", report.to_text());
    let (json, html) = testnet::demo::report_paths(&opts.home);
    println!("report: {} and {} ({:.0} s in all)", json.display(), html.display(), started.elapsed().as_secs_f64());
    if opts.keep_running {
        let home = opts.home.join("network");
        println!("the network keeps running; explore it with:");
        println!("  target/debug/testnet --home {} status", home.display());
        println!("  target/debug/gpu-worker status --config {}/trainer-strong.toml", opts.home.display());
        println!("  {} in a browser: the explorer (stopped with the network)", report.explorer_url);
        println!("  target/debug/testnet --home {} down", home.display());
    }
    Ok(())
}

/// A `TaskParams` JSON file; its `beacon` and `evaluation` (present or not) are placeholders
/// that the caller replaces with the fresh secret's anchor and the sealed shards.
fn params_file(file: &std::path::Path) -> anyhow::Result<arena_types::market::msg::TaskParams> {
    let mut json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(file)?)
        .with_context(|| format!("{} is not JSON", file.display()))?;
    if let Some(fields) = json.as_object_mut() {
        fields.insert("beacon".into(), serde_json::Value::String(hex::encode([0u8; 32])));
        fields.insert("evaluation".into(), serde_json::Value::Array(Vec::new()));
    }
    serde_json::from_value(json).with_context(|| format!("{} is not the market's TaskParams", file.display()))
}

async fn create_task(
    home: PathBuf,
    params: arena_types::market::msg::TaskParams,
    secret: &arena_client::BeaconSecret,
    keys: &arena_client::EvaluationKeys,
    pool: u128,
    creator: u32,
) -> anyhow::Result<()> {
    let manifest_path = Manifest::path(&home);
    let manifest = Manifest::read(&manifest_path)?;
    let client = arena_client::Client::connect(manifest.chain.clone()).await?;
    let market = arena_client::MarketClient::new(
        client,
        &manifest.contract("arena-market")?.address,
        &manifest.contract("arena-token")?.address,
    );
    let signer = accounts::cosmos(creator, &manifest.chain.bech32_prefix)?;
    // The secret and the keys are on disk before the task that needs them exists; they take the
    // task's name after.
    let tag = hex::encode(&params.beacon[..8]);
    let pending_secret = home.join(format!("pending-{tag}-beacon.secret"));
    let pending_keys = home.join(format!("pending-{tag}-eval.keys"));
    secret.write_new(&pending_secret)?;
    keys.write_new(&pending_keys)?;
    let (task_id, outcome) = match market.create_task(&signer, pool, params).await {
        Ok(created) => created,
        Err(e) => {
            std::fs::remove_file(&pending_secret).ok();
            std::fs::remove_file(&pending_keys).ok();
            return Err(e.into());
        }
    };
    let secret_file = arena_client::BeaconSecret::path_in(&home, task_id);
    let keys_file = arena_client::EvaluationKeys::path_in(&home, task_id);
    std::fs::rename(&pending_secret, &secret_file).with_context(|| format!("naming {}", secret_file.display()))?;
    std::fs::rename(&pending_keys, &keys_file).with_context(|| format!("naming {}", keys_file.display()))?;
    let task = market.task(task_id).await?;
    let (s, bond) = (&task.schedule, task.accounts.bond);
    println!("task {task_id} created by {} (tx {}, {} gas)", signer.address(), outcome.txhash, outcome.gas_used);
    println!("  training data   {} sha256 {}", task.params.training_data.uri, task.params.training_data.sha256);
    for (round, shard) in (1..).zip(&task.params.evaluation) {
        println!(
            "  round {round} shard   {} (sealed; plaintext sha256 {}), key due from height {} until {}",
            shard.uri,
            shard.sha256,
            s.commit_start(round),
            s.key_deadline(round)
        );
    }
    println!(
        "  {} rounds of {} + {} + {} + {} blocks (submission, model reveal, commit, reveal) from height {}; pool {pool}, bond {bond}",
        task.params.rounds, s.submission, s.model_reveal, s.commit, s.reveal, s.start
    );
    println!("  beacon secret   {} (mode 600; the creator node reveals it round by round)", secret_file.display());
    println!("  evaluation keys {} (mode 600; the creator node reveals each round's key on time)", keys_file.display());
    println!("next: run the creator: without it each round's sampling waits half a commit phase for its beacon,");
    println!("and a round whose key is not revealed by its deadline is void and forfeits its share of the bond.");
    println!("Save this as creator.toml and run `gpu-worker run --config creator.toml`:");
    let creator_config = arena_config::worker::NodeConfig::new(
        manifest_path.clone(),
        task_id,
        arena_config::worker::NodeRole::Creator,
        format!(".arena/creator-{task_id}").into(),
        arena_config::KeySource::DevnetAccount(creator),
    );
    for line in arena_config::to_toml(&creator_config).lines() {
        println!("  {line}");
    }
    println!("then start trainers and validators with `gpu-worker run --config <file>` (see gpu-worker/worker.example.toml, task_id = {task_id})");
    Ok(())
}
