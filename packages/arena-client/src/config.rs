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
    /// gRPC endpoint, e.g. `http://127.0.0.1:9090`.
    pub grpc_url: String,
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
}

impl ChainConfig {
    /// 1.3 ran out of gas on a fresh account's first transaction on injectived.
    pub const DEFAULT_GAS_ADJUSTMENT: f64 = 1.5;
}

pub mod default {
    use std::time::Duration;

    pub fn gas_adjustment() -> f64 {
        super::ChainConfig::DEFAULT_GAS_ADJUSTMENT
    }
    pub fn inclusion_timeout() -> Duration {
        Duration::from_secs(30)
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
