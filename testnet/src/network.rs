//! The whole local network: the Cosmos chain's validators and the EVM node, started and stopped
//! together; single validators killed, stopped and started again for fault tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use arena_client::manifest::{DeployedContract, Endpoints, EvmDeployment, Manifest, NodeEndpoints};
use arena_client::ChainConfig;
use serde::{Deserialize, Serialize};

use crate::chain::{self, ChainPorts, Peer};
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

/// The chain's validators: how many, their voting power, and the ports of all but the first
/// (which listens on [`Ports::chain`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validators {
    /// Voting power of each validator, node 0 first; its length is the number of validators.
    /// Each validator self-delegates the profile's `validator_stake` times its power.
    pub powers: Vec<u64>,
    /// Ports of nodes 1, 2, ... (node 0 uses [`Ports::chain`]).
    pub more_ports: Vec<ChainPorts>,
}

impl Default for Validators {
    /// One validator: the fastest network to start, and the one every test used before.
    fn default() -> Self {
        Validators { powers: vec![1], more_ports: Vec::new() }
    }
}

impl Validators {
    /// `powers.len()` validators, those after the first on free ports (see [`Ports::free`]).
    pub fn free(powers: Vec<u64>) -> Result<Self, TestnetError> {
        let n = powers.len();
        if n == 0 || n > chain::MAX_VALIDATORS || powers.contains(&0) {
            return Err(TestnetError::Profile(format!(
                "validators: {n} with powers {powers:?}; 1 to {} validators, each with a power of at least 1",
                chain::MAX_VALIDATORS
            )));
        }
        let p = crate::process::free_ports(4 * (n - 1))?;
        let more_ports = p.chunks(4).map(|c| ChainPorts { rpc: c[0], grpc: c[1], rest: c[2], p2p: c[3] }).collect();
        Ok(Validators { powers, more_ports })
    }

    /// `n` validators of equal power.
    pub fn equal(n: usize) -> Result<Self, TestnetError> {
        Self::free(vec![1; n])
    }

    pub fn count(&self) -> usize {
        self.powers.len()
    }
}

/// What to start, and where.
#[derive(Clone, Debug)]
pub struct NetworkConfig {
    /// Holds `chain/` (node 0's home; node i's is `chain-i/`), `evm/` (anvil's), `network.json`
    /// and `manifest.json`.
    pub home: PathBuf,
    pub profile_name: String,
    /// A profiles file other than the shipped one.
    pub profiles_file: Option<PathBuf>,
    pub ports: Ports,
    pub validators: Validators,
}

impl NetworkConfig {
    pub fn new(home: impl Into<PathBuf>, ports: Ports) -> Self {
        NetworkConfig {
            home: home.into(),
            profile_name: DEFAULT_PROFILE.into(),
            profiles_file: None,
            ports,
            validators: Validators::default(),
        }
    }
}

/// What `testnet up` leaves in the home so that later commands find the running network.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NetworkInfo {
    pub profile_name: String,
    pub profiles_file: Option<PathBuf>,
    pub ports: Ports,
    /// Absent in the files of networks started before several validators existed: one.
    #[serde(default)]
    pub validators: Validators,
}

impl NetworkInfo {
    /// Every validator node, node 0 first.
    pub fn nodes(&self, home: &Path) -> Vec<ChainNode> {
        chain_nodes(home, self.ports, &self.validators)
    }
}

/// One validator node of the network's chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainNode {
    pub index: usize,
    /// The service name: `chain` for node 0, `chain-<i>` for the others.
    pub name: &'static str,
    pub home: PathBuf,
    pub ports: ChainPorts,
    pub power: u64,
}

impl ChainNode {
    pub fn rpc_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.rpc)
    }

    pub fn grpc_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.grpc)
    }

    pub fn rest_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.rest)
    }
}

/// The home of validator node `index` in a network home.
pub fn node_home(home: &Path, index: usize) -> PathBuf {
    home.join(chain::NODE_NAMES[index])
}

