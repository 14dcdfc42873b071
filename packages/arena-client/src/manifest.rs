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

/// Where the network listens. `rpc`, `grpc` and `rest` are the first validator node's; `nodes`
/// lists every validator's when the chain has more than one (readers that know only the single
/// fields keep working).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Endpoints {
    pub rpc: String,
    pub grpc: String,
    pub rest: String,
    pub evm_rpc: String,
    /// Every validator node's endpoints, node 0 first; empty with a single validator.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<NodeEndpoints>,
}

impl Endpoints {
    /// Every node's CometBFT RPC, node 0 first (`rpc` alone with a single validator).
    pub fn rpc_urls(&self) -> Vec<String> {
        if self.nodes.is_empty() {
            vec![self.rpc.clone()]
        } else {
            self.nodes.iter().map(|n| n.rpc.clone()).collect()
        }
    }
}

/// One validator node's endpoints.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct NodeEndpoints {
    pub rpc: String,
    pub grpc: String,
    pub rest: String,
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A manifest with every field set to something other than its default.
    fn manifest(gas_price: &str, inclusion_timeout: Duration) -> Manifest {
        let contract = |code_id: u64, address: &str| DeployedContract {
            code_id,
            checksum: format!("{code_id:064x}"),
            address: address.to_string(),
            store_gas: 1_234_567 + code_id,
            instantiate_gas: 234_567,
        };
        Manifest {
            profile: "injectived".into(),
            chain: ChainConfig {
                chain_id: "arena-local-1".into(),
                grpc_url: "http://127.0.0.1:19090".into(),
                grpc_urls: vec!["http://127.0.0.1:19090".into(), "http://127.0.0.1:19091".into()],
                bech32_prefix: "inj".into(),
                gas_price: gas_price.parse().unwrap(),
                gas_adjustment: 1.75,
                inclusion_timeout,
                stale_after: Duration::from_millis(4_500),
            },
            denom: "inj".into(),
            endpoints: Endpoints {
                rpc: "http://127.0.0.1:26657".into(),
                grpc: "http://127.0.0.1:19090".into(),
                rest: "http://127.0.0.1:1317".into(),
                evm_rpc: "http://127.0.0.1:8545".into(),
                nodes: vec![
                    NodeEndpoints {
                        rpc: "http://127.0.0.1:26657".into(),
                        grpc: "http://127.0.0.1:19090".into(),
                        rest: "http://127.0.0.1:1317".into(),
                    },
                    NodeEndpoints {
                        rpc: "http://127.0.0.1:26658".into(),
                        grpc: "http://127.0.0.1:19091".into(),
                        rest: "http://127.0.0.1:1318".into(),
                    },
                ],
            },
            contracts: BTreeMap::from([
                ("arena-token".into(), contract(1, "inj14hj2tavq8fpesdwxxcu44rty3hh90vhujaxlnz")),
                ("arena-bridge".into(), contract(3, "inj1qg5ega6dykkxc307y25pecuufrjkxkaggkkxh7")),
            ]),
            evm: EvmDeployment {
                chain_id: 84532,
                contracts: BTreeMap::from([
                    ("ArenaSettlement".into(), "0x5FbDB2315678afecb367f032d93F642f64180aa3".into()),
                    ("ArenaToken".into(), "0xa16E02E87b7454126E5E10d957A927A7F5B5d2be".into()),
                ]),
            },
        }
    }

    #[test]
    fn a_manifest_reads_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = Manifest::path(dir.path());
        for (gas_price, timeout) in [
            ("160000000inj", Duration::from_secs(30)),
            ("0.025uatom", Duration::from_millis(2_500)),
            ("0.000000000000000001uarena", Duration::from_millis(100)),
        ] {
            let m = manifest(gas_price, timeout);
            let parsed: Manifest = serde_json::from_str(&m.to_json()).unwrap();
            assert_eq!(parsed, m, "through to_json");
            m.write(&path).unwrap();
            assert_eq!(Manifest::read(&path).unwrap(), m, "through the file");
            // Written again, the same bytes: nothing drifts between rounds.
            assert_eq!(Manifest::read(&path).unwrap().to_json(), m.to_json());
        }
    }

    /// A manifest of a single-validator network, as written before `nodes` and `grpc_urls`
    /// existed, still reads; its RPC list is its one RPC.
    #[test]
    fn a_manifest_without_node_lists_reads() {
        let mut m = manifest("160000000inj", Duration::from_secs(30));
        m.endpoints.nodes.clear();
        m.chain.grpc_urls.clear();
        let json = m.to_json();
        assert!(!json.contains("nodes") && !json.contains("grpc_urls"), "{json}");
        let parsed: Manifest = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed.endpoints.rpc_urls(), ["http://127.0.0.1:26657"]);
        assert_eq!(manifest("1inj", Duration::from_secs(1)).endpoints.rpc_urls().len(), 2);
    }

    #[test]
    fn a_missing_contract_names_the_package() {
        let m = manifest("160000000inj", Duration::from_secs(30));
        assert_eq!(m.contract("arena-bridge").unwrap().code_id, 3);
        let err = m.contract("arena-market").unwrap_err();
        assert!(err.to_string().contains("no contract arena-market deployed"), "{err}");
    }

    #[test]
    fn an_unreadable_manifest_names_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("manifest.json");
        std::fs::write(&path, "{ not json").unwrap();
        let err = Manifest::read(&path).unwrap_err();
        assert!(matches!(&err, ClientError::Manifest { path: p, .. } if *p == path), "{err}");
    }
}
