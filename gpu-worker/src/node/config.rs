//! The node's TOML configuration (`gpu-worker run --config FILE`); `worker.example.toml` beside
//! the crate documents every key.

use std::path::{Path, PathBuf};

use arena_client::Signer;
use serde::Deserialize;

pub use crate::node::adversary::TrainerAdversary;
use crate::node::error::NodeError;

/// Which side of a task the node works for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum NodeRole {
    Trainer,
    Validator,
    /// The task's creator: reveals its beacon round by round (no stake, no GPU work).
    Creator,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// The deployment manifest (`testnet deploy` writes `.testnet/manifest.json`).
    pub manifest: PathBuf,
    pub task_id: u64,
    pub role: NodeRole,
    /// Stake put up when the node has not joined yet, in token micro-units; the task's minimum
    /// for the role when absent.
    #[serde(default)]
    pub stake: Option<u64>,
    /// Models, the journal and the serve folder live here.
    pub state_dir: PathBuf,
    /// `file://` data URIs that are relative resolve against this folder.
    #[serde(default = "default::data_root")]
    pub data_root: PathBuf,
    /// The node looks at the chain on each new block (the RPC's websocket tells it); this is the
    /// longest it waits, in milliseconds, when no block is heard of.
    #[serde(default = "default::poll_ms")]
    pub poll_ms: u64,
    pub key: KeySource,
    #[serde(default)]
    pub trainer: TrainerConfig,
    #[serde(default)]
    pub validator: ValidatorConfig,
    #[serde(default)]
    pub creator: CreatorConfig,
}

/// Where the node's signing key comes from. Exactly one field must be set.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySource {
    /// A file holding a BIP39 mnemonic or a hex secret key; refused if group or others can read it.
    pub key_file: Option<PathBuf>,
    /// An environment variable holding a mnemonic or a hex secret key.
    pub env: Option<String>,
    /// One of the `testnet accounts` (local devnets only: their keys are public).
    pub devnet_account: Option<u32>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainerConfig {
    /// Architecture, e.g. `mlp:128,64` (see `gpu-worker train --help`).
    pub model: String,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f32,
    /// `adam` or `sgd` (with momentum 0.9).
    pub optimizer: String,
    /// Round r trains with seed + r, so each round's model is new yet reproducible.
    pub seed: u64,
    /// Base URL where `gpu-worker serve` offers this node's store; submissions then point there.
    /// Without it they are `file://` URIs, which only validators on the same machine can read.
    pub public_url: Option<String>,
    /// FOR DEMONSTRATIONS ONLY: a trainer that cheats, to show what the market does to it
    /// (`"copycat"` or `"eval-thief"`, see `node::adversary`). Never set on a real network.
    pub adversary: Option<TrainerAdversary>,
}

