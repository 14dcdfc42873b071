//! A single-validator Cosmos SDK chain with x/wasm, from an empty folder to produced blocks.

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

/// Runs the chain binary with the profile's library path and the given home.
fn node(profile: &ChainProfile, home: &Path) -> Result<Command, TestnetError> {
    let mut cmd = Command::new(profile.binary_path()?);
    if let Some(lib) = profile.library_path() {
        cmd.env("LD_LIBRARY_PATH", lib);
    }
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

/// Points every listener at 127.0.0.1 on the given ports and sets the minimum gas price.
/// Applied at every start, so a restart may move the ports.
fn configure(profile: &ChainProfile, home: &Path, ports: ChainPorts) -> Result<(), TestnetError> {
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
    for (port, what) in
        [(ports.rpc, "chain RPC"), (ports.grpc, "chain gRPC"), (ports.rest, "chain REST"), (ports.p2p, "chain P2P")]
    {
        process::ensure_port_free(port, what)?;
    }
    configure(profile, home, ports)?;
    let mut command = node(profile, home)?;
    command.arg("start").args(&profile.start_args);
    let mut service = Service::spawn("chain", command, log_path(home), pid_path(home))?;
    // Ready means producing blocks with gRPC up. After a restart CometBFT reports the old height
    // at once, before the app answers queries, so wait for a height this process produced.
    let mut first_seen = None;
    process::wait_until(&mut service, "chain node", Duration::from_secs(60), || {
        let Some(height) = probe::comet_height(ports.rpc) else { return false };
        let first = *first_seen.get_or_insert(height);
        height > first && height >= 2 && std::net::TcpStream::connect(("127.0.0.1", ports.grpc)).is_ok()
    })?;
    Ok(service)
}

pub fn log_path(home: &Path) -> PathBuf {
    home.join("node.log")
}

pub fn pid_path(home: &Path) -> PathBuf {
    home.join("node.pid")
}
