//! `arena-relayer start --config FILE`: one relayer, its two chains and its keys.
//! `relayer/config.example.toml` documents every key.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::KeySource;

/// Defaults of every optional key, referenced by `#[serde(default = "default::…")]`.
pub mod default {
    /// Base Sepolia (and the local anvil).
    pub fn evm_chain_id() -> u64 {
        84532
    }
    /// Blocks on top of and including the posting block before the bridge is told.
    pub fn confirmations() -> u64 {
        2
    }
    /// How long to wait for one EVM receipt before the step is retried on a later pass.
    pub fn receipt_timeout_secs() -> u64 {
        120
    }
    /// How often the EVM client polls for a receipt.
    pub fn evm_poll_interval_ms() -> u64 {
        500
    }
    /// The widest block range one `eth_getLogs` asks for (public Base RPCs refuse wider ones).
    pub fn log_block_range() -> u64 {
        10_000
    }
    /// Pause between two passes of the settlement loop.
    pub fn poll_interval_ms() -> u64 {
        1_000
    }
    /// Page size of the bridge's list queries (the bridge caps it at 100).
    pub fn page_size() -> u32 {
        30
    }
    /// Simulated gas times this is what a Cosmos transaction may use: the chain client's own
    /// default (`arena_client::ChainConfig::DEFAULT_GAS_ADJUSTMENT`; a relayer test checks that
    /// they agree).
    pub fn gas_adjustment() -> f64 {
        1.5
    }
    /// Seconds to wait for a Cosmos transaction's inclusion.
    pub fn inclusion_timeout_secs() -> u64 {
        30
    }
    /// Whether the loop seals batches when the bridge says one is sealable (anyone may).
    pub fn seal() -> bool {
        true
    }
    /// The gRPC service's listen address.
    pub fn grpc_listen() -> std::net::SocketAddr {
        ([127, 0, 0, 1], 50551).into()
    }
    /// The Prometheus endpoint's listen address.
    pub fn metrics_listen() -> std::net::SocketAddr {
        ([127, 0, 0, 1], 3001).into()
    }
    /// Whether `/metrics` is served.
    pub fn metrics_enabled() -> bool {
        true
    }
}

/// The whole file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The Cosmos chain and the bridge contract.
    pub cosmos: CosmosConfig,
    /// The EVM chain and the settlement contract.
    pub evm: EvmSection,
    /// The settlement loop.
    #[serde(default)]
    pub relay: RelayConfig,
    /// The gRPC service.
    #[serde(default)]
    pub grpc: GrpcConfig,
    /// Prometheus metrics.
    #[serde(default)]
    pub telemetry: TelemetryConfig,
}

impl Config {
    /// A relayer that takes both chains and both contracts from a `testnet deploy` manifest,
    /// with its two keys and every optional key at its default.
    pub fn from_manifest(manifest: PathBuf, operator_key: KeySource, attester_key: KeySource) -> Self {
        Config {
            cosmos: CosmosConfig { manifest: Some(manifest), ..CosmosConfig::new(operator_key) },
            evm: EvmSection::new(attester_key),
            relay: RelayConfig::default(),
            grpc: GrpcConfig::default(),
            telemetry: TelemetryConfig::default(),
        }
    }
}

/// `[cosmos]`: the chain, the bridge and the operator account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CosmosConfig {
    /// A `testnet deploy` manifest to take the chain settings, the bridge address, the EVM RPC
    /// and the settlement address from; keys given here override it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<PathBuf>,
    /// Chain id, e.g. `arena-local-1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_id: Option<String>,
    /// gRPC endpoint, e.g. `http://127.0.0.1:9090`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grpc_url: Option<String>,
    /// Further gRPC endpoints of the same chain, tried after `grpc_url` (or instead of it when it
    /// is absent) when a node is down or stops advancing; together they override the manifest's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grpc_urls: Vec<String>,
    /// Bech32 prefix of accounts (`inj`, `wasm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bech32_prefix: Option<String>,
    /// Gas price with its denom, e.g. `160000000inj`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gas_price: Option<String>,
    /// Simulated gas is multiplied by this.
    #[serde(default = "default::gas_adjustment")]
    pub gas_adjustment: f64,
    /// Seconds to wait for a transaction's inclusion.
    #[serde(default = "default::inclusion_timeout_secs")]
    pub inclusion_timeout_secs: u64,
    /// The arena-bridge contract.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bridge: Option<String>,
    /// The relayer's Cosmos account: attests and confirms (it must be the attester's operator on
    /// the bridge) and pays their fees.
    pub operator_key: KeySource,
}

impl CosmosConfig {
    /// Nothing but the operator's key; the rest at its default or absent.
    pub fn new(operator_key: KeySource) -> Self {
        CosmosConfig {
            manifest: None,
            chain_id: None,
            grpc_url: None,
            grpc_urls: Vec::new(),
            bech32_prefix: None,
            gas_price: None,
            gas_adjustment: default::gas_adjustment(),
            inclusion_timeout_secs: default::inclusion_timeout_secs(),
            bridge: None,
            operator_key,
        }
    }
}

/// `[evm]`: the EVM chain, the settlement contract and the attester key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvmSection {
    /// JSON-RPC endpoint (`http://127.0.0.1:8545`, `https://sepolia.base.org`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpc_url: Option<String>,
    /// Chain id the endpoint must serve.
    #[serde(default = "default::evm_chain_id")]
    pub chain_id: u64,
    /// The ArenaSettlement contract.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settlement: Option<String>,
    /// The attester key (signs batches; also sends `postBatch` and pays its gas): hex only.
    pub attester_key: KeySource,
    /// Confirmation depth: blocks on top of and including the posting block before the
    /// bridge records the post (1 = included).
    #[serde(default = "default::confirmations")]
    pub confirmations: u64,
    /// Seconds to wait for a receipt.
    #[serde(default = "default::receipt_timeout_secs")]
    pub receipt_timeout_secs: u64,
    /// Receipt polling interval in milliseconds.
    #[serde(default = "default::evm_poll_interval_ms")]
    pub poll_interval_ms: u64,
    /// First block to search for `BatchPosted` events (the settlement's deployment block).
    #[serde(default)]
    pub log_from_block: u64,
    /// Widest block range per `eth_getLogs`.
    #[serde(default = "default::log_block_range")]
    pub log_block_range: u64,
}

