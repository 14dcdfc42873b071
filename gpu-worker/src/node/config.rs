//! The node's configuration (`gpu-worker run --config FILE`): the file's types are
//! [`arena_config::worker`] (`worker.example.toml` beside the crate documents every key); this
//! module loads it and answers what it implies: where the creator's secrets are and which key
//! signs.

use std::path::{Path, PathBuf};

use arena_client::Signer;
pub use arena_config::worker::{
    CreatorConfig, NodeConfig, NodeRole, TrainerAdversary, TrainerConfig, ValidatorAdversary, ValidatorConfig,
};

use crate::node::error::NodeError;

/// Reads and checks the config file at `path`.
pub fn load(path: &Path) -> Result<NodeConfig, NodeError> {
    arena_config::load(path).map_err(|e| NodeError::Config { path: path.to_path_buf(), reason: e.to_string() })
}

/// Where the creator's beacon secret is: `[creator] beacon_secret_file`, or the file
/// `testnet create-task` writes beside the manifest.
pub fn beacon_secret_file(config: &NodeConfig) -> PathBuf {
    config.creator.beacon_secret_file.clone().unwrap_or_else(|| {
        arena_client::BeaconSecret::path_in(config.manifest.parent().unwrap_or(Path::new(".")), config.task_id)
    })
}

/// Where the creator's evaluation keys are: `[creator] evaluation_keys_file`, or the file
/// `testnet create-task` writes beside the beacon secret.
pub fn evaluation_keys_file(config: &NodeConfig) -> PathBuf {
    config.creator.evaluation_keys_file.clone().unwrap_or_else(|| {
        let secret = beacon_secret_file(config);
        arena_client::EvaluationKeys::path_in(secret.parent().unwrap_or(Path::new(".")), config.task_id)
    })
}

/// The signer the config's key source names, for a chain with `bech32_prefix`.
pub fn signer(config: &NodeConfig, bech32_prefix: &str) -> Result<Signer, NodeError> {
    Ok(Signer::from_source(&config.key, bech32_prefix)?)
}

#[cfg(test)]
mod tests {
    use arena_config::KeySource;

    use super::*;

    #[test]
    fn the_example_config_loads_and_names_a_devnet_key() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("worker.example.toml");
        let config = load(&path).unwrap();
        assert_eq!((config.task_id, config.role, &config.key), (1, NodeRole::Trainer, &KeySource::DevnetAccount(2)));
        assert_eq!(
            signer(&config, "inj").unwrap().address().as_ref(),
            Signer::from_mnemonic(arena_client::DEVNET_MNEMONIC, 2, "inj").unwrap().address().as_ref()
        );
    }

    #[test]
    fn the_creator_finds_its_secrets_beside_the_manifest_by_default() {
        let mut config = NodeConfig::new(
            ".testnet/manifest.json".into(),
            4,
            NodeRole::Creator,
            "s".into(),
            KeySource::DevnetAccount(1),
        );
        assert_eq!(beacon_secret_file(&config), Path::new(".testnet/task-4-beacon.secret"));
        assert_eq!(evaluation_keys_file(&config), Path::new(".testnet/task-4-eval.keys"));
        config.creator.beacon_secret_file = Some("s/b.secret".into());
        assert_eq!(beacon_secret_file(&config), Path::new("s/b.secret"));
        assert_eq!(evaluation_keys_file(&config), Path::new("s/task-4-eval.keys"), "beside the beacon secret");
        config.creator.evaluation_keys_file = Some("k.keys".into());
        assert_eq!(evaluation_keys_file(&config), Path::new("k.keys"));
    }

    #[test]
    fn a_bad_file_is_a_config_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.toml");
        let text =
            "manifest = \"m.json\"\ntask_id = 1\nrole = \"trainer\"\nstate_dir = \"s\"\n[key]\nkey_file = \"k\"\n";
        std::fs::write(&path, text).unwrap();
        let err = load(&path).unwrap_err();
        assert!(
            matches!(err, NodeError::Config { ref path, ref reason } if path.ends_with("w.toml") && reason.contains("key_file")),
            "{err}"
        );
    }
}
