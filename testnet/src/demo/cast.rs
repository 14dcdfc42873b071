//! Who plays in the demo: the tasks' creator (its nodes reveal the beacons and the evaluation
//! keys), trainers with different models (one deliberately weak, one copycat, one eval thief),
//! language-model trainers with different LoRA ranks, validators (one dishonest), relayers; their
//! config files and their processes.

use std::path::{Path, PathBuf};
use std::process::Command;

use arena_config::relayer::{Config as RelayerConfig, GrpcConfig, TelemetryConfig};
use arena_config::worker::{
    NodeConfig, NodeRole, TrainerAdversary, TrainerConfig, ValidatorAdversary, ValidatorConfig,
};
use arena_config::KeySource;

use crate::accounts;
use crate::error::TestnetError;
use crate::network::ChainNode;
use crate::process::Service;
use crate::repo;

/// A training node: devnet account, model and hyper-parameters (round r trains with seed + r),
/// and how it cheats, if it does (`[trainer] adversary`, demonstrations only).
pub struct Trainer {
    pub name: &'static str,
    pub account: u32,
    pub model: &'static str,
    pub epochs: usize,
    pub learning_rate: f32,
    pub seed: u64,
    pub adversary: Option<TrainerAdversary>,
}

/// The five trainers. The weak one trains logistic regression for one epoch at a tiny learning
/// rate, barely moved from its random start, so its accuracy is near chance (10%); its seed is
/// one whose near-chance models land below the baseline by several rows (measured on lavapipe:
/// round 1's, seed 26, scores 8.38% on the two-round demo's first shard against a baseline of
/// 10.61%, and 7.52% on the one-round demo's single shard against 10.31%; round 2's, seed 27,
/// 3.89% on the second shard against 11.11%). It shows the baseline rule: no reward for a model
/// no better than always answering the most frequent digit. The copycat trains its own model in
/// round 1 and from round 2 on submits the previous round's winning file. The eval thief tries
/// every sealed shard before training and trains on what opened.
pub const TRAINERS: [Trainer; 5] = [
    Trainer {
        name: "trainer-strong",
        account: 2,
        model: "mlp:128,64",
        epochs: 40,
        learning_rate: 1e-3,
        seed: 2,
        adversary: None,
    },
    Trainer {
        name: "trainer-medium",
        account: 3,
        model: "mlp:16",
        epochs: 8,
        learning_rate: 3e-3,
        seed: 3,
        adversary: None,
    },
    Trainer {
        name: "trainer-weak",
        account: 4,
        model: "mlp",
        epochs: 1,
        learning_rate: 2e-4,
        seed: 25,
        adversary: None,
    },
    Trainer {
        name: "trainer-copycat",
        account: 9,
        model: "mlp:16",
        epochs: 8,
        learning_rate: 3e-3,
        seed: 9,
        adversary: Some(TrainerAdversary::Copycat),
    },
    Trainer {
        name: "trainer-thief",
        account: 10,
        model: "mlp:32",
        epochs: 10,
        learning_rate: 3e-3,
        seed: 10,
        adversary: Some(TrainerAdversary::EvalThief),
    },
];

/// A trainer of the language-model task: devnet account, LoRA rank (alpha is 2r) and peak
/// learning rate of its fine-tuning (round r starts from seed + r).
pub struct LmTrainer {
    pub name: &'static str,
    pub account: u32,
    pub lora_rank: usize,
    pub learning_rate: f32,
    pub seed: u64,
}

/// The language-model task's three trainers. The task allows rank 4 at most: the rank-8 trainer
/// shows the validators' refusal (its adapter scores 0, with the reason in their status), the
/// other two beat the base and are paid. Their learning rates differ so that the leaderboard
/// compares more than the rank.
pub const LM_TRAINERS: [LmTrainer; 3] = [
    LmTrainer { name: "lm-trainer-r2", account: 11, lora_rank: 2, learning_rate: 2e-2, seed: 11 },
    LmTrainer { name: "lm-trainer-r4", account: 12, lora_rank: 4, learning_rate: 1e-2, seed: 12 },
    LmTrainer { name: "lm-trainer-r8", account: 13, lora_rank: 8, learning_rate: 1e-2, seed: 13 },
];

