//! `gpu-worker run --config FILE`: one node working one task as its trainer, validator or creator.
//! `gpu-worker/worker.example.toml` documents every key.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::KeySource;

/// Which side of a task the node works for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum NodeRole {
    Trainer,
    Validator,
    /// The task's creator: reveals its beacon and evaluation keys round by round (no stake, no
    /// GPU work).
    Creator,
}

/// The whole file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// The deployment manifest (`testnet deploy` writes `.testnet/manifest.json`).
    pub manifest: PathBuf,
    pub task_id: u64,
    pub role: NodeRole,
    /// Stake put up when the node has not joined yet, in token micro-units; the task's minimum
    /// for the role when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
    /// The account the node signs with.
    pub key: KeySource,
    /// gRPC endpoints of the chain (nodes of the same chain, in order of preference; the client
    /// fails over between them) to use instead of the manifest's `chain.grpc_url`/`grpc_urls`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grpc_urls: Vec<String>,
    /// CometBFT RPCs to follow new blocks on (the first healthy one) instead of the manifest's
    /// `endpoints.rpc`/`endpoints.nodes`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rpc_urls: Vec<String>,
    #[serde(default)]
    pub trainer: TrainerConfig,
    #[serde(default)]
    pub validator: ValidatorConfig,
    #[serde(default)]
    pub creator: CreatorConfig,
}

impl NodeConfig {
    /// A config with every optional key at its default.
    pub fn new(manifest: PathBuf, task_id: u64, role: NodeRole, state_dir: PathBuf, key: KeySource) -> Self {
        NodeConfig {
            manifest,
            task_id,
            role,
            stake: None,
            state_dir,
            data_root: default::data_root(),
            poll_ms: default::poll_ms(),
            key,
            grpc_urls: Vec::new(),
            rpc_urls: Vec::new(),
            trainer: TrainerConfig::default(),
            validator: ValidatorConfig::default(),
            creator: CreatorConfig::default(),
        }
    }
}

/// `[trainer]`: how the node trains its model each round.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// FOR DEMONSTRATIONS ONLY: a trainer that cheats, to show what the market does to it.
    /// Never set on a real network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adversary: Option<TrainerAdversary>,
    /// Language-model tasks: the LoRA rank r of the adapter fine-tuned each round (a task refuses
    /// adapters over its `max_lora_rank`). `[Default: 8]`
    #[serde(default = "default::lora_rank")]
    pub lora_rank: usize,
    /// Language-model tasks: LoRA's alpha (the update is scaled by alpha / r). `[Default: 16]`
    #[serde(default = "default::lora_alpha")]
    pub lora_alpha: f32,
    /// Language-model tasks: the modules adapted, `attn` (`attn.c_attn`, `attn.c_proj`) or `all`
    /// (the MLP's too). `[Default: "attn"]`
    #[serde(default = "default::lora_targets")]
    pub lora_targets: String,
    /// Language-model tasks: optimizer steps of fine-tuning per round. `[Default: 100]`
    #[serde(default = "default::lm_steps")]
    pub lm_steps: usize,
    /// Language-model tasks: the peak learning rate of fine-tuning. `[Default: 0.01]`
    #[serde(default = "default::lm_learning_rate")]
    pub lm_learning_rate: f32,
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
            lora_rank: default::lora_rank(),
            lora_alpha: default::lora_alpha(),
            lora_targets: default::lora_targets(),
            lm_steps: default::lm_steps(),
            lm_learning_rate: default::lm_learning_rate(),
        }
    }
}

/// How a demonstration trainer cheats (`gpu_worker::node::adversary` does it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrainerAdversary {
    /// Submits last round's winning file under a commitment of its own.
    Copycat,
    /// Tries to read the hidden evaluation shards before training.
    EvalThief,
}

/// `[validator]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidatorConfig {
    /// Crank assignment and finalization when they are due (anyone may; someone must).
    pub crank: bool,
    /// FOR DEMONSTRATIONS ONLY: a validator that lies, to show the consensus outvoting and
    /// slashing it. Never set on a real network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adversary: Option<ValidatorAdversary>,
}

impl Default for ValidatorConfig {
    fn default() -> Self {
        ValidatorConfig { crank: true, adversary: None }
    }
}

/// How a demonstration validator lies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ValidatorAdversary {
    /// Reveals a random score further than the task's outlier bound from what it measured.
    Random,
}

