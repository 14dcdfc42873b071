//! A Cosmos SDK chain with x/wasm, from empty folders to produced blocks: one validator (the
//! default, and the fastest to start), or several sharing one genesis (a gentx each, collected),
//! each node with its own home, ports and log, peered with all the others on 127.0.0.1.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::accounts;
use crate::error::TestnetError;
use crate::probe;
use crate::process::{self, Service};
use crate::profile::ChainProfile;

/// Loopback ports of the chain node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChainPorts {
    pub rpc: u16,
    pub grpc: u16,
    pub rest: u16,
    pub p2p: u16,
}

const VALIDATOR_KEY: &str = "validator";

/// The most validators a local network runs (each node takes 220–470 MB of memory).
pub const MAX_VALIDATORS: usize = 8;
/// The service name of each validator node; node 0 keeps the single-validator name `chain`.
pub const NODE_NAMES: [&str; MAX_VALIDATORS] =
    ["chain", "chain-1", "chain-2", "chain-3", "chain-4", "chain-5", "chain-6", "chain-7"];

/// Another validator a node keeps a connection to (CometBFT's `persistent_peers`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    /// CometBFT node id (hex of its P2P key's address).
    pub node_id: String,
    pub p2p: u16,
}

impl Peer {
    fn address(&self) -> String {
        format!("{}@127.0.0.1:{}", self.node_id, self.p2p)
    }
}

/// Runs the chain binary with the profile's library path and the given home.
fn node(profile: &ChainProfile, home: &Path) -> Result<Command, TestnetError> {
    let mut cmd = Command::new(profile.binary_path()?);
    if let Some(lib) = profile.library_path() {
        cmd.env("LD_LIBRARY_PATH", lib);
    }
    // The binary makes a scratch folder (`injectiveappNNN`) in the temp dir on every run and
    // leaves it behind when the node is killed; inside the home it goes when the network does.
    let scratch = home.join("tmp");
    std::fs::create_dir_all(&scratch).map_err(TestnetError::io(format!("creating {}", scratch.display())))?;
    cmd.env("TMPDIR", scratch);
    cmd.arg("--home").arg(home);
    Ok(cmd)
}

/// Creates the chain's home (keys, genesis with the funded test accounts, a validator) unless
/// it already holds a genesis, in which case the chain restarts on its existing state.
pub fn init(profile: &ChainProfile, home: &Path) -> Result<(), TestnetError> {
    if home.join("config/genesis.json").is_file() {
        return Ok(());
    }
    // Built in a scratch folder and renamed at the end, so a failed init leaves nothing that a
    // later start would mistake for a chain.
    let scratch = home.with_extension("init");
    let _ = std::fs::remove_dir_all(&scratch);
    init_into(profile, &scratch)?;
    std::fs::rename(&scratch, home).map_err(TestnetError::io(format!(
        "moving {} to {}",
        scratch.display(),
        home.display()
    )))
}

fn init_into(profile: &ChainProfile, home: &Path) -> Result<(), TestnetError> {
    let keyring = ["--keyring-backend", "test"];
    let chain_id = ["--chain-id", profile.chain_id.as_str()];
    process::run(node(profile, home)?.args(["init", "arena-devnet"]).args(chain_id))?;
    process::run(node(profile, home)?.args(["keys", "add", VALIDATOR_KEY]).args(keyring))?;
    let balance = format!("{}{}", profile.account_balance, profile.denom);
    process::run(
        node(profile, home)?
            .args(["genesis", "add-genesis-account", VALIDATOR_KEY, &balance])
            .args(keyring)
            .args(chain_id),
    )?;
    for i in 0..accounts::COSMOS_ACCOUNTS {
        let address = accounts::cosmos(i, &profile.bech32_prefix)?.address().to_string();
        process::run(
            node(profile, home)?
                .args(["genesis", "add-genesis-account", &address, &balance])
                .args(keyring)
                .args(chain_id),
        )?;
    }
    let genesis = home.join("config/genesis.json");
    edit_genesis(&genesis, &profile.denom)?;
    let stake = format!("{}{}", profile.validator_stake, profile.denom);
    process::run(node(profile, home)?.args(["genesis", "gentx", VALIDATOR_KEY, &stake]).args(keyring).args(chain_id))?;
    process::run(node(profile, home)?.args(["genesis", "collect-gentxs"]))?;
    Ok(())
}