/// A validator: devnet account, and whether it lies (reveals random scores).
pub struct Validator {
    pub name: &'static str,
    pub account: u32,
    pub dishonest: bool,
}

pub const VALIDATORS: [Validator; 4] = [
    Validator { name: "validator-1", account: 5, dishonest: false },
    Validator { name: "validator-2", account: 6, dishonest: false },
    Validator { name: "validator-3", account: 7, dishonest: false },
    Validator { name: "validator-liar", account: 8, dishonest: true },
];

/// The task's creator: funds the task and its bond, and its node reveals the task's beacon and
/// each round's evaluation key.
pub const CREATOR: u32 = 1;

/// The name of the participant behind a Cosmos address, for tables.
pub fn name_of(address: &str, prefix: &str) -> String {
    for (name, account) in paid_participants() {
        if accounts::cosmos(account, prefix).is_ok_and(|s| s.address().as_ref() == address) {
            return name.to_string();
        }
    }
    address.to_string()
}

/// Everyone who may earn rewards (trainers of both tasks, validators): name and devnet account.
pub fn paid_participants() -> impl Iterator<Item = (&'static str, u32)> {
    let trainers = TRAINERS.iter().map(|t| (t.name, t.account));
    let lm_trainers = LM_TRAINERS.iter().map(|t| (t.name, t.account));
    trainers.chain(lm_trainers).chain(VALIDATORS.iter().map(|v| (v.name, v.account)))
}

/// A binary built beside the running one (`cargo build` puts them in the same folder).
pub fn sibling_binary(name: &str) -> Result<PathBuf, TestnetError> {
    let exe = std::env::current_exe().map_err(TestnetError::io("locating the running binary"))?;
    // target/debug/testnet, or target/debug/deps/<test> for integration tests.
    let candidates = exe.ancestors().skip(1).take(2).map(|dir| dir.join(name)).collect::<Vec<_>>();
    candidates.iter().find(|p| p.is_file()).cloned().ok_or(TestnetError::ToolMissing {
        tool: "worker or relayer binary",
        path: candidates[0].clone(),
        hint: "Build it first: cargo build -p gpu-worker -p arena-relayer -p arena-explorer",
    })
}

/// The chain nodes a participant reads: its own node first, then the others it fails over to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reads {
    /// The own node's name (`chain`, `chain-1`, ...).
    pub node: &'static str,
    /// gRPC endpoints, the own node's first.
    pub grpc: Vec<String>,
    /// CometBFT RPCs (new blocks), in the same order.
    pub rpc: Vec<String>,
}

impl Reads {
    /// Participant `i`'s: node `i mod n` of the network's `nodes`, then the nodes after it,
    /// wrapping around, so that the participants spread evenly over the nodes.
    pub fn spread(nodes: &[ChainNode], i: usize) -> Self {
        let n = nodes.len();
        let order: Vec<&ChainNode> = (0..n).map(|k| &nodes[(i + k) % n]).collect();
        Reads {
            node: order[0].name,
            grpc: order.iter().map(|n| n.grpc_url()).collect(),
            rpc: order.iter().map(|n| n.rpc_url()).collect(),
        }
    }
}

