//! The pure half of recovering an attester from its signature.
//!
//! The chain does the curve arithmetic (`deps.api.secp256k1_recover_pubkey(digest, &sig.rs(),
//! sig.recovery_id)`); this module parses the 65-byte `r || s || v` signature the way
//! OpenZeppelin's `ECDSA.recover` accepts it, and turns the recovered public key into the EVM
//! address the attester set lists. The bridge refuses exactly what the settlement contract would
//! refuse, so no attestation recorded on the Cosmos side fails on the EVM side.

use super::error::SettlementError;
use super::evm::{keccak256, to_hex_0x, EvmAddress};

/// secp256k1's group order n, halved: OpenZeppelin (and EIP-2) refuse `s` above it, because
/// `(r, n - s)` is a second valid signature of the same digest.
const HALF_ORDER: [u8; 32] = [
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x5d, 0x57, 0x6e,
    0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
];

/// A recoverable ECDSA signature over a 32-byte digest, in canonical form: low `s`, recovery
/// id 0 or 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EvmSignature {
    pub r: [u8; 32],
    pub s: [u8; 32],
    /// 0 or 1 (the parity of the nonce point's y), what `secp256k1_recover_pubkey` takes.
    pub recovery_id: u8,
}

impl EvmSignature {
    /// Parses 65 bytes `r || s || v`. `v` may be 27/28 (Ethereum's convention, what
    /// `ECDSA.recover` takes) or 0/1 (what many signing libraries return); both map to recovery
    /// id 0/1, and [`Self::to_bytes`] always writes 27/28, so a stored signature posts unchanged
    /// to the EVM. `r = 0`, `s = 0` and high `s` are refused.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SettlementError> {
        let bytes: &[u8; 65] = bytes.try_into().map_err(|_| SettlementError::SignatureLength { len: bytes.len() })?;
        let recovery_id = match bytes[64] {
            27 | 28 => bytes[64] - 27,
            0 | 1 => bytes[64],
            v => return Err(SettlementError::InvalidRecoveryByte { v }),
        };
        let mut r = [0u8; 32];
        let mut s = [0u8; 32];
        r.copy_from_slice(&bytes[..32]);
        s.copy_from_slice(&bytes[32..64]);
        if r == [0u8; 32] || s == [0u8; 32] {
            return Err(SettlementError::ZeroScalar);
        }
        // Big-endian byte arrays of equal length compare as the numbers they hold.
        if s > HALF_ORDER {
            return Err(SettlementError::HighS);
        }
        Ok(Self { r, s, recovery_id })
    }

    /// Parses `0x`-prefixed (or bare) hex of 65 bytes.
    pub fn from_hex(input: &str) -> Result<Self, SettlementError> {
        let digits = input.strip_prefix("0x").or_else(|| input.strip_prefix("0X")).unwrap_or(input);
        let bytes = hex::decode(digits).map_err(|e| SettlementError::MalformedHex {
            what: "signature".to_string(),
            input: input.to_string(),
            expected_len: 65,
            reason: e.to_string(),
        })?;
        Self::from_bytes(&bytes)
    }

    /// `r || s`: the 64 bytes `secp256k1_recover_pubkey` takes.
    pub fn rs(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&self.r);
        out[32..].copy_from_slice(&self.s);
        out
    }

    /// `r || s || v` with `v` = 27 or 28, as the settlement contract takes it.
    pub fn to_bytes(&self) -> [u8; 65] {
        let mut out = [0u8; 65];
        out[..64].copy_from_slice(&self.rs());
        out[64] = 27 + self.recovery_id;
        out
    }

    /// [`Self::to_bytes`] as `0x` hex.
    pub fn to_hex(&self) -> String {
        to_hex_0x(&self.to_bytes())
    }
}