fn chain_nodes(home: &Path, ports: Ports, validators: &Validators) -> Vec<ChainNode> {
    let all_ports = std::iter::once(ports.chain).chain(validators.more_ports.iter().copied());
    all_ports
        .zip(&validators.powers)
        .enumerate()
        .map(|(index, (ports, &power))| ChainNode {
            index,
            name: chain::NODE_NAMES[index],
            home: node_home(home, index),
            ports,
            power,
        })
        .collect()
}

/// Spawns validator `index` of `nodes`, peered with all the others, without waiting for it.
pub fn spawn_node(profile: &ChainProfile, nodes: &[ChainNode], index: usize) -> Result<Service, TestnetError> {
    let node = &nodes[index];
    if nodes.len() == 1 {
        return chain::spawn(profile, &node.home, node.ports, &[], node.name);
    }
    let mut peers = Vec::with_capacity(nodes.len() - 1);
    for other in nodes.iter().filter(|n| n.index != index) {
        peers.push(Peer { node_id: chain::node_id(profile, &other.home)?, p2p: other.ports.p2p });
    }
    chain::spawn(profile, &node.home, node.ports, &peers, node.name)
}

/// A running network. Dropping it stops every node, unless it was [detached](Network::detach).
#[derive(Debug)]
pub struct Network {
    pub home: PathBuf,
    pub profile_name: String,
    pub profile: ChainProfile,
    pub ports: Ports,
    /// Every validator node, node 0 first.
    pub nodes: Vec<ChainNode>,
    /// The running process of each node (None while it is stopped or killed).
    chain: Vec<Option<Service>>,
    evm: Option<Service>,
}

impl Network {
    /// Starts (or restarts, on existing state) the chain's validators and the EVM node. Every
    /// validator is spawned before any is waited for: blocks need more than two thirds of the
    /// voting power online.
    pub fn start(config: &NetworkConfig) -> Result<Self, TestnetError> {
        if let Some((what, pid)) = running_service(&config.home) {
            return Err(TestnetError::AlreadyRunning { home: config.home.clone(), what, pid });
        }
        if let Some(previous) = read_info(&config.home) {
            let (had, asked) = (previous.validators.count(), config.validators.count());
            if had != asked && node_home(&config.home, 0).join("config/genesis.json").is_file() {
                return Err(TestnetError::Profile(format!(
                    "{} holds a chain of {had} validator(s), not {asked}: start it with `--validators {had}`, or \
                     `testnet down --wipe` to begin from a new genesis",
                    config.home.display()
                )));
            }
        }
        let profile = ChainProfile::load(config.profiles_file.as_deref(), &config.profile_name)?;
        let nodes = chain_nodes(&config.home, config.ports, &config.validators);
        if nodes.len() != config.validators.count() {
            return Err(TestnetError::Profile(format!(
                "{} validator powers but ports for {}",
                config.validators.count(),
                nodes.len()
            )));
        }
        std::fs::create_dir_all(&config.home)
            .map_err(TestnetError::io(format!("creating {}", config.home.display())))?;
        tracing::info!(home = %config.home.display(), profile = %config.profile_name, validators = nodes.len(), "starting network");
        let homes: Vec<PathBuf> = nodes.iter().map(|n| n.home.clone()).collect();
        chain::init_validators(&profile, &homes, &config.validators.powers)?;
        let evm = evm::start(&config.home.join("evm"), config.ports.evm)?;
        let mut chain = Vec::with_capacity(nodes.len());
        for i in 0..nodes.len() {
            chain.push(Some(spawn_node(&profile, &nodes, i)?));
        }
        for (service, node) in chain.iter_mut().zip(&nodes) {
            chain::wait_ready(service.as_mut().expect("just spawned"), node.ports)?;
        }
        let info = NetworkInfo {
            profile_name: config.profile_name.clone(),
            profiles_file: config.profiles_file.clone(),
            ports: config.ports,
            validators: config.validators.clone(),
        };
        std::fs::write(info_path(&config.home), serde_json::to_string_pretty(&info).expect("serializable"))
            .map_err(TestnetError::io("writing network.json"))?;
        Ok(Network {
            home: config.home.clone(),
            profile_name: config.profile_name.clone(),
            profile,
            ports: config.ports,
            nodes,
            chain,
            evm: Some(evm),
        })
    }

