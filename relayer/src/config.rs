//! The relayer's configuration: the file's types are [`arena_config::relayer`] (see
//! `relayer/config.example.toml`, which documents every key); [`resolve`] reads the manifest and
//! the secrets into [`Resolved`], what the relayer runs with.
//!
//! Secrets (the operator's Cosmos key, the attester's EVM key) are named by a [`KeySource`] (a
//! file or an environment variable), never written in the config; the `Debug` of everything here
//! redacts them.

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use arena_client::{ChainConfig, GasPrice, Manifest, Signer};
pub use arena_config::relayer::{default, Config, CosmosConfig, EvmSection, GrpcConfig, RelayConfig, TelemetryConfig};
pub use arena_config::KeySource;
use arena_evm::EvmConfig;

use crate::error::RelayerError;

/// The manifest's name of the EVM settlement contract (`testnet deploy` writes it).
pub const MANIFEST_SETTLEMENT: &str = "ArenaSettlement";
/// The manifest's name of the bridge contract.
pub const MANIFEST_BRIDGE: &str = "arena-bridge";

/// An EVM private key from `source`: 32 bytes as hex, with or without `0x`.
pub fn evm_signer(source: &KeySource) -> Result<PrivateKeySigner, RelayerError> {
    let refuse = |reason: String| RelayerError::Secret { source_name: source.describe(), reason };
    match source.read().map_err(refuse)? {
        arena_config::Secret::Text(text) => text.trim().parse::<PrivateKeySigner>().map_err(|_| {
            // The parse error may echo the input: it is not passed on.
            refuse("not a 32-byte hex secp256k1 secret key (0x + 64 hex digits)".into())
        }),
        arena_config::Secret::DevnetAccount(_) => {
            Err(refuse("an EVM key comes from a file or an environment variable, not a devnet account".into()))
        }
    }
}