/// The EVM address of a secp256k1 public key given uncompressed (`0x04 || x || y`, 65 bytes, as
/// `secp256k1_recover_pubkey` returns it): the last 20 bytes of `keccak256(x || y)`.
pub fn evm_address_from_pubkey(pubkey: &[u8]) -> Result<EvmAddress, SettlementError> {
    if pubkey.len() != 65 || pubkey[0] != 0x04 {
        return Err(SettlementError::BadPublicKey { len: pubkey.len(), prefix: pubkey.first().copied().unwrap_or(0) });
    }
    let hash = keccak256(&pubkey[1..]);
    let mut address = [0u8; 20];
    address.copy_from_slice(&hash[12..]);
    Ok(EvmAddress(address))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k256::ecdsa::{SigningKey, VerifyingKey};

    fn key(scalar: u8) -> SigningKey {
        let mut bytes = [0u8; 32];
        bytes[31] = scalar;
        SigningKey::from_bytes(&bytes.into()).unwrap()
    }

    fn uncompressed(key: &SigningKey) -> Vec<u8> {
        key.verifying_key().to_encoded_point(false).as_bytes().to_vec()
    }

    // The well-known addresses of private keys 1 and 2.
    #[test]
    fn addresses_of_private_keys_one_and_two_are_the_known_ones() {
        assert_eq!(
            evm_address_from_pubkey(&uncompressed(&key(1))).unwrap().to_string(),
            "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
        );
        assert_eq!(
            evm_address_from_pubkey(&uncompressed(&key(2))).unwrap().to_string(),
            "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF"
        );
    }

    #[test]
    fn a_compressed_public_key_is_refused() {
        let compressed = key(1).verifying_key().to_encoded_point(true);
        assert_eq!(
            evm_address_from_pubkey(compressed.as_bytes()),
            Err(SettlementError::BadPublicKey { len: 33, prefix: 0x02 })
        );
    }

    fn sign(key: &SigningKey, digest: &[u8; 32]) -> [u8; 65] {
        let (sig, recid) = key.sign_prehash_recoverable(digest).unwrap();
        let mut out = [0u8; 65];
        out[..64].copy_from_slice(&sig.to_bytes());
        out[64] = 27 + recid.to_byte();
        out
    }

    #[test]
    fn a_k256_signature_parses_and_recovers_the_signer() {
        let digest = keccak256(b"arena");
        let signer = key(7);
        let bytes = sign(&signer, &digest);
        let sig = EvmSignature::from_bytes(&bytes).unwrap();
        assert_eq!(sig.to_bytes(), bytes);
        let rs = k256::ecdsa::Signature::from_slice(&sig.rs()).unwrap();
        let recid = k256::ecdsa::RecoveryId::from_byte(sig.recovery_id).unwrap();
        let recovered = VerifyingKey::recover_from_prehash(&digest, &rs, recid).unwrap();
        assert_eq!(&recovered, signer.verifying_key());
        assert_eq!(
            evm_address_from_pubkey(recovered.to_encoded_point(false).as_bytes()).unwrap(),
            evm_address_from_pubkey(&uncompressed(&signer)).unwrap()
        );
    }

    #[test]
    fn v_zero_or_one_is_normalised_to_27_or_28() {
        let digest = keccak256(b"arena");
        let mut bytes = sign(&key(7), &digest);
        let canonical = EvmSignature::from_bytes(&bytes).unwrap();
        bytes[64] -= 27;
        let sig = EvmSignature::from_bytes(&bytes).unwrap();
        assert_eq!(sig, canonical);
        assert!(sig.to_bytes()[64] == 27 || sig.to_bytes()[64] == 28);
    }

    #[test]
    fn other_v_values_are_refused() {
        let mut bytes = sign(&key(7), &keccak256(b"arena"));
        bytes[64] = 29;
        assert_eq!(EvmSignature::from_bytes(&bytes), Err(SettlementError::InvalidRecoveryByte { v: 29 }));
    }

    #[test]
    fn high_s_is_refused() {
        let bytes = sign(&key(7), &keccak256(b"arena"));
        // (r, n - s) with the other parity is the malleated twin of a valid signature.
        let sig = k256::ecdsa::Signature::from_slice(&bytes[..64]).unwrap();
        let n_minus_s = -*sig.s();
        let mut twin = bytes;
        twin[32..64].copy_from_slice(&n_minus_s.to_bytes());
        twin[64] = if bytes[64] == 27 { 28 } else { 27 };
        assert_eq!(EvmSignature::from_bytes(&twin), Err(SettlementError::HighS));
    }

    #[test]
    fn s_equal_to_half_the_order_is_still_accepted() {
        let mut bytes = [1u8; 65];
        bytes[32..64].copy_from_slice(&HALF_ORDER);
        bytes[64] = 27;
        assert!(EvmSignature::from_bytes(&bytes).is_ok());
        bytes[63] += 1;
        assert_eq!(EvmSignature::from_bytes(&bytes), Err(SettlementError::HighS));
    }

    #[test]
    fn zero_r_or_s_is_refused() {
        let mut bytes = [1u8; 65];
        bytes[64] = 27;
        bytes[..32].copy_from_slice(&[0; 32]);
        assert_eq!(EvmSignature::from_bytes(&bytes), Err(SettlementError::ZeroScalar));
    }

    #[test]
    fn wrong_length_and_bad_hex_are_refused() {
        assert_eq!(EvmSignature::from_bytes(&[0u8; 64]), Err(SettlementError::SignatureLength { len: 64 }));
        assert!(matches!(EvmSignature::from_hex("0xnothex"), Err(SettlementError::MalformedHex { .. })));
        let hex = EvmSignature::from_bytes(&sign(&key(3), &[9u8; 32])).unwrap().to_hex();
        assert_eq!(EvmSignature::from_hex(&hex).unwrap().to_hex(), hex);
    }
}