/// Creates the homes of `powers.len()` validators that share one genesis: each node gets its own
/// key and node key, genesis funds every validator (its stake on top of a test account's balance)
/// and the test accounts, each validator signs a gentx self-delegating `validator_stake` times its
/// power, and node 0 collects them into the genesis every node then starts from. Homes that all
/// hold a genesis already are left alone (a restart). One home is exactly [`init`].
pub fn init_validators(profile: &ChainProfile, homes: &[PathBuf], powers: &[u64]) -> Result<(), TestnetError> {
    assert_eq!(homes.len(), powers.len(), "one power per validator home");
    if let [home] = homes {
        return init(profile, home);
    }
    let existing = homes.iter().filter(|h| h.join("config/genesis.json").is_file()).count();
    if existing == homes.len() {
        return Ok(());
    }
    if existing > 0 {
        return Err(TestnetError::Profile(format!(
            "{} of the {} validator homes ({}, ...) already hold a chain: it was started with another number of \
             validators. Start it as it was, or `testnet down --wipe` to begin from a new genesis",
            existing,
            homes.len(),
            homes[0].display()
        )));
    }
    let scratch: Vec<PathBuf> = homes.iter().map(|h| h.with_extension("init")).collect();
    for s in &scratch {
        let _ = std::fs::remove_dir_all(s);
    }
    init_validators_into(profile, &scratch, powers)?;
    for (s, home) in scratch.iter().zip(homes) {
        let _ = std::fs::remove_dir_all(home);
        std::fs::rename(s, home).map_err(TestnetError::io(format!("moving {} to {}", s.display(), home.display())))?;
    }
    Ok(())
}

fn init_validators_into(profile: &ChainProfile, homes: &[PathBuf], powers: &[u64]) -> Result<(), TestnetError> {
    let keyring = ["--keyring-backend", "test"];
    let chain_id = ["--chain-id", profile.chain_id.as_str()];
    let amount = |what: &str, value: &str| {
        value.parse::<u128>().map_err(|e| TestnetError::Profile(format!("{what} {value:?} is not an integer: {e}")))
    };
    let (balance, stake) =
        (amount("account_balance", &profile.account_balance)?, amount("validator_stake", &profile.validator_stake)?);
    let stakes: Vec<u128> = powers.iter().map(|&p| stake * u128::from(p.max(1))).collect();
    let mut addresses = Vec::new();
    for (i, home) in homes.iter().enumerate() {
        process::run(node(profile, home)?.args(["init", &format!("arena-node-{i}")]).args(chain_id))?;
        process::run(node(profile, home)?.args(["keys", "add", VALIDATOR_KEY]).args(keyring))?;
        let address = process::run(node(profile, home)?.args(["keys", "show", VALIDATOR_KEY, "-a"]).args(keyring))?;
        addresses.push(address.trim().to_string());
        node_id(profile, home)?;
    }
    let first = &homes[0];
    let add_account = |address: &str, amount: u128| {
        process::run(
            node(profile, first)?
                .args(["genesis", "add-genesis-account", address, &format!("{amount}{}", profile.denom)])
                .args(keyring)
                .args(chain_id),
        )
    };
    for (address, stake) in addresses.iter().zip(&stakes) {
        add_account(address, balance + stake)?;
    }
    for i in 0..accounts::COSMOS_ACCOUNTS {
        add_account(accounts::cosmos(i, &profile.bech32_prefix)?.address().as_ref(), balance)?;
    }
    let genesis = first.join("config/genesis.json");
    edit_genesis(&genesis, &profile.denom)?;
    let gentx_dir = first.join("config/gentx");
    std::fs::create_dir_all(&gentx_dir).map_err(TestnetError::io(format!("creating {}", gentx_dir.display())))?;
    for (i, (home, stake)) in homes.iter().zip(&stakes).enumerate() {
        let stake = format!("{stake}{}", profile.denom);
        if i > 0 {
            copy(&genesis, &home.join("config/genesis.json"))?;
        }
        let out = home.join(format!("gentx-{i}.json"));
        process::run(
            node(profile, home)?
                .args(["genesis", "gentx", VALIDATOR_KEY, &stake])
                .args(keyring)
                .args(chain_id)
                .arg("--output-document")
                .arg(&out),
        )?;
        copy(&out, &gentx_dir.join(format!("gentx-{i}.json")))?;
    }
    process::run(node(profile, first)?.args(["genesis", "collect-gentxs"]))?;
    for home in &homes[1..] {
        copy(&genesis, &home.join("config/genesis.json"))?;
    }
    Ok(())
}

