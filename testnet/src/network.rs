//! The whole local network: the Cosmos chain and the EVM node, started and stopped together.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use arena_client::manifest::{DeployedContract, Endpoints, EvmDeployment, Manifest};
use arena_client::ChainConfig;
use serde::{Deserialize, Serialize};

use crate::chain::{self, ChainPorts};
use crate::error::TestnetError;
use crate::evm;
use crate::process::Service;
use crate::profile::{ChainProfile, DEFAULT_PROFILE};

/// Every loopback port the network listens on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ports {
    pub chain: ChainPorts,
    pub evm: u16,
}

impl Default for Ports {
    /// The documented defaults: RPC 26657, gRPC 9090, REST 1317, P2P 26656, EVM 8545.
    fn default() -> Self {
        Ports { chain: ChainPorts { rpc: 26657, grpc: 9090, rest: 1317, p2p: 26656 }, evm: 8545 }
    }
}

impl Ports {
    /// Free ports that no other network on this machine is handed out meanwhile (see
    /// [`free_ports`](crate::process::free_ports)), so that several test networks run side by side.
    pub fn free() -> Result<Self, TestnetError> {
        let p = crate::process::free_ports(5)?;
        Ok(Ports { chain: ChainPorts { rpc: p[0], grpc: p[1], rest: p[2], p2p: p[3] }, evm: p[4] })
    }
}

/// What to start, and where.
#[derive(Clone, Debug)]
pub struct NetworkConfig {
    /// Holds `chain/` (the node's home), `evm/` (anvil's), `network.json` and `manifest.json`.
    pub home: PathBuf,
    pub profile_name: String,
    /// A profiles file other than the shipped one.
    pub profiles_file: Option<PathBuf>,
    pub ports: Ports,
}

impl NetworkConfig {
    pub fn new(home: impl Into<PathBuf>, ports: Ports) -> Self {
        NetworkConfig { home: home.into(), profile_name: DEFAULT_PROFILE.into(), profiles_file: None, ports }
    }
}

/// What `testnet up` leaves in the home so that later commands find the running network.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NetworkInfo {
    pub profile_name: String,
    pub profiles_file: Option<PathBuf>,
    pub ports: Ports,
}

/// A running network. Dropping it stops both nodes, unless it was [detached](Network::detach).
#[derive(Debug)]
pub struct Network {
    pub home: PathBuf,
    pub profile_name: String,
    pub profile: ChainProfile,
    pub ports: Ports,
    chain: Option<Service>,
    evm: Option<Service>,
}

impl Network {
    /// Starts (or restarts, on existing state) the chain and the EVM node.
    pub fn start(config: &NetworkConfig) -> Result<Self, TestnetError> {
        if let Some((what, pid)) = running_service(&config.home) {
            return Err(TestnetError::AlreadyRunning { home: config.home.clone(), what, pid });
        }
        let profile = ChainProfile::load(config.profiles_file.as_deref(), &config.profile_name)?;
        let chain_home = config.home.join("chain");
        std::fs::create_dir_all(&config.home)
            .map_err(TestnetError::io(format!("creating {}", config.home.display())))?;
        tracing::info!(home = %config.home.display(), profile = %config.profile_name, "starting network");
        chain::init(&profile, &chain_home)?;
        let evm = evm::start(&config.home.join("evm"), config.ports.evm)?;
        let chain = chain::start(&profile, &chain_home, config.ports.chain)?;
        let info = NetworkInfo {
            profile_name: config.profile_name.clone(),
            profiles_file: config.profiles_file.clone(),
            ports: config.ports,
        };
        std::fs::write(info_path(&config.home), serde_json::to_string_pretty(&info).expect("serializable"))
            .map_err(TestnetError::io("writing network.json"))?;
        Ok(Network {
            home: config.home.clone(),
            profile_name: config.profile_name.clone(),
            profile,
            ports: config.ports,
            chain: Some(chain),
            evm: Some(evm),
        })
    }

    /// How clients reach this network's chain.
    pub fn chain_config(&self) -> ChainConfig {
        chain_config(&self.profile, self.ports)
    }

