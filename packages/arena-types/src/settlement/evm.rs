//! EVM primitives: Keccak-256, 20-byte addresses with EIP-55 checksums, 0x-hex.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha3::{Digest, Keccak256};

use super::error::SettlementError;

/// A 32-byte word: a hash, a Merkle node, an ABI slot.
pub type Bytes32 = [u8; 32];

/// Keccak-256 (Ethereum's, not NIST SHA3-256) of `data`.
pub fn keccak256(data: &[u8]) -> Bytes32 {
    Keccak256::digest(data).into()
}

/// `0x` followed by the lower-case hex of `bytes`: how hashes, roots and signatures are written
/// in messages and responses.
pub fn to_hex_0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// Parses `0x`-prefixed (or bare) hex of exactly `N` bytes. `what` names the value in the error
/// ("tx hash", "root").
pub fn parse_hex_array<const N: usize>(what: &str, input: &str) -> Result<[u8; N], SettlementError> {
    let err = |reason: String| SettlementError::MalformedHex {
        what: what.to_string(),
        input: input.to_string(),
        expected_len: N,
        reason,
    };
    let digits = strip_0x(input);
    if digits.len() != 2 * N {
        return Err(err(format!("{} hex digits, expected {}", digits.len(), 2 * N)));
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(digits, &mut out).map_err(|e| err(e.to_string()))?;
    Ok(out)
}

fn strip_0x(input: &str) -> &str {
    input.strip_prefix("0x").or_else(|| input.strip_prefix("0X")).unwrap_or(input)
}

/// A 20-byte EVM account or contract address.
///
/// Parsing follows EIP-55: all-lower-case and all-upper-case hex are accepted as they are, mixed
/// case must be the correct checksum (a mistyped letter is caught instead of sending funds to an
/// address nobody holds). [`Display`](fmt::Display) writes the checksummed form. Serde goes
/// through the same text.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EvmAddress(pub [u8; 20]);

impl EvmAddress {
    /// The raw 20 bytes.
    pub fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// Parses `0x` + 40 hex digits, checking the EIP-55 checksum when the letters are mixed case.
    pub fn parse(input: &str) -> Result<Self, SettlementError> {
        let malformed =
            |reason: &str| SettlementError::MalformedAddress { input: input.to_string(), reason: reason.to_string() };
        let digits = input.strip_prefix("0x").ok_or_else(|| malformed("it does not start with 0x"))?;
        if digits.len() != 40 {
            return Err(malformed(&format!("it has {} hex digits, not 40", digits.len())));
        }
        let mut bytes = [0u8; 20];
        hex::decode_to_slice(digits, &mut bytes).map_err(|_| malformed("it is not hex"))?;
        let address = EvmAddress(bytes);
        let has_lower = digits.bytes().any(|c| c.is_ascii_lowercase());
        let has_upper = digits.bytes().any(|c| c.is_ascii_uppercase());
        if has_lower && has_upper {
            let expected = address.to_checksum();
            if expected[2..] != *digits {
                return Err(SettlementError::BadChecksum { input: input.to_string(), expected });
            }
        }
        Ok(address)
    }

    /// The EIP-55 checksummed text: hex letter `i` is upper case when nibble `i` of
    /// keccak256(lower-case hex) is >= 8.
    pub fn to_checksum(&self) -> String {
        let lower = hex::encode(self.0);
        let hash = keccak256(lower.as_bytes());
        let mut out = String::with_capacity(42);
        out.push_str("0x");
        for (i, c) in lower.chars().enumerate() {
            let nibble = (hash[i / 2] >> (if i % 2 == 0 { 4 } else { 0 })) & 0x0f;
            out.push(if nibble >= 8 { c.to_ascii_uppercase() } else { c });
        }
        out
    }

    /// The address as an ABI word: 12 zero bytes, then the 20 address bytes.
    pub fn to_abi_word(&self) -> Bytes32 {
        let mut word = [0u8; 32];
        word[12..].copy_from_slice(&self.0);
        word
    }
}

impl fmt::Display for EvmAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_checksum())
    }
}

impl fmt::Debug for EvmAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EvmAddress({})", self.to_checksum())
    }
}

impl FromStr for EvmAddress {
    type Err = SettlementError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for EvmAddress {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_checksum())
    }
}

impl<'de> Deserialize<'de> for EvmAddress {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keccak256_of_empty_input_is_the_known_constant() {
        assert_eq!(to_hex_0x(&keccak256(b"")), "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    }

    // The examples of EIP-55 itself.
    const EIP55_EXAMPLES: [&str; 4] = [
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ];

    #[test]
    fn checksum_matches_the_eip55_examples() {
        for text in EIP55_EXAMPLES {
            let address = EvmAddress::parse(text).unwrap();
            assert_eq!(address.to_checksum(), text);
            assert_eq!(address.to_string(), text);
        }
    }

    #[test]
    fn all_lower_and_all_upper_case_parse_without_checksum() {
        let text = EIP55_EXAMPLES[0];
        let lower = format!("0x{}", text[2..].to_lowercase());
        let upper = format!("0x{}", text[2..].to_uppercase());
        let expected = EvmAddress::parse(text).unwrap();
        assert_eq!(EvmAddress::parse(&lower).unwrap(), expected);
        assert_eq!(EvmAddress::parse(&upper).unwrap(), expected);
    }

    #[test]
    fn a_wrong_checksum_is_refused_with_the_right_one() {
        // One letter's case flipped.
        let bad = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD";
        assert_eq!(
            EvmAddress::parse(bad),
            Err(SettlementError::BadChecksum { input: bad.to_string(), expected: EIP55_EXAMPLES[0].to_string() })
        );
    }

    #[test]
    fn missing_prefix_wrong_length_and_non_hex_are_malformed() {
        for (input, reason) in [
            ("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "it does not start with 0x"),
            ("0x5aAeb6053F3E94C9b9A0", "it has 20 hex digits, not 40"),
            ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAzz", "it is not hex"),
        ] {
            assert_eq!(
                EvmAddress::parse(input),
                Err(SettlementError::MalformedAddress { input: input.to_string(), reason: reason.to_string() })
            );
        }
    }

    #[test]
    fn serde_round_trips_through_the_checksummed_text() {
        let address = EvmAddress::parse(EIP55_EXAMPLES[1]).unwrap();
        let json = serde_json::to_string(&address).unwrap();
        assert_eq!(json, format!("\"{}\"", EIP55_EXAMPLES[1]));
        assert_eq!(serde_json::from_str::<EvmAddress>(&json).unwrap(), address);
        assert!(serde_json::from_str::<EvmAddress>("\"0x12\"").is_err());
    }

    #[test]
    fn hex_arrays_accept_an_optional_prefix_and_check_length() {
        assert_eq!(parse_hex_array::<2>("x", "0xabCD").unwrap(), [0xab, 0xcd]);
        assert_eq!(parse_hex_array::<2>("x", "abcd").unwrap(), [0xab, 0xcd]);
        assert!(matches!(
            parse_hex_array::<2>("tx hash", "0xabc"),
            Err(SettlementError::MalformedHex { expected_len: 2, .. })
        ));
        assert!(matches!(parse_hex_array::<2>("tx hash", "0xzzzz"), Err(SettlementError::MalformedHex { .. })));
    }
}