fn copy(from: &Path, to: &Path) -> Result<(), TestnetError> {
    std::fs::copy(from, to).map(drop).map_err(TestnetError::io(format!(
        "copying {} to {}",
        from.display(),
        to.display()
    )))
}

/// The node's CometBFT id, asked of the binary once and kept in `<home>/node_id`.
pub fn node_id(profile: &ChainProfile, home: &Path) -> Result<String, TestnetError> {
    let file = home.join("node_id");
    if let Ok(id) = std::fs::read_to_string(&file) {
        return Ok(id.trim().to_string());
    }
    let id = process::run(node(profile, home)?.args(["comet", "show-node-id"]))?.trim().to_string();
    std::fs::write(&file, &id).map_err(TestnetError::io(format!("writing {}", file.display())))?;
    Ok(id)
}

/// Genesis for a devnet: every `"stake"` denom becomes the profile's, code upload is open to
/// everybody, and blocks have no gas limit (the default 10M fits only ~4 large code stores).
fn edit_genesis(path: &Path, denom: &str) -> Result<(), TestnetError> {
    let text = std::fs::read_to_string(path).map_err(TestnetError::io(format!("reading {}", path.display())))?;
    let mut genesis: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| TestnetError::Profile(format!("genesis: {e}")))?;
    replace_string_values(&mut genesis, "stake", denom);
    if let Some(params) = genesis.pointer_mut("/app_state/wasm/params") {
        params["code_upload_access"] = serde_json::json!({ "permission": "Everybody", "addresses": [] });
        params["instantiate_default_permission"] = "Everybody".into();
    }
    for pointer in ["/consensus/params/block", "/consensus_params/block"] {
        if let Some(block) = genesis.pointer_mut(pointer) {
            block["max_gas"] = "-1".into();
        }
    }
    let text = serde_json::to_string_pretty(&genesis).expect("JSON values serialize");
    std::fs::write(path, text).map_err(TestnetError::io(format!("writing {}", path.display())))
}

fn replace_string_values(value: &mut serde_json::Value, from: &str, to: &str) {
    match value {
        serde_json::Value::String(s) if s == from => *s = to.to_string(),
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| replace_string_values(v, from, to)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| replace_string_values(v, from, to)),
        _ => {}
    }
}

