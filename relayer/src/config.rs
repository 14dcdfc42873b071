//! The relayer's TOML configuration (see `relayer/config.example.toml`, which documents every key),
//! in the style of Hermes: serde structs, defaults in the [`default`] module, and a
//! [`Config::resolve`] step that reads the manifest and the secrets into [`Resolved`].
//!
//! Secrets (the operator's Cosmos key, the attester's EVM key) are named by a file or an
//! environment variable, never written in the config; the `Debug` of everything here redacts them.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use arena_client::{ChainConfig, GasPrice, Manifest, Signer};
use arena_evm::EvmConfig;
use serde::Deserialize;

use crate::error::RelayerError;

/// The manifest's name of the EVM settlement contract (`testnet deploy` writes it).
pub const MANIFEST_SETTLEMENT: &str = "ArenaSettlement";
/// The manifest's name of the bridge contract.
pub const MANIFEST_BRIDGE: &str = "arena-bridge";

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
    /// Simulated gas times this is what a Cosmos transaction may use.
    pub fn gas_adjustment() -> f64 {
        arena_client::ChainConfig::DEFAULT_GAS_ADJUSTMENT
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
#[derive(Clone, Debug, Deserialize)]
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

/// Where a secret comes from: `{ file = "path" }` or `{ env = "VAR" }`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SecretSource {
    /// A file readable by its owner only (mode 600).
    File(PathBuf),
    /// An environment variable.
    Env(String),
}

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Where the secret lives is not itself secret; what it holds never passes through here.
        match self {
            Self::File(path) => write!(f, "File({})", path.display()),
            Self::Env(var) => write!(f, "Env(${var})"),
        }
    }
}

impl SecretSource {
    /// How to name this source in messages.
    pub fn describe(&self) -> String {
        match self {
            Self::File(path) => path.display().to_string(),
            Self::Env(var) => format!("${var}"),
        }
    }

    /// Reads the secret text, refusing a file that group or others can read.
    fn read(&self) -> Result<String, RelayerError> {
        let refuse = |reason: String| RelayerError::Secret { source_name: self.describe(), reason };
        match self {
            Self::File(path) => {
                check_private(path).map_err(refuse)?;
                std::fs::read_to_string(path).map_err(|e| refuse(format!("cannot read: {e}")))
            }
            Self::Env(var) => std::env::var(var).map_err(|_| refuse("environment variable is not set".into())),
        }
    }

    /// An EVM private key: 32 bytes as hex, with or without `0x`.
    pub fn evm_signer(&self) -> Result<PrivateKeySigner, RelayerError> {
        let text = self.read()?;
        text.trim().parse::<PrivateKeySigner>().map_err(|_| RelayerError::Secret {
            source_name: self.describe(),
            // The parse error may echo the input: it is not passed on.
            reason: "not a 32-byte hex secp256k1 secret key (0x + 64 hex digits)".into(),
        })
    }

    /// A Cosmos key: a BIP39 mnemonic (account 0) or a 32-byte hex secret.
    pub fn cosmos_signer(&self, bech32_prefix: &str) -> Result<Signer, RelayerError> {
        let secret =
            |e: arena_client::ClientError| RelayerError::Secret { source_name: self.describe(), reason: e.to_string() };
        match self {
            Self::File(path) => Signer::from_key_file(path, bech32_prefix).map_err(secret),
            Self::Env(var) => Signer::from_env(var, bech32_prefix).map_err(secret),
        }
    }
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(format!("readable by others (mode {:o}); run `chmod 600 {}`", mode & 0o777, path.display()));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<(), String> {
    Ok(())
}

/// `[cosmos]`: the chain, the bridge and the operator account.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CosmosConfig {
    /// A `testnet deploy` manifest to take the chain settings, the bridge address, the EVM RPC
    /// and the settlement address from; keys given here override it.
    pub manifest: Option<PathBuf>,
    /// Chain id, e.g. `arena-local-1`.
    pub chain_id: Option<String>,
    /// gRPC endpoint, e.g. `http://127.0.0.1:9090`.
    pub grpc_url: Option<String>,
    /// Bech32 prefix of accounts (`inj`, `wasm`).
    pub bech32_prefix: Option<String>,
    /// Gas price with its denom, e.g. `160000000inj`.
    pub gas_price: Option<String>,
    /// Simulated gas is multiplied by this.
    #[serde(default = "default::gas_adjustment")]
    pub gas_adjustment: f64,
    /// Seconds to wait for a transaction's inclusion.
    #[serde(default = "default::inclusion_timeout_secs")]
    pub inclusion_timeout_secs: u64,
    /// The arena-bridge contract.
    pub bridge: Option<String>,
    /// The relayer's Cosmos account: attests and confirms (it must be the attester's operator on
    /// the bridge) and pays their fees.
    pub operator_key: SecretSource,
}

