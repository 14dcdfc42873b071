//! Who plays in the demo: the task's creator (its node reveals the beacon and the evaluation
//! keys), trainers with different models (one deliberately weak, one copycat, one eval thief),
//! validators (one dishonest), relayers; their config files and their processes.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::accounts;
use crate::error::TestnetError;
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
    pub adversary: Option<&'static str>,
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
        adversary: Some("copycat"),
    },
    Trainer {
        name: "trainer-thief",
        account: 10,
        model: "mlp:32",
        epochs: 10,
        learning_rate: 3e-3,
        seed: 10,
        adversary: Some("eval-thief"),
    },
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
    let named = TRAINERS.iter().map(|t| (t.name, t.account)).chain(VALIDATORS.iter().map(|v| (v.name, v.account)));
    for (name, account) in named {
        if accounts::cosmos(account, prefix).is_ok_and(|s| s.address().as_ref() == address) {
            return name.to_string();
        }
    }
    address.to_string()
}

/// A binary built beside the running one (`cargo build` puts them in the same folder).
pub fn sibling_binary(name: &str) -> Result<PathBuf, TestnetError> {
    let exe = std::env::current_exe().map_err(TestnetError::io("locating the running binary"))?;
    // target/debug/testnet, or target/debug/deps/<test> for integration tests.
    let candidates = exe.ancestors().skip(1).take(2).map(|dir| dir.join(name)).collect::<Vec<_>>();
    candidates.iter().find(|p| p.is_file()).cloned().ok_or(TestnetError::ToolMissing {
        tool: "worker or relayer binary",
        path: candidates[0].clone(),
        hint: "Build it first: cargo build -p gpu-worker -p arena-relayer",
    })
}

/// Writes a node's config and starts `gpu-worker run` with it; logs go to `<dir>/<name>.log`.
pub fn start_node(
    dir: &Path,
    manifest: &Path,
    task_id: u64,
    name: &str,
    account: u32,
    role: &str,
    role_section: &str,
) -> Result<Service, TestnetError> {
    let config = dir.join(format!("{name}.toml"));
    let text = format!(
        "# {name}: written by `testnet demo`\nmanifest = {manifest:?}\ntask_id = {task_id}\nrole = \"{role}\"\n\
         stake = 5000000\nstate_dir = {state:?}\ndata_root = {root:?}\npoll_ms = 400\n\n[key]\ndevnet_account = {account}\n\n{role_section}",
        state = dir.join(name),
        root = repo::root(),
    );
    std::fs::write(&config, text).map_err(TestnetError::io(format!("writing {}", config.display())))?;
    let mut command = Command::new(sibling_binary("gpu-worker")?);
    command.args(["run", "--config"]).arg(&config);
    Service::spawn("gpu-worker", command, dir.join(format!("{name}.log")), dir.join(format!("{name}.pid")))
}

pub fn trainer_section(t: &Trainer) -> String {
    let adversary = t.adversary.map(|a| format!("adversary = \"{a}\"\n")).unwrap_or_default();
    format!(
        "[trainer]\nmodel = \"{}\"\nepochs = {}\nbatch_size = 64\nlearning_rate = {}\noptimizer = \"adam\"\nseed = {}\n{adversary}\n",
        t.model, t.epochs, t.learning_rate, t.seed
    )
}

pub fn validator_section(v: &Validator) -> String {
    let adversary = if v.dishonest { "adversary = \"random\"\n" } else { "" };
    format!("[validator]\ncrank = true\n{adversary}")
}

/// One relayer's listen ports.
#[derive(Clone, Copy, Debug)]
pub struct RelayerPorts {
    pub grpc: u16,
    pub metrics: u16,
}

/// Writes relayer `index`'s key files (mode 600) and config, and starts `arena-relayer start`.
/// `cosmos_grpc` is the Cosmos node this relayer reads: written into its config rather than taken
/// from the manifest, so that on a network of several nodes each relayer gets its own and the
/// attestation threshold is also a threshold of independent views of the chain.
pub fn start_relayer(
    dir: &Path,
    manifest: &Path,
    cosmos_grpc: &str,
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
    let config = dir.join(format!("{name}.toml"));
    let text = format!(
        "# {name}: written by `testnet demo`\n[cosmos]\nmanifest = {manifest:?}\ngrpc_url = {cosmos_grpc:?}\noperator_key = {{ file = {operator:?} }}\n\n\
         [evm]\nattester_key = {{ file = {attester:?} }}\nconfirmations = 2\npoll_interval_ms = 250\n\n\
         [relay]\npoll_interval_ms = 500\n\n[grpc]\nlisten = \"127.0.0.1:{}\"\n\n[telemetry]\nlisten = \"127.0.0.1:{}\"\n",
        ports.grpc, ports.metrics
    );
    std::fs::write(&config, text).map_err(TestnetError::io(format!("writing {}", config.display())))?;
    let mut command = Command::new(sibling_binary("arena-relayer")?);
    command.args(["start", "--config"]).arg(&config);
    let service =
        Service::spawn("arena-relayer", command, dir.join(format!("{name}.log")), dir.join(format!("{name}.pid")))?;
    Ok((service, ports))
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