impl EvmSection {
    /// Nothing but the attester's key; the rest at its default or absent.
    pub fn new(attester_key: KeySource) -> Self {
        EvmSection {
            rpc_url: None,
            chain_id: default::evm_chain_id(),
            settlement: None,
            attester_key,
            confirmations: default::confirmations(),
            receipt_timeout_secs: default::receipt_timeout_secs(),
            poll_interval_ms: default::evm_poll_interval_ms(),
            log_from_block: 0,
            log_block_range: default::log_block_range(),
        }
    }
}

/// `[relay]`: the settlement loop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelayConfig {
    /// Milliseconds between two passes.
    #[serde(default = "default::poll_interval_ms")]
    pub poll_interval_ms: u64,
    /// Page size of the bridge's list queries.
    #[serde(default = "default::page_size")]
    pub page_size: u32,
    /// Seal a batch when the bridge says one is sealable.
    #[serde(default = "default::seal")]
    pub seal: bool,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self { poll_interval_ms: default::poll_interval_ms(), page_size: default::page_size(), seal: default::seal() }
    }
}

/// `[grpc]`: the `arena.relayer.v1.Relayer` service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrpcConfig {
    /// Listen address.
    #[serde(default = "default::grpc_listen")]
    pub listen: SocketAddr,
}

impl Default for GrpcConfig {
    fn default() -> Self {
        Self { listen: default::grpc_listen() }
    }
}

/// `[telemetry]`: Prometheus `/metrics` over HTTP.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    /// Serve `/metrics`.
    #[serde(default = "default::metrics_enabled")]
    pub enabled: bool,
    /// Listen address.
    #[serde(default = "default::metrics_listen")]
    pub listen: SocketAddr,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self { enabled: default::metrics_enabled(), listen: default::metrics_listen() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_key_set() -> Config {
        Config {
            cosmos: CosmosConfig {
                manifest: Some(".testnet/manifest.json".into()),
                chain_id: Some("arena-local-1".into()),
                grpc_url: Some("http://127.0.0.1:9090".into()),
                grpc_urls: vec!["http://127.0.0.1:9091".into(), "http://127.0.0.1:9092".into()],
                bech32_prefix: Some("inj".into()),
                gas_price: Some("160000000inj".into()),
                gas_adjustment: 1.75,
                inclusion_timeout_secs: 12,
                bridge: Some("inj1bridge".into()),
                operator_key: KeySource::File("operator.key".into()),
            },
            evm: EvmSection {
                rpc_url: Some("http://127.0.0.1:8545".into()),
                chain_id: 31337,
                settlement: Some("0x5FbDB2315678afecb367f032d93F642f64180aa3".into()),
                attester_key: KeySource::Env("ARENA_ATTESTER_KEY".into()),
                confirmations: 1,
                receipt_timeout_secs: 30,
                poll_interval_ms: 100,
                log_from_block: 12,
                log_block_range: 500,
            },
            relay: RelayConfig { poll_interval_ms: 250, page_size: 100, seal: false },
            grpc: GrpcConfig { listen: "127.0.0.1:40001".parse().unwrap() },
            telemetry: TelemetryConfig { enabled: false, listen: "127.0.0.1:40002".parse().unwrap() },
        }
    }

    #[test]
    fn configs_round_trip_through_toml() {
        for config in [
            every_key_set(),
            Config::from_manifest("m.json".into(), KeySource::DevnetAccount(4), KeySource::File("a.key".into())),
        ] {
            let text = crate::to_toml(&config);
            assert_eq!(crate::parse::<Config>(&text).unwrap(), config, "{text}");
        }
    }

    #[test]
    fn a_file_with_only_the_keys_takes_every_default() {
        let text = "[cosmos]\nmanifest = \"m.json\"\noperator_key = { env = \"OP\" }\n[evm]\nattester_key = { env = \"AT\" }\n";
        let expected = Config::from_manifest("m.json".into(), KeySource::Env("OP".into()), KeySource::Env("AT".into()));
        assert_eq!(crate::parse::<Config>(text).unwrap(), expected);
    }

    #[test]
    fn a_single_grpc_url_and_a_list_both_read() {
        let keys = "operator_key = { env = \"OP\" }\n[evm]\nattester_key = { env = \"AT\" }\n";
        let single = crate::parse::<Config>(&format!("[cosmos]\ngrpc_url = \"http://a:1\"\n{keys}")).unwrap();
        assert_eq!((single.cosmos.grpc_url.as_deref(), single.cosmos.grpc_urls.len()), (Some("http://a:1"), 0));
        let list =
            crate::parse::<Config>(&format!("[cosmos]\ngrpc_urls = [\"http://a:1\", \"http://b:2\"]\n{keys}")).unwrap();
        assert_eq!(
            (list.cosmos.grpc_url, list.cosmos.grpc_urls),
            (None, vec!["http://a:1".into(), "http://b:2".into()])
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = crate::parse::<Config>(
            "[cosmos]\noperator_key = { env = \"OP\" }\nbridgee = \"x\"\n[evm]\nattester_key = { env = \"A\" }\n",
        )
        .unwrap_err();
        assert!(err.contains("bridgee"), "{err}");
    }
}
