//! anvil, standing in for Base Sepolia (same chain id, 84532).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::accounts::DEV_MNEMONIC;
use crate::error::TestnetError;
use crate::probe;
use crate::process::{self, Service};
use crate::repo;

/// Base Sepolia's chain id.
pub const BASE_SEPOLIA_CHAIN_ID: u64 = 84532;

/// Starts anvil on 127.0.0.1:`port` with one-second blocks and waits until it answers.
pub fn start(home: &Path, port: u16) -> Result<Service, TestnetError> {
    let anvil = repo::node_bin("anvil");
    if !anvil.is_file() {
        return Err(TestnetError::ToolMissing {
            tool: "anvil",
            path: anvil,
            hint: "Run scripts/setup.sh (it runs `npm ci`, which installs anvil from npm)",
        });
    }
    process::ensure_port_free(port, "EVM JSON-RPC")?;
    std::fs::create_dir_all(home).map_err(TestnetError::io(format!("creating {}", home.display())))?;
    let mut command = Command::new(anvil);
    command
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--chain-id", &BASE_SEPOLIA_CHAIN_ID.to_string()])
        .args(["--mnemonic", DEV_MNEMONIC, "--block-time", "1"])
        // Keeps the chain's state across `testnet down` / `up`, like the Cosmos node's.
        .arg("--state")
        .arg(home.join("anvil-state.json"));
    let mut service = Service::spawn("evm", command, log_path(home), pid_path(home))?;
    process::wait_until(&mut service, "anvil", Duration::from_secs(30), || {
        probe::evm_chain_id(port) == Some(BASE_SEPOLIA_CHAIN_ID)
    })?;
    Ok(service)
}

pub fn log_path(home: &Path) -> PathBuf {
    home.join("anvil.log")
}

pub fn pid_path(home: &Path) -> PathBuf {
    home.join("anvil.pid")
}