/// `[creator]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatorConfig {
    /// The task's beacon secret (64 hex digits, mode 0600), as `testnet create-task` saves it;
    /// default: `task-<task_id>-beacon.secret` beside the manifest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beacon_secret_file: Option<PathBuf>,
    /// The task's evaluation keys (one hex key per round, mode 0600), as `testnet create-task`
    /// saves them; default: `task-<task_id>-eval.keys` beside the beacon secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation_keys_file: Option<PathBuf>,
}

/// Defaults of the optional keys.
pub mod default {
    use std::path::PathBuf;

    /// Relative `file://` URIs resolve against the working directory.
    pub fn data_root() -> PathBuf {
        PathBuf::from(".")
    }
    /// Two seconds without a block before the node looks anyway.
    pub fn poll_ms() -> u64 {
        2_000
    }
    /// A small rank: adapters stay cheap to fetch and check, and within most tasks' limits.
    pub fn lora_rank() -> usize {
        8
    }
    /// alpha = 2 r, the usual choice.
    pub fn lora_alpha() -> f32 {
        16.0
    }
    pub fn lora_targets() -> String {
        "attn".into()
    }
    pub fn lm_steps() -> usize {
        100
    }
    /// `gpu-worker finetune`'s default peak rate.
    pub fn lm_learning_rate() -> f32 {
        1e-2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_key_set() -> NodeConfig {
        NodeConfig {
            stake: Some(5_000_000),
            data_root: "data".into(),
            poll_ms: 300,
            trainer: TrainerConfig {
                public_url: Some("http://127.0.0.1:8080".into()),
                adversary: Some(TrainerAdversary::EvalThief),
                learning_rate: 0.003,
                lora_rank: 4,
                lora_alpha: 4.0,
                lora_targets: "all".into(),
                lm_steps: 7,
                lm_learning_rate: 0.01,
                ..TrainerConfig::default()
            },
            validator: ValidatorConfig { crank: false, adversary: Some(ValidatorAdversary::Random) },
            grpc_urls: vec!["http://127.0.0.1:9090".into(), "http://127.0.0.1:9091".into()],
            rpc_urls: vec!["http://127.0.0.1:26657".into(), "http://127.0.0.1:26667".into()],
            creator: CreatorConfig {
                beacon_secret_file: Some("b.secret".into()),
                evaluation_keys_file: Some("e.keys".into()),
            },
            ..NodeConfig::new("m.json".into(), 7, NodeRole::Validator, "s".into(), KeySource::File("k".into()))
        }
    }

    #[test]
    fn configs_round_trip_through_toml() {
        for config in [
            every_key_set(),
            NodeConfig::new("m.json".into(), 1, NodeRole::Creator, "s".into(), KeySource::DevnetAccount(1)),
        ] {
            let text = crate::to_toml(&config);
            assert_eq!(crate::parse::<NodeConfig>(&text).unwrap(), config, "{text}");
        }
    }

    #[test]
    fn a_minimal_file_takes_the_defaults() {
        let text =
            "manifest = \"m.json\"\ntask_id = 4\nrole = \"trainer\"\nstate_dir = \"s\"\n[key]\ndevnet_account = 2\n";
        let config: NodeConfig = crate::parse(text).unwrap();
        let expected = NodeConfig::new("m.json".into(), 4, NodeRole::Trainer, "s".into(), KeySource::DevnetAccount(2));
        assert_eq!(config, expected);
    }

    #[test]
    fn endpoint_lists_are_read_from_toml_arrays() {
        let text = "manifest = \"m\"\ntask_id = 1\nrole = \"validator\"\nstate_dir = \"s\"\n\
                    grpc_urls = [\"http://a:1\", \"http://b:2\"]\nrpc_urls = [\"http://a:3\"]\nkey = { env = \"K\" }\n";
        let config: NodeConfig = crate::parse(text).unwrap();
        assert_eq!(config.grpc_urls, ["http://a:1", "http://b:2"]);
        assert_eq!(config.rpc_urls, ["http://a:3"]);
    }

    #[test]
    fn unknown_keys_and_adversaries_are_refused() {
        let base = "manifest = \"m\"\ntask_id = 1\nrole = \"validator\"\nstate_dir = \"s\"\nkey = { env = \"K\" }\n";
        let typo = crate::parse::<NodeConfig>(&format!("{base}poll_msec = 1\n")).unwrap_err();
        assert!(typo.contains("poll_msec"), "{typo}");
        let lazy = crate::parse::<NodeConfig>(&format!("{base}[validator]\ncrank = true\nadversary = \"lazy\"\n"))
            .unwrap_err();
        assert!(lazy.contains("lazy") && lazy.contains("random"), "{lazy}");
    }
}