/// A Cosmos key from `source`: a BIP39 mnemonic (account 0), a 32-byte hex secret or a devnet
/// account.
pub fn cosmos_signer(source: &KeySource, bech32_prefix: &str) -> Result<Signer, RelayerError> {
    Signer::from_source(source, bech32_prefix)
        .map_err(|e| RelayerError::Secret { source_name: source.describe(), reason: e.to_string() })
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

/// Parses a config file's text.
pub fn parse(text: &str) -> Result<Config, RelayerError> {
    arena_config::parse(text).map_err(RelayerError::Config)
}

/// Reads and parses a config file.
pub fn load(path: &Path) -> Result<Config, RelayerError> {
    arena_config::load(path).map_err(|e| RelayerError::Config(e.to_string()))
}

/// Applies the manifest, checks that nothing required is missing, and loads the secrets.
pub fn resolve(config: &Config) -> Result<Resolved, RelayerError> {
    let manifest = match &config.cosmos.manifest {
        Some(path) => Some(Manifest::read(path).map_err(|e| RelayerError::Config(e.to_string()))?),
        None => None,
    };
    let m = manifest.as_ref();
    let required =
        |key: &str| RelayerError::Config(format!("`{key}` is required (or `cosmos.manifest` to take it from)"));
    let c = &config.cosmos;
    let chain_id = c
        .chain_id
        .clone()
        .or_else(|| m.map(|m| m.chain.chain_id.clone()))
        .ok_or_else(|| required("cosmos.chain_id"))?;
    // `grpc_url` and `grpc_urls` given here replace the manifest's endpoints together.
    let (grpc_url, grpc_urls) = match (c.grpc_url.clone(), c.grpc_urls.split_first()) {
        (Some(url), _) => (url, c.grpc_urls.clone()),
        (None, Some((first, rest))) => (first.clone(), rest.to_vec()),
        (None, None) => m
            .map(|m| (m.chain.grpc_url.clone(), m.chain.grpc_urls.clone()))
            .ok_or_else(|| required("cosmos.grpc_url"))?,
    };
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
    let rpc_url = config
        .evm
        .rpc_url
        .clone()
        .or_else(|| m.map(|m| m.endpoints.evm_rpc.clone()))
        .ok_or_else(|| required("evm.rpc_url"))?;
    let settlement = config
        .evm
        .settlement
        .clone()
        .or_else(|| m.and_then(|m| m.evm.contracts.get(MANIFEST_SETTLEMENT)).cloned())
        .ok_or_else(|| required("evm.settlement"))?;
    let settlement: Address = settlement
        .parse()
        .map_err(|e| RelayerError::Config(format!("evm.settlement {settlement:?} is not an EVM address: {e}")))?;
    if config.evm.confirmations == 0 {
        return Err(RelayerError::Config("evm.confirmations must be at least 1 (1 = the inclusion block)".into()));
    }
    if !(1..=100).contains(&config.relay.page_size) {
        return Err(RelayerError::Config(format!("relay.page_size {} is not in 1..=100", config.relay.page_size)));
    }
    let chain = ChainConfig {
        grpc_urls,
        gas_adjustment: c.gas_adjustment,
        inclusion_timeout: Duration::from_secs(c.inclusion_timeout_secs),
        ..ChainConfig::new(chain_id, grpc_url, bech32_prefix.clone(), gas_price)
    };
    let evm = EvmConfig {
        confirmations: 1,
        receipt_timeout: Duration::from_secs(config.evm.receipt_timeout_secs),
        poll_interval: Duration::from_millis(config.evm.poll_interval_ms),
        ..EvmConfig::new(rpc_url, config.evm.chain_id)
    };
    Ok(Resolved {
        operator: cosmos_signer(&c.operator_key, &bech32_prefix)?,
        attester: evm_signer(&config.evm.attester_key)?,
        chain,
        bridge,
        evm,
        settlement,
        confirmations: config.evm.confirmations,
        log_from_block: config.evm.log_from_block,
        log_block_range: config.evm.log_block_range.max(1),
        poll_interval: Duration::from_millis(config.relay.poll_interval_ms),
        page_size: config.relay.page_size,
        seal: config.relay.seal,
        grpc_listen: config.grpc.listen,
        metrics_listen: config.telemetry.enabled.then_some(config.telemetry.listen),
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

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
        let config = parse(EXAMPLE).unwrap();
        assert_eq!(default::gas_adjustment(), ChainConfig::DEFAULT_GAS_ADJUSTMENT, "the client's default");
        assert_eq!(config.evm.chain_id, 84532);
        assert_eq!(config.evm.confirmations, default::confirmations());
        assert_eq!(config.relay.poll_interval_ms, default::poll_interval_ms());
        assert_eq!(config.grpc.listen, default::grpc_listen());
        assert_eq!(config.telemetry.listen, default::metrics_listen());
        assert!(matches!(config.cosmos.operator_key, KeySource::File(_)));
        assert!(matches!(config.evm.attester_key, KeySource::Env(ref v) if v == "ARENA_ATTESTER_KEY"));
    }

    #[test]
    fn a_minimal_config_takes_every_default() {
        let config = parse(
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
        let err = resolve(&config).unwrap_err().to_string();
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
            resolve(&parse(&text).unwrap()).unwrap().metrics_listen
        };
        assert_eq!(with(""), Some(default::metrics_listen()), "served by default");
        assert_eq!(with("[telemetry]\nenabled = false"), None);
        // A listen address without the switch serves nothing either.
        assert_eq!(with("[telemetry]\nenabled = false\nlisten = \"127.0.0.1:9999\""), None);
        assert_eq!(with("[telemetry]\nlisten = \"127.0.0.1:9999\""), Some("127.0.0.1:9999".parse().unwrap()));
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = parse(
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
        let resolved = resolve(&parse(&text).unwrap()).unwrap();
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
        let resolved = resolve(&parse(&text).unwrap()).unwrap();
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
        let err = evm_signer(&KeySource::File(path)).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
    }

    #[test]
    fn a_malformed_key_is_refused_without_echoing_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = private_file(dir.path(), "attester.key", "0xnot-a-key-but-secret-text");
        let err = evm_signer(&KeySource::File(path)).unwrap_err().to_string();
        assert!(!err.contains("secret-text"), "{err}");
    }
}
