//! Chain profiles: what differs between Cosmos SDK chains with x/wasm (binary, prefix, denom, fees).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use arena_client::GasPrice;
use serde::Deserialize;

use crate::error::TestnetError;
use crate::repo;

/// The profiles shipped with the repository.
pub const DEFAULT_PROFILES: &str = include_str!("../profiles.toml");
pub const DEFAULT_PROFILE: &str = "injectived";

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainProfile {
    /// The node binary: a name looked up on PATH, or a path relative to the repository root.
    pub binary: String,
    /// Folder put on LD_LIBRARY_PATH (for a libwasmvm shipped beside the binary).
    #[serde(default)]
    pub library_path: Option<String>,
    pub chain_id: String,
    pub bech32_prefix: String,
    pub denom: String,
    pub gas_price: GasPrice,
    /// Genesis balance of each test account, in `denom`.
    pub account_balance: String,
    /// The validator's self-delegation, in `denom`.
    pub validator_stake: String,
    /// Extra arguments to `<binary> start`.
    #[serde(default)]
    pub start_args: Vec<String>,
    /// Sections of app.toml whose `enable` is set to false.
    #[serde(default)]
    pub disable_app_sections: Vec<String>,
}

impl ChainProfile {
    /// Loads `name` from `file`, or from the shipped profiles when `file` is None.
    pub fn load(file: Option<&Path>, name: &str) -> Result<Self, TestnetError> {
        let text = match file {
            Some(f) => std::fs::read_to_string(f).map_err(TestnetError::io(format!("reading {}", f.display())))?,
            None => DEFAULT_PROFILES.to_string(),
        };
        let mut all: BTreeMap<String, ChainProfile> =
            toml::from_str(&text).map_err(|e| TestnetError::Profile(e.to_string()))?;
        let known = all.keys().cloned().collect::<Vec<_>>().join(", ");
        all.remove(name).ok_or(TestnetError::UnknownProfile { name: name.to_string(), known })
    }

    /// The binary to run: a path if it contains a slash, else a name found on PATH.
    pub fn binary_path(&self) -> Result<PathBuf, TestnetError> {
        let hint = "Run scripts/setup.sh (it installs injectived from PyPI), or pick a profile whose binary you have";
        if self.binary.contains('/') {
            let path = repo::resolve(&self.binary);
            return if path.is_file() {
                Ok(path)
            } else {
                Err(TestnetError::ToolMissing { tool: "chain binary", path, hint })
            };
        }
        std::env::var_os("PATH")
            .iter()
            .flat_map(std::env::split_paths)
            .map(|dir| dir.join(&self.binary))
            .find(|p| p.is_file())
            .ok_or(TestnetError::ToolMissing { tool: "chain binary", path: PathBuf::from(&self.binary), hint })
    }

    pub fn library_path(&self) -> Option<PathBuf> {
        self.library_path.as_ref().map(repo::resolve)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_profiles_parse() {
        let inj = ChainProfile::load(None, "injectived").unwrap();
        assert_eq!((inj.bech32_prefix.as_str(), inj.denom.as_str()), ("inj", "inj"));
        let wasmd = ChainProfile::load(None, "wasmd").unwrap();
        assert_eq!((wasmd.bech32_prefix.as_str(), wasmd.gas_price.denom()), ("wasm", "ustake"));
    }

    #[test]
    fn unknown_profile_names_the_known_ones() {
        let err = ChainProfile::load(None, "gaiad").unwrap_err();
        assert!(matches!(err, TestnetError::UnknownProfile { ref known, .. } if known == "injectived, wasmd"), "{err}");
    }
}