/// Writes a node's config (every demo node stakes 5 ARENA, keeps its state in `<dir>/<name>`,
/// signs with its devnet account and reads the chain nodes of `reads`; `configure` sets the role's
/// section) and starts `gpu-worker run` with it; logs go to `<dir>/<name>.log`.
#[allow(clippy::too_many_arguments)]
pub fn start_node(
    dir: &Path,
    manifest: &Path,
    task_id: u64,
    name: &str,
    account: u32,
    role: NodeRole,
    reads: &Reads,
    configure: impl FnOnce(&mut NodeConfig),
) -> Result<Service, TestnetError> {
    let mut node = NodeConfig {
        stake: Some(5_000_000),
        data_root: repo::root(),
        poll_ms: 400,
        grpc_urls: reads.grpc.clone(),
        rpc_urls: reads.rpc.clone(),
        ..NodeConfig::new(manifest.into(), task_id, role, dir.join(name), KeySource::DevnetAccount(account))
    };
    configure(&mut node);
    let config = dir.join(format!("{name}.toml"));
    write_config(&config, &node)?;
    let mut command = Command::new(sibling_binary("gpu-worker")?);
    command.args(["run", "--config"]).arg(&config);
    Service::spawn("gpu-worker", command, dir.join(format!("{name}.log")), dir.join(format!("{name}.pid")))
}

/// The `[trainer]` section of a cast member (the rest of the section's defaults).
pub fn trainer_config(t: &Trainer) -> TrainerConfig {
    TrainerConfig {
        model: t.model.into(),
        epochs: t.epochs,
        batch_size: 64,
        learning_rate: t.learning_rate,
        optimizer: "adam".into(),
        seed: t.seed,
        public_url: None,
        adversary: t.adversary,
        ..TrainerConfig::default()
    }
}

/// The `[trainer]` section of a language-model trainer fine-tuning `steps` steps a round.
pub fn lm_trainer_config(t: &LmTrainer, steps: usize) -> TrainerConfig {
    TrainerConfig {
        seed: t.seed,
        lora_rank: t.lora_rank,
        lora_alpha: 2.0 * t.lora_rank as f32,
        lm_steps: steps,
        lm_learning_rate: t.learning_rate,
        ..TrainerConfig::default()
    }
}

/// The `[validator]` section of a cast member.
pub fn validator_config(v: &Validator) -> ValidatorConfig {
    ValidatorConfig { crank: true, adversary: v.dishonest.then_some(ValidatorAdversary::Random) }
}

/// One relayer's listen ports.
#[derive(Clone, Copy, Debug)]
pub struct RelayerPorts {
    pub grpc: u16,
    pub metrics: u16,
}

/// Writes relayer `index`'s key files (mode 600) and config, and starts `arena-relayer start`.
/// `reads` are the Cosmos nodes this relayer reads, its own first (`cosmos.grpc_url`), then those
/// it fails over to (`cosmos.grpc_urls`): written into its config rather than taken from the
/// manifest, so that on a network of several nodes each relayer gets its own and the attestation
/// threshold is also a threshold of independent views of the chain.
pub fn start_relayer(
    dir: &Path,
    manifest: &Path,
    reads: &Reads,
    index: usize,
) -> Result<(Service, RelayerPorts), TestnetError> {
    let (cosmos, evm) = accounts::RELAYERS[index];
    let name = format!("relayer-{}", index + 1);
    let keys = dir.join(&name);
    std::fs::create_dir_all(&keys).map_err(TestnetError::io("creating the relayer folder"))?;
    let operator = keys.join("operator.key");
    let attester = keys.join("attester.key");
    write_secret(&operator, &hex::encode(arena_client::derive_secret_key(accounts::DEV_MNEMONIC, cosmos)?))?;
    write_secret(&attester, accounts::EVM_KEYS[evm])?;
    let free = crate::process::free_ports(2)?;
    let ports = RelayerPorts { grpc: free[0], metrics: free[1] };
    let mut relayer =
        RelayerConfig::from_manifest(manifest.into(), KeySource::File(operator), KeySource::File(attester));
    let (own, others) = reads.grpc.split_first().expect("at least one chain node");
    relayer.cosmos.grpc_url = Some(own.clone());
    relayer.cosmos.grpc_urls = others.to_vec();
    relayer.evm.confirmations = 2;
    relayer.evm.poll_interval_ms = 250;
    relayer.relay.poll_interval_ms = 500;
    relayer.grpc = GrpcConfig { listen: ([127, 0, 0, 1], ports.grpc).into() };
    relayer.telemetry =
        TelemetryConfig { listen: ([127, 0, 0, 1], ports.metrics).into(), ..TelemetryConfig::default() };
    let config = dir.join(format!("{name}.toml"));
    write_config(&config, &relayer)?;
    let mut command = Command::new(sibling_binary("arena-relayer")?);
    command.args(["start", "--config"]).arg(&config);
    let service =
        Service::spawn("arena-relayer", command, dir.join(format!("{name}.log")), dir.join(format!("{name}.pid")))?;
    Ok((service, ports))
}