    /// The manifest of `contracts` deployed on this network.
    pub fn manifest(
        &self,
        contracts: BTreeMap<String, DeployedContract>,
        evm_contracts: BTreeMap<String, String>,
    ) -> Manifest {
        manifest(&self.profile_name, &self.profile, self.ports, contracts, evm_contracts)
    }

    /// The chain node's CometBFT RPC (its websocket is `<this>/websocket`).
    pub fn rpc_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.chain.rpc)
    }

    pub fn evm_rpc_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.evm)
    }

    /// Stops both nodes and waits for their clean exit.
    pub fn stop(mut self) -> Result<(), TestnetError> {
        if let Some(chain) = self.chain.take() {
            chain.stop(Duration::from_secs(15))?;
        }
        if let Some(evm) = self.evm.take() {
            evm.stop(Duration::from_secs(5))?;
        }
        Ok(())
    }

    /// Leaves both nodes running after this handle is gone; `testnet down` stops them by PID.
    pub fn detach(mut self) {
        self.chain.take().into_iter().chain(self.evm.take()).for_each(Service::detach);
    }

    /// Kills the chain node with SIGKILL and starts it again on its state, as a crash would.
    pub fn restart_chain(&mut self) -> Result<(), TestnetError> {
        let chain_home = self.home.join("chain");
        if let Some(old) = self.chain.take() {
            old.kill();
        }
        self.chain = Some(chain::start(&self.profile, &chain_home, self.ports.chain)?);
        Ok(())
    }
}

/// The manifest of contracts deployed on a network with this profile and these ports.
pub fn manifest(
    profile_name: &str,
    profile: &ChainProfile,
    ports: Ports,
    contracts: BTreeMap<String, DeployedContract>,
    evm_contracts: BTreeMap<String, String>,
) -> Manifest {
    let chain = chain_config(profile, ports);
    Manifest {
        profile: profile_name.to_string(),
        denom: profile.denom.clone(),
        endpoints: Endpoints {
            rpc: format!("http://127.0.0.1:{}", ports.chain.rpc),
            grpc: chain.grpc_url.clone(),
            rest: format!("http://127.0.0.1:{}", ports.chain.rest),
            evm_rpc: format!("http://127.0.0.1:{}", ports.evm),
        },
        chain,
        contracts,
        evm: EvmDeployment { chain_id: evm::BASE_SEPOLIA_CHAIN_ID, contracts: evm_contracts },
    }
}

pub fn chain_config(profile: &ChainProfile, ports: Ports) -> ChainConfig {
    ChainConfig {
        chain_id: profile.chain_id.clone(),
        grpc_url: format!("http://127.0.0.1:{}", ports.chain.grpc),
        bech32_prefix: profile.bech32_prefix.clone(),
        gas_price: profile.gas_price.clone(),
        gas_adjustment: ChainConfig::DEFAULT_GAS_ADJUSTMENT,
        inclusion_timeout: Duration::from_secs(30),
    }
}

fn info_path(home: &Path) -> PathBuf {
    home.join("network.json")
}

/// The network recorded in `home` by an earlier start, if any.
pub fn read_info(home: &Path) -> Option<NetworkInfo> {
    serde_json::from_str(&std::fs::read_to_string(info_path(home)).ok()?).ok()
}

/// Where an explorer started for this network (`testnet demo` starts one) keeps its pid, so that
/// `testnet down` stops it with the network.
pub fn explorer_pid_path(home: &Path) -> PathBuf {
    home.join("explorer.pid")
}

/// The log of the explorer started for this network.
pub fn explorer_log_path(home: &Path) -> PathBuf {
    home.join("explorer.log")
}

/// The services of a network started earlier from `home` that are still running.
pub fn running_services(home: &Path) -> Vec<Service> {
    let chain_home = home.join("chain");
    let evm_home = home.join("evm");
    [
        Service::from_pid_file("chain", chain::pid_path(&chain_home), chain::log_path(&chain_home)),
        Service::from_pid_file("evm", evm::pid_path(&evm_home), evm::log_path(&evm_home)),
        Service::from_pid_file("explorer", explorer_pid_path(home), explorer_log_path(home)),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn running_service(home: &Path) -> Option<(&'static str, u32)> {
    running_services(home).into_iter().next().map(|s| (s.name, s.pid))
}