/// `[evm]`: the EVM chain, the settlement contract and the attester key.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvmSection {
    /// JSON-RPC endpoint (`http://127.0.0.1:8545`, `https://sepolia.base.org`).
    pub rpc_url: Option<String>,
    /// Chain id the endpoint must serve.
    #[serde(default = "default::evm_chain_id")]
    pub chain_id: u64,
    /// The ArenaSettlement contract.
    pub settlement: Option<String>,
    /// The attester key (signs batches; also sends `postBatch` and pays its gas).
    pub attester_key: SecretSource,
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

/// `[relay]`: the settlement loop.
#[derive(Clone, Debug, Deserialize)]
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
#[derive(Clone, Debug, Deserialize)]
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
#[derive(Clone, Debug, Deserialize)]
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

/// Everything the relayer runs with: addresses parsed, manifest applied, secrets loaded.
pub struct Resolved {
    /// How to reach and pay the Cosmos chain.
    pub chain: ChainConfig,
    /// The bridge contract.
    pub bridge: String,
    /// The operator account.
    pub operator: Signer,
    /// How to reach the EVM chain (the client waits for inclusion only; the loop applies the depth).
    pub evm: EvmConfig,
    /// The settlement contract.
    pub settlement: Address,
    /// The attester key.
    pub attester: PrivateKeySigner,
    /// Confirmation depth.
    pub confirmations: u64,
    /// First block of the `BatchPosted` search.
    pub log_from_block: u64,
    /// Widest `eth_getLogs` range.
    pub log_block_range: u64,
    /// Pause between passes.
    pub poll_interval: Duration,
    /// List page size.
    pub page_size: u32,
    /// Whether to seal.
    pub seal: bool,
    /// gRPC listen address.
    pub grpc_listen: SocketAddr,
    /// `/metrics` listen address, when served.
    pub metrics_listen: Option<SocketAddr>,
}