    /// How clients reach this network's chain: node 0 first, then every other validator.
    pub fn chain_config(&self) -> ChainConfig {
        chain_config_of(&self.profile, &self.nodes)
    }

    /// The manifest of `contracts` deployed on this network.
    pub fn manifest(
        &self,
        contracts: BTreeMap<String, DeployedContract>,
        evm_contracts: BTreeMap<String, String>,
    ) -> Manifest {
        manifest_of(&self.profile_name, &self.profile, self.ports, &self.nodes, contracts, evm_contracts)
    }

    /// Node 0's CometBFT RPC (its websocket is `<this>/websocket`).
    pub fn rpc_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.chain.rpc)
    }

    /// Every validator's CometBFT RPC, node 0 first.
    pub fn rpc_urls(&self) -> Vec<String> {
        self.nodes.iter().map(ChainNode::rpc_url).collect()
    }

    pub fn evm_rpc_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.evm)
    }

    /// Stops every node and waits for their clean exit.
    pub fn stop(mut self) -> Result<(), TestnetError> {
        for node in self.chain.iter_mut() {
            if let Some(service) = node.take() {
                service.stop(Duration::from_secs(15))?;
            }
        }
        if let Some(evm) = self.evm.take() {
            evm.stop(Duration::from_secs(5))?;
        }
        Ok(())
    }

    /// Leaves every node running after this handle is gone; `testnet down` stops them by PID.
    pub fn detach(mut self) {
        self.chain.iter_mut().filter_map(Option::take).chain(self.evm.take()).for_each(Service::detach);
    }

    /// Kills node 0 with SIGKILL and starts it again on its state, as a crash would.
    pub fn restart_chain(&mut self) -> Result<(), TestnetError> {
        self.kill_node(0);
        self.start_node(0)
    }

    /// SIGKILLs validator `index`, as a crash would (nothing if it is not running).
    pub fn kill_node(&mut self, index: usize) {
        if let Some(service) = self.chain[index].take() {
            service.kill();
        }
    }

    /// Stops validator `index` cleanly (SIGTERM, then SIGKILL after 15 s).
    pub fn stop_node(&mut self, index: usize) -> Result<(), TestnetError> {
        match self.chain[index].take() {
            Some(service) => service.stop(Duration::from_secs(15)),
            None => Ok(()),
        }
    }

    /// Starts validator `index` again on its state and waits until it follows the chain (with
    /// too little voting power online, until blocks resume: up to a minute).
    pub fn start_node(&mut self, index: usize) -> Result<(), TestnetError> {
        self.kill_node(index);
        let mut service = spawn_node(&self.profile, &self.nodes, index)?;
        chain::wait_ready(&mut service, self.nodes[index].ports)?;
        self.chain[index] = Some(service);
        Ok(())
    }

    /// Starts validator `index` without waiting for it (a node whose restart alone cannot bring
    /// back blocks is waited for with [`Network::wait_node`] once others are up too).
    pub fn spawn_node(&mut self, index: usize) -> Result<(), TestnetError> {
        self.kill_node(index);
        self.chain[index] = Some(spawn_node(&self.profile, &self.nodes, index)?);
        Ok(())
    }

    /// Waits until a spawned validator follows the chain.
    pub fn wait_node(&mut self, index: usize) -> Result<(), TestnetError> {
        let ports = self.nodes[index].ports;
        match self.chain[index].as_mut() {
            Some(service) => chain::wait_ready(service, ports),
            None => Err(TestnetError::Exited {
                what: self.nodes[index].name.into(),
                log: chain::log_path(&self.nodes[index].home),
            }),
        }
    }

    /// Whether validator `index`'s process runs.
    pub fn node_running(&mut self, index: usize) -> bool {
        self.chain[index].as_mut().is_some_and(Service::is_running)
    }

    /// Validator `index`'s latest height as its RPC reports it (None if it does not answer).
    pub fn node_height(&self, index: usize) -> Option<u64> {
        crate::probe::comet_height(self.nodes[index].ports.rpc)
    }
}

