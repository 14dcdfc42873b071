//! What the client needs to know about a chain. Serialized as part of the deployment manifest.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::ClientError;

/// How to reach and pay one chain.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChainConfig {
    /// The chain id signed into every transaction (`arena-local-1` on the devnet).
    pub chain_id: String,
    /// gRPC endpoint, e.g. `http://127.0.0.1:9090`: the one a client tries first.
    pub grpc_url: String,
    /// Every gRPC endpoint of the chain (other nodes of the same chain) the client may fail over
    /// to, in order of preference; `grpc_url` need not be repeated here. Empty: `grpc_url` alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grpc_urls: Vec<String>,
    /// Bech32 prefix of account addresses (`inj` for injectived, `wasm` for wasmd).
    pub bech32_prefix: String,
    /// Price of one unit of gas, e.g. `160000000inj`; also names the fee denom.
    pub gas_price: GasPrice,
    /// Simulated gas is multiplied by this before signing.
    #[serde(default = "default::gas_adjustment")]
    pub gas_adjustment: f64,
    /// How long to wait for a broadcast transaction to be included in a block.
    #[serde(default = "default::inclusion_timeout", with = "secs")]
    pub inclusion_timeout: Duration,
    /// With several endpoints: a node whose height has not advanced for this long, while another
    /// endpoint reports a greater one, is left for that one (see [`crate::Client`]).
    #[serde(default = "default::stale_after", with = "secs")]
    pub stale_after: Duration,
}

impl ChainConfig {
    /// 1.3 ran out of gas on a fresh account's first transaction on injectived.
    pub const DEFAULT_GAS_ADJUSTMENT: f64 = 1.5;
    /// Ten blocks of a slow public chain (~0.7–1 s blocks on Injective, 6 s on the Cosmos Hub
    /// would need more), and 20–40 of the devnet's: long enough that a round or two lost to a
    /// proposer that is down (timeout_propose, 1 s on the local network) does not count as stale.
    pub const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(8);

    /// A config for one endpoint, every optional field at its default.
    pub fn new(
        chain_id: impl Into<String>,
        grpc_url: impl Into<String>,
        bech32_prefix: impl Into<String>,
        gas_price: GasPrice,
    ) -> Self {
        ChainConfig {
            chain_id: chain_id.into(),
            grpc_url: grpc_url.into(),
            grpc_urls: Vec::new(),
            bech32_prefix: bech32_prefix.into(),
            gas_price,
            gas_adjustment: Self::DEFAULT_GAS_ADJUSTMENT,
            inclusion_timeout: default::inclusion_timeout(),
            stale_after: Self::DEFAULT_STALE_AFTER,
        }
    }

    /// Every endpoint to use, in order of preference: `grpc_url`, then `grpc_urls` without repeats.
    pub fn endpoints(&self) -> Vec<String> {
        let mut all = vec![self.grpc_url.clone()];
        for url in &self.grpc_urls {
            if !all.contains(url) {
                all.push(url.clone());
            }
        }
        all
    }
}

/// Defaults of the optional fields, referenced by `#[serde(default = "default::…")]`.
pub mod default {
    use std::time::Duration;

    pub fn gas_adjustment() -> f64 {
        super::ChainConfig::DEFAULT_GAS_ADJUSTMENT
    }
    pub fn inclusion_timeout() -> Duration {
        Duration::from_secs(30)
    }
    pub fn stale_after() -> Duration {
        super::ChainConfig::DEFAULT_STALE_AFTER
    }
}

mod secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_secs_f64(f64::deserialize(d)?))
    }
}

/// A gas price such as `160000000inj` or `0.025uatom`: an exact decimal amount per gas unit and a denom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GasPrice {
    /// The amount per gas unit times 10^18, so fractional prices stay exact.
    atto_amount: u128,
    denom: String,
}

const ATTO: u128 = 1_000_000_000_000_000_000;

impl GasPrice {
    pub fn denom(&self) -> &str {
        &self.denom
    }

    /// The fee for `gas` units, rounded up: a fee one unit short is refused by the node.
    pub fn fee_for(&self, gas: u64) -> u128 {
        (gas as u128 * self.atto_amount).div_ceil(ATTO)
    }
}

impl FromStr for GasPrice {
    type Err = ClientError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            ClientError::Config(format!(
                "gas price {s:?} is not an amount followed by a denom, like 160000000inj or 0.025uatom"
            ))
        };
        let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(bad)?;
        let (amount, denom) = s.split_at(split);
        if amount.is_empty() || denom.is_empty() {
            return Err(bad());
        }
        let (whole, frac) = amount.split_once('.').unwrap_or((amount, ""));
        if frac.len() > 18 || frac.contains('.') {
            return Err(bad());
        }
        let whole: u128 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| bad())? };
        let frac_atto: u128 = if frac.is_empty() { 0 } else { format!("{frac:0<18}").parse().map_err(|_| bad())? };
        let atto_amount = whole.checked_mul(ATTO).and_then(|w| w.checked_add(frac_atto)).ok_or_else(bad)?;
        Ok(GasPrice { atto_amount, denom: denom.to_string() })
    }
}

impl fmt::Display for GasPrice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.atto_amount / ATTO;
        let frac = self.atto_amount % ATTO;
        if frac == 0 {
            write!(f, "{whole}{}", self.denom)
        } else {
            let frac = format!("{frac:018}");
            write!(f, "{whole}.{}{}", frac.trim_end_matches('0'), self.denom)
        }
    }
}

impl Serialize for GasPrice {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for GasPrice {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_start_with_grpc_url_and_have_no_repeats() {
        let mut config = ChainConfig::new("c", "http://a:1", "inj", "1inj".parse().unwrap());
        assert_eq!(config.endpoints(), ["http://a:1"]);
        config.grpc_urls = vec!["http://a:1".into(), "http://b:2".into(), "http://c:3".into(), "http://b:2".into()];
        assert_eq!(config.endpoints(), ["http://a:1", "http://b:2", "http://c:3"]);
    }

    #[test]
    fn a_config_without_the_new_fields_reads_with_their_defaults() {
        let old = r#"{"chain_id":"c","grpc_url":"http://a:1","bech32_prefix":"inj","gas_price":"1inj"}"#;
        let config: ChainConfig = serde_json::from_str(old).unwrap();
        assert_eq!(config, ChainConfig::new("c", "http://a:1", "inj", "1inj".parse().unwrap()));
        assert!(!serde_json::to_string(&config).unwrap().contains("grpc_urls"), "an empty list is not written");
    }

    #[test]
    fn whole_gas_price_round_trips_and_prices_exactly() {
        let p: GasPrice = "160000000inj".parse().unwrap();
        assert_eq!(p.denom(), "inj");
        assert_eq!(p.fee_for(200_000), 32_000_000_000_000);
        assert_eq!(p.to_string(), "160000000inj");
    }

    #[test]
    fn fractional_gas_price_rounds_the_fee_up() {
        let p: GasPrice = "0.025uatom".parse().unwrap();
        assert_eq!(p.fee_for(100_001), 2501); // 2500.025 rounds up
        assert_eq!(p.to_string(), "0.025uatom");
    }

    #[test]
    fn malformed_gas_prices_are_refused() {
        for bad in ["", "inj", "160000000", "1.2.3inj", "abc"] {
            assert!(matches!(bad.parse::<GasPrice>(), Err(ClientError::Config(_))), "{bad:?} was accepted");
        }
    }
}