/// Starts `arena-explorer` for the deployment, reading the relayers at `relayer_grpc_urls`, on a
/// free port; its pid and log sit in the network's home, so `testnet down` stops it with the
/// network. Returns the service and the explorer's URL once it answers.
pub fn start_explorer(
    network_home: &Path,
    manifest: &Path,
    relayer_grpc_urls: &[String],
) -> Result<(Service, String), TestnetError> {
    let port = crate::process::free_ports(1)?[0];
    let mut command = Command::new(sibling_binary("arena-explorer")?);
    command.args(["--manifest"]).arg(manifest).args(["--listen", &format!("127.0.0.1:{port}")]);
    for url in relayer_grpc_urls {
        command.args(["--relayer", url]);
    }
    let mut service = Service::spawn(
        "arena-explorer",
        command,
        crate::network::explorer_log_path(network_home),
        crate::network::explorer_pid_path(network_home),
    )?;
    crate::process::wait_until(&mut service, "the explorer", std::time::Duration::from_secs(30), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    })?;
    Ok((service, format!("http://127.0.0.1:{port}/")))
}

fn write_secret(path: &Path, secret: &str) -> Result<(), TestnetError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(TestnetError::io(format!("writing {}", path.display())))?;
    file.write_all(secret.as_bytes()).map_err(TestnetError::io(format!("writing {}", path.display())))
}

/// Writes a config file from its type, with a first line saying who wrote it.
fn write_config(path: &Path, config: &impl serde::Serialize) -> Result<(), TestnetError> {
    let text = format!("# written by `testnet demo`\n{}", arena_config::to_toml(config));
    std::fs::write(path, text).map_err(TestnetError::io(format!("writing {}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::ChainPorts;

    fn nodes(n: usize) -> Vec<ChainNode> {
        (0..n)
            .map(|index| {
                let base = 1000 * (index as u16 + 1);
                ChainNode {
                    index,
                    name: crate::chain::NODE_NAMES[index],
                    home: PathBuf::new(),
                    ports: ChainPorts { rpc: base, grpc: base + 1, rest: base + 2, p2p: base + 3 },
                    power: 1,
                }
            })
            .collect()
    }

    #[test]
    fn each_participant_reads_its_own_node_first_then_the_next_ones() {
        let four = nodes(4);
        let relayer_2 = Reads::spread(&four, 2);
        assert_eq!(relayer_2.node, "chain-2");
        let grpc_ports: Vec<&str> = relayer_2.grpc.iter().map(|u| u.rsplit(':').next().unwrap()).collect();
        assert_eq!(grpc_ports, ["3001", "4001", "1001", "2001"]);
        assert_eq!(relayer_2.rpc[0], "http://127.0.0.1:3000");
        // Participant 5 of 4 nodes is back on node 1.
        assert_eq!(Reads::spread(&four, 5).node, "chain-1");
        // One node: everyone reads it, with nowhere to fail over to.
        let one = Reads::spread(&nodes(1), 3);
        assert_eq!((one.node, one.grpc.len(), one.rpc.len()), ("chain", 1, 1));
    }
}