/// The manifest of contracts deployed on a single-validator network with these ports.
pub fn manifest(
    profile_name: &str,
    profile: &ChainProfile,
    ports: Ports,
    contracts: BTreeMap<String, DeployedContract>,
    evm_contracts: BTreeMap<String, String>,
) -> Manifest {
    let nodes = chain_nodes(Path::new(""), ports, &Validators::default());
    manifest_of(profile_name, profile, ports, &nodes, contracts, evm_contracts)
}

/// The manifest of contracts deployed on a network of these validator `nodes`: the single
/// endpoint fields name node 0 (what readers before several validators read); `endpoints.nodes`
/// and `chain.grpc_urls` list every node when there is more than one.
pub fn manifest_of(
    profile_name: &str,
    profile: &ChainProfile,
    ports: Ports,
    nodes: &[ChainNode],
    contracts: BTreeMap<String, DeployedContract>,
    evm_contracts: BTreeMap<String, String>,
) -> Manifest {
    let chain = chain_config_of(profile, nodes);
    let endpoints = |n: &ChainNode| NodeEndpoints { rpc: n.rpc_url(), grpc: n.grpc_url(), rest: n.rest_url() };
    Manifest {
        profile: profile_name.to_string(),
        denom: profile.denom.clone(),
        endpoints: Endpoints {
            rpc: format!("http://127.0.0.1:{}", ports.chain.rpc),
            grpc: chain.grpc_url.clone(),
            rest: format!("http://127.0.0.1:{}", ports.chain.rest),
            evm_rpc: format!("http://127.0.0.1:{}", ports.evm),
            nodes: if nodes.len() > 1 { nodes.iter().map(endpoints).collect() } else { Vec::new() },
        },
        chain,
        contracts,
        evm: EvmDeployment { chain_id: evm::BASE_SEPOLIA_CHAIN_ID, contracts: evm_contracts },
    }
}

/// How clients reach a single-validator chain on these ports.
pub fn chain_config(profile: &ChainProfile, ports: Ports) -> ChainConfig {
    chain_config_of(profile, &chain_nodes(Path::new(""), ports, &Validators::default()))
}

/// How clients reach a chain of these validator `nodes`: node 0's gRPC first, then the others'.
pub fn chain_config_of(profile: &ChainProfile, nodes: &[ChainNode]) -> ChainConfig {
    let grpc_urls = if nodes.len() > 1 { nodes.iter().map(ChainNode::grpc_url).collect() } else { Vec::new() };
    ChainConfig {
        chain_id: profile.chain_id.clone(),
        grpc_url: nodes[0].grpc_url(),
        grpc_urls,
        bech32_prefix: profile.bech32_prefix.clone(),
        gas_price: profile.gas_price.clone(),
        gas_adjustment: ChainConfig::DEFAULT_GAS_ADJUSTMENT,
        inclusion_timeout: Duration::from_secs(30),
        stale_after: ChainConfig::DEFAULT_STALE_AFTER,
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

/// The services of a network started earlier from `home` that are still running: every
/// validator node (`chain`, `chain-1`, ...), the EVM node and the explorer.
pub fn running_services(home: &Path) -> Vec<Service> {
    let evm_home = home.join("evm");
    let nodes = (0..chain::MAX_VALIDATORS).map(|i| {
        let node_home = node_home(home, i);
        Service::from_pid_file(chain::NODE_NAMES[i], chain::pid_path(&node_home), chain::log_path(&node_home))
    });
    nodes
        .chain([
            Service::from_pid_file("evm", evm::pid_path(&evm_home), evm::log_path(&evm_home)),
            Service::from_pid_file("explorer", explorer_pid_path(home), explorer_log_path(home)),
        ])
        .flatten()
        .collect()
}

/// The running service of validator `index` of a network started earlier from `home`.
pub fn running_node(home: &Path, index: usize) -> Option<Service> {
    let node_home = node_home(home, index);
    Service::from_pid_file(chain::NODE_NAMES[index], chain::pid_path(&node_home), chain::log_path(&node_home))
}

fn running_service(home: &Path) -> Option<(&'static str, u32)> {
    running_services(home).into_iter().next().map(|s| (s.name, s.pid))
}
