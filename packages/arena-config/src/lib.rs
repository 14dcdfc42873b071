/*!
The configuration files of Arena's programs, as types. Whoever writes a config (an operator's
tooling, `testnet demo`, the tests) builds the type and [serialises](to_toml) it; the program
[loads](load) the same type. Nothing writes these files as hand-made TOML strings, so a renamed or
new key is a compile error wherever a config is written, not a node that fails at start-up.

- [`worker::NodeConfig`]: `gpu-worker run --config` (trainer, validator, creator).
- [`relayer::Config`]: `arena-relayer start --config`.
- [`KeySource`]: where a signing key comes from, one syntax for every program:
  `{ file = "path" }` (mode 600), `{ env = "VAR" }` or `{ devnet_account = N }`.
- [`read_private_file`] / [`write_private_file_new`]: the one check that a secret's file is
  readable by its owner only.

What a config means once loaded (the manifest it names applied, its keys read) is each program's
business: `gpu_worker::node` and `arena_relayer::config` resolve them.
*/

pub mod key;
pub mod relayer;
pub mod worker;

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;

pub use key::{read_private_file, write_private_file_new, KeySource, Secret};

/// A config file that cannot be read, parsed or written.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config {path}: cannot read it: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("config {path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("config {path}: cannot write it: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// Parses a config from TOML text; the error is toml's, which names the line and the key.
pub fn parse<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    toml::from_str(text).map_err(|e| e.to_string())
}

/// Reads and parses a config file.
pub fn load<T: DeserializeOwned>(path: &Path) -> Result<T, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
    parse(&text).map_err(|reason| ConfigError::Invalid { path: path.into(), reason })
}

/// The config as TOML, as [`load`] reads it back.
pub fn to_toml<T: Serialize>(config: &T) -> String {
    // Every config type is plain data (no maps with non-string keys, no values TOML lacks).
    toml::to_string(config).expect("Arena's config types serialise to TOML")
}

/// Writes the config to `path` as TOML.
pub fn save<T: Serialize>(path: &Path, config: &T) -> Result<(), ConfigError> {
    std::fs::write(path, to_toml(config)).map_err(|source| ConfigError::Write { path: path.into(), source })
}