/// Points every listener at 127.0.0.1 on the given ports, sets the minimum gas price, and (with
/// several validators) the peers. Applied at every start, so a restart may move the ports.
fn configure(profile: &ChainProfile, home: &Path, ports: ChainPorts, peers: &[Peer]) -> Result<(), TestnetError> {
    edit_toml(&home.join("config/app.toml"), |app| {
        app.insert("minimum-gas-prices".into(), profile.gas_price.to_string().into());
        set(app, "api", "enable", true.into());
        set(app, "api", "address", format!("tcp://127.0.0.1:{}", ports.rest).into());
        set(app, "grpc", "enable", true.into());
        set(app, "grpc", "address", format!("127.0.0.1:{}", ports.grpc).into());
        for section in &profile.disable_app_sections {
            if app.contains_key(section) {
                set(app, section, "enable", false.into());
            }
        }
    })?;
    edit_toml(&home.join("config/config.toml"), |config| {
        set(config, "rpc", "laddr", format!("tcp://127.0.0.1:{}", ports.rpc).into());
        set(config, "rpc", "pprof_laddr", "".into());
        set(config, "p2p", "laddr", format!("tcp://127.0.0.1:{}", ports.p2p).into());
        // Chains that honour it (wasmd) get ~0.2 s blocks this way; injectived needs its flag.
        set(config, "consensus", "timeout_commit", "200ms".into());
        if !peers.is_empty() {
            let peers: Vec<String> = peers.iter().map(Peer::address).collect();
            set(config, "p2p", "persistent_peers", peers.join(",").into());
            // All peers are on 127.0.0.1: CometBFT refuses local and same-IP peers by default.
            set(config, "p2p", "addr_book_strict", false.into());
            set(config, "p2p", "allow_duplicate_ip", true.into());
            // A proposer that is down costs this long per round it would have led (default 3 s).
            set(config, "consensus", "timeout_propose", "1s".into());
            // Redial a restarted peer within a second or two rather than after a long back-off.
            set(config, "p2p", "persistent_peers_max_dial_period", "2s".into());
        }
    })
}

fn set(table: &mut toml::Table, section: &str, key: &str, value: toml::Value) {
    let entry = table.entry(section.to_string()).or_insert_with(|| toml::Value::Table(Default::default()));
    if let Some(t) = entry.as_table_mut() {
        t.insert(key.to_string(), value);
    }
}

fn edit_toml(path: &Path, edit: impl FnOnce(&mut toml::Table)) -> Result<(), TestnetError> {
    let text = std::fs::read_to_string(path).map_err(TestnetError::io(format!("reading {}", path.display())))?;
    let mut table: toml::Table = text.parse().map_err(|e| TestnetError::Profile(format!("{}: {e}", path.display())))?;
    edit(&mut table);
    std::fs::write(path, toml::to_string(&table).expect("TOML tables serialize"))
        .map_err(TestnetError::io(format!("writing {}", path.display())))
}

/// Starts the node and waits for its first blocks and its gRPC port.
pub fn start(profile: &ChainProfile, home: &Path, ports: ChainPorts) -> Result<Service, TestnetError> {
    let mut service = spawn(profile, home, ports, &[], NODE_NAMES[0])?;
    wait_ready(&mut service, ports)?;
    Ok(service)
}

/// Starts a node without waiting for it: validators of a chain that needs more than two thirds
/// of its power online are all spawned first, then waited for.
pub fn spawn(
    profile: &ChainProfile,
    home: &Path,
    ports: ChainPorts,
    peers: &[Peer],
    name: &'static str,
) -> Result<Service, TestnetError> {
    for (port, what) in
        [(ports.rpc, "chain RPC"), (ports.grpc, "chain gRPC"), (ports.rest, "chain REST"), (ports.p2p, "chain P2P")]
    {
        process::ensure_port_free(port, what)?;
    }
    configure(profile, home, ports, peers)?;
    let mut command = node(profile, home)?;
    command.arg("start").args(&profile.start_args);
    Service::spawn(name, command, log_path(home), pid_path(home))
}

/// Waits until a spawned node produces (or follows) blocks with its gRPC up. After a restart
/// CometBFT reports the old height at once, before the app answers queries, so this waits for a
/// height this process reached.
pub fn wait_ready(service: &mut Service, ports: ChainPorts) -> Result<(), TestnetError> {
    let mut first_seen = None;
    process::wait_until(service, "chain node", Duration::from_secs(60), || {
        let Some(height) = probe::comet_height(ports.rpc) else { return false };
        let first = *first_seen.get_or_insert(height);
        height > first && height >= 2 && std::net::TcpStream::connect(("127.0.0.1", ports.grpc)).is_ok()
    })
}

pub fn log_path(home: &Path) -> PathBuf {
    home.join("node.log")
}

pub fn pid_path(home: &Path) -> PathBuf {
    home.join("node.pid")
}
