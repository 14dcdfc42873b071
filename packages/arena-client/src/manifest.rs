//! The deployment manifest that `testnet deploy` writes: everything another part (worker,
//! relayer, scripts) needs to find and talk to the deployed network.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::ChainConfig;
use crate::error::ClientError;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// Profile the chain runs (`injectived`, `wasmd`).
    pub profile: String,
    /// Chain id, gRPC endpoint, bech32 prefix and gas price: an `arena_client::ChainConfig`.
    pub chain: ChainConfig,
    pub denom: String,
    pub endpoints: Endpoints,
    /// Cosmos contracts by package name (`arena-token`, ...).
    pub contracts: BTreeMap<String, DeployedContract>,
    pub evm: EvmDeployment,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Endpoints {
    pub rpc: String,
    pub grpc: String,
    pub rest: String,
    pub evm_rpc: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DeployedContract {
    pub code_id: u64,
    /// Hex sha256 of the stored wasm.
    pub checksum: String,
    pub address: String,
    /// Gas used by the store transaction that created `code_id` (0 when an earlier deploy stored it).
    pub store_gas: u64,
    pub instantiate_gas: u64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct EvmDeployment {
    pub chain_id: u64,
    /// EVM contracts by name; empty until the settlement contracts exist.
    pub contracts: BTreeMap<String, String>,
}

impl Manifest {
    pub fn path(home: &Path) -> PathBuf {
        home.join("manifest.json")
    }

    pub fn read(path: &Path) -> Result<Self, ClientError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ClientError::Manifest { path: path.to_path_buf(), reason: e.to_string() })?;
        serde_json::from_str(&text)
            .map_err(|e| ClientError::Manifest { path: path.to_path_buf(), reason: e.to_string() })
    }

    pub fn write(&self, path: &Path) -> Result<(), ClientError> {
        std::fs::write(path, self.to_json())
            .map_err(|e| ClientError::Manifest { path: path.to_path_buf(), reason: format!("cannot write: {e}") })
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("manifest serializes") + "\n"
    }

    pub fn contract(&self, package: &str) -> Result<&DeployedContract, ClientError> {
        self.contracts.get(package).ok_or_else(|| ClientError::Manifest {
            path: PathBuf::from("manifest.json"),
            reason: format!("no contract {package} deployed"),
        })
    }
}