impl Default for TrainerConfig {
    fn default() -> Self {
        TrainerConfig {
            model: "mlp:128,64".into(),
            epochs: 30,
            batch_size: 64,
            learning_rate: 1e-3,
            optimizer: "adam".into(),
            seed: 1,
            public_url: None,
            adversary: None,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidatorConfig {
    /// Crank assignment and finalization when they are due (anyone may; someone must).
    pub crank: bool,
    /// FOR DEMONSTRATIONS ONLY: `"random"` reveals a random score further than the task's
    /// outlier bound from what it measured, to show the consensus outvoting and slashing a
    /// dishonest validator. Never set on a real network.
    pub adversary: Option<String>,
}

impl Default for ValidatorConfig {
    fn default() -> Self {
        ValidatorConfig { crank: true, adversary: None }
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatorConfig {
    /// The task's beacon secret (64 hex digits, mode 0600), as `testnet create-task` saves it;
    /// default: `task-<task_id>-beacon.secret` beside the manifest.
    pub beacon_secret_file: Option<PathBuf>,
    /// The task's evaluation keys (one hex key per round, mode 0600), as `testnet create-task`
    /// saves them; default: `task-<task_id>-eval.keys` beside the beacon secret.
    pub evaluation_keys_file: Option<PathBuf>,
}

mod default {
    use std::path::PathBuf;

    pub fn data_root() -> PathBuf {
        PathBuf::from(".")
    }
    pub fn poll_ms() -> u64 {
        2_000
    }
}

impl NodeConfig {
    pub fn load(path: &Path) -> Result<Self, NodeError> {
        let err = |reason: String| NodeError::Config { path: path.to_path_buf(), reason };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let config: NodeConfig = toml::from_str(&text).map_err(|e| err(e.to_string()))?;
        if let Some(adversary) = &config.validator.adversary {
            if adversary != "random" {
                return Err(err(format!("validator.adversary {adversary:?}: the only one is \"random\"")));
            }
        }
        Ok(config)
    }

    /// Where the creator's beacon secret is: `[creator] beacon_secret_file`, or the file
    /// `testnet create-task` writes beside the manifest.
    pub fn beacon_secret_file(&self) -> PathBuf {
        self.creator.beacon_secret_file.clone().unwrap_or_else(|| {
            arena_client::BeaconSecret::path_in(self.manifest.parent().unwrap_or(Path::new(".")), self.task_id)
        })
    }

    /// Where the creator's evaluation keys are: `[creator] evaluation_keys_file`, or the file
    /// `testnet create-task` writes beside the beacon secret.
    pub fn evaluation_keys_file(&self) -> PathBuf {
        self.creator.evaluation_keys_file.clone().unwrap_or_else(|| {
            let secret = self.beacon_secret_file();
            arena_client::EvaluationKeys::path_in(secret.parent().unwrap_or(Path::new(".")), self.task_id)
        })
    }

    /// The signer the key source names, for a chain with `bech32_prefix`.
    pub fn signer(&self, bech32_prefix: &str) -> Result<Signer, NodeError> {
        let k = &self.key;
        let set = [k.key_file.is_some(), k.env.is_some(), k.devnet_account.is_some()].iter().filter(|s| **s).count();
        if set != 1 {
            return Err(NodeError::Config {
                path: PathBuf::from("[key]"),
                reason: format!("set exactly one of key_file, env, devnet_account ({set} set)"),
            });
        }
        let signer = if let Some(file) = &k.key_file {
            Signer::from_key_file(file, bech32_prefix)?
        } else if let Some(var) = &k.env {
            Signer::from_env(var, bech32_prefix)?
        } else {
            let index = k.devnet_account.expect("one source is set");
            Signer::from_mnemonic(arena_client::DEVNET_MNEMONIC, index, bech32_prefix)?
        };
        Ok(signer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("worker.example.toml");
        let config = NodeConfig::load(&path).unwrap();
        assert_eq!((config.task_id, config.role, config.key.devnet_account), (1, NodeRole::Trainer, Some(2)));
        assert_eq!(
            config.signer("inj").unwrap().address().as_ref(),
            Signer::from_mnemonic(arena_client::DEVNET_MNEMONIC, 2, "inj").unwrap().address().as_ref()
        );
    }

    #[test]
    fn the_creator_finds_its_secret_beside_the_manifest_by_default() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        let text = "manifest = \".testnet/manifest.json\"\ntask_id = 4\nrole = \"creator\"\nstate_dir = \"s\"\n[key]\ndevnet_account = 1\n";
        std::fs::write(&path, text).unwrap();
        let config = NodeConfig::load(&path).unwrap();
        assert_eq!(config.role, NodeRole::Creator);
        assert_eq!(config.beacon_secret_file(), Path::new(".testnet/task-4-beacon.secret"));
        assert_eq!(config.evaluation_keys_file(), Path::new(".testnet/task-4-eval.keys"));
        std::fs::write(&path, format!("{text}[creator]\nbeacon_secret_file = \"s/b.secret\"\n")).unwrap();
        let config = NodeConfig::load(&path).unwrap();
        assert_eq!(config.beacon_secret_file(), Path::new("s/b.secret"));
        assert_eq!(config.evaluation_keys_file(), Path::new("s/task-4-eval.keys"), "beside the beacon secret");
        std::fs::write(&path, format!("{text}[creator]\nevaluation_keys_file = \"k.keys\"\n")).unwrap();
        assert_eq!(NodeConfig::load(&path).unwrap().evaluation_keys_file(), Path::new("k.keys"));
    }

    #[test]
    fn two_key_sources_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.toml");
        let text = "manifest = \"m.json\"\ntask_id = 1\nrole = \"validator\"\nstate_dir = \"s\"\n[key]\nenv = \"K\"\ndevnet_account = 1\n";
        std::fs::write(&path, text).unwrap();
        let err = NodeConfig::load(&path).unwrap().signer("inj").unwrap_err();
        assert!(matches!(err, NodeError::Config { ref reason, .. } if reason.contains("exactly one")), "{err}");
    }

    #[test]
    fn a_trainer_adversary_is_named_in_kebab_case() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.toml");
        let text = "manifest = \"m.json\"\ntask_id = 1\nrole = \"trainer\"\nstate_dir = \"s\"\n[key]\ndevnet_account = 1\n[trainer]\nmodel = \"mlp\"\nepochs = 1\nbatch_size = 64\nlearning_rate = 0.001\noptimizer = \"adam\"\nseed = 1\n";
        std::fs::write(&path, text).unwrap();
        assert_eq!(NodeConfig::load(&path).unwrap().trainer.adversary, None);
        std::fs::write(&path, format!("{text}adversary = \"eval-thief\"\n")).unwrap();
        assert_eq!(NodeConfig::load(&path).unwrap().trainer.adversary, Some(TrainerAdversary::EvalThief));
        std::fs::write(&path, format!("{text}adversary = \"copycat\"\n")).unwrap();
        assert_eq!(NodeConfig::load(&path).unwrap().trainer.adversary, Some(TrainerAdversary::Copycat));
        std::fs::write(&path, format!("{text}adversary = \"plagiarist\"\n")).unwrap();
        assert!(matches!(NodeConfig::load(&path), Err(NodeError::Config { .. })));
    }

    #[test]
    fn an_unknown_adversary_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.toml");
        let text = "manifest = \"m.json\"\ntask_id = 1\nrole = \"validator\"\nstate_dir = \"s\"\n[key]\ndevnet_account = 1\n[validator]\ncrank = true\nadversary = \"lazy\"\n";
        std::fs::write(&path, text).unwrap();
        assert!(matches!(NodeConfig::load(&path), Err(NodeError::Config { .. })));
    }
}