impl fmt::Debug for Resolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolved")
            .field("chain", &self.chain)
            .field("bridge", &self.bridge)
            .field("operator", &self.operator.address().as_ref())
            .field("evm", &self.evm)
            .field("settlement", &self.settlement)
            .field("attester", &self.attester.address())
            .field("confirmations", &self.confirmations)
            .field("poll_interval", &self.poll_interval)
            .field("seal", &self.seal)
            .field("grpc_listen", &self.grpc_listen)
            .field("metrics_listen", &self.metrics_listen)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Parses a config file's text.
    pub fn parse(text: &str) -> Result<Self, RelayerError> {
        toml::from_str(text).map_err(|e| RelayerError::Config(e.to_string()))
    }

    /// Reads and parses a config file.
    pub fn load(path: &Path) -> Result<Self, RelayerError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| RelayerError::Config(format!("cannot read {}: {e}", path.display())))?;
        Self::parse(&text).map_err(|e| RelayerError::Config(format!("{}: {e}", path.display())))
    }

    /// Applies the manifest, checks that nothing required is missing, and loads the secrets.
    pub fn resolve(&self) -> Result<Resolved, RelayerError> {
        let manifest = match &self.cosmos.manifest {
            Some(path) => Some(Manifest::read(path).map_err(|e| RelayerError::Config(e.to_string()))?),
            None => None,
        };
        let m = manifest.as_ref();
        let required =
            |key: &str| RelayerError::Config(format!("`{key}` is required (or `cosmos.manifest` to take it from)"));
        let c = &self.cosmos;
        let chain_id = c
            .chain_id
            .clone()
            .or_else(|| m.map(|m| m.chain.chain_id.clone()))
            .ok_or_else(|| required("cosmos.chain_id"))?;
        let grpc_url = c
            .grpc_url
            .clone()
            .or_else(|| m.map(|m| m.chain.grpc_url.clone()))
            .ok_or_else(|| required("cosmos.grpc_url"))?;
        let bech32_prefix = c
            .bech32_prefix
            .clone()
            .or_else(|| m.map(|m| m.chain.bech32_prefix.clone()))
            .ok_or_else(|| required("cosmos.bech32_prefix"))?;
        let gas_price: GasPrice = match (&c.gas_price, m) {
            (Some(price), _) => {
                price.parse().map_err(|e: arena_client::ClientError| RelayerError::Config(e.to_string()))?
            }
            (None, Some(m)) => m.chain.gas_price.clone(),
            (None, None) => return Err(required("cosmos.gas_price")),
        };
        let bridge = c
            .bridge
            .clone()
            .or_else(|| m.and_then(|m| m.contracts.get(MANIFEST_BRIDGE)).map(|b| b.address.clone()))
            .ok_or_else(|| required("cosmos.bridge"))?;
        let rpc_url = self
            .evm
            .rpc_url
            .clone()
            .or_else(|| m.map(|m| m.endpoints.evm_rpc.clone()))
            .ok_or_else(|| required("evm.rpc_url"))?;
        let settlement = self
            .evm
            .settlement
            .clone()
            .or_else(|| m.and_then(|m| m.evm.contracts.get(MANIFEST_SETTLEMENT)).cloned())
            .ok_or_else(|| required("evm.settlement"))?;
        let settlement: Address = settlement
            .parse()
            .map_err(|e| RelayerError::Config(format!("evm.settlement {settlement:?} is not an EVM address: {e}")))?;
        if self.evm.confirmations == 0 {
            return Err(RelayerError::Config("evm.confirmations must be at least 1 (1 = the inclusion block)".into()));
        }
        if !(1..=100).contains(&self.relay.page_size) {
            return Err(RelayerError::Config(format!("relay.page_size {} is not in 1..=100", self.relay.page_size)));
        }
        let chain = ChainConfig {
            chain_id,
            grpc_url,
            bech32_prefix: bech32_prefix.clone(),
            gas_price,
            gas_adjustment: c.gas_adjustment,
            inclusion_timeout: Duration::from_secs(c.inclusion_timeout_secs),
        };
        let evm = EvmConfig {
            confirmations: 1,
            receipt_timeout: Duration::from_secs(self.evm.receipt_timeout_secs),
            poll_interval: Duration::from_millis(self.evm.poll_interval_ms),
            ..EvmConfig::new(rpc_url, self.evm.chain_id)
        };
        Ok(Resolved {
            operator: c.operator_key.cosmos_signer(&bech32_prefix)?,
            attester: self.evm.attester_key.evm_signer()?,
            chain,
            bridge,
            evm,
            settlement,
            confirmations: self.evm.confirmations,
            log_from_block: self.evm.log_from_block,
            log_block_range: self.evm.log_block_range.max(1),
            poll_interval: Duration::from_millis(self.relay.poll_interval_ms),
            page_size: self.relay.page_size,
            seal: self.relay.seal,
            grpc_listen: self.grpc.listen,
            metrics_listen: self.telemetry.enabled.then_some(self.telemetry.listen),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../config.example.toml");
    const ATTESTER: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

    fn private_file(dir: &Path, name: &str, text: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        path
    }

    #[test]
    fn the_example_config_parses_with_its_documented_defaults() {
        let config = Config::parse(EXAMPLE).unwrap();
        assert_eq!(config.evm.chain_id, 84532);
        assert_eq!(config.evm.confirmations, default::confirmations());
        assert_eq!(config.relay.poll_interval_ms, default::poll_interval_ms());
        assert_eq!(config.grpc.listen, default::grpc_listen());
        assert_eq!(config.telemetry.listen, default::metrics_listen());
        assert!(matches!(config.cosmos.operator_key, SecretSource::File(_)));
        assert!(matches!(config.evm.attester_key, SecretSource::Env(ref v) if v == "ARENA_ATTESTER_KEY"));
    }

    #[test]
    fn a_minimal_config_takes_every_default() {
        let config = Config::parse(
            r#"
            [cosmos]
            operator_key = { env = "OP" }
            [evm]
            attester_key = { env = "AT" }
            "#,
        )
        .unwrap();
        assert_eq!(config.evm.confirmations, 2);
        assert_eq!(config.relay.page_size, 30);
        assert!(config.relay.seal && config.telemetry.enabled);
        // Nothing says where the chain is: resolving names the missing key.
        let err = config.resolve().unwrap_err().to_string();
        assert!(err.contains("cosmos.chain_id"), "{err}");
    }

    /// A whole config reading its keys from `operator` and `attester`, with `extra` appended to
    /// the `[evm]` table (or starting tables of its own).
    fn sample_config(operator: &Path, attester: &Path, extra: &str) -> String {
        format!(
            r#"
            [cosmos]
            chain_id = "arena-local-1"
            grpc_url = "http://127.0.0.1:9090"
            bech32_prefix = "inj"
            gas_price = "160000000inj"
            bridge = "inj1bridge"
            operator_key = {{ file = "{}" }}
            [evm]
            rpc_url = "http://127.0.0.1:8545"
            settlement = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
            attester_key = {{ file = "{}" }}
            {extra}
            "#,
            operator.display(),
            attester.display()
        )
    }

    #[test]
    fn metrics_are_served_only_when_enabled() {
        let dir = tempfile::tempdir().unwrap();
        let attester = private_file(dir.path(), "attester.key", &format!("{ATTESTER}\n"));
        let operator =
            private_file(dir.path(), "operator.key", "test test test test test test test test test test test junk");
        let with = |telemetry: &str| {
            let text = sample_config(&operator, &attester, telemetry);
            Config::parse(&text).unwrap().resolve().unwrap().metrics_listen
        };
        assert_eq!(with(""), Some(default::metrics_listen()), "served by default");
        assert_eq!(with("[telemetry]\nenabled = false"), None);
        // A listen address without the switch serves nothing either.
        assert_eq!(with("[telemetry]\nenabled = false\nlisten = \"127.0.0.1:9999\""), None);
        assert_eq!(with("[telemetry]\nlisten = \"127.0.0.1:9999\""), Some("127.0.0.1:9999".parse().unwrap()));
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = Config::parse(
            "[cosmos]\noperator_key = { env = \"OP\" }\nbridgee = \"x\"\n[evm]\nattester_key = { env = \"A\" }\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("bridgee"), "{err}");
    }

    #[test]
    fn secrets_load_from_files_and_never_show_in_debug() {
        let dir = tempfile::tempdir().unwrap();
        let attester = private_file(dir.path(), "attester.key", &format!("{ATTESTER}\n"));
        let operator =
            private_file(dir.path(), "operator.key", "test test test test test test test test test test test junk");
        let text = sample_config(&operator, &attester, "confirmations = 3");
        let resolved = Config::parse(&text).unwrap().resolve().unwrap();
        assert_eq!(resolved.attester.address().to_string(), "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
        assert_eq!(resolved.confirmations, 3);
        assert_eq!(resolved.evm.confirmations, 1);
        let shown = format!("{resolved:?}");
        assert!(!shown.contains(&ATTESTER[2..]), "{shown}");
        assert!(!shown.contains("junk"), "{shown}");
        assert!(shown.contains("0x70997970c51812dc3a010c7d01b50e0d17dc79c8"), "{shown}");
    }

    #[test]
    fn a_manifest_supplies_the_chain_the_bridge_and_the_settlement() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("manifest.json");
        std::fs::write(
            &manifest,
            r#"{
              "profile": "injectived",
              "chain": {"chain_id": "arena-local-1", "grpc_url": "http://127.0.0.1:9090", "bech32_prefix": "inj",
                        "gas_price": "160000000inj", "gas_adjustment": 1.5, "inclusion_timeout": 30.0},
              "denom": "inj",
              "endpoints": {"rpc": "http://127.0.0.1:26657", "grpc": "http://127.0.0.1:9090",
                            "rest": "http://127.0.0.1:1317", "evm_rpc": "http://127.0.0.1:8545"},
              "contracts": {"arena-bridge": {"code_id": 2, "checksum": "00", "address": "inj1bridgeaddress",
                                             "store_gas": 1, "instantiate_gas": 1}},
              "evm": {"chain_id": 84532, "contracts": {"ArenaSettlement": "0x5FbDB2315678afecb367f032d93F642f64180aa3"}}
            }"#,
        )
        .unwrap();
        let attester = private_file(dir.path(), "attester.key", ATTESTER);
        let operator = private_file(dir.path(), "operator.key", &"11".repeat(32));
        let text = format!(
            "[cosmos]\nmanifest = \"{}\"\ngrpc_url = \"http://127.0.0.1:19090\"\noperator_key = {{ file = \"{}\" }}\n\
             [evm]\nattester_key = {{ file = \"{}\" }}\n",
            manifest.display(),
            operator.display(),
            attester.display()
        );
        let resolved = Config::parse(&text).unwrap().resolve().unwrap();
        assert_eq!(resolved.chain.chain_id, "arena-local-1");
        // A key written in the file overrides the manifest's.
        assert_eq!(resolved.chain.grpc_url, "http://127.0.0.1:19090");
        assert_eq!(resolved.bridge, "inj1bridgeaddress");
        assert_eq!(resolved.evm.rpc_url, "http://127.0.0.1:8545");
        assert_eq!(resolved.settlement.to_checksum(None), "0x5FbDB2315678afecb367f032d93F642f64180aa3");
    }

    #[test]
    fn a_key_file_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = private_file(dir.path(), "attester.key", ATTESTER);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = SecretSource::File(path).evm_signer().unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
    }

    #[test]
    fn a_malformed_key_is_refused_without_echoing_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = private_file(dir.path(), "attester.key", "0xnot-a-key-but-secret-text");
        let err = SecretSource::File(path).evm_signer().unwrap_err().to_string();
        assert!(!err.contains("secret-text"), "{err}");
    }
}
